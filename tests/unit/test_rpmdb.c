/* Unit tests for the rpm database readers (src/inventory/rpmdb.c, rpmbdb.c,
 * rpmndb.c, rpmsqlite.c): the real databases in tests/data/rpm must give
 * exactly their expected package lists; damaged copies of them must give
 * warnings naming the record, never a crash or a hang. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "inventory/rpmdb.h"
#include "util/buf.h"
#include "util/log.h"

/* ---- helpers ---- */

static char *data_path(const char *rel)
{
	const char *root = getenv("DD_ROOT");
	dd_buf b = DD_BUF_INIT;
	dd_buf_printf(&b, "%s/tests/data/rpm/%s", root ? root : ".", rel);
	return dd_buf_detach(&b, NULL);
}

/* A gzip file from tests/data/rpm, decompressed into an exact-size buffer
 * (so ASan catches any read past the end). */
static uint8_t *load_gz(const char *rel, size_t *len)
{
	char *path = data_path(rel);
	gzFile f = gzopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	dd_buf b = DD_BUF_INIT;
	char chunk[65536];
	int n;
	while ((n = gzread(f, chunk, sizeof(chunk))) > 0)
		dd_buf_append(&b, chunk, (size_t)n);
	assert_int_equal(n, 0);
	gzclose(f);
	free(path);
	uint8_t *exact = malloc(b.len);
	memcpy(exact, b.data, b.len);
	*len = b.len;
	dd_buf_release(&b);
	return exact;
}

/* Lines of a TSV file without its header line; *n lines. */
static char **load_tsv(const char *rel, size_t *n)
{
	char *path = data_path(rel);
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	char **v = NULL, line[4096];
	size_t k = 0;
	int first = 1;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (first) {
			first = 0;
			continue;
		}
		v = realloc(v, (k + 1) * sizeof(*v));
		v[k++] = dd_strdup(line);
	}
	fclose(f);
	free(path);
	*n = k;
	return v;
}

static void free_lines(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static const char *s(const char *x)
{
	return x ? x : "";
}

/* The expected-packages.tsv columns: name epoch version release arch sourcerpm. */
static char *row(const dd_package *p)
{
	dd_buf b = DD_BUF_INIT;
	dd_buf_printf(&b, "%s\t", p->name);
	if (p->has_epoch)
		dd_buf_printf(&b, "%u", p->epoch);
	dd_buf_printf(&b, "\t%s\t%s\t%s\t%s", p->rpm_version, p->rpm_release, s(p->arch), s(p->sourcerpm));
	return dd_buf_detach(&b, NULL);
}

/* Warnings are collected here instead of going to stderr. */
static dd_buf g_warn = DD_BUF_INIT;
static size_t g_nwarn;

static void sink(enum dd_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	if (level == DD_LOG_WARN) {
		dd_buf_printf(&g_warn, "%s\n", msg);
		g_nwarn++;
	}
}

static int setup(void **state)
{
	(void)state;
	dd_buf_reset(&g_warn);
	g_nwarn = 0;
	dd_log_set_sink(sink, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dd_buf_release(&g_warn);
	dd_log_set_sink(NULL, NULL);
	return 0;
}

static void assert_warned(const char *want)
{
	if (!strstr(dd_buf_cstr(&g_warn), want))
		fail_msg("no warning containing '%s'; warnings: %s", want, dd_buf_cstr(&g_warn));
}

/* Parse and compare, in order, with expected-packages.tsv. */
static void check_list(const uint8_t *d, size_t len, const char *name, const char *tsv,
		       enum dd_rpmdb_format fmt)
{
	dd_pkglist l = DD_PKGLIST_INIT;
	dd_rpmdb_stats st = DD_RPMDB_STATS_INIT;
	dd_error e = DD_ERROR_INIT;
	size_t n;
	char **want = load_tsv(tsv, &n);

	assert_int_equal(dd_rpmdb_detect(d, len), fmt);
	assert_int_equal(dd_rpmdb_parse_ex(d, len, name, &l, &st, &e), 0);
	assert_int_equal(st.format, fmt);
	assert_int_equal(st.skipped, 0);
	assert_int_equal(st.truncated, 0);
	assert_int_equal(st.packages, n);
	assert_int_equal(l.n, n);
	for (size_t i = 0; i < n; i++) {
		char *got = row(&l.v[i]);
		assert_string_equal(got, want[i]);
		assert_int_equal(l.v[i].type, DD_PKG_RPM);
		free(got);
	}
	assert_int_equal(g_nwarn, 0);
	free_lines(want, n);
	dd_pkglist_release(&l);
}

/* Split line in place at tabs into at most max fields; returns the count. */
static int split_tabs(char *line, char **f, int max)
{
	int n = 0;
	f[n++] = line;
	for (char *p = line; *p && n < max; p++)
		if (*p == '\t') {
			*p = 0;
			f[n++] = p + 1;
		}
	return n;
}

/* Details (size, license, vendor) of the packages named in the details TSV. */
static void check_details(const uint8_t *d, size_t len, const char *tsv)
{
	dd_pkglist l = DD_PKGLIST_INIT;
	dd_error e = DD_ERROR_INIT;
	size_t n;
	char **want = load_tsv(tsv, &n);
	assert_int_equal(dd_rpmdb_parse(d, len, "db", &l, &e), 0);
	for (size_t i = 0; i < n; i++) {
		char *f[11];
		assert_int_equal(split_tabs(want[i], f, 11), 11);
		const char *name = f[0], *size = f[6], *lic = f[7], *vendor = f[8];
		const dd_package *p = NULL;
		for (size_t k = 0; k < l.n; k++)
			if (!strcmp(l.v[k].name, name))
				p = &l.v[k];
		assert_non_null(p);
		char got[32];
		snprintf(got, sizeof(got), "%llu", (unsigned long long)p->size);
		assert_string_equal(got, size);
		assert_string_equal(s(p->license), lic);
		assert_string_equal(s(p->vendor), vendor);
	}
	free_lines(want, n);
	dd_pkglist_release(&l);
}

/* ---- the real databases ---- */

static void test_ndb_sle15(void **state)
{
	(void)state;
	size_t len;
	uint8_t *d = load_gz("sle15-bci/Packages.db.gz", &len);
	assert_int_equal(len, 1374144);
	check_list(d, len, "sle15/Packages.db", "sle15-bci/expected-packages.tsv", DD_RPMDB_NDB);
	check_details(d, len, "sle15-bci/expected-package-details.tsv");
	free(d);
}

static void test_sqlite_mariner(void **state)
{
	(void)state;
	size_t len;
	uint8_t *d = load_gz("cbl-mariner-2.0/rpmdb.sqlite.gz", &len);
	assert_int_equal(len, 3604480);
	/* The whole database, as rpm -qa lists it (three packages have epoch 1). */
	check_list(d, len, "mariner/rpmdb.sqlite", "cbl-mariner-2.0/rpm-qa-packages.tsv", DD_RPMDB_SQLITE);
	check_details(d, len, "cbl-mariner-2.0/expected-package-details.tsv");

	dd_pkglist l = DD_PKGLIST_INIT;
	dd_error e = DD_ERROR_INIT;
	assert_int_equal(dd_rpmdb_parse(d, len, "db", &l, &e), 0);
	int seen = 0;
	for (size_t i = 0; i < l.n; i++) {
		if (!strcmp(l.v[i].name, "ca-certificates-base")) {
			assert_string_equal(l.v[i].version, "1:2.0.0-1.cm2");
			assert_string_equal(l.v[i].source_name, "ca-certificates");
			assert_string_equal(l.v[i].source_version, "2.0.0-1.cm2");
			seen++;
		}
		if (!strcmp(l.v[i].name, "curl")) {
			assert_string_equal(l.v[i].version, "7.76.0-6.cm2");
			assert_false(l.v[i].has_epoch);
			seen++;
		}
	}
	assert_int_equal(seen, 2);
	dd_pkglist_release(&l);
	free(d);
}

static void test_bdb_libuuid(void **state)
{
	(void)state;
	size_t len;
	uint8_t *d = load_gz("libuuid/Packages.gz", &len);
	assert_int_equal(len, 94208);
	check_list(d, len, "libuuid/Packages", "libuuid/expected-packages.tsv", DD_RPMDB_BDB);
	check_details(d, len, "libuuid/expected-package-details.tsv");
	dd_pkglist l = DD_PKGLIST_INIT;
	dd_error e = DD_ERROR_INIT;
	assert_int_equal(dd_rpmdb_parse(d, len, "db", &l, &e), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].version, "2.32.1-42.el8_8");
	assert_string_equal(l.v[0].source_name, "util-linux");
	assert_string_equal(l.v[0].source_version, "2.32.1-42.el8_8");
	assert_string_equal(l.v[0].vendor, "Red Hat, Inc.");
	dd_pkglist_release(&l);
	free(d);
}

/* BerkeleyDB files with 512-byte pages in both byte orders, written by
 * db5.3_load from rpmbuild-made headers (tests/data/rpm/README.md): equal
 * rpm's listing, less the gpg-pubkey entry. */
static void test_bdb_both_byte_orders(void **state)
{
	(void)state;
	static const char *const files[] = { "built/Packages-le-512.gz", "built/Packages-be-512.gz" };
	size_t n;
	char **want = load_tsv("built/rpm-qa-packages.tsv", &n);
	assert_int_equal(n, 5);
	assert_int_equal(strncmp(want[4], "gpg-pubkey\t", 11), 0);
	for (size_t f = 0; f < 2; f++) {
		size_t len;
		uint8_t *d = load_gz(files[f], &len);
		assert_int_equal(d[12] == 0x61, f == 0); /* magic 0x00061561, LE or BE */
		dd_pkglist l = DD_PKGLIST_INIT;
		dd_rpmdb_stats st = DD_RPMDB_STATS_INIT;
		dd_error e = DD_ERROR_INIT;
		assert_int_equal(dd_rpmdb_parse_ex(d, len, files[f], &l, &st, &e), 0);
		assert_int_equal(st.format, DD_RPMDB_BDB);
		assert_int_equal(st.records, 5);
		assert_int_equal(st.pubkeys, 1);
		assert_int_equal(st.skipped, 0);
		assert_int_equal(l.n, 4);
		for (size_t i = 0; i < l.n; i++) {
			char *got = row(&l.v[i]);
			assert_string_equal(got, want[i]);
			free(got);
		}
		assert_string_equal(l.v[3].name, "ddtest-many"); /* a 90 KB header: 187 overflow pages */
		dd_pkglist_release(&l);
		free(d);
	}
	free_lines(want, n);
}

static void test_not_an_rpmdb(void **state)
{
	(void)state;
	dd_pkglist l = DD_PKGLIST_INIT;
	dd_error e = DD_ERROR_INIT;
	dd_package *keep = dd_pkglist_add(&l);
	keep->name = dd_strdup("already-there");
	assert_int_equal(dd_rpmdb_parse("hello, world: not a database", 28, "var/lib/rpm/Packages", &l, &e),
			 DD_EINPUT);
	assert_non_null(strstr(e.msg, "var/lib/rpm/Packages: not an rpm database"));
	assert_int_equal(dd_rpmdb_parse("", 0, "x", &l, &e), DD_EINPUT);
	assert_int_equal(dd_rpmdb_parse(NULL, 0, "x", &l, &e), DD_EINPUT);
	assert_int_equal(l.n, 1);
	assert_int_equal(dd_rpmdb_detect("RpmP", 4), DD_RPMDB_NDB);
	assert_string_equal(dd_rpmdb_format_name(DD_RPMDB_BDB), "bdb");
	/* The search paths: SQLite first, every one relative. */
	assert_string_equal(dd_rpmdb_paths[0], "usr/lib/sysimage/rpm/rpmdb.sqlite");
	size_t k = 0;
	for (; dd_rpmdb_paths[k]; k++)
		assert_true(dd_rpmdb_paths[k][0] != '/');
	assert_int_equal(k, 6);
	dd_pkglist_release(&l);
}

/* ---- hostile NDB ---- */

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Parse, expecting rc; returns the stats and package count. */
static size_t parse_damaged(const uint8_t *d, size_t len, int want_rc, dd_rpmdb_stats *st)
{
	dd_pkglist l = DD_PKGLIST_INIT;
	dd_error e = DD_ERROR_INIT;
	int rc = dd_rpmdb_parse_ex(d, len, "damaged.db", &l, st, &e);
	if (rc != want_rc)
		fail_msg("rc %d (%s), wanted %d", rc, e.msg, want_rc);
	if (rc)
		assert_non_null(strstr(e.msg, "damaged.db"));
	size_t n = l.n;
	assert_int_equal(n, st->packages);
	for (size_t i = 0; i < l.n; i++)
		assert_non_null(l.v[i].name);
	dd_pkglist_release(&l);
	return n;
}

static void collect(void *ctx, const char *msg)
{
	dd_buf_printf(ctx, "%s\n", msg);
}

/* Used (non-empty) NDB slots in [from, to). */
static size_t used_slots(const uint8_t *d, size_t from, size_t to)
{
	size_t n = 0;
	for (size_t i = from; i < to; i++)
		n += le32(d + i * 16 + 4) != 0;
	return n;
}

static void test_ndb_damaged(void **state)
{
	(void)state;
	size_t len;
	uint8_t *orig = load_gz("sle15-bci/Packages.db.gz", &len);
	uint8_t *d = malloc(len);
	dd_rpmdb_stats st = DD_RPMDB_STATS_INIT;

	/* Slot 2 (package 1) points past the end of the file. */
	memcpy(d, orig, len);
	put_le32(d + 2 * 16 + 8, (uint32_t)(len / 16));
	assert_int_equal(parse_damaged(d, len, 0, &st), 34);
	assert_int_equal(st.skipped, 1);
	assert_warned("damaged.db: slot 2 (package 1): skipped: blob at bytes");

	/* Block offset overflowing 32 bits × 16. */
	memcpy(d, orig, len);
	put_le32(d + 3 * 16 + 8, 0xffffffffu);
	put_le32(d + 3 * 16 + 12, 0xffffffffu);
	assert_int_equal(parse_damaged(d, len, 0, &st), 34);

	/* A flipped byte inside package 2's blob: its checksum fails. */
	memcpy(d, orig, len);
	d[(size_t)le32(d + 3 * 16 + 8) * 16 + 100] ^= 0x40;
	assert_int_equal(parse_damaged(d, len, 0, &st), 34);
	assert_warned("slot 3 (package 2): skipped: blob checksum mismatch");

	/* A blob that belongs to another package. */
	memcpy(d, orig, len);
	put_le32(d + 4 * 16 + 8, le32(d + 5 * 16 + 8));
	assert_int_equal(parse_damaged(d, len, 0, &st), 34);
	assert_warned("belongs to package 4");

	/* A slot without its magic ends the walk: the packages before it stay. */
	memcpy(d, orig, len);
	memcpy(d + 10 * 16, "Slop", 4);
	assert_int_equal(used_slots(orig, 2, 10), 8);
	assert_int_equal(parse_damaged(d, len, 0, &st), 8);
	assert_int_equal(st.truncated, 1);
	assert_warned("NDB slot 10 has no \"Slot\" magic");

	/* Slot pages claimed past the end of the file. */
	memcpy(d, orig, len);
	put_le32(d + 12, 0xffffffffu);
	assert_int_equal(parse_damaged(d, len, 0, &st), 35);
	assert_int_equal(st.truncated, 1);
	assert_warned("claims 4294967295 slot pages, the 1374144-byte file has 1");

	/* Header damage is fatal. */
	memcpy(d, orig, len);
	put_le32(d + 12, 0);
	parse_damaged(d, len, DD_EINPUT, &st);
	put_le32(d + 12, 1);
	put_le32(d + 4, 7);
	parse_damaged(d, len, DD_EINPUT, &st);

	/* Warnings through the caller's callback instead of dd_warn(). */
	memcpy(d, orig, len);
	put_le32(d + 2 * 16 + 8, (uint32_t)(len / 16));
	dd_buf mine = DD_BUF_INIT;
	dd_buf_reset(&g_warn);
	st.warn = collect;
	st.warn_ctx = &mine;
	assert_int_equal(parse_damaged(d, len, 0, &st), 34);
	assert_non_null(strstr(dd_buf_cstr(&mine), "damaged.db: slot 2 (package 1): skipped"));
	assert_int_equal(g_warn.len, 0);
	assert_true(st.warn == collect && st.warn_ctx == &mine);
	st.warn = NULL;
	dd_buf_release(&mine);

	/* Truncations: every length up to 64, then one every 1021 bytes. */
	for (size_t k = 0; k < len; k += (k < 64 ? 1 : 1021)) {
		uint8_t *t = malloc(k ? k : 1);
		memcpy(t, orig, k);
		dd_pkglist l = DD_PKGLIST_INIT;
		dd_error e = DD_ERROR_INIT;
		int rc = dd_rpmdb_parse_ex(t, k, "cut.db", &l, &st, &e);
		assert_true(rc == 0 || rc == DD_EINPUT);
		assert_true(l.n <= 35);
		dd_pkglist_release(&l);
		free(t);
	}
	/* Warnings are capped: eighteen bad slots give 10 lines and a summary. */
	memcpy(d, orig, len);
	size_t bad = 0, i;
	for (i = 2; bad < 18; i++)
		if (le32(d + i * 16 + 4)) {
			put_le32(d + i * 16 + 8, 1);
			bad++;
		}
	dd_buf_reset(&g_warn);
	g_nwarn = 0;
	assert_int_equal(parse_damaged(d, len, 0, &st), 35 - 18);
	assert_int_equal(st.skipped, 18);
	assert_int_equal(g_nwarn, 11);
	assert_warned("8 more problems not shown (18 malformed records skipped in all)");
	free(d);
	free(orig);
}

/* ---- hostile BerkeleyDB (libuuid: meta page, bucket pages 1 and 2; the
 * header is an overflow item of 80880 bytes on pages 3..22) ---- */

static void test_bdb_damaged(void **state)
{
	(void)state;
	size_t len;
	uint8_t *orig = load_gz("libuuid/Packages.gz", &len);
	uint8_t *d = malloc(len);
	dd_rpmdb_stats st = DD_RPMDB_STATS_INIT;
	const size_t P = 4096, item = 2 * P + 4079; /* the H_OFFPAGE item of record 1 */

	memcpy(d, orig, len);
	assert_int_equal(d[item], 3);
	assert_int_equal(le32(d + item + 4), 3);
	assert_int_equal(le32(d + item + 8), 80880);

	/* An overflow chain that loops back (page 10 -> page 5). */
	put_le32(d + 10 * P + 16, 5);
	assert_int_equal(parse_damaged(d, len, 0, &st), 0);
	assert_int_equal(st.skipped, 1);
	assert_warned("damaged.db: record 1 (page 2): skipped: overflow page 5 is read twice");

	/* An overflow chain that points past the file. */
	memcpy(d, orig, len);
	put_le32(d + 5 * P + 16, 999);
	assert_int_equal(parse_damaged(d, len, 0, &st), 0);
	assert_warned("overflow page 999 is past the end of the file");

	/* Total length lies, both ways. */
	memcpy(d, orig, len);
	put_le32(d + item + 8, 90000);
	assert_int_equal(parse_damaged(d, len, 0, &st), 0);
	assert_warned("ends the chain early");
	memcpy(d, orig, len);
	put_le32(d + item + 8, 80000);
	assert_int_equal(parse_damaged(d, len, 0, &st), 0);
	put_le32(d + item + 8, 0xffffffffu);
	assert_int_equal(parse_damaged(d, len, 0, &st), 0);
	assert_warned("larger than the file");

	/* A hash page chained to itself: read once, then the loop is reported. */
	memcpy(d, orig, len);
	put_le32(d + 2 * P + 16, 2);
	assert_int_equal(parse_damaged(d, len, 0, &st), 1);
	assert_int_equal(st.truncated, 1);
	assert_warned("bucket 1: hash page 2 is reached twice (a page loop)");
	/* ... and to a page past the end. */
	put_le32(d + 2 * P + 16, 70000);
	assert_int_equal(parse_damaged(d, len, 0, &st), 1);
	assert_warned("hash page 70000 is past the end");

	/* Item offsets outside the page; an absurd item count. */
	memcpy(d, orig, len);
	d[2 * P + 26 + 2] = 10;
	d[2 * P + 26 + 3] = 0;
	assert_int_equal(parse_damaged(d, len, 0, &st), 0);
	assert_warned("item offsets outside the page");
	memcpy(d, orig, len);
	d[2 * P + 20] = 0x60;
	d[2 * P + 21] = 0xea;
	assert_int_equal(parse_damaged(d, len, 0, &st), 0);
	assert_warned("claims 60000 items");

	/* A bucket whose start page is past the file (spares[1]). */
	memcpy(d, orig, len);
	put_le32(d + 100, 5000);
	assert_int_equal(parse_damaged(d, len, 0, &st), 0);
	assert_warned("bucket 1 starts at page 5001, outside the file");

	/* Metadata damage is fatal. */
	memcpy(d, orig, len);
	put_le32(d + 20, 1000);
	parse_damaged(d, len, DD_EINPUT, &st);
	memcpy(d, orig, len);
	put_le32(d + 72, 0x00ffffff);
	parse_damaged(d, len, DD_EINPUT, &st);
	memcpy(d, orig, len);
	d[25] = 9; /* a btree */
	parse_damaged(d, len, DD_EINPUT, &st);
	memcpy(d, orig, len);
	d[24] = 1; /* encrypted */
	parse_damaged(d, len, DD_EINPUT, &st);

	for (size_t k = 0; k < len; k += (k < 600 ? 7 : 331)) {
		uint8_t *t = malloc(k ? k : 1);
		memcpy(t, orig, k);
		dd_pkglist l = DD_PKGLIST_INIT;
		dd_error e = DD_ERROR_INIT;
		int rc = dd_rpmdb_parse_ex(t, k, "cut", &l, &st, &e);
		assert_true(rc == 0 || rc == DD_EINPUT);
		assert_true(l.n <= 1);
		dd_pkglist_release(&l);
		free(t);
	}
	free(d);
	free(orig);
}

/* ---- hostile SQLite ---- */

/* A SQLite database made by running sql, as bytes (sqlite3_free them). */
static unsigned char *make_sqlite(const char *sql, const void *blob, int blen, size_t *len)
{
	sqlite3 *db;
	sqlite3_int64 n = 0;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	if (blob) {
		sqlite3_stmt *st;
		assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO Packages (hnum, blob) VALUES (1, ?)", -1,
						    &st, NULL), SQLITE_OK);
		sqlite3_bind_blob(st, 1, blob, blen, SQLITE_TRANSIENT);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_finalize(st);
	}
	unsigned char *p = sqlite3_serialize(db, "main", &n, 0);
	assert_non_null(p);
	sqlite3_close(db);
	*len = (size_t)n;
	return p;
}

/* libuuid's header blob, taken from its BerkeleyDB file (pages 3..22). */
static uint8_t *libuuid_blob(size_t *n)
{
	size_t len;
	uint8_t *d = load_gz("libuuid/Packages.gz", &len);
	uint8_t *b = malloc(80880);
	size_t got = 0;
	for (size_t pg = 3; got < 80880; pg = le32(d + pg * 4096 + 16)) {
		size_t k = (size_t)(d[pg * 4096 + 22] | d[pg * 4096 + 23] << 8);
		memcpy(b + got, d + pg * 4096 + 26, k);
		got += k;
	}
	free(d);
	*n = got;
	return b;
}

static void test_sqlite_damaged(void **state)
{
	(void)state;
	dd_rpmdb_stats st = DD_RPMDB_STATS_INIT;
	size_t len, blen;
	uint8_t *blob = libuuid_blob(&blen);

	/* Junk after a valid magic. */
	uint8_t junk[8192];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 7919u >> 3);
	memcpy(junk, "SQLite format 3", 16);
	parse_damaged(junk, sizeof(junk), DD_EINPUT, &st);
	parse_damaged(junk, 100, DD_EINPUT, &st);

	/* A real SQLite database that is not an rpmdb. */
	unsigned char *db = make_sqlite("CREATE TABLE notes (x);", NULL, 0, &len);
	parse_damaged(db, len, DD_EINPUT, &st);
	sqlite3_free(db);
	/* `Packages` as a view (which could run anything) is refused. */
	db = make_sqlite("CREATE TABLE t (hnum, blob); CREATE VIEW Packages AS SELECT * FROM t;", NULL, 0, &len);
	parse_damaged(db, len, DD_EINPUT, &st);
	sqlite3_free(db);

	/* Good, junk, short, NULL, text and gpg-pubkey rows: one package. */
	db = make_sqlite("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB);"
			 "INSERT INTO Packages VALUES (2, x'00000001000000ff');"
			 "INSERT INTO Packages VALUES (3, x'0102');"
			 "INSERT INTO Packages VALUES (4, NULL);"
			 "INSERT INTO Packages VALUES (5, 'text');"
			 "INSERT INTO Packages VALUES (6, x'"
			 /* il 2, dl 31: NAME "gpg-pubkey", VERSION "abc", RELEASE "def"... */
			 "00000003" "00000013"
			 "000003e8" "00000006" "00000000" "00000001"
			 "000003e9" "00000006" "0000000b" "00000001"
			 "000003ea" "00000006" "0000000f" "00000001"
			 "6770672d7075626b657900" "61626300" "64656600" "');",
			 blob, (int)blen, &len);
	dd_buf_reset(&g_warn);
	assert_int_equal(parse_damaged(db, len, 0, &st), 1);
	assert_int_equal(st.records, 6);
	assert_int_equal(st.skipped, 4);
	assert_int_equal(st.pubkeys, 1);
	assert_warned("damaged.db: hnum 2: skipped: malformed rpm header: header with 1 entries and 255 data bytes");
	assert_warned("hnum 5: skipped: the blob column holds no BLOB");

	/* Truncated copies of that database: an error or fewer rows, no crash. */
	for (size_t k = 0; k < len; k += 97) {
		uint8_t *t = malloc(k ? k : 1);
		memcpy(t, db, k);
		dd_pkglist l = DD_PKGLIST_INIT;
		dd_error e = DD_ERROR_INIT;
		int rc = dd_rpmdb_parse_ex(t, k, "cut", &l, &st, &e);
		assert_true(rc == 0 || rc == DD_EINPUT);
		assert_true(l.n <= 1);
		dd_pkglist_release(&l);
		free(t);
	}
	sqlite3_free(db);

	/* The real database, with pages overwritten by junk. */
	uint8_t *m = load_gz("cbl-mariner-2.0/rpmdb.sqlite.gz", &len);
	for (size_t pg = 1; pg < 40; pg += 3)
		memset(m + pg * 4096 + 8, 0x5a, 200);
	dd_pkglist l = DD_PKGLIST_INIT;
	dd_error e = DD_ERROR_INIT;
	int rc = dd_rpmdb_parse_ex(m, len, "junked", &l, &st, &e);
	assert_true(rc == 0 || rc == DD_EINPUT);
	assert_true(l.n <= 129);
	dd_pkglist_release(&l);
	free(m);
	free(blob);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ndb_sle15, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sqlite_mariner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bdb_libuuid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bdb_both_byte_orders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_an_rpmdb, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ndb_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bdb_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sqlite_damaged, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
