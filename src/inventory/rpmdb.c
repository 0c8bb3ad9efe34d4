/*
 * rpmdb.c - format detection and the record sink shared by the rpm database
 * backends; see rpmdb.h.
 */
#include "inventory/rpmdb_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/log.h"
#include "util/banned.h"

/* rpm's default %_dbpath moved from /var/lib/rpm to /usr/lib/sysimage/rpm
 * (Fedora 36, openSUSE); distributions keep a symlink between them.  Newer
 * formats first: a converted database can leave the old file behind. */
const char *const dd_rpmdb_paths[] = {
	"usr/lib/sysimage/rpm/rpmdb.sqlite",
	"var/lib/rpm/rpmdb.sqlite",
	"usr/lib/sysimage/rpm/Packages.db",
	"var/lib/rpm/Packages.db",
	"usr/lib/sysimage/rpm/Packages",
	"var/lib/rpm/Packages",
	NULL,
};

#define BDB_HASH_MAGIC 0x00061561u

enum dd_rpmdb_format dd_rpmdb_detect(const void *data, size_t len)
{
	const uint8_t *d = data;
	if (!d)
		return DD_RPMDB_UNKNOWN;
	if (len >= 16 && !memcmp(d, "SQLite format 3", 16))
		return DD_RPMDB_SQLITE;
	if (len >= 4 && !memcmp(d, "RpmP", 4))
		return DD_RPMDB_NDB;
	if (len >= 16 && (dd_rpm_le32(d + 12) == BDB_HASH_MAGIC || dd_rpm_be32(d + 12) == BDB_HASH_MAGIC))
		return DD_RPMDB_BDB;
	return DD_RPMDB_UNKNOWN;
}

const char *dd_rpmdb_format_name(enum dd_rpmdb_format f)
{
	switch (f) {
	case DD_RPMDB_BDB: return "bdb";
	case DD_RPMDB_NDB: return "ndb";
	case DD_RPMDB_SQLITE: return "sqlite";
	case DD_RPMDB_UNKNOWN: break;
	}
	return "unknown";
}

int dd_rpmdb_add_blob(dd_rpmdb_walk *w, const uint8_t *blob, size_t len, const char *record,
		      dd_error *err)
{
	dd_error e = DD_ERROR_INIT;
	w->st->records++;
	dd_package *p = dd_pkglist_add(w->out);
	if (!p)
		return dd_error_oom(err);
	int rc = dd_rpmhdr_parse(blob, len, p, &e);
	if (rc == DD_EENV) {
		dd_pkglist_drop_last(w->out);
		*err = e;
		return dd_error_prefix(err, "%s: %s", w->name, record);
	}
	if (rc) {
		dd_pkglist_drop_last(w->out);
		dd_rpmdb_skip(w, record, "malformed rpm header: %s", e.msg);
		return 0;
	}
	if (!strcmp(p->name, "gpg-pubkey")) {
		dd_pkglist_drop_last(w->out);
		w->st->pubkeys++;
		return 0;
	}
	w->st->packages++;
	return 0;
}

static void emit(dd_rpmdb_walk *w, const char *fmt, ...) DD_PRINTF(2, 3);
static void emit(dd_rpmdb_walk *w, const char *fmt, ...)
{
	char msg[DD_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (w->st->warn)
		w->st->warn(w->st->warn_ctx, msg);
	else
		dd_warn("%s", msg);
}

void dd_rpmdb_skip(dd_rpmdb_walk *w, const char *record, const char *fmt, ...)
{
	char msg[DD_ERROR_MSG_MAX];
	va_list ap;
	w->st->skipped++;
	if (++w->nwarn > DD_RPMDB_MAX_WARN)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(w, "%s: %s: skipped: %s", w->name, record, msg);
}

void dd_rpmdb_truncated(dd_rpmdb_walk *w, const char *fmt, ...)
{
	char msg[DD_ERROR_MSG_MAX];
	va_list ap;
	w->st->truncated = 1;
	if (++w->nwarn > DD_RPMDB_MAX_WARN)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(w, "%s: %s; packages stored past it are missing", w->name, msg);
}

int dd_rpmdb_parse_ex(const void *data, size_t len, const char *name, dd_pkglist *out,
		      dd_rpmdb_stats *stats, dd_error *err)
{
	dd_rpmdb_stats local;
	dd_rpmdb_walk w;
	size_t n0 = out->n;
	int rc;

	if (!stats) {
		stats = &local;
		stats->warn = NULL;
		stats->warn_ctx = NULL;
	}
	dd_rpmdb_warn_fn warn = stats->warn;
	void *warn_ctx = stats->warn_ctx;
	memset(stats, 0, sizeof(*stats));
	stats->warn = warn;
	stats->warn_ctx = warn_ctx;
	w.name = name ? name : "rpmdb";
	w.out = out;
	w.st = stats;
	w.max_records = 1u << 20;
	w.nwarn = 0;
	stats->format = dd_rpmdb_detect(data, len);
	switch (stats->format) {
	case DD_RPMDB_BDB: rc = dd_rpmdb_walk_bdb(data, len, &w, err); break;
	case DD_RPMDB_NDB: rc = dd_rpmdb_walk_ndb(data, len, &w, err); break;
	case DD_RPMDB_SQLITE: rc = dd_rpmdb_walk_sqlite(data, len, &w, err); break;
	default:
		return dd_error_set(err, DD_EINPUT,
				    "%s: not an rpm database (no BerkeleyDB, NDB or SQLite magic)",
				    w.name);
	}
	if (!rc && w.nwarn > DD_RPMDB_MAX_WARN)
		emit(&w, "%s: %zu more problems not shown (%zu malformed records skipped in all)",
		     w.name, w.nwarn - DD_RPMDB_MAX_WARN, stats->skipped);
	if (rc) {
		while (out->n > n0)
			dd_pkglist_drop_last(out);
		stats->packages = 0;
	}
	return rc;
}

int dd_rpmdb_parse(const void *data, size_t len, const char *name, dd_pkglist *out, dd_error *err)
{
	return dd_rpmdb_parse_ex(data, len, name, out, NULL, err);
}
