/* Errors as values: a code (vzctl's exit code) and one line of text. */
#include <errno.h>
#include <string.h>
#include "internal.h"

static int vz_verr(vz_error *err, int code, int errnum, const char *fmt,
		   va_list ap)
{
	if (!err)
		return code;
	err->code = code;
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (n < 0)
		n = 0;
	if (errnum && (size_t)n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s",
			 strerror(errnum));
	/* one line, always */
	for (char *p = err->msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return code;
}

int vz_err(vz_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vz_verr(err, code, 0, fmt, ap);
	va_end(ap);
	return r;
}

int vz_err_errno(vz_error *err, int code, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vz_verr(err, code, errnum, fmt, ap);
	va_end(ap);
	return r;
}
