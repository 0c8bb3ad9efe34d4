/*
 * internal.h - what the files of src/layer/ share (not a public API).
 *
 * dd_arena: append-only string storage in chunks that never move, so the
 * pointers it returns stay valid until dd_arena_release().
 * dd_pathmap: open-addressing hash map from a borrowed C string to a size_t
 * (the key strings must outlive the map; usually they live in an arena).
 * dd_lrec: one recorded tar entry (metadata only, never content).
 */
#ifndef DD_LAYER_INTERNAL_H
#define DD_LAYER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "layer/walker.h"
#include "util/buf.h"

struct archive;

#define DD_PATH_MAX 4096

typedef struct dd_arena_chunk dd_arena_chunk;
typedef struct dd_arena {
	dd_arena_chunk *head;
	size_t used, cap; /* in head */
	uint64_t total;   /* bytes handed out */
} dd_arena;

void dd_arena_init(dd_arena *a);
void dd_arena_release(dd_arena *a);
/* Copy s[0..n) plus a NUL; NULL when out of memory. */
const char *dd_arena_strndup(dd_arena *a, const char *s, size_t n);

typedef struct dd_pathmap {
	const char **keys;
	size_t *vals;
	size_t cap, n; /* cap is a power of two (or 0) */
} dd_pathmap;

void dd_pathmap_init(dd_pathmap *m);
void dd_pathmap_release(dd_pathmap *m);
/* Insert or replace; 0 or DD_EENV (no memory). */
int dd_pathmap_put(dd_pathmap *m, const char *key, size_t val);
/* 1 and *val when found, else 0.  val may be NULL. */
int dd_pathmap_get(const dd_pathmap *m, const char *key, size_t *val);
int dd_pathmap_getn(const dd_pathmap *m, const char *key, size_t n, size_t *val);

enum dd_wh { DD_WH_NONE, DD_WH_FILE, DD_WH_OPAQUE, DD_WH_META };

typedef struct dd_lrec {
	const char *path;  /* normalised; for whiteouts the path they delete */
	const char *link;  /* NULL unless symlink or hardlink */
	uint64_t size;
	uint32_t mode;
	uint8_t type;      /* enum dd_ftype */
	uint8_t wh;        /* enum dd_wh */
} dd_lrec;

typedef struct dd_layer {
	int index;
	dd_lrec *recs;
	size_t n, cap;
	dd_digest diff_id;
} dd_layer;

struct dd_want {
	const char *pattern; /* in the arena */
	int glob;
	size_t lit;          /* length of the literal prefix before any * ? [ */
	dd_file_cb cb;
	void *ctx;
	size_t next_same;    /* next exact want with the same path + 1, 0: none */
};

struct dd_walker {
	dd_limits limits;
	dd_arena arena;
	dd_layer **layers;      /* separately allocated, stable */
	size_t nlayers, caplayers;
	uint64_t total_bytes, total_entries;

	struct dd_want *wants;
	size_t nwants, capwants;
	dd_pathmap want_exact; /* path -> first want index */
	int have_globs;

	/* the view, after dd_walker_finish() */
	dd_fsentry *view;
	size_t nview;
	dd_pathmap view_map;
	int finished;

	dd_buf multi;          /* content shared by several consumers */

	/* recording for the layer cache (record.c) */
	int rec_on;            /* dd_walker_record() asked for it */
	int rec_active;        /* a tar layer is being recorded now */
	int rec_bad;           /* this layer cannot be recorded (file too large) */
	int rec_index;         /* layer of the finished record, -1: none */
	dd_buf rec;
};

/* record.c: the hooks the tar walk calls while recording. */
void dd_rec_begin(dd_walker *w);
void dd_rec_entry(dd_walker *w, const dd_lrec *r);
void dd_rec_file(dd_walker *w, const void *p, size_t n);
void dd_rec_end(dd_walker *w, int index, const dd_layer_stats *st, int ok);

/* Where dd_file_read() gets content from (dd_file.priv). */
enum dd_fs_kind { DD_FS_NONE, DD_FS_TAR, DD_FS_MEM, DD_FS_FD, DD_FS_GONE };
struct dd_fstream {
	enum dd_fs_kind kind;
	struct archive *a;        /* DD_FS_TAR */
	const dd_error *stash;    /* DD_FS_TAR: the decoder's error, if any */
	const unsigned char *mem; /* DD_FS_MEM */
	size_t mem_len;
	int fd;                   /* DD_FS_FD */
	uint64_t off;
	uint64_t max_read;
	int failed;
	dd_error ferr;
};

/* Hand f to every want matching f->path (content from fs).  A consumer's
 * error, or a read error it ignored, is returned unprefixed. */
int dd_walker_deliver(dd_walker *w, dd_file *f, struct dd_fstream *fs, dd_error *err);

/* Normalise a tar path into out (cap >= DD_PATH_MAX + 1): strip "/" and "./",
 * drop empty and "." components.  Returns 0, or a static reason string for
 * ".." components or over-long names.  *absolute tells whether it started
 * with "/". */
const char *dd_layer_normpath(const char *in, char *out, size_t cap, int *absolute);

/* Register one entry of layer L (arena copies of path and link). */
int dd_layer_add(dd_walker *w, dd_layer *L, const dd_lrec *r, dd_error *err);
/* The layer record for index, created when absent; DD_EINTERNAL when it was
 * already walked. */
int dd_layer_open(dd_walker *w, int index, dd_layer **out, dd_error *err);
/* Drop a layer that failed to walk (so a retry is possible). */
void dd_layer_discard(dd_walker *w, dd_layer *L);

/* Wants matching path: fills idx (registration order), returns the count. */
size_t dd_walker_match(const dd_walker *w, const char *path, size_t *idx, size_t cap);

#endif
