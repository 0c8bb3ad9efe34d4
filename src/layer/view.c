/* view.c - whiteouts and the squashed view: dd_walker_finish(), lookup,
 * resolve, iteration; see walker.h.
 *
 * Squashing runs top-down: an entry of layer L is visible when no upper
 * layer (nor a later entry of L) has the same path and no upper layer hid
 * it: a whiteout `.wh.NAME` hides NAME and everything below it, an opaque
 * marker hides everything below its directory, and an upper non-directory
 * hides everything below its path.  Cost: one hash lookup per path
 * component of every entry. */
#include "layer/walker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer/internal.h"
#include "util/buf.h"
#include "util/banned.h"

struct hides {
	dd_pathmap all;   /* the path and everything below */
	dd_pathmap below; /* only what is below the path */
};

static int hidden(const struct hides *h, const char *p)
{
	if (dd_pathmap_get(&h->all, p, NULL) || dd_pathmap_getn(&h->below, "", 0, NULL))
		return 1;
	for (const char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
		size_t n = (size_t)(s - p);
		if (dd_pathmap_getn(&h->all, p, n, NULL) || dd_pathmap_getn(&h->below, p, n, NULL))
			return 1;
	}
	return 0;
}

static int cmp_layer(const void *a, const void *b)
{
	const dd_layer *x = *(dd_layer *const *)a, *y = *(dd_layer *const *)b;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const dd_fsentry *)a)->path, ((const dd_fsentry *)b)->path);
}

static int add_view(dd_walker *w, size_t *cap, const dd_lrec *r, int layer)
{
	if (w->nview == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256, bytes;
		dd_fsentry *nv;
		if (dd_mul_size(&bytes, ncap, sizeof(*nv)) || !(nv = realloc(w->view, bytes)))
			return DD_EENV;
		w->view = nv;
		*cap = ncap;
	}
	w->view[w->nview] = (dd_fsentry){ r->path, (enum dd_ftype)r->type, r->size, r->mode, r->link, layer };
	return dd_pathmap_put(&w->view_map, r->path, w->nview++);
}

static int squash_layer(dd_walker *w, const dd_layer *L, struct hides *h, size_t *cap)
{
	for (size_t i = L->n; i-- > 0;) {
		const dd_lrec *r = &L->recs[i];
		if (r->wh != DD_WH_NONE || dd_pathmap_get(&w->view_map, r->path, NULL) || hidden(h, r->path))
			continue;
		if (add_view(w, cap, r, L->index))
			return DD_EENV;
	}
	for (size_t i = 0; i < L->n; i++) {
		const dd_lrec *r = &L->recs[i];
		int rc = 0;
		if (r->wh == DD_WH_FILE)
			rc = dd_pathmap_put(&h->all, r->path, 0);
		else if (r->wh == DD_WH_OPAQUE || (r->wh == DD_WH_NONE && r->type != DD_FT_DIR))
			rc = dd_pathmap_put(&h->below, r->path, 0);
		if (rc)
			return rc;
	}
	return 0;
}

int dd_walker_finish(dd_walker *w, dd_error *err)
{
	struct hides h;
	size_t cap = 0;
	int rc = 0;

	if (!w)
		return dd_error_set(err, DD_EINTERNAL, "dd_walker_finish: no walker");
	free(w->view);
	w->view = NULL;
	w->nview = 0;
	w->finished = 0;
	dd_pathmap_release(&w->view_map);
	dd_pathmap_init(&h.all);
	dd_pathmap_init(&h.below);
	if (w->nlayers > 1)
		qsort(w->layers, w->nlayers, sizeof(*w->layers), cmp_layer);
	for (size_t li = w->nlayers; li-- > 0;)
		if ((rc = squash_layer(w, w->layers[li], &h, &cap)))
			goto done;
	if (w->nview > 1)
		qsort(w->view, w->nview, sizeof(*w->view), cmp_entry);
	dd_pathmap_release(&w->view_map);
	for (size_t i = 0; i < w->nview; i++)
		if ((rc = dd_pathmap_put(&w->view_map, w->view[i].path, i)))
			goto done;
	w->finished = 1;
done:
	dd_pathmap_release(&h.all);
	dd_pathmap_release(&h.below);
	if (rc)
		return dd_error_oom(err);
	return 0;
}

static const dd_fsentry *lookup_n(const dd_walker *w, const char *p, size_t n)
{
	size_t i;
	if (!w->finished || !dd_pathmap_getn(&w->view_map, p, n, &i))
		return NULL;
	return &w->view[i];
}

const dd_fsentry *dd_walker_lookup(const dd_walker *w, const char *path)
{
	char norm[DD_PATH_MAX + 1];
	int abs;
	if (!w || !path || dd_layer_normpath(path, norm, sizeof(norm), &abs))
		return NULL;
	return lookup_n(w, norm, strlen(norm));
}

#define RBUF (3 * DD_PATH_MAX)

/* Normalise with ".." clamped at the root; 0, or -1 when too long. */
static int clamp_norm(const char *in, char *out, size_t cap)
{
	size_t o = 0;
	const char *p = in;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else if (n && !(n == 1 && p[0] == '.')) {
			if (o + n + 2 > cap)
				return -1;
			if (o)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	out[o] = '\0';
	return 0;
}

const dd_fsentry *dd_walker_resolve(const dd_walker *w, const char *path)
{
	char cur[RBUF], tmp[2 * RBUF];
	int hops = 0;
	size_t i = 0;

	if (!w || !path || !w->finished || clamp_norm(path, cur, sizeof(cur)))
		return NULL;
	while (cur[0]) {
		char *slash = strchr(cur + i, '/');
		size_t e = slash ? (size_t)(slash - cur) : strlen(cur);
		const dd_fsentry *ent = lookup_n(w, cur, e);
		if (ent && ent->type == DD_FT_SYMLINK && ent->link) {
			size_t dir = e;
			if (++hops > 40)
				return NULL;
			while (dir > 0 && cur[dir - 1] != '/')
				dir--;
			if (ent->link[0] == '/')
				dir = 0;
			/* tmp = dirname(prefix) "/" link rest */
			if ((size_t)snprintf(tmp, sizeof(tmp), "%.*s/%s%s", (int)dir, cur, ent->link,
					     cur + e) >= sizeof(tmp) ||
			    clamp_norm(tmp, cur, sizeof(cur)))
				return NULL;
			i = 0;
			continue;
		}
		if (!cur[e])
			return ent;
		if (ent && ent->type != DD_FT_DIR)
			return NULL;
		i = e + 1;
	}
	return NULL; /* the root itself has no entry */
}

size_t dd_walker_count(const dd_walker *w)
{
	return w && w->finished ? w->nview : 0;
}

const dd_fsentry *dd_walker_entry(const dd_walker *w, size_t i)
{
	if (!w || !w->finished || i >= w->nview)
		return NULL;
	return &w->view[i];
}
