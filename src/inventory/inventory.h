/*
 * inventory.h - everything drydock knows about one image's OS packages: the
 * image it came from (reference, transport, digests, platform, layers), the
 * operating system, the packages with the layer each was installed or last
 * changed in, and the warnings met on the way.  This is what SBOM writers,
 * the matcher and the patcher read; none of them ever sees the image.
 *
 * dd_inventory_collect() builds one from an open image (one streaming pass
 * over the layers, see catalog.c).  Writers and tests may also build one by
 * hand: dd_inventory_new(), then fill the public fields below (all strings
 * heap-owned by the inventory) or use the setters.
 *
 * Memory: the inventory owns every string, the layer array, the dd_os, the
 * dd_pkglist and the warnings; dd_inventory_free() releases it all (NULL is
 * fine).  Every pointer an accessor returns is borrowed and valid until then.
 *
 * Stability: writers should use the accessors; the struct layout may grow
 * (new fields appended) but existing fields keep their names and meaning.
 */
#ifndef DD_INVENTORY_INVENTORY_H
#define DD_INVENTORY_INVENTORY_H

#include <stddef.h>
#include <stdint.h>

#include "image/image.h"
#include "inventory/package.h"
#include "util/buf.h"
#include "util/digest.h"
#include "util/error.h"

/* One layer of the image, bottom (index 0) first. */
typedef struct dd_inv_layer {
	dd_digest digest;   /* blob digest from the manifest; unset for rootfs: */
	dd_digest diff_id;  /* uncompressed digest (config rootfs.diff_ids / measured) */
	char *media_type;   /* NULL when unknown */
	uint64_t size;      /* compressed size from the manifest, 0 when unknown */
} dd_inv_layer;

/* The image the inventory was taken from. */
typedef struct dd_inv_image {
	char *ref;                 /* the reference as given: "oci:/x/layout:1.0" */
	enum dd_transport transport;
	dd_digest index_digest;    /* when chosen from a multi-platform index */
	dd_digest manifest_digest; /* unset for rootfs: */
	dd_digest config_digest;   /* the image ID; unset for rootfs: */
	dd_platform platform;      /* os/arch/variant ("" when unknown) */
	dd_inv_layer *layers;
	size_t nlayers;
} dd_inv_image;

typedef struct dd_inventory {
	dd_inv_image image;
	dd_os os;            /* os.id == NULL means the OS is unknown */
	dd_pkglist pkgs;     /* sorted with dd_pkglist_sort() by collect */
	char **warnings;     /* one line each, as passed to dd_warn() */
	size_t nwarnings;
	/* How many of the warnings are about damaged package or release data
	 * (skipped entries, unreadable databases) rather than, say, an unknown
	 * OS: what --strict turns into exit 3. */
	size_t ndamaged;
} dd_inventory;

/* An empty inventory (no layers, unknown OS, no packages). */
int dd_inventory_new(dd_inventory **out, dd_error *err);
void dd_inventory_free(dd_inventory *inv);

/* Open-image to inventory: walk every layer once with all catalogers (OS
 * detection, dpkg, apk, rpm), resolve the squashed view and provenance,
 * sort the packages.  Malformed package entries are skipped with a warning
 * (kept in inv->warnings and sent to dd_warn()); a failure to read the
 * image itself is an error.  *out is set only on success. */
int dd_inventory_collect(dd_inventory **out, dd_image *img, dd_error *err);
/* The same with the walker's limits (NULL: dd_limits_default()); the CLI
 * passes the limits its options set. */
int dd_inventory_collect_ex(dd_inventory **out, dd_image *img, const dd_limits *limits,
			    dd_error *err);

/* Copy the image metadata (reference, digests, platform, layers) of img
 * into inv; used by collect and by tests. */
int dd_inventory_set_image(dd_inventory *inv, const dd_image *img, dd_error *err);

/* Record a warning: sent to dd_warn() and kept in inv->warnings. */
void dd_inventory_warn(dd_inventory *inv, const char *fmt, ...) DD_PRINTF(2, 3);

/* ---- accessors (stable API for writers) ---- */

const char *dd_inventory_ref(const dd_inventory *inv);
/* (its name: dd_transport_name() in image/image.h) */
enum dd_transport dd_inventory_transport(const dd_inventory *inv);
/* Digests: never NULL; test with dd_digest_is_set(). */
const dd_digest *dd_inventory_manifest_digest(const dd_inventory *inv);
const dd_digest *dd_inventory_config_digest(const dd_inventory *inv);
const dd_digest *dd_inventory_index_digest(const dd_inventory *inv);
const dd_platform *dd_inventory_platform(const dd_inventory *inv);

size_t dd_inventory_layer_count(const dd_inventory *inv);
/* Layer i (0 = bottom) or NULL when out of range. */
const dd_inv_layer *dd_inventory_layer(const dd_inventory *inv, size_t i);

/* The OS; never NULL (fields NULL when unknown). */
const dd_os *dd_inventory_os(const dd_inventory *inv);
/* 1 when no OS could be identified (then id is NULL). */
int dd_inventory_os_unknown(const dd_inventory *inv);

size_t dd_inventory_package_count(const dd_inventory *inv);
/* Package i in the deterministic order, or NULL when out of range.
 * p->layer is the provenance layer index (-1 unknown), p->diff_id its
 * diff_id. */
const dd_package *dd_inventory_package(const dd_inventory *inv, size_t i);

size_t dd_inventory_warning_count(const dd_inventory *inv);
const char *dd_inventory_warning(const dd_inventory *inv, size_t i);

/* Package URLs: see report/purl.h (dd_purl_format). */

#endif
