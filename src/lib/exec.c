/* Running commands in a running CT: join its cgroups and every namespace
 * of its init (setns on a pidfd, so all at once), become its root. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <linux/sched.h>
#include "internal.h"

static volatile pid_t exec_child;
static void forward_signal(int sig)
{
	if (exec_child > 0)
		kill(exec_child, sig);
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

int vz_enter_ct(vz_ctx *ctx, struct vz_ct *ct, const struct vz_state *st,
		vz_error *err)
{
	int pidfd = (int)syscall(SYS_pidfd_open, st->init_pid, 0);
	if (pidfd < 0 || proc_starttime(st->init_pid) != st->init_start)
		return vz_err(err, VZ_E_NOTRUNNING, "CT %u is not running", ct->ctid);
	struct vz_cgroups cg;
	int r = vz_cg_detect(&cg, err);
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
	return 0;
}

/* After the fork into the CT's pid namespace: the CT's root, clean env. */
static void become_ct_root(vz_ctx *ctx, struct vz_ct *ct)
{
	vz_error e;
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 ||
	    vz_caps_apply_bounding(vz_ct_get(ct, ctx, "CAPABILITY"), &e) < 0 ||
	    chdir("/") < 0) {
		fprintf(stderr, "vzctl: CT %u: cannot become root inside: %s\n", ct->ctid,
			strerror(errno));
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
	int p[2], in[2] = {-1, -1};
	if (pipe2(p, O_CLOEXEC) < 0 || (input && pipe2(in, O_CLOEXEC) < 0)) {
		vz_ct_free(&ct);
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "pipe");
	}
	fflush(stdout);
	fflush(stderr);
	pid_t x = vz_fork_ct(ctx, ctid);
	if (x < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		if (input) {
			close(in[0]);
			close(in[1]);
		}
		vz_ct_free(&ct);
		return vz_err_errno(err, VZ_E_SYSTEM, e, "fork");
	}
	if (x == 0) {
		close(p[0]);
		if (input)
			close(in[1]); /* or the command never sees end of input */
		vz_error e = {0};
		if (vz_enter_ct(ctx, &ct, &st, &e)) {
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
			if (input && dup2(in[0], 0) < 0)
				_exit(125);
			/* its own session inside: a session led from outside the
			 * CT's pid namespace cannot be checkpointed */
			(void)setsid();
			close_fds_from(3, NULL, 0);
			char **av = build_argv(mode, argv);
			become_ct_root(ctx, &ct);
			execvp(av[0], av);
			fprintf(stderr, "vzctl: CT %u: cannot run %s: %s\n", ctid, av[0],
				strerror(errno));
			_exit(errno == ENOENT ? 127 : 126);
		}
		/* out of our process group now: pass on what the terminal sends */
		exec_child = y;
		struct sigaction sa = {.sa_handler = forward_signal};
		int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
		for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
			(void)sigaction(sigs[i], &sa, NULL);
		int s;
		while (waitpid(y, &s, 0) < 0 && errno == EINTR)
			;
		_exit(decode_status(s));
	}
	close(p[1]);
	if (input) {
		close(in[0]);
		/* small inputs (a password line): they fit the pipe */
		(void)write_all(in[1], input, strlen(input));
		close(in[1]);
	}
	char buf[sizeof(err->msg) + 8];
	ssize_t n = read_all(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
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
		if (vz_enter_ct(ctx, ct, st, &e) || setresgid(0, 0, 0) < 0 ||
		    setgroups(0, NULL) < 0 || setresuid(0, 0, 0) < 0)
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
	for (;;) {
		if (winch) {
			winch = 0;
			copy_winsize(0, master);
		}
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
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
			if (n <= 0)
				pf[0].fd = -1; /* our input ended; the shell decides */
			else
				(void)write_all(master, buf, (size_t)n);
		} else if (pf[0].revents & (POLLHUP | POLLERR)) {
			pf[0].fd = -1;
		}
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
		if (vz_enter_ct(ctx, &ct, &st, &e)) {
			dprintf(sk[1], "%03d%s", e.code, e.msg);
			_exit(125);
		}
		pid_t y = fork();
		if (y < 0)
			_exit(125);
		if (y == 0) {
			become_ct_root(ctx, &ct);
			/* the pty is the CT's own, from its devpts */
			int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
			char name[64];
			if (m < 0 || unlockpt(m) < 0 || ptsname_r(m, name, sizeof(name)) ||
			    send_fd(sk[1], m) < 0)
				_exit(125);
			close(m);
			close(sk[1]);
			close_fds_from(3, NULL, 0);
			if (setsid() < 0)
				_exit(125);
			int s = open(name, O_RDWR);
			if (s < 0 || ioctl(s, TIOCSCTTY, 0) < 0 || dup2(s, 0) < 0 ||
			    dup2(s, 1) < 0 || dup2(s, 2) < 0)
				_exit(125);
			if (s > 2)
				close(s);
			const char *sh = ct_shell();
			execl(sh, sh, "-l", (char *)NULL);
			_exit(127);
		}
		close(sk[1]);
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
	relay(master, cmd);
	close(master);
	int s;
	while (waitpid(x, &s, 0) < 0 && errno == EINTR)
		;
	vz_ct_free(&ct);
	*status = decode_status(s);
	return 0;
}
