/*
 * scan.c - `drydock scan IMAGE` (or --sbom FILE): the image's OS packages
 * against the vulnerability DB, filtered by severity, fix availability, an
 * ignore file and VEX documents, written as a table, drydock JSON, SARIF,
 * CycloneDX or OpenVEX; --fail-on turns remaining findings into exit 1.
 *
 * The inventory comes from dd_inventory_collect_ex() (or dd_sbom_read());
 * matching is dd_match_inventory(); this file applies the filters, works
 * out the base image's layers and calls the writers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli/cli.h"
#include "image/image.h"
#include "inventory/inventory.h"
#include "match/filter.h"
#include "match/invstore.h"
#include "match/match.h"
#include "report/findings_common.h"
#include "report/purl.h"
#include "util/buf.h"
#include "util/log.h"
#include "vulndb/store.h"
#include "util/banned.h"

static struct {
	const char *format, *output, *severity, *fail_on, *ignore_file, *vex, *db, *base, *sbom;
	const char *inventory_dir;
	int ignore_unfixed, no_store;
	struct dd_image_cli img;
} o;

static const struct dd_opt opts[] = {
	{ "format", 'f', DD_OPT_STR, &o.format, "FORMAT",
	  "output format: table (default), json, sarif, cyclonedx or openvex" },
	{ "output", 'o', DD_OPT_STR, &o.output, "FILE", "write to FILE instead of standard output" },
	{ "severity", 's', DD_OPT_STR, &o.severity, "LIST",
	  "report only these severities (comma-separated: UNKNOWN,NEGLIGIBLE,LOW,MEDIUM,HIGH,CRITICAL)" },
	{ "ignore-unfixed", 0, DD_OPT_FLAG, &o.ignore_unfixed, NULL,
	  "drop findings that have no fixed version" },
	{ "fail-on", 0, DD_OPT_STR, &o.fail_on, "SEVERITY",
	  "exit 1 when a finding at or above SEVERITY remains after the filters" },
	{ "ignore-file", 0, DD_OPT_STR, &o.ignore_file, "FILE",
	  "suppress findings listed in FILE (ID [pkg:NAME] [exp:YYYY-MM-DD] [# reason])" },
	{ "vex", 0, DD_OPT_STR, &o.vex, "FILE",
	  "apply an OpenVEX or CycloneDX VEX document: not_affected/fixed suppress" },
	{ "db", 0, DD_OPT_STR, &o.db, "PATH",
	  "the vulnerability DB (default $XDG_CACHE_HOME/drydock/db.sqlite)" },
	{ "base", 0, DD_OPT_STR, &o.base, "IMAGE",
	  "the base image: its layers (a prefix of IMAGE's) count as base layers" },
	{ "sbom", 0, DD_OPT_STR, &o.sbom, "FILE",
	  "scan a CycloneDX or SPDX JSON SBOM instead of an image" },
	{ "inventory-dir", 0, DD_OPT_STR, &o.inventory_dir, "DIR",
	  "keep the image's inventory here for 'drydock rescan' (default $XDG_CACHE_HOME/drydock/inventories)" },
	{ "no-store", 0, DD_OPT_FLAG, &o.no_store, NULL,
	  "do not keep the inventory for 'drydock rescan'" },
	DD_IMAGE_CLI_OPTS(o.img),
	{ 0 },
};

static const struct dd_cmdspec spec = {
	"scan", "IMAGE [options] | --sbom FILE [options]",
	"Find known vulnerabilities in an image's OS packages.",
	"IMAGE is oci:PATH[:TAG|@DIGEST], docker-archive:PATH, rootfs:PATH or a registry\n"
	"reference [docker://]HOST/NAME[:TAG|@DIGEST].\n"
	"Packages are matched against the DB filled by 'drydock db import' with\n"
	"the rules of docs/matching.md.  Each finding says whether its package came\n"
	"with the base image (org.opencontainers.image.base.* annotations need\n"
	"--base to know the base's layers) or was added on top.\n"
	"Exit status: 0 no gate failed, 1 --fail-on matched, 2 usage, 3 bad input,\n"
	"4 environment (e.g. no DB).",
	opts,
};

enum fmt { FMT_TABLE, FMT_JSON, FMT_SARIF, FMT_CDX, FMT_VEX };

static int read_file(const char *path, char **data, size_t *len, dd_error *err)
{
	FILE *fp = fopen(path, "rb");
	dd_buf b = DD_BUF_INIT_MAX((size_t)256 << 20);
	char chunk[65536];
	size_t n;

	if (!fp)
		return dd_error_set(err, DD_EINPUT, "cannot open %s", path);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (dd_buf_append(&b, chunk, n))
			break;
	if (ferror(fp)) {
		fclose(fp);
		dd_buf_release(&b);
		return dd_error_set(err, DD_EINPUT, "reading %s failed", path);
	}
	fclose(fp);
	if (b.failed) {
		int rc = dd_buf_error(&b, err, path);
		dd_buf_release(&b);
		return rc;
	}
	if (!b.data && dd_buf_puts(&b, "")) {
		dd_buf_release(&b);
		return dd_error_oom(err);
	}
	*data = dd_buf_detach(&b, len);
	return 0;
}

static int parse_sev_list(const char *s, int *allow, dd_error *err)
{
	char tok[32];
	for (int i = 0; i < DD_SEV_COUNT; i++)
		allow[i] = 0;
	while (*s) {
		size_t n = strcspn(s, ",");
		enum dd_severity sv;
		if (n == 0 || n >= sizeof(tok))
			return dd_error_set(err, DD_EUSAGE, "scan: bad --severity list '%s'", s);
		memcpy(tok, s, n);
		tok[n] = '\0';
		if (dd_severity_parse(tok, &sv))
			return dd_error_set(err, DD_EUSAGE, "scan: unknown severity '%s'", tok);
		allow[sv] = 1;
		s += n + (s[n] == ',');
	}
	return 0;
}

static int parse_format(const char *s, enum fmt *f, dd_error *err)
{
	static const char *const names[] = { "table", "json", "sarif", "cyclonedx", "openvex" };
	if (!s) {
		*f = FMT_TABLE;
		return 0;
	}
	for (int i = 0; i < 5; i++)
		if (strcmp(s, names[i]) == 0) {
			*f = (enum fmt)i;
			return 0;
		}
	return dd_error_set(err, DD_EUSAGE,
			    "scan: unknown format '%s' (table, json, sarif, cyclonedx, openvex)", s);
}

static time_t report_time(void)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	if (s && *s) {
		char *end;
		long long v = strtoll(s, &end, 10);
		if (!*end && v >= 0)
			return (time_t)v;
	}
	return time(NULL);
}

/* The base image's layer count when its diffIDs are a prefix of inv's. */
static int base_from_image(const char *ref, const dd_inventory *inv, const dd_image_opts *io,
			   long *layers, dd_error *err)
{
	dd_image *b = NULL;
	int rc = dd_image_open(&b, ref, io, err);
	size_t n;
	if (rc) {
		dd_error_prefix(err, "--base %s", ref);
		return rc;
	}
	n = dd_image_layer_count(b);
	*layers = -1;
	if (n <= dd_inventory_layer_count(inv)) {
		size_t i;
		for (i = 0; i < n; i++) {
			const dd_layer_desc *bl = dd_image_layer(b, i);
			const dd_inv_layer *il = dd_inventory_layer(inv, i);
			if (!bl || !il || strcmp(bl->diff_id.s, il->diff_id.s) != 0)
				break;
		}
		if (i == n)
			*layers = (long)n;
	}
	if (*layers < 0)
		dd_warn("--base %s: its %zu layers are not the bottom layers of the image; "
			"base/application attribution unknown",
			ref, n);
	dd_image_free(b);
	return 0;
}

static void apply_ignore(dd_findings *fs, const dd_inventory *inv, const dd_ignore *ig,
			 const char *path, time_t now)
{
	for (size_t r = 0; r < ig->n; r++) {
		const dd_ignore_rule *rule = &ig->v[r];
		if (dd_ignore_expired(rule, now)) {
			dd_warn("%s:%zu: rule for %s expired on %04d-%02d-%02d; not applied", path,
				rule->line, rule->id, rule->exp_y, rule->exp_m, rule->exp_d);
			continue;
		}
		for (size_t i = 0; i < fs->n; i++) {
			dd_finding *f = &fs->v[i];
			const dd_package *p = dd_inventory_package(inv, f->pkg);
			int idm = strcmp(f->id, rule->id) == 0;
			for (size_t k = 0; !idm && k < f->n_aliases; k++)
				idm = strcmp(f->aliases[k], rule->id) == 0;
			if (!idm || f->suppressed_by)
				continue;
			if (rule->package && strcmp(rule->package, p->name) != 0 &&
			    !(p->source_name && strcmp(rule->package, p->source_name) == 0))
				continue;
			dd_buf why = DD_BUF_INIT_MAX(1024);
			dd_buf_printf(&why, "%s:%zu%s%s", path, rule->line, rule->reason ? ": " : "",
				      rule->reason ? rule->reason : "");
			f->suppressed_by = dd_strdup("ignore-file");
			f->suppress_reason = why.failed ? NULL : dd_buf_detach(&why, NULL);
			dd_buf_release(&why);
		}
	}
}

static void apply_vex(dd_findings *fs, const dd_inventory *inv, const dd_vex *vx)
{
	for (size_t i = 0; i < fs->n; i++) {
		dd_finding *f = &fs->v[i];
		dd_buf purl = DD_BUF_INIT_MAX(16384);
		dd_error e = DD_ERROR_INIT;
		const dd_package *p = dd_inventory_package(inv, f->pkg);
		if (f->suppressed_by)
			continue;
		if (dd_purl_format(&purl, p, dd_inventory_os(inv), &e) != 0)
			dd_buf_reset(&purl);
		const dd_vex_stmt *s = dd_vex_find(vx, f, purl.len ? dd_buf_cstr(&purl) : NULL);
		dd_buf_release(&purl);
		if (!s || (strcmp(s->status, "not_affected") != 0 && strcmp(s->status, "fixed") != 0))
			continue;
		dd_buf why = DD_BUF_INIT_MAX(2048), by = DD_BUF_INIT_MAX(64);
		dd_buf_printf(&why, "%s VEX: %s", vx->format, s->status);
		if (s->justification)
			dd_buf_printf(&why, " (%s)", s->justification);
		if (s->statement)
			dd_buf_printf(&why, ": %s", s->statement);
		dd_buf_printf(&by, "vex:%s", s->status);
		f->suppressed_by = by.failed ? NULL : dd_buf_detach(&by, NULL);
		f->suppress_reason = why.failed ? NULL : dd_buf_detach(&why, NULL);
		dd_buf_release(&why);
		dd_buf_release(&by);
	}
}

int dd_cmd_scan(int argc, char **argv, dd_error *err)
{
	dd_image_opts io;
	dd_image *img = NULL;
	dd_inventory *inv = NULL;
	dd_vulndb *db = NULL;
	dd_findings *fs = NULL;
	dd_ignore *ig = NULL;
	dd_vex *vx = NULL;
	dd_output out = { 0 };
	dd_buf dbpath = DD_BUF_INIT;
	enum fmt fmt = FMT_TABLE;
	int allow[DD_SEV_COUNT], npos = 0, rc;
	enum dd_severity gate = DD_SEV_UNKNOWN;
	char *data = NULL, *base_ref = NULL;
	const char *base_how = NULL;
	size_t len = 0;
	dd_match_opts mo = { -1 };
	time_t now = report_time();

	memset(&o, 0, sizeof(o));
	rc = dd_opts_parse(&spec, argc, argv, &npos, err);
	if (rc)
		return rc > 0 ? 0 : rc;
	if ((o.sbom && npos != 0) || (!o.sbom && npos != 1))
		return dd_error_set(err, DD_EUSAGE,
				    "scan: expected one IMAGE or --sbom FILE (see 'drydock scan --help')");
	if ((rc = parse_format(o.format, &fmt, err)))
		return rc;
	for (int i = 0; i < DD_SEV_COUNT; i++)
		allow[i] = 1;
	if (o.severity && (rc = parse_sev_list(o.severity, allow, err)))
		return rc;
	if (o.fail_on && dd_severity_parse(o.fail_on, &gate))
		return dd_error_set(err, DD_EUSAGE, "scan: unknown --fail-on severity '%s'", o.fail_on);
	if (o.ignore_file) {
		if ((rc = read_file(o.ignore_file, &data, &len, err)) ||
		    (rc = dd_ignore_parse(&ig, data, len, o.ignore_file, err)))
			goto done;
		free(data);
		data = NULL;
	}
	if (o.vex) {
		if ((rc = read_file(o.vex, &data, &len, err)) ||
		    (rc = dd_vex_parse(&vx, data, len, o.vex, err)))
			goto done;
		free(data);
		data = NULL;
	}
	if (o.db) {
		if (dd_buf_puts(&dbpath, o.db)) {
			rc = dd_error_oom(err);
			goto done;
		}
	} else if ((rc = dd_vulndb_default_path(&dbpath, err))) {
		goto done;
	}
	if ((rc = dd_vulndb_open(&db, dd_buf_cstr(&dbpath), DD_VULNDB_RDONLY, err))) {
		dd_error_prefix(err, "scan: no usable vulnerability DB (run 'drydock db import' first)");
		goto done;
	}
	dd_image_opts_init(&io);
	if ((rc = dd_image_cli_apply(&o.img, &io, err)))
		goto done;
	if (o.sbom) {
		if ((rc = read_file(o.sbom, &data, &len, err)) ||
		    (rc = dd_sbom_read(&inv, data, len, o.sbom, err)))
			goto done;
	} else {
		if ((rc = dd_image_open(&img, argv[1], &io, err)))
			goto done;
		if ((rc = dd_inventory_collect_ex(&inv, img, &io.limits, err)))
			goto done;
		const char *bn = dd_image_annotation(img, "org.opencontainers.image.base.name");
		const char *bd = dd_image_annotation(img, "org.opencontainers.image.base.digest");
		if (bn || bd) {
			dd_buf b = DD_BUF_INIT_MAX(4096);
			dd_buf_printf(&b, "%s%s%s", bn ? bn : "", bn && bd ? "@" : "", bd ? bd : "");
			base_ref = b.failed ? NULL : dd_buf_detach(&b, NULL);
			dd_buf_release(&b);
			base_how = "annotation";
		}
	}
	if (o.base) {
		if (o.sbom) {
			rc = dd_error_set(err, DD_EUSAGE, "scan: --base needs an IMAGE, not --sbom");
			goto done;
		}
		if ((rc = base_from_image(o.base, inv, &io, &mo.base_layers, err)))
			goto done;
		free(base_ref);
		base_ref = dd_strdup(o.base);
		base_how = "--base";
	} else if (base_how) {
		dd_warn("the image names its base (%s) but not the base's layers; give --base IMAGE "
			"to tell base from application findings",
			base_ref ? base_ref : "?");
	}
	if (dd_os_is_eol(dd_inventory_os(inv)))
		dd_warn("%s %s reached the end of its security support on %s: it gets no more fixes",
			dd_inventory_os(inv)->id, dd_inventory_os(inv)->version_id, dd_os_eol(dd_inventory_os(inv)));
	if ((rc = dd_match_inventory(&fs, inv, db, &mo, err)))
		goto done;
	if (!o.no_store && !o.sbom) {
		/* for `drydock rescan`: the inventory and the unfiltered findings */
		dd_buf dir = DD_BUF_INIT;
		dd_error se = DD_ERROR_INIT;
		int stored = 0;
		if ((o.inventory_dir ? dd_buf_puts(&dir, o.inventory_dir) != 0
				     : dd_invstore_default_dir(&dir, &se) != 0) ||
		    dd_invstore_save(dd_buf_cstr(&dir), inv, mo.base_layers, fs, &stored, &se) != 0)
			dd_warn("the inventory was not kept for 'drydock rescan': %s",
				se.msg[0] ? se.msg : "out of memory");
		dd_buf_release(&dir);
	}
	for (size_t i = fs->n; i-- > 0;)
		if (!allow[fs->v[i].severity] || (o.ignore_unfixed && !fs->v[i].fixed_version))
			dd_findings_remove(fs, i);
	if (ig)
		apply_ignore(fs, inv, ig, o.ignore_file, now);
	if (vx)
		apply_vex(fs, inv, vx);
	if ((rc = dd_output_open(&out, o.output, err)))
		goto done;
	dd_findings_report rep = { inv, fs, dd_buf_cstr(&dbpath), base_ref, base_how, now,
				   fmt == FMT_TABLE && dd_cli_color(out.fp), o.fail_on };
	switch (fmt) {
	case FMT_TABLE:
		rc = dd_findings_write_table(out.fp, &rep, err);
		break;
	case FMT_JSON:
		rc = dd_findings_write_json(out.fp, &rep, err);
		break;
	case FMT_SARIF:
		rc = dd_findings_write_sarif(out.fp, &rep, err);
		break;
	case FMT_CDX:
		rc = dd_findings_write_cyclonedx(out.fp, &rep, err);
		break;
	case FMT_VEX:
		rc = dd_findings_write_openvex(out.fp, &rep, err);
		break;
	}
	if ((rc = dd_output_close(&out, rc, err)))
		goto done;
	if (o.fail_on) {
		size_t n = 0;
		for (size_t i = 0; i < fs->n; i++)
			n += !fs->v[i].suppressed_by && fs->v[i].severity >= gate;
		if (n)
			rc = dd_error_set(err, DD_EGATE, "scan: %zu finding(s) at or above %s (--fail-on)",
					  n, dd_severity_name(gate));
	}
done:
	free(data);
	free(base_ref);
	dd_buf_release(&dbpath);
	dd_findings_free(fs);
	dd_ignore_free(ig);
	dd_vex_free(vx);
	dd_inventory_free(inv);
	dd_image_free(img);
	dd_vulndb_close(db);
	return rc;
}
