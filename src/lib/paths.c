/* The context: one root under which every path of this vz instance lives. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include "internal.h"
#include "vzconf_default.h"
#include "samples.h"

char *vz_path(const vz_ctx *ctx, const char *p)
{
	if (!p)
		return NULL;
	return xasprintf("%s%s%s", ctx->root, p[0] == '/' ? "" : "/", p);
}

char *vz_ct_conf_path(const vz_ctx *ctx, unsigned ctid)
{
	return xasprintf("%s/%u.conf", ctx->conf_dir, ctid);
}

char *vz_state_path(const vz_ctx *ctx, unsigned ctid)
{
	return xasprintf("%s/%u.state", ctx->run_dir, ctid);
}

/* Only $VEID and ${VEID} are substituted, as in vzctl. */
char *vz_subst_veid(const char *tmpl, unsigned ctid)
{
	const char *p = strstr(tmpl, "$VEID");
	size_t skip = 5;
	if (!p) {
		p = strstr(tmpl, "${VEID}");
		skip = 7;
	}
	if (!p)
		return xstrdup(tmpl);
	return xasprintf("%.*s%u%s", (int)(p - tmpl), tmpl, ctid, p + skip);
}

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

static const char *gget(const vz_ctx *ctx, const char *key, const char *def)
{
	const char *v = vz_conf_get(&ctx->global, key);
	return v && *v ? v : def;
}

/* ---- a root only root can change ----
 * Everything vz does as root under VZ_ROOT (configs it reads, CT files it
 * mounts and runs) is only as safe as the directories
 * on the way there: a user who owns or can write one of them can swap a
 * config, a template or a CT's tree under host root. So every component
 * of the root and of vz's own paths must be root's and written by root
 * alone. The one exception, as for /var/tmp, is a root-owned sticky
 * directory above the root: others may create entries there, but none
 * can rename or remove root's. */

/* Whether p is base or inside it (base "" is /, which holds everything). */
static bool inside(const char *p, const char *base)
{
	size_t n = strlen(base);
	return !strncmp(p, base, n) && (p[n] == '\0' || p[n] == '/' || n == 0);
}

static int unsafe(vz_error *err, const char *what, const char *p)
{
	return vz_err(err, VZ_E_PERM, "unsafe VZ_ROOT: %s %s", p, what);
}

/* Each component of path (absolute) as lstat shows it; stops quietly at
 * the first that does not exist (vz makes the rest, as root). base: the
 * root, as spelt in path; a sticky directory is acceptable only above it. */
static int check_chain(const char *path, const char *base, vz_error *err)
{
	_cleanup_free_ char *p = xstrdup(path);
	size_t n = strlen(p);
	for (size_t i = 0; i <= n; i++) {
		if (i > 0 && p[i] != '/' && p[i] != '\0')
			continue;
		char c = p[i];
		p[i] = '\0';
		const char *q = i ? p : "/";
		struct stat st;
		int r = lstat(q, &st);
		int e = errno;
		if (r < 0 && (e == ENOENT || e == ENOTDIR))
			return 0;
		if (r < 0)
			return vz_err_errno(err, VZ_E_PERM, e, "unsafe VZ_ROOT: cannot check %s", q);
		if (st.st_uid != 0) {
			char what[64];
			snprintf(what, sizeof(what), "is owned by uid %u, not root", (unsigned)st.st_uid);
			return unsafe(err, what, q);
		}
		bool above = !inside(q, base) && c != '\0';
		if (!S_ISLNK(st.st_mode) && (st.st_mode & (S_IWGRP | S_IWOTH)) &&
		    !(above && S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX)))
			return unsafe(err, "is writable by users other than root", q);
		p[i] = c;
	}
	return 0;
}

/* The path as written (a symlink itself must be root's) and, when a link
 * is on the way, the path it leads to. */
static int check_path(const char *path, const char *root, const char *realroot, vz_error *err)
{
	int r = check_chain(path, root, err);
	if (r)
		return r;
	/* the part of it that exists, resolved */
	_cleanup_free_ char *p = xstrdup(path);
	char *real;
	while (!(real = realpath(*p ? p : "/", NULL))) {
		char *sl = strrchr(p, '/');
		if (errno != ENOENT || !sl)
			return 0;
		*sl = '\0';
	}
	if (strcmp(real, *p ? p : "/"))
		r = check_chain(real, inside(real, realroot) ? realroot : real, err);
	free(real);
	return r;
}

/* The directory a VE_ROOT/VE_PRIVATE pattern puts its CTs in. */
static char *ct_parent(const vz_ctx *ctx, const char *pattern)
{
	if (!pattern || !*pattern)
		return NULL;
	_cleanup_free_ char *p = vz_path(ctx, pattern);
	char *v = strstr(p, "$VEID");
	if (!v)
		v = strstr(p, "${VEID}");
	if (v)
		*v = '\0';
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	char *sl = v ? NULL : strrchr(p, '/');
	if (sl && sl != p)
		*sl = '\0';
	return xstrdup(p);
}

static int check_root(const vz_ctx *ctx, bool full, vz_error *err)
{
	const char *root = *ctx->root ? ctx->root : "/";
	_cleanup_free_ char *realroot = realpath(root, NULL);
	const char *rr = realroot ? realroot : root;
	if (!strcmp(rr, "/"))
		rr = "";
	int r = check_path(root, ctx->root, rr, err);
	if (r || !full)
		return r;
	_cleanup_free_ char *etc = vz_path(ctx, "/etc");
	_cleanup_free_ char *vz = vz_path(ctx, "/vz");
	_cleanup_free_ char *dump = vz_path(ctx, gget(ctx, "DUMPDIR", "/vz/dump"));
	_cleanup_free_ char *ve_root = ct_parent(ctx, vz_conf_get(&ctx->global, "VE_ROOT"));
	_cleanup_free_ char *ve_priv = ct_parent(ctx, vz_conf_get(&ctx->global, "VE_PRIVATE"));
	const char *paths[] = {etc, ctx->etc_dir, ctx->vzconf_path, ctx->conf_dir,
			       ctx->names_dir, vz, ctx->lock_dir, ctx->template_dir, dump,
			       ctx->run_dir, ve_root, ve_priv};
	for (size_t i = 0; i < ARRAY_SIZE(paths) && !r; i++)
		if (paths[i])
			r = check_path(paths[i], ctx->root, rr, err);
	return r;
}

/* Builds /etc/vz aside and renames it into place, so that tools started
 * at once on a fresh root never see it half made. */
static int init_etc(vz_ctx *ctx)
{
	_cleanup_free_ char *tmp = xasprintf("%s.new.%d", ctx->etc_dir, (int)getpid());
	_cleanup_free_ char *conf = xasprintf("%s/conf", tmp);
	_cleanup_free_ char *names = xasprintf("%s/names", tmp);
	_cleanup_free_ char *vzconf = xasprintf("%s/vz.conf", tmp);
	(void)rm_rf(tmp);
	if (mkdir_p(conf, 0755) < 0 || mkdir_p(names, 0755) < 0 ||
	    write_file(vzconf, vzconf_default, strlen(vzconf_default), O_CREAT | O_EXCL) < 0)
		goto fail;
	for (size_t i = 0; i < ARRAY_SIZE(conf_samples); i++) {
		_cleanup_free_ char *sp = xasprintf("%s/%s", tmp, conf_samples[i].name);
		_cleanup_free_ char *sd = xstrdup(sp);
		*strrchr(sd, '/') = '\0';
		if (mkdir_p(sd, 0755) < 0 || write_file(sp, conf_samples[i].text, strlen(conf_samples[i].text),
			       O_CREAT | O_EXCL) < 0)
			goto fail;
	}
	if (rename(tmp, ctx->etc_dir) < 0) {
		if (errno != EEXIST && errno != ENOTEMPTY)
			goto fail;
		(void)rm_rf(tmp); /* another tool made it first */
	}
	return 0;
fail:;
	int e = errno;
	(void)rm_rf(tmp);
	errno = e;
	return -1;
}

vz_ctx *vz_ctx_new(const char *root, vz_error *err)
{
	if (!root || !*root)
		root = getenv("VZ_ROOT");
	if (!root || !*root)
		root = "/";
	if (root[0] != '/') {
		vz_err(err, VZ_E_BADVALUE, "VZ_ROOT %s: must be an absolute path", root);
		return NULL;
	}
	if (strlen(root) > 256 || strstr(root, "/../") || strstr(root, "\n")) {
		vz_err(err, VZ_E_BADVALUE, "VZ_ROOT %.64s: not a usable path", root);
		return NULL;
	}
	vz_ctx *ctx = xcalloc(1, sizeof(*ctx));
	ctx->log_fd = -1;
	ctx->root = xstrdup(root);
	size_t n = strlen(ctx->root);
	while (n > 0 && ctx->root[n - 1] == '/')
		ctx->root[--n] = '\0';
	snprintf(ctx->progname, sizeof(ctx->progname), "vzctl");
	ctx->etc_dir = vz_path(ctx, "/etc/vz");
	ctx->conf_dir = vz_path(ctx, "/etc/vz/conf");
	ctx->names_dir = vz_path(ctx, "/etc/vz/names");
	ctx->vzconf_path = vz_path(ctx, "/etc/vz/vz.conf");
	ctx->run_dir = vz_path(ctx, "/run/vz");
	if (check_root(ctx, false, err)) {
		vz_ctx_free(ctx);
		return NULL;
	}

	/* A fresh root gets the default global config; a root whose
	 * /etc/vz exists without vz.conf is broken and said so. */
	if (!path_exists(ctx->etc_dir) && init_etc(ctx) < 0) {
		vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot initialise %s", ctx->etc_dir);
		vz_ctx_free(ctx);
		return NULL;
	}
	if (vz_conf_load(&ctx->global, ctx->vzconf_path, err)) {
		if (err->code == VZ_E_NOCONF)
			err->code = VZ_E_NOVZCONF;
		vz_ctx_free(ctx);
		return NULL;
	}
	(void)mkdir_p(ctx->conf_dir, 0755);
	(void)mkdir_p(ctx->names_dir, 0755);
	ctx->lock_dir = vz_path(ctx, gget(ctx, "LOCKDIR", "/vz/lock"));
	ctx->template_dir = vz_path(ctx, gget(ctx, "TEMPLATE", "/vz/template"));
	ctx->log_path = vz_path(ctx, gget(ctx, "LOGFILE", "/var/log/vzctl.log"));
	ctx->logging = vz_parse_bool(gget(ctx, "LOGGING", "yes")) != 0;
	const char *cgb = vz_conf_get(&ctx->global, "CGROUP_BASE");
	if (cgb && *cgb)
		ctx->cgroup_base = xstrdup(cgb);
	else if (!*ctx->root)
		ctx->cgroup_base = xstrdup("vz");
	else /* a second instance on the machine gets cgroups of its own */
		ctx->cgroup_base = xasprintf("vz-%08x", fnv1a(ctx->root));
	if (check_root(ctx, true, err)) {
		vz_ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

void vz_ctx_free(vz_ctx *ctx)
{
	if (!ctx)
		return;
	if (ctx->log_fd >= 0)
		close(ctx->log_fd);
	free(ctx->root);
	free(ctx->etc_dir);
	free(ctx->conf_dir);
	free(ctx->names_dir);
	free(ctx->vzconf_path);
	free(ctx->run_dir);
	free(ctx->lock_dir);
	free(ctx->template_dir);
	free(ctx->log_path);
	free(ctx->cgroup_base);
	vz_conf_free(&ctx->global);
	free(ctx);
}

void vz_ctx_set_verbose(vz_ctx *ctx, int level)
{
	ctx->verbose = level;
}

void vz_ctx_set_skiplock(vz_ctx *ctx, bool skip)
{
	ctx->skiplock = skip;
}

void vz_ctx_set_progname(vz_ctx *ctx, const char *name)
{
	snprintf(ctx->progname, sizeof(ctx->progname), "%s", name);
}

const char *vz_version(void)
{
	return VZ_VERSION;
}
