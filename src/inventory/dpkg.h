/*
 * dpkg.h - Debian package database: var/lib/dpkg/status, distroless
 * var/lib/dpkg/status.d/ (one stanza a file), and the file lists in
 * var/lib/dpkg/info/NAME[:ARCH].list and status.d/NAME.md5sums.
 *
 * Fields read: Package, Status, Version, Architecture, Source ("name" or
 * "name (version)"), Multi-Arch, Maintainer, Installed-Size (KiB, kept in
 * bytes), Description (first line).  Field names are case-insensitive;
 * continuation lines (leading space or tab) belong to the field above.
 * Packages whose Status state is "installed" have dd_package.status NULL;
 * any other state ("config-files", "half-installed", ...) is kept in
 * status.  The cataloger is dd_cataloger_dpkg (catalog.h).
 *
 * Memory: packages appended to `out` own their strings (dd_pkglist_release);
 * file vectors are heap arrays of heap strings owned by the caller.
 */
#ifndef DD_INVENTORY_DPKG_H
#define DD_INVENTORY_DPKG_H

#include <stddef.h>

#include "inventory/catalog.h"
#include "inventory/package.h"
#include "util/error.h"

/* Parse a status file (stanzas separated by blank lines) and append one
 * package per well-formed stanza to out (db_path = name).  A malformed
 * stanza (a line that is not "Field: value" or a continuation, a missing
 * or invalid Package / Version, a duplicate field, no Status) is skipped
 * with a warning naming `name` and the line; the rest is kept.  With
 * `status_d` set (a distroless status.d file) a stanza without Status
 * counts as installed.  Returns 0, or DD_EENV on OOM (out keeps what was
 * added before). */
int dd_dpkg_parse_status(dd_pkglist *out, const char *data, size_t len, const char *name,
			 int status_d, dd_warnlist *warn, dd_error *err);

/* Parse a file list: a .list (one absolute path a line; "/." skipped) or,
 * with md5sums set, a .md5sums ("HEX  path" lines).  Paths are stored
 * relative to the root ("usr/bin/ls").  *files / *nfiles are appended to.
 * Returns 0 or DD_EENV. */
int dd_dpkg_parse_filelist(char ***files, size_t *nfiles, const char *data, size_t len,
			   int md5sums, dd_error *err);

#endif
