/*
 * record.c - layer records for the layer cache: what one layer walk
 * learned (its entries, the content of the files wants matched, its stats),
 * written while the tar streams and replayed later instead of the blob.
 *
 * Format (little-endian), "DDLR" u32 version, then items:
 *   'E' type u8, wh u8, mode u32, size u64, path (u32 len + bytes),
 *       link (u32 len + bytes; 0xffffffff: none)     one tar entry
 *   'F' u64 len + bytes                              content of the entry before
 *   'S' compression u8, compressed u64, uncompressed u64, entries u64,
 *       digest 72 bytes, diff_id 72 bytes            the end
 */
#include "layer/walker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer/internal.h"
#include "util/banned.h"

#define REC_MAGIC "DDLR"
#define REC_VERSION 1u
#define NO_LINK 0xffffffffu

static void put_u32(dd_buf *b, uint32_t v)
{
	unsigned char x[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 24) };
	dd_buf_append(b, x, 4);
}

static void put_u64(dd_buf *b, uint64_t v)
{
	put_u32(b, (uint32_t)v);
	put_u32(b, (uint32_t)(v >> 32));
}

static void put_str(dd_buf *b, const char *s)
{
	if (!s) {
		put_u32(b, NO_LINK);
		return;
	}
	put_u32(b, (uint32_t)strlen(s));
	dd_buf_puts(b, s);
}

void dd_walker_record(dd_walker *w, int on)
{
	w->rec_on = on;
}

void dd_rec_begin(dd_walker *w)
{
	w->rec_index = -1;
	w->rec_bad = 0;
	w->rec_active = w->rec_on;
	if (!w->rec_active)
		return;
	dd_buf_reset(&w->rec);
	dd_buf_append(&w->rec, REC_MAGIC, 4);
	put_u32(&w->rec, REC_VERSION);
}

void dd_rec_entry(dd_walker *w, const dd_lrec *r)
{
	dd_buf *b = &w->rec;
	dd_buf_putc(b, 'E');
	dd_buf_putc(b, (char)r->type);
	dd_buf_putc(b, (char)r->wh);
	put_u32(b, r->mode);
	put_u64(b, r->size);
	put_str(b, r->path);
	put_str(b, r->link);
}

void dd_rec_file(dd_walker *w, const void *p, size_t n)
{
	dd_buf_putc(&w->rec, 'F');
	put_u64(&w->rec, n);
	dd_buf_append(&w->rec, p, n);
}

void dd_rec_end(dd_walker *w, int index, const dd_layer_stats *st, int ok)
{
	dd_buf *b = &w->rec;
	if (!w->rec_active)
		return;
	w->rec_active = 0;
	if (!ok || w->rec_bad || b->failed) {
		dd_buf_release(b);
		return;
	}
	dd_buf_putc(b, 'S');
	dd_buf_putc(b, (char)st->compression);
	put_u64(b, st->compressed_bytes);
	put_u64(b, st->uncompressed_bytes);
	put_u64(b, st->entries);
	dd_buf_append(b, st->digest.s, DD_DIGEST_MAX);
	dd_buf_append(b, st->diff_id.s, DD_DIGEST_MAX);
	if (b->failed)
		dd_buf_release(b);
	else
		w->rec_index = index;
}

int dd_walker_take_record(dd_walker *w, int index, void **data, size_t *len)
{
	if (w->rec_index < 0 || w->rec_index != index || !w->rec.data)
		return 1;
	*data = dd_buf_detach(&w->rec, len);
	w->rec_index = -1;
	return *data ? 0 : 1;
}

/* ---- replay ---- */

struct cur {
	const unsigned char *p;
	size_t n, off;
};

static int get(struct cur *c, void *out, size_t n)
{
	if (c->n - c->off < n)
		return -1;
	memcpy(out, c->p + c->off, n);
	c->off += n;
	return 0;
}

static int get_u32(struct cur *c, uint32_t *v)
{
	unsigned char x[4];
	if (get(c, x, 4))
		return -1;
	*v = (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 | (uint32_t)x[3] << 24;
	return 0;
}

static int get_u64(struct cur *c, uint64_t *v)
{
	uint32_t lo, hi;
	if (get_u32(c, &lo) || get_u32(c, &hi))
		return -1;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

/* A string of the record into buf (NUL-terminated); *none when absent. */
static int get_str(struct cur *c, char *buf, size_t cap, int *none)
{
	uint32_t n;
	*none = 0;
	if (get_u32(c, &n))
		return -1;
	if (n == NO_LINK) {
		*none = 1;
		buf[0] = '\0';
		return 0;
	}
	if (n >= cap || get(c, buf, n))
		return -1;
	buf[n] = '\0';
	return memchr(buf, '\0', n) ? -1 : 0;
}

static int get_digest(struct cur *c, dd_digest *d)
{
	char raw[DD_DIGEST_MAX];
	if (get(c, raw, DD_DIGEST_MAX))
		return -1;
	raw[DD_DIGEST_MAX - 1] = '\0';
	d->s[0] = '\0';
	return raw[0] && dd_digest_parse(d, raw, "record", NULL) ? -1 : 0;
}

int dd_walker_replay(dd_walker *w, int index, const void *data, size_t len, const dd_digest *diff_id,
		     dd_layer_stats *stats, dd_error *err)
{
	struct cur c = { data, len, 0 };
	char *path = NULL, *link = NULL;
	dd_layer *L = NULL;
	dd_layer_stats st;
	dd_lrec last = { 0 };
	int have_last = 0, rc = 0;
	uint32_t version;
	char magic[4];

	memset(&st, 0, sizeof(st));
	if (get(&c, magic, 4) || memcmp(magic, REC_MAGIC, 4) || get_u32(&c, &version) || version != REC_VERSION)
		return dd_error_set(err, DD_EINPUT, "layer record: not a version %u record", REC_VERSION);
	path = malloc(DD_PATH_MAX + 1);
	link = malloc(DD_PATH_MAX + 1);
	if (!path || !link) {
		free(path);
		free(link);
		return dd_error_oom(err);
	}
	if ((rc = dd_layer_open(w, index, &L, err)))
		goto out;
	if (diff_id && dd_digest_is_set(diff_id))
		L->diff_id = *diff_id;
	for (;;) {
		char tag;
		if (get(&c, &tag, 1))
			goto bad;
		if (tag == 'E') {
			unsigned char type, wh;
			int nopath, nolink;
			dd_lrec r = { 0 };
			if (get(&c, &type, 1) || get(&c, &wh, 1) || get_u32(&c, &r.mode) || get_u64(&c, &r.size) ||
			    get_str(&c, path, DD_PATH_MAX + 1, &nopath) || get_str(&c, link, DD_PATH_MAX + 1, &nolink) ||
			    nopath || type > DD_FT_FIFO || wh > DD_WH_META ||
			    (nolink && (type == DD_FT_SYMLINK || type == DD_FT_HARDLINK)))
				goto bad;
			r.type = type;
			r.wh = wh;
			r.path = path;
			r.link = nolink ? NULL : link;
			if (w->total_entries + st.entries >= w->limits.max_entries) {
				rc = dd_error_set(err, DD_EINPUT, "more than %llu tar entries: exceeds --max-entries",
						  (unsigned long long)w->limits.max_entries);
				goto fail;
			}
			st.entries++;
			if ((rc = dd_layer_add(w, L, &r, err)))
				goto fail;
			last = L->recs[L->n - 1];
			have_last = !wh && (type == DD_FT_REG || type == DD_FT_SYMLINK || type == DD_FT_HARDLINK);
			/* a symlink, a hardlink or a file no want matched has no 'F' */
			if (have_last && c.off < c.n && c.p[c.off] != 'F') {
				struct dd_fstream fs = { .kind = DD_FS_NONE };
				dd_file f = { last.path, (enum dd_ftype)last.type, last.size, last.mode, last.link,
					      index, &L->diff_id, NULL };
				if ((rc = dd_walker_deliver(w, &f, &fs, err)))
					goto fail_entry;
				have_last = 0;
			}
		} else if (tag == 'F') {
			uint64_t n;
			if (!have_last || get_u64(&c, &n) || n > c.n - c.off)
				goto bad;
			struct dd_fstream fs = { .kind = DD_FS_MEM, .mem = c.p + c.off, .mem_len = (size_t)n };
			dd_file f = { last.path, (enum dd_ftype)last.type, last.size, last.mode, last.link, index,
				      &L->diff_id, NULL };
			c.off += (size_t)n;
			have_last = 0;
			if ((rc = dd_walker_deliver(w, &f, &fs, err)))
				goto fail_entry;
		} else if (tag == 'S') {
			unsigned char comp;
			uint64_t entries;
			if (get(&c, &comp, 1) || comp > DD_COMP_ZSTD || get_u64(&c, &st.compressed_bytes) ||
			    get_u64(&c, &st.uncompressed_bytes) || get_u64(&c, &entries) ||
			    get_digest(&c, &st.digest) || get_digest(&c, &st.diff_id) || c.off != c.n ||
			    entries != st.entries)
				goto bad;
			st.compression = (enum dd_compression)comp;
			break;
		} else {
			goto bad;
		}
	}
	if (diff_id && dd_digest_is_set(diff_id) && !dd_digest_eq(diff_id, &st.diff_id))
		goto bad;
	if (!dd_digest_is_set(&L->diff_id))
		L->diff_id = st.diff_id;
	if (w->total_bytes > w->limits.max_total_bytes ||
	    st.uncompressed_bytes > w->limits.max_total_bytes - w->total_bytes) {
		rc = dd_error_set(err, DD_EINPUT, "uncompressed size exceeds --max-image-size (limit %llu bytes)",
				  (unsigned long long)w->limits.max_total_bytes);
		goto fail;
	}
	w->total_bytes += st.uncompressed_bytes;
	w->total_entries += st.entries;
	if (stats)
		*stats = st;
	goto out;
fail_entry:
	dd_error_prefix(err, "entry '%.300s'", last.path);
	goto fail;
bad:
	rc = dd_error_set(err, DD_EINPUT, "layer record: malformed at byte %zu", c.off);
fail:
	dd_layer_discard(w, L);
out:
	free(path);
	free(link);
	return rc;
}

void dd_walker_want_key(const dd_walker *w, char *out, size_t n)
{
	dd_buf b = DD_BUF_INIT;
	dd_digest d;
	char **pats = dd_calloc(w->nwants ? w->nwants : 1, sizeof(char *));

	/* sorted, so registration order does not matter */
	for (size_t i = 0; pats && i < w->nwants; i++) {
		size_t j = i;
		while (j > 0 && strcmp(pats[j - 1], w->wants[i].pattern) > 0) {
			pats[j] = pats[j - 1];
			j--;
		}
		pats[j] = (char *)w->wants[i].pattern;
	}
	dd_buf_printf(&b, "ddlr%u", REC_VERSION);
	for (size_t i = 0; pats && i < w->nwants; i++)
		dd_buf_printf(&b, "\n%s", pats[i]);
	if (dd_digest_of(&d, dd_buf_cstr(&b), b.len, NULL) || b.failed || !pats)
		d.s[0] = '\0';
	snprintf(out, n, "ddlr%u-%.16s", REC_VERSION, dd_digest_hex(&d));
	free(pats);
	dd_buf_release(&b);
}

size_t dd_walker_want_count(const dd_walker *w)
{
	return w->nwants;
}

const char *dd_walker_want_pattern(const dd_walker *w, size_t i)
{
	return i < w->nwants ? w->wants[i].pattern : NULL;
}
