/* The template cache as vztmpl manages it: list, build or refresh, remove,
 * import. A template is known by its definition, its cache tarball, its
 * unpacked layer, or any of these; CTs use the layer. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "internal.h"

void vz_ctx_set_progress(vz_ctx *ctx, void (*fn)(const char *line, void *data), void *data)
{
	ctx->progress = fn;
	ctx->progress_data = data;
}

/* CTs of this root made from the template: how many, their ids in ids */
static unsigned users_of(vz_ctx *ctx, const char *name, char *ids, size_t idsz)
{
	unsigned *all = NULL;
	size_t n = 0;
	vz_error e;
	unsigned users = 0;
	if (ids && idsz)
		ids[0] = '\0';
	if (vz_list_ids(ctx, &all, &n, &e))
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct vz_ct ct;
		if (vz_ct_load(ctx, all[i], &ct, &e))
			continue;
		const char *t = vz_conf_get(&ct.conf, "OSTEMPLATE");
		if (t && !strcmp(t, name)) {
			users++;
			size_t l = ids ? strlen(ids) : 0;
			if (ids && l + 12 < idsz)
				snprintf(ids + l, idsz - l, "%s%u", l ? " " : "", all[i]);
		}
		vz_ct_free(&ct);
	}
	free(all);
	return users;
}

unsigned vz_template_version_users(vz_ctx *ctx, const char *version)
{
	unsigned *all = NULL;
	size_t n = 0;
	vz_error e;
	unsigned users = 0;
	if (vz_list_ids(ctx, &all, &n, &e))
		return 1; /* cannot tell: keep it */
	for (size_t i = 0; i < n; i++) {
		struct vz_ct ct;
		if (vz_ct_load(ctx, all[i], &ct, &e))
			continue;
		_cleanup_free_ char *l = vz_storage_is_image(&ct) ? NULL : vz_storage_layer(ctx, &ct);
		const char *b = l ? strrchr(l, '/') : NULL;
		if (b && !strcmp(b + 1, version))
			users++;
		vz_ct_free(&ct);
	}
	free(all);
	return users;
}

int vz_template_build(vz_ctx *ctx, const char *name, int flags, vz_error *err)
{
	if (!vz_template_name_ok(name))
		return vz_err(err, VZ_E_BADVALUE, "invalid OS template name %.64s", name);
	if (!vz_template_defined(ctx, name))
		return vz_err(err, VZ_E_NOTEMPLATE,
			      "OS template %s has no definition in %s/templates", name,
			      ctx->etc_dir);
	int lfd;
	int r = vz_lock_global(ctx, "template", &lfd, err);
	if (r)
		return r;
	_cleanup_free_ char *cache = vz_template_cache(ctx, name);
	/* a rebuild is a new version of the layer: CTs keep theirs */
	if (cache && !(flags & VZ_TMPL_FORCE))
		r = vz_err(err, VZ_E_TMPLEXISTS,
			   "OS template %s is cached already (%s); --force rebuilds it", name,
			   cache);
	else
		r = vz_template_build_locked(ctx, name, err);
	vz_unlock(lfd);
	return r;
}

int vz_template_remove(vz_ctx *ctx, const char *name, vz_error *err)
{
	if (!vz_template_name_ok(name))
		return vz_err(err, VZ_E_BADVALUE, "invalid OS template name %.64s", name);
	int lfd;
	int r = vz_lock_global(ctx, "template", &lfd, err);
	if (r)
		return r;
	_cleanup_free_ char *cache = vz_template_cache(ctx, name);
	_cleanup_free_ char *layer = xasprintf("%s/layers/%s", ctx->template_dir, name);
	_cleanup_free_ char *gone = xasprintf("%s/layers/.build-%s-removed@%d",
					      ctx->template_dir, name, (int)getpid());
	char ids[256];
	struct stat st;
	bool layered = lstat(layer, &st) == 0;
	if (!cache && !layered)
		r = vz_err(err, VZ_E_NOTEMPLATE, "OS template %s is not cached", name);
	else if (users_of(ctx, name, ids, sizeof(ids)))
		r = vz_err(err, VZ_E_TMPLBUSY,
			   "OS template %s is the base of CTs %s; destroy them first", name, ids);
	else if (cache && unlink(cache) < 0)
		r = vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot remove %s", cache);
	/* the layer goes out of sight in one rename (a symlink or, made
	 * before versions, a directory), then away, then every version */
	else if (layered && (rename(layer, gone) < 0 || rm_rf(gone) < 0))
		r = vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot remove %s", layer);
	if (!r)
		vz_template_gc(ctx, name);
	vz_unlock(lfd);
	return r;
}

int vz_template_import(vz_ctx *ctx, const char *file, const char *as, int flags,
		       vz_error *err)
{
	_cleanup_free_ char *derived = vz_template_name_of(file);
	const char *name = as && *as ? as : derived;
	if (!derived)
		return vz_err(err, VZ_E_BADVALUE,
			      "%s: not a template cache (want NAME.tar.gz, .tar.xz, .tar.zst, "
			      ".tar.lz4 or .tar)", file);
	if (!vz_template_name_ok(name))
		return vz_err(err, VZ_E_BADVALUE, "invalid OS template name %.64s", name);
	struct stat st;
	if (stat(file, &st) < 0 || !S_ISREG(st.st_mode))
		return vz_err_errno(err, VZ_E_NOTEMPLATE, errno ? errno : EINVAL,
				    "cannot read %s", file);
	const char *base = strrchr(file, '/');
	const char *suffix = (base ? base + 1 : file) + strlen(derived); /* ".tar.gz" */
	int lfd;
	int r = vz_lock_global(ctx, "template", &lfd, err);
	if (r)
		return r;
	_cleanup_free_ char *old = vz_template_cache(ctx, name);
	_cleanup_free_ char *cdir = xasprintf("%s/cache", ctx->template_dir);
	_cleanup_free_ char *ldir = xasprintf("%s/layers", ctx->template_dir);
	_cleanup_free_ char *tmp = xasprintf("%s/.build-%s-import@%d", ldir, name, (int)getpid());
	_cleanup_free_ char *dst = xasprintf("%s/%s%s", cdir, name, suffix);
	_cleanup_free_ char *dtmp = xasprintf("%s/.%s%s.tmp-%d", cdir, name, suffix, (int)getpid());
	_cleanup_free_ char *root = xasprintf("%s/root", tmp);
	if (old && !(flags & VZ_TMPL_FORCE)) {
		r = vz_err(err, VZ_E_TMPLEXISTS,
			   "OS template %s is cached already (%s); --force replaces it", name, old);
		goto out;
	}
	if (mkdir_p(cdir, 0755) < 0 || mkdir_p(ldir, 0700) < 0 || mkdir_p(root, 0755) < 0) {
		r = vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot create %s", tmp);
		goto out;
	}
	/* the whole tarball is unpacked before anything is kept: a broken
	 * or truncated one fails here and leaves no trace */
	vz_progress(ctx, "Importing OS template %s from %s", name, file);
	if ((r = vz_template_unpack(file, root, err)))
		goto out;
	if (copy_file(file, dtmp, 0644) < 0) {
		r = vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot copy %s", file);
		goto out;
	}
	int fd = open(dtmp, O_RDONLY | O_CLOEXEC);
	bool synced = fd >= 0 && fsync(fd) == 0;
	if (fd >= 0)
		close(fd);
	if (!synced || (old && strcmp(old, dst) && unlink(old) < 0) || rename(dtmp, dst) < 0) {
		r = vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot store OS template %s", name);
		goto out;
	}
	if ((r = vz_template_install_layer(ctx, name, root, NULL, err)))
		goto out;
	vz_log(ctx, 0, VZ_LOG_INFO, "OS template %s imported", name);
out:
	(void)unlink(dtmp);
	(void)rm_rf(tmp);
	vz_unlock(lfd);
	return r;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct vz_tmpl_info *)a)->name,
		      ((const struct vz_tmpl_info *)b)->name);
}

static struct vz_tmpl_info *entry(struct vz_tmpl_info **list, size_t *n, size_t *cap,
				  const char *name)
{
	if (!vz_template_name_ok(name) || strlen(name) >= sizeof((*list)->name))
		return NULL;
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*list)[i].name, name))
			return &(*list)[i];
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		struct vz_tmpl_info *nl = realloc(*list, *cap * sizeof(**list));
		if (!nl)
			abort();
		*list = nl;
	}
	struct vz_tmpl_info *t = &(*list)[(*n)++];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	return t;
}

/* Names in dir: those ending in suffix (suffix cut), or any name when
 * suffix is NULL (a cache tarball's extension is cut instead). */
static void scan(const char *dir, const char *suffix, int what, struct vz_tmpl_info **list,
		 size_t *n, size_t *cap)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		_cleanup_free_ char *nm = NULL;
		size_t l = strlen(e->d_name);
		if (what == 0) {
			size_t k = strlen(suffix);
			if (l <= k || strcmp(e->d_name + l - k, suffix))
				continue;
			nm = strndup(e->d_name, l - k);
		} else if (what == 1) {
			nm = vz_template_name_of(e->d_name);
		} else if (!strchr(e->d_name, '@')) { /* versions are not names */
			nm = xstrdup(e->d_name);
		}
		struct vz_tmpl_info *t = nm ? entry(list, n, cap, nm) : NULL;
		if (!t)
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, e->d_name);
		struct stat st;
		if (what == 0) {
			t->defined = true;
		} else if (what == 1 && stat(p, &st) == 0) {
			t->cached = true;
			t->size = st.st_size;
			t->mtime = st.st_mtime;
		} else if (what == 2) {
			t->unpacked = true;
		}
	}
	closedir(d);
}

int vz_template_list(vz_ctx *ctx, struct vz_tmpl_info **list, size_t *n, vz_error *err)
{
	(void)err;
	size_t cap = 0;
	*list = NULL;
	*n = 0;
	_cleanup_free_ char *defs = xasprintf("%s/templates", ctx->etc_dir);
	_cleanup_free_ char *cache = xasprintf("%s/cache", ctx->template_dir);
	_cleanup_free_ char *layers = xasprintf("%s/layers", ctx->template_dir);
	scan(defs, ".conf", 0, list, n, &cap);
	scan(cache, NULL, 1, list, n, &cap);
	scan(layers, NULL, 2, list, n, &cap);
	for (size_t i = 0; i < *n; i++)
		(*list)[i].users = users_of(ctx, (*list)[i].name, NULL, 0);
	if (*n)
		qsort(*list, *n, sizeof(**list), by_name);
	return 0;
}
