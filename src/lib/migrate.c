/* Migration of a CT to another host (vzmigrate). The source drives; the
 * destination runs the receiving side of the same tool, reached over ssh
 * (or, on one machine, in another network namespace with its own
 * VZ_ROOT): a line-based control session, rsync for the private area and
 * the dump, and a byte relay for CRIU's lazy pages. Until the destination
 * says the CT runs there, every failure leaves it running on the source. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include "internal.h"

#define PEER_TIMEOUT_MS (600 * 1000)
#define LAZY_READY_MS (300 * 1000)
#define LAZY_START_MS (30 * 1000)
#define UFFD_SYSCTL "/proc/sys/vm/unprivileged_userfaultfd"
#define VZ_HOOK_ENV "VZ_MIGRATE_HOOK"
#define VZ_HOOK_ACTIONS "VZ_MIGRATE_HOOK_ACTIONS"

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void progress(const struct vz_mig_opts *o, struct vz_mig_stats *s, const char *phase)
{
	snprintf(s->phase, sizeof(s->phase), "%s", phase);
	if (o->progress)
		o->progress(s, o->progress_data);
}

/* A signal (Ctrl-C) before the destination runs the CT calls the
 * migration off: the CT stays here as it was. Once it runs there, the
 * migration is finished instead. */
static int interrupted(vz_error *err)
{
	return vz_err(err, VZ_MIG_E_INTERRUPTED,
		      "migration interrupted: the CT stays here as it was");
}

static int stop_asked(vz_error *err)
{
	return vz_interrupted() ? interrupted(err) : 0;
}

/* ---- reaching the destination ---- */

/* single quotes for the remote shell ssh hands the command to */
static void add_quoted(struct vz_argv *a, const char *s)
{
	char *q = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&q, &n);
	if (!f)
		abort();
	fputc('\'', f);
	for (const char *c = s; *c; c++)
		if (*c == '\'')
			fputs("'\\''", f);
		else
			fputc(*c, f);
	fputc('\'', f);
	fclose(f);
	vz_argv_add(a, "%s", q);
	free(q);
}

static void split_opts(struct vz_argv *a, const char *opts)
{
	_cleanup_free_ char *c = xstrdup(opts ? opts : "");
	char *save = NULL;
	for (char *w = strtok_r(c, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
		vz_argv_add(a, "%s", w);
}

/* A child that must not outlive vzmigrate killed outright: a copy going
 * on after the destination removed what it got would leave files there. */
static void die_with_parent(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
}

int vz_mig_rsh_netns(const char *netns, char *const cmd[])
{
	die_with_parent(getppid());
	if (vz_mig_enter_netns(netns) < 0)
		return -1;
	execvp(cmd[0], cmd);
	return -1;
}

/* Joins a network namespace given as a name (ip netns) or a path. */
int vz_mig_enter_netns(const char *netns)
{
	_cleanup_free_ char *p = strchr(netns, '/') ? xstrdup(netns)
						    : xasprintf("/run/netns/%s", netns);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = setns(fd, CLONE_NEWNET);
	close(fd);
	return r;
}

struct peer {
	pid_t pid;
	int to, from;     /* its stdin, its stdout */
	FILE *in;         /* line reader on from */
};

/* Runs the receiving tool on the destination with args; its stdin and
 * stdout are the pipes of p. */
static int peer_start(const struct vz_mig_opts *o, const struct vz_argv *args, struct peer *p,
		      vz_error *err)
{
	int a[2], b[2];
	struct vz_argv av = {0};
	if (o->netns) {
		vz_argv_add(&av, "%s", o->self);
	} else {
		vz_argv_add(&av, "ssh");
		vz_argv_add(&av, "-o");
		vz_argv_add(&av, "BatchMode=yes");
		split_opts(&av, o->ssh_opts);
		vz_argv_add(&av, "%s", o->dest);
		vz_argv_add(&av, "%s", o->remote_cmd ? o->remote_cmd : "vzmigrate");
	}
	if (o->dst_root) {
		vz_argv_add(&av, "--vz-root");
		if (o->netns)
			vz_argv_add(&av, "%s", o->dst_root);
		else
			add_quoted(&av, o->dst_root);
	}
	for (size_t i = 0; i < args->n; i++)
		if (o->netns)
			vz_argv_add(&av, "%s", args->v[i]);
		else
			add_quoted(&av, args->v[i]);
	if (pipe2(a, O_CLOEXEC) < 0) {
		vz_argv_free(&av);
		return vz_err_errno(err, VZ_MIG_E_CONNECT, errno, "pipe");
	}
	if (pipe2(b, O_CLOEXEC) < 0) {
		close(a[0]);
		close(a[1]);
		vz_argv_free(&av);
		return vz_err_errno(err, VZ_MIG_E_CONNECT, errno, "pipe");
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		/* out of the terminal's reach: a Ctrl-C is for this side to
		 * act on, and the destination hears of it from it */
		(void)setpgid(0, 0);
		if (dup2(a[0], 0) < 0 || dup2(b[1], 1) < 0)
			_exit(127);
		close_fds_from(3, NULL, 0);
		if (o->netns && vz_mig_enter_netns(o->netns) < 0) {
			fprintf(stderr, "vzmigrate: network namespace %s: %s\n", o->netns,
				strerror(errno));
			_exit(127);
		}
		execvp(av.v[0], av.v);
		fprintf(stderr, "vzmigrate: cannot run %s: %s\n", av.v[0], strerror(errno));
		_exit(127);
	}
	int e = errno;
	close(a[0]);
	close(b[1]);
	vz_argv_free(&av);
	if (pid < 0) {
		close(a[1]);
		close(b[0]);
		return vz_err_errno(err, VZ_MIG_E_CONNECT, e, "fork");
	}
	p->pid = pid;
	p->to = a[1];
	p->from = b[0];
	p->in = NULL;
	return 0;
}

static void peer_close(struct peer *p, bool kill_it)
{
	if (p->pid <= 0)
		return;
	if (p->to >= 0)
		close(p->to);
	if (p->in)
		fclose(p->in);
	else if (p->from >= 0)
		close(p->from);
	if (kill_it)
		kill(p->pid, SIGTERM);
	(void)vz_criu_wait(p->pid, kill_it ? 5000 : 30000);
	p->pid = -1;
	p->to = p->from = -1;
	p->in = NULL;
}

/* One request line, one answer line: "OK [text]" or "ERR CODE message". */
static int ask(struct peer *p, struct vz_mig_stats *s, char *reply, size_t n, vz_error *err,
	       const char *fmt, ...)
{
	char line[4096];
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	line[len++] = '\n';
	if (write_all(p->to, line, (size_t)len) < 0)
		return vz_err(err, VZ_MIG_E_CONNECT, "the destination is gone (%s)", strerror(errno));
	s->bytes += (unsigned long long)len;
	/* the destination may take long (a restore); never for ever */
	struct pollfd pf = {.fd = p->from, .events = POLLIN};
	if (!p->in || (fileno(p->in) >= 0 && poll_nointr(&pf, 1, PEER_TIMEOUT_MS) <= 0))
		return vz_err(err, VZ_MIG_E_CONNECT, "the destination does not answer");
	char buf[4096];
	if (!fgets(buf, sizeof(buf), p->in))
		return vz_err(err, VZ_MIG_E_CONNECT, "the destination is gone (connection closed)");
	buf[strcspn(buf, "\n")] = '\0';
	if (!strncmp(buf, "OK", 2)) {
		if (reply)
			snprintf(reply, n, "%s", buf[2] ? buf + 3 : "");
		return 0;
	}
	int code = 0, off = 0;
	if (sscanf(buf, "ERR %d %n", &code, &off) == 1 && off > 0)
		return vz_err(err, code > 0 ? code : VZ_MIG_E_DSTSTART, "destination: %s", buf + off);
	return vz_err(err, VZ_MIG_E_CONNECT, "destination: unexpected answer '%.200s'", buf);
}

/* key=value out of a reply */
static char *reply_get(const char *reply, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = reply; p && *p;) {
		if (!strncmp(p, key, kl) && p[kl] == '=') {
			const char *v = p + kl + 1;
			return strndup(v, strcspn(v, " "));
		}
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return NULL;
}

/* ---- rsync ---- */

/* bytes written by a finished (not yet reaped) process: what rsync sent */
static unsigned long long written_by(pid_t pid)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/io", (int)pid);
	_cleanup_free_ char *io = read_file(p, NULL);
	const char *w = io ? strstr(io, "wchar: ") : NULL;
	return w ? strtoull(w + 7, NULL, 10) : 0;
}

/* src/ to dst/ on the destination, deleting what is gone; inplace for the
 * second pass over big image files (only changed blocks are sent) */
static pid_t rsync_start(const struct vz_mig_opts *o, const char *src, const char *dst)
{
	struct vz_argv a = {0};
	vz_argv_add(&a, "rsync");
	/* archive, hard links, ACLs, xattrs (overlay whiteouts), sparse,
	 * numeric ids (the CT's own), never into other mounts (the image's,
	 * inside the private area) */
	vz_argv_add(&a, "-aHAXSx");
	vz_argv_add(&a, "--numeric-ids");
	vz_argv_add(&a, "--delete");
	vz_argv_add(&a, "--inplace");
	/* mtimes to the nanosecond: by default rsync takes a file of the same
	 * size and second as unchanged, and the last pass, less than a second
	 * after the first, would miss what the CT wrote in between (an image
	 * file never changes size) */
	vz_argv_add(&a, "--modify-window=-1");
	vz_argv_add(&a, "-e");
	if (o->netns) {
		vz_argv_add(&a, "%s --rsh-netns %s", o->self, o->netns);
	} else {
		struct vz_argv r = {0};
		vz_argv_add(&r, "ssh -o BatchMode=yes %s", o->ssh_opts ? o->ssh_opts : "");
		vz_argv_add(&a, "%s", r.v[0]);
		vz_argv_free(&r);
	}
	vz_argv_add(&a, "%s/", src);
	vz_argv_add(&a, "%s:%s/", o->netns ? "localhost" : o->dest, dst);
	fflush(NULL);
	pid_t self = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		die_with_parent(self);
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0)
			(void)dup2(devnull, 0);
		close_fds_from(3, NULL, 0);
		execvp("rsync", a.v);
		fprintf(stderr, "vzmigrate: cannot run rsync: %s\n", strerror(errno));
		_exit(127);
	}
	vz_argv_free(&a);
	return pid;
}

static int rsync_wait(pid_t pid, const char *src, struct vz_mig_stats *s, vz_error *err)
{
	if (pid < 0)
		return vz_err_errno(err, VZ_MIG_E_COPY, errno, "fork");
	siginfo_t si = {0};
	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
		;
	s->bytes += written_by(pid);
	int st = vz_criu_wait(pid, -1);
	/* 24: files vanished while read; a running CT deletes files, and the
	 * frozen pass deletes them on the destination too */
	bool ok = WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 24);
	if (!ok && vz_interrupted())
		return interrupted(err); /* rsync got the terminal's Ctrl-C too */
	if (!ok)
		return vz_err(err, VZ_MIG_E_COPY, "cannot copy %s to the destination (rsync exit %d)",
			      src, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}

static int rsync_to(const struct vz_mig_opts *o, const char *src, const char *dst,
		    struct vz_mig_stats *s, vz_error *err)
{
	return rsync_wait(rsync_start(o, src, dst), src, s, err);
}

/* ---- the dump over the control session ---- */

/* One file of the dump: "FILE size mode name" and its bytes. */
static int send_file(struct peer *p, int dfd, const char *name, const struct stat *sb,
		     struct vz_mig_stats *s, vz_error *err)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return vz_err_errno(err, VZ_MIG_E_COPY, errno, "cannot read the dump's %s", name);
	char hdr[512];
	int hl = snprintf(hdr, sizeof(hdr), "FILE %lld %o %s\n", (long long)sb->st_size,
			  (unsigned)(sb->st_mode & 0777), name);
	off_t left = sb->st_size;
	int r = write_all(p->to, hdr, (size_t)hl) < 0 ? -1 : 0;
	/* no more than the size announced: criu may still be writing its log */
	while (!r && left > 0) {
		ssize_t n = sendfile(p->to, fd, NULL, (size_t)(left > (1 << 30) ? (1 << 30) : left));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			r = -1;
		else
			left -= n;
	}
	close(fd);
	if (r)
		return vz_err_errno(err, VZ_MIG_E_CONNECT, errno, "cannot send the dump's %s", name);
	s->bytes += (unsigned long long)hl + (unsigned long long)sb->st_size;
	return 0;
}

/* The dump's own files (the pre-copy rounds' directories were sent each in
 * its time) over the control session, so that no rsync has to start in
 * the frozen window; FILESDONE is answered once all is written there. */
static int send_dump(struct peer *p, const char *dir, struct vz_mig_stats *s, vz_error *err)
{
	DIR *d = opendir(dir);
	if (!d)
		return vz_err_errno(err, VZ_MIG_E_COPY, errno, "%s", dir);
	struct dirent *e;
	int r = 0;
	while (!r && (e = readdir(d))) {
		struct stat sb;
		char t[PATH_MAX];
		if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !(S_ISREG(sb.st_mode) || S_ISLNK(sb.st_mode)))
			continue;
		if (strpbrk(e->d_name, " \n")) {
			r = vz_err(err, VZ_MIG_E_COPY, "the dump's file '%s' has an unsendable name",
				   e->d_name);
		} else if (S_ISREG(sb.st_mode)) {
			r = send_file(p, dirfd(d), e->d_name, &sb, s, err);
		} else {
			/* criu's "parent", to the last pre-copy round */
			ssize_t n = readlinkat(dirfd(d), e->d_name, t, sizeof(t) - 1);
			if (n < 0)
				continue;
			t[n] = '\0';
			char hdr[PATH_MAX + 300];
			int hl = snprintf(hdr, sizeof(hdr), "LINK %s %s\n", e->d_name, t);
			if (strchr(t, '\n') || write_all(p->to, hdr, (size_t)hl) < 0)
				r = vz_err(err, VZ_MIG_E_CONNECT, "cannot send the dump's %s", e->d_name);
			s->bytes += (unsigned long long)hl;
		}
	}
	closedir(d);
	return r ? r : ask(p, s, NULL, 0, err, "FILESDONE");
}

/* ---- the lazy pages relay ---- */

/* a line read byte by byte: what follows it on fd is not ours to buffer */
static ssize_t read_line(int fd, char *buf, size_t n)
{
	size_t i = 0;
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	while (i + 1 < n) {
		if (poll_nointr(&pf, 1, PEER_TIMEOUT_MS) <= 0 || read(fd, buf + i, 1) != 1)
			return -1;
		if (buf[i] == '\n')
			break;
		i++;
	}
	buf[i] = '\0';
	return (ssize_t)i;
}

static void pump(int sock, int in, int out, int report)
{
	char buf[65536];
	unsigned long long n = 0;
	struct pollfd pf[2] = {{.fd = sock, .events = POLLIN}, {.fd = in, .events = POLLIN}};
	for (;;) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[0].revents) {
			ssize_t r = read(sock, buf, sizeof(buf));
			if (r <= 0 || write_all(out, buf, (size_t)r) < 0)
				break;
			n += (unsigned long long)r;
		}
		if (pf[1].revents) {
			ssize_t r = read(in, buf, sizeof(buf));
			if (r <= 0 || write_all(sock, buf, (size_t)r) < 0)
				break;
			n += (unsigned long long)r;
		}
	}
	if (report >= 0)
		(void)write_all(report, &n, sizeof(n));
}

/* The destination's relay hands its end of criu lazy-pages' page-server
 * socketpair to the receiver over a unix socket here, named by a random
 * token: in root's /run, mode 0700, so only root reaches it, and only
 * the session that got the token from this relay names it (a peer cannot
 * name another migration's relay). */
#define RELAY_TOKEN_LEN 32
static char *relay_path(const char *token)
{
	return xasprintf("/run/vz-relay-%s.sock", token);
}

static bool relay_token_ok(const char *t)
{
	return strlen(t) == RELAY_TOKEN_LEN && strspn(t, "0123456789abcdef") == RELAY_TOKEN_LEN;
}

/* the relay's socket goes with it when it is ended (peer_close's SIGTERM,
 * ssh's SIGHUP) before the receiver took it */
static char relay_sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static void relay_signal(int sig)
{
	if (relay_sock_path[0])
		(void)unlink(relay_sock_path);
	_exit(128 + sig);
}

/* The destination's side: criu lazy-pages, which the receiver starts,
 * talks over a socketpair (--ps-socket) whose other end is ours: no port
 * for a local user to reach or take. The bytes go to and come from the
 * source over our stdin and stdout. The token the receiver fetches our
 * end's peer with goes first, as one line. */
int vz_migrate_relay_listen(vz_error *err)
{
	unsigned char rnd[RELAY_TOKEN_LEN / 2];
	char token[RELAY_TOKEN_LEN + 1];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return vz_err_errno(err, VZ_MIG_E_CONNECT, errno, "relay token");
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(token + 2 * i, 3, "%02x", rnd[i]);
	_cleanup_free_ char *path = relay_path(token);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	snprintf(relay_sock_path, sizeof(relay_sock_path), "%s", path);
	int sigs[] = {SIGTERM, SIGHUP, SIGINT, SIGPIPE};
	struct sigaction old[ARRAY_SIZE(sigs)], sact = {.sa_handler = relay_signal};
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		(void)sigaction(sigs[i], &sact, &old[i]);
	int ps[2] = {-1, -1};
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	mode_t um = umask(077);
	int b = l < 0 ? -1 : bind(l, (struct sockaddr *)&sa, sizeof(sa));
	umask(um);
	if (b < 0 || listen(l, 1) < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ps) < 0) {
		int e = errno;
		if (l >= 0)
			close(l);
		if (b == 0)
			(void)unlink(path);
		relay_sock_path[0] = '\0';
		for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
			(void)sigaction(sigs[i], &old[i], NULL);
		return vz_err_errno(err, VZ_MIG_E_CONNECT, e, "relay socket %s", path);
	}
	char line[RELAY_TOKEN_LEN + 2];
	int n = snprintf(line, sizeof(line), "%s\n", token);
	int r = write_all(1, line, (size_t)n) < 0 ? -1 : 0;
	/* the source says nothing before the receiver fetches the socket:
	 * stdin readable means it is gone */
	bool sent = false;
	for (int tries = 0; !r && !sent && tries < 16; tries++) {
		struct pollfd pf[2] = {{.fd = l, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
		if (poll_nointr(pf, 2, PEER_TIMEOUT_MS) <= 0 || pf[1].revents)
			break;
		int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		struct ucred cr;
		socklen_t cl = sizeof(cr);
		if (c >= 0 && getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl) == 0 && cr.uid == 0)
			sent = send_fd(c, ps[1]) == 0;
		if (c >= 0)
			close(c);
	}
	(void)unlink(path);
	relay_sock_path[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		(void)sigaction(sigs[i], &old[i], NULL);
	close(l);
	close(ps[1]);
	if (!sent) {
		close(ps[0]);
		return vz_err(err, VZ_MIG_E_CONNECT, "relay: the receiver did not take its socket");
	}
	pump(ps[0], 0, 1, -1);
	close(ps[0]);
	return 0;
}

/* The receiver's side: the relay's socket, named by the token the source
 * passed on; -1 if none. */
static int relay_fetch(const char *token)
{
	if (!relay_token_ok(token))
		return -1;
	_cleanup_free_ char *path = relay_path(token);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	int fd = -1;
	if (s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &cl) == 0 && cr.uid == 0)
		fd = recv_fd(s);
	if (s >= 0)
		close(s);
	return fd;
}

/* criu's page server resumes the CT it holds when a request makes no
 * sense (a closed connection counts as a finished transfer and kills it):
 * the way to call a post-copy off before the destination runs the CT. */
static void page_server_abort(int sock)
{
	/* struct page_server_iov (cmd, nr_pages, vaddr, dst_id: 24 bytes
	 * before criu 4.2, 32 since) with a cmd criu does not know; ones all
	 * the way make that so for either size */
	unsigned char iov[64];
	memset(iov, 0xff, sizeof(iov));
	(void)write_all(sock, iov, sizeof(iov));
	char c;
	struct pollfd pf = {.fd = sock, .events = POLLIN};
	if (poll_nointr(&pf, 1, 10000) > 0) /* until criu lets go of it */
		(void)read(sock, &c, 1);
}

static volatile sig_atomic_t pump_abort;
static void pump_signal(int sig)
{
	(void)sig;
	pump_abort = 1;
}

/* The source's end of the relay, in a child: sock is our end of criu's
 * page-server socketpair (no port: no other local user can reach criu's
 * page server); SIGUSR1 calls the transfer off (see page_server_abort).
 * Reports the bytes. */
static void source_pump(int sock, int in, int out, int report)
{
	struct sigaction sa = {.sa_handler = pump_signal};
	(void)sigaction(SIGUSR1, &sa, NULL);
	char buf[65536];
	unsigned long long n = 0;
	struct pollfd pf[2] = {{.fd = sock, .events = POLLIN}, {.fd = in, .events = POLLIN}};
	while (!pump_abort) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[1].revents) {
			ssize_t r = read(in, buf, sizeof(buf));
			if (r <= 0 || write_all(sock, buf, (size_t)r) < 0)
				break;
			n += (unsigned long long)r;
		}
		if (pf[0].revents) {
			ssize_t r = read(sock, buf, sizeof(buf));
			if (r <= 0 || write_all(out, buf, (size_t)r) < 0)
				break;
			n += (unsigned long long)r;
		}
	}
	if (pump_abort)
		page_server_abort(sock);
	(void)write_all(report, &n, sizeof(n));
}

/* ---- the criu side on the source ---- */

/* Lazy pages need pipes of a few MiB where criu cannot raise the limit
 * itself (no CAP_SYS_RESOURCE). The limit is the host's: raised while any
 * migration (of any root) needs it, put back when the last one ends. The
 * holders ("PID START" lines, dead ones dropped) and the value before are
 * kept in PIPE_HOLD under its lock. */
#define PIPE_MAX "/proc/sys/fs/pipe-max-size"
#define PIPE_HOLD "/run/vz-pipe-max-size"
#define PIPE_WANT 4194304UL
static bool pipe_held;

static void pipe_hold(bool take)
{
	int fd = open(PIPE_HOLD, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			close(fd);
			return;
		}
	char buf[8192];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	unsigned long old = 0;
	char out[8192];
	size_t ol = 0, holders = 0;
	char *save = NULL;
	pid_t me = getpid();
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		long pid;
		unsigned long long st;
		if (!strncmp(l, "OLD ", 4)) {
			old = strtoul(l + 4, NULL, 10);
		} else if (sscanf(l, "%ld %llu", &pid, &st) == 2 && pid != me &&
			   proc_starttime((pid_t)pid) == st && ol + 64 < sizeof(out)) {
			ol += (size_t)snprintf(out + ol, sizeof(out) - ol, "%ld %llu\n", pid, st);
			holders++;
		}
	}
	_cleanup_free_ char *v = read_file(PIPE_MAX, NULL);
	unsigned long cur = v ? strtoul(v, NULL, 10) : 0;
	if (take) {
		if (!holders)
			old = 0;
		if (cur && cur < PIPE_WANT && write_str(PIPE_MAX, "4194304") == 0)
			old = cur;
		ol += (size_t)snprintf(out + ol, sizeof(out) - ol, "%d %llu\n", (int)me,
				       proc_starttime(me));
		holders++;
	} else if (!holders && old && cur == PIPE_WANT) {
		/* the last one out: the host's own value back */
		char ov[32];
		snprintf(ov, sizeof(ov), "%lu", old);
		(void)write_str(PIPE_MAX, ov);
		old = 0;
	}
	char all[8300];
	int al = snprintf(all, sizeof(all), "OLD %lu\n%.*s", holders ? old : 0UL, (int)ol, out);
	if (ftruncate(fd, 0) == 0)
		(void)pwrite(fd, all, (size_t)al, 0);
	close(fd);
}

void vz_mig_pipe_size(void)
{
	if (pipe_held)
		return;
	pipe_hold(true);
	pipe_held = true;
}

void vz_mig_pipe_size_done(void)
{
	if (!pipe_held)
		return;
	pipe_hold(false);
	pipe_held = false;
}

/* Whether this kernel and criu track dirty memory (soft-dirty): pre-copy. */
static bool can_precopy(const vz_ctx *ctx)
{
	struct vz_argv a = {0};
	vz_argv_add(&a, "check");
	vz_argv_add(&a, "--feature");
	vz_argv_add(&a, "mem_dirty_track");
	vz_error e;
	pid_t pid = vz_criu_spawn(ctx, &a, NULL, 0, &e);
	vz_argv_free(&a);
	int st = pid < 0 ? -1 : vz_criu_wait(pid, 60000);
	return st == 0;
}

/* The hook criu runs at each action (--action-script), talking to the
 * migrating vzmigrate over RUN/CTID.hook: on pre-dump, once criu has
 * started and probed the kernel, it asks for the CT to be frozen (the
 * frozen window starts only then); on post-dump (stop-copy) it asks
 * whether the dumped CT may go (0) or must run on (1). The actions to ask
 * about are in VZ_HOOK_ACTIONS; others pass. */
bool vz_migrate_is_cpt_hook(void)
{
	return getenv("CRTOOLS_SCRIPT_ACTION") && getenv(VZ_HOOK_ENV);
}

int vz_migrate_cpt_hook(void)
{
	const char *act = getenv("CRTOOLS_SCRIPT_ACTION");
	const char *sock_path = getenv(VZ_HOOK_ENV);
	const char *asked = getenv(VZ_HOOK_ACTIONS);
	char what;
	if (!act || !sock_path || !asked)
		return 0;
	if (!strcmp(act, "pre-dump") && strstr(asked, "pre-dump"))
		what = 'F';
	else if (!strcmp(act, "post-dump") && strstr(asked, "post-dump"))
		what = 'D';
	else
		return 0;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	char ans = '1';
	if (s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    write_all(s, &what, 1) == 1 && read_all(s, &ans, 1) != 1)
		ans = '1';
	if (s >= 0)
		close(s);
	return ans == '0' ? 0 : 1;
}

struct dumper {
	pid_t pid;
	char *dir, *log, *hook_path;
	int hook_listen, hook_conn;   /* stop-copy: criu waiting at post-dump */
	int status_fd;                /* post-copy: a byte when the page server listens */
	int pidfd;
	int ps_sock; /* post-copy: our end of criu's page-server socketpair */
	bool lazy;
	double frozen_at; /* when we began to freeze the CT */
};

static void dumper_free(struct dumper *d)
{
	free(d->dir);
	free(d->log);
	if (d->hook_path) {
		(void)unlink(d->hook_path);
		free(d->hook_path);
	}
	int *fds[] = {&d->hook_listen, &d->hook_conn, &d->status_fd, &d->pidfd, &d->ps_sock};
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
}

/* Starts the final dump, which comes back to us (dump_wait) when it is
 * ready to freeze the CT and when the CT is dumped: post-copy, with its
 * memory still on the CT's side for the page server; stop-copy, held at
 * post-dump by our hook. */
static int dump_start(vz_ctx *ctx, struct vz_ct *ct, bool lazy, pid_t init, const char *parent,
		      const char *self, struct dumper *d, struct vz_conf *meta, vz_error *err)
{
	struct vz_argv a = {0};
	int sfd[2] = {-1, -1}, ps[2] = {-1, -1};
	d->lazy = lazy;
	d->log = xasprintf("%s/dump.log", d->dir);
	vz_cpt_dump_args(ctx, ct, init, d->dir, d->log, &a, meta);
	if (parent) {
		/* only what changed since the last pre-copy round */
		vz_argv_add(&a, "--track-mem");
		vz_argv_add(&a, "--prev-images-dir");
		vz_argv_add(&a, "%s", parent);
	}
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	d->hook_path = xasprintf("%s/%u.hook", ctx->run_dir, ct->ctid);
	(void)unlink(d->hook_path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->hook_path);
	d->hook_listen = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (d->hook_listen < 0 || bind(d->hook_listen, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(d->hook_listen, 2) < 0) {
		vz_argv_free(&a);
		return vz_err_errno(err, VZ_MIG_E_SRCSTOP, errno, "%s", d->hook_path);
	}
	if (lazy) {
		/* criu's page server on a socketpair, not a loopback port any
		 * local user could reach first (and read the CT's memory) or
		 * take (and fail the migration): --ps-socket skips listen and
		 * accept, and the bytes are the page-server protocol as on TCP */
		if (pipe2(sfd, O_CLOEXEC) < 0 ||
		    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ps) < 0) {
			int e = errno;
			for (int i = 0; i < 2; i++)
				if (sfd[i] >= 0)
					close(sfd[i]);
			vz_argv_free(&a);
			return vz_err_errno(err, VZ_MIG_E_SRCSTOP, e, "lazy pages setup");
		}
		d->ps_sock = ps[0];
		vz_mig_pipe_size();
		vz_argv_add(&a, "--lazy-pages");
		vz_argv_add(&a, "--ps-socket");
		vz_argv_add(&a, "%d", ps[1]);
		vz_argv_add(&a, "--status-fd");
		vz_argv_add(&a, "%d", sfd[1]);
		vz_conf_set(meta, "LAZY", "yes");
	}
	/* criu runs the script itself, without a shell: the hook's socket
	 * and what to ask go in its environment, which criu passes on */
	vz_argv_add(&a, "--action-script");
	vz_argv_add(&a, "%s", self);
	setenv(VZ_HOOK_ENV, d->hook_path, 1);
	setenv(VZ_HOOK_ACTIONS, lazy ? "pre-dump" : "pre-dump post-dump", 1);
	int keep[2] = {sfd[1], ps[1]};
	d->pid = vz_criu_spawn(ctx, &a, lazy ? keep : NULL, lazy ? 2 : 0, err);
	unsetenv(VZ_HOOK_ENV);
	unsetenv(VZ_HOOK_ACTIONS);
	vz_argv_free(&a);
	/* criu's ends are criu's alone: its page server sees our end close */
	if (sfd[1] >= 0)
		close(sfd[1]);
	if (ps[1] >= 0)
		close(ps[1]);
	d->status_fd = sfd[0];
	if (d->pid < 0)
		return err->code ? err->code : VZ_MIG_E_SRCSTOP;
	d->pidfd = (int)syscall(SYS_pidfd_open, d->pid, 0);
	return 0;
}

enum { DUMP_FROZEN = 1, DUMP_READY = 2 };

/* Waits for the next step of the dump (*step): DUMP_FROZEN once criu is
 * about to collect the CT and we froze it (criu, finding it frozen, spares
 * its 100 ms poll of the freezer), DUMP_READY once the CT is dumped. criu
 * exiting first means the dump failed and the CT runs on. */
static int dump_wait(vz_ctx *ctx, struct vz_ct *ct, struct dumper *d, int *step, vz_error *err)
{
	struct pollfd pf[3] = {{.fd = d->hook_listen, .events = POLLIN},
			       {.fd = d->pidfd, .events = POLLIN},
			       {.fd = d->lazy ? d->status_fd : -1, .events = POLLIN}};
	int n;
	while ((n = poll_nointr(pf, 3, LAZY_READY_MS)) > 0 && !(pf[1].revents & POLLIN)) {
		char c;
		if (pf[2].revents & (POLLIN | POLLHUP)) {
			if (read(d->status_fd, &c, 1) == 1) {
				*step = DUMP_READY;
				return 0;
			}
			break;
		}
		if (!(pf[0].revents & POLLIN))
			continue;
		int conn = accept4(d->hook_listen, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0 || read_all(conn, &c, 1) != 1) {
			if (conn >= 0)
				close(conn);
			continue;
		}
		if (c == 'D') {
			d->hook_conn = conn;
			*step = DUMP_READY;
			return 0;
		}
		vz_error e;
		if (c == 'F')
			d->frozen_at = now_s(); /* the window opens as the freezing starts */
		bool ok = c == 'F' && vz_ct_cg_freeze(ctx, ct->ctid, true, &e) == 0;
		(void)write_all(conn, ok ? "0" : "1", 1);
		close(conn);
		if (ok) {
			*step = DUMP_FROZEN;
			return 0;
		}
	}
	if (n == 0)
		kill(d->pid, SIGKILL);
	int st = vz_criu_wait(d->pid, 60000);
	d->pid = -1;
	return vz_criu_fail(err, VZ_MIG_E_SRCSTOP, ct->ctid, "checkpoint", n == 0 ? -1 : st, d->log);
}

/* ---- pre-copy ---- */

/* A varint of a protobuf message at *p (below end); -1 when cut short. */
static long long pb_varint(const unsigned char **p, const unsigned char *end)
{
	unsigned long long v = 0;
	for (int shift = 0; *p < end && shift < 64; shift += 7) {
		unsigned char b = *(*p)++;
		v |= (unsigned long long)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return (long long)v;
	}
	return -1;
}

/* pages_written of criu's stats-dump: two magics, a size, then StatsEntry
 * whose field 1 (dump) holds DumpStatsEntry, pages_written its field 7. */
long long vz_mig_pages_written(const char *dir)
{
	_cleanup_free_ char *f = xasprintf("%s/stats-dump", dir);
	size_t len = 0;
	_cleanup_free_ char *buf = read_file(f, &len);
	if (!buf || len < 12)
		return -1;
	const unsigned char *p = (const unsigned char *)buf + 12, *end = (const unsigned char *)buf + len;
	while (p < end) {
		long long key = pb_varint(&p, end);
		if (key < 0)
			return -1;
		long long v = pb_varint(&p, end);
		if (v < 0)
			return -1;
		if ((key & 7) == 2) { /* length-delimited: the dump entry is field 1 */
			if ((unsigned long long)v > (unsigned long long)(end - p))
				return -1;
			if (key >> 3 == 1) {
				end = p + v; /* into it */
				continue;
			}
			p += v;
		} else if ((key & 7) != 0) {
			return -1; /* criu's stats are varints and messages only */
		} else if (key >> 3 == 7) {
			return v;
		}
	}
	return -1;
}

/* One pre-dump into dir/pre-ROUND on top of *parent; its dirty pages in *w */
static int precopy_round(vz_ctx *ctx, struct vz_ct *ct, pid_t init, const char *dir,
			 unsigned round, const char *parent, long long *w, vz_error *err)
{
	_cleanup_free_ char *rd = xasprintf("%s/pre-%u", dir, round);
	_cleanup_free_ char *log = xasprintf("%s/pre-dump.log", rd);
	/* readable by all: the restored tasks, unmapped in their user
	 * namespace, open each parent of the chain (criu's "parent" link) by
	 * name; the dump directories above stay 0700 */
	if (mkdir_p(rd, 0755) < 0)
		return vz_err_errno(err, VZ_MIG_E_SRCSTOP, errno, "cannot create %s", rd);
	struct vz_argv a = {0};
	vz_argv_add(&a, "pre-dump");
	vz_argv_add(&a, "-t");
	vz_argv_add(&a, "%d", (int)init);
	vz_argv_add(&a, "-D");
	vz_argv_add(&a, "%s", rd);
	vz_argv_add(&a, "-o");
	vz_argv_add(&a, "%s", log);
	vz_argv_add(&a, "-v4");
	vz_argv_add(&a, "--track-mem");
	if (parent) {
		vz_argv_add(&a, "--prev-images-dir");
		vz_argv_add(&a, "../%s", parent);
	}
	vz_ct_freeze_arg(ctx, ct->ctid, &a);
	pid_t pid = vz_criu_spawn(ctx, &a, NULL, 0, err);
	vz_argv_free(&a);
	if (pid < 0)
		return err->code;
	int st = vz_criu_wait(pid, 300 * 1000);
	if (st != 0)
		return vz_criu_fail(err, VZ_MIG_E_SRCSTOP, ct->ctid, "pre-copy round", st, log);
	*w = vz_mig_pages_written(rd);
	return 0;
}

/* After P.Haul: rounds of pre-dumps while the CT runs, each sending only
 * what changed since the one before, until the dirty memory is small (64
 * pages), stops shrinking (a round not 10% smaller than the last: more
 * rounds would send the same pages again) or after 8 rounds. *parent: the
 * last round's directory, relative to dir. */
static int precopy_rounds(vz_ctx *ctx, struct vz_ct *ct, const struct vz_mig_opts *o,
			  struct vz_mig_stats *s, pid_t init, const char *dir, const char *dst_dump,
			  char **parent, vz_error *err)
{
	long long prev = -1;
	for (unsigned round = 1; round <= 8; round++) {
		long long w = -1;
		int r = stop_asked(err);
		if (!r)
			r = precopy_round(ctx, ct, init, dir, round, *parent, &w, err);
		if (r)
			return r;
		free(*parent);
		*parent = xasprintf("pre-%u", round);
		s->rounds = round;
		s->dirty_pages = w < 0 ? 0 : (unsigned long long)w;
		char ph[64];
		snprintf(ph, sizeof(ph), "pre-copy round %u: %lld pages", round, w);
		progress(o, s, ph);
		if ((r = rsync_to(o, dir, dst_dump, s, err)))
			return r;
		if (w < 0 || w <= 64 || (prev >= 0 && w * 10 > prev * 9))
			break;
		prev = w;
	}
	return 0;
}

/* ---- the source side ---- */

struct mig {
	vz_ctx *ctx;
	const struct vz_mig_opts *o;
	struct vz_mig_stats *s;
};

static int send_conf(struct peer *p, struct vz_ct *ct, struct vz_mig_stats *s, char *reply,
		     size_t rn, vz_error *err)
{
	_cleanup_free_ char *text = vz_conf_format(&ct->conf);
	size_t n = strlen(text);
	char hdr[64];
	int hl = snprintf(hdr, sizeof(hdr), "CONF %zu\n", n);
	/* the header line is answered only after the bytes that follow it */
	if (write_all(p->to, hdr, (size_t)hl) < 0 || write_all(p->to, text, n) < 0)
		return vz_err(err, VZ_MIG_E_CONNECT, "the destination is gone");
	s->bytes += (unsigned long long)hl + n;
	return ask(p, s, reply, rn, err, "%s", "CONFDONE");
}

static char *layer_version(vz_ctx *ctx, const struct vz_ct *ct)
{
	if (vz_storage_is_image(ct))
		return NULL;
	_cleanup_free_ char *l = vz_storage_layer(ctx, ct);
	const char *b = l ? strrchr(l, '/') : NULL;
	return b ? xstrdup(b + 1) : NULL;
}

/* frozen CT: its file system written out, so the copy is whole */
static void settle_fs(struct vz_ct *ct, bool freeze, bool *frozen)
{
	int fd = open(ct->root_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)syncfs(fd);
		close(fd);
	}
	_cleanup_free_ char *mnt = vz_storage_backing_mnt(ct);
	if (freeze && is_mountpoint(mnt) && vz_image_fsfreeze(mnt, true) == 0)
		*frozen = true;
	else if (!freeze && *frozen) {
		(void)vz_image_fsfreeze(mnt, false);
		*frozen = false;
	}
}

/* The last changes of the CT's files, its file system settled for it. */
static int sync_private(const struct vz_mig_opts *o, struct vz_ct *ct, const char *dst,
			struct vz_mig_stats *s, bool *fsfrozen, vz_error *err)
{
	settle_fs(ct, true, fsfrozen);
	int r = rsync_to(o, ct->private_dir, dst, s, err);
	/* thawed at once: criu may yet write there (link remaps) */
	settle_fs(ct, false, fsfrozen);
	return r;
}

/* A child that outlives vzmigrate killed outright (SIGKILL, the OOM
 * killer) while criu dumps: the CT, frozen by vz for criu (which leaves a
 * cgroup frozen as it found it), would stay frozen and cut off by criu's
 * network lock, or held for ever by a post-copy page server that no
 * destination will ask. Told 'H' once the destination runs the CT (then
 * criu ends the source's copy by itself) and 'D' when vzmigrate is done;
 * at EOF before either it makes criu let go of the CT, waits for criu to
 * end and thaws what vz froze. Returns the fd that tells it, or -1. */
static int watchdog_start(vz_ctx *ctx, struct vz_ct *ct, pid_t init, const struct dumper *d,
			  pid_t *pid)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	unsigned long long start = proc_starttime(init);
	*pid = fork();
	if (*pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (*pid > 0) {
		close(p[0]);
		return p[1];
	}
	/* nothing of vzmigrate's held open: a peer must see it gone */
	/* but criu's page-server socket: the abort goes there */
	int keep[4] = {p[0], d->pidfd, d->ps_sock, ctx->log_fd};
	close_fds_from(3, keep, ctx->log_fd >= 0 ? 4 : 3);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		(void)dup2(null, 0);
		(void)dup2(null, 1);
		close(null);
	}
	(void)setpgid(0, 0);
	int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE};
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		signal(sigs[i], SIG_IGN);
	char c = 0, b;
	while (read(p[0], &b, 1) == 1)
		c = b;
	if (c == 'D' || c == 'H')
		_exit(0);
	struct pollfd pf = {.fd = d->pidfd, .events = POLLIN};
	bool asked = false;
	while (d->pidfd >= 0 && poll_nointr(&pf, 1, 200) == 0) {
		if (d->lazy && !asked && d->ps_sock >= 0) {
			page_server_abort(d->ps_sock);
			asked = true;
		}
	}
	if (proc_starttime(init) == start && start) {
		vz_error e;
		bool fsfrozen = true;
		settle_fs(ct, false, &fsfrozen);
		(void)vz_ct_cg_freeze(ctx, ct->ctid, false, &e);
		(void)vz_netlock_remove(init);
		vz_log(ctx, ct->ctid, VZ_LOG_WARN,
		       "CT %u: vzmigrate was killed while criu dumped it: it runs on here",
		       ct->ctid);
	}
	_exit(0);
}

static void watchdog_tell(int *fd, char what)
{
	if (*fd >= 0)
		(void)write_all(*fd, &what, 1);
	if (what == 'D' && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static int migrate_op(vz_ctx *ctx, struct vz_ct *ct, void *arg, vz_error *err)
{
	struct mig *m = arg;
	/* over ssh, one connection carries every channel (the control
	 * session's becomes the master): rsync and the relay in the frozen
	 * window then cost no new ssh handshakes */
	struct vz_mig_opts oo = *m->o;
	const struct vz_mig_opts *o = &oo;
	_cleanup_free_ char *ssh_opts = NULL, *ssh_ctl = NULL;
	if (!oo.netns) {
		ssh_ctl = xasprintf("%s/%u.ssh", ctx->run_dir, ct->ctid);
		(void)mkdir_p(ctx->run_dir, 0755);
		(void)unlink(ssh_ctl);
		ssh_opts = xasprintf("%s -o ControlMaster=auto -o ControlPath=%s",
				     oo.ssh_opts ? oo.ssh_opts : "", ssh_ctl);
		oo.ssh_opts = ssh_opts;
	}
	struct vz_mig_stats *s = m->s;
	struct peer ctl = {.pid = -1, .to = -1, .from = -1}, relay = ctl;
	struct dumper d = {
		.pid = -1, .hook_listen = -1, .hook_conn = -1, .status_fd = -1, .pidfd = -1,
		.ps_sock = -1};
	struct vz_conf meta = {0};
	struct vz_state st;
	char reply[4096];
	bool running = vz_state_read(ctx, ct->ctid, &st) == 1, fsfrozen = false;
	pid_t pumper = -1, wd = -1;
	int rep[2] = {-1, -1}, r, step = 0, wd_fd = -1;
	double t0 = now_s(), tf = 0;
	_cleanup_free_ char *dst_priv = NULL, *dst_dump = NULL, *layer = NULL, *dst_layer = NULL;
	_cleanup_free_ char *parent = NULL; /* the last pre-copy round */

	if (o->online && !running)
		return vz_err(err, VZ_MIG_E_STOPPED, "CT %u is not running: --online needs it running",
			      ct->ctid);
	if (!path_exists(ct->private_dir))
		return vz_err(err, VZ_MIG_E_NOTEXIST, "CT %u: private area %s does not exist",
			      ct->ctid, ct->private_dir);
	bool lazy = false, precopy = false;
	if (o->online) {
		/* one criu check: under emulation each costs seconds */
		precopy = (o->strategy == VZ_MIG_PRECOPY || o->strategy == VZ_MIG_AUTO) &&
			  can_precopy(ctx);
		if (o->strategy == VZ_MIG_PRECOPY && !precopy) {
			/* in the stats too: a tool showing progress keeps the log
			 * off the terminal, and this must not go unseen */
			snprintf(s->note, sizeof(s->note), "%s",
				 "this kernel cannot track dirty memory (no soft-dirty): "
				 "pre-copy is not possible, using post-copy");
			vz_log(ctx, ct->ctid, VZ_LOG_WARN, "%s", s->note);
		}
		/* pre-copy's rounds end in the same final dump as stop-copy, which
		 * they make small; without them post-copy keeps the freeze small */
		lazy = o->strategy == VZ_MIG_POSTCOPY || (!precopy && o->strategy != VZ_MIG_STOPCOPY);
	}
	snprintf(s->strategy, sizeof(s->strategy), "%s",
		 !o->online ? "offline" : lazy ? "post-copy" : precopy ? "pre-copy" : "stop-copy");
	layer = layer_version(ctx, ct);

	progress(o, s, "connecting");
	struct vz_argv args = {0};
	vz_argv_add(&args, "--receive");
	vz_argv_add(&args, "%u", ct->ctid);
	r = peer_start(o, &args, &ctl, err);
	vz_argv_free(&args);
	if (r)
		return r;
	ctl.in = fdopen(ctl.from, "r");
	if ((r = ask(&ctl, s, reply, sizeof(reply), err, "HELLO %s %u online=%d lazy=%d layer=%s",
		     VZ_VERSION, ct->ctid, o->online, lazy, layer ? layer : "-")))
		goto fail;
	if ((r = send_conf(&ctl, ct, s, reply, sizeof(reply), err)) || (r = stop_asked(err)))
		goto fail;
	dst_priv = reply_get(reply, "private");
	dst_dump = reply_get(reply, "dump");
	dst_layer = reply_get(reply, "layer");
	if (!dst_priv || !dst_dump) {
		r = vz_err(err, VZ_MIG_E_CONNECT, "destination: no private/dump path in '%s'", reply);
		goto fail;
	}
	/* the template layer the CT stands on, when the destination lacks it */
	if (layer && dst_layer && strcmp(dst_layer, "have")) {
		progress(o, s, "copying the template layer");
		_cleanup_free_ char *src = vz_storage_layer(ctx, ct);
		if ((r = rsync_to(o, src, dst_layer, s, err)) ||
		    (r = ask(&ctl, s, NULL, 0, err, "LAYERDONE")) || (r = stop_asked(err)))
			goto fail;
	}
	progress(o, s, "copying the private area");
	if ((r = rsync_to(o, ct->private_dir, dst_priv, s, err)) || (r = stop_asked(err)))
		goto fail;

	if (!o->online) {
		if (running) {
			progress(o, s, "stopping");
			if ((r = vz_ct_stop_locked(ctx, ct, 0, err))) {
				err->code = VZ_MIG_E_SRCSTOP;
				goto fail;
			}
			tf = now_s();
		}
		progress(o, s, "copying what changed");
		if ((r = rsync_to(o, ct->private_dir, dst_priv, s, err)) || (r = stop_asked(err)))
			goto fail_restart;
		if (running) {
			progress(o, s, "starting on the destination");
			if ((r = ask(&ctl, s, NULL, 0, err, "START")))
				goto fail_restart;
			s->frozen_s = now_s() - tf;
		}
		goto commit;
	}

	{
		_cleanup_free_ char *def = vz_dump_default(ctx, ct->ctid);
		d.dir = xasprintf("%s.migrate", def);
	}
	(void)rm_rf(d.dir);
	if (mkdir_p(d.dir, 0700) < 0) {
		r = vz_err_errno(err, VZ_MIG_E_SRCSTOP, errno, "cannot create %s", d.dir);
		goto fail;
	}
	if (precopy && (r = precopy_rounds(ctx, ct, o, s, st.init_pid, d.dir, dst_dump, &parent,
					   err)))
		goto fail;
	char pl[RELAY_TOKEN_LEN + 8] = "";
	if (lazy) {
		/* the destination's lazy-pages daemon reaches the source's page
		 * server through this relay, set up before the freeze */
		struct vz_argv ra = {0};
		vz_argv_add(&ra, "--relay-listen");
		r = peer_start(o, &ra, &relay, err);
		vz_argv_free(&ra);
		if (!r && read_line(relay.from, pl, sizeof(pl)) <= 0)
			r = vz_err(err, VZ_MIG_E_CONNECT, "the destination's relay did not start");
		if (r || (r = stop_asked(err)))
			goto fail;
	}
	/* online: the final dump; the CT is frozen from criu's pre-dump on */
	progress(o, s, lazy ? "dumping (memory stays for post-copy)" : "dumping");
	bool synced = false;
	r = dump_start(ctx, ct, lazy, st.init_pid, parent, o->self, &d, &meta, err);
	if (!r)
		wd_fd = watchdog_start(ctx, ct, st.init_pid, &d, &wd);
	if (r || (r = dump_wait(ctx, ct, &d, &step, err)) || (r = stop_asked(err)))
		goto fail_resume;
	tf = d.frozen_at > 0 ? d.frozen_at : now_s();
	if (step == DUMP_FROZEN) {
		/* what changed in its files, while criu dumps its processes */
		progress(o, s, "copying what changed while frozen");
		synced = true;
		if ((r = sync_private(o, ct, dst_priv, s, &fsfrozen, err)) ||
		    (r = dump_wait(ctx, ct, &d, &step, err)) || (r = stop_asked(err)))
			goto fail_resume;
	}
	{
		/* criu linked files open but deleted back into the CT's tree
		 * (link remap): those go too */
		_cleanup_free_ char *remap = xasprintf("%s/remap-fpath.img", d.dir);
		_cleanup_free_ char *mp = xasprintf("%s/vz-dump.conf", d.dir);
		if ((!synced || path_exists(remap)) &&
		    (r = sync_private(o, ct, dst_priv, s, &fsfrozen, err)))
			goto fail_resume;
		progress(o, s, "copying the dump");
		if ((r = vz_conf_save(&meta, mp, err)) || (r = send_dump(&ctl, d.dir, s, err)) ||
		    (r = stop_asked(err)))
			goto fail_resume;
	}
	if (lazy) {
		if (pipe2(rep, O_CLOEXEC) < 0)
			r = vz_err_errno(err, VZ_MIG_E_SRCSTOP, errno, "pipe");
		if (!r) {
			pumper = fork();
			if (pumper == 0) {
				close(rep[0]);
				if (wd_fd >= 0)
					close(wd_fd);
				source_pump(d.ps_sock, relay.from, relay.to, rep[1]);
				_exit(0);
			}
			close(rep[1]);
			rep[1] = -1;
		}
		if (r || pumper < 0)
			goto fail_resume;
		progress(o, s, "restoring on the destination");
		r = relay_token_ok(pl) ? ask(&ctl, s, NULL, 0, err, "RESTORE lazy %s", pl)
				       : vz_err(err, VZ_MIG_E_CONNECT, "the destination's relay sent no token");
	} else {
		progress(o, s, "restoring on the destination");
		r = ask(&ctl, s, NULL, 0, err, "RESTORE");
	}
	if (r)
		goto fail_resume;
	s->frozen_s = now_s() - tf;
	/* it runs there: the source's CT may go */
	if (!lazy && write_all(d.hook_conn, "0", 1) < 0)
		vz_log(ctx, ct->ctid, VZ_LOG_WARN, "the dump hook is gone");
	watchdog_tell(&wd_fd, 'H');
	progress(o, s, lazy ? "memory follows on demand" : "finishing");
	int cs = vz_criu_wait(d.pid, -1);
	d.pid = -1;
	if (pumper > 0) {
		unsigned long long n = 0;
		if (read_all(rep[0], &n, sizeof(n)) == sizeof(n))
			s->bytes += n;
		(void)waitpid(pumper, NULL, 0);
		pumper = -1;
	}
	if (cs != 0) {
		/* the CT runs on the destination; pages it never got are lost */
		r = vz_criu_fail(err, VZ_MIG_E_COPY, ct->ctid, "post-copy of memory", cs, d.log);
		goto out;
	}
	/* the monitor cleans up after the CT's dumped processes */
	if (st.monitor_pid > 0)
		(void)pid_gone_within(st.monitor_pid, 30000);
commit:
	progress(o, s, "committing");
	if ((r = ask(&ctl, s, NULL, 0, err, "COMMIT"))) {
		char why[sizeof(err->msg)];
		snprintf(why, sizeof(why), "%s", err->msg);
		r = vz_err(err, r,
			   "CT %u: the destination did not confirm the end (%s): the CT may run "
			   "there; what is here is kept, stopped",
			   ct->ctid, why);
		goto out;
	}
	peer_close(&ctl, false);
	if (o->remove_src) {
		if (vz_ct_destroy_locked(ctx, ct, err))
			vz_log(ctx, ct->ctid, VZ_LOG_WARN, "CT %u: %s", ct->ctid, err->msg);
	} else {
		_cleanup_free_ char *mv = xasprintf("%s.migrated", ct->conf_path);
		if (rename(ct->conf_path, mv) < 0)
			vz_log(ctx, ct->ctid, VZ_LOG_WARN, "cannot rename %s", ct->conf_path);
	}
	r = 0;
	goto out;

fail_resume:
	/* the destination does not run it: the CT runs on here */
	settle_fs(ct, false, &fsfrozen);
	/* a dump still under way is let finish: criu, killed with its code in
	 * the CT's processes, would leave them broken */
	while (d.pid > 0 && step != DUMP_READY) {
		vz_error e;
		if (dump_wait(ctx, ct, &d, &step, &e))
			break;
	}
	if (pumper > 0) {
		kill(pumper, SIGUSR1);
		(void)waitpid(pumper, NULL, 0);
		pumper = -1;
	} else if (lazy && d.pid > 0 && d.ps_sock >= 0) {
		page_server_abort(d.ps_sock);
	}
	if (relay.pid > 0)
		peer_close(&relay, true);
	if (d.hook_conn >= 0)
		(void)write_all(d.hook_conn, "1", 1);
	if (d.pid > 0) {
		(void)vz_criu_wait(d.pid, 60000);
		d.pid = -1;
		/* criu resumed the CT but, after a post-copy, left its lock */
		if (vz_netlock_remove(st.init_pid) < 0)
			vz_log(ctx, ct->ctid, VZ_LOG_WARN, "CT %u: cannot remove criu's network lock",
			       ct->ctid);
	}
	{
		vz_error e;
		(void)vz_ct_cg_freeze(ctx, ct->ctid, false, &e);
	}
	goto fail;
fail_restart:
	/* offline: it was stopped for the copy; it runs here again */
	if (running) {
		vz_error e;
		if (vz_ct_start_from(ctx, ct, NULL, &e))
			vz_log(ctx, ct->ctid, VZ_LOG_ERR, "CT %u: %s", ct->ctid, e.msg);
	}
fail:
	if (ctl.pid > 0) {
		vz_error e;
		if (!o->keep_dst)
			(void)ask(&ctl, s, NULL, 0, &e, "ABORT");
	}
out:
	watchdog_tell(&wd_fd, 'D');
	if (wd > 0)
		(void)waitpid(wd, NULL, 0);
	if (relay.pid > 0)
		peer_close(&relay, !r);
	if (pumper > 0) {
		kill(pumper, SIGKILL);
		(void)waitpid(pumper, NULL, 0);
	}
	if (ctl.pid > 0)
		peer_close(&ctl, false);
	for (int i = 0; i < 2; i++)
		if (rep[i] >= 0)
			close(rep[i]);
	if (d.pid > 0) {
		kill(d.pid, SIGKILL);
		(void)vz_criu_wait(d.pid, 10000);
	}
	if (d.dir && (!r || !o->keep_dst))
		(void)rm_rf(d.dir);
	dumper_free(&d);
	vz_conf_free(&meta);
	s->total_s = now_s() - t0;
	return r;
}

int vz_migrate(vz_ctx *ctx, unsigned ctid, const struct vz_mig_opts *o, struct vz_mig_stats *s,
	       vz_error *err)
{
	memset(s, 0, sizeof(*s));
	if (!o->netns && (!o->dest || !*o->dest))
		return vz_err(err, VZ_MIG_E_USAGE, "no destination given");
	if (o->netns && !o->dst_root)
		return vz_err(err, VZ_MIG_E_USAGE,
			      "a destination in a network namespace needs its own root (--dst-root)");
	struct mig m = {ctx, o, s};
	struct vz_ct ct;
	int lfd;
	signal(SIGPIPE, SIG_IGN); /* a destination that went away is an error value */
	/* vzctl's codes of these two are vzmigrate's 10 and 20 */
	int r = vz_ct_load(ctx, ctid, &ct, err);
	if (r) {
		err->code = r == VZ_E_NOCONF ? VZ_MIG_E_NOTEXIST : VZ_MIG_E_USAGE;
		return err->code;
	}
	if (vz_lock_ct(ctx, ctid, "migrate", &lfd, err)) {
		vz_ct_free(&ct);
		err->code = VZ_MIG_E_LOCKED;
		return err->code;
	}
	struct vz_sigguard g;
	vz_sigguard_on(&g);
	r = migrate_op(ctx, &ct, &m, err);
	if (!r && vz_interrupted()) {
		/* in the stats, as the tool keeps the log off a progress line */
		static const char late[] =
			"interrupted once it ran on the destination: the migration was finished";
		size_t n = strlen(s->note);
		snprintf(s->note + n, sizeof(s->note) - n, "%s%s", n ? "; " : "", late);
		vz_log(ctx, ctid, VZ_LOG_WARN, "CT %u: %s", ctid, late);
	}
	vz_sigguard_off(&g);
	vz_mig_pipe_size_done();
	vz_unlock(lfd);
	vz_ct_free(&ct);
	return r;
}

/* ---- the destination side ---- */

struct rcv {
	vz_ctx *ctx;
	unsigned ctid;
	FILE *in;
	int out;
	bool hello, conf_written, done, cleaned;
	bool lazy_running; /* restored, its memory on the way */
	char *layer_tmp, *layer_dir;
	char *dump_dir;
	pid_t lazy_pid;
	uid_t uid_base; /* the range allocated here */
	bool uid_registered;
	struct vz_ct ct;
	bool ct_loaded;
	vz_error ferr; /* the first file of the dump that could not be written */
};

static void say(struct rcv *c, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	(void)write_all(c->out, buf, (size_t)n);
}

static void say_err(struct rcv *c, const vz_error *e, int code)
{
	char m[sizeof(e->msg)];
	snprintf(m, sizeof(m), "%s", e->msg);
	for (char *p = m; *p; p++)
		if (*p == '\n')
			*p = ' ';
	say(c, "ERR %d %s", code, m);
}

static void rcv_cleanup(struct rcv *c)
{
	vz_error e;
	if (c->lazy_pid > 0) {
		kill(c->lazy_pid, SIGKILL);
		(void)vz_criu_wait(c->lazy_pid, 10000);
		c->lazy_pid = -1;
	}
	if (c->ct_loaded) {
		struct vz_state st;
		if (vz_state_read(c->ctx, c->ctid, &st) == 1)
			(void)vz_ct_stop_locked(c->ctx, &c->ct, VZ_STOP_FAST, &e);
		if (is_mountpoint(c->ct.root_dir))
			(void)vz_storage_umount(c->ctx, &c->ct, &e);
		(void)rm_rf(c->ct.private_dir);
		(void)rmdir(c->ct.root_dir);
	}
	if (c->conf_written) {
		_cleanup_free_ char *cp = vz_ct_conf_path(c->ctx, c->ctid);
		(void)unlink(cp);
	}
	if (c->uid_registered)
		vz_idmap_free(c->ctx, c->ctid, c->uid_base);
	if (c->layer_tmp)
		(void)rm_rf(c->layer_tmp);
	if (c->dump_dir)
		(void)rm_rf(c->dump_dir);
}

static int rcv_hello(struct rcv *c, char *args, vz_error *err)
{
	unsigned id = 0;
	char ver[32];
	if (sscanf(args, "%31s %u", ver, &id) != 2 || id != c->ctid)
		return vz_err(err, VZ_MIG_E_USAGE, "bad HELLO");
	_cleanup_free_ char *cp = vz_ct_conf_path(c->ctx, c->ctid);
	if (path_exists(cp))
		return vz_err(err, VZ_MIG_E_EXISTS, "CT %u exists on the destination", c->ctid);
	const char *l = strstr(args, "layer=");
	if (l && strncmp(l + 6, "-", 1)) {
		_cleanup_free_ char *v = strndup(l + 6, strcspn(l + 6, " "));
		if (!vz_template_version_ok(v))
			return vz_err(err, VZ_MIG_E_USAGE, "bad template layer %s", v);
		c->layer_dir = xasprintf("%s/layers/%s", c->ctx->template_dir, v);
		if (!path_exists(c->layer_dir))
			c->layer_tmp = xasprintf("%s.incoming", c->layer_dir);
	}
	if (strstr(args, "online=1")) {
		vz_mig_pipe_size();
		/* criu's cache of its kernel probe, before any frozen window */
		vz_criu_kdat_seed(c->ctx);
	}
	return 0;
}

/* CONF N + N bytes: the CT's config, checked by loading it */
static int rcv_conf(struct rcv *c, size_t n, vz_error *err)
{
	if (n > 1 << 20)
		return vz_err(err, VZ_MIG_E_USAGE, "config too large");
	_cleanup_free_ char *text = xmalloc(n + 1);
	if (fread(text, 1, n, c->in) != n)
		return vz_err(err, VZ_MIG_E_CONNECT, "config cut short");
	text[n] = '\0';
	struct vz_conf peer = {0}, conf = {0};
	_cleanup_free_ char *cp = vz_ct_conf_path(c->ctx, c->ctid);
	int r = vz_conf_parse(&peer, text, "the CT's config", err);
	/* what the peer may choose, with paths and ids chosen here */
	if (!r && !(r = vz_peer_conf(c->ctx, c->ctid, &peer, &conf, &c->uid_base, err)))
		c->uid_registered = c->uid_base != 0;
	vz_conf_free(&peer);
	if (!r) {
		if (mkdir_p(c->ctx->conf_dir, 0755) < 0)
			r = vz_err_errno(err, VZ_MIG_E_CONFIG, errno, "cannot create %s",
					 c->ctx->conf_dir);
		else if (!(r = vz_conf_save(&conf, cp, err)))
			c->conf_written = true;
	}
	vz_conf_free(&conf);
	if (r)
		return r;
	if ((r = vz_ct_load(c->ctx, c->ctid, &c->ct, err)))
		return r;
	c->ct_loaded = true;
	if (path_exists(c->ct.private_dir))
		return vz_err(err, VZ_MIG_E_EXISTS, "CT %u: private area %s exists on the destination",
			      c->ctid, c->ct.private_dir);
	if (mkdir_p(c->ct.private_dir, 0700) < 0)
		return vz_err_errno(err, VZ_MIG_E_COPY, errno, "cannot create %s",
				    c->ct.private_dir);
	_cleanup_free_ char *def = vz_dump_default(c->ctx, c->ctid);
	c->dump_dir = xasprintf("%s.incoming", def);
	(void)rm_rf(c->dump_dir);
	if (mkdir_p(c->dump_dir, 0700) < 0)
		return vz_err_errno(err, VZ_MIG_E_COPY, errno, "cannot create %s", c->dump_dir);
	if (c->layer_tmp && mkdir_p(c->layer_tmp, 0755) < 0)
		return vz_err_errno(err, VZ_MIG_E_COPY, errno, "cannot create %s", c->layer_tmp);
	return 0;
}

/* FILE size mode name + its bytes, or LINK name target: one file of the
 * dump, answered only at FILESDONE. The bytes are read even when they
 * cannot be written, so the session stays in step; -1: it broke off. */
static int rcv_file(struct rcv *c, bool link, char *args)
{
	long long size = 0;
	unsigned mode = 0600;
	int off = 0;
	const char *name = args, *target = NULL;
	if (link) {
		char *sp = strchr(args, ' ');
		if (sp) {
			*sp = '\0';
			target = sp + 1;
		}
	} else if (sscanf(args, "%lld %o %n", &size, &mode, &off) == 2 && off > 0 && size >= 0) {
		name = args + off;
	} else {
		return -1;
	}
	/* a link may only be criu's "parent" to a pre-copy round */
	bool bad = !c->dump_dir || !*name || strchr(name, '/') || !strcmp(name, ".") ||
		   !strcmp(name, "..") || (link && (!target || !vz_dump_link_ok(name, target)));
	_cleanup_free_ char *path = bad ? NULL : xasprintf("%s/%s", c->dump_dir, name);
	int fd = -1, e = bad ? EINVAL : 0;
	if (path && link && target && symlink(target, path) < 0)
		e = errno;
	if (path && !link &&
	    (fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode & 0777)) < 0)
		e = errno;
	char buf[1 << 16];
	while (size > 0) {
		size_t n = fread(buf, 1, size > (long long)sizeof(buf) ? sizeof(buf) : (size_t)size,
				 c->in);
		if (n == 0)
			break;
		size -= (long long)n;
		if (fd >= 0 && !e && write_all(fd, buf, n) < 0)
			e = errno;
	}
	if (fd >= 0)
		close(fd);
	if (e && !c->ferr.code)
		vz_err_errno(&c->ferr, VZ_MIG_E_COPY, e, "cannot write the dump's %.100s", name);
	return size > 0 ? -1 : 0;
}

static int rcv_restore(struct rcv *c, char *args, vz_error *err)
{
	char token[RELAY_TOKEN_LEN + 1] = "";
	bool lazy = false;
	/* the dump as the peer sent it is checked before any criu reads it */
	int r = vz_dump_check(c->ctx, &c->ct, c->dump_dir, err);
	if (r) {
		err->code = VZ_MIG_E_DSTSTART;
		return r;
	}
	if (sscanf(args, "lazy %32s", token) == 1) {
		/* memory on demand from the source, through the relay: its
		 * socket, not a port (--ps-socket: criu connects nowhere) */
		lazy = true;
		int ps = relay_fetch(token);
		if (ps < 0)
			return vz_err(err, VZ_MIG_E_DSTSTART, "CT %u: no lazy pages relay %.40s",
				      c->ctid, token);
		struct vz_argv a = {0};
		vz_argv_add(&a, "lazy-pages");
		vz_argv_add(&a, "--page-server");
		vz_argv_add(&a, "--ps-socket");
		vz_argv_add(&a, "%d", ps);
		vz_argv_add(&a, "-D");
		vz_argv_add(&a, "%s", c->dump_dir);
		vz_argv_add(&a, "-o");
		vz_argv_add(&a, "%s/lazy-pages.log", c->dump_dir);
		vz_argv_add(&a, "-v4");
		/* a byte on the status fd once its socket listens */
		int sfd[2];
		if (pipe2(sfd, O_CLOEXEC) < 0) {
			int e = errno;
			close(ps);
			vz_argv_free(&a);
			return vz_err_errno(err, VZ_MIG_E_DSTSTART, e, "pipe");
		}
		vz_argv_add(&a, "--status-fd");
		vz_argv_add(&a, "%d", sfd[1]);
		int keep[2] = {sfd[1], ps};
		c->lazy_pid = vz_criu_spawn_at(c->ctx, &a, keep, 2, NULL,
					       !vz_under_run(c->dump_dir), err);
		vz_argv_free(&a);
		close(sfd[1]);
		close(ps);
		if (c->lazy_pid < 0) {
			close(sfd[0]);
			return err->code;
		}
		struct pollfd pf = {.fd = sfd[0], .events = POLLIN};
		char b;
		bool up = poll_nointr(&pf, 1, LAZY_START_MS) == 1 && read(sfd[0], &b, 1) == 1;
		close(sfd[0]);
		if (!up) {
			kill(c->lazy_pid, SIGKILL);
			int st = vz_criu_wait(c->lazy_pid, 10000);
			c->lazy_pid = -1;
			_cleanup_free_ char *lg = xasprintf("%s/lazy-pages.log", c->dump_dir);
			return vz_criu_fail(err, VZ_MIG_E_DSTSTART, c->ctid, "lazy-pages", st, lg);
		}
	}
	/* The restored tasks open their userfaultfd inside the CT's user
	 * namespace, which the kernel refuses unless unprivileged users may:
	 * allowed for the restore only (the uffd stays valid), then back. */
	_cleanup_free_ char *uffd = lazy ? read_file(UFFD_SYSCTL, NULL) : NULL;
	bool opened = uffd && uffd[0] == '0' && write_str(UFFD_SYSCTL, "1") == 0;
	r = vz_cpt_restore_locked(c->ctx, &c->ct, c->dump_dir, err);
	if (opened)
		(void)write_str(UFFD_SYSCTL, "0");
	if (r)
		err->code = VZ_MIG_E_DSTSTART;
	return r;
}

static void rcv_commit(struct rcv *c)
{
	if (c->lazy_pid > 0) {
		/* all pages are here once the source's dump is done */
		(void)vz_criu_wait(c->lazy_pid, 60000);
		c->lazy_pid = -1;
	}
	if (c->dump_dir) {
		(void)rm_rf(c->dump_dir);
		free(c->dump_dir);
		c->dump_dir = NULL;
	}
	c->done = true;
}

static volatile sig_atomic_t rcv_stop;
static void rcv_signal(int sig)
{
	(void)sig;
	rcv_stop = 1;
}

int vz_migrate_receive(vz_ctx *ctx, unsigned ctid, vz_error *err)
{
	struct rcv c = {.ctx = ctx, .ctid = ctid, .out = 1, .lazy_pid = -1};
	int lfd, r;
	signal(SIGPIPE, SIG_IGN);
	/* killed or hung up: what was received goes (no SA_RESTART: the read
	 * of the next request returns) */
	struct sigaction sa = {.sa_handler = rcv_signal};
	int sigs[] = {SIGTERM, SIGHUP, SIGINT};
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		(void)sigaction(sigs[i], &sa, NULL);
	c.in = fdopen(0, "r");
	if (!c.in)
		return vz_err_errno(err, VZ_MIG_E_CONNECT, errno, "stdin");
	if ((r = vz_lock_ct(ctx, ctid, "migrate", &lfd, err))) {
		say_err(&c, err, VZ_MIG_E_LOCKED);
		fclose(c.in);
		return r;
	}
	char line[4096];
	while (!c.done && !rcv_stop && fgets(line, sizeof(line), c.in)) {
		line[strcspn(line, "\n")] = '\0';
		char *sp = strchr(line, ' ');
		char *args = sp ? sp + 1 : line + strlen(line);
		if (sp)
			*sp = '\0';
		vz_error e = {0};
		int rr = 0;
		size_t n;
		/* HELLO once and first, CONF once: a second would leak the
		 * first's state and write over (then clean up) what HELLO checked;
		 * COMMIT only of a CT whose config was taken */
		bool order = !strcmp(line, "HELLO") ? c.hello
			     : !c.hello || (!strcmp(line, "CONF") && c.conf_written) ||
				       (!strcmp(line, "COMMIT") && !c.ct_loaded);
		if (order) {
			rr = vz_err(&e, VZ_MIG_E_USAGE, "%.100s out of order", line);
		} else if (!strcmp(line, "HELLO")) {
			rr = rcv_hello(&c, args, &e);
			if (!rr) {
				c.hello = true;
				say(&c, "OK");
				continue;
			}
		} else if (!strcmp(line, "CONF") && sscanf(args, "%zu", &n) == 1) {
			rr = rcv_conf(&c, n, &e);
			char nl[32];
			/* the CONFDONE line follows the bytes */
			if (!fgets(nl, sizeof(nl), c.in) && !rr)
				rr = vz_err(&e, VZ_MIG_E_CONNECT, "config cut short");
			if (!rr) {
				say(&c, "OK private=%s dump=%s layer=%s", c.ct.private_dir, c.dump_dir,
				    c.layer_tmp ? c.layer_tmp : "have");
				continue;
			}
		} else if (!strcmp(line, "LAYERDONE") && c.layer_tmp) {
			if (rename(c.layer_tmp, c.layer_dir) < 0)
				rr = vz_err_errno(&e, VZ_MIG_E_COPY, errno, "cannot install %s",
						  c.layer_dir);
			else {
				free(c.layer_tmp);
				c.layer_tmp = NULL;
				say(&c, "OK");
				continue;
			}
		} else if (!strcmp(line, "FILE") || !strcmp(line, "LINK")) {
			if (rcv_file(&c, line[0] == 'L', args) == 0)
				continue;
			rr = vz_err(&e, VZ_MIG_E_CONNECT, "the dump was cut short");
		} else if (!strcmp(line, "FILESDONE")) {
			if (!c.ferr.code) {
				say(&c, "OK");
				continue;
			}
			e = c.ferr;
			rr = e.code;
		} else if (!strcmp(line, "RESTORE") && c.ct_loaded) {
			if (!(rr = rcv_restore(&c, args, &e))) {
				c.lazy_running = c.lazy_pid > 0;
				say(&c, "OK");
				continue;
			}
		} else if (!strcmp(line, "START") && c.ct_loaded) {
			if (!(rr = vz_ct_start_from(ctx, &c.ct, NULL, &e))) {
				say(&c, "OK");
				continue;
			}
			e.code = VZ_MIG_E_DSTSTART;
		} else if (!strcmp(line, "COMMIT")) {
			rcv_commit(&c);
			say(&c, "OK");
			continue;
		} else if (!strcmp(line, "ABORT")) {
			/* undone before the answer: the source may go at once */
			rcv_cleanup(&c);
			c.cleaned = true;
			say(&c, "OK");
			break;
		} else {
			rr = vz_err(&e, VZ_MIG_E_USAGE, "unknown request %.100s", line);
		}
		say_err(&c, &e, e.code ? e.code : rr);
		if (order)
			break;
		if (!strcmp(line, "HELLO"))
			break; /* nothing was made: nothing to undo */
	}
	if (!c.done && !c.cleaned && c.lazy_running) {
		/* the source went quiet (or this side was told to stop) after
		 * the CT ran here: once all of its memory is here, the source's
		 * criu ends its copy, and this one is the CT */
		int st = vz_criu_wait(c.lazy_pid, 60000);
		c.lazy_pid = -1;
		if (st == 0) {
			rcv_commit(&c);
			vz_log(ctx, ctid, VZ_LOG_WARN,
			       "CT %u: the source did not confirm, but all memory came: the CT runs here",
			       ctid);
		}
	}
	if (!c.done) {
		if (!c.cleaned)
			rcv_cleanup(&c);
		r = vz_err(err, VZ_MIG_E_CONNECT, "CT %u: migration did not complete", ctid);
	}
	vz_mig_pipe_size_done();
	vz_unlock(lfd);
	if (c.ct_loaded)
		vz_ct_free(&c.ct);
	free(c.layer_tmp);
	free(c.layer_dir);
	free(c.dump_dir);
	fclose(c.in);
	return c.done ? 0 : r;
}
