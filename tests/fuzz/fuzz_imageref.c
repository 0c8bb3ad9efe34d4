/* fuzz_imageref - arbitrary text as an image reference and a platform. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	dd_error err = DD_ERROR_INIT;
	dd_srcref r;
	dd_platform p;
	char *n;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (dd_srcref_parse(&r, s, &err) == 0) {
		if (!r.path || !r.path[0])
			__builtin_trap();
		dd_srcref_release(&r);
	}
	if (dd_platform_parse(&p, s, &err) == 0) {
		char buf[128];
		dd_platform_format(&p, buf, sizeof(buf));
		(void)dd_platform_match(&p, &p);
	}
	n = dd_srcref_docker_name(s);
	free(n);
	free(s);
	return 0;
}
