/* vztmpl: OS templates for vzctl create. Parses arguments, calls libvz,
 * prints. */
#define _GNU_SOURCE
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "vz.h"

static void usage(FILE *f)
{
	fputs("Usage: vztmpl [--vz-root DIR] COMMAND [ARGS]\n"
	      "  list [-H] [--json]           templates: defined, cached and unpacked\n"
	      "  build NAME [--force]         build NAME's cache from its definition\n"
	      "                               (--force: rebuild, a refresh)\n"
	      "  remove NAME                  remove NAME's cache and layer\n"
	      "  import FILE [--name NAME] [--force]\n"
	      "                               take an OpenVZ precreated cache\n"
	      "                               (NAME.tar.gz, .tar.xz, .tar.zst, .tar.lz4)\n"
	      "Exit codes: docs/exit-codes.md (91 not found or build failed, 92 cached\n"
	      "already, 96 in use by CTs, 21 bad name, 20 bad usage).\n",
	      f);
}

static void human(long long b, char *buf, size_t n)
{
	const char *u = "BKMGT";
	double v = (double)b;
	while (v >= 1024 && u[1]) {
		v /= 1024;
		u++;
	}
	snprintf(buf, n, *u == 'B' ? "%.0f%c" : "%.1f%c", v, *u);
}

static int list(vz_ctx *ctx, bool noheader, bool json)
{
	struct vz_tmpl_info *t = NULL;
	size_t n = 0;
	vz_error err;
	int r = vz_template_list(ctx, &t, &n, &err);
	if (r) {
		fprintf(stderr, "vztmpl: %s\n", err.msg);
		return r;
	}
	json_object *arr = json ? json_object_new_array() : NULL;
	if (!json && !noheader)
		printf("%-34s %8s %-16s %-22s %s\n", "NAME", "SIZE", "DATE", "STATE", "CTS");
	for (size_t i = 0; i < n; i++) {
		char size[16] = "-", date[32] = "-", state[32];
		if (t[i].cached) {
			struct tm tm;
			localtime_r(&t[i].mtime, &tm);
			strftime(date, sizeof(date), "%Y-%m-%d %H:%M", &tm);
			human((long long)t[i].size, size, sizeof(size));
		}
		snprintf(state, sizeof(state), "%s%s%s",
			 t[i].cached ? "cached" : "",
			 t[i].unpacked ? (t[i].cached ? ",unpacked" : "unpacked") : "",
			 !t[i].cached && !t[i].unpacked ? "defined" : "");
		if (json) {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "name", json_object_new_string(t[i].name));
			json_object_object_add(o, "defined", json_object_new_boolean(t[i].defined));
			json_object_object_add(o, "cached", json_object_new_boolean(t[i].cached));
			json_object_object_add(o, "unpacked", json_object_new_boolean(t[i].unpacked));
			json_object_object_add(o, "size", json_object_new_int64((int64_t)t[i].size));
			json_object_object_add(o, "mtime", json_object_new_int64((int64_t)t[i].mtime));
			json_object_object_add(o, "cts", json_object_new_int64(t[i].users));
			json_object_array_add(arr, o);
		} else {
			printf("%-34s %8s %-16s %-22s %u\n", t[i].name, size, date, state,
			       t[i].users);
		}
	}
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY));
		json_object_put(arr);
	}
	free(t);
	return 0;
}

int main(int argc, char **argv)
{
	const char *root = NULL, *name = NULL;
	bool force = false, noheader = false, json = false;
	enum { O_ROOT = 256, O_HELP, O_NAME, O_JSON };
	static const struct option lo[] = {
		{"vz-root", required_argument, NULL, O_ROOT}, {"help", no_argument, NULL, O_HELP},
		{"force", no_argument, NULL, 'f'},          {"name", required_argument, NULL, O_NAME},
		{"no-header", no_argument, NULL, 'H'},      {"json", no_argument, NULL, O_JSON},
		{NULL, 0, NULL, 0}};
	int c;
	opterr = 0;
	/* options anywhere (GNU permutation): before or after the command */
	while ((c = getopt_long(argc, argv, "fH", lo, NULL)) != -1) {
		switch (c) {
		case 'f': force = true; break;
		case 'H': noheader = true; break;
		case O_JSON: json = true; break;
		case O_NAME: name = optarg; break;
		case O_ROOT: root = optarg; break;
		case O_HELP: usage(stdout); return 0;
		default:
			fprintf(stderr, "vztmpl: %s: unknown option (see vztmpl --help)\n",
				argv[optind - 1]);
			return VZ_E_BADOPT;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return VZ_E_NOTENOUGH;
	}
	const char *cmd = argv[optind++];
	const char *arg = optind < argc ? argv[optind++] : NULL;
	if (optind < argc) {
		fprintf(stderr, "vztmpl %s: unexpected argument %s\n", cmd, argv[optind]);
		return VZ_E_BADOPT;
	}
	bool wants_arg = strcmp(cmd, "list") != 0;
	if (strcmp(cmd, "list") && strcmp(cmd, "build") && strcmp(cmd, "remove") &&
	    strcmp(cmd, "import")) {
		fprintf(stderr, "vztmpl: %s: unknown command (see vztmpl --help)\n", cmd);
		return VZ_E_BADOPT;
	}
	if (wants_arg && !arg) {
		fprintf(stderr, "vztmpl %s: a %s is needed\n", cmd,
			strcmp(cmd, "import") ? "template NAME" : "FILE");
		return VZ_E_NOTENOUGH;
	}
	if (!wants_arg && arg) {
		fprintf(stderr, "vztmpl list: unexpected argument %s\n", arg);
		return VZ_E_BADOPT;
	}
	if (geteuid() != 0 && strcmp(cmd, "list")) {
		fprintf(stderr, "vztmpl: %s needs root\n", cmd);
		return VZ_E_PERM;
	}
	vz_error err;
	vz_ctx *ctx = vz_ctx_new(root, &err);
	if (!ctx) {
		fprintf(stderr, "vztmpl: %s\n", err.msg);
		return err.code;
	}
	vz_ctx_set_progname(ctx, "vztmpl");
	int flags = force ? VZ_TMPL_FORCE : 0;
	int r;
	if (!strcmp(cmd, "list")) {
		r = list(ctx, noheader, json);
		vz_ctx_free(ctx);
		return r;
	}
	if (!strcmp(cmd, "build"))
		r = vz_template_build(ctx, arg, flags, &err);
	else if (!strcmp(cmd, "remove"))
		r = vz_template_remove(ctx, arg, &err);
	else
		r = vz_template_import(ctx, arg, name, flags, &err);
	if (r)
		fprintf(stderr, "vztmpl: %s\n", err.msg);
	else if (!strcmp(cmd, "remove"))
		printf("OS template %s removed\n", arg);
	vz_ctx_free(ctx);
	return r;
}
