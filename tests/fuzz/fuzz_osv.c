/* libFuzzer target: OSV JSON/YAML records, and through format detection every
 * other importer that takes raw content (NVD/CVE JSON 5, Ubuntu CVE Tracker).
 * Imports into an in-memory vulnerability DB, then checks that a lookup
 * still works (rows are well-formed) and that failures left nothing. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/log.h"
#include "vulndb/import.h"
#include "vulndb/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(enum dd_log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)msg;
	(void)ctx;
}

static int visit(const dd_vuln_match *m, void *ctx, dd_error *err)
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static dd_vulndb *db;
	dd_vulndb_import_opts o = { "fuzz", 0, 0 };
	dd_vulndb_import_stats st;
	dd_error e = DD_ERROR_INIT;
	dd_buf b = DD_BUF_INIT;

	if (!db) {
		dd_log_set_sink(quiet, NULL);
		if (dd_vulndb_open(&db, ":memory:", 0, &e))
			abort();
	}
	dd_buf_puts(&b, "");
	dd_buf_append(&b, data, size);
	dd_buf_puts(&b, "");
	if (b.failed) {
		dd_buf_release(&b);
		return 0;
	}
	int rc = dd_vulndb_import_buffer(db, "fuzz.json", b.data, b.len, &o, &st, &e);
	if (rc != 0 && rc != DD_EINPUT)
		abort();
	dd_vulndb_lookup(db, "npm", "x", visit, NULL, &e);
	dd_vulndb_lookup(db, "Alpine:v3.10", "x", visit, NULL, &e);
	dd_vulndb_lookup(db, "Debian:12", "pkg", visit, NULL, &e);
	dd_buf_release(&b);
	return 0;
}
