/* The devices a CT may open or create: an allowlist on its cgroup, as
 * OpenVZ's upstream port (devices.deny all, then devices.allow) and LXC
 * do. The standard nodes and ptys are allowed, and what DEVICES in the CT
 * config adds, in OpenVZ's syntax: "c:10:200:rw b:7:*:r c:all:rw".
 *
 * A CT in a user namespace can neither make device nodes nor open those
 * on its own mounts (the kernel refuses both), so for it this is a second
 * wall; for a privileged CT (LOCAL_UID=0) it is the one that keeps it off
 * the host's disks and memory. v1: the devices controller, which only
 * host root may widen; v2: a BPF_PROG_TYPE_CGROUP_DEVICE program, which
 * only host root may detach. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include "internal.h"

enum { DEV_M = 1, DEV_R = 2, DEV_W = 4, DEV_ALL = 7 };
#define DEV_ANY (-1)

struct dev_rule {
	long major, minor;  /* DEV_ANY: any */
	unsigned access;    /* DEV_M | DEV_R | DEV_W */
	char type;          /* 'c', 'b', or 'a' for both */
};

/* What every CT has: its /dev as rootfs.c builds it (null, zero, full,
 * random, urandom, tty, console and ptmx, its devpts) and mknod of
 * anything, which gives no access by itself (open is checked too). */
static const struct dev_rule defaults[] = {
	{DEV_ANY, DEV_ANY, DEV_M, 'c'}, {DEV_ANY, DEV_ANY, DEV_M, 'b'},
	{1, 3, DEV_ALL, 'c'},  {1, 5, DEV_ALL, 'c'},   {1, 7, DEV_ALL, 'c'},
	{1, 8, DEV_ALL, 'c'},  {1, 9, DEV_ALL, 'c'},   {5, 0, DEV_ALL, 'c'},
	{5, 1, DEV_ALL, 'c'},  {5, 2, DEV_ALL, 'c'},   {136, DEV_ANY, DEV_ALL, 'c'},
};

#define MAX_RULES 64

static int parse_num(const char *s, long *v)
{
	if (!strcmp(s, "*")) {
		*v = DEV_ANY;
		return 0;
	}
	char *end;
	errno = 0;
	long n = strtol(s, &end, 10);
	if (errno || end == s || *end || n < 0 || n > 0xfffff)
		return -1;
	*v = n;
	return 0;
}

/* One DEVICES entry: TYPE:MAJOR:MINOR:PERM or TYPE:all:PERM, PERM of r,
 * w, q (OpenVZ's quota flag, nothing here) or "none". */
static int parse_entry(char *t, struct dev_rule *r)
{
	char *f[4];
	size_t n = 0;
	for (char *save = NULL, *p = strtok_r(t, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
		if (n == ARRAY_SIZE(f))
			return -1;
		f[n++] = p;
	}
	if (n < 3 || (strcmp(f[0], "c") && strcmp(f[0], "b")))
		return -1;
	r->type = f[0][0];
	const char *perm;
	if (n == 3) {
		if (strcmp(f[1], "all"))
			return -1;
		r->major = r->minor = DEV_ANY;
		perm = f[2];
	} else {
		if (parse_num(f[1], &r->major) || parse_num(f[2], &r->minor))
			return -1;
		perm = f[3];
	}
	r->access = 0;
	if (!strcmp(perm, "none"))
		return 0;
	for (const char *c = perm; *c; c++) {
		if (*c == 'r')
			r->access |= DEV_R;
		else if (*c == 'w')
			r->access |= DEV_W;
		else if (*c != 'q')
			return -1;
	}
	return 0;
}

/* The CT's rules: the defaults, then DEVICES (entries that allow nothing
 * are dropped: an allowlist cannot take back a default) */
static int rules_of(const struct vz_ct *ct, const vz_ctx *ctx, struct dev_rule *rules,
		    size_t *n, vz_error *err)
{
	*n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(defaults); i++)
		rules[(*n)++] = defaults[i];
	const char *v = vz_ct_get(ct, ctx, "DEVICES");
	if (!v || !*v)
		return 0;
	_cleanup_free_ char *c = xstrdup(v);
	char *save = NULL;
	for (char *t = strtok_r(c, " ,", &save); t; t = strtok_r(NULL, " ,", &save)) {
		_cleanup_free_ char *shown = xstrdup(t);
		struct dev_rule r;
		if (parse_entry(t, &r))
			return vz_err(err, VZ_E_DEVICES,
				      "CT %u: DEVICES entry '%s': expected b|c:MAJOR:MINOR:[r][w] "
				      "or b|c:all:[r][w]",
				      ct->ctid, shown);
		if (!r.access)
			continue;
		if (*n == MAX_RULES)
			return vz_err(err, VZ_E_DEVICES, "CT %u: DEVICES has more than %d entries",
				      ct->ctid, MAX_RULES - (int)ARRAY_SIZE(defaults));
		rules[(*n)++] = r;
	}
	return 0;
}

int vz_devices_check(const struct vz_ct *ct, const vz_ctx *ctx, vz_error *err)
{
	struct dev_rule rules[MAX_RULES];
	size_t n;
	return rules_of(ct, ctx, rules, &n, err);
}

static void rule_v1(const struct dev_rule *r, char *buf, size_t len)
{
	char maj[16], min[16];
	if (r->major == DEV_ANY)
		snprintf(maj, sizeof(maj), "*");
	else
		snprintf(maj, sizeof(maj), "%ld", r->major);
	if (r->minor == DEV_ANY)
		snprintf(min, sizeof(min), "*");
	else
		snprintf(min, sizeof(min), "%ld", r->minor);
	snprintf(buf, len, "%c %s:%s %s%s%s", r->type, maj, min, r->access & DEV_R ? "r" : "",
		 r->access & DEV_W ? "w" : "", r->access & DEV_M ? "m" : "");
}

static int apply_v1(const char *dir, const struct dev_rule *rules, size_t n, unsigned ctid,
		    vz_error *err)
{
	_cleanup_free_ char *deny = xasprintf("%s/devices.deny", dir);
	_cleanup_free_ char *allow = xasprintf("%s/devices.allow", dir);
	if (write_str(deny, "a") < 0)
		return vz_err_errno(err, VZ_E_DEVICES, errno, "CT %u: cannot write %s", ctid, deny);
	for (size_t i = 0; i < n; i++) {
		char line[64];
		rule_v1(&rules[i], line, sizeof(line));
		if (write_str(allow, line) < 0)
			return vz_err_errno(err, VZ_E_DEVICES, errno, "CT %u: cannot allow '%s' in %s",
					    ctid, line, allow);
	}
	return 0;
}

/* ---- v2: the same list as a cgroup device program ---- */

#define INSN(c, d, s, o, i) ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), \
					       .off = (o), .imm = (i)})

/* r2 = type, r3 = access, r4 = major, r5 = minor; each rule jumps past
 * itself unless it matches, and returns 1 when it does; none: 0 */
static size_t prog_build(const struct dev_rule *rules, size_t n, struct bpf_insn *p)
{
	size_t k = 0;
	p[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1, 0, 0);
	p[k++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0, 0);
	p[k++] = INSN(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff);
	p[k++] = INSN(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
	p[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_4, BPF_REG_1, 4, 0);
	p[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_5, BPF_REG_1, 8, 0);
	for (size_t i = 0; i < n; i++) {
		const struct dev_rule *r = &rules[i];
		size_t jumps[4], nj = 0;
		if (r->type != 'a') {
			jumps[nj++] = k;
			p[k++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, 0,
				      r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
		}
		/* the access asked for must be within the rule's */
		unsigned acc = (r->access & DEV_M ? BPF_DEVCG_ACC_MKNOD : 0) |
			       (r->access & DEV_R ? BPF_DEVCG_ACC_READ : 0) |
			       (r->access & DEV_W ? BPF_DEVCG_ACC_WRITE : 0);
		p[k++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_0, BPF_REG_3, 0, 0);
		p[k++] = INSN(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_0, 0, 0, (int)~acc);
		jumps[nj++] = k;
		p[k++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_0, 0, 0, 0);
		if (r->major != DEV_ANY) {
			jumps[nj++] = k;
			p[k++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, 0, (int)r->major);
		}
		if (r->minor != DEV_ANY) {
			jumps[nj++] = k;
			p[k++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, 0, (int)r->minor);
		}
		p[k++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
		p[k++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		for (size_t j = 0; j < nj; j++)
			p[jumps[j]].off = (short)(k - jumps[j] - 1);
	}
	p[k++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
	p[k++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	return k;
}

static int apply_v2(const char *dir, const struct dev_rule *rules, size_t n, unsigned ctid,
		    vz_error *err)
{
	struct bpf_insn prog[8 + MAX_RULES * 8];
	size_t len = prog_build(rules, n, prog);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (unsigned long long)(uintptr_t)prog;
	a.insn_cnt = (unsigned)len;
	a.license = (unsigned long long)(uintptr_t)"GPL";
	_cleanup_close_ int pfd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
	if (pfd < 0) {
		/* again with the verifier's log, for its last word */
		int e = errno;
		size_t loglen = 1 << 16;
		_cleanup_free_ char *log = xcalloc(1, loglen);
		a.log_buf = (unsigned long long)(uintptr_t)log;
		a.log_size = (unsigned)loglen;
		a.log_level = 1;
		int again = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
		if (again >= 0)
			close(again);
		char *end = log + strlen(log);
		while (end > log && end[-1] == '\n')
			*--end = '\0';
		char *last = strrchr(log, '\n');
		last = last ? last + 1 : log;
		return vz_err_errno(err, VZ_E_DEVICES, e, "CT %u: the device program was refused%s%s",
				    ctid, *last ? ": " : "", last);
	}
	_cleanup_close_ int cfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cfd < 0)
		return vz_err_errno(err, VZ_E_DEVICES, errno, "CT %u: cannot open %s", ctid, dir);
	memset(&a, 0, sizeof(a));
	a.target_fd = (unsigned)cfd;
	a.attach_bpf_fd = (unsigned)pfd;
	a.attach_type = BPF_CGROUP_DEVICE;
	/* the CT's own programs (systemd's) may only narrow it further */
	a.attach_flags = BPF_F_ALLOW_MULTI;
	if (syscall(SYS_bpf, BPF_PROG_ATTACH, &a, sizeof(a)) < 0)
		return vz_err_errno(err, VZ_E_DEVICES, errno,
				    "CT %u: cannot attach the device program to %s", ctid, dir);
	return 0;
}

int vz_devices_apply(const vz_ctx *ctx, const struct vz_ct *ct, const struct vz_cgroups *cg,
		     const char *rel, vz_error *err)
{
	struct dev_rule rules[MAX_RULES];
	size_t n;
	int r = rules_of(ct, ctx, rules, &n, err);
	if (r)
		return r;
	for (size_t i = 0; i < cg->n; i++) {
		const struct vz_cg_hier *h = &cg->h[i];
		_cleanup_free_ char *dir = xasprintf("%s/%s", h->mnt, rel);
		/* a hybrid host checks both, so both carry the list */
		if (h->v2) {
			if ((r = apply_v2(dir, rules, n, ct->ctid, err)))
				return r;
		} else if (vz_cg_has(h, "devices") && (r = apply_v1(dir, rules, n, ct->ctid, err))) {
			return r;
		}
	}
	return 0;
}
