/*
 * buf.h - the one growable byte buffer, for every string or blob built from
 * untrusted input.
 *
 * A dd_buf has a hard maximum size; growing past it (or failing to allocate)
 * makes the buffer "failed": further appends are ignored and return the same
 * error, so a sequence of appends can be checked once at the end.  The data
 * is always NUL-terminated (data[len] == '\0') once anything was appended.
 *
 * Memory: the buffer owns `data`; dd_buf_release() frees it, dd_buf_detach()
 * hands it to the caller (who frees it with free()).
 */
#ifndef DD_UTIL_BUF_H
#define DD_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "util/error.h"

typedef struct dd_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;  /* hard limit on len; 0 means DD_BUF_DEFAULT_MAX */
	int failed;  /* sticky: DD_EINPUT (too large) or DD_EENV (no memory) */
} dd_buf;

#define DD_BUF_DEFAULT_MAX ((size_t)1 << 30)
#define DD_BUF_INIT_MAX(m) { NULL, 0, 0, (m), 0 }
#define DD_BUF_INIT DD_BUF_INIT_MAX(0)

void dd_buf_init(dd_buf *b, size_t max);
int dd_buf_grow(dd_buf *b, size_t extra);
int dd_buf_append(dd_buf *b, const void *p, size_t n);
int dd_buf_puts(dd_buf *b, const char *s);
int dd_buf_putc(dd_buf *b, char c);
int dd_buf_printf(dd_buf *b, const char *fmt, ...) DD_PRINTF(2, 3);
/* Append code point cp (at most 0x10FFFF, not a surrogate: the caller
 * checks) as UTF-8. */
int dd_buf_put_utf8(dd_buf *b, unsigned cp);
int dd_buf_vprintf(dd_buf *b, const char *fmt, va_list ap) DD_PRINTF(2, 0);
/* Always a valid C string ("" when empty). */
const char *dd_buf_cstr(const dd_buf *b);
void dd_buf_reset(dd_buf *b);  /* len = 0, clears failure, keeps memory */
char *dd_buf_detach(dd_buf *b, size_t *len_out);
void dd_buf_release(dd_buf *b);
/* Turn a failed buffer into an error message naming `what`. */
int dd_buf_error(const dd_buf *b, dd_error *err, const char *what);

/* Overflow-checked size arithmetic: return 0 on success, -1 on overflow. */
static inline int dd_add_size(size_t *out, size_t a, size_t b)
{
	if (a > (size_t)-1 - b)
		return -1;
	*out = a + b;
	return 0;
}
static inline int dd_mul_size(size_t *out, size_t a, size_t b)
{
	if (b && a > (size_t)-1 / b)
		return -1;
	*out = a * b;
	return 0;
}

/* Allocation helpers that never return uninitialised or overflowing memory. */
void *dd_calloc(size_t n, size_t size);
char *dd_strdup(const char *s);   /* NULL in, NULL out */
char *dd_strndup(const char *s, size_t n);

#endif
