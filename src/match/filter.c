/*
 * filter.c - purl parsing, the ignore file, VEX documents and SBOM input
 * for `drydock scan` (see filter.h).
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "match/filter.h"
#include "util/buf.h"
#include "util/banned.h"

/* ---- purls ----------------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..n) into a new string; NULL on bad escapes, NUL or OOM. */
static char *pct_decode(const char *s, size_t n)
{
	char *o = malloc(n + 1);
	size_t k = 0;
	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int a, b;
			if (i + 2 >= n)
				goto bad;
			a = hexval(s[i + 1]);
			b = hexval(s[i + 2]);
			if (a < 0 || b < 0 || (a == 0 && b == 0))
				goto bad;
			o[k++] = (char)(a * 16 + b);
			i += 2;
		} else {
			o[k++] = s[i];
		}
	}
	o[k] = '\0';
	return o;
bad:
	free(o);
	return NULL;
}

void dd_purl_release(dd_purl *p)
{
	if (!p)
		return;
	free(p->type);
	free(p->namespace_);
	free(p->name);
	free(p->version);
	free(p->arch);
	free(p->distro);
	free(p->upstream);
	free(p->epoch);
	memset(p, 0, sizeof(*p));
}

int dd_purl_parse(dd_purl *out, const char *s, dd_error *err)
{
	const char *p, *end, *q, *at, *slash;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!s || strncmp(s, "pkg:", 4) != 0)
		return dd_error_set(err, DD_EINPUT, "purl '%.200s': does not start with pkg:",
				    s ? s : "");
	n = strlen(s);
	if (n > 4096)
		return dd_error_set(err, DD_EINPUT, "purl of %zu bytes: too long", n);
	p = s + 4;
	while (*p == '/')
		p++;
	end = s + n;
	if ((q = strchr(p, '#')))
		end = q;
	q = memchr(p, '?', (size_t)(end - p));
	const char *path_end = q ? q : end;
	slash = memchr(p, '/', (size_t)(path_end - p));
	if (!slash || slash == p)
		goto bad;
	out->type = dd_strndup(p, (size_t)(slash - p));
	if (!out->type)
		goto oom;
	for (char *c = out->type; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	p = slash + 1;
	/* version: after the last '@' of the path */
	at = NULL;
	for (const char *c = p; c < path_end; c++)
		if (*c == '@')
			at = c;
	const char *name_end = at ? at : path_end;
	while (!at && name_end > p && name_end[-1] == '/')
		name_end--;
	const char *last = NULL;
	for (const char *c = p; c < name_end; c++)
		if (*c == '/')
			last = c;
	if (last) {
		if (!(out->namespace_ = pct_decode(p, (size_t)(last - p))))
			goto bad;
		p = last + 1;
	}
	if (name_end <= p || !(out->name = pct_decode(p, (size_t)(name_end - p))))
		goto bad;
	if (at && !(out->version = pct_decode(at + 1, (size_t)(path_end - at - 1))))
		goto bad;
	if (q) {
		const char *k = q + 1;
		while (k < end) {
			const char *amp = memchr(k, '&', (size_t)(end - k));
			const char *e = amp ? amp : end;
			const char *eq = memchr(k, '=', (size_t)(e - k));
			if (eq) {
				size_t kl = (size_t)(eq - k);
				char **dst = NULL;
				if (kl == 4 && strncasecmp(k, "arch", 4) == 0)
					dst = &out->arch;
				else if (kl == 6 && strncasecmp(k, "distro", 6) == 0)
					dst = &out->distro;
				else if (kl == 8 && strncasecmp(k, "upstream", 8) == 0)
					dst = &out->upstream;
				else if (kl == 5 && strncasecmp(k, "epoch", 5) == 0)
					dst = &out->epoch;
				if (dst) {
					free(*dst);
					if (!(*dst = pct_decode(eq + 1, (size_t)(e - eq - 1))))
						goto bad;
				}
			}
			k = e + 1;
		}
	}
	return 0;
bad:
	dd_purl_release(out);
	return dd_error_set(err, DD_EINPUT, "purl '%.200s': malformed", s);
oom:
	dd_purl_release(out);
	return dd_error_oom(err);
}

static int streq_opt(const char *a, const char *b, int icase)
{
	if (!a || !b)
		return a == b;
	return icase ? strcasecmp(a, b) == 0 : strcmp(a, b) == 0;
}

int dd_purl_matches(const dd_purl *want, const dd_purl *pkg)
{
	int icase;
	if (!want || !pkg || !want->type || !pkg->type || strcmp(want->type, pkg->type) != 0)
		return 0;
	icase = strcmp(want->type, "deb") == 0 || strcmp(want->type, "apk") == 0 ||
		strcmp(want->type, "rpm") == 0;
	if (want->namespace_ && !streq_opt(want->namespace_, pkg->namespace_, 1))
		return 0;
	if (!streq_opt(want->name, pkg->name, icase))
		return 0;
	if (want->version && !streq_opt(want->version, pkg->version, 0))
		return 0;
	return 1;
}

/* ---- ignore file --------------------------------------------------------------- */

void dd_ignore_free(dd_ignore *ig)
{
	if (!ig)
		return;
	for (size_t i = 0; i < ig->n; i++) {
		free(ig->v[i].id);
		free(ig->v[i].package);
		free(ig->v[i].reason);
	}
	free(ig->v);
	free(ig);
}

static int valid_date(int y, int m, int d)
{
	static const int days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
		return 0;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 0;
	return 1;
}

int dd_ignore_expired(const dd_ignore_rule *r, time_t now)
{
	struct tm tm;
	long today, exp;
	if (!r->has_expiry)
		return 0;
	if (!gmtime_r(&now, &tm))
		return 0;
	today = (long)(tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
	exp = (long)r->exp_y * 10000 + r->exp_m * 100 + r->exp_d;
	return today > exp;
}

static int id_char_ok(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_' || c == ':' || c == '.' || c == '/' || c == '+';
}

int dd_ignore_parse(dd_ignore **out, const char *data, size_t len, const char *name,
		    dd_error *err)
{
	dd_ignore *ig = dd_calloc(1, sizeof(*ig));
	size_t cap = 0, lineno = 0, pos = 0;
	int rc = 0;

	*out = NULL;
	if (!ig)
		return dd_error_oom(err);
	while (pos < len) {
		const char *l = data + pos, *nl = memchr(l, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - l) : len - pos;
		pos += ll + (nl ? 1 : 0);
		lineno++;
		if (memchr(l, '\0', ll)) {
			rc = dd_error_set(err, DD_EINPUT, "%s:%zu: NUL byte", name, lineno);
			goto done;
		}
		if (ll && l[ll - 1] == '\r')
			ll--;
		const char *hash = memchr(l, '#', ll);
		size_t body = hash ? (size_t)(hash - l) : ll;
		size_t i = 0;
		dd_ignore_rule r;
		memset(&r, 0, sizeof(r));
		while (i < body && (l[i] == ' ' || l[i] == '\t'))
			i++;
		if (i == body)
			continue; /* blank or comment */
		while (i < body) {
			size_t s = i;
			while (i < body && l[i] != ' ' && l[i] != '\t')
				i++;
			const char *t = l + s;
			size_t tl = i - s;
			while (i < body && (l[i] == ' ' || l[i] == '\t'))
				i++;
			if (!r.id) {
				for (size_t k = 0; k < tl; k++)
					if (!id_char_ok((unsigned char)t[k])) {
						rc = dd_error_set(err, DD_EINPUT,
								  "%s:%zu: '%.*s' is not a vulnerability id",
								  name, lineno, (int)(tl > 80 ? 80 : tl), t);
						goto bad_rule;
					}
				if (tl > 200 || !(r.id = dd_strndup(t, tl))) {
					rc = tl > 200 ? dd_error_set(err, DD_EINPUT, "%s:%zu: id too long",
								     name, lineno)
						      : dd_error_oom(err);
					goto bad_rule;
				}
			} else if (tl > 4 && strncmp(t, "pkg:", 4) == 0 && !r.package) {
				if (tl > 260 || !(r.package = dd_strndup(t + 4, tl - 4))) {
					rc = dd_error_set(err, DD_EINPUT, "%s:%zu: bad pkg:", name, lineno);
					goto bad_rule;
				}
			} else if (tl == 14 && strncmp(t, "exp:", 4) == 0 && !r.has_expiry) {
				char d[11];
				memcpy(d, t + 4, 10);
				d[10] = '\0';
				int ok = d[4] == '-' && d[7] == '-';
				for (int k = 0; k < 10 && ok; k++)
					if (k != 4 && k != 7 && !isdigit((unsigned char)d[k]))
						ok = 0;
				if (ok) {
					r.exp_y = atoi(d);
					r.exp_m = atoi(d + 5);
					r.exp_d = atoi(d + 8);
					ok = valid_date(r.exp_y, r.exp_m, r.exp_d);
				}
				if (!ok) {
					rc = dd_error_set(err, DD_EINPUT,
							  "%s:%zu: '%.14s' is not exp:YYYY-MM-DD", name,
							  lineno, t);
					goto bad_rule;
				}
				r.has_expiry = 1;
			} else {
				rc = dd_error_set(err, DD_EINPUT,
						  "%s:%zu: unexpected '%.*s' (want ID [pkg:NAME] "
						  "[exp:YYYY-MM-DD] [# reason])",
						  name, lineno, (int)(tl > 80 ? 80 : tl), t);
				goto bad_rule;
			}
		}
		if (hash) {
			size_t a = (size_t)(hash - l) + 1, b = ll;
			while (a < b && (l[a] == ' ' || l[a] == '\t'))
				a++;
			while (b > a && (l[b - 1] == ' ' || l[b - 1] == '\t'))
				b--;
			if (b > a && !(r.reason = dd_strndup(l + a, b - a > 500 ? 500 : b - a))) {
				rc = dd_error_oom(err);
				goto bad_rule;
			}
		}
		r.line = lineno;
		if (ig->n == cap) {
			size_t nc = cap ? cap * 2 : 8, bytes;
			dd_ignore_rule *nv;
			if (dd_mul_size(&bytes, nc, sizeof(*nv)) || !(nv = realloc(ig->v, bytes))) {
				rc = dd_error_oom(err);
				goto bad_rule;
			}
			ig->v = nv;
			cap = nc;
		}
		ig->v[ig->n++] = r;
		continue;
bad_rule:
		free(r.id);
		free(r.package);
		free(r.reason);
		goto done;
	}
	*out = ig;
	ig = NULL;
done:
	dd_ignore_free(ig);
	return rc;
}

/* ---- VEX ------------------------------------------------------------------------- */

static void stmt_release(dd_vex_stmt *s)
{
	free(s->id);
	for (size_t i = 0; i < s->n_aliases; i++)
		free(s->aliases[i]);
	free(s->aliases);
	for (size_t i = 0; i < s->n_products; i++)
		dd_purl_release(&s->products[i]);
	free(s->products);
	free(s->status);
	free(s->justification);
	free(s->statement);
}

void dd_vex_free(dd_vex *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++)
		stmt_release(&v->v[i]);
	free(v->v);
	free(v->format);
	free(v);
}

static const char *jstr(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Add a product purl (package-level products only; image purls and
 * non-purl ids are image-level). */
static int add_product(dd_vex_stmt *s, const char *id, size_t cap)
{
	dd_purl p;
	if (!id || strncmp(id, "pkg:", 4) != 0 || strncmp(id, "pkg:oci/", 8) == 0 ||
	    strncmp(id, "pkg:docker/", 11) == 0)
		return 0;
	if (s->n_products >= cap || dd_purl_parse(&p, id, NULL) != 0)
		return 0;
	s->products[s->n_products++] = p;
	return 0;
}

static int add_stmt(dd_vex *v, size_t *cap, dd_vex_stmt *s)
{
	if (v->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16, bytes;
		dd_vex_stmt *nv;
		if (dd_mul_size(&bytes, nc, sizeof(*nv)) || !(nv = realloc(v->v, bytes)))
			return -1;
		v->v = nv;
		*cap = nc;
	}
	v->v[v->n++] = *s;
	return 0;
}

#define MAX_PRODUCTS 4096

static size_t count_products(const json_t *prods)
{
	size_t n = 0, i;
	const json_t *p;
	json_array_foreach(prods, i, p) {
		n++;
		const json_t *sub = json_is_object(p) ? json_object_get(p, "subcomponents") : NULL;
		if (json_is_array(sub))
			n += json_array_size(sub);
	}
	return n > MAX_PRODUCTS ? MAX_PRODUCTS : n;
}

static int parse_openvex(dd_vex *v, const json_t *root, const char *name, dd_error *err)
{
	const json_t *sts = json_object_get(root, "statements"), *st;
	size_t i, cap = 0;
	if (!json_is_array(sts))
		return dd_error_set(err, DD_EINPUT, "%s: OpenVEX document without statements[]", name);
	json_array_foreach(sts, i, st) {
		dd_vex_stmt s;
		const json_t *vul = json_object_get(st, "vulnerability");
		const json_t *prods = json_object_get(st, "products");
		const char *id = NULL;
		memset(&s, 0, sizeof(s));
		if (!json_is_object(st))
			return dd_error_set(err, DD_EINPUT, "%s: statements[%zu] is not an object", name, i);
		if (json_is_string(vul))
			id = json_string_value(vul);
		else if (json_is_object(vul))
			id = jstr(vul, "name") ? jstr(vul, "name") : jstr(vul, "@id");
		if (!id || !jstr(st, "status"))
			return dd_error_set(err, DD_EINPUT,
					    "%s: statements[%zu] lacks a vulnerability name or status",
					    name, i);
		s.id = dd_strdup(id);
		s.status = dd_strdup(jstr(st, "status"));
		s.justification = dd_strdup(jstr(st, "justification"));
		s.statement = dd_strdup(jstr(st, "impact_statement") ? jstr(st, "impact_statement")
								    : jstr(st, "status_notes"));
		const json_t *al = json_is_object(vul) ? json_object_get(vul, "aliases") : NULL;
		if (json_is_array(al) && json_array_size(al) &&
		    (s.aliases = dd_calloc(json_array_size(al), sizeof(char *)))) {
			size_t k;
			const json_t *a;
			json_array_foreach(al, k, a) if (json_is_string(a))
				s.aliases[s.n_aliases++] = dd_strdup(json_string_value(a));
		}
		if (json_is_array(prods)) {
			size_t cp = count_products(prods), k;
			const json_t *p;
			if (cp && !(s.products = dd_calloc(cp, sizeof(dd_purl))))
				goto oom;
			json_array_foreach(prods, k, p) {
				const char *pid = json_is_string(p) ? json_string_value(p)
								    : jstr(p, "@id");
				add_product(&s, pid, cp);
				const json_t *sub = json_is_object(p) ? json_object_get(p, "subcomponents")
								      : NULL;
				size_t q;
				const json_t *sc;
				if (json_is_array(sub))
					json_array_foreach(sub, q, sc)
						add_product(&s, json_is_string(sc) ? json_string_value(sc)
										   : jstr(sc, "@id"),
							    cp);
			}
		}
		if (!s.id || !s.status || add_stmt(v, &cap, &s)) {
			stmt_release(&s);
			goto oom;
		}
	}
	return 0;
oom:
	return dd_error_oom(err);
}

static const char *cdx_state(const char *st)
{
	if (!st)
		return NULL;
	if (!strcmp(st, "not_affected") || !strcmp(st, "false_positive"))
		return "not_affected";
	if (!strcmp(st, "resolved") || !strcmp(st, "resolved_with_pedigree"))
		return "fixed";
	if (!strcmp(st, "exploitable"))
		return "affected";
	if (!strcmp(st, "in_triage"))
		return "under_investigation";
	return NULL;
}

/* bom-ref -> purl from components[] (top level and nested, bounded depth). */
static const char *cdx_ref_purl(const json_t *comps, const char *ref, int depth)
{
	size_t i;
	const json_t *c;
	if (!json_is_array(comps) || depth > 16)
		return NULL;
	json_array_foreach(comps, i, c) {
		const char *r = jstr(c, "bom-ref");
		if (r && strcmp(r, ref) == 0)
			return jstr(c, "purl");
		const char *sub = cdx_ref_purl(json_object_get(c, "components"), ref, depth + 1);
		if (sub)
			return sub;
	}
	return NULL;
}

static int parse_cdx(dd_vex *v, const json_t *root, const char *name, dd_error *err)
{
	const json_t *vs = json_object_get(root, "vulnerabilities"), *vu;
	const json_t *comps = json_object_get(root, "components");
	size_t i, cap = 0;
	if (!json_is_array(vs))
		return dd_error_set(err, DD_EINPUT, "%s: CycloneDX document without vulnerabilities[]",
				    name);
	json_array_foreach(vs, i, vu) {
		dd_vex_stmt s;
		const json_t *an = json_object_get(vu, "analysis");
		const json_t *aff = json_object_get(vu, "affects"), *a;
		const char *state = cdx_state(jstr(an, "state"));
		size_t k;
		memset(&s, 0, sizeof(s));
		if (!jstr(vu, "id"))
			return dd_error_set(err, DD_EINPUT, "%s: vulnerabilities[%zu] has no id", name, i);
		if (!state)
			continue; /* no analysis: not a VEX statement */
		s.id = dd_strdup(jstr(vu, "id"));
		s.status = dd_strdup(state);
		s.justification = dd_strdup(jstr(an, "justification"));
		s.statement = dd_strdup(jstr(an, "detail"));
		if (json_is_array(aff) && json_array_size(aff)) {
			size_t cp = json_array_size(aff) > MAX_PRODUCTS ? MAX_PRODUCTS
									: json_array_size(aff);
			if (!(s.products = dd_calloc(cp, sizeof(dd_purl)))) {
				stmt_release(&s);
				return dd_error_oom(err);
			}
			json_array_foreach(aff, k, a) {
				const char *ref = jstr(a, "ref");
				if (!ref)
					continue;
				if (strncmp(ref, "pkg:", 4) != 0)
					ref = cdx_ref_purl(comps, ref, 0);
				add_product(&s, ref, cp);
			}
		}
		if (!s.id || !s.status || add_stmt(v, &cap, &s)) {
			stmt_release(&s);
			return dd_error_oom(err);
		}
	}
	return 0;
}

int dd_vex_parse(dd_vex **out, const char *data, size_t len, const char *name, dd_error *err)
{
	json_error_t je;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	dd_vex *v = NULL;
	int rc;

	*out = NULL;
	if (!root)
		return dd_error_set(err, DD_EINPUT, "%s:%d: %s", name, je.line, je.text);
	if (!json_is_object(root)) {
		rc = dd_error_set(err, DD_EINPUT, "%s: not a JSON object", name);
		goto done;
	}
	if (!(v = dd_calloc(1, sizeof(*v)))) {
		rc = dd_error_oom(err);
		goto done;
	}
	if (jstr(root, "bomFormat") && strcmp(jstr(root, "bomFormat"), "CycloneDX") == 0) {
		v->format = dd_strdup("cyclonedx");
		rc = parse_cdx(v, root, name, err);
	} else if (json_object_get(root, "statements")) {
		v->format = dd_strdup("openvex");
		rc = parse_openvex(v, root, name, err);
	} else {
		rc = dd_error_set(err, DD_EINPUT,
				  "%s: neither OpenVEX (statements[]) nor CycloneDX (bomFormat)", name);
	}
	if (!rc && !v->format)
		rc = dd_error_oom(err);
	if (!rc) {
		*out = v;
		v = NULL;
	}
done:
	dd_vex_free(v);
	json_decref(root);
	return rc;
}

static int finding_has_id(const dd_finding *f, const char *id)
{
	if (!id)
		return 0;
	if (strcmp(f->id, id) == 0)
		return 1;
	for (size_t i = 0; i < f->n_aliases; i++)
		if (strcmp(f->aliases[i], id) == 0)
			return 1;
	return 0;
}

const dd_vex_stmt *dd_vex_find(const dd_vex *v, const dd_finding *f, const char *pkg_purl)
{
	const dd_vex_stmt *found = NULL;
	dd_purl pp;
	int have = pkg_purl && dd_purl_parse(&pp, pkg_purl, NULL) == 0;

	for (size_t i = 0; v && i < v->n; i++) {
		const dd_vex_stmt *s = &v->v[i];
		int idm = finding_has_id(f, s->id);
		for (size_t k = 0; !idm && k < s->n_aliases; k++)
			idm = finding_has_id(f, s->aliases[k]);
		if (!idm)
			continue;
		int pm = s->n_products == 0;
		for (size_t k = 0; !pm && have && k < s->n_products; k++)
			pm = dd_purl_matches(&s->products[k], &pp);
		if (pm)
			found = s;
	}
	if (have)
		dd_purl_release(&pp);
	return found;
}

/* ---- SBOM input -------------------------------------------------------------- */

typedef struct sbom_ctx {
	dd_inventory *inv;
	size_t other, bad;
	char *distro; /* first distro qualifier seen */
	char *ns;     /* first deb/apk/rpm namespace seen */
	size_t count;
} sbom_ctx;

static int add_purl_pkg(sbom_ctx *c, const char *purl, dd_error *err)
{
	dd_purl p;
	dd_package *pkg;
	enum dd_pkg_type t;
	int rc = 0;

	if (!purl)
		return 0;
	if (++c->count > 1000000)
		return dd_error_set(err, DD_EINPUT, "SBOM: more than 1000000 components");
	if (dd_purl_parse(&p, purl, NULL) != 0) {
		c->bad++;
		return 0;
	}
	if (!strcmp(p.type, "deb"))
		t = DD_PKG_DEB;
	else if (!strcmp(p.type, "apk"))
		t = DD_PKG_APK;
	else if (!strcmp(p.type, "rpm"))
		t = DD_PKG_RPM;
	else {
		c->other++;
		goto done;
	}
	if (!p.version) {
		c->bad++;
		goto done;
	}
	if (!(pkg = dd_pkglist_add(&c->inv->pkgs))) {
		rc = dd_error_oom(err);
		goto done;
	}
	pkg->type = t;
	pkg->name = p.name;
	p.name = NULL;
	pkg->arch = p.arch;
	p.arch = NULL;
	if (t == DD_PKG_RPM && p.epoch) {
		dd_buf b = DD_BUF_INIT_MAX(8192);
		dd_buf_printf(&b, "%s:%s", p.epoch, p.version);
		pkg->version = b.failed ? NULL : dd_buf_detach(&b, NULL);
		dd_buf_release(&b);
		pkg->has_epoch = 1;
		pkg->epoch = (uint32_t)strtoul(p.epoch, NULL, 10);
	} else {
		pkg->version = p.version;
		p.version = NULL;
	}
	if (p.upstream && t == DD_PKG_RPM) {
		/* "openssl-3.0.1-41.el9_0.src.rpm": the source RPM's name */
		size_t l = strlen(p.upstream);
		if (l > 8 && strcmp(p.upstream + l - 8, ".src.rpm") == 0) {
			p.upstream[l - 8] = '\0';
			for (int k = 0; k < 2; k++) {
				char *dash = strrchr(p.upstream, '-');
				if (dash && dash != p.upstream)
					*dash = '\0';
			}
		}
	}
	if (p.upstream) {
		char *at = strchr(p.upstream, '@');
		if (at) {
			*at = '\0';
			pkg->source_version = dd_strdup(at + 1);
		}
		pkg->source_name = dd_strdup(p.upstream);
	}
	if (!c->distro && p.distro)
		c->distro = dd_strdup(p.distro);
	if (!c->ns && p.namespace_)
		c->ns = dd_strdup(p.namespace_);
	if (!pkg->version)
		rc = dd_error_oom(err);
done:
	dd_purl_release(&p);
	return rc;
}

static int cdx_components(sbom_ctx *c, const json_t *comps, int depth, dd_error *err)
{
	size_t i;
	const json_t *x;
	int rc;
	if (!json_is_array(comps))
		return 0;
	if (depth > 32)
		return dd_error_set(err, DD_EINPUT, "SBOM: components nested deeper than 32");
	json_array_foreach(comps, i, x) {
		const char *type = jstr(x, "type");
		if (type && strcmp(type, "operating-system") == 0 && !c->inv->os.id && jstr(x, "name")) {
			c->inv->os.id = dd_strdup(jstr(x, "name"));
			c->inv->os.version_id = dd_strdup(jstr(x, "version"));
			for (char *q = c->inv->os.id; q && *q; q++)
				*q = (char)tolower((unsigned char)*q);
		}
		if ((rc = add_purl_pkg(c, jstr(x, "purl"), err)))
			return rc;
		if ((rc = cdx_components(c, json_object_get(x, "components"), depth + 1, err)))
			return rc;
	}
	return 0;
}

int dd_sbom_read(dd_inventory **out, const char *data, size_t len, const char *ref,
		 dd_error *err)
{
	json_error_t je;
	json_t *root = json_loadb(data, len, 0, &je);
	sbom_ctx c;
	int rc = 0;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	if (!root)
		return dd_error_set(err, DD_EINPUT, "SBOM %s:%d: %s", ref, je.line, je.text);
	if ((rc = dd_inventory_new(&c.inv, err)))
		goto done;
	if (!(c.inv->image.ref = dd_strdup(ref))) {
		rc = dd_error_oom(err);
		goto done;
	}
	c.inv->image.transport = DD_TRANSPORT_ROOTFS;
	if (jstr(root, "bomFormat") && strcmp(jstr(root, "bomFormat"), "CycloneDX") == 0) {
		const json_t *md = json_object_get(root, "metadata");
		const json_t *mc = json_object_get(md, "component");
		if (json_is_object(mc)) {
			json_t *arr = json_array();
			json_array_append(arr, (json_t *)mc);
			rc = cdx_components(&c, arr, 0, err);
			json_decref(arr);
		}
		if (!rc)
			rc = cdx_components(&c, json_object_get(root, "components"), 0, err);
	} else if (jstr(root, "spdxVersion")) {
		const json_t *pk = json_object_get(root, "packages"), *x;
		size_t i;
		json_array_foreach(pk, i, x) {
			const json_t *refs = json_object_get(x, "externalRefs"), *r;
			size_t k;
			json_array_foreach(refs, k, r) {
				const char *rt = jstr(r, "referenceType");
				if (rt && strcmp(rt, "purl") == 0 &&
				    (rc = add_purl_pkg(&c, jstr(r, "referenceLocator"), err)))
					goto done;
			}
		}
	} else {
		rc = dd_error_set(err, DD_EINPUT,
				  "SBOM %s: neither CycloneDX JSON (bomFormat) nor SPDX JSON (spdxVersion)",
				  ref);
	}
	if (rc)
		goto done;
	if (!c.inv->os.id && c.distro) {
		/* "debian-12", "alpine-3.10.3", "ubuntu-18.04", "rhel-9.2" */
		char *dash = strrchr(c.distro, '-');
		if (dash && dash[1]) {
			c.inv->os.id = dd_strndup(c.distro, (size_t)(dash - c.distro));
			if (dash[1] >= '0' && dash[1] <= '9')
				c.inv->os.version_id = dd_strdup(dash + 1);
			else
				c.inv->os.codename = dd_strdup(dash + 1);
		}
	}
	if (!c.inv->os.id && c.ns)
		c.inv->os.id = dd_strdup(c.ns);
	if (c.other)
		dd_inventory_warn(c.inv, "SBOM %s: %zu components are not OS packages (deb, apk, rpm) "
				  "and were not checked", ref, c.other);
	if (c.bad)
		dd_inventory_warn(c.inv, "SBOM %s: %zu components had a malformed or versionless purl",
				  ref, c.bad);
	dd_pkglist_sort(&c.inv->pkgs);
	*out = c.inv;
	c.inv = NULL;
done:
	free(c.distro);
	free(c.ns);
	dd_inventory_free(c.inv);
	json_decref(root);
	return rc;
}
