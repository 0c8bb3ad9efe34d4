/* libFuzzer target: OpenVEX / CycloneDX VEX documents (dd_vex_parse), then
 * a lookup of a fixed finding against the parsed statements. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "match/filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dd_vex *v = NULL;
	dd_error e = DD_ERROR_INIT;
	dd_finding f;
	char *al[] = { (char *)"GHSA-xxxx" };

	if (dd_vex_parse(&v, (const char *)data, size, "fuzz", &e) != 0) {
		if (v || !e.msg[0])
			abort();
		return 0;
	}
	for (size_t i = 0; i < v->n; i++)
		if (!v->v[i].id || !v->v[i].status)
			abort();
	memset(&f, 0, sizeof(f));
	f.id = (char *)"CVE-2021-3449";
	f.aliases = al;
	f.n_aliases = 1;
	(void)dd_vex_find(v, &f, "pkg:apk/alpine/libssl1.1@1.1.1d-r2?arch=x86_64");
	(void)dd_vex_find(v, &f, NULL);
	dd_vex_free(v);
	return 0;
}
