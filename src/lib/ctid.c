/* CT ids and names, checked before they ever reach a path. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include "internal.h"

int vz_ctid_parse(const char *s, unsigned *ctid, vz_error *err)
{
	if (!s || !*s)
		return vz_err(err, VZ_E_BADVALUE, "empty CT ID");
	size_t n = strlen(s);
	if (n > 10)
		return vz_err(err, VZ_E_BADVALUE, "invalid CT ID %.32s%s: too long", s,
			      n > 32 ? "..." : "");
	unsigned long long v = 0;
	for (const char *p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return vz_err(err, VZ_E_BADVALUE,
				      "invalid CT ID %s: not a number", s);
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v == 0 || v > VZ_CTID_MAX)
		return vz_err(err, VZ_E_BADVALUE,
			      "invalid CT ID %s: must be 1..%u", s, VZ_CTID_MAX);
	*ctid = (unsigned)v;
	return 0;
}

/* vzctl's rule: [0-9A-Za-z-+_.], not all digits (that would be an id) */
int vz_name_check(const char *name, vz_error *err)
{
	if (!name || !*name)
		return vz_err(err, VZ_E_NAME, "empty CT name");
	size_t n = strlen(name);
	if (n > VZ_NAME_MAX)
		return vz_err(err, VZ_E_NAME, "invalid CT name: longer than %d characters",
			      VZ_NAME_MAX);
	bool digits = true;
	for (const char *p = name; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (!(isalnum(c) || c == '-' || c == '+' || c == '_' || c == '.'))
			return vz_err(err, VZ_E_NAME,
				      "invalid CT name %s: only letters, digits and -+_. allowed",
				      name);
		if (!isdigit(c))
			digits = false;
	}
	if (digits)
		return vz_err(err, VZ_E_NAME, "invalid CT name %s: all digits", name);
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return vz_err(err, VZ_E_NAME, "invalid CT name %s", name);
	return 0;
}

int vz_ct_resolve(vz_ctx *ctx, const char *s, unsigned *ctid, vz_error *err)
{
	if (s && *s && strspn(s, "0123456789") == strlen(s))
		return vz_ctid_parse(s, ctid, err);
	vz_error e2;
	if (vz_name_check(s, &e2))
		return vz_err(err, VZ_E_BADVALUE,
			      "invalid CT ID or name %.64s", s ? s : "");
	_cleanup_free_ char *link = xasprintf("%s/%s", ctx->names_dir, s);
	char target[PATH_MAX];
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return vz_err(err, VZ_E_BADVALUE, "invalid CT ID %s: no CT has this name", s);
	target[n] = '\0';
	const char *base = strrchr(target, '/');
	base = base ? base + 1 : target;
	char idbuf[16];
	size_t len = strcspn(base, ".");
	if (len == 0 || len >= sizeof(idbuf) || strcmp(base + len, ".conf"))
		return vz_err(err, VZ_E_NAME, "CT name %s points to %s, not a CT config",
			      s, target);
	memcpy(idbuf, base, len);
	idbuf[len] = '\0';
	return vz_ctid_parse(idbuf, ctid, err);
}
