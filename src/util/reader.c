/* reader.c - see reader.h. */
#include "util/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/banned.h"

static ssize_t fd_read(void *ctx, void *buf, size_t n, dd_error *err)
{
	dd_fd_reader *st = ctx;
	for (;;) {
		ssize_t r = read(st->fd, buf, n);
		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		return dd_error_set(err, DD_EENV, "%s: read: %s", st->name, strerror(errno));
	}
}

void dd_reader_from_fd(dd_reader *r, dd_fd_reader *st, int fd, const char *name)
{
	st->fd = fd;
	st->name = name ? name : "(file)";
	r->read = fd_read;
	r->ctx = st;
}

static ssize_t mem_read(void *ctx, void *buf, size_t n, dd_error *err)
{
	dd_mem_reader *st = ctx;
	size_t left = st->len - st->off;
	(void)err;
	if (n > left)
		n = left;
	if (n > (size_t)SSIZE_MAX)
		n = (size_t)SSIZE_MAX;
	if (n)
		memcpy(buf, st->p + st->off, n);
	st->off += n;
	return (ssize_t)n;
}

void dd_reader_from_mem(dd_reader *r, dd_mem_reader *st, const void *p, size_t len)
{
	st->p = p;
	st->len = p ? len : 0;
	st->off = 0;
	r->read = mem_read;
	r->ctx = st;
}

int dd_reader_slurp(dd_reader *r, dd_buf *out, size_t max, const char *what, dd_error *err)
{
	dd_buf_reset(out);
	out->max = max;
	for (;;) {
		ssize_t n;
		if (dd_buf_grow(out, 65536))
			return dd_buf_error(out, err, what);
		n = dd_reader_read(r, out->data + out->len, out->cap - out->len - 1, err);
		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		out->len += (size_t)n;
		out->data[out->len] = '\0';
	}
	if (!out->data && dd_buf_putc(out, 0) == 0)
		out->len = 0;
	return 0;
}

int dd_file_slurp(const char *path, dd_buf *out, size_t max, dd_error *err)
{
	struct stat st;
	dd_fd_reader fr;
	dd_reader r;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return dd_error_set(err, errno == ENOENT || errno == ELOOP ? DD_EINPUT : DD_EENV,
				    "%s: %s", path, errno == ELOOP ? "is a symbolic link" : strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return dd_error_set(err, DD_EINPUT, "%s: not a regular file", path);
	}
	if ((unsigned long long)st.st_size > max) {
		close(fd);
		return dd_error_set(err, DD_EINPUT, "%s: %lld bytes is larger than the limit of %zu",
				    path, (long long)st.st_size, max);
	}
	dd_reader_from_fd(&r, &fr, fd, path);
	rc = dd_reader_slurp(&r, out, max, path, err);
	close(fd);
	return rc;
}
