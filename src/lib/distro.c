/* Distro setup inside a CT, as OpenVZ's distribution scripts did: the
 * CT's name in /etc/hostname and /etc/hosts at every start, and users'
 * passwords (--userpasswd), set by the CT's own tools. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/mount.h>
#include "internal.h"

/* Runs inside the CT, on its fresh /run: systemd services that protect
 * the hostname get a UTS namespace of their own, which CRIU cannot save;
 * the CT has its own already, so they do without. */
void vz_distro_runtime(void)
{
	if (!path_exists("/lib/systemd/systemd") && !path_exists("/usr/lib/systemd/systemd"))
		return;
	if (mkdir_p("/run/systemd/system/service.d", 0755) < 0)
		return;
	static const char dropin[] = "# vz: keeps the CT checkpointable (vzctl chkpnt)\n"
				     "[Service]\nProtectHostname=no\n";
	(void)write_file("/run/systemd/system/service.d/50-vz-checkpoint.conf", dropin,
			 sizeof(dropin) - 1, O_CREAT | O_TRUNC);
}

/* Runs inside the CT (cwd-relative paths after pivot_root). The name line
 * is Debian's 127.0.1.1 one; every other line is the CT's own. */
int vz_distro_hostname(const char *hn)
{
	char buf[300];
	int n = snprintf(buf, sizeof(buf), "%s\n", hn);
	if (write_ct_file("/etc/hostname", buf, (size_t)n, O_CREAT | O_TRUNC) < 0)
		return -1;
	struct stat st;
	if (lstat("/etc/hosts", &st) == 0 && !S_ISREG(st.st_mode))
		return 0; /* a link or stranger: the CT manages it */
	_cleanup_free_ char *old = read_ct_file("/etc/hosts", NULL);
	size_t cap = (old ? strlen(old) : 0) + 2 * strlen(hn) + 128;
	_cleanup_free_ char *out = xmalloc(cap);
	size_t len = 0;
	out[0] = '\0';
	bool has_localhost = false;
	for (char *line = old, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		size_t l = next ? (size_t)(next - line) : strlen(line);
		next = next ? next + 1 : line + l;
		if (!strncmp(line, "127.0.1.1", 9) && (line[9] == ' ' || line[9] == '\t'))
			continue;
		if (!strncmp(line, "127.0.0.1", 9))
			has_localhost = true;
		len += (size_t)snprintf(out + len, cap - len, "%.*s\n", (int)l, line);
	}
	if (!has_localhost)
		len += (size_t)snprintf(out + len, cap - len, "127.0.0.1\tlocalhost\n");
	const char *dot = strchr(hn, '.');
	if (dot)
		len += (size_t)snprintf(out + len, cap - len, "127.0.1.1\t%s %.*s\n", hn,
					(int)(dot - hn), hn);
	else
		len += (size_t)snprintf(out + len, cap - len, "127.0.1.1\t%s\n", hn);
	(void)unlink("/etc/hosts.vz-new");
	if (write_ct_file("/etc/hosts.vz-new", out, len, O_CREAT | O_TRUNC) < 0)
		return -1;
	(void)chmod("/etc/hosts.vz-new", 0644);
	return rename("/etc/hosts.vz-new", "/etc/hosts");
}

/* Creates the user when missing and sets the password with the CT's own
 * tools (shadow's useradd and chpasswd; on a busybox CT, its mkpasswd and
 * plain edits). "user:password" comes on stdin: the password is never in
 * an argv or the environment. */
static const char userpasswd_sh[] =
	"u=$1\n"
	"sh=/bin/sh; [ -x /bin/bash ] && sh=/bin/bash\n"
	"if ! grep -q \"^$u:\" /etc/passwd; then\n"
	"  if [ -x /usr/sbin/useradd ]; then useradd -m -s $sh \"$u\" || exit 1\n"
	"  else\n"
	"    id=$(awk -F: '$3>=1000 && $3<60000 && $3>m {m=$3} END {print (m ? m+1 : 1000)}' /etc/passwd)\n"
	"    echo \"$u:x:$id:$id::/home/$u:$sh\" >>/etc/passwd &&\n"
	"    echo \"$u:x:$id:\" >>/etc/group &&\n"
	"    echo \"$u:!:$(($(date +%s) / 86400)):0:99999:7:::\" >>/etc/shadow &&\n"
	"    mkdir -p \"/home/$u\" && chown $id:$id \"/home/$u\" || exit 1\n"
	"  fi\n"
	"fi\n"
	"[ -x /usr/sbin/chpasswd ] && exec /usr/sbin/chpasswd\n"
	"IFS= read -r line || exit 1\n"
	"h=$(printf '%s\\n' \"${line#*:}\" | mkpasswd -m sha512 -P 0) && [ -n \"$h\" ] || exit 1\n"
	"awk -F: -v OFS=: -v u=\"$u\" -v h=\"$h\" '$1 == u {$2 = h} {print}' /etc/shadow >/etc/shadow.vz-new &&\n"
	"  chmod 640 /etc/shadow.vz-new && mv /etc/shadow.vz-new /etc/shadow\n";

static bool user_ok(const char *u, size_t n)
{
	if (n == 0 || n > 32 || !(('a' <= u[0] && u[0] <= 'z') || u[0] == '_'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(('a' <= u[i] && u[i] <= 'z') || ('0' <= u[i] && u[i] <= '9') ||
		      u[i] == '_' || u[i] == '-' || u[i] == '.'))
			return false;
	return true;
}

/* A stopped CT: its own view mounted, the script run in it (its root by pivot_root) by a
 * process that is the CT's root through the CT's id map, never host root
 * running the CT's binaries. */
/* The CT's own /dev nodes are dead on its user-namespace mount (nodev):
 * the tools want /dev/null and friends, so bind the host's on a tmpfs.
 * Before the pivot, a path is resolved from the host's root: a "dev" that
 * is a symlink of the CT's would put the tmpfs where it points. */
static int stopped_dev(void)
{
	static const char *const nodes[] = {"null", "zero", "random", "urandom"};
	struct stat st;
	if (mkdir("dev", 0755) < 0 && errno != EEXIST)
		return -1;
	if (lstat("dev", &st) < 0 || !S_ISDIR(st.st_mode))
		return -1;
	if (mount("vzdev", "dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=64k") < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(nodes); i++) {
		_cleanup_free_ char *src = xasprintf("/dev/%s", nodes[i]);
		_cleanup_free_ char *dst = xasprintf("dev/%s", nodes[i]);
		int fd = open(dst, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
		if (fd < 0)
			return -1;
		close(fd);
		if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
			return -1;
	}
	return 0;
}

/* In the helper's new mount namespace, cwd on the CT's root: makes that
 * the root with pivot_root, the host's tree detached. Not chroot: the
 * CT's root in a user namespace of its own holds CAP_SYS_CHROOT there,
 * and a chroot into a subdirectory with the cwd left above it walks out
 * to the host's root. */
static int enter_stopped_root(void)
{
	/* nothing mounted here propagates to the host's mounts */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -1;
	/* the copied mounts are locked in a user namespace, and pivot_root
	 * refuses a locked new root: stack a clone of the CT root on it */
	int t = (int)syscall(SYS_open_tree, AT_FDCWD, ".",
			     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (t < 0)
		return -1;
	if (syscall(SYS_move_mount, t, "", AT_FDCWD, ".", MOVE_MOUNT_F_EMPTY_PATH) < 0 ||
	    fchdir(t) < 0) {
		close(t);
		return -1;
	}
	close(t);
	if (stopped_dev() < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return -1;
	return 0;
}

/* The last line a failed script printed, made printable, for its error. */
static void last_line(const char *out, size_t n, char *buf, size_t len)
{
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		n--;
	size_t b = n;
	while (b && out[b - 1] != '\n')
		b--;
	size_t j = 0;
	for (size_t i = b; i < n && j + 1 < len; i++)
		buf[j++] = (out[i] >= 0x20 && out[i] < 0x7f) ? out[i] : '?';
	buf[j] = '\0';
}

/* The script runs as it would in the running CT: in a full set of new
 * namespaces of its own (user with the CT's map, mount, pid, network, IPC,
 * UTS, cgroup), as the CT's root, on pipes: never with the host's pids,
 * network or the admin's terminal in reach. */
static int run_in_stopped(vz_ctx *ctx, struct vz_ct *ct, char *const argv[], const char *input,
			  int *status, char *tail, size_t tail_len, vz_error *err)
{
	/* the CT's own seccomp filter too, built while the host's files
	 * (an extra deny list) are in view; no sysinfo listener here */
	struct vz_seccomp *filter = NULL;
	int r = vz_seccomp_prepare(ctx, ct, false, &filter, err);
	if (r)
		return r;
	int sk[2], in[2], out[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sk) < 0) {
		vz_seccomp_free(filter);
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "socketpair");
	}
	if (pipe2(in, O_CLOEXEC) < 0) {
		close(sk[0]);
		close(sk[1]);
		vz_seccomp_free(filter);
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "pipe");
	}
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(sk[0]);
		close(sk[1]);
		close(in[0]);
		close(in[1]);
		vz_seccomp_free(filter);
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "pipe");
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		close(sk[0]);
		close(in[1]);
		close(out[0]);
		char c = 'U';
		int ns = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |
			 CLONE_NEWCGROUP | (ct->uid_base ? CLONE_NEWUSER : 0);
		/* private before the CT's ids are ours (see exec.c); unshared
		 * first, then the parent writes the id map */
		if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || chdir(ct->root_dir) < 0 ||
		    unshare(ns) < 0 || write(sk[1], &c, 1) != 1 || read(sk[1], &c, 1) != 1 ||
		    c != 'G')
			_exit(125);
		if ((ct->uid_base && (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 ||
				      setresuid(0, 0, 0) < 0)) ||
		    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || enter_stopped_root() < 0)
			_exit(125);
		pid_t inner = fork(); /* pid 1 of the new pid namespace */
		if (inner < 0)
			_exit(125);
		if (inner == 0) {
			if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
				_exit(125);
			close_fds_from(3, NULL, 0);
			vz_error se;
			if (vz_seccomp_install(filter, NULL, &se))
				_exit(125);
			char *const envp[] = {
				"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
				"HOME=/root", "LC_ALL=C", NULL};
			execve(argv[0], argv, envp);
			_exit(127);
		}
		close(in[0]);
		close(out[1]);
		int st;
		while (waitpid(inner, &st, 0) < 0 && errno == EINTR)
			;
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
	close(sk[1]);
	close(in[0]);
	close(out[1]);
	vz_seccomp_free(filter);
	char c = 0;
	if (pid < 0)
		r = vz_err_errno(err, VZ_E_SYSTEM, errno, "fork");
	else if (read(sk[0], &c, 1) != 1 || c != 'U')
		r = vz_err(err, VZ_E_SYSTEM, "CT %u: cannot enter its file system", ct->ctid);
	else if (ct->uid_base)
		r = vz_write_idmaps(pid, ct->uid_base, ct->gid_base, err);
	if (pid > 0 && !r) {
		(void)write_all(sk[0], "G", 1);
		(void)write_all(in[1], input, strlen(input)); /* one line: fits the pipe */
	}
	close(sk[0]);
	close(in[1]);
	/* what it prints is kept for its error message, the tail of it */
	char outbuf[4096];
	size_t olen = 0;
	for (;;) {
		char tmp[1024];
		ssize_t n = read(out[0], tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if ((size_t)n > sizeof(outbuf))
			n = sizeof(outbuf);
		if (olen + (size_t)n > sizeof(outbuf)) {
			size_t drop = olen + (size_t)n - sizeof(outbuf);
			memmove(outbuf, outbuf + drop, olen - drop);
			olen -= drop;
		}
		memcpy(outbuf + olen, tmp, (size_t)n);
		olen += (size_t)n;
	}
	close(out[0]);
	if (pid > 0) {
		int st;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (!r && *status == 125)
			r = vz_err(err, VZ_E_SYSTEM, "CT %u: cannot enter its file system",
				   ct->ctid);
		if (!r && *status)
			last_line(outbuf, olen, tail, tail_len);
	}
	return r;
}

static int stopped_userpasswd(vz_ctx *ctx, struct vz_ct *ct, char *const argv[],
			      const char *input, int *status, char *tail, size_t tail_len,
			      vz_error *err)
{
	vz_error e;
	bool host_view = false, mounted_here = false;
	int r = 0;
	if (is_mountpoint(ct->root_dir) && ct->uid_base) {
		/* `vzctl mount` left the host's view: the CT's own is needed */
		if (umount2(ct->root_dir, 0) < 0)
			return vz_err_errno(err, VZ_E_MOUNTED, errno, "CT %u: cannot unmount %s",
					    ct->ctid, ct->root_dir);
		host_view = true;
	}
	if (!is_mountpoint(ct->root_dir)) {
		if ((r = vz_storage_mount(ctx, ct, true, err)))
			goto out;
		mounted_here = true;
	}
	r = run_in_stopped(ctx, ct, argv, input, status, tail, tail_len, err);
	if (mounted_here && vz_storage_umount(ctx, ct, &e) && !r)
		r = vz_err(err, e.code, "%s", e.msg);
out:
	if (host_view && vz_storage_mount(ctx, ct, false, &e) && !r)
		r = vz_err(err, e.code, "%s", e.msg);
	return r;
}

struct passwd_job {
	char **argv;
	const char *input;
	int status;
	char tail[160];    /* a stopped CT's script: the last line it printed */
};

static int userpasswd_op(vz_ctx *ctx, struct vz_ct *ct, void *arg, vz_error *err)
{
	struct passwd_job *j = arg;
	struct vz_state st;
	if (vz_state_read(ctx, ct->ctid, &st) == 1)
		return vz_exec_input(ctx, ct->ctid, VZ_EXEC_DIRECT, j->argv, j->input, &j->status,
				     err);
	if (!path_exists(ct->private_dir))
		return vz_err(err, VZ_E_NOPRIVATE, "CT %u: private area %s does not exist",
			      ct->ctid, ct->private_dir);
	return stopped_userpasswd(ctx, ct, j->argv, j->input, &j->status, j->tail,
				  sizeof(j->tail), err);
}

int vz_ct_userpasswd(vz_ctx *ctx, unsigned ctid, const char *userpass, vz_error *err)
{
	const char *colon = userpass ? strchr(userpass, ':') : NULL;
	if (!colon || !user_ok(userpass, (size_t)(colon - userpass)) || !colon[1] ||
	    strpbrk(colon + 1, "\n\r") || strlen(colon + 1) > 256)
		return vz_err(err, VZ_E_BADVALUE,
			      "CT %u: --userpasswd wants USER:PASSWORD (a plain user name, a "
			      "one-line password)", ctid);
	_cleanup_free_ char *user = strndup(userpass, (size_t)(colon - userpass));
	_cleanup_free_ char *input = xasprintf("%s\n", userpass);
	char *argv[] = {"/bin/sh", "-c", (char *)userpasswd_sh, "vz-userpasswd", user, NULL};
	struct passwd_job j = {argv, input, 0, ""};
	int r = vz_ct_locked(ctx, ctid, "userpasswd", userpasswd_op, &j, err);
	if (!r && j.status)
		r = vz_err(err, VZ_E_CHANGEPASS, "CT %u: cannot set the password of %s (exit %d)%s%s",
			   ctid, user, j.status, *j.tail ? ": " : "", j.tail);
	if (!r)
		vz_log(ctx, ctid, VZ_LOG_DEBUG, "password of %s set", user);
	return r;
}

#define NETIF_BEGIN "# vz: begin (vzctl --dhcp; this block is rewritten at every start)"
#define NETIF_END "# vz: end"

int vz_distro_netifs(const struct vz_netif *nf, size_t n)
{
	const char *path = "/etc/network/interfaces";
	_cleanup_free_ char *old = read_ct_file(path, NULL);
	bool any = false;
	for (size_t i = 0; i < n; i++)
		any |= nf[i].dhcp;
	if (!any && (!old || !strstr(old, NETIF_BEGIN)))
		return 0; /* nothing of ours, nothing to do: the CT's file stays as it is */
	if (!old && access("/etc/network", F_OK) < 0)
		return 0; /* no ifupdown in this CT */
	size_t cap = (old ? strlen(old) : 0) + 64 * n + 256;
	_cleanup_free_ char *out = xmalloc(cap);
	size_t len = 0;
	out[0] = '\0';
	if (!old)
		len += (size_t)snprintf(out, cap, "auto lo\niface lo inet loopback\n");
	bool skip = false;
	for (char *line = old, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		size_t l = next ? (size_t)(next - line) : strlen(line);
		next = next ? next + 1 : line + l;
		if (!strncmp(line, NETIF_BEGIN, strlen(NETIF_BEGIN)))
			skip = true;
		if (!skip)
			len += (size_t)snprintf(out + len, cap - len, "%.*s\n", (int)l, line);
		if (!strncmp(line, NETIF_END, strlen(NETIF_END)))
			skip = false;
	}
	if (any) {
		len += (size_t)snprintf(out + len, cap - len, "%s\n", NETIF_BEGIN);
		for (size_t i = 0; i < n; i++)
			if (nf[i].dhcp)
				len += (size_t)snprintf(out + len, cap - len,
							"auto %s\niface %s inet dhcp\n", nf[i].ifname,
							nf[i].ifname);
		len += (size_t)snprintf(out + len, cap - len, "%s\n", NETIF_END);
	}
	(void)unlink("/etc/network/interfaces.vz-new");
	if (write_ct_file("/etc/network/interfaces.vz-new", out, len, O_CREAT | O_TRUNC) < 0)
		return -1;
	(void)chmod("/etc/network/interfaces.vz-new", 0644);
	return rename("/etc/network/interfaces.vz-new", path);
}
