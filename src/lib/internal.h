/* Declarations shared between libvz's modules; not installed. */
#ifndef VZ_INTERNAL_H
#define VZ_INTERNAL_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>
#include "vz.h"

#define VZ_HIDDEN __attribute__((visibility("hidden")))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Each CT's root maps to a range of this many host ids. */
#define VZ_IDMAP_SIZE 65536u
#define VZ_DEFAULT_STOP_TIMEOUT 120

/* ---- error.c ---- */
/* Fills err and returns code; errno-style suffix when errnum != 0. */
int vz_err(vz_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int vz_err_errno(vz_error *err, int code, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ---- util.c ---- */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int mkdir_p(const char *path, mode_t mode);
int rm_rf(const char *path);
int write_file(const char *path, const char *data, size_t len, int flags);
int write_str(const char *path, const char *s);
/* Reads a whole small file; NULL and errno on failure. */
char *read_file(const char *path, size_t *len);
/* The same for files of a CT, from inside it: regular files only (never
 * blocking on a FIFO the CT made), read_ct_file at most 4 MiB. */
char *read_ct_file(const char *path, size_t *len);
int write_ct_file(const char *path, const char *data, size_t len, int flags);
ssize_t read_all(int fd, void *buf, size_t len);
ssize_t write_all(int fd, const void *buf, size_t len);
int copy_file(const char *src, const char *dst, mode_t mode);
bool path_exists(const char *path);
bool is_mountpoint(const char *path);
/* Start time of a process (field 22 of /proc/PID/stat), 0 if gone. */
unsigned long long proc_starttime(pid_t pid);
void close_fds_from(int first, const int *keep, size_t nkeep);
/* stdin, stdout and stderr on /dev/null */
void stdio_devnull(void);
struct termios;
bool tty_raw(struct termios *saved);
int send_fd(int sock, int fd);
int recv_fd(int sock);
int recv_fd_msg(int sock, char *buf, size_t len);
/* While an operation must run to its end or undo itself (a checkpoint, a
 * migration), SIGINT, SIGTERM, SIGHUP and SIGQUIT are noted instead of
 * obeyed (SA_RESTART; poll() still returns EINTR); vz_interrupted() says
 * whether one came (until the outermost guard is off). Guards nest. */
struct vz_sigguard {
	struct sigaction old[4];
};
void vz_sigguard_on(struct vz_sigguard *g);
void vz_sigguard_off(struct vz_sigguard *g);
bool vz_interrupted(void);
/* poll() that goes on after a signal, for the time that was left */
int poll_nointr(struct pollfd *pf, nfds_t n, int ms);
/* Waits up to ms for a process, our child or not, to exit: true once it
 * is gone (or was already). */
bool pid_gone_within(pid_t pid, int ms);

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd) { if (*fd >= 0) close(*fd); }
#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))

/* ---- log.c ---- */
enum { VZ_LOG_ERR = 0, VZ_LOG_WARN = 1, VZ_LOG_INFO = 2, VZ_LOG_DEBUG = 3 };
void vz_log_open(vz_ctx *ctx);
void vz_log(vz_ctx *ctx, unsigned ctid, int level, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ---- config.c: OpenVZ KEY="value" files ---- */
struct vz_conf_line {
	char *key;            /* NULL for comments, blank and garbage lines */
	char *value;
	char *raw;            /* the line as read, kept for rewriting */
};
struct vz_conf {
	struct vz_conf_line *lines;
	size_t n;
};
/* Parses text; errors (bad key, unterminated quote) name file and line. */
int vz_conf_parse(struct vz_conf *c, const char *text, const char *what,
		  vz_error *err);
int vz_conf_load(struct vz_conf *c, const char *path, vz_error *err);
const char *vz_conf_get(const struct vz_conf *c, const char *key);
int vz_conf_set(struct vz_conf *c, const char *key, const char *value);
bool vz_conf_value_ok(const char *v);
void vz_conf_unset(struct vz_conf *c, const char *key);
char *vz_conf_format(const struct vz_conf *c);
/* temp file, fsync, rename, fsync of the directory */
int vz_conf_save(const struct vz_conf *c, const char *path, vz_error *err);
void vz_conf_free(struct vz_conf *c);
bool vz_conf_key_valid(const char *key);
/* "yes"/"no" -> 1/0, -1 otherwise */
int vz_parse_bool(const char *s);

/* ---- ctid.c ---- */
#define VZ_CTID_MAX 2147483644u
#define VZ_NAME_MAX 63

/* ---- paths.c: one root for every path ---- */
struct vz_ctx {
	char *root;           /* "" for / */
	char *etc_dir;        /* ROOT/etc/vz */
	char *conf_dir;       /* ROOT/etc/vz/conf */
	char *names_dir;      /* ROOT/etc/vz/names */
	char *vzconf_path;    /* ROOT/etc/vz/vz.conf */
	char *run_dir;        /* ROOT/run/vz */
	char *lock_dir;
	char *template_dir;
	char *log_path;
	char *cgroup_base;    /* cgroup parent of every CT of this root */
	struct vz_conf global;
	int verbose;
	bool skiplock;
	bool logging;
	int log_fd;
	char progname[32];
	void (*progress)(const char *line, void *data);
	void *progress_data;
};
/* Prefixes a path from a config file with the root. */
char *vz_path(const vz_ctx *ctx, const char *p);
char *vz_ct_conf_path(const vz_ctx *ctx, unsigned ctid);
char *vz_state_path(const vz_ctx *ctx, unsigned ctid);
/* VE_ROOT/VE_PRIVATE with $VEID substituted, root-prefixed */
char *vz_subst_veid(const char *tmpl, unsigned ctid);

/* ---- ct.c: a loaded CT ---- */
struct vz_ct {
	unsigned ctid;
	struct vz_conf conf;      /* CTID.conf */
	char *conf_path;
	char *private_dir;        /* host path */
	char *root_dir;           /* host path */
	char *hostname;
	uid_t uid_base;           /* 0: privileged CT, no user namespace */
	gid_t gid_base;
	unsigned stop_timeout;
};
const char *vz_ct_get(const struct vz_ct *ct, const vz_ctx *ctx, const char *key);
int vz_ct_load(vz_ctx *ctx, unsigned ctid, struct vz_ct *ct, vz_error *err);
/* Loads the CT and runs fn on it under the CT's lock. */
typedef int (*vz_ct_fn)(vz_ctx *ctx, struct vz_ct *ct, void *arg, vz_error *err);
int vz_ct_locked(vz_ctx *ctx, unsigned ctid, const char *what, vz_ct_fn fn, void *arg,
		 vz_error *err);
/* The same under a signal guard (vz_sigguard_on): for what must not be cut
 * short once begun. Its tree copies stop at an interrupt and undo. */
int vz_ct_locked_guarded(vz_ctx *ctx, unsigned ctid, const char *what, vz_ct_fn fn,
			 void *arg, vz_error *err);
void vz_ct_free(struct vz_ct *ct);

/* ---- lock.c ---- */
/* Blocks (up to LOCK_TIMEOUT seconds) for the CT's lock; returns an fd. */
int vz_lock_ct(vz_ctx *ctx, unsigned ctid, const char *what, int *fd,
	       vz_error *err);
int vz_lock_global(vz_ctx *ctx, const char *name, int *fd, vz_error *err);
void vz_unlock(int fd);

/* ---- state.c: what a running CT leaves in ROOT/run/vz ---- */
struct vz_state {
	pid_t monitor_pid;
	pid_t init_pid;
	unsigned long long init_start;  /* guards against pid reuse */
	char halt_signal[16];
};
int vz_state_write(vz_ctx *ctx, unsigned ctid, const struct vz_state *s,
		   vz_error *err);
/* 1 and *s when a live CT's state exists, 0 when not running. */
int vz_state_read(vz_ctx *ctx, unsigned ctid, struct vz_state *s);
void vz_state_remove(vz_ctx *ctx, unsigned ctid);
/* What a running CT has now, saved or not, next to its state: "ip" (its
 * routed addresses), "netif" (its bridged veths). read: NULL if none. */
int vz_state_net_write(vz_ctx *ctx, unsigned ctid, const char *what, const char *list,
		       vz_error *err);
char *vz_state_net_read(vz_ctx *ctx, unsigned ctid, const char *what);
void vz_state_net_clear(vz_ctx *ctx, unsigned ctid, const char *what);

/* ---- cgroup.c: every hierarchy modelled (v1, hybrid, v2) ---- */
struct vz_cg_hier {
	char *mnt;            /* mount point */
	char *ctrls;          /* "memory", "cpu,cpuacct", "name=systemd", "" (v2) */
	bool v2;
};
struct vz_cgroups {
	struct vz_cg_hier *h;
	size_t n;
};
int vz_cg_detect(struct vz_cgroups *cg, vz_error *err);
void vz_cg_free(struct vz_cgroups *cg);
/* Creates ROOT_CG/CTID in every hierarchy, delegated to owner uid/gid. */
int vz_cg_create(const struct vz_cgroups *cg, const char *rel, uid_t uid,
		 gid_t gid, vz_error *err);
/* Moves the calling thread into the CT's v1 cgroups (v2: CLONE_INTO_CGROUP). */
int vz_cg_enter_v1(const struct vz_cgroups *cg, const char *rel, vz_error *err);
/* fd of the CT's v2 cgroup; -1 when there is no v2 hierarchy, -code on error */
int vz_cg_open_v2(const struct vz_cgroups *cg, const char *rel, vz_error *err);
/* pid's v2 cgroup (relative as rel) when it is rel or below, else NULL */
char *vz_cg_v2_rel_of(pid_t pid, const char *rel);
/* Whether the hierarchy carries the controller (v2: cgroup.controllers). */
bool vz_cg_has(const struct vz_cg_hier *h, const char *ctrl);
/* Kills what is left and removes the CT's cgroups bottom-up. */
int vz_cg_destroy(const struct vz_cgroups *cg, const char *rel);
int vz_cg_freeze(const struct vz_cgroups *cg, const char *rel, bool freeze, vz_error *err);
/* The CT's cgroup that freezes it (v1 freezer, else v2), NULL if none. */
char *vz_cg_freezer_dir(const struct vz_cgroups *cg, const char *rel);
/* The CT's cgroups frozen or thawed, found by its id */
int vz_ct_cg_freeze(const vz_ctx *ctx, unsigned ctid, bool freeze, vz_error *err);
struct vz_argv;
void vz_ct_freeze_arg(const vz_ctx *ctx, unsigned ctid, struct vz_argv *a);
bool vz_cg_frozen(const struct vz_cgroups *cg, const char *rel);
/* The cgroups the CT made under its own, "CTRLS\tSUBDIR" lines, parents
 * first; _make creates them again (delegated) before a restore: CRIU
 * brings back only those with tasks, and systemd watches empty ones. */
char *vz_cg_tree_list(const struct vz_cgroups *cg, const char *rel);
void vz_cg_tree_make(const struct vz_cgroups *cg, const char *rel, const char *list, uid_t uid,
		     gid_t gid);
long vz_cg_count_procs(const struct vz_cgroups *cg, const char *rel);
char *vz_cg_rel(const vz_ctx *ctx, unsigned ctid);

/* ---- idmap.c ---- */
/* A range for a new CT (0: privileged, when vz.conf says LOCAL_UID="0"),
 * registered host-wide until vz_idmap_free. */
int vz_idmap_alloc(vz_ctx *ctx, unsigned ctid, uid_t *base, vz_error *err);
/* Always a user namespace range (a migrated CT's). */
int vz_idmap_alloc_range(vz_ctx *ctx, unsigned ctid, uid_t *base, vz_error *err);
void vz_idmap_free(vz_ctx *ctx, unsigned ctid, uid_t base);
/* Refuses a range that overlaps another user's subordinate ids. */
int vz_idmap_check(unsigned ctid, uid_t base, vz_error *err);
/* The registry's directory: VZ_IDMAP_DIR, vz.conf's IDMAP_DIR, or
 * /var/lib/vz/idmap (host-wide on purpose: see idmap.c). */
char *vz_idmap_dir(const vz_ctx *ctx);
int vz_write_idmaps(pid_t pid, uid_t uid_base, gid_t gid_base, vz_error *err);

/* ---- peerinput.c: what a migration peer or a dump may choose ---- */
/* The peer's config as taken here: whitelisted keys, local paths, a local
 * id range (*base, registered: vz_idmap_free it if the CT is dropped). */
int vz_peer_conf(vz_ctx *ctx, unsigned ctid, const struct vz_conf *in, struct vz_conf *out,
		 uid_t *base, vz_error *err);
/* Before a restore reads DIR: no link or file out of it, only vz's own
 * binds, the host's interface names chosen here, the CT's local id map. */
int vz_dump_check(vz_ctx *ctx, const struct vz_ct *ct, const char *dir, vz_error *err);
/* A link a dump may hold at its top: criu's "parent" to a pre-copy round */
bool vz_dump_link_ok(const char *name, const char *target);

/* ---- template.c ---- */
/* Directory of the unpacked template, built on first use. */
int vz_template_layer(vz_ctx *ctx, const char *name, char **dir, vz_error *err);
bool vz_template_version_ok(const char *v);
int vz_template_install_layer(vz_ctx *ctx, const char *name, const char *tmp, char **dirp,
			      vz_error *err);
void vz_template_gc(vz_ctx *ctx, const char *name);
/* CTs of this root that stand on that version of a layer ("NAME@VER") */
unsigned vz_template_version_users(vz_ctx *ctx, const char *version);
bool vz_template_name_ok(const char *name);
/* TEMPLATE/cache/NAME.tar.* that exists, or NULL */
char *vz_template_cache(vz_ctx *ctx, const char *name);
char *vz_template_name_of(const char *file);
int vz_template_unpack(const char *tarball, const char *dir, vz_error *err);
int vz_template_pack(const char *dir, const char *tarball, vz_error *err);
/* Copies a tree with owners, modes, times and xattrs (libarchive). */
int vz_tree_copy(const char *src, const char *dst, vz_error *err);
/* src as an overlay upper over base: what differs, whiteouts for the rest */
int vz_tree_diff_copy(const char *src, const char *base, const char *dst, vz_error *err);
/* ---- snapshot.c ---- */
/* Thaws a CT a killed vzctl left frozen (RUN/CTID.frozen). */
void vz_ct_thaw_stale(vz_ctx *ctx, struct vz_ct *ct);
/* ---- disk.c ---- */
int vz_storage_set_disk(vz_ctx *ctx, struct vz_ct *ct, const char *space, const char *inodes,
			bool running, vz_error *err);

/* ---- console.c: the monitor's side of vzctl console ---- */
int vz_console_listen(vz_ctx *ctx, unsigned ctid);
void vz_console_unlink(vz_ctx *ctx, unsigned ctid);
void vz_console_accept(int lsock, int *client);
bool vz_console_from_client(int client, int master);
int vz_console_pty(const struct vz_ct *ct, int *master, int *slave, char *path, size_t n,
		   vz_error *err);

/* ---- distro.c: distro setup inside the CT ---- */
struct vz_netif;
/* /etc/hostname and /etc/hosts' name line; run inside the CT */
int vz_distro_hostname(const char *hn);
/* Runtime settings on the CT's fresh /run (systemd drop-ins); inside */
void vz_distro_runtime(void);
/* The vz block of /etc/network/interfaces: an "inet dhcp" stanza for each
 * interface with dhcp=yes (ifupdown, Debian's or busybox's); run inside. */
int vz_distro_netifs(const struct vz_netif *nf, size_t n);

/* ---- tmplbuild.c: caches built from distro packages ---- */
bool vz_template_defined(vz_ctx *ctx, const char *name);
/* Builds cache and layer of a defined template; the template lock is held. */
int vz_template_build_locked(vz_ctx *ctx, const char *name, vz_error *err);
/* The Debian mirror apt on this host uses (malloc'ed), or NULL. */
char *vz_apt_mirror(const char *apt_dir);
void vz_progress(vz_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- storage.c ---- */
int vz_storage_create(vz_ctx *ctx, struct vz_ct *ct, const char *layer,
		      vz_error *err);
/* for_ct: the view a starting CT needs; otherwise the host's own view */
int vz_storage_mount(vz_ctx *ctx, struct vz_ct *ct, bool for_ct, vz_error *err);
int vz_storage_umount(vz_ctx *ctx, struct vz_ct *ct, vz_error *err);
int vz_storage_destroy(vz_ctx *ctx, struct vz_ct *ct, vz_error *err);
char *vz_storage_layer(vz_ctx *ctx, const struct vz_ct *ct);
bool vz_storage_is_image(const struct vz_ct *ct);
/* The image the CT's files are in (root.img or upper.img), or NULL */
char *vz_storage_image(const struct vz_ct *ct);
int vz_storage_record_layer(const char *area, const char *layer);
char *vz_storage_backing_mnt(const struct vz_ct *ct);
int vz_storage_layout_ok(const char *layout);
/* The directories holding the CT's files made root's only (0700). */
int vz_storage_secure(vz_ctx *ctx, const struct vz_ct *ct, vz_error *err);
/* The host's mount at VE_ROOT is nosuid,nodev; for_ct lifts that for the
 * moment the CT's mount namespace is cloned from it (then call it again
 * with false): anything that makes a CT's mount namespace from VE_ROOT. */
int vz_storage_ct_view(const struct vz_ct *ct, bool for_ct, vz_error *err);

/* ---- image.c: ext4 images on loop devices ---- */
int vz_image_create(const char *path, unsigned long long kb, unsigned long long inodes,
		    vz_error *err);
int vz_image_mount(const char *img, const char *dir, vz_error *err);
int vz_image_umount(const char *dir, vz_error *err);
int vz_image_sync(const char *dir, vz_error *err);
int vz_image_grow(const char *img, const char *mnt, unsigned long long kb, vz_error *err);
int vz_image_copy(const char *src, const char *dst, vz_error *err);
int vz_image_fsfreeze(const char *mnt, bool freeze);
int vz_image_compact(const char *mnt, unsigned long long *trimmed, vz_error *err);
int vz_image_usage(const char *mnt, unsigned long long *used_kb, unsigned long long *total_kb,
		   unsigned long long *used_inodes, unsigned long long *total_inodes);
/* resources.c: the hard part of DISKSPACE (KB) or DISKINODES; 0 if unset */
unsigned long long vz_disk_hard(const char *v);
int vz_res_from_host(struct vz_conf *conf, unsigned ctid, const char *disk_dir, vz_error *err);

/* ---- devices.c: the CT's device allowlist on its cgroups ---- */
int vz_devices_check(const struct vz_ct *ct, const vz_ctx *ctx, vz_error *err);
int vz_devices_apply(const vz_ctx *ctx, const struct vz_ct *ct, const struct vz_cgroups *cg,
		     const char *rel, vz_error *err);

/* ---- caps.c ---- */
int vz_caps_apply_bounding(const char *capability_conf, vz_error *err);

/* ---- seccomp.c: the CT's seccomp filter (SECCOMP in its config) ---- */
struct vz_seccomp;
/* SECCOMP's value checked: "default" or unset, "none", or an absolute path */
int vz_seccomp_check(unsigned ctid, const char *v, vz_error *err);
/* Builds the CT's filter in the host's view (an extra deny list is read
 * now); *out stays NULL for SECCOMP="none". notify: sysinfo(2) goes to a
 * listener (the CT's init only; vz_seccomp_install hands out its fd). */
int vz_seccomp_prepare(const vz_ctx *ctx, const struct vz_ct *ct, bool notify,
		       struct vz_seccomp **out, vz_error *err);
/* Loads it into the calling process (and so its future children); needs
 * CAP_SYS_ADMIN in the current user namespace: no NO_NEW_PRIVS is set. */
/* The same for an exec into a running CT: the program compiled once a
 * boot, kept in RUN/CTID.seccompN (cleared when the CT's state is
 * written or removed: a changed SECCOMP takes effect at the next start) */
int vz_seccomp_prepare_exec(const vz_ctx *ctx, const struct vz_ct *ct, bool notify,
			    struct vz_seccomp **out, vz_error *err);
void vz_seccomp_cache_clear(const vz_ctx *ctx, unsigned ctid);
/* By the monitor once a boot's init runs: the program execs will load */
void vz_seccomp_cache_prime(const vz_ctx *ctx, const struct vz_ct *ct);
int vz_seccomp_install(struct vz_seccomp *s, int *listener, vz_error *err);
void vz_seccomp_free(struct vz_seccomp *s);
/* prepare + install without a listener, for a process that still sees the
 * host's files (an extra deny list is read from there) */
int vz_seccomp_load(const vz_ctx *ctx, const struct vz_ct *ct, vz_error *err);
/* For vzctl exec and the like: a connection to the CT's monitor, made while
 * the host's files are in view (-1 when none runs); vz_seccomp_apply then
 * installs s (prepared with notify when the connection is there) in the
 * process that is about to run a CT program, hands the listener to the
 * monitor and closes the connection. */
int vz_seccomp_notify_connect(const vz_ctx *ctx, unsigned ctid);
int vz_seccomp_apply(struct vz_seccomp *s, int monitor, vz_error *err);
/* The monitor's side: it answers sysinfo(2) for every listener of its CT
 * (its init's, and each exec's handed over RUN/CTID.notify). */
struct vz_sysinfo_srv;
struct vz_sysinfo_srv *vz_sysinfo_srv_new(const vz_ctx *ctx, unsigned ctid,
					  const struct vz_cgroups *cg, const char *rel);
/* a new boot: the old listeners go, uptime counts from now */
void vz_sysinfo_srv_boot(struct vz_sysinfo_srv *v, int init_listener);
/* pollfds to watch (at most vz_sysinfo_srv_max()), then their revents */
size_t vz_sysinfo_srv_max(void);
size_t vz_sysinfo_srv_pollfds(const struct vz_sysinfo_srv *v, struct pollfd *pf);
void vz_sysinfo_srv_handle(struct vz_sysinfo_srv *v, const struct pollfd *pf, size_t npf);
void vz_sysinfo_srv_free(struct vz_sysinfo_srv *v, const vz_ctx *ctx, unsigned ctid);
/* Before criu restores a dump: its seccomp filters come back without a
 * listener, so sysinfo(2) would fail with ENOSYS; it passes instead. */
void vz_seccomp_dump_fixup(const char *dir);

/* ---- resources.c: limits from the config onto the CT's cgroups ---- */
/* Checks the value typed for a vzctl option; gives its config key and the
 * value in the config's form. */
int vz_res_normalize(unsigned ctid, const char *option, const char *value,
		     const char **key, char *out, size_t n, vz_error *err);
/* At start: every limit the config sets. */
int vz_res_apply_conf(const vz_ctx *ctx, const struct vz_ct *ct,
		      const struct vz_cgroups *cg, const char *rel, vz_error *err);
/* vzlist's resource fields: limits from the config, usage if running. */
void vz_res_info(const vz_ctx *ctx, const struct vz_ct *ct, bool running,
		 struct vz_ct_info *info);
int vz_res_stat(const vz_ctx *ctx, const struct vz_ct *ct, struct vz_bc *rows, size_t max,
		size_t *n, vz_error *err);
/* Live: the config with kv (config keys) on top; all or nothing. */
int vz_res_apply_live(const vz_ctx *ctx, const struct vz_ct *ct,
		      const struct vz_param *kv, size_t n, vz_error *err);

struct vz_mem_now {
	long long ram_limit, ram_used, swap_limit, swap_used; /* bytes; limit -1: none */
};
int vz_res_mem_now(const struct vz_cgroups *cg, const char *rel, struct vz_mem_now *m);

/* ---- procfs.c: the CT's own figures in /proc, through lxcfs ---- */
/* lxcfs's mount point, started if need be; NULL when off or unavailable
 * (err set only when LXCFS=yes asked for it). */
const char *vz_procfs_ensure(vz_ctx *ctx, vz_error *err);
/* In the CT's mount namespace: binds lxcfs's files over ROOT/proc. */
int vz_procfs_bind(const char *lxcfs, const char *root, vz_error *err);

/* ---- rootfs.c: inside the CT's mount namespace ---- */
int vz_rootfs_setup(bool userns, const char *lxcfs, const char *console_pts, bool nesting,
		    vz_error *err);
/* NESTING in the CT config: 1 yes, 0 no or unset, -1 (err set) bad value */
int vz_nesting(const struct vz_ct *ct, const vz_ctx *ctx, vz_error *err);

/* ---- list.c ---- */
/* The ids of every CT config under the root, sorted; free *ids. */
int vz_list_ids(vz_ctx *ctx, unsigned **ids, size_t *n, vz_error *err);

/* ---- net.c ---- */
int vz_net_lo_up(vz_error *err);
struct vz_ip {
	int family;              /* AF_INET, AF_INET6 */
	unsigned char addr[16];
	unsigned char prefix;    /* 32 / 128 unless given */
};
/* "198.18.0.2", "fd00::2/64"; -1 on anything malformed */
int vz_ip_parse(const char *s, struct vz_ip *ip);
/* spoof.c: the source address filter on a CT's routed pair */
int vz_spoof_setup(unsigned ctid, const char *ifn, vz_error *err);
int vz_spoof_addrs(unsigned ctid, const struct vz_ip *ips, size_t n, bool add, vz_error *err);
void vz_spoof_remove(unsigned ctid);
void vz_ip_format(const struct vz_ip *ip, bool with_prefix, char *buf, size_t n);
bool vz_ip_same(const struct vz_ip *a, const struct vz_ip *b);
/* Routed IPs: venet0 in the CT (made on first use), routes on the host. */
int vz_net_add(unsigned ctid, pid_t init_pid, unsigned mtu, const struct vz_ip *ips,
	       size_t n, vz_error *err);
/* VENET_MTU of vz.conf: the routed pair is a host-local link, and a
 * loopback-sized MTU keeps it near loopback speed (TCP still uses the
 * path's MSS, and the host tells the CT a smaller path MTU). */
unsigned vz_net_mtu(const vz_ctx *ctx);
int vz_net_del(unsigned ctid, pid_t init_pid, const struct vz_ip *ips, size_t n,
	       vz_error *err);
/* After the CT is gone: its host end and routes. */
void vz_net_cleanup(unsigned ctid);
/* After a restore, where CRIU made the pair again: the host end set up as
 * vz_net_add does and the routes to ips. */
int vz_net_restored(unsigned ctid, unsigned mtu, const struct vz_ip *ips, size_t n,
		    vz_error *err);
bool vz_net_has_host_end(unsigned ctid);
void vz_net_host_ifname(unsigned ctid, char *buf, size_t n);
/* Bridged veth, a NETIF entry of the config (entries split by ';'). */
#define VZ_NETIF_IPS 8
struct vz_netif {
	char ifname[16], host_ifname[16], bridge[16];
	unsigned char mac[6], host_mac[6];
	bool has_mac, has_host_mac;
	struct vz_ip ips[VZ_NETIF_IPS];
	size_t nips;
	struct vz_ip gw;             /* default route via it; family 0: none */
	bool dhcp;                   /* the CT's own DHCP client configures it */
};
/* "ifname=eth0,mac=..,host_ifname=..,host_mac=..,bridge=..,ip=.."; missing
 * host_ifname and MACs are made up; -1 on anything malformed */
int vz_netif_parse(const char *s, unsigned ctid, struct vz_netif *nf);
void vz_netif_format(const struct vz_netif *nf, char *buf, size_t n);
int vz_netif_up(unsigned ctid, pid_t init_pid, const struct vz_netif *nf, vz_error *err);
void vz_netif_down(const struct vz_netif *nf);
/* After a restore: CRIU made the pair and put it on the bridge; up it goes */
int vz_netif_restored(unsigned ctid, const struct vz_netif *nf, vz_error *err);

/* ---- netcfg.c: IP_ADDRESS and NETIF as set and start use them ---- */
#define VZ_MAX_NETIFS 8
struct vz_netchange {
	struct vz_ip add[64], del[64];
	size_t nadd, ndel;
	bool del_all;
	struct vz_netif netifs[VZ_MAX_NETIFS];
	size_t nnetif_add;
	char netif_del[VZ_MAX_NETIFS][16];
	size_t nnetif_del;
	bool netif_del_all;
	bool has_mod;           /* --ifname: one veth changed */
	struct vz_netif mod;
};
int vz_netcfg_dhcp_live(vz_ctx *ctx, struct vz_ct *ct, const struct vz_netchange *nc,
			vz_error *err);
/* The interfaces a NETIF value names */
size_t vz_netcfg_netifs(const char *v, unsigned ctid, struct vz_netif *nf, size_t max);
int vz_netcfg_check(vz_ctx *ctx, unsigned ctid, const struct vz_set_opts *o,
		    struct vz_netchange *nc, vz_error *err);
int vz_netcfg_apply(vz_ctx *ctx, struct vz_ct *ct, const struct vz_state *st,
		    const struct vz_netchange *nc, vz_error *err);
void vz_netcfg_save(struct vz_ct *ct, const struct vz_netchange *nc);
/* Another CT of this root that holds the address (config or live), else 0 */
unsigned vz_netcfg_ip_owner(vz_ctx *ctx, unsigned self, const struct vz_ip *ip);
/* At start, before init runs; at stop, what is left on the host. */
int vz_netcfg_start(vz_ctx *ctx, struct vz_ct *ct, pid_t init_pid, vz_error *err);
void vz_netcfg_stop(vz_ctx *ctx, struct vz_ct *ct);
/* After a restore: the host side of what the CT had (ip, netif as the
 * dump recorded them), and the state records start would write. */
int vz_netcfg_restored(vz_ctx *ctx, struct vz_ct *ct, const char *ip, const char *netif,
		       vz_error *err);
/* --nameserver/--searchdomain checked; *ns and *search (free them) get the
 * config's space-separated lists, NULL when not given. */
int vz_dns_check(unsigned ctid, const struct vz_set_opts *o, char **ns, char **search,
		 vz_error *err);
/* NAMESERVER with "inherit" replaced by the host's nameservers */
char *vz_dns_expand(const char *ns);
/* inside the CT: its /etc/resolv.conf */
int vz_dns_write(const char *ns, const char *search);

/* ---- spawn.c: the CT's init and its monitor ---- */
/* restore_dir: a dump to restore instead of booting (checkpoint.c) */
int vz_spawn_ct(vz_ctx *ctx, struct vz_ct *ct, const char *restore_dir, vz_error *err);
struct vz_init_proc {
	pid_t pid;
	int pidfd;
	int console;           /* the monitor's end of the console */
	int notify;            /* init's seccomp listener (sysinfo), -1: none */
};
/* ---- checkpoint.c: CRIU ---- */
struct vz_argv {
	char **v;
	size_t n, cap;
};
void vz_argv_add(struct vz_argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vz_argv_free(struct vz_argv *a);
char *vz_criu_bin(const vz_ctx *ctx);
pid_t vz_criu_spawn(const vz_ctx *ctx, const struct vz_argv *a, const int *keep, size_t nkeep,
		    vz_error *err);
pid_t vz_criu_spawn_at(const vz_ctx *ctx, const struct vz_argv *a, const int *keep,
		       size_t nkeep, const char *root, bool own_run, vz_error *err);
void vz_criu_kdat_seed(const vz_ctx *ctx);
/* whether a path is under /run, which criu may get a tmpfs of its own on */
bool vz_under_run(const char *path);
/* wait status, or -1 when it ran out of time and was killed */
int vz_criu_wait(pid_t pid, int ms);
char *vz_criu_log_error(const char *log);
int vz_criu_fail(vz_error *err, int code, unsigned ctid, const char *what, int st,
		 const char *log);
char *vz_dump_default(const vz_ctx *ctx, unsigned ctid);
bool vz_dump_exists(const char *dir);
/* criu dump's arguments for the running CT; meta gets what restore needs */
void vz_cpt_dump_args(vz_ctx *ctx, struct vz_ct *ct, pid_t init, const char *dir,
		      const char *log, struct vz_argv *a, struct vz_conf *meta);
/* In the monitor: the CT's tree restored from dir, its init our child. */
int vz_cpt_restore_init(vz_ctx *ctx, struct vz_ct *ct, const struct vz_cgroups *cg,
			const char *dir, struct vz_init_proc *ip, vz_error *err);
/* Under the CT's lock: restore from dir (checked to be this CT's dump). */
int vz_cpt_restore_locked(vz_ctx *ctx, struct vz_ct *ct, const char *dir, vz_error *err);
/* ct.c, under the CT's lock */
int vz_ct_start_from(vz_ctx *ctx, struct vz_ct *ct, const char *dir, vz_error *err);
int vz_ct_stop_locked(vz_ctx *ctx, struct vz_ct *ct, int flags, vz_error *err);
int vz_ct_destroy_locked(vz_ctx *ctx, struct vz_ct *ct, vz_error *err);
/* netlock.c: removes criu's network lock tables from the CT's namespace */
int vz_netlock_remove(pid_t init_pid);
/* migrate.c */
void vz_mig_pipe_size(void);
/* Puts the host's pipe-max-size back once no migration holds it. */
void vz_mig_pipe_size_done(void);
/* pages_written of a criu dump directory's stats-dump; -1 if unreadable */
long long vz_mig_pages_written(const char *dir);
int vz_exec_input(vz_ctx *ctx, unsigned ctid, enum vz_exec_mode mode,
		  char *const argv[], const char *input, int *status, vz_error *err);
int vz_run_in_ct(vz_ctx *ctx, struct vz_ct *ct, const struct vz_state *st,
		 int (*fn)(void *arg), void *arg);
/* fork() with the child in the CT's v2 cgroup; vz_enter_ct does the rest */
pid_t vz_fork_ct(vz_ctx *ctx, unsigned ctid);
/* setns into every namespace of a running CT, join its cgroups */
int vz_enter_ct(vz_ctx *ctx, struct vz_ct *ct, const struct vz_state *st,
		vz_error *err);

#endif
