/*
 * internal.h - what the image sources (ref.c, manifest.c, oci.c,
 * dockerarchive.c, rootfs.c, image.c) share; not part of the public API.
 *
 * Memory: dd_srcref owns its strings (dd_srcref_release); dd_doc owns its JSON
 * root and the descriptor arrays, and every string in a dd_desc is borrowed
 * from that root; the dd_image owns everything hanging off it.
 */
#ifndef DD_IMAGE_INTERNAL_H
#define DD_IMAGE_INTERNAL_H

#include <jansson.h>

#include "image/image.h"

#define DD_INDEX_DEPTH_MAX 8       /* index -> index -> ... -> manifest */
#define DD_DESCRIPTORS_MAX 100000  /* entries of one index or layers of one manifest */

/* ---- references (ref.c) ---- */

typedef struct dd_srcref {
	enum dd_transport transport;
	char *path;
	char *tag;        /* oci: the ref.name to select; docker-archive: normalised
			     "domain/repo:tag" to match RepoTags; NULL when none */
	dd_digest digest; /* oci: @DIGEST; unset when none */
	long index;       /* docker-archive: :@N source index; -1 when none */
	char *alt_path;   /* oci: skopeo's split (at the first ':') when it */
	char *alt_tag;    /*   differs; tried when `path` is not a directory */
} dd_srcref;

/* Parse a reference (see docs/images.md); DD_EUSAGE on anything else. */
int dd_srcref_parse(dd_srcref *out, const char *s, dd_error *err);
void dd_srcref_release(dd_srcref *r);
/* Normalise a docker reference "alpine:3.10" -> "docker.io/library/alpine:3.10"
 * (":latest" added when there is no tag).  Returns NULL when s is not a valid
 * name[:tag] (digests are refused too). Caller frees. */
char *dd_srcref_docker_name(const char *s);

/* ---- JSON documents (manifest.c) ---- */

#define DD_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define DD_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define DD_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define DD_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define DD_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define DD_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define DD_MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define DD_ANN_REF_NAME "org.opencontainers.image.ref.name"

enum dd_doc_kind { DD_DOC_MANIFEST, DD_DOC_INDEX };

typedef struct dd_desc {
	const char *media_type;  /* NULL when absent */
	dd_digest digest;
	uint64_t size;
	int has_platform;
	dd_platform platform;
	json_t *annotations;     /* object or NULL; borrowed */
	const char *ref_name;    /* annotations[org.opencontainers.image.ref.name] */
} dd_desc;

typedef struct dd_doc {
	json_t *root;
	enum dd_doc_kind kind;
	const char *media_type;  /* canonical (static string) */
	dd_desc config;          /* manifests */
	dd_desc *layers;         /* manifests */
	size_t nlayers;
	dd_desc *manifests;      /* indexes */
	size_t nmanifests;
	json_t *annotations;     /* object or NULL; borrowed */
} dd_doc;

/* Parse n bytes as a JSON object: size checked first (DD_JSON_MAX), duplicate
 * keys refused.  `what` names the document in messages. */
int dd_json_load(json_t **out, const void *p, size_t n, const char *what, dd_error *err);

/* Parse a manifest or an index.  `declared` is the media type of the
 * descriptor that pointed here (NULL when unknown); it must agree with the
 * document's own mediaType when both are present. */
int dd_doc_parse(dd_doc *out, const void *p, size_t n, const char *declared, const char *what,
		 dd_error *err);
void dd_doc_release(dd_doc *d);

/* Parse an image config.  The config borrows strings from *root_out, which
 * the caller keeps alive (json_decref) as long as the config is used. */
int dd_config_parse(dd_image_config *out, json_t **root_out, const void *p, size_t n,
		    const char *media_type, const char *what, dd_error *err);
void dd_config_release(dd_image_config *c);

/* Check that `buf` hashes to `want` ("blob sha256:... digest mismatch"). */
int dd_blob_verify(const dd_digest *want, const void *p, size_t n, const char *what,
		   dd_error *err);

/* ---- the image ---- */

struct dd_image {
	char *ref;
	dd_srcref r;
	dd_limits limits;
	dd_platform want;         /* platform asked for (or the host's) */
	int want_explicit;
	int any_platform;         /* no image for `want`: take any real one */

	dd_digest index_digest, manifest_digest, config_digest;
	/* the index the reference named (first one met), for copy --all */
	dd_buf top_index_raw;
	char *top_index_mt;
	dd_digest top_index_digest;
	char *manifest_media_type;
	dd_buf manifest_raw, config_raw;
	json_t *manifest_root;    /* parsed manifest (oci:) or NULL */
	json_t *config_root;
	json_t *ann[DD_INDEX_DEPTH_MAX + 2]; /* descriptor annotations, nearest last (refs) */
	size_t nann;
	dd_image_config config;
	dd_platform platform;

	dd_layer_desc *layers;
	size_t nlayers;

	/* oci: */
	int dirfd;
	/* layers each_layer must not deliver (already replayed from the layer
	 * cache), or NULL */
	const unsigned char *skip;
	struct dd_layercache *cache;
	/* registry: the session (connection, token) */
	struct dd_registry *reg;
	const struct dd_registry_opts *reg_opts; /* during open only */
	struct dd_registry_opts *reg_copy;       /* for the workers' own sessions */
	/* docker-archive: per layer, the member that holds it and, when the
	 * member name is content-addressed (blobs/sha256/HEX), its digest. */
	char **members;
	dd_digest *member_digest;
};

/* Choose the best platform match for img->want among n descriptors (an
 * error listing the platforms there are when none matches). */
int dd_image_select_platform(dd_image *img, const dd_desc *d, size_t n, const char *what, size_t *out,
			     dd_error *err);
/* Keep a descriptor's annotations for dd_image_annotation (nearest last). */
void dd_image_keep_annotations(dd_image *img, json_t *ann);

/* Where a transport delivers layer i's blob, as stored (compressed bytes).
 * blob_digest is the digest the bytes must have (NULL when the source has
 * none: a classic docker-archive layer.tar, whose diff_id is checked).
 * label names the layer in messages.  Returning non-zero stops. */
typedef int (*dd_layer_sink)(void *ctx, size_t i, dd_reader *blob, const dd_digest *blob_digest,
			     const char *label, dd_error *err);

/* Each transport opens its image and streams every layer once (in the
 * order cheapest for it, not necessarily bottom-up) to a sink. */
int dd_oci_open(dd_image *img, dd_error *err);
int dd_oci_each_layer(dd_image *img, dd_layer_sink sink, void *ctx, dd_error *err);
int dd_dockerarchive_open(dd_image *img, dd_error *err);
int dd_dockerarchive_each_layer(dd_image *img, dd_layer_sink sink, void *ctx, dd_error *err);
int dd_rootfs_open(dd_image *img, dd_error *err);
int dd_rootfs_walk(dd_image *img, dd_walker *w, dd_error *err);
int dd_registry_src_open(dd_image *img, dd_error *err);
int dd_registry_src_each_layer(dd_image *img, dd_layer_sink sink, void *ctx, dd_error *err);

/* Layer i's blob for a worker thread (parallel.c): oci: opens the file;
 * registry: a stream over the worker's own session *reg (made on first
 * use, freed by the caller with dd_registry_free).  Close with
 * dd_layer_blob_close. */
typedef struct dd_layer_blob {
	int fd;
	void *fr;                    /* dd_fd_reader */
	struct dd_http_stream *s;
} dd_layer_blob;
int dd_oci_open_layer(dd_image *img, size_t i, dd_layer_blob *b, dd_reader *r, dd_error *err);
int dd_registry_src_open_layer(dd_image *img, size_t i, struct dd_registry **reg, dd_layer_blob *b,
			       dd_reader *r, dd_error *err);
void dd_layer_blob_close(dd_layer_blob *b);

/* Keep the first index met while resolving a reference (copy --all). */
int dd_image_keep_top_index(dd_image *img, const dd_doc *idx, const dd_digest *d, const dd_buf *raw,
			    dd_error *err);
/* Open any blob of the image's source by digest (oci: and registry). */
int dd_image_open_blob(dd_image *img, const dd_digest *d, dd_layer_blob *b, dd_reader *r, dd_error *err);
int dd_oci_open_digest(dd_image *img, const dd_digest *d, dd_layer_blob *b, dd_reader *r, dd_error *err);


/* Walk the layers not yet walked (skip[i] == 0) in worker threads, each
 * into a walker of its own that records the layer; the records are then
 * replayed into w in layer order (and offered to the layer cache under
 * key).  Only for oci: and registry images.  Returns 0, or the error of
 * the lowest failing layer. */
int dd_image_walk_parallel(dd_image *img, dd_walker *w, const char *key, const unsigned char *skip,
			   size_t nthreads, dd_error *err);

/* Shared by the sources: set up img->layers from a parsed config and the
 * manifest's layer descriptors (count checked against rootfs.diff_ids). */
int dd_image_set_layers(dd_image *img, const dd_desc *layers, size_t n, dd_error *err);
/* Adopt a verified config blob: parse it, keep raw bytes, digest, platform. */
int dd_image_set_config(dd_image *img, const dd_digest *digest, const void *p, size_t n,
			const char *media_type, dd_error *err);

#endif
