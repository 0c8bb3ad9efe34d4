/* tar.c - dd_walker_layer(): one layer blob, streamed once through the
 * decoder (decomp.c) and libarchive's tar reader; see walker.h. */
#include "layer/walker.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer/decomp.h"
#include "layer/internal.h"
#include "util/buf.h"
#include "util/banned.h"

/* State of one layer walk. */
struct tarwalk {
	dd_walker *w;
	dd_layer *L;
	dd_decomp *d;
	struct archive *a;
	dd_error stash;       /* the decoder's (or a limit's) error */
	uint64_t base_bytes;  /* uncompressed bytes of the layers walked before */
	uint64_t entries;
	dd_pathmap seen;      /* path -> record index, this layer */
	char path[DD_PATH_MAX + 1];
	char link[DD_PATH_MAX + 1];
	int consumer_failed;
};

static int check_total(struct tarwalk *t, dd_error *err)
{
	uint64_t lim = t->w->limits.max_total_bytes;
	uint64_t got = dd_decomp_out_bytes(t->d);
	if (t->base_bytes > lim || got > lim - t->base_bytes)
		return dd_error_set(err, DD_EINPUT,
				    "uncompressed size exceeds --max-image-size (limit %llu bytes)",
				    (unsigned long long)lim);
	return 0;
}

static la_ssize_t tar_read(struct archive *a, void *ctx, const void **buf)
{
	struct tarwalk *t = ctx;
	size_t n;
	int rc;

	if (t->stash.code) {
		archive_set_error(a, EIO, "read failed");
		return -1;
	}
	rc = dd_decomp_next(t->d, buf, &n, &t->stash);
	if (!rc)
		rc = check_total(t, &t->stash);
	if (rc) {
		archive_set_error(a, EIO, "read failed");
		return -1;
	}
	return (la_ssize_t)n;
}

/* "layer 2 (NAME)" or "layer 2 (sha256:0123456789ab)" or "layer 2"; a name
 * that already starts with "layer " is used as it is. */
static void layer_label(char *out, size_t cap, int index, const char *name, const dd_digest *dg)
{
	if (name && strncmp(name, "layer ", 6) == 0)
		snprintf(out, cap, "%.300s", name);
	else if (name && name[0])
		snprintf(out, cap, "layer %d (%.200s)", index, name);
	else if (dg && dd_digest_is_set(dg))
		snprintf(out, cap, "layer %d (sha256:%.12s)", index, dd_digest_hex(dg));
	else
		snprintf(out, cap, "layer %d", index);
}

static int entry_type(struct archive_entry *e, enum dd_ftype *out)
{
	if (archive_entry_hardlink(e)) {
		*out = DD_FT_HARDLINK;
		return 0;
	}
	switch (archive_entry_filetype(e)) {
	case AE_IFREG: *out = DD_FT_REG; return 0;
	case AE_IFDIR: *out = DD_FT_DIR; return 0;
	case AE_IFLNK: *out = DD_FT_SYMLINK; return 0;
	case AE_IFCHR: *out = DD_FT_CHAR; return 0;
	case AE_IFBLK: *out = DD_FT_BLOCK; return 0;
	case AE_IFIFO: *out = DD_FT_FIFO; return 0;
	default: return -1;
	}
}

/* Split a whiteout name: returns 1 when path is a whiteout and fills r. */
static int whiteout(struct tarwalk *t, dd_lrec *r, const char **why)
{
	char *slash = strrchr(t->path, '/');
	char *base = slash ? slash + 1 : t->path;
	size_t dirlen = slash ? (size_t)(slash - t->path) : 0;

	*why = NULL;
	if (strncmp(base, ".wh.", 4) != 0)
		return 0;
	if (strcmp(base, ".wh..wh..opq") == 0) {
		r->wh = DD_WH_OPAQUE;
		t->path[dirlen] = '\0';
	} else if (strncmp(base, ".wh..wh.", 8) == 0) {
		r->wh = DD_WH_META; /* aufs bookkeeping (.wh..wh.plnk, ...): ignored */
	} else {
		const char *name = base + 4;
		if (!name[0] || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
			*why = "invalid whiteout name";
			return 1;
		}
		r->wh = DD_WH_FILE;
		memmove(base, name, strlen(name) + 1);
	}
	r->type = DD_FT_REG;
	r->size = 0;
	r->link = NULL;
	return 1;
}

#define ENTRY_ERR(fmt, ...) dd_error_set(err, DD_EINPUT, "entry '%.300s': " fmt, raw, __VA_ARGS__)

static int handle_entry(struct tarwalk *t, struct archive_entry *e, dd_error *err)
{
	dd_walker *w = t->w;
	const char *raw = archive_entry_pathname(e), *why, *lnk;
	dd_lrec r = { 0 };
	enum dd_ftype ft;
	la_int64_t size;
	int absolute = 0, rc;
	size_t ti;

	if (!raw)
		raw = archive_entry_pathname_utf8(e);
	if (!raw)
		return dd_error_set(err, DD_EINPUT, "entry %llu has no usable name",
				    (unsigned long long)t->entries);
	if (w->total_entries + t->entries >= w->limits.max_entries)
		return dd_error_set(err, DD_EINPUT, "more than %llu tar entries: exceeds --max-entries (limit %llu)",
				    (unsigned long long)w->limits.max_entries,
				    (unsigned long long)w->limits.max_entries);
	t->entries++;
	if ((why = dd_layer_normpath(raw, t->path, sizeof(t->path), &absolute)))
		return ENTRY_ERR("%s", why);
	if (entry_type(e, &ft))
		return ENTRY_ERR("unsupported entry type (mode 0%o)", (unsigned)archive_entry_filetype(e));
	size = archive_entry_size(e);
	if (size < 0)
		return ENTRY_ERR("%s", "negative size");
	if ((uint64_t)size > w->limits.max_file_bytes)
		return ENTRY_ERR("size %lld exceeds --max-file-size (limit %llu bytes)", (long long)size,
				 (unsigned long long)w->limits.max_file_bytes);
	if (!t->path[0]) {
		if (ft == DD_FT_DIR)
			return 0; /* the root directory itself */
		return ENTRY_ERR("%s", "a non-directory names the root");
	}
	r.type = (uint8_t)ft;
	r.size = (uint64_t)size;
	r.mode = (uint32_t)(archive_entry_mode(e) & 07777);
	if (whiteout(t, &r, &why)) {
		if (why)
			return ENTRY_ERR("%s", why);
		r.path = t->path;
		return dd_layer_add(w, t->L, &r, err);
	}
	r.path = t->path;
	if (ft == DD_FT_HARDLINK) {
		int habs;
		lnk = archive_entry_hardlink(e);
		if ((why = dd_layer_normpath(lnk, t->link, sizeof(t->link), &habs)))
			return ENTRY_ERR("hardlink target '%.300s': %s", lnk, why);
		if (!dd_pathmap_get(&t->seen, t->link, &ti))
			return ENTRY_ERR("hardlink to '%.300s', which is not an earlier entry of this layer",
					 t->link);
		if (t->L->recs[ti].type == DD_FT_DIR)
			return ENTRY_ERR("hardlink to directory '%.300s'", t->link);
		r.link = t->link;
	} else if (ft == DD_FT_SYMLINK) {
		lnk = archive_entry_symlink(e);
		if (!lnk)
			lnk = archive_entry_symlink_utf8(e);
		if (!lnk)
			lnk = "";
		if (strlen(lnk) > DD_PATH_MAX)
			return ENTRY_ERR("%s", "symlink target longer than PATH_MAX (4096)");
		r.link = lnk;
	}
	if ((rc = dd_layer_add(w, t->L, &r, err)))
		return rc;
	if (dd_pathmap_put(&t->seen, t->L->recs[t->L->n - 1].path, t->L->n - 1))
		return dd_error_oom(err);
	if (ft == DD_FT_REG || ft == DD_FT_SYMLINK || ft == DD_FT_HARDLINK) {
		const dd_lrec *rec = &t->L->recs[t->L->n - 1];
		struct dd_fstream fs = { .kind = DD_FS_TAR, .a = t->a, .stash = &t->stash };
		dd_file f = { rec->path, ft, rec->size, rec->mode, rec->link, t->L->index,
			      &t->L->diff_id, NULL };
		if ((rc = dd_walker_deliver(w, &f, &fs, err))) {
			t->consumer_failed = !fs.failed;
			return dd_error_prefix(err, "entry '%.300s'", rec->path);
		}
	}
	return 0;
}

static int tar_error(struct tarwalk *t, const char *what, dd_error *err)
{
	const char *s = archive_error_string(t->a);
	if (t->stash.code) {
		if (err)
			*err = t->stash;
		return t->stash.code;
	}
	return dd_error_set(err, DD_EINPUT, "%s: %s", what, s ? s : "malformed tar data");
}

static int walk_entries(struct tarwalk *t, dd_error *err)
{
	struct archive_entry *e;
	char last[320] = "";
	int r, rc;

	for (;;) {
		r = archive_read_next_header(t->a, &e);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN) {
			char what[400];
			if (t->entries)
				snprintf(what, sizeof(what), "malformed tar header after entry '%s'", last);
			else
				snprintf(what, sizeof(what), "not a tar archive or malformed first header");
			return tar_error(t, what, err);
		}
		if ((rc = handle_entry(t, e, err)))
			return rc;
		snprintf(last, sizeof(last), "%.300s", t->path);
		if (archive_read_data_skip(t->a) < ARCHIVE_WARN) {
			char what[400];
			if (t->stash.code) {
				tar_error(t, "", err);
				return dd_error_prefix(err, "entry '%s'", last);
			}
			snprintf(what, sizeof(what), "entry '%s': truncated (declared %lld bytes)", last,
				 (long long)archive_entry_size(e));
			return tar_error(t, what, err);
		}
	}
}

/* After the tar end marker: the rest of the stream and of the blob. */
static int drain(struct tarwalk *t, dd_error *err)
{
	for (;;) {
		const void *p;
		size_t n;
		int rc;
		if (t->stash.code) {
			if (err)
				*err = t->stash;
			return t->stash.code;
		}
		if ((rc = dd_decomp_next(t->d, &p, &n, err)) || (rc = check_total(t, err)))
			return rc;
		if (!n)
			return 0;
	}
}

static int verify(struct tarwalk *t, const dd_digest *digest, const dd_digest *diff_id,
		  dd_layer_stats *st, dd_error *err)
{
	dd_decomp_digests(t->d, &st->digest, &st->diff_id);
	if (digest && dd_digest_is_set(digest) && !dd_digest_eq(digest, &st->digest))
		return dd_error_set(err, DD_EINPUT, "blob %s digest mismatch: got %s", digest->s,
				    st->digest.s);
	if (diff_id && dd_digest_is_set(diff_id) && !dd_digest_eq(diff_id, &st->diff_id))
		return dd_error_set(err, DD_EINPUT, "diff_id %s mismatch: uncompressed content has %s",
				    diff_id->s, st->diff_id.s);
	return 0;
}

/* After a failure: a blob that does not match its digest was tampered with
 * or damaged, which explains (and replaces) whatever broke on the way. */
static void blame_digest(struct tarwalk *t, const dd_digest *digest, dd_error *err)
{
	dd_digest got;
	dd_error e2 = DD_ERROR_INIT;
	if (!t->d || !digest || !dd_digest_is_set(digest) || t->consumer_failed)
		return;
	if (dd_decomp_drain_raw(t->d, &e2))
		return;
	dd_decomp_digests(t->d, &got, NULL);
	if (dd_digest_is_set(&got) && !dd_digest_eq(digest, &got))
		dd_error_set(err, DD_EINPUT, "blob %s digest mismatch: got %s", digest->s, got.s);
}

int dd_walker_layer(dd_walker *w, int index, dd_reader *blob, const dd_digest *digest,
		    const dd_digest *diff_id, const char *name, dd_layer_stats *stats,
		    dd_error *err)
{
	struct tarwalk t;
	dd_layer_stats st;
	char label[320];
	int rc;

	memset(&t, 0, sizeof(t));
	memset(&st, 0, sizeof(st));
	layer_label(label, sizeof(label), index, name, digest);
	if (!w || !blob)
		return dd_error_set(err, DD_EINTERNAL, "%s: dd_walker_layer: missing argument", label);
	t.w = w;
	t.base_bytes = w->total_bytes;
	dd_pathmap_init(&t.seen);
	if ((rc = dd_layer_open(w, index, &t.L, err)))
		return dd_error_prefix(err, "%s", label);
	if (diff_id && dd_digest_is_set(diff_id))
		t.L->diff_id = *diff_id;
	if ((rc = dd_decomp_new(&t.d, blob, err)))
		goto done;
	dd_rec_begin(w);
	st.compression = dd_decomp_compression(t.d);
	t.a = archive_read_new();
	if (!t.a) {
		rc = dd_error_oom(err);
		goto done;
	}
	archive_read_support_format_tar(t.a);
	archive_read_support_filter_none(t.a);
	if (archive_read_open2(t.a, &t, NULL, tar_read, NULL, NULL) != ARCHIVE_OK) {
		rc = tar_error(&t, "not a tar archive", err);
		goto done;
	}
	if ((rc = walk_entries(&t, err)) || (rc = drain(&t, err)))
		goto done;
	st.compressed_bytes = dd_decomp_in_bytes(t.d);
	st.uncompressed_bytes = dd_decomp_out_bytes(t.d);
	st.entries = t.entries;
	if ((rc = verify(&t, digest, diff_id, &st, err)))
		goto done;
	if (!dd_digest_is_set(&t.L->diff_id))
		t.L->diff_id = st.diff_id;
	w->total_bytes += st.uncompressed_bytes;
	w->total_entries += t.entries;
	if (stats)
		*stats = st;
done:
	dd_rec_end(w, index, &st, rc == 0);
	if (rc) {
		if (rc != DD_EENV && rc != DD_EINTERNAL)
			blame_digest(&t, digest, err);
		dd_error_prefix(err, "%s", label);
		dd_layer_discard(w, t.L);
	}
	if (t.a)
		archive_read_free(t.a);
	dd_decomp_free(t.d);
	dd_pathmap_release(&t.seen);
	return rc;
}
