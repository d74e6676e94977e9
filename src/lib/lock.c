/* Per-CT locks: commands on one CT serialize, commands on different CTs
 * run in parallel. flock() so a killed vzctl never leaves a stale lock. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include "internal.h"

static int lock_file(vz_ctx *ctx, const char *path, const char *who,
		     const char *what, int *out, vz_error *err)
{
	if (mkdir_p(ctx->lock_dir, 0755) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot create %s",
				    ctx->lock_dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot open lock %s", path);
	const char *t = vz_conf_get(&ctx->global, "LOCK_TIMEOUT");
	long timeout_ms = (t ? atol(t) : 300) * 1000;
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	bool said = false;
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int e = errno;
			close(fd);
			return vz_err_errno(err, VZ_E_SYSTEM, e, "cannot lock %s", path);
		}
		char holder[128] = "";
		ssize_t n = pread(fd, holder, sizeof(holder) - 1, 0);
		holder[n > 0 ? n : 0] = '\0';
		holder[strcspn(holder, "\n")] = '\0';
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long el = (now.tv_sec - start.tv_sec) * 1000 +
			  (now.tv_nsec - start.tv_nsec) / 1000000;
		/* a guarded operation waiting here has begun nothing yet */
		if (el >= timeout_ms || vz_interrupted()) {
			close(fd);
			return vz_err(err, VZ_E_LOCKED, "%s is locked (%s)%s", who,
				      *holder ? holder : "by another command",
				      el < timeout_ms ? "; interrupted while waiting" : "");
		}
		if (!said && el > 1000) {
			vz_log(ctx, 0, VZ_LOG_DEBUG, "%s is locked (%s), waiting", who, holder);
			said = true;
		}
		struct timespec ts = {0, 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	char buf[128];
	int len = snprintf(buf, sizeof(buf), "pid %d, %s\n", (int)getpid(), what);
	if (ftruncate(fd, 0) == 0)
		(void)pwrite(fd, buf, (size_t)len, 0);
	*out = fd;
	return 0;
}

int vz_lock_ct(vz_ctx *ctx, unsigned ctid, const char *what, int *fd,
	       vz_error *err)
{
	*fd = -1;
	if (ctx->skiplock)
		return 0;
	_cleanup_free_ char *path = xasprintf("%s/%u.lck", ctx->lock_dir, ctid);
	char who[32];
	snprintf(who, sizeof(who), "CT %u", ctid);
	return lock_file(ctx, path, who, what, fd, err);
}

int vz_lock_global(vz_ctx *ctx, const char *name, int *fd, vz_error *err)
{
	_cleanup_free_ char *path = xasprintf("%s/.%s.lck", ctx->lock_dir, name);
	return lock_file(ctx, path, name, "global", fd, err);
}

void vz_unlock(int fd)
{
	if (fd < 0)
		return;
	(void)ftruncate(fd, 0);
	close(fd);
}
