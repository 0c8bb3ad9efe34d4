/*
 * store.h - the vulnerability database: one SQLite file in an OSV-shaped
 * model (docs/db-schema.md) that every importer writes into and the matcher
 * reads from.
 *
 * Writing happens per source, inside ONE transaction: dd_vulndb_source_begin()
 * deletes that source's rows, the importer adds records, and
 * dd_vulndb_source_commit() publishes the whole new set at once (or
 * dd_vulndb_source_rollback() leaves the previous set untouched).  The DB is
 * in WAL mode, so readers (scans) running meanwhile keep seeing the old
 * snapshot, and a process killed at any moment leaves the last committed
 * state.  Each record is added between dd_vulndb_record_begin() and
 * dd_vulndb_record_end(): a record that turns out malformed half-way is
 * undone on its own (its rows deleted) without touching the rest of the import.
 *
 * Memory: dd_vulndb is an opaque handle (dd_vulndb_close() frees it).  Strings
 * passed in are copied by SQLite.  Everything handed to a lookup callback is
 * borrowed and valid only during that call.
 */
#ifndef DD_VULNDB_STORE_H
#define DD_VULNDB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/error.h"

typedef struct dd_vulndb dd_vulndb;

/* The schema version this build writes (PRAGMA user_version). */
#define DD_VULNDB_SCHEMA_VERSION 3
/* The oldest schema a read-only open accepts (it has every table lookups
 * read). */
#define DD_VULNDB_SCHEMA_MIN_READ 1

enum {
	DD_VULNDB_RDONLY = 1, /* open an existing DB read-only; never create or migrate */
	DD_VULNDB_KEEP_JOURNAL = 2, /* writable, but keep the file's journal mode (no WAL
				       switch): small in-place writes by db update */
};

/* Default DB path: $XDG_CACHE_HOME/drydock/db.sqlite, else
 * $HOME/.cache/drydock/db.sqlite.  Appends to out. */
int dd_vulndb_default_path(dd_buf *out, dd_error *err);

/* Open (creating parent directory and file when needed, unless RDONLY) and
 * migrate to DD_VULNDB_SCHEMA_VERSION.  A DB written by a newer drydock
 * (higher user_version) is refused with DD_EENV. */
int dd_vulndb_open(dd_vulndb **out, const char *path, int flags, dd_error *err);
void dd_vulndb_close(dd_vulndb *db);

/* The underlying connection (for tests and export); borrowed. */
struct sqlite3 *dd_vulndb_sqlite(dd_vulndb *db);

/* ---- writing (importers) ---------------------------------------------- */

/* Start replacing source `name` (kind: "osv", "alpine-secdb", ...; url may be
 * NULL).  Takes the write lock, deletes the source's current rows inside the
 * transaction.  Only one source transaction at a time per handle. */
int dd_vulndb_source_begin(dd_vulndb *db, const char *name, const char *kind,
			   const char *url, dd_error *err);

/* Like dd_vulndb_source_begin(), but keep the source's rows: an incremental
 * update.  An advisory added under an id the source already holds (from
 * before this transaction) replaces the stored one, every row below it
 * included; ids added twice within the transaction follow the add mode
 * (DD_VULNDB_ADV_UNIQUE/MERGE) as usual. */
int dd_vulndb_source_begin_incremental(dd_vulndb *db, const char *name, const char *kind,
				       const char *url, dd_error *err);

/* In an open source transaction: remove advisory `id` of the source and
 * everything below it (a record the source withdrew or deleted).
 * *found is set to 1 when it existed. */
int dd_vulndb_delete_advisory(dd_vulndb *db, const char *id, int *found, dd_error *err);

/* What a finished import records about its source. */
typedef struct dd_vulndb_source_meta {
	int64_t records;        /* records seen in the input */
	int64_t skipped;        /* records or files skipped as malformed */
	const char *last_error; /* last skip message, or NULL */
	const char *kind;       /* detected format, or NULL to keep the begin() one */
	const char *etag;       /* NULL for local imports */
	const char *last_modified;
	const char *url;        /* where it was downloaded from, or NULL to keep */
	const char *cursor;     /* incremental position (sources.cursor); NULL clears it,
				   except in an incremental transaction (keeps it) */
} dd_vulndb_source_meta;

int dd_vulndb_source_commit(dd_vulndb *db, const dd_vulndb_source_meta *meta, dd_error *err);
/* Rows stored so far under the open source transaction. */
int dd_vulndb_source_counts(dd_vulndb *db, int64_t *advisories, int64_t *affected,
			    dd_error *err);

/* Outside any source transaction: note that source `name` was checked for
 * an update just now (sources.checked_at), with the outcome `error` (NULL:
 * the check succeeded, e.g. a 304 Not Modified; else the one-line reason the
 * update failed, kept in sources.update_error until the next successful
 * check).  Creates the source row (with kind and url, may be NULL) when it
 * does not exist yet; never touches the source's advisories. */
int dd_vulndb_source_checked(dd_vulndb *db, const char *name, const char *kind,
			     const char *url, const char *error, dd_error *err);

/* Abandon the transaction: the source keeps its previous rows.  Safe to call
 * when no transaction is open. */
void dd_vulndb_source_rollback(dd_vulndb *db);

/* One record.  dd_vulndb_record_end(db, 0) keeps it, any other value
 * undoes every row added since dd_vulndb_record_begin() (by deleting them;
 * in an incremental transaction, with a savepoint).  Between the two, rows
 * are only added through the dd_vulndb_add_*() functions below. */
int dd_vulndb_record_begin(dd_vulndb *db, dd_error *err);
int dd_vulndb_record_end(dd_vulndb *db, int discard, dd_error *err);

typedef struct dd_vuln_advisory_in {
	const char *id;        /* required */
	const char *published; /* RFC 3339 text as given, or NULL */
	const char *modified;
	const char *withdrawn;
	const char *summary;
	const char *details;
} dd_vuln_advisory_in;

enum {
	DD_VULNDB_ADV_UNIQUE = 0, /* a second record with the same id in the source: DD_EINPUT */
	DD_VULNDB_ADV_MERGE = 1,  /* reuse the existing row (feeds listing a CVE per package) */
};

/* Adds an advisory to the current source; *out receives its row id. */
int dd_vulndb_add_advisory(dd_vulndb *db, const dd_vuln_advisory_in *a, int mode,
			   int64_t *out, dd_error *err);
/* kind: "alias", "upstream" or "related". */
int dd_vulndb_add_alias(dd_vulndb *db, int64_t adv, const char *alias, const char *kind,
			dd_error *err);
int dd_vulndb_add_reference(dd_vulndb *db, int64_t adv, const char *type, const char *url,
			    dd_error *err);

/* Status of an affected entry (docs/db-schema.md). */
#define DD_VULN_AFFECTED "affected"
#define DD_VULN_NOT_AFFECTED "not-affected"
#define DD_VULN_WILL_NOT_FIX "will-not-fix"
#define DD_VULN_FIX_DEFERRED "fix-deferred"
#define DD_VULN_END_OF_LIFE "end-of-life"
#define DD_VULN_UNDER_INVESTIGATION "under-investigation"

typedef struct dd_vuln_affected_in {
	const char *ecosystem; /* "Debian:12", "Alpine:v3.18", "npm", ... required */
	const char *package;   /* required */
	const char *purl;
	const char *status;    /* one of DD_VULN_*; NULL means "affected" */
	const char *urgency;   /* distro urgency/priority as given, or NULL */
	const char *notes;
} dd_vuln_affected_in;

int dd_vulndb_add_affected(dd_vulndb *db, int64_t adv, const dd_vuln_affected_in *a,
			   int64_t *out, dd_error *err);
/* type: ECOSYSTEM, SEMVER or GIT; repo only for GIT. */
int dd_vulndb_add_range(dd_vulndb *db, int64_t affected, const char *type, const char *repo,
			int64_t *out, dd_error *err);
/* kind: introduced, fixed, last_affected or limit; events keep their order. */
int dd_vulndb_add_event(dd_vulndb *db, int64_t range, const char *kind, const char *version,
			dd_error *err);
/* The explicit affected versions of an entry (OSV "versions"), at most one
 * call per entry. */
int dd_vulndb_add_versions(dd_vulndb *db, int64_t affected, const char *const *versions,
			   size_t n, dd_error *err);

typedef struct dd_vuln_severity {
	const char *source; /* who rated it: "nvd", "ubuntu", "debian", the feed name ... */
	const char *type;   /* "distro", "CVSS_V2", "CVSS_V3", "CVSS_V4" */
	const char *vector; /* CVSS vector, or NULL */
	double score;       /* valid when has_score */
	int has_score;
	const char *rating; /* "high", "CRITICAL", "medium", ... or NULL */
} dd_vuln_severity;

/* affected == 0: the severity belongs to the advisory as a whole. */
int dd_vulndb_add_severity(dd_vulndb *db, int64_t adv, int64_t affected,
			   const dd_vuln_severity *s, dd_error *err);

/* ---- reading (matcher) ------------------------------------------------- */

typedef struct dd_vuln_event {
	const char *kind;    /* introduced, fixed, last_affected, limit */
	const char *version;
} dd_vuln_event;

typedef struct dd_vuln_range {
	const char *type; /* ECOSYSTEM, SEMVER, GIT */
	const char *repo; /* GIT only, else NULL */
	size_t n_events;
	const dd_vuln_event *events;
} dd_vuln_range;

typedef struct dd_vuln_match {
	const char *advisory; /* id as in the feed: "GHSA-...", "CVE-...", "ALSA-2023:4520" */
	const char *source;   /* source name it was imported under */
	const char *ecosystem;
	const char *package;
	const char *purl;     /* may be NULL */
	const char *status;   /* never NULL */
	const char *urgency;  /* may be NULL */
	const char *notes;    /* may be NULL */
	const char *summary;  /* may be NULL */
	const char *published, *modified; /* may be NULL */
	size_t n_aliases;
	const char *const *aliases; /* aliases, then upstream ids */
	size_t n_ranges;
	const dd_vuln_range *ranges;
	size_t n_versions;
	const char *const *versions;
	size_t n_severities;
	const dd_vuln_severity *severities; /* the advisory's, then this entry's */
} dd_vuln_match;

/* Return 0 to continue, anything else stops the lookup and is returned. */
typedef int (*dd_vulndb_lookup_cb)(const dd_vuln_match *m, void *ctx, dd_error *err);

/* Call cb for every affected entry of (ecosystem, package) whose advisory is
 * not withdrawn, in (source, advisory id) order.  Returns 0, the callback's
 * non-zero value, or a DD_E* code. */
int dd_vulndb_lookup(dd_vulndb *db, const char *ecosystem, const char *package,
		     dd_vulndb_lookup_cb cb, void *ctx, dd_error *err);

/* Severities rated for a CVE (or any id) anywhere in the DB: the
 * advisory-level severities of every non-withdrawn advisory whose id is `id`
 * or which names `id` as an alias or upstream id (NVD, CVE JSON 5, GHSA,
 * Ubuntu, ...).  cb gets the advisory id, the source name it was imported
 * under, and the severity (all borrowed for the call). */
typedef int (*dd_vulndb_severity_cb)(const char *advisory, const char *source,
				     const dd_vuln_severity *s, void *ctx, dd_error *err);
int dd_vulndb_cve_severities(dd_vulndb *db, const char *id, dd_vulndb_severity_cb cb,
			     void *ctx, dd_error *err);

/* ---- status ------------------------------------------------------------ */

typedef struct dd_vulndb_source_info {
	char *name, *kind, *url, *etag, *last_modified, *last_error;
	char *update_error; /* why the last `db update` of it failed, or NULL */
	char *cursor;       /* incremental update position (schema 3), or NULL */
	int64_t updated;    /* unix time of the last successful import, 0 if never */
	int64_t checked;    /* unix time of the last update check, 0 if never */
	int64_t advisories; /* stored rows */
	int64_t affected;
	int64_t records;    /* records seen by the last import */
	int64_t skipped;    /* records/files skipped by the last import */
} dd_vulndb_source_info;

typedef struct dd_vulndb_status_info {
	int schema_version;
	int64_t advisories, affected;
	size_t n_sources;
	dd_vulndb_source_info *sources; /* by name */
} dd_vulndb_status_info;

int dd_vulndb_status(dd_vulndb *db, dd_vulndb_status_info *out, dd_error *err);
void dd_vulndb_status_release(dd_vulndb_status_info *st);

/* Copy the whole DB into a new file at `path` (SQLite backup API). */
int dd_vulndb_export(dd_vulndb *db, const char *path, dd_error *err);

#endif
