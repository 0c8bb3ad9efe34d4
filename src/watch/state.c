/*
 * state.c - the watcher's SQLite state (see state.h).
 *
 * Every public call is one statement or one transaction, so a kill at any
 * moment leaves the file at a step boundary (SQLite's WAL journal makes
 * each commit atomic and durable).
 */
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/fs.h"
#include "watch/state.h"
#include "util/banned.h"

struct dd_state {
	sqlite3 *db;
	char *path;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
	"CREATE TABLE IF NOT EXISTS seen(image TEXT NOT NULL, platform TEXT NOT NULL,"
	" digest TEXT NOT NULL, checked_at INTEGER, changed_at INTEGER,"
	" PRIMARY KEY(image, platform));"
	"CREATE TABLE IF NOT EXISTS changes(id INTEGER PRIMARY KEY, image TEXT NOT NULL,"
	" old_digest TEXT, new_digest TEXT NOT NULL, source TEXT, detected_at INTEGER,"
	" round INTEGER, UNIQUE(image, new_digest));"
	"CREATE TABLE IF NOT EXISTS rounds(id INTEGER PRIMARY KEY, opened_at INTEGER,"
	" finished_at INTEGER);"
	"CREATE TABLE IF NOT EXISTS builds(id INTEGER PRIMARY KEY, round INTEGER NOT NULL,"
	" image TEXT NOT NULL, status INTEGER NOT NULL, digest TEXT, froms TEXT, scan TEXT,"
	" reason TEXT, log TEXT, created INTEGER, started INTEGER, finished INTEGER,"
	" attempts INTEGER DEFAULT 0, UNIQUE(round, image));"
	"CREATE INDEX IF NOT EXISTS builds_digest ON builds(digest);"
	"CREATE TABLE IF NOT EXISTS deploys(round INTEGER NOT NULL, target TEXT NOT NULL,"
	" status TEXT NOT NULL, commit_id TEXT, detail TEXT, at INTEGER,"
	" PRIMARY KEY(round, target));"
	"CREATE TABLE IF NOT EXISTS running(image TEXT PRIMARY KEY, digest TEXT NOT NULL,"
	" since INTEGER);";

static int db_error(dd_state *s, dd_error *err, const char *what)
{
	return dd_error_set(err, DD_EENV, "state %s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

/*
 * Prepare sql and bind the arguments described by types: 's' text (NULL
 * allowed), 'I' int64_t.
 */
static int prep(dd_state *s, sqlite3_stmt **st, const char *sql, const char *types, va_list ap,
		dd_error *err)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
		return db_error(s, err, "prepare");
	for (int i = 0; types[i]; i++) {
		int rc;
		if (types[i] == 's')
			rc = sqlite3_bind_text(*st, i + 1, va_arg(ap, const char *), -1,
					       SQLITE_TRANSIENT);
		else
			rc = sqlite3_bind_int64(*st, i + 1, va_arg(ap, int64_t));
		if (rc != SQLITE_OK) {
			sqlite3_finalize(*st);
			*st = NULL;
			return db_error(s, err, "bind");
		}
	}
	return 0;
}

/* Run a statement that returns no rows; *changed (may be NULL) = rows touched. */
static int run(dd_state *s, dd_error *err, int *changed, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;
	va_start(ap, types);
	int rc = prep(s, &st, sql, types, ap, err);
	va_end(ap);
	if (rc)
		return rc;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_error(s, err, "write");
	if (changed)
		*changed = sqlite3_changes(s->db);
	return 0;
}

/* Query one row: *st positioned on it (caller finalizes), or *st NULL when
 * there is none. */
static int query(dd_state *s, dd_error *err, sqlite3_stmt **st, const char *sql, const char *types,
		 ...)
{
	va_list ap;
	va_start(ap, types);
	int rc = prep(s, st, sql, types, ap, err);
	va_end(ap);
	if (rc)
		return rc;
	rc = sqlite3_step(*st);
	if (rc == SQLITE_ROW)
		return 0;
	sqlite3_finalize(*st);
	*st = NULL;
	return rc == SQLITE_DONE ? 0 : db_error(s, err, "read");
}

static char *col_str(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? dd_strdup((const char *)t) : NULL;
}

static int begin(dd_state *s, dd_error *err)
{
	return run(s, err, NULL, "BEGIN IMMEDIATE", "");
}

static int commit(dd_state *s, dd_error *err)
{
	return run(s, err, NULL, "COMMIT", "");
}

static void rollback(dd_state *s)
{
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int dd_state_default_path(dd_buf *out, dd_error *err)
{
	const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	int rc;
	if (x && x[0] == '/')
		rc = dd_buf_printf(out, "%s/drydock/watch.sqlite", x);
	else if (home && home[0] == '/')
		rc = dd_buf_printf(out, "%s/.local/state/drydock/watch.sqlite", home);
	else
		return dd_error_set(err, DD_EENV,
				    "no state directory: set XDG_STATE_HOME or HOME, or watch.state");
	return rc ? dd_error_oom(err) : 0;
}

int dd_state_open(dd_state **out, const char *path, dd_error *err)
{
	dd_state *s = dd_calloc(1, sizeof(*s));
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	if (!s || !(s->path = dd_strdup(path))) {
		free(s);
		return dd_error_oom(err);
	}
	if ((rc = dd_mkdir_parent(path, err)))
		goto fail;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		rc = db_error(s, err, "open");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 10000);
	/* A watcher and `watch status` opening a new file at once: the switch to
	 * WAL can fail with SQLITE_BUSY without the busy handler being asked. */
	for (int tries = 0;; tries++) {
		int r = sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL,
				     NULL, NULL);
		if (r == SQLITE_OK)
			r = sqlite3_exec(s->db, schema, NULL, NULL, NULL);
		if (r == SQLITE_OK)
			break;
		if ((r & 0xff) != SQLITE_BUSY || tries == 200) {
			rc = db_error(s, err, "create");
			goto fail;
		}
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	if ((rc = query(s, err, &st, "SELECT value FROM meta WHERE key='schema'", "")))
		goto fail;
	if (st) {
		int v = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		if (v > DD_STATE_SCHEMA) {
			rc = dd_error_set(err, DD_EENV,
					  "state %s: schema version %d is newer than this drydock's %d",
					  path, v, DD_STATE_SCHEMA);
			goto fail;
		}
	} else if ((rc = run(s, err, NULL, "INSERT INTO meta VALUES('schema', ?)", "I",
			     (int64_t)DD_STATE_SCHEMA))) {
		goto fail;
	}
	*out = s;
	return 0;
fail:
	dd_state_close(s);
	return rc;
}

void dd_state_close(dd_state *s)
{
	if (!s)
		return;
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

int dd_state_seen_get(dd_state *s, const char *image, const char *platform, char **digest,
		      int64_t *checked_at, dd_error *err)
{
	sqlite3_stmt *st;
	*digest = NULL;
	int rc = query(s, err, &st, "SELECT digest, checked_at FROM seen WHERE image=? AND platform=?",
		       "ss", image, platform);
	if (rc || !st)
		return rc;
	*digest = col_str(st, 0);
	if (checked_at)
		*checked_at = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	return *digest ? 0 : dd_error_oom(err);
}

int dd_state_seen_set(dd_state *s, const char *image, const char *platform, const char *digest,
		      int64_t now, dd_error *err)
{
	return run(s, err, NULL,
		   "INSERT INTO seen VALUES(?1, ?2, ?3, ?4, ?4) ON CONFLICT(image, platform) DO "
		   "UPDATE SET checked_at=?4, changed_at=CASE WHEN digest=?3 THEN changed_at "
		   "ELSE ?4 END, digest=?3",
		   "sssI", image, platform, digest, now);
}

int dd_state_seen_touch(dd_state *s, const char *image, int64_t now, dd_error *err)
{
	return run(s, err, NULL, "UPDATE seen SET checked_at=? WHERE image=?", "Is", now, image);
}

int dd_state_change_add(dd_state *s, const char *image, const char *old_digest,
			const char *new_digest, const char *source, int64_t now, int64_t *id,
			dd_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc, n = 0;

	if ((rc = begin(s, err)))
		return rc;
	if ((rc = query(s, err, &st, "SELECT id FROM changes WHERE image=? AND new_digest=?", "ss",
			image, new_digest)))
		goto fail;
	if (st) { /* already known (webhook and poll both saw it) */
		*id = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		return commit(s, err);
	}
	if ((rc = query(s, err, &st, "SELECT id FROM changes WHERE image=? AND round IS NULL", "s",
			image)))
		goto fail;
	if (st) { /* a burst: the pending change now points at the newest digest */
		*id = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		if ((rc = run(s, err, NULL, "UPDATE changes SET new_digest=? WHERE id=?", "sI",
			      new_digest, *id)))
			goto fail;
		return commit(s, err);
	}
	if ((rc = run(s, err, &n,
		      "INSERT INTO changes(image, old_digest, new_digest, source, detected_at) "
		      "VALUES(?, ?, ?, ?, ?)",
		      "ssssI", image, old_digest, new_digest, source, now)))
		goto fail;
	*id = sqlite3_last_insert_rowid(s->db);
	return commit(s, err);
fail:
	rollback(s);
	return rc;
}

int dd_state_changes_pending(dd_state *s, int64_t before, int64_t **ids, char ***images,
			     size_t *n, dd_error *err)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc, r;

	*ids = NULL;
	*images = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT id, image FROM changes WHERE round IS NULL AND detected_at<=? "
			       "ORDER BY id",
			       -1, &st, NULL) != SQLITE_OK)
		return db_error(s, err, "prepare");
	sqlite3_bind_int64(st, 1, before);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			int64_t *ni = realloc(*ids, nc * sizeof(**ids));
			if (ni)
				*ids = ni;
			char **nn = realloc(*images, nc * sizeof(**images));
			if (nn)
				*images = nn;
			if (!ni || !nn) {
				rc = dd_error_oom(err);
				goto fail;
			}
			cap = nc;
		}
		(*ids)[*n] = sqlite3_column_int64(st, 0);
		if (!((*images)[*n] = col_str(st, 1))) {
			rc = dd_error_oom(err);
			goto fail;
		}
		(*n)++;
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : db_error(s, err, "read");
fail:
	sqlite3_finalize(st);
	for (size_t i = 0; i < *n; i++)
		free((*images)[i]);
	free(*images);
	free(*ids);
	*ids = NULL;
	*images = NULL;
	*n = 0;
	return rc;
}

int dd_state_round_open(dd_state *s, const int64_t *changes, size_t n_changes,
			char *const *order, size_t n_order, int64_t now, int64_t *round,
			dd_error *err)
{
	int rc;
	if ((rc = begin(s, err)))
		return rc;
	if ((rc = run(s, err, NULL, "INSERT INTO rounds(opened_at) VALUES(?)", "I", now)))
		goto fail;
	*round = sqlite3_last_insert_rowid(s->db);
	for (size_t i = 0; i < n_changes; i++)
		if ((rc = run(s, err, NULL, "UPDATE changes SET round=? WHERE id=?", "II", *round,
			      changes[i])))
			goto fail;
	for (size_t i = 0; i < n_order; i++)
		if ((rc = run(s, err, NULL,
			      "INSERT OR IGNORE INTO builds(round, image, status, created) "
			      "VALUES(?, ?, ?, ?)",
			      "IsII", *round, order[i], (int64_t)DD_BUILD_QUEUED, now)))
			goto fail;
	return commit(s, err);
fail:
	rollback(s);
	return rc;
}

int dd_state_round_unfinished(dd_state *s, int64_t after, int64_t *round, dd_error *err)
{
	sqlite3_stmt *st;
	*round = 0;
	int rc = query(s, err, &st,
		       "SELECT id FROM rounds WHERE finished_at IS NULL AND id>? ORDER BY id LIMIT 1",
		       "I", after);
	if (rc || !st)
		return rc;
	*round = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

int dd_state_round_finish(dd_state *s, int64_t round, int64_t now, dd_error *err)
{
	return run(s, err, NULL, "UPDATE rounds SET finished_at=? WHERE id=?", "II", now, round);
}

int dd_state_round_describe(dd_state *s, int64_t round, dd_buf *out, dd_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT image, old_digest, new_digest FROM changes WHERE round=? "
			       "ORDER BY id",
			       -1, &st, NULL) != SQLITE_OK)
		return db_error(s, err, "prepare");
	sqlite3_bind_int64(st, 1, round);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *old = (const char *)sqlite3_column_text(st, 1);
		dd_buf_printf(out, "%s %s -> %s\n", (const char *)sqlite3_column_text(st, 0),
			      old ? old : "(none)", (const char *)sqlite3_column_text(st, 2));
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return db_error(s, err, "read");
	return out->failed ? dd_error_oom(err) : 0;
}

const char *dd_build_status_name(enum dd_build_status st)
{
	static const char *const names[] = { "queued",  "running", "succeeded",
					     "blocked", "failed",  "skipped" };
	return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "unknown";
}

void dd_state_builds_free(dd_state_build *b, size_t n)
{
	for (size_t i = 0; b && i < n; i++) {
		free(b[i].image);
		free(b[i].digest);
		free(b[i].froms);
		free(b[i].scan);
		free(b[i].reason);
	}
	free(b);
}

int dd_state_builds(dd_state *s, int64_t round, dd_state_build **out, size_t *n, dd_error *err)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int r;
	const char *sql = round ? "SELECT id, round, image, status, digest, froms, scan, reason, "
				  "created, started, finished, attempts FROM builds WHERE round=? "
				  "ORDER BY id"
				: "SELECT * FROM (SELECT id, round, image, status, digest, froms, "
				  "scan, reason, created, started, finished, attempts FROM builds "
				  "ORDER BY id DESC LIMIT 100) ORDER BY id";
	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_error(s, err, "prepare");
	if (round)
		sqlite3_bind_int64(st, 1, round);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			dd_state_build *nb = realloc(*out, nc * sizeof(**out));
			if (!nb)
				goto oom;
			*out = nb;
			cap = nc;
		}
		dd_state_build *b = &(*out)[(*n)++];
		memset(b, 0, sizeof(*b));
		b->id = sqlite3_column_int64(st, 0);
		b->round = sqlite3_column_int64(st, 1);
		b->image = col_str(st, 2);
		b->status = (enum dd_build_status)sqlite3_column_int(st, 3);
		b->digest = col_str(st, 4);
		b->froms = col_str(st, 5);
		b->scan = col_str(st, 6);
		b->reason = col_str(st, 7);
		b->created = sqlite3_column_int64(st, 8);
		b->started = sqlite3_column_int64(st, 9);
		b->finished = sqlite3_column_int64(st, 10);
		b->attempts = sqlite3_column_int(st, 11);
		if (!b->image)
			goto oom;
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : db_error(s, err, "read");
oom:
	sqlite3_finalize(st);
	dd_state_builds_free(*out, *n);
	*out = NULL;
	*n = 0;
	return dd_error_oom(err);
}

int dd_state_build_start(dd_state *s, int64_t id, int64_t now, dd_error *err)
{
	return run(s, err, NULL,
		   "UPDATE builds SET status=?, started=?, attempts=attempts+1 WHERE id=?", "III",
		   (int64_t)DD_BUILD_RUNNING, now, id);
}

int dd_state_build_end(dd_state *s, int64_t id, enum dd_build_status st, const char *digest,
		       const char *froms, const char *scan, const char *reason, const char *log,
		       int64_t now, dd_error *err)
{
	return run(s, err, NULL,
		   "UPDATE builds SET status=?, digest=coalesce(?, digest), froms=coalesce(?, froms),"
		   " scan=coalesce(?, scan), reason=?, log=coalesce(?, log), finished=? WHERE id=?",
		   "IsssssII", (int64_t)st, digest, froms, scan, reason, log, now, id);
}

int dd_state_build_log(dd_state *s, int64_t id, char **log, dd_error *err)
{
	sqlite3_stmt *st;
	*log = NULL;
	int rc = query(s, err, &st, "SELECT log FROM builds WHERE id=?", "I", id);
	if (rc || !st)
		return rc;
	*log = col_str(st, 0);
	sqlite3_finalize(st);
	return 0;
}

int dd_state_requeue_running(dd_state *s, size_t *n, dd_error *err)
{
	int ch = 0;
	int rc = run(s, err, &ch, "UPDATE builds SET status=? WHERE status=?", "II",
		     (int64_t)DD_BUILD_QUEUED, (int64_t)DD_BUILD_RUNNING);
	*n = rc ? 0 : (size_t)ch;
	return rc;
}

int dd_state_froms_of(dd_state *s, const char *digest, char **froms, dd_error *err)
{
	sqlite3_stmt *st;
	*froms = NULL;
	int rc = query(s, err, &st,
		       "SELECT froms FROM builds WHERE digest=? AND froms IS NOT NULL "
		       "ORDER BY id DESC LIMIT 1",
		       "s", digest);
	if (rc || !st)
		return rc;
	*froms = col_str(st, 0);
	sqlite3_finalize(st);
	return *froms ? 0 : dd_error_oom(err);
}

int dd_state_deploy_get(dd_state *s, int64_t round, const char *target, char **status,
			char **commit_id, dd_error *err)
{
	sqlite3_stmt *st;
	*status = NULL;
	if (commit_id)
		*commit_id = NULL;
	int rc = query(s, err, &st, "SELECT status, commit_id FROM deploys WHERE round=? AND target=?",
		       "Is", round, target);
	if (rc || !st)
		return rc;
	*status = col_str(st, 0);
	if (commit_id)
		*commit_id = col_str(st, 1);
	sqlite3_finalize(st);
	return 0;
}

int dd_state_deploy_set(dd_state *s, int64_t round, const char *target, const char *status,
			const char *commit_id, const char *detail, int64_t now, dd_error *err)
{
	return run(s, err, NULL, "INSERT OR REPLACE INTO deploys VALUES(?, ?, ?, ?, ?, ?)", "IssssI",
		   round, target, status, commit_id, detail, now);
}

int dd_state_running_get(dd_state *s, const char *image, char **digest, dd_error *err)
{
	sqlite3_stmt *st;
	*digest = NULL;
	int rc = query(s, err, &st, "SELECT digest FROM running WHERE image=?", "s", image);
	if (rc || !st)
		return rc;
	*digest = col_str(st, 0);
	sqlite3_finalize(st);
	return *digest ? 0 : dd_error_oom(err);
}

int dd_state_running_set(dd_state *s, const char *image, const char *digest, int64_t now,
			 dd_error *err)
{
	return run(s, err, NULL, "INSERT OR REPLACE INTO running VALUES(?, ?, ?)", "ssI", image,
		   digest, now);
}

int dd_state_meta_get(dd_state *s, const char *key, char **value, dd_error *err)
{
	sqlite3_stmt *st;
	*value = NULL;
	int rc = query(s, err, &st, "SELECT value FROM meta WHERE key=?", "s", key);
	if (rc || !st)
		return rc;
	*value = col_str(st, 0);
	sqlite3_finalize(st);
	return 0;
}

int dd_state_meta_set(dd_state *s, const char *key, const char *value, dd_error *err)
{
	return run(s, err, NULL, "INSERT OR REPLACE INTO meta VALUES(?, ?)", "ss", key, value);
}

static size_t count(dd_state *s, const char *sql, int64_t arg)
{
	sqlite3_stmt *st = NULL;
	size_t n = 0;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return 0;
	if (arg >= 0)
		sqlite3_bind_int64(st, 1, arg);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (size_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

int dd_state_counts_get(dd_state *s, dd_state_counts *c, dd_error *err)
{
	static const char by_status[] = "SELECT count(*) FROM builds WHERE status=?";
	(void)err;
	c->tracked = count(s, "SELECT count(DISTINCT image) FROM seen", -1);
	c->pending_changes = count(s, "SELECT count(*) FROM changes WHERE round IS NULL", -1);
	c->queued = count(s, by_status, DD_BUILD_QUEUED);
	c->running = count(s, by_status, DD_BUILD_RUNNING);
	c->succeeded = count(s, by_status, DD_BUILD_SUCCEEDED);
	c->blocked = count(s, by_status, DD_BUILD_BLOCKED);
	c->failed = count(s, by_status, DD_BUILD_FAILED);
	c->skipped = count(s, by_status, DD_BUILD_SKIPPED);
	c->deploys = count(s, "SELECT count(*) FROM deploys WHERE status='done'", -1);
	return 0;
}

int dd_state_seen_each(dd_state *s,
		       int (*cb)(void *ctx, const char *image, const char *platform,
				 const char *digest, int64_t checked, int64_t changed),
		       void *ctx, dd_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc = 0;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT image, platform, digest, checked_at, changed_at FROM seen "
			       "ORDER BY image, platform",
			       -1, &st, NULL) != SQLITE_OK)
		return db_error(s, err, "prepare");
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = cb(ctx, (const char *)sqlite3_column_text(st, 0),
			     (const char *)sqlite3_column_text(st, 1),
			     (const char *)sqlite3_column_text(st, 2), sqlite3_column_int64(st, 3),
			     sqlite3_column_int64(st, 4))))
			break;
	sqlite3_finalize(st);
	if (rc)
		return rc;
	return r == SQLITE_DONE ? 0 : db_error(s, err, "read");
}
