/*
 * image.h - open a container image from a transport reference and walk it.
 *
 * References (what skopeo/podman users type):
 *   oci:PATH[:TAG|@DIGEST]   OCI image layout directory
 *   docker-archive:PATH[:NAME:TAG|:@N]
 *                            `docker save` tar (classic or OCI-in-docker
 *                            layout), optionally gzip-wrapped
 *   rootfs:PATH              a plain unpacked root filesystem
 * Opening reads and verifies the metadata only (index, manifest, config:
 * each checked against its digest, each JSON document at most 4 MiB);
 * layers are read by dd_image_walk(), once each, streaming.  An archive has
 * no manifest blob: its manifest is the Docker v2 schema 2 document skopeo
 * synthesises (layer digest = diff_id, size = uncompressed size), so digests
 * agree with `skopeo inspect` (docs/images.md).
 *
 * Memory: dd_image_open() allocates the image; dd_image_free() releases it
 * and everything the accessors returned (all returned pointers are borrowed).
 */
#ifndef DD_IMAGE_IMAGE_H
#define DD_IMAGE_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "layer/walker.h"
#include "util/buf.h"
#include "util/digest.h"
#include "util/error.h"

#define DD_JSON_MAX ((size_t)4 << 20) /* manifests, indexes, configs */

enum dd_transport {
	DD_TRANSPORT_OCI,
	DD_TRANSPORT_DOCKER_ARCHIVE,
	DD_TRANSPORT_ROOTFS,
	DD_TRANSPORT_REGISTRY,
};
/* "oci", "docker-archive", "rootfs", "docker" (skopeo's names). */
const char *dd_transport_name(enum dd_transport t);

typedef struct dd_platform {
	char os[32];
	char arch[32];
	char variant[32]; /* "" when none */
} dd_platform;

/* "linux/arm64/v8" -> fields; DD_EUSAGE on malformed text. */
int dd_platform_parse(dd_platform *out, const char *s, dd_error *err);
/* The running host's platform (linux/amd64, linux/arm64/v8, ...). */
void dd_platform_host(dd_platform *out);
/* "os/arch[/variant]" into buf. */
void dd_platform_format(const dd_platform *p, char *buf, size_t n);
/* Does an image for `have` satisfy a request for `want`?  0 no, 1 compatible
 * (missing variant, arm/v6 for arm/v7, ...), 2 exact ("arm64" = "arm64/v8").
 * Index entries are chosen by the highest score (see docs/images.md). */
int dd_platform_match(const dd_platform *have, const dd_platform *want);

typedef struct dd_layer_desc {
	dd_digest digest;      /* blob digest, from the manifest (docker-archive:
				  the diff_id, as skopeo reports) */
	dd_digest diff_id;     /* from config rootfs.diff_ids */
	char *media_type;      /* as the manifest says */
	uint64_t size;         /* blob size, from the manifest (docker-archive:
				  the uncompressed size, as skopeo reports) */
	dd_layer_stats stats;  /* measured by dd_image_walk() */
	int walked;            /* stats are valid */
	const char *created_by;/* the config history entry that made this layer,
				  or NULL (history absent or inconsistent) */
} dd_layer_desc;

/* The parts of an image config users ask about (all strings borrowed from
 * the image; NULL when absent). */
typedef struct dd_history {
	const char *created, *created_by, *author, *comment;
	int empty_layer;
} dd_history;

typedef struct dd_image_config {
	const char *os, *architecture, *variant, *os_version;
	const char *created, *author;
	const char *user, *working_dir, *stop_signal;
	const char **entrypoint; size_t n_entrypoint;
	const char **cmd; size_t n_cmd;
	const char **env; size_t n_env;
	const char **label_keys, **label_values; size_t n_labels;
	dd_history *history; size_t n_history;
	const char **diff_ids; size_t n_diff_ids;  /* validated digests */
} dd_image_config;

struct dd_registry_opts;

typedef struct dd_image_opts {
	const char *platform;  /* NULL: the host's */
	const struct dd_registry_opts *registry; /* TLS and credentials; NULL: defaults */
	/* The layer cache (cache/layercache.h): dd_image_walk replays the layers
	 * it knows instead of reading them, and records the others; NULL: none.
	 * Borrowed: it must outlive the image. */
	struct dd_layercache *cache;
	/* When no image of an index matches the platform, take the first real
	 * one instead of failing (copy --all, which copies them all anyway). */
	int any_platform;
	dd_limits limits;
} dd_image_opts;

void dd_image_opts_init(dd_image_opts *o);

typedef struct dd_image dd_image;

int dd_image_open(dd_image **out, const char *ref, const dd_image_opts *opts, dd_error *err);
void dd_image_free(dd_image *img);

const char *dd_image_ref(const dd_image *img);         /* as given */
enum dd_transport dd_image_transport(const dd_image *img);
/* Unset digests / NULL buffers for rootfs:. */
const dd_digest *dd_image_index_digest(const dd_image *img);    /* when chosen from an index */
const dd_digest *dd_image_manifest_digest(const dd_image *img);
const char *dd_image_manifest_media_type(const dd_image *img);
const dd_buf *dd_image_manifest_raw(const dd_image *img);
const dd_digest *dd_image_config_digest(const dd_image *img);
const dd_buf *dd_image_config_raw(const dd_image *img);
const dd_platform *dd_image_platform(const dd_image *img);
/* Manifest annotation (e.g. org.opencontainers.image.base.name) or NULL.
 * When the manifest lacks it, the annotations of the descriptors that led to
 * it (the index entry, then the entries above it) are consulted. */
const char *dd_image_annotation(const dd_image *img, const char *key);
/* The parsed config (NULL for rootfs:) and one of its labels (or NULL). */
const dd_image_config *dd_image_config_info(const dd_image *img);
const char *dd_image_label(const dd_image *img, const char *key);

size_t dd_image_layer_count(const dd_image *img);
const dd_layer_desc *dd_image_layer(const dd_image *img, size_t i);

/* Stream every layer once through the walker (digests verified), fill each
 * layer's stats and call dd_walker_finish().  With a layer cache (see
 * dd_image_opts), layers whose diff_id the cache knows are replayed from it
 * (a registry image then costs only its manifest and config). */
int dd_image_walk(dd_image *img, dd_walker *w, dd_error *err);

/* When the reference named a multi-platform index: its exact bytes (NULL
 * otherwise), media type and digest (borrowed). */
const dd_buf *dd_image_top_index(const dd_image *img, const char **media_type, const dd_digest **digest);

/* Stream each layer blob as stored (compressed bytes, unverified: the
 * consumer checks the digest) to cb, once each, in the order cheapest for
 * the source (not necessarily bottom-up).  For copying images; rootfs:
 * has no blobs (DD_EUSAGE). */
typedef int (*dd_layer_blob_cb)(void *ctx, size_t index, dd_reader *blob, dd_error *err);
int dd_image_each_layer_blob(dd_image *img, dd_layer_blob_cb cb, void *ctx, dd_error *err);

#endif
