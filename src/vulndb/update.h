/*
 * update.h - `drydock db update`: download each source of the sources list
 * (sources.h) with a conditional GET and replace its rows, without ever
 * writing into the live DB file while doing so.
 *
 * For each selected source: GET with If-None-Match / If-Modified-Since from
 * the validators the DB stored for it.  304: unchanged (one request).  200:
 * the body is streamed to a temporary file next to the DB (bounded), and
 * imported (format detected from content; it must be the source's KIND when
 * the list names one) into a NEW DB file: a copy of the current DB made with
 * SQLite's backup API.  When every source has been tried, the new file is
 * synced and renamed over the DB: scans that have the old file open go on
 * reading it, and a process killed at any moment leaves the previous DB
 * intact.  A source whose download or import fails keeps its previous rows,
 * and its error is recorded (sources.update_error, `db status`).  When no
 * source changed, only the check times and errors are written, in place, in
 * one small transaction.  Two updates of the same DB exclude each other
 * (a lock file DB.update-lock).
 *
 * Sources marked `latest changes` (Red Hat CSAF) are updated incrementally
 * after their first import: changes.csv is fetched conditionally, only the
 * documents it lists after the source's cursor (sources.cursor) are
 * downloaded (into DB.update-files/) and imported without touching the rest
 * of the source (each replaces the advisory with its id), deletions.csv
 * removes advisories, and the cursor moves on; see docs/vulndb.md.
 *
 * Memory: options are borrowed; the report is owned by the caller and freed
 * with dd_vulndb_update_report_release().
 */
#ifndef DD_VULNDB_UPDATE_H
#define DD_VULNDB_UPDATE_H

#include <stddef.h>
#include <stdint.h>

#include "registry/http.h"
#include "util/error.h"
#include "vulndb/sources.h"

/* Called while a body downloads (total -1 when unknown), and once more with
 * done = 1 at its end. */
typedef void (*dd_vulndb_progress_cb)(void *ctx, const char *source, uint64_t got,
				      int64_t total, int done);

typedef struct dd_vulndb_update_opts {
	const char *db_path;               /* required */
	const dd_vulndb_sources *sources;  /* required */
	const char *const *only;           /* update only these names (any state), or NULL */
	size_t n_only;
	uint64_t max_download;             /* per file; 0 = 4 GiB */
	dd_http_opts http;
	dd_vulndb_progress_cb progress;    /* may be NULL */
	void *progress_ctx;
} dd_vulndb_update_opts;

enum dd_vulndb_update_outcome {
	DD_VU_UNCHANGED, /* 304 */
	DD_VU_UPDATED,
	DD_VU_FAILED,
};

typedef struct dd_vulndb_update_result {
	char name[136];
	enum dd_vulndb_update_outcome outcome;
	uint64_t bytes;          /* body bytes downloaded */
	int64_t records, advisories, affected, skipped;
	char message[512];       /* why it failed */
} dd_vulndb_update_result;

typedef struct dd_vulndb_update_report {
	size_t n;
	dd_vulndb_update_result *v;
	size_t requests; /* HTTP requests made (not counting retries) */
} dd_vulndb_update_report;

/* Run the update.  Returns 0 when every selected source is updated or
 * unchanged, DD_EINPUT/DD_EENV when some failed (the others are stored, see
 * the report), or an error before anything was tried (lock, DB, unknown
 * --source name: DD_EUSAGE). */
int dd_vulndb_update(const dd_vulndb_update_opts *o, dd_vulndb_update_report *rep,
		     dd_error *err);
void dd_vulndb_update_report_release(dd_vulndb_update_report *rep);

/* Take the lock `db update` holds (DB.update-lock), waiting for a running
 * update to finish, so that another writer (db import) does not write into
 * a file an update is about to replace.  *fd receives the lock's descriptor
 * (close it to release), or -1 when the DB's directory does not exist yet
 * (nothing to wait for). */
int dd_vulndb_update_lock_wait(const char *db_path, int *fd, dd_error *err);

#endif
