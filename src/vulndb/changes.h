/*
 * changes.h - Red Hat's changes.csv and deletions.csv (the index files next
 * to archive_latest.txt in https://security.access.redhat.com/data/csaf/v2/):
 * one "path","timestamp" line per document, e.g.
 *     "2024/cve-2024-0727.json","2025-02-18T14:28:08+00:00"
 * Used by `db update` (update.c) for incremental updates.
 *
 * Memory: a dd_vulndb_changes owns its paths; dd_vulndb_changes_release()
 * frees them.
 */
#ifndef DD_VULNDB_CHANGES_H
#define DD_VULNDB_CHANGES_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

typedef struct dd_vulndb_change {
	char *path;  /* relative to the index's directory; validated (see below) */
	int64_t ts;  /* Unix time */
} dd_vulndb_change;

typedef struct dd_vulndb_changes {
	dd_vulndb_change *v;
	size_t n, cap;
	int64_t bad; /* lines that were not "path","timestamp" (skipped) */
} dd_vulndb_changes;

/* Parse an index file, appending to c (zero it first).  A path must be
 * relative, of letters, digits, '.', '_', '-' and '/', without "..", "//"
 * or a leading '/', and end in ".json"; a timestamp is RFC 3339.  Other
 * lines are counted in c->bad.  Only memory exhaustion is an error. */
int dd_vulndb_changes_parse(const char *data, size_t len, dd_vulndb_changes *c,
			    dd_error *err);
void dd_vulndb_changes_release(dd_vulndb_changes *c);

/* Keep the entries newer than `after`, one per path (its newest), sorted
 * by path. */
void dd_vulndb_changes_keep_newer(dd_vulndb_changes *c, int64_t after);

/* The entry of `path` in a list sorted by dd_vulndb_changes_keep_newer(),
 * or NULL. */
dd_vulndb_change *dd_vulndb_changes_find(dd_vulndb_changes *c, const char *path);

/* "YYYY-MM-DD[THH:MM:SS[.frac]][Z|+HH:MM|-HH:MM]" (no zone: UTC) to Unix
 * time; -1 when malformed. */
int dd_vulndb_time_parse(const char *p, size_t n, int64_t *out);
/* Unix time as "YYYY-MM-DDTHH:MM:SSZ". */
void dd_vulndb_time_format(int64_t t, char out[32]);

/* The advisory id of a document path: "2024/cve-2024-0727.json" ->
 * "CVE-2024-0727", "2024/rhsa-2024_0010.json" -> "RHSA-2024:0010".  The
 * path must end in ".json" (as parsed paths do). */
void dd_vulndb_change_id(const char *path, char *out, size_t size);

/* The date in an archive's file name ("csaf_vex_2026-11-27.tar.zst") at
 * 00:00 UTC; -1 when it has none. */
int dd_vulndb_archive_date(const char *url, int64_t *out);

#endif
