/* libFuzzer target: the dpkg status parser (both status and status.d
 * modes) and the file-list parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/dpkg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dd_pkglist l = DD_PKGLIST_INIT;
	dd_warnlist w = DD_WARNLIST_INIT;
	dd_error e;
	char **files = NULL;
	size_t nfiles = 0;
	int mode = size ? data[0] & 3 : 0;

	if (size)
		data++, size--;
	if (mode < 2) {
		dd_dpkg_parse_status(&l, (const char *)data, size, "status", mode, &w, &e);
		for (size_t i = 0; i < l.n; i++)
			if (!l.v[i].name || strlen(l.v[i].name) == 0)
				abort();
	} else {
		dd_dpkg_parse_filelist(&files, &nfiles, (const char *)data, size, mode == 3, &e);
	}
	for (size_t i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	dd_pkglist_release(&l);
	dd_warnlist_release(&w);
	return 0;
}
