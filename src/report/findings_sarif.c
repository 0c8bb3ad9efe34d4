/*
 * findings_sarif.c - `drydock scan --format sarif`: SARIF 2.1.0 as GitHub
 * code scanning reads it: one rule per vulnerability id (with
 * properties.security-severity from the highest CVSS score or the
 * severity), one result per open finding located at the package database
 * file that lists the package.  Suppressed findings carry a SARIF
 * "suppressions" entry with the reason instead of being dropped.
 */
#include <string.h>

#include "report/findings_common.h"
#include "report/json_util.h"
#include "util/banned.h"

static const char *level_of(enum dd_severity s)
{
	switch (s) {
	case DD_SEV_CRITICAL:
	case DD_SEV_HIGH:
		return "error";
	case DD_SEV_MEDIUM:
		return "warning";
	default:
		return "note";
	}
}

static double sec_severity(const dd_finding *f)
{
	double best = -1;
	for (size_t i = 0; i < f->n_cvss; i++)
		if (f->cvss[i].has_score && f->cvss[i].score > best)
			best = f->cvss[i].score;
	if (best >= 0)
		return best;
	switch (f->severity) {
	case DD_SEV_CRITICAL:
		return 9.5;
	case DD_SEV_HIGH:
		return 8.0;
	case DD_SEV_MEDIUM:
		return 5.5;
	case DD_SEV_LOW:
		return 2.0;
	default:
		return 0.0;
	}
}

int dd_findings_write_sarif(FILE *out, const dd_findings_report *r, dd_error *err)
{
	dd_jctx c;
	json_t *root, *run, *driver, *rules, *results;
	const dd_findings *fs = r->f;
	int rc;

	dd_jctx_init(&c);
	root = dd_jobj(&c);
	dd_jset(&c, root, "$schema", dd_jstr(&c, "https://json.schemastore.org/sarif-2.1.0.json"));
	dd_jset(&c, root, "version", dd_jstr(&c, "2.1.0"));
	run = dd_jobj(&c);
	driver = dd_jobj(&c);
	dd_jset(&c, driver, "name", dd_jstr(&c, "drydock"));
	dd_jset(&c, driver, "version", dd_jstr(&c, DD_VERSION));
	dd_jset(&c, driver, "informationUri", dd_jstr(&c, "https://github.com/drydock/drydock"));
	rules = dd_jarr(&c);
	results = dd_jarr(&c);
	for (size_t i = 0; i < fs->n; i++) {
		const dd_finding *f = &fs->v[i];
		const dd_package *p = dd_finding_package(r, f);
		size_t ri = 0;
		int found = 0;
		/* rule index: position of this id among the rules so far */
		for (; ri < json_array_size(rules); ri++) {
			const char *rid = json_string_value(json_object_get(json_array_get(rules, ri), "id"));
			if (rid && strcmp(rid, f->id) == 0) {
				found = 1;
				break;
			}
		}
		if (!found) {
			json_t *rule = dd_jobj(&c), *props = dd_jobj(&c), *tags = dd_jarr(&c);
			char sev[16], text[600];
			dd_jset(&c, rule, "id", dd_jstr(&c, f->id));
			dd_jset(&c, rule, "name", dd_jstr(&c, "OsPackageVulnerability"));
			snprintf(text, sizeof(text), "%s: %.500s", f->id,
				 f->summary ? f->summary : "known vulnerability in an OS package");
			dd_jset(&c, rule, "shortDescription", json_pack("{s:o}", "text", dd_jstr(&c, f->id)));
			dd_jset(&c, rule, "fullDescription", json_pack("{s:o}", "text", dd_jstr(&c, text)));
			dd_jset(&c, rule, "help",
				json_pack("{s:o}", "text",
					  dd_jstr(&c, f->fixed_version
							      ? "Upgrade the package to the fixed version."
							      : "No fixed version is known yet.")));
			dd_jset(&c, rule, "defaultConfiguration",
				json_pack("{s:s}", "level", level_of(f->severity)));
			dd_jpush(&c, tags, dd_jstr(&c, "vulnerability"));
			dd_jpush(&c, tags, dd_jstr(&c, "security"));
			dd_jpush(&c, tags, dd_jstr(&c, dd_severity_name(f->severity)));
			dd_jset(&c, props, "tags", tags);
			snprintf(sev, sizeof(sev), "%.1f", sec_severity(f));
			dd_jset(&c, props, "security-severity", dd_jstr(&c, sev));
			dd_jset(&c, rule, "properties", props);
			dd_jpush(&c, rules, rule);
		}
		json_t *res = dd_jobj(&c), *locs = dd_jarr(&c), *loc = dd_jobj(&c);
		dd_buf msg = DD_BUF_INIT_MAX(8192);
		dd_buf_printf(&msg, "Package: %s\nInstalled version: %s\nVulnerability: %s\n"
				    "Severity: %s\nStatus: %s\nFixed version: %s\nLayer: %d%s",
			      p->name, p->version, f->id, dd_severity_name(f->severity), f->status,
			      f->fixed_version ? f->fixed_version : "none", p->layer,
			      f->from_base == 1 ? " (base image)" : f->from_base == 0 ? " (added on top)"
										 : "");
		dd_jset(&c, res, "ruleId", dd_jstr(&c, f->id));
		dd_jset(&c, res, "ruleIndex", json_integer((json_int_t)ri));
		dd_jset(&c, res, "level", dd_jstr(&c, level_of(f->severity)));
		dd_jset(&c, res, "message", json_pack("{s:o}", "text", dd_jstr(&c, dd_buf_cstr(&msg))));
		dd_buf_release(&msg);
		dd_jset(&c, loc, "physicalLocation",
			json_pack("{s:{s:o},s:{s:i,s:i,s:i,s:i}}", "artifactLocation", "uri",
				  dd_jstr(&c, p->db_path ? p->db_path : "image"), "region",
				  "startLine", 1, "startColumn", 1, "endLine", 1, "endColumn", 1));
		dd_jpush(&c, locs, loc);
		dd_jset(&c, res, "locations", locs);
		char fp[512];
		snprintf(fp, sizeof(fp), "%s/%s/%s", f->id, p->name, p->version);
		dd_jset(&c, res, "partialFingerprints",
			json_pack("{s:o}", "drydockFinding/v1", dd_jstr(&c, fp)));
		if (f->suppressed_by) {
			json_t *sup = dd_jarr(&c);
			dd_jpush(&c, sup,
				 json_pack("{s:s,s:o}", "kind", "external", "justification",
					   dd_jstr(&c, f->suppress_reason ? f->suppress_reason
									  : f->suppressed_by)));
			dd_jset(&c, res, "suppressions", sup);
		}
		dd_jpush(&c, results, res);
	}
	dd_jset(&c, driver, "rules", rules);
	dd_jset(&c, run, "tool", json_pack("{s:o}", "driver", driver));
	dd_jset(&c, run, "results", results);
	json_t *runs = dd_jarr(&c);
	dd_jpush(&c, runs, run);
	dd_jset(&c, root, "runs", runs);
	rc = c.failed ? dd_error_oom(err) : dd_jdump(out, root, "SARIF", err);
	json_decref(root);
	dd_jctx_release(&c);
	return rc;
}
