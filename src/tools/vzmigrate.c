/* vzmigrate: parses arguments, calls libvz, prints. Nothing else. */
#define _GNU_SOURCE
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "vz.h"

static const char *prog = "vzmigrate";

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vzmigrate [options] DEST CTID\n"
		"Moves CT CTID to DEST, [user@]host reached with ssh (vzmigrate runs there too),\n"
		"or netns:NAME, a network namespace of this machine with its own --dst-root.\n"
		"Options:\n"
		"  --online, --live     keep the CT running: it is frozen only briefly\n"
		"  --strategy S         online memory strategy: auto (default: pre-copy where the\n"
		"                       kernel tracks dirty memory, else post-copy), precopy,\n"
		"                       postcopy (memory follows on demand), stopcopy\n"
		"  -r, --remove-area yes|no  remove the CT here afterwards (default yes; no: its\n"
		"                       config is kept as CTID.conf.migrated)\n"
		"  --keep-dst           on failure, keep what was copied to the destination\n"
		"  --ssh=OPTS           more ssh options (BatchMode=yes is always on)\n"
		"  --dst-root DIR       the destination's VZ_ROOT\n"
		"  --dst-vzmigrate PATH the vzmigrate to run there (default: vzmigrate on its PATH)\n"
		"  --vz-root DIR        this host's VZ_ROOT (or $VZ_ROOT)\n"
		"  -q, --quiet          no progress, no report\n"
		"Exit codes: 0 done, 1 usage, 2 CT not running (--online), 4 cannot reach the\n"
		"destination, 6 copy failed, 7 cannot start/restore there, 8 cannot stop or\n"
		"checkpoint here, 9 CT exists there, 10 no such CT here, 20 CT locked,\n"
		"130 interrupted before the CT ran there (it runs on here).\n");
}

static bool tty;
static struct timespec t0;

/* a rewritten line on a terminal, plain lines (with the time so far) else */
static void show(const struct vz_mig_stats *s, void *data)
{
	(void)data;
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	double el = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
	if (tty)
		fprintf(stderr, "\r\033[K%s: %.1f MB sent, %.1f s", s->phase, (double)s->bytes / 1e6, el);
	else
		fprintf(stderr, "%s (%.3f s, %.1f MB)\n", s->phase, el, (double)s->bytes / 1e6);
}

/* rsync's transport to a destination in a network namespace: "SELF
 * --rsh-netns NS HOST CMD..." runs CMD there (HOST is rsync's, unused) */
static int rsh_netns(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "%s: --rsh-netns NS HOST CMD...\n", prog);
		return VZ_MIG_E_USAGE;
	}
	(void)vz_mig_rsh_netns(argv[1], argv + 3);
	fprintf(stderr, "%s: cannot run %s in network namespace %s: %m\n", prog, argv[3], argv[1]);
	return VZ_MIG_E_CONNECT;
}

int main(int argc, char **argv)
{
	enum { O_ONLINE = 256, O_KEEP, O_SSH, O_DSTROOT, O_DSTCMD, O_VZROOT, O_STRATEGY, O_RECEIVE,
	       O_RELAY, O_HELP };
	static const struct option lo[] = {
		{"online", no_argument, NULL, O_ONLINE}, {"live", no_argument, NULL, O_ONLINE},
		{"keep-dst", no_argument, NULL, O_KEEP}, {"ssh", required_argument, NULL, O_SSH},
		{"dst-root", required_argument, NULL, O_DSTROOT},
		{"dst-vzmigrate", required_argument, NULL, O_DSTCMD},
		{"vz-root", required_argument, NULL, O_VZROOT},
		{"strategy", required_argument, NULL, O_STRATEGY},
		{"remove-area", required_argument, NULL, 'r'}, {"quiet", no_argument, NULL, 'q'},
		{"receive", required_argument, NULL, O_RECEIVE},
		{"relay-listen", no_argument, NULL, O_RELAY},

		{"help", no_argument, NULL, O_HELP}, {NULL, 0, NULL, 0}};
	if (argc > 1 && !strcmp(argv[1], "--rsh-netns"))
		return rsh_netns(argc - 1, argv + 1);
	if (vz_migrate_is_cpt_hook())
		return vz_migrate_cpt_hook();
	struct vz_mig_opts o = {.remove_src = true, .strategy = VZ_MIG_AUTO};
	const char *root = NULL, *receive = NULL;
	bool quiet = false, relay = false;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+r:qh", lo, NULL)) != -1) {
		switch (c) {
		case O_ONLINE: o.online = true; break;
		case O_KEEP: o.keep_dst = true; break;
		case O_SSH: o.ssh_opts = optarg; break;
		case O_DSTROOT: o.dst_root = optarg; break;
		case O_DSTCMD: o.remote_cmd = optarg; break;
		case O_VZROOT: root = optarg; break;
		case O_RECEIVE: receive = optarg; break;
		case O_RELAY: relay = true; break;

		case 'q': quiet = true; break;
		case 'r':
			if (strcmp(optarg, "yes") && strcmp(optarg, "no")) {
				fprintf(stderr, "%s: -r %s: expected yes or no\n", prog, optarg);
				return VZ_MIG_E_USAGE;
			}
			o.remove_src = !strcmp(optarg, "yes");
			break;
		case O_STRATEGY:
			if (!strcmp(optarg, "auto"))
				o.strategy = VZ_MIG_AUTO;
			else if (!strcmp(optarg, "precopy"))
				o.strategy = VZ_MIG_PRECOPY;
			else if (!strcmp(optarg, "postcopy"))
				o.strategy = VZ_MIG_POSTCOPY;
			else if (!strcmp(optarg, "stopcopy"))
				o.strategy = VZ_MIG_STOPCOPY;
			else {
				fprintf(stderr, "%s: --strategy %s: expected auto, precopy, postcopy "
						"or stopcopy\n", prog, optarg);
				return VZ_MIG_E_USAGE;
			}
			break;
		case 'h':
		case O_HELP: usage(stdout); return 0;
		default:
			fprintf(stderr, "%s: %s: unknown option (see %s --help)\n", prog,
				argv[optind - 1], prog);
			return VZ_MIG_E_USAGE;
		}
	}
	vz_error err = {0};
	if (relay) {
		int r = vz_migrate_relay_listen(&err);
		if (r)
			fprintf(stderr, "%s: %s\n", prog, err.msg);
		return r;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "%s: must be run as root\n", prog);
		return VZ_MIG_E_USAGE;
	}
	if (!receive && argc - optind != 2) {
		fprintf(stderr, "%s: expected DEST CTID (see %s --help)\n", prog, prog);
		return VZ_MIG_E_USAGE;
	}
	vz_ctx *ctx = vz_ctx_new(root, &err);
	if (!ctx) {
		fprintf(stderr, "%s: %s\n", prog, err.msg);
		return VZ_MIG_E_USAGE;
	}
	vz_ctx_set_progname(ctx, "vzmigrate");
	unsigned ctid;
	int r;
	if (receive) {
		vz_ctx_set_verbose(ctx, -1); /* stdout is the session */
		r = vz_ctid_parse(receive, &ctid, &err);
		if (!r)
			r = vz_migrate_receive(ctx, ctid, &err);
		if (r)
			fprintf(stderr, "%s (destination): %s\n", prog, err.msg);
		vz_ctx_free(ctx);
		return r;
	}
	const char *dest = argv[optind];
	if (!strncmp(dest, "netns:", 6)) {
		o.netns = dest + 6;
		if (!*o.netns) {
			fprintf(stderr, "%s: netns: needs a namespace name\n", prog);
			vz_ctx_free(ctx);
			return VZ_MIG_E_USAGE;
		}
	} else {
		o.dest = dest;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	o.self = self;
	if (vz_ct_resolve(ctx, argv[optind + 1], &ctid, &err)) {
		fprintf(stderr, "%s: %s\n", prog, err.msg);
		vz_ctx_free(ctx);
		return err.code == VZ_E_NOCONF ? VZ_MIG_E_NOTEXIST : VZ_MIG_E_USAGE;
	}
	tty = isatty(2);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!quiet) {
		o.progress = show;
		vz_ctx_set_verbose(ctx, -1);
	}
	struct vz_mig_stats s;
	r = vz_migrate(ctx, ctid, &o, &s, &err);
	if (tty && !quiet)
		fprintf(stderr, "\r\033[K");
	/* quiet: the library's log printed it already */
	if (s.note[0] && !quiet)
		fprintf(stderr, "Warning: %s\n", s.note);
	if (r) {
		fprintf(stderr, "%s: %s\n", prog, err.msg);
	} else if (!quiet) {
		char how[96];
		if (s.rounds)
			snprintf(how, sizeof(how), "%s, %u round%s, %llu pages dirty at the end",
				 s.strategy, s.rounds, s.rounds == 1 ? "" : "s", s.dirty_pages);
		else
			snprintf(how, sizeof(how), "%s", s.strategy);
		printf("CT %u migrated to %s (%s): total %.3f s, frozen %.3f s, %.1f MB sent\n",
		       ctid, dest, how, s.total_s, s.frozen_s, (double)s.bytes / 1e6);
	}
	vz_ctx_free(ctx);
	return r;
}
