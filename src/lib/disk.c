/* A CT's disk: its size limit (DISKSPACE, an ext4 image's size, grown
 * live; never shrunk), its inodes (DISKINODES, fixed when the image is
 * made), converting between the overlay and image layouts, and giving
 * freed blocks back to the host. Every change is built aside and swapped
 * in with one rename, so an interrupted one leaves the CT as it was. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include "internal.h"

static char *pfile(const struct vz_ct *ct, const char *name)
{
	return xasprintf("%s/%s", ct->private_dir, name);
}

/* Swaps the private area for the one built in dir; the old one is then
 * removed. RENAME_EXCHANGE: at every instant one whole area is in place. */
static int swap_area(struct vz_ct *ct, const char *dir, vz_error *err)
{
	/* the CT's snapshots go along with it */
	_cleanup_free_ char *snaps = pfile(ct, "snapshots");
	_cleanup_free_ char *nsnaps = xasprintf("%s/snapshots", dir);
	bool moved = path_exists(snaps);
	if (moved && rename(snaps, nsnaps) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "CT %u: cannot move %s", ct->ctid,
				    snaps);
	if (renameat2(AT_FDCWD, dir, AT_FDCWD, ct->private_dir, RENAME_EXCHANGE) < 0) {
		int e = errno;
		if (moved)
			(void)rename(nsnaps, snaps);
		return vz_err_errno(err, VZ_E_SYSTEM, e, "CT %u: cannot swap in %s",
				    ct->ctid, dir);
	}
	_cleanup_free_ char *mnt = xasprintf("%s/mnt", dir);
	(void)vz_image_umount(mnt, NULL);
	(void)rm_rf(dir);
	return 0;
}

/* Builds a new private area in PRIVATE.new holding the CT's current tree
 * (read through the host's view at VE_ROOT) in the given layout. */
static int rebuild_area(vz_ctx *ctx, struct vz_ct *ct, bool image, vz_error *err)
{
	unsigned long long kb = vz_disk_hard(vz_conf_get(&ct->conf, "DISKSPACE"));
	unsigned long long inodes = vz_disk_hard(vz_conf_get(&ct->conf, "DISKINODES"));
	if (image && !kb)
		return vz_err(err, VZ_E_DISKSPACE,
			      "CT %u: the image layout needs a size: set --diskspace first",
			      ct->ctid);
	_cleanup_free_ char *neu = xasprintf("%s.new", ct->private_dir);
	_cleanup_free_ char *nmnt = xasprintf("%s/mnt", neu);
	(void)vz_image_umount(nmnt, NULL); /* a convert that was killed */
	(void)rm_rf(neu);
	if (mkdir(neu, 0700) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot create %s", neu);
	int r = 0;
	vz_error e;
	_cleanup_free_ char *dst = NULL, *work = NULL;
	/* overlay: only what differs from the template goes up */
	_cleanup_free_ char *layer = image ? NULL : vz_storage_layer(ctx, ct);
	if (!image && (!layer || !path_exists(layer))) {
		r = vz_err(err, VZ_E_NOTEMPLATE, "CT %u: its template layer is missing", ct->ctid);
		goto fail;
	}
	if (kb) {
		_cleanup_free_ char *img = xasprintf("%s/%s", neu, image ? "root.img" : "upper.img");
		if ((r = vz_image_create(img, kb, inodes, err)) ||
		    (r = vz_image_mount(img, nmnt, err)))
			goto fail;
		_cleanup_free_ char *lf = xasprintf("%s/lost+found", nmnt);
		if (!image)
			(void)rmdir(lf);
		dst = image ? xstrdup(nmnt) : xasprintf("%s/fs", nmnt);
	} else {
		dst = xasprintf("%s/fs", neu);
	}
	work = xasprintf("%s/work", kb ? nmnt : neu);
	if ((!image && (mkdir(dst, 0755) < 0 || mkdir(work, 0700) < 0))) {
		r = vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot create %s", dst);
		goto fail;
	}
	r = image ? vz_tree_copy(ct->root_dir, dst, err)
		  : vz_tree_diff_copy(ct->root_dir, layer, dst, err);
	struct statvfs sv;
	if (r && kb && statvfs(nmnt, &sv) == 0 && (sv.f_bavail < 256 || sv.f_favail < 16))
		r = vz_err(err, VZ_E_BADVALUE,
			   "CT %u: its files do not fit in DISKSPACE %llu KB (or DISKINODES)",
			   ct->ctid, kb);
	if (r)
		goto fail;
	if (kb && ((r = vz_image_sync(nmnt, err)) || (r = vz_image_umount(nmnt, err))))
		goto fail;
	if (!image && vz_storage_record_layer(neu, layer) < 0) {
		r = vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot write %s/.layer", neu);
		goto fail;
	}
	return 0;
fail:
	(void)vz_image_umount(nmnt, &e);
	(void)rm_rf(neu);
	return r;
}

static int convert_op(vz_ctx *ctx, struct vz_ct *ct, void *arg, vz_error *err)
{
	const char *layout = arg;
	bool image = !strcmp(layout, "image");
	struct vz_state st;
	vz_error e;
	int r = 0;
	if (vz_state_read(ctx, ct->ctid, &st) == 1)
		return vz_err(err, VZ_E_RUNNING, "CT %u is running; stop it to convert", ct->ctid);
	if (!path_exists(ct->private_dir))
		return vz_err(err, VZ_E_NOPRIVATE, "CT %u: private area %s does not exist",
			      ct->ctid, ct->private_dir);
	if (vz_storage_is_image(ct) == image) {
		const char *cur = vz_conf_get(&ct->conf, "VE_LAYOUT");
		if (!cur || !strcmp(cur, layout))
			return vz_err(err, VZ_E_BADVALUE, "CT %u has the %s layout already",
				      ct->ctid, layout);
		/* a convert killed after its swap: the config catches up */
		vz_conf_set(&ct->conf, "VE_LAYOUT", layout);
		return vz_conf_save(&ct->conf, ct->conf_path, err);
	}
	if (is_mountpoint(ct->root_dir))
		return vz_err(err, VZ_E_MOUNTED, "CT %u is mounted; umount it first", ct->ctid);
	if ((r = vz_storage_mount(ctx, ct, false, err)))
		return r;
	vz_log(ctx, ct->ctid, VZ_LOG_INFO, "Converting CT %u to the %s layout", ct->ctid, layout);
	r = rebuild_area(ctx, ct, image, err);
	if (vz_storage_umount(ctx, ct, &e) && !r)
		r = vz_err(err, e.code, "%s", e.msg);
	_cleanup_free_ char *neu = xasprintf("%s.new", ct->private_dir);
	if (!r)
		r = swap_area(ct, neu, err);
	if (!r) {
		vz_conf_set(&ct->conf, "VE_LAYOUT", layout);
		r = vz_conf_save(&ct->conf, ct->conf_path, err);
	}
	if (!r)
		vz_log(ctx, ct->ctid, VZ_LOG_INFO, "CT %u converted to the %s layout", ct->ctid,
		       layout);
	return r;
}

int vz_ct_convert(vz_ctx *ctx, unsigned ctid, const char *layout, vz_error *err)
{
	if (!layout || (strcmp(layout, "image") && strcmp(layout, "overlay")))
		return vz_err(err, VZ_E_BADVALUE, "CT %u: --layout %.32s: overlay or image", ctid,
			      layout ? layout : "(none)");
	return vz_ct_locked_guarded(ctx, ctid, "convert", convert_op, (void *)layout, err);
}

/* DISKSPACE/DISKINODES from `set`: grows the image (live when mounted);
 * a CT without an image gets one (stopped only). */
int vz_storage_set_disk(vz_ctx *ctx, struct vz_ct *ct, const char *space, const char *inodes,
			bool running, vz_error *err)
{
	_cleanup_free_ char *img = vz_storage_image(ct);
	/* "unlimited": an overlay CT's upper layer goes back to directories */
	bool lift = space && !vz_disk_hard(space);
	if (lift && !img)
		return 0;
	if (lift && vz_storage_is_image(ct))
		return vz_err(err, VZ_E_DISKSPACE,
			      "CT %u: the image layout needs a size: convert it to overlay first",
			      ct->ctid);
	if (img && !lift) {
		const char *old = vz_conf_get(&ct->conf, "DISKINODES");
		if (inodes && vz_disk_hard(inodes) != vz_disk_hard(old))
			return vz_err(err, VZ_E_BADVALUE,
				      "CT %u: --diskinodes is fixed once its image is made "
				      "(convert the CT to make a new one)", ct->ctid);
		if (!space)
			return 0;
		_cleanup_free_ char *mnt = vz_storage_backing_mnt(ct);
		int r = vz_image_grow(img, mnt, vz_disk_hard(space), err);
		if (r == VZ_E_PERM && running) {
			/* saved, and grown offline when the CT next starts */
			vz_log(ctx, ct->ctid, VZ_LOG_WARN,
			       "CT %u: this host does not let ext4 grow online "
			       "(no CAP_SYS_RESOURCE); --diskspace applies at the next start",
			       ct->ctid);
			return 0;
		}
		return r;
	}
	/* an overlay CT with its upper layer in plain directories, or one
	 * whose image goes */
	if (running)
		return vz_err(err, VZ_E_RUNNING,
			      lift ? "CT %u: stop it to lift its disk limit"
				   : "CT %u has no disk image yet: stop it to put a disk limit on it",
			      ct->ctid);
	if (is_mountpoint(ct->root_dir))
		return vz_err(err, VZ_E_MOUNTED, "CT %u is mounted; umount it first", ct->ctid);
	if (!space)
		return 0; /* inodes alone: used when an image is made */
	vz_conf_set(&ct->conf, "DISKSPACE", space);
	if (inodes)
		vz_conf_set(&ct->conf, "DISKINODES", inodes);
	vz_error e;
	int r = vz_storage_mount(ctx, ct, false, err);
	if (r)
		return r;
	r = rebuild_area(ctx, ct, false, err);
	if (vz_storage_umount(ctx, ct, &e) && !r)
		r = vz_err(err, e.code, "%s", e.msg);
	_cleanup_free_ char *neu = xasprintf("%s.new", ct->private_dir);
	if (!r)
		r = swap_area(ct, neu, err);
	return r;
}

static int compact_op(vz_ctx *ctx, struct vz_ct *ct, void *arg, vz_error *err)
{
	(void)ctx;
	unsigned long long *trimmed = arg;
	_cleanup_free_ char *mnt = vz_storage_backing_mnt(ct);
	_cleanup_free_ char *img = vz_storage_image(ct);
	if (!img)
		return vz_err(err, VZ_E_BADVALUE, "CT %u has no disk image to compact", ct->ctid);
	if (is_mountpoint(mnt))
		return vz_image_compact(mnt, trimmed, err);
	int r = vz_image_mount(img, mnt, err);
	if (r)
		return r;
	r = vz_image_compact(mnt, trimmed, err);
	vz_error e;
	if (vz_image_umount(mnt, &e) && !r)
		r = vz_err(err, e.code, "%s", e.msg);
	return r;
}

int vz_ct_compact(vz_ctx *ctx, unsigned ctid, unsigned long long *trimmed, vz_error *err)
{
	return vz_ct_locked_guarded(ctx, ctid, "compact", compact_op, trimmed, err);
}
