/* Unit tests for src/lib/resources.c: what vz_res_normalize makes of the
 * values typed for vzctl's resource options (what `set --save` stores). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include "internal.h"

static void norm_ok(const char *option, const char *in, const char *want)
{
	char out[128];
	const char *key = NULL;
	vz_error err = {0};
	int r = vz_res_normalize(101, option, in, &key, out, sizeof(out), &err);
	if (r)
		fail_msg("--%s %s refused: %s", option, in, err.msg);
	assert_string_equal(out, want);
	/* what was saved is taken back as it is */
	char again[128];
	r = vz_res_normalize(101, option, out, &key, again, sizeof(again), &err);
	if (r)
		fail_msg("--%s %s saved as %s, then refused: %s", option, in, out, err.msg);
	assert_string_equal(again, out);
}

static void test_ram_sizes_are_saved_with_their_unit(void **state)
{
	(void)state;
	norm_ok("ram", "256M", "0:256M");
	norm_ok("ram", "4096", "0:4K");
	norm_ok("swap", "unlimited", "0:unlimited");
	norm_ok("ram", "512M:1G", "512M:1G");
}

/* fuzz_res's input "\0777": --ram 777 (bytes) was saved as "0:777", which
 * the config reads as 777 pages (3 MB) */
static void test_ram_in_bytes_is_rounded_up_to_whole_pages(void **state)
{
	(void)state;
	norm_ok("ram", "777", "0:4K");
	norm_ok("ram", "4097", "0:8K");
	norm_ok("swap", "1", "0:4K");
	char out[64];
	const char *key;
	vz_error err;
	assert_int_equal(vz_res_normalize(101, "ram", "18446744073709551614", &key, out,
					  sizeof(out), &err), VZ_E_BADVALUE);
}

/* fuzz_res's input "\2unlimited": saved as "unlimited:unlimited", which
 * `set --numproc` then refused */
static void test_numproc_unlimited_is_taken_back_as_saved(void **state)
{
	(void)state;
	norm_ok("numproc", "unlimited", "unlimited:unlimited");
	norm_ok("numproc", "unlimited:unlimited", "unlimited:unlimited");
	norm_ok("numproc", "64", "64:64");
	norm_ok("numproc", "64:unlimited", "64:2147483647");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ram_sizes_are_saved_with_their_unit),
		cmocka_unit_test(test_ram_in_bytes_is_rounded_up_to_whole_pages),
		cmocka_unit_test(test_numproc_unlimited_is_taken_back_as_saved),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
