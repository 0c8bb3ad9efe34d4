/*
 * rpmndb.c - rpm's NDB package database (`Packages.db`, SUSE), read from
 * memory; see rpmdb.h.
 *
 * Layout (rpm lib/backend/ndb/rpmpkg.c; every number little-endian):
 *   header, 32 bytes at 0:  "RpmP", version (0), generation, slot pages,
 *                           next package index
 *   slots, 16 bytes each, filling `slot pages` 4096-byte pages (the first
 *   two slot positions are taken by the header):
 *                           "Slot", package index (0 = free), block
 *                           offset, block count  (blocks are 16 bytes)
 *   blobs at block offsets: "BlbS", package index, generation, length,
 *                           the header blob, zero padding, then a 12-byte
 *                           tail: adler32 (of all that precedes it),
 *                           length, "BlbE"
 */
#include "inventory/rpmdb_int.h"

#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "util/log.h"
#include "util/banned.h"

#define NDB_PAGE 4096u
#define NDB_HEADER 32u
#define NDB_SLOT 16u
#define NDB_BLK 16u
#define NDB_BLOBHEAD 16u
#define NDB_BLOBTAIL 12u

/* Validate the blob a slot points to; returns NULL (and fills why) or the
 * header blob with its length in *blen. */
static const uint8_t *slot_blob(const uint8_t *d, size_t len, size_t data_start, uint32_t pkgidx,
				uint32_t blkoff, uint32_t blkcnt, size_t *blen, char *why, size_t wn)
{
	uint64_t start = (uint64_t)blkoff * NDB_BLK, size = (uint64_t)blkcnt * NDB_BLK;
	if (start < data_start || blkcnt == 0 || start > len || size > len - start) {
		snprintf(why, wn, "blob at bytes %llu..%llu lies outside the blob area %zu..%zu",
			 (unsigned long long)start, (unsigned long long)(start + size), data_start, len);
		return NULL;
	}
	const uint8_t *b = d + start;
	if (size < NDB_BLOBHEAD + NDB_BLOBTAIL || memcmp(b, "BlbS", 4)) {
		snprintf(why, wn, "no blob header (\"BlbS\") at byte %llu", (unsigned long long)start);
		return NULL;
	}
	uint32_t idx = dd_rpm_le32(b + 4), bloblen = dd_rpm_le32(b + 12);
	if (idx != pkgidx) {
		snprintf(why, wn, "blob at byte %llu belongs to package %u", (unsigned long long)start, idx);
		return NULL;
	}
	if (((uint64_t)bloblen + NDB_BLOBHEAD + NDB_BLOBTAIL + NDB_BLK - 1) / NDB_BLK != blkcnt) {
		snprintf(why, wn, "blob length %u does not fit its %u blocks", bloblen, blkcnt);
		return NULL;
	}
	const uint8_t *t = b + size - NDB_BLOBTAIL;
	if (memcmp(t + 8, "BlbE", 4) || dd_rpm_le32(t + 4) != bloblen) {
		snprintf(why, wn, "bad blob tail (\"BlbE\", length %u)", bloblen);
		return NULL;
	}
	/* The checksum covers the blob header, the blob and its zero padding. */
	uLong adl = adler32_z(1, b, (z_size_t)(size - NDB_BLOBTAIL));
	if ((uint32_t)adl != dd_rpm_le32(t)) {
		snprintf(why, wn, "blob checksum mismatch (adler32 %08x, stored %08x)", (unsigned)adl,
			 dd_rpm_le32(t));
		return NULL;
	}
	*blen = bloblen;
	return b + NDB_BLOBHEAD;
}

int dd_rpmdb_walk_ndb(const uint8_t *d, size_t len, dd_rpmdb_walk *w, dd_error *err)
{
	char rec[96], why[160];
	int rc;

	if (len < NDB_HEADER || memcmp(d, "RpmP", 4))
		return dd_error_set(err, DD_EINPUT, "%s: NDB header truncated or without \"RpmP\"", w->name);
	uint32_t version = dd_rpm_le32(d + 4), npages = dd_rpm_le32(d + 12);
	if (version != 0)
		return dd_error_set(err, DD_EINPUT, "%s: NDB version %u unsupported (only 0)", w->name,
				    version);
	if (npages == 0)
		return dd_error_set(err, DD_EINPUT, "%s: NDB header says 0 slot pages", w->name);
	uint64_t slot_end = (uint64_t)npages * NDB_PAGE;
	if (slot_end > len) {
		/* Keep the pages that do hold slots (the first starts after the
		 * header); blobs begin after them. */
		uint64_t k = 1;
		while ((k + 1) * NDB_PAGE <= len && !memcmp(d + k * NDB_PAGE, "Slot", 4))
			k++;
		dd_rpmdb_truncated(w, "NDB header claims %u slot pages, the %zu-byte file has %llu",
				   npages, len, (unsigned long long)k);
		slot_end = k * NDB_PAGE <= len ? k * NDB_PAGE : len - len % NDB_SLOT;
	}
	size_t nslots = (size_t)(slot_end / NDB_SLOT);
	for (size_t i = NDB_HEADER / NDB_SLOT; i < nslots; i++) {
		const uint8_t *s = d + i * NDB_SLOT;
		if (memcmp(s, "Slot", 4)) {
			dd_rpmdb_truncated(w, "NDB slot %zu has no \"Slot\" magic", i);
			break;
		}
		uint32_t pkgidx = dd_rpm_le32(s + 4), blkoff = dd_rpm_le32(s + 8),
			 blkcnt = dd_rpm_le32(s + 12);
		if (pkgidx == 0)
			continue;
		if (w->st->records >= w->max_records) {
			dd_rpmdb_truncated(w, "more than %zu records", w->max_records);
			break;
		}
		snprintf(rec, sizeof(rec), "slot %zu (package %u)", i, pkgidx);
		size_t blen = 0;
		const uint8_t *blob = slot_blob(d, len, (size_t)slot_end, pkgidx, blkoff, blkcnt, &blen,
						why, sizeof(why));
		if (!blob) {
			/* Counted as a record that could not be read. */
			w->st->records++;
			dd_rpmdb_skip(w, rec, "%s", why);
			continue;
		}
		if ((rc = dd_rpmdb_add_blob(w, blob, blen, rec, err)))
			return rc;
	}
	return 0;
}
