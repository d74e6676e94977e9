/* What vzlist shows: every CT of this root with its status and usage. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include "internal.h"

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

int vz_ct_info(vz_ctx *ctx, unsigned ctid, struct vz_ct_info *info, vz_error *err)
{
	struct vz_ct ct;
	int r = vz_ct_load(ctx, ctid, &ct, err);
	if (r)
		return r;
	memset(info, 0, sizeof(*info));
	info->ctid = ctid;
	copy(info->name, sizeof(info->name), vz_conf_get(&ct.conf, "NAME"));
	copy(info->hostname, sizeof(info->hostname), vz_conf_get(&ct.conf, "HOSTNAME"));
	copy(info->ip, sizeof(info->ip), vz_conf_get(&ct.conf, "IP_ADDRESS"));
	/* and the addresses of its bridged veths (ip= in NETIF entries) */
	const char *nf = vz_conf_get(&ct.conf, "NETIF");
	for (const char *p = nf; p && (p = strstr(p, "ip=")); p += 3) {
		if (p != nf && p[-1] != ',')
			continue;
		size_t n = strcspn(p + 3, ",;/"), len = strlen(info->ip);
		if (len + n + 2 < sizeof(info->ip))
			snprintf(info->ip + len, sizeof(info->ip) - len, "%s%.*s", len ? " " : "",
				 (int)n, p + 3);
	}
	copy(info->description, sizeof(info->description),
	     vz_conf_get(&ct.conf, "DESCRIPTION"));
	copy(info->ostemplate, sizeof(info->ostemplate), vz_conf_get(&ct.conf, "OSTEMPLATE"));
	copy(info->private_dir, sizeof(info->private_dir), ct.private_dir);
	copy(info->root_dir, sizeof(info->root_dir), ct.root_dir);
	copy(info->layout, sizeof(info->layout), vz_ct_get(&ct, ctx, "VE_LAYOUT"));
	info->onboot = vz_parse_bool(vz_conf_get(&ct.conf, "ONBOOT")) == 1;
	info->privileged = ct.uid_base == 0;
	info->mounted = is_mountpoint(ct.root_dir);
	struct vz_state st;
	info->running = vz_state_read(ctx, ctid, &st) == 1;
	if (!info->running) {
		_cleanup_free_ char *dump = vz_dump_default(ctx, ctid);
		info->suspended = vz_dump_exists(dump);
	}
	info->numproc = -1;
	if (info->running) {
		struct vz_cgroups cg;
		vz_error e;
		if (vz_cg_detect(&cg, &e) == 0) {
			_cleanup_free_ char *rel = vz_cg_rel(ctx, ctid);
			info->numproc = vz_cg_count_procs(&cg, rel);
			vz_cg_free(&cg);
		}
	}
	vz_res_info(ctx, &ct, info->running, info);
	vz_ct_free(&ct);
	return 0;
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return x < y ? -1 : x > y;
}

int vz_list_ids(vz_ctx *ctx, unsigned **out, size_t *n, vz_error *err)
{
	*out = NULL;
	*n = 0;
	DIR *d = opendir(ctx->conf_dir);
	if (!d)
		return errno == ENOENT ? 0
				       : vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot read %s",
						      ctx->conf_dir);
	size_t cap = 16, cnt = 0;
	unsigned *ids = xmalloc(cap * sizeof(*ids));
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *dot = strchr(e->d_name, '.');
		if (!dot || strcmp(dot, ".conf"))
			continue;
		char idbuf[16];
		size_t len = (size_t)(dot - e->d_name);
		if (len == 0 || len >= sizeof(idbuf))
			continue;
		memcpy(idbuf, e->d_name, len);
		idbuf[len] = '\0';
		unsigned id;
		vz_error ie;
		if (vz_ctid_parse(idbuf, &id, &ie))
			continue;
		if (cnt == cap) {
			cap *= 2;
			unsigned *nids = realloc(ids, cap * sizeof(*ids));
			if (!nids)
				abort();
			ids = nids;
		}
		ids[cnt++] = id;
	}
	closedir(d);
	qsort(ids, cnt, sizeof(*ids), cmp_uint);
	*out = ids;
	*n = cnt;
	return 0;
}

int vz_list(vz_ctx *ctx, struct vz_ct_info **out, size_t *n, vz_error *err)
{
	unsigned *ids;
	size_t cnt;
	*out = NULL;
	*n = 0;
	int r = vz_list_ids(ctx, &ids, &cnt, err);
	if (r)
		return r;
	struct vz_ct_info *info = xcalloc(cnt ? cnt : 1, sizeof(*info));
	size_t got = 0;
	for (size_t i = 0; i < cnt; i++) {
		vz_error ie;
		if (vz_ct_info(ctx, ids[i], &info[got], &ie) == 0)
			got++;
	}
	free(ids);
	*out = info;
	*n = got;
	return 0;
}
