/* Running commands in a running CT: join its cgroups and every namespace
 * of its init (setns on a pidfd, so all at once), become its root.
 *
 * The CT's root is not trusted. Every process of ours that enters a CT is
 * non-dumpable from before its first setns and has taken the CT's ids
 * before it forks into the CT's pid namespace, so what CT root can see of
 * it is a process of its own root that it can neither trace nor read (its
 * memory was made in the host's user namespace). CT programs get pipes or
 * a pty of the CT's own, relayed by vzctl, never the caller's files or
 * terminal. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <linux/sched.h>
#include "internal.h"

/* The command's process, as a pidfd: once it has been waited for, its
 * pid may name any host process, the pidfd nothing. */
static volatile int exec_child = -1;
static void forward_signal(int sig)
{
	if (exec_child >= 0)
		(void)syscall(SYS_pidfd_send_signal, exec_child, sig, NULL, 0);
}

static pid_t clone_into(int cgfd)
{
	struct clone_args ca = {.flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD,
				.cgroup = (unsigned long long)cgfd};
	pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	int e = errno;
	close(cgfd);
	errno = e;
	return pid;
}

/* fork() whose child starts in the CT's v2 cgroup: CLONE_INTO_CGROUP
 * places it there without a migration, which would wait for an RCU grace
 * period. The v1 cgroups follow in vz_enter_ct. */
pid_t vz_fork_ct(vz_ctx *ctx, unsigned ctid)
{
	struct vz_cgroups cg;
	vz_error e;
	if (vz_cg_detect(&cg, &e))
		return fork();
	_cleanup_free_ char *rel = vz_cg_rel(ctx, ctid);
	int fd = vz_cg_open_v2(&cg, rel, &e);
	pid_t pid;
	if (fd == -1) {
		pid = fork();
	} else if (fd < -1) {
		errno = ENOENT;
		pid = -1;
	} else {
		pid = clone_into(fd);
	}
	/* A CT whose init enabled controllers for its own sub-cgroups (systemd
	 * does on a v2 host) has made its cgroup an inner node, where no
	 * process may be: join the cgroup of its init instead, a leaf. */
	struct vz_state st;
	if (pid < 0 && errno == EBUSY && vz_state_read(ctx, ctid, &st) == 1) {
		_cleanup_free_ char *irel = vz_cg_v2_rel_of(st.init_pid, rel);
		fd = irel ? vz_cg_open_v2(&cg, irel, &e) : -1;
		if (fd >= 0)
			pid = clone_into(fd);
		else
			errno = EBUSY;
	}
	int keep = errno;
	vz_cg_free(&cg);
	errno = keep;
	return pid;
}

/* CT root holds CAP_SYS_PTRACE in the CT's user namespace: a dumpable
 * process of ours in that namespace would be its to read and trace. A
 * non-dumpable one needs that capability over the namespace its memory
 * was made in, the host's. A change of ids resets the flag (to
 * fs.suid_dumpable), so it is set again after each. */
static int undumpable(unsigned ctid, vz_error *err)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "CT %u: cannot make the helper private",
				    ctid);
	return 0;
}

int vz_enter_ct(vz_ctx *ctx, struct vz_ct *ct, const struct vz_state *st,
		vz_error *err)
{
	int r = undumpable(ct->ctid, err);
	if (r)
		return r;
	int pidfd = (int)syscall(SYS_pidfd_open, st->init_pid, 0);
	if (pidfd < 0 || proc_starttime(st->init_pid) != st->init_start)
		return vz_err(err, VZ_E_NOTRUNNING, "CT %u is not running", ct->ctid);
	struct vz_cgroups cg;
	r = vz_cg_detect(&cg, err);
	if (!r) {
		_cleanup_free_ char *rel = vz_cg_rel(ctx, ct->ctid);
		r = vz_cg_enter_v1(&cg, rel, err);
		vz_cg_free(&cg);
	}
	if (r) {
		close(pidfd);
		return r;
	}
	int ns = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET |
		 CLONE_NEWCGROUP;
	if (ct->uid_base)
		ns |= CLONE_NEWUSER;
	if (setns(pidfd, ns) < 0) {
		int e = errno;
		close(pidfd);
		return vz_err_errno(err, VZ_E_SYSTEM, e, "CT %u: cannot enter namespaces",
				    ct->ctid);
	}
	close(pidfd);
	/* the CT's root before anything of ours appears in its pid namespace
	 * (setns put only our children there); gid first, while we may */
	if (ct->uid_base && (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 ||
			     setresuid(0, 0, 0) < 0))
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "CT %u: cannot become root inside",
				    ct->ctid);
	return undumpable(ct->ctid, err);
}

/* The CT's seccomp filter for a process vzctl starts in it: built (and a
 * connection to the monitor made, which answers sysinfo) while the host's
 * files are still in view, before vz_enter_ct. */
struct exec_filter {
	struct vz_seccomp *f;
	int mon;
};
static int exec_filter_prepare(vz_ctx *ctx, struct vz_ct *ct, struct exec_filter *x,
			       vz_error *e)
{
	x->mon = vz_seccomp_notify_connect(ctx, ct->ctid);
	int r = vz_seccomp_prepare_exec(ctx, ct, x->mon >= 0, &x->f, e);
	if (r && x->mon >= 0) {
		close(x->mon);
		x->mon = -1;
	}
	return r;
}

/* After the fork into the CT's pid namespace: the CT's root, clean env. */
static void become_ct_root(vz_ctx *ctx, struct vz_ct *ct, struct exec_filter *xf)
{
	vz_error e;
	if (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 || setresuid(0, 0, 0) < 0 ||
	    undumpable(ct->ctid, &e) || chdir("/") < 0) {
		fprintf(stderr, "vzctl: CT %u: cannot become root inside: %s\n", ct->ctid,
			strerror(errno));
		_exit(126);
	}
	if (vz_caps_apply_bounding(vz_ct_get(ct, ctx, "CAPABILITY"), &e)) {
		fprintf(stderr, "vzctl: %s\n", e.msg);
		_exit(126);
	}
	/* the same filter as the CT's init: filters go by process tree */
	if (vz_seccomp_apply(xf->f, xf->mon, &e)) {
		fprintf(stderr, "vzctl: %s\n", e.msg);
		_exit(126);
	}
	const char *term = getenv("TERM");
	char termbuf[64];
	snprintf(termbuf, sizeof(termbuf), "%s", term ? term : "dumb");
	clearenv();
	setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
	setenv("HOME", "/root", 1);
	setenv("USER", "root", 1);
	setenv("LOGNAME", "root", 1);
	setenv("SHELL", "/bin/sh", 1);
	setenv("TERM", termbuf, 1);
}

static const char *ct_shell(void)
{
	return access("/bin/bash", X_OK) == 0 ? "/bin/bash" : "/bin/sh";
}

static int decode_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 1;
}

static int running_ct(vz_ctx *ctx, unsigned ctid, struct vz_ct *ct,
		      struct vz_state *st, vz_error *err)
{
	int r = vz_ct_load(ctx, ctid, ct, err);
	if (r)
		return r;
	if (!vz_state_read(ctx, ctid, st)) {
		vz_ct_free(ct);
		return vz_err(err, VZ_E_NOTRUNNING, "CT %u is not running", ctid);
	}
	/* a command started in a frozen CT would hang with it */
	struct vz_cgroups cg;
	vz_error e;
	bool frozen = false;
	if (vz_cg_detect(&cg, &e) == 0) {
		_cleanup_free_ char *rel = vz_cg_rel(ctx, ctid);
		frozen = vz_cg_frozen(&cg, rel);
		vz_cg_free(&cg);
	}
	if (frozen) {
		vz_ct_free(ct);
		return vz_err(err, VZ_E_NOTRUNNING,
			      "CT %u is frozen (chkpnt --suspend); vzctl chkpnt %u --resume thaws it",
			      ctid, ctid);
	}
	return 0;
}

/* Builds the argv that runs inside; NULL when the mode needs no shell. */
static char **build_argv(enum vz_exec_mode mode, char *const argv[])
{
	size_t n = 0;
	while (argv[n])
		n++;
	char **out = xcalloc(n + 4, sizeof(char *));
	if (mode == VZ_EXEC_DIRECT) {
		for (size_t i = 0; i < n; i++)
			out[i] = argv[i];
		return out;
	}
	out[0] = (char *)ct_shell();
	if (n == 1 && !strcmp(argv[0], "-"))
		return out; /* commands from stdin */
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(argv[i]) + 1;
	char *cmd = xmalloc(len);
	cmd[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(cmd, " ");
		strcat(cmd, argv[i]); /* joined with spaces, as vzctl exec does */
	}
	out[1] = "-c";
	out[2] = cmd;
	return out;
}

int vz_ct_exec(vz_ctx *ctx, unsigned ctid, enum vz_exec_mode mode,
	       char *const argv[], int *status, vz_error *err)
{
	return vz_exec_input(ctx, ctid, mode, argv, NULL, status, err);
}

/* The parent's side of a command's stdio: our stdin (or a given input)
 * into its stdin pipe, its stdout and stderr pipes onto ours, until the
 * process that waits for it (pidfd) exits; then what is left in the pipes.
 * A program of the CT that stays behind keeps only pipes nobody reads. */
struct stdio_relay {
	int in, out, err;     /* our ends of the command's pipes, -1 when done */
	const char *input;    /* NULL: relay our stdin */
	size_t input_len;
};

/* 1: passed something on, 0: nothing there now, -1: its end closed */
static int pump(int from, int to)
{
	char buf[16384];
	ssize_t n = read(from, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	(void)write_all(to, buf, (size_t)n);
	return 1;
}

/* Passes on what is in the pipe now, no more. */
static void drain(int from, int to)
{
	int left;
	if (from < 0 || ioctl(from, FIONREAD, &left) < 0)
		return;
	while (left > 0) {
		char buf[16384];
		ssize_t n = read(from, buf, (size_t)left < sizeof(buf) ? (size_t)left : sizeof(buf));
		if (n <= 0)
			return;
		(void)write_all(to, buf, (size_t)n);
		left -= (int)n;
	}
}

static void relay_stdio(struct stdio_relay *r, int pidfd)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, oldpipe;
	/* a command that closed its stdin makes our write fail, not kill us */
	(void)sigaction(SIGPIPE, &ign, &oldpipe);
	(void)fcntl(r->in, F_SETFL, O_NONBLOCK);
	(void)fcntl(r->out, F_SETFL, O_NONBLOCK);
	(void)fcntl(r->err, F_SETFL, O_NONBLOCK);
	char ibuf[16384];
	const char *pend = r->input;
	size_t plen = r->input ? r->input_len : 0;
	bool stdin_open = !r->input;
	if (r->input && !plen) {
		close(r->in);
		r->in = -1;
	}
	for (;;) {
		struct pollfd pf[5] = {
			{.fd = pidfd, .events = POLLIN},
			{.fd = r->out, .events = POLLIN},
			{.fd = r->err, .events = POLLIN},
			{.fd = r->in >= 0 && plen ? r->in : -1, .events = POLLOUT},
			{.fd = r->in >= 0 && !plen && stdin_open ? 0 : -1, .events = POLLIN},
		};
		if (poll(pf, 5, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[1].revents && pump(r->out, 1) < 0) {
			close(r->out);
			r->out = -1;
		}
		if (pf[2].revents && pump(r->err, 2) < 0) {
			close(r->err);
			r->err = -1;
		}
		if (pf[3].revents) {
			ssize_t n = write(r->in, pend, plen);
			if (n > 0) {
				pend += n;
				plen -= (size_t)n;
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				plen = 0; /* it closed its stdin: what is left goes nowhere */
				stdin_open = false;
			}
			if (!plen && !stdin_open) {
				close(r->in);
				r->in = -1;
			}
		}
		if (pf[4].revents) {
			ssize_t n = read(0, ibuf, sizeof(ibuf));
			if (n > 0) {
				pend = ibuf;
				plen = (size_t)n;
			} else if (n == 0 || errno != EINTR) {
				stdin_open = false; /* end of our input: end of its */
				close(r->in);
				r->in = -1;
			}
		}
		if (pf[0].revents)
			break;
	}
	/* it is gone: what it wrote before is in the pipes. Only that: a
	 * program it left running that keeps writing would keep us here. */
	drain(r->out, 1);
	drain(r->err, 2);
	(void)sigaction(SIGPIPE, &oldpipe, NULL);
}

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0) {
			close(p[i]);
			p[i] = -1;
		}
}

/* input: NULL to pass our stdin through, else what the command reads */
int vz_exec_input(vz_ctx *ctx, unsigned ctid, enum vz_exec_mode mode,
		  char *const argv[], const char *input, int *status, vz_error *err)
{
	struct vz_ct ct;
	struct vz_state st;
	if (!argv || !argv[0])
		return vz_err(err, VZ_E_NOTENOUGH, "CT %u: no command given", ctid);
	int r = running_ct(ctx, ctid, &ct, &st, err);
	if (r)
		return r;
	/* p: the child's error, if it cannot enter; the command's stdio */
	int p[2] = {-1, -1}, in[2] = {-1, -1}, out[2] = {-1, -1}, er[2] = {-1, -1};
	if (pipe2(p, O_CLOEXEC) < 0 || pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
	    pipe2(er, O_CLOEXEC) < 0) {
		int e = errno;
		close_pair(p);
		close_pair(in);
		close_pair(out);
		close_pair(er);
		vz_ct_free(&ct);
		return vz_err_errno(err, VZ_E_SYSTEM, e, "pipe");
	}
	fflush(stdout);
	fflush(stderr);
	pid_t x = vz_fork_ct(ctx, ctid);
	if (x == 0) {
		close(p[0]);
		close(in[1]);
		close(out[0]);
		close(er[0]);
		vz_error e = {0};
		struct exec_filter xf;
		if (exec_filter_prepare(ctx, &ct, &xf, &e) || vz_enter_ct(ctx, &ct, &st, &e)) {
			char buf[sizeof(e.msg) + 8];
			int n = snprintf(buf, sizeof(buf), "%03d%s", e.code, e.msg);
			(void)write_all(p[1], buf, (size_t)n);
			_exit(125);
		}
		close(p[1]);
		pid_t y = fork();
		if (y < 0)
			_exit(125);
		if (y == 0) {
			if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(er[1], 2) < 0)
				_exit(125);
			/* its own session inside: a session led from outside the
			 * CT's pid namespace cannot be checkpointed */
			(void)setsid();
			close_fds_from(3, &xf.mon, xf.mon >= 0 ? 1 : 0);
			char **av = build_argv(mode, argv);
			become_ct_root(ctx, &ct, &xf);
			execvp(av[0], av);
			fprintf(stderr, "vzctl: CT %u: cannot run %s: %s\n", ctid, av[0],
				strerror(errno));
			_exit(errno == ENOENT ? 127 : 126);
		}
		close(in[0]);
		close(out[1]);
		close(er[1]);
		if (xf.mon >= 0)
			close(xf.mon);
		/* out of our process group now: pass on what the terminal sends */
		exec_child = (int)syscall(SYS_pidfd_open, y, 0);
		struct sigaction sa = {.sa_handler = forward_signal};
		int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
		for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
			(void)sigaction(sigs[i], &sa, NULL);
		int s;
		while (waitpid(y, &s, 0) < 0 && errno == EINTR)
			;
		_exit(decode_status(s));
	}
	int fe = errno;
	close(p[1]);
	close(in[0]);
	close(out[1]);
	close(er[1]);
	int pidfd = x > 0 ? (int)syscall(SYS_pidfd_open, x, 0) : -1;
	if (x < 0 || pidfd < 0) {
		if (x > 0) {
			fe = errno;
			kill(x, SIGKILL);
			(void)waitpid(x, NULL, 0);
		}
		close(p[0]);
		close(in[1]);
		close(out[0]);
		close(er[0]);
		vz_ct_free(&ct);
		return vz_err_errno(err, VZ_E_SYSTEM, fe, "CT %u: fork", ctid);
	}
	char buf[sizeof(err->msg) + 8];
	ssize_t n = read_all(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	struct stdio_relay rl = {in[1], out[0], er[0], input, input ? strlen(input) : 0};
	if (n <= 3)
		relay_stdio(&rl, pidfd);
	close(pidfd);
	if (rl.in >= 0)
		close(rl.in);
	if (rl.out >= 0)
		close(rl.out);
	if (rl.err >= 0)
		close(rl.err);
	int s;
	while (waitpid(x, &s, 0) < 0 && errno == EINTR)
		;
	vz_ct_free(&ct);
	if (n > 3) {
		buf[n] = '\0';
		int code = atoi((char[]){buf[0], buf[1], buf[2], 0});
		return vz_err(err, code ? code : VZ_E_SYSTEM, "%s", buf + 3);
	}
	*status = decode_status(s);
	return 0;
}

/* Runs fn in a child that has entered the running CT as its root (gid
 * too: files made with an unmapped id fail with EOVERFLOW). Returns fn's
 * value (0..255), 1 when the CT cannot be entered, -1 when no child. */
int vz_run_in_ct(vz_ctx *ctx, struct vz_ct *ct, const struct vz_state *st,
		 int (*fn)(void *arg), void *arg)
{
	pid_t x = vz_fork_ct(ctx, ct->ctid);
	if (x < 0)
		return -1;
	if (x == 0) {
		vz_error e;
		if (vz_enter_ct(ctx, ct, st, &e)) /* as the CT's root, private */
			_exit(1);
		_exit(fn(arg) & 0xff);
	}
	int s;
	while (waitpid(x, &s, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(s) ? WEXITSTATUS(s) : 1;
}

static volatile sig_atomic_t winch;
static void on_winch(int sig)
{
	(void)sig;
	winch = 1;
}

static void copy_winsize(int from, int to)
{
	struct winsize ws;
	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		(void)ioctl(to, TIOCSWINSZ, &ws);
}

/* Relays the terminal and the CT's pty until the shell is done. */
static void relay(int master, char *const cmd[])
{
	struct termios saved;
	bool tty = tty_raw(&saved);
	if (tty)
		copy_winsize(0, master);
	if (cmd && cmd[0]) {
		for (size_t i = 0; cmd[i]; i++) {
			(void)write_all(master, cmd[i], strlen(cmd[i]));
			(void)write_all(master, cmd[i + 1] ? " " : "\n", 1);
		}
	}
	struct sigaction sa = {.sa_handler = on_winch};
	sigaction(SIGWINCH, &sa, NULL);
	struct pollfd pf[2] = {{.fd = 0, .events = POLLIN}, {.fd = master, .events = POLLIN}};
	char buf[8192];
	/* Once our input has ended, so does the shell's: whenever it has
	 * been quiet a while (waiting for input, its line discipline as it
	 * wants it: a ^D typed before it set its own mode would reach it as
	 * a NUL), it gets the end-of-file character, as if typed. One that
	 * ignores them is hung up on. */
	int eofs = -1;
	for (;;) {
		if (winch) {
			winch = 0;
			copy_winsize(0, master);
		}
		int pr = poll(pf, 2, eofs >= 0 ? 300 : -1);
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pr == 0) {
			if (++eofs > 10)
				break;
			struct termios t;
			cc_t veof = tcgetattr(master, &t) == 0 ? t.c_cc[VEOF] : 4;
			(void)write_all(master, &veof, 1);
			continue;
		}
		if (pf[1].revents & POLLIN) {
			ssize_t n = read(master, buf, sizeof(buf));
			if (n <= 0)
				break;
			(void)write_all(1, buf, (size_t)n);
		} else if (pf[1].revents & (POLLHUP | POLLERR)) {
			break;
		}
		if (pf[0].revents & POLLIN) {
			ssize_t n = read(0, buf, sizeof(buf));
			if (n > 0)
				(void)write_all(master, buf, (size_t)n);
			else
				pf[0].fd = -1;
		} else if (pf[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			pf[0].fd = -1;
		}
		if (pf[0].fd < 0 && eofs < 0)
			eofs = 0;
	}
	if (tty)
		(void)tcsetattr(0, TCSANOW, &saved);
}

int vz_ct_enter(vz_ctx *ctx, unsigned ctid, char *const cmd[], int *status,
		vz_error *err)
{
	struct vz_ct ct;
	struct vz_state st;
	int r = running_ct(ctx, ctid, &ct, &st, err);
	if (r)
		return r;
	int sk[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sk) < 0) {
		vz_ct_free(&ct);
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "socketpair");
	}
	fflush(stdout);
	pid_t x = vz_fork_ct(ctx, ctid);
	if (x < 0) {
		vz_ct_free(&ct);
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "fork");
	}
	if (x == 0) {
		close(sk[0]);
		vz_error e = {0};
		struct exec_filter xf;
		if (exec_filter_prepare(ctx, &ct, &xf, &e) || vz_enter_ct(ctx, &ct, &st, &e)) {
			dprintf(sk[1], "%03d%s", e.code, e.msg);
			_exit(125);
		}
		pid_t y = fork();
		if (y < 0)
			_exit(125);
		if (y == 0) {
			become_ct_root(ctx, &ct, &xf);
			/* the pty is the CT's own, from its devpts; its other end
			 * comes from the master, not from a path the CT controls */
			int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
			if (m < 0 || unlockpt(m) < 0 || send_fd(sk[1], m) < 0)
				_exit(125);
			close(sk[1]);
			if (setsid() < 0)
				_exit(125);
			int s = ioctl(m, TIOCGPTPEER, O_RDWR);
			if (s < 0 || ioctl(s, TIOCSCTTY, 0) < 0 || dup2(s, 0) < 0 ||
			    dup2(s, 1) < 0 || dup2(s, 2) < 0)
				_exit(125);
			close(m);
			close_fds_from(3, NULL, 0);
			if (s > 2)
				close(s);
			const char *sh = ct_shell();
			execl(sh, sh, "-l", (char *)NULL);
			_exit(127);
		}
		close(sk[1]);
		if (xf.mon >= 0)
			close(xf.mon);
		int s;
		while (waitpid(y, &s, 0) < 0 && errno == EINTR)
			;
		_exit(decode_status(s));
	}
	close(sk[1]);
	int master = recv_fd(sk[0]);
	if (master < 0) {
		char buf[sizeof(err->msg) + 8];
		ssize_t n = read(sk[0], buf, sizeof(buf) - 1);
		close(sk[0]);
		(void)waitpid(x, NULL, 0);
		vz_ct_free(&ct);
		if (n > 3) {
			buf[n] = '\0';
			int code = atoi((char[]){buf[0], buf[1], buf[2], 0});
			return vz_err(err, code ? code : VZ_E_SYSTEM, "%s", buf + 3);
		}
		return vz_err(err, VZ_E_SYSTEM, "CT %u: cannot open a terminal inside", ctid);
	}
	close(sk[0]);
	/* the CT made this descriptor: we only relay a pty master */
	struct stat mst;
	int ptn;
	if (fstat(master, &mst) < 0 || !S_ISCHR(mst.st_mode) || ioctl(master, TIOCGPTN, &ptn) < 0) {
		close(master);
		kill(x, SIGKILL);
		(void)waitpid(x, NULL, 0);
		vz_ct_free(&ct);
		return vz_err(err, VZ_E_SYSTEM, "CT %u: its /dev/ptmx gave no terminal", ctid);
	}
	relay(master, cmd);
	close(master);
	int s;
	while (waitpid(x, &s, 0) < 0 && errno == EINTR)
		;
	vz_ct_free(&ct);
	*status = decode_status(s);
	return 0;
}
