/*
 * fs.h - the few file-system helpers modules share: the cache directory
 * and mkdir -p.
 */
#ifndef DD_UTIL_FS_H
#define DD_UTIL_FS_H

#include "util/buf.h"
#include "util/error.h"

/* "$XDG_CACHE_HOME/drydock/NAME", else "$HOME/.cache/drydock/NAME", into
 * out (appended).  DD_EENV when neither variable is usable. */
int dd_cache_path(dd_buf *out, const char *name, dd_error *err);

/* Create a directory and its missing parents with mode (0755, or 0700
 * for private data). */
int dd_mkdir_p(const char *path, unsigned mode, dd_error *err);

/* Create the parent directories of a file path (mode 0755). */
int dd_mkdir_parent(const char *path, dd_error *err);

#endif
