/* libFuzzer target: the rpm header blob parser (dd_rpmhdr_parse). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/rpmdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dd_package p;
	dd_error e;

	memset(&p, 0, sizeof(p));
	int rc = dd_rpmhdr_parse(data, size, &p, &e);
	if (rc != 0 && rc != DD_EINPUT && rc != DD_EENV)
		abort();
	if (rc == 0 && (!p.name || !p.version || !p.rpm_version || !p.rpm_release ||
			p.type != DD_PKG_RPM))
		abort();
	if (rc == 0 && p.source_name && !p.source_version)
		abort();
	dd_package_release(&p);
	return 0;
}
