/* Checkpoint and restore with CRIU (the criu binary, supervised with
 * timeouts). A dump is a directory of CRIU images plus vz-dump.conf, what
 * vz must know to put the CT back: the key of its console tty and its
 * network as it was. A restore runs inside the CT's monitor, which is a
 * child subreaper: the restored init becomes its child, as a booted one. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include "internal.h"

#define CRIU_PREFIX "/usr/local/lib/vz/criu"
#define CRIU_PREFIX_BIN CRIU_PREFIX "/criu"
#define CRIU_ROOT "/tmp/vz-criu-root"
#define DUMP_META "vz-dump.conf"
#define DUMP_CGROUPS "vz-cgroups"
#define CG_YARD "cgyard" /* a subdirectory: the dump's copy skips it */
#define DUMP_TIMEOUT_MS (300 * 1000)
#define RESTORE_TIMEOUT_MS (300 * 1000)

/* ---- argument vectors ---- */

void vz_argv_add(struct vz_argv *a, const char *fmt, ...)
{
	if (a->n + 2 > a->cap) {
		a->cap = a->cap ? a->cap * 2 : 32;
		char **v = realloc(a->v, a->cap * sizeof(*v));
		if (!v)
			abort();
		a->v = v;
	}
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&a->v[a->n], fmt, ap) < 0)
		abort();
	va_end(ap);
	a->v[++a->n] = NULL;
}

void vz_argv_free(struct vz_argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	a->v = NULL;
	a->n = a->cap = 0;
}

/* ---- running criu ---- */

/* CRIU of vz.conf, else the private prefix scripts/criu.sh makes where
 * the distro's criu fails on this kernel, else the distro's. */
char *vz_criu_bin(const vz_ctx *ctx)
{
	const char *c = vz_conf_get(&ctx->global, "CRIU");
	if (c && *c)
		return xstrdup(c);
	if (access(CRIU_PREFIX_BIN, X_OK) == 0)
		return xstrdup(CRIU_PREFIX_BIN);
	return xstrdup("criu");
}

/* In criu's own mount namespace: the CT root at CRIU_ROOT, on a tmpfs that
 * is a /tmp as any (criu makes temporary files there as the CT's root). */
static int shadow_root(const char *root)
{
	if (mount("vz-criu", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0 ||
	    mkdir(CRIU_ROOT, 0755) < 0 || mount(root, CRIU_ROOT, NULL, MS_BIND | MS_REC, NULL) < 0)
		return -1;
	return 0;
}

/* criu keeps what it probed of the kernel (some 15 ms of work at every
 * start) in /run/criu.kdat, but only where /run is a tmpfs. Where it is
 * not, vz keeps a copy per boot and hands it to criu on a tmpfs /run of
 * its own mount namespace. NULL: criu caches by itself, or cannot. */
static char *kdat_seed_path(const vz_ctx *ctx)
{
	struct statfs sf;
	if (statfs("/run", &sf) == 0 && sf.f_type == TMPFS_MAGIC)
		return NULL;
	_cleanup_free_ char *boot = read_file("/proc/sys/kernel/random/boot_id", NULL);
	if (!boot)
		return NULL;
	boot[strcspn(boot, "\n")] = '\0';
	return xasprintf("%s/criu.kdat.%s", ctx->run_dir, boot);
}

static int private_run(const char *seed, size_t len)
{
	if (mount("vz-criu-run", "/run", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0755,size=1m") < 0)
		return -1;
	return seed ? write_file("/run/criu.kdat", seed, len, O_CREAT | O_TRUNC) : 0;
}

/* Makes this boot's copy of criu's cache once: criu run on an empty tmpfs
 * /run, its criu.kdat taken from there. Best effort: without it criu
 * probes at each start, as it does anyway where /run is no tmpfs. */
void vz_criu_kdat_seed(const vz_ctx *ctx)
{
	_cleanup_free_ char *path = kdat_seed_path(ctx);
	if (!path || path_exists(path) || mkdir_p(ctx->run_dir, 0755) < 0)
		return;
	_cleanup_free_ char *tmp = xasprintf("%s.tmp%d", path, (int)getpid());
	int dfd = open(ctx->run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		struct vz_argv a = {0};
		vz_error e;
		vz_argv_add(&a, "check");
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0 ||
		    private_run(NULL, 0) < 0)
			_exit(1);
		pid_t c = vz_criu_spawn(ctx, &a, NULL, 0, &e);
		size_t n = 0;
		_cleanup_free_ char *kd = c > 0 && vz_criu_wait(c, 60000) == 0
					  ? read_file("/run/criu.kdat", &n) : NULL;
		int fd = kd ? openat(dfd, strrchr(tmp, '/') + 1, O_WRONLY | O_CREAT | O_EXCL, 0600)
			    : -1;
		bool ok = fd >= 0 && write_all(fd, kd, n) == (ssize_t)n && fsync(fd) == 0;
		if (fd >= 0)
			close(fd);
		if (ok && renameat(dfd, strrchr(tmp, '/') + 1, dfd, strrchr(path, '/') + 1) == 0)
			_exit(0);
		(void)unlinkat(dfd, strrchr(tmp, '/') + 1, 0);
		_exit(1);
	}
	close(dfd);
	if (pid > 0)
		(void)vz_criu_wait(pid, 90000);
}

bool vz_under_run(const char *path)
{
	return !strncmp(path, "/run/", 5);
}

pid_t vz_criu_spawn(const vz_ctx *ctx, const struct vz_argv *a, const int *keep, size_t nkeep,
		    vz_error *err)
{
	return vz_criu_spawn_at(ctx, a, keep, nkeep, NULL, false, err);
}

/* Starts criu with a's arguments; the fds in keep stay open in it at the
 * same numbers, every other one is closed. root: see shadow_root.
 * own_run: criu gets a /run of its own with this boot's copy of its cache
 * (kdat_seed_path), for callers none of whose paths are under /run. */
pid_t vz_criu_spawn_at(const vz_ctx *ctx, const struct vz_argv *a, const int *keep,
		       size_t nkeep, const char *root, bool own_run, vz_error *err)
{
	_cleanup_free_ char *bin = vz_criu_bin(ctx);
	_cleanup_free_ char *seed_path = own_run ? kdat_seed_path(ctx) : NULL;
	size_t seed_len = 0;
	_cleanup_free_ char *seed = seed_path ? read_file(seed_path, &seed_len) : NULL;
	/* the private prefix's criu straight through its loader, as its
	 * wrapper script does: no shell to start in a frozen window */
	struct vz_argv pre = {0};
	glob_t g = {0};
	if (!strcmp(bin, CRIU_PREFIX_BIN) && access(CRIU_PREFIX "/usr/sbin/criu", X_OK) == 0 &&
	    glob(CRIU_PREFIX "/usr/lib/*/ld-linux*.so.*", 0, NULL, &g) == 0 && g.gl_pathc > 0) {
		_cleanup_free_ char *libdir = xstrdup(g.gl_pathv[0]);
		*strrchr(libdir, '/') = '\0';
		vz_argv_add(&pre, "%s", g.gl_pathv[0]);
		vz_argv_add(&pre, "--library-path");
		vz_argv_add(&pre, "%s", libdir);
		vz_argv_add(&pre, CRIU_PREFIX "/usr/sbin/criu");
	}
	globfree(&g);
	pid_t pid = fork();
	if (pid < 0) {
		vz_err_errno(err, VZ_E_SYSTEM, errno, "fork");
		vz_argv_free(&pre);
		return -1;
	}
	if (pid == 0) {
		stdio_devnull(); /* criu logs into its -o file; what it prints is noise */
		/* the terminal's Ctrl-C is for vz, which decides criu's end:
		 * criu killed mid-dump leaves its code in the CT's processes */
		(void)setpgid(0, 0);
		if ((root || seed) && (unshare(CLONE_NEWNS) < 0 ||
				       mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0))
			_exit(126);
		if ((root && shadow_root(root) < 0) || (seed && private_run(seed, seed_len) < 0))
			_exit(126);
		for (size_t i = 0; i < nkeep; i++)
			(void)fcntl(keep[i], F_SETFD, 0);
		close_fds_from(3, keep, nkeep);
		signal(SIGPIPE, SIG_DFL);
		char **argv = xcalloc(pre.n + a->n + 2, sizeof(char *));
		argv[0] = bin;
		if (pre.n)
			memcpy(argv, pre.v, pre.n * sizeof(char *));
		memcpy(argv + (pre.n ? pre.n : 1), a->v, a->n * sizeof(char *));
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	vz_argv_free(&pre);
	return pid;
}

/* Waits up to ms for pid (ms < 0: for ever); kills it when time is up.
 * Returns its wait status, or -1 when it had to be killed. */
int vz_criu_wait(pid_t pid, int ms)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	bool killed = false;
	if (pfd >= 0) {
		struct pollfd pf = {.fd = pfd, .events = POLLIN};
		int r;
		while ((r = poll(&pf, 1, ms)) < 0 && errno == EINTR)
			;
		if (r == 0) {
			kill(pid, SIGKILL);
			killed = true;
		}
		close(pfd);
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return killed ? -1 : st;
}

/* The first "Error (...)" line criu logged that says why, for the
 * one-line message (criu's own summary line only if there is nothing else). */
char *vz_criu_log_error(const char *log)
{
	_cleanup_free_ char *text = read_file(log, NULL);
	if (!text)
		return NULL;
	char *last = NULL;
	for (char *l = text; l && *l && (!last || !strncmp(last, "Dumping FAILED", 14) ||
					  !strncmp(last, "Restoring FAILED", 16));) {
		char *nl = strchr(l, '\n');
		if (nl)
			*nl = '\0';
		/* the rlimit line is noise on hosts without CAP_SYS_RESOURCE */
		char *e = strstr(l, "Error (");
		if (e && !strstr(l, "RLIMIT_NOFILE") && !strstr(l, "tables-") &&
		    !strstr(l, "execvp(\"ip")) {
			char *m = strstr(e, "): ");
			free(last);
			last = xstrdup(m ? m + 3 : e);
		}
		l = nl ? nl + 1 : NULL;
	}
	return last;
}

int vz_criu_fail(vz_error *err, int code, unsigned ctid, const char *what, int st,
		 const char *log)
{
	_cleanup_free_ char *why = vz_criu_log_error(log);
	if (st == -1)
		return vz_err(err, code, "CT %u: %s timed out (criu log: %s)", ctid, what, log);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 126)
		return vz_err(err, code, "CT %u: %s: cannot set up criu's mount namespace", ctid,
			      what);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return vz_err(err, code, "CT %u: %s: criu cannot be run (scripts/criu.sh installs it)",
			      ctid, what);
	return vz_err(err, code, "CT %u: %s failed: %s (criu log: %s)", ctid, what,
		      why ? why : "criu gave no reason", log);
}

/* ---- dumps ---- */

char *vz_dump_default(const vz_ctx *ctx, unsigned ctid)
{
	const char *d = vz_conf_get(&ctx->global, "DUMPDIR");
	_cleanup_free_ char *dir = vz_path(ctx, d && *d ? d : "/vz/dump");
	return xasprintf("%s/Dump.%u", dir, ctid);
}

bool vz_dump_exists(const char *dir)
{
	_cleanup_free_ char *inv = xasprintf("%s/inventory.img", dir);
	_cleanup_free_ char *meta = xasprintf("%s/" DUMP_META, dir);
	return path_exists(inv) && path_exists(meta);
}

/* "RDEV:DEV", criu's key of the CT's console tty, whose other end (the
 * monitor's) is outside the CT. */
static bool console_key(pid_t init, char *buf, size_t n)
{
	char p[64];
	struct stat st;
	snprintf(p, sizeof(p), "/proc/%d/root/dev/console", (int)init);
	if (stat(p, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) == 1)
		return false;
	snprintf(buf, n, "%llx:%llx", (unsigned long long)st.st_rdev,
		 (unsigned long long)st.st_dev);
	return true;
}

/* The CT's mounts of host files, "MOUNTPOINT|KIND:ROOT ..." (KIND lxcfs or
 * dev), from its init's mountinfo. */
static char *host_binds(pid_t init)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/mountinfo", (int)init);
	FILE *f = fopen(p, "re");
	if (!f)
		return NULL;
	char *out = NULL, *line = NULL;
	size_t outlen = 0, n = 0;
	FILE *o = open_memstream(&out, &outlen);
	while (o && getline(&line, &n, f) > 0) {
		char root[1024], mp[1024], type[64];
		const char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*s %*s %*s %1023s %1023s", root, mp) != 2 ||
		    sscanf(dash + 3, "%63s", type) != 1)
			continue;
		const char *kind = !strcmp(type, "fuse.lxcfs") ? "lxcfs"
				   : !strcmp(type, "devtmpfs") ? "dev" : NULL;
		if (kind && !strchr(mp, '|') && !strchr(mp, ']'))
			fprintf(o, "%s%s|%s:%s", outlen || ftell(o) ? " " : "", mp, kind, root);
	}
	free(line);
	fclose(f);
	if (o)
		fclose(o);
	return out;
}

/* The name criu gives a hierarchy's directory in its cgroup yard:
 * "unified" for v2, the controllers with "name=" dropped for v1. */
static void yard_name(const struct vz_cg_hier *h, char *buf, size_t n)
{
	if (h->v2) {
		snprintf(buf, n, "unified");
		return;
	}
	_cleanup_free_ char *c = xstrdup(h->ctrls);
	char *save = NULL;
	size_t o = 0;
	buf[0] = '\0';
	for (char *w = strtok_r(c, ",", &save); w && o < n; w = strtok_r(NULL, ",", &save)) {
		if (!strncmp(w, "name=", 5))
			w += 5;
		o += (size_t)snprintf(buf + o, n - o, "%s%s", o ? "," : "", w);
	}
}

/* Drops DIR's yard; a hierarchy criu had to mount there itself (one the
 * links did not cover) is unmounted first. */
static void yard_drop(const char *dir)
{
	_cleanup_free_ char *y = xasprintf("%s/" CG_YARD, dir);
	DIR *d = opendir(y);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		struct stat sb;
		if (de->d_name[0] == '.' ||
		    fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s", y, de->d_name);
		if (S_ISDIR(sb.st_mode)) {
			(void)umount2(p, MNT_DETACH);
			(void)rmdir(p);
		} else {
			(void)unlink(p);
		}
	}
	closedir(d);
	(void)rmdir(y);
}

/* criu's cgroup yard as links to the host's own cgroup mounts, so criu
 * mounts no hierarchy itself: a cgroup2 mount costs ~10 ms when none was
 * made in the last moments, and a migration pays it inside its frozen
 * window, once in the dump and once in the restore. For a dump every
 * hierarchy the CT's init is in (pid) must be linked, or criu would not
 * find it: then no yard, and criu mounts them as it does by default. */
static void yard_make(const char *dir, pid_t pid, struct vz_argv *a)
{
	struct vz_cgroups cg;
	vz_error e;
	if (vz_cg_detect(&cg, &e))
		return;
	_cleanup_free_ char *y = xasprintf("%s/" CG_YARD, dir);
	yard_drop(dir);
	bool ok = mkdir(y, 0700) == 0;
	for (size_t i = 0; ok && i < cg.n; i++) {
		char name[512];
		yard_name(&cg.h[i], name, sizeof(name));
		_cleanup_free_ char *l = xasprintf("%s/%s", y, name);
		ok = *name && symlink(cg.h[i].mnt, l) == 0;
		/* a named hierarchy with controllers: criu's dump keeps "name=" */
		if (ok && strstr(cg.h[i].ctrls, ",name=")) {
			_cleanup_free_ char *l2 = xasprintf("%s/%s", y, cg.h[i].ctrls);
			ok = symlink(cg.h[i].mnt, l2) == 0;
		}
	}
	_cleanup_free_ char *pc = NULL;
	if (ok && pid > 0) {
		_cleanup_free_ char *f = xasprintf("/proc/%d/cgroup", (int)pid);
		pc = read_file(f, NULL);
		ok = pc != NULL;
	}
	char *save = NULL;
	for (char *line = pc ? strtok_r(pc, "\n", &save) : NULL; ok && line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		const char *ctl = c1 + 1;
		_cleanup_free_ char *l = xasprintf("%s/%s", y, !*ctl ? "unified"
							     : !strncmp(ctl, "name=", 5) ? ctl + 5
											  : ctl);
		ok = access(l, F_OK) == 0;
	}
	vz_cg_free(&cg);
	if (!ok) {
		yard_drop(dir);
		return;
	}
	vz_argv_add(a, "--cgroup-yard");
	vz_argv_add(a, "%s", y);
}

/* The criu dump arguments every kind of dump shares. */
void vz_cpt_dump_args(vz_ctx *ctx, struct vz_ct *ct, pid_t init, const char *dir,
		      const char *log, struct vz_argv *a, struct vz_conf *meta)
{
	char key[64];
	struct vz_cgroups cg;
	vz_error e;
	vz_argv_add(a, "dump");
	vz_argv_add(a, "-t");
	vz_argv_add(a, "%d", (int)init);
	vz_argv_add(a, "-D");
	vz_argv_add(a, "%s", dir);
	vz_argv_add(a, "-o");
	vz_argv_add(a, "%s", log);
	vz_argv_add(a, "-v4");
	/* the CT's own cgroups, frozen as a whole while dumped */
	vz_argv_add(a, "--manage-cgroups");
	yard_make(dir, init, a);
	vz_ct_freeze_arg(ctx, ct->ctid, a);
	if (vz_cg_detect(&cg, &e) == 0) {
		_cleanup_free_ char *rel = vz_cg_rel(ctx, ct->ctid);
		_cleanup_free_ char *tree = vz_cg_tree_list(&cg, rel);
		_cleanup_free_ char *tf = xasprintf("%s/" DUMP_CGROUPS, dir);
		if (tree)
			(void)write_file(tf, tree, strlen(tree), O_CREAT | O_TRUNC);
		vz_cg_free(&cg);
	}
	vz_argv_add(a, "--file-locks");
	vz_argv_add(a, "--link-remap");
	vz_argv_add(a, "--tcp-established");
	/* inotify watches are saved as paths; overlayfs opens no file handles,
	 * so criu looks for the inodes where distros' daemons watch: dbus its
	 * config, systemd the time zone /etc/localtime points to */
	static const char *const watched[] = {"/usr/share/dbus-1", "/etc/systemd", "/run",
					      "/usr/share/zoneinfo/Etc"};
	for (size_t i = 0; i < ARRAY_SIZE(watched); i++) {
		vz_argv_add(a, "--irmap-scan-path");
		vz_argv_add(a, "%s", watched[i]);
	}
	/* iptables-restore is not on every host; libnftables comes with criu */
	vz_argv_add(a, "--network-lock");
	vz_argv_add(a, "nftables");
	/* the host's files bound into the CT (lxcfs, device nodes), named
	 * one by one: criu's "auto" would take the CT's own bind mounts for
	 * the host's too (the host sees the CT's root file system) */
	_cleanup_free_ char *ext = host_binds(init);
	_cleanup_free_ char *copy = xstrdup(ext ? ext : "");
	char *save = NULL;
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		char *bar = strchr(w, '|');
		if (!bar)
			continue;
		*bar = '\0';
		vz_argv_add(a, "--external");
		vz_argv_add(a, "mnt[%s]:%s", w, w);
	}
	vz_conf_set(meta, "HOST_BINDS", ext ? ext : "");
	if (console_key(init, key, sizeof(key))) {
		vz_argv_add(a, "--external");
		vz_argv_add(a, "tty[%s]", key);
		vz_argv_add(a, "--external");
		vz_argv_add(a, "mnt[/dev/console]:console");
		vz_conf_set(meta, "TTY", key);
	}
	char buf[32];
	snprintf(buf, sizeof(buf), "%u", ct->ctid);
	vz_conf_set(meta, "CTID", buf);
	vz_conf_set(meta, "VENET", vz_net_has_host_end(ct->ctid) ? "yes" : "no");
	_cleanup_free_ char *ip = vz_state_net_read(ctx, ct->ctid, "ip");
	_cleanup_free_ char *nif = vz_state_net_read(ctx, ct->ctid, "netif");
	vz_conf_set(meta, "IP_ADDRESS", ip ? ip : "");
	vz_conf_set(meta, "NETIF", nif ? nif : "");
}

/* Takes a dump directory into its place: temp name, then rename. */
static int dump_commit(const char *tmp, const char *dir, const struct vz_conf *meta,
		       unsigned ctid, vz_error *err)
{
	_cleanup_free_ char *mp = xasprintf("%s/" DUMP_META, tmp);
	int r = vz_conf_save(meta, mp, err);
	if (r)
		return r;
	(void)rm_rf(dir);
	if (rename(tmp, dir) < 0)
		return vz_err_errno(err, VZ_E_CHKPNT, errno, "CT %u: cannot keep the dump as %s",
				    ctid, dir);
	return 0;
}

/* A failed dump is kept as DIR.fail for its log, as vzctl did. */
static void dump_failed(const char *tmp, const char *dir)
{
	_cleanup_free_ char *fail = xasprintf("%s.fail", dir);
	(void)rm_rf(fail);
	if (rename(tmp, fail) < 0)
		(void)rm_rf(tmp);
}

static int do_dump(vz_ctx *ctx, struct vz_ct *ct, const char *dir, bool leave_running,
		   vz_error *err)
{
	struct vz_state st;
	if (vz_state_read(ctx, ct->ctid, &st) != 1)
		return vz_err(err, VZ_E_NOTRUNNING, "CT %u is not running", ct->ctid);
	if (vz_dump_exists(dir))
		return vz_err(err, VZ_E_CHKPNT,
			      "CT %u: dump %s exists (restore it or remove it first)", ct->ctid,
			      dir);
	_cleanup_free_ char *tmp = xasprintf("%s.tmp", dir);
	_cleanup_free_ char *log = xasprintf("%s/dump.log", tmp);
	(void)rm_rf(tmp);
	if (mkdir_p(tmp, 0700) < 0)
		return vz_err_errno(err, VZ_E_CHKPNT, errno, "CT %u: cannot create %s", ct->ctid,
				    tmp);
	struct vz_argv a = {0};
	struct vz_conf meta = {0};
	vz_cpt_dump_args(ctx, ct, st.init_pid, tmp, log, &a, &meta);
	if (leave_running)
		vz_argv_add(&a, "--leave-running");
	vz_log(ctx, ct->ctid, VZ_LOG_INFO, "Checkpointing the container into %s", dir);
	int r = 0;
	pid_t pid = vz_criu_spawn(ctx, &a, NULL, 0, err);
	if (pid < 0) {
		r = err->code;
	} else {
		int s = vz_criu_wait(pid, DUMP_TIMEOUT_MS);
		yard_drop(tmp);
		if (s != 0) {
			_cleanup_free_ char *flog = xasprintf("%s.fail/dump.log", dir);
			dump_failed(tmp, dir);
			r = vz_criu_fail(err, VZ_E_CHKPNT, ct->ctid, "checkpoint", s, flog);
		}
	}
	if (!r)
		r = dump_commit(tmp, dir, &meta, ct->ctid, err);
	vz_argv_free(&a);
	vz_conf_free(&meta);
	if (r)
		return r;
	/* the CT's processes are gone; the monitor cleans up after them and
	 * must be done before anyone restores */
	if (!leave_running && !pid_gone_within(st.monitor_pid, 15000))
		vz_log(ctx, ct->ctid, VZ_LOG_WARN, "CT %u: its monitor is slow to go", ct->ctid);
	vz_log(ctx, ct->ctid, VZ_LOG_INFO, "Container was checkpointed");
	return 0;
}

/* ---- restore, in the monitor ---- */

/* criu leaves its cgroup yard mounted in the work directory when killed */
static void unmount_yards(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, ".criu.cgyard.", 13)) {
			_cleanup_free_ char *p = xasprintf("%s/%s", dir, de->d_name);
			(void)umount2(p, MNT_DETACH);
			(void)rmdir(p);
		}
	closedir(d);
}

/* The CT's cgroup here, which may differ from where it was dumped (another
 * VZ_ROOT's parent): one root for every hierarchy, as vz gives the CT one
 * path in each; its cgroup namespace keeps the paths below it. */
static void cgroup_root(vz_ctx *ctx, const struct vz_ct *ct, struct vz_argv *a)
{
	_cleanup_free_ char *rel = vz_cg_rel(ctx, ct->ctid);
	vz_argv_add(a, "--cgroup-root");
	vz_argv_add(a, "/%s", rel);
}

int vz_cpt_restore_init(vz_ctx *ctx, struct vz_ct *ct, const struct vz_cgroups *cg,
			const char *dir, struct vz_init_proc *ip, vz_error *err)
{
	struct vz_conf meta = {0};
	_cleanup_free_ char *mp = xasprintf("%s/" DUMP_META, dir);
	_cleanup_free_ char *log = xasprintf("%s/restore.log", dir);
	/* criu may get a /run of its own (vz_criu_spawn_at): then its pid file
	 * goes in the dump directory, which it sees in any mount namespace */
	bool own_run = !vz_under_run(dir) && !vz_under_run(ct->root_dir) &&
		       (!vz_under_run(ctx->run_dir) || access(dir, W_OK) == 0);
	_cleanup_free_ char *pidf = own_run && vz_under_run(ctx->run_dir)
					    ? xasprintf("%s/restore.pid", dir)
					    : xasprintf("%s/%u.criu.pid", ctx->run_dir, ct->ctid);
	int master = -1, slave = -1, r;
	char pts[64] = "";
	ip->pid = ip->pidfd = ip->console = -1;
	if ((r = vz_conf_load(&meta, mp, err)))
		return r;
	vz_seccomp_dump_fixup(dir);
	const char *tty = vz_conf_get(&meta, "TTY");
	/* the restored tasks read their images through criu's directory fd
	 * before their new user namespace has a map, as an unmapped user:
	 * they need search permission (DUMPDIR itself stays root's, 0700,
	 * and keeps everyone else away from the CT's memory) */
	if (chmod(dir, 0711) < 0)
		r = vz_err_errno(err, VZ_E_RESTORE, errno, "CT %u: cannot hand %s to the CT",
				 ct->ctid, dir);
	if (!r) {
		_cleanup_free_ char *tf = xasprintf("%s/" DUMP_CGROUPS, dir);
		_cleanup_free_ char *tree = read_file(tf, NULL);
		_cleanup_free_ char *rel = vz_cg_rel(ctx, ct->ctid);
		vz_cg_tree_make(cg, rel, tree, ct->uid_base, ct->gid_base);
	}
	if (!r && !(r = vz_console_pty(ct, &master, &slave, pts, sizeof(pts), err)))
		(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	struct vz_argv a = {0};
	vz_argv_add(&a, "restore");
	vz_argv_add(&a, "-D");
	vz_argv_add(&a, "%s", dir);
	vz_argv_add(&a, "-o");
	vz_argv_add(&a, "%s", log);
	vz_argv_add(&a, "-v4");
	/* criu works below the root as the CT's root user, who may not be
	 * able to pass the host's directories above it (a private VZ_ROOT):
	 * it gets the root at a path anyone can reach, in a mount namespace
	 * of its own (unless /tmp is where vz's own files are) */
	bool shadow = strncmp(ct->root_dir, "/tmp/", 5) && strncmp(dir, "/tmp/", 5) &&
		      strncmp(ctx->run_dir, "/tmp/", 5);
	vz_argv_add(&a, "--root");
	vz_argv_add(&a, "%s", shadow ? CRIU_ROOT : ct->root_dir);
	/* full: the CT's whole cgroup tree back, empty slices too (systemd
	 * watches their cgroup.events) */
	vz_argv_add(&a, "--manage-cgroups=full");
	yard_make(dir, 0, &a);
	cgroup_root(ctx, ct, &a);
	vz_argv_add(&a, "--file-locks");
	vz_argv_add(&a, "--link-remap");
	vz_argv_add(&a, "--tcp-established");
	/* the host's files the CT had bound in, from where they are here */
	const char *lxcfs = NULL;
	{
		vz_error e;
		lxcfs = vz_procfs_ensure(ctx, &e);
	}
	_cleanup_free_ char *binds = xstrdup(vz_conf_get(&meta, "HOST_BINDS") ?: "");
	char *save = NULL;
	for (char *w = strtok_r(binds, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		char *bar = strchr(w, '|'), *colon = bar ? strchr(bar, ':') : NULL;
		if (!colon)
			continue;
		*bar = *colon = '\0';
		const char *kind = bar + 1, *root = colon + 1;
		if (!strcmp(kind, "lxcfs") && !lxcfs) {
			r = r ? r : vz_err(err, VZ_E_RESTORE, "CT %u: lxcfs is not running here",
					   ct->ctid);
			continue;
		}
		vz_argv_add(&a, "--external");
		vz_argv_add(&a, "mnt[%s]:%s%s", w, !strcmp(kind, "lxcfs") ? lxcfs : "/dev", root);
	}
	if (tty && *tty) {
		vz_argv_add(&a, "--inherit-fd");
		vz_argv_add(&a, "fd[%d]:tty[%s]", slave, tty);
		vz_argv_add(&a, "--external");
		vz_argv_add(&a, "mnt[console]:%s", pts);
	}
	if (vz_parse_bool(vz_conf_get(&meta, "VENET")) == 1) {
		char ifn[16];
		vz_net_host_ifname(ct->ctid, ifn, sizeof(ifn));
		vz_argv_add(&a, "--external");
		vz_argv_add(&a, "veth[venet0]:%s", ifn);
	}
	struct vz_netif nf[VZ_MAX_NETIFS];
	size_t nn = vz_netcfg_netifs(vz_conf_get(&meta, "NETIF"), ct->ctid, nf, VZ_MAX_NETIFS);
	for (size_t i = 0; i < nn; i++) {
		vz_argv_add(&a, "--external");
		if (*nf[i].bridge)
			vz_argv_add(&a, "veth[%s]:%s@%s", nf[i].ifname, nf[i].host_ifname,
				    nf[i].bridge);
		else
			vz_argv_add(&a, "veth[%s]:%s", nf[i].ifname, nf[i].host_ifname);
	}
	/* memory still on the source: the lazy-pages daemon in this
	 * directory serves it on demand (migration, post-copy) */
	if (vz_parse_bool(vz_conf_get(&meta, "LAZY")) == 1)
		vz_argv_add(&a, "--lazy-pages");
	/* detached, as a sibling of criu: a child of this monitor */
	vz_argv_add(&a, "--restore-detached");
	vz_argv_add(&a, "--restore-sibling");
	vz_argv_add(&a, "--pidfile");
	vz_argv_add(&a, "%s", pidf);
	(void)unlink(pidf); /* criu opens it O_EXCL */
	if (!r) {
		pid_t pid = vz_criu_spawn_at(ctx, &a, &slave, 1, shadow ? ct->root_dir : NULL,
					     own_run, err);
		int s = pid < 0 ? 0 : vz_criu_wait(pid, RESTORE_TIMEOUT_MS);
		if (pid < 0)
			r = err->code;
		else if (s != 0)
			r = vz_criu_fail(err, VZ_E_RESTORE, ct->ctid, "restore", s, log);
	}
	yard_drop(dir);
	if (!r) {
		_cleanup_free_ char *p = read_file(pidf, NULL);
		ip->pid = p ? (pid_t)atoi(p) : -1;
		ip->pidfd = ip->pid > 0 ? (int)syscall(SYS_pidfd_open, ip->pid, 0) : -1;
		if (ip->pidfd < 0)
			r = vz_err(err, VZ_E_RESTORE, "CT %u: the restored init is gone", ct->ctid);
	}
	(void)unlink(pidf);
	if (!r) {
		/* dumped frozen (a migration freezes before criu does, chkpnt
		 * --suspend too), restored so: it runs on once back */
		_cleanup_free_ char *rel = vz_cg_rel(ctx, ct->ctid);
		r = vz_cg_freeze(cg, rel, false, err);
		if (r)
			err->code = r = VZ_E_RESTORE;
	}
	if (!r)
		r = vz_netcfg_restored(ctx, ct, vz_conf_get(&meta, "IP_ADDRESS"),
				       vz_conf_get(&meta, "NETIF"), err);
	if (r) {
		unmount_yards(dir);
		if (ip->pid > 0)
			kill(ip->pid, SIGKILL);
		if (ip->pidfd >= 0)
			close(ip->pidfd);
		ip->pid = ip->pidfd = -1;
		if (master >= 0)
			close(master);
	} else {
		ip->console = master;
	}
	if (slave >= 0)
		close(slave);
	vz_argv_free(&a);
	vz_conf_free(&meta);
	return r;
}

/* ---- the operations ---- */

static const char *dump_dir_of(vz_ctx *ctx, unsigned ctid, const struct vz_cpt_opts *o,
			       char **own)
{
	*own = NULL;
	if (o && o->dumpfile && *o->dumpfile)
		return o->dumpfile;
	return *own = vz_dump_default(ctx, ctid);
}

static int chkpnt_op(vz_ctx *ctx, struct vz_ct *ct, void *arg, vz_error *err)
{
	const struct vz_cpt_opts *o = arg;
	_cleanup_free_ char *own = NULL;
	const char *dir = dump_dir_of(ctx, ct->ctid, o, &own);
	struct vz_state st;
	int r;
	switch (o->action) {
	case VZ_CPT_FULL:
		return do_dump(ctx, ct, dir, false, err);
	case VZ_CPT_DUMP:
		return do_dump(ctx, ct, dir, true, err);
	case VZ_CPT_KILL:
		return vz_ct_stop_locked(ctx, ct, VZ_STOP_FAST, err);
	case VZ_CPT_SUSPEND:
	case VZ_CPT_RESUME:
		if (vz_state_read(ctx, ct->ctid, &st) != 1)
			return vz_err(err, VZ_E_NOTRUNNING, "CT %u is not running", ct->ctid);
		r = vz_ct_cg_freeze(ctx, ct->ctid, o->action == VZ_CPT_SUSPEND, err);
		if (r)
			err->code = o->action == VZ_CPT_SUSPEND ? VZ_E_CHKPNT : VZ_E_RESTORE;
		else
			vz_log(ctx, ct->ctid, VZ_LOG_INFO, "Container was %s",
			       o->action == VZ_CPT_SUSPEND ? "suspended" : "resumed");
		return r ? err->code : 0;
	}
	return vz_err(err, VZ_E_BADOPT, "unknown checkpoint action");
}

/* A checkpoint or restore runs to its end once begun: Ctrl-C then would
 * leave the CT half dumped, or dumped with its dump nowhere vz knows. */
int vz_ct_chkpnt(vz_ctx *ctx, unsigned ctid, const struct vz_cpt_opts *o, vz_error *err)
{
	return vz_ct_locked_guarded(ctx, ctid, "checkpoint", chkpnt_op, (void *)o, err);
}

int vz_cpt_restore_locked(vz_ctx *ctx, struct vz_ct *ct, const char *dir, vz_error *err)
{
	if (!vz_dump_exists(dir))
		return vz_err(err, VZ_E_RESTORE, "CT %u: %s is not a dump of a CT (no %s)", ct->ctid,
			      dir, path_exists(dir) ? "inventory.img or " DUMP_META : "such directory");
	struct vz_conf meta = {0};
	_cleanup_free_ char *mp = xasprintf("%s/" DUMP_META, dir);
	int r = vz_conf_load(&meta, mp, err);
	if (r)
		return r;
	const char *v = vz_conf_get(&meta, "CTID");
	_cleanup_free_ char *id = xstrdup(v ? v : "(unknown)");
	vz_conf_free(&meta);
	if (strtoul(id, NULL, 10) != ct->ctid)
		return vz_err(err, VZ_E_RESTORE, "CT %u: %s is the dump of CT %s", ct->ctid, dir, id);
	/* a dump may come from elsewhere (a peer, a copy): nothing in it
	 * chooses host paths, names or ids */
	if ((r = vz_dump_check(ctx, ct, dir, err)))
		return r;
	vz_log(ctx, ct->ctid, VZ_LOG_INFO, "Restoring the container from %s", dir);
	vz_criu_kdat_seed(ctx);
	return vz_ct_start_from(ctx, ct, dir, err);
}

static int restore_op(vz_ctx *ctx, struct vz_ct *ct, void *arg, vz_error *err)
{
	const struct vz_cpt_opts *o = arg;
	_cleanup_free_ char *own = NULL;
	const char *dir = dump_dir_of(ctx, ct->ctid, o, &own);
	if (o && o->action == VZ_CPT_RESUME) {
		struct vz_cpt_opts t = *o;
		t.action = VZ_CPT_RESUME;
		return chkpnt_op(ctx, ct, &t, err);
	}
	int r = vz_cpt_restore_locked(ctx, ct, dir, err);
	/* the default dump is used up; one the user named stays theirs */
	if (!r && own)
		(void)rm_rf(own);
	return r;
}

int vz_ct_restore(vz_ctx *ctx, unsigned ctid, const struct vz_cpt_opts *o, vz_error *err)
{
	struct vz_cpt_opts d = {0};
	return vz_ct_locked_guarded(ctx, ctid, "restore", restore_op, (void *)(o ? o : &d), err);
}
