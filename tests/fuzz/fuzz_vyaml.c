/* libFuzzer target: the importers' fast YAML reader (src/vulndb/yamlfast.c),
 * differential against the libyaml conversion (src/vulndb/yaml.c).
 * Whatever the fast reader accepts, libyaml must accept too, with an equal
 * tree and the same key order; and the full loader fails exactly when
 * libyaml fails. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vulndb/import_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data;
	dd_error e1 = DD_ERROR_INIT, e2 = DD_ERROR_INIT;
	json_t *fast = dd_vimport_yaml_fast(d, size);
	json_t *ref = dd_vimport_yaml_libyaml(d, size, "fuzz.yaml", &e1);
	json_t *full = dd_vimport_yaml_load(d, size, "fuzz.yaml", &e2);

	if (!ref != !full)
		abort();
	if (fast) {
		if (!ref || !json_equal(fast, ref))
			abort();
		char *a = json_dumps(fast, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
		char *b = json_dumps(ref, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
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
