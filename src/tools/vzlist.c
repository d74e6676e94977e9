/* vzlist: lists CTs as OpenVZ's vzlist did; -j prints JSON (json-c). */
#define _GNU_SOURCE
#include <getopt.h>
#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vz.h"

enum ftype { F_STR, F_NUM, F_BOOL };

struct field {
	const char *name;
	const char *header;
	enum ftype type;
	int width;
};

static const struct field fields[] = {
	{"ctid", "CTID", F_NUM, 10},       {"name", "NAME", F_STR, 12},
	{"smart_name", "NAME", F_STR, 12}, {"hostname", "HOSTNAME", F_STR, 20},
	{"status", "STATUS", F_STR, 8},    {"numproc", "NPROC", F_NUM, 7},
	{"ip", "IP_ADDR", F_STR, 15},      {"description", "DESCRIPTION", F_STR, 16},
	{"ostemplate", "OSTEMPLATE", F_STR, 16}, {"onboot", "ONBOOT", F_BOOL, 6},
	{"private", "PRIVATE", F_STR, 24}, {"root", "ROOT", F_STR, 24},
	{"layout", "LAYOUT", F_STR, 8},
	{"numproc.l", "NPROC.L", F_NUM, 8},  {"physpages", "PHYSPAGES", F_NUM, 10},
	{"physpages.l", "PHYSP.L", F_NUM, 10}, {"swappages", "SWAPPAGES", F_NUM, 10},
	{"swappages.l", "SWAPP.L", F_NUM, 10}, {"cpuunits", "CPUUNI", F_NUM, 7},
	{"cpulimit", "CPULIM", F_NUM, 7},     {"cpus", "CPUS", F_NUM, 5},
	{"cpumask", "CPUMASK", F_STR, 8},     {"iolimit", "IOLIMIT", F_NUM, 10},
	{"iopslimit", "IOPSLIM", F_NUM, 8},   {"ioprio", "IOPRIO", F_NUM, 6},
};

/* numeric fields of struct vz_ct_info; -1 prints "-" (unlimited or not
 * running) */
static const struct {
	const char *name;
	size_t off;
} numbers[] = {
	{"numproc", offsetof(struct vz_ct_info, numproc)},
	{"numproc.l", offsetof(struct vz_ct_info, numproc_l)},
	{"physpages", offsetof(struct vz_ct_info, physpages)},
	{"physpages.l", offsetof(struct vz_ct_info, physpages_l)},
	{"swappages", offsetof(struct vz_ct_info, swappages)},
	{"swappages.l", offsetof(struct vz_ct_info, swappages_l)},
	{"cpuunits", offsetof(struct vz_ct_info, cpuunits)},
	{"cpulimit", offsetof(struct vz_ct_info, cpulimit)},
	{"cpus", offsetof(struct vz_ct_info, cpus)},
	{"iolimit", offsetof(struct vz_ct_info, iolimit)},
	{"iopslimit", offsetof(struct vz_ct_info, iopslimit)},
	{"ioprio", offsetof(struct vz_ct_info, ioprio)},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const struct field *find_field(const char *n)
{
	if (!strcmp(n, "veid") || !strcmp(n, "vpsid"))
		n = "ctid";
	for (size_t i = 0; i < NFIELDS; i++)
		if (!strcmp(fields[i].name, n))
			return &fields[i];
	return NULL;
}

static const char *status_of(const struct vz_ct_info *c)
{
	return c->running     ? "running"
	       : c->mounted   ? "mounted"
	       : c->suspended ? "suspended"
			      : "stopped";
}

/* The value as text ("-" when there is none) and as a number. */
static const char *value(const struct vz_ct_info *c, const struct field *f, char *buf,
			 size_t n, long long *num, bool *has)
{
	*has = true;
	const char *k = f->name;
	if (!strcmp(k, "ctid")) {
		*num = c->ctid;
		snprintf(buf, n, "%u", c->ctid);
		return buf;
	}
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		if (strcmp(k, numbers[i].name))
			continue;
		const char *p = (const char *)c + numbers[i].off;
		*num = !strcmp(k, "numproc") ? *(const long *)(const void *)p
					     : *(const long long *)(const void *)p;
		if (*num < 0) {
			*has = false;
			return "-";
		}
		snprintf(buf, n, "%lld", *num);
		return buf;
	}
	if (!strcmp(k, "onboot")) {
		*num = c->onboot;
		return c->onboot ? "yes" : "no";
	}
	const char *s = !strcmp(k, "name")          ? c->name
			: !strcmp(k, "smart_name")  ? (*c->name ? c->name : NULL)
			: !strcmp(k, "hostname")    ? c->hostname
			: !strcmp(k, "status")      ? status_of(c)
			: !strcmp(k, "ip")          ? c->ip
			: !strcmp(k, "description") ? c->description
			: !strcmp(k, "ostemplate")  ? c->ostemplate
			: !strcmp(k, "private")     ? c->private_dir
			: !strcmp(k, "root")        ? c->root_dir
			: !strcmp(k, "layout")      ? c->layout
			: !strcmp(k, "cpumask")     ? c->cpumask
						    : "";
	if (!s) { /* smart_name falls back to the id */
		snprintf(buf, n, "%u", c->ctid);
		return buf;
	}
	if (!*s) {
		*has = false;
		return "-";
	}
	return s;
}

static const struct field *sort_field;
static bool sort_rev;

static int cmp(const void *a, const void *b)
{
	const struct vz_ct_info *x = a, *y = b;
	char b1[64], b2[64];
	long long n1 = 0, n2 = 0;
	bool h1, h2;
	const char *s1 = value(x, sort_field, b1, sizeof(b1), &n1, &h1);
	const char *s2 = value(y, sort_field, b2, sizeof(b2), &n2, &h2);
	int r = sort_field->type == F_STR ? strcmp(s1, s2) : (n1 > n2) - (n1 < n2);
	return sort_rev ? -r : r;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: vzlist [-a|-S] [-H] [-j] [-o FIELD,...] [-s [-]FIELD] [-1] [-L] "
		   "[--vz-root DIR] [CTID...]\n"
		   "  -a all CTs, -S stopped only (default: running), -H no header,\n"
		   "  -j JSON, -o fields, -s sort by field, -1 ids only, -L list fields\n");
}

int main(int argc, char **argv)
{
	bool all = false, stopped = false, noheader = false, json = false;
	const char *out = NULL, *sort = NULL, *root = NULL;
	enum { O_ROOT = 256, O_HELP };
	static const struct option lo[] = {
		{"all", no_argument, NULL, 'a'},     {"stopped", no_argument, NULL, 'S'},
		{"no-header", no_argument, NULL, 'H'}, {"json", no_argument, NULL, 'j'},
		{"output", required_argument, NULL, 'o'}, {"sort", required_argument, NULL, 's'},
		{"list", no_argument, NULL, 'L'},    {"vz-root", required_argument, NULL, O_ROOT},
		{"help", no_argument, NULL, O_HELP}, {NULL, 0, NULL, 0}};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "aSHjo:s:L1", lo, NULL)) != -1) {
		switch (c) {
		case 'a': all = true; break;
		case 'S': stopped = true; break;
		case 'H': noheader = true; break;
		case 'j': json = true; break;
		case 'o': out = optarg; break;
		case 's': sort = optarg; break;
		case '1': noheader = true; out = "ctid"; break;
		case 'L':
			for (size_t i = 0; i < NFIELDS; i++)
				printf("%-12s %s\n", fields[i].name, fields[i].header);
			return 0;
		case O_ROOT: root = optarg; break;
		case O_HELP: usage(stdout); return 0;
		default:
			fprintf(stderr, "vzlist: %s: unknown option (see vzlist --help)\n",
				argv[optind - 1]);
			return VZ_E_BADOPT;
		}
	}
	const struct field *cols[NFIELDS * 4];
	size_t ncols = 0;
	const char *defcols = json ? "ctid,name,hostname,status,numproc,ip,description,"
				     "ostemplate,onboot,private,root,layout"
				   : "ctid,numproc,status,ip,hostname";
	char *spec = strdup(out ? out : defcols);
	if (!spec)
		return VZ_E_SYSTEM;
	char *save = NULL;
	for (char *t = strtok_r(spec, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		const struct field *f = find_field(t);
		if (!f || ncols == sizeof(cols) / sizeof(cols[0])) {
			fprintf(stderr, "vzlist: unknown field %s (see vzlist -L)\n", t);
			free(spec);
			return VZ_E_BADVALUE;
		}
		cols[ncols++] = f;
	}
	free(spec);
	if (sort) {
		sort_rev = sort[0] == '-';
		sort_field = find_field(sort + sort_rev);
		if (!sort_field) {
			fprintf(stderr, "vzlist: unknown sort field %s (see vzlist -L)\n", sort);
			return VZ_E_BADVALUE;
		}
	}
	vz_error err = {0};
	vz_ctx *ctx = vz_ctx_new(root, &err);
	if (!ctx) {
		fprintf(stderr, "vzlist: %s\n", err.msg);
		return err.code;
	}
	vz_ctx_set_progname(ctx, "vzlist");
	/* CTIDs named on the command line restrict the list */
	unsigned *want = NULL;
	size_t nwant = 0;
	if (optind < argc) {
		want = calloc((size_t)(argc - optind), sizeof(*want));
		if (!want)
			return VZ_E_SYSTEM;
		for (int i = optind; i < argc; i++) {
			if (vz_ct_resolve(ctx, argv[i], &want[nwant], &err)) {
				fprintf(stderr, "vzlist: %s\n", err.msg);
				free(want);
				vz_ctx_free(ctx);
				return err.code;
			}
			nwant++;
		}
		all = true;
	}
	struct vz_ct_info *list;
	size_t n;
	if (vz_list(ctx, &list, &n, &err)) {
		fprintf(stderr, "vzlist: %s\n", err.msg);
		vz_ctx_free(ctx);
		free(want);
		return err.code;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		bool keep = stopped ? !list[i].running : (all || list[i].running);
		if (keep && nwant) {
			keep = false;
			for (size_t j = 0; j < nwant; j++)
				if (want[j] == list[i].ctid)
					keep = true;
		}
		if (keep)
			list[k++] = list[i];
	}
	n = k;
	if (sort_field)
		qsort(list, n, sizeof(*list), cmp);
	char buf[1100];
	if (json) {
		json_object *arr = json_object_new_array();
		for (size_t i = 0; i < n; i++) {
			json_object *o = json_object_new_object();
			for (size_t j = 0; j < ncols; j++) {
				long long num;
				bool has;
				const char *s = value(&list[i], cols[j], buf, sizeof(buf), &num, &has);
				json_object *v = NULL;
				if (has && cols[j]->type == F_NUM)
					v = json_object_new_int64(num);
				else if (cols[j]->type == F_BOOL)
					v = json_object_new_boolean(num != 0);
				else if (has)
					v = json_object_new_string(s);
				json_object_object_add(o, cols[j]->name, v);
			}
			json_object_array_add(arr, o);
		}
		printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY |
								       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(arr);
	} else {
		if (!noheader) {
			for (size_t j = 0; j < ncols; j++)
				printf(j + 1 < ncols ? "%*s " : "%*s\n",
				       j + 1 == ncols ? 0
				       : cols[j]->type == F_STR ? -cols[j]->width : cols[j]->width,
				       cols[j]->header);
		}
		for (size_t i = 0; i < n; i++) {
			for (size_t j = 0; j < ncols; j++) {
				long long num;
				bool has;
				const char *s = value(&list[i], cols[j], buf, sizeof(buf), &num, &has);
				int w = cols[j]->type == F_STR ? -cols[j]->width : cols[j]->width;
				/* widths are minimums: a cut path or name would mislead */
				if (j + 1 < ncols)
					printf("%*s ", w, s);
				else
					printf("%*s\n", cols[j]->type == F_STR ? 0 : w, s);
			}
		}
	}
	free(list);
	free(want);
	vz_ctx_free(ctx);
	return 0;
}
