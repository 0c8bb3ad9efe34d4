/* Unit tests for `db update` support in src/vulndb: the sources list
 * (parse, defaults, errors), the CSAF importer on a real Red Hat VEX
 * document and malformed variants, update failures that must keep the
 * previous data, and the schema-2 source columns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/log.h"
#include "util/reader.h"
#include "vulndb/changes.h"
#include "vulndb/import.h"
#include "vulndb/sources.h"
#include "vulndb/store.h"
#include "vulndb/update.h"

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
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/dd-vupd-XXXXXX");
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

static int64_t count(dd_vulndb *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int64_t n = -1;
	assert_int_equal(sqlite3_prepare_v2(dd_vulndb_sqlite(db), sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

static void test_sources_parse(void **state)
{
	static const char text[] =
		"# comment\n\n"
		"go   osv   https://osv-vulnerabilities.storage.googleapis.com/Go/all.zip\n"
		"  deb\tdebian-tracker https://security-tracker.debian.org/tracker/data/json disabled\r\n"
		"rh - https://x.example/vex/archive_latest.txt latest changes\n"
		"last auto http://127.0.0.1:1/x enabled";
	dd_vulndb_sources s;
	dd_error e = DD_ERROR_INIT;
	(void)state;
	assert_int_equal(dd_vulndb_sources_parse(&s, text, strlen(text), "f", &e), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.v[0].name, "go");
	assert_string_equal(s.v[0].kind, "osv");
	assert_true(s.v[0].enabled);
	assert_false(s.v[0].latest);
	assert_string_equal(s.v[1].url, "https://security-tracker.debian.org/tracker/data/json");
	assert_false(s.v[1].enabled);
	assert_null(s.v[2].kind);
	assert_true(s.v[2].latest);
	assert_true(s.v[2].changes);
	assert_false(s.v[0].changes);
	assert_null(s.v[3].kind);
	assert_true(s.v[3].enabled);
	assert_non_null(dd_vulndb_sources_find(&s, "rh"));
	assert_null(dd_vulndb_sources_find(&s, "nope"));
	dd_vulndb_sources_release(&s);
	dd_vulndb_sources_release(&s); /* twice is harmless */
}

static void test_sources_errors(void **state)
{
	static const char *const bad[] = {
		"a osv\n",                                  /* no URL */
		"a osv ftp://x/y\n",                        /* scheme */
		"a osv https://x/y\na osv https://x/z\n",   /* twice */
		"a osv https://x/y sometimes\n",            /* unknown word */
		"a/b osv https://x/y\n",                    /* name */
		"a osv https://x/y 1 2 3 4\n",              /* too many */
		"a os$v https://x/y\n",                     /* kind */
		"a csaf-vex https://x/y changes\n",         /* changes without latest */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dd_vulndb_sources s;
		dd_error e = DD_ERROR_INIT;
		assert_int_equal(dd_vulndb_sources_parse(&s, bad[i], strlen(bad[i]), "f", &e),
				 DD_EINPUT);
		assert_non_null(strstr(e.msg, "f:"));
		assert_int_equal(s.n, 0);
	}
}

static void test_sources_default(void **state)
{
	dd_vulndb_sources s;
	dd_error e = DD_ERROR_INIT;
	const dd_vulndb_source_def *d;
	(void)state;
	assert_int_equal(dd_vulndb_sources_default(&s, &e), 0);
	assert_true(s.n > 30);
	d = dd_vulndb_sources_find(&s, "debian-tracker");
	assert_non_null(d);
	assert_string_equal(d->url, "https://security-tracker.debian.org/tracker/data/json");
	d = dd_vulndb_sources_find(&s, "osv-Go");
	assert_non_null(d);
	assert_string_equal(d->url, "https://osv-vulnerabilities.storage.googleapis.com/Go/all.zip");
	d = dd_vulndb_sources_find(&s, "redhat-csaf-vex");
	assert_non_null(d);
	assert_true(d->latest);
	assert_true(d->changes);
	assert_string_equal(d->kind, "csaf-vex");
	d = dd_vulndb_sources_find(&s, "nvd-2024");
	assert_non_null(d);
	assert_string_equal(d->url, "https://nvd.nist.gov/feeds/json/cve/2.0/nvdcve-2.0-2024.json.gz");
	d = dd_vulndb_sources_find(&s, "osv-Debian");
	assert_non_null(d);
	assert_false(d->enabled);
	for (size_t i = 0; i < s.n; i++)
		assert_int_equal(strncmp(s.v[i].url, "https://", 8), 0);
	dd_vulndb_sources_release(&s);
}

static void test_csaf_vex(void **state)
{
	dd_vulndb *db = NULL;
	dd_error e = DD_ERROR_INIT;
	const char *p = DATA "csaf/cve-2024-0727.json";
	dd_vulndb_import_opts o = { "rh", 1, 0, NULL, NULL, NULL, "csaf-vex" };
	dd_vulndb_import_stats st;
	(void)state;
	assert_int_equal(dd_vulndb_open(&db, dbpath, 0, &e), 0);
	assert_int_equal(dd_vulndb_import_paths(db, &p, 1, &o, &st, &e), 0);
	assert_string_equal(st.kind, "csaf-vex");
	assert_int_equal(st.advisories, 1);
	assert_int_equal(count(db, "SELECT count(*) FROM affected a WHERE ecosystem='Red Hat:9' "
				   "AND package='openssl' AND status='affected' AND EXISTS (SELECT 1 "
				   "FROM ranges r JOIN range_events e ON e.range_id=r.pk WHERE "
				   "r.affected_id=a.pk AND e.kind='fixed' AND e.version='1:3.0.7-27.el9')"),
			 1);
	assert_int_equal(count(db, "SELECT count(*) FROM affected WHERE ecosystem='Red Hat:6' AND "
				   "package='openssl' AND status='end-of-life'"), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM affected WHERE ecosystem='Red Hat:8' AND "
				   "package='edk2-ovmf' AND status='will-not-fix'"), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM severities WHERE type='CVSS_V3' AND "
				   "score=5.5 AND source='redhat'"), 1);
	/* A VEX named as another kind is refused. */
	dd_vulndb_import_opts o2 = { "rh2", 0, 0, NULL, NULL, NULL, "osv" };
	assert_int_equal(dd_vulndb_import_paths(db, &p, 1, &o2, &st, &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, "expected a osv feed"));
	assert_int_equal(count(db, "SELECT count(*) FROM sources WHERE name='rh2' AND records>0"), 0);
	dd_vulndb_close(db);
}

static void test_csaf_malformed(void **state)
{
	static const char *const docs[] = {
		"{\"document\":{\"category\":\"csaf_vex\"}}",
		"{\"document\":{\"category\":\"csaf_vex\"},\"vulnerabilities\":{}}",
		"{\"document\":{\"category\":\"csaf_vex\"},\"vulnerabilities\":[1,{\"cve\":2}]}",
		"{\"document\":{\"category\":\"csaf_vex\"},\"product_tree\":{\"branches\":[{\"product\":"
		"{\"product_id\":\"p\",\"product_identification_helper\":{\"cpe\":\"cpe:/o:redhat:"
		"enterprise_linux:9\"}}},{\"product\":{\"product_id\":\"c\",\"product_identification_"
		"helper\":{\"purl\":\"pkg:rpm/redhat/%41b@1-2?epoch=3\"}}}],\"relationships\":[{"
		"\"full_product_name\":{\"product_id\":\"p:c\"},\"product_reference\":\"c\","
		"\"relates_to_product_reference\":\"p\"},7]},\"vulnerabilities\":[{\"cve\":\"CVE-1\","
		"\"product_status\":{\"fixed\":[\"p:c\",\"p:c\",3,\"nope\"],\"known_affected\":"
		"[\"p:c\"]},\"threats\":[{\"category\":\"impact\",\"details\":\"Low\"}],"
		"\"remediations\":[{\"category\":\"no_fix_planned\",\"product_ids\":[\"p:c\"]}]}]}",
		"{\"document\":{\"category\":\"csaf_security_advisory\"},\"vulnerabilities\":[]}",
	};
	dd_vulndb *db = NULL;
	dd_error e = DD_ERROR_INIT;
	dd_vulndb_import_opts o = { "m", 0, 0, NULL, NULL, NULL, NULL };
	dd_vulndb_import_stats st;
	(void)state;
	assert_int_equal(dd_vulndb_open(&db, dbpath, 0, &e), 0);
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		int rc = dd_vulndb_import_buffer(db, "x.json", docs[i], strlen(docs[i]), &o, &st, &e);
		assert_true(rc == 0 || rc == DD_EINPUT);
	}
	/* The well-formed one (index 3): package "Ab" (decoded), fixed 3:1-2
	 * once, and a will-not-fix entry. */
	assert_int_equal(dd_vulndb_import_buffer(db, "x.json", docs[3], strlen(docs[3]), &o, &st,
						 &e), 0);
	assert_int_equal(count(db, "SELECT count(*) FROM affected WHERE package='Ab' AND "
				   "ecosystem='Red Hat:9'"), 2);
	assert_int_equal(count(db, "SELECT count(*) FROM range_events WHERE version='3:1-2'"), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM affected WHERE status='will-not-fix' AND "
				   "urgency='Low'"), 1);
	dd_vulndb_close(db);
}

/* An update whose source cannot be reached keeps the source's rows and
 * records the error; the DB stays a valid, single file. */
static void test_update_failure_keeps_data(void **state)
{
	dd_vulndb *db = NULL;
	dd_error e = DD_ERROR_INIT;
	const char *p = DATA "osv";
	dd_vulndb_import_opts o = { "go", 0, 0, NULL, NULL, NULL, NULL };
	dd_vulndb_import_stats st;
	dd_vulndb_sources s;
	dd_vulndb_update_opts uo;
	dd_vulndb_update_report rep;
	static const char list[] = "go osv http://127.0.0.1:1/all.zip\n";
	const char *only[] = { "go" };
	(void)state;
	assert_int_equal(dd_vulndb_open(&db, dbpath, 0, &e), 0);
	assert_int_equal(dd_vulndb_import_paths(db, &p, 1, &o, &st, &e), 0);
	int64_t before = count(db, "SELECT count(*) FROM advisories");
	assert_true(before > 0);
	dd_vulndb_close(db);

	assert_int_equal(dd_vulndb_sources_parse(&s, list, strlen(list), "l", &e), 0);
	memset(&uo, 0, sizeof(uo));
	uo.db_path = dbpath;
	uo.sources = &s;
	uo.http.allow_http = 1;
	uo.http.max_retries = 0;
	uo.http.connect_timeout = 2;
	assert_int_not_equal(dd_vulndb_update(&uo, &rep, &e), 0);
	assert_int_equal(rep.n, 1);
	assert_int_equal(rep.v[0].outcome, DD_VU_FAILED);
	dd_vulndb_update_report_release(&rep);
	/* unknown --source */
	const char *bad[] = { "nope" };
	uo.only = bad;
	uo.n_only = 1;
	assert_int_equal(dd_vulndb_update(&uo, &rep, &e), DD_EUSAGE);
	dd_vulndb_update_report_release(&rep);
	uo.only = only;
	dd_vulndb_sources_release(&s);

	assert_int_equal(dd_vulndb_open(&db, dbpath, DD_VULNDB_RDONLY, &e), 0);
	assert_int_equal(count(db, "SELECT count(*) FROM advisories"), before);
	dd_vulndb_status_info si;
	assert_int_equal(dd_vulndb_status(db, &si, &e), 0);
	assert_int_equal(si.schema_version, DD_VULNDB_SCHEMA_VERSION);
	assert_int_equal(si.n_sources, 1);
	assert_non_null(si.sources[0].update_error);
	assert_true(si.sources[0].checked > 0);
	assert_true(si.sources[0].updated > 0);
	dd_vulndb_status_release(&si);
	dd_vulndb_close(db);
	char side[200];
	snprintf(side, sizeof(side), "%s.update-new", dbpath);
	assert_int_not_equal(access(side, F_OK), 0);
}

/* A schema-1 DB (before db update existed) is still readable, and a
 * writable open migrates it (through 2 and 3). */
static void test_schema1_compat(void **state)
{
	sqlite3 *raw = NULL;
	dd_vulndb *db = NULL;
	dd_error e = DD_ERROR_INIT;
	dd_vulndb_status_info si;
	(void)state;
	assert_int_equal(dd_vulndb_open(&db, dbpath, 0, &e), 0);
	dd_vulndb_close(db);
	assert_int_equal(sqlite3_open(dbpath, &raw), SQLITE_OK);
	assert_int_equal(sqlite3_exec(raw, "ALTER TABLE sources DROP COLUMN checked_at; "
					   "ALTER TABLE sources DROP COLUMN update_error; "
					   "ALTER TABLE sources DROP COLUMN cursor; "
					   "DELETE FROM migrations WHERE version>=2; "
					   "PRAGMA user_version=1", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
	assert_int_equal(dd_vulndb_open(&db, dbpath, DD_VULNDB_RDONLY, &e), 0);
	assert_int_equal(dd_vulndb_status(db, &si, &e), 0);
	assert_int_equal(si.schema_version, 1);
	dd_vulndb_status_release(&si);
	dd_vulndb_close(db);
	assert_int_equal(dd_vulndb_open(&db, dbpath, 0, &e), 0);
	assert_int_equal(count(db, "PRAGMA user_version"), DD_VULNDB_SCHEMA_VERSION);
	assert_int_equal(count(db, "SELECT count(*) FROM pragma_table_info('sources') WHERE "
				   "name IN ('update_error', 'cursor')"), 2);
	assert_int_equal(count(db, "SELECT count(*) FROM migrations"), DD_VULNDB_SCHEMA_VERSION);
	dd_vulndb_close(db);
}

/* An import into an empty DB builds the lookup indexes at commit; a
 * failed one leaves them as they were. */
static void test_bulk_indexes(void **state)
{
	static const char *const q = "SELECT count(*) FROM sqlite_master WHERE type='index' AND "
				     "name IN ('advisories_id','aliases_alias','affected_package',"
				     "'ranges_affected','severities_advisory')";
	dd_vulndb *db = NULL;
	dd_error e = DD_ERROR_INIT;
	dd_vulndb_import_opts o = { "x", 0, 0, NULL, NULL, NULL, NULL };
	dd_vulndb_import_stats st;
	const char *bad = "{\"id\":1,\"affected\":[]}";
	const char *p = DATA "osv";
	(void)state;
	assert_int_equal(dd_vulndb_open(&db, dbpath, 0, &e), 0);
	assert_int_equal(count(db, q), 5);
	assert_int_equal(dd_vulndb_import_buffer(db, "bad.json", bad, strlen(bad), &o, &st, &e),
			 DD_EINPUT);
	assert_int_equal(count(db, q), 5);
	assert_int_equal(dd_vulndb_import_paths(db, &p, 1, &o, &st, &e), 0);
	assert_int_equal(count(db, q), 5);
	assert_int_equal(count(db, "SELECT count(*) FROM affected INDEXED BY affected_package "
				   "WHERE ecosystem='Go' AND package='golang.org/x/net'") > 0, 1);
	dd_vulndb_close(db);
	assert_int_equal(dd_vulndb_open(&db, dbpath, 0, &e), 0);
	sqlite3_stmt *s = NULL;
	assert_int_equal(sqlite3_prepare_v2(dd_vulndb_sqlite(db), "PRAGMA integrity_check", -1, &s,
					    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "ok");
	sqlite3_finalize(s);
	dd_vulndb_close(db);
}

/* Red Hat's changes.csv / deletions.csv (src/vulndb/changes.c). */
static void test_changes_csv(void **state)
{
	static const char text[] =
		"\"2024/cve-2024-0727.json\",\"2025-02-18T14:28:08+00:00\"\r\n"
		"\n"
		"2024/rhsa-2024_0010.json,2025-02-18T16:28:08+02:00\n"       /* unquoted, offset */
		"\"2023/cve-2023-1.json\",\"2025-01-01T00:00:00Z\"\n"
		"\"2024/cve-2024-0727.json\",\"2025-02-10T00:00:00.123+00:00\"\n" /* older twin */
		"\"../etc/passwd.json\",\"2025-03-01T00:00:00Z\"\n"       /* .. */
		"\"/abs.json\",\"2025-03-01T00:00:00Z\"\n"                 /* absolute */
		"\"a//b.json\",\"2025-03-01T00:00:00Z\"\n"                 /* // */
		"\"2024/x.txt\",\"2025-03-01T00:00:00Z\"\n"                /* not .json */
		"\"2024/sp ace.json\",\"2025-03-01T00:00:00Z\"\n"          /* blank */
		"\"2024/a.json\",\"2025-13-01T00:00:00Z\"\n"               /* month 13 */
		"\"2024/a.json\",\"2025-03-01T25:00:00Z\"\n"               /* hour 25 */
		"\"2024/a.json\",\"2025-03-01T00:00:00+0100\"\n"           /* zone */
		"\"2024/a.json\",\"2025-03-01T00:00:00Z\",\"x\"\n"         /* 3 fields */
		"\"2024/a.json\"\n"                                        /* 1 field */
		"\"2024/a.json,\"2025-03-01T00:00:00Z\"\n"                 /* quote */
		"\"2024/b.json\",\"2025-03-01\"";                          /* date only, no EOL */
	dd_vulndb_changes c;
	dd_error e = DD_ERROR_INIT;
	int64_t t;
	char id[64], ts[32];
	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(dd_vulndb_changes_parse(text, strlen(text), &c, &e), 0);
	assert_int_equal(c.n, 5);
	assert_int_equal(c.bad, 11);
	assert_string_equal(c.v[0].path, "2024/cve-2024-0727.json");
	assert_int_equal(c.v[0].ts, 1739888888);
	assert_int_equal(c.v[1].ts, 1739888888); /* 16:28:08+02:00 = 14:28:08Z */
	assert_int_equal(c.v[4].ts, 1740787200); /* 2025-03-01 */
	dd_vulndb_changes_keep_newer(&c, 1735689600); /* 2025-01-01T00:00:00Z: not newer */
	assert_int_equal(c.n, 3);
	assert_string_equal(c.v[0].path, "2024/b.json");
	assert_string_equal(c.v[1].path, "2024/cve-2024-0727.json");
	assert_int_equal(c.v[1].ts, 1739888888); /* the newer twin */
	assert_string_equal(c.v[2].path, "2024/rhsa-2024_0010.json");
	assert_non_null(dd_vulndb_changes_find(&c, "2024/b.json"));
	assert_null(dd_vulndb_changes_find(&c, "2023/cve-2023-1.json"));
	dd_vulndb_changes_release(&c);
	dd_vulndb_changes_release(&c);

	dd_vulndb_change_id("2024/cve-2024-0727.json", id, sizeof(id));
	assert_string_equal(id, "CVE-2024-0727");
	dd_vulndb_change_id("2024/rhsa-2024_0010.json", id, sizeof(id));
	assert_string_equal(id, "RHSA-2024:0010");
	dd_vulndb_change_id("rhba-2024_1.json", id, sizeof(id));
	assert_string_equal(id, "RHBA-2024:1");
	assert_int_equal(dd_vulndb_archive_date("https://x/vex/csaf_vex_2026-11-27.tar.zst", &t), 0);
	assert_int_equal(t, 1795737600);
	assert_int_equal(dd_vulndb_archive_date("https://x/2026-11-27/vex.tar.zst", &t), -1);
	dd_vulndb_time_format(1795737600, ts);
	assert_string_equal(ts, "2026-11-27T00:00:00Z");
	assert_int_equal(dd_vulndb_time_parse("1969-12-31T23:59:59Z", 20, &t), 0);
	assert_int_equal(t, -1);
	assert_int_equal(dd_vulndb_time_parse("2024-02-29T12:00:00-05:30", 25, &t), 0);
	assert_int_equal(t, 1709227800);
	assert_int_equal(dd_vulndb_time_parse("2024-02-29T12:00", 16, &t), -1);
	assert_int_equal(dd_vulndb_time_parse("", 0, &t), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_changes_csv),
		cmocka_unit_test(test_sources_parse),
		cmocka_unit_test(test_sources_errors),
		cmocka_unit_test(test_sources_default),
		cmocka_unit_test_setup_teardown(test_csaf_vex, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csaf_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_failure_keeps_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema1_compat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bulk_indexes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
