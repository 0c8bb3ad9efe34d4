/*
 * reader.h - a pull stream of bytes: the seam between where blobs come from
 * (a file, a member of an outer tar, an HTTP body) and who consumes them
 * (the layer walker, the JSON parser).
 *
 * read() returns the number of bytes placed in buf (0 at end of stream) or a
 * negative DD_E* code after filling err.  Readers never own their ctx unless
 * their constructor says so.
 */
#ifndef DD_UTIL_READER_H
#define DD_UTIL_READER_H

#include <stddef.h>
#include <sys/types.h>

#include "util/buf.h"
#include "util/error.h"

typedef struct dd_reader {
	ssize_t (*read)(void *ctx, void *buf, size_t n, dd_error *err);
	void *ctx;
} dd_reader;

static inline ssize_t dd_reader_read(dd_reader *r, void *buf, size_t n, dd_error *err)
{
	return r->read(r->ctx, buf, n, err);
}

/* A reader over an open file descriptor (not closed by the reader). */
typedef struct dd_fd_reader {
	int fd;
	const char *name; /* for messages; borrowed */
} dd_fd_reader;
void dd_reader_from_fd(dd_reader *r, dd_fd_reader *st, int fd, const char *name);

/* A reader over a memory block (borrowed; must outlive the reader). */
typedef struct dd_mem_reader {
	const unsigned char *p;
	size_t len, off;
} dd_mem_reader;
void dd_reader_from_mem(dd_reader *r, dd_mem_reader *st, const void *p, size_t len);

/* Read the whole stream into out, failing with DD_EINPUT naming `what` when
 * it exceeds max bytes. */
int dd_reader_slurp(dd_reader *r, dd_buf *out, size_t max, const char *what, dd_error *err);

/* Read a whole regular file (refusing anything else, and symlinks) into out. */
int dd_file_slurp(const char *path, dd_buf *out, size_t max, dd_error *err);

#endif
