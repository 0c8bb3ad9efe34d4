/* store.c - open/migrate the SQLite vulnerability DB, the per-source import
 * transaction, lookups and status (see store.h). */
#include "vulndb/store.h"

#include <errno.h>
#include <limits.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vulndb/schema.h"
#include "util/fs.h"
#include "util/banned.h"

enum {
	ST_ADV_INS, ST_ADV_GET, ST_ALIAS, ST_REF, ST_AFF, ST_RANGE, ST_EVENT, ST_VERSION,
	ST_SEV, ST_SP_BEGIN, ST_SP_RELEASE, ST_SP_ROLLBACK, ST_LK_AFF, ST_LK_RANGES, ST_LK_VERSIONS, ST_LK_ALIASES, ST_LK_SEV, ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_ADV_INS] = "INSERT INTO advisories(source_id,id,published,modified,withdrawn,summary,"
		       "details) VALUES(?1,?2,?3,?4,?5,?6,?7) ON CONFLICT(source_id,id) DO NOTHING",
	[ST_ADV_GET] = "SELECT pk FROM advisories WHERE source_id=?1 AND id=?2",
	[ST_ALIAS] = "INSERT OR IGNORE INTO aliases(advisory_id,alias,kind) VALUES(?1,?2,?3)",
	[ST_REF] = "INSERT INTO refs(advisory_id,type,url) VALUES(?1,?2,?3)",
	[ST_AFF] = "INSERT INTO affected(advisory_id,ecosystem,package,purl,status,urgency,notes) "
		   "VALUES(?1,?2,?3,?4,?5,?6,?7)",
	[ST_RANGE] = "INSERT INTO ranges(affected_id,type,repo) VALUES(?1,?2,?3)",
	[ST_EVENT] = "INSERT INTO range_events(range_id,seq,kind,version) VALUES(?1,?2,?3,?4)",
	[ST_VERSION] = "INSERT INTO versions(affected_id,list) VALUES(?1,?2)",
	[ST_SEV] = "INSERT INTO severities(advisory_id,affected_id,source,type,vector,score,rating) "
		   "VALUES(?1,?2,?3,?4,?5,?6,?7)",
	[ST_SP_BEGIN] = "SAVEPOINT rec",
	[ST_SP_RELEASE] = "RELEASE rec",
	[ST_SP_ROLLBACK] = "ROLLBACK TO rec",
	[ST_LK_AFF] = "SELECT a.pk, v.pk, v.id, s.name, a.ecosystem, a.package, a.purl, a.status, "
		      "a.urgency, a.notes, v.summary, v.published, v.modified "
		      "FROM affected a JOIN advisories v ON v.pk=a.advisory_id "
		      "JOIN sources s ON s.id=v.source_id "
		      "WHERE a.ecosystem=?1 AND a.package=?2 AND v.withdrawn IS NULL "
		      "ORDER BY s.name, v.id, a.pk",
	[ST_LK_RANGES] = "SELECT r.pk, r.type, r.repo, e.kind, e.version FROM ranges r "
			 "LEFT JOIN range_events e ON e.range_id=r.pk WHERE r.affected_id=?1 "
			 "ORDER BY r.pk, e.seq",
	[ST_LK_VERSIONS] = "SELECT list FROM versions WHERE affected_id=?1",
	[ST_LK_ALIASES] = "SELECT alias FROM aliases WHERE advisory_id=?1 AND kind<>'related' "
			  "ORDER BY kind='upstream', rowid",
	[ST_LK_SEV] = "SELECT source, type, vector, score, rating FROM severities "
		      "WHERE advisory_id=?1 AND (affected_id IS NULL OR affected_id=?2) "
		      "ORDER BY affected_id IS NOT NULL, rowid",
};

struct dd_vulndb {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *st[ST_COUNT];
	int in_tx;       /* a source transaction is open */
	int in_record;   /* a record is open (dd_vulndb_record_begin) */
	int rec_savepoint; /* ... under a savepoint (incremental transactions) */
	/* Outside incremental transactions a record is undone by deleting its
	 * rows: the first rowid it added to each table (rowids only grow
	 * within a transaction that deletes nothing), 0 when none. */
	int64_t mark[6];
	int64_t source_id;
	int64_t last_range; /* range the event sequence counts for */
	int64_t next_seq;
	int version;        /* schema version found at open */
	int bulk;           /* lookup indexes dropped for this import (empty DB) */
	/* Incremental transaction (dd_vulndb_source_begin_incremental). */
	int incremental;
	int replaced;       /* an advisory was replaced or deleted: refs to clean */
	int64_t first_pk;   /* advisories below this pk were stored before */
	int64_t last_ref;   /* refs up to this rowid were stored before */
	dd_buf scratch;     /* version lists being written */
};

static int db_fail(dd_vulndb *db, dd_error *err, const char *what)
{
	int code = sqlite3_errcode(db->db);
	int dd = (code == SQLITE_CONSTRAINT || code == SQLITE_TOOBIG || code == SQLITE_MISMATCH)
			 ? DD_EINPUT : DD_EENV;
	return dd_error_set(err, dd, "vulnerability DB %s: %s: %s", db->path, what,
			    sqlite3_errmsg(db->db));
}

static int exec(dd_vulndb *db, const char *sql, dd_error *err)
{
	char *msg = NULL;
	if (sqlite3_exec(db->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = dd_error_set(err, DD_EENV, "vulnerability DB %s: %s", db->path,
				      msg ? msg : sqlite3_errmsg(db->db));
		sqlite3_free(msg);
		return rc;
	}
	return 0;
}

static sqlite3_stmt *stmt(dd_vulndb *db, int which, dd_error *err)
{
	if (!db->st[which] &&
	    sqlite3_prepare_v3(db->db, stmt_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
			       &db->st[which], NULL) != SQLITE_OK) {
		db_fail(db, err, "prepare");
		return NULL;
	}
	sqlite3_reset(db->st[which]);
	return db->st[which];
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

/* Step an INSERT to completion. */
static int step_done(dd_vulndb *db, sqlite3_stmt *s, dd_error *err, const char *what)
{
	int rc = sqlite3_step(s);
	if (rc != SQLITE_DONE) {
		int r = db_fail(db, err, what);
		sqlite3_reset(s);
		return r;
	}
	sqlite3_reset(s);
	return 0;
}

int dd_vulndb_default_path(dd_buf *out, dd_error *err)
{
	int rc = dd_cache_path(out, "db.sqlite", err);
	return rc ? dd_error_prefix(err, "no default vulnerability DB path (or pass --db PATH)") : 0;
}

static int user_version(dd_vulndb *db, int *out, dd_error *err)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(db->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		int rc = db_fail(db, err, "reading schema version");
		sqlite3_finalize(s);
		return rc;
	}
	*out = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return 0;
}

static int migrate(dd_vulndb *db, dd_error *err)
{
	size_t n;
	const struct dd_vulndb_migration *m = dd_vulndb_migrations(&n);
	int have = 0, rc;

	if ((rc = exec(db, "BEGIN IMMEDIATE", err)))
		return rc;
	/* Re-read under the write lock: another process may have migrated. */
	if ((rc = user_version(db, &have, err)))
		goto fail;
	if (have > DD_VULNDB_SCHEMA_VERSION) {
		rc = dd_error_set(err, DD_EENV,
				  "vulnerability DB %s has schema version %d, newer than this "
				  "drydock supports (%d): upgrade drydock or use another --db",
				  db->path, have, DD_VULNDB_SCHEMA_VERSION);
		goto fail;
	}
	if ((rc = exec(db, "CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, "
			   "applied_at INTEGER NOT NULL, description TEXT NOT NULL)", err)))
		goto fail;
	for (size_t i = 0; i < n; i++) {
		char sql[160];
		sqlite3_stmt *s = NULL;
		if (m[i].version <= have)
			continue;
		if ((rc = exec(db, m[i].sql, err)))
			goto fail;
		if (sqlite3_prepare_v2(db->db, "INSERT INTO migrations VALUES(?1,?2,?3)", -1, &s,
				       NULL) != SQLITE_OK) {
			rc = db_fail(db, err, "recording migration");
			goto fail;
		}
		sqlite3_bind_int(s, 1, m[i].version);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)time(NULL));
		sqlite3_bind_text(s, 3, m[i].description, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE) {
			rc = db_fail(db, err, "recording migration");
			goto fail;
		}
		snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", m[i].version);
		if ((rc = exec(db, sql, err)))
			goto fail;
	}
	return exec(db, "COMMIT", err);
fail:
	sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int dd_vulndb_open(dd_vulndb **out, const char *path, int flags, dd_error *err)
{
	/* No global allocation statistics (a mutex per malloc); harmless
	 * SQLITE_MISUSE when SQLite was already initialised by someone else. */
	static int configured;
	if (!configured) {
		configured = 1;
		sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	}
	dd_vulndb *db = NULL;
	int rc, have = 0;
	int rdonly = flags & DD_VULNDB_RDONLY;

	*out = NULL;
	if (!rdonly && (rc = dd_mkdir_parent(path, err)))
		return rc;
	db = dd_calloc(1, sizeof(*db));
	if (!db || !(db->path = dd_strdup(path))) {
		free(db);
		return dd_error_oom(err);
	}
	int oflags = rdonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	if (sqlite3_open_v2(path, &db->db, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = dd_error_set(err, DD_EENV, "cannot open vulnerability DB %s: %s", path,
				  db->db ? sqlite3_errmsg(db->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(db->db, 10000);
	sqlite3_extended_result_codes(db->db, 0);
	/* The REFERENCES clauses document the model; the store keeps them
	 * itself (rows are only added below their parents and a source is
	 * deleted table by table), which is several times faster than
	 * enforcing and cascading them per row. */
	if ((rc = exec(db, "PRAGMA foreign_keys=OFF", err)))
		goto fail;
	if ((rc = user_version(db, &have, err)))
		goto fail;
	if (rdonly) {
		if (have < DD_VULNDB_SCHEMA_MIN_READ || have > DD_VULNDB_SCHEMA_VERSION) {
			rc = dd_error_set(err, DD_EENV,
					  "vulnerability DB %s has schema version %d, this drydock "
					  "reads version %d%s", path, have, DD_VULNDB_SCHEMA_VERSION,
					  have == 0 ? " (empty: run 'drydock db import' first)" : "");
			goto fail;
		}
	} else {
		if ((!(flags & DD_VULNDB_KEEP_JOURNAL) &&
		     ((rc = exec(db, "PRAGMA journal_mode=WAL", err)) ||
		      (rc = exec(db, "PRAGMA synchronous=NORMAL", err)))) ||
		    /* Imports are one big transaction: keep its pages and the
		     * per-record savepoint journals in memory. */
		    (rc = exec(db, "PRAGMA cache_size=-131072", err)) ||
		    /* The CHECK lists are tested in C (in_list()), much faster. */
		    (rc = exec(db, "PRAGMA ignore_check_constraints=ON", err)) ||
		    (rc = exec(db, "PRAGMA temp_store=MEMORY", err)))
			goto fail;
		if (have != DD_VULNDB_SCHEMA_VERSION && (rc = migrate(db, err)))
			goto fail;
		have = DD_VULNDB_SCHEMA_VERSION;
	}
	db->version = have;
	*out = db;
	return 0;
fail:
	dd_vulndb_close(db);
	return rc;
}

void dd_vulndb_close(dd_vulndb *db)
{
	if (!db)
		return;
	if (db->in_tx)
		dd_vulndb_source_rollback(db);
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(db->st[i]);
	sqlite3_close(db->db);
	dd_buf_release(&db->scratch);
	free(db->path);
	free(db);
}

sqlite3 *dd_vulndb_sqlite(dd_vulndb *db)
{
	return db ? db->db : NULL;
}

/* ---- writing ------------------------------------------------------------ */

/* Deleting a source, children first (set-based, through the indexes). */
#define ADV_OF_SOURCE "SELECT pk FROM advisories WHERE source_id=?1"
#define AFF_OF_SOURCE "SELECT pk FROM affected WHERE advisory_id IN (" ADV_OF_SOURCE ")"
static const char *const delete_sql[] = {
	"DELETE FROM range_events WHERE range_id IN (SELECT pk FROM ranges WHERE affected_id IN ("
	AFF_OF_SOURCE "))",
	"DELETE FROM ranges WHERE affected_id IN (" AFF_OF_SOURCE ")",
	"DELETE FROM versions WHERE affected_id IN (" AFF_OF_SOURCE ")",
	"DELETE FROM severities WHERE advisory_id IN (" ADV_OF_SOURCE ")",
	"DELETE FROM affected WHERE advisory_id IN (" ADV_OF_SOURCE ")",
	"DELETE FROM aliases WHERE advisory_id IN (" ADV_OF_SOURCE ")",
	"DELETE FROM refs WHERE advisory_id IN (" ADV_OF_SOURCE ")",
	"DELETE FROM advisories WHERE source_id=?1",
};

/* Indexes only lookups use.  An import into an empty DB drops them inside
 * its transaction and builds them once at commit (a sort, instead of one
 * random B-tree insert per row); a rollback brings them back as they were. */
static const char *const lookup_index[][2] = {
	{ "advisories_id", "CREATE INDEX advisories_id ON advisories(id)" },
	{ "aliases_alias", "CREATE INDEX aliases_alias ON aliases(alias)" },
	{ "affected_package", "CREATE INDEX affected_package ON affected(ecosystem, package)" },
	{ "ranges_affected", "CREATE INDEX ranges_affected ON ranges(affected_id)" },
	{ "severities_advisory", "CREATE INDEX severities_advisory ON severities(advisory_id)" },
};

static int drop_lookup_indexes(dd_vulndb *db, dd_error *err)
{
	char sql[128];
	int64_t any = 1;
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(db->db, "SELECT EXISTS (SELECT 1 FROM advisories)", -1, &s,
			       NULL) != SQLITE_OK || sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return db_fail(db, err, "starting import");
	}
	any = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (any)
		return 0;
	for (size_t i = 0; i < sizeof(lookup_index) / sizeof(lookup_index[0]); i++) {
		int rc;
		snprintf(sql, sizeof(sql), "DROP INDEX IF EXISTS %s", lookup_index[i][0]);
		if ((rc = exec(db, sql, err)))
			return rc;
	}
	db->bulk = 1;
	return 0;
}

static int create_lookup_indexes(dd_vulndb *db, dd_error *err)
{
	if (!db->bulk)
		return 0;
	for (size_t i = 0; i < sizeof(lookup_index) / sizeof(lookup_index[0]); i++) {
		int rc = exec(db, lookup_index[i][1], err);
		if (rc)
			return rc;
	}
	db->bulk = 0;
	return 0;
}

static int one_int64(dd_vulndb *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *s = NULL;
	int ok = sqlite3_prepare_v2(db->db, sql, -1, &s, NULL) == SQLITE_OK &&
		 sqlite3_step(s) == SQLITE_ROW;
	if (ok)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return ok ? 0 : -1;
}

static int begin_source(dd_vulndb *db, const char *name, const char *kind, const char *url,
			int keep, dd_error *err);

int dd_vulndb_source_begin(dd_vulndb *db, const char *name, const char *kind,
			   const char *url, dd_error *err)
{
	return begin_source(db, name, kind, url, 0, err);
}

int dd_vulndb_source_begin_incremental(dd_vulndb *db, const char *name, const char *kind,
				       const char *url, dd_error *err)
{
	return begin_source(db, name, kind, url, 1, err);
}

static int begin_source(dd_vulndb *db, const char *name, const char *kind, const char *url,
			int keep, dd_error *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (db->in_tx)
		return dd_error_set(err, DD_EINTERNAL, "vulnerability DB: source transaction "
				    "already open");
	if (!name || !*name)
		return dd_error_set(err, DD_EUSAGE, "vulnerability DB: empty source name");
	if ((rc = exec(db, "BEGIN IMMEDIATE", err)))
		return rc;
	db->in_tx = 1;
	/* Keep the source row (its id) and drop its advisories: the cascade
	 * removes everything below them. */
	if (sqlite3_prepare_v2(db->db,
			       "INSERT INTO sources(name,kind,url) VALUES(?1,?2,?3) "
			       "ON CONFLICT(name) DO UPDATE SET kind=excluded.kind, "
			       "url=coalesce(excluded.url, url) RETURNING id",
			       -1, &s, NULL) != SQLITE_OK)
		goto fail;
	bind_text(s, 1, name);
	bind_text(s, 2, kind);
	bind_text(s, 3, url);
	if (sqlite3_step(s) != SQLITE_ROW)
		goto fail;
	db->source_id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	s = NULL;
	db->incremental = keep;
	db->replaced = 0;
	if (keep && (one_int64(db, "SELECT coalesce(max(pk), 0) + 1 FROM advisories",
			       &db->first_pk) ||
		     one_int64(db, "SELECT coalesce(max(rowid), 0) FROM refs", &db->last_ref) ||
		     sqlite3_exec(db->db, "CREATE TEMP TABLE IF NOT EXISTS dd_replaced "
				  "(pk INTEGER PRIMARY KEY); DELETE FROM temp.dd_replaced",
				  NULL, NULL, NULL) != SQLITE_OK))
		goto fail;
	for (size_t i = 0; !keep && i < sizeof(delete_sql) / sizeof(delete_sql[0]); i++) {
		if (sqlite3_prepare_v2(db->db, delete_sql[i], -1, &s, NULL) != SQLITE_OK)
			goto fail;
		sqlite3_bind_int64(s, 1, db->source_id);
		if (sqlite3_step(s) != SQLITE_DONE)
			goto fail;
		sqlite3_finalize(s);
		s = NULL;
	}
	db->last_range = 0;
	db->bulk = 0;
	if ((rc = drop_lookup_indexes(db, err))) {
		dd_vulndb_source_rollback(db);
		return rc;
	}
	return 0;
fail:
	rc = db_fail(db, err, "starting import");
	sqlite3_finalize(s);
	dd_vulndb_source_rollback(db);
	return rc;
}

int dd_vulndb_source_commit(dd_vulndb *db, const dd_vulndb_source_meta *meta, dd_error *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (!db->in_tx)
		return dd_error_set(err, DD_EINTERNAL, "vulnerability DB: no source transaction");
	if (db->in_record && (rc = dd_vulndb_record_end(db, 1, err)))
		goto fail_rc;
	/* The references of replaced and deleted advisories (refs has no
	 * index on advisory_id: one pass for all of them). */
	if (db->incremental && db->replaced) {
		if (sqlite3_prepare_v2(db->db, "DELETE FROM refs WHERE rowid <= ?1 AND advisory_id "
				       "IN (SELECT pk FROM temp.dd_replaced)", -1, &s, NULL) !=
			    SQLITE_OK)
			goto fail;
		sqlite3_bind_int64(s, 1, db->last_ref);
		if (sqlite3_step(s) != SQLITE_DONE)
			goto fail;
		sqlite3_finalize(s);
		s = NULL;
		if (sqlite3_exec(db->db, "DELETE FROM temp.dd_replaced", NULL, NULL, NULL) !=
		    SQLITE_OK)
			goto fail;
	}
	/* Statements prepared against the dropped indexes are re-prepared by
	 * SQLite itself (schema change). */
	if ((rc = create_lookup_indexes(db, err)))
		goto fail_rc;
	if (sqlite3_prepare_v2(db->db,
			       "UPDATE sources SET fetched_at=?2, updated_at=?2, etag=?3, "
			       "last_modified=?4, records=?5, skipped=?6, last_error=?7, "
			       "kind=coalesce(?8, kind), url=coalesce(?9, url), "
			       "checked_at=CASE WHEN ?9 IS NULL THEN checked_at ELSE ?2 END, "
			       "update_error=NULL, "
			       "cursor=CASE WHEN ?11 THEN coalesce(?10, cursor) ELSE ?10 END "
			       "WHERE id=?1",
			       -1, &s, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(s, 1, db->source_id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)time(NULL));
	bind_text(s, 3, meta ? meta->etag : NULL);
	bind_text(s, 4, meta ? meta->last_modified : NULL);
	sqlite3_bind_int64(s, 5, meta ? meta->records : 0);
	sqlite3_bind_int64(s, 6, meta ? meta->skipped : 0);
	bind_text(s, 7, meta ? meta->last_error : NULL);
	bind_text(s, 8, meta ? meta->kind : NULL);
	bind_text(s, 9, meta ? meta->url : NULL);
	bind_text(s, 10, meta ? meta->cursor : NULL);
	sqlite3_bind_int(s, 11, db->incremental);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(s);
	s = NULL;
	if (sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	db->in_tx = 0;
	db->incremental = 0;
	return 0;
fail:
	rc = db_fail(db, err, "committing import");
fail_rc:
	sqlite3_finalize(s);
	dd_vulndb_source_rollback(db);
	return rc;
}

int dd_vulndb_source_counts(dd_vulndb *db, int64_t *advisories, int64_t *affected,
			    dd_error *err)
{
	sqlite3_stmt *s = NULL;
	int rc = 0;
	if (!db->in_tx)
		return dd_error_set(err, DD_EINTERNAL, "vulnerability DB: no source transaction");
	if (sqlite3_prepare_v2(db->db,
			       "SELECT (SELECT count(*) FROM advisories WHERE source_id=?1), "
			       "(SELECT count(*) FROM affected a JOIN advisories v ON "
			       "v.pk=a.advisory_id WHERE v.source_id=?1)", -1, &s, NULL) != SQLITE_OK)
		return db_fail(db, err, "counting");
	sqlite3_bind_int64(s, 1, db->source_id);
	if (sqlite3_step(s) != SQLITE_ROW)
		rc = db_fail(db, err, "counting");
	else {
		*advisories = sqlite3_column_int64(s, 0);
		*affected = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	return rc;
}

int dd_vulndb_source_checked(dd_vulndb *db, const char *name, const char *kind,
			     const char *url, const char *error, dd_error *err)
{
	sqlite3_stmt *s = NULL;
	int rc = 0;

	if (db->in_tx)
		return dd_error_set(err, DD_EINTERNAL, "vulnerability DB: source transaction open");
	if (!name || !*name)
		return dd_error_set(err, DD_EUSAGE, "vulnerability DB: empty source name");
	if (sqlite3_prepare_v2(db->db,
			       "INSERT INTO sources(name,kind,url,checked_at,update_error) "
			       "VALUES(?1,?2,?3,?4,?5) ON CONFLICT(name) DO UPDATE SET "
			       "kind=coalesce(kind, excluded.kind), url=coalesce(excluded.url, url), "
			       "checked_at=excluded.checked_at, update_error=excluded.update_error",
			       -1, &s, NULL) != SQLITE_OK)
		return db_fail(db, err, "recording an update check");
	bind_text(s, 1, name);
	bind_text(s, 2, kind);
	bind_text(s, 3, url);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)time(NULL));
	bind_text(s, 5, error);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = db_fail(db, err, "recording an update check");
	sqlite3_finalize(s);
	return rc;
}

void dd_vulndb_source_rollback(dd_vulndb *db)
{
	if (!db || !db->in_tx)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		if (db->st[i])
			sqlite3_reset(db->st[i]);
	sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	db->in_tx = 0;
	db->in_record = 0;
	db->bulk = 0;
	db->incremental = 0;
}

/* Run a cached parameterless statement (savepoints). */
static int run_stmt(dd_vulndb *db, int which, dd_error *err)
{
	sqlite3_stmt *s = stmt(db, which, err);
	if (!s)
		return err ? err->code : DD_EENV;
	return step_done(db, s, err, "savepoint");
}

enum { M_ADV, M_ALIAS, M_REF, M_AFF, M_RANGE, M_SEV };

/* Note the rowid of a row just added to table m (inside a record). */
static void mark_row(dd_vulndb *db, int m, int64_t rowid)
{
	if (db->in_record && !db->mark[m])
		db->mark[m] = rowid;
}

/* Undo the open record: delete the rows it added, children first.  A
 * SAVEPOINT per record did the same and was 15% of an OSV import (SQLite
 * copies every page a record touches into the statement journal). */
static int undo_record(dd_vulndb *db, dd_error *err)
{
	static const struct {
		int m;
		const char *sql;
	} del[] = {
		{ M_RANGE, "DELETE FROM range_events WHERE range_id >= ?1" },
		{ M_RANGE, "DELETE FROM ranges WHERE pk >= ?1" },
		{ M_AFF, "DELETE FROM versions WHERE affected_id >= ?1" },
		{ M_SEV, "DELETE FROM severities WHERE rowid >= ?1" },
		{ M_AFF, "DELETE FROM affected WHERE pk >= ?1" },
		{ M_ALIAS, "DELETE FROM aliases WHERE rowid >= ?1" },
		{ M_REF, "DELETE FROM refs WHERE rowid >= ?1" },
		{ M_ADV, "DELETE FROM advisories WHERE pk >= ?1" },
	};
	for (size_t i = 0; i < sizeof(del) / sizeof(del[0]); i++) {
		sqlite3_stmt *s = NULL;
		int ok;
		if (!db->mark[del[i].m])
			continue;
		ok = sqlite3_prepare_v2(db->db, del[i].sql, -1, &s, NULL) == SQLITE_OK;
		if (ok) {
			sqlite3_bind_int64(s, 1, db->mark[del[i].m]);
			ok = sqlite3_step(s) == SQLITE_DONE;
		}
		sqlite3_finalize(s);
		if (!ok)
			return db_fail(db, err, "undoing a malformed record");
	}
	return 0;
}

int dd_vulndb_record_begin(dd_vulndb *db, dd_error *err)
{
	int rc;
	if (!db->in_tx || db->in_record)
		return dd_error_set(err, DD_EINTERNAL, "vulnerability DB: misplaced record_begin");
	/* An incremental record may replace stored rows (UPDATE, DELETE):
	 * only a savepoint undoes that. */
	db->rec_savepoint = db->incremental;
	if (db->rec_savepoint && (rc = run_stmt(db, ST_SP_BEGIN, err)))
		return rc;
	memset(db->mark, 0, sizeof(db->mark));
	db->in_record = 1;
	return 0;
}

int dd_vulndb_record_end(dd_vulndb *db, int discard, dd_error *err)
{
	if (!db->in_record)
		return 0;
	db->in_record = 0;
	db->last_range = 0;
	if (!db->rec_savepoint)
		return discard ? undo_record(db, err) : 0;
	if (discard) {
		int rc = run_stmt(db, ST_SP_ROLLBACK, err);
		if (rc)
			return rc;
	}
	return run_stmt(db, ST_SP_RELEASE, err);
}

static int need_tx(dd_vulndb *db, dd_error *err)
{
	if (!db->in_tx)
		return dd_error_set(err, DD_EINTERNAL, "vulnerability DB: write outside an import");
	return 0;
}

/* The schema's CHECK (x IN (...)) constraints, tested here instead: the
 * import connection runs with PRAGMA ignore_check_constraints, because
 * SQLite 3.40 builds a temporary table for each IN list at every INSERT
 * (about a fifth of the CPU time of an OSV import).  NULL is never in a
 * list (the columns are NOT NULL, or default). */
static int in_list(const char *v, const char *const *list)
{
	for (; v && *list; list++)
		if (strcmp(v, *list) == 0)
			return 1;
	return 0;
}

static const char *const alias_kinds[] = { "alias", "upstream", "related", NULL };
static const char *const statuses[] = { DD_VULN_AFFECTED, DD_VULN_NOT_AFFECTED,
					DD_VULN_WILL_NOT_FIX, DD_VULN_FIX_DEFERRED,
					DD_VULN_END_OF_LIFE, DD_VULN_UNDER_INVESTIGATION, NULL };
static const char *const range_types[] = { "ECOSYSTEM", "SEMVER", "GIT", NULL };
static const char *const event_kinds[] = { "introduced", "fixed", "last_affected", "limit",
					   NULL };
static const char *const severity_types[] = { "distro", "CVSS_V2", "CVSS_V3", "CVSS_V4",
					      NULL };

static int bad_value(dd_vulndb *db, dd_error *err, const char *what, const char *v)
{
	return dd_error_set(err, DD_EINPUT, "vulnerability DB %s: %s '%.60s' is not one the "
			    "schema allows", db->path, what, v ? v : "(null)");
}

/* Run one statement with ?1 bound to v. */
static int run_int64(dd_vulndb *db, const char *sql, int64_t v, dd_error *err)
{
	sqlite3_stmt *s = NULL;
	int rc = 0;
	if (sqlite3_prepare_v2(db->db, sql, -1, &s, NULL) != SQLITE_OK)
		return db_fail(db, err, "replacing advisory");
	sqlite3_bind_int64(s, 1, v);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = db_fail(db, err, "replacing advisory");
	sqlite3_finalize(s);
	return rc;
}

/* Incremental transactions: remove every row below advisory pk (its
 * references at commit, see dd_vulndb_source_commit()). */
static int delete_below(dd_vulndb *db, int64_t pk, dd_error *err)
{
#define AFF_OF_ADV "SELECT pk FROM affected WHERE advisory_id=?1"
	static const char *const sql[] = {
		"DELETE FROM range_events WHERE range_id IN (SELECT pk FROM ranges WHERE "
		"affected_id IN (" AFF_OF_ADV "))",
		"DELETE FROM ranges WHERE affected_id IN (" AFF_OF_ADV ")",
		"DELETE FROM versions WHERE affected_id IN (" AFF_OF_ADV ")",
		"DELETE FROM severities WHERE advisory_id=?1",
		"DELETE FROM affected WHERE advisory_id=?1",
		"DELETE FROM aliases WHERE advisory_id=?1",
		"INSERT OR IGNORE INTO temp.dd_replaced(pk) VALUES(?1)",
	};
#undef AFF_OF_ADV
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		int rc = run_int64(db, sql[i], pk, err);
		if (rc)
			return rc;
	}
	db->replaced = 1;
	return 0;
}

static int was_replaced(dd_vulndb *db, int64_t pk, int *was, dd_error *err)
{
	sqlite3_stmt *s = NULL;
	int step;
	if (sqlite3_prepare_v2(db->db, "SELECT 1 FROM temp.dd_replaced WHERE pk=?1", -1, &s,
			       NULL) != SQLITE_OK)
		return db_fail(db, err, "replacing advisory");
	sqlite3_bind_int64(s, 1, pk);
	step = sqlite3_step(s);
	sqlite3_finalize(s);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return db_fail(db, err, "replacing advisory");
	*was = step == SQLITE_ROW;
	return 0;
}

/* The stored advisory pk takes the new record's fields, and loses every
 * row below it: the record's rows are added to it afresh. */
static int replace_advisory(dd_vulndb *db, int64_t pk, const dd_vuln_advisory_in *a,
			    dd_error *err)
{
	sqlite3_stmt *s = NULL;
	int rc;
	if ((rc = delete_below(db, pk, err)))
		return rc;
	if (sqlite3_prepare_v2(db->db, "UPDATE advisories SET published=?2, modified=?3, "
			       "withdrawn=?4, summary=?5, details=?6 WHERE pk=?1", -1, &s,
			       NULL) != SQLITE_OK)
		return db_fail(db, err, "replacing advisory");
	sqlite3_bind_int64(s, 1, pk);
	bind_text(s, 2, a->published);
	bind_text(s, 3, a->modified);
	bind_text(s, 4, a->withdrawn);
	bind_text(s, 5, a->summary);
	bind_text(s, 6, a->details);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_fail(db, err, "replacing advisory");
	sqlite3_finalize(s);
	return rc;
}

int dd_vulndb_add_advisory(dd_vulndb *db, const dd_vuln_advisory_in *a, int mode,
			   int64_t *out, dd_error *err)
{
	sqlite3_stmt *s;
	int rc;
	if ((rc = need_tx(db, err)))
		return rc;
	if (!a->id || !*a->id)
		return dd_error_set(err, DD_EINPUT, "advisory without an id");
	if (!(s = stmt(db, ST_ADV_INS, err)))
		return err ? err->code : DD_EENV;
	sqlite3_bind_int64(s, 1, db->source_id);
	bind_text(s, 2, a->id);
	bind_text(s, 3, a->published);
	bind_text(s, 4, a->modified);
	bind_text(s, 5, a->withdrawn);
	bind_text(s, 6, a->summary);
	bind_text(s, 7, a->details);
	if ((rc = step_done(db, s, err, "adding advisory")))
		return rc;
	if (sqlite3_changes(db->db) == 1) {
		*out = sqlite3_last_insert_rowid(db->db);
		mark_row(db, M_ADV, *out);
		return 0;
	}
	if (mode != DD_VULNDB_ADV_MERGE && !db->incremental)
		return dd_error_set(err, DD_EINPUT, "duplicate advisory %s in this source", a->id);
	if (!(s = stmt(db, ST_ADV_GET, err)))
		return err ? err->code : DD_EENV;
	sqlite3_bind_int64(s, 1, db->source_id);
	bind_text(s, 2, a->id);
	if (sqlite3_step(s) != SQLITE_ROW) {
		rc = db_fail(db, err, "finding advisory");
		sqlite3_reset(s);
		return rc;
	}
	*out = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (db->incremental && *out < db->first_pk) {
		int was = 0;
		if ((rc = was_replaced(db, *out, &was, err)))
			return rc;
		if (!was)
			return replace_advisory(db, *out, a, err);
	}
	if (mode != DD_VULNDB_ADV_MERGE)
		return dd_error_set(err, DD_EINPUT, "duplicate advisory %s in this source", a->id);
	return 0;
}

int dd_vulndb_delete_advisory(dd_vulndb *db, const char *id, int *found, dd_error *err)
{
	sqlite3_stmt *s;
	int64_t pk;
	int rc, step;
	*found = 0;
	if ((rc = need_tx(db, err)))
		return rc;
	if (!(s = stmt(db, ST_ADV_GET, err)))
		return err ? err->code : DD_EENV;
	sqlite3_bind_int64(s, 1, db->source_id);
	bind_text(s, 2, id);
	step = sqlite3_step(s);
	pk = step == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	if (step == SQLITE_DONE)
		return 0;
	if (step != SQLITE_ROW)
		return db_fail(db, err, "finding advisory");
	if ((rc = delete_below(db, pk, err)) ||
	    (rc = run_int64(db, "DELETE FROM advisories WHERE pk=?1", pk, err)))
		return rc;
	*found = 1;
	return 0;
}

int dd_vulndb_add_alias(dd_vulndb *db, int64_t adv, const char *alias, const char *kind,
			dd_error *err)
{
	sqlite3_stmt *s;
	int rc;
	if ((rc = need_tx(db, err)))
		return rc;
	if (kind && !in_list(kind, alias_kinds))
		return bad_value(db, err, "alias kind", kind);
	if (!(s = stmt(db, ST_ALIAS, err)))
		return err ? err->code : DD_EENV;
	sqlite3_bind_int64(s, 1, adv);
	bind_text(s, 2, alias);
	bind_text(s, 3, kind ? kind : "alias");
	if ((rc = step_done(db, s, err, "adding alias")))
		return rc;
	if (sqlite3_changes(db->db) == 1) /* not an ignored duplicate */
		mark_row(db, M_ALIAS, sqlite3_last_insert_rowid(db->db));
	return 0;
}

int dd_vulndb_add_reference(dd_vulndb *db, int64_t adv, const char *type, const char *url,
			    dd_error *err)
{
	sqlite3_stmt *s;
	int rc;
	if ((rc = need_tx(db, err)))
		return rc;
	if (!(s = stmt(db, ST_REF, err)))
		return err ? err->code : DD_EENV;
	sqlite3_bind_int64(s, 1, adv);
	bind_text(s, 2, type);
	bind_text(s, 3, url);
	if ((rc = step_done(db, s, err, "adding reference")))
		return rc;
	mark_row(db, M_REF, sqlite3_last_insert_rowid(db->db));
	return 0;
}

int dd_vulndb_add_affected(dd_vulndb *db, int64_t adv, const dd_vuln_affected_in *a,
			   int64_t *out, dd_error *err)
{
	sqlite3_stmt *s;
	int rc;
	if ((rc = need_tx(db, err)))
		return rc;
	if (!a->ecosystem || !*a->ecosystem || !a->package || !*a->package)
		return dd_error_set(err, DD_EINPUT, "affected entry without ecosystem or package");
	if (a->status && !in_list(a->status, statuses))
		return bad_value(db, err, "status", a->status);
	if (!(s = stmt(db, ST_AFF, err)))
		return err ? err->code : DD_EENV;
	sqlite3_bind_int64(s, 1, adv);
	bind_text(s, 2, a->ecosystem);
	bind_text(s, 3, a->package);
	bind_text(s, 4, a->purl);
	bind_text(s, 5, a->status ? a->status : DD_VULN_AFFECTED);
	bind_text(s, 6, a->urgency);
	bind_text(s, 7, a->notes);
	if ((rc = step_done(db, s, err, "adding affected package")))
		return rc;
	*out = sqlite3_last_insert_rowid(db->db);
	mark_row(db, M_AFF, *out);
	return 0;
}

int dd_vulndb_add_range(dd_vulndb *db, int64_t affected, const char *type, const char *repo,
			int64_t *out, dd_error *err)
{
	sqlite3_stmt *s;
	int rc;
	if ((rc = need_tx(db, err)))
		return rc;
	if (!in_list(type, range_types))
		return bad_value(db, err, "range type", type);
	if (!(s = stmt(db, ST_RANGE, err)))
		return err ? err->code : DD_EENV;
	sqlite3_bind_int64(s, 1, affected);
	bind_text(s, 2, type);
	bind_text(s, 3, repo);
	if ((rc = step_done(db, s, err, "adding range")))
		return rc;
	*out = sqlite3_last_insert_rowid(db->db);
	mark_row(db, M_RANGE, *out);
	db->last_range = *out;
	db->next_seq = 0;
	return 0;
}

int dd_vulndb_add_event(dd_vulndb *db, int64_t range, const char *kind, const char *version,
			dd_error *err)
{
	sqlite3_stmt *s;
	int rc;
	if ((rc = need_tx(db, err)))
		return rc;
	if (range != db->last_range)
		return dd_error_set(err, DD_EINTERNAL, "vulnerability DB: events must follow "
				    "their range");
	if (!in_list(kind, event_kinds))
		return bad_value(db, err, "range event", kind);
	if (!(s = stmt(db, ST_EVENT, err)))
		return err ? err->code : DD_EENV;
	sqlite3_bind_int64(s, 1, range);
	sqlite3_bind_int64(s, 2, db->next_seq);
	bind_text(s, 3, kind);
	bind_text(s, 4, version);
	if ((rc = step_done(db, s, err, "adding range event")))
		return rc;
	db->next_seq++;
	return 0;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629), or 0. */
static size_t utf8_seq(const unsigned char *p)
{
	unsigned c = p[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef)
		return (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80 &&
			       !(c == 0xe0 && p[1] < 0xa0) && !(c == 0xed && p[1] >= 0xa0)
			       ? 3 : 0;
	if (c >= 0xf0 && c <= 0xf4)
		return (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80 &&
			       !(c == 0xf0 && p[1] < 0x90) && !(c == 0xf4 && p[1] >= 0x90)
			       ? 4 : 0;
	return 0;
}

/* One JSON string, as jansson's json_dumps() writes it; -1 when s is not
 * valid UTF-8.  (The NUL terminator stops every multi-byte check.) */
static int json_quote(dd_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	dd_buf_putc(b, '"');
	while (*p) {
		const unsigned char *run = p;
		while (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
			p++;
		dd_buf_append(b, run, (size_t)(p - run));
		if (!*p)
			break;
		if (*p >= 0x80) {
			size_t l = utf8_seq(p);
			if (!l)
				return -1;
			dd_buf_append(b, p, l);
			p += l;
			continue;
		}
		switch (*p) {
		case '"': dd_buf_puts(b, "\\\""); break;
		case '\\': dd_buf_puts(b, "\\\\"); break;
		case '\b': dd_buf_puts(b, "\\b"); break;
		case '\f': dd_buf_puts(b, "\\f"); break;
		case '\n': dd_buf_puts(b, "\\n"); break;
		case '\r': dd_buf_puts(b, "\\r"); break;
		case '\t': dd_buf_puts(b, "\\t"); break;
		default: dd_buf_printf(b, "\\u%04X", *p); break;
		}
		p++;
	}
	dd_buf_putc(b, '"');
	return 0;
}

int dd_vulndb_add_versions(dd_vulndb *db, int64_t affected, const char *const *versions,
			   size_t n, dd_error *err)
{
	sqlite3_stmt *s;
	dd_buf *b = &db->scratch;
	int rc;
	if ((rc = need_tx(db, err)))
		return rc;
	if (n == 0)
		return 0;
	/* A JSON array, byte for byte what json_dumps(JSON_COMPACT) makes. */
	dd_buf_reset(b);
	dd_buf_putc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			dd_buf_putc(b, ',');
		if (!versions[i] || json_quote(b, versions[i]))
			return dd_error_set(err, DD_EINPUT, "version '%.60s' is not valid UTF-8",
					    versions[i] ? versions[i] : "(null)");
	}
	dd_buf_putc(b, ']');
	if ((rc = dd_buf_error(b, err, "version list")))
		return rc;
	if (!(s = stmt(db, ST_VERSION, err)))
		return err ? err->code : DD_EENV;
	sqlite3_bind_int64(s, 1, affected);
	sqlite3_bind_text(s, 2, b->data, (int)b->len, SQLITE_STATIC);
	return step_done(db, s, err, "adding versions");
}

int dd_vulndb_add_severity(dd_vulndb *db, int64_t adv, int64_t affected,
			   const dd_vuln_severity *sv, dd_error *err)
{
	sqlite3_stmt *s;
	int rc;
	if ((rc = need_tx(db, err)))
		return rc;
	if (!in_list(sv->type, severity_types))
		return bad_value(db, err, "severity type", sv->type);
	if (!(s = stmt(db, ST_SEV, err)))
		return err ? err->code : DD_EENV;
	sqlite3_bind_int64(s, 1, adv);
	if (affected)
		sqlite3_bind_int64(s, 2, affected);
	else
		sqlite3_bind_null(s, 2);
	bind_text(s, 3, sv->source);
	bind_text(s, 4, sv->type);
	bind_text(s, 5, sv->vector);
	if (sv->has_score)
		sqlite3_bind_double(s, 6, sv->score);
	else
		sqlite3_bind_null(s, 6);
	bind_text(s, 7, sv->rating);
	if ((rc = step_done(db, s, err, "adding severity")))
		return rc;
	mark_row(db, M_SEV, sqlite3_last_insert_rowid(db->db));
	return 0;
}

/* ---- lookup ------------------------------------------------------------- */

/* Strings and arrays of one lookup result; freed after the callback. */
struct pool {
	char **items;
	size_t n, cap;
	int oom;
};

static const char *pool_col(struct pool *p, sqlite3_stmt *s, int col)
{
	const unsigned char *v = sqlite3_column_text(s, col);
	char *c;
	if (!v)
		return NULL;
	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 32;
		char **ni = realloc(p->items, ncap * sizeof(*ni));
		if (!ni) {
			p->oom = 1;
			return NULL;
		}
		p->items = ni;
		p->cap = ncap;
	}
	c = dd_strdup((const char *)v);
	if (!c) {
		p->oom = 1;
		return NULL;
	}
	p->items[p->n++] = c;
	return c;
}

static void pool_clear(struct pool *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->items[i]);
	p->n = 0;
	p->oom = 0;
}

/* Growable array helper: ensure room for one more element. */
static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	size_t ncap, bytes;
	void *na;
	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	if (dd_mul_size(&bytes, ncap, elem))
		return -1;
	na = realloc(*arr, bytes);
	if (!na)
		return -1;
	*arr = na;
	*cap = ncap;
	return 0;
}

struct lookup_bufs {
	struct pool pool;
	dd_vuln_range *ranges;
	size_t n_ranges, cap_ranges;
	dd_vuln_event *events;
	size_t n_events, cap_events;
	size_t *range_first; /* index of first event per range */
	size_t cap_first;
	const char **strs;   /* versions then aliases */
	size_t n_strs, cap_strs;
	dd_vuln_severity *sevs;
	size_t n_sevs, cap_sevs;
};

static int push_str(struct lookup_bufs *b, const char *s)
{
	if (grow((void **)&b->strs, &b->cap_strs, b->n_strs, sizeof(*b->strs)))
		return -1;
	b->strs[b->n_strs++] = s;
	return 0;
}

static int load_ranges(dd_vulndb *db, struct lookup_bufs *b, int64_t aff, dd_error *err)
{
	sqlite3_stmt *s = stmt(db, ST_LK_RANGES, err);
	int64_t cur = 0;
	int rc;
	if (!s)
		return err ? err->code : DD_EENV;
	b->n_ranges = b->n_events = 0;
	sqlite3_bind_int64(s, 1, aff);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t r = sqlite3_column_int64(s, 0);
		if (r != cur || b->n_ranges == 0) {
			if (grow((void **)&b->ranges, &b->cap_ranges, b->n_ranges, sizeof(*b->ranges)) ||
			    grow((void **)&b->range_first, &b->cap_first, b->n_ranges,
				 sizeof(*b->range_first)))
				goto oom;
			dd_vuln_range *nr = &b->ranges[b->n_ranges];
			memset(nr, 0, sizeof(*nr));
			nr->type = pool_col(&b->pool, s, 1);
			nr->repo = pool_col(&b->pool, s, 2);
			b->range_first[b->n_ranges++] = b->n_events;
			cur = r;
		}
		if (sqlite3_column_type(s, 3) != SQLITE_NULL) {
			if (grow((void **)&b->events, &b->cap_events, b->n_events, sizeof(*b->events)))
				goto oom;
			b->events[b->n_events].kind = pool_col(&b->pool, s, 3);
			b->events[b->n_events].version = pool_col(&b->pool, s, 4);
			b->n_events++;
			b->ranges[b->n_ranges - 1].n_events++;
		}
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return db_fail(db, err, "reading ranges");
	for (size_t i = 0; i < b->n_ranges; i++)
		b->ranges[i].events = b->events + b->range_first[i];
	return 0;
oom:
	sqlite3_reset(s);
	return dd_error_oom(err);
}

static int load_strs(dd_vulndb *db, struct lookup_bufs *b, int which, int64_t key,
		     size_t *n_out, dd_error *err)
{
	sqlite3_stmt *s = stmt(db, which, err);
	int rc;
	size_t n = 0;
	if (!s)
		return err ? err->code : DD_EENV;
	sqlite3_bind_int64(s, 1, key);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (push_str(b, pool_col(&b->pool, s, 0))) {
			sqlite3_reset(s);
			return dd_error_oom(err);
		}
		n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return db_fail(db, err, "reading lookup rows");
	*n_out = n;
	return 0;
}

static int load_versions(dd_vulndb *db, struct lookup_bufs *b, int64_t aff, size_t *n_out,
			 dd_error *err)
{
	sqlite3_stmt *s = stmt(db, ST_LK_VERSIONS, err);
	json_t *arr = NULL, *v;
	size_t i;
	int rc = 0, step;
	*n_out = 0;
	if (!s)
		return err ? err->code : DD_EENV;
	sqlite3_bind_int64(s, 1, aff);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(s, 0);
		arr = text ? json_loads(text, 0, NULL) : NULL;
		if (!json_is_array(arr)) {
			rc = dd_error_set(err, DD_EENV, "vulnerability DB %s: corrupt version list of "
					  "affected entry %lld", db->path, (long long)aff);
			goto done;
		}
		json_array_foreach(arr, i, v) {
			const char *str = json_string_value(v);
			char *c;
			if (!str)
				continue;
			if (grow((void **)&b->pool.items, &b->pool.cap, b->pool.n, sizeof(char *)) ||
			    !(c = dd_strdup(str))) {
				rc = dd_error_oom(err);
				goto done;
			}
			b->pool.items[b->pool.n++] = c;
			if (push_str(b, c)) {
				rc = dd_error_oom(err);
				goto done;
			}
			(*n_out)++;
		}
	} else if (step != SQLITE_DONE) {
		rc = db_fail(db, err, "reading versions");
	}
done:
	sqlite3_reset(s);
	json_decref(arr);
	return rc;
}

static int load_sevs(dd_vulndb *db, struct lookup_bufs *b, int64_t adv, int64_t aff,
		     dd_error *err)
{
	sqlite3_stmt *s = stmt(db, ST_LK_SEV, err);
	int rc;
	if (!s)
		return err ? err->code : DD_EENV;
	b->n_sevs = 0;
	sqlite3_bind_int64(s, 1, adv);
	sqlite3_bind_int64(s, 2, aff);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (grow((void **)&b->sevs, &b->cap_sevs, b->n_sevs, sizeof(*b->sevs))) {
			sqlite3_reset(s);
			return dd_error_oom(err);
		}
		dd_vuln_severity *v = &b->sevs[b->n_sevs++];
		v->source = pool_col(&b->pool, s, 0);
		v->type = pool_col(&b->pool, s, 1);
		v->vector = pool_col(&b->pool, s, 2);
		v->has_score = sqlite3_column_type(s, 3) != SQLITE_NULL;
		v->score = sqlite3_column_double(s, 3);
		v->rating = pool_col(&b->pool, s, 4);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return db_fail(db, err, "reading severities");
	return 0;
}

int dd_vulndb_lookup(dd_vulndb *db, const char *ecosystem, const char *package,
		     dd_vulndb_lookup_cb cb, void *ctx, dd_error *err)
{
	struct lookup_bufs b;
	sqlite3_stmt *q = NULL;
	int rc = 0, step;

	memset(&b, 0, sizeof(b));
	/* The outer query gets its own statement: the per-row queries reuse
	 * the cached ones, and a callback may call lookup again. */
	if (sqlite3_prepare_v2(db->db, stmt_sql[ST_LK_AFF], -1, &q, NULL) != SQLITE_OK)
		return db_fail(db, err, "prepare lookup");
	bind_text(q, 1, ecosystem);
	bind_text(q, 2, package);
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		dd_vuln_match m;
		size_t n_versions = 0, n_aliases = 0;
		int64_t aff = sqlite3_column_int64(q, 0), adv = sqlite3_column_int64(q, 1);

		memset(&m, 0, sizeof(m));
		pool_clear(&b.pool);
		b.n_strs = 0;
		m.advisory = pool_col(&b.pool, q, 2);
		m.source = pool_col(&b.pool, q, 3);
		m.ecosystem = pool_col(&b.pool, q, 4);
		m.package = pool_col(&b.pool, q, 5);
		m.purl = pool_col(&b.pool, q, 6);
		m.status = pool_col(&b.pool, q, 7);
		m.urgency = pool_col(&b.pool, q, 8);
		m.notes = pool_col(&b.pool, q, 9);
		m.summary = pool_col(&b.pool, q, 10);
		m.published = pool_col(&b.pool, q, 11);
		m.modified = pool_col(&b.pool, q, 12);
		if ((rc = load_ranges(db, &b, aff, err)) ||
		    (rc = load_versions(db, &b, aff, &n_versions, err)) ||
		    (rc = load_strs(db, &b, ST_LK_ALIASES, adv, &n_aliases, err)) ||
		    (rc = load_sevs(db, &b, adv, aff, err)))
			goto done;
		if (b.pool.oom) {
			rc = dd_error_oom(err);
			goto done;
		}
		if (!m.status)
			m.status = DD_VULN_AFFECTED;
		m.n_ranges = b.n_ranges;
		m.ranges = b.ranges;
		m.n_versions = n_versions;
		m.versions = b.strs;
		m.n_aliases = n_aliases;
		m.aliases = b.strs ? b.strs + n_versions : NULL;
		m.n_severities = b.n_sevs;
		m.severities = b.sevs;
		if ((rc = cb(&m, ctx, err)))
			goto done;
	}
	if (step != SQLITE_DONE)
		rc = db_fail(db, err, "lookup");
done:
	sqlite3_finalize(q);
	pool_clear(&b.pool);
	free(b.pool.items);
	free(b.ranges);
	free(b.events);
	free(b.range_first);
	free(b.strs);
	free(b.sevs);
	return rc;
}

int dd_vulndb_cve_severities(dd_vulndb *db, const char *id, dd_vulndb_severity_cb cb,
			     void *ctx, dd_error *err)
{
	sqlite3_stmt *q = NULL;
	int rc = 0, step;
	if (sqlite3_prepare_v2(db->db,
			       "SELECT v.id, src.name, s.source, s.type, s.vector, s.score, s.rating "
			       "FROM severities s JOIN advisories v ON v.pk=s.advisory_id "
			       "JOIN sources src ON src.id=v.source_id "
			       "WHERE s.affected_id IS NULL AND v.withdrawn IS NULL AND (v.id=?1 OR "
			       "v.pk IN (SELECT advisory_id FROM aliases WHERE alias=?1 AND "
			       "kind<>'related')) ORDER BY src.name, v.id, s.rowid",
			       -1, &q, NULL) != SQLITE_OK)
		return db_fail(db, err, "prepare severity lookup");
	bind_text(q, 1, id);
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		dd_vuln_severity sv;
		memset(&sv, 0, sizeof(sv));
		sv.source = (const char *)sqlite3_column_text(q, 2);
		sv.type = (const char *)sqlite3_column_text(q, 3);
		sv.vector = (const char *)sqlite3_column_text(q, 4);
		sv.has_score = sqlite3_column_type(q, 5) != SQLITE_NULL;
		sv.score = sqlite3_column_double(q, 5);
		sv.rating = (const char *)sqlite3_column_text(q, 6);
		if ((rc = cb((const char *)sqlite3_column_text(q, 0),
			     (const char *)sqlite3_column_text(q, 1), &sv, ctx, err)))
			break;
	}
	if (!rc && step != SQLITE_DONE)
		rc = db_fail(db, err, "severity lookup");
	sqlite3_finalize(q);
	return rc;
}

/* ---- status ------------------------------------------------------------- */

static char *col_dup(sqlite3_stmt *s, int col, int *oom)
{
	const unsigned char *v = sqlite3_column_text(s, col);
	char *c;
	if (!v)
		return NULL;
	c = dd_strdup((const char *)v);
	if (!c)
		*oom = 1;
	return c;
}

static int count(dd_vulndb *db, const char *sql, int64_t *out, dd_error *err)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(db->db, sql, -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		int rc = db_fail(db, err, "counting");
		sqlite3_finalize(s);
		return rc;
	}
	*out = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return 0;
}

int dd_vulndb_status(dd_vulndb *db, dd_vulndb_status_info *out, dd_error *err)
{
	sqlite3_stmt *s = NULL;
	int rc, step, oom = 0;

	memset(out, 0, sizeof(*out));
	out->schema_version = db->version;
	/* One read transaction so the numbers agree with each other. */
	if ((rc = exec(db, "BEGIN", err)))
		return rc;
	if ((rc = count(db, "SELECT count(*) FROM advisories", &out->advisories, err)) ||
	    (rc = count(db, "SELECT count(*) FROM affected", &out->affected, err)))
		goto done;
	/* Columns of later schemas read as NULL from a DB not migrated yet
	 * (read-only opens never migrate). */
	char sql[700];
	snprintf(sql, sizeof(sql),
		 "SELECT s.name, s.kind, s.url, s.etag, s.last_modified, s.last_error, "
		 "s.updated_at, s.records, s.skipped, "
		 "(SELECT count(*) FROM advisories v WHERE v.source_id=s.id), "
		 "(SELECT count(*) FROM affected a JOIN advisories v "
		 " ON v.pk=a.advisory_id WHERE v.source_id=s.id), %s, %s "
		 "FROM sources s ORDER BY s.name",
		 db->version >= 2 ? "s.checked_at, s.update_error" : "NULL, NULL",
		 db->version >= 3 ? "s.cursor" : "NULL");
	if (sqlite3_prepare_v2(db->db, sql, -1, &s, NULL) != SQLITE_OK) {
		rc = db_fail(db, err, "reading sources");
		goto done;
	}
	size_t cap = 0;
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		if (grow((void **)&out->sources, &cap, out->n_sources, sizeof(*out->sources))) {
			rc = dd_error_oom(err);
			goto done;
		}
		dd_vulndb_source_info *si = &out->sources[out->n_sources++];
		memset(si, 0, sizeof(*si));
		si->name = col_dup(s, 0, &oom);
		si->kind = col_dup(s, 1, &oom);
		si->url = col_dup(s, 2, &oom);
		si->etag = col_dup(s, 3, &oom);
		si->last_modified = col_dup(s, 4, &oom);
		si->last_error = col_dup(s, 5, &oom);
		si->updated = sqlite3_column_int64(s, 6);
		si->records = sqlite3_column_int64(s, 7);
		si->skipped = sqlite3_column_int64(s, 8);
		si->advisories = sqlite3_column_int64(s, 9);
		si->affected = sqlite3_column_int64(s, 10);
		si->checked = sqlite3_column_int64(s, 11);
		si->update_error = col_dup(s, 12, &oom);
		si->cursor = col_dup(s, 13, &oom);
	}
	if (step != SQLITE_DONE)
		rc = db_fail(db, err, "reading sources");
	else if (oom)
		rc = dd_error_oom(err);
done:
	sqlite3_finalize(s);
	sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL);
	if (rc)
		dd_vulndb_status_release(out);
	return rc;
}

void dd_vulndb_status_release(dd_vulndb_status_info *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n_sources; i++) {
		dd_vulndb_source_info *s = &st->sources[i];
		free(s->name);
		free(s->kind);
		free(s->url);
		free(s->etag);
		free(s->last_modified);
		free(s->last_error);
		free(s->update_error);
		free(s->cursor);
	}
	free(st->sources);
	st->sources = NULL;
	st->n_sources = 0;
}

int dd_vulndb_export(dd_vulndb *db, const char *path, dd_error *err)
{
	sqlite3 *dst = NULL;
	sqlite3_backup *bk;
	int rc = 0;

	if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		rc = dd_error_set(err, DD_EENV, "cannot create %s: %s", path,
				  dst ? sqlite3_errmsg(dst) : "out of memory");
		goto done;
	}
	bk = sqlite3_backup_init(dst, "main", db->db, "main");
	if (!bk) {
		rc = dd_error_set(err, DD_EENV, "exporting to %s: %s", path, sqlite3_errmsg(dst));
		goto done;
	}
	int step = sqlite3_backup_step(bk, -1);
	sqlite3_backup_finish(bk);
	if (step != SQLITE_DONE) {
		rc = dd_error_set(err, DD_EENV, "exporting to %s: %s", path, sqlite3_errstr(step));
		goto done;
	}
	/* A self-contained file: no -wal next to it. */
	if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK)
		rc = dd_error_set(err, DD_EENV, "exporting to %s: %s", path, sqlite3_errmsg(dst));
done:
	sqlite3_close(dst);
	return rc;
}
