/* fs.c - see fs.h. */
#include "util/fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/banned.h"

int dd_cache_path(dd_buf *out, const char *name, dd_error *err)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");

	if (xdg && xdg[0] == '/')
		dd_buf_printf(out, "%s/drydock/%s", xdg, name);
	else if (home && home[0] == '/')
		dd_buf_printf(out, "%s/.cache/drydock/%s", home, name);
	else
		return dd_error_set(err, DD_EENV, "no cache directory: set XDG_CACHE_HOME or HOME");
	return dd_buf_error(out, err, "cache path");
}

int dd_mkdir_p(const char *path, unsigned mode, dd_error *err)
{
	char *dir = dd_strdup(path);
	int rc = 0;

	if (!dir)
		return dd_error_oom(err);
	for (char *p = dir + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(dir, (mode_t)mode) != 0 && errno != EEXIST) {
				rc = dd_error_set(err, DD_EENV, "cannot create %s: %s", dir, strerror(errno));
				break;
			}
			*p = c;
			if (!c)
				break;
		}
	}
	free(dir);
	return rc;
}

int dd_mkdir_parent(const char *path, dd_error *err)
{
	char *dir = dd_strdup(path), *slash;
	int rc = 0;

	if (!dir)
		return dd_error_oom(err);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		rc = dd_mkdir_p(dir, 0755, err);
	}
	free(dir);
	return rc;
}
