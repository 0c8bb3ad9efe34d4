/*
 * version.h - version ordering for every ecosystem drydock matches, behind
 * one interface.
 *
 * Each ecosystem follows the ordering of its real tool exactly (dpkg's
 * verrevcmp, rpm's rpmvercmp + EVR, apk-tools, npm semver, Python's
 * packaging.version, Maven's ComparableVersion, RubyGems' Gem::Version);
 * docs/matching.md ("# Version ordering") lists the rules, the oracle each
 * is tested against and every known difference.
 *
 * Comparison works in place on the caller's NUL-terminated strings: nothing
 * is allocated on the hot path (the Maven comparator falls back to the heap
 * only for versions of more than 64 tokens).  Memory: all strings are
 * borrowed for the duration of the call; nothing is retained.
 */
#ifndef DD_VERSION_VERSION_H
#define DD_VERSION_VERSION_H

#include "util/error.h"

enum dd_ecosystem {
	DD_ECO_DEB,    /* dpkg: Debian, Ubuntu */
	DD_ECO_RPM,    /* rpm EVR: Red Hat, AlmaLinux, Rocky, SUSE, Mariner, ... */
	DD_ECO_APK,    /* apk-tools: Alpine, Wolfi, Chainguard */
	DD_ECO_SEMVER, /* SemVer 2.0 as npm semver: npm, crates.io, Go */
	DD_ECO_PYPI,   /* PEP 440 as packaging.version */
	DD_ECO_MAVEN,  /* Maven ComparableVersion */
	DD_ECO_GEM,    /* RubyGems Gem::Version */
	DD_ECO_COUNT,
};

/* Map an ecosystem name to its ordering.  Accepts drydock's short names
 * (deb, rpm, apk, semver, pypi, maven, gem) and OSV ecosystem names
 * ("Debian", "Ubuntu", "Alpine", "Wolfi", "Chainguard", "Red Hat",
 * "AlmaLinux", "Rocky Linux", "SUSE", "openSUSE", "Mariner", "npm",
 * "crates.io", "Go", "PyPI", "Maven", "RubyGems", ...), case-insensitively;
 * an OSV release suffix after ':' ("Debian:12", "Alpine:v3.19") is ignored.
 * Returns 0, or DD_EINPUT for an unknown name (no message: the caller knows
 * what it asked for). */
int dd_ecosystem_from_name(const char *name, enum dd_ecosystem *out);

/* Short name of an ecosystem ("deb", "rpm", ...); "?" when out of range. */
const char *dd_ecosystem_name(enum dd_ecosystem eco);

/* Compare two versions of ecosystem eco.  On success *out is <0, 0 or >0
 * (a before, equal to, after b) and 0 is returned.  A version the real tool
 * rejects gives DD_EINPUT with a one-line message naming the version and
 * the reason; an unknown eco gives DD_EINTERNAL.  apk and rpm never reject
 * a non-empty version: apk-tools and rpm order every string. */
int dd_version_cmp(enum dd_ecosystem eco, const char *a, const char *b, int *out,
		   dd_error *err);

/* 0 when v is a valid version of eco, else DD_EINPUT with the reason. */
int dd_version_valid(enum dd_ecosystem eco, const char *v, dd_error *err);

#endif
