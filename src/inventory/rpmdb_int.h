/*
 * rpmdb_int.h - internals shared by the rpm database readers (rpmdb.c,
 * rpmhdr.c, rpmbdb.c, rpmndb.c, rpmsqlite.c); not a public API.
 *
 * Byte readers: dd_rpm_be32() and friends read from a pointer whose bounds
 * the caller has already checked (every read site sits behind an explicit
 * `off + width <= len` test on the enclosing structure).
 *
 * A dd_rpmdb_walk carries what every backend needs while it walks a
 * database: the name for messages, the output list and the counters.  Each
 * backend hands every header blob it finds to dd_rpmdb_add_blob(), which
 * parses it and appends or skips it.
 */
#ifndef DD_INVENTORY_RPMDB_INT_H
#define DD_INVENTORY_RPMDB_INT_H

#include <stddef.h>
#include <stdint.h>

#include "inventory/rpmdb.h"

static inline uint32_t dd_rpm_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t dd_rpm_be64(const uint8_t *p)
{
	return (uint64_t)dd_rpm_be32(p) << 32 | dd_rpm_be32(p + 4);
}
static inline uint32_t dd_rpm_le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}
static inline uint16_t dd_rpm_le16(const uint8_t *p)
{
	return (uint16_t)(p[1] << 8 | p[0]);
}
static inline uint16_t dd_rpm_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* 32/16-bit read in the byte order of a BerkeleyDB file (big: written big-endian). */
static inline uint32_t dd_rpm_bo32(const uint8_t *p, int big)
{
	return big ? dd_rpm_be32(p) : dd_rpm_le32(p);
}
static inline uint16_t dd_rpm_bo16(const uint8_t *p, int big)
{
	return big ? dd_rpm_be16(p) : dd_rpm_le16(p);
}

typedef struct dd_rpmdb_walk {
	const char *name;        /* database path, for messages */
	dd_pkglist *out;
	dd_rpmdb_stats *st;
	size_t max_records;      /* stop (truncated) after this many blobs */
	size_t nwarn;            /* warnings issued (capped at DD_RPMDB_MAX_WARN) */
} dd_rpmdb_walk;

/* Warnings about one database beyond this many are summarised in one line. */
#define DD_RPMDB_MAX_WARN 10

/* Parse one header blob found at `record` (a short label such as
 * "record 12" or "slot 3 (package 7)"): append it to w->out, or skip it
 * with a warning (malformed) or silently (gpg-pubkey).  Returns 0, or
 * DD_EENV on memory exhaustion (err filled), which ends the walk. */
int dd_rpmdb_add_blob(dd_rpmdb_walk *w, const uint8_t *blob, size_t len, const char *record,
		      dd_error *err);

/* Skip a malformed record (already counted in records): count it and warn
 * "NAME: RECORD: skipped: WHY". */
void dd_rpmdb_skip(dd_rpmdb_walk *w, const char *record, const char *fmt, ...) DD_PRINTF(3, 4);

/* Warn that (part of) the walk stopped early, and mark the stats. */
void dd_rpmdb_truncated(dd_rpmdb_walk *w, const char *fmt, ...) DD_PRINTF(2, 3);

/* The backends.  Each returns 0 (possibly with skipped records), DD_EINPUT
 * when the data is not a usable database of that format, DD_EENV. */
int dd_rpmdb_walk_bdb(const uint8_t *d, size_t len, dd_rpmdb_walk *w, dd_error *err);
int dd_rpmdb_walk_ndb(const uint8_t *d, size_t len, dd_rpmdb_walk *w, dd_error *err);
int dd_rpmdb_walk_sqlite(const uint8_t *d, size_t len, dd_rpmdb_walk *w, dd_error *err);

#endif
