/* The CT's filesystem view, built inside its mount namespace before
 * pivot_root: /proc, read-only /sys with its own cgroup mounts, a /dev
 * with only the standard nodes, devpts with a private ptmx, a console,
 * and tmpfs on /run. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/mount.h>
#include "internal.h"

#define MFLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC)

static int mnt(const char *root, const char *src, const char *dst, const char *type,
	       unsigned long flags, const char *data, vz_error *err)
{
	_cleanup_free_ char *p = xasprintf("%s%s", root, dst);
	if (mkdir_p(p, 0755) < 0 && errno != EEXIST)
		return vz_err_errno(err, VZ_E_MOUNT, errno, "cannot create %s", dst);
	if (mount(src, p, type, flags, data) < 0)
		return vz_err_errno(err, VZ_E_MOUNT, errno, "cannot mount %s on %s",
				    type ? type : src, dst);
	return 0;
}

/* Device nodes cannot be made in a user namespace: bind the host's. */
static int bind_dev(const char *root, const char *name, vz_error *err)
{
	_cleanup_free_ char *src = xasprintf("/dev/%s", name);
	_cleanup_free_ char *dst = xasprintf("%s/dev/%s", root, name);
	int fd = open(dst, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
	if (fd < 0)
		return vz_err_errno(err, VZ_E_MOUNT, errno, "cannot create /dev/%s", name);
	close(fd);
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
		return vz_err_errno(err, VZ_E_MOUNT, errno, "cannot bind /dev/%s", name);
	return 0;
}

static void mount_cgroups(const char *root)
{
	struct vz_cgroups cg;
	vz_error e;
	if (vz_cg_detect(&cg, &e))
		return;
	_cleanup_free_ char *base = xasprintf("%s/sys/fs/cgroup", root);
	/* a pure v2 host: the CT sees one cgroup2 mount, its own subtree */
	if (cg.n == 1 && cg.h[0].v2 && !strcmp(cg.h[0].mnt, "/sys/fs/cgroup")) {
		(void)mount("cgroup2", base, "cgroup2", MFLAGS, NULL);
		vz_cg_free(&cg);
		return;
	}
	if (mount("cgroup", base, "tmpfs", MFLAGS, "mode=755,size=64k") < 0) {
		vz_cg_free(&cg);
		return;
	}
	for (size_t i = 0; i < cg.n; i++) {
		const char *m = strrchr(cg.h[i].mnt, '/');
		_cleanup_free_ char *dst = xasprintf("%s%s", base, m ? m : "/unified");
		if (mkdir(dst, 0755) < 0 && errno != EEXIST)
			continue;
		/* our cgroup namespace makes the CT's cgroup the root seen here */
		if (cg.h[i].v2)
			(void)mount("cgroup2", dst, "cgroup2", MFLAGS, NULL);
		else
			(void)mount("cgroup", dst, "cgroup", MFLAGS, cg.h[i].ctrls);
	}
	/* v1 hosts also link cpu,cpuacct style names as the host does */
	(void)mount(NULL, base, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MFLAGS, NULL);
	vz_cg_free(&cg);
}

/* The console the monitor made (a host pty) bound onto /dev/console */
static int bind_console(const char *root, const char *pts, vz_error *err)
{
	_cleanup_free_ char *console = xasprintf("%s/dev/console", root);
	int fd = open(console, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	if (fd < 0 || mount(pts, console, NULL, MS_BIND, NULL) < 0)
		return vz_err_errno(err, VZ_E_MOUNT, errno, "cannot bind the console");
	return 0;
}

/* Host-wide kernel state a CT has no business seeing, as crun and LXC
 * mask it: files get /dev/null, directories an empty read-only tmpfs.
 * Most are refused inside a user namespace already (mode 0400 root of the
 * host) or absent on a kernel built without them; these are for the rest
 * and for privileged CTs. kallsyms: the kernel shows real addresses to
 * everyone when kptr_restrict=0 and perf_event_paranoid<=1. */
static const char *const masked[] = {
	"/proc/kcore", "/proc/keys", "/proc/key-users", "/proc/timer_list",
	"/proc/timer_stats", "/proc/sched_debug", "/proc/latency_stats",
	"/proc/sysrq-trigger", "/proc/kallsyms", "/proc/acpi", "/proc/scsi",
};
/* read-only, writable re-binds under /proc/sys below */
static const char *const readonly[] = {"/proc/sys", "/proc/irq", "/proc/bus", "/proc/fs"};
/* /proc/sys entries that belong to the CT's own namespaces (net, ipc, uts):
 * networking and systemd set them inside */
static const char *const sys_rw[] = {
	"/proc/sys/net", "/proc/sys/fs/mqueue", "/proc/sys/kernel/hostname",
	"/proc/sys/kernel/domainname", "/proc/sys/kernel/shmmax",
	"/proc/sys/kernel/shmall", "/proc/sys/kernel/shmmni",
	"/proc/sys/kernel/shm_rmid_forced", "/proc/sys/kernel/msgmax",
	"/proc/sys/kernel/msgmnb", "/proc/sys/kernel/msgmni", "/proc/sys/kernel/sem",
	"/proc/sys/kernel/auto_msgmni", "/proc/sys/kernel/sem_next_id",
	"/proc/sys/kernel/msg_next_id", "/proc/sys/kernel/shm_next_id",
};

static int mask_path(const char *root, const char *path, vz_error *err)
{
	_cleanup_free_ char *p = xasprintf("%s%s", root, path);
	struct stat st;
	if (lstat(p, &st) < 0)
		return 0; /* not on this kernel */
	int rc = S_ISDIR(st.st_mode)
			 ? mount("masked", p, "tmpfs", MFLAGS | MS_RDONLY, "mode=555")
			 : mount("/dev/null", p, NULL, MS_BIND, NULL);
	if (rc < 0)
		return vz_err_errno(err, VZ_E_MOUNT, errno, "cannot mask %s", path);
	return 0;
}

static int bind_self(const char *p)
{
	return mount(p, p, NULL, MS_BIND, NULL);
}

/* path read-only; for /proc/sys, the CT's own entries writable below it */
static int ro_bind(const char *root, const char *path, bool with_rw, vz_error *err)
{
	_cleanup_free_ char *p = xasprintf("%s%s", root, path);
	if (!path_exists(p))
		return 0;
	if (bind_self(p) < 0)
		return vz_err_errno(err, VZ_E_MOUNT, errno, "cannot bind %s", path);
	/* below the read-only bind, before it turns read-only: the writable
	 * entries are mounts of their own and stay so */
	for (size_t j = 0; with_rw && j < ARRAY_SIZE(sys_rw); j++) {
		char *w = xasprintf("%s%s", root, sys_rw[j]);
		int rc = path_exists(w) ? bind_self(w) : 0;
		free(w);
		if (rc < 0)
			return vz_err_errno(err, VZ_E_MOUNT, errno, "cannot bind %s", sys_rw[j]);
	}
	if (mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MFLAGS, NULL) < 0)
		return vz_err_errno(err, VZ_E_MOUNT, errno, "cannot make %s read-only", path);
	return 0;
}

/* The CT's fresh /proc, masked and partly read-only */
static int protect_proc(const char *root, vz_error *err)
{
	int r;
	for (size_t i = 0; i < ARRAY_SIZE(masked); i++)
		if ((r = mask_path(root, masked[i], err)))
			return r;
	for (size_t i = 0; i < ARRAY_SIZE(readonly); i++)
		if ((r = ro_bind(root, readonly[i], i == 0, err)))
			return r;
	return 0;
}

static int protect_sys(const char *root, vz_error *err)
{
	static const char *const sys_masked[] = {"/sys/firmware",
						 "/sys/devices/virtual/powercap"};
	for (size_t i = 0; i < ARRAY_SIZE(sys_masked); i++) {
		int r = mask_path(root, sys_masked[i], err);
		if (r)
			return r;
	}
	return 0;
}

/* Works relative to the cwd, which is the CT root (a mount point). */
/* NESTING="yes": a second proc and sysfs, with nothing mounted over them,
 * where LXC's nesting puts them. The kernel lets a nested user namespace
 * mount a new proc (or sysfs) only if one already in its mount namespace
 * is fully visible (fs/namespace.c, mount_too_revealing): the CT's /proc,
 * with vz's masks and lxcfs's files over it, is not. These show CT root
 * nothing it could not mount itself: the masks are not locked. */
static int nesting_mounts(const char *root, vz_error *err)
{
	int r;
	if ((r = mnt(root, "proc", "/dev/.lxc/proc", "proc", MFLAGS, NULL, err)))
		return r;
	return mnt(root, "sysfs", "/dev/.lxc/sys", "sysfs", MFLAGS | MS_RDONLY, NULL, err);
}

int vz_rootfs_setup(bool userns, const char *lxcfs, const char *console_pts, bool nesting,
		    vz_error *err)
{
	const char *root = ".";
	static const char *const nodes[] = {"null", "zero", "full", "random", "urandom",
					    "tty"};
	static const char *const links[][2] = {
		{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"},
		{"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
		{"pts/ptmx", "ptmx"}, {"/proc/kcore", "core"}};
	int r;
	/* The CT root came with the namespace's copy of the host's mounts,
	 * which a user namespace locks and pivot_root refuses: stack a clone
	 * of it on itself and move the cwd onto the clone. */
	int t = (int)syscall(SYS_open_tree, AT_FDCWD, ".",
			     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (t < 0 ||
	    syscall(SYS_move_mount, t, "", AT_FDCWD, ".", MOVE_MOUNT_F_EMPTY_PATH) < 0 ||
	    fchdir(t) < 0) {
		int e = errno;
		if (t >= 0)
			close(t);
		return vz_err_errno(err, VZ_E_MOUNT, e, "cannot bind the CT root");
	}
	close(t);
	/* Everything below is made on fresh mounts of ours over these four;
	 * were one of them a symlink of the CT's, a path through it would be
	 * resolved from the host's root, where this process still is. The CT
	 * has no process running now to swap them afterwards. */
	static const char *const tops[] = {"proc", "sys", "dev", "run"};
	for (size_t i = 0; i < ARRAY_SIZE(tops); i++) {
		struct stat st;
		if (fstatat(AT_FDCWD, tops[i], &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT &&
		    mkdirat(AT_FDCWD, tops[i], 0755) < 0 && errno != EEXIST)
			return vz_err_errno(err, VZ_E_MOUNT, errno, "cannot create /%s", tops[i]);
		if (fstatat(AT_FDCWD, tops[i], &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			return vz_err(err, VZ_E_MOUNT, "/%s in the CT's root is not a directory",
				      tops[i]);
	}
	if ((r = mnt(root, "proc", "/proc", "proc", MFLAGS, NULL, err)))
		return r;
	/* the same with a user namespace or without: the kernel refuses
	 * much of it to a user namespace anyway, the rest is defence in depth */
	(void)userns;
	if ((r = protect_proc(root, err)))
		return r;
	if ((r = vz_procfs_bind(lxcfs, root, err)))
		return r;
	if ((r = mnt(root, "sysfs", "/sys", "sysfs", MFLAGS | MS_RDONLY, NULL, err)))
		return r;
	if ((r = protect_sys(root, err)))
		return r;
	mount_cgroups(root);
	if ((r = mnt(root, "devtmp", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC,
		     "mode=755,size=65536k", err)))
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(nodes); i++)
		if ((r = bind_dev(root, nodes[i], err)))
			return r;
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		_cleanup_free_ char *l = xasprintf("%s/dev/%s", root, links[i][1]);
		if (symlink(links[i][0], l) < 0 && errno != EEXIST)
			return vz_err_errno(err, VZ_E_MOUNT, errno, "cannot link /dev/%s",
					    links[i][1]);
	}
	if ((r = mnt(root, "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		     "newinstance,ptmxmode=0666,mode=0620,gid=5", err)))
		return r;
	if ((r = mnt(root, "shm", "/dev/shm", "tmpfs", MFLAGS, "mode=1777", err)))
		return r;
	if ((r = mnt(root, "mqueue", "/dev/mqueue", "mqueue", MFLAGS, NULL, err)))
		return r;
	if (nesting && (r = nesting_mounts(root, err)))
		return r;
	if ((r = mnt(root, "run", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755", err)))
		return r;
	if ((r = bind_console(root, console_pts, err)))
		return r;
	if (syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return vz_err_errno(err, VZ_E_MOUNT, errno, "cannot pivot_root into the CT root");
	return 0;
}

int vz_nesting(const struct vz_ct *ct, const vz_ctx *ctx, vz_error *err)
{
	const char *v = vz_ct_get(ct, ctx, "NESTING");
	if (!v || !*v)
		return 0;
	int b = vz_parse_bool(v);
	if (b < 0)
		vz_err(err, VZ_E_CONFIG, "CT %u: NESTING=\"%.32s\": expected yes or no", ct->ctid,
		       v);
	return b;
}
