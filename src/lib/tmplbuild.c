/* OS template caches built from a distro's own packages: a definition
 * (ETC/templates/NAME.conf) names release, packages and setup steps;
 * debootstrap fetches and unpacks the packages from the mirror apt uses on
 * this host, the setup script runs chrooted in the new tree, and the tree
 * is packed into TEMPLATE/cache/NAME.tar.zst and kept unpacked as the
 * shared lower layer. Everything is made under a temp name and renamed
 * into place, so an interrupted build leaves nothing a create would use. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "internal.h"

#define DEBOOTSTRAP "/usr/sbin/debootstrap"
#define APT_DIR "/etc/apt"

void vz_progress(vz_ctx *ctx, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (ctx->progress) {
		ctx->progress(line, ctx->progress_data);
		return;
	}
	if (ctx->verbose < 0)
		return;
	/* on a terminal the builders' chatter rewrites one status line;
	 * otherwise (logs, pipes) every line is kept */
	static int tty = -1;
	if (tty < 0)
		tty = isatty(STDOUT_FILENO);
	bool chatter = !strncmp(line, "debootstrap: ", 13) || !strncmp(line, "setup: ", 7);
	if (tty && chatter)
		printf("\r\033[K%.78s", line);
	else
		printf(tty ? "\r\033[K%s\n" : "%s\n", line);
	fflush(stdout);
}

static char *def_path(vz_ctx *ctx, const char *name)
{
	return xasprintf("%s/templates/%s.conf", ctx->etc_dir, name);
}

bool vz_template_defined(vz_ctx *ctx, const char *name)
{
	_cleanup_free_ char *p = def_path(ctx, name);
	return vz_template_name_ok(name) && path_exists(p);
}

/* ---- the mirror, from apt's own configuration ---- */

static bool usable_uri(const char *u)
{
	return !strncmp(u, "http://", 7) || !strncmp(u, "https://", 8) ||
	       !strncmp(u, "ftp://", 6) || !strncmp(u, "file:/", 6);
}

/* The main archive's suites are plain names (bookworm), not
 * bookworm-security or bookworm/updates. */
static bool main_suite(const char *s)
{
	return *s && !strpbrk(s, "-/");
}

static char *from_one_line(FILE *f)
{
	char line[2048];
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *w = strtok_r(line, " \t\n", &save);
		if (!w || strcmp(w, "deb"))
			continue;
		w = strtok_r(NULL, " \t\n", &save);
		if (w && w[0] == '[') /* [ options ] */
			while (w && !strchr(w, ']'))
				w = strtok_r(NULL, " \t\n", &save);
		if (w && w[0] == '[' && strchr(w, ']'))
			w = strtok_r(NULL, " \t\n", &save);
		else if (w && strchr(w, ']'))
			w = strtok_r(NULL, " \t\n", &save);
		char *uri = w, *suite = w ? strtok_r(NULL, " \t\n", &save) : NULL;
		if (uri && suite && usable_uri(uri) && main_suite(suite))
			return xstrdup(uri);
	}
	return NULL;
}

static bool has_word(const char *list, bool (*ok)(const char *))
{
	_cleanup_free_ char *c = xstrdup(list);
	char *save = NULL;
	for (char *w = strtok_r(c, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
		if (ok(w))
			return true;
	return false;
}

static bool is_deb(const char *w)
{
	return !strcmp(w, "deb");
}

/* deb822 .sources: paragraphs of Types/URIs/Suites/Enabled */
static char *from_deb822(FILE *f)
{
	char line[2048];
	char types[256] = "", uris[1024] = "", suites[256] = "", enabled[16] = "yes";
	bool more = true;
	while (more) {
		more = fgets(line, sizeof(line), f) != NULL;
		line[strcspn(line, "\n")] = '\0';
		if (more && line[0] != '\0') {
			char *colon = strchr(line, ':');
			if (line[0] == '#' || line[0] == ' ' || !colon)
				continue;
			*colon = '\0';
			const char *v = colon + 1 + strspn(colon + 1, " \t");
			if (!strcasecmp(line, "Types"))
				snprintf(types, sizeof(types), "%s", v);
			else if (!strcasecmp(line, "URIs"))
				snprintf(uris, sizeof(uris), "%s", v);
			else if (!strcasecmp(line, "Suites"))
				snprintf(suites, sizeof(suites), "%s", v);
			else if (!strcasecmp(line, "Enabled"))
				snprintf(enabled, sizeof(enabled), "%s", v);
			continue;
		}
		/* end of a paragraph */
		if (has_word(types, is_deb) && has_word(suites, main_suite) &&
		    vz_parse_bool(enabled) != 0) {
			char *save = NULL;
			for (char *u = strtok_r(uris, " \t", &save); u;
			     u = strtok_r(NULL, " \t", &save))
				if (usable_uri(u))
					return xstrdup(u);
		}
		types[0] = uris[0] = suites[0] = '\0';
		snprintf(enabled, sizeof(enabled), "yes");
	}
	return NULL;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

char *vz_apt_mirror(const char *apt_dir)
{
	_cleanup_free_ char *main_list = xasprintf("%s/sources.list", apt_dir);
	FILE *f = fopen(main_list, "re");
	char *uri = NULL;
	if (f) {
		uri = from_one_line(f);
		fclose(f);
	}
	_cleanup_free_ char *d = xasprintf("%s/sources.list.d", apt_dir);
	struct dirent **ents = NULL;
	int n = uri ? 0 : scandir(d, &ents, NULL, by_name);
	for (int i = 0; i < n; i++) {
		const char *nm = ents[i]->d_name;
		size_t l = strlen(nm);
		bool one = l > 5 && !strcmp(nm + l - 5, ".list");
		bool d822 = l > 8 && !strcmp(nm + l - 8, ".sources");
		if (!uri && (one || d822)) {
			_cleanup_free_ char *p = xasprintf("%s/%s", d, nm);
			f = fopen(p, "re");
			if (f) {
				uri = one ? from_one_line(f) : from_deb822(f);
				fclose(f);
			}
		}
		free(ents[i]);
	}
	free(ents);
	return uri;
}

/* ---- the definition ---- */

static bool word_chars(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!(('a' <= *s && *s <= 'z') || ('0' <= *s && *s <= '9') || strchr(extra, *s)))
			return false;
	return true;
}

static int def_load(vz_ctx *ctx, const char *name, struct vz_conf *def, vz_error *err)
{
	_cleanup_free_ char *path = def_path(ctx, name);
	int r = vz_conf_load(def, path, err);
	if (r == VZ_E_NOCONF)
		return vz_err(err, VZ_E_NOTEMPLATE, "OS template %s has no definition %s", name,
			      path);
	if (r)
		return r;
	static const struct {
		const char *key, *extra;
		bool required;
	} keys[] = {
		{"DISTRIBUTION", "", true}, {"RELEASE", "", true}, {"ARCH", "", true},
		{"VARIANT", "-", false}, {"COMPONENTS", ",-", false},
		{"INIT", "", true}, {"PACKAGES", " .+-", false}, {"SETUP", ".-_", false},
	};
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *v = vz_conf_get(def, keys[i].key);
		if ((!v || !*v) ? keys[i].required : !word_chars(v, keys[i].extra)) {
			vz_conf_free(def);
			return vz_err(err, VZ_E_CONFIG, "OS template %s: bad or missing %s in %s",
				      name, keys[i].key, path);
		}
	}
	const char *dist = vz_conf_get(def, "DISTRIBUTION");
	if (strcmp(dist, "debian")) {
		vz_conf_free(def);
		return vz_err(err, VZ_E_CONFIG,
			      "OS template %s: DISTRIBUTION %s is not one vz builds (debian)",
			      name, dist);
	}
	const char *mirror = vz_conf_get(def, "MIRROR");
	if (mirror && *mirror && (!usable_uri(mirror) || strpbrk(mirror, " \t'\"\\"))) {
		vz_conf_free(def);
		return vz_err(err, VZ_E_CONFIG, "OS template %s: bad MIRROR %s", name, mirror);
	}
	return 0;
}

/* ---- running the builders ---- */

/* Runs argv with output read line by line into the progress display; in
 * its own mount namespace (whatever it mounts goes with it), chrooted to
 * root when given, fed input on stdin. Keeps the last line for errors. */
static int run_step(vz_ctx *ctx, const char *what, char *const argv[], const char *root,
		    const char *input, char *const envp[], vz_error *err)
{
	int out[2], in[2] = {-1, -1};
	if (pipe2(out, O_CLOEXEC) < 0 || (input && pipe2(in, O_CLOEXEC) < 0))
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "pipe");
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(out[0]);
		close(out[1]);
		if (in[0] >= 0) {
			close(in[0]);
			close(in[1]);
		}
		return vz_err_errno(err, VZ_E_SYSTEM, e, "fork");
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);
		/* a group of its own: an interrupt ends all of it, dpkg too */
		if (setpgid(0, 0) < 0 || unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    (root && (chroot(root) < 0 || chdir("/") < 0)) ||
		    dup2(input ? in[0] : nul, 0) < 0 || dup2(out[1], 1) < 0 ||
		    dup2(out[1], 2) < 0) {
			dprintf(out[1], "%s: cannot set up: %s\n", what, strerror(errno));
			_exit(127);
		}
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execve(argv[0], argv, envp);
		dprintf(2, "%s: cannot run %s: %s\n", what, argv[0], strerror(errno));
		_exit(127);
	}
	close(out[1]);
	if (input) {
		close(in[0]);
		/* the setup scripts are small: they fit the pipe */
		(void)write_all(in[1], input, strlen(input));
		close(in[1]);
	}
	char buf[4096], last[512] = "";
	size_t len = 0;
	bool killed = false;
	for (;;) {
		if (vz_interrupted() && !killed) {
			kill(-pid, SIGKILL);
			killed = true;
		}
		/* a builder may be silent for long (a download): look again
		 * for an interrupt at least every 200 ms */
		struct pollfd pf = {.fd = out[0], .events = POLLIN};
		int pr = poll(&pf, 1, 200);
		if (pr == 0 || (pr < 0 && errno == EINTR))
			continue;
		ssize_t n = read(out[0], buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		char *nl;
		while ((nl = strchr(buf, '\n')) || len == sizeof(buf) - 1) {
			if (nl)
				*nl = '\0';
			if (buf[0]) {
				snprintf(last, sizeof(last), "%.500s", buf);
				vz_progress(ctx, "%s: %.480s", what, buf);
			}
			size_t used = nl ? (size_t)(nl - buf) + 1 : len;
			memmove(buf, buf + used, len - used);
			len -= used;
			buf[len] = '\0';
		}
	}
	close(out[0]);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		if (!killed) {
			kill(-pid, SIGKILL);
			killed = true;
		}
	if (vz_interrupted())
		return vz_err(err, VZ_E_SYSTEM, "%s interrupted; nothing was kept", what);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return vz_err(err, VZ_E_NOTEMPLATE, "%s failed (%s %d): %s", what,
			      WIFEXITED(st) ? "exit" : "signal",
			      WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st),
			      last[0] ? last : "no output");
	return 0;
}

static char *join_commas(const char *words)
{
	char *s = xstrdup(words ? words : "");
	char *o = s;
	bool sep = false;
	for (const char *p = s; *p; p++) {
		if (*p == ' ' || *p == '\t') {
			sep = o != s;
			continue;
		}
		if (sep)
			*o++ = ',';
		sep = false;
		*o++ = *p;
	}
	*o = '\0';
	return s;
}

/* Leftovers of builds whose vzctl was killed: never trusted, removed. */
static void drop_stale(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		int pid;
		if (sscanf(e->d_name, ".build-%*[^@]@%d", &pid) == 1 && pid > 0 &&
		    kill(pid, 0) < 0 && errno == ESRCH) {
			_cleanup_free_ char *p = xasprintf("%s/%s", dir, e->d_name);
			(void)rm_rf(p);
		}
	}
	closedir(d);
}

/* debootstrap's own words when a download failed (not a bad definition) */
#define FETCH_ATTEMPTS 3
static bool fetch_failed(const char *mirror, const char *msg)
{
	if (!strncmp(mirror, "file:", 5) || !strncmp(mirror, "copy:", 5))
		return false; /* a local tree does not come back by waiting */
	return strstr(msg, "Failed getting release") || strstr(msg, "Couldn't download");
}

static int build(vz_ctx *ctx, const char *name, struct vz_conf *def, const char *tmp,
		 vz_error *err)
{
	_cleanup_free_ char *mirror = NULL;
	const char *m = vz_conf_get(def, "MIRROR");
	mirror = m && *m ? xstrdup(m) : vz_apt_mirror(APT_DIR);
	if (!mirror)
		return vz_err(err, VZ_E_NOTEMPLATE,
			      "OS template %s: no MIRROR set and no Debian mirror in %s", name,
			      APT_DIR);
	if (access(DEBOOTSTRAP, X_OK) < 0)
		return vz_err(err, VZ_E_NOTEMPLATE,
			      "OS template %s: %s is missing (install debootstrap)", name,
			      DEBOOTSTRAP);
	_cleanup_free_ char *root = xasprintf("%s/root", tmp);
	_cleanup_free_ char *debs = xasprintf("%s/packages", ctx->template_dir);
	if (mkdir_p(debs, 0755) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot create %s", debs);
	const char *variant = vz_conf_get(def, "VARIANT");
	const char *comps = vz_conf_get(def, "COMPONENTS");
	_cleanup_free_ char *pk = join_commas(vz_conf_get(def, "PACKAGES"));
	_cleanup_free_ char *a_variant = xasprintf("--variant=%s", variant && *variant ? variant : "minbase");
	_cleanup_free_ char *a_arch = xasprintf("--arch=%s", vz_conf_get(def, "ARCH"));
	_cleanup_free_ char *a_comp = xasprintf("--components=%s", comps && *comps ? comps : "main");
	_cleanup_free_ char *a_inc = xasprintf("--include=%s", pk);
	_cleanup_free_ char *a_cache = xasprintf("--cache-dir=%s", debs);
	char *argv[] = {DEBOOTSTRAP, a_variant, a_arch, a_comp, a_cache,
			*pk ? a_inc : NULL, NULL, NULL, NULL, NULL};
	size_t ai = *pk ? 6 : 5;
	argv[ai++] = (char *)vz_conf_get(def, "RELEASE");
	argv[ai++] = root;
	argv[ai] = mirror;
	char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C",
			"DEBIAN_FRONTEND=noninteractive", NULL};
	vz_progress(ctx, "Building OS template %s: debootstrap %s from %s", name,
		    vz_conf_get(def, "RELEASE"), mirror);
	int r;
	for (int attempt = 1;; attempt++) {
		r = run_step(ctx, "debootstrap", argv, NULL, NULL, envp, err);
		if (!r || vz_interrupted() || attempt == FETCH_ATTEMPTS ||
		    !fetch_failed(mirror, err->msg))
			break;
		/* a network mirror that failed to answer once may next time;
		 * what was fetched stays in the package cache */
		vz_progress(ctx, "Building OS template %s: %s; trying again (%d of %d)", name,
			    err->msg, attempt + 1, FETCH_ATTEMPTS);
		(void)rm_rf(root);
		sleep((unsigned)(2 * attempt));
		if (vz_interrupted())
			return vz_err(err, VZ_E_SYSTEM, "build of %s interrupted", name);
	}
	if (r)
		return r;
	const char *setup = vz_conf_get(def, "SETUP");
	if (setup && *setup) {
		_cleanup_free_ char *sp = xasprintf("%s/templates/%s", ctx->etc_dir, setup);
		_cleanup_free_ char *script = read_file(sp, NULL);
		if (!script)
			return vz_err_errno(err, VZ_E_CONFIG, errno,
					    "OS template %s: cannot read setup %s", name, sp);
		_cleanup_free_ char *e_init = xasprintf("INIT=%s", vz_conf_get(def, "INIT"));
		_cleanup_free_ char *e_rel = xasprintf("RELEASE=%s", vz_conf_get(def, "RELEASE"));
		_cleanup_free_ char *e_mir = xasprintf("MIRROR=%s", mirror);
		_cleanup_free_ char *e_comp = xasprintf("COMPONENTS=%s",
							comps && *comps ? comps : "main");
		char *senv[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C",
				"DEBIAN_FRONTEND=noninteractive", e_init, e_rel, e_mir,
				e_comp, NULL};
		char *sargv[] = {"/bin/sh", "-s", NULL};
		vz_progress(ctx, "Building OS template %s: setup %s", name, setup);
		if ((r = run_step(ctx, "setup", sargv, root, script, senv, err)))
			return r;
	}
	if (vz_interrupted())
		return vz_err(err, VZ_E_SYSTEM, "build of %s interrupted", name);
	_cleanup_free_ char *cache = xasprintf("%s/cache", ctx->template_dir);
	_cleanup_free_ char *tarball = xasprintf("%s/%s.tar.zst", cache, name);
	if (mkdir_p(cache, 0755) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot create %s", cache);
	vz_progress(ctx, "Building OS template %s: packing %s", name, tarball);
	return vz_template_pack(root, tarball, err);
}

int vz_template_build_locked(vz_ctx *ctx, const char *name, vz_error *err)
{
	struct vz_conf def = {0};
	int r = def_load(ctx, name, &def, err);
	if (r)
		return r;
	_cleanup_free_ char *layers = xasprintf("%s/layers", ctx->template_dir);
	_cleanup_free_ char *tmp = xasprintf("%s/.build-%s@%d", layers, name, (int)getpid());
	if (mkdir_p(layers, 0700) < 0) { /* root's only: the CTs' trees (storage.c) */
		vz_conf_free(&def);
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot create %s", layers);
	}
	drop_stale(layers);
	(void)rm_rf(tmp);
	if (mkdir(tmp, 0700) < 0) {
		vz_conf_free(&def);
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot create %s", tmp);
	}
	/* Ctrl-C or a TERM: stop the builder, remove the half-made tree */
	struct vz_sigguard g;
	vz_sigguard_on(&g);
	r = build(ctx, name, &def, tmp, err);
	_cleanup_free_ char *root = xasprintf("%s/root", tmp);
	if (!r)
		r = vz_template_install_layer(ctx, name, root, NULL, err);
	(void)rm_rf(tmp);
	vz_sigguard_off(&g);
	vz_conf_free(&def);
	if (!r)
		vz_progress(ctx, "OS template %s is built", name);
	return r;
}
