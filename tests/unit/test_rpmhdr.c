/* Unit tests for src/inventory/rpmhdr.c: rpm header blobs, well-formed and
 * hostile (lying counts and offsets, unterminated strings, bad regions). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/rpmdb.h"

/* ---- a header builder: entries and data store, optional region ---- */

enum { T_CHAR = 1, T_INT8, T_INT16, T_INT32, T_INT64, T_STRING, T_BIN, T_STRING_ARRAY, T_I18NSTRING };

typedef struct hb {
	uint32_t ent[64][4]; /* tag, type, offset, count */
	size_t il;
	uint8_t data[16384];
	size_t dl;
} hb;

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Append an entry whose data (len bytes) starts at the next multiple of
 * align; returns the entry's index. */
static size_t hb_raw(hb *h, uint32_t tag, uint32_t type, const void *d, size_t len, uint32_t count,
		     size_t align)
{
	while (h->dl % align)
		h->data[h->dl++] = 0;
	assert_true(h->il < 64 && h->dl + len <= sizeof(h->data));
	h->ent[h->il][0] = tag;
	h->ent[h->il][1] = type;
	h->ent[h->il][2] = (uint32_t)h->dl;
	h->ent[h->il][3] = count;
	memcpy(h->data + h->dl, d, len);
	h->dl += len;
	return h->il++;
}

static size_t hb_str(hb *h, uint32_t tag, const char *s)
{
	return hb_raw(h, tag, T_STRING, s, strlen(s) + 1, 1, 1);
}

static size_t hb_i32(hb *h, uint32_t tag, uint32_t v)
{
	uint8_t b[4];
	put32(b, v);
	return hb_raw(h, tag, T_INT32, b, 4, 1, 4);
}

static size_t hb_i64(hb *h, uint32_t tag, uint64_t v)
{
	uint8_t b[8];
	put32(b, (uint32_t)(v >> 32));
	put32(b + 4, (uint32_t)v);
	return hb_raw(h, tag, T_INT64, b, 8, 1, 8);
}

/* Serialise into out (il, dl, index, data); with region, entry 0 is
 * HEADERIMMUTABLE whose trailer (covering every entry) ends the data. */
static size_t hb_finish(const hb *h0, uint8_t *out, size_t cap, int region)
{
	hb h = *h0;
	size_t il = h.il + (region ? 1 : 0), n = 0;
	uint8_t trailer[16];
	if (region) {
		memmove(h.ent[1], h.ent[0], sizeof(h.ent[0]) * h.il);
		h.ent[0][0] = 63;
		h.ent[0][1] = T_BIN;
		h.ent[0][2] = (uint32_t)h.dl;
		h.ent[0][3] = 16;
		put32(trailer, 63);
		put32(trailer + 4, T_BIN);
		put32(trailer + 8, (uint32_t)-(int32_t)(il * 16));
		put32(trailer + 12, 16);
		memcpy(h.data + h.dl, trailer, 16);
		h.dl += 16;
	}
	assert_true(8 + il * 16 + h.dl <= cap);
	put32(out, (uint32_t)il);
	put32(out + 4, (uint32_t)h.dl);
	n = 8;
	for (size_t i = 0; i < il; i++, n += 16)
		for (int k = 0; k < 4; k++)
			put32(out + n + 4 * k, h.ent[i][k]);
	memcpy(out + n, h.data, h.dl);
	return n + h.dl;
}

/* Byte offset of field k (0 tag, 1 type, 2 offset, 3 count) of index entry i. */
static size_t ent_at(size_t i, int k)
{
	return 8 + 16 * i + 4 * (size_t)k;
}

/* A complete package: openssl with an epoch, every field the parser reads. */
static hb *full_header(void)
{
	hb *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	hb_raw(h, 100, T_STRING_ARRAY, "C\0", 2, 1, 1);   /* HEADERI18NTABLE */
	hb_str(h, 1000, "openssl");
	hb_str(h, 1001, "3.0.7");
	hb_str(h, 1002, "1.el9");
	hb_i32(h, 1003, 1);
	hb_raw(h, 1004, T_I18NSTRING, "Utilities from OpenSSL", 23, 1, 1);
	hb_i32(h, 1006, 1700000000);
	hb_i32(h, 1009, 1234);
	hb_str(h, 1011, "Red Hat, Inc.\x1b[31m\xe9");  /* control char, Latin-1 */
	hb_str(h, 1014, "Apache-2.0");
	hb_str(h, 1015, "Red Hat <http://bugzilla.redhat.com/bugzilla>");
	hb_raw(h, 1016, T_INT16, "\0\1\0\2", 4, 2, 2);   /* some INT16 array */
	hb_str(h, 1022, "x86_64");
	hb_str(h, 1044, "openssl-3.0.7-1.el9.src.rpm");
	hb_raw(h, 1047, T_STRING_ARRAY, "a\0bb\0ccc\0", 9, 3, 1); /* PROVIDENAME */
	hb_i64(h, 5009, 5000000000ull);                   /* LONGSIZE */
	hb_str(h, 5096, "openssl:3:9000:abcd");
	return h;
}

static int parse(const uint8_t *b, size_t n, dd_package *p, dd_error *e)
{
	memset(p, 0, sizeof(*p));
	int rc = dd_rpmhdr_parse(b, n, p, e);
	return rc;
}

static void test_full_header(void **state)
{
	(void)state;
	hb *h = full_header();
	uint8_t buf[20000];
	for (int region = 0; region <= 1; region++) {
		size_t n = hb_finish(h, buf, sizeof(buf), region);
		dd_package p;
		dd_error e = DD_ERROR_INIT;
		assert_int_equal(parse(buf, n, &p, &e), 0);
		assert_int_equal(p.type, DD_PKG_RPM);
		assert_string_equal(p.name, "openssl");
		assert_string_equal(p.version, "1:3.0.7-1.el9");
		assert_true(p.has_epoch);
		assert_int_equal(p.epoch, 1);
		assert_string_equal(p.rpm_version, "3.0.7");
		assert_string_equal(p.rpm_release, "1.el9");
		assert_string_equal(p.arch, "x86_64");
		assert_string_equal(p.sourcerpm, "openssl-3.0.7-1.el9.src.rpm");
		assert_string_equal(p.source_name, "openssl");
		assert_string_equal(p.source_version, "3.0.7-1.el9");
		assert_string_equal(p.vendor, "Red Hat, Inc.?[31m?");
		assert_string_equal(p.license, "Apache-2.0");
		assert_string_equal(p.maintainer, "Red Hat <http://bugzilla.redhat.com/bugzilla>");
		assert_string_equal(p.modularitylabel, "openssl:3:9000:abcd");
		assert_string_equal(p.description, "Utilities from OpenSSL");
		assert_int_equal(p.size, 5000000000ull); /* LONGSIZE wins over SIZE */
		assert_int_equal(p.build_time, 1700000000);
		/* Trailing padding (NDB pads blobs) is ignored. */
		dd_package_release(&p);
		memset(buf + n, 0, 64);
		assert_int_equal(parse(buf, n + 64, &p, &e), 0);
		dd_package_release(&p);
	}
	free(h);
}

static void test_minimal_no_epoch(void **state)
{
	(void)state;
	hb h = { .il = 0 };
	hb_str(&h, 1000, "tzdata");
	hb_str(&h, 1001, "2024a");
	hb_str(&h, 1002, "1.el9");
	hb_i32(&h, 1009, 77);
	uint8_t buf[4096];
	size_t n = hb_finish(&h, buf, sizeof(buf), 1);
	dd_package p;
	dd_error e = DD_ERROR_INIT;
	assert_int_equal(parse(buf, n, &p, &e), 0);
	assert_string_equal(p.version, "2024a-1.el9");
	assert_false(p.has_epoch);
	assert_null(p.arch);
	assert_null(p.sourcerpm);
	assert_null(p.source_name);
	assert_int_equal(p.size, 77);
	dd_package_release(&p);
}

/* Parse a blob that must be rejected; the message must contain want. */
static void expect_bad(const uint8_t *b, size_t n, const char *want)
{
	dd_package p;
	dd_error e = DD_ERROR_INIT;
	int rc = parse(b, n, &p, &e);
	if (rc != DD_EINPUT || (want && !strstr(e.msg, want)))
		fail_msg("rc %d, message '%s', wanted DD_EINPUT and '%s'", rc, e.msg, want ? want : "");
	dd_package_release(&p);
}

static void test_every_truncation_fails(void **state)
{
	(void)state;
	hb *h = full_header();
	uint8_t buf[20000];
	size_t n = hb_finish(h, buf, sizeof(buf), 1);
	for (size_t k = 0; k < n; k++) {
		uint8_t *copy = malloc(k ? k : 1); /* exact size: ASan sees any over-read */
		memcpy(copy, buf, k);
		expect_bad(copy, k, NULL);
		free(copy);
	}
	expect_bad(buf, 3, "shorter than its 8-byte preamble");
	expect_bad(buf, n - 1, "blob has");
	free(h);
}

static void test_lying_counts(void **state)
{
	(void)state;
	hb *h = full_header();
	uint8_t buf[20000], b[20000];
	size_t n = hb_finish(h, buf, sizeof(buf), 1);

	memcpy(b, buf, n);
	put32(b, 0xffffffffu);                      /* il huge */
	expect_bad(b, n, "index count 4294967295 out of range");
	put32(b, 0x10000000u);                      /* il * 16 wraps 32 bits */
	expect_bad(b, n, "out of range");
	put32(b, 0);
	expect_bad(b, n, "index count 0");
	put32(b, 0xffff);                           /* in range, but no room */
	expect_bad(b, n, "needs");

	memcpy(b, buf, n);
	put32(b + 4, 0xfffffff0u);                  /* dl huge */
	expect_bad(b, n, "data length");
	put32(b + 4, 0x0ffffff0u);                  /* in range, past the blob */
	expect_bad(b, n, "needs");

	/* Entry 2 is NAME (entry 0 the region, 1 the i18n table). */
	memcpy(b, buf, n);
	put32(b + ent_at(2, 3), 0);                 /* count 0 */
	expect_bad(b, n, "NAME (1000): count 0");
	memcpy(b, buf, n);
	put32(b + ent_at(2, 3), 0xfffffffeu);       /* a "negative" count */
	expect_bad(b, n, "NAME (1000): count 4294967294 out of range");
	memcpy(b, buf, n);
	put32(b + ent_at(2, 3), 2);                 /* STRING with count 2 */
	expect_bad(b, n, "NAME (1000)");
	memcpy(b, buf, n);
	put32(b + ent_at(8, 3), 0x0fffffff);        /* SIZE: INT32 × 268M */
	expect_bad(b, n, "SIZE (1009)");
	memcpy(b, buf, n);
	put32(b + ent_at(1, 1), 77);                /* unknown type */
	expect_bad(b, n, "unknown type 77");
	free(h);
}

static void test_lying_offsets(void **state)
{
	(void)state;
	hb *h = full_header();
	uint8_t buf[20000], b[20000];
	size_t n = hb_finish(h, buf, sizeof(buf), 0);   /* no region: simpler */
	uint32_t dl = (uint32_t)(n - 8 - 17 * 16);

	memcpy(b, buf, n);
	put32(b + ent_at(16, 2), dl + 4);             /* MODULARITYLABEL past the data */
	expect_bad(b, n, "MODULARITYLABEL (5096): offset");
	memcpy(b, buf, n);
	put32(b + ent_at(16, 2), 0x80000000u);        /* negative offset */
	expect_bad(b, n, "offset -2147483648");
	memcpy(b, buf, n);
	put32(b + ent_at(2, 2), 0);                   /* VERSION on top of NAME */
	expect_bad(b, n, "overlaps");
	memcpy(b, buf, n);
	put32(b + ent_at(4, 2), get32(b + ent_at(4, 2)) + 1); /* EPOCH misaligned */
	expect_bad(b, n, "EPOCH (1003): INT32 data at offset");
	free(h);
}

static void test_unterminated_string(void **state)
{
	(void)state;
	hb h = { .il = 0 };
	hb_str(&h, 1000, "bash");
	hb_str(&h, 1001, "5.1");
	hb_raw(&h, 1002, T_STRING, "8.el9", 5, 1, 1);   /* no NUL, last in the store */
	uint8_t buf[4096];
	size_t n = hb_finish(&h, buf, sizeof(buf), 0);
	expect_bad(buf, n, "RELEASE (1002)");
	expect_bad(buf, n, "unterminated");

	hb a = { .il = 0 };
	hb_str(&a, 1000, "bash");
	hb_raw(&a, 1047, T_STRING_ARRAY, "a\0b\0c", 5, 3, 1); /* third string open */
	n = hb_finish(&a, buf, sizeof(buf), 0);
	expect_bad(buf, n, "(1047)");
}

static void test_bad_regions(void **state)
{
	(void)state;
	hb *h = full_header();
	uint8_t buf[20000], b[20000];
	size_t n = hb_finish(h, buf, sizeof(buf), 1);
	uint32_t il = 18, dl = (uint32_t)(n - 8 - il * 16);
	size_t trailer = 8 + il * 16 + dl - 16;

	memcpy(b, buf, n);
	put32(b + trailer, 62);                          /* trailer of another region */
	expect_bad(b, n, "bad trailer");
	memcpy(b, buf, n);
	put32(b + trailer + 8, (uint32_t)-(int32_t)(40 * 16)); /* region of 40 > 18 entries */
	expect_bad(b, n, "trailer claims 640 index bytes");
	memcpy(b, buf, n);
	put32(b + trailer + 8, 16);                      /* positive: must be negative */
	expect_bad(b, n, "trailer claims");
	memcpy(b, buf, n);
	put32(b + ent_at(0, 2), dl);                     /* trailer outside the store */
	expect_bad(b, n, "trailer offset");
	memcpy(b, buf, n);
	put32(b + ent_at(0, 3), 8);                      /* region count must be 16 */
	expect_bad(b, n, "HEADERIMMUTABLE (63)");
	memcpy(b, buf, n);
	put32(b + ent_at(17, 2), dl - 16);               /* data on the trailer */
	expect_bad(b, n, "region trailer");
	memcpy(b, buf, n);
	put32(b + ent_at(3, 0), 7);                      /* reserved tag below 100 */
	expect_bad(b, n, "tag 7 is reserved");
	free(h);
}

static void test_wrong_types_and_missing(void **state)
{
	(void)state;
	uint8_t buf[4096];
	hb h = { .il = 0 };
	hb_i32(&h, 1000, 5);
	size_t n = hb_finish(&h, buf, sizeof(buf), 1);
	expect_bad(buf, n, "NAME (1000): type INT32, wanted STRING");

	hb m = { .il = 0 };
	hb_str(&m, 1001, "1");
	hb_str(&m, 1002, "1");
	n = hb_finish(&m, buf, sizeof(buf), 1);
	expect_bad(buf, n, "no NAME");

	hb r = { .il = 0 };
	hb_str(&r, 1000, "x");
	hb_str(&r, 1001, "1");
	n = hb_finish(&r, buf, sizeof(buf), 1);
	expect_bad(buf, n, "package 'x': no RELEASE");

	hb e = { .il = 0 };
	hb_str(&e, 1000, "x");
	hb_str(&e, 1001, "1");
	hb_str(&e, 1002, "1");
	hb_raw(&e, 1003, T_INT16, "\0\1", 2, 1, 2);
	n = hb_finish(&e, buf, sizeof(buf), 1);
	expect_bad(buf, n, "EPOCH (1003): type INT16, wanted INT32");
}

static void check_source(const char *srpm, const char *name, const char *ver)
{
	uint8_t buf[4096];
	hb h = { .il = 0 };
	hb_str(&h, 1000, "x");
	hb_str(&h, 1001, "1");
	hb_str(&h, 1002, "2");
	hb_str(&h, 1044, srpm);
	size_t n = hb_finish(&h, buf, sizeof(buf), 1);
	dd_package p;
	dd_error e = DD_ERROR_INIT;
	assert_int_equal(parse(buf, n, &p, &e), 0);
	assert_string_equal(p.sourcerpm, srpm);
	if (name) {
		assert_non_null(p.source_name);
		assert_string_equal(p.source_name, name);
		assert_string_equal(p.source_version, ver);
	} else {
		assert_null(p.source_name);
		assert_null(p.source_version);
	}
	dd_package_release(&p);
}

static void test_sourcerpm_split(void **state)
{
	(void)state;
	check_source("openssl-3.0.7-1.el9.src.rpm", "openssl", "3.0.7-1.el9");
	check_source("util-linux-2.32.1-42.el8_8.src.rpm", "util-linux", "2.32.1-42.el8_8");
	check_source("gcc11-11.2.1+git610-1.3.9.src.rpm", "gcc11", "11.2.1+git610-1.3.9");
	check_source("ddtest-tilde-2.0~rc1-1.dd1.src.rpm", "ddtest-tilde", "2.0~rc1-1.dd1");
	check_source("kernel-5.14.0-1.nosrc.rpm", "kernel", "5.14.0-1");
	check_source("weird.src.rpm", NULL, NULL);
	check_source("x-1.src.rpm", NULL, NULL);
	check_source("-1-2.src.rpm", NULL, NULL);
	check_source("a--2.src.rpm", NULL, NULL);
	check_source("a-1-.src.rpm", NULL, NULL);
	check_source("openssl-3.0.7-1.el9.rpm", NULL, NULL);
	check_source(".src.rpm", NULL, NULL);
}

/* Flip bits everywhere in a valid header: never a crash, only 0 or EINPUT. */
static void test_mutations(void **state)
{
	(void)state;
	static const uint8_t flips[] = { 0x01, 0x80, 0xff, 0x7f };
	hb *h = full_header();
	uint8_t buf[20000];
	size_t n = hb_finish(h, buf, sizeof(buf), 1), ok = 0;
	uint8_t *b = malloc(n);
	for (size_t i = 0; i < n; i++) {
		for (size_t f = 0; f < sizeof(flips); f++) {
			memcpy(b, buf, n);
			b[i] ^= flips[f];
			dd_package p;
			dd_error e = DD_ERROR_INIT;
			int rc = parse(b, n, &p, &e);
			assert_true(rc == 0 || rc == DD_EINPUT);
			if (rc == 0) {
				assert_non_null(p.name);
				assert_non_null(p.version);
				ok++;
			}
			dd_package_release(&p);
		}
	}
	/* Flips inside string data still parse: both outcomes happen. */
	assert_true(ok > 0 && ok < n * sizeof(flips));
	free(b);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_header),
		cmocka_unit_test(test_minimal_no_epoch),
		cmocka_unit_test(test_every_truncation_fails),
		cmocka_unit_test(test_lying_counts),
		cmocka_unit_test(test_lying_offsets),
		cmocka_unit_test(test_unterminated_string),
		cmocka_unit_test(test_bad_regions),
		cmocka_unit_test(test_wrong_types_and_missing),
		cmocka_unit_test(test_sourcerpm_split),
		cmocka_unit_test(test_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
