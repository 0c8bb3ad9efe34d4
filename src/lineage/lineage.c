/*
 * lineage.c - base inference from layer diffIDs and the choice of a link
 * from declared and inferred evidence (see lineage.h).  Pure functions.
 */
#include "lineage/lineage.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry/ref.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/banned.h"

size_t dd_lineage_shared(const dd_lineage_layers *a, const dd_lineage_layers *b)
{
	size_t i = 0;
	while (i < a->n && i < b->n && a->diff_ids[i] && b->diff_ids[i] &&
	       strcmp(a->diff_ids[i], b->diff_ids[i]) == 0)
		i++;
	return i;
}

/* Is b a proper prefix of a (b has at least one layer)? */
static int proper_prefix(const dd_lineage_layers *a, const dd_lineage_layers *b)
{
	return b->n > 0 && b->n < a->n && dd_lineage_shared(a, b) == b->n;
}

long dd_lineage_infer(const dd_lineage_layers *images, size_t n, size_t self)
{
	long best = -1;

	if (self >= n)
		return -1;
	for (size_t j = 0; j < n; j++) {
		if (j == self || !proper_prefix(&images[self], &images[j]))
			continue;
		if (best < 0 || images[j].n > images[best].n)
			best = (long)j;
	}
	return best;
}

/* ---- every image at once: a hash table of whole lists ---- */

struct slot {
	uint64_t h;
	size_t len;
	long idx; /* -1: empty */
};

/* Hash of a list's prefix extended by one diffID (8 bytes at a time). */
static uint64_t hash_step(uint64_t h, const char *s)
{
	size_t n, i = 0;
	uint64_t w;

	if (!s)
		return (h ^ 0xff) * 0x9e3779b97f4a7c15ULL;
	n = strlen(s);
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 32;
	}
	w = n;
	memcpy(&w, s + i, n - i); /* the tail, over the length */
	h = (h ^ w ^ ((uint64_t)n << 56)) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

static int same_prefix(const dd_lineage_layers *a, size_t k, const dd_lineage_layers *b)
{
	return b->n == k && dd_lineage_shared(a, b) >= k;
}

int dd_lineage_infer_all(long *base, const dd_lineage_layers *images, size_t n, dd_error *err)
{
	size_t cap = 16, mask, bytes, total = 0;
	struct slot *t = NULL;
	uint64_t *pre = NULL; /* every image's prefix hashes, one after another */
	size_t *off = NULL;
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		if (dd_add_size(&total, total, images[i].n))
			return dd_error_oom(err);
	while (cap < n * 2 && cap < ((size_t)1 << 40))
		cap *= 2;
	if (dd_mul_size(&bytes, cap, sizeof(*t)) || !(t = malloc(bytes)) ||
	    dd_mul_size(&bytes, total ? total : 1, sizeof(*pre)) || !(pre = malloc(bytes)) ||
	    !(off = calloc(n ? n : 1, sizeof(*off)))) {
		rc = dd_error_oom(err);
		goto done;
	}
	mask = cap - 1;
	for (size_t i = 0; i < cap; i++)
		t[i].idx = -1;
	for (size_t i = 0, o = 0; i < n; o += images[i].n, i++) {
		uint64_t h = 0xcbf29ce484222325ULL;
		off[i] = o;
		for (size_t k = 0; k < images[i].n; k++)
			pre[o + k] = h = hash_step(h, images[i].diff_ids[k]);
	}
	/* Insert each distinct list once (the lowest index stands for equals). */
	for (size_t i = 0; i < n; i++) {
		uint64_t h;
		size_t s;
		if (!images[i].n)
			continue;
		h = pre[off[i] + images[i].n - 1];
		for (s = h & mask; t[s].idx >= 0; s = (s + 1) & mask)
			if (t[s].h == h && same_prefix(&images[i], images[i].n, &images[t[s].idx]))
				break;
		if (t[s].idx < 0) {
			t[s].h = h;
			t[s].len = images[i].n;
			t[s].idx = (long)i;
		}
	}
	/* Each image: its proper prefixes, longest first. */
	for (size_t i = 0; i < n; i++) {
		const dd_lineage_layers *a = &images[i];
		base[i] = -1;
		for (size_t k = a->n ? a->n - 1 : 0; k >= 1 && base[i] < 0; k--) {
			uint64_t h = pre[off[i] + k - 1];
			for (size_t s = h & mask; t[s].idx >= 0; s = (s + 1) & mask)
				if (t[s].h == h && t[s].len == k && same_prefix(a, k, &images[t[s].idx])) {
					base[i] = t[s].idx;
					break;
				}
		}
	}
done:
	free(t);
	free(pre);
	free(off);
	return rc;
}

/* ---- links ---- */

const char *dd_lineage_how_name(int how)
{
	switch (how) {
	case DD_LINEAGE_DOCKERFILE: return "dockerfile";
	case DD_LINEAGE_ANNOTATION: return "annotation";
	case DD_LINEAGE_LAYERS: return "layers";
	case DD_LINEAGE_RECORDED: return "recorded";
	}
	return "none";
}

static int is_transport_ref(const char *s)
{
	return !strncmp(s, "oci:", 4) || !strncmp(s, "docker-archive:", 15) ||
	       !strncmp(s, "rootfs:", 7);
}

/* Does the declared name / digest denote image m? */
static int declared_matches(const char *name, const char *digest, const dd_lineage_image *m)
{
	dd_ref a, b;

	if (digest && ((m->digest && !strcmp(digest, m->digest)) ||
		       (m->index_digest && !strcmp(digest, m->index_digest))))
		return 1;
	if (digest || !name || !m->ref || is_transport_ref(m->ref))
		return 0;
	if (dd_ref_parse(&a, name, NULL) || dd_ref_parse(&b, m->ref, NULL))
		return 0;
	if (strcmp(a.domain, b.domain) || strcmp(a.path, b.path))
		return 0;
	if (dd_digest_is_set(&a.digest))
		return dd_digest_is_set(&b.digest) && !strcmp(a.digest.s, b.digest.s);
	return !strcmp(a.tag, b.tag);
}

/* The digest part of a name ("debian@sha256:..."), or NULL. */
static const char *name_digest(const char *name)
{
	const char *at = name ? strrchr(name, '@') : NULL;
	return at && strchr(at, ':') ? at + 1 : NULL;
}

int dd_lineage_link_of(dd_lineage_link *out, const dd_lineage_image *images, size_t n,
		       size_t self, int from_given, const char *from_base,
		       const long *layer_bases)
{
	const dd_lineage_image *me = &images[self];
	const char *name = NULL, *digest = NULL;
	long layers = -1, declared = -1;
	dd_lineage_layers *ls = NULL;

	memset(out, 0, sizeof(*out));
	out->image = -1;
	out->shared = -1;
	if (me->recorded_name || me->recorded_digest) {
		out->how = DD_LINEAGE_RECORDED;
		name = me->recorded_name;
		digest = me->recorded_digest;
		if (me->base_digest && digest && !strcmp(me->base_digest, digest))
			out->evidence |= DD_LINEAGE_ANNOTATION;
		if (from_given && from_base && name && declared_matches(from_base, NULL,
			 &(dd_lineage_image){ .ref = name }))
			out->evidence |= DD_LINEAGE_DOCKERFILE;
	} else if (from_given && from_base) {
		out->how = DD_LINEAGE_DOCKERFILE;
		name = from_base;
		digest = name_digest(from_base);
	} else if (me->base_name || me->base_digest) {
		out->how = DD_LINEAGE_ANNOTATION;
		name = me->base_name;
		digest = me->base_digest;
	}
	/* The layers' answer (a copy of the lists in one array). */
	if (layer_bases) {
		layers = layer_bases[self];
	} else if ((ls = calloc(n ? n : 1, sizeof(*ls)))) {
		for (size_t i = 0; i < n; i++)
			ls[i] = images[i].layers;
		layers = dd_lineage_infer(ls, n, self);
		free(ls);
	}
	for (size_t i = 0; out->how && i < n; i++)
		if (i != self && declared_matches(name, digest, &images[i])) {
			declared = (long)i;
			break;
		}
	/* A declared name from a Dockerfile and an annotation naming the same
	 * digest or name both count. */
	if (out->how == DD_LINEAGE_DOCKERFILE && (me->base_name || me->base_digest)) {
		const char *ad = me->base_digest;
		if ((digest && ad && !strcmp(digest, ad)) ||
		    (declared >= 0 && declared_matches(me->base_name, ad, &images[declared])) ||
		    (me->base_name && !strcmp(me->base_name, name)))
			out->evidence |= DD_LINEAGE_ANNOTATION;
	}
	if (!out->how) {
		if (layers < 0)
			return 0;
		out->how = DD_LINEAGE_LAYERS;
		declared = layers;
	} else if (declared < 0 && layers >= 0) {
		declared = layers; /* a name we cannot match: the layers say which image */
	} else if (declared >= 0 && layers >= 0 && declared != layers &&
		   !proper_prefix(&me->layers, &images[declared].layers)) {
		dd_warn("%s: the %s names %s, but the layers say %s", me->ref,
			dd_lineage_how_name(out->how), images[declared].ref, images[layers].ref);
	}
	out->evidence |= out->how;
	if (declared >= 0 && (declared == layers ||
			      proper_prefix(&me->layers, &images[declared].layers)))
		out->evidence |= DD_LINEAGE_LAYERS;
	out->image = declared;
	out->base = name ? name : declared >= 0 ? images[declared].ref : NULL;
	out->digest = digest ? digest : declared >= 0 ? images[declared].digest : NULL;
	if (declared >= 0)
		out->shared = (long)dd_lineage_shared(&me->layers, &images[declared].layers);
	if (!out->base)
		out->base = out->digest;
	return 1;
}
