/* libFuzzer target: the KEY="value" config parser (config.c), which reads
 * host configs, and the config a migration peer sends. Beyond memory
 * errors it checks what the rest of vz relies on: a parsed config written
 * back parses to the same keys and values, and a value vz_conf_set takes
 * is read back unchanged. */
#include "internal.h"
#include "fuzz.h"

/* the same keys and values, line by line */
static void same_conf(const struct vz_conf *a, const struct vz_conf *b)
{
	FUZZ_CHECK(a->n == b->n, "%zu lines, then %zu", a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct vz_conf_line *x = &a->lines[i], *y = &b->lines[i];
		FUZZ_CHECK(!x->key == !y->key, "line %zu: key appeared or vanished", i);
		if (x->key) {
			FUZZ_CHECK(!strcmp(x->key, y->key), "line %zu: key %s became %s", i,
				   x->key, y->key);
			FUZZ_CHECK(!strcmp(x->value, y->value), "line %zu: %s=%s became %s", i,
				   x->key, x->value, y->value);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return 0;
	char *text = fuzz_str(data, size);
	struct vz_conf c;
	vz_error err = {0};
	if (vz_conf_parse(&c, text, "fuzz.conf", &err)) {
		FUZZ_CHECK(err.code == VZ_E_CONFIG && c.n == 0 && !c.lines, "a failed parse");
		free(text);
		return 0;
	}
	/* rewritten as it was read */
	char *out = vz_conf_format(&c);
	struct vz_conf d;
	FUZZ_CHECK(vz_conf_parse(&d, out, "formatted", &err) == 0, "%s", err.msg);
	same_conf(&c, &d);
	free(out);

	/* every value set again under its key (and a new one) reads back */
	for (size_t i = 0; i < c.n; i++) {
		const char *key = c.lines[i].key;
		if (!key)
			continue;
		FUZZ_CHECK(vz_conf_key_valid(key), "key %s", key);
		(void)vz_parse_bool(c.lines[i].value);
		char *v = xstrdup(c.lines[i].value);
		if (vz_conf_set(&d, key, v) == 0) {
			FUZZ_CHECK(vz_conf_value_ok(v), "set took %s", v);
			FUZZ_CHECK(!strcmp(vz_conf_get(&d, key), v), "%s: set, get", key);
			(void)vz_conf_set(&d, "FUZZ_NEW", v);
		}
		free(v);
	}
	out = vz_conf_format(&d);
	struct vz_conf e;
	FUZZ_CHECK(vz_conf_parse(&e, out, "set", &err) == 0, "after set: %s", err.msg);
	same_conf(&d, &e);
	free(out);

	/* removing a key leaves none of it */
	if (c.n && c.lines[0].key) {
		char *k = xstrdup(c.lines[0].key);
		vz_conf_unset(&e, k);
		FUZZ_CHECK(vz_conf_get(&e, k) == NULL, "%s unset", k);
		free(k);
	}
	vz_conf_free(&c);
	vz_conf_free(&d);
	vz_conf_free(&e);
	free(text);
	return 0;
}
