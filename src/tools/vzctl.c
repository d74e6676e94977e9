/* vzctl: parses arguments, calls libvz, prints. Nothing else. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "vz.h"

static const char *prog = "vzctl";

static int fail(const vz_error *e)
{
	fprintf(stderr, "%s: %s\n", prog, e->msg);
	return e->code ? e->code : VZ_E_SYSTEM;
}

static int usage_error(const char *fmt, const char *arg, int code)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see %s --help)\n", prog);
	return code;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vzctl [--quiet|--verbose] [--skiplock] [--vz-root DIR] COMMAND CTID [options]\n"
		"Commands:\n"
		"  create CTID [--ostemplate T] [--name N] [--hostname H] [--config SAMPLE]\n"
		"              [--description D] [--layout overlay|image] [resource options]\n"
		"  convert CTID --layout overlay|image   (stopped CT)\n"
		"  compact CTID        give an image's freed blocks back to the host\n"
		"  snapshot CTID [--name N]          snapshot-list CTID [-H|--no-header]\n"
		"  snapshot-switch CTID --id UUID|NAME   snapshot-delete CTID --id UUID|NAME\n"
		"  start CTID [--wait] [--force]     stop CTID [--fast]\n"
		"  restart CTID [--wait] [--fast]    status CTID\n"
		"  stat CTID    the CT's beancounters: held, maxheld, barrier, limit, failcnt\n"
		"  mount CTID                        umount CTID\n"
		"  destroy|delete CTID\n"
		"  set CTID [--hostname H] [--name N] [--onboot yes|no] [--description D]\n"
		"           [--ipadd ADDR[/PREFIX]]... [--ipdel ADDR|all]... [resource options]\n"
		"           [--netif_add IFNAME[,MAC,HOST_IFNAME,HOST_MAC,BRIDGE]] [--netif_del IFNAME|all]\n"
		"           [--nameserver ADDR|inherit]... [--searchdomain DOMAIN]...\n"
		"           [--ifname IF [--bridge BR] [--mac M] [--host_ifname H] [--host_mac M]\n"
		"            [--ipadd ADDR/PREFIX]... [--ipdel ADDR|all] [--gw ADDR]\n"
		"            [--dhcp yes|no]]  one veth (--dhcp: the CT's DHCP client)\n"
		"           [--userpasswd USER:PASSWORD]...  (creates USER if missing; never saved)\n"
		"           [--save]   applied live; --save keeps them\n"
		"  exec CTID CMD...    run CMD through the CT's shell (non-zero status: exit 8)\n"
		"  exec2 CTID CMD...   same, exit with the command's own status\n"
		"  exec3 CTID CMD [ARG...]  run CMD without a shell, its own status\n"
		"  enter CTID [--exec CMD...]        interactive shell inside\n"
		"  console CTID        attach to the CT's console (Esc . detaches)\n"
		"  chkpnt|suspend CTID [--dumpfile DIR] [--suspend|--dump|--kill|--resume]\n"
		"              save the running CT with CRIU and stop it (default DUMPDIR/Dump.CTID);\n"
		"              --suspend freezes only, --dump saves and leaves it, --kill, --resume\n"
		"  restore|resume CTID [--dumpfile DIR] [--resume]\n"
		"              run the CT on from a dump (start does too while the default one exists)\n"
		"CTID is a number (1..2147483644) or a name set with --name.\n"
		"VZ_ROOT (or --vz-root) puts every path under another root.\n"
		"Exit codes: see docs/exit-codes.md (vzctl's numbers).\n");
	const char *const *res;
	size_t n = vz_res_options(&res);
	fprintf(f, "Resource options of set and create:\n");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  --%-10s %s\n", res[i], vz_res_help(res[i]));
}

#define MAX_PARAMS 32

struct cmd_opts {
	bool wait, force, fast, save;
	struct vz_create_opts create;
	struct vz_set_opts set;
	struct vz_param params[MAX_PARAMS];
	const char *ipadd[MAX_PARAMS], *ipdel[MAX_PARAMS];
	const char *netif_add[MAX_PARAMS], *netif_del[MAX_PARAMS];
	const char *nameserver[MAX_PARAMS], *searchdomain[MAX_PARAMS];
	const char *id;
	bool noheader;
	const char *userpasswd[MAX_PARAMS];
	size_t nuserpasswd;
	bool other; /* any option besides --userpasswd */
	const char *dumpfile;
	int cpt_action;      /* enum vz_cpt_action; -1 none given */
};

enum { O_OSTEMPLATE = 256, O_NAME, O_HOSTNAME, O_CONFIG, O_DESC, O_WAIT, O_FORCE,
       O_FAST, O_SAVE, O_ONBOOT, O_HELP, O_IPADD, O_IPDEL, O_NETIF_ADD,
       O_NETIF_DEL, O_NAMESERVER, O_SEARCHDOMAIN, O_IFNAME, O_BRIDGE, O_MAC, O_HOST_IFNAME,
       O_HOST_MAC, O_GW, O_USERPASSWD, O_LAYOUT, O_ID, O_NOHDR, O_DHCP, O_DUMPFILE,
       O_CPT_SUSPEND, O_CPT_DUMP, O_CPT_KILL, O_CPT_RESUME, O_RES = 512 };

/* Which options each command takes; everything else is refused. */
static const struct {
	const char *cmd;
	const int allowed[24];
} cmd_options[] = {
	{"create", {O_OSTEMPLATE, O_NAME, O_HOSTNAME, O_CONFIG, O_DESC, O_LAYOUT}},
	{"convert", {O_LAYOUT}}, {"compact", {0}},
	{"snapshot", {O_NAME}}, {"snapshot-list", {O_NOHDR}}, {"snapshot-switch", {O_ID}},
	{"snapshot-delete", {O_ID}},
	{"start", {O_WAIT, O_FORCE}},
	{"stop", {O_FAST}},
	{"restart", {O_WAIT, O_FAST, O_FORCE}},
	{"set", {O_HOSTNAME, O_NAME, O_ONBOOT, O_DESC, O_SAVE, O_IPADD, O_IPDEL, O_NETIF_ADD,
		 O_NETIF_DEL, O_NAMESERVER, O_SEARCHDOMAIN, O_IFNAME, O_BRIDGE, O_MAC,
		 O_HOST_IFNAME, O_HOST_MAC, O_GW, O_USERPASSWD, O_DHCP}},
	{"chkpnt", {O_DUMPFILE, O_CPT_SUSPEND, O_CPT_DUMP, O_CPT_KILL, O_CPT_RESUME}},
	{"suspend", {O_DUMPFILE, O_CPT_SUSPEND, O_CPT_DUMP, O_CPT_KILL, O_CPT_RESUME}},
	{"restore", {O_DUMPFILE, O_CPT_RESUME}}, {"resume", {O_DUMPFILE, O_CPT_RESUME}},
	{"status", {0}}, {"stat", {0}}, {"mount", {0}}, {"umount", {0}}, {"destroy", {0}}, {"delete", {0}},
};

static const struct option base_opts[] = {
	{"ostemplate", required_argument, NULL, O_OSTEMPLATE},
	{"name", required_argument, NULL, O_NAME},
	{"hostname", required_argument, NULL, O_HOSTNAME},
	{"config", required_argument, NULL, O_CONFIG},
	{"description", required_argument, NULL, O_DESC},
	{"wait", no_argument, NULL, O_WAIT},
	{"force", no_argument, NULL, O_FORCE},
	{"fast", no_argument, NULL, O_FAST},
	{"save", no_argument, NULL, O_SAVE},
	{"onboot", required_argument, NULL, O_ONBOOT},
	{"ipadd", required_argument, NULL, O_IPADD},
	{"ipdel", required_argument, NULL, O_IPDEL},
	{"netif_add", required_argument, NULL, O_NETIF_ADD},
	{"netif_del", required_argument, NULL, O_NETIF_DEL},
	{"nameserver", required_argument, NULL, O_NAMESERVER},
	{"searchdomain", required_argument, NULL, O_SEARCHDOMAIN},
	{"ifname", required_argument, NULL, O_IFNAME},
	{"bridge", required_argument, NULL, O_BRIDGE},
	{"mac", required_argument, NULL, O_MAC},
	{"host_ifname", required_argument, NULL, O_HOST_IFNAME},
	{"host_mac", required_argument, NULL, O_HOST_MAC},
	{"gw", required_argument, NULL, O_GW},
	{"dhcp", required_argument, NULL, O_DHCP},
	{"userpasswd", required_argument, NULL, O_USERPASSWD},
	{"layout", required_argument, NULL, O_LAYOUT},
	{"id", required_argument, NULL, O_ID},
	{"no-header", no_argument, NULL, O_NOHDR},
	{"dumpfile", required_argument, NULL, O_DUMPFILE},
	{"suspend", no_argument, NULL, O_CPT_SUSPEND},
	{"dump", no_argument, NULL, O_CPT_DUMP},
	{"kill", no_argument, NULL, O_CPT_KILL},
	{"resume", no_argument, NULL, O_CPT_RESUME},
	{"help", no_argument, NULL, O_HELP},
	{NULL, 0, NULL, 0},
};

/* the fixed options, then one per resource option of libvz */
static struct option *long_opts(void)
{
	const char *const *res;
	size_t nb = sizeof(base_opts) / sizeof(base_opts[0]) - 1, nr = vz_res_options(&res);
	struct option *o = calloc(nb + nr + 1, sizeof(*o));
	if (!o)
		return NULL;
	memcpy(o, base_opts, nb * sizeof(*o));
	for (size_t i = 0; i < nr; i++)
		o[nb + i] = (struct option){res[i], required_argument, NULL, O_RES + (int)i};
	return o;
}

static bool allowed(const char *cmd, int opt)
{
	if (opt >= O_RES)
		return !strcmp(cmd, "set") || !strcmp(cmd, "create");
	for (size_t i = 0; i < sizeof(cmd_options) / sizeof(cmd_options[0]); i++) {
		if (strcmp(cmd_options[i].cmd, cmd))
			continue;
		for (size_t j = 0; j < sizeof(cmd_options[i].allowed) / sizeof(int) && cmd_options[i].allowed[j]; j++)
			if (cmd_options[i].allowed[j] == opt)
				return true;
	}
	return false;
}

static bool known_cmd(const char *cmd)
{
	for (size_t i = 0; i < sizeof(cmd_options) / sizeof(cmd_options[0]); i++)
		if (!strcmp(cmd_options[i].cmd, cmd))
			return true;
	return false;
}

static int parse_opts(const char *cmd, int argc, char **argv, struct cmd_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->set.onboot = -1;
	o->cpt_action = -1;
	optind = 1;
	opterr = 0;
	int c;
	struct option *lo = long_opts();
	if (!lo)
		return VZ_E_SYSTEM;
	o->set.params = o->create.params = o->params;
	o->set.ipadd = o->ipadd;
	o->set.ipdel = o->ipdel;
	o->set.netif_add = o->netif_add;
	o->set.netif_del = o->netif_del;
	o->set.nameserver = o->nameserver;
	o->set.searchdomain = o->searchdomain;
	while ((c = getopt_long(argc, argv, "+H", lo, NULL)) != -1) {
		if (c == 'H')
			c = O_NOHDR;
		if (c == O_HELP) {
			usage(stdout);
			exit(0);
		}
		if (c == '?' || c == ':' || !allowed(cmd, c)) {
			free(lo);
			const char *bad = argv[optind - 1];
			return usage_error("%s: unknown or misplaced option", bad, VZ_E_BADOPT);
		}
		if (c == O_USERPASSWD) {
			if (o->nuserpasswd == MAX_PARAMS) {
				free(lo);
				return usage_error("%s: too many --userpasswd", cmd, VZ_E_BADOPT);
			}
			o->userpasswd[o->nuserpasswd++] = optarg;
			continue;
		}
		o->other = true;
		if (c >= O_RES) {
			if (o->set.nparams == MAX_PARAMS) {
				free(lo);
				return usage_error("%s: too many options", cmd, VZ_E_BADOPT);
			}
			const char *const *res;
			(void)vz_res_options(&res);
			o->params[o->set.nparams++] = (struct vz_param){res[c - O_RES], optarg};
			o->create.nparams = o->set.nparams;
			continue;
		}
		if ((c == O_IPADD && o->set.nipadd == MAX_PARAMS) ||
		    (c == O_IPDEL && o->set.nipdel == MAX_PARAMS) ||
		    (c == O_NETIF_ADD && o->set.nnetif_add == MAX_PARAMS) ||
		    (c == O_NETIF_DEL && o->set.nnetif_del == MAX_PARAMS) ||
		    (c == O_NAMESERVER && o->set.nnameserver == MAX_PARAMS) ||
		    (c == O_SEARCHDOMAIN && o->set.nsearchdomain == MAX_PARAMS)) {
			free(lo);
			return usage_error("%s: too many addresses", cmd, VZ_E_BADOPT);
		}
		switch (c) {
		case O_IPADD: o->ipadd[o->set.nipadd++] = optarg; break;
		case O_IPDEL: o->ipdel[o->set.nipdel++] = optarg; break;
		case O_NETIF_ADD: o->netif_add[o->set.nnetif_add++] = optarg; break;
		case O_NETIF_DEL: o->netif_del[o->set.nnetif_del++] = optarg; break;
		case O_NAMESERVER: o->nameserver[o->set.nnameserver++] = optarg; break;
		case O_SEARCHDOMAIN: o->searchdomain[o->set.nsearchdomain++] = optarg; break;
		case O_IFNAME: o->set.ifname = optarg; break;
		case O_BRIDGE: o->set.bridge = optarg; break;
		case O_MAC: o->set.mac = optarg; break;
		case O_HOST_IFNAME: o->set.host_ifname = optarg; break;
		case O_HOST_MAC: o->set.host_mac = optarg; break;
		case O_GW: o->set.gw = optarg; break;
		case O_DHCP: o->set.dhcp = optarg; break;
		case O_OSTEMPLATE: o->create.ostemplate = optarg; break;
		case O_NAME: o->create.name = o->set.name = optarg; break;
		case O_HOSTNAME: o->create.hostname = o->set.hostname = optarg; break;
		case O_CONFIG: o->create.config = optarg; break;
		case O_LAYOUT: o->create.layout = optarg; break;
		case O_ID: o->id = optarg; break;
		case O_DUMPFILE: o->dumpfile = optarg; break;
		case O_CPT_SUSPEND:
		case O_CPT_DUMP:
		case O_CPT_KILL:
		case O_CPT_RESUME:
			if (o->cpt_action != -1) {
				free(lo);
				return usage_error("%s: only one of --suspend, --dump, --kill, --resume",
						   cmd, VZ_E_BADOPT);
			}
			o->cpt_action = c == O_CPT_SUSPEND ? VZ_CPT_SUSPEND
					: c == O_CPT_DUMP  ? VZ_CPT_DUMP
					: c == O_CPT_KILL  ? VZ_CPT_KILL
							   : VZ_CPT_RESUME;
			break;
		case O_NOHDR: o->noheader = true; break;
		case O_DESC: o->create.description = o->set.description = optarg; break;
		case O_WAIT: o->wait = true; break;
		case O_FORCE: o->force = true; break;
		case O_FAST: o->fast = true; break;
		case O_SAVE: o->set.save = true; break;
		case O_ONBOOT:
			if (!strcmp(optarg, "yes"))
				o->set.onboot = 1;
			else if (!strcmp(optarg, "no"))
				o->set.onboot = 0;
			else {
				free(lo);
				return usage_error("--onboot %s: expected yes or no", optarg,
						   VZ_E_BADVALUE);
			}
			break;
		}
	}
	free(lo);
	if (optind < argc)
		return usage_error("%s: unexpected argument", argv[optind], VZ_E_BADOPT);
	return 0;
}

static int run(vz_ctx *ctx, const char *cmd, unsigned ctid, int argc, char **argv)
{
	vz_error err = {0};
	int r = 0;
	if (!strcmp(cmd, "exec") || !strcmp(cmd, "exec2") || !strcmp(cmd, "exec3")) {
		if (argc < 1)
			return usage_error("%s: no command given", cmd, VZ_E_NOTENOUGH);
		enum vz_exec_mode m = !strcmp(cmd, "exec")    ? VZ_EXEC_SHELL
				      : !strcmp(cmd, "exec2") ? VZ_EXEC_SHELL_RC
							      : VZ_EXEC_DIRECT;
		int status = 0;
		if (vz_ct_exec(ctx, ctid, m, argv, &status, &err))
			return fail(&err);
		if (m == VZ_EXEC_SHELL && status != 0) {
			fprintf(stderr, "%s: CT %u: command exited with status %d\n", prog, ctid,
				status);
			return VZ_E_EXEC;
		}
		return status;
	}
	if (!strcmp(cmd, "enter")) {
		char **exec_argv = NULL;
		if (argc >= 1 && !strcmp(argv[0], "--help")) {
			usage(stdout);
			return 0;
		}
		if (argc >= 1 && !strcmp(argv[0], "--exec")) {
			if (argc < 2)
				return usage_error("%s: --exec needs a command", cmd, VZ_E_NOTENOUGH);
			exec_argv = argv + 1;
		} else if (argc >= 1) {
			return usage_error("%s: unknown option", argv[0], VZ_E_BADOPT);
		}
		int status = 0;
		if (vz_ct_enter(ctx, ctid, exec_argv, &status, &err))
			return fail(&err);
		return status;
	}
	if (!strcmp(cmd, "console")) {
		if (argc >= 1)
			return usage_error("%s: unknown option", argv[0], VZ_E_BADOPT);
		if (vz_ct_console(ctx, ctid, &err))
			return fail(&err);
		return 0;
	}
	struct cmd_opts o;
	/* getopt wants argv[0] to be a program name */
	char **av = calloc((size_t)argc + 2, sizeof(char *));
	if (!av)
		return VZ_E_SYSTEM;
	av[0] = (char *)cmd;
	for (int i = 0; i < argc; i++)
		av[i + 1] = argv[i];
	r = parse_opts(cmd, argc + 1, av, &o);
	free(av);
	if (r)
		return r;
	if (!strcmp(cmd, "create")) {
		r = vz_ct_create(ctx, ctid, &o.create, &err);
	} else if (!strcmp(cmd, "start")) {
		r = vz_ct_start(ctx, ctid, (o.wait ? VZ_START_WAIT : 0) |
				(o.force ? VZ_START_FORCE : 0), &err);
	} else if (!strcmp(cmd, "stop")) {
		r = vz_ct_stop(ctx, ctid, o.fast ? VZ_STOP_FAST : 0, &err);
	} else if (!strcmp(cmd, "restart")) {
		r = vz_ct_restart(ctx, ctid, (o.wait ? VZ_START_WAIT : 0) |
				  (o.force ? VZ_START_FORCE : 0),
				  o.fast ? VZ_STOP_FAST : 0, &err);
	} else if (!strcmp(cmd, "mount")) {
		r = vz_ct_mount(ctx, ctid, &err);
	} else if (!strcmp(cmd, "umount")) {
		r = vz_ct_umount(ctx, ctid, &err);
	} else if (!strcmp(cmd, "destroy") || !strcmp(cmd, "delete")) {
		r = vz_ct_destroy(ctx, ctid, &err);
	} else if (!strcmp(cmd, "convert")) {
		if (!o.create.layout)
			return usage_error("%s: --layout overlay|image is needed", cmd,
					   VZ_E_NOTENOUGH);
		r = vz_ct_convert(ctx, ctid, o.create.layout, &err);
	} else if (!strcmp(cmd, "snapshot")) {
		char uuid[64];
		if ((r = vz_ct_snapshot(ctx, ctid, o.create.name, uuid, sizeof(uuid), &err)) == 0)
			printf("Snapshot %s of CT %u taken\n", uuid, ctid);
	} else if (!strcmp(cmd, "snapshot-list")) {
		struct vz_snapshot *l = NULL;
		size_t n = 0;
		if ((r = vz_ct_snapshot_list(ctx, ctid, &l, &n, &err)) == 0) {
			if (!o.noheader)
				printf("%-36s %-19s %-7s %s\n", "UUID", "DATE", "STATE", "NAME");
			for (size_t i = 0; i < n; i++) {
				char date[32];
				struct tm tm;
				localtime_r(&l[i].date, &tm);
				strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
				printf("%-36s %-19s %-7s %s\n", l[i].uuid, date,
				       l[i].running ? "running" : "stopped", l[i].name);
			}
			free(l);
		}
	} else if (!strcmp(cmd, "snapshot-switch")) {
		r = vz_ct_snapshot_switch(ctx, ctid, o.id, &err);
	} else if (!strcmp(cmd, "snapshot-delete")) {
		if ((r = vz_ct_snapshot_delete(ctx, ctid, o.id, &err)) == 0)
			printf("Snapshot %s of CT %u deleted\n", o.id, ctid);
	} else if (!strcmp(cmd, "compact")) {
		unsigned long long trimmed = 0;
		if ((r = vz_ct_compact(ctx, ctid, &trimmed, &err)) == 0)
			printf("CT %u: %llu bytes given back to the host\n", ctid, trimmed);
	} else if (!strcmp(cmd, "set")) {
		/* passwords are not config: set them first, alone when alone */
		r = 0;
		for (size_t i = 0; i < o.nuserpasswd && !r; i++)
			r = vz_ct_userpasswd(ctx, ctid, o.userpasswd[i], &err);
		if (!r && (!o.nuserpasswd || o.other))
			r = vz_ct_set(ctx, ctid, &o.set, &err);
	} else if (!strcmp(cmd, "stat")) {
		struct vz_bc bc[8];
		size_t n;
		if ((r = vz_ct_stat(ctx, ctid, bc, 8, &n, &err)) == 0) {
			printf("%-14s %12s %12s %12s %12s %10s\n", "resource", "held", "maxheld",
			       "barrier", "limit", "failcnt");
			for (size_t i = 0; i < n; i++) {
				long long v[5] = {bc[i].held, bc[i].maxheld, bc[i].barrier,
						  bc[i].limit, bc[i].failcnt};
				char f[5][24];
				for (int k = 0; k < 5; k++)
					snprintf(f[k], sizeof(f[k]), v[k] < 0 ? "-" : "%lld", v[k]);
				printf("%-14s %12s %12s %12s %12s %10s\n", bc[i].name, f[0], f[1],
				       f[2], f[3], f[4]);
			}
		}
	} else if (!strcmp(cmd, "chkpnt") || !strcmp(cmd, "suspend")) {
		struct vz_cpt_opts c = {o.dumpfile, o.cpt_action < 0 ? VZ_CPT_FULL
							 : (enum vz_cpt_action)o.cpt_action};
		r = vz_ct_chkpnt(ctx, ctid, &c, &err);
	} else if (!strcmp(cmd, "restore") || !strcmp(cmd, "resume")) {
		struct vz_cpt_opts c = {o.dumpfile, o.cpt_action < 0 ? VZ_CPT_FULL
							 : (enum vz_cpt_action)o.cpt_action};
		r = vz_ct_restore(ctx, ctid, &c, &err);
	} else if (!strcmp(cmd, "status")) {
		struct vz_status st;
		if ((r = vz_ct_status(ctx, ctid, &st, &err)) == 0)
			printf("CTID %u %s %s %s%s\n", ctid, st.exists ? "exist" : "deleted",
			       st.mounted ? "mounted" : "unmounted",
			       st.running ? "running" : "down", st.suspended ? " suspended" : "");
	}
	return r ? fail(&err) : 0;
}

int main(int argc, char **argv)
{
	const char *root = NULL;
	int verbose = 0;
	bool skiplock = false;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--version")) {
			printf("vzctl %s\n", vz_version());
			return 0;
		} else if (!strcmp(a, "--quiet")) {
			verbose = -1;
		} else if (!strcmp(a, "--verbose")) {
			verbose++;
		} else if (!strcmp(a, "--skiplock")) {
			skiplock = true;
		} else if (!strcmp(a, "--vz-root") && i + 1 < argc) {
			root = argv[++i];
		} else if (!strncmp(a, "--vz-root=", 10)) {
			root = a + 10;
		} else {
			return usage_error("%s: unknown option", a, VZ_E_BADOPT);
		}
	}
	if (i >= argc) {
		usage(stderr);
		return VZ_E_NOTENOUGH;
	}
	const char *cmd = argv[i++];
	bool exec_like = !strcmp(cmd, "exec") || !strcmp(cmd, "exec2") ||
			 !strcmp(cmd, "exec3") || !strcmp(cmd, "enter") || !strcmp(cmd, "console");
	if (!exec_like && !known_cmd(cmd))
		return usage_error("%s: unknown command", cmd, VZ_E_BADOPT);
	if (i < argc && (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (i >= argc)
		return usage_error("%s: CT ID missing", cmd, VZ_E_NOTENOUGH);
	/* "-1" is a bad CT ID, not an option */
	if (argv[i][0] == '-' && argv[i][1] >= '0' && argv[i][1] <= '9') {
		fprintf(stderr, "%s: invalid CT ID: %s\n", prog, argv[i]);
		return VZ_E_BADVALUE;
	}
	if (argv[i][0] == '-')
		return usage_error("%s: the CT ID comes first (vzctl COMMAND CTID [options])",
				   cmd, VZ_E_BADOPT);
	vz_error err = {0};
	if (geteuid() != 0) {
		fprintf(stderr, "%s: must be run as root\n", prog);
		return VZ_E_PERM;
	}
	vz_ctx *ctx = vz_ctx_new(root, &err);
	if (!ctx)
		return fail(&err);
	vz_ctx_set_verbose(ctx, verbose);
	vz_ctx_set_skiplock(ctx, skiplock);
	unsigned ctid;
	const char *id = argv[i++];
	int r;
	if (!strcmp(cmd, "create"))
		r = vz_ctid_parse(id, &ctid, &err);
	else
		r = vz_ct_resolve(ctx, id, &ctid, &err);
	if (r) {
		r = fail(&err);
	} else {
		r = run(ctx, cmd, ctid, argc - i, argv + i);
	}
	vz_ctx_free(ctx);
	return r;
}
