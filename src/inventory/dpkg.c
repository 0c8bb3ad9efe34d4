/* dpkg.c - dpkg status / status.d / file lists (see dpkg.h). */
#include "inventory/dpkg.h"

#include <ctype.h>
#include <stdio.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "util/banned.h"

enum {
	F_PACKAGE,
	F_STATUS,
	F_VERSION,
	F_ARCH,
	F_SOURCE,
	F_MULTIARCH,
	F_MAINT,
	F_ISIZE,
	F_DESC,
	F_N
};

static const char *const field_names[F_N] = {
	"Package",    "Status",     "Version",        "Architecture", "Source",
	"Multi-Arch", "Maintainer", "Installed-Size", "Description",
};

typedef struct stanza {
	const char *v[F_N];
	size_t n[F_N];
	int have[F_N];
	size_t line;        /* first line of the stanza */
	size_t bad_line;    /* first malformed line, 0 when none */
	const char *bad_why;
	int any;            /* saw a line */
} stanza;

static int is_name_char(int c)
{
	return isalnum(c) || c == '+' || c == '-' || c == '.' || c == '_';
}

static int valid_name(const char *s, size_t n)
{
	if (!n || n > 256 || !isalnum((unsigned char)s[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_name_char((unsigned char)s[i]))
			return 0;
	return 1;
}

static int valid_version(const char *s, size_t n)
{
	if (!n || n > 256)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (!isalnum(c) && !strchr(".+~:-_", c))
			return 0;
	}
	return 1;
}

static int valid_arch(const char *s, size_t n)
{
	if (!n || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (!isalnum(c) && c != '-' && c != '_')
			return 0;
	}
	return 1;
}

static char *dupn(const char *s, size_t n, int *oom)
{
	char *r = dd_text_dup(s, n);
	if (!r)
		*oom = 1;
	return r;
}

/* The state word of "want flag state". */
static void status_state(const char *s, size_t n, const char **st, size_t *stn, int *ok)
{
	const char *w[3] = { 0 };
	size_t wl[3] = { 0 };
	size_t k = 0, i = 0;
	while (i < n && k < 3) {
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		size_t j = i;
		while (j < n && s[j] != ' ' && s[j] != '\t')
			j++;
		if (j > i) {
			w[k] = s + i;
			wl[k] = j - i;
			k++;
		}
		i = j;
	}
	*ok = k == 3;
	*st = w[k ? k - 1 : 0];
	*stn = wl[k ? k - 1 : 0];
}

/* Build a package from a complete stanza; 1 = added, 0 = skipped, -1 OOM. */
static int finish_stanza(dd_pkglist *out, stanza *st, const char *name, int status_d,
			 dd_warnlist *warn)
{
	const char *why = NULL;
	size_t line = st->line;
	const char *state = NULL;
	size_t staten = 0;
	int oom = 0;

	if (!st->any)
		return 0;
	if (st->bad_line) {
		why = st->bad_why;
		line = st->bad_line;
	} else if (!st->have[F_PACKAGE]) {
		why = "no Package field";
	} else if (!valid_name(st->v[F_PACKAGE], st->n[F_PACKAGE])) {
		why = "invalid Package name";
	} else if (st->have[F_STATUS]) {
		int ok3;
		status_state(st->v[F_STATUS], st->n[F_STATUS], &state, &staten, &ok3);
		if (!ok3 || !valid_name(state, staten))
			why = "invalid Status (want 'WANT FLAG STATE')";
	} else if (!status_d) {
		why = "no Status field";
	}
	int installed = !state || (staten == 9 && memcmp(state, "installed", 9) == 0);
	/* "not-installed" (purged, only selection state left): dpkg-query does
	 * not list it either. */
	if (!why && staten == 13 && memcmp(state, "not-installed", 13) == 0)
		return 0;
	if (!why && installed && !st->have[F_VERSION])
		why = "installed package without Version";
	if (!why && st->have[F_VERSION] && !valid_version(st->v[F_VERSION], st->n[F_VERSION]))
		why = "invalid Version";
	if (!why && st->have[F_ARCH] && !valid_arch(st->v[F_ARCH], st->n[F_ARCH]))
		why = "invalid Architecture";
	if (why) {
		if (st->have[F_PACKAGE] && valid_name(st->v[F_PACKAGE], st->n[F_PACKAGE]))
			dd_warnlist_add(warn, "%s line %zu: %s in the stanza of package '%.*s'; "
					      "skipped",
					name, line, why, (int)st->n[F_PACKAGE], st->v[F_PACKAGE]);
		else
			dd_warnlist_add(warn, "%s line %zu: malformed stanza (%s); skipped", name,
					line, why);
		return 0;
	}

	dd_package *p = dd_pkglist_add(out);
	if (!p)
		return -1;
	p->type = DD_PKG_DEB;
	p->name = dupn(st->v[F_PACKAGE], st->n[F_PACKAGE], &oom);
	if (st->have[F_VERSION])
		p->version = dupn(st->v[F_VERSION], st->n[F_VERSION], &oom);
	if (st->have[F_ARCH])
		p->arch = dupn(st->v[F_ARCH], st->n[F_ARCH], &oom);
	if (st->have[F_SOURCE] && st->n[F_SOURCE]) {
		const char *s = st->v[F_SOURCE];
		size_t n = st->n[F_SOURCE], sn = 0;
		while (sn < n && s[sn] != ' ' && s[sn] != '(' && s[sn] != '\t')
			sn++;
		if (sn && valid_name(s, sn))
			p->source_name = dupn(s, sn, &oom);
		const char *lp = memchr(s, '(', n), *rp = lp ? memchr(lp, ')', n - (size_t)(lp - s)) : NULL;
		if (lp && rp) {
			const char *vs = lp + 1, *ve = rp;
			while (vs < ve && *vs == ' ')
				vs++;
			while (ve > vs && ve[-1] == ' ')
				ve--;
			if (valid_version(vs, (size_t)(ve - vs)))
				p->source_version = dupn(vs, (size_t)(ve - vs), &oom);
		}
	}
	if (st->have[F_MULTIARCH] && st->n[F_MULTIARCH])
		p->multi_arch = dupn(st->v[F_MULTIARCH], st->n[F_MULTIARCH], &oom);
	if (st->have[F_MAINT] && st->n[F_MAINT])
		p->maintainer = dupn(st->v[F_MAINT], st->n[F_MAINT], &oom);
	if (st->have[F_DESC] && st->n[F_DESC])
		p->description = dupn(st->v[F_DESC], st->n[F_DESC], &oom);
	if (st->have[F_ISIZE]) {
		uint64_t kib = 0;
		int okn = st->n[F_ISIZE] > 0 && st->n[F_ISIZE] <= 15;
		for (size_t i = 0; okn && i < st->n[F_ISIZE]; i++) {
			char c = st->v[F_ISIZE][i];
			if (c < '0' || c > '9')
				okn = 0;
			else
				kib = kib * 10 + (uint64_t)(c - '0');
		}
		if (okn)
			p->size = kib * 1024;
	}
	if (!installed)
		p->status = dupn(state, staten, &oom);
	p->db_path = dupn(name, strlen(name), &oom);
	if (oom || !p->name) {
		dd_pkglist_drop_last(out);
		return -1;
	}
	return 1;
}

static int field_index(const char *k, size_t n)
{
	for (int i = 0; i < F_N; i++)
		if (strlen(field_names[i]) == n && strncasecmp(field_names[i], k, n) == 0)
			return i;
	return -1;
}

static void mark_bad(stanza *st, size_t line, const char *why)
{
	if (!st->bad_line) {
		st->bad_line = line;
		st->bad_why = why;
	}
}

int dd_dpkg_parse_status(dd_pkglist *out, const char *data, size_t len, const char *name,
			 int status_d, dd_warnlist *warn, dd_error *err)
{
	const char *p = data, *end = data + len;
	size_t lineno = 0;
	stanza st;

	memset(&st, 0, sizeof(st));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *ls = p;
		p = nl ? nl + 1 : end;
		lineno++;
		if (le > ls && le[-1] == '\r')
			le--;
		/* blank line (only whitespace): end of stanza */
		const char *q = ls;
		while (q < le && (*q == ' ' || *q == '\t'))
			q++;
		if (q == le) {
			if (finish_stanza(out, &st, name, status_d, warn) < 0)
				return dd_error_oom(err);
			memset(&st, 0, sizeof(st));
			continue;
		}
		if (!st.any) {
			st.any = 1;
			st.line = lineno;
		}
		if (*ls == ' ' || *ls == '\t') {
			if (st.line == lineno)
				mark_bad(&st, lineno, "continuation line without a field");
			continue;
		}
		if (*ls == '#')
			continue; /* deb822 comment */
		const char *colon = memchr(ls, ':', (size_t)(le - ls));
		if (!colon || colon == ls) {
			mark_bad(&st, lineno, "line is not 'Field: value'");
			continue;
		}
		int fi = field_index(ls, (size_t)(colon - ls));
		if (fi < 0)
			continue;
		if (st.have[fi]) {
			mark_bad(&st, lineno, "duplicate field");
			continue;
		}
		const char *v = colon + 1, *ve = le;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		st.have[fi] = 1;
		st.v[fi] = v;
		st.n[fi] = (size_t)(ve - v);
	}
	if (finish_stanza(out, &st, name, status_d, warn) < 0)
		return dd_error_oom(err);
	return 0;
}

int dd_dpkg_parse_filelist(char ***files, size_t *nfiles, const char *data, size_t len,
			   int md5sums, dd_error *err)
{
	const char *p = data, *end = data + len;
	size_t cap = *nfiles;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *ls = p, *le = nl ? nl : end;
		p = nl ? nl + 1 : end;
		if (le > ls && le[-1] == '\r')
			le--;
		if (md5sums) {
			const char *sp = memchr(ls, ' ', (size_t)(le - ls));
			if (!sp)
				continue;
			ls = sp;
			while (ls < le && *ls == ' ')
				ls++;
		}
		while (ls < le && *ls == '/')
			ls++;
		if (ls == le || (le - ls == 1 && *ls == '.'))
			continue;
		if (dd_strvec_push(files, nfiles, &cap, ls, (size_t)(le - ls)))
			return dd_error_oom(err);
	}
	return 0;
}

/* ---- the cataloger ---- */

#define DPKG_STATUS "var/lib/dpkg/status"
#define DPKG_STATUS_D "var/lib/dpkg/status.d/*"
#define DPKG_INFO "var/lib/dpkg/info/"

static const char *const dpkg_patterns[] = {
	DPKG_STATUS,
	DPKG_STATUS_D,
	DPKG_INFO "*.list",
	NULL,
};

typedef struct dpkg_result {
	dd_pkglist pkgs;
	char **files;
	size_t nfiles;
} dpkg_result;

static void dpkg_free(void *r)
{
	dpkg_result *d = r;
	if (!d)
		return;
	dd_pkglist_release(&d->pkgs);
	for (size_t i = 0; i < d->nfiles; i++)
		free(d->files[i]);
	free(d->files);
	free(d);
}

static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

static int dpkg_parse(const char *path, const void *data, size_t len, void **result,
		      dd_warnlist *warn, dd_error *err)
{
	dpkg_result *d = dd_calloc(1, sizeof(*d));
	int rc;
	if (!d)
		return dd_error_oom(err);
	if (strcmp(path, DPKG_STATUS) == 0)
		rc = dd_dpkg_parse_status(&d->pkgs, data, len, path, 0, warn, err);
	else if (ends_with(path, ".list"))
		rc = dd_dpkg_parse_filelist(&d->files, &d->nfiles, data, len, 0, err);
	else if (ends_with(path, ".md5sums"))
		rc = dd_dpkg_parse_filelist(&d->files, &d->nfiles, data, len, 1, err);
	else
		rc = dd_dpkg_parse_status(&d->pkgs, data, len, path, 1, warn, err);
	if (rc) {
		dpkg_free(d);
		return rc;
	}
	*result = d;
	return 0;
}

static const dd_pkglist *dpkg_list_of(const void *r)
{
	return r ? &((const dpkg_result *)r)->pkgs : NULL;
}

/* Move the files of the visible list file `path` into p. */
static void take_files(dd_catalog *cat, dd_package *p, const char *path)
{
	const dd_catfile *f = dd_catalog_visible(cat, path, 1);
	dpkg_result *d = f ? f->result : NULL;
	if (!d || !d->nfiles || p->files)
		return;
	p->files = d->files;
	p->nfiles = d->nfiles;
	d->files = NULL;
	d->nfiles = 0;
}

/* Move the visible copy's packages into inv, with provenance and files. */
static int take_packages(dd_catalog *cat, const dd_catfile *f, dd_inventory *inv,
			 const char *md5sums, dd_error *err)
{
	dpkg_result *d = f->result;
	size_t from = inv->pkgs.n;
	char path[600];

	dd_catalog_report(f, inv);
	if (!d)
		return 0;
	for (size_t i = 0; i < d->pkgs.n; i++) {
		dd_package *p = dd_pkglist_add(&inv->pkgs);
		if (!p)
			return dd_error_oom(err);
		*p = d->pkgs.v[i];
		memset(&d->pkgs.v[i], 0, sizeof(d->pkgs.v[i]));
	}
	d->pkgs.n = 0;
	dd_catalog_provenance(&inv->pkgs, from, cat, f, dpkg_list_of);
	for (size_t i = from; i < inv->pkgs.n; i++) {
		dd_package *p = &inv->pkgs.v[i];
		if (md5sums) {
			take_files(cat, p, md5sums);
			continue;
		}
		if (p->arch) {
			snprintf(path, sizeof(path), DPKG_INFO "%s:%s.list", p->name, p->arch);
			take_files(cat, p, path);
		}
		snprintf(path, sizeof(path), DPKG_INFO "%s.list", p->name);
		take_files(cat, p, path);
	}
	return 0;
}

static int dpkg_resolve(dd_catalog *cat, dd_inventory *inv, dd_error *err)
{
	const dd_catfile *st = dd_catalog_visible(cat, DPKG_STATUS, 1);
	char md5[600];
	int rc;

	if (st && (rc = take_packages(cat, st, inv, NULL, err)))
		return rc;
	for (size_t i = 0; i < dd_catalog_count(cat); i++) {
		const dd_catfile *f = dd_catalog_file(cat, i);
		if (fnmatch(DPKG_STATUS_D, f->path, FNM_PATHNAME) != 0 ||
		    ends_with(f->path, ".md5sums") || !dd_catalog_is_visible(cat, f))
			continue;
		snprintf(md5, sizeof(md5), "%s.md5sums", f->path);
		if ((rc = take_packages(cat, f, inv, md5, err)))
			return rc;
	}
	return 0;
}

const dd_cataloger dd_cataloger_dpkg = {
	.name = "dpkg",
	.version = 1,
	.patterns = dpkg_patterns,
	.parse = dpkg_parse,
	.free_result = dpkg_free,
	.resolve = dpkg_resolve,
};
