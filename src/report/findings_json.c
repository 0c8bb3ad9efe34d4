/*
 * findings_json.c - `drydock scan --format json` (docs/json-output.md) and
 * the helpers every findings writer shares.
 */
#include <stdlib.h>
#include <string.h>

#include "report/findings_common.h"
#include "report/json_util.h"
#include "report/purl.h"
#include "version/version.h"
#include "util/banned.h"

const dd_package *dd_finding_package(const dd_findings_report *r, const dd_finding *f)
{
	return dd_inventory_package(r->inv, f->pkg);
}

void dd_finding_purl(dd_buf *out, const dd_findings_report *r, const dd_package *p)
{
	dd_error e = DD_ERROR_INIT;
	if (p && dd_purl_format(out, p, dd_inventory_os(r->inv), &e) != 0)
		dd_buf_reset(out);
}

size_t dd_findings_open_count(const dd_findings *f)
{
	size_t n = 0;
	for (size_t i = 0; f && i < f->n; i++)
		n += f->v[i].suppressed_by == NULL;
	return n;
}

const char *dd_findings_time(char *buf, size_t n, time_t t)
{
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, n, "1970-01-01T00:00:00Z");
	return buf;
}

static json_t *jopt(dd_jctx *c, const char *s)
{
	return s ? dd_jstr(c, s) : json_null();
}

static json_t *from_base_json(int fb)
{
	return fb < 0 ? json_null() : json_boolean(fb);
}

static json_t *layer_json(dd_jctx *c, const dd_package *p)
{
	json_t *l = dd_jobj(c);
	dd_jset(c, l, "index", p->layer >= 0 ? json_integer(p->layer) : json_null());
	dd_jset(c, l, "diffID", dd_digest_is_set(&p->diff_id) ? dd_jstr(c, p->diff_id.s)
							     : json_null());
	return l;
}

static json_t *finding_json(dd_jctx *c, const dd_findings_report *r, const dd_finding *f)
{
	const dd_package *p = dd_finding_package(r, f);
	json_t *j = dd_jobj(c), *al = dd_jarr(c), *pk = dd_jobj(c), *cv = dd_jarr(c);
	dd_buf purl = DD_BUF_INIT_MAX(16384);

	dd_jset(c, j, "id", dd_jstr(c, f->id));
	for (size_t i = 0; i < f->n_aliases; i++)
		dd_jpush(c, al, dd_jstr(c, f->aliases[i]));
	dd_jset(c, j, "aliases", al);
	json_t *rel = dd_jarr(c);
	for (size_t i = 0; i < f->n_related; i++)
		dd_jpush(c, rel, dd_jstr(c, f->related[i]));
	dd_jset(c, j, "related", rel);
	dd_finding_purl(&purl, r, p);
	dd_jset(c, pk, "name", dd_jstr(c, p->name));
	dd_jset(c, pk, "version", dd_jstr(c, p->version));
	dd_jset(c, pk, "type", dd_jstr(c, dd_pkg_type_name(p->type)));
	dd_jset(c, pk, "source_name", dd_jstr(c, p->source_name ? p->source_name : p->name));
	dd_jset(c, pk, "source_version",
		dd_jstr(c, p->source_version ? p->source_version : p->version));
	dd_jset(c, pk, "purl", purl.len ? dd_jstr(c, dd_buf_cstr(&purl)) : json_null());
	dd_jset(c, pk, "layer", layer_json(c, p));
	dd_buf_release(&purl);
	dd_jset(c, j, "package", pk);
	json_t *mt = dd_jobj(c);
	dd_jset(c, mt, "ecosystem", jopt(c, f->ecosystem));
	dd_jset(c, mt, "name", jopt(c, f->match_name));
	dd_jset(c, mt, "version", jopt(c, f->match_version));
	dd_jset(c, j, "matched", mt);
	dd_jset(c, j, "status", dd_jstr(c, f->status));
	dd_jset(c, j, "fixed_version", jopt(c, f->fixed_version));
	dd_jset(c, j, "severity", dd_jstr(c, dd_severity_name(f->severity)));
	dd_jset(c, j, "severity_source", jopt(c, f->severity_source));
	dd_jset(c, j, "distro_rating", jopt(c, f->distro_rating));
	for (size_t i = 0; i < f->n_cvss; i++) {
		json_t *x = dd_jobj(c);
		dd_jset(c, x, "source", jopt(c, f->cvss[i].source));
		dd_jset(c, x, "type", dd_jstr(c, f->cvss[i].type));
		dd_jset(c, x, "vector", jopt(c, f->cvss[i].vector));
		dd_jset(c, x, "score", f->cvss[i].has_score ? json_real(f->cvss[i].score)
							  : json_null());
		dd_jpush(c, cv, x);
	}
	dd_jset(c, j, "cvss", cv);
	dd_jset(c, j, "data_source", jopt(c, f->data_source));
	dd_jset(c, j, "from_base", from_base_json(f->from_base));
	dd_jset(c, j, "title", jopt(c, f->summary));
	dd_jset(c, j, "notes", jopt(c, f->notes));
	if (f->suppressed_by) {
		dd_jset(c, j, "suppressed_by", dd_jstr(c, f->suppressed_by));
		dd_jset(c, j, "suppress_reason", jopt(c, f->suppress_reason));
	}
	return j;
}

/* remediation: per package the highest fixed version among its open
 * fixable findings; base findings also say a newer base is needed. */
static json_t *remediation_json(dd_jctx *c, const dd_findings_report *r)
{
	const dd_findings *fs = r->f;
	json_t *rem = dd_jobj(c), *ups = dd_jarr(c), *base = dd_jobj(c);
	size_t base_n = 0, base_fix = 0, unfixable = 0;

	for (size_t i = 0; i < fs->n; i++) {
		const dd_finding *f = &fs->v[i];
		if (f->suppressed_by)
			continue;
		if (f->from_base == 1) {
			base_n++;
			base_fix += f->fixed_version != NULL;
		}
		if (!f->fixed_version) {
			unfixable++;
			continue;
		}
		/* first open fixable finding of this package? */
		int seen = 0;
		for (size_t k = 0; k < i && !seen; k++)
			seen = fs->v[k].pkg == f->pkg && !fs->v[k].suppressed_by &&
			       fs->v[k].fixed_version;
		if (seen)
			continue;
		const dd_package *p = dd_finding_package(r, f);
		enum dd_ecosystem eco = p->type == DD_PKG_DEB ? DD_ECO_DEB
					: p->type == DD_PKG_APK ? DD_ECO_APK : DD_ECO_RPM;
		const char *target = f->fixed_version;
		json_t *ids = dd_jarr(c), *u = dd_jobj(c);
		for (size_t k = i; k < fs->n; k++) {
			const dd_finding *g = &fs->v[k];
			int cmp;
			if (g->pkg != f->pkg || g->suppressed_by || !g->fixed_version)
				continue;
			dd_jpush(c, ids, dd_jstr(c, g->id));
			if (dd_version_cmp(eco, g->fixed_version, target, &cmp, NULL) == 0 && cmp > 0)
				target = g->fixed_version;
		}
		dd_jset(c, u, "package", dd_jstr(c, p->name));
		dd_jset(c, u, "installed", dd_jstr(c, p->version));
		dd_jset(c, u, "upgrade_to", dd_jstr(c, target));
		dd_jset(c, u, "source_name", dd_jstr(c, f->match_name));
		dd_jset(c, u, "from_base", from_base_json(f->from_base));
		dd_jset(c, u, "fixes", ids);
		dd_jpush(c, ups, u);
	}
	dd_jset(c, rem, "upgrades", ups);
	dd_jset(c, rem, "unfixable", json_integer((json_int_t)unfixable));
	dd_jset(c, base, "newer_base_image_needed", json_boolean(base_n > 0));
	dd_jset(c, base, "findings", json_integer((json_int_t)base_n));
	dd_jset(c, base, "fixable", json_integer((json_int_t)base_fix));
	dd_jset(c, base, "statement",
		base_n ? dd_jstr(c, "newer base image needed: findings come from the base image's "
				    "layers; rebuild on an updated base")
		       : json_null());
	dd_jset(c, rem, "base_image", base);
	return rem;
}

static json_t *image_json(dd_jctx *c, const dd_findings_report *r)
{
	const dd_inventory *inv = r->inv;
	json_t *im = dd_jobj(c), *layers = dd_jarr(c);
	char plat[112];
	const dd_digest *md = dd_inventory_manifest_digest(inv);

	dd_jset(c, im, "reference", dd_jstr(c, dd_inventory_ref(inv)));
	dd_jset(c, im, "manifest_digest", dd_digest_is_set(md) ? dd_jstr(c, md->s) : json_null());
	dd_jset(c, im, "config_digest", dd_digest_is_set(dd_inventory_config_digest(inv))
						? dd_jstr(c, dd_inventory_config_digest(inv)->s)
						: json_null());
	if (dd_inventory_platform(inv)->os[0]) {
		dd_platform_format(dd_inventory_platform(inv), plat, sizeof(plat));
		dd_jset(c, im, "platform", dd_jstr(c, plat));
	} else {
		dd_jset(c, im, "platform", json_null());
	}
	for (size_t i = 0; i < dd_inventory_layer_count(inv); i++) {
		const dd_inv_layer *l = dd_inventory_layer(inv, i);
		dd_jpush(c, layers, dd_digest_is_set(&l->diff_id) ? dd_jstr(c, l->diff_id.s)
								   : json_null());
	}
	dd_jset(c, im, "layers", layers);
	json_t *b = dd_jobj(c);
	dd_jset(c, b, "reference", jopt(c, r->base_ref));
	dd_jset(c, b, "known_from", jopt(c, r->base_how));
	dd_jset(c, b, "layers", r->f->base_layers >= 0 ? json_integer(r->f->base_layers)
						       : json_null());
	dd_jset(c, im, "base", b);
	return im;
}

int dd_findings_write_json(FILE *out, const dd_findings_report *r, dd_error *err)
{
	dd_jctx c;
	json_t *root, *os, *pkgs, *fnd, *sup, *sum, *warn, *bysev;
	const dd_os *o = dd_inventory_os(r->inv);
	size_t counts[DD_SEV_COUNT] = { 0 }, fixable = 0, nopen = 0, nbase = 0, napp = 0;
	int rc;

	dd_jctx_init(&c);
	root = dd_jobj(&c);
	dd_jset(&c, root, "schema", dd_jstr(&c, "drydock-scan/1"));
	dd_jset(&c, root, "image", image_json(&c, r));
	os = dd_jobj(&c);
	dd_jset(&c, os, "id", jopt(&c, o->id));
	dd_jset(&c, os, "version", jopt(&c, o->version_id));
	dd_jset(&c, os, "codename", jopt(&c, o->codename));
	dd_jset(&c, os, "name", jopt(&c, o->name));
	dd_jset(&c, os, "ecosystem", jopt(&c, r->f->ecosystem));
	dd_jset(&c, os, "supported", json_boolean(r->f->os_supported));
	/* eol: the release's end of security support, null when unknown */
	dd_jset(&c, os, "eol", jopt(&c, dd_os_eol(o)));
	dd_jset(&c, root, "os", os);
	pkgs = dd_jarr(&c);
	for (size_t i = 0; i < dd_inventory_package_count(r->inv); i++) {
		const dd_package *p = dd_inventory_package(r->inv, i);
		json_t *j = dd_jobj(&c);
		dd_buf purl = DD_BUF_INIT_MAX(16384);
		dd_finding_purl(&purl, r, p);
		dd_jset(&c, j, "name", dd_jstr(&c, p->name));
		dd_jset(&c, j, "version", dd_jstr(&c, p->version));
		dd_jset(&c, j, "arch", jopt(&c, p->arch));
		dd_jset(&c, j, "type", dd_jstr(&c, dd_pkg_type_name(p->type)));
		dd_jset(&c, j, "source_name", dd_jstr(&c, p->source_name ? p->source_name : p->name));
		dd_jset(&c, j, "source_version",
			dd_jstr(&c, p->source_version ? p->source_version : p->version));
		dd_jset(&c, j, "purl", purl.len ? dd_jstr(&c, dd_buf_cstr(&purl)) : json_null());
		dd_jset(&c, j, "layer", layer_json(&c, p));
		int fb = -1;
		if (r->f->base_layers >= 0 && p->layer >= 0)
			fb = p->layer < r->f->base_layers;
		dd_jset(&c, j, "from_base", from_base_json(fb));
		dd_buf_release(&purl);
		dd_jpush(&c, pkgs, j);
	}
	dd_jset(&c, root, "packages", pkgs);
	fnd = dd_jarr(&c);
	sup = dd_jarr(&c);
	for (size_t i = 0; i < r->f->n; i++) {
		const dd_finding *f = &r->f->v[i];
		if (f->suppressed_by) {
			dd_jpush(&c, sup, finding_json(&c, r, f));
			continue;
		}
		dd_jpush(&c, fnd, finding_json(&c, r, f));
		nopen++;
		counts[f->severity]++;
		fixable += f->fixed_version != NULL;
		nbase += f->from_base == 1;
		napp += f->from_base == 0;
	}
	dd_jset(&c, root, "findings", fnd);
	dd_jset(&c, root, "suppressed", sup);
	dd_jset(&c, root, "remediation", remediation_json(&c, r));
	sum = dd_jobj(&c);
	bysev = dd_jobj(&c);
	for (int s = DD_SEV_CRITICAL; s >= 0; s--)
		dd_jset(&c, bysev, dd_severity_name((enum dd_severity)s),
			json_integer((json_int_t)counts[s]));
	dd_jset(&c, sum, "findings", json_integer((json_int_t)nopen));
	dd_jset(&c, sum, "by_severity", bysev);
	dd_jset(&c, sum, "fixable", json_integer((json_int_t)fixable));
	dd_jset(&c, sum, "from_base", json_integer((json_int_t)nbase));
	dd_jset(&c, sum, "from_application", json_integer((json_int_t)napp));
	dd_jset(&c, sum, "suppressed", json_integer((json_int_t)(r->f->n - nopen)));
	dd_jset(&c, sum, "packages", json_integer((json_int_t)dd_inventory_package_count(r->inv)));
	dd_jset(&c, sum, "packages_checked", json_integer((json_int_t)r->f->checked));
	dd_jset(&c, sum, "packages_unchecked", json_integer((json_int_t)r->f->unchecked));
	dd_jset(&c, root, "summary", sum);
	warn = dd_jarr(&c);
	for (size_t i = 0; i < dd_inventory_warning_count(r->inv); i++)
		dd_jpush(&c, warn, dd_jstr(&c, dd_inventory_warning(r->inv, i)));
	if (!r->f->os_supported || r->f->unchecked) {
		char w[300];
		snprintf(w, sizeof(w), "%zu packages were NOT checked: the DB has no data for %s %s",
			 r->f->unchecked, o->id ? o->id : "this OS",
			 o->version_id ? o->version_id : "");
		dd_jpush(&c, warn, dd_jstr(&c, w));
	}
	dd_jset(&c, root, "warnings", warn);
	if (c.failed) {
		rc = dd_error_oom(err);
	} else {
		rc = dd_jdump(out, root, "scan JSON", err);
	}
	json_decref(root);
	dd_jctx_release(&c);
	return rc;
}
