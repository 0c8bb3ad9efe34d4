/* Unit tests for src/match: ecosystems, range evaluation, the matcher on a
 * hand-built DB and inventory, the ignore file, VEX, purls, SBOM input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "match/filter.h"
#include "match/invstore.h"
#include "match/match.h"
#include "util/buf.h"
#include "vulndb/store.h"

static const char *eco(const char *id, const char *ver, const char *code, const char *name,
		       enum dd_pkg_type t)
{
	static char buf[64];
	dd_os os = { (char *)id, (char *)ver, (char *)code, NULL, (char *)name, NULL, 0 };
	return dd_match_ecosystem(buf, sizeof(buf), &os, t);
}

static void test_ecosystems(void **state)
{
	(void)state;
	assert_string_equal(eco("alpine", "3.10.4", NULL, NULL, DD_PKG_APK), "Alpine:v3.10");
	assert_string_equal(eco("alpine", "3.9.0", NULL, NULL, DD_PKG_APK), "Alpine:v3.9");
	assert_string_equal(eco("alpine", "3.21.0_alpha20240807", NULL, NULL, DD_PKG_APK),
			    "Alpine:edge");
	assert_null(eco("alpine", "3", NULL, NULL, DD_PKG_APK));
	assert_null(eco("alpine", "3.10.4", NULL, NULL, DD_PKG_DEB));
	assert_string_equal(eco("debian", "12", "bookworm", NULL, DD_PKG_DEB), "Debian:12");
	assert_string_equal(eco("debian", "11.7", NULL, NULL, DD_PKG_DEB), "Debian:11");
	assert_string_equal(eco("debian", NULL, "trixie", NULL, DD_PKG_DEB), "Debian:13");
	assert_string_equal(eco("debian", NULL, NULL, "Debian GNU/Linux trixie/sid", DD_PKG_DEB),
			    "Debian:sid");
	assert_null(eco("debian", NULL, NULL, NULL, DD_PKG_DEB));
	assert_string_equal(eco("ubuntu", "18.04", "bionic", NULL, DD_PKG_DEB), "Ubuntu:18.04:LTS");
	assert_string_equal(eco("ubuntu", "23.10", NULL, NULL, DD_PKG_DEB), "Ubuntu:23.10");
	assert_string_equal(eco("almalinux", "9.3", NULL, NULL, DD_PKG_RPM), "AlmaLinux:9");
	assert_string_equal(eco("rocky", "8.9", NULL, NULL, DD_PKG_RPM), "Rocky Linux:8");
	assert_string_equal(eco("wolfi", "20230201", NULL, NULL, DD_PKG_APK), "Wolfi");
	assert_string_equal(eco("rhel", "9.2", NULL, NULL, DD_PKG_RPM), "Red Hat:9");
	assert_null(eco("centos", "7", NULL, NULL, DD_PKG_RPM));
	assert_null(eco(NULL, NULL, NULL, NULL, DD_PKG_DEB));
	dd_os dl = { NULL, "12", NULL, NULL, NULL, NULL, 1 };
	char b[32];
	assert_string_equal(dd_match_ecosystem(b, sizeof(b), &dl, DD_PKG_DEB), "Debian:12");
}

static void test_severity(void **state)
{
	(void)state;
	enum dd_severity s;
	assert_int_equal(dd_severity_parse("HIGH", &s), 0);
	assert_int_equal(s, DD_SEV_HIGH);
	assert_int_equal(dd_severity_parse("unimportant", &s), 0);
	assert_int_equal(s, DD_SEV_NEGLIGIBLE);
	assert_int_equal(dd_severity_parse("severe", &s), DD_EINPUT);
	assert_int_equal(dd_severity_from_score(9.0), DD_SEV_CRITICAL);
	assert_int_equal(dd_severity_from_score(8.9), DD_SEV_HIGH);
	assert_int_equal(dd_severity_from_score(4.0), DD_SEV_MEDIUM);
	assert_int_equal(dd_severity_from_score(0.1), DD_SEV_LOW);
	assert_int_equal(dd_severity_from_score(0.0), DD_SEV_NEGLIGIBLE);
	assert_string_equal(dd_severity_name(DD_SEV_CRITICAL), "CRITICAL");
}

/* ---- dd_match_entry ---- */

static int entry(enum dd_ecosystem e, const char *v, const char *status, const char *type,
		 const dd_vuln_event *ev, size_t nev, const char *const *vers, size_t nv,
		 const char **fixed)
{
	dd_vuln_range r = { type, NULL, nev, ev };
	dd_vuln_match m;
	memset(&m, 0, sizeof(m));
	m.advisory = "X";
	m.status = status ? status : "affected";
	m.n_ranges = type ? 1 : 0;
	m.ranges = &r;
	m.n_versions = nv;
	m.versions = vers;
	return dd_match_entry(e, v, &m, fixed);
}

static void test_entry_ranges(void **state)
{
	(void)state;
	const char *fx;
	dd_vuln_event simple[] = { { "introduced", "0" }, { "fixed", "1.1.1d-r2" } };
	assert_int_equal(entry(DD_ECO_APK, "1.1.1d-r1", NULL, "ECOSYSTEM", simple, 2, NULL, 0, &fx), 1);
	assert_string_equal(fx, "1.1.1d-r2");
	assert_int_equal(entry(DD_ECO_APK, "1.1.1d-r2", NULL, "ECOSYSTEM", simple, 2, NULL, 0, &fx), 0);
	assert_null(fx);
	/* unsorted events, two windows */
	dd_vuln_event two[] = { { "fixed", "2.0.5" }, { "introduced", "2.0.0" }, { "fixed", "1.4.2" },
				{ "introduced", "1.0.0" } };
	assert_int_equal(entry(DD_ECO_SEMVER, "0.9.0", NULL, "SEMVER", two, 4, NULL, 0, &fx), 0);
	assert_int_equal(entry(DD_ECO_SEMVER, "1.4.1", NULL, "SEMVER", two, 4, NULL, 0, &fx), 1);
	assert_string_equal(fx, "1.4.2");
	assert_int_equal(entry(DD_ECO_SEMVER, "1.9.0", NULL, "SEMVER", two, 4, NULL, 0, &fx), 0);
	assert_int_equal(entry(DD_ECO_SEMVER, "2.0.0", NULL, "SEMVER", two, 4, NULL, 0, &fx), 1);
	assert_string_equal(fx, "2.0.5");
	/* last_affected: inclusive, no fixed version */
	dd_vuln_event la[] = { { "introduced", "1.0" }, { "last_affected", "1:2.0-1" } };
	assert_int_equal(entry(DD_ECO_DEB, "1:2.0-1", NULL, "ECOSYSTEM", la, 2, NULL, 0, &fx), 1);
	assert_null(fx);
	assert_int_equal(entry(DD_ECO_DEB, "1:2.0-2", NULL, "ECOSYSTEM", la, 2, NULL, 0, &fx), 0);
	/* limit */
	dd_vuln_event lim[] = { { "introduced", "0" }, { "limit", "3.0.0" } };
	assert_int_equal(entry(DD_ECO_SEMVER, "2.9.9", NULL, "SEMVER", lim, 2, NULL, 0, &fx), 1);
	assert_int_equal(entry(DD_ECO_SEMVER, "3.0.0", NULL, "SEMVER", lim, 2, NULL, 0, &fx), 0);
	/* introduced 0 only: every version */
	dd_vuln_event all[] = { { "introduced", "0" } };
	assert_int_equal(entry(DD_ECO_RPM, "1:1.0-1.el9", NULL, "ECOSYSTEM", all, 1, NULL, 0, &fx), 1);
	/* rpm epoch: 1.0 without epoch is epoch 0, below 1:0.5 */
	dd_vuln_event ep[] = { { "introduced", "0" }, { "fixed", "1:0.5-1" } };
	assert_int_equal(entry(DD_ECO_RPM, "1.0-1", NULL, "ECOSYSTEM", ep, 2, NULL, 0, &fx), 1);
	assert_int_equal(entry(DD_ECO_RPM, "1:0.5-1", NULL, "ECOSYSTEM", ep, 2, NULL, 0, &fx), 0);
	/* GIT only: cannot be evaluated */
	dd_vuln_event git[] = { { "introduced", "0" }, { "fixed", "abcdef" } };
	assert_int_equal(entry(DD_ECO_SEMVER, "1.0.0", NULL, "GIT", git, 2, NULL, 0, &fx), 0);
	/* no ranges, no versions: every version, with the feed's status */
	assert_int_equal(entry(DD_ECO_DEB, "1.0-1", "will-not-fix", NULL, NULL, 0, NULL, 0, &fx), 1);
	/* not-affected never matches */
	assert_int_equal(entry(DD_ECO_APK, "1.0-r0", "not-affected", NULL, NULL, 0, NULL, 0, &fx), 0);
	/* explicit versions */
	const char *vs[] = { "1.2.3", "1.2.4" };
	assert_int_equal(entry(DD_ECO_SEMVER, "1.2.4", NULL, NULL, NULL, 0, vs, 2, &fx), 1);
	assert_int_equal(entry(DD_ECO_SEMVER, "1.2.5", NULL, NULL, NULL, 0, vs, 2, &fx), 0);
	/* an invalid deb version never meets an event */
	assert_int_equal(entry(DD_ECO_DEB, "!!", NULL, "ECOSYSTEM", simple, 2, NULL, 0, &fx), 0);
}

/* ---- the matcher on a hand-built DB ---- */

static void add_adv(dd_vulndb *db, const char *id, const char *const *aliases, const char *ecosys,
		    const char *pkg, const char *status, const char *fixed, const char *urgency)
{
	dd_error e = DD_ERROR_INIT;
	dd_vuln_advisory_in a = { id, NULL, NULL, NULL, "summary", NULL };
	int64_t adv, aff, rng;
	assert_int_equal(dd_vulndb_record_begin(db, &e), 0);
	assert_int_equal(dd_vulndb_add_advisory(db, &a, DD_VULNDB_ADV_MERGE, &adv, &e), 0);
	for (size_t i = 0; aliases && aliases[i]; i++)
		assert_int_equal(dd_vulndb_add_alias(db, adv, aliases[i], "alias", &e), 0);
	dd_vuln_affected_in in = { ecosys, pkg, NULL, status, urgency, NULL };
	assert_int_equal(dd_vulndb_add_affected(db, adv, &in, &aff, &e), 0);
	if (fixed) {
		assert_int_equal(dd_vulndb_add_range(db, aff, "ECOSYSTEM", NULL, &rng, &e), 0);
		assert_int_equal(dd_vulndb_add_event(db, rng, "introduced", "0", &e), 0);
		assert_int_equal(dd_vulndb_add_event(db, rng, "fixed", fixed, &e), 0);
	}
	assert_int_equal(dd_vulndb_record_end(db, 0, &e), 0);
}

static void add_pkg(dd_inventory *inv, enum dd_pkg_type t, const char *name, const char *ver,
		    const char *src, const char *srcver, int layer)
{
	dd_package *p = dd_pkglist_add(&inv->pkgs);
	assert_non_null(p);
	p->type = t;
	p->name = strdup(name);
	p->version = strdup(ver);
	p->source_name = src ? strdup(src) : NULL;
	p->source_version = srcver ? strdup(srcver) : NULL;
	p->layer = layer;
}

static void test_matcher(void **state)
{
	(void)state;
	char path[] = "/tmp/dd-test-match-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	dd_error e = DD_ERROR_INIT;
	dd_vulndb *db = NULL;
	assert_int_equal(dd_vulndb_open(&db, path, 0, &e), 0);
	assert_int_equal(dd_vulndb_source_begin(db, "test", "test", NULL, &e), 0);
	const char *dsa_al[] = { "CVE-2022-1292", NULL };
	const char *dsa2_al[] = { "CVE-2022-2097", "CVE-2022-4304", NULL };
	add_adv(db, "DSA-5139-1", dsa_al, "Debian:11", "openssl", NULL, "1.1.1n-0+deb11u2", NULL);
	add_adv(db, "CVE-2022-1292", NULL, "Debian:11", "openssl", NULL, "1.1.1n-0+deb11u2", "high");
	add_adv(db, "DSA-5343-1", dsa2_al, "Debian:11", "openssl", NULL, "1.1.1n-0+deb11u4", NULL);
	add_adv(db, "CVE-2023-1111", NULL, "Debian:11", "openssl", "will-not-fix", NULL, "low");
	add_adv(db, "CVE-2023-2222", NULL, "Debian:11", "openssl", "not-affected", NULL, NULL);
	add_adv(db, "CVE-2019-0001", NULL, "Debian:11", "openssl", NULL, "1.1.0-1", NULL);
	add_adv(db, "CVE-2022-9999", NULL, "Debian:11", "libssl1.1", NULL, "9", NULL);
	dd_vulndb_source_meta meta = { 7, 0, NULL, NULL, NULL, NULL };
	assert_int_equal(dd_vulndb_source_commit(db, &meta, &e), 0);

	dd_inventory *inv = NULL;
	assert_int_equal(dd_inventory_new(&inv, &e), 0);
	inv->os.id = strdup("debian");
	inv->os.version_id = strdup("11");
	add_pkg(inv, DD_PKG_DEB, "libssl1.1", "1.1.1k-1+deb11u1", "openssl", NULL, 0);
	add_pkg(inv, DD_PKG_DEB, "openssl", "1.1.1k-1+deb11u1", NULL, NULL, 2);
	add_pkg(inv, DD_PKG_APK, "musl", "1.0-r0", NULL, NULL, 0); /* no data for apk here */

	dd_findings *fs = NULL;
	dd_match_opts mo = { 1 };
	assert_int_equal(dd_match_inventory(&fs, inv, db, &mo, &e), 0);
	assert_int_equal(fs->checked, 2);
	assert_int_equal(fs->unchecked, 1);
	assert_string_equal(fs->ecosystem, "Debian:11");
	/* per package: CVE-2022-1292 (DSA merged; high), DSA-5343-1, CVE-2023-1111
	 * (will-not-fix, low); never the not-affected one, the fixed one, or
	 * the entry keyed on the binary name */
	size_t n0 = 0;
	for (size_t i = 0; i < fs->n; i++) {
		const dd_finding *f = &fs->v[i];
		assert_string_not_equal(f->id, "CVE-2023-2222");
		assert_string_not_equal(f->id, "CVE-2019-0001");
		assert_string_not_equal(f->id, "CVE-2022-9999");
		if (f->pkg != 0)
			continue;
		assert_int_equal(f->from_base, 1);
		switch (n0++) {
		case 0:
			assert_string_equal(f->id, "CVE-2022-1292");
			assert_int_equal(f->n_aliases, 1);
			assert_string_equal(f->aliases[0], "DSA-5139-1");
			assert_int_equal(f->severity, DD_SEV_HIGH);
			assert_string_equal(f->status, "fixed");
			assert_string_equal(f->fixed_version, "1.1.1n-0+deb11u2");
			assert_string_equal(f->match_name, "openssl");
			break;
		case 1:
			assert_string_equal(f->id, "CVE-2023-1111");
			assert_string_equal(f->status, "will-not-fix");
			assert_null(f->fixed_version);
			assert_int_equal(f->severity, DD_SEV_LOW);
			break;
		case 2:
			assert_string_equal(f->id, "DSA-5343-1");
			assert_int_equal(f->n_aliases, 2);
			assert_int_equal(f->severity, DD_SEV_UNKNOWN);
			break;
		}
	}
	assert_int_equal(n0, 3);
	assert_int_equal(fs->n, 6);
	assert_int_equal(fs->v[5].pkg, 1);
	assert_int_equal(fs->v[5].from_base, 0);
	dd_findings_remove(fs, 0);
	assert_int_equal(fs->n, 5);
	dd_findings_free(fs);

	/* no packages at all (scratch, distroless without status.d) */
	dd_inventory *empty = NULL;
	assert_int_equal(dd_inventory_new(&empty, &e), 0);
	empty->os.id = strdup("debian");
	empty->os.version_id = strdup("11");
	assert_int_equal(dd_match_inventory(&fs, empty, db, NULL, &e), 0);
	assert_int_equal(fs->n, 0);
	assert_int_equal(fs->checked, 0);
	assert_int_equal(fs->os_supported, 1);
	dd_findings_free(fs);
	dd_inventory_free(empty);

	/* an OS the DB has no data for: everything unchecked, no findings */
	free(inv->os.version_id);
	inv->os.version_id = strdup("12");
	assert_int_equal(dd_match_inventory(&fs, inv, db, NULL, &e), 0);
	assert_int_equal(fs->n, 0);
	assert_int_equal(fs->unchecked, 3);
	assert_int_equal(fs->os_supported, 0);
	dd_findings_free(fs);
	dd_inventory_free(inv);
	dd_vulndb_close(db);
	unlink(path);
	char side[64];
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
}

/* ---- ignore file ---- */

static void test_ignore(void **state)
{
	(void)state;
	dd_ignore *ig = NULL;
	dd_error e = DD_ERROR_INIT;
	const char *ok = "# comment\n\nCVE-2021-1  \r\nCVE-2021-2 pkg:openssl exp:2024-02-29 # why not\n"
			 "GHSA-xxxx-yyyy-zzzz exp:2030-01-01";
	assert_int_equal(dd_ignore_parse(&ig, ok, strlen(ok), "f", &e), 0);
	assert_int_equal(ig->n, 3);
	assert_string_equal(ig->v[0].id, "CVE-2021-1");
	assert_null(ig->v[0].package);
	assert_string_equal(ig->v[1].package, "openssl");
	assert_string_equal(ig->v[1].reason, "why not");
	assert_int_equal(ig->v[1].line, 4);
	assert_int_equal(ig->v[1].exp_d, 29);
	/* 2024-02-29 applies through that day */
	assert_int_equal(dd_ignore_expired(&ig->v[1], 1709164800 + 86399), 0); /* 2024-02-29T23:59:59Z */
	assert_int_equal(dd_ignore_expired(&ig->v[1], 1709164800 + 86400), 1);
	assert_int_equal(dd_ignore_expired(&ig->v[0], 4000000000), 0);
	dd_ignore_free(ig);

	const char *bad[] = { "CVE-1 exp:2023-02-29\n", "CVE-1 exp:2023-13-01", "CVE-1 exp:20230101",
			      "CVE-1 bogus", "CVE;rm", "CVE-1 pkg:a pkg:b", "CVE-1\0x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = i == 6 ? 7 : strlen(bad[i]);
		ig = NULL;
		assert_int_equal(dd_ignore_parse(&ig, bad[i], len, "ign", &e), DD_EINPUT);
		assert_null(ig);
		assert_non_null(strstr(e.msg, "ign:1"));
	}
	assert_int_equal(dd_ignore_parse(&ig, "", 0, "f", &e), 0);
	assert_int_equal(ig->n, 0);
	dd_ignore_free(ig);
}

/* ---- purls ---- */

static void test_purl(void **state)
{
	(void)state;
	dd_purl p, q;
	dd_error e = DD_ERROR_INIT;
	assert_int_equal(dd_purl_parse(&p, "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&"
					   "distro=debian-12&upstream=openssl%403.0.11", &e), 0);
	assert_string_equal(p.type, "deb");
	assert_string_equal(p.namespace_, "debian");
	assert_string_equal(p.name, "libssl3");
	assert_string_equal(p.version, "3.0.11-1~deb12u2");
	assert_string_equal(p.arch, "amd64");
	assert_string_equal(p.distro, "debian-12");
	assert_string_equal(p.upstream, "openssl@3.0.11");
	assert_int_equal(dd_purl_parse(&q, "pkg:deb/debian/LIBSSL3", &e), 0);
	assert_int_equal(dd_purl_matches(&q, &p), 1);
	dd_purl_release(&q);
	assert_int_equal(dd_purl_parse(&q, "pkg:deb/debian/libssl3@3.0.0", &e), 0);
	assert_int_equal(dd_purl_matches(&q, &p), 0);
	dd_purl_release(&q);
	assert_int_equal(dd_purl_parse(&q, "pkg:apk/alpine/libssl3", &e), 0);
	assert_int_equal(dd_purl_matches(&q, &p), 0);
	dd_purl_release(&q);
	dd_purl_release(&p);
	assert_int_equal(dd_purl_parse(&p, "pkg:deb/debian/a%3Ab@1%3A2.0", &e), 0);
	assert_string_equal(p.name, "a:b");
	assert_string_equal(p.version, "1:2.0");
	dd_purl_release(&p);
	const char *bad[] = { "deb/debian/x", "pkg:deb", "pkg:/x", "pkg:deb/x%4", "pkg:deb/x%zz",
			      "pkg:deb/x%00y", "pkg:deb/debian/@1.0" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(dd_purl_parse(&p, bad[i], &e), DD_EINPUT);
}

/* ---- VEX ---- */

static void test_vex(void **state)
{
	(void)state;
	dd_vex *v = NULL;
	dd_error e = DD_ERROR_INIT;
	const char *ov =
		"{\"@context\":\"https://openvex.dev/ns/v0.2.0\",\"statements\":["
		"{\"vulnerability\":{\"name\":\"CVE-1\",\"aliases\":[\"GHSA-1\"]},"
		"\"products\":[{\"@id\":\"pkg:oci/img\",\"subcomponents\":[{\"@id\":\"pkg:apk/alpine/zlib\"}]}],"
		"\"status\":\"not_affected\",\"justification\":\"component_not_present\"},"
		"{\"vulnerability\":\"CVE-2\",\"products\":[\"pkg:oci/img\"],\"status\":\"fixed\"},"
		"{\"vulnerability\":{\"name\":\"CVE-1\"},\"products\":[{\"@id\":\"pkg:apk/alpine/zlib@1.0-r1\"}],"
		"\"status\":\"affected\",\"action_statement\":\"x\"}]}";
	assert_int_equal(dd_vex_parse(&v, ov, strlen(ov), "v.json", &e), 0);
	assert_string_equal(v->format, "openvex");
	assert_int_equal(v->n, 3);
	dd_finding f;
	memset(&f, 0, sizeof(f));
	char *al[] = { (char *)"GHSA-1" };
	f.id = (char *)"CVE-9";
	f.aliases = al;
	f.n_aliases = 1;
	const dd_vex_stmt *s = dd_vex_find(v, &f, "pkg:apk/alpine/zlib@1.0-r0?arch=x86_64");
	assert_non_null(s);
	assert_string_equal(s->status, "not_affected");
	/* the later statement about the exact version wins */
	f.id = (char *)"CVE-1";
	s = dd_vex_find(v, &f, "pkg:apk/alpine/zlib@1.0-r1?arch=x86_64");
	assert_non_null(s);
	assert_string_equal(s->status, "affected");
	assert_null(dd_vex_find(v, &f, "pkg:apk/alpine/musl@1.0-r0"));
	f.id = (char *)"CVE-2";
	f.n_aliases = 0;
	s = dd_vex_find(v, &f, "pkg:apk/alpine/musl@1.0-r0");
	assert_non_null(s); /* image-level product: every package */
	assert_string_equal(s->status, "fixed");
	dd_vex_free(v);

	const char *cdx = "{\"bomFormat\":\"CycloneDX\",\"components\":[{\"bom-ref\":\"r1\","
			  "\"purl\":\"pkg:deb/debian/curl@7.0\"}],\"vulnerabilities\":["
			  "{\"id\":\"CVE-3\",\"analysis\":{\"state\":\"false_positive\",\"detail\":\"d\"},"
			  "\"affects\":[{\"ref\":\"r1\"}]},{\"id\":\"CVE-4\"}]}";
	assert_int_equal(dd_vex_parse(&v, cdx, strlen(cdx), "c.json", &e), 0);
	assert_int_equal(v->n, 1);
	assert_string_equal(v->v[0].status, "not_affected");
	assert_int_equal(v->v[0].n_products, 1);
	assert_string_equal(v->v[0].products[0].name, "curl");
	dd_vex_free(v);

	const char *bad[] = { "", "[]", "{}", "{\"statements\":{}}", "{\"statements\":[1]}",
			      "{\"statements\":[{\"status\":\"fixed\"}]}",
			      "{\"bomFormat\":\"CycloneDX\"}",
			      "{\"bomFormat\":\"CycloneDX\",\"vulnerabilities\":[{}]}",
			      "{\"a\":1,\"a\":2}" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = NULL;
		assert_int_equal(dd_vex_parse(&v, bad[i], strlen(bad[i]), "bad.json", &e), DD_EINPUT);
		assert_null(v);
	}
}

/* ---- SBOM input ---- */

static void test_sbom_input(void **state)
{
	(void)state;
	dd_inventory *inv = NULL;
	dd_error e = DD_ERROR_INIT;
	const char *cdx =
		"{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"components\":["
		"{\"type\":\"operating-system\",\"name\":\"Alpine\",\"version\":\"3.10.4\"},"
		"{\"type\":\"library\",\"name\":\"libssl1.1\",\"purl\":\"pkg:apk/alpine/libssl1.1@1.1.1d-r2"
		"?arch=x86_64&upstream=openssl&distro=alpine-3.10.4\"},"
		"{\"type\":\"library\",\"purl\":\"pkg:npm/lodash@4.0.0\",\"components\":["
		"{\"purl\":\"pkg:apk/alpine/musl@1.1.22-r3\"}]},"
		"{\"purl\":\"pkg:apk/alpine/noversion\"}]}";
	assert_int_equal(dd_sbom_read(&inv, cdx, strlen(cdx), "bom.json", &e), 0);
	assert_string_equal(inv->os.id, "alpine");
	assert_string_equal(inv->os.version_id, "3.10.4");
	assert_int_equal(inv->pkgs.n, 2);
	assert_string_equal(inv->pkgs.v[0].name, "libssl1.1");
	assert_string_equal(inv->pkgs.v[0].source_name, "openssl");
	assert_string_equal(inv->pkgs.v[1].name, "musl");
	assert_int_equal(inv->nwarnings, 2);
	dd_inventory_free(inv);

	const char *spdx =
		"{\"spdxVersion\":\"SPDX-2.3\",\"packages\":[{\"name\":\"libc6\",\"externalRefs\":["
		"{\"referenceCategory\":\"PACKAGE-MANAGER\",\"referenceType\":\"purl\",\"referenceLocator\":"
		"\"pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&upstream=glibc&distro=debian-12\"}]},"
		"{\"name\":\"bash\",\"externalRefs\":[{\"referenceType\":\"purl\",\"referenceLocator\":"
		"\"pkg:rpm/redhat/bash@5.1.8-6.el9?epoch=1&arch=x86_64\"}]}]}";
	assert_int_equal(dd_sbom_read(&inv, spdx, strlen(spdx), "spdx.json", &e), 0);
	assert_string_equal(inv->os.id, "debian");
	assert_string_equal(inv->os.version_id, "12");
	assert_int_equal(inv->pkgs.n, 2);
	assert_string_equal(inv->pkgs.v[0].version, "2.36-9+deb12u4");
	assert_string_equal(inv->pkgs.v[1].version, "1:5.1.8-6.el9");
	dd_inventory_free(inv);

	const char *bad[] = { "", "{}", "[1]", "{\"spdxVersion\":1}" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		inv = NULL;
		assert_int_equal(dd_sbom_read(&inv, bad[i], strlen(bad[i]), "x", &e), DD_EINPUT);
		assert_null(inv);
	}
}

/* ---- the inventory store (drydock rescan) ---- */

static void test_invstore(void **state)
{
	(void)state;
	char dir[] = "/tmp/dd-test-invstore-XXXXXX";
	assert_non_null(mkdtemp(dir));
	dd_error e = DD_ERROR_INIT;
	dd_inventory *inv = NULL;
	assert_int_equal(dd_inventory_new(&inv, &e), 0);
	inv->image.ref = strdup("oci:x:1");
	inv->image.transport = DD_TRANSPORT_OCI;
	assert_int_equal(dd_digest_parse(&inv->image.manifest_digest,
					 "sha256:1111111111111111111111111111111111111111111111111111111111111111",
					 "m", &e), 0);
	inv->image.layers = calloc(2, sizeof(dd_inv_layer));
	inv->image.nlayers = 2;
	assert_int_equal(dd_digest_parse(&inv->image.layers[1].diff_id,
					 "sha256:2222222222222222222222222222222222222222222222222222222222222222",
					 "d", &e), 0);
	inv->os.id = strdup("alpine");
	inv->os.version_id = strdup("3.10.4");
	add_pkg(inv, DD_PKG_APK, "libssl1.1", "1.1.1d-r2", "openssl", NULL, 1);
	add_pkg(inv, DD_PKG_RPM, "bash", "1:5.1-1", NULL, NULL, 0);
	inv->pkgs.v[1].has_epoch = 1;
	inv->pkgs.v[1].epoch = 1;

	dd_findings f;
	memset(&f, 0, sizeof(f));
	dd_finding fv[2];
	memset(fv, 0, sizeof(fv));
	fv[0].id = (char *)"CVE-2";
	fv[0].status = (char *)"fixed";
	fv[0].fixed_version = (char *)"1.1.1k-r0";
	fv[1].id = (char *)"CVE-1";
	fv[1].status = (char *)"affected";
	fv[1].suppressed_by = (char *)"vex:fixed"; /* not kept */
	f.v = fv;
	f.n = 2;
	int stored = 0;
	assert_int_equal(dd_invstore_save(dir, inv, 1, &f, &stored, &e), 0);
	assert_int_equal(stored, 1);

	char **paths = NULL;
	size_t np = 0;
	assert_int_equal(dd_invstore_list(dir, &paths, &np, &e), 0);
	assert_int_equal(np, 1);
	dd_inventory *back = NULL;
	char **keys = NULL;
	size_t nk = 0;
	long base = -1;
	assert_int_equal(dd_invstore_load(paths[0], &back, &base, &keys, &nk, &e), 0);
	assert_int_equal(base, 1);
	assert_int_equal(nk, 1);
	assert_string_equal(keys[0], "libssl1.1 CVE-2 fixed 1.1.1k-r0");
	assert_string_equal(back->image.ref, "oci:x:1");
	assert_string_equal(back->image.manifest_digest.s, inv->image.manifest_digest.s);
	assert_int_equal(back->image.nlayers, 2);
	assert_false(dd_digest_is_set(&back->image.layers[0].diff_id));
	assert_string_equal(back->image.layers[1].diff_id.s, inv->image.layers[1].diff_id.s);
	assert_string_equal(back->os.version_id, "3.10.4");
	assert_int_equal(back->pkgs.n, 2);
	assert_string_equal(back->pkgs.v[0].source_name, "openssl");
	assert_int_equal(back->pkgs.v[0].layer, 1);
	assert_int_equal(back->pkgs.v[1].type, DD_PKG_RPM);
	assert_int_equal(back->pkgs.v[1].has_epoch, 1);
	dd_invstore_keys_free(keys, nk);
	dd_inventory_free(back);

	/* damaged files are refused with the path named */
	const char *bad[] = { "", "{}", "{\"schema\":\"drydock-inventory/2\"}",
			      "{\"schema\":\"drydock-inventory/1\",\"image\":{},\"os\":{},"
			      "\"packages\":[{\"type\":\"deb\",\"name\":\"x\"}],\"findings\":[]}",
			      "{\"schema\":\"drydock-inventory/1\",\"image\":{\"layers\":[\"md5:x\"]},"
			      "\"os\":{},\"packages\":[],\"findings\":[]}" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		FILE *fp = fopen(paths[0], "w");
		assert_non_null(fp);
		fputs(bad[i], fp);
		fclose(fp);
		back = NULL;
		assert_int_equal(dd_invstore_load(paths[0], &back, &base, &keys, &nk, &e), DD_EINPUT);
		assert_null(back);
		assert_non_null(strstr(e.msg, dir));
	}
	unlink(paths[0]);
	dd_invstore_keys_free(paths, np);
	/* no digests at all: nothing stored */
	inv->image.manifest_digest.s[0] = '\0';
	inv->image.layers[1].diff_id.s[0] = '\0';
	assert_int_equal(dd_invstore_save(dir, inv, -1, &f, &stored, &e), 0);
	assert_int_equal(stored, 0);
	rmdir(dir);
	dd_inventory_free(inv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ecosystems),  cmocka_unit_test(test_severity),
		cmocka_unit_test(test_entry_ranges), cmocka_unit_test(test_matcher),
		cmocka_unit_test(test_ignore),      cmocka_unit_test(test_purl),
		cmocka_unit_test(test_vex),         cmocka_unit_test(test_sbom_input),
		cmocka_unit_test(test_invstore),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
