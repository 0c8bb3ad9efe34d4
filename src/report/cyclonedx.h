/*
 * cyclonedx.h - the inventory as a CycloneDX 1.6 JSON BOM.
 *
 * One "container" component for the image (metadata.component), one
 * "operating-system" component, one "library" component per package with
 * its package URL, licenses and drydock:* properties (source package,
 * layer, database), and a dependency graph image -> OS -> packages.
 * docs/sbom-formats.md lists every field.
 *
 * Output is deterministic: the same inventory gives byte-identical output
 * except metadata.timestamp and serialNumber; with SOURCE_DATE_EPOCH set
 * those are fixed too (timestamp = SOURCE_DATE_EPOCH, serial derived from it
 * and the image's digests).
 *
 * Memory: nothing retained; the caller owns out and inv.
 */
#ifndef DD_REPORT_CYCLONEDX_H
#define DD_REPORT_CYCLONEDX_H

#include <stdio.h>

#include "inventory/inventory.h"
#include "util/error.h"

/* Write the BOM (pretty-printed, 2-space indent, ending in a newline) to out.
 * Returns 0, DD_EUSAGE for a malformed SOURCE_DATE_EPOCH, DD_EENV when
 * writing fails or memory runs out (err says which). */
int dd_report_cyclonedx(FILE *out, const dd_inventory *inv, dd_error *err);

#endif
