/* Starting a CT: a small monitor process (the forked vzctl) creates the
 * CT's init in new namespaces and stays its parent, so it sees init exit:
 * a halt or crash cleans everything up, a reboot starts init again. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/sched.h>
#include <termios.h>
#include "internal.h"

#define CONSOLE_LOG_MAX (1 << 20)


static void child_fail(int sock, const vz_error *e)
{
	char buf[sizeof(e->msg) + 8];
	int n = snprintf(buf, sizeof(buf), "E%03d%s", e->code, e->msg);
	(void)send(sock, buf, (size_t)n, MSG_NOSIGNAL);
	_exit(1);
}

/* In the new namespaces; never returns. */
static void init_child(vz_ctx *ctx, struct vz_ct *ct, const struct vz_cgroups *cg,
		       const char *cgrel, const char *lxcfs, const char *pts,
		       struct vz_seccomp *filter, bool nesting, int sock)
{
	vz_error e = {0};
	bool userns = ct->uid_base != 0;
	char go;
	/* nothing of the CT runs yet, but our memory is the host's: private
	 * (see exec.c) until init's execve gives the CT a memory of its own */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || read_all(sock, &go, 1) != 1 || go != 'G')
		_exit(1);
	if (userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0 ||
		       setgroups(0, NULL) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)) {
		vz_err_errno(&e, VZ_E_SYSTEM, errno, "CT %u: cannot become root inside",
			     ct->ctid);
		child_fail(sock, &e);
	}
	/* v1 cgroups: init moves itself (the cheap way); v2: CLONE_INTO_CGROUP */
	if (vz_cg_enter_v1(cg, cgrel, &e))
		child_fail(sock, &e);
	if (unshare(CLONE_NEWCGROUP) < 0) {
		vz_err_errno(&e, VZ_E_SYSTEM, errno, "CT %u: cgroup namespace", ct->ctid);
		child_fail(sock, &e);
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		vz_err_errno(&e, VZ_E_MOUNT, errno, "CT %u: private mounts", ct->ctid);
		child_fail(sock, &e);
	}
	/* "inherit" reads the host's resolv.conf, still in view here */
	_cleanup_free_ char *ns = vz_dns_expand(vz_ct_get(ct, ctx, "NAMESERVER"));
	if (vz_rootfs_setup(userns, lxcfs, pts, nesting, &e)) {
		vz_error w;
		vz_err(&w, e.code, "CT %u: %s", ct->ctid, e.msg);
		child_fail(sock, &w);
	}
	if (ct->hostname && *ct->hostname)
		(void)vz_distro_hostname(ct->hostname);
	{
		/* interfaces the CT's own DHCP client configures (ifupdown) */
		struct vz_netif nf[VZ_MAX_NETIFS];
		size_t nn = vz_netcfg_netifs(vz_conf_get(&ct->conf, "NETIF"), ct->ctid, nf,
					     VZ_MAX_NETIFS);
		(void)vz_distro_netifs(nf, nn);
		vz_distro_runtime();
	}
	if (vz_dns_write(ns, vz_ct_get(ct, ctx, "SEARCHDOMAIN")) < 0) {
		vz_err_errno(&e, VZ_E_BADDNS, errno, "CT %u: cannot write /etc/resolv.conf",
			     ct->ctid);
		child_fail(sock, &e);
	}
	if (send(sock, "K", 1, MSG_NOSIGNAL) != 1) /* set up; init next */
		_exit(1);
	const char *hn = ct->hostname && *ct->hostname ? ct->hostname : "localhost";
	if (sethostname(hn, strlen(hn)) < 0) {
		vz_err_errno(&e, VZ_E_HOSTNAME, errno, "CT %u: hostname %s", ct->ctid, hn);
		child_fail(sock, &e);
	}
	if (vz_net_lo_up(&e))
		child_fail(sock, &e);
	if (setsid() < 0) {
		vz_err_errno(&e, VZ_E_SYSTEM, errno, "CT %u: setsid", ct->ctid);
		child_fail(sock, &e);
	}
	int cfd = open("/dev/console", O_RDWR | O_CLOEXEC);
	if (cfd < 0 || ioctl(cfd, TIOCSCTTY, 0) < 0 || dup2(cfd, 0) < 0 ||
	    dup2(cfd, 1) < 0 || dup2(cfd, 2) < 0) {
		vz_err_errno(&e, VZ_E_SYSTEM, errno, "CT %u: /dev/console", ct->ctid);
		child_fail(sock, &e);
	}
	if (cfd > 2)
		close(cfd);
	if (vz_caps_apply_bounding(vz_ct_get(ct, ctx, "CAPABILITY"), &e))
		child_fail(sock, &e);
	/* no host descriptor may reach the CT's init; sock closes at exec */
	if (syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) < 0) {
		vz_err_errno(&e, VZ_E_SYSTEM, errno, "CT %u: close_range", ct->ctid);
		child_fail(sock, &e);
	}
	/* last: the filter also holds for everything init starts; the monitor
	 * gets its listener to answer sysinfo(2) */
	int lfd = -1;
	if (vz_seccomp_install(filter, &lfd, &e))
		child_fail(sock, &e);
	if (lfd >= 0) {
		if (send_fd(sock, lfd) < 0)
			_exit(1);
		close(lfd);
	}
	char *const argv[] = {"/sbin/init", NULL};
	char *const envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			      "TERM=linux", "container=vz", "HOME=/", NULL};
	execve(argv[0], argv, envp);
	vz_err_errno(&e, VZ_E_BROKEN, errno, "CT %u: cannot run /sbin/init", ct->ctid);
	child_fail(sock, &e);
}

static void seccomp_freep(struct vz_seccomp **s)
{
	vz_seccomp_free(*s);
}

static int spawn_init(vz_ctx *ctx, struct vz_ct *ct, const struct vz_cgroups *cg,
		      const char *cgrel, const char *lxcfs, struct vz_init_proc *ip,
		      vz_error *err)
{
	int sk[2], r;
	char pts[64];
	ip->pid = -1;
	ip->pidfd = -1;
	ip->console = -1;
	ip->notify = -1;
	/* built here, where an extra deny list on the host can be read */
	__attribute__((cleanup(seccomp_freep))) struct vz_seccomp *filter = NULL;
	if ((r = vz_seccomp_prepare(ctx, ct, true, &filter, err)))
		return r;
	int nesting = vz_nesting(ct, ctx, err);
	if (nesting < 0)
		return err->code;
	if ((r = vz_console_pty(ct, &ip->console, NULL, pts, sizeof(pts), err)))
		return r;
	int v2 = vz_cg_open_v2(cg, cgrel, err);
	if (v2 < -1) {
		close(ip->console);
		ip->console = -1;
		return -v2;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sk) < 0) {
		int e = errno;
		if (v2 >= 0)
			close(v2);
		close(ip->console);
		ip->console = -1;
		return vz_err_errno(err, VZ_E_SYSTEM, e, "socketpair");
	}
	unsigned long long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS |
				   CLONE_NEWIPC | CLONE_NEWNET | CLONE_PIDFD;
	if (ct->uid_base)
		flags |= CLONE_NEWUSER;
	int pidfd = -1;
	struct clone_args ca = {.flags = flags, .pidfd = (uintptr_t)&pidfd,
				.exit_signal = SIGCHLD};
	if (v2 >= 0) {
		ca.flags |= CLONE_INTO_CGROUP;
		ca.cgroup = (unsigned long long)v2;
	}
	/* The child starts with its cwd on the CT root and works from there:
	 * the host path to it may not be searchable by the CT's mapped root. */
	if (chdir(ct->root_dir) < 0) {
		int e = errno;
		if (v2 >= 0)
			close(v2);
		close(sk[0]);
		close(sk[1]);
		close(ip->console);
		ip->console = -1;
		return vz_err_errno(err, VZ_E_MOUNT, e, "CT %u: cannot enter %s", ct->ctid,
				    ct->root_dir);
	}
	pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	int ce = errno;
	if (pid == 0) {
		close(sk[0]);
		init_child(ctx, ct, cg, cgrel, lxcfs, pts, filter, nesting == 1, sk[1]);
	}
	(void)chdir("/"); /* the monitor must not keep the CT root busy */
	if (v2 >= 0)
		close(v2);
	if (pid < 0) {
		close(sk[0]);
		close(sk[1]);
		close(ip->console);
		ip->console = -1;
		return vz_err_errno(err, VZ_E_SYSTEM, ce, "CT %u: clone", ct->ctid);
	}
	close(sk[1]);
	ip->pid = pid;
	ip->pidfd = pidfd;
	r = 0;
	if (ct->uid_base)
		r = vz_write_idmaps(pid, ct->uid_base, ct->gid_base, err);
	if (!r)
		r = vz_netcfg_start(ctx, ct, pid, err);
	if (!r && send(sk[0], "G", 1, MSG_NOSIGNAL) != 1)
		r = vz_err_errno(err, VZ_E_SYSTEM, errno, "CT %u: init died early", ct->ctid);
	if (!r) {
		/* "K" when its view is set up, then EOF when init was exec'd, or
		 * a message when something failed */
		char buf[sizeof(err->msg) + 8] = "";
		ssize_t n = recv(sk[0], buf, sizeof(buf) - 1, 0);
		bool set_up = n == 1 && buf[0] == 'K';
		if (set_up) {
			/* the seccomp listener when there is a filter, then EOF */
			buf[0] = '\0';
			int l = recv_fd_msg(sk[0], buf, sizeof(buf) - 1);
			if (l >= 0) {
				ip->notify = l;
				buf[0] = '\0';
				n = recv(sk[0], buf, sizeof(buf) - 1, 0);
			} else {
				n = (ssize_t)strnlen(buf, sizeof(buf) - 1);
			}
			if (n <= 0)
				n = 0;
		}
		buf[n > 0 ? n : 0] = '\0';
		if (buf[0] == 'E' && strlen(buf) > 4) {
			int code = atoi((char[]){buf[1], buf[2], buf[3], 0});
			r = vz_err(err, code ? code : VZ_E_SYSTEM, "%s", buf + 4);
		} else if (!set_up) {
			r = vz_err(err, VZ_E_SYSTEM, "CT %u: init failed to start", ct->ctid);
		}
	}
	close(sk[0]);
	if (r) {
		kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		close(pidfd);
		if (ip->console >= 0)
			close(ip->console);
		if (ip->notify >= 0)
			close(ip->notify);
		ip->notify = -1;
		ip->pid = -1;
		ip->pidfd = -1;
		ip->console = -1;
	}
	return r;
}

static int halt_signal_for(const struct vz_ct *ct)
{
	_cleanup_free_ char *init = xasprintf("%s/sbin/init", ct->root_dir);
	char target[256];
	ssize_t n = readlink(init, target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = '\0';
	if (strstr(target, "systemd"))
		return SIGRTMIN + 4; /* systemd: poweroff */
	if (strstr(target, "busybox"))
		return SIGUSR2;      /* busybox init: poweroff */
	return SIGPWR;               /* sysvinit and most others */
}

/* Keeps the tail of the console; init blocks if nobody reads it. */
static void drain_console(int master, int logfd, int *client)
{
	char buf[4096];
	ssize_t n = read(master, buf, sizeof(buf));
	if (n <= 0)
		return;
	/* an attached console that cannot keep up loses output, never
	 * holds up the CT */
	if (*client >= 0 && send(*client, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
	    errno != EAGAIN) {
		close(*client);
		*client = -1;
	}
	if (logfd < 0)
		return;
	struct stat st;
	if (fstat(logfd, &st) == 0 && st.st_size > CONSOLE_LOG_MAX)
		(void)ftruncate(logfd, 0);
	(void)write_all(logfd, buf, (size_t)n);
}

static void report(int fd, const vz_error *e)
{
	if (fd < 0)
		return;
	char buf[sizeof(e->msg) + 8];
	int n = e ? snprintf(buf, sizeof(buf), "E%03d%s", e->code, e->msg)
		  : snprintf(buf, sizeof(buf), "K");
	(void)write_all(fd, buf, (size_t)n);
	close(fd);
}

/* The CT's init, booted or restored, its mount namespace cloned from the
 * host's mount at VE_ROOT while that lets setuid through (storage.c):
 * the host's view is nosuid,nodev again before anything runs inside. */
static int make_init(vz_ctx *ctx, struct vz_ct *ct, const struct vz_cgroups *cg,
		     const char *cgrel, const char *lxcfs, const char *restore_dir,
		     struct vz_init_proc *ip, vz_error *err)
{
	int r = vz_storage_ct_view(ct, true, err);
	if (!r)
		r = restore_dir ? vz_cpt_restore_init(ctx, ct, cg, restore_dir, ip, err)
				: spawn_init(ctx, ct, cg, cgrel, lxcfs, ip, err);
	vz_error e;
	if (vz_storage_ct_view(ct, false, &e) && !r) {
		/* host users would reach the CT's setuid files: no CT then */
		kill(ip->pid, SIGKILL);
		(void)waitpid(ip->pid, NULL, 0);
		close(ip->pidfd);
		if (ip->console >= 0)
			close(ip->console);
		r = vz_err(err, e.code, "%s", e.msg);
	}
	return r;
}

static void monitor(vz_ctx *ctx, struct vz_ct *ct, const char *restore_dir, int rep)
{
	struct vz_cgroups cg;
	vz_error e = {0};
	_cleanup_free_ char *cgrel = vz_cg_rel(ctx, ct->ctid);
	_cleanup_free_ char *clog = xasprintf("%s/%u.console", ctx->run_dir, ct->ctid);
	int logfd = open(clog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	bool first = true;
	if (vz_cg_detect(&cg, &e)) {
		report(rep, &e);
		_exit(1);
	}
	const char *lxcfs = vz_procfs_ensure(ctx, &e);
	if (!lxcfs && e.code) {
		report(rep, &e);
		_exit(1);
	}
	/* the console stays attachable across reboots inside */
	int lsock = vz_console_listen(ctx, ct->ctid), client = -1;
	struct vz_sysinfo_srv *si = vz_sysinfo_srv_new(ctx, ct->ctid, &cg, cgrel);
	struct pollfd *pf = xcalloc(4 + vz_sysinfo_srv_max(), sizeof(*pf));
	for (;;) {
		struct vz_init_proc ip = {.notify = -1};
		if (vz_cg_create(&cg, cgrel, ct->uid_base, ct->gid_base, &e) ||
		    vz_res_apply_conf(ctx, ct, &cg, cgrel, &e) ||
		    vz_devices_apply(ctx, ct, &cg, cgrel, &e) ||
		    make_init(ctx, ct, &cg, cgrel, lxcfs, restore_dir, &ip, &e)) {
			vz_log(ctx, ct->ctid, VZ_LOG_ERR, "%s", e.msg);
			break;
		}
		struct vz_state st = {.monitor_pid = getpid(), .init_pid = ip.pid,
				      .init_start = proc_starttime(ip.pid)};
		snprintf(st.halt_signal, sizeof(st.halt_signal), "%d", halt_signal_for(ct));
		if (vz_state_write(ctx, ct->ctid, &st, &e)) {
			kill(ip.pid, SIGKILL);
			(void)waitpid(ip.pid, NULL, 0);
			break;
		}
		restore_dir = NULL; /* a reboot inside boots afresh */
		if (first) {
			report(rep, NULL);
			rep = -1;
			first = false;
		}
		/* the execs' seccomp program of this boot, compiled now, after
		 * start has returned, rather than by the first exec */
		vz_seccomp_cache_prime(ctx, ct);
		int status = 0;
		/* our own hold on the console's tty: without it the master
		 * hangs up whenever no process inside has the console open,
		 * and output written later (shutdown messages) is missed */
		int peer = ioctl(ip.console, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
		/* a restored CT has no listener: criu brings its filter back
		 * without one (see vz_seccomp_dump_fixup) */
		vz_sysinfo_srv_boot(si, ip.notify);
		pf[0] = (struct pollfd){.fd = ip.pidfd, .events = POLLIN};
		pf[1] = (struct pollfd){.fd = ip.console, .events = POLLIN};
		pf[2] = (struct pollfd){.fd = lsock, .events = POLLIN};
		for (;;) {
			pf[3] = (struct pollfd){.fd = client, .events = POLLIN};
			size_t nsi = vz_sysinfo_srv_pollfds(si, pf + 4);
			if (poll(pf, 4 + nsi, -1) < 0) {
				if (errno == EINTR)
					continue; /* revents are stale */
				break;
			}
			vz_sysinfo_srv_handle(si, pf + 4, nsi);
			if (pf[1].revents & POLLIN)
				drain_console(ip.console, logfd, &client);
			else if (pf[1].revents & (POLLHUP | POLLERR))
				pf[1].fd = -1; /* no one has the console open */
			if (pf[2].revents & POLLIN)
				vz_console_accept(lsock, &client);
			if (client >= 0 && pf[3].fd == client && pf[3].revents &&
			    !vz_console_from_client(client, ip.console)) {
				close(client);
				client = -1;
			}
			if (pf[0].revents)
				break;
		}
		(void)waitpid(ip.pid, &status, 0);
		close(ip.pidfd);
		if (peer >= 0)
			close(peer);
		close(ip.console);
		/* init is gone, so is its pid namespace; clear leftovers */
		(void)vz_cg_destroy(&cg, cgrel);
		vz_netcfg_stop(ctx, ct);
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGHUP) {
			vz_log(ctx, ct->ctid, VZ_LOG_INFO, "CT %u rebooted itself", ct->ctid);
			continue;
		}
		vz_log(ctx, ct->ctid, VZ_LOG_DEBUG, "init exited (status 0x%x)", status);
		break;
	}
	(void)vz_cg_destroy(&cg, cgrel);
	/* the root's parent cgroup goes with its last CT (rmdir fails while
	 * another CT of this root still has its cgroup there) */
	_cleanup_free_ char *cgparent = xstrdup(cgrel);
	*strrchr(cgparent, '/') = '\0';
	for (size_t i = 0; i < cg.n; i++) {
		_cleanup_free_ char *d = xasprintf("%s/%s", cg.h[i].mnt, cgparent);
		(void)rmdir(d);
	}
	vz_cg_free(&cg);
	vz_error ue;
	if (vz_storage_umount(ctx, ct, &ue) && ue.code != VZ_E_NOTMOUNTED)
		vz_log(ctx, ct->ctid, VZ_LOG_ERR, "%s", ue.msg);
	vz_sysinfo_srv_free(si, ctx, ct->ctid);
	free(pf);
	if (client >= 0)
		close(client);
	if (lsock >= 0) {
		close(lsock);
		vz_console_unlink(ctx, ct->ctid);
	}
	vz_state_remove(ctx, ct->ctid);
	if (logfd >= 0)
		close(logfd);
	vz_log(ctx, ct->ctid, VZ_LOG_DEBUG, "CT %u is down", ct->ctid);
	if (rep >= 0)
		report(rep, &e);
	_exit(first ? 1 : 0);
}

int vz_spawn_ct(vz_ctx *ctx, struct vz_ct *ct, const char *restore_dir, vz_error *err)
{
	int p[2];
	if (mkdir_p(ctx->run_dir, 0755) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot create %s", ctx->run_dir);
	if (pipe2(p, O_CLOEXEC) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "pipe");
	fflush(stdout);
	fflush(stderr);
	pid_t m = fork();
	if (m < 0) {
		close(p[0]);
		close(p[1]);
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "fork");
	}
	if (m == 0) {
		close(p[0]);
		/* double fork: the monitor is nobody's child but init's */
		pid_t m2 = fork();
		if (m2 != 0)
			_exit(m2 < 0);
		(void)setsid();
		signal(SIGINT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		/* a restore's signal guard is no business of the monitor's */
		signal(SIGTERM, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		char name[16];
		snprintf(name, sizeof(name), "vzmon %u", ct->ctid);
		(void)prctl(PR_SET_NAME, name, 0, 0, 0);
		stdio_devnull();
		ctx->verbose = -1; /* the monitor has no terminal; it logs */
		int keep[2] = {p[1], ctx->log_fd};
		close_fds_from(3, keep, ctx->log_fd >= 0 ? 2 : 1);
		monitor(ctx, ct, restore_dir, p[1]);
	}
	close(p[1]);
	char buf[sizeof(err->msg) + 8];
	ssize_t n = read_all(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	(void)waitpid(m, NULL, 0);
	if (n >= 1 && buf[0] == 'K')
		return 0;
	if (n > 4 && buf[0] == 'E') {
		buf[n] = '\0';
		int code = atoi((char[]){buf[1], buf[2], buf[3], 0});
		return vz_err(err, code ? code : VZ_E_SYSTEM, "%s", buf + 4);
	}
	return vz_err(err, VZ_E_SYSTEM, "CT %u: the monitor failed to start it", ct->ctid);
}
