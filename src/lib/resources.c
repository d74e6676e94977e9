/* Resource limits, OpenVZ's beancounters on cgroups: one table maps each
 * vzctl option to its config key, the parser that checks and normalises
 * what the user typed, and the cgroup files it lands in (v1 or v2). */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "internal.h"

#define PAGE 4096ULL
#define CFS_PERIOD 100000ULL
#define NO_LIMIT UINT64_MAX

/* ---- parsing what the user typed into the config's form ---- */

/* "64M", "1G", "4096", "unlimited" -> bytes (NO_LIMIT). Bare numbers are
 * bytes on the command line and pages in PHYSPAGES/SWAPPAGES values. */
static int parse_size(const char *s, uint64_t bare_unit, uint64_t *out)
{
	if (!strcmp(s, "unlimited") || !strcmp(s, "max")) {
		*out = NO_LIMIT;
		return 0;
	}
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	uint64_t mul = bare_unit;
	if (*end) {
		static const char units[] = "KMGT";
		const char *u = strchr(units, toupper((unsigned char)*end));
		if (!u || end[1] != '\0')
			return -1;
		mul = 1ULL << (10 * (u - units + 1));
	}
	/* LONG_MAX is how OpenVZ configs spell unlimited */
	if (v == LONG_MAX && !*end) {
		*out = NO_LIMIT;
		return 0;
	}
	if (v > (NO_LIMIT - 1) / mul)
		return -1;
	*out = v * mul;
	return 0;
}

static int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

/* The size as a config value: the largest exact suffix, "unlimited". */
static void fmt_size(uint64_t b, char *buf, size_t n)
{
	static const char units[] = "TGMK";
	if (b == NO_LIMIT) {
		snprintf(buf, n, "unlimited");
		return;
	}
	for (int i = 0; i < 4; i++) {
		uint64_t m = 1ULL << (10 * (4 - i));
		if (b && b % m == 0) {
			snprintf(buf, n, "%llu%c", (unsigned long long)(b / m), units[i]);
			return;
		}
	}
	snprintf(buf, n, "%llu", (unsigned long long)b);
}

static int online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

/* "0-1,3" -> bitmask of CPUs; -1 on bad syntax or a CPU not online */
static int parse_cpulist(const char *s, unsigned long long *mask)
{
	int n = online_cpus();
	*mask = 0;
	if (!strcmp(s, "all")) {
		*mask = n >= 64 ? ~0ULL : (1ULL << n) - 1;
		return 0;
	}
	const char *p = s;
	while (*p) {
		char *end;
		if (!isdigit((unsigned char)*p))
			return -1;
		unsigned long a = strtoul(p, &end, 10), b = a;
		if (*end == '-') {
			if (!isdigit((unsigned char)end[1]))
				return -1;
			b = strtoul(end + 1, &end, 10);
		}
		if (a > b || b >= (unsigned long)n || b >= 64)
			return -1;
		for (unsigned long c = a; c <= b; c++)
			*mask |= 1ULL << c;
		if (*end == ',' && end[1])
			end++;
		else if (*end)
			return -1;
		p = end;
	}
	return *mask ? 0 : -1;
}

static void fmt_cpulist(unsigned long long mask, char *buf, size_t n)
{
	size_t len = 0;
	buf[0] = '\0';
	for (int c = 0; c < 64 && len < n; c++) {
		if (!(mask & (1ULL << c)))
			continue;
		int e = c;
		while (e + 1 < 64 && (mask & (1ULL << (e + 1))))
			e++;
		len += (size_t)snprintf(buf + len, n - len, e > c ? "%s%d-%d" : "%s%d",
					len ? "," : "", c, e);
		c = e;
	}
}

typedef int (*norm_fn)(const char *in, char *out, size_t n);

/* "B:L" -> bar = "B" (bounded copy), returns L; NULL when no colon */
static const char *split_bl(const char *in, char *bar, size_t n)
{
	const char *colon = strchr(in, ':');
	if (!colon || (size_t)(colon - in) >= n)
		return NULL;
	memcpy(bar, in, (size_t)(colon - in));
	bar[colon - in] = '\0';
	return colon + 1;
}

/* --ram 64M / --swap 0 -> "0:64M"; "barrier:limit" taken as it is */
static int norm_vswap(const char *in, char *out, size_t n)
{
	char bar[64];
	const char *lim = split_bl(in, bar, sizeof(bar));
	uint64_t b = 0, l;
	if (strchr(in, ':')) {
		if (!lim || parse_size(bar, PAGE, &b) || parse_size(lim, PAGE, &l))
			return -1;
	} else if (parse_size(in, 1, &l)) {
		return -1;
	} else if (l != NO_LIMIT) {
		/* bytes, saved in whole pages: a bare number in the config
		 * counts pages, so 777 bytes must not be saved as "777" */
		if (l > NO_LIMIT - PAGE)
			return -1;
		l = (l + PAGE - 1) / PAGE * PAGE;
	}
	char sb[32], sl[32];
	fmt_size(b, sb, sizeof(sb));
	fmt_size(l, sl, sizeof(sl));
	snprintf(out, n, "%s:%s", b == NO_LIMIT ? "unlimited" : sb, sl);
	return 0;
}

/* --numproc 64 -> "64:64" */
static int norm_items(const char *in, char *out, size_t n)
{
	uint64_t b, l;
	char bar[32];
	const char *lim = split_bl(in, bar, sizeof(bar));
	/* the second is how it is saved: `set` takes it back */
	if (!strcmp(in, "unlimited") || !strcmp(in, "unlimited:unlimited")) {
		snprintf(out, n, "unlimited:unlimited");
		return 0;
	}
	if (strchr(in, ':')) {
		if (!lim || parse_uint(bar, INT_MAX, &b))
			return -1;
		if (!strcmp(lim, "unlimited"))
			l = INT_MAX;
		else if (parse_uint(lim, INT_MAX, &l) || l < b)
			return -1;
	} else if (parse_uint(in, INT_MAX, &l)) {
		return -1;
	} else {
		b = l;
	}
	if (l == 0)
		return -1;
	snprintf(out, n, "%llu:%llu", (unsigned long long)b, (unsigned long long)l);
	return 0;
}

static int norm_cpuunits(const char *in, char *out, size_t n)
{
	uint64_t v;
	if (parse_uint(in, 500000, &v) || v < 8)
		return -1;
	snprintf(out, n, "%llu", (unsigned long long)v);
	return 0;
}

/* percent of one CPU; "N%" is of all the host's CPUs; 0 is no limit */
static int norm_cpulimit(const char *in, char *out, size_t n)
{
	char buf[32];
	size_t len = strlen(in);
	bool all = len > 1 && in[len - 1] == '%';
	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, in, len + 1);
	if (all)
		buf[len - 1] = '\0';
	uint64_t v;
	if (parse_uint(buf, all ? 100 : 100ULL * online_cpus(), &v))
		return -1;
	snprintf(out, n, "%llu", (unsigned long long)(all ? v * (uint64_t)online_cpus() : v));
	return 0;
}

static int norm_cpus(const char *in, char *out, size_t n)
{
	uint64_t v;
	if (!strcmp(in, "unlimited") || !strcmp(in, "0")) {
		snprintf(out, n, "0");
		return 0;
	}
	if (parse_uint(in, (uint64_t)online_cpus(), &v))
		return -1;
	snprintf(out, n, "%llu", (unsigned long long)v);
	return 0;
}

static int norm_cpumask(const char *in, char *out, size_t n)
{
	unsigned long long m;
	if (!strcmp(in, "all")) {
		snprintf(out, n, "all");
		return 0;
	}
	if (parse_cpulist(in, &m))
		return -1;
	fmt_cpulist(m, out, n);
	return 0;
}

static int norm_bytes(const char *in, char *out, size_t n)
{
	uint64_t v;
	if (parse_size(in, 1, &v))
		return -1;
	if (v == NO_LIMIT)
		v = 0;
	snprintf(out, n, "%llu", (unsigned long long)v);
	return 0;
}

static int norm_count(const char *in, char *out, size_t n)
{
	uint64_t v;
	if (!strcmp(in, "unlimited"))
		v = 0;
	else if (parse_uint(in, UINT32_MAX, &v))
		return -1;
	snprintf(out, n, "%llu", (unsigned long long)v);
	return 0;
}

static int norm_ioprio(const char *in, char *out, size_t n)
{
	uint64_t v;
	if (parse_uint(in, 7, &v))
		return -1;
	snprintf(out, n, "%llu", (unsigned long long)v);
	return 0;
}

/* --diskspace 10G, 9G:10G, 1048576 (KB) -> "soft:hard" in KB, as OpenVZ */
static int norm_diskspace(const char *in, char *out, size_t n)
{
	char soft[64];
	const char *hard = split_bl(in, soft, sizeof(soft));
	bool pair = strchr(in, ':') != NULL;
	uint64_t s = 0, h = 0;
	if (!strcmp(in, "unlimited")) {
		/* a choice written down: no image, unlike an unset value that a
		 * sample's default would fill */
		snprintf(out, n, "unlimited");
		return 0;
	}
	if (pair ? (!hard || parse_size(soft, 1024, &s) || parse_size(hard, 1024, &h))
		 : parse_size(in, 1024, &h))
		return -1;
	if (!pair)
		s = h;
	if (h == NO_LIMIT || s == NO_LIMIT || s > h || h < 16ULL << 20)
		return -1; /* an ext4 image smaller than 16 MB is of no use */
	snprintf(out, n, "%llu:%llu", (unsigned long long)(s / 1024),
		 (unsigned long long)(h / 1024));
	return 0;
}

/* --diskinodes 200000 or 180000:200000 */
static int norm_diskinodes(const char *in, char *out, size_t n)
{
	char soft[32];
	const char *hard = split_bl(in, soft, sizeof(soft));
	bool pair = strchr(in, ':') != NULL;
	uint64_t s = 0, h = 0;
	if (pair ? (!hard || parse_uint(soft, UINT32_MAX, &s) || parse_uint(hard, UINT32_MAX, &h))
		 : parse_uint(in, UINT32_MAX, &h))
		return -1;
	if (!pair)
		s = h;
	if (s > h || h < 1024)
		return -1;
	snprintf(out, n, "%llu:%llu", (unsigned long long)s, (unsigned long long)h);
	return 0;
}

/* The hard limit of a DISKSPACE/DISKINODES value; 0 when unset or bad. */
unsigned long long vz_disk_hard(const char *v)
{
	if (!v || !*v)
		return 0;
	const char *colon = strchr(v, ':');
	uint64_t h;
	if (parse_uint(colon ? colon + 1 : v, UINT64_MAX - 1, &h))
		return 0;
	return h;
}

/* ---- samples sized from the host ---- */

/* min(pid_max, threads-max): the pids every CT shares with the host */
static uint64_t host_tasks(void)
{
	static const char *const files[] = {"/proc/sys/kernel/pid_max",
					    "/proc/sys/kernel/threads-max"};
	uint64_t best = 32768;
	bool any = false;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *v = read_file(files[i], NULL);
		unsigned long long x;
		if (v && sscanf(v, "%llu", &x) == 1 && x > 0 && (!any || x < best)) {
			best = x;
			any = true;
		}
	}
	return best;
}

/* "25%" -> 25; -1 when the value is not a percent, -2 when a bad one */
static int percent_of(const char *v)
{
	size_t len = v ? strlen(v) : 0;
	char buf[8];
	uint64_t pct;
	if (!len || v[len - 1] != '%')
		return -1;
	if (len - 1 >= sizeof(buf))
		return -2;
	memcpy(buf, v, len - 1);
	buf[len - 1] = '\0';
	if (parse_uint(buf, 100, &pct) || pct == 0)
		return -2;
	return (int)pct;
}

/* A sample may size a CT from the host, as systemd's DefaultTasksMax does:
 * PHYSPAGES and SWAPPAGES "N%" of the host's RAM, NUMPROC "N%" of its pids
 * (min of pid_max and threads-max), DISKSPACE "N%" of the file system the
 * private area is made on (disk_dir). The CT's config gets the figures, so
 * it keeps them wherever it runs or migrates to. */
int vz_res_from_host(struct vz_conf *conf, unsigned ctid, const char *disk_dir, vz_error *err)
{
	static const char *const keys[] = {"PHYSPAGES", "SWAPPAGES", "NUMPROC", "DISKSPACE"};
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *v = vz_conf_get(conf, keys[i]);
		int pct = percent_of(v);
		if (pct == -1)
			continue;
		if (pct < 0)
			return vz_err(err, VZ_E_BADVALUE,
				      "CT %u: %s=\"%.32s\" in the sample: a percent is 1%%..100%%",
				      ctid, keys[i], v);
		char out[96], sz[32];
		if (i < 2) {
			struct sysinfo si;
			if (sysinfo(&si) < 0)
				return vz_err_errno(err, VZ_E_SYSTEM, errno,
						    "CT %u: cannot read the host's RAM", ctid);
			uint64_t b = (uint64_t)si.totalram * si.mem_unit / 100 * (uint64_t)pct;
			b &= ~((1ULL << 20) - 1); /* whole MB: reads well in the config */
			if (b < 16ULL << 20)
				b = 16ULL << 20;
			fmt_size(b, sz, sizeof(sz));
			snprintf(out, sizeof(out), "0:%s", sz);
		} else if (i == 2) {
			uint64_t t = host_tasks() * (uint64_t)pct / 100;
			if (t < 64)
				t = 64;
			snprintf(out, sizeof(out), "%llu:%llu", (unsigned long long)t,
				 (unsigned long long)t);
		} else {
			struct statvfs sv;
			if (statvfs(disk_dir, &sv) < 0)
				return vz_err_errno(err, VZ_E_SYSTEM, errno, "CT %u: cannot size %s",
						    ctid, disk_dir);
			uint64_t kb = (uint64_t)sv.f_blocks * sv.f_frsize / 1024 / 100 * (uint64_t)pct;
			kb &= ~1023ULL;
			if (kb < 16ULL << 10)
				kb = 16ULL << 10; /* the smallest image norm_diskspace takes */
			snprintf(out, sizeof(out), "%llu:%llu", (unsigned long long)kb,
				 (unsigned long long)kb);
		}
		vz_conf_set(conf, keys[i], out);
	}
	return 0;
}

/* G_DISK: not cgroups; storage applies them (an image's size and inodes) */
enum group { G_MEM, G_PIDS, G_CPU, G_CPUSET, G_IO, G_IOW, G_DISK };

static const struct res_param {
	const char *option, *key;
	norm_fn norm;
	enum group group;
	const char *help;
} params[] = {
	{"ram", "PHYSPAGES", norm_vswap, G_MEM, "SIZE  memory limit (K, M, G, T)"},
	{"swap", "SWAPPAGES", norm_vswap, G_MEM, "SIZE  swap the CT may use"},
	{"numproc", "NUMPROC", norm_items, G_PIDS, "N  processes and threads"},
	{"cpuunits", "CPUUNITS", norm_cpuunits, G_CPU, "N  CPU weight, 8..500000 (1000)"},
	{"cpulimit", "CPULIMIT", norm_cpulimit, G_CPU, "N[%]  % of one CPU (N% of all), 0 none"},
	{"cpus", "CPUS", norm_cpus, G_CPU, "N  CPUs' worth of time, seen as N CPUs"},
	{"cpumask", "CPUMASK", norm_cpumask, G_CPUSET, "LIST  CPUs to run on (0-1,3 or all)"},
	{"iolimit", "IOLIMIT", norm_bytes, G_IO, "SIZE  disk bytes/s, 0 none"},
	{"iopslimit", "IOPSLIMIT", norm_count, G_IO, "N  disk operations/s, 0 none"},
	{"ioprio", "IOPRIO", norm_ioprio, G_IOW, "0..7  disk weight (4)"},
	{"diskspace", "DISKSPACE", norm_diskspace, G_DISK,
	 "SOFT[:HARD]  disk size (K, M, G, T; bare: KB); an image of HARD"},
	{"diskinodes", "DISKINODES", norm_diskinodes, G_DISK,
	 "SOFT[:HARD]  inodes, fixed when the CT's image is made"},
};

static const struct res_param *find_option(const char *option)
{
	for (size_t i = 0; i < ARRAY_SIZE(params); i++)
		if (!strcmp(params[i].option, option))
			return &params[i];
	return NULL;
}

size_t vz_res_options(const char *const **names)
{
	static const char *list[ARRAY_SIZE(params) + 1];
	for (size_t i = 0; i < ARRAY_SIZE(params); i++)
		list[i] = params[i].option;
	*names = list;
	return ARRAY_SIZE(params);
}

const char *vz_res_help(const char *option)
{
	const struct res_param *p = find_option(option);
	return p ? p->help : NULL;
}

int vz_res_normalize(unsigned ctid, const char *option, const char *value,
		     const char **key, char *out, size_t n, vz_error *err)
{
	const struct res_param *p = find_option(option);
	if (!p)
		return vz_err(err, VZ_E_BADOPT, "CT %u: --%s: unknown parameter", ctid, option);
	if (p->norm(value, out, n))
		return vz_err(err, VZ_E_BADVALUE, "CT %u: --%s %.64s: invalid value", ctid,
			      option, value);
	*key = p->key;
	return 0;
}

/* ---- from the config to the cgroup files ---- */

/* PHYSPAGES/SWAPPAGES limit in bytes; NO_LIMIT when unset */
static uint64_t vswap_limit(const char *v)
{
	uint64_t l;
	const char *colon = v ? strchr(v, ':') : NULL;
	if (!v)
		return NO_LIMIT;
	if (parse_size(colon ? colon + 1 : v, PAGE, &l))
		return NO_LIMIT;
	return l;
}

static uint64_t items_limit(const char *v)
{
	uint64_t l;
	const char *colon = v ? strchr(v, ':') : NULL;
	if (!v || parse_uint(colon ? colon + 1 : v, INT_MAX, &l) || l >= INT_MAX)
		return NO_LIMIT;
	return l;
}

static uint64_t num_or(const char *v, uint64_t dflt)
{
	uint64_t x;
	return v && !parse_uint(v, UINT64_MAX - 1, &x) ? x : dflt;
}

/* A source of values: the config, with some keys overridden. */
struct res_view {
	const vz_ctx *ctx;
	const struct vz_ct *ct;
	const struct vz_param *over;
	size_t nover;
};

static const char *view_get(const struct res_view *v, const char *key)
{
	for (size_t i = 0; i < v->nover; i++)
		if (!strcmp(v->over[i].option, key))
			return v->over[i].value;
	return vz_ct_get(v->ct, v->ctx, key);
}

static const struct vz_cg_hier *hier(const struct vz_cgroups *cg, const char *ctrl)
{
	for (size_t i = 0; i < cg->n; i++)
		if (vz_cg_has(&cg->h[i], ctrl))
			return &cg->h[i];
	return NULL;
}

static int put(const struct vz_cg_hier *h, const char *rel, const char *file,
	       const char *val, unsigned ctid, const char *what, vz_error *err)
{
	_cleanup_free_ char *p = xasprintf("%s/%s/%s", h->mnt, rel, file);
	if (write_str(p, val) == 0)
		return 0;
	int e = errno;
	if (e == EBUSY || e == EINVAL)
		return vz_err_errno(err, VZ_E_SETUBC, e,
				    "CT %u: cannot set %s to %s (%s; below what it uses now?)",
				    ctid, what, val, file);
	return vz_err_errno(err, VZ_E_SETUBC, e, "CT %u: cannot set %s (%s)", ctid, what, p);
}

static void u64s(uint64_t v, const char *unlimited, char *buf, size_t n)
{
	if (v == NO_LIMIT)
		snprintf(buf, n, "%s", unlimited);
	else
		snprintf(buf, n, "%llu", (unsigned long long)v);
}

static int apply_mem(const struct vz_cgroups *cg, const char *rel, const struct res_view *v,
		     vz_error *err)
{
	const struct vz_cg_hier *h = hier(cg, "memory");
	unsigned id = v->ct->ctid;
	uint64_t ram = vswap_limit(view_get(v, "PHYSPAGES"));
	uint64_t swap = vswap_limit(view_get(v, "SWAPPAGES"));
	char a[32], b[32];
	if (!h)
		return vz_err(err, VZ_E_SETUBC, "CT %u: no memory cgroup controller", id);
	if (h->v2) {
		u64s(ram, "max", a, sizeof(a));
		u64s(swap, "max", b, sizeof(b));
		int r = put(h, rel, "memory.max", a, id, "ram", err);
		_cleanup_free_ char *sw = xasprintf("%s/%s/memory.swap.max", h->mnt, rel);
		if (!r && access(sw, F_OK) == 0)
			r = put(h, rel, "memory.swap.max", b, id, "swap", err);
		return r;
	}
	/* memsw (ram + swap) may never be below the ram limit: lift it first */
	uint64_t memsw = ram == NO_LIMIT || swap == NO_LIMIT ? NO_LIMIT : ram + swap;
	_cleanup_free_ char *ms = xasprintf("%s/%s/memory.memsw.limit_in_bytes", h->mnt, rel);
	bool has_memsw = access(ms, F_OK) == 0;
	if (has_memsw && write_str(ms, "-1") < 0)
		return vz_err_errno(err, VZ_E_SETUBC, errno, "CT %u: cannot set swap (%s)", id, ms);
	u64s(ram, "-1", a, sizeof(a));
	int r = put(h, rel, "memory.limit_in_bytes", a, id, "ram", err);
	if (!r && has_memsw && memsw != NO_LIMIT) {
		u64s(memsw, "-1", b, sizeof(b));
		r = put(h, rel, "memory.memsw.limit_in_bytes", b, id, "swap", err);
	}
	return r;
}

static int apply_pids(const struct vz_cgroups *cg, const char *rel, const struct res_view *v,
		      vz_error *err)
{
	const struct vz_cg_hier *h = hier(cg, "pids");
	char a[32];
	if (!h)
		return vz_err(err, VZ_E_SETUBC, "CT %u: no pids cgroup controller", v->ct->ctid);
	u64s(items_limit(view_get(v, "NUMPROC")), "max", a, sizeof(a));
	return put(h, rel, "pids.max", a, v->ct->ctid, "numproc", err);
}

static int apply_cpu(const struct vz_cgroups *cg, const char *rel, const struct res_view *v,
		     vz_error *err)
{
	const struct vz_cg_hier *h = hier(cg, "cpu");
	unsigned id = v->ct->ctid;
	if (!h)
		return vz_err(err, VZ_E_SETUBC, "CT %u: no cpu cgroup controller", id);
	uint64_t units = num_or(view_get(v, "CPUUNITS"), 1000);
	uint64_t limit = num_or(view_get(v, "CPULIMIT"), 0);
	uint64_t cpus = num_or(view_get(v, "CPUS"), 0);
	uint64_t quota = NO_LIMIT;
	if (limit)
		quota = limit * CFS_PERIOD / 100;
	if (cpus && cpus * CFS_PERIOD < quota)
		quota = cpus * CFS_PERIOD;
	char a[64];
	int r;
	if (h->v2) {
		uint64_t w = units / 10;
		snprintf(a, sizeof(a), "%llu", (unsigned long long)(w < 1 ? 1 : w > 10000 ? 10000 : w));
		if ((r = put(h, rel, "cpu.weight", a, id, "cpuunits", err)))
			return r;
		if (quota == NO_LIMIT)
			snprintf(a, sizeof(a), "max %llu", CFS_PERIOD);
		else
			snprintf(a, sizeof(a), "%llu %llu", (unsigned long long)quota, CFS_PERIOD);
		return put(h, rel, "cpu.max", a, id, "cpulimit", err);
	}
	snprintf(a, sizeof(a), "%llu", (unsigned long long)(units * 1024 / 1000 < 2 ? 2
							    : units * 1024 / 1000));
	if ((r = put(h, rel, "cpu.shares", a, id, "cpuunits", err)))
		return r;
	snprintf(a, sizeof(a), "%llu", CFS_PERIOD);
	if ((r = put(h, rel, "cpu.cfs_period_us", a, id, "cpulimit", err)))
		return r;
	u64s(quota, "-1", a, sizeof(a));
	return put(h, rel, "cpu.cfs_quota_us", a, id, "cpulimit", err);
}

/* CPUMASK, else CPUS picks that many CPUs (rotated by CT id so CTs spread),
 * so that the CT sees as many CPUs as it may use (nproc, sysconf). */
static int apply_cpuset(const struct vz_cgroups *cg, const char *rel,
			const struct res_view *v, vz_error *err)
{
	const struct vz_cg_hier *h = hier(cg, "cpuset");
	unsigned id = v->ct->ctid;
	const char *mask = view_get(v, "CPUMASK");
	uint64_t cpus = num_or(view_get(v, "CPUS"), 0);
	int n = online_cpus();
	unsigned long long m;
	if (!h) {
		if (mask || cpus)
			return vz_err(err, VZ_E_SETUBC, "CT %u: no cpuset cgroup controller", id);
		return 0;
	}
	if (mask && strcmp(mask, "all")) {
		if (parse_cpulist(mask, &m))
			return vz_err(err, VZ_E_SETUBC, "CT %u: CPUMASK %s: no such CPUs here",
				      id, mask);
	} else if (cpus && (int)cpus < n) {
		m = 0;
		for (uint64_t i = 0; i < cpus; i++)
			m |= 1ULL << ((id + i) % (unsigned)n);
	} else {
		parse_cpulist("all", &m);
	}
	char list[256];
	fmt_cpulist(m, list, sizeof(list));
	return put(h, rel, "cpuset.cpus", list, id, "cpumask", err);
}

/* The whole disk under the private area: throttling works per disk. */
static int backing_disk(const struct vz_ct *ct, char *buf, size_t n, vz_error *err)
{
	struct stat st;
	if (stat(ct->private_dir, &st) < 0)
		return vz_err_errno(err, VZ_E_SETUBC, errno, "CT %u: %s", ct->ctid,
				    ct->private_dir);
	unsigned maj = major(st.st_dev), min = minor(st.st_dev);
	_cleanup_free_ char *sys = xasprintf("/sys/dev/block/%u:%u", maj, min);
	if (maj == 0 || access(sys, F_OK) < 0)
		return vz_err(err, VZ_E_SETUBC,
			      "CT %u: I/O limits need a block device under %s", ct->ctid,
			      ct->private_dir);
	_cleanup_free_ char *part = xasprintf("%s/partition", sys);
	if (access(part, F_OK) == 0) {
		_cleanup_free_ char *pdev = xasprintf("%s/../dev", sys);
		_cleanup_free_ char *d = read_file(pdev, NULL);
		if (!d || sscanf(d, "%u:%u", &maj, &min) != 2)
			return vz_err(err, VZ_E_SETUBC, "CT %u: cannot find the disk of %u:%u",
				      ct->ctid, maj, min);
	}
	snprintf(buf, n, "%u:%u", maj, min);
	return 0;
}

static int apply_io(const struct vz_cgroups *cg, const char *rel, const struct res_view *v,
		    vz_error *err)
{
	unsigned id = v->ct->ctid;
	uint64_t bps = num_or(view_get(v, "IOLIMIT"), 0);
	uint64_t iops = num_or(view_get(v, "IOPSLIMIT"), 0);
	const struct vz_cg_hier *h = hier(cg, "blkio");
	if (!h)
		h = hier(cg, "io");
	if (!h)
		return bps || iops ? vz_err(err, VZ_E_IOPARAM, "CT %u: no io cgroup controller", id)
				   : 0;
	char dev[32], a[160];
	int r = backing_disk(v->ct, dev, sizeof(dev), err);
	if (r)
		return bps || iops ? r : 0;
	if (h->v2) {
		char sb[24], si[24];
		u64s(bps ? bps : NO_LIMIT, "max", sb, sizeof(sb));
		u64s(iops ? iops : NO_LIMIT, "max", si, sizeof(si));
		snprintf(a, sizeof(a), "%s rbps=%s wbps=%s riops=%s wiops=%s", dev, sb, sb, si, si);
		return put(h, rel, "io.max", a, id, "iolimit", err);
	}
	static const char *const files[] = {"blkio.throttle.read_bps_device",
					    "blkio.throttle.write_bps_device",
					    "blkio.throttle.read_iops_device",
					    "blkio.throttle.write_iops_device"};
	for (int i = 0; i < 4; i++) {
		snprintf(a, sizeof(a), "%s %llu", dev, (unsigned long long)(i < 2 ? bps : iops));
		if ((r = put(h, rel, files[i], a, id, i < 2 ? "iolimit" : "iopslimit", err)))
			return r;
	}
	return 0;
}

/* IOPRIO 0..7 as a proportional weight (4 is the default 100); only the
 * BFQ scheduler has one, so elsewhere it is kept for when it does. */
static int apply_ioweight(const struct vz_cgroups *cg, const char *rel,
			  const struct res_view *v, vz_error *err)
{
	uint64_t prio = num_or(view_get(v, "IOPRIO"), 4);
	const struct vz_cg_hier *h = hier(cg, "blkio");
	if (!h)
		h = hier(cg, "io");
	if (!h)
		return 0;
	static const char *const files[] = {"blkio.bfq.weight", "blkio.weight",
					    "io.bfq.weight", "io.weight"};
	char a[16];
	snprintf(a, sizeof(a), "%llu", 20 + (unsigned long long)prio * 20);
	for (int i = 0; i < 4; i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s/%s", h->mnt, rel, files[i]);
		if (access(p, F_OK) == 0)
			return put(h, rel, files[i], a, v->ct->ctid, "ioprio", err);
	}
	return 0;
}

typedef int (*apply_fn)(const struct vz_cgroups *, const char *, const struct res_view *,
			vz_error *);
static const apply_fn appliers[] = {
	[G_MEM] = apply_mem, [G_PIDS] = apply_pids, [G_CPU] = apply_cpu,
	[G_CPUSET] = apply_cpuset, [G_IO] = apply_io, [G_IOW] = apply_ioweight,
	[G_DISK] = NULL,
};

/* Applies every group touched by the keys (all groups when keys is NULL). */
static int apply(const struct vz_cgroups *cg, const char *rel, const struct res_view *v,
		 const struct vz_param *keys, size_t nkeys, vz_error *err)
{
	bool want[ARRAY_SIZE(appliers)] = {false};
	for (size_t i = 0; i < ARRAY_SIZE(params); i++) {
		bool hit = keys == NULL && vz_ct_get(v->ct, v->ctx, params[i].key);
		for (size_t k = 0; keys && k < nkeys; k++)
			hit |= !strcmp(keys[k].option, params[i].key);
		if (hit)
			want[params[i].group] = true;
	}
	/* CPUS also picks the cpuset */
	if (want[G_CPU] && (view_get(v, "CPUS") || keys))
		want[G_CPUSET] = true;
	for (size_t g = 0; g < ARRAY_SIZE(appliers); g++) {
		int r;
		if (want[g] && appliers[g] && (r = appliers[g](cg, rel, v, err)))
			return r;
	}
	return 0;
}

int vz_res_apply_conf(const vz_ctx *ctx, const struct vz_ct *ct,
		      const struct vz_cgroups *cg, const char *rel, vz_error *err)
{
	struct res_view v = {.ctx = ctx, .ct = ct};
	return apply(cg, rel, &v, NULL, 0, err);
}

int vz_res_apply_live(const vz_ctx *ctx, const struct vz_ct *ct,
		      const struct vz_param *kv, size_t n, vz_error *err)
{
	struct vz_cgroups cg;
	int r = vz_cg_detect(&cg, err);
	if (r)
		return r;
	_cleanup_free_ char *rel = vz_cg_rel(ctx, ct->ctid);
	struct res_view nv = {.ctx = ctx, .ct = ct, .over = kv, .nover = n};
	r = apply(&cg, rel, &nv, kv, n, err);
	if (r) {
		/* all or nothing: put back what the config says */
		struct res_view ov = {.ctx = ctx, .ct = ct};
		vz_error e;
		(void)apply(&cg, rel, &ov, kv, n, &e);
	}
	vz_cg_free(&cg);
	return r;
}

static long long ll_or(uint64_t v, long long unl)
{
	return v == NO_LIMIT ? unl : (long long)v;
}

static long long read_limit(const struct vz_cg_hier *h, const char *rel, const char *file);

static long long read_ll(const struct vz_cg_hier *h, const char *rel, const char *file)
{
	_cleanup_free_ char *p = xasprintf("%s/%s/%s", h->mnt, rel, file);
	_cleanup_free_ char *v = read_file(p, NULL);
	return v ? atoll(v) : -1;
}

void vz_res_info(const vz_ctx *ctx, const struct vz_ct *ct, bool running,
		 struct vz_ct_info *info)
{
	uint64_t ram = vswap_limit(vz_ct_get(ct, ctx, "PHYSPAGES"));
	uint64_t swap = vswap_limit(vz_ct_get(ct, ctx, "SWAPPAGES"));
	info->physpages_l = ram == NO_LIMIT ? -1 : (long long)(ram / PAGE);
	info->swappages_l = swap == NO_LIMIT ? -1 : (long long)(swap / PAGE);
	info->numproc_l = ll_or(items_limit(vz_ct_get(ct, ctx, "NUMPROC")), -1);
	info->cpuunits = (long long)num_or(vz_ct_get(ct, ctx, "CPUUNITS"), 1000);
	info->cpulimit = (long long)num_or(vz_ct_get(ct, ctx, "CPULIMIT"), 0);
	info->cpus = (long long)num_or(vz_ct_get(ct, ctx, "CPUS"), 0);
	const char *mask = vz_ct_get(ct, ctx, "CPUMASK");
	snprintf(info->cpumask, sizeof(info->cpumask), "%s", mask ? mask : "all");
	info->iolimit = (long long)num_or(vz_ct_get(ct, ctx, "IOLIMIT"), 0);
	info->iopslimit = (long long)num_or(vz_ct_get(ct, ctx, "IOPSLIMIT"), 0);
	info->ioprio = (long long)num_or(vz_ct_get(ct, ctx, "IOPRIO"), 4);
	info->physpages = info->swappages = -1;
	struct vz_cgroups cg;
	vz_error e;
	if (!running || vz_cg_detect(&cg, &e))
		return;
	_cleanup_free_ char *rel = vz_cg_rel(ctx, ct->ctid);
	const struct vz_cg_hier *h = hier(&cg, "memory");
	if (h && h->v2) {
		long long u = read_ll(h, rel, "memory.current");
		long long sw = read_ll(h, rel, "memory.swap.current");
		info->physpages = u < 0 ? -1 : u / (long long)PAGE;
		info->swappages = sw < 0 ? -1 : sw / (long long)PAGE;
	} else if (h) {
		long long u = read_ll(h, rel, "memory.usage_in_bytes");
		long long ms = read_ll(h, rel, "memory.memsw.usage_in_bytes");
		info->physpages = u < 0 ? -1 : u / (long long)PAGE;
		info->swappages = ms < u ? -1 : (ms - u) / (long long)PAGE;
	}
	vz_cg_free(&cg);
}

/* The CT's memory now, in bytes, as sysinfo(2) inside it reports it
 * (seccomp.c): limits -1 when there are none. */
int vz_res_mem_now(const struct vz_cgroups *cg, const char *rel, struct vz_mem_now *m)
{
	const struct vz_cg_hier *h = hier(cg, "memory");
	m->ram_limit = m->swap_limit = -1;
	m->ram_used = m->swap_used = 0;
	if (!h)
		return -1;
	if (h->v2) {
		m->ram_limit = read_limit(h, rel, "memory.max");
		m->ram_used = read_ll(h, rel, "memory.current");
		m->swap_limit = read_limit(h, rel, "memory.swap.max");
		m->swap_used = read_ll(h, rel, "memory.swap.current");
	} else {
		m->ram_limit = read_limit(h, rel, "memory.limit_in_bytes");
		m->ram_used = read_ll(h, rel, "memory.usage_in_bytes");
		long long ml = read_limit(h, rel, "memory.memsw.limit_in_bytes");
		long long mu = read_ll(h, rel, "memory.memsw.usage_in_bytes");
		/* memsw counts ram and swap together */
		m->swap_limit = ml < 0 || m->ram_limit < 0 ? -1 : ml - m->ram_limit;
		m->swap_used = mu < m->ram_used ? 0 : mu - m->ram_used;
	}
	if (m->ram_used < 0)
		return -1;
	if (m->swap_used < 0)
		m->swap_used = 0;
	return 0;
}

/* ---- beancounters: what the cgroups count ---- */

/* "key N" lines (memory.events, pids.events, memory.oom_control) */
static long long read_key(const struct vz_cg_hier *h, const char *rel, const char *file,
			  const char *key)
{
	_cleanup_free_ char *p = xasprintf("%s/%s/%s", h->mnt, rel, file);
	_cleanup_free_ char *v = read_file(p, NULL);
	size_t n = strlen(key);
	for (char *l = v; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, n) && l[n] == ' ')
			return atoll(l + n + 1);
	return -1;
}

/* a limit file: "max" or a v1 "unlimited" huge number -> -1 */
static long long read_limit(const struct vz_cg_hier *h, const char *rel, const char *file)
{
	_cleanup_free_ char *p = xasprintf("%s/%s/%s", h->mnt, rel, file);
	_cleanup_free_ char *v = read_file(p, NULL);
	if (!v || !strncmp(v, "max", 3))
		return -1;
	long long x = atoll(v);
	return x >= (1LL << 62) ? -1 : x;
}

static long long pages(long long bytes)
{
	return bytes < 0 ? -1 : bytes / (long long)PAGE;
}

static void row(struct vz_bc *r, const char *name, long long held, long long maxheld,
		long long limit, long long failcnt)
{
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->held = held;
	r->maxheld = maxheld;
	r->barrier = limit;
	r->limit = limit;
	r->failcnt = failcnt;
}

int vz_res_stat(const vz_ctx *ctx, const struct vz_ct *ct, struct vz_bc *rows, size_t max,
		size_t *n, vz_error *err)
{
	struct vz_cgroups cg;
	*n = 0;
	if (max < 4)
		return vz_err(err, VZ_E_SYSTEM, "CT %u: no room for the counters", ct->ctid);
	int r = vz_cg_detect(&cg, err);
	if (r)
		return r;
	_cleanup_free_ char *rel = vz_cg_rel(ctx, ct->ctid);
	const struct vz_cg_hier *p = hier(&cg, "pids"), *m = hier(&cg, "memory");
	if (p)
		row(&rows[(*n)++], "numproc", read_ll(p, rel, "pids.current"),
		    read_ll(p, rel, "pids.peak"), read_limit(p, rel, "pids.max"),
		    read_key(p, rel, "pids.events", "max"));
	if (m && m->v2) {
		row(&rows[(*n)++], "physpages", pages(read_ll(m, rel, "memory.current")),
		    pages(read_ll(m, rel, "memory.peak")), pages(read_limit(m, rel, "memory.max")),
		    read_key(m, rel, "memory.events", "max"));
		row(&rows[(*n)++], "swappages", pages(read_ll(m, rel, "memory.swap.current")),
		    pages(read_ll(m, rel, "memory.swap.peak")),
		    pages(read_limit(m, rel, "memory.swap.max")),
		    read_key(m, rel, "memory.swap.events", "fail"));
		row(&rows[(*n)++], "oomguarpages", -1, -1, -1,
		    read_key(m, rel, "memory.events", "oom_kill"));
	} else if (m) {
		long long u = read_ll(m, rel, "memory.usage_in_bytes");
		long long mu = read_ll(m, rel, "memory.memsw.usage_in_bytes");
		long long l = read_limit(m, rel, "memory.limit_in_bytes");
		long long ml = read_limit(m, rel, "memory.memsw.limit_in_bytes");
		row(&rows[(*n)++], "physpages", pages(u), pages(read_ll(m, rel,
		    "memory.max_usage_in_bytes")), pages(l), read_ll(m, rel, "memory.failcnt"));
		row(&rows[(*n)++], "swappages", mu < u ? -1 : pages(mu - u), -1,
		    ml < 0 || l < 0 ? -1 : pages(ml - l), read_ll(m, rel, "memory.memsw.failcnt"));
		row(&rows[(*n)++], "oomguarpages", -1, -1, -1,
		    read_key(m, rel, "memory.oom_control", "oom_kill"));
	}
	/* barriers as the config gives them (OpenVZ's b:l) */
	for (size_t i = 0; i < *n; i++) {
		const char *key = !strcmp(rows[i].name, "numproc")     ? "NUMPROC"
				  : !strcmp(rows[i].name, "physpages") ? "PHYSPAGES"
				  : !strcmp(rows[i].name, "swappages") ? "SWAPPAGES"
								       : NULL;
		const char *v = key ? vz_ct_get(ct, ctx, key) : NULL;
		uint64_t b;
		char bar[32];
		if (!v || !split_bl(v, bar, sizeof(bar)))
			continue;
		if (!strcmp(key, "NUMPROC") ? parse_uint(bar, INT_MAX, &b) == 0
					    : parse_size(bar, PAGE, &b) == 0)
			rows[i].barrier = b == NO_LIMIT ? -1
					  : !strcmp(key, "NUMPROC") ? (long long)b
								    : (long long)(b / PAGE);
	}
	vz_cg_free(&cg);
	return 0;
}
