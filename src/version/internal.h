/*
 * internal.h - what the per-ecosystem comparators (deb.c, rpm.c, apk.c,
 * semver.c, pypi.c, maven.c, gem.c) share with version.c.  Not installed.
 *
 * Each ecosystem provides cmp (fills *out with <0/0/>0 or returns DD_EINPUT
 * naming the bad version) and valid.  Strings are borrowed; nothing is
 * allocated except where a file says so.
 */
#ifndef DD_VERSION_INTERNAL_H
#define DD_VERSION_INTERNAL_H

#include <stddef.h>
#include <string.h>

#include "util/error.h"

#define DD_VER_DECLARE(eco)                                                              \
	int dd_ver_##eco##_cmp(const char *a, const char *b, int *out, dd_error *err);   \
	int dd_ver_##eco##_valid(const char *v, dd_error *err)

DD_VER_DECLARE(deb);
DD_VER_DECLARE(rpm);
DD_VER_DECLARE(apk);
DD_VER_DECLARE(semver);
DD_VER_DECLARE(pypi);
DD_VER_DECLARE(maven);
DD_VER_DECLARE(gem);

static inline int dd_ver_isdigit(int c) { return c >= '0' && c <= '9'; }
static inline int dd_ver_islower(int c) { return c >= 'a' && c <= 'z'; }
static inline int dd_ver_isupper(int c) { return c >= 'A' && c <= 'Z'; }
static inline int dd_ver_isalpha(int c) { return dd_ver_islower(c) || dd_ver_isupper(c); }
static inline int dd_ver_isalnum(int c) { return dd_ver_isalpha(c) || dd_ver_isdigit(c); }
static inline int dd_ver_tolower(int c) { return dd_ver_isupper(c) ? c + 32 : c; }
static inline int dd_ver_sign(long v) { return (v > 0) - (v < 0); }

/* Compare two runs of ASCII digits as unbounded non-negative integers
 * (leading zeros ignored).  Empty runs count as 0. */
static inline int dd_ver_numcmp(const char *a, size_t an, const char *b, size_t bn)
{
	while (an && *a == '0')
		a++, an--;
	while (bn && *b == '0')
		b++, bn--;
	if (an != bn)
		return an < bn ? -1 : 1;
	return dd_ver_sign(memcmp(a, b, an));
}

/* Byte-wise comparison of two strings of given lengths; a prefix sorts
 * first (the order of C's strcmp, Ruby's and Java's for ASCII). */
static inline int dd_ver_strcmp(const char *a, size_t an, const char *b, size_t bn)
{
	int r = memcmp(a, b, an < bn ? an : bn);
	if (r)
		return dd_ver_sign(r);
	return an == bn ? 0 : (an < bn ? -1 : 1);
}

/* Same, ignoring ASCII case. */
static inline int dd_ver_strcasecmp(const char *a, size_t an, const char *b, size_t bn)
{
	size_t n = an < bn ? an : bn;
	for (size_t i = 0; i < n; i++) {
		int ca = dd_ver_tolower((unsigned char)a[i]), cb = dd_ver_tolower((unsigned char)b[i]);
		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return an == bn ? 0 : (an < bn ? -1 : 1);
}

/* Error helper: "ECO version 'V' is invalid: WHY" (V cut at 200 bytes). */
int dd_ver_bad(dd_error *err, const char *eco, const char *v, const char *why);

#endif
