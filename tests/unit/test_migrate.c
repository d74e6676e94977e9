/* Unit tests for src/lib/migrate.c: reading pages_written out of criu's
 * stats-dump, which decides when pre-copy rounds stop. The bytes are a
 * stats-dump criu 4.2.1 wrote on this project's machine. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

static const unsigned char stats_dump[] = {
	0x40, 0x59, 0x10, 0x55, 0x06, 0x33, 0x09, 0x57, 0x24, 0x00, 0x00, 0x00,
	0x0a, 0x22, 0x08, 0xbc, 0x94, 0x06, 0x10, 0xda, 0xfb, 0x05, 0x18, 0xdf,
	0x0d, 0x20, 0xc1, 0x01, 0x28, 0x30, 0x30, 0x00, 0x38, 0x22, 0x40, 0x00,
	0x48, 0x00, 0x50, 0x08, 0x58, 0x08, 0x60, 0x00, 0x68, 0x00, 0x70, 0x00,
};

static char dir[64];

static int dir_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vz-unit-stats.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	/* a receiver allocates the CT an id range: in here, not the host's */
	char p[128];
	snprintf(p, sizeof(p), "%s/subuid", dir);
	setenv("VZ_SUBUID_FILE", p, 1);
	snprintf(p, sizeof(p), "%s/subgid", dir);
	setenv("VZ_SUBGID_FILE", p, 1);
	snprintf(p, sizeof(p), "%s/idmap", dir);
	setenv("VZ_IDMAP_DIR", p, 1);
	return 0;
}

static int dir_teardown(void **state)
{
	(void)state;
	return rm_rf(dir);
}

static void put_stats(const unsigned char *b, size_t n)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/stats-dump", dir);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, n, f), n);
	fclose(f);
}

static void test_pages_written_is_read_from_the_dump_entry(void **state)
{
	(void)state;
	put_stats(stats_dump, sizeof(stats_dump));
	assert_int_equal(vz_mig_pages_written(dir), 34);
}

static void test_a_cut_short_stats_file_reads_as_unknown(void **state)
{
	(void)state;
	put_stats(stats_dump, 30); /* the dump entry's length runs past the end */
	assert_int_equal(vz_mig_pages_written(dir), -1);
	put_stats(stats_dump, 8); /* magics only */
	assert_int_equal(vz_mig_pages_written(dir), -1);
}

static void test_no_stats_file_reads_as_unknown(void **state)
{
	(void)state;
	assert_int_equal(vz_mig_pages_written(dir), -1);
}

static void test_a_restore_stats_entry_has_no_pages_written(void **state)
{
	(void)state;
	/* field 2 (restore) instead of 1 (dump), same inner bytes */
	unsigned char b[sizeof(stats_dump)];
	memcpy(b, stats_dump, sizeof(b));
	b[12] = 0x12;
	put_stats(b, sizeof(b));
	assert_int_equal(vz_mig_pages_written(dir), -1);
}

/* ---- the receiving side's session order ---- */

/* Runs the receiver of CT 101 in VZ_ROOT dir on the session text; returns
 * its code, the answers in ans. */
static int receive(const char *session, char *ans, size_t n)
{
	vz_error err = {0};
	vz_ctx *ctx = vz_ctx_new(dir, &err);
	assert_non_null(ctx);
	FILE *in = tmpfile(), *out = tmpfile();
	assert_non_null(in);
	assert_non_null(out);
	fputs(session, in);
	fflush(in);
	rewind(in);
	int save0 = dup(0), save1 = dup(1);
	assert_true(dup2(fileno(in), 0) == 0 && dup2(fileno(out), 1) == 1);
	int r = vz_migrate_receive(ctx, 101, &err);
	assert_true(dup2(save0, 0) == 0 && dup2(save1, 1) == 1);
	close(save0);
	close(save1);
	size_t got = (size_t)pread(fileno(out), ans, n - 1, 0);
	ans[got] = '\0';
	fclose(in);
	fclose(out);
	vz_ctx_free(ctx);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	return r;
}

/* as a source sends it: the CT's range there (the receiver picks its own) */
static const char ct_conf[] = "VE_ROOT=\"/vz/root/$VEID\"\nVE_PRIVATE=\"/vz/private/$VEID\"\n"
			      "LOCAL_UID=\"100000\"\nLOCAL_GID=\"100000\"\n";

/* fuzz_migrate: a CONF without HELLO wrote over the config of a CT that
 * exists (the check HELLO makes), found its private area there and, to
 * undo, removed both */
static void test_conf_before_hello_leaves_an_existing_ct_alone(void **state)
{
	(void)state;
	char p[256], ans[1024], session[512];
	vz_error err = {0};
	vz_ctx *ctx = vz_ctx_new(dir, &err);
	assert_non_null(ctx);
	vz_ctx_free(ctx);
	snprintf(p, sizeof(p), "%s/etc/vz/conf/101.conf", dir);
	assert_int_equal(write_file(p, ct_conf, strlen(ct_conf), O_CREAT), 0);
	snprintf(p, sizeof(p), "%s/vz/private/101/keep", dir);
	assert_int_equal(mkdir_p(p, 0755), 0);
	snprintf(session, sizeof(session), "CONF %zu\n%sCONFDONE\n", strlen(ct_conf), ct_conf);
	assert_int_not_equal(receive(session, ans, sizeof(ans)), 0);
	assert_non_null(strstr(ans, "ERR "));
	assert_true(path_exists(p));
	snprintf(p, sizeof(p), "%s/etc/vz/conf/101.conf", dir);
	assert_true(path_exists(p));
}

/* fuzz_migrate's leak-3e90faad: a second CONF (or HELLO) loaded the CT
 * again over the first one's state */
static void test_a_second_conf_ends_the_session(void **state)
{
	(void)state;
	char ans[1024], session[1024];
	snprintf(session, sizeof(session),
		 "HELLO 0 101 online=0 lazy=0 layer=-\nCONF %zu\n%sCONFDONE\nCONF %zu\n%sCONFDONE\n"
		 "COMMIT\n",
		 strlen(ct_conf), ct_conf, strlen(ct_conf), ct_conf);
	assert_int_not_equal(receive(session, ans, sizeof(ans)), 0);
	assert_non_null(strstr(ans, "CONF out of order"));
	char p[256];
	snprintf(p, sizeof(p), "%s/etc/vz/conf/101.conf", dir);
	assert_false(path_exists(p));
	snprintf(session, sizeof(session), "HELLO 0 101\nHELLO 0 101\n");
	assert_int_not_equal(receive(session, ans, sizeof(ans)), 0);
	assert_non_null(strstr(ans, "HELLO out of order"));
}

/* COMMIT after a CONF that failed (here a privileged CT, which this
 * host's vz.conf does not make) made the session a success */
static void test_commit_without_a_config_fails_the_session(void **state)
{
	(void)state;
	char ans[1024], session[1024];
	static const char priv[] = "VE_ROOT=\"/vz/root/$VEID\"\nVE_PRIVATE=\"/vz/private/$VEID\"\n"
				   "LOCAL_UID=\"0\"\nLOCAL_GID=\"0\"\n";
	snprintf(session, sizeof(session),
		 "HELLO 0 101 online=0 lazy=0 layer=-\nCONF %zu\n%sCONFDONE\nCOMMIT\n",
		 strlen(priv), priv);
	assert_int_not_equal(receive(session, ans, sizeof(ans)), 0);
	assert_non_null(strstr(ans, "COMMIT out of order"));
	char p[256];
	snprintf(p, sizeof(p), "%s/etc/vz/conf/101.conf", dir);
	assert_false(path_exists(p));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pages_written_is_read_from_the_dump_entry,
						dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_a_cut_short_stats_file_reads_as_unknown,
						dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_no_stats_file_reads_as_unknown, dir_setup,
						dir_teardown),
		cmocka_unit_test_setup_teardown(test_a_restore_stats_entry_has_no_pages_written,
						dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_conf_before_hello_leaves_an_existing_ct_alone,
						dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_a_second_conf_ends_the_session, dir_setup,
						dir_teardown),
		cmocka_unit_test_setup_teardown(test_commit_without_a_config_fails_the_session, dir_setup,
						dir_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
