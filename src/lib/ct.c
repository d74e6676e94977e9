/* The container lifecycle: create, start, stop, mount, destroy, set. Each
 * command that changes a CT holds its lock for the whole operation. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include "internal.h"

const char *vz_ct_get(const struct vz_ct *ct, const vz_ctx *ctx, const char *key)
{
	const char *v = vz_conf_get(&ct->conf, key);
	if (!v)
		v = vz_conf_get(&ctx->global, key);
	return v;
}

static bool hostname_ok(const char *h)
{
	size_t n = strlen(h);
	if (n == 0 || n > 253 || h[0] == '-' || h[0] == '.')
		return false;
	for (const char *p = h; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '.'))
			return false;
	return true;
}

int vz_ct_load(vz_ctx *ctx, unsigned ctid, struct vz_ct *ct, vz_error *err)
{
	memset(ct, 0, sizeof(*ct));
	ct->ctid = ctid;
	ct->conf_path = vz_ct_conf_path(ctx, ctid);
	int r = vz_conf_load(&ct->conf, ct->conf_path, err);
	if (r) {
		if (r == VZ_E_NOCONF)
			vz_err(err, VZ_E_NOCONF, "CT %u does not exist", ctid);
		free(ct->conf_path);
		ct->conf_path = NULL;
		return r;
	}
	const char *priv = vz_ct_get(ct, ctx, "VE_PRIVATE");
	const char *root = vz_ct_get(ct, ctx, "VE_ROOT");
	if (!priv || !*priv || !root || !*root) {
		vz_ct_free(ct);
		return vz_err(err, VZ_E_CONFIG, "CT %u: VE_PRIVATE or VE_ROOT is not set", ctid);
	}
	_cleanup_free_ char *p = vz_subst_veid(priv, ctid);
	_cleanup_free_ char *q = vz_subst_veid(root, ctid);
	if (strstr(p, "/../") || strstr(q, "/../") || p[0] != '/' || q[0] != '/') {
		vz_ct_free(ct);
		return vz_err(err, VZ_E_CONFIG, "CT %u: VE_PRIVATE/VE_ROOT must be absolute paths",
			      ctid);
	}
	ct->private_dir = vz_path(ctx, p);
	ct->root_dir = vz_path(ctx, q);
	ct->hostname = xstrdup(vz_conf_get(&ct->conf, "HOSTNAME"));
	const char *u = vz_conf_get(&ct->conf, "LOCAL_UID");
	const char *g = vz_conf_get(&ct->conf, "LOCAL_GID");
	char *end = NULL;
	unsigned long uv = u ? strtoul(u, &end, 10) : 0;
	/* the messages before vz_ct_free: u and g point into the config */
	if (u && (*end || uv > 0xffffffffUL - VZ_IDMAP_SIZE)) {
		r = vz_err(err, VZ_E_CONFIG, "CT %u: LOCAL_UID %.64s is not a valid id", ctid, u);
		vz_ct_free(ct);
		return r;
	}
	ct->uid_base = (uid_t)uv;
	unsigned long gv = g ? strtoul(g, &end, 10) : uv;
	if (g && (*end || gv > 0xffffffffUL - VZ_IDMAP_SIZE || (gv == 0) != (uv == 0))) {
		r = vz_err(err, VZ_E_CONFIG, "CT %u: LOCAL_GID %.64s is not valid", ctid, g);
		vz_ct_free(ct);
		return r;
	}
	ct->gid_base = (gid_t)gv;
	const char *t = vz_ct_get(ct, ctx, "STOP_TIMEOUT");
	ct->stop_timeout = t ? (unsigned)strtoul(t, NULL, 10) : 0;
	if (ct->stop_timeout == 0)
		ct->stop_timeout = VZ_DEFAULT_STOP_TIMEOUT;
	return 0;
}

void vz_ct_free(struct vz_ct *ct)
{
	vz_conf_free(&ct->conf);
	free(ct->conf_path);
	free(ct->private_dir);
	free(ct->root_dir);
	free(ct->hostname);
	memset(ct, 0, sizeof(*ct));
}

static char *name_link(vz_ctx *ctx, const char *name)
{
	return xasprintf("%s/%s", ctx->names_dir, name);
}

/* 0 when name is free or already ours */
static int name_free(vz_ctx *ctx, const char *name, unsigned ctid, vz_error *err)
{
	unsigned other;
	vz_error e;
	if (vz_ct_resolve(ctx, name, &other, &e) == 0 && other != ctid) {
		_cleanup_free_ char *conf = vz_ct_conf_path(ctx, other);
		if (path_exists(conf))
			return vz_err(err, VZ_E_NAME, "CT name %s is already used by CT %u",
				      name, other);
	}
	return 0;
}

static int set_name_link(vz_ctx *ctx, unsigned ctid, const char *old,
			 const char *name, vz_error *err)
{
	_cleanup_free_ char *link = name_link(ctx, name);
	_cleanup_free_ char *tmp = xasprintf("%s.tmp%d", link, (int)getpid());
	_cleanup_free_ char *target = xasprintf("../conf/%u.conf", ctid);
	(void)unlink(tmp);
	if (symlink(target, tmp) < 0 || rename(tmp, link) < 0) {
		int e = errno;
		(void)unlink(tmp);
		return vz_err_errno(err, VZ_E_NAME, e, "CT %u: cannot record name %s", ctid,
				    name);
	}
	if (old && *old && strcmp(old, name)) {
		_cleanup_free_ char *ol = name_link(ctx, old);
		(void)unlink(ol);
	}
	return 0;
}

#define MAX_PARAMS 32

/* Checks every resource value; kv gets config keys and normalised values. */
static int normalize_params(unsigned ctid, const struct vz_param *in, size_t n,
			    struct vz_param *kv, char (*vals)[96], vz_error *err)
{
	if (n > MAX_PARAMS)
		return vz_err(err, VZ_E_BADOPT, "CT %u: too many parameters", ctid);
	for (size_t i = 0; i < n; i++) {
		if (vz_res_normalize(ctid, in[i].option, in[i].value, &kv[i].option, vals[i],
				     sizeof(vals[i]), err))
			return err->code;
		kv[i].value = vals[i];
	}
	return 0;
}

static int create_ct(vz_ctx *ctx, unsigned ctid, const struct vz_create_opts *o,
		     vz_error *err)
{
	struct vz_param kv[MAX_PARAMS] = {{0}};
	char vals[MAX_PARAMS][96];
	if (normalize_params(ctid, o->params, o->nparams, kv, vals, err))
		return err->code;
	if (o->ostemplate && !vz_template_name_ok(o->ostemplate))
		return vz_err(err, VZ_E_BADVALUE, "CT %u: invalid OS template name %.64s", ctid,
			      o->ostemplate);
	const char *tmpl = o->ostemplate ? o->ostemplate
					 : vz_conf_get(&ctx->global, "DEF_OSTEMPLATE");
	if (!tmpl || !*tmpl)
		return vz_err(err, VZ_E_NOTEMPLATE_SET,
			      "CT %u: no --ostemplate given and no DEF_OSTEMPLATE", ctid);
	if (!vz_template_name_ok(tmpl))
		return vz_err(err, VZ_E_BADVALUE, "CT %u: invalid OS template name %.64s", ctid,
			      tmpl);
	if (o->name && vz_name_check(o->name, err))
		return err->code;
	if (o->hostname && !hostname_ok(o->hostname))
		return vz_err(err, VZ_E_HOSTNAME, "CT %u: invalid hostname %.64s", ctid,
			      o->hostname);
	if (o->description && !vz_conf_value_ok(o->description))
		return vz_err(err, VZ_E_BADVALUE, "CT %u: description may not hold quotes or newlines",
			      ctid);
	const char *layout = o->layout ? o->layout : vz_conf_get(&ctx->global, "VE_LAYOUT");
	if (!layout || !*layout)
		layout = "overlay";
	if (!vz_storage_layout_ok(layout))
		return vz_err(err, VZ_E_BADVALUE, "CT %u: --layout %.32s: overlay or image", ctid,
			      layout);
	const char *sample = o->config ? o->config : vz_conf_get(&ctx->global, "CONFIGFILE");
	if (sample && (!vz_template_name_ok(sample)))
		return vz_err(err, VZ_E_BADVALUE, "CT %u: invalid config name %.64s", ctid, sample);

	int lfd = -1, ifd = -1, r;
	uid_t base = 0;
	bool allocated = false;
	_cleanup_free_ char *pparent = NULL;
	if ((r = vz_lock_ct(ctx, ctid, "create", &lfd, err)))
		return r;
	struct vz_ct ct = {.ctid = ctid};
	ct.conf_path = vz_ct_conf_path(ctx, ctid);
	char *layer = NULL;
	if (path_exists(ct.conf_path)) {
		r = vz_err(err, VZ_E_PRIVEXISTS, "CT %u already exists", ctid);
		goto out;
	}
	if (o->name && (r = name_free(ctx, o->name, ctid, err)))
		goto out;
	if (sample && *sample) {
		_cleanup_free_ char *sp = xasprintf("%s/ve-%s.conf-sample", ctx->conf_dir, sample);
		if (path_exists(sp)) {
			if ((r = vz_conf_load(&ct.conf, sp, err)))
				goto out;
		} else if (o->config) {
			r = vz_err(err, VZ_E_CONFIG, "CT %u: sample config %s not found", ctid, sp);
			goto out;
		}
	}
	/* these come from vz.conf, not from a sample */
	vz_conf_unset(&ct.conf, "VE_ROOT");
	vz_conf_unset(&ct.conf, "VE_PRIVATE");
	if ((r = vz_template_layer(ctx, tmpl, &layer, err))) {
		char msg[sizeof(err->msg)];
		snprintf(msg, sizeof(msg), "CT %u: %.990s", ctid, err->msg);
		memcpy(err->msg, msg, sizeof(msg));
		goto out;
	}
	if ((r = vz_lock_global(ctx, "idmap", &ifd, err)))
		goto out;
	if ((r = vz_idmap_alloc(ctx, ctid, &base, err)))
		goto out;
	allocated = base != 0;
	if (!base)
		vz_log(ctx, ctid, VZ_LOG_WARN,
		       "CT %u is privileged (LOCAL_UID=0): its root is the host's root; "
		       "for trusted users only", ctid);
	char num[32];
	vz_conf_set(&ct.conf, "OSTEMPLATE", tmpl);
	vz_conf_set(&ct.conf, "VE_LAYOUT", layout);
	vz_conf_set(&ct.conf, "VE_ROOT", vz_conf_get(&ctx->global, "VE_ROOT"));
	vz_conf_set(&ct.conf, "VE_PRIVATE", vz_conf_get(&ctx->global, "VE_PRIVATE"));
	snprintf(num, sizeof(num), "%u", (unsigned)base);
	vz_conf_set(&ct.conf, "LOCAL_UID", num);
	vz_conf_set(&ct.conf, "LOCAL_GID", num);
	if (o->hostname)
		vz_conf_set(&ct.conf, "HOSTNAME", o->hostname);
	if (o->name)
		vz_conf_set(&ct.conf, "NAME", o->name);
	if (o->description)
		vz_conf_set(&ct.conf, "DESCRIPTION", o->description);
	for (size_t i = 0; i < o->nparams; i++)
		vz_conf_set(&ct.conf, kv[i].option, kv[i].value);
	if (sample && *sample)
		vz_conf_set(&ct.conf, "ORIGIN_SAMPLE", sample);
	{
		const char *priv = vz_conf_get(&ct.conf, "VE_PRIVATE");
		const char *root = vz_conf_get(&ct.conf, "VE_ROOT");
		if (!priv || !root) {
			r = vz_err(err, VZ_E_CONFIG, "vz.conf: VE_PRIVATE and VE_ROOT must be set");
			goto out;
		}
		_cleanup_free_ char *p = vz_subst_veid(priv, ctid);
		_cleanup_free_ char *q = vz_subst_veid(root, ctid);
		ct.private_dir = vz_path(ctx, p);
		ct.root_dir = vz_path(ctx, q);
	}
	pparent = xstrdup(ct.private_dir);
	*strrchr(pparent, '/') = '\0';
	if (mkdir_p(pparent, 0755) < 0) {
		r = vz_err_errno(err, VZ_E_CREATEPRIV, errno, "cannot create %s", pparent);
		goto out;
	}
	/* a sample's "N%" values become this host's figures */
	if ((r = vz_res_from_host(&ct.conf, ctid, pparent, err)))
		goto out;
	vz_log(ctx, ctid, VZ_LOG_INFO, "Creating container private area (%s)", tmpl);
	if ((r = vz_storage_create(ctx, &ct, layer, err)))
		goto out;
	if ((r = vz_conf_save(&ct.conf, ct.conf_path, err))) {
		(void)vz_storage_destroy(ctx, &ct, NULL);
		goto out;
	}
	if (o->name && (r = set_name_link(ctx, ctid, NULL, o->name, err))) {
		(void)vz_storage_destroy(ctx, &ct, NULL);
		(void)unlink(ct.conf_path);
		goto out;
	}
	vz_log(ctx, ctid, VZ_LOG_INFO, "Container private area was created");
out:
	if (r && allocated)
		vz_idmap_free(ctx, ctid, base);
	vz_unlock(ifd);
	free(layer);
	vz_ct_free(&ct);
	vz_unlock(lfd);
	return r;
}

/* A Ctrl-C calls the copy into an image off (the area is removed); the
 * rest of a create is short and runs to its end. */
int vz_ct_create(vz_ctx *ctx, unsigned ctid, const struct vz_create_opts *o,
		 vz_error *err)
{
	struct vz_sigguard g;
	vz_sigguard_on(&g);
	int r = create_ct(ctx, ctid, o, err);
	vz_sigguard_off(&g);
	return r;
}

static bool is_running(vz_ctx *ctx, unsigned ctid, struct vz_state *st)
{
	struct vz_state tmp;
	return vz_state_read(ctx, ctid, st ? st : &tmp) == 1;
}

/* A monitor that is going down finishes its cleanup before anyone starts
 * the CT again; one that died leaves it to us. */
static void settle(vz_ctx *ctx, struct vz_ct *ct)
{
	struct vz_state st;
	if (vz_state_read(ctx, ct->ctid, &st) == 1)
		return;
	if (st.monitor_pid > 0 && !pid_gone_within(st.monitor_pid, 15000))
		return;
	_cleanup_free_ char *path = vz_state_path(ctx, ct->ctid);
	if (!path_exists(path))
		return;
	struct vz_cgroups cg;
	vz_error e;
	if (vz_cg_detect(&cg, &e) == 0) {
		_cleanup_free_ char *rel = vz_cg_rel(ctx, ct->ctid);
		(void)vz_cg_destroy(&cg, rel);
		vz_cg_free(&cg);
	}
	(void)vz_storage_umount(ctx, ct, &e);
	vz_state_remove(ctx, ct->ctid);
}

/* Ready means the CT's init says its boot is done, never merely that a
 * command runs: systemd answers is-system-running; other inits touch
 * VZ_BOOTED (on the CT's fresh /run) from their last boot step, as
 * OpenVZ's inittab line did with /.vzfifo; sysvinit's runlevel is a
 * fallback for CTs from foreign caches. An init with none of these
 * never becomes ready, and one that exits makes the wait fail. */
#define VZ_BOOTED "/run/vz-booted"
static int wait_ready(vz_ctx *ctx, unsigned ctid, vz_error *err)
{
	char *argv[] = {"/bin/sh", "-c",
			"if [ -d /run/systemd/system ]; then "
			"case $(systemctl is-system-running --wait 2>/dev/null) in "
			"running|degraded) exit 0;; esac; exit 1; fi; "
			"[ -e " VZ_BOOTED " ] && exit 0; "
			"case $(runlevel 2>/dev/null) in *[0-9]) exit 0;; esac; exit 1",
			NULL};
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (now = t0; now.tv_sec - t0.tv_sec < 120; clock_gettime(CLOCK_MONOTONIC, &now)) {
		int st = -1;
		vz_error e;
		if (vz_ct_exec(ctx, ctid, VZ_EXEC_DIRECT, argv, &st, &e) == 0 && st == 0)
			return 0;
		/* init gone and no monitor left to start it again: it never will be */
		struct vz_state s = {0};
		if (vz_state_read(ctx, ctid, &s) != 1 &&
		    (s.monitor_pid <= 0 || kill(s.monitor_pid, 0) < 0))
			return vz_err(err, VZ_E_STARTWAIT,
				      "CT %u: init exited before the CT became ready", ctid);
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return vz_err(err, VZ_E_STARTWAIT, "CT %u: did not become ready within 2 minutes", ctid);
}

/* restore_dir: a dump to restore instead of booting init */
static int do_start(vz_ctx *ctx, struct vz_ct *ct, int flags, const char *restore_dir,
		    vz_error *err)
{
	struct vz_state st;
	settle(ctx, ct);
	if (is_running(ctx, ct->ctid, &st))
		return vz_err(err, VZ_E_RUNNING, "CT %u is already running", ct->ctid);
	if (!(flags & VZ_START_FORCE) &&
	    vz_parse_bool(vz_conf_get(&ct->conf, "DISABLED")) == 1)
		return vz_err(err, VZ_E_CONFIG, "CT %u is disabled (DISABLED=yes); use --force",
			      ct->ctid);
	if (!path_exists(ct->private_dir))
		return vz_err(err, VZ_E_NOPRIVATE, "CT %u: private area %s does not exist",
			      ct->ctid, ct->private_dir);
	if (!restore_dir)
		vz_log(ctx, ct->ctid, VZ_LOG_INFO, "Starting container...");
	bool mounted_here = false, host_view = false;
	if (is_mountpoint(ct->root_dir) && ct->uid_base) {
		/* `vzctl mount` left the host's view: swap in the CT's */
		if (umount2(ct->root_dir, 0) < 0)
			return vz_err_errno(err, VZ_E_MOUNTED, errno,
					    "CT %u: cannot unmount the host's view of %s",
					    ct->ctid, ct->root_dir);
		host_view = true;
	}
	if (!is_mountpoint(ct->root_dir)) {
		int r = vz_storage_mount(ctx, ct, true, err);
		if (r) {
			vz_error e;
			if (host_view)
				(void)vz_storage_mount(ctx, ct, false, &e);
			return r;
		}
		mounted_here = true;
	}
	_cleanup_free_ char *init = xasprintf("%s/sbin/init", ct->root_dir);
	_cleanup_free_ char *sh = xasprintf("%s/bin/sh", ct->root_dir);
	struct stat sb;
	int r = 0;
	if (lstat(init, &sb) < 0 || lstat(sh, &sb) < 0)
		r = vz_err(err, VZ_E_BROKEN, "CT %u is broken: no /sbin/init or /bin/sh",
			   ct->ctid);
	if (!r)
		r = vz_spawn_ct(ctx, ct, restore_dir, err);
	if (r) {
		vz_error e;
		if (mounted_here)
			(void)vz_storage_umount(ctx, ct, &e);
		if (host_view)
			(void)vz_storage_mount(ctx, ct, false, &e);
		return r;
	}
	if (restore_dir) {
		vz_log(ctx, ct->ctid, VZ_LOG_INFO, "Container was restored");
		return 0;
	}
	vz_log(ctx, ct->ctid, VZ_LOG_INFO, "Container start in progress...");
	if (flags & VZ_START_WAIT)
		return wait_ready(ctx, ct->ctid, err);
	return 0;
}

typedef int (*ct_op)(vz_ctx *ctx, struct vz_ct *ct, int a, int b, vz_error *err);

int vz_ct_locked(vz_ctx *ctx, unsigned ctid, const char *what, vz_ct_fn fn, void *arg,
		 vz_error *err)
{
	int lfd, r;
	struct vz_ct ct;
	if ((r = vz_ct_load(ctx, ctid, &ct, err)))
		return r;
	if ((r = vz_lock_ct(ctx, ctid, what, &lfd, err)) == 0) {
		r = fn(ctx, &ct, arg, err);
		vz_unlock(lfd);
	}
	vz_ct_free(&ct);
	return r;
}

int vz_ct_locked_guarded(vz_ctx *ctx, unsigned ctid, const char *what, vz_ct_fn fn,
			 void *arg, vz_error *err)
{
	struct vz_sigguard g;
	vz_sigguard_on(&g);
	int r = vz_ct_locked(ctx, ctid, what, fn, arg, err);
	if (!r && vz_interrupted())
		vz_log(ctx, ctid, VZ_LOG_WARN, "CT %u: interrupted: the %s was let finish", ctid,
		       what);
	vz_sigguard_off(&g);
	return r;
}

struct int_op {
	ct_op op;
	int a, b;
};

static int run_int_op(vz_ctx *ctx, struct vz_ct *ct, void *arg, vz_error *err)
{
	const struct int_op *o = arg;
	return o->op(ctx, ct, o->a, o->b, err);
}

/* Loads the CT and runs op under its lock. */
static int locked(vz_ctx *ctx, unsigned ctid, const char *what, ct_op op, int a, int b,
		  vz_error *err)
{
	struct int_op o = {op, a, b};
	return vz_ct_locked(ctx, ctid, what, run_int_op, &o, err);
}

int vz_ct_start_from(vz_ctx *ctx, struct vz_ct *ct, const char *dir, vz_error *err)
{
	return do_start(ctx, ct, 0, dir, err);
}

static int start_op(vz_ctx *ctx, struct vz_ct *ct, int flags, int b, vz_error *err)
{
	(void)b;
	/* a suspended CT (its default dump is there) resumes, as in vzctl */
	_cleanup_free_ char *dump = vz_dump_default(ctx, ct->ctid);
	struct vz_state st;
	if (vz_dump_exists(dump) && !is_running(ctx, ct->ctid, &st)) {
		int r = vz_cpt_restore_locked(ctx, ct, dump, err);
		if (!r)
			(void)rm_rf(dump);
		return r;
	}
	return do_start(ctx, ct, flags, NULL, err);
}

int vz_ct_start(vz_ctx *ctx, unsigned ctid, int flags, vz_error *err)
{
	return locked(ctx, ctid, "start", start_op, flags, 0, err);
}

static int do_stop(vz_ctx *ctx, struct vz_ct *ct, int flags, vz_error *err)
{
	struct vz_state st;
	if (!is_running(ctx, ct->ctid, &st)) {
		settle(ctx, ct);
		return vz_err(err, VZ_E_NOTRUNNING, "CT %u is not running", ct->ctid);
	}
	vz_log(ctx, ct->ctid, VZ_LOG_INFO, "Stopping container ...");
	int pidfd = (int)syscall(SYS_pidfd_open, st.init_pid, 0);
	if (pidfd < 0)
		return vz_err_errno(err, VZ_E_STOP, errno, "CT %u: pidfd", ct->ctid);
	bool gone = false;
	if (!(flags & VZ_STOP_FAST)) {
		int sig = atoi(st.halt_signal);
		if (sig <= 0 || sig >= NSIG)
			sig = SIGPWR;
		if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) == 0)
			gone = pid_gone_within(st.init_pid, (int)ct->stop_timeout * 1000);
		if (!gone)
			vz_log(ctx, ct->ctid, VZ_LOG_WARN,
			       "CT %u did not stop in %u s, killing it", ct->ctid, ct->stop_timeout);
	}
	if (!gone) {
		(void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		gone = pid_gone_within(st.init_pid, 10000);
	}
	close(pidfd);
	if (!gone)
		return vz_err(err, VZ_E_STOP, "CT %u: unable to stop: init does not exit",
			      ct->ctid);
	/* the monitor unmounts and removes the state; wait for it */
	if (st.monitor_pid > 0 && !pid_gone_within(st.monitor_pid, 30000))
		return vz_err(err, VZ_E_STOP, "CT %u: its monitor (pid %d) does not finish",
			      ct->ctid, (int)st.monitor_pid);
	settle(ctx, ct);
	vz_log(ctx, ct->ctid, VZ_LOG_INFO, "Container was stopped");
	return 0;
}

int vz_ct_stop_locked(vz_ctx *ctx, struct vz_ct *ct, int flags, vz_error *err)
{
	vz_ct_thaw_stale(ctx, ct); /* a frozen init would never hear the halt */
	if (is_running(ctx, ct->ctid, NULL)) {
		/* thawed by chkpnt --resume only; a stop must not wait on it */
		vz_error e;
		(void)vz_ct_cg_freeze(ctx, ct->ctid, false, &e);
	}
	return do_stop(ctx, ct, flags, err);
}

static int stop_op(vz_ctx *ctx, struct vz_ct *ct, int flags, int b, vz_error *err)
{
	(void)b;
	return vz_ct_stop_locked(ctx, ct, flags, err);
}

int vz_ct_stop(vz_ctx *ctx, unsigned ctid, int flags, vz_error *err)
{
	return locked(ctx, ctid, "stop", stop_op, flags, 0, err);
}

static int restart_op(vz_ctx *ctx, struct vz_ct *ct, int start_flags, int stop_flags,
		      vz_error *err)
{
	struct vz_state st;
	int r = 0;
	if (is_running(ctx, ct->ctid, &st))
		r = do_stop(ctx, ct, stop_flags, err);
	return r ? r : do_start(ctx, ct, start_flags, NULL, err);
}

int vz_ct_restart(vz_ctx *ctx, unsigned ctid, int start_flags, int stop_flags,
		  vz_error *err)
{
	return locked(ctx, ctid, "restart", restart_op, start_flags, stop_flags, err);
}

static int mount_op(vz_ctx *ctx, struct vz_ct *ct, int a, int b, vz_error *err)
{
	(void)a;
	(void)b;
	settle(ctx, ct);
	return vz_storage_mount(ctx, ct, false, err);
}

int vz_ct_mount(vz_ctx *ctx, unsigned ctid, vz_error *err)
{
	return locked(ctx, ctid, "mount", mount_op, 0, 0, err);
}

static int umount_op(vz_ctx *ctx, struct vz_ct *ct, int a, int b, vz_error *err)
{
	struct vz_state st;
	(void)a;
	(void)b;
	if (is_running(ctx, ct->ctid, &st))
		return vz_err(err, VZ_E_RUNNING, "CT %u is running; stop it first", ct->ctid);
	return vz_storage_umount(ctx, ct, err);
}

int vz_ct_umount(vz_ctx *ctx, unsigned ctid, vz_error *err)
{
	return locked(ctx, ctid, "umount", umount_op, 0, 0, err);
}

static int destroy_op(vz_ctx *ctx, struct vz_ct *ct, int a, int b, vz_error *err)
{
	struct vz_state st;
	vz_error e;
	int r;
	(void)a;
	(void)b;
	settle(ctx, ct);
	if (is_running(ctx, ct->ctid, &st))
		return vz_err(err, VZ_E_RUNNING, "CT %u is running; stop it first", ct->ctid);
	if (is_mountpoint(ct->root_dir) && (r = vz_storage_umount(ctx, ct, err)))
		return r;
	_cleanup_free_ char *dump = vz_dump_default(ctx, ct->ctid);
	(void)rm_rf(dump);
	vz_log(ctx, ct->ctid, VZ_LOG_INFO, "Destroying container private area: %s",
	       ct->private_dir);
	if ((r = vz_storage_destroy(ctx, ct, err)))
		return r;
	const char *name = vz_conf_get(&ct->conf, "NAME");
	if (name && *name && vz_name_check(name, &e) == 0) {
		unsigned owner;
		_cleanup_free_ char *link = name_link(ctx, name);
		if (vz_ct_resolve(ctx, name, &owner, &e) == 0 && owner == ct->ctid)
			(void)unlink(link);
	}
	_cleanup_free_ char *gone = xasprintf("%s.destroyed", ct->conf_path);
	if (rename(ct->conf_path, gone) < 0)
		return vz_err_errno(err, VZ_E_DELETE, errno, "CT %u: cannot remove %s",
				    ct->ctid, ct->conf_path);
	/* its ids may go to the next CT, here or in another root */
	vz_idmap_free(ctx, ct->ctid, ct->uid_base);
	/* an old version of its template that only this CT stood on goes */
	const char *t = vz_conf_get(&ct->conf, "OSTEMPLATE");
	int tl;
	if (t && vz_template_name_ok(t) && vz_lock_global(ctx, "template", &tl, &e) == 0) {
		vz_template_gc(ctx, t);
		vz_unlock(tl);
	}
	vz_log(ctx, ct->ctid, VZ_LOG_INFO, "Container private area was destroyed");
	return 0;
}

int vz_ct_destroy_locked(vz_ctx *ctx, struct vz_ct *ct, vz_error *err)
{
	return destroy_op(ctx, ct, 0, 0, err);
}

int vz_ct_destroy(vz_ctx *ctx, unsigned ctid, vz_error *err)
{
	struct int_op o = {destroy_op, 0, 0};
	return vz_ct_locked_guarded(ctx, ctid, "destroy", run_int_op, &o, err);
}

int vz_ct_status(vz_ctx *ctx, unsigned ctid, struct vz_status *s, vz_error *err)
{
	(void)err;
	memset(s, 0, sizeof(*s));
	struct vz_ct ct;
	vz_error e;
	if (vz_ct_load(ctx, ctid, &ct, &e)) {
		if (e.code != VZ_E_NOCONF) {
			*err = e;
			return e.code;
		}
		return 0;
	}
	s->exists = path_exists(ct.private_dir);
	s->mounted = is_mountpoint(ct.root_dir);
	struct vz_state st;
	if (vz_state_read(ctx, ctid, &st) == 1) {
		s->running = true;
		s->init_pid = st.init_pid;
	} else {
		_cleanup_free_ char *dump = vz_dump_default(ctx, ctid);
		s->suspended = vz_dump_exists(dump);
	}
	vz_ct_free(&ct);
	return 0;
}

struct live_names {
	const char *host, *ns, *search;
};

/* inside the CT: 2 hostname failed, 3 resolv.conf failed */
static int names_inside(void *arg)
{
	const struct live_names *n = arg;
	if (n->host) {
		if (sethostname(n->host, strlen(n->host)) < 0)
			return 2;
		(void)vz_distro_hostname(n->host);
	}
	return vz_dns_write(n->ns, n->search) < 0 ? 3 : 0;
}

/* Applies the hostname inside a running CT: its UTS name, /etc/hostname
 * and /etc/hosts. */
static int set_live_in_ct(vz_ctx *ctx, struct vz_ct *ct, const char *h, const char *ns,
			  const char *search, vz_error *err)
{
	struct vz_state st;
	if (!vz_state_read(ctx, ct->ctid, &st))
		return 0;
	_cleanup_free_ char *nsx = vz_dns_expand(ns); /* the host's, for "inherit" */
	struct live_names n = {h, nsx, search};
	int s = vz_run_in_ct(ctx, ct, &st, names_inside, &n);
	if (s < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "fork");
	if (s == 3)
		return vz_err(err, VZ_E_BADDNS, "CT %u: cannot write /etc/resolv.conf", ct->ctid);
	if (s)
		return vz_err(err, VZ_E_HOSTNAME, "CT %u: cannot set hostname %s", ct->ctid,
			      h ? h : "");
	return 0;
}

int vz_ct_set(vz_ctx *ctx, unsigned ctid, const struct vz_set_opts *o, vz_error *err)
{
	if (o->hostname && !hostname_ok(o->hostname))
		return vz_err(err, VZ_E_HOSTNAME, "CT %u: invalid hostname %.64s", ctid,
			      o->hostname);
	if (o->name && vz_name_check(o->name, err))
		return err->code;
	if (o->description && !vz_conf_value_ok(o->description))
		return vz_err(err, VZ_E_BADVALUE,
			      "CT %u: description may not hold quotes or newlines", ctid);
	if (!o->save && (o->name || o->description || o->onboot >= 0))
		return vz_err(err, VZ_E_BADOPT,
			      "CT %u: --name, --description and --onboot need --save", ctid);
	bool net = o->nipadd || o->nipdel || o->nnetif_add || o->nnetif_del || o->ifname ||
		   o->bridge || o->mac || o->host_ifname || o->host_mac || o->gw || o->dhcp;
	if (!o->hostname && !o->name && !o->description && o->onboot < 0 && !o->nparams &&
	    !net && !o->nnameserver && !o->nsearchdomain)
		return vz_err(err, VZ_E_NOTENOUGH, "CT %u: nothing to set", ctid);
	_cleanup_free_ char *ns = NULL;
	_cleanup_free_ char *search = NULL;
	if (vz_dns_check(ctid, o, &ns, &search, err))
		return err->code;
	_cleanup_free_ struct vz_netchange *nc = xcalloc(1, sizeof(*nc));
	if (net && vz_netcfg_check(ctx, ctid, o, nc, err))
		return err->code;
	/* every value is checked before anything is applied or saved */
	struct vz_param kv[MAX_PARAMS] = {{0}};
	char vals[MAX_PARAMS][96];
	if (normalize_params(ctid, o->params, o->nparams, kv, vals, err))
		return err->code;
	int lfd, r;
	struct vz_ct ct;
	struct vz_state st;
	_cleanup_free_ char *old = NULL;
	if ((r = vz_ct_load(ctx, ctid, &ct, err)))
		return r;
	if ((r = vz_lock_ct(ctx, ctid, "set", &lfd, err)))
		goto out;
	bool running = is_running(ctx, ctid, &st);
	if (!running && !o->save) {
		r = vz_err(err, VZ_E_NOTRUNNING,
			   "CT %u is not running: nothing applied (use --save)", ctid);
		goto unlock;
	}
	const char *oldname = vz_conf_get(&ct.conf, "NAME");
	old = oldname ? xstrdup(oldname) : NULL;
	if (o->name && (r = name_free(ctx, o->name, ctid, err)))
		goto unlock;
	const char *space = NULL, *inodes = NULL;
	for (size_t i = 0; i < o->nparams; i++) {
		const char *k = kv[i].option ? kv[i].option : ""; /* all set by normalize_params */
		if (!strcmp(k, "DISKSPACE"))
			space = kv[i].value;
		else if (!strcmp(k, "DISKINODES"))
			inodes = kv[i].value;
	}
	if ((space || inodes) && !o->save) {
		/* an image grown live stays grown: say so in the config */
		r = vz_err(err, VZ_E_BADVALUE,
			   "CT %u: --diskspace and --diskinodes change the CT's disk: use --save",
			   ctid);
		goto unlock;
	}
	if ((space || inodes) &&
	    (r = vz_storage_set_disk(ctx, &ct, space, inodes, running, err)))
		goto unlock;
	if (o->nparams && running && (r = vz_res_apply_live(ctx, &ct, kv, o->nparams, err)))
		goto unlock;
	if (net && running && (r = vz_netcfg_apply(ctx, &ct, &st, nc, err)))
		goto unlock;
	if (net && running && o->dhcp && (r = vz_netcfg_dhcp_live(ctx, &ct, nc, err)))
		goto unlock;
	if ((o->hostname || ns || search) && running &&
	    (r = set_live_in_ct(ctx, &ct, o->hostname, ns, search, err)))
		goto unlock;
	if (o->save) {
		for (size_t i = 0; i < o->nparams; i++)
			vz_conf_set(&ct.conf, kv[i].option, kv[i].value);
		if (net)
			vz_netcfg_save(&ct, nc);
		if (o->hostname)
			vz_conf_set(&ct.conf, "HOSTNAME", o->hostname);
		if (ns)
			vz_conf_set(&ct.conf, "NAMESERVER", ns);
		if (search)
			vz_conf_set(&ct.conf, "SEARCHDOMAIN", search);
		if (o->name)
			vz_conf_set(&ct.conf, "NAME", o->name);
		if (o->description)
			vz_conf_set(&ct.conf, "DESCRIPTION", o->description);
		if (o->onboot >= 0)
			vz_conf_set(&ct.conf, "ONBOOT", o->onboot ? "yes" : "no");
		if ((r = vz_conf_save(&ct.conf, ct.conf_path, err)))
			goto unlock;
		if (o->name && (r = set_name_link(ctx, ctid, old, o->name, err)))
			goto unlock;
		vz_log(ctx, ctid, VZ_LOG_INFO, "Saved parameters for CT %u", ctid);
	}
unlock:
	vz_unlock(lfd);
out:
	vz_ct_free(&ct);
	return r;
}

int vz_ct_stat(vz_ctx *ctx, unsigned ctid, struct vz_bc *rows, size_t max, size_t *n,
	       vz_error *err)
{
	struct vz_ct ct;
	struct vz_state st;
	*n = 0;
	int r = vz_ct_load(ctx, ctid, &ct, err);
	if (r)
		return r;
	if (!is_running(ctx, ctid, &st))
		r = vz_err(err, VZ_E_NOTRUNNING, "CT %u is not running", ctid);
	else
		r = vz_res_stat(ctx, &ct, rows, max, n, err);
	vz_ct_free(&ct);
	return r;
}
