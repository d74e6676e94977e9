/* Storage: the private area is an overlayfs upper layer over the shared
 * template. Files are kept with unshifted ids (uid 0 on disk): both layers
 * are shown through idmapped mounts and the overlay is mounted from inside
 * a user namespace holding the CT's map, so nothing is chowned or copied
 * and the private area moves between hosts whatever their id ranges. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/mount.h>
#include "internal.h"

/* The layer an overlay CT stands on: the version it recorded at create
 * (PRIVATE/.layer, "NAME@VER"), else (made before versions) NAME@0 when
 * a refresh has kept it so, else the template's current layer. */
char *vz_storage_layer(vz_ctx *ctx, const struct vz_ct *ct)
{
	_cleanup_free_ char *f = xasprintf("%s/.layer", ct->private_dir);
	_cleanup_free_ char *v = read_file(f, NULL);
	if (v) {
		v[strcspn(v, "\n")] = '\0';
		if (vz_template_version_ok(v))
			return xasprintf("%s/layers/%s", ctx->template_dir, v);
	}
	const char *t = vz_conf_get(&ct->conf, "OSTEMPLATE");
	if (!t || !vz_template_name_ok(t))
		return NULL;
	char *v0 = xasprintf("%s/layers/%s@0", ctx->template_dir, t);
	if (path_exists(v0))
		return v0;
	free(v0);
	/* the current version, resolved: tree walks do not follow links */
	_cleanup_free_ char *cur = xasprintf("%s/layers/%s", ctx->template_dir, t);
	char *real = realpath(cur, NULL);
	return real ? real : xstrdup(cur);
}

/* Records which version of its template's layer a new area stands on. */
int vz_storage_record_layer(const char *area, const char *layer)
{
	_cleanup_free_ char *real = realpath(layer, NULL);
	const char *b = real ? strrchr(real, '/') : NULL;
	if (!b || !vz_template_version_ok(b + 1))
		return 0; /* an unversioned layer (busybox built before versions) */
	_cleanup_free_ char *f = xasprintf("%s/.layer", area);
	_cleanup_free_ char *line = xasprintf("%s\n", b + 1);
	return write_file(f, line, strlen(line), O_CREAT | O_TRUNC) < 0 ? -1 : 0;
}

/* Where a CT's files are: a private area holding root.img is the image
 * layout (the CT's whole tree in one ext4 image); otherwise overlay, its
 * upper layer either plain directories (fs, work) or, under a disk limit,
 * inside upper.img. The area says what it is, so a convert interrupted
 * between its steps never leaves config and files disagreeing. */
static char *priv_file(const struct vz_ct *ct, const char *name)
{
	return xasprintf("%s/%s", ct->private_dir, name);
}

bool vz_storage_is_image(const struct vz_ct *ct)
{
	_cleanup_free_ char *img = priv_file(ct, "root.img");
	return path_exists(img);
}

/* The image under the CT's files, if any (malloc'ed), and its mount point */
char *vz_storage_image(const struct vz_ct *ct)
{
	char *img = priv_file(ct, "root.img");
	if (path_exists(img))
		return img;
	free(img);
	img = priv_file(ct, "upper.img");
	if (path_exists(img))
		return img;
	free(img);
	return NULL;
}

char *vz_storage_backing_mnt(const struct vz_ct *ct)
{
	return priv_file(ct, "mnt");
}

/* ---- what host users can reach of a CT's files ----
 * A CT's root makes whatever files it likes: setuid-root programs, and
 * (a privileged CT, or a template) device nodes. None of that may work for
 * anyone on the host. So every host-side view of a CT's files (vzctl
 * mount, the image's mount, convert's and compact's temporary mounts, the
 * host's side of a running CT's root) is nosuid,nodev, and the
 * directories above them are root's alone (0700). */
#define HOST_VIEW (MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)

static int set_attrs(const char *dir, uint64_t set, uint64_t clr)
{
	struct mount_attr a = {.attr_set = set, .attr_clr = clr};
	return (int)syscall(SYS_mount_setattr, AT_FDCWD, dir, AT_SYMLINK_NOFOLLOW, &a,
			    sizeof(a));
}

/* The CT's own view is cloned from the host's mount at VE_ROOT when its
 * init (or a restore) gets its mount namespace, and a clone made for a
 * user namespace keeps the flags locked: the CT could never lift nosuid
 * itself, and su, sudo and systemd inside need setuid. So the host's mount
 * drops nosuid just for the clone and takes it back at once. A CT in a
 * user namespace keeps nodev (overlayfs mounted there has it anyway); a
 * privileged CT gets its devices, as before. */
int vz_storage_ct_view(const struct vz_ct *ct, bool for_ct, vz_error *err)
{
	uint64_t lift = MOUNT_ATTR_NOSUID | (ct->uid_base ? 0 : MOUNT_ATTR_NODEV);
	if (set_attrs(ct->root_dir, for_ct ? 0 : HOST_VIEW, for_ct ? lift : 0) < 0)
		return vz_err_errno(err, VZ_E_MOUNT, errno, "CT %u: cannot set the flags of %s",
				    ct->ctid, ct->root_dir);
	return 0;
}

/* mode of one of vz's directories; none is the CT's to make (an
 * administrator's symlink, /vz/private -> /data/private, is followed) */
static int chmod_dir(const char *path, mode_t mode)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	struct stat st;
	int r = fstat(fd, &st);
	if (r == 0 && (st.st_mode & 07777) != mode)
		r = fchmod(fd, mode);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

/* The parent of a CT's directory, when it is one of vz's own (under
 * ROOT/vz): an administrator's VE_PRIVATE=/srv/$VEID leaves /srv alone. */
static char *vz_parent(const vz_ctx *ctx, const char *dir)
{
	_cleanup_free_ char *vz = xasprintf("%s/vz/", ctx->root);
	char *p = xstrdup(dir);
	char *sl = strrchr(p, '/');
	if (!sl || strncmp(p, vz, strlen(vz)) || sl < p + strlen(vz)) {
		free(p);
		return NULL;
	}
	*sl = '\0';
	return p;
}

/* The directories holding the CT's files are root's only (0700), made so
 * at create and again at each mount and start, so that a root made by an
 * older vz (0755) is closed too. None of them needs to be searched by the
 * CT's mapped root: the CT's init starts with its cwd on the CT root, and
 * the layers reach the user namespace that mounts the overlay as
 * descriptors (mount_userns). */
int vz_storage_secure(vz_ctx *ctx, const struct vz_ct *ct, vz_error *err)
{
	_cleanup_free_ char *rp = vz_parent(ctx, ct->root_dir);
	_cleanup_free_ char *pp = vz_parent(ctx, ct->private_dir);
	_cleanup_free_ char *snaps = xasprintf("%s/snapshots", ct->private_dir);
	_cleanup_free_ char *layers = xasprintf("%s/layers", ctx->template_dir);
	_cleanup_free_ char *dump = vz_dump_default(ctx, ct->ctid);
	*strrchr(dump, '/') = '\0';
	/* a mounted VE_ROOT shows the CT's own / (its mode is the CT's) */
	const char *root = is_mountpoint(ct->root_dir) ? NULL : ct->root_dir;
	const char *dirs[] = {rp, pp, ct->private_dir, snaps, layers, dump, root};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		if (dirs[i] && chmod_dir(dirs[i], 0700) < 0)
			return vz_err_errno(err, VZ_E_SYSTEM, errno, "CT %u: cannot close %s",
					    ct->ctid, dirs[i]);
	return 0;
}

static int mount_backing(struct vz_ct *ct, vz_error *err)
{
	_cleanup_free_ char *img = vz_storage_image(ct);
	_cleanup_free_ char *mnt = vz_storage_backing_mnt(ct);
	if (!img)
		return 0;
	if (is_mountpoint(mnt)) {
		/* mounted already (by an older vz, maybe): a host view all the same */
		if (set_attrs(mnt, HOST_VIEW, 0) < 0)
			return vz_err_errno(err, VZ_E_MOUNT, errno, "CT %u: cannot set the flags of %s",
					    ct->ctid, mnt);
		return 0;
	}
	/* a --diskspace that could not be applied live is applied now */
	unsigned long long kb = vz_disk_hard(vz_conf_get(&ct->conf, "DISKSPACE"));
	struct stat st;
	if (kb && stat(img, &st) == 0 && (unsigned long long)st.st_size / 1024 < kb) {
		int g = vz_image_grow(img, NULL, kb, err);
		if (g)
			return g;
	}
	int r = vz_image_mount(img, mnt, err);
	if (r)
		return r;
	(void)mount(NULL, mnt, NULL, MS_PRIVATE, NULL);
	return 0;
}

static int umount_backing(struct vz_ct *ct, vz_error *err)
{
	_cleanup_free_ char *mnt = vz_storage_backing_mnt(ct);
	return vz_image_umount(mnt, err);
}

int vz_storage_layout_ok(const char *layout)
{
	return !layout || !*layout || !strcmp(layout, "overlay") || !strcmp(layout, "image");
}

/* The new private area's contents, made in dir (a temp name) */
static int make_area(vz_ctx *ctx, struct vz_ct *ct, const char *dir, bool image,
		     const char *layer, vz_error *err)
{
	unsigned long long kb = vz_disk_hard(vz_conf_get(&ct->conf, "DISKSPACE"));
	unsigned long long inodes = vz_disk_hard(vz_conf_get(&ct->conf, "DISKINODES"));
	_cleanup_free_ char *mnt = xasprintf("%s/mnt", dir);
	_cleanup_free_ char *img = xasprintf("%s/%s", dir, image ? "root.img" : "upper.img");
	if (!image && !kb) {
		_cleanup_free_ char *fs = xasprintf("%s/fs", dir);
		_cleanup_free_ char *work = xasprintf("%s/work", dir);
		if (mkdir(fs, 0755) < 0 || mkdir(work, 0700) < 0)
			return vz_err_errno(err, VZ_E_CREATEPRIV, errno,
					    "CT %u: cannot create %s", ct->ctid, fs);
		return 0;
	}
	if (!kb)
		return vz_err(err, VZ_E_DISKSPACE,
			      "CT %u: the image layout needs a size (--diskspace)", ct->ctid);
	int r = vz_image_create(img, kb, inodes, err);
	if (r || (r = vz_image_mount(img, mnt, err)))
		return r;
	if (image) {
		vz_log(ctx, ct->ctid, VZ_LOG_DEBUG, "copying %s into %s", layer, img);
		r = vz_tree_copy(layer, mnt, err);
	} else {
		_cleanup_free_ char *fs = xasprintf("%s/fs", mnt);
		_cleanup_free_ char *work = xasprintf("%s/work", mnt);
		if (mkdir(fs, 0755) < 0 || mkdir(work, 0700) < 0)
			r = vz_err_errno(err, VZ_E_CREATEPRIV, errno, "CT %u: cannot create %s",
					 ct->ctid, fs);
		_cleanup_free_ char *lf = xasprintf("%s/lost+found", mnt);
		(void)rmdir(lf);
	}
	if (!r)
		r = vz_image_sync(mnt, err);
	vz_error e;
	if (vz_image_umount(mnt, &e) && !r)
		r = vz_err(err, e.code, "%s", e.msg);
	return r;
}

int vz_storage_create(vz_ctx *ctx, struct vz_ct *ct, const char *layer,
		      vz_error *err)
{
	if (path_exists(ct->private_dir))
		return vz_err(err, VZ_E_PRIVEXISTS, "CT %u: private area %s already exists",
			      ct->ctid, ct->private_dir);
	const char *layout = vz_conf_get(&ct->conf, "VE_LAYOUT");
	if (!vz_storage_layout_ok(layout))
		return vz_err(err, VZ_E_BADVALUE, "CT %u: layout %.32s: overlay or image",
			      ct->ctid, layout);
	bool image = layout && !strcmp(layout, "image");
	int r = vz_storage_secure(ctx, ct, err);
	if (r)
		return r;
	_cleanup_free_ char *tmp = xasprintf("%s.tmp", ct->private_dir);
	_cleanup_free_ char *tmnt = xasprintf("%s/mnt", tmp);
	(void)vz_image_umount(tmnt, NULL); /* left by a create that was killed */
	(void)rm_rf(tmp);
	if (mkdir_p(tmp, 0700) < 0 || chmod(tmp, 0700) < 0) {
		int e = errno;
		(void)rm_rf(tmp);
		return vz_err_errno(err, VZ_E_CREATEPRIV, e,
				    "CT %u: cannot create private area %s", ct->ctid,
				    ct->private_dir);
	}
	r = make_area(ctx, ct, tmp, image, layer, err);
	if (!r && !image && vz_storage_record_layer(tmp, layer) < 0)
		r = vz_err_errno(err, VZ_E_CREATEPRIV, errno, "CT %u: cannot write %s/.layer",
				 ct->ctid, tmp);
	if (!r && rename(tmp, ct->private_dir) < 0)
		r = vz_err_errno(err, VZ_E_CREATEPRIV, errno,
				 "CT %u: cannot create private area %s", ct->ctid,
				 ct->private_dir);
	if (r) {
		(void)vz_image_umount(tmnt, NULL);
		(void)rm_rf(tmp);
		return r;
	}
	vz_log(ctx, ct->ctid, VZ_LOG_DEBUG, "private area %s created", ct->private_dir);
	return 0;
}

static int idmapped_clone(const char *path, int userns, vz_error *err)
{
	int fd = (int)syscall(SYS_open_tree, AT_FDCWD, path,
			      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (fd < 0)
		return -vz_err_errno(err, VZ_E_MOUNT, errno, "open_tree %s", path);
	struct mount_attr a = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (__u64)userns};
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		return -vz_err_errno(err, VZ_E_MOUNT, e, "idmapped mount of %s", path);
	}
	return fd;
}

static int fscfg(int fs, const char *key, const char *val)
{
	return (int)syscall(SYS_fsconfig, fs, val ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG,
			    key, val, 0);
}

/* Runs in a child inside a user namespace with the CT's map, its cwd on
 * the staging directory (so that no host path need be searchable by the
 * mapped root): receives the idmapped layers, attaches them in its private
 * mount namespace, builds the overlay and hands the detached mount back
 * over sock. Errors go back as text. */
static void overlay_helper(int sock)
{
	char msg[256] = "";
	const char *sl = "lower", *sp = "private", *up = "private/fs", *wk = "private/work";
	int lower = recv_fd(sock);
	int priv = lower < 0 ? -1 : recv_fd(sock);
	if (priv < 0)
		_exit(1); /* the parent failed and says why itself */
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		snprintf(msg, sizeof(msg), "setresuid: %s", strerror(errno));
	else if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		snprintf(msg, sizeof(msg), "make / private: %s", strerror(errno));
	else if (syscall(SYS_move_mount, lower, "", AT_FDCWD, sl, MOVE_MOUNT_F_EMPTY_PATH) < 0 ||
		 syscall(SYS_move_mount, priv, "", AT_FDCWD, sp, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		snprintf(msg, sizeof(msg), "attach layers: %s", strerror(errno));
	else {
		int fs = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
		if (fs < 0 || fscfg(fs, "lowerdir", sl) < 0 || fscfg(fs, "upperdir", up) < 0 ||
		    fscfg(fs, "workdir", wk) < 0 || fscfg(fs, "userxattr", NULL) < 0 ||
		    /* the upper layer may be in the CT's image, another
		     * file system than the template's: without xino, the
		     * template's files show their layer's st_dev, not the
		     * overlay's, and criu cannot
		     * find the path of an inotify watch on one (systemd's on
		     * /etc/localtime: "Can't dump that handle") */
		    fscfg(fs, "xino", "on") < 0 ||
		    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
			snprintf(msg, sizeof(msg), "overlay: %s", strerror(errno));
		} else {
			/* nosuid,nodev from the start: it is attached on the host
			 * first (vz_storage_ct_view) */
			int m = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, HOST_VIEW);
			if (m < 0)
				snprintf(msg, sizeof(msg), "fsmount: %s", strerror(errno));
			else if (send_fd(sock, m) < 0)
				snprintf(msg, sizeof(msg), "send: %s", strerror(errno));
			else
				_exit(0);
		}
	}
	/* the first byte is eaten by the parent's recv_fd */
	(void)write_all(sock, "E", 1);
	(void)write_all(sock, msg, strlen(msg));
	_exit(1);
}

static int mount_userns(vz_ctx *ctx, struct vz_ct *ct, const char *layer,
			const char *upper, vz_error *err)
{
	int ret = 0, lower = -1, priv = -1, ns = -1, sk[2] = {-1, -1}, m = -1;
	_cleanup_free_ char *stage = xasprintf("%s/%u.mnt", ctx->run_dir, ct->ctid);
	_cleanup_free_ char *sl = xasprintf("%s/lower", stage);
	_cleanup_free_ char *sp = xasprintf("%s/private", stage);
	/* 0711: the helper, the CT's mapped root (nobody to the host), looks
	 * up the layers' mount points by name from its cwd here; it lists
	 * nothing, and what is mounted on them is its mount namespace's only */
	if (mkdir_p(sl, 0711) < 0 || mkdir_p(sp, 0711) < 0 || chmod(stage, 0711) < 0)
		return vz_err_errno(err, VZ_E_MOUNT, errno, "cannot create %s", stage);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sk) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "socketpair");
	pid_t c = fork();
	if (c < 0) {
		ret = vz_err_errno(err, VZ_E_SYSTEM, errno, "fork");
		goto out;
	}
	if (c == 0) {
		close(sk[0]);
		char ok = chdir(stage) == 0 && unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0
				  ? 'y' : 'n';
		if (write_all(sk[1], &ok, 1) < 0 || ok != 'y')
			_exit(1);
		overlay_helper(sk[1]);
	}
	close(sk[1]);
	sk[1] = -1;
	char ok = 'n';
	if (read_all(sk[0], &ok, 1) != 1 || ok != 'y') {
		ret = vz_err(err, VZ_E_MOUNT, "CT %u: cannot create a user namespace", ct->ctid);
		goto reap;
	}
	/* the helper's namespace holds the CT's map: it idmaps the layers */
	if ((ret = vz_write_idmaps(c, ct->uid_base, ct->gid_base, err)))
		goto reap;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)c);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0) {
		ret = vz_err_errno(err, VZ_E_MOUNT, errno, "cannot open %s", path);
		goto reap;
	}
	if (!layer) {
		/* the image layout: the CT's tree itself, idmapped, no overlay */
		m = idmapped_clone(upper, ns, err);
		if (m < 0) {
			ret = -m;
			m = -1;
		}
		close(sk[0]); /* the helper sees EOF and goes */
		sk[0] = -1;
		goto reap;
	}
	lower = idmapped_clone(layer, ns, err);
	if (lower < 0) {
		ret = -lower;
		goto reap;
	}
	priv = idmapped_clone(upper, ns, err);
	if (priv < 0) {
		ret = -priv;
		goto reap;
	}
	if (send_fd(sk[0], lower) < 0 || send_fd(sk[0], priv) < 0) {
		ret = vz_err_errno(err, VZ_E_SYSTEM, errno, "CT %u: mount helper", ct->ctid);
		goto reap;
	}
	m = recv_fd(sk[0]);
	if (m < 0) {
		char msg[256] = "";
		ssize_t n = read(sk[0], msg, sizeof(msg) - 1);
		msg[n > 0 ? n : 0] = '\0';
		ret = vz_err(err, VZ_E_MOUNT, "CT %u: cannot mount %s: %s", ct->ctid,
			     ct->root_dir, *msg ? msg : "helper failed");
	}
reap:
	if (ret)
		kill(c, SIGKILL);
	(void)waitpid(c, NULL, 0);
	if (m >= 0) {
		if (syscall(SYS_move_mount, m, "", AT_FDCWD, ct->root_dir,
			    MOVE_MOUNT_F_EMPTY_PATH) < 0)
			ret = vz_err_errno(err, VZ_E_MOUNT, errno, "CT %u: cannot mount %s",
					   ct->ctid, ct->root_dir);
		close(m);
	}
out:
	if (ns >= 0)
		close(ns);
	if (lower >= 0)
		close(lower);
	if (priv >= 0)
		close(priv);
	for (int i = 0; i < 2; i++)
		if (sk[i] >= 0)
			close(sk[i]);
	(void)rmdir(sl);
	(void)rmdir(sp);
	(void)rmdir(stage);
	return ret;
}

int vz_storage_mount(vz_ctx *ctx, struct vz_ct *ct, bool for_ct, vz_error *err)
{
	if (!path_exists(ct->private_dir))
		return vz_err(err, VZ_E_NOPRIVATE, "CT %u: private area %s does not exist",
			      ct->ctid, ct->private_dir);
	if (is_mountpoint(ct->root_dir))
		return vz_err(err, VZ_E_MOUNTED, "CT %u is already mounted", ct->ctid);
	bool image = vz_storage_is_image(ct);
	_cleanup_free_ char *layer = image ? NULL : vz_storage_layer(ctx, ct);
	if (!image && !layer)
		return vz_err(err, VZ_E_CONFIG, "CT %u: OSTEMPLATE is not set or invalid",
			      ct->ctid);
	if (layer && !path_exists(layer))
		return vz_err(err, VZ_E_NOTEMPLATE,
			      "CT %u: template layer %s is missing", ct->ctid, layer);
	int r = vz_storage_secure(ctx, ct, err);
	if (r)
		return r;
	if (mkdir_p(ct->root_dir, 0700) < 0)
		return vz_err_errno(err, VZ_E_MOUNT, errno, "cannot create %s", ct->root_dir);
	r = mount_backing(ct, err);
	if (r)
		return r;
	_cleanup_free_ char *img = vz_storage_image(ct);
	_cleanup_free_ char *upper = img ? vz_storage_backing_mnt(ct) : xstrdup(ct->private_dir);
	/* The private area holds ids as the CT sees them (root is 0), like
	 * OpenVZ's: the host's view of a stopped CT is a plain overlay (or
	 * the image's tree), where host root reads and writes as the CT's
	 * root; a running CT gets its layers idmapped to its user namespace. */
	if (ct->uid_base && for_ct) {
		r = mount_userns(ctx, ct, layer, upper, err);
	} else if (image) {
		/* a bind keeps the image mount's nosuid,nodev */
		r = mount(upper, ct->root_dir, NULL, MS_BIND, NULL) < 0
			    ? vz_err_errno(err, VZ_E_MOUNT, errno, "CT %u: cannot mount %s",
					   ct->ctid, ct->root_dir)
			    : 0;
	} else {
		_cleanup_free_ char *opts = xasprintf(
			"lowerdir=%s,upperdir=%s/fs,workdir=%s/work,userxattr", layer, upper,
			upper);
		r = mount("overlay", ct->root_dir, "overlay", MS_NOSUID | MS_NODEV, opts) < 0
			    ? vz_err_errno(err, VZ_E_MOUNT, errno, "CT %u: cannot mount %s",
					   ct->ctid, ct->root_dir)
			    : 0;
	}
	if (r) {
		vz_error e;
		(void)umount_backing(ct, &e);
		return r;
	}
	/* host mounts must not leak into the CT's tree and back */
	(void)mount(NULL, ct->root_dir, NULL, MS_PRIVATE, NULL);
	/* whichever way it was made, the host's view is nosuid,nodev */
	if ((r = vz_storage_ct_view(ct, false, err))) {
		vz_error e;
		(void)vz_storage_umount(ctx, ct, &e);
		return r;
	}
	vz_log(ctx, ct->ctid, VZ_LOG_DEBUG, "mounted %s", ct->root_dir);
	return 0;
}

int vz_storage_umount(vz_ctx *ctx, struct vz_ct *ct, vz_error *err)
{
	if (!is_mountpoint(ct->root_dir)) {
		(void)umount_backing(ct, err);
		return vz_err(err, VZ_E_NOTMOUNTED, "CT %u is not mounted", ct->ctid);
	}
	if (umount2(ct->root_dir, 0) < 0) {
		if (errno != EBUSY || umount2(ct->root_dir, MNT_DETACH) < 0)
			return vz_err_errno(err, VZ_E_UMOUNT, errno, "CT %u: cannot unmount %s",
					    ct->ctid, ct->root_dir);
		vz_log(ctx, ct->ctid, VZ_LOG_DEBUG, "%s was busy, detached", ct->root_dir);
	}
	return umount_backing(ct, err);
}

int vz_storage_destroy(vz_ctx *ctx, struct vz_ct *ct, vz_error *err)
{
	(void)ctx;
	int r = umount_backing(ct, err);
	if (r)
		return r;
	/* rename first: a destroy killed halfway leaves no half CT behind */
	_cleanup_free_ char *gone = xasprintf("%s.destroyed", ct->private_dir);
	if (path_exists(ct->private_dir) && rename(ct->private_dir, gone) < 0)
		return vz_err_errno(err, VZ_E_DELETE, errno, "CT %u: cannot remove %s",
				    ct->ctid, ct->private_dir);
	if (rm_rf(gone) < 0)
		return vz_err_errno(err, VZ_E_DELETE, errno, "CT %u: cannot remove %s",
				    ct->ctid, gone);
	(void)rmdir(ct->root_dir);
	return 0;
}
