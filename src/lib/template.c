/* OS templates: the unpacked template is the shared read-only lower layer
 * of every CT made from it. A cache tarball (TEMPLATE/cache/NAME.tar.*) is
 * unpacked with libarchive; `busybox` is built from the host's static
 * busybox without any network. Both land in a temp dir renamed into
 * place, so a half-made layer is never trusted. */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/sysmacros.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "internal.h"

#define BUSYBOX_BIN "/bin/busybox"

/* libarchive pulls a dozen libraries (ICU, libxml2, libstdc++) into every
 * process that links it; loading it only when a tarball is unpacked keeps
 * vzctl's start-up, and so every start and exec, fast. */
#define ARCHIVE_FUNCS(X)                                                       \
	X(archive_read_new) X(archive_write_disk_new)                          \
	X(archive_read_support_filter_all) X(archive_read_support_format_all)  \
	X(archive_write_disk_set_options) X(archive_read_open_filename)        \
	X(archive_error_string) X(archive_read_next_header)                    \
	X(archive_entry_pathname) X(archive_entry_set_pathname)                \
	X(archive_entry_hardlink) X(archive_entry_set_hardlink)                \
	X(archive_write_header) X(archive_entry_size)                          \
	X(archive_read_data_block) X(archive_write_data_block)                 \
	X(archive_write_finish_entry) X(archive_read_free) X(archive_write_free) \
	X(archive_write_new) X(archive_write_add_filter_zstd)                  \
	X(archive_write_set_format_pax_restricted) X(archive_write_open_filename) \
	X(archive_write_close) X(archive_write_data) X(archive_read_data)     \
	X(archive_read_disk_new) X(archive_read_disk_set_standard_lookup)      \
	X(archive_read_disk_set_behavior) X(archive_read_disk_open)            \
	X(archive_read_disk_descend) X(archive_read_next_header2)              \
	X(archive_entry_new) X(archive_entry_free) X(archive_entry_filetype)      \
	X(archive_write_set_format_option)

static struct {
#define DECL(f) __typeof__(&(f))(f);
	ARCHIVE_FUNCS(DECL)
#undef DECL
} la;

static int load_libarchive(vz_error *err)
{
	static void *h;
	if (h)
		return 0;
	void *lib = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return vz_err(err, VZ_E_SYSTEM, "cannot load libarchive: %s", dlerror());
#define LOAD(f)                                                                \
	if (!(*(void **)&la.f = dlsym(lib, #f))) {                              \
		dlclose(lib);                                                   \
		return vz_err(err, VZ_E_SYSTEM, "libarchive lacks %s", #f);     \
	}
	ARCHIVE_FUNCS(LOAD)
#undef LOAD
	h = lib;
	return 0;
}

bool vz_template_name_ok(const char *name)
{
	if (!name || !*name || strlen(name) > 128 || name[0] == '.')
		return false;
	for (const char *p = name; *p; p++)
		if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') ||
		      ('0' <= *p && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return false;
	return strstr(name, "..") == NULL;
}

static const char *const applets[] = {
	"sh", "ash", "cat", "chmod", "chown", "cp", "date", "dd", "df", "dmesg",
	"echo", "env", "false", "grep", "egrep", "head", "hostname", "id", "ifconfig",
	"ip", "kill", "killall", "less", "ln", "ls", "mkdir", "mknod", "mount", "mv",
	"nc", "netstat", "ping", "ping6", "ps", "pwd", "readlink", "rm", "rmdir", "sed",
	"sleep", "sort", "stat", "sync", "tail", "tee", "test", "[", "[[", "top",
	"touch", "tr", "true", "umount", "uname", "uptime", "vi", "wc", "which",
	"xargs", "awk", "cut", "find", "free", "nproc", "seq", "printf", "expr",
	"basename", "dirname", "md5sum", "sha256sum", "tar", "gzip", "zcat", "wget",
	"login", "su", "passwd", "getty", "nohup", "timeout", "watch", "yes", "usleep",
	"setsid", "nslookup", "route", "arp", "who", "whoami", "more", "od", "hexdump",
	"run-parts",
};
static const char *const sbin_applets[] = {
	"init", "halt", "poweroff", "reboot", "syslogd", "klogd", "ifup", "ifdown",
	"udhcpc", "sysctl", "pivot_root", "switch_root", "losetup", "swapon", "swapoff",
	"hwclock", "blkid", "crond", "mkpasswd",
};

static const struct {
	const char *path, *text;
	mode_t mode;
} busybox_files[] = {
	{"etc/inittab",
	 "# busybox init: the CT's PID 1\n"
	 "::sysinit:/etc/init.d/rcS\n"
	 "::respawn:/sbin/syslogd -n -O /var/log/messages\n"
	 "# boot done: what vzctl start --wait waits for\n"
	 "::once:/bin/touch /run/vz-booted\n"
	 "::ctrlaltdel:/sbin/reboot\n"
	 "::shutdown:/bin/sync\n", 0644},
	{"etc/init.d/rcS",
	 "#!/bin/sh\n"
	 "mkdir -p /var/log /var/run /tmp\n"
	 "# interfaces set up by the CT itself (vzctl --dhcp)\n"
	 "[ -f /etc/network/interfaces ] && ifup -a\n"
	 "[ -x /etc/init.d/rc.local ] && /etc/init.d/rc.local\n"
	 "exit 0\n", 0755},
	{"etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
		       "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n", 0644},
	{"etc/group", "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n", 0644},
	{"etc/shadow", "root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n", 0640},
	{"etc/hostname", "localhost\n", 0644},
	{"etc/hosts", "127.0.0.1 localhost\n::1 localhost\n", 0644},
	{"etc/fstab", "# nothing: vz mounts /proc, /sys, /dev and /run\n", 0644},
	{"etc/shells", "/bin/sh\n/bin/ash\n", 0644},
	{"etc/network/interfaces", "auto lo\niface lo inet loopback\n", 0644},
	{"etc/udhcpc/default.script",
	 "#!/bin/sh\n"
	 "# udhcpc's hook: the lease onto the interface, its DNS into resolv.conf\n"
	 "case \"$1\" in\n"
	 "deconfig) ip -4 addr flush dev \"$interface\"; ip link set \"$interface\" up ;;\n"
	 "bound|renew)\n"
	 "\tip -4 addr flush dev \"$interface\"\n"
	 "\tip addr add \"$ip/${mask:-24}\" dev \"$interface\"\n"
	 "\tfor r in $router; do ip route replace default via \"$r\" dev \"$interface\"; break; done\n"
	 "\tif [ -n \"$dns\" ]; then\n"
	 "\t\t: >/etc/resolv.conf\n"
	 "\t\tfor d in $dns; do echo \"nameserver $d\" >>/etc/resolv.conf; done\n"
	 "\tfi ;;\n"
	 "esac\n"
	 "exit 0\n", 0755},
	{"etc/os-release", "NAME=\"busybox\"\nID=busybox\nPRETTY_NAME=\"vz busybox template\"\n", 0644},
	{"etc/profile", "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n", 0644},
};

static int build_busybox(const char *dir, vz_error *err)
{
	static const char *const dirs[] = {
		"bin", "sbin", "usr/bin", "usr/sbin", "etc/init.d", "dev", "proc", "sys",
		"run", "tmp", "root", "var/log", "var/run", "home", "mnt", "etc/udhcpc",
		"etc/network/if-up.d", "etc/network/if-down.d", "etc/network/if-pre-up.d",
		"etc/network/if-post-down.d"};
	if (!path_exists(BUSYBOX_BIN))
		return vz_err(err, VZ_E_NOTEMPLATE,
			      "template busybox: %s is missing (install busybox-static)",
			      BUSYBOX_BIN);
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, dirs[i]);
		if (mkdir_p(p, 0755) < 0)
			return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot create %s", p);
	}
	_cleanup_free_ char *tmp = xasprintf("%s/tmp", dir);
	_cleanup_free_ char *root = xasprintf("%s/root", dir);
	if (chmod(tmp, 01777) < 0 || chmod(root, 0700) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "chmod in %s", dir);
	_cleanup_free_ char *bb = xasprintf("%s/bin/busybox", dir);
	if (copy_file(BUSYBOX_BIN, bb, 0755) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot copy %s", BUSYBOX_BIN);
	for (size_t i = 0; i < ARRAY_SIZE(applets); i++) {
		_cleanup_free_ char *l = xasprintf("%s/bin/%s", dir, applets[i]);
		if (symlink("busybox", l) < 0 && errno != EEXIST)
			return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot link %s", l);
	}
	for (size_t i = 0; i < ARRAY_SIZE(sbin_applets); i++) {
		_cleanup_free_ char *l = xasprintf("%s/sbin/%s", dir, sbin_applets[i]);
		if (symlink("../bin/busybox", l) < 0 && errno != EEXIST)
			return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot link %s", l);
	}
	for (size_t i = 0; i < ARRAY_SIZE(busybox_files); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, busybox_files[i].path);
		if (write_file(p, busybox_files[i].text, strlen(busybox_files[i].text),
			       O_CREAT | O_TRUNC) < 0 || chmod(p, busybox_files[i].mode) < 0)
			return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot write %s", p);
	}
	return 0;
}

int vz_template_unpack(const char *tarball, const char *dir, vz_error *err)
{
	int lr = load_libarchive(err);
	if (lr)
		return lr;
	struct archive *a = la.archive_read_new();
	struct archive *w = la.archive_write_disk_new();
	la.archive_read_support_filter_all(a);
	la.archive_read_support_format_all(a);
	la.archive_write_disk_set_options(w, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM |
				       ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR |
				       ARCHIVE_EXTRACT_ACL | ARCHIVE_EXTRACT_FFLAGS |
				       ARCHIVE_EXTRACT_SECURE_NODOTDOT |
				       ARCHIVE_EXTRACT_SECURE_SYMLINKS |
				       ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	int ret = 0;
	/* entries stay relative (libarchive refuses absolute or ".." paths),
	 * so extract from inside the new layer; vzctl is single-threaded */
	int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0 || chdir(dir) < 0) {
		ret = vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot enter %s", dir);
		goto out;
	}
	if (la.archive_read_open_filename(a, tarball, 65536) != ARCHIVE_OK) {
		ret = vz_err(err, VZ_E_NOTEMPLATE, "template %s: %s", tarball,
			     la.archive_error_string(a));
		goto out;
	}
	size_t entries = 0;
	for (;;) {
		struct archive_entry *e;
		int r = la.archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			ret = vz_err(err, VZ_E_NOTEMPLATE, "template %s is broken: %s", tarball,
				     la.archive_error_string(a));
			goto out;
		}
		r = la.archive_write_header(w, e);
		if (r == ARCHIVE_OK && la.archive_entry_size(e) > 0) {
			const void *buf;
			size_t size;
			la_int64_t off;
			while ((r = la.archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK)
				if (la.archive_write_data_block(w, buf, size, off) != ARCHIVE_OK)
					break;
			if (r != ARCHIVE_EOF) {
				ret = vz_err(err, VZ_E_NOTEMPLATE, "template %s is broken: %s",
					     tarball, la.archive_error_string(a));
				goto out;
			}
		} else if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			ret = vz_err(err, VZ_E_NOTEMPLATE, "template %s: %s", tarball,
				     la.archive_error_string(w));
			goto out;
		}
		if (la.archive_write_finish_entry(w) != ARCHIVE_OK) {
			ret = vz_err(err, VZ_E_NOTEMPLATE, "template %s: %s", tarball,
				     la.archive_error_string(w));
			goto out;
		}
		entries++;
	}
	if (entries == 0)
		ret = vz_err(err, VZ_E_NOTEMPLATE, "template %s is empty", tarball);
out:
	if (cwd >= 0) {
		if (fchdir(cwd) < 0)
			ret = vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot return to cwd");
		close(cwd);
	}
	la.archive_read_free(a);
	la.archive_write_free(w);
	return ret;
}

static const char *const cache_exts[] = {".tar.zst", ".tar.gz", ".tar.xz", ".tar.lz4",
					 ".tar"};

char *vz_template_cache(vz_ctx *ctx, const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(cache_exts); i++) {
		char *t = xasprintf("%s/cache/%s%s", ctx->template_dir, name, cache_exts[i]);
		if (path_exists(t))
			return t;
		free(t);
	}
	return NULL;
}

/* "debian-12.tar.gz" -> "debian-12"; NULL if no cache extension */
char *vz_template_name_of(const char *file)
{
	const char *b = strrchr(file, '/');
	b = b ? b + 1 : file;
	size_t n = strlen(b);
	for (size_t i = 0; i < ARRAY_SIZE(cache_exts); i++) {
		size_t k = strlen(cache_exts[i]);
		if (n > k && !strcmp(b + n - k, cache_exts[i]))
			return strndup(b, n - k);
	}
	return NULL;
}

/* ---- walking a tree on disk (libarchive's reader, no crossing into
 * other file systems, symlinks not followed) ---- */

/* Called with each entry and its path relative to the top ("" for the
 * top itself): 0 goes on (into a directory), 1 skips it (and what is in
 * it), anything else is an error code with err set. */
typedef int (*walk_fn)(struct archive *d, struct archive_entry *e, const char *rel, void *data,
		       vz_error *err);

static int walk_tree(const char *top, walk_fn fn, void *data, vz_error *err)
{
	int lr = load_libarchive(err);
	if (lr)
		return lr;
	struct archive *d = la.archive_read_disk_new();
	struct archive_entry *e = la.archive_entry_new();
	la.archive_read_disk_set_standard_lookup(d);
	la.archive_read_disk_set_behavior(d, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
	size_t tl = strlen(top);
	int ret = 0;
	if (la.archive_read_disk_open(d, top) != ARCHIVE_OK)
		ret = vz_err(err, VZ_E_SYSTEM, "cannot read %s: %s", top, la.archive_error_string(d));
	while (!ret) {
		/* under a signal guard, Ctrl-C calls a copy off; the caller undoes */
		if (vz_interrupted()) {
			ret = vz_err(err, VZ_E_SYSTEM, "interrupted while copying %s", top);
			break;
		}
		int r = la.archive_read_next_header2(d, e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			ret = vz_err(err, VZ_E_SYSTEM, "cannot read %s: %s", top,
				     la.archive_error_string(d));
			break;
		}
		const char *p = la.archive_entry_pathname(e);
		if (strncmp(p, top, tl) || (p[tl] && p[tl] != '/'))
			continue;
		r = fn(d, e, p + tl, data, err);
		if (r == 0)
			la.archive_read_disk_descend(d);
		else if (r != 1)
			ret = r;
	}
	la.archive_entry_free(e);
	la.archive_read_free(d);
	return ret;
}

/* The entry's header, then (a regular file) its data, from d into w. */
static int copy_entry(struct archive *d, struct archive *w, struct archive_entry *e,
		      const char *what, vz_error *err)
{
	if (la.archive_write_header(w, e) != ARCHIVE_OK)
		return vz_err(err, VZ_E_SYSTEM, "cannot write %s: %s", what,
			      la.archive_error_string(w));
	if (la.archive_entry_filetype(e) == AE_IFREG) {
		char buf[65536];
		la_ssize_t n;
		while ((n = la.archive_read_data(d, buf, sizeof(buf))) > 0)
			if (la.archive_write_data(w, buf, (size_t)n) != n)
				return vz_err(err, VZ_E_SYSTEM, "cannot write %s: %s", what,
					      la.archive_error_string(w));
		if (n < 0)
			return vz_err(err, VZ_E_SYSTEM, "cannot read for %s: %s", what,
				      la.archive_error_string(d));
	}
	if (la.archive_write_finish_entry(w) != ARCHIVE_OK)
		return vz_err(err, VZ_E_SYSTEM, "cannot write %s: %s", what,
			      la.archive_error_string(w));
	return 0;
}

struct pack {
	struct archive *w;
	const char *tmp;
};

static int pack_one(struct archive *d, struct archive_entry *e, const char *rel, void *data,
		    vz_error *err)
{
	struct pack *pk = data;
	/* names in the tarball as OpenVZ's caches have them: ./etc/... */
	_cleanup_free_ char *name = xasprintf(".%s", rel);
	la.archive_entry_set_pathname(e, name);
	return copy_entry(d, pk->w, e, pk->tmp, err);
}

/* Packs dir into tarball (zstd, pax) through a temp file made durable
 * before it is renamed into place: a cache is whole or absent. */
int vz_template_pack(const char *dir, const char *tarball, vz_error *err)
{
	int lr = load_libarchive(err);
	if (lr)
		return lr;
	_cleanup_free_ char *tmp = xasprintf("%s.tmp-%d", tarball, (int)getpid());
	struct archive *w = la.archive_write_new();
	la.archive_write_add_filter_zstd(w);
	la.archive_write_set_format_pax_restricted(w);
	/* names as the bytes they are, whatever the locale (Debian has
	 * non-ASCII file names; C locale cannot translate them) */
	la.archive_write_set_format_option(w, "pax", "hdrcharset", "BINARY");
	int ret = 0;
	struct pack pk = {w, tmp};
	if (la.archive_write_open_filename(w, tmp) != ARCHIVE_OK)
		ret = vz_err(err, VZ_E_SYSTEM, "cannot write %s: %s", tmp,
			     la.archive_error_string(w));
	if (!ret)
		ret = walk_tree(dir, pack_one, &pk, err);
	if (!ret && la.archive_write_close(w) != ARCHIVE_OK)
		ret = vz_err(err, VZ_E_SYSTEM, "cannot write %s: %s", tmp,
			     la.archive_error_string(w));
	la.archive_write_free(w);
	if (!ret) {
		int fd = open(tmp, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fsync(fd) < 0 || rename(tmp, tarball) < 0)
			ret = vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot write %s", tarball);
		if (fd >= 0)
			close(fd);
	}
	if (ret)
		(void)unlink(tmp);
	return ret;
}

/* Is the file at a the same as the one at b (type, owner, mode, size,
 * mtime, link target)? Then an overlay's lower copy does for it. */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	if (lstat(a, &sa) < 0 || lstat(b, &sb) < 0)
		return false;
	if ((sa.st_mode & S_IFMT) != (sb.st_mode & S_IFMT) || sa.st_mode != sb.st_mode ||
	    sa.st_uid != sb.st_uid || sa.st_gid != sb.st_gid || sa.st_size != sb.st_size ||
	    sa.st_mtim.tv_sec != sb.st_mtim.tv_sec || sa.st_mtim.tv_nsec != sb.st_mtim.tv_nsec ||
	    sa.st_rdev != sb.st_rdev)
		return false;
	if (S_ISLNK(sa.st_mode)) {
		char la_[PATH_MAX], lb[PATH_MAX];
		ssize_t na = readlink(a, la_, sizeof(la_)), nb = readlink(b, lb, sizeof(lb));
		return na >= 0 && na == nb && !memcmp(la_, lb, (size_t)na);
	}
	return true;
}

struct copy {
	struct archive *w;
	const char *src, *base, *dst;
};

static int copy_one(struct archive *d, struct archive_entry *e, const char *rel, void *data,
		    vz_error *err)
{
	struct copy *c = data;
	/* an image's own lost+found is the file system's, not the CT's */
	if (!strcmp(rel, "/lost+found"))
		return 1;
	if (c->base && la.archive_entry_filetype(e) != AE_IFDIR) {
		_cleanup_free_ char *a = xasprintf("%s%s", c->src, rel);
		_cleanup_free_ char *b = xasprintf("%s%s", c->base, rel);
		if (same_file(a, b))
			return 0;
	}
	_cleanup_free_ char *to = xasprintf("%s%s", c->dst, rel);
	la.archive_entry_set_pathname(e, to);
	return copy_entry(d, c->w, e, to, err);
}

/* Copies src's tree into dst (an existing directory) as it is: owners,
 * modes, times, xattrs, device nodes, symlinks never followed. With base,
 * files the same as base's are left out (directories always go). */
static int copy_tree(const char *src, const char *base, const char *dst, vz_error *err)
{
	int lr = load_libarchive(err);
	if (lr)
		return lr;
	struct archive *w = la.archive_write_disk_new();
	la.archive_write_disk_set_options(w, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM |
				       ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR |
				       ARCHIVE_EXTRACT_ACL | ARCHIVE_EXTRACT_FFLAGS |
				       ARCHIVE_EXTRACT_SECURE_SYMLINKS |
				       ARCHIVE_EXTRACT_SECURE_NODOTDOT);
	struct copy c = {w, src, base, dst};
	int r = walk_tree(src, copy_one, &c, err);
	la.archive_write_free(w);
	return r;
}

int vz_tree_copy(const char *src, const char *dst, vz_error *err)
{
	return copy_tree(src, NULL, dst, err);
}

/* What base has and src does not: an overlayfs whiteout (a 0:0 character
 * device) in dst, one for a whole missing directory. */
static int whiteout_one(struct archive *d, struct archive_entry *e, const char *rel,
			void *data, vz_error *err)
{
	(void)d;
	(void)e;
	struct copy *c = data;
	if (!*rel)
		return 0;
	_cleanup_free_ char *in_src = xasprintf("%s%s", c->src, rel);
	struct stat st;
	if (lstat(in_src, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : 1;
	_cleanup_free_ char *to = xasprintf("%s%s", c->dst, rel);
	if (errno != ENOENT || mknod(to, S_IFCHR | 0000, makedev(0, 0)) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot whiteout %s", to);
	return 1;
}

int vz_tree_diff_copy(const char *src, const char *base, const char *dst, vz_error *err)
{
	int r = copy_tree(src, base, dst, err);
	struct copy c = {NULL, src, base, dst};
	return r ? r : walk_tree(base, whiteout_one, &c, err);
}

/* "NAME@VERSION": a version of a template's layer, as a CT records it */
bool vz_template_version_ok(const char *v)
{
	const char *at = v ? strchr(v, '@') : NULL;
	if (!at || at == v || !at[1] || strlen(v) > 160)
		return false;
	_cleanup_free_ char *name = strndup(v, (size_t)(at - v));
	if (!vz_template_name_ok(name))
		return false;
	for (const char *p = at + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/* The version layers/NAME stands for now (malloc'ed "NAME@VER"), or NULL */
static char *current_version(const char *layers, const char *name)
{
	_cleanup_free_ char *link = xasprintf("%s/%s", layers, name);
	char target[192];
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return NULL;
	target[n] = '\0';
	return vz_template_version_ok(target) ? xstrdup(target) : NULL;
}

/* Puts the tree at tmp in place as a new version of the template's layer,
 * layers/NAME@VERSION, and points layers/NAME (a symlink, swapped in one
 * rename) at it. CTs made earlier keep the version they were made from:
 * a refreshed template never changes a CT underneath it. */
int vz_template_install_layer(vz_ctx *ctx, const char *name, const char *tmp, char **dirp,
			      vz_error *err)
{
	_cleanup_free_ char *layers = xasprintf("%s/layers", ctx->template_dir);
	_cleanup_free_ char *link = xasprintf("%s/%s", layers, name);
	struct stat st;
	/* a layer made before versions: it becomes version 0, which the CTs
	 * made from it (and knowing no version) use */
	if (lstat(link, &st) == 0 && S_ISDIR(st.st_mode)) {
		_cleanup_free_ char *v0 = xasprintf("%s/%s@0", layers, name);
		if (rename(link, v0) < 0)
			return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot rename %s", link);
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	_cleanup_free_ char *ver = xasprintf("%s@%lld%09ld", name, (long long)ts.tv_sec,
					     ts.tv_nsec);
	_cleanup_free_ char *vdir = xasprintf("%s/%s", layers, ver);
	_cleanup_free_ char *ltmp = xasprintf("%s/.link-%s-%d", layers, name, (int)getpid());
	(void)unlink(ltmp);
	if (rename(tmp, vdir) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot rename %s", tmp);
	if (symlink(ver, ltmp) < 0 || rename(ltmp, link) < 0) {
		int e = errno;
		(void)unlink(ltmp);
		(void)rename(vdir, tmp);
		return vz_err_errno(err, VZ_E_SYSTEM, e, "cannot point %s at %s", link, ver);
	}
	if (dirp)
		*dirp = xstrdup(vdir);
	vz_template_gc(ctx, name);
	return 0;
}

/* Versions of name's layer that are not current and no CT of this root
 * stands on go (renamed out of sight first, then removed). */
void vz_template_gc(vz_ctx *ctx, const char *name)
{
	_cleanup_free_ char *layers = xasprintf("%s/layers", ctx->template_dir);
	_cleanup_free_ char *cur = current_version(layers, name);
	DIR *d = opendir(layers);
	if (!d)
		return;
	size_t nl = strlen(name);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, name, nl) || e->d_name[nl] != '@' ||
		    !vz_template_version_ok(e->d_name) || (cur && !strcmp(cur, e->d_name)) ||
		    vz_template_version_users(ctx, e->d_name))
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s", layers, e->d_name);
		_cleanup_free_ char *gone = xasprintf("%s/.build-gc-%s@%d", layers, e->d_name,
						      (int)getpid());
		if (rename(p, gone) == 0)
			(void)rm_rf(gone);
	}
	closedir(d);
}

int vz_template_layer(vz_ctx *ctx, const char *name, char **dirp, vz_error *err)
{
	*dirp = NULL;
	if (!vz_template_name_ok(name))
		return vz_err(err, VZ_E_BADVALUE, "invalid OS template name %.64s", name);
	_cleanup_free_ char *layers = xasprintf("%s/layers", ctx->template_dir);
	_cleanup_free_ char *dir = xasprintf("%s/%s", layers, name);
	/* the version it is now, resolved: a CT records it */
	char *real = realpath(dir, NULL);
	if (real) {
		*dirp = real;
		return 0;
	}
	_cleanup_free_ char *tarball = vz_template_cache(ctx, name);
	bool busybox = !strcmp(name, "busybox");
	if (!tarball && !busybox && !vz_template_defined(ctx, name))
		return vz_err(err, VZ_E_NOTEMPLATE,
			      "OS template %s not found: no cache in %s/cache and no definition "
			      "in %s/templates", name, ctx->template_dir, ctx->etc_dir);
	int lfd;
	int r = vz_lock_global(ctx, "template", &lfd, err);
	if (r)
		return r;
	if ((real = realpath(dir, NULL))) { /* made by another vzctl while we waited */
		vz_unlock(lfd);
		*dirp = real;
		return 0;
	}
	if (!tarball && !busybox) {
		/* a defined template without a cache: build it now, as
		 * Virtuozzo 7's create does */
		r = vz_template_build_locked(ctx, name, err);
		vz_unlock(lfd);
		if (!r && !(*dirp = realpath(dir, NULL)))
			r = vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot resolve %s", dir);
		return r;
	}
	_cleanup_free_ char *tmp = xasprintf("%s/.tmp-%s-%d", layers, name, (int)getpid());
	/* layers: root's only (the CT's tree below is 0755 as any /) */
	if (mkdir_p(layers, 0700) < 0 || mkdir_p(tmp, 0755) < 0) {
		vz_unlock(lfd);
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot create %s", tmp);
	}
	vz_log(ctx, 0, VZ_LOG_INFO, "Creating OS template %s", name);
	r = tarball ? vz_template_unpack(tarball, tmp, err) : build_busybox(tmp, err);
	if (!r)
		r = vz_template_install_layer(ctx, name, tmp, dirp, err);
	if (r)
		(void)rm_rf(tmp);
	vz_unlock(lfd);
	return r;
}
