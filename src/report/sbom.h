/*
 * sbom.h - what the CycloneDX and SPDX writers share: the document time and
 * identifiers (SOURCE_DATE_EPOCH), SPDX license expressions, text cleaning
 * for JSON, and the per-package facts both formats carry.
 *
 * Internal to src/report/; not part of the library's public surface.
 * Memory: every function writes into caller-owned buffers; nothing is
 * retained between calls.
 */
#ifndef DD_REPORT_SBOM_H
#define DD_REPORT_SBOM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "inventory/inventory.h"
#include "util/buf.h"
#include "util/error.h"

/* The SPDX license list (spdx_ids.c): identifiers sorted case-insensitively. */
extern const char *const dd_spdx_license_ids[];
extern const size_t dd_spdx_license_ids_count;
extern const char dd_spdx_license_list_version[]; /* "3.24" */

/* The canonical spelling of an SPDX license or exception id ("mit" ->
 * "MIT"), or NULL when it is not on the list.  n is the length of id. */
const char *dd_spdx_license_lookup(const char *id, size_t n);

enum dd_license_kind {
	DD_LICENSE_NONE,  /* no license text */
	DD_LICENSE_ID,    /* exactly one listed identifier, e.g. "MIT" */
	DD_LICENSE_EXPR,  /* a valid SPDX expression, e.g. "MIT OR Apache-2.0" */
	DD_LICENSE_TEXT,  /* anything else: free text such as "GPL2+ BSD" */
};

/* Classify a package's license text.  For ID and EXPR, the canonical form
 * (listed spelling of each id, upper-case operators, single spaces) is
 * appended to canon (which may be NULL).  Text that uses LicenseRef- or
 * DocumentRef- is TEXT (the document would have to define it). */
enum dd_license_kind dd_license_classify(const char *s, dd_buf *canon);

/* The document time: SOURCE_DATE_EPOCH when set (then *fixed = 1), else the
 * current time.  DD_EUSAGE when SOURCE_DATE_EPOCH is not a decimal count of
 * seconds between 0 and 253402300799 (9999-12-31T23:59:59Z). */
int dd_sbom_time(time_t *out, int *fixed, dd_error *err);

/* RFC 3339 UTC, "2024-01-02T03:04:05Z", into buf (at least 21 bytes). */
void dd_sbom_rfc3339(char *buf, size_t n, time_t t);

/* A version-4-format UUID ("xxxxxxxx-xxxx-4xxx-Yxxx-xxxxxxxxxxxx", lower-case,
 * 36 characters + NUL) into out.  Random when !fixed; otherwise derived from
 * SHA-256 of the format name, drydock's version, t, the image reference and
 * digests, so the same image, tool and SOURCE_DATE_EPOCH give the same id. */
int dd_sbom_uuid(char out[37], const char *format, const dd_inventory *inv, int fixed,
		 time_t t, dd_error *err);

/* Append s to out with invalid UTF-8 sequences replaced by U+FFFD (jansson
 * refuses invalid UTF-8).  NULL appends nothing.  Returns the buffer state. */
int dd_sbom_utf8(dd_buf *out, const char *s);

/* One package's purl and the document reference derived from it.  refs[i]
 * is the purl of package i, or, when two packages share a purl, the purl
 * with "#<n>" appended for each one after the first (n = 2, 3, ... in
 * inventory order); "package-<i>" when the package has no name.  purls[i]
 * is NULL for packages without a purl.  All strings heap-owned; release
 * with dd_sbom_refs_release(). */
typedef struct dd_sbom_refs {
	char **purls;
	char **refs;
	size_t n;
} dd_sbom_refs;

int dd_sbom_refs_build(dd_sbom_refs *out, const dd_inventory *inv, dd_error *err);
void dd_sbom_refs_release(dd_sbom_refs *r);

/* "linux/amd64/v8" (empty when unknown) into buf. */
void dd_sbom_platform(char *buf, size_t n, const dd_platform *p);

#endif
