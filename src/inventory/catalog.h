/*
 * catalog.h - the cataloger framework and the small helpers every package
 * database parser shares.
 *
 * A cataloger (OS detection, dpkg, apk, rpm) declares the paths it wants.
 * While the image's layers stream through the dd_walker, every copy of a
 * wanted file, in every layer, is handed to the cataloger's parse() which
 * turns it into a per-layer result (so a layer cache keyed by diff_id +
 * cataloger name + version can store it).  After the walk, resolve() picks
 * the result of the layer whose copy is visible in the squashed view, and
 * computes provenance from the per-layer copies below it.
 *
 * Parsers never call dd_warn() themselves: they record warnings in a
 * dd_warnlist, and the framework reports the warnings of the visible copies
 * only (a corrupt database that a later layer replaced is not a finding).
 *
 * Memory: a dd_warnlist owns its strings (dd_warnlist_release).  Results
 * are owned by the framework and freed through the cataloger's free_result.
 */
#ifndef DD_INVENTORY_CATALOG_H
#define DD_INVENTORY_CATALOG_H

#include <stddef.h>

#include "inventory/inventory.h"
#include "inventory/package.h"
#include "layer/walker.h"
#include "util/error.h"

/* Warnings of one parse; a NULL list sends them straight to dd_warn().
 * At most DD_WARNLIST_MAX are kept; the rest are only counted (dropped), so
 * a hostile file with a million bad entries cannot flood the terminal. */
typedef struct dd_warnlist {
	char **v;
	size_t n;
	size_t dropped;
} dd_warnlist;

#define DD_WARNLIST_INIT { NULL, 0, 0 }
#define DD_WARNLIST_MAX 50

void dd_warnlist_add(dd_warnlist *w, const char *fmt, ...) DD_PRINTF(2, 3);
void dd_warnlist_release(dd_warnlist *w);

/* Copy n bytes of untrusted text, replacing control characters and invalid
 * UTF-8 with '?', so every string in a dd_package is printable UTF-8.
 * Returns NULL on OOM. */
char *dd_text_dup(const char *s, size_t n);

/* Append a copy of s to a string vector (*v, *n); -1 on OOM/overflow. */
int dd_strvec_push(char ***v, size_t *n, size_t *cap, const char *s, size_t len);

/* ---- the framework ---- */

typedef struct dd_catalog dd_catalog;

/* One stored copy of a wanted file. */
typedef struct dd_catfile {
	char *path;         /* as in the layer */
	int layer;
	dd_digest diff_id;
	void *result;       /* parse() result, may be NULL */
	dd_warnlist warn;   /* parse warnings */
} dd_catfile;

typedef struct dd_cataloger {
	const char *name;     /* "dpkg" */
	unsigned version;     /* bump when results change (layer cache key) */
	const char *const *patterns; /* NULL-terminated, see dd_walker_want */
	/* Turn one file copy into a result (*result may stay NULL).  A
	 * non-zero return stops the whole walk: use it only for OOM. */
	int (*parse)(const char *path, const void *data, size_t len, void **result,
		     dd_warnlist *warn, dd_error *err);
	void (*free_result)(void *result);
	/* After the walk: add what this cataloger found to inv. */
	int (*resolve)(dd_catalog *cat, dd_inventory *inv, dd_error *err);
} dd_cataloger;

/* The stored copy of path from `layer`, or NULL. */
const dd_catfile *dd_catalog_get(const dd_catalog *cat, const char *path, int layer);
/* The visible copy of path (symlinks followed when `resolve` is set), or
 * NULL when absent from the squashed view or not stored. */
const dd_catfile *dd_catalog_visible(const dd_catalog *cat, const char *path, int resolve);
/* All stored copies, sorted by path then layer (bottom first). */
size_t dd_catalog_count(const dd_catalog *cat);
const dd_catfile *dd_catalog_file(const dd_catalog *cat, size_t i);
/* 1 when f is the copy visible in the squashed view (no symlink following). */
int dd_catalog_is_visible(const dd_catalog *cat, const dd_catfile *f);
/* The copy of the same path in the nearest layer below f, or NULL. */
const dd_catfile *dd_catalog_prev(const dd_catalog *cat, const dd_catfile *f);
const dd_walker *dd_catalog_walker(const dd_catalog *cat);
/* Report a visible copy's parse warnings through dd_inventory_warn(). */
void dd_catalog_report(const dd_catfile *f, dd_inventory *inv);

/* Provenance over the chain of copies of one database file: for packages
 * pkgs->v[from..] (taken from the visible copy `vis`), set layer / diff_id to
 * the lowest layer L such that every copy from L up to vis holds a package
 * with the same name, version and arch.  list_of() gives a copy's package
 * list from its result (NULL: none). */
void dd_catalog_provenance(dd_pkglist *pkgs, size_t from, const dd_catalog *cat,
			   const dd_catfile *vis,
			   const dd_pkglist *(*list_of)(const void *result));

/* The catalogers, defined in os.c, dpkg.c, apk.c and catalog.c (rpm). */
extern const dd_cataloger dd_cataloger_os;
extern const dd_cataloger dd_cataloger_dpkg;
extern const dd_cataloger dd_cataloger_apk;
extern const dd_cataloger dd_cataloger_rpm;

#endif
