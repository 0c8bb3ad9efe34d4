/* update.c - `drydock db update` (see update.h). */
#include "vulndb/update.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/log.h"
#include "util/reader.h"
#include "vulndb/changes.h"
#include "vulndb/import.h"
#include "vulndb/store.h"
#include "util/banned.h"

#define DEFAULT_MAX_DOWNLOAD ((uint64_t)4 << 30)
#define MAX_POINTER ((size_t)64 << 10)

struct upd {
	const dd_vulndb_update_opts *o;
	dd_vulndb_update_report *rep;
	dd_http *http;
	dd_vulndb_status_info old;  /* validators of the live DB */
	dd_buf newpath, dlpath, lockpath;
	dd_buf dldir;               /* DB.update-files: changed files (changes.csv) */
	dd_vulndb *newdb;           /* the copy being built, once a source changed */
	int lockfd;
};

static const dd_vulndb_source_info *old_info(const struct upd *u, const char *name)
{
	for (size_t i = 0; i < u->old.n_sources; i++)
		if (strcmp(u->old.sources[i].name, name) == 0)
			return &u->old.sources[i];
	return NULL;
}

static void unlink_new(struct upd *u)
{
	static const char *const sfx[] = { "", "-journal", "-wal", "-shm" };
	dd_buf p = DD_BUF_INIT;
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		dd_buf_reset(&p);
		dd_buf_printf(&p, "%s%s", u->newpath.data, sfx[i]);
		if (!p.failed)
			unlink(p.data);
	}
	dd_buf_release(&p);
}

/* The copy of the live DB that this update writes into. */
static int open_new(struct upd *u, dd_error *err)
{
	sqlite3 *src = NULL, *dst = NULL;
	struct stat sb;
	int rc = 0;

	if (u->newdb)
		return 0;
	unlink_new(u);
	if (stat(u->o->db_path, &sb) == 0) {
		sqlite3_backup *bk;
		if (sqlite3_open_v2(u->o->db_path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
		    sqlite3_open_v2(u->newpath.data, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
				    NULL) != SQLITE_OK) {
			rc = dd_error_set(err, DD_EENV, "copying %s to %s: %s", u->o->db_path,
					  u->newpath.data, sqlite3_errmsg(dst ? dst : src));
			goto done;
		}
		sqlite3_busy_timeout(src, 10000);
		if (!(bk = sqlite3_backup_init(dst, "main", src, "main"))) {
			rc = dd_error_set(err, DD_EENV, "copying %s: %s", u->o->db_path,
					  sqlite3_errmsg(dst));
			goto done;
		}
		int step = sqlite3_backup_step(bk, -1);
		sqlite3_backup_finish(bk);
		if (step != SQLITE_DONE) {
			rc = dd_error_set(err, DD_EENV, "copying %s: %s", u->o->db_path,
					  sqlite3_errstr(step));
			goto done;
		}
	}
	sqlite3_close(dst);
	dst = NULL;
	if ((rc = dd_vulndb_open(&u->newdb, u->newpath.data, 0, err)))
		goto done;
	/* Nobody else opens this file, and a crash throws it away: no WAL, no
	 * syncs while building it (it is synced once before the rename). */
	if (sqlite3_exec(dd_vulndb_sqlite(u->newdb), "PRAGMA journal_mode=MEMORY; "
			 "PRAGMA synchronous=OFF", NULL, NULL, NULL) != SQLITE_OK)
		rc = dd_error_set(err, DD_EENV, "%s: %s", u->newpath.data,
				  sqlite3_errmsg(dd_vulndb_sqlite(u->newdb)));
done:
	sqlite3_close(src);
	sqlite3_close(dst);
	return rc;
}

static int fsync_path(const char *path, int dir)
{
	int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC), rc;
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static int empty_old_wal(struct upd *u, dd_error *err)
{
	sqlite3 *old = NULL;
	struct stat sb;
	dd_buf wal = DD_BUF_INIT;
	int rc = 0, done_ok = 0;

	dd_buf_printf(&wal, "%s-wal", u->o->db_path);
	if ((rc = dd_buf_error(&wal, err, "path")))
		return rc;
	if (stat(wal.data, &sb) != 0) { /* no WAL next to the DB */
		dd_buf_release(&wal);
		return 0;
	}
	if (sqlite3_open_v2(u->o->db_path, &old, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		rc = dd_error_set(err, DD_EENV, "cannot open %s: %s", u->o->db_path,
				  old ? sqlite3_errmsg(old) : "out of memory");
		goto done;
	}
	sqlite3_busy_timeout(old, 1000);
	for (int attempt = 0; attempt < 30 && !done_ok; attempt++) {
		sqlite3_stmt *s = NULL;
		if (sqlite3_prepare_v2(old, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &s, NULL) ==
			    SQLITE_OK &&
		    sqlite3_step(s) == SQLITE_ROW)
			done_ok = sqlite3_column_int(s, 0) == 0 && sqlite3_column_int(s, 1) <= 0;
		sqlite3_finalize(s);
	}
	if (!done_ok) {
		rc = dd_error_set(err, DD_EENV, "%s: its write-ahead log cannot be emptied (a "
				  "process keeps an old snapshot open); the update is not "
				  "published, try again", u->o->db_path);
		goto done;
	}
	sqlite3_exec(old, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
done:
	sqlite3_close(old);
	dd_buf_release(&wal);
	return rc;
}

/* Publish the new file: rollback journal mode (a file with no -wal beside
 * it), synced, renamed over the live DB, directory synced. */
static int publish(struct upd *u, dd_error *err)
{
	dd_buf dir = DD_BUF_INIT;
	int rc = 0;

	if (sqlite3_exec(dd_vulndb_sqlite(u->newdb), "PRAGMA journal_mode=DELETE", NULL, NULL,
			 NULL) != SQLITE_OK) {
		rc = dd_error_set(err, DD_EENV, "%s: %s", u->newpath.data,
				  sqlite3_errmsg(dd_vulndb_sqlite(u->newdb)));
		goto done;
	}
	dd_vulndb_close(u->newdb);
	u->newdb = NULL;
	if (fsync_path(u->newpath.data, 0) != 0) {
		rc = dd_error_set(err, DD_EENV, "syncing %s: %s", u->newpath.data, strerror(errno));
		goto done;
	}
	/* The old DB's -wal must be empty before the rename: a process that
	 * opens the new file would otherwise apply the old file's WAL frames
	 * to it.  Checkpoint it completely (this waits for readers of old
	 * snapshots), then leave WAL mode when nobody holds the file open. */
	if ((rc = empty_old_wal(u, err)))
		goto done;
	if (rename(u->newpath.data, u->o->db_path) != 0) {
		rc = dd_error_set(err, DD_EENV, "cannot rename %s to %s: %s", u->newpath.data,
				  u->o->db_path, strerror(errno));
		goto done;
	}
	const char *slash = strrchr(u->o->db_path, '/');
	if (slash)
		dd_buf_append(&dir, u->o->db_path, (size_t)(slash - u->o->db_path + 1));
	else
		dd_buf_puts(&dir, ".");
	if (!dir.failed)
		fsync_path(dir.data, 1);
done:
	dd_buf_release(&dir);
	return rc;
}

/* A request header line "Name: value" (value from the DB: no CR/LF). */
static int header(dd_buf *b, const char *name, const char *v)
{
	if (!v || !*v || strpbrk(v, "\r\n"))
		return 0;
	dd_buf_printf(b, "%s: %s", name, v);
	return 1;
}

/* Download url into the download file, conditionally on the validators
 * given.  Returns 0 with resp filled (304 or 2xx, *bytes set for 2xx). */
static int download(struct upd *u, const char *name, const char *url, const char *etag,
		    const char *lastmod, const char *out, dd_http_response *resp, uint64_t *bytes,
		    dd_error *err)
{
	dd_buf h1 = DD_BUF_INIT, h2 = DD_BUF_INIT;
	const char *hdrs[3] = { NULL };
	size_t nh = 0;
	dd_http_stream *st = NULL;
	dd_reader r;
	uint64_t max = u->o->max_download ? u->o->max_download : DEFAULT_MAX_DOWNLOAD;
	char *chunk = NULL;
	int fd = -1, rc;

	*bytes = 0;
	if (header(&h1, "If-None-Match", etag))
		hdrs[nh++] = dd_buf_cstr(&h1);
	if (header(&h2, "If-Modified-Since", lastmod))
		hdrs[nh++] = dd_buf_cstr(&h2);
	if ((rc = dd_buf_error(&h1, err, "header")) || (rc = dd_buf_error(&h2, err, "header")))
		goto done;
	u->rep->requests++;
	dd_http_req req = { .method = "GET", .url = url, .headers = hdrs };
	if ((rc = dd_http_stream_open(u->http, &req, resp, &st, err)))
		goto done;
	if (!st)
		goto done; /* 304, 404, 500...: the caller looks at resp->status */
	if (resp->content_length > 0 && (uint64_t)resp->content_length > max) {
		rc = dd_error_set(err, DD_EINPUT, "%s: %lld bytes, more than the %llu allowed", url,
				  resp->content_length, (unsigned long long)max);
		goto done;
	}
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = dd_error_set(err, DD_EENV, "cannot create %s: %s", out, strerror(errno));
		goto done;
	}
	if (!(chunk = malloc(1 << 16))) {
		rc = dd_error_oom(err);
		goto done;
	}
	dd_http_stream_reader(st, &r);
	for (;;) {
		ssize_t n = dd_reader_read(&r, chunk, 1 << 16, err);
		if (n < 0) {
			rc = (int)n;
			goto done;
		}
		if (n == 0)
			break;
		if (*bytes + (uint64_t)n > max) {
			rc = dd_error_set(err, DD_EINPUT, "%s: larger than %llu bytes", url,
					  (unsigned long long)max);
			goto done;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(fd, chunk + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				rc = dd_error_set(err, DD_EENV, "writing %s: %s", out,
						  strerror(errno));
				goto done;
			}
			off += w;
		}
		*bytes += (uint64_t)n;
		if (u->o->progress)
			u->o->progress(u->o->progress_ctx, name, *bytes, resp->content_length, 0);
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = dd_error_set(err, DD_EENV, "writing %s: %s", out, strerror(errno));
		goto done;
	}
	fd = -1;
done:
	if (u->o->progress && st)
		u->o->progress(u->o->progress_ctx, name, *bytes, resp->content_length, 1);
	if (fd >= 0)
		close(fd);
	free(chunk);
	dd_http_stream_free(st);
	dd_buf_release(&h1);
	dd_buf_release(&h2);
	return rc;
}

/* Red Hat's archive_latest.txt: its first word names the file to fetch,
 * relative to the pointer's URL. */
static int resolve_latest(struct upd *u, const char *url, const char *etag,
			  const char *lastmod, dd_http_response *resp, dd_buf *target,
			  dd_error *err)
{
	dd_buf body = DD_BUF_INIT_MAX(MAX_POINTER);
	dd_buf h1 = DD_BUF_INIT, h2 = DD_BUF_INIT;
	const char *hdrs[3] = { NULL };
	size_t nh = 0, i = 0, n;
	int rc;

	if (header(&h1, "If-None-Match", etag))
		hdrs[nh++] = dd_buf_cstr(&h1);
	if (header(&h2, "If-Modified-Since", lastmod))
		hdrs[nh++] = dd_buf_cstr(&h2);
	u->rep->requests++;
	dd_http_req req = { .method = "GET", .url = url, .headers = hdrs, .max_body = MAX_POINTER };
	if ((rc = dd_http_request(u->http, &req, resp, &body, err)))
		goto done;
	if (resp->status != 200)
		goto done;
	while (i < body.len && (body.data[i] == ' ' || body.data[i] == '\t' ||
				body.data[i] == '\r' || body.data[i] == '\n'))
		i++;
	for (n = 0; i + n < body.len && body.data[i + n] > ' ' && body.data[i + n] < 0x7f; n++)
		;
	if (n == 0 || memchr(body.data + i, '/', n) || (n >= 2 && !memcmp(body.data + i, "..", 2))) {
		rc = dd_error_set(err, DD_EINPUT, "%s: expected the name of a file next to it", url);
		goto done;
	}
	const char *slash = strrchr(url, '/');
	dd_buf_append(target, url, (size_t)(slash - url + 1));
	dd_buf_append(target, body.data + i, n);
	rc = dd_buf_error(target, err, "URL");
done:
	dd_buf_release(&body);
	dd_buf_release(&h1);
	dd_buf_release(&h2);
	return rc;
}

static void fail_msg(dd_vulndb_update_result *res, const char *fmt, ...) DD_PRINTF(2, 3);
static void fail_msg(dd_vulndb_update_result *res, const char *fmt, ...)
{
	va_list ap;
	res->outcome = DD_VU_FAILED;
	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
}

/* Errors and checks noted while no new DB exists yet, applied at the end. */
struct check {
	const dd_vulndb_source_def *def;
	dd_vulndb_update_result *res;
};

/* ---- incremental updates: Red Hat's changes.csv and deletions.csv -------
 *
 * Next to archive_latest.txt, Red Hat publishes changes.csv and
 * deletions.csv: one "path","timestamp" line per file of the directory
 * (path relative to it, e.g. "2024/cve-2024-0727.json"; RFC 3339 time of
 * its last change or its deletion).  The first update of such a source
 * imports the archive that archive_latest.txt names; the archive's date
 * (csaf_vex_YYYY-MM-DD.tar.zst) is the cursor.  Every update then fetches
 * changes.csv (conditionally: 304 costs one request), downloads only the
 * files changed after the cursor, imports them incrementally (each document
 * replaces the stored advisory with its id), removes the advisories of the
 * files deleted after the cursor, and moves the cursor to the newest time
 * applied (sources.cursor). */

#define MAX_INDEX ((size_t)256 << 20)  /* changes.csv of all of Red Hat is ~10 MB */
#define MAX_INCREMENTAL 5000           /* more changed files: the archive instead */

/* GET url into body (bounded). */
static int fetch_mem(struct upd *u, const char *url, const char *etag, const char *lastmod,
		     dd_http_response *resp, dd_buf *body, dd_error *err)
{
	dd_buf h1 = DD_BUF_INIT, h2 = DD_BUF_INIT;
	const char *hdrs[3] = { NULL };
	size_t nh = 0;
	int rc;
	if (header(&h1, "If-None-Match", etag))
		hdrs[nh++] = dd_buf_cstr(&h1);
	if (header(&h2, "If-Modified-Since", lastmod))
		hdrs[nh++] = dd_buf_cstr(&h2);
	dd_buf_reset(body);
	u->rep->requests++;
	dd_http_req req = { .method = "GET", .url = url, .headers = hdrs, .max_body = MAX_INDEX };
	rc = dd_http_request(u->http, &req, resp, body, err);
	dd_buf_release(&h1);
	dd_buf_release(&h2);
	return rc;
}

static void remove_dldir(struct upd *u)
{
	DIR *d = opendir(u->dldir.data);
	struct dirent *de;
	dd_buf p = DD_BUF_INIT;
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		dd_buf_reset(&p);
		dd_buf_printf(&p, "%s/%s", u->dldir.data, de->d_name);
		if (!p.failed)
			unlink(p.data);
	}
	closedir(d);
	dd_buf_release(&p);
	rmdir(u->dldir.data);
}

/* *fallback = 1: there is no changes.csv; update the source like any other
 * `latest` source. */
static int update_changes(struct upd *u, const dd_vulndb_source_def *def,
			  const dd_vulndb_source_info *prev, dd_vulndb_update_result *res,
			  int *fallback, dd_error *err)
{
	dd_buf dir = DD_BUF_INIT, curl = DD_BUF_INIT, durl = DD_BUF_INIT, path = DD_BUF_INIT,
	       furl = DD_BUF_INIT, target = DD_BUF_INIT, body = DD_BUF_INIT_MAX(MAX_INDEX);
	dd_http_response cr, dr, pr, ar;
	dd_vulndb_changes ch, del;
	dd_error e = DD_ERROR_INIT;
	char (*ids)[96] = NULL;
	const char **idp = NULL;
	int64_t cursor = 0, newest;
	size_t nids = 0, nfiles = 0;
	int have_cursor = 0, full = 0, rc = 0;
	const char *slash = strrchr(def->url, '/');

	memset(&cr, 0, sizeof(cr));
	memset(&dr, 0, sizeof(dr));
	memset(&pr, 0, sizeof(pr));
	memset(&ar, 0, sizeof(ar));
	memset(&ch, 0, sizeof(ch));
	memset(&del, 0, sizeof(del));
	dd_buf_append(&dir, def->url, (size_t)(slash - def->url + 1));
	dd_buf_printf(&curl, "%schanges.csv", dir.data ? dir.data : "");
	dd_buf_printf(&durl, "%sdeletions.csv", dir.data ? dir.data : "");
	if ((rc = dd_buf_error(&curl, err, "URL")) || (rc = dd_buf_error(&durl, err, "URL")))
		goto done;
	/* The cursor counts only for data imported from this very URL. */
	if (prev && prev->url && strcmp(prev->url, def->url) == 0 && prev->updated > 0 &&
	    prev->cursor && dd_vulndb_time_parse(prev->cursor, strlen(prev->cursor), &cursor) == 0)
		have_cursor = 1;

	if (fetch_mem(u, curl.data, have_cursor ? prev->etag : NULL,
		      have_cursor ? prev->last_modified : NULL, &cr, &body, &e)) {
		fail_msg(res, "%s", e.msg);
		goto done;
	}
	if (cr.status == 304 && have_cursor) {
		res->outcome = DD_VU_UNCHANGED;
		goto done;
	}
	if (cr.status == 404 || cr.status == 410) {
		/* A mirror without the index files: the archive, whole. */
		dd_warn("%s: HTTP %ld; source %s is updated from the archive alone", curl.data,
			cr.status, def->name);
		*fallback = 1;
		goto done;
	}
	if (cr.status != 200) {
		fail_msg(res, "%s: HTTP %ld", curl.data, cr.status);
		goto done;
	}
	if ((rc = dd_vulndb_changes_parse(body.data ? body.data : "", body.len, &ch, err)))
		goto done;
	if (ch.n == 0 && ch.bad > 0) {
		fail_msg(res, "%s: no \"path\",\"timestamp\" lines", curl.data);
		goto done;
	}
	if (ch.bad)
		dd_warn("%s: %lld lines are not \"path\",\"timestamp\" (ignored)", curl.data,
			(long long)ch.bad);
	if (have_cursor) {
		size_t newer = 0;
		for (size_t i = 0; i < ch.n; i++)
			newer += ch.v[i].ts > cursor;
		full = newer > MAX_INCREMENTAL;
	} else {
		full = 1;
	}

	if (full) {
		/* The whole archive, then the changes made after its date. */
		dd_vulndb_import_opts io;
		dd_vulndb_import_stats st;
		const char *p = u->dlpath.data;
		char cur[32];
		if (resolve_latest(u, def->url, NULL, NULL, &pr, &target, &e)) {
			fail_msg(res, "%s", e.msg);
			goto done;
		}
		if (pr.status != 200) {
			fail_msg(res, "%s: HTTP %ld", def->url, pr.status);
			goto done;
		}
		if (download(u, def->name, target.data, NULL, NULL, u->dlpath.data, &ar,
			     &res->bytes, &e)) {
			fail_msg(res, "%s", e.msg);
			goto done;
		}
		if (ar.status < 200 || ar.status >= 300) {
			fail_msg(res, "%s: HTTP %ld", target.data, ar.status);
			goto done;
		}
		if (dd_vulndb_archive_date(target.data, &cursor)) {
			/* No date in the name: take it as current. */
			cursor = 0;
			for (size_t i = 0; i < ch.n; i++)
				if (ch.v[i].ts > cursor)
					cursor = ch.v[i].ts;
			dd_warn("%s: no date in the archive's name; changes.csv is applied from its "
				"newest entry on", target.data);
		}
		if ((rc = open_new(u, err))) {
			fail_msg(res, "%s", err->msg);
			goto done;
		}
		dd_vulndb_time_format(cursor, cur);
		memset(&io, 0, sizeof(io));
		io.source = def->name;
		io.max_file = u->o->max_download ? (size_t)u->o->max_download : 0;
		io.url = def->url;
		io.kind = def->kind;
		io.cursor = cur; /* no ETag: the next update reads changes.csv in full */
		if (dd_vulndb_import_paths(u->newdb, &p, 1, &io, &st, &e)) {
			fail_msg(res, "%s", e.msg);
			goto done;
		}
		unlink(u->dlpath.data);
		res->outcome = DD_VU_UPDATED;
		res->records = st.records;
		res->advisories = st.advisories;
		res->affected = st.affected;
		res->skipped = st.skipped;
	}

	/* The files changed and deleted after the cursor. */
	dd_vulndb_changes_keep_newer(&ch, cursor);
	if (fetch_mem(u, durl.data, NULL, NULL, &dr, &body, &e)) {
		dd_error_prefix(&e, "deletions");
		goto inc_fail;
	}
	if (dr.status == 200) {
		if ((rc = dd_vulndb_changes_parse(body.data ? body.data : "", body.len, &del, err)))
			goto done;
		dd_vulndb_changes_keep_newer(&del, cursor);
	} else if (dr.status != 404) {
		dd_error_set(&e, DD_EINPUT, "%s: HTTP %ld", durl.data, dr.status);
		goto inc_fail;
	}
	newest = cursor;
	for (size_t i = 0; i < ch.n; i++)
		if (ch.v[i].ts > newest)
			newest = ch.v[i].ts;
	if (del.n && !(ids = calloc(del.n, sizeof(*ids)))) {
		rc = dd_error_oom(err);
		goto done;
	}
	if (del.n && !(idp = calloc(del.n, sizeof(*idp)))) {
		rc = dd_error_oom(err);
		goto done;
	}
	for (size_t i = 0; i < del.n; i++) {
		dd_vulndb_change *c = dd_vulndb_changes_find(&ch, del.v[i].path);
		if (del.v[i].ts > newest)
			newest = del.v[i].ts;
		if (c && c->ts > del.v[i].ts)
			continue; /* deleted, then published again */
		if (c)
			c->ts = INT64_MIN; /* changed, then deleted */
		dd_vulndb_change_id(del.v[i].path, ids[nids], sizeof(ids[nids]));
		idp[nids] = ids[nids];
		nids++;
	}
	if (!full && nids == 0 && ch.n == 0) {
		/* changes.csv was rewritten with nothing new: nothing to store. */
		res->outcome = DD_VU_UNCHANGED;
		goto done;
	}
	if (ch.n && mkdir(u->dldir.data, 0700) != 0 && errno != EEXIST) {
		dd_error_set(&e, DD_EENV, "cannot create %s: %s", u->dldir.data, strerror(errno));
		goto inc_fail;
	}
	for (size_t i = 0; i < ch.n; i++) {
		dd_http_response fr;
		uint64_t got = 0;
		const char *base;
		if (ch.v[i].ts == INT64_MIN)
			continue;
		base = strrchr(ch.v[i].path, '/');
		base = base ? base + 1 : ch.v[i].path;
		dd_buf_reset(&furl);
		dd_buf_reset(&path);
		dd_buf_printf(&furl, "%s%s", dir.data, ch.v[i].path);
		dd_buf_printf(&path, "%s/%05zu-%s", u->dldir.data, i, base);
		if (dd_buf_error(&furl, &e, "URL") || dd_buf_error(&path, &e, "path"))
			goto inc_fail;
		memset(&fr, 0, sizeof(fr));
		rc = download(u, def->name, furl.data, NULL, NULL, path.data, &fr, &got, &e);
		long status = fr.status;
		dd_http_response_release(&fr);
		if (rc) {
			rc = 0;
			goto inc_fail;
		}
		res->bytes += got;
		if (status == 404 || status == 410) {
			/* Gone since changes.csv was written (deletions.csv names it next
			 * time): the stored advisory stays until then. */
			res->skipped++;
			dd_warn("%s: HTTP %ld (listed in changes.csv; skipped)", furl.data, status);
			continue;
		}
		if (status < 200 || status >= 300) {
			dd_error_set(&e, DD_EINPUT, "%s: HTTP %ld", furl.data, status);
			goto inc_fail;
		}
		nfiles++;
	}
	if ((rc = open_new(u, err))) {
		fail_msg(res, "%s", err->msg);
		goto done;
	}
	{
		dd_vulndb_import_opts io;
		dd_vulndb_import_stats st;
		const char *p = u->dldir.data;
		char cur[32];
		dd_vulndb_time_format(newest, cur);
		memset(&io, 0, sizeof(io));
		io.source = def->name;
		io.max_file = u->o->max_download ? (size_t)u->o->max_download : 0;
		io.url = def->url;
		io.kind = def->kind;
		io.etag = cr.etag;
		io.last_modified = cr.last_modified;
		io.incremental = 1;
		io.delete_ids = idp;
		io.n_delete = nids;
		io.cursor = cur;
		if (dd_vulndb_import_paths(u->newdb, &p, nfiles ? 1 : 0, &io, &st, &e))
			goto inc_fail;
		res->outcome = DD_VU_UPDATED;
		res->records += st.records;
		res->advisories = st.advisories;
		res->affected = st.affected;
		res->skipped += st.skipped;
	}
	goto done;
inc_fail:
	if (full)
		dd_warn("source %s: the archive is stored, but not the changes made since (%s); "
			"the next update fetches them", def->name, e.msg);
	else
		fail_msg(res, "%s", e.msg);
done:
	remove_dldir(u);
	unlink(u->dlpath.data);
	dd_vulndb_changes_release(&ch);
	dd_vulndb_changes_release(&del);
	free(ids);
	free(idp);
	dd_http_response_release(&cr);
	dd_http_response_release(&dr);
	dd_http_response_release(&pr);
	dd_http_response_release(&ar);
	dd_buf_release(&dir);
	dd_buf_release(&curl);
	dd_buf_release(&durl);
	dd_buf_release(&path);
	dd_buf_release(&furl);
	dd_buf_release(&target);
	dd_buf_release(&body);
	return rc;
}

static int update_one(struct upd *u, const dd_vulndb_source_def *def,
		      dd_vulndb_update_result *res, dd_error *err)
{
	const dd_vulndb_source_info *prev = old_info(u, def->name);
	const char *etag = prev ? prev->etag : NULL, *lastmod = prev ? prev->last_modified : NULL;
	dd_http_response resp, pr;
	dd_buf target = DD_BUF_INIT;
	dd_error e = DD_ERROR_INIT;
	const char *url = def->url;
	int rc = 0;

	if (def->changes && def->latest) {
		int fallback = 0;
		rc = update_changes(u, def, prev, res, &fallback, err);
		if (rc || !fallback)
			return rc;
		if (prev && prev->cursor) /* its validators are those of changes.csv */
			etag = lastmod = NULL;
	}
	memset(&resp, 0, sizeof(resp));
	memset(&pr, 0, sizeof(pr));
	dd_http_response_release(&resp);
	dd_http_response_release(&pr);
	/* Only a source that was imported from this very URL may be skipped
	 * on a 304; a source imported by hand or moved is fetched in full. */
	if (!prev || !prev->url || strcmp(prev->url, def->url) != 0 || prev->updated <= 0)
		etag = lastmod = NULL;
	if (def->latest) {
		if (resolve_latest(u, def->url, etag, lastmod, &pr, &target, &e)) {
			fail_msg(res, "%s", e.msg);
			goto done;
		}
		if (pr.status == 304) {
			res->outcome = DD_VU_UNCHANGED;
			goto done;
		}
		if (pr.status != 200) {
			fail_msg(res, "%s: HTTP %ld", def->url, pr.status);
			goto done;
		}
		url = target.data;
	}
	if (download(u, def->name, url, def->latest ? NULL : etag, def->latest ? NULL : lastmod,
		     u->dlpath.data, &resp, &res->bytes, &e)) {
		fail_msg(res, "%s", e.msg);
		goto done;
	}
	if (resp.status == 304 && !def->latest) {
		res->outcome = DD_VU_UNCHANGED;
		goto done;
	}
	if (resp.status < 200 || resp.status >= 300) {
		fail_msg(res, "%s: HTTP %ld", url, resp.status);
		goto done;
	}
	if ((rc = open_new(u, err))) {
		fail_msg(res, "%s", err->msg);
		goto done; /* fatal: cannot build the new DB at all */
	}
	{
		const char *path = u->dlpath.data;
		dd_vulndb_import_opts io;
		dd_vulndb_import_stats st;
		memset(&io, 0, sizeof(io));
		io.source = def->name;
		io.max_file = u->o->max_download ? (size_t)u->o->max_download : 0;
		io.url = def->url;
		io.etag = def->latest ? pr.etag : resp.etag;
		io.last_modified = def->latest ? pr.last_modified : resp.last_modified;
		io.kind = def->kind;
		if (dd_vulndb_import_paths(u->newdb, &path, 1, &io, &st, &e)) {
			fail_msg(res, "%s", e.msg);
			goto done;
		}
		res->outcome = DD_VU_UPDATED;
		res->records = st.records;
		res->advisories = st.advisories;
		res->affected = st.affected;
		res->skipped = st.skipped;
	}
done:
	unlink(u->dlpath.data);
	dd_http_response_release(&resp);
	dd_http_response_release(&pr);
	dd_buf_release(&target);
	return rc;
}

static int take_lock(struct upd *u, dd_error *err)
{
	u->lockfd = open(u->lockpath.data, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (u->lockfd < 0)
		return dd_error_set(err, DD_EENV, "cannot open %s: %s", u->lockpath.data,
				    strerror(errno));
	if (flock(u->lockfd, LOCK_EX | LOCK_NB) != 0)
		return dd_error_set(err, DD_EENV, "another 'drydock db update' of %s is running "
				    "(%s is locked)", u->o->db_path, u->lockpath.data);
	return 0;
}

static int make_dir_of(const char *path, dd_error *err)
{
	/* dd_vulndb_open creates the parent; do it now for the lock file. */
	dd_vulndb *db = NULL;
	struct stat sb;
	int rc;
	if (stat(path, &sb) == 0)
		return 0;
	if ((rc = dd_vulndb_open(&db, path, 0, err)))
		return rc;
	dd_vulndb_close(db);
	return 0;
}

int dd_vulndb_update(const dd_vulndb_update_opts *o, dd_vulndb_update_report *rep,
		     dd_error *err)
{
	struct upd u;
	dd_vulndb *live = NULL;
	const dd_vulndb_source_def **sel = NULL;
	size_t nsel = 0;
	int rc = 0, failed = 0;

	memset(rep, 0, sizeof(*rep));
	memset(&u, 0, sizeof(u));
	u.o = o;
	u.rep = rep;
	u.lockfd = -1;
	dd_buf_init(&u.newpath, 0);
	dd_buf_init(&u.dlpath, 0);
	dd_buf_init(&u.lockpath, 0);
	dd_buf_init(&u.dldir, 0);
	dd_buf_printf(&u.dldir, "%s.update-files", o->db_path);
	dd_buf_printf(&u.newpath, "%s.update-new", o->db_path);
	dd_buf_printf(&u.dlpath, "%s.update-download", o->db_path);
	dd_buf_printf(&u.lockpath, "%s.update-lock", o->db_path);
	if ((rc = dd_buf_error(&u.newpath, err, "path")) ||
	    (rc = dd_buf_error(&u.dlpath, err, "path")) ||
	    (rc = dd_buf_error(&u.lockpath, err, "path")) ||
	    (rc = dd_buf_error(&u.dldir, err, "path")))
		goto done;

	/* Which sources. */
	if (!(sel = calloc(o->sources->n + o->n_only + 1, sizeof(*sel)))) {
		rc = dd_error_oom(err);
		goto done;
	}
	if (o->n_only) {
		for (size_t i = 0; i < o->n_only; i++) {
			const dd_vulndb_source_def *d = dd_vulndb_sources_find(o->sources, o->only[i]);
			if (!d) {
				rc = dd_error_set(err, DD_EUSAGE, "db update: no source named '%s' in "
						  "the sources list", o->only[i]);
				goto done;
			}
			int dup = 0;
			for (size_t k = 0; k < nsel; k++)
				dup |= sel[k] == d;
			if (!dup)
				sel[nsel++] = d;
		}
	} else {
		for (size_t i = 0; i < o->sources->n; i++)
			if (o->sources->v[i].enabled)
				sel[nsel++] = &o->sources->v[i];
	}
	if (!(rep->v = calloc(nsel + 1, sizeof(*rep->v)))) {
		rc = dd_error_oom(err);
		goto done;
	}
	rep->n = nsel;

	if ((rc = make_dir_of(o->db_path, err)) || (rc = take_lock(&u, err)))
		goto done;
	/* Leftovers of a killed update. */
	unlink_new(&u);
	unlink(u.dlpath.data);
	remove_dldir(&u);
	{
		dd_vulndb *ro = NULL;
		if ((rc = dd_vulndb_open(&ro, o->db_path, DD_VULNDB_RDONLY, err)) == 0)
			rc = dd_vulndb_status(ro, &u.old, err);
		dd_vulndb_close(ro);
		if (rc) {
			/* An empty DB (just created) has no sources yet. */
			memset(&u.old, 0, sizeof(u.old));
			dd_error_clear(err);
			rc = 0;
		}
	}
	if ((rc = dd_http_new(&u.http, &o->http, err)))
		goto done;

	for (size_t i = 0; i < nsel; i++) {
		dd_vulndb_update_result *res = &rep->v[i];
		snprintf(res->name, sizeof(res->name), "%s", sel[i]->name);
		if ((rc = update_one(&u, sel[i], res, err)))
			goto done;
		if (res->outcome == DD_VU_FAILED) {
			failed++;
			dd_warn("source %s not updated (its previous data is kept): %s", res->name,
				res->message);
		}
	}

	/* Record the checks (and errors) of the sources that did not change. */
	dd_vulndb *w = u.newdb;
	if (!w) {
		if ((rc = dd_vulndb_open(&live, o->db_path, DD_VULNDB_KEEP_JOURNAL, err)))
			goto done;
		w = live;
	}
	if (sqlite3_exec(dd_vulndb_sqlite(w), "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		rc = dd_error_set(err, DD_EENV, "%s: %s", o->db_path,
				  sqlite3_errmsg(dd_vulndb_sqlite(w)));
		goto done;
	}
	for (size_t i = 0; i < nsel; i++) {
		const dd_vulndb_update_result *res = &rep->v[i];
		if (res->outcome == DD_VU_UPDATED)
			continue;
		if ((rc = dd_vulndb_source_checked(w, sel[i]->name, sel[i]->kind, NULL,
						   res->outcome == DD_VU_FAILED ? res->message : NULL,
						   err))) {
			sqlite3_exec(dd_vulndb_sqlite(w), "ROLLBACK", NULL, NULL, NULL);
			goto done;
		}
	}
	if (sqlite3_exec(dd_vulndb_sqlite(w), "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		rc = dd_error_set(err, DD_EENV, "%s: %s", o->db_path,
				  sqlite3_errmsg(dd_vulndb_sqlite(w)));
		goto done;
	}
	if (u.newdb && (rc = publish(&u, err))) {
		for (size_t i = 0; i < nsel; i++)
			if (rep->v[i].outcome == DD_VU_UPDATED)
				fail_msg(&rep->v[i], "downloaded but not stored: %s", err->msg);
		goto done;
	}
	if (failed)
		rc = dd_error_set(err, DD_EINPUT, "db update: %d of %zu sources failed (their "
				  "previous data is kept)", failed, nsel);
done:
	if (u.newdb) {
		dd_vulndb_close(u.newdb);
		unlink_new(&u);
	}
	if (u.dlpath.data)
		unlink(u.dlpath.data);
	if (u.dldir.data && u.lockfd >= 0)
		remove_dldir(&u);
	dd_vulndb_close(live);
	dd_http_free(u.http);
	dd_vulndb_status_release(&u.old);
	if (u.lockfd >= 0)
		close(u.lockfd);
	dd_buf_release(&u.newpath);
	dd_buf_release(&u.dlpath);
	dd_buf_release(&u.lockpath);
	dd_buf_release(&u.dldir);
	free(sel);
	return rc;
}

int dd_vulndb_update_lock_wait(const char *db_path, int *fd, dd_error *err)
{
	dd_buf p = DD_BUF_INIT;
	int rc;

	*fd = -1;
	dd_buf_printf(&p, "%s.update-lock", db_path);
	if ((rc = dd_buf_error(&p, err, "path")))
		return rc;
	*fd = open(p.data, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (*fd < 0) {
		rc = errno == ENOENT ? 0 : dd_error_set(err, DD_EENV, "cannot open %s: %s", p.data,
							 strerror(errno));
		goto done;
	}
	if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		dd_info("waiting for the running 'drydock db update' of %s", db_path);
		while (flock(*fd, LOCK_EX) != 0) {
			if (errno != EINTR) {
				rc = dd_error_set(err, DD_EENV, "locking %s: %s", p.data,
						  strerror(errno));
				close(*fd);
				*fd = -1;
				goto done;
			}
		}
	}
done:
	dd_buf_release(&p);
	return rc;
}

void dd_vulndb_update_report_release(dd_vulndb_update_report *rep)
{
	if (!rep)
		return;
	free(rep->v);
	rep->v = NULL;
	rep->n = 0;
}
