/*
 * layercache.h - the layer cache: what drydock learned from a layer, kept
 * by the layer's diff_id so that no layer is ever read twice.
 *
 * A record is opaque bytes (the layer walker's replay record: the layer's
 * entries and the contents of the files catalogers asked for), stored
 * zstd-compressed with its sha256 under (diff_id, key), where the key names
 * the record format and the set of wanted paths.  A record that fails its
 * checksum is a miss, never an error.  The store is SQLite in WAL mode, so
 * several drydock processes can scan at once.
 *
 * Default location: $XDG_CACHE_HOME/drydock/layers.sqlite (or
 * ~/.cache/drydock/layers.sqlite); DRYDOCK_CACHE_DIR overrides the directory,
 * DRYDOCK_NO_CACHE=1 turns the cache off.
 *
 * Memory: dd_layercache_open allocates the handle, dd_layercache_close
 * frees it.  dd_layercache_get hands out a malloc'd copy (caller frees).
 */
#ifndef DD_CACHE_LAYERCACHE_H
#define DD_CACHE_LAYERCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/digest.h"
#include "util/error.h"

typedef struct dd_layercache dd_layercache;

/* The default path into out (appended). */
int dd_layercache_default_path(dd_buf *out, dd_error *err);

/* Open (creating) the cache at path (NULL: the default). */
int dd_layercache_open(dd_layercache **out, const char *path, dd_error *err);
void dd_layercache_close(dd_layercache *lc);

/* 0 with the record in *data (length *len) when found; 1 when not found or damaged. */
int dd_layercache_get(dd_layercache *lc, const dd_digest *diff_id, const char *key, void **data,
		      size_t *len, dd_error *err);
int dd_layercache_put(dd_layercache *lc, const dd_digest *diff_id, const char *key, const void *data,
		      size_t len, dd_error *err);

typedef struct dd_layercache_status {
	int64_t records;
	int64_t stored_bytes;   /* compressed */
	int64_t content_bytes;  /* uncompressed */
	int64_t oldest_use;     /* unix time, 0 when empty */
	int64_t newest_use;
} dd_layercache_status;

int dd_layercache_stat(dd_layercache *lc, dd_layercache_status *out, dd_error *err);

/* Remove records not used for older_than seconds (0: all); *removed counts. */
int dd_layercache_prune(dd_layercache *lc, int64_t older_than, int64_t *removed, dd_error *err);

#endif
