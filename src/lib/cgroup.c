/* cgroups: every mounted hierarchy is modelled, v1 controllers, the v2
 * unified tree, or both (hybrid), so a CT gets its own cgroup in each and
 * the hybrid layout with a controller on cgroup2 works. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "internal.h"

/* v1 mount options that are not controllers */
static bool v1_option(const char *o)
{
	static const char *const opts[] = {"rw", "ro", "clone_children", "noprefix",
					   "xattr", "cpuset_v2_mode", "favordynmods"};
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
		if (!strcmp(o, opts[i]))
			return true;
	return !strncmp(o, "release_agent=", 14);
}

static void add_hier(struct vz_cgroups *cg, const char *mnt, const char *ctrls,
		     bool v2)
{
	for (size_t i = 0; i < cg->n; i++)
		if (!strcmp(cg->h[i].ctrls, ctrls) && cg->h[i].v2 == v2)
			return; /* the same hierarchy mounted twice */
	struct vz_cg_hier *h = realloc(cg->h, (cg->n + 1) * sizeof(*h));
	if (!h)
		abort();
	cg->h = h;
	cg->h[cg->n].mnt = xstrdup(mnt);
	cg->h[cg->n].ctrls = xstrdup(ctrls);
	cg->h[cg->n].v2 = v2;
	cg->n++;
}

/* mountinfo is the kernel's own table, one mount a line */
int vz_cg_detect(struct vz_cgroups *cg, vz_error *err)
{
	cg->h = NULL;
	cg->n = 0;
	_cleanup_free_ char *mi = read_file("/proc/self/mountinfo", NULL);
	if (!mi)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot read mountinfo");
	char *save = NULL;
	for (char *line = strtok_r(mi, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *sep = strstr(line, " - ");
		if (!sep)
			continue;
		char fstype[32], super[512];
		if (sscanf(sep + 3, "%31s %*s %511s", fstype, super) != 2)
			continue;
		bool v2 = !strcmp(fstype, "cgroup2");
		if (!v2 && strcmp(fstype, "cgroup"))
			continue;
		char root[512], mnt[512];
		if (sscanf(line, "%*s %*s %*s %511s %511s", root, mnt) != 2)
			continue;
		/* the hierarchy's root; seen from inside a cgroup namespace it
		 * reads "/.." up to the host's root. Anything else is a bind
		 * of a sub-cgroup. */
		bool top = !strcmp(root, "/");
		for (const char *r = root; !top && !strncmp(r, "/..", 3); r += 3)
			top = r[3] == '\0';
		if (!top)
			continue;
		char ctrls[512] = "";
		if (!v2) {
			char *s2 = NULL;
			for (char *o = strtok_r(super, ",", &s2); o;
			     o = strtok_r(NULL, ",", &s2)) {
				if (v1_option(o))
					continue;
				if (*ctrls)
					strncat(ctrls, ",", sizeof(ctrls) - strlen(ctrls) - 1);
				strncat(ctrls, o, sizeof(ctrls) - strlen(ctrls) - 1);
			}
		}
		add_hier(cg, mnt, ctrls, v2);
	}
	if (cg->n == 0)
		return vz_err(err, VZ_E_SYSTEM, "no cgroup hierarchy is mounted");
	return 0;
}

void vz_cg_free(struct vz_cgroups *cg)
{
	for (size_t i = 0; i < cg->n; i++) {
		free(cg->h[i].mnt);
		free(cg->h[i].ctrls);
	}
	free(cg->h);
	cg->h = NULL;
	cg->n = 0;
}

char *vz_cg_rel(const vz_ctx *ctx, unsigned ctid)
{
	return xasprintf("%s/%u", ctx->cgroup_base, ctid);
}

static bool has_ctrl(const struct vz_cg_hier *h, const char *c)
{
	size_t n = strlen(c);
	for (const char *p = h->ctrls; (p = strstr(p, c)); p += n)
		if ((p == h->ctrls || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

/* A new v1 cpuset is empty and takes no task until filled from its parent. */
bool vz_cg_has(const struct vz_cg_hier *h, const char *ctrl)
{
	if (!h->v2)
		return has_ctrl(h, ctrl);
	_cleanup_free_ char *p = xasprintf("%s/cgroup.controllers", h->mnt);
	_cleanup_free_ char *list = read_file(p, NULL);
	size_t n = strlen(ctrl);
	for (const char *w = list; w && (w = strstr(w, ctrl)); w += n)
		if ((w == list || w[-1] == ' ') && (w[n] == ' ' || w[n] == '\n' || !w[n]))
			return true;
	return false;
}

static void cpuset_inherit(const char *parent, const char *dir)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *pp = xasprintf("%s/%s", parent, files[i]);
		_cleanup_free_ char *dp = xasprintf("%s/%s", dir, files[i]);
		_cleanup_free_ char *cur = read_file(dp, NULL);
		if (cur && cur[0] != '\n' && cur[0] != '\0')
			continue;
		_cleanup_free_ char *val = read_file(pp, NULL);
		if (val)
			(void)write_str(dp, val);
	}
}

/* v2: the controllers the parent has, enabled for its children */
static void v2_enable(const char *dir)
{
	_cleanup_free_ char *cpath = xasprintf("%s/cgroup.controllers", dir);
	_cleanup_free_ char *avail = read_file(cpath, NULL);
	if (!avail)
		return;
	_cleanup_free_ char *spath = xasprintf("%s/cgroup.subtree_control", dir);
	char *save = NULL;
	for (char *c = strtok_r(avail, " \n", &save); c; c = strtok_r(NULL, " \n", &save)) {
		char buf[64];
		snprintf(buf, sizeof(buf), "+%s", c);
		(void)write_str(spath, buf); /* a busy controller stays off; fine */
	}
}

static int delegate(const char *dir, bool v2, uid_t uid, gid_t gid)
{
	static const char *const v1files[] = {"cgroup.procs", "tasks",
					      "cgroup.clone_children"};
	static const char *const v2files[] = {"cgroup.procs", "cgroup.subtree_control",
					      "cgroup.threads"};
	if (chown(dir, uid, gid) < 0)
		return -1;
	const char *const *f = v2 ? v2files : v1files;
	for (size_t i = 0; i < 3; i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, f[i]);
		if (chown(p, uid, gid) < 0 && errno != ENOENT)
			return -1;
	}
	return 0;
}

int vz_cg_create(const struct vz_cgroups *cg, const char *rel, uid_t uid,
		 gid_t gid, vz_error *err)
{
	for (size_t i = 0; i < cg->n; i++) {
		const struct vz_cg_hier *h = &cg->h[i];
		_cleanup_free_ char *dir = xasprintf("%s/%s", h->mnt, rel);
		_cleanup_free_ char *parent = xstrdup(dir);
		*strrchr(parent, '/') = '\0';
		if (mkdir(parent, 0755) < 0 && errno != EEXIST)
			return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot create cgroup %s",
					    parent);
		if (h->v2) {
			v2_enable(h->mnt);
			v2_enable(parent);
		} else if (has_ctrl(h, "cpuset")) {
			cpuset_inherit(h->mnt, parent);
		}
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot create cgroup %s",
					    dir);
		if (!h->v2 && has_ctrl(h, "cpuset"))
			cpuset_inherit(parent, dir);
		if (uid && delegate(dir, h->v2, uid, gid) < 0)
			return vz_err_errno(err, VZ_E_SYSTEM, errno,
					    "cannot delegate cgroup %s", dir);
	}
	return 0;
}

/* ---- the CT's own subtree, as its init made it ---- */

static void tree_walk(const char *base, const char *sub, const char *ctrls, FILE *out, int depth)
{
	_cleanup_free_ char *dir = xasprintf("%s%s%s", base, *sub ? "/" : "", sub);
	DIR *d = depth < 32 ? opendir(dir) : NULL;
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *s = xasprintf("%s%s%s", sub, *sub ? "/" : "", de->d_name);
		fprintf(out, "%s\t%s\n", ctrls, s); /* parents before children */
		tree_walk(base, s, ctrls, out, depth + 1);
	}
	closedir(d);
}

char *vz_cg_tree_list(const struct vz_cgroups *cg, const char *rel)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	if (!out)
		return NULL;
	for (size_t i = 0; i < cg->n; i++) {
		_cleanup_free_ char *base = xasprintf("%s/%s", cg->h[i].mnt, rel);
		tree_walk(base, "", cg->h[i].ctrls, out, 0);
	}
	fclose(out);
	return buf;
}

void vz_cg_tree_make(const struct vz_cgroups *cg, const char *rel, const char *list, uid_t uid,
		     gid_t gid)
{
	_cleanup_free_ char *copy = xstrdup(list ? list : "");
	char *save = NULL;
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(l, '\t');
		if (!tab || strstr(tab + 1, ".."))
			continue;
		*tab = '\0';
		for (size_t i = 0; i < cg->n; i++) {
			const struct vz_cg_hier *h = &cg->h[i];
			if (strcmp(h->ctrls, l))
				continue;
			_cleanup_free_ char *dir = xasprintf("%s/%s/%s", h->mnt, rel, tab + 1);
			if (mkdir(dir, 0755) < 0)
				continue;
			if (!h->v2 && has_ctrl(h, "cpuset")) {
				_cleanup_free_ char *parent = xstrdup(dir);
				*strrchr(parent, '/') = '\0';
				cpuset_inherit(parent, dir);
			}
			if (uid)
				(void)delegate(dir, h->v2, uid, gid);
		}
	}
}

/* v1: "0" in tasks moves the calling thread alone, which the kernel does
 * without its global threadgroup lock and so without waiting for an RCU
 * grace period (~10 ms) as a cgroup.procs write does. A thread's children
 * inherit its cgroups. v2 has no such path: callers use CLONE_INTO_CGROUP. */
int vz_cg_enter_v1(const struct vz_cgroups *cg, const char *rel, vz_error *err)
{
	for (size_t i = 0; i < cg->n; i++) {
		if (cg->h[i].v2)
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s/tasks", cg->h[i].mnt, rel);
		if (write_str(p, "0") < 0)
			return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot join cgroup %s", p);
	}
	return 0;
}

/* The CT's v2 cgroup for CLONE_INTO_CGROUP, or -1 without a v2 hierarchy. */
int vz_cg_open_v2(const struct vz_cgroups *cg, const char *rel, vz_error *err)
{
	for (size_t i = 0; i < cg->n; i++) {
		if (!cg->h[i].v2)
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s", cg->h[i].mnt, rel);
		int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return -vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot open cgroup %s", p);
		return fd;
	}
	return -1;
}

/* The v2 cgroup pid is in, relative to the hierarchy's root as rel is,
 * when that is rel or below it; NULL otherwise. */
char *vz_cg_v2_rel_of(pid_t pid, const char *rel)
{
	_cleanup_free_ char *p = xasprintf("/proc/%d/cgroup", (int)pid);
	_cleanup_free_ char *list = read_file(p, NULL);
	char *l = list;
	while (l && strncmp(l, "0::/", 4))
		l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL;
	if (!l)
		return NULL;
	l += 4;
	l[strcspn(l, "\n")] = '\0';
	size_t n = strlen(rel);
	if (strncmp(l, rel, n) || (l[n] != '\0' && l[n] != '/') || strstr(l, "/.."))
		return NULL;
	return xstrdup(l);
}

/* Calls fn on the cgroup.procs text of dir and of every cgroup below it
 * and sums what it returns; -1 when dir itself has no process list. */
static long walk_procs(const char *dir, long (*fn)(char *list, int arg), int arg)
{
	_cleanup_free_ char *procs = xasprintf("%s/cgroup.procs", dir);
	_cleanup_free_ char *list = read_file(procs, NULL);
	if (!list)
		return -1;
	long n = fn(list, arg);
	DIR *d = opendir(dir);
	if (!d)
		return n;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		_cleanup_free_ char *sub = xasprintf("%s/%s", dir, e->d_name);
		long s = walk_procs(sub, fn, arg);
		if (s > 0)
			n += s;
	}
	closedir(d);
	return n;
}

static long kill_list(char *list, int sig)
{
	long n = 0;
	char *save = NULL;
	for (char *l = strtok_r(list, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (kill((pid_t)atoi(l), sig) == 0)
			n++;
	return n;
}

static long count_lines(char *list, int unused)
{
	(void)unused;
	long n = 0;
	for (char *p = list; *p; p++)
		n += *p == '\n';
	return n;
}

/* Removes dir and the sub-cgroups a CT made inside it, deepest first. */
static int rmdir_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		_cleanup_free_ char *sub = xasprintf("%s/%s", dir, e->d_name);
		(void)rmdir_tree(sub);
	}
	closedir(d);
	if (rmdir(dir) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

int vz_cg_destroy(const struct vz_cgroups *cg, const char *rel)
{
	int ret = 0;
	for (size_t i = 0; i < cg->n; i++) {
		_cleanup_free_ char *dir = xasprintf("%s/%s", cg->h[i].mnt, rel);
		if (!path_exists(dir))
			continue;
		bool gone = false;
		for (int t = 0; t < 250 && !gone; t++) {
			if (walk_procs(dir, kill_list, SIGKILL) <= 0 && rmdir_tree(dir) == 0)
				gone = true;
			else {
				struct timespec ts = {0, 20 * 1000 * 1000};
				nanosleep(&ts, NULL);
			}
		}
		if (!gone)
			ret = -1;
	}
	return ret;
}

/* numproc as OpenVZ counts it: processes and threads (pids.current) */
long vz_cg_count_procs(const struct vz_cgroups *cg, const char *rel)
{
	for (size_t i = 0; i < cg->n; i++) {
		if (!has_ctrl(&cg->h[i], "pids") && !cg->h[i].v2)
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s/pids.current", cg->h[i].mnt, rel);
		_cleanup_free_ char *v = read_file(p, NULL);
		if (v)
			return atol(v);
	}
	for (size_t i = 0; i < cg->n; i++) {
		_cleanup_free_ char *dir = xasprintf("%s/%s", cg->h[i].mnt, rel);
		long n = walk_procs(dir, count_lines, 0);
		if (n >= 0)
			return n;
	}
	return -1;
}

/* Freezes (or thaws) every task of the CT's cgroup and waits until the
 * kernel says they are: v1's freezer, or v2's cgroup.freeze. */
char *vz_cg_freezer_dir(const struct vz_cgroups *cg, const char *rel)
{
	/* a v1 freezer first: on hybrid hosts that is what freezes tasks */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < cg->n; i++)
			if (pass == 0 ? !cg->h[i].v2 && vz_cg_has(&cg->h[i], "freezer")
				      : cg->h[i].v2)
				return xasprintf("%s/%s", cg->h[i].mnt, rel);
	return NULL;
}

bool vz_cg_frozen(const struct vz_cgroups *cg, const char *rel)
{
	_cleanup_free_ char *dir = vz_cg_freezer_dir(cg, rel);
	if (!dir)
		return false;
	_cleanup_free_ char *v1 = xasprintf("%s/freezer.state", dir);
	_cleanup_free_ char *v2 = xasprintf("%s/cgroup.freeze", dir);
	_cleanup_free_ char *s = read_file(v1, NULL);
	if (s)
		return strncmp(s, "THAWED", 6) != 0;
	_cleanup_free_ char *f = read_file(v2, NULL);
	return f && f[0] == '1';
}

int vz_cg_freeze(const struct vz_cgroups *cg, const char *rel, bool freeze, vz_error *err)
{
	for (size_t i = 0; i < cg->n; i++) {
		const struct vz_cg_hier *h = &cg->h[i];
		bool v1 = !h->v2 && vz_cg_has(h, "freezer");
		_cleanup_free_ char *dir = xasprintf("%s/%s", h->mnt, rel);
		_cleanup_free_ char *ctl = xasprintf("%s/%s", dir, v1 ? "freezer.state" : "cgroup.freeze");
		if ((!v1 && !h->v2) || access(ctl, W_OK) < 0)
			continue;
		const char *want = v1 ? (freeze ? "FROZEN" : "THAWED") : (freeze ? "1" : "0");
		if (write_file(ctl, want, strlen(want), 0) < 0)
			return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot write %s", ctl);
		_cleanup_free_ char *ev = xasprintf("%s/cgroup.events", dir);
		/* a few tasks freeze within a millisecond or so: short steps
		 * first (a migration's frozen window waits on this), then 10 ms */
		for (long t = 0, waited = 0; waited < 10000000000L; t++) { /* up to 10 s */
			_cleanup_free_ char *st = read_file(v1 ? ctl : ev, NULL);
			if (st && (v1 ? !strncmp(st, want, strlen(want))
				      : (strstr(st, freeze ? "frozen 1" : "frozen 0") != NULL)))
				return 0;
			struct timespec ts = {0, t < 20 ? 500 * 1000 : 10 * 1000 * 1000};
			nanosleep(&ts, NULL);
			waited += ts.tv_nsec;
		}
		return vz_err(err, VZ_E_SYSTEM, "%s did not become %s", dir, want);
	}
	return vz_err(err, VZ_E_SYSTEM, "no freezer for %s (v1 freezer or v2 cgroup.freeze)", rel);
}

int vz_ct_cg_freeze(const vz_ctx *ctx, unsigned ctid, bool freeze, vz_error *err)
{
	struct vz_cgroups cg;
	int r = vz_cg_detect(&cg, err);
	if (r)
		return r;
	_cleanup_free_ char *rel = vz_cg_rel(ctx, ctid);
	r = vz_cg_freeze(&cg, rel, freeze, err);
	vz_cg_free(&cg);
	return r;
}

/* criu's --freeze-cgroup for the CT into a (none without a freezer) */
void vz_ct_freeze_arg(const vz_ctx *ctx, unsigned ctid, struct vz_argv *a)
{
	struct vz_cgroups cg;
	vz_error e;
	if (vz_cg_detect(&cg, &e))
		return;
	_cleanup_free_ char *rel = vz_cg_rel(ctx, ctid);
	_cleanup_free_ char *fz = vz_cg_freezer_dir(&cg, rel);
	if (fz) {
		vz_argv_add(a, "--freeze-cgroup");
		vz_argv_add(a, "%s", fz);
	}
	vz_cg_free(&cg);
}
