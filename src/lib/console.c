/* The CT's console, as `vzctl console` attaches to it: the monitor keeps
 * the console pty's master for the CT's whole life (every boot), logs what
 * it prints to RUN/CTID.console and relays it to one attached client over
 * a unix socket, RUN/CTID.sock (0600: root only). The client detaches with
 * Esc then '.', and the CT never notices. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>
#include "internal.h"

/* A socket path may be longer than sun_path under a deep VZ_ROOT: reach
 * it through a descriptor of the run directory. */
static int sock_addr(vz_ctx *ctx, unsigned ctid, struct sockaddr_un *sa, int *dirfd)
{
	*dirfd = open(ctx->run_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0)
		return -1;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%u.sock", *dirfd, ctid);
	return 0;
}

int vz_console_listen(vz_ctx *ctx, unsigned ctid)
{
	struct sockaddr_un sa;
	int dfd;
	if (sock_addr(ctx, ctid, &sa, &dfd) < 0)
		return -1;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	_cleanup_free_ char *name = xasprintf("%u.sock", ctid);
	(void)unlinkat(dfd, name, 0);
	mode_t old = umask(0077);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 2) < 0) {
		umask(old);
		if (s >= 0)
			close(s);
		close(dfd);
		return -1;
	}
	umask(old);
	close(dfd);
	return s;
}

void vz_console_unlink(vz_ctx *ctx, unsigned ctid)
{
	_cleanup_free_ char *p = xasprintf("%s/%u.sock", ctx->run_dir, ctid);
	(void)unlink(p);
}

/* The monitor's side: a new client replaces the one attached before. */
void vz_console_accept(int lsock, int *client)
{
	int c = accept4(lsock, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (c < 0)
		return;
	if (*client >= 0) {
		static const char msg[] = "\r\n[vz: another console attached]\r\n";
		(void)send(*client, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(*client);
	}
	*client = c;
}

/* What the client typed goes to the console; returns false when it left. */
bool vz_console_from_client(int client, int master)
{
	char buf[4096];
	ssize_t n = recv(client, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0)
		return false;
	if (master >= 0)
		(void)write_all(master, buf, (size_t)n);
	return true;
}

/* The client's side. */
int vz_ct_console(vz_ctx *ctx, unsigned ctid, vz_error *err)
{
	struct vz_state st;
	if (vz_state_read(ctx, ctid, &st) != 1) {
		_cleanup_free_ char *conf = vz_ct_conf_path(ctx, ctid);
		if (!path_exists(conf))
			return vz_err(err, VZ_E_NOCONF, "CT %u does not exist", ctid);
		return vz_err(err, VZ_E_NOTRUNNING, "CT %u is not running", ctid);
	}
	struct sockaddr_un sa;
	int dfd;
	if (sock_addr(ctx, ctid, &sa, &dfd) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot open %s", ctx->run_dir);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		if (s >= 0)
			close(s);
		close(dfd);
		return vz_err_errno(err, VZ_E_SYSTEM, e, "CT %u: cannot attach to its console",
				    ctid);
	}
	close(dfd);
	struct termios saved;
	bool tty = tty_raw(&saved);
	if (tty)
		fprintf(stderr, "Attached to CT %u's console (press Esc . to detach)\r\n", ctid);
	struct pollfd pf[2] = {{.fd = 0, .events = POLLIN}, {.fd = s, .events = POLLIN}};
	char buf[4096];
	bool esc = false, done = false;
	while (!done) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(s, buf, sizeof(buf));
			if (n <= 0)
				break; /* the CT stopped, or another console took over */
			(void)write_all(1, buf, (size_t)n);
		}
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(0, buf, sizeof(buf));
			if (n <= 0) {
				pf[0].fd = -1; /* input ended: keep showing output */
				continue;
			}
			/* Esc . detaches; Esc followed by anything else is sent */
			for (ssize_t i = 0; i < n && !done; i++) {
				if (esc && buf[i] == '.') {
					done = true;
					n = i - 1 >= 0 ? i - 1 : 0;
				}
				esc = buf[i] == '\033';
			}
			if (n > 0)
				(void)write_all(s, buf, (size_t)n);
		}
	}
	if (tty) {
		(void)tcsetattr(0, TCSANOW, &saved);
		fprintf(stderr, "\nDetached from CT %u's console\n", ctid);
	}
	close(s);
	return 0;
}

/* The CT's console: a pty of the host's, its tty end the CT root's (LXC
 * does the same). Not one of the CT's own devpts: a checkpoint finds the
 * same console at start and after a restore, in every mount namespace the
 * CT's services made. *slave (if asked) is that end, open. */
int vz_console_pty(const struct vz_ct *ct, int *master, int *slave, char *path, size_t n,
		   vz_error *err)
{
	int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || unlockpt(m) < 0 || ptsname_r(m, path, n) != 0) {
		int e = errno;
		if (m >= 0)
			close(m);
		return vz_err_errno(err, VZ_E_SYSTEM, e, "CT %u: cannot make a console pty",
				    ct->ctid);
	}
	int s = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0 || fchown(s, ct->uid_base, ct->gid_base + 5) < 0 || fchmod(s, 0620) < 0) {
		int e = errno;
		close(m);
		if (s >= 0)
			close(s);
		return vz_err_errno(err, VZ_E_SYSTEM, e, "CT %u: cannot set up %s", ct->ctid, path);
	}
	*master = m;
	if (slave)
		*slave = s;
	else
		close(s);
	return 0;
}
