/* Unit tests for src/lib/config.c: the OpenVZ KEY="value" config parser,
 * its in-place rewriting and the atomic save. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include "internal.h"

/* ---- helpers ---- */

/* Parses text that must be valid; fails the test otherwise. */
static void parse_ok(struct vz_conf *c, const char *text)
{
	vz_error err = { 0 };
	int r = vz_conf_parse(c, text, "test.conf", &err);
	if (r != 0)
		fail_msg("parse of \"%s\" failed (%d): %s", text, r, err.msg);
}

/* Parses text that must be rejected; returns the error for inspection. */
static vz_error parse_bad(const char *text)
{
	struct vz_conf c;
	vz_error err = { 0 };
	int r = vz_conf_parse(&c, text, "/etc/vz/conf/101.conf", &err);
	if (r == 0) {
		vz_conf_free(&c);
		fail_msg("parse of \"%s\" unexpectedly succeeded", text);
	}
	assert_int_equal(r, err.code);
	return err;
}

static void assert_formats_as(const struct vz_conf *c, const char *want)
{
	char *got = vz_conf_format(c);
	assert_string_equal(got, want);
	free(got);
}

/* ---- per-test temporary directory ---- */

static int tmpdir_setup(void **state)
{
	char *dir = xstrdup("/tmp/vz-test-config.XXXXXX");
	if (!mkdtemp(dir)) {
		free(dir);
		return -1;
	}
	*state = dir;
	return 0;
}

static int tmpdir_teardown(void **state)
{
	char *dir = *state;
	int r = rm_rf(dir);
	free(dir);
	return r;
}

/* ---- parsing values ---- */

static void test_double_quoted_value_is_unquoted(void **state)
{
	(void)state;
	struct vz_conf c;
	parse_ok(&c, "HOSTNAME=\"web.example.com\"\n");
	assert_string_equal(vz_conf_get(&c, "HOSTNAME"), "web.example.com");
	vz_conf_free(&c);
}

static void test_double_quoted_value_keeps_spaces_and_hashes(void **state)
{
	(void)state;
	struct vz_conf c;
	parse_ok(&c, "DESCRIPTION=\"my  web # server\"\n");
	assert_string_equal(vz_conf_get(&c, "DESCRIPTION"), "my  web # server");
	vz_conf_free(&c);
}

static void test_unquoted_value_is_read_to_end_of_word(void **state)
{
	(void)state;
	struct vz_conf c;
	parse_ok(&c, "ONBOOT=yes\nVE_ROOT=/vz/root/$VEID\n");
	assert_string_equal(vz_conf_get(&c, "ONBOOT"), "yes");
	assert_string_equal(vz_conf_get(&c, "VE_ROOT"), "/vz/root/$VEID");
	vz_conf_free(&c);
}

static void test_single_quoted_value_is_unquoted(void **state)
{
	(void)state;
	struct vz_conf c;
	parse_ok(&c, "OSTEMPLATE='debian-12 \"x\"'\n");
	assert_string_equal(vz_conf_get(&c, "OSTEMPLATE"), "debian-12 \"x\"");
	vz_conf_free(&c);
}

static void test_empty_values_are_empty_strings(void **state)
{
	(void)state;
	struct vz_conf c;
	parse_ok(&c, "A=\nB=\"\"\nC=''\n");
	assert_string_equal(vz_conf_get(&c, "A"), "");
	assert_string_equal(vz_conf_get(&c, "B"), "");
	assert_string_equal(vz_conf_get(&c, "C"), "");
	vz_conf_free(&c);
}

static void test_trailing_comment_and_blanks_after_value_are_allowed(void **state)
{
	(void)state;
	struct vz_conf c;
	parse_ok(&c, "A=\"1\"  # the first\nB=2\t# the second\n  C=3  \n");
	assert_string_equal(vz_conf_get(&c, "A"), "1");
	assert_string_equal(vz_conf_get(&c, "B"), "2");
	assert_string_equal(vz_conf_get(&c, "C"), "3");
	vz_conf_free(&c);
}

static void test_missing_key_returns_null(void **state)
{
	(void)state;
	struct vz_conf c;
	parse_ok(&c, "A=1\n# B=2\n");
	assert_null(vz_conf_get(&c, "B"));
	assert_null(vz_conf_get(&c, "a"));
	assert_null(vz_conf_get(&c, "A1"));
	vz_conf_free(&c);
}

static void test_empty_text_gives_empty_config(void **state)
{
	(void)state;
	struct vz_conf c;
	parse_ok(&c, "");
	assert_int_equal(c.n, 0);
	assert_null(vz_conf_get(&c, "A"));
	assert_formats_as(&c, "");
	vz_conf_free(&c);
}

static void test_last_line_without_newline_is_parsed(void **state)
{
	(void)state;
	struct vz_conf c;
	parse_ok(&c, "A=1\nB=\"2\"");
	assert_string_equal(vz_conf_get(&c, "B"), "2");
	vz_conf_free(&c);
}

static void test_last_assignment_wins(void **state)
{
	(void)state;
	struct vz_conf c;
	parse_ok(&c, "NAME=\"first\"\nOTHER=x\nNAME=second\n");
	assert_string_equal(vz_conf_get(&c, "NAME"), "second");
	vz_conf_free(&c);
}

static void test_crlf_line_endings_are_stripped_from_values(void **state)
{
	(void)state;
	struct vz_conf c;
	parse_ok(&c, "# dos file\r\nA=\"1\"\r\nB=two\r\n\r\nC='3'\r\n");
	assert_string_equal(vz_conf_get(&c, "A"), "1");
	assert_string_equal(vz_conf_get(&c, "B"), "two");
	assert_string_equal(vz_conf_get(&c, "C"), "3");
	/* rewritten with plain newlines, no stray \r */
	assert_formats_as(&c, "# dos file\nA=\"1\"\nB=two\n\nC='3'\n");
	vz_conf_free(&c);
}

/* fuzz_config's input "o=\r\r...": an unquoted value that kept CRs lost
 * one at each rewrite of the file */
static void test_cr_is_a_blank_not_part_of_an_unquoted_value(void **state)
{
	(void)state;
	struct vz_conf c, d;
	parse_ok(&c, "o=\r\r\r\nA=x\r\r\n");
	assert_string_equal(vz_conf_get(&c, "o"), "");
	assert_string_equal(vz_conf_get(&c, "A"), "x");
	char *text = vz_conf_format(&c);
	parse_ok(&d, text);
	assert_string_equal(vz_conf_get(&d, "o"), "");
	assert_string_equal(vz_conf_get(&d, "A"), "x");
	free(text);
	vz_conf_free(&c);
	vz_conf_free(&d);
	/* a CR inside quotes is the value's */
	parse_ok(&c, "Q=\"a\rb\"\r\n");
	assert_string_equal(vz_conf_get(&c, "Q"), "a\rb");
	vz_conf_free(&c);
}

/* ---- format keeps the file as written ---- */

static void test_comments_and_blank_lines_are_kept_verbatim_on_format(void **state)
{
	(void)state;
	const char *text =
		"# Configuration file for CT 101\n"
		"\n"
		"   # indented comment\n"
		"ONBOOT=\"yes\"   # trailing comment kept\n"
		"\t\n"
		"  VE_ROOT=/vz/root/$VEID\n"
		"OSTEMPLATE='debian-12'\n";
	struct vz_conf c;
	parse_ok(&c, text);
	assert_formats_as(&c, text);
	vz_conf_free(&c);
}

static void test_format_terminates_the_last_line(void **state)
{
	(void)state;
	struct vz_conf c;
	parse_ok(&c, "A=1");
	assert_formats_as(&c, "A=1\n");
	vz_conf_free(&c);
}

/* ---- set and unset ---- */

static void test_set_replaces_value_in_place(void **state)
{
	(void)state;
	struct vz_conf c;
	parse_ok(&c, "# head\nA=1\nB=\"2\" # note\nC=3\n");
	vz_conf_set(&c, "B", "two");
	assert_string_equal(vz_conf_get(&c, "B"), "two");
	assert_formats_as(&c, "# head\nA=1\nB=\"two\"\nC=3\n");
	vz_conf_free(&c);
}

static void test_set_appends_a_new_key_at_the_end(void **state)
{
	(void)state;
	struct vz_conf c;
	parse_ok(&c, "# head\nA=1\n");
	vz_conf_set(&c, "NAME", "web-1");
	assert_string_equal(vz_conf_get(&c, "NAME"), "web-1");
	assert_formats_as(&c, "# head\nA=1\nNAME=\"web-1\"\n");
	vz_conf_free(&c);
}

static void test_set_on_empty_config_creates_it(void **state)
{
	(void)state;
	struct vz_conf c;
	parse_ok(&c, "");
	vz_conf_set(&c, "A", "1");
	vz_conf_set(&c, "B", "with space");
	assert_formats_as(&c, "A=\"1\"\nB=\"with space\"\n");
	vz_conf_free(&c);
}

static void test_set_of_a_repeated_key_changes_the_effective_value(void **state)
{
	(void)state;
	struct vz_conf c;
	parse_ok(&c, "A=1\nA=2\n");
	vz_conf_set(&c, "A", "3");
	assert_string_equal(vz_conf_get(&c, "A"), "3");
	/* the value that wins on reload is the one set */
	char *text = vz_conf_format(&c);
	struct vz_conf again;
	parse_ok(&again, text);
	assert_string_equal(vz_conf_get(&again, "A"), "3");
	vz_conf_free(&again);
	free(text);
	vz_conf_free(&c);
}

static void test_unset_removes_every_assignment_and_keeps_the_rest(void **state)
{
	(void)state;
	struct vz_conf c;
	parse_ok(&c, "# head\nA=1\nB=2\nA=3\n\nC=4\n");
	vz_conf_unset(&c, "A");
	assert_null(vz_conf_get(&c, "A"));
	assert_string_equal(vz_conf_get(&c, "B"), "2");
	assert_string_equal(vz_conf_get(&c, "C"), "4");
	assert_formats_as(&c, "# head\nB=2\n\nC=4\n");
	vz_conf_free(&c);
}

static void test_unset_of_a_missing_key_changes_nothing(void **state)
{
	(void)state;
	const char *text = "# head\nA=1\n";
	struct vz_conf c;
	parse_ok(&c, text);
	vz_conf_unset(&c, "B");
	assert_formats_as(&c, text);
	vz_conf_free(&c);
}

static void test_set_after_unset_appends_again(void **state)
{
	(void)state;
	struct vz_conf c;
	parse_ok(&c, "A=1\nB=2\n");
	vz_conf_unset(&c, "A");
	vz_conf_set(&c, "A", "x");
	assert_formats_as(&c, "B=2\nA=\"x\"\n");
	vz_conf_free(&c);
}

/* ---- rejected input ---- */

static void test_unterminated_quote_is_rejected_with_line_number(void **state)
{
	(void)state;
	vz_error err = parse_bad("# CT 101\nA=1\nHOSTNAME=\"web\n");
	assert_int_equal(err.code, VZ_E_CONFIG);
	assert_non_null(strstr(err.msg, "/etc/vz/conf/101.conf:3"));
	assert_non_null(strstr(err.msg, "quote"));
}

static void test_unterminated_single_quote_is_rejected_with_line_number(void **state)
{
	(void)state;
	vz_error err = parse_bad("A='x\n");
	assert_int_equal(err.code, VZ_E_CONFIG);
	assert_non_null(strstr(err.msg, "/etc/vz/conf/101.conf:1"));
}

static void test_quote_does_not_continue_onto_the_next_line(void **state)
{
	(void)state;
	vz_error err = parse_bad("A=\"one\ntwo\"\n");
	assert_int_equal(err.code, VZ_E_CONFIG);
	assert_non_null(strstr(err.msg, "101.conf:1"));
}

static void test_garbage_lines_are_rejected(void **state)
{
	(void)state;
	static const char *bad[] = {
		"hello world\n",
		"=x\n",
		"1KEY=x\n",
		"KEY\n",
		"KEY =x\n",
		"KEY= x y\n",
		"export KEY=x\n",
		"KEY-X=1\n",
		"KEY.X=1\n",
		"A=1\nhello world\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		vz_error err = parse_bad(bad[i]);
		assert_int_equal(err.code, VZ_E_CONFIG);
		assert_non_null(strstr(err.msg, "101.conf:"));
	}
}

static void test_garbage_error_names_the_offending_line(void **state)
{
	(void)state;
	vz_error err = parse_bad("A=1\n\n# c\nhello world\nB=2\n");
	assert_int_equal(err.code, VZ_E_CONFIG);
	assert_non_null(strstr(err.msg, "/etc/vz/conf/101.conf:4:"));
}

static void test_trailing_garbage_after_quoted_value_is_rejected(void **state)
{
	(void)state;
	vz_error err = parse_bad("A=\"value\"junk\n");
	assert_int_equal(err.code, VZ_E_CONFIG);
	err = parse_bad("A=\"value\" junk\n");
	assert_int_equal(err.code, VZ_E_CONFIG);
	err = parse_bad("A='value'\"more\"\n");
	assert_int_equal(err.code, VZ_E_CONFIG);
}

static void test_failed_parse_leaves_an_empty_config(void **state)
{
	(void)state;
	struct vz_conf c;
	vz_error err = { 0 };
	assert_int_equal(vz_conf_parse(&c, "A=1\nB=2\nbad line\n", "x", &err),
			 VZ_E_CONFIG);
	assert_int_equal(c.n, 0);
	assert_null(c.lines);
	vz_conf_free(&c); /* harmless */
}

static void test_parse_error_without_err_still_returns_the_code(void **state)
{
	(void)state;
	struct vz_conf c;
	assert_int_equal(vz_conf_parse(&c, "A=\"x\n", "x", NULL), VZ_E_CONFIG);
	assert_int_equal(c.n, 0);
}

/* ---- keys and booleans ---- */

static void test_key_valid_accepts_shell_variable_names(void **state)
{
	(void)state;
	assert_true(vz_conf_key_valid("A"));
	assert_true(vz_conf_key_valid("_"));
	assert_true(vz_conf_key_valid("VE_ROOT"));
	assert_true(vz_conf_key_valid("_private9"));
	assert_true(vz_conf_key_valid("lower_case"));
}

static void test_key_valid_rejects_non_identifiers(void **state)
{
	(void)state;
	assert_false(vz_conf_key_valid(NULL));
	assert_false(vz_conf_key_valid(""));
	assert_false(vz_conf_key_valid("1KEY"));
	assert_false(vz_conf_key_valid("KEY-X"));
	assert_false(vz_conf_key_valid("KEY X"));
	assert_false(vz_conf_key_valid("KEY="));
	assert_false(vz_conf_key_valid("../x"));
	assert_false(vz_conf_key_valid("K\xc3\xa9"));
}

static void test_key_valid_limits_length_to_64(void **state)
{
	(void)state;
	char key[80];
	memset(key, 'K', sizeof(key));
	key[64] = '\0';
	assert_true(vz_conf_key_valid(key));
	key[64] = 'K';
	key[65] = '\0';
	assert_false(vz_conf_key_valid(key));
}

static void test_overlong_key_in_file_is_rejected(void **state)
{
	(void)state;
	char line[100];
	memset(line, 'K', 65);
	strcpy(line + 65, "=1\n");
	vz_error err = parse_bad(line);
	assert_int_equal(err.code, VZ_E_CONFIG);
}

static void test_parse_bool_reads_yes_and_no(void **state)
{
	(void)state;
	assert_int_equal(vz_parse_bool("yes"), 1);
	assert_int_equal(vz_parse_bool("no"), 0);
}

static void test_parse_bool_rejects_anything_else(void **state)
{
	(void)state;
	assert_int_equal(vz_parse_bool(NULL), -1);
	assert_int_equal(vz_parse_bool(""), -1);
	assert_int_equal(vz_parse_bool("maybe"), -1);
	assert_int_equal(vz_parse_bool("yes "), -1);
	assert_int_equal(vz_parse_bool(" no"), -1);
	assert_int_equal(vz_parse_bool("yesno"), -1);
	assert_int_equal(vz_parse_bool("2"), -1);
}

/* ---- load and save ---- */

static char *path_in(void **state, const char *name)
{
	return xasprintf("%s/%s", (const char *)*state, name);
}

static void assert_no_temp_files_left(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)))
		if (strstr(e->d_name, ".tmp"))
			fail_msg("temporary file %s/%s left behind", dir, e->d_name);
	closedir(d);
}

static void test_load_reads_a_file_from_disk(void **state)
{
	char *path = path_in(state, "101.conf");
	const char *text = "ONBOOT=\"yes\"\n";
	assert_int_equal(write_file(path, text, strlen(text), O_CREAT | O_TRUNC), 0);
	struct vz_conf c;
	vz_error err = { 0 };
	assert_int_equal(vz_conf_load(&c, path, &err), 0);
	assert_string_equal(vz_conf_get(&c, "ONBOOT"), "yes");
	vz_conf_free(&c);
	free(path);
}

static void test_load_of_missing_file_is_noconf(void **state)
{
	char *path = path_in(state, "404.conf");
	struct vz_conf c;
	vz_error err = { 0 };
	assert_int_equal(vz_conf_load(&c, path, &err), VZ_E_NOCONF);
	assert_int_equal(err.code, VZ_E_NOCONF);
	assert_non_null(strstr(err.msg, "404.conf"));
	assert_int_equal(c.n, 0);
	vz_conf_free(&c);
	free(path);
}

static void test_load_error_names_the_file_and_line(void **state)
{
	char *path = path_in(state, "102.conf");
	const char *text = "A=1\nB=\"open\n";
	assert_int_equal(write_file(path, text, strlen(text), O_CREAT | O_TRUNC), 0);
	struct vz_conf c;
	vz_error err = { 0 };
	assert_int_equal(vz_conf_load(&c, path, &err), VZ_E_CONFIG);
	char *want = xasprintf("%s:2", path);
	assert_non_null(strstr(err.msg, want));
	free(want);
	free(path);
}

static void test_load_of_a_directory_is_a_config_error(void **state)
{
	struct vz_conf c;
	vz_error err = { 0 };
	assert_int_equal(vz_conf_load(&c, (const char *)*state, &err), VZ_E_CONFIG);
	assert_int_equal(c.n, 0);
}

static void test_save_then_load_gives_the_same_config(void **state)
{
	char *path = path_in(state, "101.conf");
	const char *text =
		"# CT 101\n"
		"\n"
		"ONBOOT=\"no\"  # keep me\n"
		"VE_ROOT=/vz/root/$VEID\n"
		"OSTEMPLATE='debian-12'\n";
	struct vz_conf c;
	parse_ok(&c, text);
	vz_conf_set(&c, "ONBOOT", "yes");
	vz_conf_set(&c, "NAME", "web-1");
	vz_error err = { 0 };
	assert_int_equal(vz_conf_save(&c, path, &err), 0);

	size_t len = 0;
	char *disk = read_file(path, &len);
	assert_non_null(disk);
	char *want = vz_conf_format(&c);
	assert_string_equal(disk, want);
	assert_int_equal(len, strlen(want));

	struct vz_conf again;
	assert_int_equal(vz_conf_load(&again, path, &err), 0);
	assert_int_equal(again.n, c.n);
	for (size_t i = 0; i < c.n; i++) {
		assert_string_equal(again.lines[i].raw, c.lines[i].raw);
		if (c.lines[i].key) {
			assert_string_equal(again.lines[i].key, c.lines[i].key);
			assert_string_equal(again.lines[i].value, c.lines[i].value);
		} else {
			assert_null(again.lines[i].key);
		}
	}
	assert_string_equal(vz_conf_get(&again, "ONBOOT"), "yes");
	assert_string_equal(vz_conf_get(&again, "NAME"), "web-1");

	assert_no_temp_files_left((const char *)*state);
	vz_conf_free(&again);
	vz_conf_free(&c);
	free(want);
	free(disk);
	free(path);
}

static void test_save_replaces_an_existing_file_atomically(void **state)
{
	char *path = path_in(state, "101.conf");
	const char *old = "A=\"old\"\nLONG=\"a long line that is longer than the new file\"\n";
	assert_int_equal(write_file(path, old, strlen(old), O_CREAT | O_TRUNC), 0);
	struct stat before;
	assert_int_equal(stat(path, &before), 0);

	struct vz_conf c;
	parse_ok(&c, "A=\"new\"\n");
	vz_error err = { 0 };
	assert_int_equal(vz_conf_save(&c, path, &err), 0);

	/* a new inode was renamed over the old one, not rewritten in place */
	struct stat after;
	assert_int_equal(stat(path, &after), 0);
	assert_true(before.st_ino != after.st_ino);

	char *disk = read_file(path, NULL);
	assert_non_null(disk);
	assert_string_equal(disk, "A=\"new\"\n");
	assert_no_temp_files_left((const char *)*state);
	free(disk);
	vz_conf_free(&c);
	free(path);
}

static void test_save_into_a_missing_directory_is_confsave(void **state)
{
	char *path = path_in(state, "nodir/101.conf");
	struct vz_conf c;
	parse_ok(&c, "A=1\n");
	vz_error err = { 0 };
	assert_int_equal(vz_conf_save(&c, path, &err), VZ_E_CONFSAVE);
	assert_int_equal(err.code, VZ_E_CONFSAVE);
	assert_non_null(strstr(err.msg, "101.conf"));
	vz_conf_free(&c);
	free(path);
}

static void test_save_of_empty_config_writes_an_empty_file(void **state)
{
	char *path = path_in(state, "empty.conf");
	struct vz_conf c;
	parse_ok(&c, "");
	vz_error err = { 0 };
	assert_int_equal(vz_conf_save(&c, path, &err), 0);
	size_t len = 99;
	char *disk = read_file(path, &len);
	assert_non_null(disk);
	assert_int_equal(len, 0);
	free(disk);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_double_quoted_value_is_unquoted),
		cmocka_unit_test(test_double_quoted_value_keeps_spaces_and_hashes),
		cmocka_unit_test(test_unquoted_value_is_read_to_end_of_word),
		cmocka_unit_test(test_single_quoted_value_is_unquoted),
		cmocka_unit_test(test_empty_values_are_empty_strings),
		cmocka_unit_test(test_trailing_comment_and_blanks_after_value_are_allowed),
		cmocka_unit_test(test_missing_key_returns_null),
		cmocka_unit_test(test_empty_text_gives_empty_config),
		cmocka_unit_test(test_last_line_without_newline_is_parsed),
		cmocka_unit_test(test_last_assignment_wins),
		cmocka_unit_test(test_crlf_line_endings_are_stripped_from_values),
		cmocka_unit_test(test_cr_is_a_blank_not_part_of_an_unquoted_value),
		cmocka_unit_test(test_comments_and_blank_lines_are_kept_verbatim_on_format),
		cmocka_unit_test(test_format_terminates_the_last_line),
		cmocka_unit_test(test_set_replaces_value_in_place),
		cmocka_unit_test(test_set_appends_a_new_key_at_the_end),
		cmocka_unit_test(test_set_on_empty_config_creates_it),
		cmocka_unit_test(test_set_of_a_repeated_key_changes_the_effective_value),
		cmocka_unit_test(test_unset_removes_every_assignment_and_keeps_the_rest),
		cmocka_unit_test(test_unset_of_a_missing_key_changes_nothing),
		cmocka_unit_test(test_set_after_unset_appends_again),
		cmocka_unit_test(test_unterminated_quote_is_rejected_with_line_number),
		cmocka_unit_test(test_unterminated_single_quote_is_rejected_with_line_number),
		cmocka_unit_test(test_quote_does_not_continue_onto_the_next_line),
		cmocka_unit_test(test_garbage_lines_are_rejected),
		cmocka_unit_test(test_garbage_error_names_the_offending_line),
		cmocka_unit_test(test_trailing_garbage_after_quoted_value_is_rejected),
		cmocka_unit_test(test_failed_parse_leaves_an_empty_config),
		cmocka_unit_test(test_parse_error_without_err_still_returns_the_code),
		cmocka_unit_test(test_key_valid_accepts_shell_variable_names),
		cmocka_unit_test(test_key_valid_rejects_non_identifiers),
		cmocka_unit_test(test_key_valid_limits_length_to_64),
		cmocka_unit_test(test_overlong_key_in_file_is_rejected),
		cmocka_unit_test(test_parse_bool_reads_yes_and_no),
		cmocka_unit_test(test_parse_bool_rejects_anything_else),
		cmocka_unit_test_setup_teardown(test_load_reads_a_file_from_disk,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_load_of_missing_file_is_noconf,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_load_error_names_the_file_and_line,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_load_of_a_directory_is_a_config_error,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_save_then_load_gives_the_same_config,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_save_replaces_an_existing_file_atomically,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_save_into_a_missing_directory_is_confsave,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_save_of_empty_config_writes_an_empty_file,
						tmpdir_setup, tmpdir_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
