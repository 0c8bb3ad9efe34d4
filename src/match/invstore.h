/*
 * invstore.h - scanned inventories kept in the local cache, so that
 * `drydock rescan` can re-match every image scanned before against the
 * current DB without reading the images again.
 *
 * One JSON file per image in the store directory (default
 * $XDG_CACHE_HOME/drydock/inventories, else ~/.cache/drydock/inventories),
 * named by the sha256 of the manifest digest and the layers' diffIDs
 * (format "drydock-inventory/1", docs/cli.md "## rescan"): the image
 * metadata, the OS, the packages with their layers, the base layer count
 * and the findings ("PACKAGE ID STATUS FIXED" keys) of the last match.
 * Files are written to a temporary name and renamed, so a reader never
 * sees half a file.
 *
 * Memory: loaded inventories and key lists belong to the caller
 * (dd_inventory_free(), dd_invstore_keys_free()).
 */
#ifndef DD_MATCH_INVSTORE_H
#define DD_MATCH_INVSTORE_H

#include <stddef.h>

#include <jansson.h>

#include "inventory/inventory.h"
#include "match/match.h"
#include "util/buf.h"
#include "util/error.h"

/* The default store directory (appended to out). */
int dd_invstore_default_dir(dd_buf *out, dd_error *err);

/* The findings' keys ("libssl1.1 CVE-2021-3449 fixed 1.1.1k-r0"), sorted,
 * suppressed findings excluded. */
int dd_invstore_keys(char ***out, size_t *n, const dd_inventory *inv, const dd_findings *f,
		     dd_error *err);
void dd_invstore_keys_free(char **keys, size_t n);

/* Store inv (with base_layers and the keys of f) under dir, creating dir.
 * Images without a manifest digest and without any layer diffID (an
 * SBOM, a rootfs:) have no stable key: nothing is stored and 0 returned
 * with *stored = 0. */
int dd_invstore_save(const char *dir, const dd_inventory *inv, long base_layers,
		     const dd_findings *f, int *stored, dd_error *err);

/* Load one stored file.  keys/nkeys receive the findings of the last match. */
int dd_invstore_load(const char *path, dd_inventory **inv, long *base_layers, char ***keys,
		     size_t *nkeys, dd_error *err);

/* Replace the stored findings of the file at path with those of f. */
int dd_invstore_update(const char *path, const dd_inventory *inv, long base_layers,
		       const dd_findings *f, dd_error *err);

/* One stored inventory matched again: the image, and the findings' keys
 * of the last match (before) and of this one (now), both sorted. */
typedef struct dd_invstore_rematch {
	dd_inventory *inv;
	char **before, **now;
	size_t n_before, n_now;
	int changed;      /* 1: the keys differ (the stored file was updated) */
	int skipped;      /* 1: `want` declined the image: not matched */
} dd_invstore_rematch;

/* Load the file at path, match it against db, and store the new findings
 * when they changed (a failure to store is a warning).  want (may be NULL)
 * sees the loaded image first; when it returns 0 nothing is matched
 * (out->skipped).  On failure out->inv is NULL when the file did not load.
 * Release *out with dd_invstore_rematch_release() whatever the result. */
int dd_invstore_rematch_one(const char *path, struct dd_vulndb *db,
			    int (*want)(void *ctx, const dd_inventory *inv), void *ctx,
			    dd_invstore_rematch *out, dd_error *err);
void dd_invstore_rematch_release(dd_invstore_rematch *r);
/* The keys of a that are not in b (both sorted), as a JSON array. */
json_t *dd_invstore_keys_missing(char *const *a, size_t na, char *const *b, size_t nb);

/* The stored files of dir ("<dir>/<sha256>.json"), sorted; a missing dir
 * is an empty list. */
int dd_invstore_list(const char *dir, char ***paths, size_t *n, dd_error *err);

#endif
