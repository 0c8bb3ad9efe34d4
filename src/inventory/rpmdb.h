/*
 * rpmdb.h - read rpm package databases without librpm.
 *
 * Three on-disk formats are understood, told apart by their content's magic
 * (never by file name):
 *   - BerkeleyDB hash `Packages` (/var/lib/rpm/Packages, RHEL <= 8, CentOS,
 *     Amazon Linux 2), either byte order;
 *   - NDB `Packages.db` (SUSE: /var/lib/rpm/Packages.db,
 *     /usr/lib/sysimage/rpm/Packages.db);
 *   - SQLite `rpmdb.sqlite` (rpm >= 4.16: RHEL 9, Fedora, CBL-Mariner, at
 *     /var/lib/rpm/ or /usr/lib/sysimage/rpm/), opened from memory with
 *     sqlite3_deserialize (no temporary file is written).
 * Every value stored in them is an rpm "header image" (see dd_rpmhdr_parse),
 * which this module parses itself.
 *
 * Memory: the input bytes are borrowed and never modified; the packages
 * appended to the caller's dd_pkglist own all their strings (freed with
 * dd_pkglist_release()).
 */
#ifndef DD_INVENTORY_RPMDB_H
#define DD_INVENTORY_RPMDB_H

#include <stddef.h>

#include "inventory/package.h"
#include "util/error.h"

/* Where rpm databases live in a root filesystem, relative to the root,
 * NULL-terminated, most preferred first: SQLite, then NDB, then BerkeleyDB
 * (a converted database can leave the old file behind), each in
 * /usr/lib/sysimage/rpm before /var/lib/rpm.  Use the first that exists. */
extern const char *const dd_rpmdb_paths[];

enum dd_rpmdb_format {
	DD_RPMDB_UNKNOWN = 0,
	DD_RPMDB_BDB,     /* BerkeleyDB hash, magic 0x00061561 */
	DD_RPMDB_NDB,     /* "RpmP" */
	DD_RPMDB_SQLITE,  /* "SQLite format 3\0" */
};

/* Detect the format from the first bytes (at least 16 needed; BerkeleyDB
 * needs 16 since its magic is at offset 12). */
enum dd_rpmdb_format dd_rpmdb_detect(const void *data, size_t len);
const char *dd_rpmdb_format_name(enum dd_rpmdb_format f); /* "bdb", "ndb", "sqlite" */

/* Where warnings go: one line each, already naming the database. */
typedef void (*dd_rpmdb_warn_fn)(void *ctx, const char *msg);

/* What a parse found, for callers that grade failures (--strict). */
typedef struct dd_rpmdb_stats {
	/* In: where warnings go; NULL sends them to dd_warn().  These two
	 * fields are kept, everything else is reset by the parse. */
	dd_rpmdb_warn_fn warn;
	void *warn_ctx;
	/* Out: */
	enum dd_rpmdb_format format;
	size_t records;   /* header blobs seen (including skipped ones) */
	size_t packages;  /* packages appended to out */
	size_t skipped;   /* malformed records skipped with a warning */
	size_t pubkeys;   /* gpg-pubkey pseudo-packages left out */
	int truncated;    /* the walk stopped early (page loop, bad slot, ...) */
} dd_rpmdb_stats;

/* Initialise before use: the parse reads warn and warn_ctx. */
#define DD_RPMDB_STATS_INIT { NULL, NULL, DD_RPMDB_UNKNOWN, 0, 0, 0, 0, 0 }

/*
 * Parse an rpm database (BerkeleyDB hash `Packages`, NDB `Packages.db`, or
 * SQLite `rpmdb.sqlite`, detected from the content's magic) held in memory,
 * appending one dd_package (type DD_PKG_RPM, db_path left NULL for the
 * caller to set) per installed package to out, in database order.  name is
 * the database's path, for messages.
 *
 * gpg-pubkey pseudo-packages (imported signing keys, which `rpm -qa` lists
 * but which are not software) are left out.
 *
 * A malformed record (a header blob with lying offsets, a truncated blob, a
 * slot pointing past the file) is skipped with a warning (stats->warn, or
 * dd_warn()) naming the database, the record and the problem; at most 10
 * such lines per database, then one summary line; the rest is still returned and
 * stats->skipped counts it.  Damage that stops the walk part way (a page
 * loop, a page number past the end) is a warning too, keeping what was read
 * before it (stats->truncated).  Returns 0, or DD_EINPUT when the data is not
 * an rpm database at all (unknown magic, corrupt metadata, a SQLite file
 * without a Packages table), DD_EENV on memory exhaustion; on error nothing
 * is appended to out.
 */
int dd_rpmdb_parse(const void *data, size_t len, const char *name, dd_pkglist *out, dd_error *err);
/* The same, also reporting what was found; stats (initialised with
 * DD_RPMDB_STATS_INIT, or its warn fields set) may be NULL. */
int dd_rpmdb_parse_ex(const void *data, size_t len, const char *name, dd_pkglist *out,
		      dd_rpmdb_stats *stats, dd_error *err);

/*
 * Parse one header blob (the on-disk "header image" form stored in the
 * databases: big-endian il (index count) and dl (data length), il 16-byte
 * index entries (tag, type, offset, count), then dl bytes of data store)
 * into out, which must be zeroed (as dd_pkglist_add() returns it); out->type
 * is set to DD_PKG_RPM.  Trailing bytes after the data store are ignored
 * (NDB blobs are padded).  Returns 0, DD_EINPUT for a malformed header (the
 * message names the tag and the problem; callers prefix the database and
 * record), DD_EENV on memory exhaustion.  On error out's strings may be
 * partly set: release them with dd_package_release().
 */
int dd_rpmhdr_parse(const void *blob, size_t len, dd_package *out, dd_error *err);

#endif
