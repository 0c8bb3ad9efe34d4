/*
 * import.h - feed importers: turn files in upstream feed formats into rows
 * of the vulnerability DB (store.h), one source per transaction.
 *
 * Formats are detected from content, never from file names:
 *   - OSV JSON records (a single object, or an array of them) and OSV YAML;
 *   - Alpine secdb JSON/YAML (also Wolfi, Chainguard and MinimOS);
 *   - the Debian security tracker JSON (/tracker/data/json) and its text
 *     lists (data/CVE/list, data/DSA/list, data/DLA/list);
 *   - the Ubuntu CVE Tracker's per-CVE files (active/CVE-*);
 *   - NVD CVE API 2.0 pages / JSON 2.0 feeds, NVD JSON 1.1 feeds and CVE
 *     JSON 5 records (severities for CVSS enrichment, no affected entries);
 *   - Red Hat CSAF 2.0 VEX documents and CSAF advisories (RHSA).
 * Inputs are files, directories (walked in name order; only *.json, *.yaml,
 * *.yml, files named "list" or "CVE-*" and archive files are considered there), and archives read by
 * libarchive as streams, never extracted to disk: .zip (osv.dev all.zip),
 * .tar[.gz|.bz2|.xz|.zst] and single .gz/.bz2/.xz/.zst files.
 *
 * Grading of failures: a malformed record (or, inside a directory or
 * archive, a file that is not a feed) is skipped with a warning naming the
 * file and record id, counted, and the import goes on.  A file named
 * explicitly that is not a feed at all, a read error, or a DB error is fatal:
 * the source's transaction is rolled back and its previous rows stay.  With
 * `strict`, every skip is fatal too.
 *
 * Memory: options and statistics are caller-owned plain values.
 */
#ifndef DD_VULNDB_IMPORT_H
#define DD_VULNDB_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"
#include "vulndb/store.h"

typedef struct dd_vulndb_import_opts {
	const char *source; /* source name the rows are stored under; required */
	int strict;         /* any skipped record or file fails the import */
	size_t max_file;    /* largest file or archive member read; 0 = 1 GiB */
	/* Recorded with the source on success (db update); NULL for local
	 * imports. */
	const char *url, *etag, *last_modified;
	const char *kind;   /* expected kind ("osv", "csaf-vex", ...), or NULL */
	/* Incremental update (db update of Red Hat's changes.csv): keep the
	 * source's rows; a record replaces the stored record with its id;
	 * then the advisories delete_ids[0..n_delete) are removed.  No input
	 * file at all is fine then.  `cursor` is stored with the source
	 * (sources.cursor) on success; NULL keeps it. */
	int incremental;
	const char *const *delete_ids;
	size_t n_delete;
	const char *cursor;
} dd_vulndb_import_opts;

typedef struct dd_vulndb_import_stats {
	int64_t files;      /* feed files (or archive members) imported */
	int64_t records;    /* records seen */
	int64_t advisories; /* advisory rows added (distinct ids in the source) */
	int64_t affected;   /* affected rows added */
	int64_t skipped;    /* records, entries or files skipped as malformed */
	int64_t deleted;    /* advisories removed (incremental: delete_ids found) */
	char kind[32];      /* "osv", "alpine-secdb", "debian-tracker", "debian-list",
			       "ubuntu-uct", "cve", "csaf-vex", "csaf-advisory", "mixed" */
	char last_error[512];
} dd_vulndb_import_stats;

/* Import paths[0..n) as ONE source (opts->source), replacing its rows in
 * one transaction.  On error the DB is unchanged. */
int dd_vulndb_import_paths(dd_vulndb *db, const char *const *paths, size_t n,
			   const dd_vulndb_import_opts *opts, dd_vulndb_import_stats *st,
			   dd_error *err);

/* Import one in-memory file (format detected) into source opts->source,
 * in its own transaction.  `name` is used in messages.  For tests and
 * fuzzers. */
int dd_vulndb_import_buffer(dd_vulndb *db, const char *name, const void *data, size_t len,
			    const dd_vulndb_import_opts *opts, dd_vulndb_import_stats *st,
			    dd_error *err);

/* Debian release codename -> version ("bookworm" -> "12", "sid" -> "sid");
 * NULL for unknown names. */
const char *dd_vulndb_debian_version(const char *codename);

/* CVSS base scores computed from a vector.  v3: "CVSS:3.0/..." or
 * "CVSS:3.1/..."; v2: "AV:N/AC:L/Au:N/C:P/I:P/A:P" (optionally with a
 * "(...)" wrapper or "CVSS:2.0/" prefix).  Return 0 and fill score and
 * rating ("NONE", "LOW", "MEDIUM", "HIGH", "CRITICAL"; static strings), or
 * -1 when the vector is malformed. */
int dd_cvss3_score(const char *vector, double *score, const char **rating);
int dd_cvss2_score(const char *vector, double *score, const char **rating);

#endif
