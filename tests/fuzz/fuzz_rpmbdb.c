/* libFuzzer target: the rpm BerkeleyDB hash `Packages` reader, called
 * directly (no magic detection in the way); warnings are counted, not printed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/rpmdb_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(void *ctx, const char *msg)
{
	(void)msg;
	++*(size_t *)ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dd_pkglist l = DD_PKGLIST_INIT;
	dd_rpmdb_stats st = DD_RPMDB_STATS_INIT;
	dd_rpmdb_walk w;
	dd_error e;
	size_t nwarn = 0;

	st.warn = quiet;
	st.warn_ctx = &nwarn;
	memset(&w, 0, sizeof(w));
	w.name = "fuzz";
	w.out = &l;
	w.st = &st;
	w.max_records = 1u << 20;
	int rc = dd_rpmdb_walk_bdb(data, size, &w, &e);
	if (rc != 0 && rc != DD_EINPUT && rc != DD_EENV)
		abort();
	if (l.n != st.packages || st.packages + st.skipped + st.pubkeys > st.records)
		abort();
	for (size_t i = 0; i < l.n; i++)
		if (!l.v[i].name || !l.v[i].version)
			abort();
	if (nwarn > DD_RPMDB_MAX_WARN)  /* the cap holds */
		abort();
	dd_pkglist_release(&l);
	/* And through the public entry point (detection, rollback on error). */
	dd_rpmdb_parse_ex(data, size, "fuzz", &l, &st, &e);
	dd_pkglist_release(&l);
	return 0;
}
