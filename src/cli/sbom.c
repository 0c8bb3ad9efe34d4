/*
 * sbom.c - `drydock sbom IMAGE`: every OS package of an image (dpkg, apk,
 * rpm), with the OS and the layer each package was installed or last
 * changed in, as a table, drydock JSON, CycloneDX 1.6 or SPDX 2.3 JSON.
 *
 * The inventory is collected by dd_inventory_collect_ex() (one streaming
 * pass over the layers); this file only formats it.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "image/image.h"
#include "inventory/inventory.h"
#include "report/cyclonedx.h"
#include "report/purl.h"
#include "report/spdx.h"
#include "util/buf.h"
#include "util/banned.h"

static struct {
	const char *format, *output;
	int strict;
	struct dd_image_cli img;
} o;

static const struct dd_opt opts[] = {
	{ "format", 'f', DD_OPT_STR, &o.format, "FORMAT",
	  "output format: table (default), json, cyclonedx-json or spdx-json" },
	{ "output", 'o', DD_OPT_STR, &o.output, "FILE", "write to FILE instead of standard output" },
	{ "strict", 0, DD_OPT_FLAG, &o.strict, NULL,
	  "exit 3 when a package database had malformed entries (they are skipped either way)" },
	DD_IMAGE_CLI_OPTS(o.img),
	{ 0 },
};

static const struct dd_cmdspec spec = {
	"sbom", "IMAGE [options]",
	"List an image's OS packages (dpkg, apk, rpm) with the layer each came from.",
	"IMAGE is oci:PATH[:TAG|@DIGEST], docker-archive:PATH, rootfs:PATH or a registry\n"
	"reference [docker://]HOST/NAME[:TAG|@DIGEST].\n"
	"The OS comes from etc/os-release (or usr/lib/os-release and the\n"
	"distribution release files); packages from var/lib/dpkg/status and\n"
	"status.d, lib/apk/db/installed, and the rpm databases.  Each package is\n"
	"attributed to the lowest layer from which on it is unchanged.",
	opts,
};

enum fmt { FMT_TABLE, FMT_JSON, FMT_CDX, FMT_SPDX };

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static void set_str(json_t *obj, const char *key, const char *s)
{
	if (s)
		json_object_set_new(obj, key, json_string(s));
}

static json_t *image_json(const dd_inventory *inv)
{
	json_t *im = json_object(), *layers = json_array();
	char plat[112];

	json_object_set_new(im, "reference", json_string(dd_inventory_ref(inv)));
	json_object_set_new(im, "transport",
			    json_string(dd_transport_name(dd_inventory_transport(inv))));
	if (dd_digest_is_set(dd_inventory_index_digest(inv)))
		json_object_set_new(im, "indexDigest",
				    json_string(dd_inventory_index_digest(inv)->s));
	if (dd_digest_is_set(dd_inventory_manifest_digest(inv)))
		json_object_set_new(im, "manifestDigest",
				    json_string(dd_inventory_manifest_digest(inv)->s));
	if (dd_digest_is_set(dd_inventory_config_digest(inv)))
		json_object_set_new(im, "configDigest",
				    json_string(dd_inventory_config_digest(inv)->s));
	if (dd_inventory_platform(inv)->os[0]) {
		dd_platform_format(dd_inventory_platform(inv), plat, sizeof(plat));
		json_object_set_new(im, "platform", json_string(plat));
	}
	for (size_t i = 0; i < dd_inventory_layer_count(inv); i++) {
		const dd_inv_layer *l = dd_inventory_layer(inv, i);
		json_t *jl = json_object();
		json_object_set_new(jl, "index", json_integer((json_int_t)i));
		if (dd_digest_is_set(&l->digest))
			json_object_set_new(jl, "digest", json_string(l->digest.s));
		if (dd_digest_is_set(&l->diff_id))
			json_object_set_new(jl, "diffID", json_string(l->diff_id.s));
		json_array_append_new(layers, jl);
	}
	json_object_set_new(im, "layers", layers);
	return im;
}

static json_t *os_json(const dd_inventory *inv)
{
	const dd_os *os = dd_inventory_os(inv);
	json_t *j = json_object();
	int unknown = dd_inventory_os_unknown(inv);

	json_object_set_new(j, "id", json_string(unknown ? "unknown" : os->id));
	set_str(j, "versionID", os->version_id);
	set_str(j, "codename", os->codename);
	set_str(j, "idLike", os->id_like);
	set_str(j, "name", os->name);
	set_str(j, "source", os->source);
	json_object_set_new(j, "distroless", json_boolean(os->distroless));
	json_object_set_new(j, "unknown", json_boolean(unknown));
	return j;
}

/* The deb epoch ("1:2.36-9" -> 1), or -1 when the version has none. */
static long deb_epoch(const char *v)
{
	if (!v)
		return -1;
	const char *c = strchr(v, ':');
	if (!c || c == v)
		return -1;
	long e = 0;
	for (const char *p = v; p < c; p++) {
		if (*p < '0' || *p > '9' || e > 100000000)
			return -1;
		e = e * 10 + (*p - '0');
	}
	return e;
}

static json_t *package_json(const dd_inventory *inv, const dd_package *p)
{
	json_t *j = json_object(), *layer = json_object();
	dd_buf purl = DD_BUF_INIT_MAX(16384);
	dd_error e = DD_ERROR_INIT;

	json_object_set_new(j, "type", json_string(dd_pkg_type_name(p->type)));
	json_object_set_new(j, "name", jstr(p->name));
	json_object_set_new(j, "version", jstr(p->version));
	json_object_set_new(j, "arch", jstr(p->arch));
	json_object_set_new(j, "sourceName", jstr(p->source_name ? p->source_name : p->name));
	json_object_set_new(j, "sourceVersion",
			    jstr(p->source_version ? p->source_version : p->version));
	if (p->type == DD_PKG_RPM) {
		if (p->has_epoch)
			json_object_set_new(j, "epoch", json_integer(p->epoch));
		set_str(j, "rpmVersion", p->rpm_version);
		set_str(j, "rpmRelease", p->rpm_release);
		set_str(j, "sourceRPM", p->sourcerpm);
		set_str(j, "vendor", p->vendor);
		set_str(j, "modularityLabel", p->modularitylabel);
	} else if (p->type == DD_PKG_DEB && deb_epoch(p->version) >= 0) {
		json_object_set_new(j, "epoch", json_integer(deb_epoch(p->version)));
	}
	json_object_set_new(j, "license", jstr(p->license));
	set_str(j, "maintainer", p->maintainer);
	set_str(j, "multiArch", p->multi_arch);
	set_str(j, "status", p->status);
	if (p->size)
		json_object_set_new(j, "installedSize", json_integer((json_int_t)p->size));
	if (p->commit)
		set_str(j, "commit", p->commit);
	set_str(j, "dbPath", p->db_path);
	if (p->layer >= 0)
		json_object_set_new(layer, "index", json_integer(p->layer));
	else
		json_object_set_new(layer, "index", json_null());
	json_object_set_new(layer, "diffID",
			    dd_digest_is_set(&p->diff_id) ? json_string(p->diff_id.s) : json_null());
	json_object_set_new(j, "layer", layer);
	if (dd_purl_format(&purl, p, dd_inventory_os(inv), &e) == 0)
		json_object_set_new(j, "purl", json_string(dd_buf_cstr(&purl)));
	dd_buf_release(&purl);
	json_object_set_new(j, "files", json_integer((json_int_t)p->nfiles));
	return j;
}

static int write_json(FILE *fp, const dd_inventory *inv, dd_error *err)
{
	json_t *root = json_object(), *pkgs = json_array(), *warns = json_array();
	int rc = 0;

	if (!root || !pkgs || !warns) {
		json_decref(root);
		json_decref(pkgs);
		json_decref(warns);
		return dd_error_oom(err);
	}
	json_object_set_new(root, "image", image_json(inv));
	json_object_set_new(root, "os", os_json(inv));
	for (size_t i = 0; i < dd_inventory_package_count(inv); i++)
		json_array_append_new(pkgs, package_json(inv, dd_inventory_package(inv, i)));
	json_object_set_new(root, "packages", pkgs);
	for (size_t i = 0; i < dd_inventory_warning_count(inv); i++)
		json_array_append_new(warns, json_string(dd_inventory_warning(inv, i)));
	json_object_set_new(root, "warnings", warns);
	if (json_dumpf(root, fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
		rc = dd_error_set(err, DD_EENV, "writing the JSON SBOM failed");
	else
		fputc('\n', fp);
	json_decref(root);
	return rc;
}

static void write_table(FILE *fp, const dd_inventory *inv)
{
	const dd_os *os = dd_inventory_os(inv);
	size_t wn = 4, wv = 7, wa = 4;
	size_t n = dd_inventory_package_count(inv);

	fprintf(fp, "Image:    %s\n", dd_inventory_ref(inv));
	if (dd_inventory_os_unknown(inv)) {
		fprintf(fp, "OS:       unknown (no os-release or distribution release file)\n");
	} else {
		fprintf(fp, "OS:       %s", os->id);
		if (os->version_id)
			fprintf(fp, " %s", os->version_id);
		if (os->name)
			fprintf(fp, " \"%s\"", os->name);
		if (os->distroless)
			fprintf(fp, " [distroless]");
		fprintf(fp, " (from %s)\n", os->source ? os->source : "?");
	}
	fprintf(fp, "Packages: %zu\n\n", n);
	for (size_t i = 0; i < n; i++) {
		const dd_package *p = dd_inventory_package(inv, i);
		size_t l;
		if (p->name && (l = strlen(p->name)) > wn)
			wn = l;
		if (p->version && (l = strlen(p->version)) > wv)
			wv = l;
		if (p->arch && (l = strlen(p->arch)) > wa)
			wa = l;
	}
	if (wn > 60)
		wn = 60;
	if (wv > 60)
		wv = 60;
	fprintf(fp, "%-*s  %-*s  %-*s  %-4s  %-5s  %s\n", (int)wn, "NAME", (int)wv, "VERSION",
		(int)wa, "ARCH", "TYPE", "LAYER", "SOURCE");
	for (size_t i = 0; i < n; i++) {
		const dd_package *p = dd_inventory_package(inv, i);
		char layer[16];
		if (p->layer >= 0)
			snprintf(layer, sizeof(layer), "%d", p->layer);
		else
			snprintf(layer, sizeof(layer), "-");
		fprintf(fp, "%-*s  %-*s  %-*s  %-4s  %-5s  %s%s%s", (int)wn,
			p->name ? p->name : "?", (int)wv, p->version ? p->version : "-", (int)wa,
			p->arch ? p->arch : "-", dd_pkg_type_name(p->type), layer,
			p->source_name ? p->source_name : "",
			p->source_version ? " " : "", p->source_version ? p->source_version : "");
		if (p->status)
			fprintf(fp, "  [%s]", p->status);
		fputc('\n', fp);
	}
}

static int parse_format(const char *s, enum fmt *out, dd_error *err)
{
	if (!s || strcmp(s, "table") == 0)
		*out = FMT_TABLE;
	else if (strcmp(s, "json") == 0)
		*out = FMT_JSON;
	else if (strcmp(s, "cyclonedx-json") == 0)
		*out = FMT_CDX;
	else if (strcmp(s, "spdx-json") == 0)
		*out = FMT_SPDX;
	else
		return dd_error_set(err, DD_EUSAGE,
				    "sbom: unknown format '%s' (table, json, cyclonedx-json, spdx-json)",
				    s);
	return 0;
}

static int write_sbom(FILE *fp, enum fmt f, const dd_inventory *inv, dd_error *err)
{
	switch (f) {
	case FMT_TABLE:
		write_table(fp, inv);
		return 0;
	case FMT_JSON:
		return write_json(fp, inv, err);
	case FMT_CDX:
		return dd_report_cyclonedx(fp, inv, err);
	case FMT_SPDX:
		return dd_report_spdx(fp, inv, err);
	}
	return DD_EINTERNAL;
}

int dd_cmd_sbom(int argc, char **argv, dd_error *err)
{
	dd_image_opts io;
	dd_image *img = NULL;
	dd_inventory *inv = NULL;
	dd_output out = { 0 };
	enum fmt f = FMT_TABLE;
	int npos = 0, rc;

	memset(&o, 0, sizeof(o));
	rc = dd_opts_parse(&spec, argc, argv, &npos, err);
	if (rc)
		return rc > 0 ? 0 : rc;
	if (npos != 1)
		return dd_error_set(err, DD_EUSAGE,
				    "sbom: expected one IMAGE (see 'drydock sbom --help')");
	if ((rc = parse_format(o.format, &f, err)))
		return rc;

	dd_image_opts_init(&io);
	if ((rc = dd_image_cli_apply(&o.img, &io, err)))
		goto done;
	if ((rc = dd_image_open(&img, argv[1], &io, err)))
		goto done;
	if ((rc = dd_inventory_collect_ex(&inv, img, &io.limits, err)))
		goto done;
	if ((rc = dd_output_open(&out, o.output, err)))
		goto done;
	rc = write_sbom(out.fp, f, inv, err);
	if ((rc = dd_output_close(&out, rc, err)))
		goto done;
	if (o.strict && inv->ndamaged)
		rc = dd_error_set(err, DD_EINPUT,
				  "sbom: %zu problem(s) in the image's package data (--strict)",
				  inv->ndamaged);
done:
	dd_inventory_free(inv);
	dd_image_free(img);
	return rc;
}
