/* libFuzzer target: the importers' fast JSON reader (src/vulndb/json.c),
 * differential against jansson.  Whatever the fast reader accepts, jansson
 * must accept too, with an equal tree and the same key order; and the full
 * loader fails exactly when jansson fails. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vulndb/import_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data;
	json_error_t je;
	json_t *fast = dd_vimport_json_fast(d, size);
	json_t *ref = json_loadb(d, size, JSON_ALLOW_NUL, &je);
	json_t *full = dd_vimport_json_load(d, size, &je);

	if (!ref != !full)
		abort();
	if (fast) {
		if (!ref || !json_equal(fast, ref))
			abort();
		char *a = json_dumps(fast, JSON_COMPACT | JSON_PRESERVE_ORDER);
		char *b = json_dumps(ref, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (!a || !b || strcmp(a, b) != 0)
			abort();
		free(a);
		free(b);
	}
	json_decref(fast);
	json_decref(ref);
	json_decref(full);
	return 0;
}
