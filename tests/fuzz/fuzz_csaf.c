/* libFuzzer target: Red Hat CSAF VEX documents and CSAF advisories.  Each
 * input is imported twice into an in-memory vulnerability DB: as is (format
 * detection), and as the members of an object that already declares itself a
 * CSAF VEX document (so mutations reach the product tree and status code
 * quickly).  Then lookups must return well-formed rows.  Also feeds the input
 * to the sources-list parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/log.h"
#include "vulndb/import.h"
#include "vulndb/sources.h"
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

static void import(dd_vulndb *db, const char *prefix, const uint8_t *data, size_t size)
{
	dd_vulndb_import_opts o = { "fuzz", 0, 0, NULL, NULL, NULL, NULL };
	dd_vulndb_import_stats st;
	dd_error e = DD_ERROR_INIT;
	dd_buf b = DD_BUF_INIT;

	dd_buf_puts(&b, prefix);
	dd_buf_append(&b, data, size);
	if (b.failed) {
		dd_buf_release(&b);
		return;
	}
	int rc = dd_vulndb_import_buffer(db, "fuzz.json", b.data ? b.data : "", b.len, &o, &st,
					 &e);
	if (rc != 0 && rc != DD_EINPUT)
		abort();
	dd_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static dd_vulndb *db;
	dd_error e = DD_ERROR_INIT;
	dd_vulndb_sources srcs;

	if (!db) {
		dd_log_set_sink(quiet, NULL);
		if (dd_vulndb_open(&db, ":memory:", 0, &e))
			abort();
	}
	import(db, "", data, size);
	import(db, "{\"document\":{\"category\":\"csaf_vex\",\"tracking\":{\"id\":\"x\"}},", data,
	       size);
	dd_vulndb_lookup(db, "Red Hat:9", "openssl", visit, NULL, &e);
	dd_vulndb_lookup(db, "Red Hat:8", "openssl", visit, NULL, &e);
	if (dd_vulndb_sources_parse(&srcs, (const char *)data, size, "fuzz", &e) == 0) {
		for (size_t i = 0; i < srcs.n; i++)
			if (!srcs.v[i].name || !srcs.v[i].url || strncmp(srcs.v[i].url, "http", 4))
				abort();
		dd_vulndb_sources_release(&srcs);
	}
	return 0;
}
