/*
 * rpmhdr.c - the rpm header blob ("header image") parser; see rpmdb.h.
 *
 * Layout (all big-endian, whatever the host or database byte order):
 *   il  uint32   number of index entries
 *   dl  uint32   length of the data store
 *   il × { tag int32, type uint32, offset int32, count uint32 }
 *   dl bytes of data store
 * The first entry is normally a region tag (HEADERIMMUTABLE 63) whose data
 * is a 16-byte trailer entry at the end of the region, with the negated size
 * of the region's index as its offset.  The checks follow rpm's own
 * hdrblobVerifyRegion/hdrblobVerifyInfo: entries after the region tag must
 * not overlap and must lie in offset order, which also keeps validation
 * linear in the size of the blob.
 */
#include "inventory/rpmdb_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/catalog.h"
#include "util/buf.h"
#include "util/banned.h"

#define HDR_TAGS_MAX 0xffffu        /* rpm's HEADER_TAGS_MAX */
#define HDR_DATA_MAX 0x0fffffffu    /* rpm's HEADER_DATA_MAX (256 MiB) */
#define ENTRY_SIZE 16u
#define REGION_COUNT 16u

enum {
	T_NULL, T_CHAR, T_INT8, T_INT16, T_INT32, T_INT64, T_STRING, T_BIN,
	T_STRING_ARRAY, T_I18NSTRING, T_MAX = T_I18NSTRING
};

enum {
	TAG_HEADERIMAGE = 61, TAG_HEADERSIGNATURES = 62, TAG_HEADERIMMUTABLE = 63,
	TAG_I18NTABLE = 100,
	TAG_NAME = 1000, TAG_VERSION = 1001, TAG_RELEASE = 1002, TAG_EPOCH = 1003,
	TAG_SUMMARY = 1004, TAG_BUILDTIME = 1006, TAG_SIZE = 1009, TAG_VENDOR = 1011, TAG_LICENSE = 1014,
	TAG_PACKAGER = 1015, TAG_ARCH = 1022, TAG_SOURCERPM = 1044,
	TAG_LONGSIZE = 5009, TAG_MODULARITYLABEL = 5096,
};

typedef struct entry {
	uint32_t tag, type, count;
	int32_t off;
	size_t len;   /* bytes of data, validated */
} entry;

typedef struct hdr {
	const uint8_t *ds;   /* data store */
	uint32_t il, dl;
	const uint8_t *pe;   /* index */
} hdr;

static const char *type_name(uint32_t t)
{
	static const char *const n[] = { "NULL", "CHAR", "INT8", "INT16", "INT32", "INT64",
					 "STRING", "BIN", "STRING_ARRAY", "I18NSTRING" };
	return t <= T_MAX ? n[t] : "unknown";
}

static const char *tag_name(uint32_t tag)
{
	switch (tag) {
	case TAG_HEADERIMAGE: return "HEADERIMAGE";
	case TAG_HEADERSIGNATURES: return "HEADERSIGNATURES";
	case TAG_HEADERIMMUTABLE: return "HEADERIMMUTABLE";
	case TAG_NAME: return "NAME";
	case TAG_VERSION: return "VERSION";
	case TAG_RELEASE: return "RELEASE";
	case TAG_EPOCH: return "EPOCH";
	case TAG_SUMMARY: return "SUMMARY";
	case TAG_BUILDTIME: return "BUILDTIME";
	case TAG_SIZE: return "SIZE";
	case TAG_VENDOR: return "VENDOR";
	case TAG_LICENSE: return "LICENSE";
	case TAG_PACKAGER: return "PACKAGER";
	case TAG_ARCH: return "ARCH";
	case TAG_SOURCERPM: return "SOURCERPM";
	case TAG_LONGSIZE: return "LONGSIZE";
	case TAG_MODULARITYLABEL: return "MODULARITYLABEL";
	}
	return "tag";
}

static void read_entry(const hdr *h, uint32_t i, entry *e)
{
	const uint8_t *p = h->pe + (size_t)i * ENTRY_SIZE;
	e->tag = dd_rpm_be32(p);
	e->type = dd_rpm_be32(p + 4);
	e->off = (int32_t)dd_rpm_be32(p + 8);
	e->count = dd_rpm_be32(p + 12);
	e->len = 0;
}

/* Bytes taken by count items of type at ds[off..dl), or (size_t)-1. */
static size_t data_length(const hdr *h, uint32_t type, uint32_t off, uint32_t count)
{
	static const size_t width[] = { 0, 1, 1, 2, 4, 8, 0, 1, 0, 0 };
	size_t avail = h->dl - off, n;

	if (type == T_STRING || type == T_STRING_ARRAY || type == T_I18NSTRING) {
		if (type == T_STRING && count != 1)
			return (size_t)-1;
		const uint8_t *p = h->ds + off, *end = h->ds + h->dl;
		for (uint32_t k = 0; k < count; k++) {
			const uint8_t *z = memchr(p, 0, (size_t)(end - p));
			if (!z)
				return (size_t)-1;
			p = z + 1;
		}
		return (size_t)(p - (h->ds + off));
	}
	if (dd_mul_size(&n, count, width[type]) || n > avail)
		return (size_t)-1;
	return n;
}

#define FAIL(...) (dd_error_set(err, DD_EINPUT, __VA_ARGS__))

/* Validate the region tag in entry 0, if any; *ril = entries it covers
 * (0 when the header has no region), *rdl = bytes of data it covers. */
static int check_region(const hdr *h, uint32_t *ril, uint32_t *rdl, dd_error *err)
{
	entry e, t;
	*ril = 0;
	*rdl = 0;
	read_entry(h, 0, &e);
	if (e.tag != TAG_HEADERIMAGE && e.tag != TAG_HEADERSIGNATURES && e.tag != TAG_HEADERIMMUTABLE)
		return 0; /* a legacy header without a region */
	const char *tn = tag_name(e.tag);
	if (e.type != T_BIN || e.count != REGION_COUNT)
		return FAIL("region tag %s (%u): type %s count %u, wanted BIN count 16", tn,
			    e.tag, type_name(e.type), e.count);
	if (e.off < 0 || (uint32_t)e.off > h->dl || h->dl - (uint32_t)e.off < REGION_COUNT)
		return FAIL("region tag %s (%u): trailer offset %d outside the %u-byte data store",
			    tn, e.tag, e.off, h->dl);
	const uint8_t *tp = h->ds + e.off;
	t.tag = dd_rpm_be32(tp);
	t.type = dd_rpm_be32(tp + 4);
	t.off = (int32_t)dd_rpm_be32(tp + 8);
	t.count = dd_rpm_be32(tp + 12);
	if (e.tag == TAG_HEADERSIGNATURES && t.tag == TAG_HEADERIMAGE)
		t.tag = TAG_HEADERSIGNATURES; /* old packages, as rpm allows */
	if (t.tag != e.tag || t.type != T_BIN || t.count != REGION_COUNT)
		return FAIL("region tag %s (%u): bad trailer (tag %u type %u count %u)", tn, e.tag,
			    t.tag, t.type, t.count);
	/* The trailer's offset is minus the size of the region's index. */
	int64_t roff = -(int64_t)t.off;
	if (roff <= 0 || roff % ENTRY_SIZE || roff / ENTRY_SIZE > h->il)
		return FAIL("region tag %s (%u): trailer claims %lld index bytes, header has %u entries",
			    tn, e.tag, (long long)roff, h->il);
	*ril = (uint32_t)(roff / ENTRY_SIZE);
	*rdl = (uint32_t)e.off + REGION_COUNT;
	return 0;
}

/* Validate every index entry (bounds, type, alignment, termination, order). */
static int check_entries(const hdr *h, entry *ents, uint32_t ril, uint32_t rdl, dd_error *err)
{
	uint32_t first = ril ? 1 : 0;
	size_t end = 0;
	static const uint32_t align[] = { 1, 1, 1, 2, 4, 8, 1, 1, 1, 1 };

	if (ril) {
		read_entry(h, 0, &ents[0]);
		ents[0].len = REGION_COUNT;
	}
	for (uint32_t i = first; i < h->il; i++) {
		entry *e = &ents[i];
		read_entry(h, i, e);
		const char *tn = tag_name(e->tag);
		if (e->tag < TAG_I18NTABLE)
			return FAIL("index entry %u: tag %u is reserved", i, e->tag);
		if (e->type > T_MAX)
			return FAIL("%s (%u): unknown type %u", tn, e->tag, e->type);
		if (e->count == 0 || e->count > HDR_DATA_MAX)
			return FAIL("%s (%u): count %u out of range", tn, e->tag, e->count);
		if (e->off < 0 || (uint32_t)e->off > h->dl)
			return FAIL("%s (%u): offset %d outside the %u-byte data store", tn, e->tag,
				    e->off, h->dl);
		if ((uint32_t)e->off < end)
			return FAIL("%s (%u): offset %d overlaps the previous entry's data (ends at %zu)",
				    tn, e->tag, e->off, end);
		if ((uint32_t)e->off % align[e->type])
			return FAIL("%s (%u): %s data at offset %d is not %u-byte aligned", tn, e->tag,
				    type_name(e->type), e->off, align[e->type]);
		e->len = data_length(h, e->type, (uint32_t)e->off, e->count);
		if (e->len == (size_t)-1)
			return FAIL("%s (%u): %u %s item%s at offset %d run%s past the %u-byte data store%s",
				    tn, e->tag, e->count, type_name(e->type), e->count == 1 ? "" : "s",
				    e->off, e->count == 1 ? "s" : "", h->dl,
				    e->type >= T_STRING && e->type != T_BIN ? " or are unterminated" : "");
		end = (size_t)e->off + e->len;
		/* Data must not overlap the region trailer. */
		if (ril && end > rdl - REGION_COUNT && (uint32_t)e->off < rdl)
			return FAIL("%s (%u): data at offset %d overlaps the region trailer", tn, e->tag,
				    e->off);
	}
	return 0;
}

static const entry *find(const entry *ents, uint32_t il, uint32_t tag)
{
	for (uint32_t i = 0; i < il; i++)
		if (ents[i].tag == tag)
			return &ents[i];
	return NULL;
}

/* A string tag: *out = copy (NULL when absent), with control characters
 * and invalid UTF-8 replaced by '?' (the package model's rule, see
 * dd_text_dup).  STRING and I18NSTRING (first, untranslated, value) are
 * accepted. */
static int get_str(const hdr *h, const entry *ents, uint32_t tag, char **out, dd_error *err)
{
	const entry *e = find(ents, h->il, tag);
	*out = NULL;
	if (!e)
		return 0;
	if (e->type != T_STRING && e->type != T_I18NSTRING)
		return FAIL("%s (%u): type %s, wanted STRING", tag_name(tag), tag,
			    type_name(e->type));
	const char *v = (const char *)h->ds + e->off;
	*out = dd_text_dup(v, strlen(v));
	return *out ? 0 : dd_error_oom(err);
}

static int get_u64(const hdr *h, const entry *ents, uint32_t tag, uint32_t type, uint64_t *out,
		   int *found, dd_error *err)
{
	const entry *e = find(ents, h->il, tag);
	*found = 0;
	if (!e)
		return 0;
	if (e->type != type)
		return FAIL("%s (%u): type %s, wanted %s", tag_name(tag), tag, type_name(e->type),
			    type_name(type));
	*out = type == T_INT64 ? dd_rpm_be64(h->ds + e->off) : dd_rpm_be32(h->ds + e->off);
	*found = 1;
	return 0;
}

/* "openssl-3.0.7-1.el9.src.rpm" -> "openssl", "3.0.7-1.el9".  Leaves both
 * NULL when the name does not have that shape. */
static int split_sourcerpm(dd_package *p, dd_error *err)
{
	const char *s = p->sourcerpm;
	size_t n = strlen(s);
	static const char *const sfx[] = { ".src.rpm", ".nosrc.rpm" };
	size_t cut = 0;
	for (size_t i = 0; i < 2 && !cut; i++) {
		size_t k = strlen(sfx[i]);
		if (n > k && !memcmp(s + n - k, sfx[i], k))
			cut = n - k;
	}
	if (!cut)
		return 0;
	const char *rel = NULL, *ver = NULL;
	for (size_t i = cut; i-- > 0;) {
		if (s[i] != '-')
			continue;
		if (!rel)
			rel = s + i;
		else {
			ver = s + i;
			break;
		}
	}
	if (!ver || ver == s || rel - ver < 2 || s + cut - rel < 2)
		return 0;
	p->source_name = dd_strndup(s, (size_t)(ver - s));
	p->source_version = dd_strndup(ver + 1, (size_t)(s + cut - ver - 1));
	if (!p->source_name || !p->source_version)
		return dd_error_oom(err);
	return 0;
}

static int fill(const hdr *h, const entry *ents, dd_package *p, dd_error *err)
{
	int rc, found;
	uint64_t v = 0;

	p->type = DD_PKG_RPM;
	if ((rc = get_str(h, ents, TAG_NAME, &p->name, err)) ||
	    (rc = get_str(h, ents, TAG_VERSION, &p->rpm_version, err)) ||
	    (rc = get_str(h, ents, TAG_RELEASE, &p->rpm_release, err)) ||
	    (rc = get_str(h, ents, TAG_ARCH, &p->arch, err)) ||
	    (rc = get_str(h, ents, TAG_SOURCERPM, &p->sourcerpm, err)) ||
	    (rc = get_str(h, ents, TAG_LICENSE, &p->license, err)) ||
	    (rc = get_str(h, ents, TAG_VENDOR, &p->vendor, err)) ||
	    (rc = get_str(h, ents, TAG_PACKAGER, &p->maintainer, err)) ||
	    (rc = get_str(h, ents, TAG_SUMMARY, &p->description, err)) ||
	    (rc = get_str(h, ents, TAG_MODULARITYLABEL, &p->modularitylabel, err)))
		return rc;
	if (!p->name || !*p->name)
		return FAIL("no NAME (1000)");
	if (!p->rpm_version || !p->rpm_release)
		return FAIL("package '%s': no %s", p->name,
			    !p->rpm_version ? "VERSION (1001)" : "RELEASE (1002)");
	if ((rc = get_u64(h, ents, TAG_EPOCH, T_INT32, &v, &found, err)))
		return rc;
	if (found) {
		p->has_epoch = 1;
		p->epoch = (uint32_t)v;
	}
	if ((rc = get_u64(h, ents, TAG_LONGSIZE, T_INT64, &v, &found, err)))
		return rc;
	if (!found && (rc = get_u64(h, ents, TAG_SIZE, T_INT32, &v, &found, err)))
		return rc;
	p->size = found ? v : 0;
	if ((rc = get_u64(h, ents, TAG_BUILDTIME, T_INT32, &v, &found, err)))
		return rc;
	p->build_time = found ? (int64_t)v : 0;

	dd_buf b = DD_BUF_INIT;
	if (p->has_epoch)
		dd_buf_printf(&b, "%u:", p->epoch);
	dd_buf_printf(&b, "%s-%s", p->rpm_version, p->rpm_release);
	if (b.failed)
		return dd_buf_error(&b, err, "rpm version");
	p->version = dd_buf_detach(&b, NULL);
	if (p->sourcerpm && (rc = split_sourcerpm(p, err)))
		return rc;
	return 0;
}

int dd_rpmhdr_parse(const void *blob, size_t len, dd_package *out, dd_error *err)
{
	const uint8_t *d = blob;
	hdr h;
	entry *ents = NULL;
	size_t need;
	uint32_t ril, rdl;
	int rc;

	if (len < 8)
		return FAIL("header blob of %zu bytes is shorter than its 8-byte preamble", len);
	h.il = dd_rpm_be32(d);
	h.dl = dd_rpm_be32(d + 4);
	if (h.il == 0 || h.il > HDR_TAGS_MAX)
		return FAIL("header index count %u out of range (1..%u)", h.il, HDR_TAGS_MAX);
	if (h.dl > HDR_DATA_MAX)
		return FAIL("header data length %u exceeds %u", h.dl, HDR_DATA_MAX);
	if (dd_mul_size(&need, h.il, ENTRY_SIZE) || dd_add_size(&need, need, 8) ||
	    dd_add_size(&need, need, h.dl) || need > len)
		return FAIL("header with %u entries and %u data bytes needs %zu bytes, blob has %zu",
			    h.il, h.dl, need, len);
	h.pe = d + 8;
	h.ds = h.pe + (size_t)h.il * ENTRY_SIZE;
	if ((rc = check_region(&h, &ril, &rdl, err)))
		return rc;
	ents = dd_calloc(h.il, sizeof(*ents));
	if (!ents)
		return dd_error_oom(err);
	if ((rc = check_entries(&h, ents, ril, rdl, err)))
		goto done;
	rc = fill(&h, ents, out, err);
done:
	free(ents);
	return rc;
}
