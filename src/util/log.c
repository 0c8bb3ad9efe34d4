/* log.c - see log.h. */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>

#include "util/banned.h"

static void stderr_sink(enum dd_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	fprintf(stderr, "drydock: %s%s\n", level == DD_LOG_WARN ? "warning: " : "", msg);
}

static dd_log_sink g_sink = stderr_sink;
static void *g_ctx;
static enum dd_log_level g_min = DD_LOG_WARN;

void dd_log_set_sink(dd_log_sink sink, void *ctx)
{
	g_sink = sink ? sink : stderr_sink;
	g_ctx = ctx;
}

void dd_log_set_level(enum dd_log_level min)
{
	g_min = min;
}

void dd_log(enum dd_log_level level, const char *fmt, ...)
{
	dd_error e;
	va_list ap;
	char tmp[DD_ERROR_MSG_MAX];

	if (level < g_min)
		return;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	dd_error_set(&e, 0, "%s", tmp); /* escapes control characters */
	g_sink(level, e.msg, g_ctx);
}
