/* fuzz_layer_record - arbitrary bytes as a layer-cache record replayed into
 * a walker (wants on "*" that slurp), then the squashed view built. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "layer/walker.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int slurp(void *ctx, const dd_file *f, dd_error *err)
{
	dd_buf b = DD_BUF_INIT;
	int rc = dd_file_slurp_all(f, &b, err);
	(void)ctx;
	dd_buf_release(&b);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dd_walker *w = NULL;
	dd_error e = DD_ERROR_INIT;
	dd_layer_stats st;

	if (dd_walker_new(&w, NULL, &e))
		return 0;
	dd_walker_want(w, "*", slurp, NULL, &e);
	dd_walker_want(w, "etc/os-release", slurp, NULL, &e);
	if (dd_walker_replay(w, 0, data, size, NULL, &st, &e) == 0 && dd_walker_finish(w, &e) == 0) {
		for (size_t i = 0; i < dd_walker_count(w); i++)
			(void)dd_walker_resolve(w, dd_walker_entry(w, i)->path);
	}
	dd_walker_free(w);
	return 0;
}
