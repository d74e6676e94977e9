/* User namespace id ranges: each CT's root maps to VZ_IDMAP_SIZE host ids
 * of its own, allocated without overlap and recorded in the CT config. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include "internal.h"

int vz_idmap_alloc(vz_ctx *ctx, unsigned ctid, uid_t *base, vz_error *err)
{
	const char *b = vz_conf_get(&ctx->global, "LOCAL_UID");
	unsigned long first = b ? strtoul(b, NULL, 10) : 100000;
	if (first == 0) {
		*base = 0; /* the host asks for privileged CTs */
		return 0;
	}
	/* slots already taken by the other CTs of this root */
	size_t nused = 0, cap = 64;
	unsigned long *used = xmalloc(cap * sizeof(*used));
	DIR *d = opendir(ctx->conf_dir);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			unsigned id;
			char tail[8];
			if (sscanf(e->d_name, "%u.con%7s", &id, tail) != 2 || strcmp(tail, "f") ||
			    id == ctid)
				continue;
			_cleanup_free_ char *p = xasprintf("%s/%s", ctx->conf_dir, e->d_name);
			struct vz_conf c;
			if (vz_conf_load(&c, p, NULL))
				continue;
			const char *u = vz_conf_get(&c, "LOCAL_UID");
			if (u && strtoul(u, NULL, 10) > 0) {
				if (nused == cap) {
					cap *= 2;
					unsigned long *n = realloc(used, cap * sizeof(*used));
					if (!n)
						abort();
					used = n;
				}
				used[nused++] = strtoul(u, NULL, 10);
			}
			vz_conf_free(&c);
		}
		closedir(d);
	}
	int ret = vz_err(err, VZ_E_RESOURCE, "CT %u: no free user id range left", ctid);
	for (unsigned long cand = first; cand + VZ_IDMAP_SIZE <= 0xffffffffUL;
	     cand += VZ_IDMAP_SIZE) {
		bool clash = false;
		for (size_t i = 0; i < nused; i++)
			if (used[i] < cand + VZ_IDMAP_SIZE && cand < used[i] + VZ_IDMAP_SIZE)
				clash = true;
		if (!clash) {
			*base = (uid_t)cand;
			ret = 0;
			break;
		}
	}
	free(used);
	return ret;
}

int vz_write_idmaps(pid_t pid, uid_t uid_base, gid_t gid_base, vz_error *err)
{
	char path[64], map[64];
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	snprintf(map, sizeof(map), "0 %u %u\n", (unsigned)uid_base, VZ_IDMAP_SIZE);
	if (write_str(path, map) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot write %s", path);
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	snprintf(map, sizeof(map), "0 %u %u\n", (unsigned)gid_base, VZ_IDMAP_SIZE);
	if (write_str(path, map) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot write %s", path);
	return 0;
}
