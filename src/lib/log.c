/* vzctl.log lines: "<time> vzctl : CT <id> : <message>", as OpenVZ wrote. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include "internal.h"

void vz_log_open(vz_ctx *ctx)
{
	if (!ctx->logging || ctx->log_fd >= 0)
		return;
	_cleanup_free_ char *dir = xstrdup(ctx->log_path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		(void)mkdir_p(dir, 0755);
	}
	ctx->log_fd = open(ctx->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

void vz_log(vz_ctx *ctx, unsigned ctid, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* errors travel up as values and are printed once by the tool */
	if (ctx->verbose >= 0 && level != VZ_LOG_ERR) {
		if (level == VZ_LOG_WARN)
			fprintf(stderr, "Warning: %s\n", msg);
		else if (level == VZ_LOG_INFO)
			fprintf(stdout, "%s\n", msg);
		else if (ctx->verbose >= 1)
			fprintf(stderr, "%s\n", msg);
	}
	vz_log_open(ctx);
	if (ctx->log_fd < 0)
		return;
	char ts[64];
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S%z", &tm);
	char line[1200];
	int n = ctid ? snprintf(line, sizeof(line), "%s %s : CT %u : %s\n", ts,
				ctx->progname, ctid, msg)
		     : snprintf(line, sizeof(line), "%s %s : %s\n", ts, ctx->progname, msg);
	if (n > 0)
		(void)write_all(ctx->log_fd, line, strlen(line));
}
