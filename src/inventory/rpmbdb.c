/*
 * rpmbdb.c - rpm's BerkeleyDB hash `Packages` database, read from memory
 * without libdb; see rpmdb.h.
 *
 * Layout (Berkeley DB dbinc/db_page.h, hash version 8/9/10; every number in
 * the byte order of the machine that wrote the file, told by the magic):
 *   page 0, the hash metadata page: magic 0x00061561 at 12, version at 16,
 *     page size at 20, encryption at 24, page type (8) at 25, meta flags
 *     at 26, last page number at 32, max bucket at 72, spares[32] at 96;
 *   bucket b starts at page b + spares[ceil(log2(b + 1))], and continues
 *     through the next-page links of its hash pages (type 13, or 2 when
 *     written before DB 4.6);
 *   a hash page: 26-byte header (next page at 16, entry count at 20, type
 *     at 25), then one 16-bit offset per item; items are key/data pairs;
 *     an item is H_KEYDATA (1, bytes inline, its length up to the previous
 *     item) or H_OFFPAGE (3: first overflow page at 4, total length at 8);
 *   overflow pages (type 7) hold hf_offset (at 22) bytes each after the
 *     header, chained by next-page.
 * rpm's keys are 32-bit header numbers; key 0 holds a counter, not a header.
 * Every page number is checked against the file, and no page is read twice
 * (a second visit is a loop or a cross-link, and ends that chain).
 */
#include "inventory/rpmdb_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/log.h"
#include "util/banned.h"

#define BDB_HASH_MAGIC 0x00061561u
#define P_HASH_UNSORTED 2
#define P_OVERFLOW 7
#define P_HASHMETA 8
#define P_HASH 13
#define H_KEYDATA 1
#define H_OFFPAGE 3
#define PAGE_HDR 26u
#define DBMETA_CHKSUM 0x01

typedef struct bdb {
	const uint8_t *d;
	size_t len;
	int big;            /* file written big-endian */
	uint32_t psize;
	uint32_t overhead;  /* page header (+ checksum) bytes */
	uint32_t npages;    /* whole pages in the file */
	uint8_t *seen;      /* one byte per page: already read */
	dd_rpmdb_walk *w;
} bdb;

static const uint8_t *page(const bdb *b, uint32_t pg)
{
	return b->d + (size_t)pg * b->psize;
}

static uint32_t log2_ceil(uint32_t n)
{
	uint32_t i = 0;
	uint64_t lim = 1;
	while (lim < n) {
		lim <<= 1;
		i++;
	}
	return i;
}

/* Collect an overflow item of tlen bytes starting at page pg into out.
 * Returns 0, or -1 with why filled (or DD_EENV when out failed). */
static int read_overflow(bdb *b, uint32_t pg, uint32_t tlen, dd_buf *out, char *why, size_t wn)
{
	dd_buf_reset(out);
	if (tlen > b->len) {
		snprintf(why, wn, "overflow item of %u bytes is larger than the file", tlen);
		return -1;
	}
	while (out->len < tlen) {
		if (pg == 0 || pg >= b->npages) {
			snprintf(why, wn, "overflow page %u %s (item %zu of %u bytes read)", pg,
				 pg ? "is past the end of the file" : "ends the chain early", out->len, tlen);
			return -1;
		}
		if (b->seen[pg]) {
			snprintf(why, wn, "overflow page %u is read twice (a loop or cross-linked chain)", pg);
			return -1;
		}
		b->seen[pg] = 1;
		const uint8_t *p = page(b, pg);
		uint32_t n = dd_rpm_bo16(p + 22, b->big);
		if (p[25] != P_OVERFLOW || n == 0 || n > b->psize - b->overhead || n > tlen - out->len) {
			snprintf(why, wn, "overflow page %u: type %u, %u bytes (item %zu of %u bytes read)",
				 pg, p[25], n, out->len, tlen);
			return -1;
		}
		if (dd_buf_append(out, p + b->overhead, n)) {
			if (out->failed == DD_EENV)
				return DD_EENV;
			snprintf(why, wn, "overflow item of %u bytes is too large", tlen);
			return -1;
		}
		pg = dd_rpm_bo32(p + 16, b->big);
	}
	return 0;
}

/* Bounds of item idx of a hash page with nent items: [*start, *start+*n). */
static int item(const bdb *b, const uint8_t *p, uint32_t nent, uint32_t idx, uint32_t *start,
		uint32_t *n)
{
	uint32_t lo = b->overhead + 2 * nent;
	uint32_t off = dd_rpm_bo16(p + b->overhead + 2 * idx, b->big);
	uint32_t end = idx == 0 ? b->psize : dd_rpm_bo16(p + b->overhead + 2 * (idx - 1), b->big);
	if (off < lo || end > b->psize || off >= end)
		return -1;
	*start = off;
	*n = end - off;
	return 0;
}

/* Handle one key/data pair; 0 or DD_EENV. */
static int pair(bdb *b, uint32_t pg, const uint8_t *p, uint32_t nent, uint32_t k, dd_buf *ov,
		dd_error *err)
{
	char rec[96], why[200];
	uint32_t ks, kn, ds, dn;
	dd_rpmdb_walk *w = b->w;

	snprintf(rec, sizeof(rec), "page %u item %u", pg, k);
	if (item(b, p, nent, k, &ks, &kn) || item(b, p, nent, k + 1, &ds, &dn)) {
		w->st->records++;
		dd_rpmdb_skip(w, rec, "item offsets outside the page");
		return 0;
	}
	const uint8_t *key = p + ks, *data = p + ds;
	if (key[0] == H_KEYDATA && kn == 5) {
		uint32_t num = dd_rpm_bo32(key + 1, b->big);
		if (num == 0)
			return 0; /* rpm's header-number counter */
		snprintf(rec, sizeof(rec), "record %u (page %u)", num, pg);
	}
	if (w->st->records >= w->max_records)
		return 1;
	if (data[0] == H_KEYDATA)
		return dd_rpmdb_add_blob(w, data + 1, dn - 1, rec, err);
	if (data[0] == H_OFFPAGE && dn >= 12) {
		int rc = read_overflow(b, dd_rpm_bo32(data + 4, b->big), dd_rpm_bo32(data + 8, b->big),
				       ov, why, sizeof(why));
		if (rc == DD_EENV)
			return dd_buf_error(ov, err, "rpm header");
		if (rc == 0)
			return dd_rpmdb_add_blob(w, (const uint8_t *)ov->data, ov->len, rec, err);
	} else {
		snprintf(why, sizeof(why), "data item of type %u (%u bytes) is not a header", data[0], dn);
	}
	w->st->records++;
	dd_rpmdb_skip(w, rec, "%s", why);
	return 0;
}

/* Walk the chain of hash pages of one bucket. */
static int bucket(bdb *b, uint32_t bkt, uint32_t pg, dd_buf *ov, dd_error *err)
{
	while (pg != 0) {
		if (pg >= b->npages) {
			dd_rpmdb_truncated(b->w, "bucket %u: hash page %u is past the end of the file (%u pages)",
					   bkt, pg, b->npages);
			return 0;
		}
		if (b->seen[pg]) {
			dd_rpmdb_truncated(b->w, "bucket %u: hash page %u is reached twice (a page loop)",
					   bkt, pg);
			return 0;
		}
		b->seen[pg] = 1;
		const uint8_t *p = page(b, pg);
		if (p[25] != P_HASH && p[25] != P_HASH_UNSORTED) {
			dd_rpmdb_truncated(b->w, "bucket %u: page %u has type %u, not a hash page", bkt, pg,
					   p[25]);
			return 0;
		}
		uint32_t nent = dd_rpm_bo16(p + 20, b->big);
		if (b->overhead + 2 * nent > b->psize || nent % 2) {
			dd_rpmdb_truncated(b->w, "bucket %u: hash page %u claims %u items", bkt, pg, nent);
			return 0;
		}
		for (uint32_t k = 0; k < nent; k += 2) {
			int rc = pair(b, pg, p, nent, k, ov, err);
			if (rc == 1) {
				dd_rpmdb_truncated(b->w, "more than %zu records", b->w->max_records);
				return 1;
			}
			if (rc)
				return rc;
		}
		pg = dd_rpm_bo32(p + 16, b->big);
	}
	return 0;
}

int dd_rpmdb_walk_bdb(const uint8_t *d, size_t len, dd_rpmdb_walk *w, dd_error *err)
{
	bdb b = { .d = d, .len = len, .w = w };
	dd_buf ov = DD_BUF_INIT;
	int rc = 0;

	if (len < 512)
		return dd_error_set(err, DD_EINPUT, "%s: BerkeleyDB file of %zu bytes is truncated", w->name, len);
	b.big = dd_rpm_le32(d + 12) != BDB_HASH_MAGIC;
	uint32_t version = dd_rpm_bo32(d + 16, b.big);
	b.psize = dd_rpm_bo32(d + 20, b.big);
	uint32_t last = dd_rpm_bo32(d + 32, b.big), maxb = dd_rpm_bo32(d + 72, b.big);
	if (b.psize < 512 || b.psize > 65536 || (b.psize & (b.psize - 1)))
		return dd_error_set(err, DD_EINPUT, "%s: BerkeleyDB page size %u is invalid", w->name, b.psize);
	if (d[24] != 0)
		return dd_error_set(err, DD_EINPUT, "%s: BerkeleyDB database is encrypted", w->name);
	if (d[25] != P_HASHMETA || version < 8 || version > 10)
		return dd_error_set(err, DD_EINPUT,
				    "%s: not a BerkeleyDB hash database rpm writes (page type %u, version %u)",
				    w->name, d[25], version);
	b.overhead = d[26] & DBMETA_CHKSUM ? PAGE_HDR + 6 : PAGE_HDR;
	b.npages = (uint32_t)(len / b.psize > UINT32_MAX ? UINT32_MAX : len / b.psize);
	if ((uint64_t)last + 1 > b.npages)
		dd_rpmdb_truncated(w, "BerkeleyDB last page %u is past the end of the file (%u pages)",
				   last, b.npages);
	if (maxb >= b.npages)
		return dd_error_set(err, DD_EINPUT, "%s: BerkeleyDB max bucket %u exceeds the %u pages",
				    w->name, maxb, b.npages);
	b.seen = dd_calloc(b.npages, 1);
	if (!b.seen)
		return dd_error_oom(err);
	b.seen[0] = 1;
	for (uint32_t k = 0; k <= maxb && rc == 0; k++) {
		uint32_t sp = log2_ceil(k + 1);
		if (sp >= 32) {
			dd_rpmdb_truncated(w, "bucket %u is past the 32 spare points", k);
			break;
		}
		uint64_t pg = (uint64_t)k + dd_rpm_bo32(d + 96 + 4 * sp, b.big);
		if (pg >= b.npages || pg == 0) {
			dd_rpmdb_truncated(w, "bucket %u starts at page %llu, outside the file", k,
					   (unsigned long long)pg);
			continue;
		}
		rc = bucket(&b, k, (uint32_t)pg, &ov, err);
	}
	if (rc == 1)
		rc = 0;
	free(b.seen);
	dd_buf_release(&ov);
	return rc;
}
