/* libFuzzer target: stored inventories (dd_invstore_load), as `drydock
 * rescan` reads them from the cache; a loaded inventory is matched against
 * an empty in-memory DB and stored again. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "match/invstore.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(enum dd_log_level l, const char *m, void *c)
{
	(void)l;
	(void)m;
	(void)c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	static dd_vulndb *db;
	dd_error e = DD_ERROR_INIT;
	dd_inventory *inv = NULL;
	char **keys = NULL;
	size_t nk = 0;
	long base = -1;
	FILE *fp;

	dd_log_set_sink(quiet, NULL);
	if (!path[0]) {
		snprintf(path, sizeof(path), "/tmp/dd-fuzz-invstore-%ld.json", (long)getpid());
		if (dd_vulndb_open(&db, ":memory:", 0, &e))
			abort();
	}
	if (!(fp = fopen(path, "wb")))
		return 0;
	fwrite(data, 1, size, fp);
	fclose(fp);
	if (dd_invstore_load(path, &inv, &base, &keys, &nk, &e) == 0) {
		dd_findings *fs = NULL;
		dd_match_opts mo = { base };
		for (size_t i = 0; i < inv->pkgs.n; i++)
			if (!inv->pkgs.v[i].name || !inv->pkgs.v[i].version)
				abort();
		if (dd_match_inventory(&fs, inv, db, &mo, &e) == 0) {
			(void)dd_invstore_update(path, inv, base, fs, &e);
			dd_findings_free(fs);
		}
		dd_invstore_keys_free(keys, nk);
		dd_inventory_free(inv);
	} else if (inv || keys) {
		abort();
	}
	return 0;
}
