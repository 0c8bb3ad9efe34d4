/* libFuzzer target (seeds and dictionary: tests/fuzz/corpus/poll_index*):
 * the per-platform digests of an image index
 * (dd_poll_platforms_of), every platform and a wanted list. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "watch/poll.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const uint8_t *data, size_t size, const char *const *want, size_t n_want)
{
	dd_poll_platform *p = NULL;
	size_t n = 0;
	dd_error e;

	if (dd_poll_platforms_of((const char *)data, size, want, n_want, &p, &n, &e) == 0) {
		if (n_want && n != n_want)
			abort();
		for (size_t i = 0; i < n; i++)
			if (!p[i].platform || (!n_want && !p[i].digest) ||
			    (p[i].digest && strncmp(p[i].digest, "sha256:", 7)))
				abort();
	} else if (p || n) {
		abort();
	}
	dd_poll_platforms_free(p, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const want[] = { "linux/amd64", "linux/arm64", "linux/arm/v7" };

	one(data, size, NULL, 0);
	one(data, size, want, 3);
	return 0;
}
