/* Unit tests for src/lib/ct.c: what vz_ct_load refuses in a CT's config
 * (a host's, or one a migration peer sent). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

static char dir[64];

static int dir_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vz-unit-ct.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int dir_teardown(void **state)
{
	(void)state;
	return rm_rf(dir);
}

/* loads CT 101 from text; the error in *err */
static int load(const char *text, vz_error *err)
{
	vz_ctx *ctx = vz_ctx_new(dir, err);
	assert_non_null(ctx);
	char p[256];
	snprintf(p, sizeof(p), "%s/etc/vz/conf/101.conf", dir);
	assert_int_equal(write_file(p, text, strlen(text), O_CREAT | O_TRUNC), 0);
	struct vz_ct ct;
	int r = vz_ct_load(ctx, 101, &ct, err);
	if (!r)
		vz_ct_free(&ct);
	vz_ctx_free(ctx);
	return r;
}

#define PATHS "VE_ROOT=\"/vz/root/$VEID\"\nVE_PRIVATE=\"/vz/private/$VEID\"\n"

/* fuzz_migrate's crash-aa0ecc04: the message named LOCAL_UID/LOCAL_GID from
 * the config it had just freed (a use after free under ASan) */
static void test_bad_local_ids_are_named_in_the_error(void **state)
{
	(void)state;
	vz_error err = {0};
	assert_int_equal(load(PATHS "LOCAL_UID=\"12x\"\n", &err), VZ_E_CONFIG);
	assert_non_null(strstr(err.msg, "LOCAL_UID 12x is not a valid id"));
	assert_int_equal(load(PATHS "LOCAL_UID=\"200000\"\nLOCAL_GID=\"0\"\n", &err),
			 VZ_E_CONFIG);
	assert_non_null(strstr(err.msg, "LOCAL_GID 0 is not valid"));
	assert_int_equal(load(PATHS "LOCAL_UID=\"200000\"\nLOCAL_GID=\"200000\"\n", &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bad_local_ids_are_named_in_the_error, dir_setup,
						dir_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
