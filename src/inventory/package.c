/* package.c - see package.h. */
#include "inventory/package.h"

#include <stdlib.h>
#include <string.h>

#include "util/banned.h"

const char *dd_pkg_type_name(enum dd_pkg_type t)
{
	switch (t) {
	case DD_PKG_DEB: return "deb";
	case DD_PKG_APK: return "apk";
	case DD_PKG_RPM: return "rpm";
	}
	return "unknown";
}

dd_package *dd_pkglist_add(dd_pkglist *l)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		dd_package *v = realloc(l->v, ncap * sizeof(*v));
		if (!v)
			return NULL;
		l->v = v;
		l->cap = ncap;
	}
	dd_package *p = &l->v[l->n++];
	memset(p, 0, sizeof(*p));
	p->layer = -1;
	return p;
}

void dd_package_release(dd_package *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->version);
	free(p->arch);
	free(p->source_name);
	free(p->source_version);
	free(p->rpm_version);
	free(p->rpm_release);
	free(p->sourcerpm);
	free(p->vendor);
	free(p->modularitylabel);
	free(p->license);
	free(p->maintainer);
	free(p->description);
	free(p->multi_arch);
	free(p->status);
	free(p->commit);
	for (size_t i = 0; i < p->nfiles; i++)
		free(p->files[i]);
	free(p->files);
	free(p->db_path);
	memset(p, 0, sizeof(*p));
	p->layer = -1;
}

void dd_pkglist_drop_last(dd_pkglist *l)
{
	if (l->n) {
		dd_package_release(&l->v[l->n - 1]);
		l->n--;
	}
}

void dd_pkglist_release(dd_pkglist *l)
{
	for (size_t i = 0; i < l->n; i++)
		dd_package_release(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static int nullcmp(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int pkgcmp(const void *pa, const void *pb)
{
	const dd_package *a = pa, *b = pb;
	int c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if ((c = nullcmp(a->name, b->name)))
		return c;
	if ((c = nullcmp(a->version, b->version)))
		return c;
	return nullcmp(a->arch, b->arch);
}

void dd_pkglist_sort(dd_pkglist *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), pkgcmp);
}

void dd_os_release(dd_os *os)
{
	if (!os)
		return;
	free(os->id);
	free(os->version_id);
	free(os->codename);
	free(os->id_like);
	free(os->name);
	free(os->source);
	memset(os, 0, sizeof(*os));
}
