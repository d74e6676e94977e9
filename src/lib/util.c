/* Small helpers for files and processes. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/stat.h>
#include <termios.h>
#include <time.h>
#include "internal.h"

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		abort();
	return p;
}

void *xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (!p)
		abort();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");
	if (!p)
		abort();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p = NULL;
	va_start(ap, fmt);
	int r = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (r < 0)
		abort();
	return p;
}

int mkdir_p(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* Never crosses into another file system: a mount left inside (a cgroup
 * hierarchy, a CT's root) is not ours to empty. */
static int rm_rf_at(int dfd, const char *name, dev_t dev)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOTDIR || errno == ELOOP)
			return unlinkat(dfd, name, 0);
		return errno == ENOENT ? 0 : -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || (dev && st.st_dev != dev)) {
		close(fd);
		errno = EBUSY;
		return -1;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	struct dirent *e;
	int ret = 0;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN) {
			if (rm_rf_at(dirfd(d), e->d_name, st.st_dev) < 0)
				ret = -1;
		} else if (unlinkat(dirfd(d), e->d_name, 0) < 0 && errno != ENOENT) {
			ret = -1;
		}
	}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		ret = -1;
	return ret;
}

int rm_rf(const char *path)
{
	return rm_rf_at(AT_FDCWD, path, 0);
}

ssize_t read_all(int fd, void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t r = read(fd, (char *)buf + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

ssize_t write_all(int fd, const void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t r = write(fd, (const char *)buf + done, len - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

/* Writes all of data to fd and closes it; -1 with the write's errno. */
static int write_and_close(int fd, const char *data, size_t len)
{
	if (fd < 0)
		return -1;
	if (write_all(fd, data, len) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

int write_file(const char *path, const char *data, size_t len, int flags)
{
	return write_and_close(open(path, O_WRONLY | O_CLOEXEC | flags, 0644), data, len);
}

int write_str(const char *path, const char *s)
{
	return write_file(path, s, strlen(s), 0);
}

/* Reads fd to its end (at most max bytes: more is EFBIG) and closes it. */
static char *read_fd(int fd, size_t *lenp, size_t max)
{
	size_t cap = 4096, len = 0;
	char *buf = xmalloc(cap + 1);
	for (;;) {
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (size_t)r > max - len) {
			int e = r < 0 ? errno : EFBIG;
			free(buf);
			close(fd);
			errno = e;
			return NULL;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == cap) {
			cap *= 2;
			char *n = realloc(buf, cap + 1);
			if (!n)
				abort();
			buf = n;
		}
	}
	close(fd);
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
}

char *read_file(const char *path, size_t *lenp)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	return read_fd(fd, lenp, SIZE_MAX);
}

/* A file of the CT's, opened by a helper inside it: a regular file or
 * nothing. CT root may have made it a FIFO, which would hold the helper
 * (and vzctl, and the CT's lock) for ever, or a device without end. */
#define CT_FILE_MAX (4u << 20)
static int open_ct_file(const char *path, int flags)
{
	int fd = open(path, flags | O_NONBLOCK | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

char *read_ct_file(const char *path, size_t *lenp)
{
	int fd = open_ct_file(path, O_RDONLY);
	return fd < 0 ? NULL : read_fd(fd, lenp, CT_FILE_MAX);
}

int write_ct_file(const char *path, const char *data, size_t len, int flags)
{
	return write_and_close(open_ct_file(path, O_WRONLY | flags), data, len);
}

int copy_file(const char *src, const char *dst, mode_t mode)
{
	_cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	_cleanup_close_ int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0)
		return -1;
	char buf[65536];
	for (;;) {
		ssize_t r = read(in, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		if (write_all(out, buf, (size_t)r) < 0)
			return -1;
	}
	if (fchmod(out, mode) < 0)
		return -1;
	return 0;
}

bool path_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* A mount root per statx, so no mount table parsing is needed. */
bool is_mountpoint(const char *path)
{
	struct statx sx;
	if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) < 0)
		return false;
	if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
		return (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
	return false;
}

unsigned long long proc_starttime(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_free_ char *s = read_file(path, NULL);
	if (!s)
		return 0;
	/* comm may hold spaces and parens: count from the last ')' */
	char *p = strrchr(s, ')');
	if (!p)
		return 0;
	p++;
	unsigned long long v = 0;
	int field = 2;
	for (char *tok = strtok(p, " "); tok; tok = strtok(NULL, " ")) {
		field++;
		if (field == 22) {
			v = strtoull(tok, NULL, 10);
			break;
		}
	}
	return v;
}

/* close_range over the gaps between the kept ones (few, small: sorted
 * here by selection); -1 when the kernel has no close_range */
static int close_ranges_around(int first, const int *keep, size_t nkeep)
{
	int sorted[16];
	if (nkeep > ARRAY_SIZE(sorted))
		return -1;
	for (size_t i = 0; i < nkeep; i++)
		sorted[i] = keep[i];
	for (size_t i = 0; i < nkeep; i++)
		for (size_t j = i + 1; j < nkeep; j++)
			if (sorted[j] < sorted[i]) {
				int t = sorted[i];
				sorted[i] = sorted[j];
				sorted[j] = t;
			}
	unsigned from = (unsigned)first;
	for (size_t i = 0; i < nkeep; i++) {
		if (sorted[i] < first || (unsigned)sorted[i] < from)
			continue;
		if ((unsigned)sorted[i] > from &&
		    syscall(SYS_close_range, from, (unsigned)sorted[i] - 1, 0) < 0)
			return -1;
		from = (unsigned)sorted[i] + 1;
	}
	return (int)syscall(SYS_close_range, from, ~0u, 0);
}

void close_fds_from(int first, const int *keep, size_t nkeep)
{
	if (close_ranges_around(first, keep, nkeep) == 0)
		return;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return;
	int self = dirfd(d);
	struct dirent *e;
	int fds[4096];
	size_t n = 0;
	while ((e = readdir(d)) && n < ARRAY_SIZE(fds)) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		int fd = atoi(e->d_name);
		if (fd < first || fd == self)
			continue;
		bool k = false;
		for (size_t i = 0; i < nkeep; i++)
			if (keep[i] == fd)
				k = true;
		if (!k)
			fds[n++] = fd;
	}
	closedir(d);
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

#include <sys/socket.h>

int send_fd(int sock, int fd)
{
	char c = 'F';
	struct iovec iov = {.iov_base = &c, .iov_len = 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

int recv_fd(int sock)
{
	char c;
	return recv_fd_msg(sock, &c, 1);
}

/* Receives a descriptor, or (SOCK_SEQPACKET) the error text sent in its
 * place: buf gets the message's bytes, NUL-terminated when they fit. */
int recv_fd_msg(int sock, char *buf, size_t len)
{
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	ssize_t r;
	do
		r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return -1;
	if ((size_t)r < len)
		buf[r] = '\0';
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* Our terminal in raw mode (keys go through as they are typed), the old
 * settings kept in saved; false when stdin is no terminal. */
bool tty_raw(struct termios *saved)
{
	struct termios raw;
	if (!isatty(0) || tcgetattr(0, saved) < 0)
		return false;
	raw = *saved;
	cfmakeraw(&raw);
	(void)tcsetattr(0, TCSANOW, &raw);
	return true;
}

void stdio_devnull(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	for (int i = 0; i < 3; i++)
		(void)dup2(fd, i); /* dup2 clears O_CLOEXEC on 0..2 */
	if (fd > 2)
		close(fd);
}

static const int guarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
static volatile sig_atomic_t interrupted;
static int guard_depth; /* a create may build its template: guards nest */

static void note_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

void vz_sigguard_on(struct vz_sigguard *g)
{
	if (guard_depth++ > 0)
		return;
	struct sigaction sa = {.sa_handler = note_signal, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	interrupted = 0;
	for (size_t i = 0; i < ARRAY_SIZE(guarded); i++)
		(void)sigaction(guarded[i], &sa, &g->old[i]);
}

void vz_sigguard_off(struct vz_sigguard *g)
{
	if (--guard_depth > 0)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(guarded); i++)
		(void)sigaction(guarded[i], &g->old[i], NULL);
	interrupted = 0;
}

bool vz_interrupted(void)
{
	return interrupted != 0;
}

int poll_nointr(struct pollfd *pf, nfds_t n, int ms)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int left = ms;
		if (ms > 0) {
			struct timespec t;
			clock_gettime(CLOCK_MONOTONIC, &t);
			long long spent = (t.tv_sec - t0.tv_sec) * 1000LL +
					  (t.tv_nsec - t0.tv_nsec) / 1000000;
			left = spent >= ms ? 0 : ms - (int)spent;
		}
		int r = poll(pf, n, left);
		if (r >= 0 || errno != EINTR)
			return r;
	}
}

bool pid_gone_within(pid_t pid, int ms)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return true;
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	int r = poll_nointr(&pf, 1, ms);
	close(fd);
	return r > 0;
}
