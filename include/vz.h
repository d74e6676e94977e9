/* libvz: OpenVZ-style system containers on upstream Linux kernels.
 * The one public header of the engine; vzctl, vzlist and vzmigrate use
 * nothing else. Every fallible call returns 0 on success or the vzctl exit
 * code (> 0) on failure, with *err filled in once, ready to print. */
#ifndef VZ_H
#define VZ_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VZ_PUBLIC __attribute__((visibility("default")))

/* Exit codes: vzctl's numbers where vzctl has one (docs/exit-codes.md). */
enum vz_code {
	VZ_OK = 0,
	VZ_E_SETUBC = 1,        /* a resource limit could not be applied */
	VZ_E_SYSTEM = 3,        /* generic system error */
	VZ_E_RESOURCE = 6,      /* not enough resources */
	VZ_E_EXEC = 8,          /* exec'd command returned non-zero */
	VZ_E_LOCKED = 9,        /* CT locked by another vzctl */
	VZ_E_NOVZCONF = 10,     /* global config not found */
	VZ_E_PERM = 12,         /* permission denied */
	VZ_E_CAP = 13,          /* capability setting failed */
	VZ_E_NOCONF = 14,       /* CT config not found: CT does not exist */
	VZ_E_BADOPT = 20,       /* invalid command-line parameter */
	VZ_E_BADVALUE = 21,     /* invalid parameter value */
	VZ_E_CHKPNT = 16,       /* checkpoint (suspend) failed */
	VZ_E_RESTORE = 17,      /* restore (resume) failed */
	VZ_E_NOTENOUGH = 27,    /* not enough parameters */
	VZ_E_NOTEMPLATE_SET = 29, /* no OS template given and no default */
	VZ_E_NOTRUNNING = 31,   /* CT not running */
	VZ_E_RUNNING = 32,      /* CT already running */
	VZ_E_STOP = 33,         /* unable to stop */
	VZ_E_NOTMOUNTED = 40,
	VZ_E_MOUNTED = 41,
	VZ_E_NOPRIVATE = 43,    /* private area not found */
	VZ_E_PRIVEXISTS = 44,   /* private area already exists */
	VZ_E_BROKEN = 47,       /* no /sbin/init or /bin/sh in the CT */
	VZ_E_CREATEPRIV = 48,
	VZ_E_MOUNT = 50,
	VZ_E_UMOUNT = 51,
	VZ_E_DELETE = 52,
	VZ_E_DISKSPACE = 63,    /* DISKSPACE needed and not set */
	VZ_E_HOSTNAME = 70,
	VZ_E_CHANGEPASS = 74,   /* cannot set a user's password */
	VZ_E_BADIP = 71,        /* bad IP address */
	VZ_E_BADDNS = 72,       /* bad nameserver */
	VZ_E_BADSEARCH = 73,    /* bad search domain */
	VZ_E_IPINUSE = 78,      /* IP address already in use */
	VZ_E_VETH = 130,        /* veth (bridged interface) error */
	VZ_E_CONFIG = 85,       /* invalid config file */
	VZ_E_DEVICES = 86,      /* DEVICES invalid, or the allowlist cannot be set */
	VZ_E_NOTEMPLATE = 91,   /* OS template not found, or its build failed */
	VZ_E_TMPLEXISTS = 92,   /* OS template cached already (no --force) */
	VZ_E_TMPLBUSY = 96,     /* OS template used by CTs */
	VZ_E_NAME = 131,        /* bad or conflicting CT name */
	VZ_E_STARTWAIT = 133,   /* start --wait failed */
	VZ_E_IOPARAM = 148,     /* I/O limits cannot be applied */
	VZ_E_CONFSAVE = 139,    /* config save error */
};

/* An error travels as a value up to the tool, which prints msg once. */
typedef struct vz_error {
	int code;               /* enum vz_code */
	char msg[1024];         /* one line, names the CT and the cause */
} vz_error;

typedef struct vz_ctx vz_ctx;

/* root: prefix under which every path lives ("" or NULL: $VZ_ROOT, else /). */
VZ_PUBLIC vz_ctx *vz_ctx_new(const char *root, vz_error *err);
VZ_PUBLIC void vz_ctx_free(vz_ctx *ctx);
VZ_PUBLIC void vz_ctx_set_verbose(vz_ctx *ctx, int level);
VZ_PUBLIC void vz_ctx_set_skiplock(vz_ctx *ctx, bool skip);
/* Human name of the program for log lines ("vzctl", "vzlist"). */
VZ_PUBLIC void vz_ctx_set_progname(vz_ctx *ctx, const char *name);

/* A CT is named by its numeric id or by its --name. */
VZ_PUBLIC int vz_ctid_parse(const char *s, unsigned *ctid, vz_error *err);
VZ_PUBLIC int vz_name_check(const char *name, vz_error *err);
VZ_PUBLIC int vz_ct_resolve(vz_ctx *ctx, const char *id_or_name,
			    unsigned *ctid, vz_error *err);

/* A resource parameter as vzctl's option names it ("ram", "numproc") and
 * the value the user typed ("64M"). */
struct vz_param {
	const char *option;
	const char *value;
};

struct vz_create_opts {
	const char *ostemplate;   /* NULL: DEF_OSTEMPLATE from vz.conf */
	const char *name;
	const char *hostname;
	const char *config;       /* sample: ve-CONFIG.conf-sample */
	const char *description;
	const struct vz_param *params; /* resource limits, as for set */
	size_t nparams;
	const char *layout;       /* "overlay" or "image"; NULL: VE_LAYOUT of vz.conf */
};
VZ_PUBLIC int vz_ct_create(vz_ctx *ctx, unsigned ctid,
			   const struct vz_create_opts *o, vz_error *err);
VZ_PUBLIC int vz_ct_destroy(vz_ctx *ctx, unsigned ctid, vz_error *err);

enum { VZ_START_WAIT = 1 << 0, VZ_START_FORCE = 1 << 1 };
VZ_PUBLIC int vz_ct_start(vz_ctx *ctx, unsigned ctid, int flags, vz_error *err);
enum { VZ_STOP_FAST = 1 << 0 };
VZ_PUBLIC int vz_ct_stop(vz_ctx *ctx, unsigned ctid, int flags, vz_error *err);
VZ_PUBLIC int vz_ct_restart(vz_ctx *ctx, unsigned ctid, int start_flags,
			    int stop_flags, vz_error *err);
VZ_PUBLIC int vz_ct_mount(vz_ctx *ctx, unsigned ctid, vz_error *err);
VZ_PUBLIC int vz_ct_umount(vz_ctx *ctx, unsigned ctid, vz_error *err);

/* Offline: the CT's files moved to the other layout ("image": one ext4
 * image of DISKSPACE; "overlay": what differs from its template). */
VZ_PUBLIC int vz_ct_convert(vz_ctx *ctx, unsigned ctid, const char *layout, vz_error *err);
/* Gives the blocks the CT's image no longer uses back to the host. */
VZ_PUBLIC int vz_ct_compact(vz_ctx *ctx, unsigned ctid, unsigned long long *trimmed,
			    vz_error *err);

/* Snapshots of the CT's own files (its image or overlay upper layer),
 * consistent for a running CT (frozen while taken). */
struct vz_snapshot {
	char uuid[40];
	char name[128];
	time_t date;
	bool running;         /* taken while the CT ran */
};
VZ_PUBLIC int vz_ct_snapshot(vz_ctx *ctx, unsigned ctid, const char *name, char *uuid,
			     size_t n, vz_error *err);
VZ_PUBLIC int vz_ct_snapshot_list(vz_ctx *ctx, unsigned ctid, struct vz_snapshot **list,
				  size_t *n, vz_error *err);
/* id: the snapshot's UUID or its name. A running CT is restarted. */
VZ_PUBLIC int vz_ct_snapshot_switch(vz_ctx *ctx, unsigned ctid, const char *id,
				    vz_error *err);
VZ_PUBLIC int vz_ct_snapshot_delete(vz_ctx *ctx, unsigned ctid, const char *id,
				    vz_error *err);

/* Checkpoint/restore with CRIU. dumpfile NULL: DUMPDIR/Dump.CTID, which
 * `vzctl start` restores from too. */
enum vz_cpt_action {
	VZ_CPT_FULL,      /* chkpnt: dump and stop / restore: restore and run */
	VZ_CPT_SUSPEND,   /* freeze the CT's processes, no dump */
	VZ_CPT_DUMP,      /* dump, leave the CT as it is (running or frozen) */
	VZ_CPT_KILL,      /* kill the (frozen) CT */
	VZ_CPT_RESUME,    /* thaw a frozen CT */
};
struct vz_cpt_opts {
	const char *dumpfile;
	enum vz_cpt_action action;
};
VZ_PUBLIC int vz_ct_chkpnt(vz_ctx *ctx, unsigned ctid, const struct vz_cpt_opts *o,
			   vz_error *err);
VZ_PUBLIC int vz_ct_restore(vz_ctx *ctx, unsigned ctid, const struct vz_cpt_opts *o,
			    vz_error *err);

/* Attaches the terminal to the running CT's console until Esc . (or the
 * CT stops); another attach takes the console over. */
VZ_PUBLIC int vz_ct_console(vz_ctx *ctx, unsigned ctid, vz_error *err);

/* --userpasswd USER:PASSWORD: creates USER inside when missing and sets
 * the password, with the CT's own tools; a stopped CT is mounted for it. */
VZ_PUBLIC int vz_ct_userpasswd(vz_ctx *ctx, unsigned ctid, const char *userpass,
			       vz_error *err);

/* OS templates (vztmpl). A template is known by its definition
 * (ETC/templates/NAME.conf), its cache tarball (TEMPLATE/cache) and its
 * unpacked shared layer (TEMPLATE/layers). */
struct vz_tmpl_info {
	char name[129];
	bool defined, cached, unpacked;
	off_t size;           /* of the cache tarball */
	time_t mtime;         /* of the cache tarball */
	unsigned users;       /* CTs of this root made from it */
};
VZ_PUBLIC int vz_template_list(vz_ctx *ctx, struct vz_tmpl_info **list, size_t *n,
			       vz_error *err);
enum { VZ_TMPL_FORCE = 1 << 0 };
/* Builds (FORCE: rebuilds) a defined template's cache and layer. */
VZ_PUBLIC int vz_template_build(vz_ctx *ctx, const char *name, int flags, vz_error *err);
VZ_PUBLIC int vz_template_remove(vz_ctx *ctx, const char *name, vz_error *err);
/* An OpenVZ precreated cache (NAME.tar.gz/.xz/.zst/.lz4); name NULL: from
 * the file's name. */
VZ_PUBLIC int vz_template_import(vz_ctx *ctx, const char *file, const char *name,
				 int flags, vz_error *err);
/* Long operations (template builds) report progress lines through fn;
 * without one they are printed as plain lines. */
VZ_PUBLIC void vz_ctx_set_progress(vz_ctx *ctx, void (*fn)(const char *line, void *data),
				   void *data);

struct vz_status {
	bool exists;
	bool mounted;
	bool running;
	bool suspended;
	pid_t init_pid;      /* host pid of the CT's init, 0 if not running */
};
VZ_PUBLIC int vz_ct_status(vz_ctx *ctx, unsigned ctid, struct vz_status *st,
			   vz_error *err);


struct vz_set_opts {
	const char *hostname;
	const char *name;
	const char *description;
	int onboot;          /* -1 unchanged, 0 no, 1 yes */
	bool save;
	const struct vz_param *params; /* resource limits */
	size_t nparams;
	const char *const *ipadd;      /* routed IPs: "ADDR[/PREFIX]" */
	size_t nipadd;
	const char *const *ipdel;      /* "ADDR" or "all" */
	size_t nipdel;
	const char *const *netif_add;  /* "IFNAME[,MAC,HOST_IFNAME,HOST_MAC,BRIDGE]" */
	size_t nnetif_add;
	const char *const *netif_del;  /* "IFNAME" or "all" */
	size_t nnetif_del;
	const char *const *nameserver; /* IP addresses or "inherit"; replace the list */
	size_t nnameserver;
	const char *const *searchdomain;
	size_t nsearchdomain;
	/* one bridged veth's settings: with ifname, ipadd/ipdel are its own */
	const char *ifname, *bridge, *mac, *host_ifname, *host_mac, *gw;
	const char *dhcp;          /* "yes": the CT's DHCP client configures it */
};
/* The resource options set takes ("ram", "swap", "numproc", ...); *names
 * gets the list. vz_res_help gives "ARG  what it does" for usage. */
VZ_PUBLIC size_t vz_res_options(const char *const **names);
VZ_PUBLIC const char *vz_res_help(const char *option);
VZ_PUBLIC int vz_ct_set(vz_ctx *ctx, unsigned ctid, const struct vz_set_opts *o,
			vz_error *err);

enum vz_exec_mode {
	VZ_EXEC_SHELL,       /* vzctl exec: through the CT's shell, non-zero -> 8 */
	VZ_EXEC_SHELL_RC,    /* exec2: through the shell, the command's own code */
	VZ_EXEC_DIRECT,      /* exec3: execve(argv) without a shell */
};
/* Runs argv inside the CT; *status gets the command's exit code
 * (128+signal when killed). Returns 0 when the command could be run. */
VZ_PUBLIC int vz_ct_exec(vz_ctx *ctx, unsigned ctid, enum vz_exec_mode mode,
			 char *const argv[], int *status, vz_error *err);
/* Interactive shell on a pty of the CT; *status as for vz_ct_exec. */
VZ_PUBLIC int vz_ct_enter(vz_ctx *ctx, unsigned ctid, char *const argv[],
			  int *status, vz_error *err);

/* One CT as vzlist shows it. Strings are "" when unset. */
struct vz_ct_info {
	unsigned ctid;
	char name[64];
	char hostname[256];
	char ip[1024];
	char description[256];
	char ostemplate[128];
	char private_dir[512];
	char root_dir[512];
	bool running;
	bool mounted;
	bool suspended;      /* stopped with its default dump there (vzctl start restores it) */
	bool onboot;
	long numproc;        /* -1 when not running */
	char layout[16];
	bool privileged;
	/* resources: limits from the config (-1 unlimited), usage from the
	 * cgroups (-1 when not running); memory in 4 KiB pages as OpenVZ */
	long long numproc_l;
	long long physpages, physpages_l;
	long long swappages, swappages_l;
	long long cpuunits, cpulimit, cpus;  /* cpulimit: % of one CPU, 0 none */
	char cpumask[64];                    /* "all" when unset */
	long long iolimit, iopslimit, ioprio;
};
VZ_PUBLIC int vz_list(vz_ctx *ctx, struct vz_ct_info **out, size_t *n,
		      vz_error *err);
VZ_PUBLIC int vz_ct_info(vz_ctx *ctx, unsigned ctid, struct vz_ct_info *info,
			 vz_error *err);

/* One beancounter as OpenVZ's /proc/user_beancounters shows it, read from
 * the CT's cgroup counters; -1 where the kernel keeps no such figure or
 * there is no limit. Memory in 4 KiB pages. */
struct vz_bc {
	char name[16];
	long long held, maxheld, barrier, limit, failcnt;
};
/* The running CT's beancounters (numproc, physpages, swappages,
 * oomguarpages: its failcnt counts OOM kills) into rows[max]. */
VZ_PUBLIC int vz_ct_stat(vz_ctx *ctx, unsigned ctid, struct vz_bc *rows, size_t max,
			 size_t *n, vz_error *err);

/* Migration to another host (vzmigrate). Exit codes are vzmigrate's. */
enum vz_mig_code {
	VZ_MIG_E_USAGE = 1,     /* bad arguments */
	VZ_MIG_E_STOPPED = 2,   /* --online, but the CT is not running */
	VZ_MIG_E_CONNECT = 4,   /* the destination cannot be reached or went away */
	VZ_MIG_E_COPY = 6,      /* copying files, the dump or memory failed */
	VZ_MIG_E_DSTSTART = 7,  /* the destination could not start or restore it */
	VZ_MIG_E_SRCSTOP = 8,   /* the source could not stop or checkpoint it */
	VZ_MIG_E_EXISTS = 9,    /* the CT exists on the destination */
	VZ_MIG_E_NOTEXIST = 10, /* the CT does not exist here */
	VZ_MIG_E_CONFIG = 15,   /* the config could not be applied there */
	VZ_MIG_E_LOCKED = 20,   /* the CT is locked */
	VZ_MIG_E_INTERRUPTED = 130, /* a signal (Ctrl-C) cancelled it before the CT moved */
};
enum vz_mig_strategy {
	VZ_MIG_AUTO,      /* pre-copy where the kernel tracks dirty memory, else post-copy */
	VZ_MIG_PRECOPY,   /* rounds of pre-dumps, then a small final dump */
	VZ_MIG_POSTCOPY,  /* freeze, dump all but memory, restore; memory on demand */
	VZ_MIG_STOPCOPY,  /* freeze, dump everything, copy, restore */
};
struct vz_mig_stats {
	char phase[64];          /* what it does now (progress) */
	char strategy[16];       /* "offline", "pre-copy", "post-copy", "stop-copy" */
	double total_s, frozen_s;
	unsigned long long bytes;  /* sent and received over the wire */
	unsigned rounds;         /* pre-copy rounds */
	unsigned long long dirty_pages; /* left after the last pre-copy round */
	char note[256];          /* what the user must hear of (the strategy asked for
	                          * not used, a late Ctrl-C), or "" */
};
struct vz_mig_opts {
	const char *dest;        /* "[user@]host", reached with ssh */
	const char *netns;       /* or a network namespace of this machine (name or path) */
	const char *dst_root;    /* the destination's VZ_ROOT (its --vz-root) */
	const char *ssh_opts;    /* more ssh options, space separated */
	const char *self;        /* this program, for the local peer and rsync's transport */
	const char *remote_cmd;  /* the receiving program there; NULL: "vzmigrate" */
	bool online, keep_dst, remove_src;
	enum vz_mig_strategy strategy;
	void (*progress)(const struct vz_mig_stats *s, void *data);
	void *progress_data;
};
VZ_PUBLIC int vz_migrate(vz_ctx *ctx, unsigned ctid, const struct vz_mig_opts *o,
			 struct vz_mig_stats *s, vz_error *err);
/* The destination's side, on stdin/stdout (vzmigrate --receive). */
VZ_PUBLIC int vz_migrate_receive(vz_ctx *ctx, unsigned ctid, vz_error *err);
/* The destination's end of the lazy pages relay (vzmigrate --relay-listen). */
VZ_PUBLIC int vz_migrate_relay_listen(vz_error *err);
/* criu's action script during a stop-copy dump: the tool itself, run by
 * criu with CRTOOLS_SCRIPT_ACTION (and vz's socket) in its environment. */
VZ_PUBLIC bool vz_migrate_is_cpt_hook(void);
VZ_PUBLIC int vz_migrate_cpt_hook(void);
/* Joins a network namespace (a name under /run/netns or a path). */
VZ_PUBLIC int vz_mig_enter_netns(const char *netns);
/* rsync's remote shell to a destination in a namespace (vzmigrate
 * --rsh-netns): runs cmd there, to die with the rsync that started it.
 * Returns only on failure, -1 with errno. */
VZ_PUBLIC int vz_mig_rsh_netns(const char *netns, char *const cmd[]);

VZ_PUBLIC const char *vz_version(void);

#ifdef __cplusplus
}
#endif
#endif
