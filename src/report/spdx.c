/* spdx.c - the inventory as SPDX 2.3 JSON (see spdx.h and
 * docs/sbom-formats.md for the mapping). */
#include "report/spdx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/json_util.h"
#include "report/purl.h"
#include "report/sbom.h"
#include "util/log.h"
#include "util/banned.h"

#define NOASSERTION "NOASSERTION"
#define NAMESPACE_BASE "https://drydock.invalid/spdxdocs/"
#define LICREF_MAX 64

/* Free-text licenses and the LicenseRef- ids assigned to them. */
struct licref {
	char *text;
	char *id;
};

struct licrefs {
	struct licref *v;
	size_t n;
};

struct spdx {
	dd_jctx c;
	const dd_inventory *inv;
	char ts[32];
	char annotator[64];
	struct licrefs lic;
};

static int licref_cmp(const void *a, const void *b)
{
	return strcmp(((const struct licref *)a)->text, ((const struct licref *)b)->text);
}

static void licrefs_release(struct licrefs *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].text);
		free(l->v[i].id);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* "LicenseRef-" + text with '+' spelt "plus" and every run of characters
 * outside [A-Za-z0-9.] turned into one '-' (none leading or trailing), about
 * LICREF_MAX characters at most: "GPL2+ BSD" -> "LicenseRef-GPL2plus-BSD". */
static void licref_name(dd_buf *b, const char *text)
{
	size_t start;
	int dash = 0;
	dd_buf_puts(b, "LicenseRef-");
	start = b->len;
	for (const unsigned char *p = (const unsigned char *)text; *p && b->len - start < LICREF_MAX; p++) {
		int keep = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			   (*p >= '0' && *p <= '9') || *p == '.' || *p == '+';
		if (keep) {
			if (dash && b->len > start)
				dd_buf_putc(b, '-');
			dash = 0;
			if (*p == '+')
				dd_buf_puts(b, "plus");
			else
				dd_buf_putc(b, (char)*p);
		} else {
			dash = 1;
		}
	}
	if (b->len == start)
		dd_buf_puts(b, "unknown");
}

/* Collect every distinct free-text license, sorted, and give each an id
 * unique in the document ("-2", "-3" ... on clashes). */
static int licrefs_build(struct licrefs *l, const dd_inventory *inv, dd_error *err)
{
	size_t n = dd_inventory_package_count(inv), k = 0;
	dd_buf b = DD_BUF_INIT;

	memset(l, 0, sizeof(*l));
	if (n && !(l->v = dd_calloc(n, sizeof(*l->v))))
		return dd_error_oom(err);
	for (size_t i = 0; i < n; i++) {
		const char *t = dd_inventory_package(inv, i)->license;
		if (dd_license_classify(t, NULL) != DD_LICENSE_TEXT)
			continue;
		if (!(l->v[l->n].text = dd_strdup(t)))
			goto oom;
		l->n++;
	}
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), licref_cmp);
	for (size_t i = 0; i < l->n; i++) { /* keep each text once */
		char *t = l->v[i].text;
		l->v[i].text = NULL;
		if (k && strcmp(l->v[k - 1].text, t) == 0)
			free(t);
		else
			l->v[k++].text = t;
	}
	l->n = k;
	for (size_t i = 0; i < l->n; i++) {
		size_t base;
		dd_buf_reset(&b);
		licref_name(&b, l->v[i].text);
		base = b.len;
		for (unsigned suffix = 2;; suffix++) {
			size_t j;
			for (j = 0; j < i && strcmp(l->v[j].id, dd_buf_cstr(&b)) != 0; j++)
				;
			if (j == i)
				break;
			b.len = base;
			dd_buf_printf(&b, "-%u", suffix);
		}
		if (b.failed || !(l->v[i].id = dd_strdup(dd_buf_cstr(&b))))
			goto oom;
	}
	dd_buf_release(&b);
	return 0;
oom:
	dd_buf_release(&b);
	licrefs_release(l);
	return dd_error_oom(err);
}

static const char *licref_of(const struct licrefs *l, const char *text)
{
	struct licref key = { (char *)text, NULL };
	const struct licref *hit = l->n ? bsearch(&key, l->v, l->n, sizeof(*l->v), licref_cmp) : NULL;
	return hit ? hit->id : NULL;
}

/* ---- building blocks ---- */

static void annotate(struct spdx *s, json_t *arr, const char *name, const char *value)
{
	dd_jctx *c = &s->c;
	dd_buf b = DD_BUF_INIT;
	json_t *a;
	if (!value || !*value)
		return;
	dd_buf_printf(&b, "%s=%s", name, value);
	if (b.failed)
		c->failed = 1;
	a = dd_jobj(c);
	dd_jset_str(c, a, "annotationDate", s->ts);
	dd_jset_str(c, a, "annotationType", "OTHER");
	dd_jset_str(c, a, "annotator", s->annotator);
	dd_jset(c, a, "comment", dd_jstr(c, dd_buf_cstr(&b)));
	dd_jpush(c, arr, a);
	dd_buf_release(&b);
}

static void set_annotations(dd_jctx *c, json_t *pkg, json_t *arr)
{
	if (arr && json_array_size(arr))
		dd_jset(c, pkg, "annotations", arr);
	else
		json_decref(arr);
}

/* The fields every package has, in SPDX's customary order. */
static json_t *package_head(struct spdx *s, const char *id, const char *name, const char *version)
{
	dd_jctx *c = &s->c;
	json_t *p = dd_jobj(c);
	dd_jset_str(c, p, "SPDXID", id);
	dd_jset(c, p, "name", dd_jstr(c, name));
	dd_jset_str(c, p, "versionInfo", version);
	return p;
}

static void package_noassert(struct spdx *s, json_t *p, const char *supplier, const char *declared)
{
	dd_jctx *c = &s->c;
	dd_jset(c, p, "supplier", dd_jstr(c, supplier ? supplier : NOASSERTION));
	dd_jset_str(c, p, "downloadLocation", NOASSERTION);
	dd_jset(c, p, "filesAnalyzed", json_false());
	dd_jset_str(c, p, "licenseConcluded", NOASSERTION);
	dd_jset(c, p, "licenseDeclared", dd_jstr(c, declared ? declared : NOASSERTION));
	dd_jset_str(c, p, "copyrightText", NOASSERTION);
}

static json_t *image_package(struct spdx *s)
{
	dd_jctx *c = &s->c;
	const dd_inventory *inv = s->inv;
	const dd_digest *m = dd_inventory_manifest_digest(inv);
	json_t *p = package_head(s, "SPDXRef-Image", dd_inventory_ref(inv),
				 dd_digest_is_set(m) ? m->s : NULL);
	json_t *an = dd_jarr(c);
	const char *prev = NULL;
	char plat[128], key[64];

	package_noassert(s, p, NULL, NULL);
	dd_jset_str(c, p, "primaryPackagePurpose", "CONTAINER");
	annotate(s, an, "drydock:image:transport", dd_transport_name(dd_inventory_transport(inv)));
	annotate(s, an, "drydock:image:manifest-digest", m->s);
	annotate(s, an, "drydock:image:config-digest", dd_inventory_config_digest(inv)->s);
	annotate(s, an, "drydock:image:index-digest", dd_inventory_index_digest(inv)->s);
	dd_sbom_platform(plat, sizeof(plat), dd_inventory_platform(inv));
	annotate(s, an, "drydock:image:platform", plat);
	for (size_t i = 0; i < dd_inventory_layer_count(inv); i++) {
		const dd_inv_layer *l = dd_inventory_layer(inv, i);
		snprintf(key, sizeof(key), "drydock:image:layer:%zu:diff-id", i);
		annotate(s, an, key, l->diff_id.s);
		snprintf(key, sizeof(key), "drydock:image:layer:%zu:digest", i);
		annotate(s, an, key, l->digest.s);
	}
	for (size_t i = 0; i < dd_inventory_warning_count(inv); i++) {
		const char *w = dd_inventory_warning(inv, i);
		if (w && (!prev || strcmp(prev, w) != 0)) /* repeated warnings once */
			annotate(s, an, "drydock:warning", w);
		prev = w;
	}
	set_annotations(c, p, an);
	return p;
}

static json_t *os_package(struct spdx *s, const dd_os *os)
{
	dd_jctx *c = &s->c;
	json_t *p = package_head(s, "SPDXRef-OperatingSystem", os->id, os->version_id);
	json_t *an = dd_jarr(c);

	package_noassert(s, p, NULL, NULL);
	dd_jset_str(c, p, "summary", os->name);
	dd_jset_str(c, p, "primaryPackagePurpose", "OPERATING_SYSTEM");
	annotate(s, an, "drydock:os:codename", os->codename);
	annotate(s, an, "drydock:os:id-like", os->id_like);
	annotate(s, an, "drydock:os:source", os->source);
	if (os->distroless)
		annotate(s, an, "drydock:os:distroless", "true");
	set_annotations(c, p, an);
	return p;
}

/* "Organization: NAME (EMAIL)" from a vendor or a "NAME <EMAIL>" maintainer. */
static void supplier(dd_buf *b, const dd_package *p)
{
	const char *who = p->vendor && *p->vendor ? p->vendor : p->maintainer;
	const char *lt, *gt;
	if (!who || !*who)
		return;
	dd_buf_puts(b, "Organization: ");
	lt = strchr(who, '<');
	gt = lt ? strchr(lt, '>') : NULL;
	if (lt && gt && lt != who) {
		const char *end = lt;
		while (end > who && end[-1] == ' ')
			end--;
		dd_buf_append(b, who, (size_t)(end - who));
		dd_buf_puts(b, " (");
		dd_buf_append(b, lt + 1, (size_t)(gt - lt - 1));
		dd_buf_putc(b, ')');
	} else {
		dd_buf_puts(b, who);
	}
}

static json_t *package(struct spdx *s, const dd_package *pk, size_t i, const char *purl)
{
	dd_jctx *c = &s->c;
	dd_buf id = DD_BUF_INIT, sup = DD_BUF_INIT, lic = DD_BUF_INIT, src = DD_BUF_INIT;
	const char *declared = NULL;
	json_t *p, *an, *refs, *r;
	char num[32];

	dd_buf_printf(&id, "SPDXRef-Package-%zu", i + 1);
	supplier(&sup, pk);
	switch (dd_license_classify(pk->license, &lic)) {
	case DD_LICENSE_ID:
	case DD_LICENSE_EXPR:
		declared = dd_buf_cstr(&lic);
		break;
	case DD_LICENSE_TEXT:
		declared = licref_of(&s->lic, pk->license);
		break;
	case DD_LICENSE_NONE:
		break;
	}
	dd_buf_puts(&src, "built package from: ");
	dd_buf_puts(&src, pk->source_name ? pk->source_name : pk->name);
	if (pk->source_version || pk->version) {
		dd_buf_putc(&src, ' ');
		dd_buf_puts(&src, pk->source_version ? pk->source_version : pk->version);
	}
	if (id.failed || sup.failed || lic.failed || src.failed)
		c->failed = 1;

	p = package_head(s, dd_buf_cstr(&id), pk->name, pk->version);
	package_noassert(s, p, sup.len ? dd_buf_cstr(&sup) : NULL, declared);
	dd_jset(c, p, "sourceInfo", dd_jstr(c, dd_buf_cstr(&src)));
	dd_jset_str(c, p, "summary", pk->description);
	refs = dd_jarr(c);
	r = dd_jobj(c);
	dd_jset_str(c, r, "referenceCategory", "PACKAGE-MANAGER");
	dd_jset_str(c, r, "referenceType", "purl");
	dd_jset(c, r, "referenceLocator", dd_jstr(c, purl));
	dd_jpush(c, refs, r);
	dd_jset(c, p, "externalRefs", refs);

	an = dd_jarr(c);
	annotate(s, an, "drydock:package:type", dd_pkg_type_name(pk->type));
	annotate(s, an, "drydock:package:status", pk->status);
	annotate(s, an, "drydock:package:db-path", pk->db_path);
	if (pk->layer >= 0) {
		const dd_inv_layer *l = dd_inventory_layer(s->inv, (size_t)pk->layer);
		snprintf(num, sizeof(num), "%d", pk->layer);
		annotate(s, an, "drydock:layer:index", num);
		annotate(s, an, "drydock:layer:diff-id",
			 dd_digest_is_set(&pk->diff_id) ? pk->diff_id.s : l ? l->diff_id.s : NULL);
	}
	set_annotations(c, p, an);
	dd_buf_release(&id);
	dd_buf_release(&sup);
	dd_buf_release(&lic);
	dd_buf_release(&src);
	return p;
}

static void relate(dd_jctx *c, json_t *arr, const char *a, const char *type, const char *b)
{
	json_t *r = dd_jobj(c);
	dd_jset(c, r, "spdxElementId", dd_jstr(c, a));
	dd_jset(c, r, "relationshipType", dd_jstr(c, type));
	dd_jset(c, r, "relatedSpdxElement", dd_jstr(c, b));
	dd_jpush(c, arr, r);
}

static json_t *extracted(struct spdx *s)
{
	dd_jctx *c = &s->c;
	json_t *arr = dd_jarr(c);
	for (size_t i = 0; i < s->lic.n; i++) {
		json_t *o = dd_jobj(c);
		dd_jset(c, o, "licenseId", dd_jstr(c, s->lic.v[i].id));
		dd_jset(c, o, "extractedText", dd_jstr(c, s->lic.v[i].text));
		dd_jset(c, o, "name", dd_jstr(c, s->lic.v[i].text));
		dd_jpush(c, arr, o);
	}
	return arr;
}

static json_t *creation_info(struct spdx *s)
{
	dd_jctx *c = &s->c;
	json_t *ci = dd_jobj(c), *cr = dd_jarr(c);
	dd_jset_str(c, ci, "created", s->ts);
	dd_jpush(c, cr, dd_jstr(c, s->annotator));
	dd_jset(c, ci, "creators", cr);
	dd_jset_str(c, ci, "licenseListVersion", dd_spdx_license_list_version);
	return ci;
}

int dd_report_spdx(FILE *out, const dd_inventory *inv, dd_error *err)
{
	struct spdx s;
	dd_sbom_refs refs;
	dd_buf ns = DD_BUF_INIT, id = DD_BUF_INIT;
	json_t *root = NULL, *pkgs, *rels;
	const dd_os *os = dd_inventory_os(inv);
	int os_known = !dd_inventory_os_unknown(inv), fixed, rc;
	const char *parent;
	char uuid[37];
	time_t t;

	memset(&s, 0, sizeof(s));
	memset(&refs, 0, sizeof(refs));
	dd_jctx_init(&s.c);
	s.inv = inv;
	snprintf(s.annotator, sizeof(s.annotator), "Tool: drydock-%s", DD_VERSION);
	if ((rc = dd_sbom_time(&t, &fixed, err)) ||
	    (rc = dd_sbom_uuid(uuid, "spdx-json", inv, fixed, t, err)) ||
	    (rc = dd_sbom_refs_build(&refs, inv, err)) ||
	    (rc = licrefs_build(&s.lic, inv, err)))
		goto done;
	dd_sbom_rfc3339(s.ts, sizeof(s.ts), t);
	dd_buf_printf(&ns, NAMESPACE_BASE "%s", uuid);

	root = dd_jobj(&s.c);
	dd_jset_str(&s.c, root, "spdxVersion", "SPDX-2.3");
	dd_jset_str(&s.c, root, "dataLicense", "CC0-1.0");
	dd_jset_str(&s.c, root, "SPDXID", "SPDXRef-DOCUMENT");
	dd_jset(&s.c, root, "name", dd_jstr(&s.c, dd_inventory_ref(inv)));
	dd_jset(&s.c, root, "documentNamespace", dd_jstr(&s.c, dd_buf_cstr(&ns)));
	dd_jset(&s.c, root, "creationInfo", creation_info(&s));

	pkgs = dd_jarr(&s.c);
	rels = dd_jarr(&s.c);
	dd_jpush(&s.c, pkgs, image_package(&s));
	relate(&s.c, rels, "SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image");
	parent = "SPDXRef-Image";
	if (os_known) {
		dd_jpush(&s.c, pkgs, os_package(&s, os));
		relate(&s.c, rels, "SPDXRef-Image", "CONTAINS", "SPDXRef-OperatingSystem");
		parent = "SPDXRef-OperatingSystem";
	}
	for (size_t i = 0; i < refs.n && !s.c.failed; i++) {
		if (!refs.purls[i]) {
			dd_warn("%s: package %zu has no name; left out of the SPDX SBOM",
				dd_inventory_ref(inv), i + 1);
			continue;
		}
		dd_jpush(&s.c, pkgs, package(&s, dd_inventory_package(inv, i), i, refs.purls[i]));
		dd_buf_reset(&id);
		dd_buf_printf(&id, "SPDXRef-Package-%zu", i + 1);
		relate(&s.c, rels, parent, "CONTAINS", dd_buf_cstr(&id));
	}
	dd_jset(&s.c, root, "packages", pkgs);
	if (s.lic.n)
		dd_jset(&s.c, root, "hasExtractedLicensingInfos", extracted(&s));
	dd_jset(&s.c, root, "relationships", rels);
	if (s.c.failed || ns.failed || id.failed) {
		rc = dd_error_set(err, DD_EENV, "out of memory building the SPDX SBOM of %s",
				  dd_inventory_ref(inv));
		goto done;
	}
	rc = dd_jdump(out, root, "the SPDX SBOM", err);
done:
	json_decref(root);
	licrefs_release(&s.lic);
	dd_sbom_refs_release(&refs);
	dd_buf_release(&ns);
	dd_buf_release(&id);
	dd_jctx_release(&s.c);
	return rc;
}
