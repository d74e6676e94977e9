/* libFuzzer target: the receiving side of a migration (migrate.c,
 * vz_migrate_receive), fed a whole session as the peer would send it on
 * stdin: the request lines and their framing (HELLO, CONF N and its bytes,
 * FILE SIZE MODE NAME and its bytes, LINK, LAYERDONE, FILESDONE, COMMIT,
 * ABORT), the config text, file names and numbers.
 *
 * The receiver writes what the peer sends (a config, a private area, dump
 * files) and removes it again when the session fails; a peer's paths are
 * the very thing under test. So the target runs in a sandbox it makes at
 * start: a mount namespace of its own (nothing propagates to the host),
 * chrooted into a fresh tmpfs that holds VZ_ROOT (/vzroot), with the
 * host's /usr, /etc, /proc and a few /dev nodes bound read-only (for the
 * libraries and the sanitizers' symbolizer). Only libFuzzer's own output
 * is writable there: the first corpus directory given and the
 * -artifact_prefix directory; other corpus directories and input files
 * are read-only. Root is needed, or unprivileged user namespaces.
 *
 * Requests that would run CRIU or a CT (RESTORE, START, HELLO's online=1)
 * are left out: they are process launches, not parsing.
 *
 * Beyond memory errors it checks, after every session:
 *  - every answer line is "OK..." or "ERR CODE ...", one line each (the
 *    source parses them);
 *  - nothing outside the CT's own areas was made or removed: the tmpfs's
 *    top holds only what the sandbox put there, and VZ_ROOT's vz.conf is
 *    still in place;
 *  - a session that failed left no config of the CT behind.
 *
 * VZ_SUBUID_FILE, VZ_SUBGID_FILE and VZ_IDMAP_DIR point into VZ_ROOT: the
 * ids a received CT gets are registered there, not on the host. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include "internal.h"
#include "fuzz.h"

#define TOP "/mnt"       /* where the tmpfs goes before the chroot */
#define ROOT "/vzroot"   /* VZ_ROOT, inside the chroot */
#define CTID 101u

static int in_fd = -1, out_fd = -1;

static void die(const char *what)
{
	fprintf(stderr, "fuzz_migrate: sandbox: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void write_proc(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		die(path);
	close(fd);
}

/* the flags a read-only remount must keep (locked in a user namespace) */
static unsigned long kept_flags(const char *path)
{
	struct statvfs sv;
	unsigned long f = 0;
	if (statvfs(path, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

/* the host's path at the same place under TOP: a symlink copied, a
 * directory or file bound (read-only unless rw) */
static void bind_in(const char *path, bool rw)
{
	char dst[PATH_MAX];
	struct stat st;
	if (lstat(path, &st) < 0)
		return;
	snprintf(dst, sizeof(dst), TOP "%s", path);
	_cleanup_free_ char *dir = xstrdup(dst);
	*strrchr(dir, '/') = '\0';
	(void)mkdir_p(dir, 0755);
	if (S_ISLNK(st.st_mode)) {
		char t[PATH_MAX];
		ssize_t n = readlink(path, t, sizeof(t) - 1);
		if (n < 0)
			die(path);
		t[n] = '\0';
		if (symlink(t, dst) < 0 && errno != EEXIST)
			die(dst);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		if (mkdir(dst, 0755) < 0 && errno != EEXIST)
			die(dst);
	} else {
		int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EROFS && errno != EEXIST)
			die(dst);
		if (fd >= 0)
			close(fd);
	}
	if (mount(path, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
		die(dst);
	if (!rw && mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | kept_flags(dst),
			 NULL) < 0)
		die(dst);
}

struct bind {
	char *path;
	bool rw;
};

static int by_length(const void *a, const void *b)
{
	const struct bind *x = a, *y = b;
	return (int)strlen(x->path) - (int)strlen(y->path);
}

static void sandbox(int argc, char **argv)
{
	/* libFuzzer's -merge, -fork and -jobs run this again in the children,
	 * which inherit the sandbox */
	if (getenv("VZ_FUZZ_SANDBOX"))
		return;
	uid_t uid = getuid();
	gid_t gid = getgid();
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		die("getcwd");
	/* what libFuzzer reads and writes, at the same paths inside */
	struct bind *b = xcalloc((size_t)argc + 2, sizeof(*b));
	size_t nb = 0;
	bool first_dir = true;
	b[nb++] = (struct bind){xstrdup(cwd), false};
	for (int i = 1; i < argc; i++) {
		char real[PATH_MAX];
		if (!strncmp(argv[i], "-artifact_prefix=", 17)) {
			_cleanup_free_ char *d = xstrdup(argv[i] + 17);
			char *slash = strrchr(d, '/');
			if (!slash)
				continue;
			*slash = '\0';
			if (realpath(*d ? d : "/", real))
				b[nb++] = (struct bind){xstrdup(real), true};
		} else if (argv[i][0] != '-' && realpath(argv[i], real)) {
			struct stat st;
			bool dir = stat(real, &st) == 0 && S_ISDIR(st.st_mode);
			b[nb++] = (struct bind){xstrdup(real), dir && first_dir};
			first_dir &= !dir;
		}
	}
	qsort(b, nb, sizeof(*b), by_length);

	if (uid != 0) {
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
			die("unshare(user, mount): run as root or allow user namespaces");
		char map[64];
		write_proc("/proc/self/setgroups", "deny");
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
		write_proc("/proc/self/uid_map", map);
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
		write_proc("/proc/self/gid_map", map);
	} else if (unshare(CLONE_NEWNS) < 0) {
		die("unshare(mount)");
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die("private /");
	if (mount("vz-fuzz", TOP, "tmpfs", MS_NOSUID | MS_NODEV, "size=512m,mode=0755") < 0)
		die("tmpfs on " TOP);
	static const char *const ro[] = {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64",
					 "/libx32", "/etc", "/proc", "/dev/null", "/dev/zero",
					 "/dev/urandom", "/dev/random"};
	for (size_t i = 0; i < ARRAY_SIZE(ro); i++)
		bind_in(ro[i], false);
	for (size_t i = 0; i < nb; i++) {
		bind_in(b[i].path, b[i].rw);
		free(b[i].path);
	}
	free(b);
	if (mkdir(TOP ROOT, 0755) < 0 || write_file(TOP "/canary", "", 0, O_CREAT) < 0)
		die(TOP ROOT);
	/* libFuzzer's own temporary files (-merge) */
	if ((mkdir(TOP "/tmp", 01777) < 0 && errno != EEXIST) || chmod(TOP "/tmp", 01777) < 0)
		die(TOP "/tmp");
	if (chroot(TOP) < 0 || chdir(cwd) < 0)
		die("chroot");
	setenv("VZ_FUZZ_SANDBOX", "1", 1);
}

/* the entries of the tmpfs's top once the sandbox is made: the receiver
 * must not add any or take any away */
static char top[4096];

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_top(char *buf, size_t n)
{
	DIR *d = opendir("/");
	if (!d)
		die("opendir /");
	char *names[64] = {0};
	size_t k = 0, len = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (k < ARRAY_SIZE(names))
			names[k++] = xstrdup(e->d_name);
	closedir(d);
	qsort(names, k, sizeof(*names), by_name);
	buf[0] = '\0';
	for (size_t i = 0; i < k; i++) {
		len += (size_t)snprintf(buf + len, len < n ? n - len : 0, "/%s", names[i]);
		free(names[i]);
	}
}

static void check_top(void)
{
	char now[sizeof(top)];
	list_top(now, sizeof(now));
	FUZZ_CHECK(!strcmp(now, top), "the receiver changed the sandbox's top, outside VZ_ROOT "
		   ROOT ": %s, then %s", top, now);
	FUZZ_CHECK(path_exists("/canary"), "the receiver removed /canary, outside VZ_ROOT");
	FUZZ_CHECK(path_exists(ROOT "/etc/vz/vz.conf"),
		   "the receiver removed " ROOT "/etc/vz/vz.conf, no area of the CT's");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	sandbox(*argc, *argv);
	setenv("VZ_SUBUID_FILE", ROOT "/subuid", 1);
	setenv("VZ_SUBGID_FILE", ROOT "/subgid", 1);
	setenv("VZ_IDMAP_DIR", ROOT "/idmap", 1);
	list_top(top, sizeof(top));
	in_fd = memfd_create("peer", MFD_CLOEXEC);
	out_fd = memfd_create("answers", MFD_CLOEXEC);
	if (in_fd < 0 || out_fd < 0)
		die("memfd_create");
	return 0;
}

/* a request line the sandbox leaves out */
static bool launches(const uint8_t *d, size_t n)
{
	static const char *const reqs[] = {"RESTORE", "START"};
	for (size_t i = 0; i < n; i++) {
		if (i && d[i - 1] != '\n')
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(reqs); k++)
			if (n - i >= strlen(reqs[k]) && !memcmp(d + i, reqs[k], strlen(reqs[k])))
				return true;
	}
	return memmem(d, n, "online=1", 8) != NULL;
}

static void check_answers(void)
{
	off_t len = lseek(out_fd, 0, SEEK_END);
	FUZZ_CHECK(len >= 0, "answers");
	char *a = xmalloc((size_t)len + 1);
	FUZZ_CHECK(pread(out_fd, a, (size_t)len, 0) == len, "answers");
	a[len] = '\0';
	if (getenv("VZ_FUZZ_VERBOSE")) /* to see how far a seed gets */
		fprintf(stderr, "answers:\n%s", a);
	FUZZ_CHECK(len == 0 || a[len - 1] == '\n', "an answer without its newline");
	FUZZ_CHECK(strlen(a) == (size_t)len, "a NUL in the answers");
	for (char *l = a; *l; l = strchr(l, '\n') + 1) {
		int code;
		FUZZ_CHECK(!strncmp(l, "OK", 2) || (sscanf(l, "ERR %d ", &code) == 1 && code > 0),
			   "answer line \"%.*s\"", (int)strcspn(l, "\n"), l);
	}
	free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16 || launches(data, size))
		return 0;
	(void)rm_rf(ROOT);
	vz_error err = {0};
	vz_ctx *ctx = vz_ctx_new(ROOT, &err);
	FUZZ_CHECK(ctx, "VZ_ROOT " ROOT ": %s", err.msg);
	/* host-wide id registrations (subordinate ids, ranges in use) kept
	 * inside too, fresh for each session */
	static const char ids[] = "root:1000000000:1000000000\n";
	FUZZ_CHECK(write_file(ROOT "/subuid", ids, strlen(ids), O_CREAT) == 0 &&
			   write_file(ROOT "/subgid", ids, strlen(ids), O_CREAT) == 0,
		   "subuid");

	/* the peer's bytes on stdin, the answers into out_fd on stdout */
	FUZZ_CHECK(ftruncate(in_fd, 0) == 0 && pwrite(in_fd, data, size, 0) == (ssize_t)size &&
			   lseek(in_fd, 0, SEEK_SET) == 0 && dup2(in_fd, 0) == 0,
		   "stdin");
	FUZZ_CHECK(ftruncate(out_fd, 0) == 0 && lseek(out_fd, 0, SEEK_SET) == 0 &&
			   dup2(out_fd, 1) == 1,
		   "stdout");
	static const int sigs[] = {SIGTERM, SIGHUP, SIGINT, SIGPIPE};
	struct sigaction old[ARRAY_SIZE(sigs)];
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], NULL, &old[i]);
	int r = vz_migrate_receive(ctx, CTID, &err);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &old[i], NULL);

	check_answers();
	check_top();
	if (r) {
		_cleanup_free_ char *cp = vz_ct_conf_path(ctx, CTID);
		FUZZ_CHECK(!path_exists(cp), "a failed session left %s", cp);
	}
	vz_ctx_free(ctx);
	return 0;
}
