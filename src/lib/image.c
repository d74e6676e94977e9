/* Disk images: a sparse file holding an ext4 file system, attached to a
 * loop device while mounted. They give a CT a hard size limit (ENOSPC
 * inside, never on the host), a fixed number of inodes, and one file to
 * move. The loop device is set to clear itself when the file system is
 * unmounted, so no loop device outlives its mount. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include "internal.h"

#define MKFS "/sbin/mkfs.ext4"
#define RESIZE2FS "/sbin/resize2fs"
#define E2FSCK "/sbin/e2fsck"

/* Runs an e2fsprogs tool; out gets what it printed (the end of it, when
 * long), with lines joined by "; ". */
static int run_tool(char *const argv[], char *out, size_t outsz)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
	pid_t pid;
	int r = posix_spawn(&pid, argv[0], &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (r) {
		close(p[0]);
		snprintf(out, outsz, "cannot run %s: %s", argv[0], strerror(r));
		return -1;
	}
	size_t len = 0;
	ssize_t n;
	char buf[512];
	out[0] = '\0';
	while ((n = read(p[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
		for (ssize_t i = 0; i < n; i++) {
			char c = buf[i] == '\n' ? ';' : buf[i];
			if (len + 2 >= outsz) { /* keep the end: drop the oldest half */
				memmove(out, out + outsz / 2, len - outsz / 2);
				len -= outsz / 2;
			}
			out[len++] = c;
			if (c == ';')
				out[len++] = ' ';
		}
	}
	while (len && (out[len - 1] == ' ' || out[len - 1] == ';'))
		len--;
	out[len] = '\0';
	close(p[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

int vz_image_create(const char *path, unsigned long long kb, unsigned long long inodes,
		    vz_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return vz_err_errno(err, VZ_E_CREATEPRIV, errno, "cannot create %s", path);
	/* sparse: blocks are taken as the CT writes */
	int r = ftruncate(fd, (off_t)(kb * 1024));
	int e = errno;
	close(fd);
	if (r < 0) {
		(void)unlink(path);
		return vz_err_errno(err, VZ_E_CREATEPRIV, e, "cannot size %s", path);
	}
	char ni[32];
	snprintf(ni, sizeof(ni), "%llu", inodes);
	/* -m 0: the CT's root has no CAP_SYS_RESOURCE on the host, so
	 * reserved blocks would only hide space from it */
	char *argv[16] = {MKFS, "-q", "-F", "-m", "0", "-E", "nodiscard,lazy_itable_init=1",
			  "-L", "vz-ct"};
	int a = 9;
	if (inodes) {
		argv[a++] = "-N";
		argv[a++] = ni;
	}
	argv[a++] = (char *)path;
	argv[a] = NULL;
	char out[256] = "";
	if (run_tool(argv, out, sizeof(out)) != 0) {
		(void)unlink(path);
		return vz_err(err, VZ_E_CREATEPRIV, "cannot make a file system in %s: %s", path,
			      out);
	}
	return 0;
}

/* Attaches the image to a free loop device; returns its fd (the device
 * stays until unmounted: autoclear), its path in dev. */
static int loop_attach(const char *img, char *dev, size_t devsz, vz_error *err)
{
	int ifd = open(img, O_RDWR | O_CLOEXEC);
	if (ifd < 0)
		return -vz_err_errno(err, VZ_E_MOUNT, errno, "cannot open %s", img);
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		close(ifd);
		return -vz_err_errno(err, VZ_E_MOUNT, errno, "cannot open /dev/loop-control");
	}
	for (int tries = 0; tries < 16; tries++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0)
			break;
		snprintf(dev, devsz, "/dev/loop%d", n);
		int lfd = open(dev, O_RDWR | O_CLOEXEC);
		if (lfd < 0)
			continue;
		struct loop_config lc = {.fd = (unsigned)ifd,
					 .info = {.lo_flags = LO_FLAGS_AUTOCLEAR | LO_FLAGS_DIRECT_IO}};
		snprintf((char *)lc.info.lo_file_name, sizeof(lc.info.lo_file_name), "%s", img);
		int r = ioctl(lfd, LOOP_CONFIGURE, &lc);
		if (r < 0 && errno == EINVAL) { /* no direct I/O on this file system */
			lc.info.lo_flags = LO_FLAGS_AUTOCLEAR;
			r = ioctl(lfd, LOOP_CONFIGURE, &lc);
		}
		if (r == 0) {
			close(ctl);
			close(ifd);
			return lfd;
		}
		close(lfd);
		if (errno != EBUSY) /* EBUSY: another attach raced us to it */
			break;
	}
	int e = errno;
	close(ctl);
	close(ifd);
	return -vz_err_errno(err, VZ_E_MOUNT, e, "cannot attach %s to a loop device", img);
}

int vz_image_mount(const char *img, const char *dir, vz_error *err)
{
	char dev[64];
	if (mkdir_p(dir, 0700) < 0)
		return vz_err_errno(err, VZ_E_MOUNT, errno, "cannot create %s", dir);
	int lfd = loop_attach(img, dev, sizeof(dev), err);
	if (lfd < 0)
		return -lfd;
	int r = 0;
	/* every mount of an image is a host-side view of a CT's files: the CT
	 * gets its own idmapped clone (storage.c) */
	if (mount(dev, dir, "ext4", MS_NOATIME | MS_NOSUID | MS_NODEV,
		  "errors=remount-ro,noinit_itable") < 0)
		r = vz_err_errno(err, VZ_E_MOUNT, errno,
				 "cannot mount %s (a corrupt or foreign image?)", img);
	/* mounted: the device is the mount's now, cleared when it goes;
	 * not mounted: closing the last fd clears it */
	if (r)
		(void)ioctl(lfd, LOOP_CLR_FD, 0);
	close(lfd);
	return r;
}

/* Everything written to the image is on the host's disk, or an error: a
 * full host disk shows here (writeback fails), not as a silent hole. */
int vz_image_sync(const char *dir, vz_error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot open %s", dir);
	int r = syncfs(fd);
	int e = errno;
	close(fd);
	if (r < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, e,
				    "cannot write the image mounted on %s (is the host's disk full?)",
				    dir);
	return 0;
}

int vz_image_umount(const char *dir, vz_error *err)
{
	if (!is_mountpoint(dir))
		return 0;
	if (umount2(dir, 0) < 0 && (errno != EBUSY || umount2(dir, MNT_DETACH) < 0))
		return vz_err_errno(err, VZ_E_UMOUNT, errno, "cannot unmount %s", dir);
	return 0;
}

/* The loop device under a mount point: its st_dev, named by sysfs. */
static int loop_of(const char *dir, char *dev, size_t devsz)
{
	struct stat st;
	if (stat(dir, &st) < 0)
		return -1;
	char link[64], target[256];
	snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", major(st.st_dev), minor(st.st_dev));
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -1;
	target[n] = '\0';
	const char *name = strrchr(target, '/');
	if (!name || strncmp(name + 1, "loop", 4)) {
		errno = ENXIO;
		return -1;
	}
	snprintf(dev, devsz, "/dev%s", name);
	return 0;
}

static int grow_fs(const char *img, const char *mnt, vz_error *err)
{
	char dev[64], out[512] = "";
	if (mnt && is_mountpoint(mnt)) {
		/* online: the loop device learns the new size, then ext4 grows */
		if (loop_of(mnt, dev, sizeof(dev)) < 0)
			return vz_err_errno(err, VZ_E_SYSTEM, errno, "no loop device under %s", mnt);
		int lfd = open(dev, O_RDWR | O_CLOEXEC);
		if (lfd < 0 || ioctl(lfd, LOOP_SET_CAPACITY, 0) < 0) {
			int e = errno;
			if (lfd >= 0)
				close(lfd);
			return vz_err_errno(err, VZ_E_SYSTEM, e, "cannot resize %s", dev);
		}
		close(lfd);
		char *argv[] = {RESIZE2FS, dev, NULL};
		if (run_tool(argv, out, sizeof(out)) != 0)
			/* ext4 grows online only with CAP_SYS_RESOURCE, which some
			 * hosts withhold even from root */
			return vz_err(err, strstr(out, "Permission denied") ? VZ_E_PERM : VZ_E_SYSTEM,
				      "cannot grow the file system of %s online: %s", img, out);
		return 0;
	}
	char *fsck[] = {E2FSCK, "-f", "-p", (char *)img, NULL};
	int fr = run_tool(fsck, out, sizeof(out));
	if (fr > 1) /* 1: errors corrected */
		return vz_err(err, VZ_E_SYSTEM, "e2fsck %s: %s", img, out);
	char *argv[] = {RESIZE2FS, (char *)img, NULL};
	if (run_tool(argv, out, sizeof(out)) != 0)
		return vz_err(err, VZ_E_SYSTEM, "cannot grow the file system of %s: %s", img, out);
	return 0;
}

int vz_image_grow(const char *img, const char *mnt, unsigned long long kb, vz_error *err)
{
	struct stat st;
	if (stat(img, &st) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot stat %s", img);
	unsigned long long cur = (unsigned long long)st.st_size / 1024;
	if (kb < cur)
		return vz_err(err, VZ_E_BADVALUE,
			      "%s is %llu KB; shrinking an image is not supported", img, cur);
	if (kb == cur)
		return 0;
	if (truncate(img, (off_t)(kb * 1024)) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot grow %s", img);
	int r = grow_fs(img, mnt, err);
	/* the file system did not grow: neither does the file (if that
	 * fails too, a file larger than its file system is harmless) */
	if (r && truncate(img, st.st_size) < 0)
		return r;
	return r;
}

/* Freed blocks go back to the host: FITRIM on ext4 punches holes in the
 * loop device's file. */
int vz_image_compact(const char *mnt, unsigned long long *trimmed, vz_error *err)
{
	int fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot open %s", mnt);
	struct fstrim_range fr = {.start = 0, .len = ULLONG_MAX, .minlen = 0};
	int r = ioctl(fd, FITRIM, &fr);
	int e = errno;
	close(fd);
	if (r < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, e, "cannot trim %s", mnt);
	if (trimmed)
		*trimmed = fr.len;
	return 0;
}

int vz_image_usage(const char *mnt, unsigned long long *used_kb, unsigned long long *total_kb,
		   unsigned long long *used_inodes, unsigned long long *total_inodes)
{
	struct statvfs sv;
	if (statvfs(mnt, &sv) < 0)
		return -1;
	*total_kb = (unsigned long long)sv.f_blocks * sv.f_frsize / 1024;
	*used_kb = (unsigned long long)(sv.f_blocks - sv.f_bfree) * sv.f_frsize / 1024;
	*total_inodes = sv.f_files;
	*used_inodes = sv.f_files - sv.f_ffree;
	return 0;
}

/* Copies an image keeping its holes: a reflink where the file system can
 * (btrfs, xfs: instant), else the data extents only (SEEK_DATA/SEEK_HOLE
 * with copy_file_range). dst is created, never overwritten. */
int vz_image_copy(const char *src, const char *dst, vz_error *err)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot open %s", src);
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		int e = errno;
		close(in);
		return vz_err_errno(err, VZ_E_SYSTEM, e, "cannot create %s", dst);
	}
	struct stat st;
	int r = fstat(in, &st) < 0 ? -1 : 0;
	if (!r && ioctl(out, FICLONE, in) < 0) {
		r = ftruncate(out, st.st_size);
		off_t pos = 0;
		while (!r && pos < st.st_size) {
			off_t data = lseek(in, pos, SEEK_DATA);
			if (data < 0) /* ENXIO: only a hole is left */
				break;
			off_t hole = lseek(in, data, SEEK_HOLE);
			if (hole < 0) {
				r = -1;
				break;
			}
			off_t a = data, b = data;
			while (!r && a < hole) {
				ssize_t n = copy_file_range(in, &a, out, &b, (size_t)(hole - a), 0);
				if (n <= 0)
					r = -1;
			}
			pos = hole;
		}
	}
	if (!r)
		r = fsync(out);
	int e = errno;
	close(in);
	close(out);
	if (r) {
		(void)unlink(dst);
		return vz_err_errno(err, VZ_E_SYSTEM, e, "cannot copy %s to %s", src, dst);
	}
	return 0;
}

/* Holds an image's file system still (FIFREEZE) while it is copied. */
int vz_image_fsfreeze(const char *mnt, bool freeze)
{
	int fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = ioctl(fd, freeze ? FIFREEZE : FITHAW, 0);
	close(fd);
	return r;
}
