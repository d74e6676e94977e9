/* The CT's seccomp filter: defence in depth as LXC's common.seccomp and
 * Docker's default profile do. A deny list, not an allow list: a system
 * container runs a whole distro (systemd, nested containers, CRIU, strace)
 * and a denied call it needs is worse than one it never makes. What is
 * denied either reaches kernel state no user namespace owns (modules,
 * kexec, keyrings, swap, the clock, accounting) or is a large kernel
 * surface unprivileged code rarely needs and exploits often use (bpf,
 * perf_event_open, userfaultfd, io_uring). Denied calls fail with EPERM so
 * programs degrade instead of dying.
 *
 * SECCOMP in the CT config: "default" (also when unset), "none", or the
 * absolute path of a host file naming more calls to deny, one a line. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <seccomp.h>
#include "internal.h"

struct vz_seccomp {
	scmp_filter_ctx f;
	unsigned ctid;
};

/* Denied with EPERM in every CT; see docs/security.md for the reasons of
 * each group and for what is left allowed on purpose (mount, unshare,
 * clone, setns, ptrace, reboot, seccomp itself, adjtimex reads). */
static const char *const deny[] = {
	/* kernel code: modules and kexec */
	"init_module", "finit_module", "delete_module", "create_module",
	"query_module", "get_kernel_syms", "kexec_load", "kexec_file_load",
	/* file handles reach any inode of a filesystem, past the CT's root */
	"open_by_handle_at",
	/* the kernel keyring is shared with the host's users */
	"add_key", "request_key", "keyctl",
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

static int add_deny(struct vz_seccomp *s, const char *name, unsigned ctid, const char *where,
		    vz_error *err)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR) {
		if (where)
			return vz_err(err, VZ_E_CONFIG, "CT %u: SECCOMP %s: unknown system call %.64s",
				      ctid, where, name);
		return 0; /* not known to this libseccomp: nothing to deny */
	}
	int r = seccomp_rule_add(s->f, SCMP_ACT_ERRNO(EPERM), nr, 0);
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
		int r = add_deny(s, name, ctid, where, err);
		if (r)
			return r;
	}
	return 0;
}

void vz_seccomp_free(struct vz_seccomp *s)
{
	if (!s)
		return;
	seccomp_release(s->f);
	free(s);
}

int vz_seccomp_prepare(const vz_ctx *ctx, const struct vz_ct *ct, bool notify,
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
		if ((r = add_deny(s, deny[i], ct->ctid, NULL, err))) {
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
	*out = s;
	return 0;
}

int vz_seccomp_install(struct vz_seccomp *s, int *listener, vz_error *err)
{
	if (listener)
		*listener = -1;
	if (!s)
		return 0;
	int r = seccomp_load(s->f);
	if (r < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, -r, "CT %u: cannot load the seccomp filter",
				    s->ctid);
	if (listener) {
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
