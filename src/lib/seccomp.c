/* The CT's seccomp filter: defence in depth as LXC's common.seccomp and
 * Docker's default profile do. A deny list, not an allow list: a system
 * container runs a whole distro (systemd, nested containers, CRIU, strace)
 * and a denied call it needs is worse than one it never makes. What is
 * denied either reaches kernel state no user namespace owns (modules,
 * kexec, keyrings, swap, the clock, accounting) or is a large kernel
 * surface unprivileged code rarely needs and exploits often use (bpf,
 * perf_event_open, userfaultfd, io_uring). Denied calls fail with EPERM so
 * programs degrade instead of dying; the keyring calls fail with ENOSYS,
 * as in LXC's common.seccomp: that is the error nested runtimes (crun,
 * runc) and systemd take as "no keyrings here" and carry on without one,
 * where EPERM makes `crun run` refuse to start a container.
 *
 * SECCOMP in the CT config: "default" (also when unset), "none", or the
 * absolute path of a host file naming more calls to deny, one a line. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include "internal.h"

/* Either libseccomp's rules, or the program they compiled to, as a CT's
 * first exec left it in RUN/CTID.seccompN: compiling three ABIs' rules
 * costs an exec more than half a millisecond, loading the program none. */
struct vz_seccomp {
	scmp_filter_ctx f;
	struct sock_filter *bpf;
	size_t nbpf;
	unsigned ctid;
	bool notify;
};

#define BPF_MAX 4096 /* BPF_MAXINSNS */

/* Denied with EPERM in every CT; see docs/security.md for the reasons of
 * each group and for what is left allowed on purpose (mount, unshare,
 * clone, setns, ptrace, reboot, seccomp itself, adjtimex reads). */
static const char *const deny[] = {
	/* kernel code: modules and kexec */
	"init_module", "finit_module", "delete_module", "create_module",
	"query_module", "get_kernel_syms", "kexec_load", "kexec_file_load",
	/* file handles reach any inode of a filesystem, past the CT's root */
	"open_by_handle_at",
	/* large surfaces, classic exploit aids */
	"bpf", "perf_event_open", "userfaultfd", "io_uring_setup",
	/* host-wide state */
	"swapon", "swapoff", "syslog", "acct", "quotactl", "quotactl_fd",
	"lookup_dcookie", "nfsservctl", "_sysctl", "uselib", "ustat",
	/* the host's clock (reads through adjtimex stay allowed) */
	"settimeofday", "stime", "clock_settime", "clock_settime64",
	/* raw hardware */
	"iopl", "ioperm", "vm86", "vm86old",
};

/* Denied with ENOSYS: the kernel keyring is shared with the host's users. */
static const char *const nosys[] = {"add_key", "request_key", "keyctl"};

/* personality(2) flags that help kernel exploits (a mapped page zero,
 * executable data); 0xffffffff, the query, has bit 31 set and passes. */
static const unsigned long bad_persona[] = {MMAP_PAGE_ZERO, READ_IMPLIES_EXEC};
#define PERSONA_QUERY_BIT 0x80000000ul

int vz_seccomp_check(unsigned ctid, const char *v, vz_error *err)
{
	if (!v || !*v || !strcmp(v, "default") || !strcmp(v, "none"))
		return 0;
	if (v[0] != '/')
		return vz_err(err, VZ_E_CONFIG,
			      "CT %u: SECCOMP=\"%s\": expected default, none or an absolute path",
			      ctid, v);
	return 0;
}

static int add_rule(struct vz_seccomp *s, const char *name, int e, unsigned ctid,
		    const char *where, vz_error *err)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR) {
		if (where)
			return vz_err(err, VZ_E_CONFIG, "CT %u: SECCOMP %s: unknown system call %.64s",
				      ctid, where, name);
		return 0; /* not known to this libseccomp: nothing to deny */
	}
	int r = seccomp_rule_add(s->f, SCMP_ACT_ERRNO(e), nr, 0);
	/* -EEXIST: named twice; a call an arch lacks is skipped by libseccomp */
	if (r < 0 && r != -EEXIST)
		return vz_err_errno(err, VZ_E_SYSTEM, -r, "CT %u: seccomp rule for %s", ctid, name);
	return 0;
}

/* The extra deny list: a host file root owns and only root may write, so
 * nothing but the host's admin chooses what a CT may not call. */
static int add_file(struct vz_seccomp *s, unsigned ctid, const char *path, vz_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0)
		return vz_err_errno(err, VZ_E_CONFIG, errno, "CT %u: SECCOMP %s", ctid, path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 022))
		return vz_err(err, VZ_E_CONFIG,
			      "CT %u: SECCOMP %s: not a regular file that only root can write",
			      ctid, path);
	if (st.st_size > 65536)
		return vz_err(err, VZ_E_CONFIG, "CT %u: SECCOMP %s: larger than 64 KiB", ctid,
			      path);
	_cleanup_free_ char *text = xcalloc(1, (size_t)st.st_size + 1);
	if (read_all(fd, text, (size_t)st.st_size) != st.st_size)
		return vz_err_errno(err, VZ_E_CONFIG, errno, "CT %u: SECCOMP %s", ctid, path);
	unsigned line = 0;
	char *save = NULL;
	/* strtok_r skips blank lines: count them by hand */
	for (char *p = text, *nl; p && *p; p = nl) {
		nl = strchr(p, '\n');
		if (nl)
			*nl++ = '\0';
		line++;
		char *hash = strchr(p, '#');
		if (hash)
			*hash = '\0';
		char *name = strtok_r(p, " \t\r", &save);
		if (!name)
			continue;
		if (strtok_r(NULL, " \t\r", &save))
			return vz_err(err, VZ_E_CONFIG,
				      "CT %u: SECCOMP %s:%u: one system call name a line", ctid, path,
				      line);
		_cleanup_free_ char *where = xasprintf("%s:%u", path, line);
		int r = add_rule(s, name, EPERM, ctid, where, err);
		if (r)
			return r;
	}
	return 0;
}

void vz_seccomp_free(struct vz_seccomp *s)
{
	if (!s)
		return;
	if (s->f)
		seccomp_release(s->f);
	free(s->bpf);
	free(s);
}

static char *cache_path(const vz_ctx *ctx, unsigned ctid, bool notify)
{
	return xasprintf("%s/%u.seccomp%d", ctx->run_dir, ctid, notify ? 1 : 0);
}

void vz_seccomp_cache_clear(const vz_ctx *ctx, unsigned ctid)
{
	for (int n = 0; n < 2; n++) {
		_cleanup_free_ char *p = cache_path(ctx, ctid, n);
		(void)unlink(p);
	}
}

/* The program of this boot of the CT, if an exec compiled it already:
 * root's, 0600, in root's run directory, whole instructions only. */
static bool cache_read(const vz_ctx *ctx, struct vz_seccomp *s)
{
	_cleanup_free_ char *p = cache_path(ctx, s->ctid, s->notify);
	_cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 077) || st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) ||
	    (size_t)st.st_size > BPF_MAX * sizeof(struct sock_filter))
		return false;
	s->bpf = xmalloc((size_t)st.st_size);
	if (read_all(fd, s->bpf, (size_t)st.st_size) != st.st_size) {
		free(s->bpf);
		s->bpf = NULL;
		return false;
	}
	s->nbpf = (size_t)st.st_size / sizeof(struct sock_filter);
	return true;
}

/* What libseccomp compiled, kept for the next exec (renamed into place:
 * a reader sees all of it or nothing); a failure only costs the next one
 * the compile again. */
static void cache_write(const vz_ctx *ctx, const struct vz_seccomp *s)
{
	_cleanup_close_ int mfd = memfd_create("vz-seccomp", MFD_CLOEXEC);
	struct stat st;
	if (mfd < 0 || seccomp_export_bpf(s->f, mfd) < 0 || fstat(mfd, &st) < 0 ||
	    st.st_size <= 0 || (size_t)st.st_size > BPF_MAX * sizeof(struct sock_filter))
		return;
	_cleanup_free_ char *buf = xmalloc((size_t)st.st_size);
	if (pread(mfd, buf, (size_t)st.st_size, 0) != st.st_size)
		return;
	_cleanup_free_ char *p = cache_path(ctx, s->ctid, s->notify);
	_cleanup_free_ char *tmp = xasprintf("%s.%d", p, (int)getpid());
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	if (write_all(fd, buf, (size_t)st.st_size) < 0 || rename(tmp, p) < 0)
		(void)unlink(tmp);
}

static int prepare(const vz_ctx *ctx, const struct vz_ct *ct, bool notify, bool cached,
		   struct vz_seccomp **out, vz_error *err)
{
	const char *v = vz_ct_get(ct, ctx, "SECCOMP");
	int r;
	*out = NULL;
	if ((r = vz_seccomp_check(ct->ctid, v, err)))
		return r;
	if (v && !strcmp(v, "none"))
		return 0;
	struct vz_seccomp *s = xcalloc(1, sizeof(*s));
	s->ctid = ct->ctid;
	s->notify = notify;
	if (cached && cache_read(ctx, s)) {
		*out = s;
		return 0;
	}
	s->f = seccomp_init(SCMP_ACT_ALLOW);
	if (!s->f) {
		free(s);
		return vz_err(err, VZ_E_SYSTEM, "CT %u: seccomp_init failed", ct->ctid);
	}
	/* No NO_NEW_PRIVS: it would disarm setuid binaries (su, sudo) in the
	 * CT. The loader is root of the CT's user namespace with
	 * CAP_SYS_ADMIN there, which is what seccomp(2) asks instead. */
	r = seccomp_attr_set(s->f, SCMP_FLTATR_CTL_NNP, 0);
	/* Every ABI the kernel runs: on x86_64 also i386 and x32, whose
	 * numbers differ; a call through an ABI not listed here is killed
	 * (libseccomp's bad-arch action), never let through unfiltered. */
	uint32_t native = seccomp_arch_native();
	if (!r && native == SCMP_ARCH_X86_64) {
		r = seccomp_arch_add(s->f, SCMP_ARCH_X86);
		if (!r)
			r = seccomp_arch_add(s->f, SCMP_ARCH_X32);
	} else if (!r && native == SCMP_ARCH_AARCH64) {
		r = seccomp_arch_add(s->f, SCMP_ARCH_ARM);
	}
	if (r == -EEXIST)
		r = 0;
	if (r) {
		vz_seccomp_free(s);
		return vz_err_errno(err, VZ_E_SYSTEM, -r, "CT %u: seccomp setup", ct->ctid);
	}
	for (size_t i = 0; i < ARRAY_SIZE(deny); i++)
		if ((r = add_rule(s, deny[i], EPERM, ct->ctid, NULL, err))) {
			vz_seccomp_free(s);
			return r;
		}
	for (size_t i = 0; i < ARRAY_SIZE(nosys); i++)
		if ((r = add_rule(s, nosys[i], ENOSYS, ct->ctid, NULL, err))) {
			vz_seccomp_free(s);
			return r;
		}
	for (size_t i = 0; i < ARRAY_SIZE(bad_persona); i++) {
		r = seccomp_rule_add(s->f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, bad_persona[i] | PERSONA_QUERY_BIT,
					     bad_persona[i]));
		if (r < 0) {
			vz_seccomp_free(s);
			return vz_err_errno(err, VZ_E_SYSTEM, -r, "CT %u: seccomp rule for personality",
					    ct->ctid);
		}
	}
	s->notify = notify;
	if (notify) {
		r = seccomp_rule_add(s->f, SCMP_ACT_NOTIFY, SCMP_SYS(sysinfo), 0);
		if (r < 0) {
			vz_seccomp_free(s);
			return vz_err_errno(err, VZ_E_SYSTEM, -r, "CT %u: seccomp rule for sysinfo",
					    ct->ctid);
		}
	}
	if (v && v[0] == '/' && (r = add_file(s, ct->ctid, v, err))) {
		vz_seccomp_free(s);
		return r;
	}
	if (cached)
		cache_write(ctx, s);
	*out = s;
	return 0;
}

int vz_seccomp_prepare(const vz_ctx *ctx, const struct vz_ct *ct, bool notify,
		       struct vz_seccomp **out, vz_error *err)
{
	return prepare(ctx, ct, notify, false, out, err);
}

int vz_seccomp_prepare_exec(const vz_ctx *ctx, const struct vz_ct *ct, bool notify,
			    struct vz_seccomp **out, vz_error *err)
{
	return prepare(ctx, ct, notify, true, out, err);
}

void vz_seccomp_cache_prime(const vz_ctx *ctx, const struct vz_ct *ct)
{
	struct vz_seccomp *s = NULL;
	vz_error e;
	(void)prepare(ctx, ct, true, true, &s, &e);
	vz_seccomp_free(s);
}

int vz_seccomp_install(struct vz_seccomp *s, int *listener, vz_error *err)
{
	if (listener)
		*listener = -1;
	if (!s)
		return 0;
	if (s->bpf) {
		/* as seccomp_load does it: no NO_NEW_PRIVS (see prepare) */
		struct sock_fprog prog = {.len = (unsigned short)s->nbpf, .filter = s->bpf};
		long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
				  s->notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0, &prog);
		if (fd < 0)
			return vz_err_errno(err, VZ_E_SYSTEM, errno,
					    "CT %u: cannot load the seccomp filter", s->ctid);
		if (listener && s->notify)
			*listener = (int)fd;
		else if (s->notify)
			close((int)fd);
		return 0;
	}
	int r = seccomp_load(s->f);
	if (r < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, -r, "CT %u: cannot load the seccomp filter",
				    s->ctid);
	if (listener && s->notify) {
		int fd = seccomp_notify_fd(s->f);
		if (fd < 0)
			return vz_err_errno(err, VZ_E_SYSTEM, -fd, "CT %u: no seccomp listener",
					    s->ctid);
		*listener = fd;
	}
	return 0;
}

int vz_seccomp_load(const vz_ctx *ctx, const struct vz_ct *ct, vz_error *err)
{
	struct vz_seccomp *s;
	int r = vz_seccomp_prepare(ctx, ct, false, &s, err);
	if (!r)
		r = vz_seccomp_install(s, NULL, err);
	vz_seccomp_free(s);
	return r;
}

/* ---- sysinfo(2) answered with the CT's own figures ----
 *
 * The CT's init (and every process vzctl exec starts) carries a filter
 * that hands sysinfo(2) to a listener; the CT's monitor holds the
 * listeners and answers from the CT's cgroup: RAM and swap limits and
 * use, uptime since the CT started, its number of tasks. Loads are the
 * host's. The answer is written into the caller with /proc/PID/mem of
 * the host's /proc, opened before the notification id is checked again
 * (so the pid cannot have been reused in between: a dead caller's
 * notification is gone). A page the write faults in is anonymous or a
 * file on the CT's own disk: a CT has no /dev/fuse and no userfaultfd
 * (denied above), which could hold the monitor up. */

#include <poll.h>
#include <sys/socket.h>
#include <sys/sysinfo.h>
#include <sys/un.h>
#include <time.h>

#define SRV_MAX 1024 /* listeners and pending hand-offs per CT */

struct sysinfo32 {
	int32_t uptime;
	uint32_t loads[3];
	uint32_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
	uint16_t procs, pad;
	uint32_t totalhigh, freehigh, mem_unit;
	char f[8];
};

struct srv_fd {
	int fd;
	bool conn; /* a hand-off connection that has not sent its listener yet */
};

struct vz_sysinfo_srv {
	int lsock;
	const struct vz_cgroups *cg;
	const char *rel;
	time_t start; /* CLOCK_BOOTTIME seconds at the CT's start */
	struct srv_fd fds[SRV_MAX];
	size_t n;
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
};

static int notify_addr(const vz_ctx *ctx, unsigned ctid, struct sockaddr_un *sa, int *dirfd)
{
	*dirfd = open(ctx->run_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0)
		return -1;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%u.notify", *dirfd, ctid);
	return 0;
}

int vz_seccomp_notify_connect(const vz_ctx *ctx, unsigned ctid)
{
	struct sockaddr_un sa;
	int dfd;
	if (notify_addr(ctx, ctid, &sa, &dfd) < 0)
		return -1;
	/* non-blocking: a monitor that does not accept now (its backlog
	 * full) costs sysinfo's answers, never the exec */
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(s);
		s = -1;
	}
	close(dfd);
	return s;
}

int vz_seccomp_apply(struct vz_seccomp *s, int monitor, vz_error *err)
{
	int lfd = -1;
	bool notify = s && s->notify && monitor >= 0;
	int r = vz_seccomp_install(s, notify ? &lfd : NULL, err);
	if (!r && notify) {
		if (send_fd(monitor, lfd) < 0)
			r = vz_err_errno(err, VZ_E_SYSTEM, errno,
					 "CT %u: cannot hand the sysinfo listener to the monitor",
					 s->ctid);
		close(lfd);
	}
	if (monitor >= 0)
		close(monitor);
	return r;
}

static void unlink_notify(const vz_ctx *ctx, unsigned ctid)
{
	_cleanup_free_ char *p = xasprintf("%s/%u.notify", ctx->run_dir, ctid);
	(void)unlink(p);
}

struct vz_sysinfo_srv *vz_sysinfo_srv_new(const vz_ctx *ctx, unsigned ctid,
					  const struct vz_cgroups *cg, const char *rel)
{
	struct vz_sysinfo_srv *v = xcalloc(1, sizeof(*v));
	v->cg = cg;
	v->rel = rel;
	v->lsock = -1;
	if (seccomp_notify_alloc(&v->req, &v->resp) < 0) {
		free(v);
		return NULL;
	}
	struct sockaddr_un sa;
	int dfd;
	if (notify_addr(ctx, ctid, &sa, &dfd) < 0)
		return v;
	unlink_notify(ctx, ctid);
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	mode_t old = umask(0077); /* root only */
	if (s >= 0 && (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 64) < 0)) {
		close(s);
		s = -1;
	}
	umask(old);
	close(dfd);
	v->lsock = s;
	return v;
}

static void srv_drop(struct vz_sysinfo_srv *v, size_t i)
{
	close(v->fds[i].fd);
	v->fds[i] = v->fds[--v->n];
}

void vz_sysinfo_srv_boot(struct vz_sysinfo_srv *v, int init_listener)
{
	if (!v) {
		if (init_listener >= 0)
			close(init_listener);
		return;
	}
	while (v->n)
		srv_drop(v, 0);
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	v->start = ts.tv_sec;
	if (init_listener >= 0)
		v->fds[v->n++] = (struct srv_fd){init_listener, false};
}

void vz_sysinfo_srv_free(struct vz_sysinfo_srv *v, const vz_ctx *ctx, unsigned ctid)
{
	if (!v)
		return;
	while (v->n)
		srv_drop(v, 0);
	if (v->lsock >= 0) {
		close(v->lsock);
		unlink_notify(ctx, ctid);
	}
	seccomp_notify_free(v->req, v->resp);
	free(v);
}

size_t vz_sysinfo_srv_pollfds(const struct vz_sysinfo_srv *v, struct pollfd *pf)
{
	size_t k = 0;
	if (!v)
		return 0;
	pf[k++] = (struct pollfd){.fd = v->lsock, .events = POLLIN};
	for (size_t i = 0; i < v->n; i++)
		pf[k++] = (struct pollfd){.fd = v->fds[i].fd, .events = POLLIN};
	return k;
}

/* whether fd is a seccomp listener (what a hand-off must carry) */
static bool is_listener(int fd)
{
	char p[64], t[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(p, t, sizeof(t) - 1);
	t[n > 0 ? n : 0] = '\0';
	return !strcmp(t, "anon_inode:seccomp notify");
}

/* Values in 32 bits (i386 callers), scaled by mem_unit as the kernel's
 * compat sysinfo does. */
static void to_compat(const struct sysinfo *s, struct sysinfo32 *c)
{
	unsigned long long v[6] = {s->totalram, s->freeram, s->sharedram, s->bufferram,
				   s->totalswap, s->freeswap};
	unsigned unit = 1;
	for (;;) {
		bool fits = true;
		for (size_t i = 0; i < 6; i++)
			fits = fits && v[i] <= UINT32_MAX;
		if (fits || unit >= (1u << 30))
			break;
		for (size_t i = 0; i < 6; i++)
			v[i] >>= 1;
		unit <<= 1;
	}
	memset(c, 0, sizeof(*c));
	c->uptime = s->uptime > INT32_MAX ? INT32_MAX : (int32_t)s->uptime;
	for (size_t i = 0; i < 3; i++)
		c->loads[i] = (uint32_t)s->loads[i];
	c->totalram = (uint32_t)v[0];
	c->freeram = (uint32_t)v[1];
	c->sharedram = (uint32_t)v[2];
	c->bufferram = (uint32_t)v[3];
	c->totalswap = (uint32_t)v[4];
	c->freeswap = (uint32_t)v[5];
	c->procs = s->procs;
	c->mem_unit = unit;
}

/* The CT's figures over the host's; false when its cgroup cannot be read */
static bool ct_sysinfo(const struct vz_sysinfo_srv *v, struct sysinfo *s)
{
	struct vz_mem_now m;
	struct timespec ts;
	if (sysinfo(s) < 0 || vz_res_mem_now(v->cg, v->rel, &m) < 0)
		return false;
	unsigned long long unit = s->mem_unit ? s->mem_unit : 1;
	unsigned long long total = s->totalram * unit, swap = s->totalswap * unit;
	if (m.ram_limit >= 0 && (unsigned long long)m.ram_limit < total) {
		unsigned long long used = (unsigned long long)m.ram_used;
		total = (unsigned long long)m.ram_limit;
		s->totalram = total;
		s->freeram = used < total ? total - used : 0;
		s->sharedram = 0;
		s->bufferram = 0;
	} else {
		s->totalram *= unit;
		s->freeram *= unit;
		s->sharedram *= unit;
		s->bufferram *= unit;
	}
	if (m.swap_limit >= 0 && (unsigned long long)m.swap_limit < swap) {
		unsigned long long used = (unsigned long long)m.swap_used;
		s->totalswap = (unsigned long long)m.swap_limit;
		s->freeswap = used < s->totalswap ? s->totalswap - used : 0;
	} else {
		s->totalswap *= unit;
		s->freeswap *= unit;
	}
	s->totalhigh = s->freehigh = 0;
	s->mem_unit = 1;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	s->uptime = ts.tv_sec > v->start ? ts.tv_sec - v->start : 0;
	long procs = vz_cg_count_procs(v->cg, v->rel);
	s->procs = procs < 0 ? 0 : procs > 65535 ? 65535 : (unsigned short)procs;
	return true;
}

static void answer(struct vz_sysinfo_srv *v, int fd)
{
	struct seccomp_notif *req = v->req;
	struct seccomp_notif_resp *resp = v->resp;
	/* the kernel wants it zeroed, and libseccomp leaves that to us */
	memset(req, 0, sizeof(*req));
	if (seccomp_notify_receive(fd, req) < 0)
		return; /* the caller went away before we got to it */
	memset(resp, 0, sizeof(*resp));
	resp->id = req->id;
	bool compat = req->data.arch == SCMP_ARCH_X86 || req->data.arch == SCMP_ARCH_ARM;
	int nr = req->data.nr;
	if (req->data.arch == SCMP_ARCH_X86_64)
		nr &= ~0x40000000; /* x32 (__X32_SYSCALL_BIT): x86_64's layout */
	struct sysinfo s;
	struct sysinfo32 c;
	if (nr != seccomp_syscall_resolve_name_arch(req->data.arch, "sysinfo")) {
		resp->error = -ENOSYS;
	} else if (!ct_sysinfo(v, &s)) {
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE; /* the host's figures */
	} else {
		if (compat)
			to_compat(&s, &c);
		char p[32];
		snprintf(p, sizeof(p), "/proc/%d/mem", (int)req->pid);
		_cleanup_close_ int mem = open(p, O_WRONLY | O_CLOEXEC);
		/* still waiting: then pid is still the caller's (a caller gone
		 * needs no answer) */
		if (seccomp_notify_id_valid(fd, req->id) < 0)
			return;
		const void *buf = compat ? (const void *)&c : (const void *)&s;
		size_t len = compat ? sizeof(c) : sizeof(s);
		uint64_t addr = req->data.args[0];
		if (mem < 0)
			resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		else if (addr > (uint64_t)INT64_MAX - len ||
			 pwrite(mem, buf, len, (off_t)addr) != (ssize_t)len)
			resp->error = -EFAULT;
	}
	(void)seccomp_notify_respond(fd, resp);
}

void vz_sysinfo_srv_handle(struct vz_sysinfo_srv *v, const struct pollfd *pf, size_t npf)
{
	if (!v || !npf)
		return;
	/* listeners first, from the end: dropping one moves the last into
	 * its place, which was handled already */
	for (size_t i = npf - 1; i >= 1; i--) {
		if (i - 1 >= v->n || pf[i].fd != v->fds[i - 1].fd || !pf[i].revents)
			continue;
		struct srv_fd *e = &v->fds[i - 1];
		if (e->conn) {
			int l = recv_fd(e->fd);
			if (l >= 0 && is_listener(l)) {
				close(e->fd);
				e->fd = l;
				e->conn = false;
				continue;
			}
			if (l >= 0)
				close(l);
			srv_drop(v, i - 1);
		} else if (pf[i].revents & POLLIN) {
			answer(v, e->fd);
		} else {
			srv_drop(v, i - 1); /* POLLHUP: no process of that tree is left */
		}
	}
	if (pf[0].revents & POLLIN) {
		int c;
		while ((c = accept4(v->lsock, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
			if (v->n >= SRV_MAX) {
				close(c);
				continue;
			}
			v->fds[v->n++] = (struct srv_fd){c, true};
		}
	}
}

size_t vz_sysinfo_srv_max(void)
{
	return SRV_MAX + 1;
}

/* criu restores a filter as the BPF program it dumped, and a listener
 * cannot be had for a filter already loaded: the restored CT's sysinfo(2)
 * would fail with ENOSYS (and glibc's sysconf(_SC_PHYS_PAGES) ignores the
 * failure and returns garbage). Each "return USER_NOTIF" of the dumped
 * programs becomes "return ALLOW": after a restore the CT sees the host's
 * sysinfo figures again until it reboots. The instruction has the same
 * size, so the protobuf image stays valid. */
void vz_seccomp_dump_fixup(const char *dir)
{
	/* struct sock_filter {u16 code; u8 jt, jf; u32 k} little-endian,
	 * code BPF_RET|BPF_K */
	static const unsigned char notif[8] = {0x06, 0, 0, 0, 0x00, 0x00, 0xc0, 0x7f};
	static const unsigned char allow[8] = {0x06, 0, 0, 0, 0x00, 0x00, 0xff, 0x7f};
	_cleanup_free_ char *p = xasprintf("%s/seccomp.img", dir);
	/* a dump may come from a migration peer: no symlink is followed */
	_cleanup_close_ int fd = open(p, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 24) ||
	    __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__)
		return;
	size_t len = (size_t)st.st_size;
	_cleanup_free_ unsigned char *img = xmalloc(len + 1);
	if (pread(fd, img, len, 0) != (ssize_t)len)
		return;
	bool changed = false;
	for (size_t i = 0; i + sizeof(notif) <= len; i++)
		if (!memcmp(img + i, notif, sizeof(notif))) {
			memcpy(img + i, allow, sizeof(allow));
			changed = true;
		}
	if (changed)
		(void)!pwrite(fd, img, len, 0);
}
