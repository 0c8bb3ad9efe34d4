/* libFuzzer target: os-release(5) and the distribution release files. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "inventory/os.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const paths[] = {
	"etc/os-release", "etc/alpine-release", "etc/debian_version",
	"etc/redhat-release", "etc/SuSE-release", "usr/lib/os-release",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dd_os os;
	dd_error e;
	const char *path = paths[size ? data[0] % 6 : 0];

	if (size)
		data++, size--;
	memset(&os, 0, sizeof(os));
	dd_os_parse_release_file(&os, path, (const char *)data, size, &e);
	dd_os_release(&os);
	return 0;
}
