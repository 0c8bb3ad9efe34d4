/* buf.c - see buf.h. */
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/banned.h"

static size_t limit(const dd_buf *b)
{
	return b->max ? b->max : DD_BUF_DEFAULT_MAX;
}

void dd_buf_init(dd_buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
	b->failed = 0;
}

int dd_buf_grow(dd_buf *b, size_t extra)
{
	size_t need, ncap;
	char *p;

	if (b->failed)
		return b->failed;
	if (dd_add_size(&need, b->len, extra) || need > limit(b))
		return b->failed = DD_EINPUT;
	if (need + 1 <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need + 1) {
		if (ncap > ((size_t)-1) / 2) {
			ncap = need + 1;
			break;
		}
		ncap *= 2;
	}
	if (ncap > limit(b) + 1)
		ncap = limit(b) + 1;
	p = realloc(b->data, ncap);
	if (!p)
		return b->failed = DD_EENV;
	b->data = p;
	b->cap = ncap;
	return 0;
}

int dd_buf_append(dd_buf *b, const void *p, size_t n)
{
	int rc = dd_buf_grow(b, n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int dd_buf_puts(dd_buf *b, const char *s)
{
	return dd_buf_append(b, s, strlen(s));
}

int dd_buf_putc(dd_buf *b, char c)
{
	return dd_buf_append(b, &c, 1);
}

int dd_buf_vprintf(dd_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	if (b->failed)
		return b->failed;
	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return b->failed = DD_EINTERNAL;
	if (dd_buf_grow(b, (size_t)n))
		return b->failed;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int dd_buf_printf(dd_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;
	va_start(ap, fmt);
	rc = dd_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

const char *dd_buf_cstr(const dd_buf *b)
{
	return b->data ? b->data : "";
}

void dd_buf_reset(dd_buf *b)
{
	b->len = 0;
	b->failed = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *dd_buf_detach(dd_buf *b, size_t *len_out)
{
	char *p = b->data;
	if (!p)
		p = calloc(1, 1);
	if (len_out)
		*len_out = b->len;
	dd_buf_init(b, b->max);
	return p;
}

void dd_buf_release(dd_buf *b)
{
	free(b->data);
	dd_buf_init(b, b->max);
}

int dd_buf_error(const dd_buf *b, dd_error *err, const char *what)
{
	if (b->failed == DD_EINPUT)
		return dd_error_set(err, DD_EINPUT, "%s is larger than the limit of %zu bytes",
				    what, limit(b));
	if (b->failed)
		return dd_error_oom(err);
	return 0;
}

void *dd_calloc(size_t n, size_t size)
{
	size_t t;
	if (dd_mul_size(&t, n, size))
		return NULL;
	return calloc(n ? n : 1, size ? size : 1);
}

char *dd_strdup(const char *s)
{
	return s ? dd_strndup(s, strlen(s)) : NULL;
}

char *dd_strndup(const char *s, size_t n)
{
	char *p;
	if (!s)
		return NULL;
	n = strnlen(s, n);
	p = malloc(n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int dd_buf_put_utf8(dd_buf *b, unsigned cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return dd_buf_append(b, u, n);
}
