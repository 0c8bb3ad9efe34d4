/*
 * sources.h - the list of feeds `drydock db update` downloads: built-in
 * defaults (the real upstream URLs) or a sources file the user edits.
 *
 * File format (docs/vulndb.md): one source per line,
 *     NAME  KIND  URL  [enabled|disabled] [latest] [changes]
 * separated by blanks; '#' starts a comment line.  NAME is the source name
 * the rows are stored under; KIND is the expected format ("osv",
 * "alpine-secdb", "debian-tracker", "csaf-vex", "cve", ... or "-"/"auto" for
 * no expectation); "latest" means URL names a small text file whose first
 * word is the file to download, relative to URL (Red Hat's
 * archive_latest.txt); "changes" means updates after the first fetch only
 * the files that changes.csv (in URL's directory) lists as changed since the
 * last update, and remove those deletions.csv lists (Red Hat CSAF).
 *
 * Memory: a dd_vulndb_sources owns every string in it;
 * dd_vulndb_sources_release() frees them.
 */
#ifndef DD_VULNDB_SOURCES_H
#define DD_VULNDB_SOURCES_H

#include <stddef.h>

#include "util/buf.h"
#include "util/error.h"

typedef struct dd_vulndb_source_def {
	char *name;
	char *kind;   /* NULL: any format */
	char *url;
	int enabled;
	int latest;   /* url is a pointer file (see above) */
	int changes;  /* incremental: changes.csv and deletions.csv next to url */
} dd_vulndb_source_def;

typedef struct dd_vulndb_sources {
	size_t n;
	dd_vulndb_source_def *v;
} dd_vulndb_sources;

/* Parse a sources file's text; `name` is used in messages ("FILE:LINE: ...").
 * Duplicate names, bad URLs (not http:// or https://) and unknown words are
 * DD_EINPUT. */
int dd_vulndb_sources_parse(dd_vulndb_sources *out, const char *text, size_t len,
			    const char *name, dd_error *err);

/* The built-in defaults (the text of dd_vulndb_sources_default_text()). */
int dd_vulndb_sources_default(dd_vulndb_sources *out, dd_error *err);

/* The built-in default sources file, as text (appended to out). */
int dd_vulndb_sources_default_text(dd_buf *out);

/* Load: `path` when given (must exist); else $XDG_CONFIG_HOME/drydock/sources
 * (or ~/.config/drydock/sources) when it exists; else the defaults.
 * *used receives the file read, or "(built-in)" (static). */
int dd_vulndb_sources_load(dd_vulndb_sources *out, const char *path, const char **used,
			   dd_buf *used_buf, dd_error *err);

const dd_vulndb_source_def *dd_vulndb_sources_find(const dd_vulndb_sources *s,
						   const char *name);

void dd_vulndb_sources_release(dd_vulndb_sources *s);

#endif
