/* User namespace id ranges. Each CT's root maps to VZ_IDMAP_SIZE host ids
 * of its own, taken from a block that /etc/subuid and /etc/subgid register
 * to root (as Incus does): useradd never hands those ids to a host user,
 * who could otherwise map them with newuidmap and own the CT's files and
 * processes. Ranges are unique on the whole host, across every VZ_ROOT,
 * through a registry of one file per allocated base: the one vz state that
 * does not hang off VZ_ROOT, since ids are a host-wide resource. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "internal.h"

#define IDMAP_DIR_DEFAULT "/var/lib/vz/idmap"
/* The block vz registers to root when root has none: above what useradd
 * hands out (SUB_UID_MAX, 600100000 by default), below 2^32. */
#define ROOT_BLOCK_START 1000000000UL
#define ROOT_BLOCK_COUNT 1000000000UL
#define ID_LIMIT 0xffffffffUL

struct subid {
	char name[64];
	unsigned long start, count;
};
struct subids {
	struct subid *v;
	size_t n;
};

static const char *subid_file(bool gid)
{
	/* overridable for tests that must not touch the host's files */
	const char *e = getenv(gid ? "VZ_SUBGID_FILE" : "VZ_SUBUID_FILE");
	return e && *e ? e : gid ? "/etc/subgid" : "/etc/subuid";
}

char *vz_idmap_dir(const vz_ctx *ctx)
{
	const char *e = getenv("VZ_IDMAP_DIR");
	if (e && *e == '/')
		return xstrdup(e);
	const char *c = vz_conf_get(&ctx->global, "IDMAP_DIR");
	return xstrdup(c && *c == '/' ? c : IDMAP_DIR_DEFAULT);
}

static void subids_free(struct subids *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* name:start:count lines; others (comments, garbage) are skipped. */
static int subids_load(bool gid, struct subids *s)
{
	s->v = NULL;
	s->n = 0;
	_cleanup_free_ char *text = read_file(subid_file(gid), NULL);
	if (!text)
		return errno == ENOENT ? 0 : -1;
	size_t cap = 0;
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		struct subid x;
		char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL, *end;
		if (!c1 || !c2 || (size_t)(c1 - l) >= sizeof(x.name) || c1 == l)
			continue;
		snprintf(x.name, sizeof(x.name), "%.*s", (int)(c1 - l), l);
		errno = 0;
		x.start = strtoul(c1 + 1, &end, 10);
		if (end != c2 || errno)
			continue;
		x.count = strtoul(c2 + 1, &end, 10);
		if (*end || errno || x.count == 0 || x.start > ID_LIMIT || x.count > ID_LIMIT)
			continue;
		if (s->n == cap) {
			cap = cap ? cap * 2 : 16;
			struct subid *n = realloc(s->v, cap * sizeof(*n));
			if (!n)
				abort();
			s->v = n;
		}
		s->v[s->n++] = x;
	}
	return 0;
}

static bool is_root_name(const char *n)
{
	return !strcmp(n, "root") || !strcmp(n, "0");
}

static bool overlaps(unsigned long a, unsigned long an, unsigned long b, unsigned long bn)
{
	return a < b + bn && b < a + an;
}

/* The first entry of another user than root that overlaps the range. */
static const struct subid *other_user_in(const struct subids *s, unsigned long b,
					 unsigned long n)
{
	for (size_t i = 0; i < s->n; i++)
		if (!is_root_name(s->v[i].name) && overlaps(b, n, s->v[i].start, s->v[i].count))
			return &s->v[i];
	return NULL;
}

int vz_idmap_check(unsigned ctid, uid_t base, vz_error *err)
{
	if (base == 0)
		return 0;
	for (int g = 0; g < 2; g++) {
		struct subids s;
		if (subids_load(g, &s) < 0)
			return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot read %s", subid_file(g));
		const struct subid *o = other_user_in(&s, base, VZ_IDMAP_SIZE);
		int r = 0;
		if (o)
			r = vz_err(err, VZ_E_RESOURCE,
				   "CT %u: ids %u-%u overlap %s's subordinate ids in %s (%lu:%lu)",
				   ctid, (unsigned)base, (unsigned)(base + VZ_IDMAP_SIZE - 1), o->name,
				   subid_file(g), o->start, o->count);
		subids_free(&s);
		if (r)
			return r;
	}
	return 0;
}

static long login_defs_max(const char *key)
{
	_cleanup_free_ char *t = read_file("/etc/login.defs", NULL);
	long v = 600100000L;
	if (!t)
		return v;
	char *save = NULL;
	size_t kl = strlen(key);
	for (char *l = strtok_r(t, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		l += strspn(l, " \t");
		if (!strncmp(l, key, kl) && (l[kl] == ' ' || l[kl] == '\t')) {
			long x = strtol(l + kl, NULL, 10);
			if (x > v)
				v = x;
		}
	}
	return v;
}

/* shadow-utils' lock of a file (lckpwdf style: a pid file hard-linked to
 * FILE.lock), so that a useradd at the same time does not lose our line. */
static int shadow_lock(const char *file)
{
	_cleanup_free_ char *tmp = xasprintf("%s.%d", file, (int)getpid());
	_cleanup_free_ char *lck = xasprintf("%s.lock", file);
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%d", (int)getpid());
	for (int tries = 0; tries < 150; tries++) {
		(void)unlink(tmp);
		if (write_file(tmp, pid, (size_t)n, O_CREAT | O_EXCL) < 0)
			return -1;
		int r = link(tmp, lck);
		int e = errno;
		(void)unlink(tmp);
		if (r == 0)
			return 0;
		if (e != EEXIST)
			return -1;
		/* a holder that died leaves its lock: taken over */
		_cleanup_free_ char *o = read_file(lck, NULL);
		long op = o ? strtol(o, NULL, 10) : 0;
		if (op > 0 && kill((pid_t)op, 0) < 0 && errno == ESRCH) {
			(void)unlink(lck);
			continue;
		}
		usleep(100000);
	}
	errno = EBUSY;
	return -1;
}

static void shadow_unlock(const char *file)
{
	_cleanup_free_ char *lck = xasprintf("%s.lock", file);
	(void)unlink(lck);
}

/* Appends a line to /etc/subuid or /etc/subgid: a copy renamed into
 * place, with the file's mode, so that a reader never sees it half made. */
static int subid_write(const char *f, const char *line)
{
	struct stat st;
	mode_t mode = stat(f, &st) == 0 ? st.st_mode & 07777 : 0644;
	_cleanup_free_ char *old = read_file(f, NULL);
	if (!old && errno != ENOENT)
		return -1;
	size_t ol = old ? strlen(old) : 0;
	_cleanup_free_ char *text = xasprintf("%s%s%s", old ? old : "",
					      ol && old[ol - 1] != '\n' ? "\n" : "", line);
	_cleanup_free_ char *tmp = xasprintf("%s.vz-new.%d", f, (int)getpid());
	(void)unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	if (write_all(fd, text, strlen(text)) < 0 || fchmod(fd, mode) < 0 || fsync(fd) < 0 ||
	    close(fd) < 0 || rename(tmp, f) < 0) {
		int e = errno;
		(void)unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}

/* Appends a line to /etc/subuid or /etc/subgid: a copy renamed into
 * place, with the file's mode, so that a reader never sees it half made. */
static int subid_append(bool gid, const char *line)
{
	const char *f = subid_file(gid);
	if (shadow_lock(f) < 0)
		return -1;
	int r = subid_write(f, line);
	int e = errno;
	shadow_unlock(f);
	errno = e;
	return r;
}

/* Root's block in both files (the part the two have in common), made
 * when root has none. The caller holds the registry lock. */
static int root_block(unsigned long *start, unsigned long *count, vz_error *err)
{
	struct subids u, g;
	if (subids_load(false, &u) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot read %s", subid_file(false));
	if (subids_load(true, &g) < 0) {
		subids_free(&u);
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot read %s", subid_file(true));
	}
	int r = 1;
	for (size_t i = 0; i < u.n && r == 1; i++) {
		if (!is_root_name(u.v[i].name))
			continue;
		for (size_t j = 0; j < g.n && r == 1; j++) {
			if (!is_root_name(g.v[j].name))
				continue;
			unsigned long a = u.v[i].start > g.v[j].start ? u.v[i].start : g.v[j].start;
			unsigned long ue = u.v[i].start + u.v[i].count, ge = g.v[j].start + g.v[j].count;
			unsigned long b = ue < ge ? ue : ge;
			if (b > ID_LIMIT)
				b = ID_LIMIT;
			if (a == 0)
				a = 1; /* host root itself is never a CT's */
			if (b <= a || b - a < VZ_IDMAP_SIZE)
				continue;
			/* a root block that overlaps a user's ids would hand them out */
			const struct subid *o = other_user_in(&u, a, b - a);
			if (!o)
				o = other_user_in(&g, a, b - a);
			if (o) {
				r = vz_err(err, VZ_E_RESOURCE,
					   "root's subordinate ids %lu:%lu overlap %s's (%lu:%lu): "
					   "fix /etc/subuid and /etc/subgid",
					   a, b - a, o->name, o->start, o->count);
				break;
			}
			*start = a;
			*count = b - a;
			r = 0;
		}
	}
	if (r == 1) {
		/* none: a block above what useradd may ever hand out */
		unsigned long lo = ROOT_BLOCK_START;
		long m = login_defs_max("SUB_UID_MAX"), mg = login_defs_max("SUB_GID_MAX");
		if (mg > m)
			m = mg;
		if ((unsigned long)m + 1 > lo)
			lo = (unsigned long)m + 1;
		r = vz_err(err, VZ_E_RESOURCE,
			   "no free block of ids for root in /etc/subuid and /etc/subgid");
		for (unsigned long c = ROOT_BLOCK_COUNT; r && c >= 16 * VZ_IDMAP_SIZE; c /= 2)
			for (unsigned long s = lo; r && s + c <= ID_LIMIT; s += c) {
				bool busy = false;
				for (size_t i = 0; i < u.n && !busy; i++)
					busy = overlaps(s, c, u.v[i].start, u.v[i].count);
				for (size_t i = 0; i < g.n && !busy; i++)
					busy = overlaps(s, c, g.v[i].start, g.v[i].count);
				if (busy)
					continue;
				_cleanup_free_ char *line = xasprintf("root:%lu:%lu\n", s, c);
				if (subid_append(false, line) < 0 || subid_append(true, line) < 0) {
					r = vz_err_errno(err, VZ_E_SYSTEM, errno,
							 "cannot register ids %lu:%lu to root in %s "
							 "and %s", s, c, subid_file(false),
							 subid_file(true));
					break;
				}
				*start = s;
				*count = c;
				r = 0;
			}
	}
	subids_free(&u);
	subids_free(&g);
	return r;
}

/* ---- the host-wide registry: DIR/BASE per allocated range ---- */

struct entry {
	char root[512];
	unsigned ctid;
	long pid;
	unsigned long long start;
};

static int entry_read(const char *path, struct entry *e)
{
	memset(e, 0, sizeof(*e));
	_cleanup_free_ char *t = read_file(path, NULL);
	if (!t)
		return -1;
	int got = 0;
	char *save = NULL;
	for (char *l = strtok_r(t, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(l, "ROOT=", 5)) {
			snprintf(e->root, sizeof(e->root), "%s", l + 5);
			got |= 1;
		} else if (!strncmp(l, "CTID=", 5)) {
			e->ctid = (unsigned)strtoul(l + 5, NULL, 10);
			got |= 2;
		} else if (!strncmp(l, "PID=", 4)) {
			e->pid = strtol(l + 4, NULL, 10);
		} else if (!strncmp(l, "START=", 6)) {
			e->start = strtoull(l + 6, NULL, 10);
		}
	}
	return got == 3 ? 0 : -1;
}

/* An entry holds its range while its CT's config names that range, or
 * while the process that made it (a create, a migration's receiver) runs.
 * Else its CT was destroyed by hand or its root removed (rm -rf). */
static bool entry_live(const char *path, unsigned long base)
{
	struct entry e;
	if (entry_read(path, &e) < 0)
		return true; /* not ours to judge: kept */
	_cleanup_free_ char *conf = xasprintf("%s/etc/vz/conf/%u.conf", e.root, e.ctid);
	struct vz_conf c;
	if (vz_conf_load(&c, conf, NULL) == 0) {
		const char *u = vz_conf_get(&c, "LOCAL_UID");
		bool same = u && strtoul(u, NULL, 10) == base;
		vz_conf_free(&c);
		if (same)
			return true;
	}
	return e.pid > 0 && e.start && proc_starttime((pid_t)e.pid) == e.start;
}

static int registry_lock(const char *dir, int *fd, vz_error *err)
{
	if (mkdir_p(dir, 0700) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot create %s", dir);
	_cleanup_free_ char *p = xasprintf("%s/.lock", dir);
	*fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*fd < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot open %s", p);
	while (flock(*fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			int e = errno;
			close(*fd);
			*fd = -1;
			return vz_err_errno(err, VZ_E_SYSTEM, e, "cannot lock %s", p);
		}
	return 0;
}

struct used {
	unsigned long *v;
	size_t n, cap;
};

static void used_add(struct used *u, unsigned long b)
{
	if (u->n == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 64;
		unsigned long *n = realloc(u->v, u->cap * sizeof(*n));
		if (!n)
			abort();
		u->v = n;
	}
	u->v[u->n++] = b;
}

/* Ranges of this root's CTs from their configs: those made before the
 * registry existed (LOCAL_UID=100000 and on) still count. */
static void used_in_root(vz_ctx *ctx, unsigned ctid, struct used *u)
{
	DIR *d = opendir(ctx->conf_dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		unsigned id;
		char tail[8];
		if (sscanf(e->d_name, "%u.con%7s", &id, tail) != 2 || strcmp(tail, "f") ||
		    id == ctid)
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s", ctx->conf_dir, e->d_name);
		struct vz_conf c;
		if (vz_conf_load(&c, p, NULL))
			continue;
		const char *v = vz_conf_get(&c, "LOCAL_UID");
		if (v && strtoul(v, NULL, 10) > 0)
			used_add(u, strtoul(v, NULL, 10));
		vz_conf_free(&c);
	}
	closedir(d);
}

/* Registered ranges; stale entries are removed on the way. */
static void used_in_registry(const char *dir, struct used *u)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		char *end;
		errno = 0;
		unsigned long b = strtoul(e->d_name, &end, 10);
		if (*end || errno || e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, e->d_name);
		if (entry_live(p, b))
			used_add(u, b);
		else
			(void)unlink(p);
	}
	closedir(d);
}

/* The entry made in one step (a full file linked into place): whoever
 * reads it sees all of it. 1 when that base was taken meanwhile. */
static int entry_write(const char *dir, unsigned long base, vz_ctx *ctx, unsigned ctid)
{
	_cleanup_free_ char *tmp = xasprintf("%s/.new.%d", dir, (int)getpid());
	_cleanup_free_ char *p = xasprintf("%s/%lu", dir, base);
	_cleanup_free_ char *text =
		xasprintf("ROOT=%s\nCTID=%u\nPID=%d\nSTART=%llu\n", ctx->root, ctid, (int)getpid(),
			  proc_starttime(getpid()));
	(void)unlink(tmp);
	if (write_file(tmp, text, strlen(text), O_CREAT | O_EXCL) < 0)
		return -1;
	int r = link(tmp, p);
	int e = errno;
	(void)unlink(tmp);
	if (r < 0 && e == EEXIST)
		return 1;
	errno = e;
	return r;
}

int vz_idmap_alloc_range(vz_ctx *ctx, unsigned ctid, uid_t *base, vz_error *err)
{
	_cleanup_free_ char *dir = vz_idmap_dir(ctx);
	int lfd = -1, r;
	if ((r = registry_lock(dir, &lfd, err)))
		return r;
	unsigned long start = 0, count = 0;
	struct used u = {0};
	if ((r = root_block(&start, &count, err)))
		goto out;
	used_in_registry(dir, &u);
	used_in_root(ctx, ctid, &u);
	r = vz_err(err, VZ_E_RESOURCE, "CT %u: no free user id range left in root's %lu:%lu", ctid,
		   start, count);
	for (unsigned long c = start; c + VZ_IDMAP_SIZE <= start + count; c += VZ_IDMAP_SIZE) {
		bool clash = false;
		for (size_t i = 0; i < u.n && !clash; i++)
			clash = overlaps(c, VZ_IDMAP_SIZE, u.v[i], VZ_IDMAP_SIZE);
		if (clash)
			continue;
		int w = entry_write(dir, c, ctx, ctid);
		if (w == 1)
			continue;
		if (w < 0) {
			r = vz_err_errno(err, VZ_E_SYSTEM, errno, "CT %u: cannot register ids in %s",
					 ctid, dir);
			break;
		}
		*base = (uid_t)c;
		r = 0;
		break;
	}
out:
	free(u.v);
	close(lfd);
	return r;
}

int vz_idmap_alloc(vz_ctx *ctx, unsigned ctid, uid_t *base, vz_error *err)
{
	const char *b = vz_conf_get(&ctx->global, "LOCAL_UID");
	if (b && !strcmp(b, "0")) {
		*base = 0; /* the host asks for privileged CTs */
		return 0;
	}
	return vz_idmap_alloc_range(ctx, ctid, base, err);
}

/* Frees what the registry holds for this root's CT: its range, and any
 * other it held (a LOCAL_UID changed by hand leaves one behind). */
void vz_idmap_free(vz_ctx *ctx, unsigned ctid, uid_t base)
{
	(void)base;
	_cleanup_free_ char *dir = vz_idmap_dir(ctx);
	vz_error e;
	int lfd = -1;
	if (!path_exists(dir) || registry_lock(dir, &lfd, &e))
		return;
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, de->d_name);
		struct entry en;
		if (entry_read(p, &en) == 0 && en.ctid == ctid && !strcmp(en.root, ctx->root))
			(void)unlink(p);
	}
	if (d)
		closedir(d);
	close(lfd);
}

int vz_write_idmaps(pid_t pid, uid_t uid_base, gid_t gid_base, vz_error *err)
{
	char path[64], map[64];
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	snprintf(map, sizeof(map), "0 %u %u\n", (unsigned)uid_base, VZ_IDMAP_SIZE);
	if (write_str(path, map) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot write %s", path);
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	snprintf(map, sizeof(map), "0 %u %u\n", (unsigned)gid_base, VZ_IDMAP_SIZE);
	if (write_str(path, map) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot write %s", path);
	return 0;
}
