/* error.c - see error.h. */
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/banned.h"

/* Escape control bytes in place into dst (bounded). */
static void sanitize(char *dst, size_t cap, const char *src)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)src; *p && o + 1 < cap; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			if (o + 5 >= cap)
				break;
			o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", *p);
		} else {
			dst[o++] = (char)*p;
		}
	}
	dst[o] = '\0';
}

int dd_error_set(dd_error *err, int code, const char *fmt, ...)
{
	char tmp[DD_ERROR_MSG_MAX];
	va_list ap;

	if (!err)
		return code;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	err->code = code;
	sanitize(err->msg, sizeof(err->msg), tmp);
	return code;
}

int dd_error_prefix(dd_error *err, const char *fmt, ...)
{
	char pre[DD_ERROR_MSG_MAX], raw[DD_ERROR_MSG_MAX], tmp[2 * DD_ERROR_MSG_MAX + 4];
	va_list ap;

	if (!err)
		return DD_EINTERNAL;
	if (err->code == 0)
		err->code = DD_EINTERNAL;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	sanitize(pre, sizeof(pre), raw);
	snprintf(tmp, sizeof(tmp), "%s: %s", pre, err->msg);
	memcpy(err->msg, tmp, sizeof(err->msg) - 1);
	err->msg[sizeof(err->msg) - 1] = '\0';
	return err->code;
}

int dd_error_oom(dd_error *err)
{
	return dd_error_set(err, DD_EENV, "out of memory");
}

void dd_error_clear(dd_error *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

int dd_exit_code(int code)
{
	if (code >= 0)
		return 0;
	if (code < DD_EINTERNAL)
		return 5;
	return -code;
}

const char *dd_error_kind(int code)
{
	switch (code) {
	case DD_OK: return "ok";
	case DD_EGATE: return "gate failed";
	case DD_EUSAGE: return "usage";
	case DD_EINPUT: return "bad input";
	case DD_EENV: return "environment";
	default: return "internal error";
	}
}
