/* libFuzzer target: the apk installed-database parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/apk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dd_pkglist l = DD_PKGLIST_INIT;
	dd_warnlist w = DD_WARNLIST_INIT;
	dd_error e;

	dd_apk_parse_installed(&l, (const char *)data, size, "installed", &w, &e);
	for (size_t i = 0; i < l.n; i++)
		if (!l.v[i].name || !l.v[i].version)
			abort();
	dd_pkglist_release(&l);
	dd_warnlist_release(&w);
	return 0;
}
