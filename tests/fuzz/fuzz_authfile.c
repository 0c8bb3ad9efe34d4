/* fuzz_authfile - credentials files (config.json / auth.json) parsed by
 * dd_cred_parse_config for a few hosts (nothing is executed). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const hosts[] = { "docker.io", "localhost:5000", "r.example", "" };
	dd_error err = DD_ERROR_INIT;

	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		dd_cred c;
		char *helper = (char *)1;
		int rc = dd_cred_parse_config(&c, &helper, (const char *)data, size, hosts[i], "fuzz.json", &err);
		if (rc < 0 && (helper || c.username || c.password || c.identity_token))
			__builtin_trap();
		if (rc == 1 && !c.username && !c.identity_token)
			__builtin_trap();
		if (c.username && !c.password)
			__builtin_trap();
		free(helper);
		dd_cred_release(&c);
	}
	return 0;
}
