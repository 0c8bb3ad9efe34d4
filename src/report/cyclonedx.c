/* cyclonedx.c - the inventory as CycloneDX 1.6 JSON (see cyclonedx.h and
 * docs/sbom-formats.md for the mapping). */
#include "report/cyclonedx.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "report/json_util.h"
#include "report/purl.h"
#include "report/sbom.h"
#include "util/log.h"
#include "util/banned.h"

#define CDX_SCHEMA "http://cyclonedx.org/schema/bom-1.6.schema.json"

/* properties += {"name": name, "value": value}, skipping empty values. */
static void prop(dd_jctx *c, json_t *props, const char *name, const char *value)
{
	json_t *o;
	if (!value || !*value)
		return;
	o = dd_jobj(c);
	dd_jset(c, o, "name", dd_jstr(c, name));
	dd_jset(c, o, "value", dd_jstr(c, value));
	dd_jpush(c, props, o);
}

/* Set obj["properties"] = props when it has any, else drop it. */
static void set_props(dd_jctx *c, json_t *obj, json_t *props)
{
	if (props && json_array_size(props))
		dd_jset(c, obj, "properties", props);
	else
		json_decref(props);
}

static json_t *tools(dd_jctx *c)
{
	json_t *t = dd_jobj(c), *comps = dd_jarr(c), *d = dd_jobj(c);
	dd_jset_str(c, d, "type", "application");
	dd_jset_str(c, d, "name", "drydock");
	dd_jset_str(c, d, "version", DD_VERSION);
	dd_jpush(c, comps, d);
	dd_jset(c, t, "components", comps);
	return t;
}

static void image_ref(dd_buf *b, const dd_inventory *inv)
{
	const dd_digest *m = dd_inventory_manifest_digest(inv);
	dd_buf_puts(b, "image:");
	dd_buf_puts(b, dd_digest_is_set(m) ? m->s : dd_inventory_ref(inv));
}

static void os_ref(dd_buf *b, const dd_os *os)
{
	dd_buf_printf(b, "os:%s", os->id);
	if (os->version_id && *os->version_id)
		dd_buf_printf(b, "@%s", os->version_id);
}

static json_t *image_component(dd_jctx *c, const dd_inventory *inv, const char *ref)
{
	json_t *o = dd_jobj(c), *props = dd_jarr(c);
	const dd_digest *m = dd_inventory_manifest_digest(inv);
	char plat[128], key[64];

	dd_jset_str(c, o, "type", "container");
	dd_jset_str(c, o, "bom-ref", ref);
	dd_jset(c, o, "name", dd_jstr(c, dd_inventory_ref(inv)));
	if (dd_digest_is_set(m))
		dd_jset_str(c, o, "version", m->s);
	prop(c, props, "drydock:image:transport", dd_transport_name(dd_inventory_transport(inv)));
	prop(c, props, "drydock:image:manifest-digest", m->s);
	prop(c, props, "drydock:image:config-digest", dd_inventory_config_digest(inv)->s);
	prop(c, props, "drydock:image:index-digest", dd_inventory_index_digest(inv)->s);
	dd_sbom_platform(plat, sizeof(plat), dd_inventory_platform(inv));
	prop(c, props, "drydock:image:platform", plat);
	for (size_t i = 0; i < dd_inventory_layer_count(inv); i++) {
		const dd_inv_layer *l = dd_inventory_layer(inv, i);
		snprintf(key, sizeof(key), "drydock:image:layer:%zu:diff-id", i);
		prop(c, props, key, l->diff_id.s);
		snprintf(key, sizeof(key), "drydock:image:layer:%zu:digest", i);
		prop(c, props, key, l->digest.s);
	}
	set_props(c, o, props);
	return o;
}

static json_t *os_component(dd_jctx *c, const dd_os *os, const char *ref)
{
	json_t *o = dd_jobj(c), *props = dd_jarr(c);
	dd_jset_str(c, o, "type", "operating-system");
	dd_jset_str(c, o, "bom-ref", ref);
	dd_jset(c, o, "name", dd_jstr(c, os->id));
	dd_jset_str(c, o, "version", os->version_id);
	dd_jset_str(c, o, "description", os->name);
	prop(c, props, "drydock:os:codename", os->codename);
	prop(c, props, "drydock:os:id-like", os->id_like);
	prop(c, props, "drydock:os:source", os->source);
	if (os->distroless)
		prop(c, props, "drydock:os:distroless", "true");
	set_props(c, o, props);
	return o;
}

static json_t *licenses(dd_jctx *c, const char *text)
{
	dd_buf canon = DD_BUF_INIT;
	json_t *arr = NULL, *o, *l;

	switch (dd_license_classify(text, &canon)) {
	case DD_LICENSE_NONE:
		break;
	case DD_LICENSE_ID:
		arr = dd_jarr(c);
		o = dd_jobj(c);
		l = dd_jobj(c);
		dd_jset(c, l, "id", dd_jstr(c, dd_buf_cstr(&canon)));
		dd_jset(c, o, "license", l);
		dd_jpush(c, arr, o);
		break;
	case DD_LICENSE_EXPR:
		arr = dd_jarr(c);
		o = dd_jobj(c);
		dd_jset(c, o, "expression", dd_jstr(c, dd_buf_cstr(&canon)));
		dd_jpush(c, arr, o);
		break;
	case DD_LICENSE_TEXT:
		arr = dd_jarr(c);
		o = dd_jobj(c);
		l = dd_jobj(c);
		dd_jset(c, l, "name", dd_jstr(c, text));
		dd_jset(c, o, "license", l);
		dd_jpush(c, arr, o);
		break;
	}
	if (canon.failed)
		c->failed = 1;
	dd_buf_release(&canon);
	return arr;
}

static json_t *package_component(dd_jctx *c, const dd_inventory *inv, const dd_package *p,
				 const char *ref, const char *purl)
{
	json_t *o = dd_jobj(c), *props = dd_jarr(c), *lic;
	char num[32];

	dd_jset_str(c, o, "type", "library");
	dd_jset_str(c, o, "bom-ref", ref);
	if (p->vendor && *p->vendor) {
		json_t *s = dd_jobj(c);
		dd_jset(c, s, "name", dd_jstr(c, p->vendor));
		dd_jset(c, o, "supplier", s);
	}
	dd_jset_str(c, o, "publisher", p->maintainer);
	dd_jset(c, o, "name", dd_jstr(c, p->name));
	dd_jset_str(c, o, "version", p->version);
	dd_jset_str(c, o, "description", p->description);
	if ((lic = licenses(c, p->license)))
		dd_jset(c, o, "licenses", lic);
	dd_jset_str(c, o, "purl", purl);

	prop(c, props, "drydock:package:type", dd_pkg_type_name(p->type));
	prop(c, props, "drydock:package:arch", p->arch);
	if (p->type == DD_PKG_RPM && p->has_epoch) {
		snprintf(num, sizeof(num), "%" PRIu32, p->epoch);
		prop(c, props, "drydock:package:epoch", num);
	}
	prop(c, props, "drydock:package:source-name", p->source_name ? p->source_name : p->name);
	prop(c, props, "drydock:package:source-version",
	     p->source_version ? p->source_version : p->version);
	prop(c, props, "drydock:package:sourcerpm", p->sourcerpm);
	prop(c, props, "drydock:package:modularitylabel", p->modularitylabel);
	prop(c, props, "drydock:package:multi-arch", p->multi_arch);
	prop(c, props, "drydock:package:status", p->status);
	if (p->size) {
		snprintf(num, sizeof(num), "%" PRIu64, p->size);
		prop(c, props, "drydock:package:installed-size", num);
	}
	prop(c, props, "drydock:package:db-path", p->db_path);
	if (p->layer >= 0) {
		const dd_inv_layer *l = dd_inventory_layer(inv, (size_t)p->layer);
		snprintf(num, sizeof(num), "%d", p->layer);
		prop(c, props, "drydock:layer:index", num);
		prop(c, props, "drydock:layer:diff-id",
		     dd_digest_is_set(&p->diff_id) ? p->diff_id.s : l ? l->diff_id.s : NULL);
	}
	set_props(c, o, props);
	return o;
}

static json_t *metadata(dd_jctx *c, const dd_inventory *inv, const char *ts, const char *imgref)
{
	json_t *m = dd_jobj(c), *props = dd_jarr(c);
	const char *prev = NULL;

	dd_jset_str(c, m, "timestamp", ts);
	dd_jset(c, m, "tools", tools(c));
	dd_jset(c, m, "component", image_component(c, inv, imgref));
	if (dd_inventory_os_unknown(inv))
		prop(c, props, "drydock:os:unknown", "true");
	for (size_t i = 0; i < dd_inventory_warning_count(inv); i++) {
		const char *w = dd_inventory_warning(inv, i);
		if (w && (!prev || strcmp(prev, w) != 0)) /* properties are uniqueItems */
			prop(c, props, "drydock:warning", w);
		prev = w;
	}
	set_props(c, m, props);
	return m;
}

static json_t *dependency(dd_jctx *c, const char *ref, json_t **depends_on)
{
	json_t *d = dd_jobj(c);
	*depends_on = dd_jarr(c);
	dd_jset(c, d, "ref", dd_jstr(c, ref));
	json_incref(*depends_on);
	dd_jset(c, d, "dependsOn", *depends_on);
	return d;
}

int dd_report_cyclonedx(FILE *out, const dd_inventory *inv, dd_error *err)
{
	dd_jctx c;
	dd_sbom_refs refs;
	dd_buf imgref = DD_BUF_INIT, osref = DD_BUF_INIT, serial = DD_BUF_INIT;
	json_t *root = NULL, *comps, *deps, *img_deps = NULL, *os_deps = NULL, *pkg_parent;
	const dd_os *os = dd_inventory_os(inv);
	int os_known = !dd_inventory_os_unknown(inv), fixed, rc;
	char ts[32], uuid[37];
	time_t t;

	dd_jctx_init(&c);
	memset(&refs, 0, sizeof(refs));
	if ((rc = dd_sbom_time(&t, &fixed, err)) ||
	    (rc = dd_sbom_uuid(uuid, "cyclonedx-json", inv, fixed, t, err)) ||
	    (rc = dd_sbom_refs_build(&refs, inv, err)))
		goto done;
	dd_sbom_rfc3339(ts, sizeof(ts), t);
	image_ref(&imgref, inv);
	if (os_known)
		os_ref(&osref, os);
	dd_buf_printf(&serial, "urn:uuid:%s", uuid);
	if (imgref.failed || osref.failed || serial.failed) {
		rc = dd_error_oom(err);
		goto done;
	}

	root = dd_jobj(&c);
	dd_jset_str(&c, root, "$schema", CDX_SCHEMA);
	dd_jset_str(&c, root, "bomFormat", "CycloneDX");
	dd_jset_str(&c, root, "specVersion", "1.6");
	dd_jset_str(&c, root, "serialNumber", dd_buf_cstr(&serial));
	dd_jset(&c, root, "version", json_integer(1));
	dd_jset(&c, root, "metadata", metadata(&c, inv, ts, dd_buf_cstr(&imgref)));

	comps = dd_jarr(&c);
	deps = dd_jarr(&c);
	dd_jpush(&c, deps, dependency(&c, dd_buf_cstr(&imgref), &img_deps));
	pkg_parent = img_deps;
	if (os_known) {
		dd_jpush(&c, comps, os_component(&c, os, dd_buf_cstr(&osref)));
		dd_jpush(&c, img_deps, dd_jstr(&c, dd_buf_cstr(&osref)));
		dd_jpush(&c, deps, dependency(&c, dd_buf_cstr(&osref), &os_deps));
		pkg_parent = os_deps;
	}
	for (size_t i = 0; i < refs.n && !c.failed; i++) {
		const dd_package *p = dd_inventory_package(inv, i);
		if (!refs.purls[i]) {
			dd_warn("%s: package %zu has no name; left out of the CycloneDX SBOM",
				dd_inventory_ref(inv), i + 1);
			continue;
		}
		dd_jpush(&c, comps, package_component(&c, inv, p, refs.refs[i], refs.purls[i]));
		dd_jpush(&c, pkg_parent, dd_jstr(&c, refs.refs[i]));
	}
	dd_jset(&c, root, "components", comps);
	dd_jset(&c, root, "dependencies", deps);
	if (c.failed) {
		rc = dd_error_set(err, DD_EENV, "out of memory building the CycloneDX SBOM of %s",
				  dd_inventory_ref(inv));
		goto done;
	}
	rc = dd_jdump(out, root, "the CycloneDX SBOM", err);
done:
	json_decref(img_deps);
	json_decref(os_deps);
	json_decref(root);
	dd_sbom_refs_release(&refs);
	dd_buf_release(&imgref);
	dd_buf_release(&osref);
	dd_buf_release(&serial);
	dd_jctx_release(&c);
	return rc;
}
