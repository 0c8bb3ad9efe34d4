/* Unit tests for src/version: names, each ecosystem's rules and rejections,
 * apk-tools' validity vectors (tests/data/version/apk-tools.data). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "version/version.h"

static int cmp(enum dd_ecosystem eco, const char *a, const char *b)
{
	dd_error e = DD_ERROR_INIT;
	int r = 99, rc = dd_version_cmp(eco, a, b, &r, &e);
	if (rc) {
		print_error("unexpected error: %s\n", e.msg);
		return 99;
	}
	return (r > 0) - (r < 0);
}

static void expect_bad(enum dd_ecosystem eco, const char *v, const char *why)
{
	dd_error e = DD_ERROR_INIT;
	int r;
	assert_int_equal(dd_version_cmp(eco, v, "1", &r, &e), DD_EINPUT);
	assert_non_null(strstr(e.msg, why));
	assert_int_equal(dd_version_cmp(eco, "1.0.0", v, &r, &e), DD_EINPUT);
	assert_int_equal(dd_version_valid(eco, v, NULL), DD_EINPUT);
}

static void test_names(void **state)
{
	(void)state;
	static const struct { const char *n; enum dd_ecosystem e; } ok[] = {
		{ "deb", DD_ECO_DEB }, { "Debian:12", DD_ECO_DEB }, { "Ubuntu:22.04:LTS", DD_ECO_DEB },
		{ "Alpine:v3.19", DD_ECO_APK }, { "Wolfi", DD_ECO_APK }, { "Chainguard", DD_ECO_APK },
		{ "Red Hat:enterprise_linux:9", DD_ECO_RPM }, { "AlmaLinux:9", DD_ECO_RPM },
		{ "Rocky Linux:8", DD_ECO_RPM }, { "SUSE", DD_ECO_RPM }, { "openSUSE", DD_ECO_RPM },
		{ "Mariner", DD_ECO_RPM }, { "npm", DD_ECO_SEMVER }, { "crates.io", DD_ECO_SEMVER },
		{ "Go", DD_ECO_SEMVER }, { "golang", DD_ECO_SEMVER }, { "PyPI", DD_ECO_PYPI },
		{ "Maven", DD_ECO_MAVEN }, { "RubyGems", DD_ECO_GEM }, { "gem", DD_ECO_GEM },
	};
	enum dd_ecosystem e;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(dd_ecosystem_from_name(ok[i].n, &e), 0);
		assert_int_equal(e, ok[i].e);
	}
	assert_int_equal(dd_ecosystem_from_name("Packagist", &e), DD_EINPUT);
	assert_int_equal(dd_ecosystem_from_name("", &e), DD_EINPUT);
	assert_int_equal(dd_ecosystem_from_name("debianx", &e), DD_EINPUT);
	assert_string_equal(dd_ecosystem_name(DD_ECO_PYPI), "pypi");
	assert_string_equal(dd_ecosystem_name(DD_ECO_COUNT), "?");
}

static void test_deb(void **state)
{
	(void)state;
	assert_int_equal(cmp(DD_ECO_DEB, "1.0~rc1", "1.0"), -1);
	assert_int_equal(cmp(DD_ECO_DEB, "1.0", "1.0+b1"), -1);
	assert_int_equal(cmp(DD_ECO_DEB, "1:0.9", "2.0"), 1);
	assert_int_equal(cmp(DD_ECO_DEB, "1.0-1", "1.0-0"), 1);
	assert_int_equal(cmp(DD_ECO_DEB, "1.0", "1.0-0"), 0);
	assert_int_equal(cmp(DD_ECO_DEB, "1.0a", "1.0+"), -1);
	assert_int_equal(cmp(DD_ECO_DEB, " 2.36-9+deb12u4 ", "2.36-9+deb12u10"), -1);
	expect_bad(DD_ECO_DEB, "abc", "does not start with digit");
	expect_bad(DD_ECO_DEB, "1.0-", "revision number is empty");
	expect_bad(DD_ECO_DEB, "x:1.0", "epoch in version is empty");
	expect_bad(DD_ECO_DEB, "1x:1.0", "epoch in version is not number");
	expect_bad(DD_ECO_DEB, "-1:1.0", "negative");
	expect_bad(DD_ECO_DEB, "99999999999:1", "too big");
	expect_bad(DD_ECO_DEB, "1.0 1", "embedded spaces");
	expect_bad(DD_ECO_DEB, "", "empty");
	expect_bad(DD_ECO_DEB, "1.0_1", "invalid character in version");
	expect_bad(DD_ECO_DEB, "1.0-a_b", "invalid character in revision");
}

static void test_rpm(void **state)
{
	(void)state;
	assert_int_equal(cmp(DD_ECO_RPM, "1.0~rc1", "1.0"), -1);
	assert_int_equal(cmp(DD_ECO_RPM, "1.0^git1", "1.0"), 1);
	assert_int_equal(cmp(DD_ECO_RPM, "1.0^git1", "1.0.1"), -1);
	assert_int_equal(cmp(DD_ECO_RPM, "1:1.0-1", "2.0-1"), 1);
	assert_int_equal(cmp(DD_ECO_RPM, "0:1.0-1", "1.0-1"), 0);
	assert_int_equal(cmp(DD_ECO_RPM, "1.0-1.el8", "1.0-1.el8_2"), -1);
	assert_int_equal(cmp(DD_ECO_RPM, "1.0", "1.0-1"), -1); /* missing release first */
	assert_int_equal(cmp(DD_ECO_RPM, "a:1", "b:1"), -1);   /* not an epoch */
	assert_int_equal(cmp(DD_ECO_RPM, "1.1.α", "1.1.β"), 0);
	expect_bad(DD_ECO_RPM, "", "empty");
}

static void test_apk(void **state)
{
	(void)state;
	assert_int_equal(cmp(DD_ECO_APK, "1.2_rc1", "1.2"), -1);
	assert_int_equal(cmp(DD_ECO_APK, "1.2_p1", "1.2"), 1);
	assert_int_equal(cmp(DD_ECO_APK, "1.2-r1", "1.2_p1"), -1);
	assert_int_equal(cmp(DD_ECO_APK, "1.2a", "1.2"), 1);
	assert_int_equal(cmp(DD_ECO_APK, "8.2.0", "8.2.001"), -1);
	assert_int_equal(cmp(DD_ECO_APK, "1.0~1234-r1", "1.0~2345-r0"), -1);
	assert_int_equal(cmp(DD_ECO_APK, "18446744073709551617", "1"), 0); /* wraps like apk */
	assert_int_equal(dd_version_valid(DD_ECO_APK, "0.1_pre2~1234abcd", NULL), 0);
	assert_int_equal(dd_version_valid(DD_ECO_APK, "0.1bc", NULL), DD_EINPUT);
}

/* apk-tools' own validity lines: "V" valid, "!V" invalid. */
static void test_apk_validity_vectors(void **state)
{
	(void)state;
	const char *root = getenv("DD_ROOT");
	char path[4096], line[512];
	int n = 0;
	snprintf(path, sizeof(path), "%s/tests/data/version/apk-tools.data", root ? root : ".");
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || strchr(line, ' ') || strchr(line, '\t'))
			continue;
		int bad = line[0] == '!';
		int rc = dd_version_valid(DD_ECO_APK, line + bad, NULL);
		if ((rc != 0) != bad)
			fail_msg("apk validity of '%s': got %d", line, rc);
		n++;
	}
	fclose(f);
	assert_true(n >= 30);
}

static void test_semver(void **state)
{
	(void)state;
	assert_int_equal(cmp(DD_ECO_SEMVER, "1.0.0-alpha", "1.0.0-alpha.1"), -1);
	assert_int_equal(cmp(DD_ECO_SEMVER, "1.0.0-alpha.beta", "1.0.0-beta"), -1);
	assert_int_equal(cmp(DD_ECO_SEMVER, "1.0.0-beta.2", "1.0.0-beta.11"), -1);
	assert_int_equal(cmp(DD_ECO_SEMVER, "1.0.0-rc.1", "1.0.0"), -1);
	assert_int_equal(cmp(DD_ECO_SEMVER, "1.0.0-1", "1.0.0-a"), -1);
	assert_int_equal(cmp(DD_ECO_SEMVER, "v2.0.0+incompatible", "2.0.0"), 0);
	assert_int_equal(cmp(DD_ECO_SEMVER, "v0.0.0-20200101000000-abcdef012345", "v0.0.0"), -1);
	assert_int_equal(cmp(DD_ECO_SEMVER, "v0.0.0-0", "v0.0.0-20200101000000-abcdef012345"), -1);
	assert_int_equal(cmp(DD_ECO_SEMVER, "99999999999999999999.0.0", "99999999999999999998.0.0"), 1);
	expect_bad(DD_ECO_SEMVER, "1.2", "MAJOR.MINOR.PATCH");
	expect_bad(DD_ECO_SEMVER, "01.2.3", "MAJOR.MINOR.PATCH");
	expect_bad(DD_ECO_SEMVER, "1.2.3-01", "pre-release");
	expect_bad(DD_ECO_SEMVER, "1.2.3-", "pre-release");
	expect_bad(DD_ECO_SEMVER, "1.2.3+", "build");
	expect_bad(DD_ECO_SEMVER, "V1.2.3", "MAJOR.MINOR.PATCH");
	/* npm's 256-character limit counts surrounding whitespace */
	char v[300];
	memset(v, 'a', sizeof(v));
	memcpy(v, " 1.0.0-", 7);
	v[257] = '\0';
	expect_bad(DD_ECO_SEMVER, v, "longer than 256");
	assert_int_equal(cmp(DD_ECO_SEMVER, v + 1, "1.0.0"), -1);
}

static void test_pypi(void **state)
{
	(void)state;
	assert_int_equal(cmp(DD_ECO_PYPI, "1.0.dev1", "1.0a1"), -1);
	assert_int_equal(cmp(DD_ECO_PYPI, "1.0a1.dev1", "1.0a1"), -1);
	assert_int_equal(cmp(DD_ECO_PYPI, "1.0rc1", "1.0"), -1);
	assert_int_equal(cmp(DD_ECO_PYPI, "1.0", "1.0.post1.dev1"), -1);
	assert_int_equal(cmp(DD_ECO_PYPI, "1.0-1", "1.0.post1"), 0);
	assert_int_equal(cmp(DD_ECO_PYPI, "1.0ALPHA", "1.0a0"), 0);
	assert_int_equal(cmp(DD_ECO_PYPI, "1.0preview2", "1.0rc2"), 0);
	assert_int_equal(cmp(DD_ECO_PYPI, "1!0.1", "2.0"), 1);
	assert_int_equal(cmp(DD_ECO_PYPI, "1.0", "1.0.0"), 0);
	assert_int_equal(cmp(DD_ECO_PYPI, "1.0+abc", "1.0+1"), -1);
	assert_int_equal(cmp(DD_ECO_PYPI, "1.0+1", "1.0"), 1);
	assert_int_equal(cmp(DD_ECO_PYPI, " v1.0 ", "1.0"), 0);
	expect_bad(DD_ECO_PYPI, "0.1-bulbasaur", "PEP 440");
	expect_bad(DD_ECO_PYPI, "1.0+", "PEP 440");
	expect_bad(DD_ECO_PYPI, "dev", "no release");
}

static void test_maven(void **state)
{
	(void)state;
	assert_int_equal(cmp(DD_ECO_MAVEN, "1.0-alpha-1", "1.0-beta-1"), -1);
	assert_int_equal(cmp(DD_ECO_MAVEN, "1.0-SNAPSHOT", "1.0"), -1);
	assert_int_equal(cmp(DD_ECO_MAVEN, "1.0-rc1", "1.0-cr1"), 0);
	assert_int_equal(cmp(DD_ECO_MAVEN, "1", "1.0.0.ga"), 0);
	assert_int_equal(cmp(DD_ECO_MAVEN, "1.0-sp1", "1.0"), 1);
	assert_int_equal(cmp(DD_ECO_MAVEN, "1.0-xyz", "1.0-sp"), 1);
	assert_int_equal(cmp(DD_ECO_MAVEN, "1a1", "1-alpha-1"), 0);
	assert_int_equal(cmp(DD_ECO_MAVEN, "1-0.alpha", "1"), -1); /* MNG-6964 */
	assert_int_equal(cmp(DD_ECO_MAVEN, "1.0.0.RC1", "1.0.0-RC2"), -1); /* MNG-7644 */
	assert_int_equal(cmp(DD_ECO_MAVEN, "2-abc", "2.0.0.abc"), 0);
	assert_int_equal(cmp(DD_ECO_MAVEN, "12345678901234567890.1", "1234567890.1"), 1);
	/* more than 64 items: the heap path */
	char big[400];
	for (int i = 0; i < 100; i++)
		memcpy(big + 3 * i, "1a-", 3);
	big[300] = '\0';
	assert_int_equal(cmp(DD_ECO_MAVEN, big, big), 0);
	assert_int_equal(cmp(DD_ECO_MAVEN, big, "1"), 1); /* as the jar answers */
}

static void test_gem(void **state)
{
	(void)state;
	assert_int_equal(cmp(DD_ECO_GEM, "1.0.a", "1.0"), -1);
	assert_int_equal(cmp(DD_ECO_GEM, "1.0.0", "1"), 0);
	assert_int_equal(cmp(DD_ECO_GEM, "1.0.a.0", "1.0.a"), 0);
	assert_int_equal(cmp(DD_ECO_GEM, "1.0-1", "1.0.pre.1"), 0);
	assert_int_equal(cmp(DD_ECO_GEM, "1.0.rc1", "1.0.beta2"), 1);
	assert_int_equal(cmp(DD_ECO_GEM, "", "0"), 0);
	assert_int_equal(cmp(DD_ECO_GEM, "1.10", "1.9"), 1);
	expect_bad(DD_ECO_GEM, "1beta", "malformed");
	expect_bad(DD_ECO_GEM, "1..0", "malformed");
	expect_bad(DD_ECO_GEM, "1.0-", "malformed");
}

static void test_bad_args(void **state)
{
	(void)state;
	int r;
	dd_error e;
	assert_int_equal(dd_version_cmp(DD_ECO_COUNT, "1", "1", &r, &e), DD_EINTERNAL);
	assert_int_equal(dd_version_cmp(DD_ECO_DEB, NULL, "1", &r, &e), DD_EINTERNAL);
	assert_int_equal(dd_version_valid(DD_ECO_DEB, NULL, &e), DD_EINTERNAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_deb),
		cmocka_unit_test(test_rpm),
		cmocka_unit_test(test_apk),
		cmocka_unit_test(test_apk_validity_vectors),
		cmocka_unit_test(test_semver),
		cmocka_unit_test(test_pypi),
		cmocka_unit_test(test_maven),
		cmocka_unit_test(test_gem),
		cmocka_unit_test(test_bad_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
