/* Unit tests for src/lib/ctid.c: CT ids, CT names and resolving a name
 * through the names directory's symlinks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include "internal.h"

/* ---- vz_ctid_parse ---- */

static void assert_ctid(const char *s, unsigned want)
{
	unsigned id = 0;
	vz_error err = { 0 };
	int r = vz_ctid_parse(s, &id, &err);
	if (r != 0)
		fail_msg("CT ID \"%s\" rejected: %s", s, err.msg);
	assert_int_equal(id, want);
}

static void assert_bad_ctid(const char *s)
{
	unsigned id = 12345;
	vz_error err = { 0 };
	int r = vz_ctid_parse(s, &id, &err);
	if (r == 0)
		fail_msg("CT ID \"%s\" accepted as %u", s, id);
	assert_int_equal(r, VZ_E_BADVALUE);
	assert_int_equal(err.code, VZ_E_BADVALUE);
	assert_true(err.msg[0] != '\0');
	assert_null(strchr(err.msg, '\n'));
	/* the output is untouched on failure */
	assert_int_equal(id, 12345);
}

static void test_ctid_parse_accepts_valid_ids(void **state)
{
	(void)state;
	assert_ctid("101", 101);
	assert_ctid("1", 1);
	assert_ctid("2147483644", 2147483644u);
	assert_ctid("1000", 1000);
}

static void test_ctid_parse_rejects_empty_and_null(void **state)
{
	(void)state;
	assert_bad_ctid("");
	assert_bad_ctid(NULL);
}

static void test_ctid_parse_rejects_zero(void **state)
{
	(void)state;
	assert_bad_ctid("0");
	assert_bad_ctid("00");
}

static void test_ctid_parse_rejects_non_digits(void **state)
{
	(void)state;
	assert_bad_ctid("-1");
	assert_bad_ctid("+1");
	assert_bad_ctid("abc");
	assert_bad_ctid("12a");
	assert_bad_ctid("0x10");
	assert_bad_ctid("1e3");
	assert_bad_ctid("../x");
	assert_bad_ctid("101/");
	assert_bad_ctid(" 101");
	assert_bad_ctid("101 ");
	assert_bad_ctid("101\n");
}

static void test_ctid_parse_rejects_ids_above_the_maximum(void **state)
{
	(void)state;
	assert_bad_ctid("2147483645");
	assert_bad_ctid("4294967295");
	assert_bad_ctid("4294967296"); /* would wrap to 0 in 32 bits */
	assert_bad_ctid("4294967397"); /* would wrap to 101 in 32 bits */
	assert_bad_ctid("9999999999");
	assert_bad_ctid("99999999999");
	assert_bad_ctid("18446744073709551717"); /* wraps to 101 in 64 bits */
}

static void test_ctid_parse_rejects_overlong_digit_strings(void **state)
{
	(void)state;
	char s[501];
	memset(s, '9', 500);
	s[500] = '\0';
	assert_bad_ctid(s);
	/* leading zeros do not smuggle a long string through */
	memset(s, '0', 497);
	strcpy(s + 497, "101");
	assert_bad_ctid(s);
}

static void test_ctid_parse_error_message_is_bounded(void **state)
{
	(void)state;
	char s[2000];
	memset(s, '7', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	vz_error err = { 0 };
	unsigned id;
	assert_int_equal(vz_ctid_parse(s, &id, &err), VZ_E_BADVALUE);
	assert_true(strlen(err.msg) < 200);
}

/* ---- vz_name_check ---- */

static void assert_name_ok(const char *name)
{
	vz_error err = { 0 };
	int r = vz_name_check(name, &err);
	if (r != 0)
		fail_msg("name \"%s\" rejected: %s", name, err.msg);
}

static void assert_bad_name(const char *name)
{
	vz_error err = { 0 };
	int r = vz_name_check(name, &err);
	if (r == 0)
		fail_msg("name \"%s\" accepted", name ? name : "(null)");
	assert_int_equal(r, VZ_E_NAME);
	assert_int_equal(err.code, VZ_E_NAME);
	assert_true(err.msg[0] != '\0');
}

static void test_name_check_accepts_vzctl_names(void **state)
{
	(void)state;
	assert_name_ok("web-1");
	assert_name_ok("a.b+c_d");
	assert_name_ok("a");
	assert_name_ok("101a");
	assert_name_ok("WebServer");
	assert_name_ok("...");
}

static void test_name_check_rejects_empty_and_null(void **state)
{
	(void)state;
	assert_bad_name("");
	assert_bad_name(NULL);
}

static void test_name_check_rejects_all_digit_names(void **state)
{
	(void)state;
	assert_bad_name("123");
	assert_bad_name("0");
}

static void test_name_check_rejects_path_characters(void **state)
{
	(void)state;
	assert_bad_name("../x");
	assert_bad_name("a/b");
	assert_bad_name("/etc");
	assert_bad_name(".");
	assert_bad_name("..");
}

static void test_name_check_rejects_other_characters(void **state)
{
	(void)state;
	assert_bad_name("a b");
	assert_bad_name("a\tb");
	assert_bad_name("a\nb");
	assert_bad_name("a*");
	assert_bad_name("$x");
	assert_bad_name("n\xc3\xa4me");
}

static void test_name_check_limits_length_to_63(void **state)
{
	(void)state;
	char name[200];
	memset(name, 'n', sizeof(name));
	name[VZ_NAME_MAX] = '\0';
	assert_name_ok(name);
	name[VZ_NAME_MAX] = 'n';
	name[VZ_NAME_MAX + 1] = '\0';
	assert_bad_name(name);
	name[sizeof(name) - 1] = '\0';
	assert_bad_name(name);
}

/* ---- vz_ct_resolve against a names directory ---- */

struct fixture {
	char dir[64];
	struct vz_ctx ctx;
};

static int names_setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/vz-test-names.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	/* only names_dir is read by vz_ct_resolve */
	f->ctx.names_dir = f->dir;
	f->ctx.log_fd = -1;
	*state = f;
	return 0;
}

static int names_teardown(void **state)
{
	struct fixture *f = *state;
	int r = rm_rf(f->dir);
	free(f);
	return r;
}

static void add_link(struct fixture *f, const char *name, const char *target)
{
	char *link = xasprintf("%s/%s", f->dir, name);
	if (symlink(target, link) < 0)
		fail_msg("symlink %s -> %s failed", link, target);
	free(link);
}

static void test_resolve_maps_a_name_to_its_ctid(void **state)
{
	struct fixture *f = *state;
	add_link(f, "web-1", "/whatever/101.conf");
	add_link(f, "db", "../conf/2147483644.conf");
	add_link(f, "rel", "7.conf");
	unsigned id = 0;
	vz_error err = { 0 };
	assert_int_equal(vz_ct_resolve(&f->ctx, "web-1", &id, &err), 0);
	assert_int_equal(id, 101);
	assert_int_equal(vz_ct_resolve(&f->ctx, "db", &id, &err), 0);
	assert_int_equal(id, 2147483644u);
	assert_int_equal(vz_ct_resolve(&f->ctx, "rel", &id, &err), 0);
	assert_int_equal(id, 7);
}

static void test_resolve_passes_numeric_ids_through(void **state)
{
	struct fixture *f = *state;
	/* a name symlink spelled like an id is never consulted */
	add_link(f, "102", "/whatever/999.conf");
	unsigned id = 0;
	vz_error err = { 0 };
	assert_int_equal(vz_ct_resolve(&f->ctx, "102", &id, &err), 0);
	assert_int_equal(id, 102);
	assert_int_equal(vz_ct_resolve(&f->ctx, "0", &id, &err), VZ_E_BADVALUE);
	assert_int_equal(vz_ct_resolve(&f->ctx, "2147483645", &id, &err),
			 VZ_E_BADVALUE);
}

static void test_resolve_of_unknown_name_is_a_bad_id(void **state)
{
	struct fixture *f = *state;
	add_link(f, "web-1", "/whatever/101.conf");
	unsigned id = 77;
	vz_error err = { 0 };
	assert_int_equal(vz_ct_resolve(&f->ctx, "web-2", &id, &err), VZ_E_BADVALUE);
	assert_int_equal(err.code, VZ_E_BADVALUE);
	assert_non_null(strstr(err.msg, "web-2"));
	assert_int_equal(id, 77);
}

static void test_resolve_rejects_a_link_not_pointing_at_a_ct_config(void **state)
{
	struct fixture *f = *state;
	add_link(f, "evil", "evil");
	add_link(f, "evil2", "/etc/passwd");
	add_link(f, "bak", "/vz/conf/101.conf.bak");
	add_link(f, "mount", "/vz/conf/101.mount");
	add_link(f, "noid", "/vz/conf/.conf");
	add_link(f, "word", "/vz/conf/abc.conf");
	add_link(f, "zero", "/vz/conf/0.conf");
	add_link(f, "big", "/vz/conf/4294967397.conf");
	add_link(f, "dir", "/vz/conf/101.conf/");
	static const char *bad[] = {
		"evil", "evil2", "bak", "mount", "noid", "word", "zero", "big", "dir",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		unsigned id = 77;
		vz_error err = { 0 };
		int r = vz_ct_resolve(&f->ctx, bad[i], &id, &err);
		if (r == 0)
			fail_msg("name %s resolved to %u", bad[i], id);
		assert_int_equal(err.code, r);
		assert_true(err.msg[0] != '\0');
		assert_int_equal(id, 77);
	}
}

static void test_resolve_rejects_invalid_names_without_touching_the_fs(void **state)
{
	struct fixture *f = *state;
	/* ../x would escape names_dir; make it resolvable if it were followed */
	char *outside = xasprintf("%s/x", f->dir);
	char *sub = xasprintf("%s/sub", f->dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(symlink("/whatever/101.conf", outside), 0);
	f->ctx.names_dir = sub;
	static const char *bad[] = { "", "../x", "a/b", "a b", ".", "..", "/x" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		unsigned id = 77;
		vz_error err = { 0 };
		int r = vz_ct_resolve(&f->ctx, bad[i], &id, &err);
		if (r == 0)
			fail_msg("\"%s\" resolved to %u", bad[i], id);
		assert_int_equal(err.code, r);
		assert_int_equal(id, 77);
	}
	unsigned id = 77;
	assert_int_equal(vz_ct_resolve(&f->ctx, NULL, &id, NULL), VZ_E_BADVALUE);
	f->ctx.names_dir = f->dir;
	free(sub);
	free(outside);
}

static void test_resolve_of_a_regular_file_is_not_a_name(void **state)
{
	struct fixture *f = *state;
	char *path = xasprintf("%s/plain", f->dir);
	assert_int_equal(write_file(path, "101.conf", 8, O_CREAT | O_TRUNC), 0);
	unsigned id = 77;
	vz_error err = { 0 };
	assert_int_not_equal(vz_ct_resolve(&f->ctx, "plain", &id, &err), 0);
	assert_int_equal(id, 77);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ctid_parse_accepts_valid_ids),
		cmocka_unit_test(test_ctid_parse_rejects_empty_and_null),
		cmocka_unit_test(test_ctid_parse_rejects_zero),
		cmocka_unit_test(test_ctid_parse_rejects_non_digits),
		cmocka_unit_test(test_ctid_parse_rejects_ids_above_the_maximum),
		cmocka_unit_test(test_ctid_parse_rejects_overlong_digit_strings),
		cmocka_unit_test(test_ctid_parse_error_message_is_bounded),
		cmocka_unit_test(test_name_check_accepts_vzctl_names),
		cmocka_unit_test(test_name_check_rejects_empty_and_null),
		cmocka_unit_test(test_name_check_rejects_all_digit_names),
		cmocka_unit_test(test_name_check_rejects_path_characters),
		cmocka_unit_test(test_name_check_rejects_other_characters),
		cmocka_unit_test(test_name_check_limits_length_to_63),
		cmocka_unit_test_setup_teardown(test_resolve_maps_a_name_to_its_ctid,
						names_setup, names_teardown),
		cmocka_unit_test_setup_teardown(test_resolve_passes_numeric_ids_through,
						names_setup, names_teardown),
		cmocka_unit_test_setup_teardown(test_resolve_of_unknown_name_is_a_bad_id,
						names_setup, names_teardown),
		cmocka_unit_test_setup_teardown(test_resolve_rejects_a_link_not_pointing_at_a_ct_config,
						names_setup, names_teardown),
		cmocka_unit_test_setup_teardown(test_resolve_rejects_invalid_names_without_touching_the_fs,
						names_setup, names_teardown),
		cmocka_unit_test_setup_teardown(test_resolve_of_a_regular_file_is_not_a_name,
						names_setup, names_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
