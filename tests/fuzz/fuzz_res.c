/* libFuzzer target: the resource parsers (resources.c). The first byte
 * picks what is fuzzed:
 *  - a vzctl option (ram, swap, numproc, cpus, cpumask, diskspace, ...):
 *    the rest is the value typed, through vz_res_normalize into buffers of
 *    several sizes; a value it takes must normalise again to itself (it
 *    is what `vzctl set` saves and what the next `set` shows back);
 *  - otherwise the rest is a CT config (from a host or a migration peer)
 *    whose limits vzlist reads (vz_res_info, CT stopped: no cgroups) and
 *    whose DISKSPACE/DISKINODES storage reads (vz_disk_hard). */
#include "internal.h"
#include "fuzz.h"

static void option(const char *name, const char *value)
{
	static const size_t sizes[] = {256, 16, 1};
	char first[256] = "";
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		char out[256];
		const char *key = NULL;
		vz_error err = {0};
		memset(out, 'x', sizeof(out));
		int r = vz_res_normalize(101, name, value, &key, out, sizes[i], &err);
		if (r) {
			FUZZ_CHECK(r == VZ_E_BADVALUE && err.code == r, "--%s: code %d", name, r);
			return;
		}
		FUZZ_CHECK(key && memchr(out, '\0', sizes[i]), "--%s %s: no key or no NUL", name,
			   value);
		if (i == 0)
			memcpy(first, out, sizeof(first));
	}
	/* what was saved is taken again as it is */
	char again[256];
	const char *key;
	vz_error err = {0};
	FUZZ_CHECK(vz_res_normalize(101, name, first, &key, again, sizeof(again), &err) == 0,
		   "--%s %s saved as %s, which is refused: %s", name, value, first, err.msg);
	FUZZ_CHECK(!strcmp(first, again), "--%s %s: %s, then %s", name, value, first, again);
	FUZZ_CHECK(vz_conf_value_ok(first), "--%s: %s cannot be saved", name, first);
}

static void conf(const char *text)
{
	vz_ctx ctx;
	struct vz_ct ct;
	vz_error err;
	memset(&ctx, 0, sizeof(ctx));
	memset(&ct, 0, sizeof(ct));
	ct.ctid = 101;
	if (vz_conf_parse(&ct.conf, text, "fuzz.conf", &err))
		return;
	struct vz_ct_info info;
	memset(&info, 0, sizeof(info));
	vz_res_info(&ctx, &ct, false, &info);
	FUZZ_CHECK(memchr(info.cpumask, '\0', sizeof(info.cpumask)), "cpumask not terminated");
	(void)vz_disk_hard(vz_conf_get(&ct.conf, "DISKSPACE"));
	(void)vz_disk_hard(vz_conf_get(&ct.conf, "DISKINODES"));
	vz_conf_free(&ct.conf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;
	const char *const *names;
	size_t n = vz_res_options(&names);
	char *s = fuzz_str(data + 1, size - 1);
	if (data[0] < n)
		option(names[data[0]], s);
	else
		conf(s);
	free(s);
	return 0;
}
