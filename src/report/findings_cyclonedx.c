/*
 * findings_cyclonedx.c - `drydock scan --format cyclonedx`: a CycloneDX 1.6
 * BOM of the image's packages with a vulnerabilities[] entry per finding
 * (ratings from the distro and CVSS, affects -> the package's bom-ref,
 * recommendation = the fixed version).  Suppressed findings keep their
 * entry with analysis.state not_affected/resolved and the reason in
 * analysis.detail (a VEX document, in CycloneDX terms).
 */
#include <stdint.h>
#include <string.h>

#include "report/findings_common.h"
#include "report/json_util.h"
#include "util/banned.h"

static const char *cdx_sev(enum dd_severity s)
{
	switch (s) {
	case DD_SEV_CRITICAL:
		return "critical";
	case DD_SEV_HIGH:
		return "high";
	case DD_SEV_MEDIUM:
		return "medium";
	case DD_SEV_LOW:
		return "low";
	case DD_SEV_NEGLIGIBLE:
		return "info";
	default:
		return "unknown";
	}
}

static const char *cdx_method(const char *type, const char *vector)
{
	if (!type)
		return "other";
	if (strcmp(type, "CVSS_V2") == 0)
		return "CVSSv2";
	if (strcmp(type, "CVSS_V4") == 0)
		return "CVSSv4";
	if (strcmp(type, "CVSS_V3") == 0)
		return vector && strncmp(vector, "CVSS:3.1", 8) == 0 ? "CVSSv31" : "CVSSv3";
	return "other";
}

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

int dd_findings_write_cyclonedx(FILE *out, const dd_findings_report *r, dd_error *err)
{
	dd_jctx c;
	json_t *root, *md, *comps, *vulns;
	const dd_findings *fs = r->f;
	char ts[32], serial[64], ref[32];
	uint64_t h1 = 1469598103934665603ULL, h2;
	int rc;

	dd_jctx_init(&c);
	h1 = fnv(h1, dd_inventory_ref(r->inv));
	h1 = fnv(h1, dd_findings_time(ts, sizeof(ts), r->now));
	h2 = fnv(h1 ^ 0x9e3779b97f4a7c15ULL, "drydock-scan");
	snprintf(serial, sizeof(serial), "urn:uuid:%08x-%04x-4%03x-a%03x-%012llx",
		 (unsigned)(h1 >> 32), (unsigned)(h1 >> 16) & 0xffff, (unsigned)h1 & 0xfff,
		 (unsigned)(h2 >> 48) & 0xfff, (unsigned long long)(h2 & 0xffffffffffffULL));
	root = dd_jobj(&c);
	dd_jset(&c, root, "bomFormat", dd_jstr(&c, "CycloneDX"));
	dd_jset(&c, root, "specVersion", dd_jstr(&c, "1.6"));
	dd_jset(&c, root, "serialNumber", dd_jstr(&c, serial));
	dd_jset(&c, root, "version", json_integer(1));
	md = dd_jobj(&c);
	dd_jset(&c, md, "timestamp", dd_jstr(&c, ts));
	json_t *tool = dd_jobj(&c), *tcomps = dd_jarr(&c);
	dd_jset(&c, tool, "type", dd_jstr(&c, "application"));
	dd_jset(&c, tool, "name", dd_jstr(&c, "drydock"));
	dd_jset(&c, tool, "version", dd_jstr(&c, DD_VERSION));
	dd_jpush(&c, tcomps, tool);
	dd_jset(&c, md, "tools", json_pack("{s:o}", "components", tcomps));
	json_t *img = dd_jobj(&c);
	dd_jset(&c, img, "type", dd_jstr(&c, "container"));
	dd_jset(&c, img, "bom-ref", dd_jstr(&c, "image"));
	dd_jset(&c, img, "name", dd_jstr(&c, dd_inventory_ref(r->inv) ? dd_inventory_ref(r->inv)
								       : "image"));
	dd_jset(&c, md, "component", img);
	dd_jset(&c, root, "metadata", md);
	comps = dd_jarr(&c);
	for (size_t i = 0; i < dd_inventory_package_count(r->inv); i++) {
		const dd_package *p = dd_inventory_package(r->inv, i);
		json_t *j = dd_jobj(&c);
		dd_buf purl = DD_BUF_INIT_MAX(16384);
		snprintf(ref, sizeof(ref), "pkg-%zu", i);
		dd_finding_purl(&purl, r, p);
		dd_jset(&c, j, "type", dd_jstr(&c, "library"));
		dd_jset(&c, j, "bom-ref", dd_jstr(&c, ref));
		dd_jset(&c, j, "name", dd_jstr(&c, p->name));
		dd_jset(&c, j, "version", dd_jstr(&c, p->version));
		if (purl.len)
			dd_jset(&c, j, "purl", dd_jstr(&c, dd_buf_cstr(&purl)));
		dd_buf_release(&purl);
		dd_jpush(&c, comps, j);
	}
	dd_jset(&c, root, "components", comps);
	vulns = dd_jarr(&c);
	for (size_t i = 0; i < fs->n; i++) {
		const dd_finding *f = &fs->v[i];
		const dd_package *p = dd_finding_package(r, f);
		json_t *v = dd_jobj(&c), *ratings = dd_jarr(&c), *aff = dd_jarr(&c);
		char vref[48];
		snprintf(vref, sizeof(vref), "vuln-%zu", i);
		snprintf(ref, sizeof(ref), "pkg-%zu", f->pkg);
		dd_jset(&c, v, "bom-ref", dd_jstr(&c, vref));
		dd_jset(&c, v, "id", dd_jstr(&c, f->id));
		if (f->data_source)
			dd_jset(&c, v, "source", json_pack("{s:o}", "name", dd_jstr(&c, f->data_source)));
		if (f->n_aliases) {
			json_t *refs = dd_jarr(&c);
			for (size_t k = 0; k < f->n_aliases; k++)
				dd_jpush(&c, refs,
					 json_pack("{s:o,s:{s:s}}", "id", dd_jstr(&c, f->aliases[k]),
						   "source", "name", "alias"));
			dd_jset(&c, v, "references", refs);
		}
		json_t *rt = dd_jobj(&c);
		dd_jset(&c, rt, "severity", dd_jstr(&c, cdx_sev(f->severity)));
		dd_jset(&c, rt, "method", dd_jstr(&c, "other"));
		dd_jset(&c, rt, "source", json_pack("{s:o}", "name",
						    dd_jstr(&c, f->severity_source ? f->severity_source
										   : "drydock")));
		dd_jpush(&c, ratings, rt);
		for (size_t k = 0; k < f->n_cvss; k++) {
			json_t *x = dd_jobj(&c);
			if (f->cvss[k].has_score)
				dd_jset(&c, x, "score", json_real(f->cvss[k].score));
			dd_jset(&c, x, "method",
				dd_jstr(&c, cdx_method(f->cvss[k].type, f->cvss[k].vector)));
			if (f->cvss[k].vector)
				dd_jset(&c, x, "vector", dd_jstr(&c, f->cvss[k].vector));
			if (f->cvss[k].source)
				dd_jset(&c, x, "source",
					json_pack("{s:o}", "name", dd_jstr(&c, f->cvss[k].source)));
			dd_jpush(&c, ratings, x);
		}
		dd_jset(&c, v, "ratings", ratings);
		if (f->summary)
			dd_jset(&c, v, "description", dd_jstr(&c, f->summary));
		if (f->fixed_version) {
			dd_buf rec = DD_BUF_INIT_MAX(4096);
			dd_buf_printf(&rec, "Upgrade %s to %s or later", p->name, f->fixed_version);
			dd_jset(&c, v, "recommendation", dd_jstr(&c, dd_buf_cstr(&rec)));
			dd_buf_release(&rec);
		}
		dd_jpush(&c, aff,
			 json_pack("{s:o,s:[{s:o,s:s}]}", "ref", dd_jstr(&c, ref), "versions",
				   "version", dd_jstr(&c, p->version), "status",
				   f->suppressed_by ? "unaffected" : "affected"));
		dd_jset(&c, v, "affects", aff);
		if (f->suppressed_by) {
			json_t *an = dd_jobj(&c);
			int fixed = strcmp(f->suppressed_by, "vex:fixed") == 0;
			dd_jset(&c, an, "state", dd_jstr(&c, fixed ? "resolved" : "not_affected"));
			dd_buf d = DD_BUF_INIT_MAX(4096);
			dd_buf_printf(&d, "suppressed by %s: %s", f->suppressed_by,
				      f->suppress_reason ? f->suppress_reason : "-");
			dd_jset(&c, an, "detail", dd_jstr(&c, dd_buf_cstr(&d)));
			dd_buf_release(&d);
			dd_jset(&c, v, "analysis", an);
		}
		dd_jpush(&c, vulns, v);
	}
	dd_jset(&c, root, "vulnerabilities", vulns);
	rc = c.failed ? dd_error_oom(err) : dd_jdump(out, root, "CycloneDX", err);
	json_decref(root);
	dd_jctx_release(&c);
	return rc;
}
