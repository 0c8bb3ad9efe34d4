/* import_csaf.c - Red Hat CSAF 2.0 VEX documents (one per CVE) and CSAF
 * security advisories (RHSA): product tree -> package NEVRA and release,
 * product_status -> affected entries (docs/vulndb.md has the mapping). */
#include "vulndb/import_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/banned.h"

int dd_vimport_is_csaf(const json_t *root)
{
	json_t *doc = json_object_get(root, "document");
	const char *cat = json_string_value(json_object_get(doc, "category"));
	return json_is_object(doc) && cat &&
	       (strcmp(cat, "csaf_vex") == 0 || strcmp(cat, "csaf_security_advisory") == 0);
}

int dd_vimport_csaf_is_vex(const json_t *root)
{
	const char *cat = json_string_value(
		json_object_get(json_object_get(root, "document"), "category"));
	return cat && strcmp(cat, "csaf_vex") == 0;
}

/* Collect product_id -> product object from the branches (bounded depth). */
static void collect_products(json_t *map, const json_t *branches, int depth)
{
	size_t i;
	json_t *b;
	if (!json_is_array(branches) || depth > 16)
		return;
	json_array_foreach(branches, i, b) {
		json_t *p = json_object_get(b, "product");
		const char *id = json_string_value(json_object_get(p, "product_id"));
		if (json_is_object(p) && id)
			json_object_set(map, id, p);
		collect_products(map, json_object_get(b, "branches"), depth + 1);
	}
}

/* Decode %XX in place. */
static void pct_decode(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		int hi, lo;
		if (r[0] == '%' && r[1] && r[2] &&
		    (hi = (r[1] >= '0' && r[1] <= '9') ? r[1] - '0' :
			  ((r[1] | 32) >= 'a' && (r[1] | 32) <= 'f') ? (r[1] | 32) - 'a' + 10 : -1) >= 0 &&
		    (lo = (r[2] >= '0' && r[2] <= '9') ? r[2] - '0' :
			  ((r[2] | 32) >= 'a' && (r[2] | 32) <= 'f') ? (r[2] | 32) - 'a' + 10 : -1) >= 0) {
			*w++ = (char)(hi * 16 + lo);
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = 0;
}

struct purl {
	char name[256], version[256], epoch[32], module[256];
	int is_rpm;
};

/* The qualifier `key` of a purl's query ("a=b&c=d"), decoded. */
static void qualifier(const char *q, const char *key, char *out, size_t n)
{
	size_t kl = strlen(key);
	out[0] = 0;
	while (q && *q) {
		const char *amp = strchr(q, '&');
		size_t l = amp ? (size_t)(amp - q) : strlen(q);
		if (l > kl && strncmp(q, key, kl) == 0 && q[kl] == '=') {
			snprintf(out, n, "%.*s", (int)(l - kl - 1), q + kl + 1);
			pct_decode(out);
			return;
		}
		q = amp ? amp + 1 : NULL;
	}
}

/* pkg:TYPE/NAMESPACE/NAME@VERSION?QUALIFIERS#SUBPATH */
static int parse_purl(const char *p, struct purl *out)
{
	char buf[1024];
	char *q, *at, *name;
	memset(out, 0, sizeof(*out));
	if (!p || strncmp(p, "pkg:", 4) != 0 || strlen(p) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", p + 4);
	if ((q = strchr(buf, '#')))
		*q = 0;
	if ((q = strchr(buf, '?')))
		*q++ = 0;
	out->is_rpm = strncmp(buf, "rpm/", 4) == 0;
	if ((at = strchr(buf, '@')))
		*at++ = 0;
	name = strrchr(buf, '/');
	if (!name || !name[1])
		return -1;
	name++;
	snprintf(out->name, sizeof(out->name), "%s", name);
	pct_decode(out->name);
	if (at) {
		snprintf(out->version, sizeof(out->version), "%s", at);
		pct_decode(out->version);
	}
	qualifier(q, "epoch", out->epoch, sizeof(out->epoch));
	qualifier(q, "rpmmod", out->module, sizeof(out->module));
	return out->name[0] ? 0 : -1;
}

/* Ecosystem from a product CPE: cpe:/o:redhat:enterprise_linux:9 and
 * cpe:/a:redhat:enterprise_linux:9::appstream -> "Red Hat:9" (the major
 * release); any other Red Hat product -> "Red Hat:<product>:<version>"
 * (rhel_eus:9.2, openshift:4, ...). */
static int cpe_ecosystem(const char *cpe, char *out, size_t n)
{
	char prod[128], ver[64];
	const char *p, *c;
	size_t l;
	if (!cpe || strncmp(cpe, "cpe:/", 5) != 0 || !cpe[5] || cpe[6] != ':')
		return -1;
	p = cpe + 7;
	if (strncmp(p, "redhat:", 7) != 0)
		return -1;
	p += 7;
	c = strchr(p, ':');
	l = c ? (size_t)(c - p) : strlen(p);
	if (l == 0 || l >= sizeof(prod))
		return -1;
	memcpy(prod, p, l);
	prod[l] = 0;
	ver[0] = 0;
	if (c) {
		const char *v = c + 1, *e = strchr(v, ':');
		size_t vl = e ? (size_t)(e - v) : strlen(v);
		if (vl >= sizeof(ver))
			return -1;
		memcpy(ver, v, vl);
		ver[vl] = 0;
	}
	if (strcmp(prod, "enterprise_linux") == 0 && ver[0]) {
		size_t major = strcspn(ver, ".");
		snprintf(out, n, "Red Hat:%.*s", (int)major, ver);
	} else if (ver[0]) {
		snprintf(out, n, "Red Hat:%s:%s", prod, ver);
	} else {
		snprintf(out, n, "Red Hat:%s", prod);
	}
	return 0;
}

static const char *product_cpe(const json_t *p)
{
	return json_string_value(json_object_get(json_object_get(p, "product_identification_helper"),
						 "cpe"));
}

static const char *product_purl(const json_t *p)
{
	return json_string_value(json_object_get(json_object_get(p, "product_identification_helper"),
						 "purl"));
}

/* product id -> the object of the first list entry (remediations, threats)
 * naming it in `key` ("product_ids"), filtered by category. */
static void index_by_product(json_t *map, const json_t *list, const char *category,
			     const char *key)
{
	size_t i, j;
	json_t *e, *pid;
	json_array_foreach(list, i, e) {
		const char *cat = json_string_value(json_object_get(e, "category"));
		if (!cat || (category && strcmp(cat, category) != 0))
			continue;
		json_array_foreach(json_object_get(e, key), j, pid) {
			const char *id = json_string_value(pid);
			if (id && !json_object_get(map, id))
				json_object_set(map, id, e);
		}
	}
}

struct csaf_ctx {
	dd_vimport *im;
	const char *file;
	json_t *products;  /* product_id -> product */
	json_t *rels;      /* full product_id -> relationship */
	json_t *seen;      /* dedupe keys of affected entries of the advisory */
	const char *adv_id;
	const char *default_impact; /* an impact naming no products, or the document's */
	const char *doc_impact;     /* document.aggregate_severity */
	int64_t adv;
};

static int add_entry(struct csaf_ctx *c, const char *pid, const char *status_kind,
		     const json_t *remed, const json_t *threats, dd_error *err)
{
	json_t *rel = json_object_get(c->rels, pid), *comp, *parent = NULL;
	const char *rem_cat = NULL, *rem_details = NULL, *impact = NULL;
	char eco[256], fixed[320], key[1600], notes[300];
	struct purl pu;
	dd_vuln_affected_in in;
	int64_t aff, r;
	int rc;

	if (rel) {
		comp = json_object_get(c->products,
				       json_string_value(json_object_get(rel, "product_reference")) ?: "");
		parent = json_object_get(c->products,
					 json_string_value(json_object_get(rel,
						"relates_to_product_reference")) ?: "");
	} else {
		comp = json_object_get(c->products, pid);
	}
	/* Without a release (a whole product, or not a Red Hat CPE) there is
	 * no package to match: nothing to store. */
	if (!comp || !parent || cpe_ecosystem(product_cpe(parent), eco, sizeof(eco)) != 0)
		return 0;
	if (parse_purl(product_purl(comp), &pu) != 0) {
		const char *nm = json_string_value(json_object_get(comp, "name"));
		if (!nm)
			return 0;
		memset(&pu, 0, sizeof(pu));
		snprintf(pu.name, sizeof(pu.name), "%s", nm);
	}
	fixed[0] = 0;
	if (strcmp(status_kind, "fixed") == 0) {
		if (!pu.version[0])
			return 0; /* a fix without a version names nothing to compare */
		if (pu.epoch[0] && strcmp(pu.epoch, "0") != 0)
			snprintf(fixed, sizeof(fixed), "%s:%s", pu.epoch, pu.version);
		else
			snprintf(fixed, sizeof(fixed), "%s", pu.version);
	}
	memset(&in, 0, sizeof(in));
	in.ecosystem = eco;
	in.package = pu.name;
	in.purl = product_purl(comp);
	if (remed) {
		rem_cat = json_string_value(json_object_get(remed, "category"));
		rem_details = json_string_value(json_object_get(remed, "details"));
	}
	if (threats)
		impact = json_string_value(json_object_get(threats, "details"));
	if (!impact)
		impact = c->default_impact;
	in.urgency = impact;
	if (strcmp(status_kind, "fixed") == 0) {
		in.status = DD_VULN_AFFECTED;
	} else if (strcmp(status_kind, "known_not_affected") == 0) {
		in.status = DD_VULN_NOT_AFFECTED;
	} else if (strcmp(status_kind, "under_investigation") == 0) {
		in.status = DD_VULN_UNDER_INVESTIGATION;
	} else if (rem_cat && strcmp(rem_cat, "no_fix_planned") == 0) {
		in.status = rem_details && strstr(rem_details, "Out of support")
				    ? DD_VULN_END_OF_LIFE : DD_VULN_WILL_NOT_FIX;
	} else if (rem_cat && strcmp(rem_cat, "none_available") == 0 && rem_details &&
		   strstr(rem_details, "eferred")) {
		in.status = DD_VULN_FIX_DEFERRED;
	} else {
		in.status = DD_VULN_AFFECTED;
	}
	notes[0] = 0;
	if (pu.module[0])
		snprintf(notes, sizeof(notes), "module %s", pu.module);
	else if (rem_details && strcmp(status_kind, "known_affected") == 0)
		snprintf(notes, sizeof(notes), "%s", rem_details);
	in.notes = notes[0] ? notes : NULL;
	/* Every architecture (and the .src) of a package, and every
	 * repository of a release, names the same entry once. */
	snprintf(key, sizeof(key), "%s\x1f%s\x1f%s\x1f%s\x1f%s", eco, pu.name, pu.module,
		 in.status, fixed);
	if (json_object_get(c->seen, key))
		return 0;
	json_object_set_new(c->seen, key, json_true());
	if ((rc = dd_vulndb_add_affected(c->im->db, c->adv, &in, &aff, err)))
		return rc;
	if (strcmp(in.status, DD_VULN_NOT_AFFECTED) != 0) {
		if ((rc = dd_vulndb_add_range(c->im->db, aff, "ECOSYSTEM", NULL, &r, err)) ||
		    (rc = dd_vulndb_add_event(c->im->db, r, "introduced", "0", err)))
			return rc;
		if (fixed[0] && (rc = dd_vulndb_add_event(c->im->db, r, "fixed", fixed, err)))
			return rc;
	}
	if (impact) {
		dd_vuln_severity s;
		memset(&s, 0, sizeof(s));
		s.source = "redhat";
		s.type = "distro";
		s.rating = impact;
		if ((rc = dd_vulndb_add_severity(c->im->db, c->adv, aff, &s, err)))
			return rc;
	}
	return 0;
}

/* RHSA-2024:2447 from https://access.redhat.com/errata/RHSA-2024:2447 */
static const char *errata_id(const char *url)
{
	const char *s = url ? strrchr(url, '/') : NULL;
	if (!s || (strncmp(s + 1, "RHSA-", 5) && strncmp(s + 1, "RHBA-", 5) &&
		   strncmp(s + 1, "RHEA-", 5)))
		return NULL;
	return s + 1;
}

static int add_refs_and_scores(struct csaf_ctx *c, const json_t *v, dd_error *err)
{
	size_t i;
	json_t *e;
	int rc;
	json_array_foreach(json_object_get(v, "references"), i, e) {
		const char *url = json_string_value(json_object_get(e, "url"));
		const char *cat = json_string_value(json_object_get(e, "category"));
		if (url && (rc = dd_vulndb_add_reference(c->im->db, c->adv,
							 cat && !strcmp(cat, "self") ? "ADVISORY"
										     : "WEB", url, err)))
			return rc;
	}
	json_array_foreach(json_object_get(v, "remediations"), i, e) {
		const char *cat = json_string_value(json_object_get(e, "category"));
		const char *url = json_string_value(json_object_get(e, "url"));
		const char *id = errata_id(url);
		if (!cat || strcmp(cat, "vendor_fix") != 0 || !id || strcmp(id, c->adv_id) == 0)
			continue;
		if ((rc = dd_vulndb_add_alias(c->im->db, c->adv, id, "related", err)))
			return rc;
	}
	json_array_foreach(json_object_get(v, "scores"), i, e) {
		static const char *const keys[][2] = { { "cvss_v3", "CVSS_V3" },
						       { "cvss_v2", "CVSS_V2" } };
		for (size_t k = 0; k < 2; k++) {
			const char *vec = json_string_value(
				json_object_get(json_object_get(e, keys[k][0]), "vectorString"));
			dd_vuln_severity s;
			char key[400];
			if (!vec)
				continue;
			snprintf(key, sizeof(key), "score\x1f%s", vec);
			if (json_object_get(c->seen, key))
				continue;
			json_object_set_new(c->seen, key, json_true());
			memset(&s, 0, sizeof(s));
			s.source = "redhat";
			s.type = keys[k][1];
			s.vector = vec;
			if ((k == 0 ? dd_cvss3_score(vec, &s.score, &s.rating)
				    : dd_cvss2_score(vec, &s.score, &s.rating)) == 0)
				s.has_score = 1;
			if ((rc = dd_vulndb_add_severity(c->im->db, c->adv, 0, &s, err)))
				return rc;
		}
	}
	return 0;
}

static const char *vuln_description(const json_t *v)
{
	size_t i;
	json_t *n;
	json_array_foreach(json_object_get(v, "notes"), i, n) {
		const char *cat = json_string_value(json_object_get(n, "category"));
		if (cat && strcmp(cat, "description") == 0)
			return json_string_value(json_object_get(n, "text"));
	}
	return NULL;
}

static int add_statuses(struct csaf_ctx *c, const json_t *v, dd_error *err)
{
	static const char *const kinds[] = { "fixed", "known_affected", "known_not_affected",
					     "under_investigation" };
	json_t *remed = json_object(), *threats = json_object(), *ps, *pid;
	size_t i;
	int rc = 0;

	if (!remed || !threats) {
		rc = dd_error_oom(err);
		goto done;
	}
	index_by_product(remed, json_object_get(v, "remediations"), "vendor_fix", "product_ids");
	index_by_product(remed, json_object_get(v, "remediations"), "no_fix_planned",
			 "product_ids");
	index_by_product(remed, json_object_get(v, "remediations"), "none_available",
			 "product_ids");
	index_by_product(threats, json_object_get(v, "threats"), "impact", "product_ids");
	{
		json_t *t;
		c->default_impact = c->doc_impact;
		json_array_foreach(json_object_get(v, "threats"), i, t) {
			const char *cat = json_string_value(json_object_get(t, "category"));
			if (cat && !strcmp(cat, "impact") && !json_object_get(t, "product_ids") &&
			    json_is_string(json_object_get(t, "details"))) {
				c->default_impact = json_string_value(json_object_get(t, "details"));
				break;
			}
		}
	}
	ps = json_object_get(v, "product_status");
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		json_array_foreach(json_object_get(ps, kinds[k]), i, pid) {
			const char *id = json_string_value(pid);
			if (!id)
				continue;
			if ((rc = add_entry(c, id, kinds[k], json_object_get(remed, id),
					    json_object_get(threats, id), err)))
				goto done;
		}
	}
done:
	json_decref(remed);
	json_decref(threats);
	return rc;
}

int dd_vimport_csaf(dd_vimport *im, const char *file, const json_t *root, dd_error *err)
{
	struct csaf_ctx c;
	const json_t *doc = json_object_get(root, "document");
	const json_t *tracking = json_object_get(doc, "tracking");
	json_t *vulns = json_object_get(root, "vulnerabilities"), *v, *r;
	const char *modified = json_string_value(json_object_get(tracking, "current_release_date"));
	const char *doc_id = json_string_value(json_object_get(tracking, "id"));
	int vex = dd_vimport_csaf_is_vex(root), rc = 0;
	size_t i;

	memset(&c, 0, sizeof(c));
	c.im = im;
	c.file = file;
	c.doc_impact = json_string_value(json_object_get(json_object_get(doc,
					     "aggregate_severity"), "text"));
	c.products = json_object();
	c.rels = json_object();
	if (!c.products || !c.rels) {
		rc = dd_error_oom(err);
		goto done;
	}
	collect_products(c.products, json_object_get(json_object_get(root, "product_tree"),
						     "branches"), 0);
	json_array_foreach(json_object_get(json_object_get(root, "product_tree"), "relationships"),
			   i, r) {
		const char *id = json_string_value(
			json_object_get(json_object_get(r, "full_product_name"), "product_id"));
		if (id && json_is_string(json_object_get(r, "product_reference")) &&
		    json_is_string(json_object_get(r, "relates_to_product_reference")))
			json_object_set(c.rels, id, r);
	}
	if (!json_is_array(vulns)) {
		rc = dd_vimport_skip(im, file, doc_id, err, "no vulnerabilities array");
		goto done;
	}
	if (!vex) {
		/* An advisory (RHSA): one record, its CVEs as aliases. */
		dd_vuln_advisory_in a;
		im->st->records++;
		if (!doc_id) {
			rc = dd_vimport_skip(im, file, "-", err, "no document.tracking.id");
			goto done;
		}
		if ((rc = dd_vulndb_record_begin(im->db, err)))
			goto done;
		memset(&a, 0, sizeof(a));
		a.id = doc_id;
		c.adv_id = doc_id;
		a.published = json_string_value(json_object_get(tracking, "initial_release_date"));
		a.modified = modified;
		a.summary = json_string_value(json_object_get(doc, "title"));
		dd_error rerr = DD_ERROR_INIT;
		int arc = 0;
		if (!(c.seen = json_object()))
			arc = dd_error_oom(&rerr);
		if (!arc)
			arc = dd_vulndb_add_advisory(im->db, &a, DD_VULNDB_ADV_MERGE, &c.adv, &rerr);
		json_array_foreach(vulns, i, v) {
			const char *cve = json_string_value(json_object_get(v, "cve"));
			if (!arc && cve)
				arc = dd_vulndb_add_alias(im->db, c.adv, cve, "alias", &rerr);
			if (!arc)
				arc = add_statuses(&c, v, &rerr);
			if (!arc)
				arc = add_refs_and_scores(&c, v, &rerr);
		}
		json_decref(c.seen);
		c.seen = NULL;
		if ((rc = dd_vulndb_record_end(im->db, arc != 0, err)))
			goto done;
		if (arc) {
			if (arc != DD_EINPUT) {
				*err = rerr;
				rc = arc;
				goto done;
			}
			rc = dd_vimport_skip(im, file, doc_id, err, "%s", rerr.msg);
		}
		goto done;
	}
	json_array_foreach(vulns, i, v) {
		const char *cve = json_string_value(json_object_get(v, "cve"));
		dd_vuln_advisory_in a;
		dd_error rerr = DD_ERROR_INIT;
		int arc = 0;
		im->st->records++;
		if (!json_is_object(v) || !cve || !*cve) {
			if ((rc = dd_vimport_skip(im, file, doc_id, err, "vulnerability %zu has no cve",
						  i)))
				goto done;
			continue;
		}
		if ((rc = dd_vulndb_record_begin(im->db, err)))
			goto done;
		memset(&a, 0, sizeof(a));
		a.id = cve;
		c.adv_id = cve;
		a.published = json_string_value(json_object_get(v, "release_date"));
		a.modified = modified;
		a.summary = json_string_value(json_object_get(v, "title"));
		a.details = vuln_description(v);
		if (!(c.seen = json_object()))
			arc = dd_error_oom(&rerr);
		if (!arc)
			arc = dd_vulndb_add_advisory(im->db, &a, DD_VULNDB_ADV_MERGE, &c.adv, &rerr);
		if (!arc)
			arc = add_statuses(&c, v, &rerr);
		if (!arc)
			arc = add_refs_and_scores(&c, v, &rerr);
		json_decref(c.seen);
		c.seen = NULL;
		if ((rc = dd_vulndb_record_end(im->db, arc != 0, err)))
			goto done;
		if (arc) {
			if (arc != DD_EINPUT) {
				*err = rerr;
				rc = arc;
				goto done;
			}
			if ((rc = dd_vimport_skip(im, file, cve, err, "%s", rerr.msg)))
				goto done;
		}
	}
done:
	json_decref(c.products);
	json_decref(c.rels);
	return rc;
}
