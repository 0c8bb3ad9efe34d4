/* rootfs.c - a plain unpacked root filesystem (rootfs:PATH); see image.h. */
#include "image/internal.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "util/banned.h"

/* No manifest, no config: one pseudo-layer (digests unset) and the host's
 * platform. */
int dd_rootfs_open(dd_image *img, dd_error *err)
{
	struct stat st;

	if (stat(img->r.path, &st) != 0)
		return dd_error_set(err, errno == ENOENT || errno == ENOTDIR ? DD_EINPUT : DD_EENV, "%s: %s",
				    img->r.path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return dd_error_set(err, DD_EINPUT, "%s is not a directory", img->r.path);
	dd_platform_host(&img->platform);
	img->layers = dd_calloc(1, sizeof(*img->layers));
	if (!img->layers)
		return dd_error_oom(err);
	img->nlayers = 1;
	img->layers[0].media_type = dd_strdup("");
	return img->layers[0].media_type ? 0 : dd_error_oom(err);
}

int dd_rootfs_walk(dd_image *img, dd_walker *w, dd_error *err)
{
	int rc = dd_walker_dir(w, 0, img->r.path, &img->layers[0].stats, err);

	if (rc == 0)
		img->layers[0].walked = 1;
	return rc;
}
