/*
 * lineage.h - where an image comes from: its base, and the base's base.
 *
 * Two pure pieces, no image I/O (the CLI opens the images):
 *   - a Dockerfile reader that finds every stage's FROM image, with ARG
 *     expansion (global ARGs, defaults, --build-arg overrides, ${VAR},
 *     ${VAR:-word}, $VAR), multi-stage references, line continuations,
 *     comments, parser directives (# escape=, # syntax=) and heredocs;
 *   - inference from layers: the image whose diffID list is the longest
 *     proper prefix of another image's list is that image's base.
 * See docs/lineage.md.
 *
 * Memory: dd_dockerfile_parse() allocates the result and every string in
 * it; dd_dockerfile_free() releases it (NULL is fine).  The inference
 * functions borrow their inputs and write into caller arrays.
 */
#ifndef DD_LINEAGE_LINEAGE_H
#define DD_LINEAGE_LINEAGE_H

#include <stddef.h>

#include "util/error.h"

#define DD_DOCKERFILE_MAX ((size_t)4 << 20) /* largest Dockerfile read */

typedef struct dd_dockerfile_stage {
	char *from;       /* the FROM image after expansion, as written ("golang:1.22") */
	char *name;       /* the "AS name" (lower case), or NULL */
	char *platform;   /* the --platform value after expansion, or NULL */
	size_t line;      /* 1-based line of the FROM instruction */
	long parent;      /* index of the earlier stage `from` names, or -1 */
	const char *base; /* the external image the stage rests on (following
			     parents), NULL for scratch; points into a `from` */
} dd_dockerfile_stage;

typedef struct dd_dockerfile {
	dd_dockerfile_stage *stages;
	size_t n_stages;          /* at least 1 */
	char *syntax;             /* the `# syntax=` directive, or NULL */
	char escape;              /* '\\' or '`' */
} dd_dockerfile;

/*
 * Parse a Dockerfile of len bytes (at most DD_DOCKERFILE_MAX).  build_args
 * holds n_args "NAME=VALUE" strings overriding the defaults of ARGs declared
 * before the first FROM (an entry without '=' is ignored).  The automatic
 * platform ARGs (TARGETPLATFORM, TARGETOS, TARGETARCH, TARGETVARIANT and
 * the BUILD* ones) are always defined: from build_args when given there,
 * else from TARGETPLATFORM/BUILDPLATFORM given there, else linux/amd64.
 * Returns 0 and *out, or DD_EINPUT with a one-line message naming the line
 * ("line 7: FROM needs an image") and *out NULL.
 */
int dd_dockerfile_parse(dd_dockerfile **out, const char *text, size_t len,
			const char *const *build_args, size_t n_args, dd_error *err);
void dd_dockerfile_free(dd_dockerfile *df);

/* Index of the runtime stage: the one named target (case-insensitive), or
 * the last stage when target is NULL; -1 when no stage has that name. */
long dd_dockerfile_target(const dd_dockerfile *df, const char *target);

/* 1 when the image reference is `scratch` (no base). */
int dd_dockerfile_is_scratch(const char *from);

/* One image's layers for inference: n diffID strings ("sha256:..."). */
typedef struct dd_lineage_layers {
	const char *const *diff_ids;
	size_t n;
} dd_lineage_layers;

/* Number of leading diffIDs a and b share. */
size_t dd_lineage_shared(const dd_lineage_layers *a, const dd_lineage_layers *b);

/*
 * The base of images[self] among images[0..n): the image whose diffID list
 * is the longest proper prefix of images[self]'s (at least one layer).  An
 * image with the same list is the same image, never a base.  Among
 * candidates with equal lists the lowest index wins.  Returns the index or
 * -1 when none.  O(n * layers).
 */
long dd_lineage_infer(const dd_lineage_layers *images, size_t n, size_t self);

/*
 * The same for every image at once: base[i] = dd_lineage_infer(images, n, i),
 * in O(total layers) expected time (a hash of every list).  base has n
 * entries.  Returns 0, or DD_EENV when out of memory.
 */
int dd_lineage_infer_all(long *base, const dd_lineage_layers *images, size_t n, dd_error *err);

/* How a link was found (bits of dd_lineage_link.evidence). */
enum {
	DD_LINEAGE_DOCKERFILE = 1, /* the FROM of the Dockerfile's runtime stage */
	DD_LINEAGE_ANNOTATION = 2, /* org.opencontainers.image.base.name/.digest */
	DD_LINEAGE_LAYERS = 4,     /* longest proper diffID prefix */
	DD_LINEAGE_RECORDED = 8,   /* the FROM digest drydock's own build recorded */
};
/* "dockerfile", "annotation", "layers", "recorded" (one bit). */
const char *dd_lineage_how_name(int how);

/* What is known about one image (all borrowed). */
typedef struct dd_lineage_image {
	const char *ref;            /* as given ("oci:dir:app", "registry/app:1") */
	const char *digest;         /* manifest digest, or NULL */
	const char *index_digest;   /* the index it was chosen from, or NULL */
	dd_lineage_layers layers;
	const char *base_name;      /* the base annotations, or NULL */
	const char *base_digest;
	const char *recorded_name;  /* the runtime FROM drydock's build of this */
	const char *recorded_digest; /* image recorded (watch state), or NULL */
} dd_lineage_image;

/* One link of a chain: the base of an image (strings borrowed from the
 * inputs). */
typedef struct dd_lineage_link {
	const char *base;   /* the declared name, else the found image's ref */
	const char *digest; /* the declared digest, else the found image's; or NULL */
	long image;         /* index of the image it resolved to, or -1 */
	int how;            /* the strongest evidence: recorded > dockerfile >
			       annotation > layers */
	int evidence;       /* every kind of evidence that agrees (bits) */
	long shared;        /* leading layers shared with images[image]; -1 unknown */
} dd_lineage_link;

/*
 * The base of images[self] among images[0..n).  Declared evidence comes
 * first: what drydock's own build recorded (recorded_name/_digest), then
 * from_base (the Dockerfile's runtime base: its FROM image, or NULL
 * for scratch; pass from_given = 0 when there is no Dockerfile), then the
 * image's annotations.  A declared base is matched to one of the images by
 * digest (manifest or index) or, for registry references, by normalised
 * name; a declared base that matches none is taken to be the image the
 * layers point to, when they point to one (same content, whatever its
 * manifest digest).  A declared base that matches another image than the
 * layers do wins (with a warning).  layer_bases, when not NULL, is what
 * dd_lineage_infer_all() gave for these images (saves O(n * layers) per
 * call).  Returns 1 with *out filled, 0 when no base is known (out->how = 0).
 */
int dd_lineage_link_of(dd_lineage_link *out, const dd_lineage_image *images, size_t n,
		       size_t self, int from_given, const char *from_base,
		       const long *layer_bases);

/* ---- the lineage graph (graph.c): the order the watcher rebuilds in ----
 *
 * Images are nodes 0..n-1; base[i] is the index of image i's base, or -1
 * when its base is not one of them (an external or untracked image).  Each
 * image has one base, so the graph is a forest unless base links form a
 * cycle.  All O(n); the caller owns every array.
 */

/*
 * Every image once, bases before the images built on them (a base's own
 * base first); order has n entries.  Among unrelated images the order
 * follows the indices.  A base index outside -1..n-1 is DD_EINPUT.  A cycle
 * of base links is DD_EINPUT naming one image of the cycle by index, and
 * that index is also left in order[0] (for a message with its name).
 */
int dd_lineage_toposort(const long *base, size_t n, size_t *order, dd_error *err);

/*
 * The images to rebuild when the images flagged in changed[] (n flags, 0 or
 * 1) changed: every image transitively built on a changed one, each once,
 * in topological order (a rebuilt base before what is built on it).  A
 * changed image is itself listed only when it rests on another changed or
 * rebuilt image.  order has room for n entries; *n_order says how many were
 * written.  Errors as for dd_lineage_toposort().
 */
int dd_lineage_dependants(const long *base, size_t n, const unsigned char *changed, size_t *order,
			  size_t *n_order, dd_error *err);

/*
 * base[] from names: base[i] = the index of the image named base_names[i]
 * (NULL: none), or -1 when no image has that name.  Names are compared
 * exactly; two images with one name (or a NULL name) are DD_EINPUT.
 * O(n) expected.
 */
int dd_lineage_bases_by_name(long *base, const char *const *names, const char *const *base_names,
			     size_t n, dd_error *err);

#endif
