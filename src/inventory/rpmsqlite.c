/*
 * rpmsqlite.c - rpm's SQLite database (`rpmdb.sqlite`, rpm >= 4.16), read
 * from memory; see rpmdb.h.
 *
 * The bytes are copied into sqlite3_malloc'd memory and handed to an
 * in-memory connection with sqlite3_deserialize(SQLITE_DESERIALIZE_READONLY),
 * so nothing is written to disk.  rpm keeps its database in WAL mode; the
 * in-memory VFS cannot open a WAL database, so the copy's header is switched
 * back to rollback-journal mode (bytes 18 and 19, the file format read and
 * write versions, from 2 to 1), which changes nothing else.  The schema is
 * hostile input too: triggers and views are disabled, the schema is not
 * trusted, and `Packages` must be a table; a query budget bounds the work.
 */
#include "inventory/rpmdb_int.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "util/log.h"
#include "util/banned.h"

/* The progress handler runs every STEPS_PER_PROGRESS VM steps; a statement
 * is interrupted after 1000 + len/8 runs (over 100 steps a byte: a real
 * rpmdb needs far fewer, a hostile one cannot spin for long). */
#define STEPS_PER_PROGRESS 1000

typedef struct budget {
	uint64_t left;
} budget;

static int progress(void *ctx)
{
	budget *b = ctx;
	if (b->left == 0)
		return 1;
	b->left--;
	return 0;
}

static int db_fail(dd_rpmdb_walk *w, sqlite3 *db, const char *what, dd_error *err)
{
	int code = db ? sqlite3_errcode(db) : SQLITE_NOMEM;
	return dd_error_set(err, code == SQLITE_NOMEM ? DD_EENV : DD_EINPUT, "%s: %s: %s", w->name,
			    what, db ? sqlite3_errmsg(db) : "out of memory");
}

static int open_db(const uint8_t *d, size_t len, dd_rpmdb_walk *w, sqlite3 **out, budget *bud,
		   dd_error *err)
{
	sqlite3 *db = NULL;
	unsigned char *copy = NULL;

	*out = NULL;
	if (len < 512)
		return dd_error_set(err, DD_EINPUT, "%s: SQLite file of %zu bytes is truncated", w->name, len);
	if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		int rc = db_fail(w, db, "cannot open an in-memory SQLite connection", err);
		sqlite3_close(db);
		return rc == DD_EINPUT ? DD_EENV : rc;
	}
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
#ifdef SQLITE_DBCONFIG_ENABLE_VIEW
	sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, NULL);
#endif
	sqlite3_progress_handler(db, STEPS_PER_PROGRESS, progress, bud);
	copy = sqlite3_malloc64(len);
	if (!copy) {
		sqlite3_close(db);
		return dd_error_oom(err);
	}
	memcpy(copy, d, len);
	if (copy[18] == 2)
		copy[18] = 1;
	if (copy[19] == 2)
		copy[19] = 1;
	/* With FREEONCLOSE, copy belongs to SQLite from here on, even on failure. */
	if (sqlite3_deserialize(db, "main", copy, (sqlite3_int64)len, (sqlite3_int64)len,
				SQLITE_DESERIALIZE_READONLY | SQLITE_DESERIALIZE_FREEONCLOSE) != SQLITE_OK) {
		int rc = db_fail(w, db, "cannot load the SQLite database", err);
		sqlite3_close(db);
		return rc;
	}
	*out = db;
	return 0;
}

/* `Packages` must be a table of the main schema. */
static int check_schema(sqlite3 *db, dd_rpmdb_walk *w, dd_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "SELECT type FROM main.sqlite_schema WHERE name = 'Packages'",
				    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		rc = db_fail(w, db, "not a readable SQLite database", err);
		goto done;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		rc = t && !strcmp((const char *)t, "table") ? 0
			: dd_error_set(err, DD_EINPUT, "%s: SQLite 'Packages' is not a table", w->name);
	} else if (rc == SQLITE_DONE) {
		rc = dd_error_set(err, DD_EINPUT, "%s: SQLite database has no 'Packages' table (not an rpmdb)",
				  w->name);
	} else {
		rc = db_fail(w, db, "not a readable SQLite database", err);
	}
done:
	sqlite3_finalize(st);
	return rc;
}

int dd_rpmdb_walk_sqlite(const uint8_t *d, size_t len, dd_rpmdb_walk *w, dd_error *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	budget bud = { .left = 1000 + len / 8 };
	char rec[64];
	int rc;

	if ((rc = open_db(d, len, w, &db, &bud, err)) || (rc = check_schema(db, w, err)))
		goto done;
	if (sqlite3_prepare_v2(db, "SELECT hnum, blob FROM main.Packages ORDER BY hnum", -1, &st,
			       NULL) != SQLITE_OK) {
		rc = db_fail(w, db, "cannot read the Packages table", err);
		goto done;
	}
	for (;;) {
		int s = sqlite3_step(st);
		if (s == SQLITE_DONE)
			break;
		if (s != SQLITE_ROW) {
			if (s == SQLITE_NOMEM) {
				rc = db_fail(w, db, "reading Packages", err);
				goto done;
			}
			dd_rpmdb_truncated(w, "SQLite error reading Packages: %s", sqlite3_errmsg(db));
			break;
		}
		if (w->st->records >= w->max_records) {
			dd_rpmdb_truncated(w, "more than %zu records", w->max_records);
			break;
		}
		snprintf(rec, sizeof(rec), "hnum %lld", (long long)sqlite3_column_int64(st, 0));
		if (sqlite3_column_type(st, 1) != SQLITE_BLOB) {
			w->st->records++;
			dd_rpmdb_skip(w, rec, "the blob column holds no BLOB");
			continue;
		}
		const void *blob = sqlite3_column_blob(st, 1);
		int n = sqlite3_column_bytes(st, 1);
		if ((rc = dd_rpmdb_add_blob(w, blob, n > 0 ? (size_t)n : 0, rec, err)))
			goto done;
	}
	rc = 0;
done:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}
