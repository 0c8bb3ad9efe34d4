/* Unit tests for src/vulndb: schema/migrations, the import transaction,
 * the OSV, Alpine secdb and Debian tracker importers on real records
 * (tests/data/vulndb), CVSS scores against NVD's, malformed input and
 * atomicity. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/log.h"
#include "util/reader.h"
#include "vulndb/import.h"
#include "vulndb/store.h"

#define DATA "tests/data/vulndb/"

static char tmpdir[64];
static char dbpath[128];

static void quiet_sink(enum dd_log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)msg;
	(void)ctx;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/dd-vulndb-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(dbpath, sizeof(dbpath), "%s/db.sqlite", tmpdir);
	dd_log_set_sink(quiet_sink, NULL);
	return 0;
}

static int teardown(void **state)
{
	char cmd[200];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* A fresh DB for each test, even when an earlier test failed half-way. */
static dd_vulndb *open_db(void)
{
	dd_vulndb *db = NULL;
	dd_error e = DD_ERROR_INIT;
	char side[160];
	unlink(dbpath);
	snprintf(side, sizeof(side), "%s-wal", dbpath);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", dbpath);
	unlink(side);
	int rc = dd_vulndb_open(&db, dbpath, 0, &e);
	if (rc)
		fail_msg("open: %s", e.msg);
	return db;
}

static int import(dd_vulndb *db, const char *source, const char *path, int strict,
		  dd_vulndb_import_stats *st, dd_error *e)
{
	dd_vulndb_import_opts o = { source, strict, 0 };
	const char *paths[] = { path };
	return dd_vulndb_import_paths(db, paths, 1, &o, st, e);
}

static void import_ok(dd_vulndb *db, const char *source, const char *path,
		      dd_vulndb_import_stats *st)
{
	dd_error e = DD_ERROR_INIT;
	int rc = import(db, source, path, 0, st, &e);
	if (rc)
		fail_msg("import %s: %s", path, e.msg);
}

/* Collected lookup results, flattened to text for exact comparisons. */
struct hits {
	int n;
	char text[8][1024];
};

static int collect(const dd_vuln_match *m, void *ctx, dd_error *err)
{
	struct hits *h = ctx;
	dd_buf b = DD_BUF_INIT;
	(void)err;
	if (h->n >= 8)
		return 0;
	dd_buf_printf(&b, "%s %s %s %s", m->advisory, m->ecosystem, m->package, m->status);
	if (m->urgency)
		dd_buf_printf(&b, " urgency=%s", m->urgency);
	for (size_t i = 0; i < m->n_ranges; i++) {
		dd_buf_printf(&b, " [%s%s%s", m->ranges[i].type, m->ranges[i].repo ? " " : "",
			      m->ranges[i].repo ? m->ranges[i].repo : "");
		for (size_t j = 0; j < m->ranges[i].n_events; j++)
			dd_buf_printf(&b, " %s=%s", m->ranges[i].events[j].kind,
				      m->ranges[i].events[j].version);
		dd_buf_puts(&b, "]");
	}
	if (m->n_versions)
		dd_buf_printf(&b, " versions=%zu first=%s", m->n_versions, m->versions[0]);
	if (m->n_aliases) {
		dd_buf_puts(&b, " aliases=");
		for (size_t i = 0; i < m->n_aliases; i++)
			dd_buf_printf(&b, "%s%s", i ? "," : "", m->aliases[i]);
	}
	for (size_t i = 0; i < m->n_severities; i++) {
		const dd_vuln_severity *s = &m->severities[i];
		dd_buf_printf(&b, " sev=%s/%s", s->source ? s->source : "-", s->type);
		if (s->has_score)
			dd_buf_printf(&b, "/%.1f", s->score);
		if (s->rating)
			dd_buf_printf(&b, "/%s", s->rating);
	}
	snprintf(h->text[h->n++], sizeof(h->text[0]), "%s", dd_buf_cstr(&b));
	dd_buf_release(&b);
	return 0;
}

static struct hits lookup(dd_vulndb *db, const char *eco, const char *pkg)
{
	struct hits h;
	dd_error e = DD_ERROR_INIT;
	memset(&h, 0, sizeof(h));
	if (dd_vulndb_lookup(db, eco, pkg, collect, &h, &e))
		fail_msg("lookup: %s", e.msg);
	return h;
}

static int64_t count(dd_vulndb *db, const char *sql)
{
	sqlite3_stmt *s;
	int64_t n = -1;
	assert_int_equal(sqlite3_prepare_v2(dd_vulndb_sqlite(db), sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

/* ---- schema ------------------------------------------------------------- */

static void test_schema_version_and_migrations(void **state)
{
	(void)state;
	dd_vulndb *db = open_db();
	assert_int_equal(count(db, "PRAGMA user_version"), DD_VULNDB_SCHEMA_VERSION);
	assert_int_equal(count(db, "SELECT max(version) FROM migrations"),
			 DD_VULNDB_SCHEMA_VERSION);
	assert_int_equal(count(db, "SELECT count(*) FROM sqlite_master WHERE type='index' AND "
				   "name='affected_package'"), 1);
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_prepare_v2(dd_vulndb_sqlite(db), "PRAGMA journal_mode", -1, &s,
					    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	/* A DB from a newer drydock is refused, not silently used. */
	assert_int_equal(sqlite3_exec(dd_vulndb_sqlite(db), "PRAGMA user_version=99", NULL, NULL,
				      NULL), SQLITE_OK);
	dd_vulndb_close(db);
	dd_vulndb *db2 = NULL;
	dd_error e = DD_ERROR_INIT;
	assert_int_equal(dd_vulndb_open(&db2, dbpath, 0, &e), DD_EENV);
	assert_non_null(strstr(e.msg, "schema version 99"));
	assert_null(db2);
	unlink(dbpath);
}

/* ---- CVSS ---------------------------------------------------------------- */

static void test_cvss_scores_match_nvd(void **state)
{
	(void)state;
	FILE *fp = fopen(DATA "cvss-nvd.txt", "r");
	char line[512];
	int n3 = 0, n2 = 0;
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		char vec[400];
		double want, got;
		const char *rating;
		if (line[0] == '#' || sscanf(line, "%399s %lf", vec, &want) != 2)
			continue;
		int v3 = strncmp(vec, "CVSS:3", 6) == 0;
		int rc = v3 ? dd_cvss3_score(vec, &got, &rating) : dd_cvss2_score(vec, &got, &rating);
		if (rc || (int)(got * 10 + 0.5) != (int)(want * 10 + 0.5))
			fail_msg("%s: got %.1f (rc %d), NVD says %.1f", vec, got, rc, want);
		v3 ? n3++ : n2++;
	}
	fclose(fp);
	assert_true(n3 >= 50);
	assert_true(n2 >= 5);
	double s;
	const char *r;
	assert_int_equal(dd_cvss3_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", &s, &r), 0);
	assert_true(s == 10.0);
	assert_string_equal(r, "CRITICAL");
	assert_int_equal(dd_cvss3_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", &s, &r), 0);
	assert_string_equal(r, "NONE");
	/* Malformed vectors. */
	assert_int_equal(dd_cvss3_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", &s, &r), -1);
	assert_int_equal(dd_cvss3_score("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", &s, &r), -1);
	assert_int_equal(dd_cvss3_score("CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", &s, &r),
			 -1);
	assert_int_equal(dd_cvss3_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/", &s, &r), -1);
	assert_int_equal(dd_cvss3_score("CVSS:4.0/AV:N", &s, &r), -1);
	assert_int_equal(dd_cvss2_score("AV:N/AC:L/Au:N/C:P/I:P", &s, &r), -1);
	assert_int_equal(dd_cvss3_score("", &s, &r), -1);
}

/* ---- OSV ----------------------------------------------------------------- */

static void test_osv_go_record(void **state)
{
	(void)state;
	dd_vulndb *db = open_db();
	dd_vulndb_import_stats st;
	import_ok(db, "go", DATA "osv/GO-2024-2687.json", &st);
	assert_int_equal(st.records, 1);
	assert_int_equal(st.advisories, 1);
	assert_int_equal(st.affected, 2);
	assert_string_equal(st.kind, "osv");
	struct hits h = lookup(db, "Go", "stdlib");
	assert_int_equal(h.n, 1);
	assert_string_equal(h.text[0],
			    "GO-2024-2687 Go stdlib affected [SEMVER introduced=0 fixed=1.21.9 "
			    "introduced=1.22.0-0 fixed=1.22.2] aliases=CVE-2023-45288,"
			    "GHSA-4v7x-pqxf-cx7m");
	h = lookup(db, "Go", "golang.org/x/net");
	assert_int_equal(h.n, 1);
	assert_non_null(strstr(h.text[0], "[SEMVER introduced=0 fixed=0.23.0]"));
	assert_int_equal(lookup(db, "Go", "nope").n, 0);
	dd_vulndb_close(db);
	unlink(dbpath);
}

static void test_osv_ghsa_log4j(void **state)
{
	(void)state;
	dd_vulndb *db = open_db();
	dd_vulndb_import_stats st;
	import_ok(db, "ghsa", DATA "osv/GHSA-jfh8-c2jp-5v3q.json", &st);
	struct hits h = lookup(db, "Maven", "org.apache.logging.log4j:log4j-core");
	assert_int_equal(h.n, 3);
	/* Three disjoint ranges in three affected[] entries, in file order. */
	assert_non_null(strstr(h.text[0], "[ECOSYSTEM introduced=2.13.0 fixed=2.15.0]"));
	assert_non_null(strstr(h.text[1], "[ECOSYSTEM introduced=0 fixed=2.3.1]"));
	assert_non_null(strstr(h.text[2], "[ECOSYSTEM introduced=2.4 fixed=2.12.2]"));
	/* CVSS v3.1 scored here (10.0), and GitHub's own rating. */
	assert_non_null(strstr(h.text[0], "sev=GHSA/CVSS_V3/10.0/CRITICAL"));
	assert_non_null(strstr(h.text[0], "sev=GHSA/distro/CRITICAL"));
	assert_non_null(strstr(h.text[0], "aliases=CVE-2021-44228"));
	dd_vulndb_close(db);
	unlink(dbpath);
}

static void test_osv_withdrawn_and_ubuntu_priority(void **state)
{
	(void)state;
	dd_vulndb *db = open_db();
	dd_vulndb_import_stats st;
	import_ok(db, "ubuntu", DATA "osv/UBUNTU-CVE-2013-2208.json", &st);
	assert_int_equal(st.advisories, 1);
	/* Stored, but never returned to the matcher. */
	assert_int_equal(count(db, "SELECT count(*) FROM advisories WHERE withdrawn="
				   "'2025-07-18T16:42:51Z'"), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM aliases WHERE alias='CVE-2013-2208' AND "
				   "kind='upstream'"), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM severities WHERE type='distro' AND "
				   "source='Ubuntu' AND rating='medium'"), 1);
	assert_int_equal(lookup(db, "Ubuntu:14.04:LTS", "tpp").n, 0);
	dd_vulndb_close(db);
	unlink(dbpath);
}

static void test_osv_almalinux_and_rustsec(void **state)
{
	(void)state;
	dd_vulndb *db = open_db();
	dd_vulndb_import_stats st;
	dd_vulndb_import_opts o = { "mixed", 0, 0 };
	const char *paths[] = { DATA "osv/ALSA-2022-4940.json", DATA "osv/RUSTSEC-2023-0044.json" };
	dd_error e = DD_ERROR_INIT;
	assert_int_equal(dd_vulndb_import_paths(db, paths, 2, &o, &st, &e), 0);
	assert_int_equal(st.advisories, 2);
	struct hits h = lookup(db, "AlmaLinux:9", "xz-libs");
	assert_int_equal(h.n, 1);
	assert_string_equal(h.text[0], "ALSA-2022:4940 AlmaLinux:9 xz-libs affected "
				       "[ECOSYSTEM introduced=0 fixed=5.2.5-8.el9_0]");
	h = lookup(db, "crates.io", "openssl");
	assert_int_equal(h.n, 1);
	assert_non_null(strstr(h.text[0], "[SEMVER introduced=0.0.0-0 fixed=0.10.55]"));
	assert_non_null(strstr(h.text[0], "aliases=CVE-2023-53159,GHSA-xcf7-rvmh-g6q4"));
	dd_vulndb_close(db);
	unlink(dbpath);
}

static void test_osv_yaml_pypa(void **state)
{
	(void)state;
	dd_vulndb *db = open_db();
	dd_vulndb_import_stats st;
	import_ok(db, "pypa", DATA "osv/PYSEC-2023-74.yaml", &st);
	struct hits h = lookup(db, "PyPI", "requests");
	assert_int_equal(h.n, 1);
	assert_non_null(strstr(h.text[0], "[GIT https://github.com/psf/requests introduced=0 "
					  "fixed=74ea7cf7a6a27a4eeb2ae24e162bcc942a6706d5]"));
	assert_non_null(strstr(h.text[0], "[ECOSYSTEM introduced=2.3.0 fixed=2.31.0]"));
	assert_non_null(strstr(h.text[0], "first=2.10.0"));
	assert_non_null(strstr(h.text[0], "CVE-2023-32681"));
	dd_vulndb_close(db);
	unlink(dbpath);
}

/* osv.dev all.zip: members streamed from the archive; non-JSON members
 * ignored. Built here with libarchive from the real records. */
static void write_zip(const char *zpath, const char *const *files, size_t n)
{
	struct archive *a = archive_write_new();
	assert_non_null(a);
	archive_write_set_format_zip(a);
	assert_int_equal(archive_write_open_filename(a, zpath), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		dd_buf b = DD_BUF_INIT;
		dd_error e = DD_ERROR_INIT;
		const char *base = strrchr(files[i], '/');
		struct archive_entry *ent = archive_entry_new();
		if (strcmp(files[i], "LICENSE") == 0)
			dd_buf_puts(&b, "not a feed");
		else
			assert_int_equal(dd_file_slurp(files[i], &b, 1 << 24, &e), 0);
		archive_entry_set_pathname(ent, base ? base + 1 : files[i]);
		archive_entry_set_filetype(ent, AE_IFREG);
		archive_entry_set_perm(ent, 0644);
		archive_entry_set_size(ent, (la_int64_t)b.len);
		assert_int_equal(archive_write_header(a, ent), ARCHIVE_OK);
		assert_int_equal(archive_write_data(a, b.data, b.len), (la_ssize_t)b.len);
		archive_entry_free(ent);
		dd_buf_release(&b);
	}
	archive_write_close(a);
	archive_write_free(a);
}

static void test_osv_zip_bundle(void **state)
{
	(void)state;
	char zpath[160];
	const char *files[] = { DATA "osv/GO-2024-2687.json", "LICENSE",
				DATA "osv/GHSA-jfh8-c2jp-5v3q.json" };
	snprintf(zpath, sizeof(zpath), "%s/all.zip", tmpdir);
	write_zip(zpath, files, 3);
	dd_vulndb *db = open_db();
	dd_vulndb_import_stats st;
	import_ok(db, "zip", zpath, &st);
	assert_int_equal(st.files, 2);
	assert_int_equal(st.advisories, 2);
	assert_int_equal(st.skipped, 0); /* LICENSE has no feed extension: ignored */
	assert_int_equal(lookup(db, "Go", "stdlib").n, 1);
	dd_vulndb_close(db);
	unlink(dbpath);
	unlink(zpath);
}

/* ---- Alpine secdb -------------------------------------------------------- */

static void test_secdb_alpine_json(void **state)
{
	(void)state;
	dd_vulndb *db = open_db();
	dd_vulndb_import_stats st;
	import_ok(db, "alpine", DATA "secdb/alpine-v3.10-main.json", &st);
	assert_string_equal(st.kind, "alpine-secdb");
	struct hits h = lookup(db, "Alpine:v3.10", "openssl");
	int found = 0;
	for (int i = 0; i < h.n; i++)
		if (strcmp(h.text[i], "CVE-2020-1967 Alpine:v3.10 openssl affected "
				      "[ECOSYSTEM introduced=0 fixed=1.1.1g-r0]") == 0)
			found = 1;
	assert_true(found);
	/* Counted independently: every secfixes item is one affected row. */
	assert_int_equal(count(db, "SELECT count(*) FROM affected WHERE package='apk-tools'"), 4);
	h = lookup(db, "Alpine:v3.10", "apk-tools");
	assert_int_equal(h.n, 4);
	assert_string_equal(h.text[0], "CVE-2017-9669 Alpine:v3.10 apk-tools affected "
				       "[ECOSYSTEM introduced=0 fixed=2.7.2-r0]");
	dd_vulndb_close(db);
	unlink(dbpath);
}

static void test_secdb_wolfi_not_affected(void **state)
{
	(void)state;
	dd_vulndb *db = open_db();
	dd_vulndb_import_stats st;
	import_ok(db, "wolfi", DATA "secdb/wolfi-os-security.json", &st);
	assert_int_equal(st.records, 27);
	struct hits h = lookup(db, "Wolfi", "coreutils");
	assert_int_equal(h.n, 1);
	assert_string_equal(h.text[0], "CVE-2016-2781 Wolfi coreutils not-affected");
	h = lookup(db, "Wolfi", "curl");
	assert_int_equal(h.n, 4);
	dd_vulndb_close(db);
	unlink(dbpath);
}

static void test_secdb_yaml_aliases(void **state)
{
	(void)state;
	dd_vulndb *db = open_db();
	dd_vulndb_import_stats st;
	import_ok(db, "alpine36", DATA "secdb/alpine-v3.6-main.yaml", &st);
	/* "CVE-2017-8904 XSA-214": advisory CVE-2017-8904, alias XSA-214. */
	struct hits h = lookup(db, "Alpine:v3.6", "xen");
	int found = 0;
	for (int i = 0; i < h.n; i++)
		found |= strstr(h.text[i], "XSA") != NULL;
	assert_true(h.n > 0);
	assert_int_equal(count(db, "SELECT count(*) FROM aliases a JOIN advisories v ON "
				   "v.pk=a.advisory_id WHERE v.id='CVE-2017-8904' AND "
				   "a.alias='XSA-214'"), 1);
	/* heimdal's "7.4.0-r0:" has no list: nothing stored for it, no failure. */
	assert_int_equal(count(db, "SELECT count(*) FROM affected WHERE package='heimdal'"), 2);
	(void)found;
	dd_vulndb_close(db);
	unlink(dbpath);
}

/* ---- Debian tracker JSON ------------------------------------------------- */

static void test_debian_tracker_json(void **state)
{
	(void)state;
	dd_vulndb *db = open_db();
	dd_vulndb_import_stats st;
	import_ok(db, "debian", DATA "debian/vunnel-debian.json", &st);
	assert_string_equal(st.kind, "debian-tracker");
	struct hits h = lookup(db, "Debian:10", "prototypejs");
	assert_int_equal(h.n, 2);
	assert_string_equal(h.text[0], "CVE-2007-2383 Debian:10 prototypejs not-affected "
				       "urgency=unimportant sev=debian/distro/unimportant");
	assert_string_equal(h.text[1], "CVE-2008-7220 Debian:10 prototypejs affected "
				       "urgency=high** [ECOSYSTEM introduced=0 fixed=1.6.0.2-1] "
				       "sev=debian/distro/high");
	/* jessie = 8, stretch = 9 */
	assert_int_equal(lookup(db, "Debian:8", "prototypejs").n, 2);
	assert_int_equal(lookup(db, "Debian:9", "prototypejs").n, 2);
	/* The two open entries whose urgency is end-of-life (counted with grep
	 * in the fixture), with no severity row for that pseudo-urgency. */
	assert_int_equal(count(db, "SELECT count(*) FROM affected WHERE status='end-of-life'"), 2);
	assert_int_equal(count(db, "SELECT count(*) FROM severities WHERE rating LIKE 'end%'"), 0);
	assert_int_equal(count(db, "SELECT count(*) FROM affected WHERE status='end-of-life' AND "
				   "package='chromium' AND ecosystem='Debian:10'"), 1);
	dd_vulndb_close(db);
	unlink(dbpath);
}

static void test_debian_open_and_codenames(void **state)
{
	(void)state;
	assert_string_equal(dd_vulndb_debian_version("bookworm"), "12");
	assert_string_equal(dd_vulndb_debian_version("trixie"), "13");
	assert_string_equal(dd_vulndb_debian_version("buster"), "10");
	assert_string_equal(dd_vulndb_debian_version("sid"), "sid");
	assert_null(dd_vulndb_debian_version("bogus"));
	dd_vulndb *db = open_db();
	dd_vulndb_import_stats st;
	import_ok(db, "debian", DATA "debian/osv-dev-debian_security_tracker_mock.json", &st);
	struct hits h = lookup(db, "Debian:12", "apparmor");
	assert_true(h.n >= 2);
	assert_string_equal(h.text[0], "CVE-2014-1424 Debian:12 apparmor not-affected "
				       "urgency=unimportant sev=debian/distro/unimportant");
	assert_string_equal(h.text[1], "CVE-2016-1585 Debian:12 apparmor affected "
				       "urgency=unimportant [ECOSYSTEM introduced=0] "
				       "sev=debian/distro/unimportant");
	dd_vulndb_close(db);
	unlink(dbpath);
}

static void test_debian_text_lists(void **state)
{
	(void)state;
	dd_vulndb *db = open_db();
	dd_vulndb_import_stats st;
	import_ok(db, "cve-list", DATA "debian/list/CVE-list", &st);
	assert_string_equal(st.kind, "debian-list");
	/* Two placeholder CVE-2023-XXXX records are not stored; NOT-FOR-US and
	 * TODO-only records have no package. */
	assert_int_equal(st.advisories, 2);
	struct hits h = lookup(db, "Debian:sid", "putty");
	assert_int_equal(h.n, 1);
	assert_string_equal(h.text[0], "CVE-2021-36367 Debian:sid putty affected urgency=low "
				       "[ECOSYSTEM introduced=0 fixed=0.75-3] sev=debian/distro/low");
	h = lookup(db, "Debian:11", "putty");
	assert_int_equal(h.n, 1);
	assert_string_equal(h.text[0], "CVE-2021-36367 Debian:11 putty will-not-fix "
				       "[ECOSYSTEM introduced=0]");
	assert_int_equal(count(db, "SELECT count(*) FROM affected WHERE notes='Minor issue'"), 2);
	h = lookup(db, "Debian:sid", "ant");
	assert_int_equal(h.n, 1);
	assert_string_equal(h.text[0], "CVE-2021-36373 Debian:sid ant affected urgency=unimportant "
				       "[ECOSYSTEM introduced=0] sev=debian/distro/unimportant");

	import_ok(db, "dsa", DATA "debian/list/DSA-list-excerpt", &st);
	h = lookup(db, "Debian:3.0", "libpng3");
	assert_int_equal(h.n, 1);
	assert_string_equal(h.text[0], "DSA-140 Debian:3.0 libpng3 affected "
				       "[ECOSYSTEM introduced=0 fixed=1.2.1-1.1.woody.2] "
				       "aliases=CVE-2002-0660,CVE-2002-0728");
	assert_int_equal(count(db, "SELECT count(*) FROM advisories WHERE id='DSA-5970-1' AND "
				   "published='2025-07-31' AND summary='sope - security update'"), 1);
	assert_int_equal(lookup(db, "Debian:12", "sope").n, 1);
	/* DSAs without package lines store nothing. */
	assert_int_equal(count(db, "SELECT count(*) FROM advisories WHERE id='DSA-2819-1'"), 0);

	/* A malformed header is skipped and named; the good record stays. */
	import_ok(db, "dla", DATA "debian/list/DLA-list-malformed", &st);
	assert_int_equal(st.skipped, 1);
	assert_non_null(strstr(st.last_error, "MALFORMED HEADER"));
	assert_int_equal(lookup(db, "Debian:9", "thunderbird").n, 1);
	dd_vulndb_close(db);
	unlink(dbpath);
}

static void test_ubuntu_cve_tracker(void **state)
{
	(void)state;
	dd_vulndb *db = open_db();
	dd_vulndb_import_stats st;
	import_ok(db, "uct", DATA "ubuntu/CVE-2005-4890", &st);
	assert_string_equal(st.kind, "ubuntu-uct");
	assert_int_equal(st.advisories, 1);
	/* precise/esm is Ubuntu Pro 12.04 LTS; "needed" = affected, no fix. */
	struct hits h = lookup(db, "Ubuntu:Pro:12.04:LTS", "shadow");
	assert_int_equal(h.n, 1);
	assert_string_equal(h.text[0], "CVE-2005-4890 Ubuntu:Pro:12.04:LTS shadow affected "
				       "urgency=low [ECOSYSTEM introduced=0] sev=ubuntu/distro/low "
				       "sev=nvd/CVSS_V3/7.8/HIGH");
	h = lookup(db, "Ubuntu:12.04:LTS", "shadow");
	assert_int_equal(h.n, 1);
	assert_non_null(strstr(h.text[0], "shadow end-of-life urgency=low [ECOSYSTEM introduced=0]"));
	assert_int_equal(lookup(db, "Ubuntu:18.04:LTS", "sudo").n, 1);
	assert_int_equal(count(db, "SELECT count(*) FROM advisories WHERE published="
				   "'2019-11-04T19:15:00Z'"), 1);
	/* The five References: URLs of the file. */
	assert_int_equal(count(db, "SELECT count(*) FROM refs"), 5);
	assert_int_equal(count(db, "SELECT count(*) FROM refs WHERE url='http://www.openwall.com/"
				   "lists/oss-security/2011/06/02/3'"), 1);

	import_ok(db, "uct2", DATA "ubuntu/include_pending", &st);
	h = lookup(db, "Ubuntu:18.04:LTS", "linux-oem");
	assert_int_equal(h.n, 1);
	assert_non_null(strstr(h.text[0], "[ECOSYSTEM introduced=0 fixed=4.15.0-1080.90]"));
	h = lookup(db, "Ubuntu:19.10", "linux-oem"); /* pending: not released yet */
	assert_int_equal(h.n, 1);
	assert_non_null(strstr(h.text[0], "linux-oem affected urgency=low [ECOSYSTEM introduced=0]"));
	/* DNE lines and upstream/devel are not stored. */
	assert_int_equal(count(db, "SELECT count(*) FROM affected WHERE package='linux-oem'"), 3);
	dd_vulndb_close(db);
	unlink(dbpath);
}

struct sevs {
	int n;
	char text[8][256];
};

static int collect_sev(const char *advisory, const char *source, const dd_vuln_severity *s,
		       void *ctx, dd_error *err)
{
	struct sevs *v = ctx;
	(void)err;
	if (v->n < 8)
		snprintf(v->text[v->n++], sizeof(v->text[0]), "%s %s %s %s %.1f %s", advisory, source,
			 s->source ? s->source : "-", s->type, s->has_score ? s->score : -1.0,
			 s->rating ? s->rating : "-");
	return 0;
}

static void test_cve_records_enrich(void **state)
{
	(void)state;
	dd_vulndb *db = open_db();
	dd_vulndb_import_stats st;
	dd_error e = DD_ERROR_INIT;
	struct sevs v;

	import_ok(db, "nvd", DATA "cve/nvd-CVE-2024-3094.json", &st);
	assert_string_equal(st.kind, "cve");
	assert_int_equal(st.advisories, 1);
	assert_int_equal(st.affected, 0);
	import_ok(db, "cvelist", DATA "cve/cve5-CVE-2021-44228.json", &st);
	import_ok(db, "ghsa", DATA "osv/GHSA-jfh8-c2jp-5v3q.json", &st);

	memset(&v, 0, sizeof(v));
	assert_int_equal(dd_vulndb_cve_severities(db, "CVE-2024-3094", collect_sev, &v, &e), 0);
	assert_int_equal(v.n, 2);
	assert_string_equal(v.text[0], "CVE-2024-3094 nvd secalert@redhat.com CVSS_V3 10.0 CRITICAL");
	assert_string_equal(v.text[1], "CVE-2024-3094 nvd nvd@nist.gov CVSS_V3 10.0 CRITICAL");
	/* Log4Shell: CISA's ADP score from the CVE record, and GitHub's (alias). */
	memset(&v, 0, sizeof(v));
	assert_int_equal(dd_vulndb_cve_severities(db, "CVE-2021-44228", collect_sev, &v, &e), 0);
	assert_int_equal(v.n, 3);
	assert_string_equal(v.text[0], "CVE-2021-44228 cvelist CISA-ADP CVSS_V3 10.0 CRITICAL");
	assert_string_equal(v.text[1], "GHSA-jfh8-c2jp-5v3q ghsa GHSA CVSS_V3 10.0 CRITICAL");
	assert_string_equal(v.text[2], "GHSA-jfh8-c2jp-5v3q ghsa GHSA distro -1.0 CRITICAL");
	assert_int_equal(count(db, "SELECT count(*) FROM advisories WHERE id='CVE-2021-44228' AND "
				   "published='2021-12-10T00:00:00.000Z'"), 1);
	dd_vulndb_close(db);
	unlink(dbpath);
}

/* ---- malformed input ----------------------------------------------------- */

static int import_text(dd_vulndb *db, const char *source, const char *text, int strict,
		       dd_vulndb_import_stats *st, dd_error *e)
{
	dd_vulndb_import_opts o = { source, strict, 0 };
	return dd_vulndb_import_buffer(db, "mem.json", text, strlen(text), &o, st, e);
}

static void test_malformed_records(void **state)
{
	(void)state;
	dd_vulndb *db = open_db();
	dd_vulndb_import_stats st;
	dd_error e = DD_ERROR_INIT;

	/* Not a feed at all, truncated JSON, bad YAML: DD_EINPUT naming the file. */
	assert_int_equal(import_text(db, "x", "{\"hello\": 1}", 0, &st, &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, "mem.json"));
	assert_int_equal(import_text(db, "x", "{\"id\": \"GO-1\", \"affected\": [", 0, &st, &e),
			 DD_EINPUT);
	assert_non_null(strstr(e.msg, "not valid JSON"));
	assert_int_equal(import_text(db, "x", "a: [1, 2\n", 0, &st, &e), DD_EINPUT);
	assert_int_equal(import_text(db, "x", "", 0, &st, &e), DD_EINPUT);
	assert_int_equal(import_text(db, "x", "a: &x 1\nb: *x\n", 0, &st, &e), DD_EINPUT);

	/* One good record, one with wrong types, one unknown ecosystem entry,
	 * one with a bad event: good ones stored, bad ones named and counted. */
	const char *mixed =
		"[{\"id\":\"OK-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[{\"package\":"
		"{\"ecosystem\":\"npm\",\"name\":\"left-pad\"},\"ranges\":[{\"type\":\"SEMVER\","
		"\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"1.0.1\"}]}]}]},"
		"{\"id\":\"BAD-TYPES\",\"affected\":\"everything\"},"
		"{\"id\":\"BAD-ECO\",\"affected\":[{\"package\":{\"ecosystem\":\"Nonexistent\","
		"\"name\":\"x\"}},{\"package\":{\"ecosystem\":\"npm\",\"name\":\"y\"}}]},"
		"{\"id\":\"BAD-EVENT\",\"affected\":[{\"package\":{\"ecosystem\":\"npm\",\"name\":"
		"\"z\"},\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"0\","
		"\"fixed\":\"1\"}]}]}]},"
		"{\"id\":\"BAD-RANGE\",\"affected\":[{\"package\":{\"ecosystem\":\"npm\",\"name\":"
		"\"w\"},\"ranges\":[{\"type\":\"WEIRD\",\"events\":[{\"introduced\":\"0\"}]}]}]},"
		"{\"id\":42, \"modified\": \"x\"}]";
	assert_int_equal(import_text(db, "mixed", mixed, 0, &st, &e), 0);
	assert_int_equal(st.records, 6);
	assert_int_equal(st.advisories, 2); /* OK-1, BAD-ECO (minus its bad entry) */
	assert_int_equal(st.affected, 2);
	assert_int_equal(st.skipped, 5);
	assert_int_equal(lookup(db, "npm", "left-pad").n, 1);
	assert_int_equal(lookup(db, "npm", "y").n, 1);
	assert_int_equal(lookup(db, "npm", "z").n, 0); /* rolled back with its record */
	assert_int_equal(count(db, "SELECT count(*) FROM ranges"), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM advisories WHERE id LIKE 'BAD-T%'"), 0);

	/* A record that fails late, after rows in every table: none of them stay. */
	{
		const char *late =
			"[{\"id\":\"G-1\",\"aliases\":[\"CVE-1\"],\"affected\":[{\"package\":"
			"{\"ecosystem\":\"npm\",\"name\":\"g\"},\"versions\":[\"1\"]}]},"
			"{\"id\":\"LATE-1\",\"aliases\":[\"CVE-2\",\"GHSA-x\"],\"references\":"
			"[{\"type\":\"WEB\",\"url\":\"https://x\"}],\"severity\":[{\"type\":"
			"\"CVSS_V3\",\"score\":\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"}],"
			"\"affected\":[{\"package\":{\"ecosystem\":\"npm\",\"name\":\"l1\"},"
			"\"versions\":[\"1\",\"2\"],\"severity\":[{\"type\":\"Ubuntu\",\"score\":"
			"\"high\"}],\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":"
			"\"0\"},{\"fixed\":\"2\"}]}]},{\"package\":{\"ecosystem\":\"npm\",\"name\":"
			"\"l2\"},\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":"
			"\"0\"},{\"fixed\":7}]}]}]},"
			"{\"id\":\"G-2\",\"affected\":[{\"package\":{\"ecosystem\":\"npm\","
			"\"name\":\"g2\"},\"ranges\":[{\"type\":\"SEMVER\",\"events\":"
			"[{\"introduced\":\"0\"}]}]}]}]";
		int64_t before[7], after[7];
		static const char *const tables[7] = {
			"SELECT count(*) FROM advisories", "SELECT count(*) FROM aliases",
			"SELECT count(*) FROM refs", "SELECT count(*) FROM severities",
			"SELECT count(*) FROM affected", "SELECT count(*) FROM ranges",
			"SELECT count(*) FROM range_events" };
		for (int i = 0; i < 7; i++)
			before[i] = count(db, tables[i]);
		assert_int_equal(import_text(db, "late", late, 0, &st, &e), 0);
		assert_int_equal(st.skipped, 1);
		assert_non_null(strstr(st.last_error, "LATE-1"));
		for (int i = 0; i < 7; i++)
			after[i] = count(db, tables[i]);
		/* G-1: 1 advisory, 1 alias, 1 affected (+1 versions row); G-2: 1
		 * advisory, 1 affected, 1 range, 1 event. */
		assert_int_equal(after[0] - before[0], 2);
		assert_int_equal(after[1] - before[1], 1);
		assert_int_equal(after[2] - before[2], 0);
		assert_int_equal(after[3] - before[3], 0);
		assert_int_equal(after[4] - before[4], 2);
		assert_int_equal(after[5] - before[5], 1);
		assert_int_equal(after[6] - before[6], 1);
		assert_int_equal(count(db, "SELECT count(*) FROM versions v JOIN affected a ON "
					   "a.pk=v.affected_id WHERE a.package='g'"), 1);
		assert_int_equal(count(db, "SELECT count(*) FROM versions WHERE affected_id NOT IN "
					   "(SELECT pk FROM affected)"), 0);
		assert_int_equal(lookup(db, "npm", "g2").n, 1);
		assert_int_equal(lookup(db, "npm", "l1").n, 0);
	}

	/* Strict mode: the same input fails and stores nothing new. */
	assert_int_equal(import_text(db, "mixed", mixed, 1, &st, &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, "BAD-TYPES"));
	assert_int_equal(lookup(db, "npm", "y").n, 1); /* previous import intact */

	/* Only malformed records: the source is left as it was. */
	assert_int_equal(import_text(db, "mixed", "{\"id\":\"X\",\"affected\":7}", 0, &st, &e),
			 DD_EINPUT);
	assert_non_null(strstr(e.msg, "malformed"));
	assert_int_equal(lookup(db, "npm", "left-pad").n, 1);

	/* Secdb and Debian with wrong types. */
	assert_int_equal(import_text(db, "s", "{\"distroversion\":\"v3.9\",\"packages\":["
					      "{\"pkg\":{\"name\":\"a\",\"secfixes\":{\"1-r0\":"
					      "[\"CVE-1\", 7, \"\"]}}},{\"pkg\":{\"name\":5}},"
					      "{\"pkg\":{\"name\":\"b\",\"secfixes\":\"no\"}}]}",
				     0, &st, &e), 0);
	assert_int_equal(st.affected, 1);
	assert_int_equal(st.skipped, 4);
	assert_int_equal(import_text(db, "d", "{\"p\":{\"CVE-1\":{\"releases\":{\"bookworm\":"
					      "{\"status\":\"resolved\",\"fixed_version\":\"1.0\"},"
					      "\"narnia\":{\"status\":\"open\"},\"trixie\":{\"status\":"
					      "\"weird\"},\"sid\":{\"status\":5}}}},\"q\":7}",
				     0, &st, &e), 0);
	assert_int_equal(st.affected, 1);
	assert_int_equal(st.skipped, 4);
	assert_non_null(strstr(st.last_error, "mem.json"));

	/* Debian lists: bad release, unknown tag, unknown release, no name. */
	assert_int_equal(import_text(db, "l", "CVE-2020-0001 (x)\n\t[bookworm - a 1.0\n"
					      "\t[bookworm] - b <weird>\n\t[narnia] - c 1.0\n"
					      "\t-\n\t[bookworm] - d 2.0 (high**; bug #1)\n", 0,
				     &st, &e), 0);
	assert_int_equal(st.affected, 1);
	assert_int_equal(st.skipped, 4);
	assert_int_equal(count(db, "SELECT count(*) FROM affected WHERE package='d' AND "
				   "urgency='high**' AND ecosystem='Debian:12'"), 1);
	/* Ubuntu tracker: unknown release and status are skipped and named. */
	assert_int_equal(import_text(db, "u", "Candidate: CVE-2020-0003\nPriority: high\n"
					      "narnia_a: needed\nbionic_b: exploded\n"
					      "focal_c: released (1.0-1)\n", 0, &st, &e), 0);
	assert_int_equal(st.affected, 1);
	assert_int_equal(st.skipped, 2);
	assert_int_equal(import_text(db, "u", "Candidate: nonsense\n", 0, &st, &e), DD_EINPUT);
	/* Priority_<pkg> overrides the CVE's priority for that package. */
	assert_int_equal(import_text(db, "u", "Candidate: CVE-2020-0004\nPriority: high\n"
					      "Patches_x:\nPriority_x: low\nfocal_x: needed\n"
					      "Patches_y:\nfocal_y: needed\n", 0, &st, &e), 0);
	struct hits h = lookup(db, "Ubuntu:20.04:LTS", "x");
	assert_int_equal(h.n, 1);
	assert_string_equal(h.text[0], "CVE-2020-0004 Ubuntu:20.04:LTS x affected urgency=low "
				       "[ECOSYSTEM introduced=0] sev=ubuntu/distro/high "
				       "sev=ubuntu/distro/low");
	h = lookup(db, "Ubuntu:20.04:LTS", "y");
	assert_string_equal(h.text[0], "CVE-2020-0004 Ubuntu:20.04:LTS y affected urgency=high "
				       "[ECOSYSTEM introduced=0] sev=ubuntu/distro/high");
	/* CVE records: a bad metric skips the record, naming the CVE. */
	assert_int_equal(import_text(db, "c", "{\"format\":\"NVD_CVE\",\"vulnerabilities\":["
					      "{\"cve\":{\"id\":\"CVE-1\",\"metrics\":{\"cvssMetricV31\":"
					      "[{\"cvssData\":{\"vectorString\":7}}]}}},{\"cve\":{\"id\":"
					      "\"CVE-2\"}},{\"cve\":5}]}", 0, &st, &e), 0);
	assert_int_equal(st.advisories, 1);
	assert_int_equal(st.skipped, 2);
	/* Found by fuzz_debian_tracker: a blank-but-indented line in a record. */
	assert_int_equal(import_text(db, "l", "CVE-2020-0002 (x)\n    \n\t- e 1.0\n", 0, &st,
				     &e), 0);
	assert_int_equal(st.affected, 1);
	dd_vulndb_close(db);
	unlink(dbpath);
}

/* ---- atomicity ------------------------------------------------------------ */

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void test_failed_import_keeps_previous_data(void **state)
{
	(void)state;
	char dir[160], p[200];
	dd_vulndb_import_stats st;
	dd_error e = DD_ERROR_INIT;
	dd_vulndb *db = open_db();

	import_ok(db, "feed", DATA "osv/GO-2024-2687.json", &st);
	assert_int_equal(lookup(db, "Go", "stdlib").n, 1);

	/* A directory whose last file is garbage, imported strictly: fails. */
	snprintf(dir, sizeof(dir), "%s/feed", tmpdir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(p, sizeof(p), "%s/a.json", dir);
	write_file(p, "{\"id\":\"NEW-1\",\"affected\":[{\"package\":{\"ecosystem\":\"npm\","
		      "\"name\":\"fresh\"}}]}");
	snprintf(p, sizeof(p), "%s/zz.json", dir);
	write_file(p, "garbage, not JSON {");
	assert_int_equal(import(db, "feed", dir, 1, &st, &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, "zz.json"));
	/* Old contents intact, nothing of the new import visible. */
	assert_int_equal(lookup(db, "Go", "stdlib").n, 1);
	assert_int_equal(lookup(db, "npm", "fresh").n, 0);
	/* Also seen by a second connection (what a scan would open). */
	dd_vulndb *ro = NULL;
	assert_int_equal(dd_vulndb_open(&ro, dbpath, DD_VULNDB_RDONLY, &e), 0);
	assert_int_equal(lookup(ro, "Go", "stdlib").n, 1);
	dd_vulndb_close(ro);

	/* Non-strict: the garbage file is skipped, the source replaced. */
	import_ok(db, "feed", dir, &st);
	assert_int_equal(st.skipped, 1);
	assert_int_equal(lookup(db, "Go", "stdlib").n, 0);
	assert_int_equal(lookup(db, "npm", "fresh").n, 1);

	/* A missing path and an empty directory fail without touching data. */
	assert_int_equal(import(db, "feed", "/nonexistent/feed.json", 0, &st, &e), DD_EINPUT);
	snprintf(p, sizeof(p), "%s/empty", tmpdir);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(import(db, "feed", p, 0, &st, &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, "no vulnerability feed files"));
	assert_int_equal(lookup(db, "npm", "fresh").n, 1);

	/* Status reflects the last successful import. */
	dd_vulndb_status_info si;
	assert_int_equal(dd_vulndb_status(db, &si, &e), 0);
	assert_int_equal(si.n_sources, 1);
	assert_string_equal(si.sources[0].name, "feed");
	assert_int_equal(si.sources[0].advisories, 1);
	assert_int_equal(si.sources[0].skipped, 1);
	assert_non_null(si.sources[0].last_error);
	assert_true(si.sources[0].updated > 0);
	dd_vulndb_status_release(&si);
	dd_vulndb_close(db);
	unlink(dbpath);
}

static void test_sources_are_independent(void **state)
{
	(void)state;
	dd_vulndb *db = open_db();
	dd_vulndb_import_stats st;
	dd_error e = DD_ERROR_INIT;
	import_ok(db, "a", DATA "osv/GO-2024-2687.json", &st);
	import_ok(db, "b", DATA "osv/GO-2024-2687.json", &st);
	assert_int_equal(lookup(db, "Go", "stdlib").n, 2);
	import_ok(db, "a", DATA "osv/RUSTSEC-2023-0044.json", &st); /* replaces a only */
	struct hits h = lookup(db, "Go", "stdlib");
	assert_int_equal(h.n, 1);
	dd_vulndb_status_info si;
	assert_int_equal(dd_vulndb_status(db, &si, &e), 0);
	assert_int_equal(si.advisories, 2);
	assert_int_equal(si.n_sources, 2);
	dd_vulndb_status_release(&si);
	/* Replacing leaves no orphans below advisories. */
	assert_int_equal(count(db, "SELECT count(*) FROM ranges WHERE affected_id NOT IN "
				   "(SELECT pk FROM affected)"), 0);
	assert_int_equal(count(db, "SELECT count(*) FROM range_events WHERE range_id NOT IN "
				   "(SELECT pk FROM ranges)"), 0);
	dd_vulndb_close(db);
	unlink(dbpath);
}

/* The schema's CHECK lists are enforced by the store (the import connection
 * runs with ignore_check_constraints for speed): a value outside them is
 * DD_EINPUT and nothing is written. */
static void test_store_checks_schema_values(void **state)
{
	(void)state;
	dd_vulndb *db = open_db();
	dd_error e = DD_ERROR_INIT;
	dd_vuln_advisory_in a;
	dd_vuln_affected_in in;
	dd_vuln_severity sv;
	int64_t adv = 0, aff = 0, rg = 0;
	memset(&a, 0, sizeof(a));
	memset(&in, 0, sizeof(in));
	memset(&sv, 0, sizeof(sv));
	assert_int_equal(dd_vulndb_source_begin(db, "checks", NULL, NULL, &e), 0);
	a.id = "X-1";
	assert_int_equal(dd_vulndb_add_advisory(db, &a, DD_VULNDB_ADV_UNIQUE, &adv, &e), 0);
	assert_int_equal(dd_vulndb_add_alias(db, adv, "CVE-1", "sibling", &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, "sibling"));
	in.ecosystem = "npm";
	in.package = "p";
	in.status = "maybe";
	assert_int_equal(dd_vulndb_add_affected(db, adv, &in, &aff, &e), DD_EINPUT);
	in.status = DD_VULN_WILL_NOT_FIX;
	assert_int_equal(dd_vulndb_add_affected(db, adv, &in, &aff, &e), 0);
	assert_int_equal(dd_vulndb_add_range(db, aff, "RPM", NULL, &rg, &e), DD_EINPUT);
	assert_int_equal(dd_vulndb_add_range(db, aff, NULL, NULL, &rg, &e), DD_EINPUT);
	assert_int_equal(dd_vulndb_add_range(db, aff, "SEMVER", NULL, &rg, &e), 0);
	assert_int_equal(dd_vulndb_add_event(db, rg, "patched", "1.0", &e), DD_EINPUT);
	assert_int_equal(dd_vulndb_add_event(db, rg, "fixed", "1.0", &e), 0);
	/* version lists: the JSON text json_dumps() would write; bad UTF-8 refused */
	{
		const char *vl[] = { "1.0", "q\"b\\s/", "c\x01\x1f\t\n\x7f", "caf\xc3\xa9",
				     "\xf0\x9f\x98\x80" };
		const char *bad[] = { "ok", "\xc3(" };
		json_t *arr = json_array();
		for (size_t i = 0; i < 5; i++)
			json_array_append_new(arr, json_string(vl[i]));
		char *want = json_dumps(arr, JSON_COMPACT);
		json_decref(arr);
		assert_int_equal(dd_vulndb_add_versions(db, aff, bad, 2, &e), DD_EINPUT);
		assert_int_equal(dd_vulndb_add_versions(db, aff, vl, 5, &e), 0);
		assert_int_equal(count(db, "SELECT count(*) FROM versions"), 1);
		sqlite3_stmt *q = NULL;
		assert_int_equal(sqlite3_prepare_v2(dd_vulndb_sqlite(db), "SELECT list FROM versions",
						    -1, &q, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(q), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(q, 0), want);
		sqlite3_finalize(q);
		free(want);
	}
	sv.type = "CVSS_V5";
	assert_int_equal(dd_vulndb_add_severity(db, adv, 0, &sv, &e), DD_EINPUT);
	sv.type = "distro";
	sv.rating = "high";
	assert_int_equal(dd_vulndb_add_severity(db, adv, 0, &sv, &e), 0);
	assert_int_equal(dd_vulndb_source_commit(db, NULL, &e), 0);
	assert_int_equal(count(db, "SELECT count(*) FROM aliases"), 0);
	assert_int_equal(count(db, "SELECT count(*) FROM affected"), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM affected WHERE status='will-not-fix'"), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM ranges"), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM range_events WHERE kind='fixed'"), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM severities"), 1);
	dd_vulndb_close(db);
	unlink(dbpath);
}

/* An incremental transaction keeps the source's rows; a record replaces
 * the stored advisory with its id (and every row below it), a second record
 * of the same id in the same transaction merges; delete removes one. */
static void test_incremental_replace_and_delete(void **state)
{
	(void)state;
	dd_vulndb *db = open_db();
	dd_vulndb_import_stats st;
	dd_error e = DD_ERROR_INIT;
	dd_vuln_advisory_in a;
	dd_vuln_affected_in in;
	int64_t adv = 0, adv2 = 0, aff = 0, rg = 0;
	int found = 0;
	import_ok(db, "s", DATA "osv/GO-2024-2687.json", &st);
	import_ok(db, "other", DATA "osv/GO-2024-2687.json", &st);
	int64_t refs0 = count(db, "SELECT count(*) FROM refs");
	int64_t total0 = count(db, "SELECT count(*) FROM advisories");
	memset(&a, 0, sizeof(a));
	memset(&in, 0, sizeof(in));
	assert_int_equal(dd_vulndb_source_begin_incremental(db, "s", NULL, NULL, &e), 0);
	a.id = "GO-2024-2687";
	a.summary = "replaced";
	assert_int_equal(dd_vulndb_add_advisory(db, &a, DD_VULNDB_ADV_UNIQUE, &adv, &e), 0);
	in.ecosystem = "Go";
	in.package = "example.com/new";
	assert_int_equal(dd_vulndb_add_affected(db, adv, &in, &aff, &e), 0);
	assert_int_equal(dd_vulndb_add_range(db, aff, "SEMVER", NULL, &rg, &e), 0);
	assert_int_equal(dd_vulndb_add_event(db, rg, "fixed", "1.2.3", &e), 0);
	assert_int_equal(dd_vulndb_add_reference(db, adv, "WEB", "https://example.com/x", &e), 0);
	/* the same id again in this transaction: merged (MERGE) or refused */
	assert_int_equal(dd_vulndb_add_advisory(db, &a, DD_VULNDB_ADV_MERGE, &adv2, &e), 0);
	assert_int_equal(adv2, adv);
	assert_int_equal(dd_vulndb_add_advisory(db, &a, DD_VULNDB_ADV_UNIQUE, &adv2, &e),
			 DD_EINPUT);
	a.id = "NEW-1";
	assert_int_equal(dd_vulndb_add_advisory(db, &a, DD_VULNDB_ADV_UNIQUE, &adv2, &e), 0);
	assert_int_equal(dd_vulndb_delete_advisory(db, "NEW-1", &found, &e), 0);
	assert_int_equal(found, 1);
	assert_int_equal(dd_vulndb_delete_advisory(db, "NOPE", &found, &e), 0);
	assert_int_equal(found, 0);
	dd_vulndb_source_meta meta;
	memset(&meta, 0, sizeof(meta));
	meta.cursor = "2026-11-21T00:00:00Z";
	assert_int_equal(dd_vulndb_source_commit(db, &meta, &e), 0);
	/* source s: the one replaced advisory, with only the new rows */
	assert_int_equal(count(db, "SELECT count(*) FROM advisories"), total0);
	assert_int_equal(lookup(db, "Go", "stdlib").n, 1); /* source other only */
	assert_int_equal(lookup(db, "Go", "example.com/new").n, 1);
	assert_int_equal(count(db, "SELECT count(*) FROM advisories v JOIN sources s ON "
				   "s.id=v.source_id WHERE s.name='s' AND v.summary='replaced'"), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM aliases a JOIN advisories v ON "
				   "v.pk=a.advisory_id JOIN sources s ON s.id=v.source_id "
				   "WHERE s.name='s'"), 0);
	assert_int_equal(count(db, "SELECT count(*) FROM refs"), refs0 / 2 + 1);
	assert_int_equal(count(db, "SELECT count(*) FROM sources WHERE name='s' AND "
				   "cursor='2026-11-21T00:00:00Z'"), 1);
	/* a full import clears the cursor */
	import_ok(db, "s", DATA "osv/GO-2024-2687.json", &st);
	assert_int_equal(count(db, "SELECT count(*) FROM sources WHERE name='s' AND "
				   "cursor IS NULL"), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM refs"), refs0);
	dd_vulndb_close(db);
	unlink(dbpath);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema_version_and_migrations),
		cmocka_unit_test(test_cvss_scores_match_nvd),
		cmocka_unit_test(test_osv_go_record),
		cmocka_unit_test(test_osv_ghsa_log4j),
		cmocka_unit_test(test_osv_withdrawn_and_ubuntu_priority),
		cmocka_unit_test(test_osv_almalinux_and_rustsec),
		cmocka_unit_test(test_osv_yaml_pypa),
		cmocka_unit_test(test_osv_zip_bundle),
		cmocka_unit_test(test_secdb_alpine_json),
		cmocka_unit_test(test_secdb_wolfi_not_affected),
		cmocka_unit_test(test_secdb_yaml_aliases),
		cmocka_unit_test(test_debian_tracker_json),
		cmocka_unit_test(test_debian_open_and_codenames),
		cmocka_unit_test(test_debian_text_lists),
		cmocka_unit_test(test_ubuntu_cve_tracker),
		cmocka_unit_test(test_cve_records_enrich),
		cmocka_unit_test(test_malformed_records),
		cmocka_unit_test(test_failed_import_keeps_previous_data),
		cmocka_unit_test(test_sources_are_independent),
		cmocka_unit_test(test_store_checks_schema_values),
		cmocka_unit_test(test_incremental_replace_and_delete),
	};
	return cmocka_run_group_tests_name("vulndb", tests, setup, teardown);
}
