/* The capability bounding set of a CT, as OpenVZ's default list: what a
 * VPS root needs, without loading modules, raw I/O or setting the clock.
 * CAPABILITY="name:on name:off" in the CT config adjusts it. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include "internal.h"

static const cap_value_t default_off[] = {
	CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_SYS_TIME, CAP_MAC_ADMIN, CAP_MAC_OVERRIDE,
	CAP_SYSLOG, CAP_WAKE_ALARM, CAP_BLOCK_SUSPEND, CAP_AUDIT_CONTROL,
	CAP_SYS_PACCT,
};

int vz_caps_apply_bounding(const char *conf, vz_error *err)
{
	bool off[CAP_LAST_CAP + 1] = {false};
	for (size_t i = 0; i < ARRAY_SIZE(default_off); i++)
		off[default_off[i]] = true;
	if (conf && *conf) {
		_cleanup_free_ char *c = xstrdup(conf);
		char *save = NULL;
		for (char *t = strtok_r(c, " ,", &save); t; t = strtok_r(NULL, " ,", &save)) {
			char *colon = strchr(t, ':');
			int on = colon ? vz_parse_bool(colon + 1) : -1;
			if (on < 0)
				return vz_err(err, VZ_E_CAP, "CAPABILITY %s: expected name:on|off", t);
			*colon = '\0';
			_cleanup_free_ char *name = xasprintf("cap_%s", t);
			cap_value_t v;
			if (cap_from_name(name, &v) < 0 || v > CAP_LAST_CAP)
				return vz_err(err, VZ_E_CAP, "CAPABILITY: unknown capability %s", t);
			off[v] = !on;
		}
	}
	for (cap_value_t v = 0; v <= CAP_LAST_CAP; v++) {
		if (!off[v] || !CAP_IS_SUPPORTED(v))
			continue;
		if (prctl(PR_CAPBSET_DROP, (unsigned long)v, 0, 0, 0) < 0 && errno != EINVAL)
			return vz_err_errno(err, VZ_E_CAP, errno, "cannot drop capability %d", v);
	}
	return 0;
}
