/* catalog.c - the cataloger framework, the rpm cataloger and
 * dd_inventory_collect() (see catalog.h and inventory.h). */
#include "inventory/catalog.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/rpmdb.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/banned.h"

/* Package databases larger than this are refused (a warning, not a crash). */
#define CATALOG_FILE_MAX ((size_t)512 << 20)

/* ---- helpers ---- */

void dd_warnlist_add(dd_warnlist *w, const char *fmt, ...)
{
	char tmp[DD_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (!w) {
		dd_warn("%s", tmp);
		return;
	}
	if (w->n >= DD_WARNLIST_MAX) {
		w->dropped++;
		return;
	}
	char **v = realloc(w->v, (w->n + 1) * sizeof(*v));
	if (!v)
		return;
	w->v = v;
	if ((v[w->n] = dd_strdup(tmp)))
		w->n++;
}

void dd_warnlist_release(dd_warnlist *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
	w->v = NULL;
	w->n = 0;
	w->dropped = 0;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

char *dd_text_dup(const char *s, size_t n)
{
	size_t total;
	if (dd_add_size(&total, n, 1))
		return NULL;
	char *r = malloc(total);
	size_t o = 0;
	if (!r)
		return NULL;
	for (size_t i = 0; i < n;) {
		const unsigned char *p = (const unsigned char *)s + i;
		size_t l = utf8_len(p, n - i);
		if (l == 0 || (l == 1 && (*p < 0x20 || *p == 0x7f))) {
			r[o++] = '?';
			i++;
			continue;
		}
		memcpy(r + o, p, l);
		o += l;
		i += l;
	}
	r[o] = '\0';
	return r;
}

int dd_strvec_push(char ***v, size_t *n, size_t *cap, const char *s, size_t len)
{
	if (*n == *cap) {
		size_t nc, bytes;
		if (dd_mul_size(&nc, *cap ? *cap : 8, 2) || dd_mul_size(&bytes, nc, sizeof(char *)))
			return -1;
		char **nv = realloc(*v, bytes);
		if (!nv)
			return -1;
		*v = nv;
		*cap = nc;
	}
	char *c = dd_text_dup(s, len);
	if (!c)
		return -1;
	(*v)[(*n)++] = c;
	return 0;
}

/* ---- the framework ---- */

struct dd_catalog {
	const dd_cataloger *c;
	const dd_walker *w;
	pthread_mutex_t mu;
	dd_catfile *files;
	size_t n, cap;
};

static void catalog_free(dd_catalog *cat)
{
	if (!cat)
		return;
	for (size_t i = 0; i < cat->n; i++) {
		dd_catfile *f = &cat->files[i];
		free(f->path);
		if (f->result)
			cat->c->free_result(f->result);
		dd_warnlist_release(&f->warn);
	}
	free(cat->files);
	pthread_mutex_destroy(&cat->mu);
	free(cat);
}

static int catalog_new(dd_catalog **out, const dd_cataloger *c, dd_error *err)
{
	dd_catalog *cat = dd_calloc(1, sizeof(*cat));
	if (!cat)
		return dd_error_oom(err);
	cat->c = c;
	pthread_mutex_init(&cat->mu, NULL);
	*out = cat;
	return 0;
}

static int store(dd_catalog *cat, dd_catfile *nf)
{
	int rc = 0;
	pthread_mutex_lock(&cat->mu);
	if (cat->n == cat->cap) {
		size_t nc = cat->cap ? cat->cap * 2 : 16;
		dd_catfile *v = realloc(cat->files, nc * sizeof(*v));
		if (!v) {
			rc = -1;
			goto out;
		}
		cat->files = v;
		cat->cap = nc;
	}
	cat->files[cat->n++] = *nf;
out:
	pthread_mutex_unlock(&cat->mu);
	return rc;
}

/* Walker callback: read and parse one copy of a wanted file. */
static int on_file(void *ctx, const dd_file *f, dd_error *err)
{
	dd_catalog *cat = ctx;
	dd_catfile nf;
	dd_buf data = DD_BUF_INIT;
	int rc = 0;

	if (f->type != DD_FT_REG)
		return 0;
	memset(&nf, 0, sizeof(nf));
	nf.layer = f->layer;
	if (f->diff_id)
		nf.diff_id = *f->diff_id;
	if (!(nf.path = dd_strdup(f->path)))
		return dd_error_oom(err);
	if (f->size > CATALOG_FILE_MAX) {
		dd_warnlist_add(&nf.warn, "layer %d: %s: %llu bytes is more than the %zu MiB a "
					  "package database may have; ignored",
				f->layer, f->path, (unsigned long long)f->size,
				CATALOG_FILE_MAX >> 20);
	} else {
		if ((rc = dd_file_slurp_all(f, &data, err)))
			goto fail;
		rc = cat->c->parse(f->path, data.data ? data.data : "", data.len, &nf.result,
				   &nf.warn, err);
		if (rc)
			goto fail;
	}
	dd_buf_release(&data);
	if (store(cat, &nf)) {
		rc = dd_error_oom(err);
		goto fail;
	}
	return 0;
fail:
	dd_buf_release(&data);
	free(nf.path);
	if (nf.result)
		cat->c->free_result(nf.result);
	dd_warnlist_release(&nf.warn);
	return rc;
}

static int catfile_cmp(const void *a, const void *b)
{
	const dd_catfile *x = a, *y = b;
	int c = strcmp(x->path, y->path);
	if (c)
		return c;
	return (x->layer > y->layer) - (x->layer < y->layer);
}

static void catalog_sort(dd_catalog *cat)
{
	if (cat->n > 1)
		qsort(cat->files, cat->n, sizeof(*cat->files), catfile_cmp);
}

const dd_catfile *dd_catalog_get(const dd_catalog *cat, const char *path, int layer)
{
	dd_catfile key;
	key.path = (char *)path;
	key.layer = layer;
	if (!cat->n)
		return NULL;
	return bsearch(&key, cat->files, cat->n, sizeof(*cat->files), catfile_cmp);
}

const dd_catfile *dd_catalog_visible(const dd_catalog *cat, const char *path, int resolve)
{
	const dd_fsentry *e = resolve ? dd_walker_resolve(cat->w, path)
				      : dd_walker_lookup(cat->w, path);
	if (!e || e->type != DD_FT_REG)
		return NULL;
	return dd_catalog_get(cat, e->path, e->layer);
}

size_t dd_catalog_count(const dd_catalog *cat)
{
	return cat->n;
}

const dd_catfile *dd_catalog_file(const dd_catalog *cat, size_t i)
{
	return i < cat->n ? &cat->files[i] : NULL;
}

int dd_catalog_is_visible(const dd_catalog *cat, const dd_catfile *f)
{
	const dd_fsentry *e = dd_walker_lookup(cat->w, f->path);
	return e && e->type == DD_FT_REG && e->layer == f->layer;
}

const dd_catfile *dd_catalog_prev(const dd_catalog *cat, const dd_catfile *f)
{
	if (f <= cat->files || f >= cat->files + cat->n)
		return NULL;
	if (strcmp(f[-1].path, f->path) != 0)
		return NULL;
	return f - 1;
}

const dd_walker *dd_catalog_walker(const dd_catalog *cat)
{
	return cat->w;
}

void dd_catalog_report(const dd_catfile *f, dd_inventory *inv)
{
	for (size_t i = 0; f && i < f->warn.n; i++) {
		dd_inventory_warn(inv, "%s", f->warn.v[i]);
		inv->ndamaged++;
	}
	if (f && f->warn.dropped) {
		dd_inventory_warn(inv, "%s: %zu more problems like the above not shown", f->path,
				  f->warn.dropped);
		inv->ndamaged += f->warn.dropped;
	}
}

/* NULL sorts before every string (and differs from ""). */
static int nullcmp(const char *a, const char *b)
{
	if (!a || !b)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

/* Identity of a package for provenance: type, name, version, arch, state. */
static int pkgkey_cmp(const dd_package *a, const dd_package *b)
{
	int c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if ((c = nullcmp(a->name, b->name)) || (c = nullcmp(a->version, b->version)) ||
	    (c = nullcmp(a->arch, b->arch)))
		return c;
	return nullcmp(a->status, b->status);
}

static int pkgptr_cmp(const void *a, const void *b)
{
	return pkgkey_cmp(*(const dd_package *const *)a, *(const dd_package *const *)b);
}

/* A sorted index of one copy's packages, built on first use, so provenance
 * costs O(P log N) per layer even for hostile images with many layers of
 * large databases.  v == NULL after building means "no memory: scan". */
typedef struct pkgindex {
	const dd_package **v;
	int built;
} pkgindex;

static int list_has(pkgindex *ix, const dd_pkglist *l, const dd_package *p)
{
	if (!ix->built) {
		ix->built = 1;
		if (l->n && (ix->v = dd_calloc(l->n, sizeof(*ix->v)))) {
			for (size_t i = 0; i < l->n; i++)
				ix->v[i] = &l->v[i];
			qsort(ix->v, l->n, sizeof(*ix->v), pkgptr_cmp);
		}
	}
	if (ix->v)
		return bsearch(&p, ix->v, l->n, sizeof(*ix->v), pkgptr_cmp) != NULL;
	for (size_t i = 0; i < l->n; i++)
		if (pkgkey_cmp(&l->v[i], p) == 0)
			return 1;
	return 0;
}

void dd_catalog_provenance(dd_pkglist *pkgs, size_t from, const dd_catalog *cat,
			   const dd_catfile *vis,
			   const dd_pkglist *(*list_of)(const void *result))
{
	size_t depth = 0;
	pkgindex scan = { NULL, 1 }, *ix; /* scan: no memory for indexes */

	for (const dd_catfile *g = dd_catalog_prev(cat, vis); g; g = dd_catalog_prev(cat, g))
		depth++;
	ix = depth ? dd_calloc(depth, sizeof(*ix)) : NULL;
	for (size_t i = from; i < pkgs->n; i++) {
		dd_package *p = &pkgs->v[i];
		const dd_catfile *at = vis;
		size_t k = 0;
		for (const dd_catfile *g = dd_catalog_prev(cat, vis); g;
		     g = dd_catalog_prev(cat, g), k++) {
			const dd_pkglist *l = list_of(g->result);
			pkgindex *x = ix ? &ix[k] : &scan;
			if (!l || !list_has(x, l, p))
				break;
			at = g;
		}
		p->layer = at->layer;
		p->diff_id = at->diff_id;
	}
	for (size_t k = 0; ix && k < depth; k++)
		free(ix[k].v);
	free(ix);
}

/* ---- rpm ---- */

typedef struct rpm_result {
	dd_pkglist pkgs;
} rpm_result;

static void rpm_free(void *r)
{
	if (r) {
		dd_pkglist_release(&((rpm_result *)r)->pkgs);
		free(r);
	}
}

static int rpm_parse(const char *path, const void *data, size_t len, void **result,
		     dd_warnlist *warn, dd_error *err)
{
	rpm_result *r = dd_calloc(1, sizeof(*r));
	dd_rpmdb_stats st;
	dd_error e = DD_ERROR_INIT;
	int rc;

	if (!r)
		return dd_error_oom(err);
	memset(&st, 0, sizeof(st));
	rc = dd_rpmdb_parse_ex(data, len, path, &r->pkgs, &st, &e);
	if (rc == DD_EENV) {
		rpm_free(r);
		return dd_error_set(err, DD_EENV, "%s", e.msg);
	}
	if (rc) {
		dd_warnlist_add(warn, "%s; no packages read from it", e.msg);
	} else {
		if (st.skipped)
			dd_warnlist_add(warn, "%s: %zu malformed rpm header(s) skipped", path,
					st.skipped);
		if (st.truncated)
			dd_warnlist_add(warn, "%s: database damaged, read only part of it", path);
	}
	for (size_t i = 0; i < r->pkgs.n; i++) {
		dd_package *p = &r->pkgs.v[i];
		if (!p->db_path && !(p->db_path = dd_strdup(path))) {
			rpm_free(r);
			return dd_error_oom(err);
		}
	}
	*result = r;
	return 0;
}

static const dd_pkglist *rpm_list_of(const void *r)
{
	return r ? &((const rpm_result *)r)->pkgs : NULL;
}

static int rpm_resolve(dd_catalog *cat, dd_inventory *inv, dd_error *err)
{
	for (size_t k = 0; dd_rpmdb_paths[k]; k++) {
		const dd_catfile *f = dd_catalog_visible(cat, dd_rpmdb_paths[k], 1);
		if (!f)
			continue;
		dd_catalog_report(f, inv);
		rpm_result *r = f->result;
		if (!r || !r->pkgs.n)
			continue; /* an empty or unreadable database: try the next */
		size_t from = inv->pkgs.n;
		for (size_t i = 0; i < r->pkgs.n; i++) {
			dd_package *p = dd_pkglist_add(&inv->pkgs);
			if (!p)
				return dd_error_oom(err);
			*p = r->pkgs.v[i];
			memset(&r->pkgs.v[i], 0, sizeof(r->pkgs.v[i]));
		}
		r->pkgs.n = 0;
		dd_catalog_provenance(&inv->pkgs, from, cat, f, rpm_list_of);
		break; /* the first database that exists is the live one */
	}
	return 0;
}

const dd_cataloger dd_cataloger_rpm = {
	.name = "rpm",
	.version = 1,
	.patterns = dd_rpmdb_paths,
	.parse = rpm_parse,
	.free_result = rpm_free,
	.resolve = rpm_resolve,
};

/* ---- collect ---- */

static const dd_cataloger *const catalogers[] = {
	&dd_cataloger_os,
	&dd_cataloger_dpkg,
	&dd_cataloger_apk,
	&dd_cataloger_rpm,
};
#define NCAT (sizeof(catalogers) / sizeof(catalogers[0]))

int dd_inventory_collect_ex(dd_inventory **out, dd_image *img, const dd_limits *limits,
			    dd_error *err)
{
	dd_inventory *inv = NULL;
	dd_walker *w = NULL;
	dd_catalog *cats[NCAT] = { 0 };
	dd_limits def;
	int rc;

	if (!limits) {
		dd_limits_default(&def);
		limits = &def;
	}
	if ((rc = dd_inventory_new(&inv, err)) || (rc = dd_walker_new(&w, limits, err)))
		goto done;
	for (size_t i = 0; i < NCAT; i++) {
		if ((rc = catalog_new(&cats[i], catalogers[i], err)))
			goto done;
		cats[i]->w = w;
		for (const char *const *p = catalogers[i]->patterns; p && *p; p++)
			if ((rc = dd_walker_want(w, *p, on_file, cats[i], err)))
				goto done;
	}
	if ((rc = dd_image_walk(img, w, err)))
		goto done; /* (its message names the image) */
	if ((rc = dd_inventory_set_image(inv, img, err)))
		goto named;
	for (size_t i = 0; i < NCAT; i++) {
		catalog_sort(cats[i]);
		if ((rc = catalogers[i]->resolve(cats[i], inv, err)))
			goto named;
	}
	/* rootfs: layers carry no diff_id from the walk; take the image's. */
	for (size_t i = 0; i < inv->pkgs.n; i++) {
		dd_package *p = &inv->pkgs.v[i];
		if (p->layer >= 0 && !dd_digest_is_set(&p->diff_id) &&
		    (size_t)p->layer < inv->image.nlayers)
			p->diff_id = inv->image.layers[p->layer].diff_id;
	}
	dd_pkglist_sort(&inv->pkgs);
	*out = inv;
	inv = NULL;
	goto done;
named:
	dd_error_prefix(err, "image %s", dd_image_ref(img));
done:
	for (size_t i = 0; i < NCAT; i++)
		catalog_free(cats[i]);
	dd_walker_free(w);
	dd_inventory_free(inv);
	return rc;
}

int dd_inventory_collect(dd_inventory **out, dd_image *img, dd_error *err)
{
	return dd_inventory_collect_ex(out, img, NULL, err);
}
