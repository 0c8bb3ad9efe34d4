/* fuzz_dockerarchive - arbitrary bytes as a `docker save` archive (outer tar,
 * manifest.json, configs, links between members), opened and walked. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64], ref[96];
	dd_error err = DD_ERROR_INIT;
	dd_image_opts o;
	dd_image *img = NULL;
	FILE *f;

	if (!path[0]) {
		snprintf(path, sizeof(path), "/tmp/fuzz_dockerarchive.%d.tar", (int)getpid());
		snprintf(ref, sizeof(ref), "docker-archive:%s", path);
	}
	f = fopen(path, "wb");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	dd_image_opts_init(&o);
	o.limits.max_total_bytes = 64 << 20;
	o.limits.max_entries = 10000;
	if (dd_image_open(&img, ref, &o, &err) == 0) {
		dd_walker *w = NULL;
		if (dd_walker_new(&w, &o.limits, &err) == 0)
			(void)dd_image_walk(img, w, &err);
		dd_walker_free(w);
		dd_image_free(img);
	}
	return 0;
}
