/* Unit tests for src/report: CycloneDX 1.6 and SPDX 2.3 writers, license
 * expressions, document identifiers and determinism.
 *
 * With DD_SBOM_WRITE_DIR set, the program also writes the documents of its
 * test inventories there (debian.cdx.json, debian.spdx.json, unknown-os.*,
 * rpm.*) for tests/integration/60-sbom-schema.sh to validate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/inventory.h"
#include "report/cyclonedx.h"
#include "report/sbom.h"
#include "report/spdx.h"
#include "util/buf.h"
#include "util/error.h"

#define MANIFEST "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define CONFIG "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define DIFF0 "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DIFF1 "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static char *S(const char *s)
{
	char *d = dd_strdup(s);
	assert_non_null(d);
	return d;
}

static dd_package *add(dd_inventory *inv, enum dd_pkg_type t, const char *name,
		       const char *version, const char *arch, int layer)
{
	dd_package *p = dd_pkglist_add(&inv->pkgs);
	assert_non_null(p);
	p->type = t;
	p->name = name ? S(name) : NULL;
	p->version = S(version);
	p->arch = S(arch);
	p->layer = layer;
	if (layer >= 0)
		memcpy(p->diff_id.s, layer ? DIFF1 : DIFF0, sizeof(DIFF0));
	return p;
}

static void image(dd_inventory *inv, const char *ref, int digests)
{
	inv->image.ref = S(ref);
	inv->image.transport = DD_TRANSPORT_DOCKER_ARCHIVE;
	if (digests) {
		memcpy(inv->image.manifest_digest.s, MANIFEST, sizeof(MANIFEST));
		memcpy(inv->image.config_digest.s, CONFIG, sizeof(CONFIG));
	}
	memcpy(inv->image.platform.os, "linux", 6);
	memcpy(inv->image.platform.arch, "amd64", 6);
	inv->image.layers = dd_calloc(2, sizeof(dd_inv_layer));
	assert_non_null(inv->image.layers);
	inv->image.nlayers = 2;
	memcpy(inv->image.layers[0].diff_id.s, DIFF0, sizeof(DIFF0));
	memcpy(inv->image.layers[1].diff_id.s, DIFF1, sizeof(DIFF1));
}

/* A Debian 12 image with the awkward cases: '+' in names, an epoch, a
 * free-text and an expression license, two packages with the same purl,
 * invalid UTF-8, a package without a name, repeated warnings. */
static dd_inventory *debian_inventory(void)
{
	dd_inventory *inv = NULL;
	dd_error e = DD_ERROR_INIT;
	dd_package *p;

	assert_int_equal(dd_inventory_new(&inv, &e), 0);
	image(inv, "docker-archive:/images/debian.tar", 1);
	inv->os.id = S("debian");
	inv->os.version_id = S("12");
	inv->os.codename = S("bookworm");
	inv->os.name = S("Debian GNU/Linux 12 (bookworm)");
	inv->os.source = S("etc/os-release");

	p = add(inv, DD_PKG_DEB, "openssl", "3.0.11-1~deb12u2", "amd64", 0);
	p->maintainer = S("Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>");
	p->db_path = S("var/lib/dpkg/status");
	p->size = 2300 * 1024;
	p = add(inv, DD_PKG_DEB, "libstdc++6", "12.2.0-14", "amd64", 1);
	p->source_name = S("gcc-12");
	p->license = S("GPL-3.0-or-later WITH GCC-exception-3.1");
	p = add(inv, DD_PKG_DEB, "login", "1:4.13+dfsg1-1+b1", "amd64", 0);
	p->source_name = S("shadow");
	p->source_version = S("1:4.13+dfsg1-1");
	p->license = S("GPL2+ BSD");
	p = add(inv, DD_PKG_DEB, "tzdata", "2024a-0+deb12u1", "all", 0);
	p->license = S("mit");
	p = add(inv, DD_PKG_DEB, "tzdata", "2024a-0+deb12u1", "all", 1); /* same purl */
	p->license = S("GPL2 BSD"); /* its LicenseRef clashes with that of "GPL2/BSD" */
	p = add(inv, DD_PKG_DEB, "weird", "1.0", "amd64", -1);
	p->description = S("caf\xc3\xa9 \xff\xfe broken \xe2\x82");
	p->license = S("GPL2/BSD");
	p->status = S("half-configured");
	add(inv, DD_PKG_DEB, NULL, "0", "amd64", 0); /* no name */
	dd_inventory_warn(inv, "skipped malformed dpkg stanza at line %d", 7);
	dd_inventory_warn(inv, "skipped malformed dpkg stanza at line %d", 7);
	return inv;
}

static dd_inventory *unknown_os_inventory(void)
{
	dd_inventory *inv = NULL;
	dd_error e = DD_ERROR_INIT;
	assert_int_equal(dd_inventory_new(&inv, &e), 0);
	image(inv, "rootfs:/srv/root", 0);
	inv->image.transport = DD_TRANSPORT_ROOTFS;
	add(inv, DD_PKG_APK, "musl", "1.1.22-r3", "x86_64", 0)->license = S("MIT");
	return inv;
}

static dd_inventory *rpm_inventory(void)
{
	dd_inventory *inv = NULL;
	dd_error e = DD_ERROR_INIT;
	dd_package *p;
	assert_int_equal(dd_inventory_new(&inv, &e), 0);
	image(inv, "oci:/layouts/ubi:9", 1);
	inv->image.transport = DD_TRANSPORT_OCI;
	inv->os.id = S("rhel");
	inv->os.version_id = S("9.2");
	p = add(inv, DD_PKG_RPM, "openssl-libs", "1:3.0.7-1.el9", "x86_64", 0);
	p->has_epoch = 1;
	p->epoch = 1;
	p->rpm_version = S("3.0.7");
	p->rpm_release = S("1.el9");
	p->sourcerpm = S("openssl-3.0.7-1.el9.src.rpm");
	p->source_name = S("openssl");
	p->source_version = S("3.0.7-1.el9");
	p->vendor = S("Red Hat, Inc.");
	p->license = S("ASL 2.0");
	p->modularitylabel = S("");
	return inv;
}

/* Run a writer into memory; returns the text (caller frees). */
static char *run(int (*w)(FILE *, const dd_inventory *, dd_error *), const dd_inventory *inv,
		 int want)
{
	char *buf = NULL;
	size_t len = 0;
	dd_error e = DD_ERROR_INIT;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	int rc = w(f, inv, &e);
	fclose(f);
	if (rc != want)
		fail_msg("writer returned %d (%s), wanted %d", rc, e.msg, want);
	return buf;
}

static json_t *parse(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	if (!j)
		fail_msg("output is not JSON: %s at line %d", je.text, je.line);
	return j;
}

static const char *jget(json_t *j, const char *path)
{
	/* "a.b.0.c": objects by key, arrays by index */
	char buf[256], *save = NULL;
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *t = strtok_r(buf, ".", &save); t && j; t = strtok_r(NULL, ".", &save))
		j = json_is_array(j) ? json_array_get(j, (size_t)atoi(t)) : json_object_get(j, t);
	return json_is_string(j) ? json_string_value(j) : NULL;
}

/* The value of property `name` in a CycloneDX properties array. */
static const char *cdx_prop(json_t *comp, const char *name)
{
	json_t *props = json_object_get(comp, "properties"), *p;
	size_t i;
	json_array_foreach(props, i, p)
		if (strcmp(json_string_value(json_object_get(p, "name")), name) == 0)
			return json_string_value(json_object_get(p, "value"));
	return NULL;
}

static json_t *find_by(json_t *arr, const char *key, const char *value)
{
	json_t *c;
	size_t i;
	json_array_foreach(arr, i, c) {
		const char *v = json_string_value(json_object_get(c, key));
		if (v && strcmp(v, value) == 0)
			return c;
	}
	return NULL;
}

static int matches(const char *re, const char *s)
{
	regex_t r;
	assert_int_equal(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
	int m = s && regexec(&r, s, 0, NULL, 0) == 0;
	regfree(&r);
	return m;
}

static void test_license_classify(void **state)
{
	(void)state;
	static const struct { const char *in; enum dd_license_kind k; const char *out; } v[] = {
		{ NULL, DD_LICENSE_NONE, "" },
		{ "  ", DD_LICENSE_NONE, "" },
		{ "MIT", DD_LICENSE_ID, "MIT" },
		{ "mit", DD_LICENSE_ID, "MIT" },
		{ "gpl-2.0+", DD_LICENSE_ID, "GPL-2.0+" },
		{ "GPL-2.0-or-later+", DD_LICENSE_EXPR, "GPL-2.0-or-later+" },
		{ "(MIT)", DD_LICENSE_EXPR, "(MIT)" },
		{ "MIT or  Apache-2.0", DD_LICENSE_EXPR, "MIT OR Apache-2.0" },
		{ "(mit OR bsd-3-clause) and Zlib", DD_LICENSE_EXPR, "(MIT OR BSD-3-Clause) AND Zlib" },
		{ "GPL-2.0-only WITH Classpath-exception-2.0", DD_LICENSE_EXPR,
		  "GPL-2.0-only WITH Classpath-exception-2.0" },
		{ "MIT BSD GPL2+", DD_LICENSE_TEXT, "" },
		{ "GPL2+", DD_LICENSE_TEXT, "" },
		{ "GPLv2+", DD_LICENSE_TEXT, "" },
		{ "ASL 2.0", DD_LICENSE_TEXT, "" },
		{ "MIT AND", DD_LICENSE_TEXT, "" },
		{ "AND MIT", DD_LICENSE_TEXT, "" },
		{ "(MIT", DD_LICENSE_TEXT, "" },
		{ "MIT)", DD_LICENSE_TEXT, "" },
		{ "MIT WITH", DD_LICENSE_TEXT, "" },
		{ "MIT WITH Nonexistent-exception", DD_LICENSE_TEXT, "" },
		{ "LicenseRef-foo", DD_LICENSE_TEXT, "" },
		{ "MIT/X11", DD_LICENSE_TEXT, "" },
		{ "((((((((((((((((((MIT))))))))))))))))))", DD_LICENSE_TEXT, "" },
		{ "((((((((MIT))))))))", DD_LICENSE_EXPR, "((((((((MIT))))))))" },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		dd_buf b = DD_BUF_INIT;
		enum dd_license_kind k = dd_license_classify(v[i].in, &b);
		if (k != v[i].k || strcmp(dd_buf_cstr(&b), v[i].out) != 0)
			fail_msg("'%s': kind %d '%s', wanted %d '%s'", v[i].in ? v[i].in : "(null)",
				 k, dd_buf_cstr(&b), v[i].k, v[i].out);
		dd_buf_release(&b);
	}
	assert_string_equal(dd_spdx_license_lookup("apache-2.0", 10), "Apache-2.0");
	assert_null(dd_spdx_license_lookup("Apache-2.0x", 11));
	assert_null(dd_spdx_license_lookup("", 0));
}

static void test_time_and_uuid(void **state)
{
	(void)state;
	dd_error e = DD_ERROR_INIT;
	time_t t;
	int fixed;
	char ts[32], u1[37], u2[37], u3[37];
	dd_inventory *inv = debian_inventory();

	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	assert_int_equal(dd_sbom_time(&t, &fixed, &e), 0);
	assert_int_equal(fixed, 1);
	dd_sbom_rfc3339(ts, sizeof(ts), t);
	assert_string_equal(ts, "2023-11-14T22:13:20Z");
	assert_int_equal(dd_sbom_uuid(u1, "x", inv, 1, t, &e), 0);
	assert_int_equal(dd_sbom_uuid(u2, "x", inv, 1, t, &e), 0);
	assert_string_equal(u1, u2);
	assert_true(matches("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", u1));
	assert_int_equal(dd_sbom_uuid(u3, "x", inv, 1, t + 1, &e), 0);
	assert_string_not_equal(u1, u3);
	assert_int_equal(dd_sbom_uuid(u3, "y", inv, 1, t, &e), 0);
	assert_string_not_equal(u1, u3);
	assert_int_equal(dd_sbom_uuid(u1, "x", inv, 0, t, &e), 0);
	assert_int_equal(dd_sbom_uuid(u2, "x", inv, 0, t, &e), 0);
	assert_string_not_equal(u1, u2);
	assert_true(matches("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", u2));

	const char *bad[] = { "", "-1", "12x", "1e9", "253402300800", "99999999999999", " 1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("SOURCE_DATE_EPOCH", bad[i], 1);
		assert_int_equal(dd_sbom_time(&t, &fixed, &e), DD_EUSAGE);
		assert_non_null(strstr(e.msg, "SOURCE_DATE_EPOCH"));
	}
	setenv("SOURCE_DATE_EPOCH", "0", 1);
	assert_int_equal(dd_sbom_time(&t, &fixed, &e), 0);
	dd_sbom_rfc3339(ts, sizeof(ts), t);
	assert_string_equal(ts, "1970-01-01T00:00:00Z");
	unsetenv("SOURCE_DATE_EPOCH");
	assert_int_equal(dd_sbom_time(&t, &fixed, &e), 0);
	assert_int_equal(fixed, 0);
	dd_inventory_free(inv);
}

static void test_cyclonedx(void **state)
{
	(void)state;
	dd_inventory *inv = debian_inventory();
	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	char *text = run(dd_report_cyclonedx, inv, 0);
	json_t *j = parse(text), *comps, *c, *deps;

	assert_string_equal(jget(j, "bomFormat"), "CycloneDX");
	assert_string_equal(jget(j, "specVersion"), "1.6");
	assert_int_equal(json_integer_value(json_object_get(j, "version")), 1);
	assert_true(matches("^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
			    jget(j, "serialNumber")));
	assert_string_equal(jget(j, "metadata.timestamp"), "2023-11-14T22:13:20Z");
	assert_string_equal(jget(j, "metadata.tools.components.0.name"), "drydock");
	assert_string_equal(jget(j, "metadata.tools.components.0.version"), DD_VERSION);
	assert_string_equal(jget(j, "metadata.component.type"), "container");
	assert_string_equal(jget(j, "metadata.component.name"), "docker-archive:/images/debian.tar");
	assert_string_equal(jget(j, "metadata.component.version"), MANIFEST);
	json_t *img = json_object_get(json_object_get(j, "metadata"), "component");
	assert_string_equal(cdx_prop(img, "drydock:image:config-digest"), CONFIG);
	assert_string_equal(cdx_prop(img, "drydock:image:platform"), "linux/amd64");
	assert_string_equal(cdx_prop(img, "drydock:image:layer:1:diff-id"), DIFF1);
	assert_string_equal(cdx_prop(img, "drydock:image:transport"), "docker-archive");
	/* the warning, once */
	assert_int_equal(json_array_size(json_object_get(json_object_get(j, "metadata"), "properties")), 1);

	comps = json_object_get(j, "components");
	assert_int_equal(json_array_size(comps), 1 + 6); /* OS + named packages */
	assert_string_equal(jget(comps, "0.type"), "operating-system");
	assert_string_equal(jget(comps, "0.name"), "debian");
	assert_string_equal(jget(comps, "0.version"), "12");
	assert_string_equal(jget(comps, "0.bom-ref"), "os:debian@12");

	c = find_by(comps, "name", "openssl");
	assert_non_null(c);
	assert_string_equal(jget(c, "type"), "library");
	assert_string_equal(jget(c, "purl"),
			    "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12");
	assert_string_equal(jget(c, "bom-ref"), jget(c, "purl"));
	assert_string_equal(jget(c, "publisher"),
			    "Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>");
	assert_null(json_object_get(c, "licenses"));
	assert_string_equal(cdx_prop(c, "drydock:package:type"), "deb");
	assert_string_equal(cdx_prop(c, "drydock:package:source-name"), "openssl");
	assert_string_equal(cdx_prop(c, "drydock:package:source-version"), "3.0.11-1~deb12u2");
	assert_string_equal(cdx_prop(c, "drydock:layer:index"), "0");
	assert_string_equal(cdx_prop(c, "drydock:layer:diff-id"), DIFF0);
	assert_string_equal(cdx_prop(c, "drydock:package:db-path"), "var/lib/dpkg/status");
	assert_string_equal(cdx_prop(c, "drydock:package:installed-size"), "2355200");

	c = find_by(comps, "name", "libstdc++6");
	assert_string_equal(jget(c, "purl"), "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14"
					     "?arch=amd64&distro=debian-12&upstream=gcc-12");
	assert_string_equal(jget(c, "licenses.0.expression"), "GPL-3.0-or-later WITH GCC-exception-3.1");
	assert_string_equal(cdx_prop(c, "drydock:package:source-name"), "gcc-12");
	assert_string_equal(cdx_prop(c, "drydock:layer:index"), "1");
	c = find_by(comps, "name", "login");
	assert_string_equal(jget(c, "version"), "1:4.13+dfsg1-1+b1");
	assert_string_equal(jget(c, "licenses.0.license.name"), "GPL2+ BSD");
	/* duplicate purls get distinct bom-refs */
	c = find_by(comps, "bom-ref", "pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all&distro=debian-12");
	assert_non_null(c);
	assert_string_equal(jget(c, "licenses.0.license.id"), "MIT");
	c = find_by(comps, "bom-ref", "pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all&distro=debian-12#2");
	assert_non_null(c);
	assert_string_equal(jget(c, "purl"), "pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all&distro=debian-12");
	/* invalid UTF-8 replaced; unknown layer: no layer properties */
	c = find_by(comps, "name", "weird");
	assert_string_equal(jget(c, "description"), "caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd broken \xef\xbf\xbd\xef\xbf\xbd");
	assert_null(cdx_prop(c, "drydock:layer:index"));
	assert_string_equal(cdx_prop(c, "drydock:package:status"), "half-configured");

	/* dependencies: image -> OS -> 6 packages */
	deps = json_object_get(j, "dependencies");
	assert_int_equal(json_array_size(deps), 2);
	assert_string_equal(jget(deps, "0.ref"), "image:" MANIFEST);
	assert_string_equal(jget(deps, "0.dependsOn.0"), "os:debian@12");
	assert_string_equal(jget(deps, "1.ref"), "os:debian@12");
	assert_int_equal(json_array_size(json_object_get(json_array_get(deps, 1), "dependsOn")), 6);
	assert_string_equal(jget(j, "metadata.component.bom-ref"), "image:" MANIFEST);

	json_decref(j);
	free(text);
	unsetenv("SOURCE_DATE_EPOCH");
	dd_inventory_free(inv);
}

static void test_spdx(void **state)
{
	(void)state;
	dd_inventory *inv = debian_inventory();
	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	char *text = run(dd_report_spdx, inv, 0);
	json_t *j = parse(text), *pkgs, *p, *rels, *x;
	size_t i;

	assert_string_equal(jget(j, "spdxVersion"), "SPDX-2.3");
	assert_string_equal(jget(j, "dataLicense"), "CC0-1.0");
	assert_string_equal(jget(j, "SPDXID"), "SPDXRef-DOCUMENT");
	assert_string_equal(jget(j, "name"), "docker-archive:/images/debian.tar");
	assert_true(matches("^https://drydock\\.invalid/spdxdocs/[0-9a-f-]{36}$", jget(j, "documentNamespace")));
	assert_string_equal(jget(j, "creationInfo.created"), "2023-11-14T22:13:20Z");
	assert_string_equal(jget(j, "creationInfo.creators.0"), "Tool: drydock-" DD_VERSION);
	assert_string_equal(jget(j, "creationInfo.licenseListVersion"), "3.24");

	pkgs = json_object_get(j, "packages");
	assert_int_equal(json_array_size(pkgs), 2 + 6);
	assert_string_equal(jget(pkgs, "0.SPDXID"), "SPDXRef-Image");
	assert_string_equal(jget(pkgs, "0.primaryPackagePurpose"), "CONTAINER");
	assert_string_equal(jget(pkgs, "0.versionInfo"), MANIFEST);
	x = json_object_get(json_array_get(pkgs, 0), "annotations");
	assert_non_null(find_by(x, "comment", "drydock:image:config-digest=" CONFIG));
	assert_non_null(find_by(x, "comment", "drydock:image:layer:0:diff-id=" DIFF0));
	assert_non_null(find_by(x, "comment", "drydock:image:platform=linux/amd64"));
	size_t nw = 0;
	json_array_foreach(x, i, p)
		nw += strncmp(jget(p, "comment"), "drydock:warning=", 16) == 0;
	assert_int_equal(nw, 1);
	assert_string_equal(jget(pkgs, "1.SPDXID"), "SPDXRef-OperatingSystem");
	assert_string_equal(jget(pkgs, "1.primaryPackagePurpose"), "OPERATING_SYSTEM");
	json_array_foreach(pkgs, i, p) {
		assert_true(matches("^SPDXRef-[A-Za-z0-9.-]+$", jget(p, "SPDXID")));
		assert_string_equal(jget(p, "downloadLocation"), "NOASSERTION");
		assert_true(json_is_false(json_object_get(p, "filesAnalyzed")));
	}
	p = find_by(pkgs, "name", "openssl");
	assert_string_equal(jget(p, "SPDXID"), "SPDXRef-Package-1");
	assert_string_equal(jget(p, "versionInfo"), "3.0.11-1~deb12u2");
	assert_string_equal(jget(p, "supplier"),
			    "Organization: Debian OpenSSL Team (pkg-openssl-devel@alioth-lists.debian.net)");
	assert_string_equal(jget(p, "licenseDeclared"), "NOASSERTION");
	assert_string_equal(jget(p, "externalRefs.0.referenceCategory"), "PACKAGE-MANAGER");
	assert_string_equal(jget(p, "externalRefs.0.referenceType"), "purl");
	assert_string_equal(jget(p, "externalRefs.0.referenceLocator"),
			    "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12");
	assert_string_equal(jget(p, "sourceInfo"), "built package from: openssl 3.0.11-1~deb12u2");
	assert_non_null(find_by(json_object_get(p, "annotations"), "comment", "drydock:layer:diff-id=" DIFF0));
	assert_non_null(find_by(json_object_get(p, "annotations"), "comment", "drydock:layer:index=0"));
	assert_string_equal(jget(p, "annotations.0.annotationDate"), "2023-11-14T22:13:20Z");
	p = find_by(pkgs, "name", "libstdc++6");
	assert_string_equal(jget(p, "licenseDeclared"), "GPL-3.0-or-later WITH GCC-exception-3.1");
	assert_string_equal(jget(p, "supplier"), "NOASSERTION");
	assert_string_equal(jget(p, "sourceInfo"), "built package from: gcc-12 12.2.0-14");
	p = find_by(pkgs, "name", "login");
	assert_string_equal(jget(p, "licenseDeclared"), "LicenseRef-GPL2plus-BSD");
	p = find_by(pkgs, "name", "weird");
	assert_string_equal(jget(p, "licenseDeclared"), "LicenseRef-GPL2-BSD-2");
	/* every LicenseRef used is defined, once, with its text */
	x = json_object_get(j, "hasExtractedLicensingInfos");
	assert_int_equal(json_array_size(x), 3);
	assert_string_equal(jget(find_by(x, "licenseId", "LicenseRef-GPL2-BSD"), "extractedText"), "GPL2 BSD");
	assert_string_equal(jget(find_by(x, "licenseId", "LicenseRef-GPL2-BSD-2"), "extractedText"), "GPL2/BSD");
	assert_string_equal(jget(find_by(x, "licenseId", "LicenseRef-GPL2plus-BSD"), "extractedText"), "GPL2+ BSD");
	json_array_foreach(pkgs, i, p) {
		const char *d = jget(p, "licenseDeclared");
		if (strncmp(d, "LicenseRef-", 11) == 0)
			assert_non_null(find_by(x, "licenseId", d));
	}

	rels = json_object_get(j, "relationships");
	assert_int_equal(json_array_size(rels), 2 + 6);
	assert_string_equal(jget(rels, "0.spdxElementId"), "SPDXRef-DOCUMENT");
	assert_string_equal(jget(rels, "0.relationshipType"), "DESCRIBES");
	assert_string_equal(jget(rels, "0.relatedSpdxElement"), "SPDXRef-Image");
	assert_string_equal(jget(rels, "1.relatedSpdxElement"), "SPDXRef-OperatingSystem");
	assert_string_equal(jget(rels, "2.spdxElementId"), "SPDXRef-OperatingSystem");
	assert_string_equal(jget(rels, "2.relationshipType"), "CONTAINS");
	assert_string_equal(jget(rels, "2.relatedSpdxElement"), "SPDXRef-Package-1");
	/* every related element exists */
	json_array_foreach(rels, i, p)
		if (strcmp(jget(p, "relatedSpdxElement"), "SPDXRef-DOCUMENT") != 0)
			assert_non_null(find_by(pkgs, "SPDXID", jget(p, "relatedSpdxElement")));

	json_decref(j);
	free(text);
	unsetenv("SOURCE_DATE_EPOCH");
	dd_inventory_free(inv);
}

static void test_unknown_os(void **state)
{
	(void)state;
	dd_inventory *inv = unknown_os_inventory();
	char *cdx = run(dd_report_cyclonedx, inv, 0), *spdx = run(dd_report_spdx, inv, 0);
	json_t *c = parse(cdx), *s = parse(spdx);

	assert_int_equal(json_array_size(json_object_get(c, "components")), 1);
	assert_string_equal(jget(c, "components.0.purl"), "pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64");
	assert_string_equal(jget(c, "dependencies.0.ref"), "image:rootfs:/srv/root");
	assert_string_equal(jget(c, "dependencies.0.dependsOn.0"), jget(c, "components.0.bom-ref"));
	assert_null(jget(c, "metadata.component.version"));
	assert_string_equal(cdx_prop(json_object_get(json_object_get(c, "metadata"), "component"),
				     "drydock:image:transport"), "rootfs");
	assert_int_equal(json_array_size(json_object_get(s, "packages")), 2);
	assert_string_equal(jget(s, "relationships.1.spdxElementId"), "SPDXRef-Image");
	assert_string_equal(jget(s, "relationships.1.relatedSpdxElement"), "SPDXRef-Package-1");
	assert_string_equal(jget(s, "packages.1.licenseDeclared"), "MIT");
	assert_null(json_object_get(s, "hasExtractedLicensingInfos"));
	json_decref(c);
	json_decref(s);
	free(cdx);
	free(spdx);
	dd_inventory_free(inv);

	/* an empty inventory is still a valid document */
	dd_error e = DD_ERROR_INIT;
	assert_int_equal(dd_inventory_new(&inv, &e), 0);
	cdx = run(dd_report_cyclonedx, inv, 0);
	spdx = run(dd_report_spdx, inv, 0);
	c = parse(cdx);
	s = parse(spdx);
	assert_int_equal(json_array_size(json_object_get(c, "components")), 0);
	assert_string_equal(jget(c, "metadata.component.name"), "");
	assert_int_equal(json_array_size(json_object_get(s, "relationships")), 1);
	json_decref(c);
	json_decref(s);
	free(cdx);
	free(spdx);
	dd_inventory_free(inv);
}

static void test_rpm(void **state)
{
	(void)state;
	dd_inventory *inv = rpm_inventory();
	char *cdx = run(dd_report_cyclonedx, inv, 0), *spdx = run(dd_report_spdx, inv, 0);
	json_t *c = parse(cdx), *s = parse(spdx), *p;

	p = json_array_get(json_object_get(c, "components"), 1);
	assert_string_equal(jget(p, "purl"), "pkg:rpm/redhat/openssl-libs@3.0.7-1.el9"
					     "?arch=x86_64&distro=rhel-9.2&epoch=1&upstream=openssl");
	assert_string_equal(jget(p, "supplier.name"), "Red Hat, Inc.");
	assert_string_equal(jget(p, "version"), "1:3.0.7-1.el9");
	assert_string_equal(cdx_prop(p, "drydock:package:epoch"), "1");
	assert_string_equal(cdx_prop(p, "drydock:package:sourcerpm"), "openssl-3.0.7-1.el9.src.rpm");
	assert_null(cdx_prop(p, "drydock:package:modularitylabel")); /* empty: left out */
	assert_string_equal(jget(p, "licenses.0.license.name"), "ASL 2.0");
	p = json_array_get(json_object_get(s, "packages"), 2);
	assert_string_equal(jget(p, "supplier"), "Organization: Red Hat, Inc.");
	assert_string_equal(jget(p, "licenseDeclared"), "LicenseRef-ASL-2.0");
	assert_string_equal(jget(p, "sourceInfo"), "built package from: openssl 3.0.7-1.el9");
	json_decref(c);
	json_decref(s);
	free(cdx);
	free(spdx);
	dd_inventory_free(inv);
}

/* Drop the fields that may differ between runs without SOURCE_DATE_EPOCH. */
static char *normalise(const char *text)
{
	json_t *j = parse(text), *p;
	size_t i, k;
	json_object_del(j, "serialNumber");
	json_object_del(json_object_get(j, "metadata"), "timestamp");
	json_object_del(j, "documentNamespace");
	json_object_del(json_object_get(j, "creationInfo"), "created");
	json_array_foreach(json_object_get(j, "packages"), i, p) {
		json_t *a;
		json_array_foreach(json_object_get(p, "annotations"), k, a)
			json_object_del(a, "annotationDate");
	}
	char *s = json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(j);
	return s;
}

static void test_deterministic(void **state)
{
	(void)state;
	int (*writers[])(FILE *, const dd_inventory *, dd_error *) = { dd_report_cyclonedx, dd_report_spdx };
	dd_inventory *a = debian_inventory(), *b = debian_inventory();

	for (int w = 0; w < 2; w++) {
		/* fixed by SOURCE_DATE_EPOCH: byte-identical, from two separately built inventories */
		setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
		char *x = run(writers[w], a, 0), *y = run(writers[w], b, 0);
		assert_string_equal(x, y);
		setenv("SOURCE_DATE_EPOCH", "1700000001", 1);
		char *z = run(writers[w], a, 0);
		assert_string_not_equal(x, z);
		/* without it: identical apart from the time and the identifiers */
		unsetenv("SOURCE_DATE_EPOCH");
		char *u = run(writers[w], a, 0), *v = run(writers[w], a, 0);
		assert_string_not_equal(u, v); /* random serial / namespace */
		char *nx = normalise(x), *nu = normalise(u), *nv = normalise(v);
		assert_string_equal(nu, nv);
		assert_string_equal(nx, nu);
		free(nx);
		free(nu);
		free(nv);
		free(x);
		free(y);
		free(z);
		free(u);
		free(v);
	}
	dd_inventory_free(a);
	dd_inventory_free(b);
}

static void test_errors(void **state)
{
	(void)state;
	dd_inventory *inv = debian_inventory();
	dd_error e = DD_ERROR_INIT;

	setenv("SOURCE_DATE_EPOCH", "yesterday", 1);
	free(run(dd_report_cyclonedx, inv, DD_EUSAGE));
	free(run(dd_report_spdx, inv, DD_EUSAGE));
	unsetenv("SOURCE_DATE_EPOCH");
	FILE *full = fopen("/dev/full", "w");
	if (full) {
		assert_int_equal(dd_report_cyclonedx(full, inv, &e), DD_EENV);
		assert_non_null(strstr(e.msg, "CycloneDX"));
		clearerr(full);
		assert_int_equal(dd_report_spdx(full, inv, &e), DD_EENV);
		assert_non_null(strstr(e.msg, "SPDX"));
		fclose(full);
	}
	dd_inventory_free(inv);
}

/* Write the test documents for the schema validation test. */
static int write_fixtures(const char *dir)
{
	static const struct { const char *name; dd_inventory *(*make)(void); } inv[] = {
		{ "debian", debian_inventory }, { "unknown-os", unknown_os_inventory },
		{ "rpm", rpm_inventory },
	};
	for (size_t i = 0; i < sizeof(inv) / sizeof(inv[0]); i++) {
		dd_inventory *v = inv[i].make();
		for (int w = 0; w < 2; w++) {
			char path[4096];
			dd_error e = DD_ERROR_INIT;
			snprintf(path, sizeof(path), "%s/%s.%s.json", dir, inv[i].name, w ? "spdx" : "cdx");
			FILE *f = fopen(path, "w");
			if (!f)
				return 1;
			int rc = w ? dd_report_spdx(f, v, &e) : dd_report_cyclonedx(f, v, &e);
			if (fclose(f) || rc) {
				fprintf(stderr, "%s: %s\n", path, e.msg);
				return 1;
			}
		}
		dd_inventory_free(v);
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_license_classify),
		cmocka_unit_test(test_time_and_uuid),
		cmocka_unit_test(test_cyclonedx),
		cmocka_unit_test(test_spdx),
		cmocka_unit_test(test_unknown_os),
		cmocka_unit_test(test_rpm),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_errors),
	};
	const char *dir = getenv("DD_SBOM_WRITE_DIR");
	if (dir && *dir)
		return write_fixtures(dir);
	return cmocka_run_group_tests_name("sbom_writers", tests, NULL, NULL);
}
