/* walker.c - the walker object, wants, and the tar walk of one layer; see
 * walker.h.  Decompression is in decomp.c, the squashed view in view.c, the
 * rootfs directory walk in dirwalk.c. */
#include "layer/walker.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "layer/decomp.h"
#include "layer/internal.h"
#include "util/buf.h"
#include "util/banned.h"

void dd_limits_default(dd_limits *l)
{
	l->max_total_bytes = DD_LIMIT_TOTAL_DEFAULT;
	l->max_entries = DD_LIMIT_ENTRIES_DEFAULT;
	l->max_file_bytes = DD_LIMIT_FILE_DEFAULT;
	l->max_read_bytes = DD_LIMIT_READ_DEFAULT;
}

const char *dd_ftype_name(enum dd_ftype t)
{
	switch (t) {
	case DD_FT_REG: return "file";
	case DD_FT_DIR: return "directory";
	case DD_FT_SYMLINK: return "symlink";
	case DD_FT_HARDLINK: return "hardlink";
	case DD_FT_CHAR: return "char-device";
	case DD_FT_BLOCK: return "block-device";
	case DD_FT_FIFO: return "fifo";
	}
	return "unknown";
}

const char *dd_compression_name(enum dd_compression c)
{
	switch (c) {
	case DD_COMP_NONE: return "none";
	case DD_COMP_GZIP: return "gzip";
	case DD_COMP_ZSTD: return "zstd";
	}
	return "unknown";
}

/* ---- walker object ---- */

int dd_walker_new(dd_walker **out, const dd_limits *limits, dd_error *err)
{
	dd_walker *w = calloc(1, sizeof(*w));
	*out = NULL;
	if (!w)
		return dd_error_oom(err);
	if (limits)
		w->limits = *limits;
	else
		dd_limits_default(&w->limits);
	/* 0 means "no limit" for each field */
	if (!w->limits.max_total_bytes)
		w->limits.max_total_bytes = UINT64_MAX;
	if (!w->limits.max_entries)
		w->limits.max_entries = UINT64_MAX;
	if (!w->limits.max_file_bytes)
		w->limits.max_file_bytes = UINT64_MAX;
	if (!w->limits.max_read_bytes)
		w->limits.max_read_bytes = DD_LIMIT_READ_DEFAULT;
	dd_arena_init(&w->arena);
	dd_buf_init(&w->rec, 0);
	w->rec_index = -1;
	dd_pathmap_init(&w->want_exact);
	dd_pathmap_init(&w->view_map);
	*out = w;
	return 0;
}

static void layer_free(dd_layer *L)
{
	if (L) {
		free(L->recs);
		free(L);
	}
}

void dd_walker_free(dd_walker *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->nlayers; i++)
		layer_free(w->layers[i]);
	free(w->layers);
	free(w->wants);
	free(w->view);
	dd_pathmap_release(&w->want_exact);
	dd_pathmap_release(&w->view_map);
	dd_buf_release(&w->multi);
	dd_buf_release(&w->rec);
	dd_arena_release(&w->arena);
	free(w);
}

int dd_walker_want(dd_walker *w, const char *pattern, dd_file_cb cb, void *ctx, dd_error *err)
{
	struct dd_want *nw;
	size_t first;

	if (!w || !pattern || !cb)
		return dd_error_set(err, DD_EINTERNAL, "dd_walker_want: missing argument");
	while (pattern[0] == '/')
		pattern++;
	if (strlen(pattern) > DD_PATH_MAX)
		return dd_error_set(err, DD_EINTERNAL, "want pattern too long");
	if (w->nwants == w->capwants) {
		size_t ncap = w->capwants ? w->capwants * 2 : 16;
		nw = realloc(w->wants, ncap * sizeof(*nw));
		if (!nw)
			return dd_error_oom(err);
		w->wants = nw;
		w->capwants = ncap;
	}
	nw = &w->wants[w->nwants];
	nw->pattern = dd_arena_strndup(&w->arena, pattern, strlen(pattern));
	if (!nw->pattern)
		return dd_error_oom(err);
	nw->glob = strpbrk(pattern, "*?[") != NULL;
	nw->lit = strcspn(pattern, "*?[\\"); /* a backslash escapes in fnmatch */
	nw->cb = cb;
	nw->ctx = ctx;
	nw->next_same = 0;
	if (nw->glob) {
		w->have_globs = 1;
	} else if (dd_pathmap_get(&w->want_exact, nw->pattern, &first)) {
		while (w->wants[first].next_same)
			first = w->wants[first].next_same - 1;
		w->wants[first].next_same = w->nwants + 1;
	} else if (dd_pathmap_put(&w->want_exact, nw->pattern, w->nwants)) {
		return dd_error_oom(err);
	}
	w->nwants++;
	return 0;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

size_t dd_walker_match(const dd_walker *w, const char *path, size_t *idx, size_t cap)
{
	size_t n = 0, i;
	if (!w->nwants)
		return 0;
	if (dd_pathmap_get(&w->want_exact, path, &i)) {
		for (;;) {
			if (n < cap)
				idx[n++] = i;
			if (!w->wants[i].next_same)
				break;
			i = w->wants[i].next_same - 1;
		}
	}
	if (w->have_globs)
		for (i = 0; i < w->nwants && n < cap; i++)
			if (w->wants[i].glob && strncmp(w->wants[i].pattern, path, w->wants[i].lit) == 0 &&
			    fnmatch(w->wants[i].pattern, path, FNM_PATHNAME) == 0)
				idx[n++] = i;
	if (n > 1)
		qsort(idx, n, sizeof(*idx), cmp_size);
	return n;
}

/* ---- layers ---- */

int dd_layer_open(dd_walker *w, int index, dd_layer **out, dd_error *err)
{
	dd_layer *L;
	*out = NULL;
	if (index < 0)
		return dd_error_set(err, DD_EINTERNAL, "negative layer index %d", index);
	for (size_t i = 0; i < w->nlayers; i++)
		if (w->layers[i]->index == index)
			return dd_error_set(err, DD_EINTERNAL, "layer %d walked twice", index);
	if (w->nlayers == w->caplayers) {
		size_t ncap = w->caplayers ? w->caplayers * 2 : 8;
		dd_layer **nl = realloc(w->layers, ncap * sizeof(*nl));
		if (!nl)
			return dd_error_oom(err);
		w->layers = nl;
		w->caplayers = ncap;
	}
	L = calloc(1, sizeof(*L));
	if (!L)
		return dd_error_oom(err);
	L->index = index;
	w->layers[w->nlayers++] = L;
	w->finished = 0;
	*out = L;
	return 0;
}

void dd_layer_discard(dd_walker *w, dd_layer *L)
{
	for (size_t i = 0; i < w->nlayers; i++) {
		if (w->layers[i] == L) {
			w->layers[i] = w->layers[--w->nlayers];
			break;
		}
	}
	layer_free(L);
}

int dd_layer_add(dd_walker *w, dd_layer *L, const dd_lrec *r, dd_error *err)
{
	dd_lrec c = *r;
	if (L->n == L->cap) {
		size_t ncap = L->cap ? L->cap * 2 : 64;
		dd_lrec *nr = dd_calloc(ncap, sizeof(*nr));
		if (!nr)
			return dd_error_oom(err);
		if (L->n)
			memcpy(nr, L->recs, L->n * sizeof(*nr));
		free(L->recs);
		L->recs = nr;
		L->cap = ncap;
	}
	c.path = dd_arena_strndup(&w->arena, r->path, strlen(r->path));
	if (!c.path)
		return dd_error_oom(err);
	if (r->link && !(c.link = dd_arena_strndup(&w->arena, r->link, strlen(r->link))))
		return dd_error_oom(err);
	L->recs[L->n++] = c;
	if (w->rec_active)
		dd_rec_entry(w, &c);
	return 0;
}

/* ---- content of a delivered file ---- */

ssize_t dd_file_read(const dd_file *f, void *buf, size_t n, dd_error *err)
{
	struct dd_fstream *fs = f ? f->priv : NULL;
	if (!fs)
		return dd_error_set(err, DD_EINTERNAL, "dd_file_read outside a callback");
	if (fs->failed) {
		if (err)
			*err = fs->ferr;
		return fs->failed;
	}
	switch (fs->kind) {
	case DD_FS_NONE:
		return 0;
	case DD_FS_MEM: {
		size_t left = fs->mem_len - fs->off;
		if (n > left)
			n = left;
		if (n)
			memcpy(buf, fs->mem + fs->off, n);
		fs->off += n;
		return (ssize_t)n;
	}
	case DD_FS_GONE:
		return dd_error_set(err, DD_EINPUT,
				    "content already read by another consumer (file larger than the read limit)");
	case DD_FS_TAR: {
		la_ssize_t r = archive_read_data(fs->a, buf, n);
		if (r >= 0) {
			fs->off += (uint64_t)r;
			return (ssize_t)r;
		}
		if (fs->stash && fs->stash->code)
			fs->ferr = *fs->stash;
		else
			dd_error_set(&fs->ferr, DD_EINPUT, "truncated: the layer ends inside this file (%s)",
				     archive_error_string(fs->a) ? archive_error_string(fs->a) : "read error");
		fs->failed = fs->ferr.code ? fs->ferr.code : DD_EINPUT;
		if (err)
			*err = fs->ferr;
		return fs->failed;
	}
	case DD_FS_FD:
		for (;;) {
			ssize_t r = pread(fs->fd, buf, n, (off_t)fs->off);
			if (r >= 0) {
				fs->off += (uint64_t)r;
				return r;
			}
			if (errno != EINTR) {
				dd_error_set(&fs->ferr, DD_EENV, "read: %s", strerror(errno));
				fs->failed = DD_EENV;
				if (err)
					*err = fs->ferr;
				return DD_EENV;
			}
		}
	}
	return 0;
}

int dd_file_slurp_all(const dd_file *f, dd_buf *out, dd_error *err)
{
	struct dd_fstream *fs = f ? f->priv : NULL;
	uint64_t max;
	if (!fs)
		return dd_error_set(err, DD_EINTERNAL, "dd_file_slurp_all outside a callback");
	max = fs->max_read;
	if (max > (uint64_t)(SIZE_MAX / 2))
		max = SIZE_MAX / 2;
	dd_buf_reset(out);
	out->max = (size_t)max;
	if (f->size > max)
		return dd_error_set(err, DD_EINPUT, "'%s' is %llu bytes, more than the read limit of %llu bytes",
				    f->path, (unsigned long long)f->size, (unsigned long long)max);
	if (f->size && dd_buf_grow(out, (size_t)f->size))
		return dd_buf_error(out, err, f->path);
	for (;;) {
		size_t room = (size_t)max - out->len;
		ssize_t n;
		if (room == 0) {
			char c;
			if ((n = dd_file_read(f, &c, 1, err)) < 0)
				return (int)n;
			if (n > 0)
				return dd_error_set(err, DD_EINPUT, "'%s' is more than the read limit of %llu bytes",
						    f->path, (unsigned long long)max);
			break;
		}
		if (room > 65536)
			room = 65536;
		if (out->cap - out->len < room + 1 && dd_buf_grow(out, room))
			return dd_buf_error(out, err, f->path);
		n = dd_file_read(f, out->data + out->len, room, err);
		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		out->len += (size_t)n;
	}
	if (out->data)
		out->data[out->len] = '\0';
	return 0;
}

/* Hand f to every matching want; multi is the walker's scratch for content
 * that several consumers read. */
int dd_walker_deliver(dd_walker *w, dd_file *f, struct dd_fstream *fs, dd_error *err)
{
	size_t idx[64], n = dd_walker_match(w, f->path, idx, 64);
	int rc = 0;

	if (!n)
		return 0;
	fs->max_read = w->limits.max_read_bytes;
	f->priv = fs;
	if (f->type != DD_FT_REG && f->type != DD_FT_HARDLINK)
		fs->kind = DD_FS_NONE;
	if ((n > 1 || w->rec_active) && fs->kind == DD_FS_TAR && f->size <= w->limits.max_read_bytes) {
		/* several consumers, or a record to write: read the content
		 * once into memory */
		if ((rc = dd_file_slurp_all(f, &w->multi, err)))
			return rc;
		fs->kind = DD_FS_MEM;
		fs->mem = (const unsigned char *)w->multi.data;
		fs->mem_len = w->multi.len;
	} else if (w->rec_active && fs->kind == DD_FS_TAR) {
		w->rec_bad = 1; /* too large to keep: no record for this layer */
	}
	if (w->rec_active && fs->kind == DD_FS_MEM)
		dd_rec_file(w, fs->mem, fs->mem_len);
	for (size_t i = 0; i < n; i++) {
		const struct dd_want *wt = &w->wants[idx[i]];
		fs->off = 0;
		if (i > 0 && fs->kind == DD_FS_TAR)
			fs->kind = DD_FS_GONE;
		rc = wt->cb(wt->ctx, f, err);
		if (rc) {
			if (err && !err->code)
				dd_error_set(err, rc < 0 ? rc : DD_EINTERNAL, "consumer failed");
			return rc < 0 ? rc : DD_EINTERNAL;
		}
		if (fs->failed) {
			if (err)
				*err = fs->ferr;
			return fs->failed;
		}
	}
	if (fs->kind == DD_FS_GONE)
		fs->kind = DD_FS_TAR;
	return 0;
}
