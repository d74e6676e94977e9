/* Unit tests for src/lib/migrate.c: reading pages_written out of criu's
 * stats-dump, which decides when pre-copy rounds stop. The bytes are a
 * stats-dump criu 4.2.1 wrote on this project's machine. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

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
	return mkdtemp(dir) ? 0 : -1;
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
