/* A running CT's facts in ROOT/run/vz/CTID.state, written by its monitor. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include "internal.h"

int vz_state_write(vz_ctx *ctx, unsigned ctid, const struct vz_state *s,
		   vz_error *err)
{
	if (mkdir_p(ctx->run_dir, 0755) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot create %s",
				    ctx->run_dir);
	struct vz_conf c = {0};
	char buf[32];
	snprintf(buf, sizeof(buf), "%d", (int)s->monitor_pid);
	vz_conf_set(&c, "MONITOR_PID", buf);
	snprintf(buf, sizeof(buf), "%d", (int)s->init_pid);
	vz_conf_set(&c, "INIT_PID", buf);
	snprintf(buf, sizeof(buf), "%llu", s->init_start);
	vz_conf_set(&c, "INIT_START", buf);
	vz_conf_set(&c, "HALT_SIGNAL", s->halt_signal);
	_cleanup_free_ char *path = vz_state_path(ctx, ctid);
	_cleanup_free_ char *tmp = xasprintf("%s.tmp", path);
	_cleanup_free_ char *text = vz_conf_format(&c);
	/* a new boot: execs compile its seccomp program afresh */
	vz_seccomp_cache_clear(ctx, ctid);
	int r = 0;
	/* runtime state, gone at reboot anyway: atomic, but no fsync */
	if (write_file(tmp, text, strlen(text), O_CREAT | O_TRUNC) < 0 || rename(tmp, path) < 0)
		r = vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot write %s", path);
	vz_conf_free(&c);
	return r;
}

int vz_state_read(vz_ctx *ctx, unsigned ctid, struct vz_state *s)
{
	memset(s, 0, sizeof(*s));
	_cleanup_free_ char *path = vz_state_path(ctx, ctid);
	struct vz_conf c;
	if (vz_conf_load(&c, path, NULL))
		return 0;
	const char *v;
	if ((v = vz_conf_get(&c, "MONITOR_PID")))
		s->monitor_pid = (pid_t)atoi(v);
	if ((v = vz_conf_get(&c, "INIT_PID")))
		s->init_pid = (pid_t)atoi(v);
	if ((v = vz_conf_get(&c, "INIT_START")))
		s->init_start = strtoull(v, NULL, 10);
	if ((v = vz_conf_get(&c, "HALT_SIGNAL")))
		snprintf(s->halt_signal, sizeof(s->halt_signal), "%s", v);
	vz_conf_free(&c);
	if (s->init_pid <= 0 || proc_starttime(s->init_pid) != s->init_start)
		return 0;
	return 1;
}

void vz_state_remove(vz_ctx *ctx, unsigned ctid)
{
	_cleanup_free_ char *path = vz_state_path(ctx, ctid);
	(void)unlink(path);
	vz_seccomp_cache_clear(ctx, ctid);
	vz_state_net_clear(ctx, ctid, "ip");
	vz_state_net_clear(ctx, ctid, "netif");
}

void vz_state_net_clear(vz_ctx *ctx, unsigned ctid, const char *what)
{
	_cleanup_free_ char *p = xasprintf("%s/%u.%s", ctx->run_dir, ctid, what);
	(void)unlink(p);
}

int vz_state_net_write(vz_ctx *ctx, unsigned ctid, const char *what, const char *list,
		       vz_error *err)
{
	_cleanup_free_ char *p = xasprintf("%s/%u.%s", ctx->run_dir, ctid, what);
	_cleanup_free_ char *tmp = xasprintf("%s.tmp", p);
	if (write_file(tmp, list, strlen(list), O_CREAT | O_TRUNC) < 0 || rename(tmp, p) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot write %s", p);
	return 0;
}

char *vz_state_net_read(vz_ctx *ctx, unsigned ctid, const char *what)
{
	_cleanup_free_ char *p = xasprintf("%s/%u.%s", ctx->run_dir, ctid, what);
	return read_file(p, NULL);
}
