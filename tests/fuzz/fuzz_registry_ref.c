/* fuzz_registry_ref - registry references (dd_ref_parse).  Property: a
 * reference that parses formats to a canonical string that parses to the
 * same value, and formats to itself. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry/ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	dd_error err = DD_ERROR_INIT;
	dd_ref a, b;
	char fa[1024], fb[1024];

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	(void)dd_ref_looks_remote(s);
	if (dd_ref_parse(&a, s, &err) == 0) {
		if (!a.domain[0] || !a.path[0] || (!a.tag[0] && !dd_digest_is_set(&a.digest)))
			__builtin_trap();
		(void)dd_ref_is_loopback(&a);
		(void)dd_ref_api_host(&a);
		dd_ref_format(&a, fa, sizeof(fa));
		if (dd_ref_parse(&b, fa, &err) != 0)
			__builtin_trap(); /* the canonical form must parse */
		if (strcmp(a.domain, b.domain) || strcmp(a.path, b.path) || strcmp(a.tag, b.tag) ||
		    strcmp(a.digest.s, b.digest.s))
			__builtin_trap(); /* ... to the same value */
		dd_ref_format(&b, fb, sizeof(fb));
		if (strcmp(fa, fb))
			__builtin_trap();
		if (dd_ref_is_loopback(&a) != dd_ref_is_loopback(&b))
			__builtin_trap();
	}
	free(s);
	return 0;
}
