/*
 * spdx.h - the inventory as an SPDX 2.3 JSON document.
 *
 * Packages: the image (primaryPackagePurpose CONTAINER), the operating
 * system (OPERATING_SYSTEM) and one per OS package with its package URL
 * (externalRefs), declared license as a valid SPDX expression (free-text
 * licenses become LicenseRef-<name> defined in hasExtractedLicensingInfos),
 * supplier, source package (sourceInfo) and drydock facts as annotations
 * (layer, database, type).  Relationships: DOCUMENT DESCRIBES image, image
 * CONTAINS OS, OS CONTAINS each package.  docs/sbom-formats.md lists every
 * field.
 *
 * Output is deterministic: the same inventory gives byte-identical output
 * except creationInfo.created, annotation dates and documentNamespace; with
 * SOURCE_DATE_EPOCH set those are fixed too.
 *
 * Memory: nothing retained; the caller owns out and inv.
 */
#ifndef DD_REPORT_SPDX_H
#define DD_REPORT_SPDX_H

#include <stdio.h>

#include "inventory/inventory.h"
#include "util/error.h"

/* Write the document (pretty-printed, 2-space indent, ending in a newline)
 * to out.  Returns 0, DD_EUSAGE for a malformed SOURCE_DATE_EPOCH, DD_EENV
 * when writing fails or memory runs out (err says which). */
int dd_report_spdx(FILE *out, const dd_inventory *inv, dd_error *err);

#endif
