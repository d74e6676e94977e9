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

/* Works relative to the cwd, which is the CT root (a mount point). */
int vz_rootfs_setup(bool userns, const char *lxcfs, const char *console_pts, vz_error *err)
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
	if (!userns) {
		/* without a user namespace these would reach the host */
		_cleanup_free_ char *sys = xasprintf("%s/proc/sys", root);
		_cleanup_free_ char *sysrq = xasprintf("%s/proc/sysrq-trigger", root);
		if (mount(sys, sys, NULL, MS_BIND, NULL) < 0 ||
		    mount(NULL, sys, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MFLAGS, NULL) < 0 ||
		    (path_exists(sysrq) && mount("/dev/null", sysrq, NULL, MS_BIND, NULL) < 0))
			return vz_err_errno(err, VZ_E_MOUNT, errno, "cannot protect /proc");
	}
	if ((r = vz_procfs_bind(lxcfs, root, err)))
		return r;
	if ((r = mnt(root, "sysfs", "/sys", "sysfs", MFLAGS | MS_RDONLY, NULL, err)))
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
	if ((r = mnt(root, "run", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755", err)))
		return r;
	if ((r = bind_console(root, console_pts, err)))
		return r;
	if (syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return vz_err_errno(err, VZ_E_MOUNT, errno, "cannot pivot_root into the CT root");
	return 0;
}
