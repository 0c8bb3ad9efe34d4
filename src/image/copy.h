/*
 * copy.h - copy an image between transports, preserving digests.
 *
 * Sources: any image dd_image_open() reads except rootfs:.  Destinations:
 *   oci:PATH[:TAG]          an OCI layout (created when missing; the entry
 *                           with the same ref.name in index.json is replaced)
 *   docker-archive:PATH[:NAME:TAG]  a `docker save` archive (classic layout)
 *   [docker://]HOST/NAME[:TAG]      a registry (blobs the registry already
 *                           has are not sent; a blob in another repository
 *                           of the same registry is mounted, not copied)
 * Blobs are copied byte for byte and verified against their digests on the
 * way, so the manifest and config digests survive a copy to oci: or a
 * registry.  A docker-archive has no manifest: there the config digest and
 * the diff_ids survive, and layers are stored uncompressed as `docker save`
 * does.  Only the selected platform's manifest is copied (as skopeo does
 * without --all).
 *
 * Memory: nothing is retained; dd_copy_stats is a value.
 */
#ifndef DD_IMAGE_COPY_H
#define DD_IMAGE_COPY_H

#include <stdint.h>

#include "image/image.h"
#include "util/error.h"

struct dd_registry_opts;

typedef struct dd_copy_opts {
	const struct dd_registry_opts *dst_registry; /* TLS/credentials for a registry destination */
} dd_copy_opts;

typedef struct dd_copy_stats {
	uint64_t blobs_copied, blobs_skipped; /* skipped: already at the destination (or mounted) */
	uint64_t bytes;                       /* blob bytes moved */
	dd_digest manifest_digest;            /* at the destination (unset for docker-archive) */
} dd_copy_stats;

int dd_image_copy(dd_image *src, const char *dst, const dd_copy_opts *o, dd_copy_stats *st,
		  dd_error *err);

/* Like dd_image_copy, but when the source reference named a multi-platform
 * index, copy every manifest it lists (with their blobs) and then the index
 * itself, byte for byte, under the destination tag (skopeo copy --all).
 * Not for docker-archive destinations. */
int dd_image_copy_all(dd_image *src, const char *dst, const dd_copy_opts *o, dd_copy_stats *st,
		      dd_error *err);

#endif
