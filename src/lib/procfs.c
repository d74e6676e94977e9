/* The CT's own numbers in /proc (meminfo, cpuinfo, stat, uptime, ...):
 * lxcfs, Debian's well-kept FUSE daemon, computes them from the reader's
 * cgroups; vz starts it when the host does not run it already and binds its
 * files over the CT's /proc. It is one daemon for the whole host, at the
 * path Debian's lxcfs service uses, so it serves every VZ_ROOT. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"

#define LXCFS_BIN "/usr/bin/lxcfs"
#define LXCFS_DIR "/var/lib/lxcfs"
#define FUSE_SUPER_MAGIC 0x65735546

static const char *const files[] = {"cpuinfo", "diskstats", "meminfo", "stat",
				    "swaps", "uptime", "loadavg"};

static bool lxcfs_up(void)
{
	struct statfs sf;
	return statfs(LXCFS_DIR "/proc", &sf) == 0 && sf.f_type == FUSE_SUPER_MAGIC &&
	       access(LXCFS_DIR "/proc/meminfo", R_OK) == 0;
}

const char *vz_procfs_ensure(vz_ctx *ctx, vz_error *err)
{
	const char *want = vz_conf_get(&ctx->global, "LXCFS");
	int on = want ? vz_parse_bool(want) : -1; /* unset: when installed */
	if (on == 0)
		return NULL;
	if (lxcfs_up())
		return LXCFS_DIR;
	if (access(LXCFS_BIN, X_OK) < 0) {
		if (on == 1)
			vz_err(err, VZ_E_SYSTEM, "LXCFS=yes but %s is not installed", LXCFS_BIN);
		return NULL;
	}
	/* an lxcfs that died (killed with the session that started it, say)
	 * leaves its FUSE mount behind, answering ENOTCONN; a new lxcfs
	 * cannot mount over that, so drop it first */
	struct statfs sf;
	if (statfs(LXCFS_DIR, &sf) < 0 && errno == ENOTCONN)
		(void)umount2(LXCFS_DIR, MNT_DETACH);
	if (mkdir_p(LXCFS_DIR, 0755) < 0) {
		vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot create %s", LXCFS_DIR);
		return NULL;
	}
	/* a clean environment, no descriptor of ours */
	char *const argv[] = {"lxcfs", "--enable-cfs", "--enable-loadavg", "-p",
			      "/run/lxcfs.pid", LXCFS_DIR, NULL};
	char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	/* it runs in the foreground: spawn it from a child that exits, so
	 * that it belongs to no CT's monitor */
	pid_t mid = fork();
	if (mid == 0) {
		pid_t pid;
		(void)setsid();
		_exit(posix_spawn(&pid, LXCFS_BIN, &fa, NULL, argv, envp) ? 1 : 0);
	}
	posix_spawn_file_actions_destroy(&fa);
	if (mid > 0)
		(void)waitpid(mid, NULL, 0);
	for (int i = 0; i < 100 && !lxcfs_up(); i++) {
		struct timespec ts = {0, 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	if (lxcfs_up()) {
		vz_log(ctx, 0, VZ_LOG_DEBUG, "started lxcfs on %s", LXCFS_DIR);
		return LXCFS_DIR;
	}
	if (on == 1)
		vz_err(err, VZ_E_SYSTEM, "cannot start lxcfs on %s", LXCFS_DIR);
	else
		vz_log(ctx, 0, VZ_LOG_WARN, "lxcfs did not start: /proc shows host figures");
	return NULL;
}

int vz_procfs_bind(const char *lxcfs, const char *root, vz_error *err)
{
	if (!lxcfs)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *src = xasprintf("%s/proc/%s", lxcfs, files[i]);
		_cleanup_free_ char *dst = xasprintf("%s/proc/%s", root, files[i]);
		if (access(src, F_OK) < 0)
			continue;
		if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
			return vz_err_errno(err, VZ_E_MOUNT, errno, "cannot bind %s on /proc/%s",
					    src, files[i]);
	}
	return 0;
}
