/*
 * os.h - operating system detection from an image's release files.
 *
 * Sources, most trusted first: etc/os-release (often a symlink to
 * ../usr/lib/os-release), usr/lib/os-release, then the distribution files
 * etc/alpine-release, etc/debian_version, etc/redhat-release,
 * etc/SuSE-release.  An image with no release file but a dpkg status.d
 * directory is "distroless" (Debian-based).  The cataloger is
 * dd_cataloger_os (catalog.h).
 *
 * Memory: the parsers fill a caller-owned dd_os whose strings they allocate
 * (replacing fields they set); free them with dd_os_release().
 */
#ifndef DD_INVENTORY_OS_H
#define DD_INVENTORY_OS_H

#include <stddef.h>

#include "inventory/package.h"
#include "util/error.h"

/* Parse os-release(5) text (KEY=value lines, shell quoting, # comments):
 * ID, VERSION_ID, VERSION_CODENAME (or UBUNTU_CODENAME), ID_LIKE,
 * PRETTY_NAME (or NAME).  Lines that are not assignments are ignored.
 * Returns 0 (even when no field was found: check os->id) or DD_EENV on
 * OOM. */
int dd_osrelease_parse(dd_os *os, const char *data, size_t len, dd_error *err);

/* Parse a distribution release file named by its image path
 * ("etc/alpine-release", "etc/debian_version", "etc/redhat-release",
 * "etc/SuSE-release").  Returns 0 with os->id set when understood, 0 with
 * os->id NULL when not, DD_EENV on OOM. */
int dd_os_parse_release_file(dd_os *os, const char *path, const char *data, size_t len,
			     dd_error *err);

#endif
