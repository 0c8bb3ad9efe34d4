/*
 * apk.h - Alpine package database: lib/apk/db/installed (and
 * usr/lib/apk/db/installed, where newer apk-tools keep it).
 *
 * Entries are blocks of "K:value" lines separated by blank lines.  Read:
 * P name, V version, A arch, o origin (the source package), m maintainer,
 * L license, T description, I installed size (bytes), t build time, c
 * commit, F directory + R file within it (the owned files).  The cataloger
 * is dd_cataloger_apk (catalog.h).
 *
 * Memory: packages appended to `out` own their strings (dd_pkglist_release).
 */
#ifndef DD_INVENTORY_APK_H
#define DD_INVENTORY_APK_H

#include <stddef.h>

#include "inventory/catalog.h"
#include "inventory/package.h"
#include "util/error.h"

/* Parse an installed database and append one package per well-formed
 * entry (db_path = name).  A malformed entry (no P or V, an invalid name
 * or version, a line that is not "K:value", a duplicate P/V/A) is skipped
 * with a warning naming `name`, the line and the package; the rest is
 * kept.  Returns 0, or DD_EENV on OOM. */
int dd_apk_parse_installed(dd_pkglist *out, const char *data, size_t len, const char *name,
			   dd_warnlist *warn, dd_error *err);

#endif
