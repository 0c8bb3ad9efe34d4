/* vulndb_fuzz.h - what the importer fuzz targets share: one in-memory DB
 * for the whole run, an import of the input wrapped in a prefix and suffix
 * (so a target can aim at one part of a feed format), and lookups that
 * abort() when a stored row is malformed.  Include it from exactly one
 * fuzz_*.c file per binary. */
#ifndef DD_TESTS_FUZZ_VULNDB_FUZZ_H
#define DD_TESTS_FUZZ_VULNDB_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/log.h"
#include "vulndb/import.h"
#include "vulndb/store.h"

static void fuzz_quiet(enum dd_log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)msg;
	(void)ctx;
}

static int fuzz_visit(const dd_vuln_match *m, void *ctx, dd_error *err)
{
	(void)ctx;
	(void)err;
	if (!m->advisory || !m->status || !m->ecosystem || !m->package)
		abort();
	for (size_t i = 0; i < m->n_ranges; i++)
		for (size_t j = 0; j < m->ranges[i].n_events; j++)
			if (!m->ranges[i].events[j].kind || !m->ranges[i].events[j].version)
				abort();
	return 0;
}

static dd_vulndb *fuzz_db(void)
{
	static dd_vulndb *db;
	dd_error e = DD_ERROR_INIT;
	if (!db) {
		dd_log_set_sink(fuzz_quiet, NULL);
		if (dd_vulndb_open(&db, ":memory:", 0, &e))
			abort();
	}
	return db;
}

/* Import prefix + data + suffix as `name`: only success or DD_EINPUT. */
static void fuzz_import(const char *name, const char *prefix, const uint8_t *data, size_t size,
			const char *suffix)
{
	dd_vulndb_import_opts o = { .source = "fuzz" };
	dd_vulndb_import_stats st;
	dd_error e = DD_ERROR_INIT;
	dd_buf b = DD_BUF_INIT;
	int rc;

	dd_buf_puts(&b, prefix);
	dd_buf_append(&b, data, size);
	dd_buf_puts(&b, suffix);
	if (!b.failed) {
		rc = dd_vulndb_import_buffer(fuzz_db(), name, b.data, b.len, &o, &st, &e);
		if (rc != 0 && rc != DD_EINPUT)
			abort();
	}
	dd_buf_release(&b);
}

/* Every stored row reachable from these keys must be well-formed. */
static void fuzz_lookups(const char *const *keys)
{
	dd_error e = DD_ERROR_INIT;
	for (size_t i = 0; keys[i]; i += 2)
		dd_vulndb_lookup(fuzz_db(), keys[i], keys[i + 1], fuzz_visit, NULL, &e);
}

#endif
