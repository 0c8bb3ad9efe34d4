/* fuzz_challenge - WWW-Authenticate challenges (dd_challenge_parse) and
 * base64 (decode arbitrary text; encode-decode round trip of the bytes). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *enc;
	dd_error err = DD_ERROR_INIT;
	dd_challenge c;
	unsigned char *dec;
	size_t n;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (dd_challenge_parse(&c, s, &err) == 0) {
		if (c.scheme != DD_AUTH_BASIC && c.scheme != DD_AUTH_BEARER)
			__builtin_trap();
		if (c.scheme == DD_AUTH_BEARER && (!c.realm || !c.realm[0]))
			__builtin_trap();
		dd_challenge_release(&c);
	} else if (c.realm || c.service || c.scope) {
		__builtin_trap(); /* a failed parse leaves nothing to free */
	}
	if (dd_base64_decode(s, &dec, &n) == 0) {
		if (n > size)
			__builtin_trap();
		free(dec);
	}
	enc = dd_base64_encode(data, size);
	if (enc) {
		if (dd_base64_decode(enc, &dec, &n) != 0 || n != size || (size && memcmp(dec, data, size)))
			__builtin_trap();
		free(dec);
		free(enc);
	}
	free(s);
	return 0;
}
