/*
 * findings_openvex.c - `drydock scan --format openvex`: an OpenVEX 0.2.0
 * document with one statement per finding: open findings are "affected"
 * (action_statement: the upgrade, or that no fix exists), suppressed ones
 * "not_affected" or "fixed" with the reason as impact statement.  The
 * product is the package purl.
 */
#include <stdint.h>
#include <string.h>

#include "report/findings_common.h"
#include "report/json_util.h"
#include "util/banned.h"

int dd_findings_write_openvex(FILE *out, const dd_findings_report *r, dd_error *err)
{
	dd_jctx c;
	json_t *root, *sts;
	const dd_findings *fs = r->f;
	char ts[32], id[128];
	uint64_t h = 1469598103934665603ULL;
	int rc;

	dd_findings_time(ts, sizeof(ts), r->now);
	for (const char *s = dd_inventory_ref(r->inv); s && *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	for (const char *s = ts; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	snprintf(id, sizeof(id), "https://openvex.dev/docs/drydock/vex-%016llx",
		 (unsigned long long)h);
	dd_jctx_init(&c);
	root = dd_jobj(&c);
	dd_jset(&c, root, "@context", dd_jstr(&c, "https://openvex.dev/ns/v0.2.0"));
	dd_jset(&c, root, "@id", dd_jstr(&c, id));
	dd_jset(&c, root, "author", dd_jstr(&c, "drydock"));
	dd_jset(&c, root, "timestamp", dd_jstr(&c, ts));
	dd_jset(&c, root, "version", json_integer(1));
	dd_jset(&c, root, "tooling", dd_jstr(&c, "drydock " DD_VERSION));
	sts = dd_jarr(&c);
	for (size_t i = 0; i < fs->n; i++) {
		const dd_finding *f = &fs->v[i];
		const dd_package *p = dd_finding_package(r, f);
		json_t *st = dd_jobj(&c), *vul = dd_jobj(&c), *prods = dd_jarr(&c);
		dd_buf purl = DD_BUF_INIT_MAX(16384), act = DD_BUF_INIT_MAX(4096);
		dd_jset(&c, vul, "name", dd_jstr(&c, f->id));
		if (f->n_aliases) {
			json_t *al = dd_jarr(&c);
			for (size_t k = 0; k < f->n_aliases; k++)
				dd_jpush(&c, al, dd_jstr(&c, f->aliases[k]));
			dd_jset(&c, vul, "aliases", al);
		}
		dd_jset(&c, st, "vulnerability", vul);
		dd_finding_purl(&purl, r, p);
		dd_jpush(&c, prods, json_pack("{s:o}", "@id",
					      dd_jstr(&c, purl.len ? dd_buf_cstr(&purl) : p->name)));
		dd_buf_release(&purl);
		dd_jset(&c, st, "products", prods);
		if (f->suppressed_by) {
			int fixed = strcmp(f->suppressed_by, "vex:fixed") == 0;
			dd_buf_printf(&act, "suppressed by %s: %s", f->suppressed_by,
				      f->suppress_reason ? f->suppress_reason : "-");
			dd_jset(&c, st, "status", dd_jstr(&c, fixed ? "fixed" : "not_affected"));
			if (!fixed)
				dd_jset(&c, st, "impact_statement", dd_jstr(&c, dd_buf_cstr(&act)));
			else
				dd_jset(&c, st, "status_notes", dd_jstr(&c, dd_buf_cstr(&act)));
		} else {
			dd_jset(&c, st, "status", dd_jstr(&c, "affected"));
			if (f->fixed_version)
				dd_buf_printf(&act, "Upgrade %s to %s or later", p->name,
					      f->fixed_version);
			else
				dd_buf_printf(&act, "No fix available yet (%s)", f->status);
			dd_jset(&c, st, "action_statement", dd_jstr(&c, dd_buf_cstr(&act)));
		}
		dd_buf_release(&act);
		dd_jpush(&c, sts, st);
	}
	dd_jset(&c, root, "statements", sts);
	rc = c.failed ? dd_error_oom(err) : dd_jdump(out, root, "OpenVEX", err);
	json_decref(root);
	dd_jctx_release(&c);
	return rc;
}
