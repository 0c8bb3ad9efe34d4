/*
 * db.c - `drydock db`: import feeds into the vulnerability DB, show its
 * status, export it for an air-gapped machine and import such an export.
 *
 *   drydock db import PATH... [--db PATH] [--source NAME] [--strict]
 *   drydock db status [--format table|json] [--max-age AGE] [--db PATH]
 *   drydock db export FILE [--db PATH]
 *   drydock db update [--db PATH] [--sources FILE] [--source NAME]... [--quiet]
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/buf.h"
#include "util/digest.h"
#include "util/log.h"
#include "vulndb/import.h"
#include "vulndb/sources.h"
#include "vulndb/store.h"
#include "vulndb/update.h"
#include "util/banned.h"

static int db_path(const char *opt, dd_buf *out, dd_error *err)
{
	if (opt && *opt)
		return dd_buf_puts(out, opt) ? dd_buf_error(out, err, "--db") : 0;
	return dd_vulndb_default_path(out, err);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- import ------------------------------------------------------------- */

static int has_suffix(const char *s, size_t n, const char *suf)
{
	size_t m = strlen(suf);
	return n >= m && strncasecmp(s + n - m, suf, m) == 0;
}

/* Source name from a path: its last component without feed/archive
 * extensions; generic names ("all", "main", ...) get their parent's name
 * in front ("Go/all.zip" -> "Go", "v3.10/main.json" -> "v3.10-main"). */
static int source_from_path(const char *path, dd_buf *out)
{
	static const char *const exts[] = { ".gz", ".bz2", ".xz", ".zst", ".zip", ".tgz",
					    ".tar", ".json", ".yaml", ".yml" };
	static const char *const generic[] = { "main", "community", "security", "data",
					       "osv", "vulns", "advisories", "list", "json" };
	size_t n = strlen(path), pn;
	const char *base, *parent = NULL;

	while (n > 1 && path[n - 1] == '/')
		n--;
	base = path + n;
	while (base > path && base[-1] != '/')
		base--;
	if (base > path + 1) {
		parent = base - 1;
		while (parent > path && parent[-1] != '/')
			parent--;
	}
	size_t bn = (size_t)(path + n - base);
	for (int again = 1; again;) {
		again = 0;
		for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
			if (bn > strlen(exts[i]) && has_suffix(base, bn, exts[i])) {
				bn -= strlen(exts[i]);
				again = 1;
			}
	}
	pn = parent ? (size_t)(base - 1 - parent) : 0;
	if (parent && pn && !(pn == 1 && parent[0] == '.') && !(pn == 2 && parent[0] == '.')) {
		if (bn == 3 && strncmp(base, "all", 3) == 0)
			return dd_buf_append(out, parent, pn);
		for (size_t i = 0; i < sizeof(generic) / sizeof(generic[0]); i++)
			if (strlen(generic[i]) == bn && strncmp(base, generic[i], bn) == 0) {
				dd_buf_printf(out, "%.*s-", (int)pn, parent);
				break;
			}
	}
	return dd_buf_append(out, base, bn);
}

static int is_sqlite_file(const char *path)
{
	char head[16];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	if (fd < 0)
		return 0;
	n = read(fd, head, sizeof(head));
	close(fd);
	return n == 16 && memcmp(head, "SQLite format 3", 16) == 0;
}

static int file_sha256(const char *path, dd_digest *out, dd_error *err)
{
	dd_sha256 h;
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;
	if (fd < 0)
		return dd_error_set(err, DD_EINPUT, "cannot open %s: %s", path, strerror(errno));
	if ((rc = dd_sha256_init(&h, err))) {
		close(fd);
		return rc;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		dd_sha256_update(&h, buf, (size_t)n);
	close(fd);
	if (n < 0) {
		dd_sha256_release(&h);
		return dd_error_set(err, DD_EENV, "reading %s: %s", path, strerror(errno));
	}
	dd_sha256_final(&h, out);
	return 0;
}

/* Whole-DB import: check FILE against FILE.sha256, check its schema, and
 * copy it over the DB in one transaction (SQLite backup into the live DB:
 * readers keep their snapshot, a crash leaves the old DB). */
static int import_whole_db(const char *file, const char *dbpath, dd_error *err)
{
	dd_buf side = DD_BUF_INIT, want = DD_BUF_INIT;
	dd_digest got;
	dd_vulndb *src = NULL, *dst = NULL;
	sqlite3_backup *bk;
	int rc;

	dd_buf_printf(&side, "%s.sha256", file);
	if ((rc = dd_buf_error(&side, err, "path")))
		goto done;
	if ((rc = dd_file_slurp(side.data, &want, 1 << 20, err))) {
		dd_error_prefix(err, "%s is a DB export but its checksum file is unreadable", file);
		goto done;
	}
	if ((rc = file_sha256(file, &got, err)))
		goto done;
	if (want.len < 64 || strncmp(want.data, dd_digest_hex(&got), 64) != 0) {
		rc = dd_error_set(err, DD_EINPUT, "%s: sha256 %s does not match %s", file,
				  dd_digest_hex(&got), side.data);
		goto done;
	}
	if ((rc = dd_vulndb_open(&src, file, DD_VULNDB_RDONLY, err)))
		goto done;
	if ((rc = dd_vulndb_open(&dst, dbpath, 0, err)))
		goto done;
	bk = sqlite3_backup_init(dd_vulndb_sqlite(dst), "main", dd_vulndb_sqlite(src), "main");
	if (!bk) {
		rc = dd_error_set(err, DD_EENV, "importing %s into %s: %s", file, dbpath,
				  sqlite3_errmsg(dd_vulndb_sqlite(dst)));
		goto done;
	}
	int step = sqlite3_backup_step(bk, -1);
	sqlite3_backup_finish(bk);
	if (step != SQLITE_DONE)
		rc = dd_error_set(err, DD_EENV, "importing %s into %s: %s", file, dbpath,
				  sqlite3_errstr(step));
	else
		printf("imported DB export %s (sha256 %s) into %s\n", file, dd_digest_hex(&got),
		       dbpath);
done:
	dd_vulndb_close(src);
	dd_vulndb_close(dst);
	dd_buf_release(&side);
	dd_buf_release(&want);
	return rc;
}

static int cmd_import(int argc, char **argv, dd_error *err)
{
	const char *dbopt = NULL, *source = NULL;
	int strict = 0, npos, rc, worst = 0;
	uint64_t max_file = 0;
	const struct dd_opt opts[] = {
		{ "db", 0, DD_OPT_STR, &dbopt, "PATH", "the DB file (default "
		  "$XDG_CACHE_HOME/drydock/db.sqlite)" },
		{ "source", 's', DD_OPT_STR, &source, "NAME", "store everything under this source "
		  "name (default: one source per PATH, named after it)" },
		{ "strict", 0, DD_OPT_FLAG, &strict, NULL, "fail (and store nothing for the source) "
		  "when any record or file would be skipped" },
		{ "max-file-size", 0, DD_OPT_SIZE, &max_file, "SIZE", "largest feed file or archive "
		  "member read (default 1G)" },
		{ 0 },
	};
	const struct dd_cmdspec spec = {
		"db import", "PATH... [options]",
		"Import vulnerability feeds (or a DB made by 'drydock db export') into the DB.",
		"PATH is a feed file (OSV JSON/YAML record, Alpine/Wolfi secdb JSON/YAML, Debian\n"
		"security tracker JSON or data/{CVE,DSA,DLA}/list, Ubuntu CVE Tracker file, NVD\n"
		"or CVE JSON 5 record), a directory of them, or an archive (.zip such as\n"
		"osv.dev's all.zip, .tar.gz, .tar.xz, .gz, .bz2, .xz).  The format is detected\n"
		"from the content.  Each source is replaced in one transaction: a failed or\n"
		"killed import leaves the previous data.\n"
		"See docs/vulndb.md.",
		opts,
	};
	dd_buf path = DD_BUF_INIT;
	dd_vulndb *db = NULL;
	char **names = NULL;
	int *done_flags = NULL, lockfd = -1;

	rc = dd_opts_parse(&spec, argc, argv, &npos, err);
	if (rc)
		return rc == 1 ? 0 : rc;
	if (npos < 1)
		return dd_error_set(err, DD_EUSAGE, "db import: give at least one PATH");
	if ((rc = db_path(dbopt, &path, err)) ||
	    (rc = dd_vulndb_update_lock_wait(path.data, &lockfd, err)))
		goto done;
	if (npos == 1 && is_sqlite_file(argv[1])) {
		rc = import_whole_db(argv[1], path.data, err);
		goto done;
	}
	if ((rc = dd_vulndb_open(&db, path.data, 0, err)))
		goto done;
	names = calloc((size_t)npos, sizeof(*names));
	done_flags = calloc((size_t)npos, sizeof(*done_flags));
	if (!names || !done_flags) {
		rc = dd_error_oom(err);
		goto done;
	}
	for (int i = 0; i < npos; i++) {
		dd_buf n = DD_BUF_INIT;
		if (source)
			dd_buf_puts(&n, source);
		else
			source_from_path(argv[1 + i], &n);
		if ((rc = dd_buf_error(&n, err, "source name"))) {
			dd_buf_release(&n);
			goto done;
		}
		names[i] = dd_buf_detach(&n, NULL);
	}
	/* One transaction per distinct source name, in argument order. */
	for (int i = 0; i < npos; i++) {
		const char **group;
		size_t ng = 0;
		dd_vulndb_import_opts io = { names[i], strict, (size_t)max_file };
		dd_vulndb_import_stats st;
		dd_error e = DD_ERROR_INIT;
		double t0;

		if (done_flags[i])
			continue;
		if (!(group = calloc((size_t)npos, sizeof(*group)))) {
			rc = dd_error_oom(err);
			goto done;
		}
		for (int j = i; j < npos; j++)
			if (!done_flags[j] && strcmp(names[j], names[i]) == 0) {
				group[ng++] = argv[1 + j];
				done_flags[j] = 1;
			}
		t0 = now_s();
		int r = dd_vulndb_import_paths(db, group, ng, &io, &st, &e);
		double dt = now_s() - t0;
		free(group);
		if (r) {
			fprintf(stderr, "drydock: source %s not updated: %s\n", names[i], e.msg);
			if (!worst || r < worst)
				worst = r;
			continue;
		}
		printf("imported %s (%s): %lld files, %lld records, %lld advisories, %lld affected, "
		       "%lld skipped in %.2fs (%.0f records/s)\n",
		       names[i], st.kind, (long long)st.files, (long long)st.records,
		       (long long)st.advisories, (long long)st.affected, (long long)st.skipped, dt,
		       dt > 0 ? (double)st.records / dt : 0.0);
	}
	if (worst) {
		rc = dd_error_set(err, worst, "db import: %s", "some sources were not updated "
				  "(their previous data is kept)");
	}
done:
	if (names)
		for (int i = 0; i < npos; i++)
			free(names[i]);
	free(names);
	free(done_flags);
	dd_vulndb_close(db);
	if (lockfd >= 0)
		close(lockfd);
	dd_buf_release(&path);
	return rc;
}

/* ---- status ------------------------------------------------------------- */

/* "7d", "12h", "30m", "90s" or plain seconds. */
static int parse_age(const char *s, int64_t *out)
{
	char *end;
	long long v;
	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v < 0)
		return -1;
	int64_t mul = 1;
	if (*end) {
		switch (*end) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		case 'w': mul = 7 * 86400; break;
		default: return -1;
		}
		if (end[1])
			return -1;
	}
	if (v > INT64_MAX / mul)
		return -1;
	*out = (int64_t)v * mul;
	return 0;
}

static void fmt_time(int64_t t, char *out, size_t n)
{
	struct tm tm;
	time_t tt = (time_t)t;
	if (t <= 0 || !gmtime_r(&tt, &tm) || !strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, n, "never");
}

static void fmt_age(int64_t secs, char *out, size_t n)
{
	if (secs < 0)
		snprintf(out, n, "-");
	else if (secs < 3600)
		snprintf(out, n, "%lldm", (long long)(secs / 60));
	else if (secs < 2 * 86400)
		snprintf(out, n, "%lldh", (long long)(secs / 3600));
	else
		snprintf(out, n, "%lldd", (long long)(secs / 86400));
}

static json_t *jstr_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static int status_json(const char *path, const dd_vulndb_status_info *st, int64_t now,
		       int64_t max_age, dd_error *err)
{
	json_t *root = json_object(), *srcs = json_array();
	int rc = 0;
	if (!root || !srcs) {
		json_decref(root);
		json_decref(srcs);
		return dd_error_oom(err);
	}
	json_object_set_new(root, "db", json_string(path));
	json_object_set_new(root, "schema_version", json_integer(st->schema_version));
	json_object_set_new(root, "advisories", json_integer(st->advisories));
	json_object_set_new(root, "affected", json_integer(st->affected));
	for (size_t i = 0; i < st->n_sources; i++) {
		const dd_vulndb_source_info *s = &st->sources[i];
		char when[32];
		json_t *o = json_object();
		fmt_time(s->updated, when, sizeof(when));
		json_object_set_new(o, "name", jstr_or_null(s->name));
		json_object_set_new(o, "kind", jstr_or_null(s->kind));
		json_object_set_new(o, "url", jstr_or_null(s->url));
		json_object_set_new(o, "advisories", json_integer(s->advisories));
		json_object_set_new(o, "affected", json_integer(s->affected));
		json_object_set_new(o, "records", json_integer(s->records));
		json_object_set_new(o, "updated", s->updated > 0 ? json_string(when) : json_null());
		json_object_set_new(o, "age_seconds",
				    s->updated > 0 ? json_integer(now - s->updated) : json_null());
		json_object_set_new(o, "stale", json_boolean(s->updated <= 0 ||
							     now - s->updated > max_age));
		json_object_set_new(o, "etag", jstr_or_null(s->etag));
		json_object_set_new(o, "errors", json_integer(s->skipped + (s->update_error ? 1 : 0)));
		json_object_set_new(o, "last_error", jstr_or_null(s->update_error ? s->update_error
										 : s->last_error));
		if (s->checked > 0) { /* sources that db update manages */
			json_object_set_new(o, "update_error", jstr_or_null(s->update_error));
			fmt_time(s->checked, when, sizeof(when));
			json_object_set_new(o, "checked", json_string(when));
		}
		if (s->cursor) /* incremental source (Red Hat changes.csv) */
			json_object_set_new(o, "changes_applied_to", json_string(s->cursor));
		json_array_append_new(srcs, o);
	}
	json_object_set_new(root, "sources", srcs);
	if (json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 ||
	    fputc('\n', stdout) == EOF)
		rc = dd_error_set(err, DD_EENV, "writing standard output");
	json_decref(root);
	return rc;
}

static void status_table(const char *path, const dd_vulndb_status_info *st, int64_t now)
{
	printf("DB %s (schema %d): %lld advisories, %lld affected entries, %zu sources\n\n",
	       path, st->schema_version, (long long)st->advisories, (long long)st->affected,
	       st->n_sources);
	printf("%-28s %-15s %10s %10s %-20s %5s %7s\n", "SOURCE", "KIND", "ADVISORIES",
	       "AFFECTED", "UPDATED", "AGE", "SKIPPED");
	for (size_t i = 0; i < st->n_sources; i++) {
		const dd_vulndb_source_info *s = &st->sources[i];
		char when[32], age[32];
		fmt_time(s->updated, when, sizeof(when));
		fmt_age(s->updated > 0 ? now - s->updated : -1, age, sizeof(age));
		printf("%-28s %-15s %10lld %10lld %-20s %5s %7lld\n", s->name,
		       s->kind ? s->kind : "-", (long long)s->advisories, (long long)s->affected,
		       when, age, (long long)s->skipped);
	}
	for (size_t i = 0; i < st->n_sources; i++)
		if (st->sources[i].cursor)
			printf("\nsource %s: updated incrementally, changes applied up to %s\n",
			       st->sources[i].name, st->sources[i].cursor);
	for (size_t i = 0; i < st->n_sources; i++)
		if (st->sources[i].update_error)
			printf("\nsource %s: last update failed (previous data kept): %s\n",
			       st->sources[i].name, st->sources[i].update_error);
}

static int cmd_status(int argc, char **argv, dd_error *err)
{
	const char *dbopt = NULL, *format = "table", *max_age_s = "7d";
	int npos, rc;
	int64_t max_age = 0, now = (int64_t)time(NULL);
	const struct dd_opt opts[] = {
		{ "db", 0, DD_OPT_STR, &dbopt, "PATH", "the DB file (default "
		  "$XDG_CACHE_HOME/drydock/db.sqlite)" },
		{ "format", 'f', DD_OPT_STR, &format, "FORMAT", "table (default) or json" },
		{ "max-age", 0, DD_OPT_STR, &max_age_s, "AGE", "warn about sources older than AGE "
		  "(e.g. 36h, 7d; default 7d)" },
		{ 0 },
	};
	const struct dd_cmdspec spec = {
		"db status", "[options]",
		"Show the vulnerability DB's sources, record counts, ages and last errors.",
		NULL, opts,
	};
	dd_buf path = DD_BUF_INIT;
	dd_vulndb *db = NULL;
	dd_vulndb_status_info st;
	struct stat sb;

	memset(&st, 0, sizeof(st));
	rc = dd_opts_parse(&spec, argc, argv, &npos, err);
	if (rc)
		return rc == 1 ? 0 : rc;
	if (npos)
		return dd_error_set(err, DD_EUSAGE, "db status: unexpected argument '%s'", argv[1]);
	if (strcmp(format, "table") && strcmp(format, "json"))
		return dd_error_set(err, DD_EUSAGE, "db status: --format is table or json, not '%s'",
				    format);
	if (parse_age(max_age_s, &max_age))
		return dd_error_set(err, DD_EUSAGE, "db status: --max-age '%s' is not like 7d, "
				    "36h, 90m or seconds", max_age_s);
	if ((rc = db_path(dbopt, &path, err)))
		goto done;
	if (stat(path.data, &sb) != 0) {
		rc = dd_error_set(err, DD_EENV, "no vulnerability DB at %s: run 'drydock db "
				  "import' first (or pass --db)", path.data);
		goto done;
	}
	if ((rc = dd_vulndb_open(&db, path.data, DD_VULNDB_RDONLY, err)) ||
	    (rc = dd_vulndb_status(db, &st, err)))
		goto done;
	if (strcmp(format, "json") == 0)
		rc = status_json(path.data, &st, now, max_age, err);
	else
		status_table(path.data, &st, now);
	if (st.n_sources == 0)
		dd_warn("the vulnerability DB %s holds no sources", path.data);
	for (size_t i = 0; i < st.n_sources; i++) {
		const dd_vulndb_source_info *s = &st.sources[i];
		char age[32];
		if (s->updated > 0 && now - s->updated <= max_age)
			continue;
		fmt_age(s->updated > 0 ? now - s->updated : -1, age, sizeof(age));
		dd_warn("source %s is %s old (older than --max-age %s): update it", s->name, age,
			max_age_s);
	}
done:
	dd_vulndb_status_release(&st);
	dd_vulndb_close(db);
	dd_buf_release(&path);
	return rc;
}

/* ---- export ------------------------------------------------------------- */

static int cmd_export(int argc, char **argv, dd_error *err)
{
	const char *dbopt = NULL;
	int npos, rc;
	const struct dd_opt opts[] = {
		{ "db", 0, DD_OPT_STR, &dbopt, "PATH", "the DB file (default "
		  "$XDG_CACHE_HOME/drydock/db.sqlite)" },
		{ 0 },
	};
	const struct dd_cmdspec spec = {
		"db export", "FILE [options]",
		"Write a consistent copy of the DB to FILE, and its sha256 to FILE.sha256.",
		"Carry both files to another machine and run 'drydock db import FILE' there.",
		opts,
	};
	dd_buf path = DD_BUF_INIT, tmp = DD_BUF_INIT, side = DD_BUF_INIT;
	dd_vulndb *db = NULL;
	dd_digest d;
	FILE *fp = NULL;
	const char *base;

	rc = dd_opts_parse(&spec, argc, argv, &npos, err);
	if (rc)
		return rc == 1 ? 0 : rc;
	if (npos != 1)
		return dd_error_set(err, DD_EUSAGE, "db export: give exactly one FILE");
	if ((rc = db_path(dbopt, &path, err)))
		goto done;
	dd_buf_printf(&tmp, "%s.tmp.%ld", argv[1], (long)getpid());
	dd_buf_printf(&side, "%s.sha256", argv[1]);
	if ((rc = dd_buf_error(&tmp, err, "path")) || (rc = dd_buf_error(&side, err, "path")))
		goto done;
	if ((rc = dd_vulndb_open(&db, path.data, DD_VULNDB_RDONLY, err)) ||
	    (rc = dd_vulndb_export(db, tmp.data, err)) || (rc = file_sha256(tmp.data, &d, err)))
		goto done;
	base = strrchr(argv[1], '/');
	base = base ? base + 1 : argv[1];
	if (!(fp = fopen(side.data, "w")) || fprintf(fp, "%s  %s\n", dd_digest_hex(&d), base) < 0 ||
	    fclose(fp) != 0) {
		fp = NULL;
		rc = dd_error_set(err, DD_EENV, "cannot write %s: %s", side.data, strerror(errno));
		goto done;
	}
	fp = NULL;
	if (rename(tmp.data, argv[1]) != 0) {
		rc = dd_error_set(err, DD_EENV, "cannot write %s: %s", argv[1], strerror(errno));
		goto done;
	}
	printf("exported %s to %s (sha256 %s)\n", path.data, argv[1], dd_digest_hex(&d));
done:
	if (rc && tmp.data)
		unlink(tmp.data);
	dd_vulndb_close(db);
	dd_buf_release(&path);
	dd_buf_release(&tmp);
	dd_buf_release(&side);
	return rc;
}

/* ---- update ------------------------------------------------------------- */

struct progress {
	char last[136];
	double t_last;
	int shown;
};

static void human(uint64_t n, char *out, size_t sz)
{
	if (n >= (uint64_t)1 << 30)
		snprintf(out, sz, "%.1f GiB", (double)n / (double)(1 << 30));
	else if (n >= (uint64_t)1 << 20)
		snprintf(out, sz, "%.1f MiB", (double)n / (double)(1 << 20));
	else if (n >= 1024)
		snprintf(out, sz, "%.1f KiB", (double)n / 1024.0);
	else
		snprintf(out, sz, "%llu B", (unsigned long long)n);
}

/* A one-line bar on stderr (only installed when stderr is a TTY). */
static void progress_cb(void *ctx, const char *source, uint64_t got, int64_t total, int done)
{
	struct progress *p = ctx;
	double t = now_s();
	char a[32], b[32];
	if (!done && t - p->t_last < 0.1 && strcmp(p->last, source) == 0)
		return;
	p->t_last = t;
	snprintf(p->last, sizeof(p->last), "%s", source);
	human(got, a, sizeof(a));
	if (total > 0) {
		int pct = (int)((double)got * 100.0 / (double)total), w = pct / 4;
		char bar[27];
		if (pct > 100)
			pct = 100, w = 25;
		for (int i = 0; i < 25; i++)
			bar[i] = i < w ? '#' : '.';
		bar[25] = 0;
		human((uint64_t)total, b, sizeof(b));
		fprintf(stderr, "\r\033[K%-24.24s [%s] %3d%% %s / %s", source, bar, pct, a, b);
	} else {
		fprintf(stderr, "\r\033[K%-24.24s %s", source, a);
	}
	if (done)
		fputs("\r\033[K", stderr);
	fflush(stderr);
}

static int add_names(const char ***names, size_t *n, const char *v, char **copies, size_t *nc)
{
	char *c = dd_strdup(v), *p, *save = NULL;
	if (!c)
		return -1;
	copies[(*nc)++] = c;
	for (p = c; p; p = save) {
		save = strchr(p, ',');
		if (save)
			*save++ = 0;
		if (!*p)
			continue;
		const char **nn = realloc(*names, (*n + 1) * sizeof(**names));
		if (!nn)
			return -1;
		*names = nn;
		(*names)[(*n)++] = p;
	}
	return 0;
}

static int cmd_update(int argc, char **argv, dd_error *err)
{
	const char *dbopt = NULL, *sources_opt = NULL, *source_last = NULL;
	int npos, rc, quiet = 0, print_default = 0;
	uint64_t max_dl = 0, retries = 3;
	const struct dd_opt opts[] = {
		{ "db", 0, DD_OPT_STR, &dbopt, "PATH", "the DB file (default "
		  "$XDG_CACHE_HOME/drydock/db.sqlite)" },
		{ "sources", 0, DD_OPT_STR, &sources_opt, "FILE", "the sources list (default "
		  "$XDG_CONFIG_HOME/drydock/sources if it exists, else the built-in list)" },
		{ "source", 's', DD_OPT_STR, &source_last, "NAME", "update only this source "
		  "(repeat, or NAME,NAME...; also disabled ones)" },
		{ "max-download", 0, DD_OPT_SIZE, &max_dl, "SIZE", "largest file downloaded "
		  "(default 4G)" },
		{ "retries", 0, DD_OPT_UINT, &retries, "N", "retries of a request that failed with "
		  "5xx, 429 or a reset (default 3, with backoff)" },
		{ "print-default-sources", 0, DD_OPT_FLAG, &print_default, NULL, "print the built-in "
		  "sources list (a starting point for your own) and exit" },
		{ "quiet", 'q', DD_OPT_FLAG, &quiet, NULL, "no progress bar and no summary" },
		{ 0 },
	};
	const struct dd_cmdspec spec = {
		"db update", "[options]",
		"Download the vulnerability feeds of the sources list and update the DB.",
		"Each source is fetched with a conditional request (ETag, Last-Modified): an\n"
		"unchanged source costs one request.  Changed sources are imported into a copy\n"
		"of the DB, which replaces the DB atomically at the end: scans running meanwhile\n"
		"keep the old one, and a failed or killed update leaves the previous data.\n"
		"See docs/vulndb.md.",
		opts,
	};
	dd_buf path = DD_BUF_INIT, used_buf = DD_BUF_INIT;
	dd_vulndb_sources srcs;
	dd_vulndb_update_report rep;
	dd_vulndb_update_opts uo;
	struct progress prog;
	const char **names = NULL, *used = NULL;
	char **copies = NULL;
	size_t nnames = 0, ncopies = 0;

	memset(&srcs, 0, sizeof(srcs));
	memset(&rep, 0, sizeof(rep));
	memset(&prog, 0, sizeof(prog));
	rc = dd_opts_parse(&spec, argc, argv, &npos, err);
	if (rc)
		return rc == 1 ? 0 : rc;
	if (print_default) {
		dd_buf t = DD_BUF_INIT;
		if (dd_vulndb_sources_default_text(&t)) {
			dd_buf_release(&t);
			return dd_error_oom(err);
		}
		fwrite(t.data, 1, t.len, stdout);
		dd_buf_release(&t);
		return 0;
	}
	if (npos)
		return dd_error_set(err, DD_EUSAGE, "db update: unexpected argument '%s'", argv[1]);
	/* --source may be repeated: collect every occurrence. */
	if (!(copies = calloc((size_t)argc + 1, sizeof(*copies)))) {
		rc = dd_error_oom(err);
		goto done;
	}
	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		if (!strcmp(argv[i], "--"))
			break;
		if ((!strcmp(argv[i], "--source") || !strcmp(argv[i], "-s")) && i + 1 < argc)
			v = argv[++i];
		else if (!strncmp(argv[i], "--source=", 9))
			v = argv[i] + 9;
		if (v && add_names(&names, &nnames, v, copies, &ncopies)) {
			rc = dd_error_oom(err);
			goto done;
		}
	}
	if (source_last && !nnames) {
		rc = dd_error_set(err, DD_EUSAGE, "db update: --source: give a name");
		goto done;
	}
	if ((rc = db_path(dbopt, &path, err)) ||
	    (rc = dd_vulndb_sources_load(&srcs, sources_opt, &used, &used_buf, err)))
		goto done;
	memset(&uo, 0, sizeof(uo));
	uo.db_path = path.data;
	uo.sources = &srcs;
	uo.only = names;
	uo.n_only = nnames;
	uo.max_download = max_dl;
	uo.http.allow_http = 1; /* plain http:// only when the sources list says so */
	uo.http.max_retries = (int)(retries > 10 ? 10 : retries);
	if (!quiet && isatty(STDERR_FILENO)) {
		uo.progress = progress_cb;
		uo.progress_ctx = &prog;
	}
	rc = dd_vulndb_update(&uo, &rep, err);
	if (!quiet) {
		for (size_t i = 0; i < rep.n; i++) {
			const dd_vulndb_update_result *r = &rep.v[i];
			char sz[32];
			if (!r->name[0])
				continue; /* not tried: a fatal error came first */
			human(r->bytes, sz, sizeof(sz));
			if (r->outcome == DD_VU_UPDATED)
				printf("%-28s updated: %s, %lld records, %lld advisories, %lld affected, "
				       "%lld skipped\n", r->name, sz, (long long)r->records,
				       (long long)r->advisories, (long long)r->affected,
				       (long long)r->skipped);
			else if (r->outcome == DD_VU_UNCHANGED)
				printf("%-28s unchanged\n", r->name);
			else
				printf("%-28s FAILED (previous data kept): %s\n", r->name, r->message);
		}
		if (rep.n)
			printf("%zu sources from %s, %zu requests, DB %s\n", rep.n, used, rep.requests,
			       path.data);
	}
done:
	dd_vulndb_update_report_release(&rep);
	dd_vulndb_sources_release(&srcs);
	for (size_t i = 0; i < ncopies; i++)
		free(copies[i]);
	free(copies);
	free(names);
	dd_buf_release(&path);
	dd_buf_release(&used_buf);
	return rc;
}

/* ---- dispatch ------------------------------------------------------------ */

static const struct dd_cmd db_cmds[] = {
	{ "import", cmd_import, "import feed files, directories, archives, or a DB export" },
	{ "status", cmd_status, "show sources, counts, ages and errors" },
	{ "export", cmd_export, "write the DB and a .sha256 for an air-gapped machine" },
	{ "update", cmd_update, "download the feeds of the sources list (conditional requests)" },
	{ NULL, NULL, NULL },
};

static void db_usage(FILE *out)
{
	fprintf(out, "usage: drydock db <command> [options]\n\n"
		     "Manage the vulnerability database (see docs/vulndb.md).\n\ncommands:\n");
	for (const struct dd_cmd *c = db_cmds; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fprintf(out, "\n'drydock db <command> --help' shows a command's options.\n");
}

int dd_cmd_db(int argc, char **argv, dd_error *err)
{
	if (argc < 2) {
		db_usage(stderr);
		return dd_error_set(err, DD_EUSAGE, "db: give a command (import, status, export, update)");
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		db_usage(stdout);
		return 0;
	}
	for (const struct dd_cmd *c = db_cmds; c->name; c++)
		if (strcmp(c->name, argv[1]) == 0)
			return c->run(argc - 1, argv + 1, err);
	return dd_error_set(err, DD_EUSAGE, "db: unknown command '%s' (import, status, export, update)",
			    argv[1]);
}
