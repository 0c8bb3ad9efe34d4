/* libFuzzer target: SBOM input for `drydock scan --sbom` (CycloneDX and
 * SPDX JSON, purl parsing included).  Every package of the inventory must
 * have a name and a version. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "match/filter.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(enum dd_log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)msg;
	(void)ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dd_inventory *inv = NULL;
	dd_error e = DD_ERROR_INIT;
	dd_purl p;
	char buf[512];

	dd_log_set_sink(quiet, NULL);
	if (dd_sbom_read(&inv, (const char *)data, size, "fuzz", &e) == 0) {
		for (size_t i = 0; i < inv->pkgs.n; i++)
			if (!inv->pkgs.v[i].name || !inv->pkgs.v[i].version)
				abort();
		dd_inventory_free(inv);
	} else if (inv) {
		abort();
	}
	/* the same bytes as one purl */
	size_t n = size < sizeof(buf) - 1 ? size : sizeof(buf) - 1;
	memcpy(buf, data, n);
	buf[n] = '\0';
	if (dd_purl_parse(&p, buf, &e) == 0) {
		if (!p.type || !p.name)
			abort();
		(void)dd_purl_matches(&p, &p);
		dd_purl_release(&p);
	}
	return 0;
}
