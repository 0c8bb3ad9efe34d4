/* fuzz_layer - arbitrary bytes as a layer blob: decompression detection,
 * gzip/zstd decoding, tar parsing, path checks, whiteouts and the view,
 * with a want on "*" that slurps every delivered file. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "layer/walker.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static int slurp(void *ctx, const dd_file *f, dd_error *err)
{
	dd_buf b = DD_BUF_INIT;
	int rc = dd_file_slurp_all(f, &b, err);
	(void)ctx;
	dd_buf_release(&b);
	return rc;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("DRYDOCK_HASH_THREAD", "0", 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dd_walker *w = NULL;
	dd_error e = DD_ERROR_INIT;
	dd_limits l;
	dd_mem_reader mr;
	dd_reader r;

	/* the last byte picks the inflater, so both see every gzip input */
	if (size && (data[size - 1] & 1))
		setenv("DRYDOCK_INFLATE", "zlib", 1);
	else
		unsetenv("DRYDOCK_INFLATE");
	dd_limits_default(&l);
	l.max_total_bytes = 64 << 20; /* keep bombs cheap */
	l.max_read_bytes = 1 << 20;
	if (dd_walker_new(&w, &l, &e))
		return 0;
	dd_walker_want(w, "*", slurp, NULL, &e);
	dd_walker_want(w, "*/*", slurp, NULL, &e);
	dd_walker_want(w, "etc/os-release", slurp, NULL, &e);
	/* the same bytes as two layers, so whiteouts apply across them */
	dd_reader_from_mem(&r, &mr, data, size);
	if (dd_walker_layer(w, 1, &r, NULL, NULL, "fuzz", NULL, &e) == 0) {
		dd_reader_from_mem(&r, &mr, data, size);
		dd_walker_layer(w, 0, &r, NULL, NULL, "fuzz", NULL, &e);
		if (dd_walker_finish(w, &e) == 0) {
			size_t n = dd_walker_count(w);
			for (size_t i = 0; i < n && i < 64; i++) {
				const dd_fsentry *fe = dd_walker_entry(w, i);
				dd_walker_lookup(w, fe->path);
				dd_walker_resolve(w, fe->path);
			}
		}
	}
	dd_walker_free(w);
	return 0;
}
