/* apk.c - Alpine's installed database (see apk.h). */
#include "inventory/apk.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/banned.h"

typedef struct entry {
	const char *v[128];  /* by key character */
	size_t n[128];
	size_t line;
	size_t bad_line;
	const char *bad_why;
	int any;
	char **files;
	size_t nfiles, cap;
	const char *dir;     /* current F: */
	size_t dirn;
	int oom;
} entry;

static void entry_reset(entry *e)
{
	for (size_t i = 0; i < e->nfiles; i++)
		free(e->files[i]);
	free(e->files);
	memset(e, 0, sizeof(*e));
}

static int valid_token(const char *s, size_t n, const char *extra)
{
	if (!n || n > 256)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (!isalnum(c) && !strchr(extra, c))
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

static int parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (!n || n > 19)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* 1 added, 0 skipped, -1 OOM */
static int finish_entry(dd_pkglist *out, entry *e, const char *name, dd_warnlist *warn)
{
	const char *why = NULL;
	size_t line = e->line;
	int oom = 0;
	uint64_t u;

	if (!e->any)
		return 0;
	if (e->oom)
		return -1;
	if (e->bad_line) {
		why = e->bad_why;
		line = e->bad_line;
	} else if (!e->v['P']) {
		why = "no P (name)";
	} else if (!valid_token(e->v['P'], e->n['P'], "+-._")) {
		why = "invalid P (name)";
	} else if (!e->v['V']) {
		why = "no V (version)";
	} else if (!valid_token(e->v['V'], e->n['V'], "+-._~")) {
		why = "invalid V (version)";
	} else if (e->v['A'] && !valid_token(e->v['A'], e->n['A'], "-_")) {
		why = "invalid A (arch)";
	}
	if (why) {
		if (e->v['P'] && valid_token(e->v['P'], e->n['P'], "+-._"))
			dd_warnlist_add(warn, "%s line %zu: entry of package '%.*s': %s; skipped",
					name, line, (int)e->n['P'], e->v['P'], why);
		else
			dd_warnlist_add(warn, "%s line %zu: malformed entry (%s); skipped", name,
					line, why);
		return 0;
	}
	dd_package *p = dd_pkglist_add(out);
	if (!p)
		return -1;
	p->type = DD_PKG_APK;
	p->name = dupn(e->v['P'], e->n['P'], &oom);
	p->version = dupn(e->v['V'], e->n['V'], &oom);
	if (e->v['A'])
		p->arch = dupn(e->v['A'], e->n['A'], &oom);
	if (e->v['o'] && valid_token(e->v['o'], e->n['o'], "+-._"))
		p->source_name = dupn(e->v['o'], e->n['o'], &oom);
	if (e->v['m'] && e->n['m'])
		p->maintainer = dupn(e->v['m'], e->n['m'], &oom);
	if (e->v['L'] && e->n['L'])
		p->license = dupn(e->v['L'], e->n['L'], &oom);
	if (e->v['T'] && e->n['T'])
		p->description = dupn(e->v['T'], e->n['T'], &oom);
	if (e->v['c'] && e->n['c'])
		p->commit = dupn(e->v['c'], e->n['c'], &oom);
	if (e->v['I'] && parse_u64(e->v['I'], e->n['I'], &u) == 0)
		p->size = u;
	if (e->v['t'] && parse_u64(e->v['t'], e->n['t'], &u) == 0 && u <= INT64_MAX)
		p->build_time = (int64_t)u;
	p->db_path = dupn(name, strlen(name), &oom);
	p->files = e->files;
	p->nfiles = e->nfiles;
	e->files = NULL;
	e->nfiles = 0;
	if (oom) {
		dd_pkglist_drop_last(out);
		return -1;
	}
	return 1;
}

static void mark_bad(entry *e, size_t line, const char *why)
{
	if (!e->bad_line) {
		e->bad_line = line;
		e->bad_why = why;
	}
}

static void add_file(entry *e, const char *f, size_t fn)
{
	dd_buf b = DD_BUF_INIT_MAX(8192);
	if (e->dirn) {
		dd_buf_append(&b, e->dir, e->dirn);
		dd_buf_putc(&b, '/');
	}
	dd_buf_append(&b, f, fn);
	if (b.failed == DD_EENV)
		e->oom = 1;
	else if (!b.failed && dd_strvec_push(&e->files, &e->nfiles, &e->cap, b.data, b.len))
		e->oom = 1;
	dd_buf_release(&b);
}

int dd_apk_parse_installed(dd_pkglist *out, const char *data, size_t len, const char *name,
			   dd_warnlist *warn, dd_error *err)
{
	const char *p = data, *end = data + len;
	size_t lineno = 0;
	entry *e = dd_calloc(1, sizeof(*e));
	int rc = 0;

	if (!e)
		return dd_error_oom(err);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *ls = p, *le = nl ? nl : end;
		p = nl ? nl + 1 : end;
		lineno++;
		if (le > ls && le[-1] == '\r')
			le--;
		if (le == ls) {
			if (finish_entry(out, e, name, warn) < 0)
				goto oom;
			entry_reset(e);
			continue;
		}
		if (!e->any) {
			e->any = 1;
			e->line = lineno;
		}
		unsigned char k = (unsigned char)ls[0];
		if (le - ls < 2 || ls[1] != ':' || k >= 128 || !isalnum(k)) {
			mark_bad(e, lineno, "line is not 'K:value'");
			continue;
		}
		const char *v = ls + 2;
		size_t vn = (size_t)(le - v);
		if (k == 'F') {
			while (vn && *v == '/') {
				v++;
				vn--;
			}
			e->dir = v;
			e->dirn = vn;
			continue;
		}
		if (k == 'R') {
			if (vn)
				add_file(e, v, vn);
			continue;
		}
		if (e->v[k] && strchr("PVA", (int)k)) {
			mark_bad(e, lineno, "duplicate P, V or A line");
			continue;
		}
		e->v[k] = v;
		e->n[k] = vn;
	}
	if (finish_entry(out, e, name, warn) < 0)
		goto oom;
	goto done;
oom:
	rc = dd_error_oom(err);
done:
	entry_reset(e);
	free(e);
	return rc;
}

/* ---- the cataloger ---- */

static const char *const apk_patterns[] = {
	"lib/apk/db/installed",
	"usr/lib/apk/db/installed",
	NULL,
};

static void apk_free(void *r)
{
	if (r) {
		dd_pkglist_release(r);
		free(r);
	}
}

static int apk_parse(const char *path, const void *data, size_t len, void **result,
		     dd_warnlist *warn, dd_error *err)
{
	dd_pkglist *l = dd_calloc(1, sizeof(*l));
	int rc;
	if (!l)
		return dd_error_oom(err);
	rc = dd_apk_parse_installed(l, data, len, path, warn, err);
	if (rc) {
		apk_free(l);
		return rc;
	}
	*result = l;
	return 0;
}

static const dd_pkglist *apk_list_of(const void *r)
{
	return r;
}

static int apk_resolve(dd_catalog *cat, dd_inventory *inv, dd_error *err)
{
	const dd_catfile *seen[2] = { NULL, NULL };

	for (size_t k = 0; apk_patterns[k]; k++) {
		const dd_catfile *f = dd_catalog_visible(cat, apk_patterns[k], 1);
		if (!f || f == seen[0])
			continue;
		seen[k] = f;
		dd_catalog_report(f, inv);
		dd_pkglist *l = f->result;
		if (!l)
			continue;
		size_t from = inv->pkgs.n;
		for (size_t i = 0; i < l->n; i++) {
			dd_package *p = dd_pkglist_add(&inv->pkgs);
			if (!p)
				return dd_error_oom(err);
			*p = l->v[i];
			memset(&l->v[i], 0, sizeof(l->v[i]));
		}
		l->n = 0;
		dd_catalog_provenance(&inv->pkgs, from, cat, f, apk_list_of);
	}
	return 0;
}

const dd_cataloger dd_cataloger_apk = {
	.name = "apk",
	.version = 1,
	.patterns = apk_patterns,
	.parse = apk_parse,
	.free_result = apk_free,
	.resolve = apk_resolve,
};
