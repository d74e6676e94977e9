/* Snapshots of a CT's files, as vzctl snapshot* did for ploop: a copy of
 * what the CT itself holds (its image, or its overlay upper layer; the
 * template layer is shared and never changes under it) kept in
 * PRIVATE/snapshots/UUID with a small description. A running CT is frozen
 * (its cgroup, and an image's file system) while the copy is taken, so the
 * snapshot is consistent. Switching builds the CT's files from a copy of
 * the snapshot aside and swaps them in with one rename. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"

/* What of a private area is the CT's own: moved by switch, copied by
 * snapshot. Everything else (snapshots/, mnt/) stays. */
static const char *const own[] = {"root.img", "upper.img", "fs", ".layer"};

static bool uuid_ok(const char *u)
{
	if (!u || strlen(u) != 36)
		return false;
	for (int i = 0; i < 36; i++)
		if ((i == 8 || i == 13 || i == 18 || i == 23) ? u[i] != '-' : !strchr("0123456789abcdef", u[i]))
			return false;
	return true;
}

static char *snapdir(const struct vz_ct *ct, const char *uuid)
{
	return uuid ? xasprintf("%s/snapshots/%s", ct->private_dir, uuid)
		    : xasprintf("%s/snapshots", ct->private_dir);
}

/* Copies the CT's own files from area a into b (an existing directory). */
static int copy_own(const char *a, const char *b, vz_error *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(own); i++) {
		_cleanup_free_ char *s = xasprintf("%s/%s", a, own[i]);
		_cleanup_free_ char *d = xasprintf("%s/%s", b, own[i]);
		struct stat st;
		if (lstat(s, &st) < 0)
			continue;
		int r;
		if (S_ISDIR(st.st_mode))
			r = mkdir(d, st.st_mode & 07777) < 0
				    ? vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot create %s", d)
				    : vz_tree_copy(s, d, err);
		else if (!strcmp(own[i], ".layer"))
			r = copy_file(s, d, 0644) < 0
				    ? vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot copy %s", s)
				    : 0;
		else
			r = vz_image_copy(s, d, err);
		if (r)
			return r;
	}
	return 0;
}

/* RUN/CTID.frozen names the vzctl holding the CT frozen: one killed while
 * it did leaves the mark, and the next vzctl on the CT thaws it. */
static char *frozen_mark(vz_ctx *ctx, unsigned ctid)
{
	return xasprintf("%s/%u.frozen", ctx->run_dir, ctid);
}

void vz_ct_thaw_stale(vz_ctx *ctx, struct vz_ct *ct)
{
	_cleanup_free_ char *mark = frozen_mark(ctx, ct->ctid);
	_cleanup_free_ char *who = read_file(mark, NULL);
	if (!who)
		return;
	pid_t pid = (pid_t)atoi(who);
	if (pid > 0 && kill(pid, 0) == 0)
		return; /* still at work */
	struct vz_cgroups cg;
	vz_error e;
	_cleanup_free_ char *rel = vz_cg_rel(ctx, ct->ctid);
	_cleanup_free_ char *mnt = vz_storage_backing_mnt(ct);
	if (is_mountpoint(mnt))
		(void)vz_image_fsfreeze(mnt, false);
	if (vz_cg_detect(&cg, &e) == 0) {
		(void)vz_cg_freeze(&cg, rel, false, &e);
		vz_cg_free(&cg);
	}
	(void)unlink(mark);
	vz_log(ctx, ct->ctid, VZ_LOG_WARN, "CT %u was left frozen by vzctl %d; thawed", ct->ctid,
	       (int)pid);
}

static int take(vz_ctx *ctx, struct vz_ct *ct, const char *dir, bool running, vz_error *err)
{
	struct vz_cgroups cg = {0};
	_cleanup_free_ char *rel = vz_cg_rel(ctx, ct->ctid);
	_cleanup_free_ char *mnt = vz_storage_backing_mnt(ct);
	bool frozen = false, fsfrozen = false;
	int r = 0;
	vz_error e;
	_cleanup_free_ char *mark = frozen_mark(ctx, ct->ctid);
	if (running) {
		char pid[16];
		int pn = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
		if ((r = vz_cg_detect(&cg, err)))
			goto out;
		if (write_file(mark, pid, (size_t)pn, O_CREAT | O_TRUNC) < 0) {
			r = vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot write %s", mark);
			goto out;
		}
		if ((r = vz_cg_freeze(&cg, rel, true, err)))
			goto out;
		frozen = true;
		/* written down before it is copied: the frozen CT writes nothing more */
		int fd = open(ct->root_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			(void)syncfs(fd);
			close(fd);
		}
		if (is_mountpoint(mnt)) {
			if (vz_image_fsfreeze(mnt, true) < 0) {
				r = vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot freeze %s", mnt);
				goto out;
			}
			fsfrozen = true;
		}
	}
	r = copy_own(ct->private_dir, dir, err);
out:
	if (fsfrozen)
		(void)vz_image_fsfreeze(mnt, false);
	if (running && vz_cg_freeze(&cg, rel, false, &e) && !r && frozen)
		r = vz_err(err, e.code, "%s", e.msg);
	(void)unlink(mark);
	if (cg.h)
		vz_cg_free(&cg);
	return r;
}

struct taking {
	const char *name;
	char *uuid_out;
	size_t n;
};

static int snapshot_op(vz_ctx *ctx, struct vz_ct *ct, void *arg, vz_error *err)
{
	const struct taking *t = arg;
	char uuid[64] = "";
	_cleanup_free_ char *u = read_file("/proc/sys/kernel/random/uuid", NULL);
	if (u)
		snprintf(uuid, sizeof(uuid), "%.36s", u);
	if (!uuid_ok(uuid))
		return vz_err(err, VZ_E_SYSTEM, "cannot make a snapshot id");
	if (!path_exists(ct->private_dir))
		return vz_err(err, VZ_E_NOPRIVATE, "CT %u: private area %s does not exist",
			      ct->ctid, ct->private_dir);
	_cleanup_free_ char *top = snapdir(ct, NULL);
	_cleanup_free_ char *dir = snapdir(ct, uuid);
	_cleanup_free_ char *tmp = xasprintf("%s/.new-%s", top, uuid);
	struct vz_state st;
	bool running = vz_state_read(ctx, ct->ctid, &st) == 1;
	vz_ct_thaw_stale(ctx, ct);
	int r = 0;
	if (mkdir_p(tmp, 0700) < 0) {
		r = vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot create %s", tmp);
	} else if (!(r = take(ctx, ct, tmp, running, err))) {
		char meta[512];
		int m = snprintf(meta, sizeof(meta),
				 "UUID=\"%s\"\nNAME=\"%s\"\nDATE=\"%lld\"\nRUNNING=\"%s\"\n", uuid,
				 t->name ? t->name : "", (long long)time(NULL), running ? "yes" : "no");
		_cleanup_free_ char *mp = xasprintf("%s/snapshot.conf", tmp);
		if (write_file(mp, meta, (size_t)m, O_CREAT | O_TRUNC) < 0 || rename(tmp, dir) < 0)
			r = vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot store snapshot %s", uuid);
	}
	if (r)
		(void)rm_rf(tmp);
	else
		snprintf(t->uuid_out, t->n, "%s", uuid);
	return r;
}

int vz_ct_snapshot(vz_ctx *ctx, unsigned ctid, const char *name, char *uuid_out, size_t n,
		   vz_error *err)
{
	if (name && (!vz_conf_value_ok(name) || strlen(name) > 127))
		return vz_err(err, VZ_E_BADVALUE, "CT %u: bad snapshot name", ctid);
	struct taking t = {name, uuid_out, n};
	return vz_ct_locked_guarded(ctx, ctid, "snapshot", snapshot_op, &t, err);
}

/* Calls fn with each snapshot of the CT: its directory name (the UUID)
 * and its snapshot.conf. */
static void each_snapshot(const struct vz_ct *ct,
			  void (*fn)(const char *uuid, const struct vz_conf *m, void *data),
			  void *data)
{
	_cleanup_free_ char *top = snapdir(ct, NULL);
	DIR *d = opendir(top);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (!uuid_ok(e->d_name))
			continue;
		_cleanup_free_ char *mp = xasprintf("%s/%s/snapshot.conf", top, e->d_name);
		struct vz_conf m = {0};
		vz_error ce;
		if (vz_conf_load(&m, mp, &ce))
			continue;
		fn(e->d_name, &m, data);
		vz_conf_free(&m);
	}
	if (d)
		closedir(d);
}

struct listing {
	struct vz_snapshot *list;
	size_t n, cap;
};

static void add_to_list(const char *uuid, const struct vz_conf *m, void *data)
{
	struct listing *l = data;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		struct vz_snapshot *nl = realloc(l->list, l->cap * sizeof(*nl));
		if (!nl)
			abort();
		l->list = nl;
	}
	struct vz_snapshot *s = &l->list[l->n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->uuid, sizeof(s->uuid), "%.36s", uuid);
	const char *v = vz_conf_get(m, "NAME");
	snprintf(s->name, sizeof(s->name), "%s", v ? v : "");
	v = vz_conf_get(m, "DATE");
	s->date = v ? (time_t)strtoll(v, NULL, 10) : 0;
	v = vz_conf_get(m, "RUNNING");
	s->running = v && !strcmp(v, "yes");
}

static int by_date(const void *a, const void *b)
{
	const struct vz_snapshot *x = a, *y = b;
	return x->date < y->date ? -1 : x->date > y->date;
}

int vz_ct_snapshot_list(vz_ctx *ctx, unsigned ctid, struct vz_snapshot **list, size_t *n,
			vz_error *err)
{
	struct vz_ct ct;
	struct listing l = {0};
	*list = NULL;
	*n = 0;
	int r = vz_ct_load(ctx, ctid, &ct, err);
	if (r)
		return r;
	each_snapshot(&ct, add_to_list, &l);
	if (l.n)
		qsort(l.list, l.n, sizeof(*l.list), by_date);
	*list = l.list;
	*n = l.n;
	vz_ct_free(&ct);
	return 0;
}

struct named {
	const char *name;
	char *uuid;
	size_t n;
	int found;
};

static void match_name(const char *uuid, const struct vz_conf *m, void *data)
{
	struct named *q = data;
	const char *nm = vz_conf_get(m, "NAME");
	if (nm && *nm && !strcmp(nm, q->name)) {
		snprintf(q->uuid, q->n, "%s", uuid);
		q->found++;
	}
}

/* id: a UUID, or the name given at snapshot time */
static int find(const struct vz_ct *ct, const char *id, char *uuid, size_t n, vz_error *err)
{
	if (uuid_ok(id)) {
		_cleanup_free_ char *d = snapdir(ct, id);
		if (path_exists(d)) {
			snprintf(uuid, n, "%s", id);
			return 0;
		}
	}
	struct named q = {id, uuid, n, 0};
	each_snapshot(ct, match_name, &q);
	if (q.found == 1)
		return 0;
	if (q.found)
		return vz_err(err, VZ_E_BADVALUE, "CT %u: %d snapshots are named %.64s: use the id",
			      ct->ctid, q.found, id);
	return vz_err(err, VZ_E_BADVALUE, "CT %u has no snapshot %.64s", ct->ctid, id);
}

static int delete_op(vz_ctx *ctx, struct vz_ct *ct, void *arg, vz_error *err)
{
	(void)ctx;
	const char *id = arg;
	char uuid[64];
	if (!id)
		return vz_err(err, VZ_E_NOTENOUGH, "CT %u: which snapshot? (--id)", ct->ctid);
	int r = find(ct, id, uuid, sizeof(uuid), err);
	if (r)
		return r;
	_cleanup_free_ char *dir = snapdir(ct, uuid);
	_cleanup_free_ char *gone = xasprintf("%s/../.gone-%s", dir, uuid);
	if (rename(dir, gone) < 0 || rm_rf(gone) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot remove snapshot %s", uuid);
	return 0;
}

int vz_ct_snapshot_delete(vz_ctx *ctx, unsigned ctid, const char *id, vz_error *err)
{
	return vz_ct_locked_guarded(ctx, ctid, "snapshot-delete", delete_op, (void *)id, err);
}

/* PRIVATE.new gets the snapshot's files and the area's other contents
 * (snapshots, mnt), then takes the area's place in one rename. */
static int switch_to(struct vz_ct *ct, const char *uuid, vz_error *err)
{
	_cleanup_free_ char *snap = snapdir(ct, uuid);
	_cleanup_free_ char *neu = xasprintf("%s.new", ct->private_dir);
	_cleanup_free_ char *old = xasprintf("%s.old", ct->private_dir);
	_cleanup_free_ char *nsnaps = xasprintf("%s/snapshots", neu);
	_cleanup_free_ char *osnaps = snapdir(ct, NULL);
	(void)rm_rf(neu);
	(void)rm_rf(old);
	if (mkdir(neu, 0700) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot create %s", neu);
	int r = copy_own(snap, neu, err);
	if (!r) {
		_cleanup_free_ char *w = xasprintf("%s/work", neu);
		_cleanup_free_ char *fs = xasprintf("%s/fs", neu);
		if (path_exists(fs) && mkdir(w, 0700) < 0)
			r = vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot create %s", w);
	}
	/* the snapshots move along: an exchange, then the old area goes */
	if (!r && rename(osnaps, nsnaps) < 0)
		r = vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot move %s", osnaps);
	if (!r && renameat2(AT_FDCWD, neu, AT_FDCWD, ct->private_dir, RENAME_EXCHANGE) < 0) {
		r = vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot swap in %s", neu);
		(void)rename(nsnaps, osnaps);
	}
	if (r) {
		(void)rm_rf(neu);
		return r;
	}
	(void)rm_rf(neu); /* the old area, now under the .new name */
	return 0;
}

int vz_ct_snapshot_switch(vz_ctx *ctx, unsigned ctid, const char *id, vz_error *err)
{
	struct vz_ct ct;
	struct vz_state st;
	char uuid[64];
	int lfd, r = vz_ct_load(ctx, ctid, &ct, err);
	if (r)
		return r;
	if (!id)
		r = vz_err(err, VZ_E_NOTENOUGH, "CT %u: which snapshot? (--id)", ctid);
	else
		r = find(&ct, id, uuid, sizeof(uuid), err);
	bool was_running = !r && vz_state_read(ctx, ctid, &st) == 1;
	/* the CT's files change under it: it is stopped and started again */
	if (!r && was_running)
		r = vz_ct_stop(ctx, ctid, 0, err);
	if (!r && !(r = vz_lock_ct(ctx, ctid, "snapshot-switch", &lfd, err))) {
		if (is_mountpoint(ct.root_dir))
			r = vz_err(err, VZ_E_MOUNTED, "CT %u is mounted; umount it first", ctid);
		else
			r = switch_to(&ct, uuid, err);
		vz_unlock(lfd);
	}
	vz_ct_free(&ct);
	if (!r)
		vz_log(ctx, ctid, VZ_LOG_INFO, "CT %u switched to snapshot %s", ctid, uuid);
	if (was_running) {
		vz_error e;
		int s = vz_ct_start(ctx, ctid, 0, r ? &e : err);
		if (!r)
			r = s;
	}
	return r;
}
