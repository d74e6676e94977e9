/* Unit tests for src/lib/seccomp.c: SECCOMP values, the extra deny list's
 * checks, and the fix-up of a dump's filters before a restore. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"

static char dir[] = "/tmp/vz-unit-seccomp.XXXXXX";

static int tmpdir_setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/vz-unit-seccomp.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int tmpdir_teardown(void **state)
{
	(void)state;
	return rm_rf(dir);
}

static void test_check_takes_default_none_and_absolute_paths(void **state)
{
	(void)state;
	vz_error e = {0};
	assert_int_equal(vz_seccomp_check(101, NULL, &e), 0);
	assert_int_equal(vz_seccomp_check(101, "", &e), 0);
	assert_int_equal(vz_seccomp_check(101, "default", &e), 0);
	assert_int_equal(vz_seccomp_check(101, "none", &e), 0);
	assert_int_equal(vz_seccomp_check(101, "/etc/vz/deny.list", &e), 0);
	assert_int_equal(vz_seccomp_check(101, "strict", &e), VZ_E_CONFIG);
	assert_non_null(strstr(e.msg, "SECCOMP"));
	assert_non_null(strstr(e.msg, "CT 101"));
	assert_int_equal(vz_seccomp_check(101, "rel/list", &e), VZ_E_CONFIG);
}

/* a CT whose config says SECCOMP=v */
static void ct_with(struct vz_ct *ct, const char *v)
{
	memset(ct, 0, sizeof(*ct));
	ct->ctid = 101;
	if (v)
		assert_int_equal(vz_conf_set(&ct->conf, "SECCOMP", v), 0);
}

static int prepare(const char *v, vz_error *e)
{
	struct vz_ctx ctx;
	struct vz_ct ct;
	memset(&ctx, 0, sizeof(ctx));
	ct_with(&ct, v);
	struct vz_seccomp *s = NULL;
	int r = vz_seccomp_prepare(&ctx, &ct, true, &s, e);
	if (!r && v && !strcmp(v, "none"))
		assert_null(s);
	else if (!r)
		assert_non_null(s);
	vz_seccomp_free(s);
	vz_conf_free(&ct.conf);
	return r;
}

static void test_the_default_profile_builds_and_none_builds_nothing(void **state)
{
	(void)state;
	vz_error e = {0};
	assert_int_equal(prepare(NULL, &e), 0);
	assert_int_equal(prepare("default", &e), 0);
	assert_int_equal(prepare("none", &e), 0);
}

static void test_an_extra_list_must_be_roots_and_name_known_calls(void **state)
{
	(void)state;
	vz_error e = {0};
	_cleanup_free_ char *ok = xasprintf("%s/ok", dir);
	_cleanup_free_ char *bad = xasprintf("%s/bad", dir);
	_cleanup_free_ char *two = xasprintf("%s/two", dir);
	_cleanup_free_ char *open_ = xasprintf("%s/open", dir);
	_cleanup_free_ char *link = xasprintf("%s/link", dir);
	const char *t = "# comment\nchroot\n\n  sethostname   # why\n";
	assert_int_equal(write_file(ok, t, strlen(t), O_CREAT | O_TRUNC), 0);
	chmod(ok, 0644);
	assert_int_equal(prepare(ok, &e), 0);
	t = "chroot\nno_such_call\n";
	assert_int_equal(write_file(bad, t, strlen(t), O_CREAT | O_TRUNC), 0);
	assert_int_equal(prepare(bad, &e), VZ_E_CONFIG);
	assert_non_null(strstr(e.msg, ":2: unknown system call no_such_call"));
	t = "chroot sethostname\n";
	assert_int_equal(write_file(two, t, strlen(t), O_CREAT | O_TRUNC), 0);
	assert_int_equal(prepare(two, &e), VZ_E_CONFIG);
	t = "chroot\n";
	assert_int_equal(write_file(open_, t, strlen(t), O_CREAT | O_TRUNC), 0);
	chmod(open_, 0666);
	assert_int_equal(prepare(open_, &e), VZ_E_CONFIG);
	assert_non_null(strstr(e.msg, "only root can write"));
	assert_int_equal(symlink(ok, link), 0);
	assert_int_equal(prepare(link, &e), VZ_E_CONFIG); /* no symlink followed */
}

static const unsigned char notif[8] = {0x06, 0, 0, 0, 0x00, 0x00, 0xc0, 0x7f};
static const unsigned char allow[8] = {0x06, 0, 0, 0, 0x00, 0x00, 0xff, 0x7f};

static void test_dump_fixup_turns_notify_returns_into_allow(void **state)
{
	(void)state;
	_cleanup_free_ char *img = xasprintf("%s/seccomp.img", dir);
	unsigned char buf[40] = {1, 2, 3};
	memcpy(buf + 5, notif, 8);
	memcpy(buf + 24, notif, 8);
	assert_int_equal(write_file(img, (char *)buf, sizeof(buf), O_CREAT | O_TRUNC), 0);
	vz_seccomp_dump_fixup(dir);
	size_t len;
	_cleanup_free_ char *got = read_file(img, &len);
	assert_int_equal(len, sizeof(buf));
	assert_memory_equal(got + 5, allow, 8);
	assert_memory_equal(got + 24, allow, 8);
	assert_memory_equal(got, buf, 5);
}

static void test_dump_fixup_follows_no_symlink(void **state)
{
	(void)state;
	_cleanup_free_ char *target = xasprintf("%s/host-file", dir);
	_cleanup_free_ char *img = xasprintf("%s/seccomp.img", dir);
	assert_int_equal(write_file(target, (const char *)notif, 8, O_CREAT | O_TRUNC), 0);
	assert_int_equal(symlink(target, img), 0);
	vz_seccomp_dump_fixup(dir);
	size_t len;
	_cleanup_free_ char *got = read_file(target, &len);
	assert_int_equal(len, 8);
	assert_memory_equal(got, notif, 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_takes_default_none_and_absolute_paths),
		cmocka_unit_test(test_the_default_profile_builds_and_none_builds_nothing),
		cmocka_unit_test_setup_teardown(test_an_extra_list_must_be_roots_and_name_known_calls,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_dump_fixup_turns_notify_returns_into_allow,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_dump_fixup_follows_no_symlink,
						tmpdir_setup, tmpdir_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
