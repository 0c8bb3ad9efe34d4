/* layercache.c - see layercache.h. */
#include "cache/layercache.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zstd.h>

#include "util/fs.h"
#include "util/log.h"
#include "util/banned.h"

#define RECORD_MAX ((size_t)2 << 30)

struct dd_layercache {
	sqlite3 *db;
	char *path;
};

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS layers ("
	"  diff_id TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  data BLOB NOT NULL,"      /* zstd frame */
	"  size INTEGER NOT NULL,"   /* uncompressed bytes */
	"  sha256 TEXT NOT NULL,"    /* of the uncompressed record */
	"  created INTEGER NOT NULL,"
	"  used INTEGER NOT NULL,"
	"  PRIMARY KEY (diff_id, key));";

static int db_error(dd_layercache *lc, const char *what, dd_error *err)
{
	return dd_error_set(err, DD_EENV, "layer cache %s: %s: %s", lc->path, what, sqlite3_errmsg(lc->db));
}

int dd_layercache_default_path(dd_buf *out, dd_error *err)
{
	const char *dir = getenv("DRYDOCK_CACHE_DIR");
	if (dir && dir[0] == '/') {
		dd_buf_printf(out, "%s/layers.sqlite", dir);
		return dd_buf_error(out, err, "cache path");
	}
	return dd_cache_path(out, "layers.sqlite", err);
}

int dd_layercache_open(dd_layercache **out, const char *path, dd_error *err)
{
	dd_layercache *lc;
	dd_buf p = DD_BUF_INIT;
	int rc;

	*out = NULL;
	if (!path) {
		if ((rc = dd_layercache_default_path(&p, err)))
			goto fail_buf;
		path = dd_buf_cstr(&p);
	}
	if ((rc = dd_mkdir_parent(path, err)))
		goto fail_buf;
	lc = calloc(1, sizeof(*lc));
	if (!lc || !(lc->path = dd_strdup(path))) {
		free(lc);
		rc = dd_error_oom(err);
		goto fail_buf;
	}
	if (sqlite3_open_v2(path, &lc->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		rc = db_error(lc, "open", err);
		goto fail;
	}
	sqlite3_busy_timeout(lc->db, 10000);
	/* Two processes creating the cache at once: switching a new file to WAL
	 * can fail with SQLITE_BUSY without the busy handler being asked. */
	for (int tries = 0;; tries++) {
		int r = sqlite3_exec(lc->db, schema, NULL, NULL, NULL);
		if (r == SQLITE_OK)
			break;
		if ((r & 0xff) != SQLITE_BUSY || tries == 200) {
			rc = db_error(lc, "schema", err);
			goto fail;
		}
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	dd_buf_release(&p);
	*out = lc;
	return 0;
fail:
	dd_layercache_close(lc);
fail_buf:
	dd_buf_release(&p);
	return rc;
}

void dd_layercache_close(dd_layercache *lc)
{
	if (!lc)
		return;
	sqlite3_close(lc->db);
	free(lc->path);
	free(lc);
}

int dd_layercache_get(dd_layercache *lc, const dd_digest *diff_id, const char *key, void **data,
		      size_t *len, dd_error *err)
{
	sqlite3_stmt *st = NULL;
	void *out = NULL;
	int rc = 1, step;

	*data = NULL;
	*len = 0;
	if (sqlite3_prepare_v2(lc->db, "SELECT data, size, sha256 FROM layers WHERE diff_id=? AND key=?", -1,
			       &st, NULL) != SQLITE_OK)
		return db_error(lc, "lookup", err);
	sqlite3_bind_text(st, 1, diff_id->s, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		const void *z = sqlite3_column_blob(st, 0);
		size_t zn = (size_t)sqlite3_column_bytes(st, 0);
		sqlite3_int64 size = sqlite3_column_int64(st, 1);
		const char *sum = (const char *)sqlite3_column_text(st, 2);
		dd_digest got;

		if (size < 0 || (uint64_t)size > RECORD_MAX || !z || !sum)
			goto miss;
		out = malloc(size ? (size_t)size : 1);
		if (!out) {
			rc = dd_error_oom(err);
			goto done;
		}
		if (ZSTD_decompress(out, (size_t)size, z, zn) != (size_t)size ||
		    dd_digest_of(&got, out, (size_t)size, NULL) || strcmp(got.s, sum)) {
			dd_warn("layer cache: the record of %s is damaged; reading the layer again", diff_id->s);
			goto miss;
		}
		*data = out;
		*len = (size_t)size;
		out = NULL;
		rc = 0;
	} else if (step != SQLITE_DONE) {
		rc = db_error(lc, "lookup", err);
		goto done;
	}
miss:
done:
	free(out);
	sqlite3_finalize(st);
	if (rc == 0) {
		/* remember the use, for prune --older-than (best effort) */
		if (sqlite3_prepare_v2(lc->db, "UPDATE layers SET used=? WHERE diff_id=? AND key=?", -1, &st,
				       NULL) == SQLITE_OK) {
			sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
			sqlite3_bind_text(st, 2, diff_id->s, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
			sqlite3_step(st);
			sqlite3_finalize(st);
		}
	}
	return rc;
}

int dd_layercache_put(dd_layercache *lc, const dd_digest *diff_id, const char *key, const void *data,
		      size_t len, dd_error *err)
{
	sqlite3_stmt *st = NULL;
	size_t cap = ZSTD_compressBound(len), zn;
	void *z;
	dd_digest sum;
	int rc = 0;

	if (len > RECORD_MAX)
		return 0; /* not worth keeping */
	if (!(z = malloc(cap ? cap : 1)))
		return dd_error_oom(err);
	zn = ZSTD_compress(z, cap, data, len, 3);
	if (ZSTD_isError(zn)) {
		free(z);
		return dd_error_set(err, DD_EINTERNAL, "layer cache: zstd: %s", ZSTD_getErrorName(zn));
	}
	if ((rc = dd_digest_of(&sum, data, len, err)))
		goto done;
	if (sqlite3_prepare_v2(lc->db, "INSERT OR REPLACE INTO layers VALUES (?,?,?,?,?,?,?)", -1, &st, NULL) !=
	    SQLITE_OK) {
		rc = db_error(lc, "store", err);
		goto done;
	}
	sqlite3_bind_text(st, 1, diff_id->s, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_blob64(st, 3, z, zn, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)len);
	sqlite3_bind_text(st, 5, sum.s, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)time(NULL));
	sqlite3_bind_int64(st, 7, (sqlite3_int64)time(NULL));
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_error(lc, "store", err);
done:
	sqlite3_finalize(st);
	free(z);
	return rc;
}

int dd_layercache_stat(dd_layercache *lc, dd_layercache_status *out, dd_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (sqlite3_prepare_v2(lc->db, "SELECT count(*), coalesce(sum(length(data)),0), coalesce(sum(size),0), "
				       "coalesce(min(used),0), coalesce(max(used),0) FROM layers",
			       -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		rc = db_error(lc, "status", err);
	} else {
		out->records = sqlite3_column_int64(st, 0);
		out->stored_bytes = sqlite3_column_int64(st, 1);
		out->content_bytes = sqlite3_column_int64(st, 2);
		out->oldest_use = sqlite3_column_int64(st, 3);
		out->newest_use = sqlite3_column_int64(st, 4);
	}
	sqlite3_finalize(st);
	return rc;
}

int dd_layercache_prune(dd_layercache *lc, int64_t older_than, int64_t *removed, dd_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	*removed = 0;
	if (sqlite3_prepare_v2(lc->db, "DELETE FROM layers WHERE used <= ?", -1, &st, NULL) != SQLITE_OK)
		return db_error(lc, "prune", err);
	sqlite3_bind_int64(st, 1, older_than > 0 ? (sqlite3_int64)(time(NULL) - older_than) : INT64_MAX);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_error(lc, "prune", err);
	else
		*removed = sqlite3_changes(lc->db);
	sqlite3_finalize(st);
	if (!rc)
		sqlite3_exec(lc->db, "PRAGMA wal_checkpoint(TRUNCATE); VACUUM;", NULL, NULL, NULL);
	return rc;
}
