/* layer_helpers.h - build layer tars in memory for the layer tests
 * (libarchive's write API, zlib, zstd).  Included by tests/unit/test_layer*.c. */
#ifndef DD_TEST_LAYER_HELPERS_H
#define DD_TEST_LAYER_HELPERS_H

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "layer/walker.h"
#include "util/buf.h"
#include "util/reader.h"

enum { T_FILE, T_DIR, T_SYMLINK, T_HARDLINK, T_CHAR, T_FIFO };

struct tent {
	const char *path;
	int type;
	const char *data; /* file content, or link target */
	size_t size;      /* 0: strlen(data) for files */
};

enum { F_NONE, F_GZIP, F_ZSTD };

static inline la_ssize_t tbuf_write(struct archive *a, void *ctx, const void *p, size_t n)
{
	(void)a;
	return dd_buf_append(ctx, p, n) ? -1 : (la_ssize_t)n;
}

static inline int tbuf_close(struct archive *a, void *ctx)
{
	(void)a;
	(void)ctx;
	return ARCHIVE_OK;
}

/* Write entries as a pax tar (filter F_*) into out. */
static inline void mk_tar(dd_buf *out, const struct tent *e, size_t n, int filter)
{
	struct archive *a = archive_write_new();
	dd_buf_reset(out);
	out->max = (size_t)1 << 31;
	archive_write_set_format_pax_restricted(a);
	if (filter == F_GZIP)
		archive_write_add_filter_gzip(a);
	else if (filter == F_ZSTD)
		archive_write_add_filter_zstd(a);
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open(a, out, NULL, tbuf_write, tbuf_close) != ARCHIVE_OK)
		abort();
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();
		size_t sz = e[i].size ? e[i].size : (e[i].data && e[i].type == T_FILE ? strlen(e[i].data) : 0);
		archive_entry_set_pathname(ae, e[i].path);
		archive_entry_set_mtime(ae, 1700000000, 0);
		switch (e[i].type) {
		case T_FILE:
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, 0644);
			archive_entry_set_size(ae, (la_int64_t)sz);
			break;
		case T_DIR:
			archive_entry_set_filetype(ae, AE_IFDIR);
			archive_entry_set_perm(ae, 0755);
			break;
		case T_SYMLINK:
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_perm(ae, 0777);
			archive_entry_set_symlink(ae, e[i].data);
			break;
		case T_HARDLINK:
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, 0644);
			archive_entry_set_hardlink(ae, e[i].data);
			archive_entry_set_size(ae, 0);
			break;
		case T_CHAR:
			archive_entry_set_filetype(ae, AE_IFCHR);
			archive_entry_set_perm(ae, 0600);
			archive_entry_set_rdevmajor(ae, 1);
			archive_entry_set_rdevminor(ae, 3);
			break;
		case T_FIFO:
			archive_entry_set_filetype(ae, AE_IFIFO);
			archive_entry_set_perm(ae, 0600);
			break;
		}
		if (archive_write_header(a, ae) < ARCHIVE_WARN)
			abort();
		if (e[i].type == T_FILE && sz) {
			if (e[i].data) {
				archive_write_data(a, e[i].data, sz);
			} else {
				/* generated content: sz bytes of a repeating pattern */
				static char blk[65536];
				for (size_t j = 0; j < sizeof(blk); j++)
					blk[j] = (char)('a' + (j * 7 + j / 13) % 26);
				for (size_t left = sz; left;) {
					size_t k = left < sizeof(blk) ? left : sizeof(blk);
					archive_write_data(a, blk, k);
					left -= k;
				}
			}
		}
		archive_entry_free(ae);
	}
	archive_write_close(a);
	archive_write_free(a);
}

/* gzip one buffer as one member (appended to out). */
static inline void gz_member(dd_buf *out, const void *p, size_t n)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	size_t bound = deflateBound(&z, (uLong)n) + 64;
	if (dd_buf_grow(out, bound))
		abort();
	z.next_in = (Bytef *)p;
	z.avail_in = (uInt)n;
	z.next_out = (Bytef *)out->data + out->len;
	z.avail_out = (uInt)bound;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort();
	out->len += bound - z.avail_out;
	deflateEnd(&z);
}

static inline void zstd_frame(dd_buf *out, const void *p, size_t n)
{
	size_t bound = ZSTD_compressBound(n), r;
	if (dd_buf_grow(out, bound))
		abort();
	r = ZSTD_compress(out->data + out->len, bound, p, n, 3);
	if (ZSTD_isError(r))
		abort();
	out->len += r;
}

/* A reader that hands out at most `chunk` bytes per call. */
struct chunky {
	const unsigned char *p;
	size_t len, off, chunk;
};

static inline ssize_t chunky_read(void *ctx, void *buf, size_t n, dd_error *err)
{
	struct chunky *c = ctx;
	(void)err;
	if (n > c->chunk)
		n = c->chunk;
	if (n > c->len - c->off)
		n = c->len - c->off;
	memcpy(buf, c->p + c->off, n);
	c->off += n;
	return (ssize_t)n;
}

#endif
