/* version.c - ecosystem names and dispatch to the per-ecosystem comparators. */
#include "version/version.h"

#include <stddef.h>
#include <string.h>

#include "version/internal.h"
#include "util/banned.h"

struct eco_ops {
	const char *name;
	int (*cmp)(const char *a, const char *b, int *out, dd_error *err);
	int (*valid)(const char *v, dd_error *err);
};

static const struct eco_ops ops[DD_ECO_COUNT] = {
	[DD_ECO_DEB] = { "deb", dd_ver_deb_cmp, dd_ver_deb_valid },
	[DD_ECO_RPM] = { "rpm", dd_ver_rpm_cmp, dd_ver_rpm_valid },
	[DD_ECO_APK] = { "apk", dd_ver_apk_cmp, dd_ver_apk_valid },
	[DD_ECO_SEMVER] = { "semver", dd_ver_semver_cmp, dd_ver_semver_valid },
	[DD_ECO_PYPI] = { "pypi", dd_ver_pypi_cmp, dd_ver_pypi_valid },
	[DD_ECO_MAVEN] = { "maven", dd_ver_maven_cmp, dd_ver_maven_valid },
	[DD_ECO_GEM] = { "gem", dd_ver_gem_cmp, dd_ver_gem_valid },
};

/* Every name accepted, lower case.  OSV ecosystem names come first in each
 * group; the short names are drydock's own. */
static const struct {
	const char *name;
	enum dd_ecosystem eco;
} names[] = {
	{ "deb", DD_ECO_DEB }, { "dpkg", DD_ECO_DEB }, { "debian", DD_ECO_DEB },
	{ "ubuntu", DD_ECO_DEB },
	{ "rpm", DD_ECO_RPM }, { "red hat", DD_ECO_RPM }, { "redhat", DD_ECO_RPM },
	{ "almalinux", DD_ECO_RPM }, { "rocky linux", DD_ECO_RPM }, { "rocky", DD_ECO_RPM },
	{ "suse", DD_ECO_RPM }, { "opensuse", DD_ECO_RPM }, { "mariner", DD_ECO_RPM },
	{ "azure linux", DD_ECO_RPM }, { "centos", DD_ECO_RPM }, { "fedora", DD_ECO_RPM },
	{ "oracle linux", DD_ECO_RPM }, { "amazon linux", DD_ECO_RPM },
	{ "photon os", DD_ECO_RPM }, { "openeuler", DD_ECO_RPM },
	{ "apk", DD_ECO_APK }, { "alpine", DD_ECO_APK }, { "wolfi", DD_ECO_APK },
	{ "chainguard", DD_ECO_APK }, { "alpaquita", DD_ECO_APK },
	{ "semver", DD_ECO_SEMVER }, { "npm", DD_ECO_SEMVER }, { "crates.io", DD_ECO_SEMVER },
	{ "cargo", DD_ECO_SEMVER }, { "go", DD_ECO_SEMVER }, { "golang", DD_ECO_SEMVER },
	{ "pypi", DD_ECO_PYPI }, { "python", DD_ECO_PYPI }, { "pep440", DD_ECO_PYPI },
	{ "maven", DD_ECO_MAVEN },
	{ "gem", DD_ECO_GEM }, { "rubygems", DD_ECO_GEM },
};

int dd_ecosystem_from_name(const char *name, enum dd_ecosystem *out)
{
	size_t n;

	if (!name || !out)
		return DD_EINPUT;
	n = strcspn(name, ":");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i].name) == n &&
		    dd_ver_strcasecmp(name, n, names[i].name, n) == 0) {
			*out = names[i].eco;
			return 0;
		}
	}
	return DD_EINPUT;
}

const char *dd_ecosystem_name(enum dd_ecosystem eco)
{
	if ((unsigned)eco >= DD_ECO_COUNT)
		return "?";
	return ops[eco].name;
}

int dd_version_cmp(enum dd_ecosystem eco, const char *a, const char *b, int *out,
		   dd_error *err)
{
	if ((unsigned)eco >= DD_ECO_COUNT || !a || !b || !out)
		return dd_error_set(err, DD_EINTERNAL, "version compare: bad arguments");
	return ops[eco].cmp(a, b, out, err);
}

int dd_version_valid(enum dd_ecosystem eco, const char *v, dd_error *err)
{
	if ((unsigned)eco >= DD_ECO_COUNT || !v)
		return dd_error_set(err, DD_EINTERNAL, "version check: bad arguments");
	return ops[eco].valid(v, err);
}

int dd_ver_bad(dd_error *err, const char *eco, const char *v, const char *why)
{
	return dd_error_set(err, DD_EINPUT, "%s version '%.200s%s' is invalid: %s", eco, v,
			    strlen(v) > 200 ? "..." : "", why);
}
