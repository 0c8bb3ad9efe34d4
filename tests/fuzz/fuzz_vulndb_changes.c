/* libFuzzer target: Red Hat's changes.csv / deletions.csv parser
 * (src/vulndb/changes.c), with the path rules checked on what it accepts:
 * relative, no "..", no "//", ending in ".json"; then the list operations
 * update.c uses (newest-per-path, lookup, advisory id, time round trip). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vulndb/changes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dd_vulndb_changes c;
	dd_error e = DD_ERROR_INIT;
	memset(&c, 0, sizeof(c));
	if (dd_vulndb_changes_parse((const char *)data, size, &c, &e)) {
		dd_vulndb_changes_release(&c);
		return 0;
	}
	for (size_t i = 0; i < c.n; i++) {
		const char *p = c.v[i].path;
		size_t n = strlen(p);
		char id[96], ts[32];
		int64_t back;
		if (n < 6 || p[0] == '/' || strstr(p, "..") || strstr(p, "//") ||
		    strcmp(p + n - 5, ".json") != 0)
			abort();
		dd_vulndb_change_id(p, id, sizeof(id));
		if (strlen(id) >= sizeof(id))
			abort();
		/* years 0000-9999 round-trip through the cursor text */
		dd_vulndb_time_format(c.v[i].ts, ts);
		if (c.v[i].ts >= 0 && c.v[i].ts < 253402300800LL &&
		    (dd_vulndb_time_parse(ts, strlen(ts), &back) || back != c.v[i].ts))
			abort();
	}
	int64_t after = c.n ? c.v[0].ts : 0;
	dd_vulndb_changes_keep_newer(&c, after);
	for (size_t i = 0; i < c.n; i++) {
		if (c.v[i].ts <= after || dd_vulndb_changes_find(&c, c.v[i].path) != &c.v[i])
			abort();
		if (i && strcmp(c.v[i - 1].path, c.v[i].path) >= 0)
			abort();
	}
	dd_vulndb_changes_release(&c);
	return 0;
}
