/*
 * walker.h - the streaming layer walker.
 *
 * A layer blob (uncompressed, gzip or zstd tar; detected by magic bytes) is
 * read once, front to back, never unpacked to disk.  While it streams:
 *  - the blob bytes are hashed and compared with the manifest digest, the
 *    decompressed bytes with the config's diff_id;
 *  - every tar entry is checked (path safety, type, sizes, limits) and
 *    recorded in the layer's entry list (for the squashed view);
 *  - entries whose path matches a registered want are handed to the wanting
 *    consumer (a cataloger), with the layer they came from; the consumer may
 *    read the file's content from inside its callback.
 * After every layer was walked (in any order), dd_walker_finish() applies
 * whiteouts (`.wh.NAME`, `.wh..wh..opq`) bottom-up and yields the squashed
 * view of the image: which path is visible, and from which layer.
 *
 * Paths are relative to the image root, without a leading "/" and without
 * "." or empty components: "etc/os-release".  Patterns use fnmatch(3) with
 * FNM_PATHNAME ("var/lib/dpkg/status.d/ *" without the space).
 *
 * Memory: the walker owns everything it records; dd_file and dd_fsentry
 * pointers passed to callbacks or returned by lookups are borrowed and valid
 * until the callback returns (dd_file) or until dd_walker_free (dd_fsentry).
 */
#ifndef DD_LAYER_WALKER_H
#define DD_LAYER_WALKER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/buf.h"
#include "util/digest.h"
#include "util/error.h"
#include "util/reader.h"

/* Limits against decompression bombs; flags of the CLI raise them. */
typedef struct dd_limits {
	uint64_t max_total_bytes; /* uncompressed bytes, all layers together */
	uint64_t max_entries;     /* tar entries, all layers together */
	uint64_t max_file_bytes;  /* declared size of any single entry */
	uint64_t max_read_bytes;  /* content one consumer may slurp from one file */
} dd_limits;

#define DD_LIMIT_TOTAL_DEFAULT (64ULL << 30)  /* 64 GiB */
#define DD_LIMIT_ENTRIES_DEFAULT 4000000ULL
#define DD_LIMIT_FILE_DEFAULT (16ULL << 30)   /* 16 GiB */
#define DD_LIMIT_READ_DEFAULT (1ULL << 30)    /* 1 GiB */

void dd_limits_default(dd_limits *l);

enum dd_ftype {
	DD_FT_REG,
	DD_FT_DIR,
	DD_FT_SYMLINK,
	DD_FT_HARDLINK,
	DD_FT_CHAR,
	DD_FT_BLOCK,
	DD_FT_FIFO,
};
const char *dd_ftype_name(enum dd_ftype t);

enum dd_compression { DD_COMP_NONE, DD_COMP_GZIP, DD_COMP_ZSTD };
const char *dd_compression_name(enum dd_compression c);

/* What one layer walk measured; filled by dd_walker_layer(). */
typedef struct dd_layer_stats {
	enum dd_compression compression;
	uint64_t compressed_bytes;
	uint64_t uncompressed_bytes;
	uint64_t entries;     /* tar entries, whiteouts included */
	dd_digest digest;     /* sha256 of the blob as read */
	dd_digest diff_id;    /* sha256 of the uncompressed tar */
} dd_layer_stats;

/* A file handed to a consumer. */
typedef struct dd_file {
	const char *path;        /* normalised, see above */
	enum dd_ftype type;
	uint64_t size;           /* declared size (regular files) */
	unsigned mode;           /* permission bits */
	const char *link;        /* symlink or hardlink target, else NULL */
	int layer;               /* index of the layer, 0 = bottom */
	const dd_digest *diff_id;/* that layer's diff_id (may be unset: rootfs) */
	void *priv;              /* the walker's stream; do not touch */
} dd_file;

/* Consumer callback: return 0 to go on, or a DD_E* code (after filling err)
 * to stop the walk. */
typedef int (*dd_file_cb)(void *ctx, const dd_file *f, dd_error *err);

/* Read content of a regular file from inside its callback: returns bytes
 * read, 0 at the end, or a negative code.  Symlinks have no content; a tar
 * hardlink (type DD_FT_HARDLINK, link = an earlier path of the same layer)
 * usually has none either: its data came with the target entry. */
ssize_t dd_file_read(const dd_file *f, void *buf, size_t n, dd_error *err);
/* Read the whole content (bounded by limits.max_read_bytes). */
int dd_file_slurp_all(const dd_file *f, dd_buf *out, dd_error *err);

typedef struct dd_walker dd_walker;

int dd_walker_new(dd_walker **out, const dd_limits *limits, dd_error *err);
void dd_walker_free(dd_walker *w);

/* Ask for paths matching pattern (exact path, or fnmatch pattern when it
 * holds * ? or [).  A path matching several wants reaches each of them. */
int dd_walker_want(dd_walker *w, const char *pattern, dd_file_cb cb, void *ctx,
		   dd_error *err);

/* Walk one layer blob.  digest / diff_id are the expected values (NULL or
 * unset: not checked, only computed).  The whole blob is always read to its
 * end so both digests cover every byte.  `name` is used in messages: errors
 * start with "layer INDEX (NAME): ", or with NAME alone when it already
 * starts with "layer " ("layer 2 sha256:ab12...: ").  stats may be NULL.
 * Wanted files reach their callbacks during the walk, with f->diff_id the
 * expected diff_id (unset when none was given).  On failure the layer is
 * forgotten (it may be walked again); errors are DD_EINPUT for bad input. */
int dd_walker_layer(dd_walker *w, int index, dd_reader *blob, const dd_digest *digest,
		    const dd_digest *diff_id, const char *name, dd_layer_stats *stats,
		    dd_error *err);

/* Walk a plain directory (rootfs:) as layer `index`, without following any
 * symlink and without leaving dirfd's tree. */
int dd_walker_dir(dd_walker *w, int index, const char *root, dd_layer_stats *stats,
		  dd_error *err);

/* ---- the layer cache's side of the walker ----
 *
 * With recording on, every dd_walker_layer() also writes a record of what it
 * learned: the layer's entries (metadata) and the content of every file a
 * want matched, plus the layer's stats.  Replaying a record later, into a
 * walker with the same wants (dd_walker_want_key() names them), has the same
 * effect as walking the layer again: the same entries for the squashed view,
 * the same files handed to the same consumers, without the blob. */
void dd_walker_record(dd_walker *w, int on);
/* After a successful dd_walker_layer(w, index, ...): the record (malloc'd,
 * the caller frees it); DD_EINPUT... no: returns 1 when there is none (a
 * wanted file was larger than the read limit, or recording was off). */
int dd_walker_take_record(dd_walker *w, int index, void **data, size_t *len);
/* Replay a record as layer index.  A malformed record is DD_EINPUT (callers
 * treat it as a cache miss: nothing of it stays in the walker). */
int dd_walker_replay(dd_walker *w, int index, const void *data, size_t len,
		     const dd_digest *diff_id, dd_layer_stats *stats, dd_error *err);
/* The registered want patterns (to give another walker the same wants). */
size_t dd_walker_want_count(const dd_walker *w);
const char *dd_walker_want_pattern(const dd_walker *w, size_t i);
/* A key naming the record format and the registered wants ("ddlr1-<hex>"). */
void dd_walker_want_key(const dd_walker *w, char *out, size_t n);

/* Apply whiteouts across the layers walked so far and build the view. */
int dd_walker_finish(dd_walker *w, dd_error *err);

/* The squashed view (after dd_walker_finish). */
typedef struct dd_fsentry {
	const char *path;
	enum dd_ftype type;
	uint64_t size;
	unsigned mode;
	const char *link;
	int layer;
} dd_fsentry;

/* Visible entry at path, or NULL (absent or deleted by a whiteout). */
const dd_fsentry *dd_walker_lookup(const dd_walker *w, const char *path);
/* Like lookup, but follows symlinks (absolute targets resolve against the
 * image root; ".." never leaves it), at most 40 hops. */
const dd_fsentry *dd_walker_resolve(const dd_walker *w, const char *path);
/* Visible entries, sorted by path. */
size_t dd_walker_count(const dd_walker *w);
const dd_fsentry *dd_walker_entry(const dd_walker *w, size_t i);

#endif
