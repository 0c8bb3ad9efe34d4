/*
 * semver.c - Semantic Versioning 2.0.0 ordering, with the syntax npm's
 * `semver` package accepts (strict mode): surrounding whitespace and one
 * leading 'v' are allowed, at most 256 characters.  Used for npm, crates.io
 * and Go ("v1.2.3", "v2.0.0+incompatible", pseudo-versions
 * "v0.0.0-20200101000000-abcdef012345").
 *
 * MAJOR.MINOR.PATCH compare as numbers; a version with a pre-release sorts
 * before the same version without; pre-release identifiers compare
 * pairwise, numeric ones as numbers and before alphanumeric ones, which
 * compare in ASCII order; a longer list of equal identifiers sorts later.
 * Build metadata ("+...") is ignored.  Numbers have no size limit
 * (npm rejects components above 2^53-1; see docs/matching.md).
 */
#include <stddef.h>

#include "version/internal.h"
#include "util/banned.h"

#define SEMVER_MAX_LENGTH 256

struct sv {
	const char *num[3];
	size_t numlen[3];
	const char *pre, *pre_end; /* NULL when there is no pre-release */
};

static int isspace_c(int c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
static int isident(int c) { return dd_ver_isalnum(c) || c == '-'; }

/* A numeric identifier: "0" or digits without a leading zero. */
static const char *numeric_ident(const char *p, const char *end)
{
	const char *s = p;
	while (p < end && dd_ver_isdigit(*p))
		p++;
	if (p == s || (*s == '0' && p - s > 1))
		return NULL;
	return p;
}

/* One pre-release identifier ending at '.', '+' or end; NULL if bad. */
static const char *pre_ident(const char *p, const char *end)
{
	const char *s = p;
	int alpha = 0;
	while (p < end && isident((unsigned char)*p))
		alpha |= !dd_ver_isdigit(*p++);
	if (p == s || (!alpha && *s == '0' && p - s > 1))
		return NULL; /* empty, or a number with a leading zero */
	return p;
}

/* A dot-separated identifier list; build identifiers may be any alnum/-. */
static const char *ident_list(const char *p, const char *end, int build)
{
	for (;;) {
		const char *s = p;
		if (build) {
			while (p < end && isident((unsigned char)*p))
				p++;
			if (p == s)
				return NULL;
		} else if (!(p = pre_ident(p, end))) {
			return NULL;
		}
		if (p == end || *p != '.')
			return p;
		p++;
	}
}

static const char *parse(const char *v, struct sv *x)
{
	const char *p = v, *end = v + strlen(v);

	if (end - p > SEMVER_MAX_LENGTH) /* npm counts before trimming */
		return "longer than 256 characters";
	while (p < end && isspace_c((unsigned char)*p))
		p++;
	while (end > p && isspace_c((unsigned char)end[-1]))
		end--;
	if (p < end && *p == 'v')
		p++;
	for (int i = 0; i < 3; i++) {
		const char *e = numeric_ident(p, end);
		if (!e)
			return "not MAJOR.MINOR.PATCH (numbers without leading zeros)";
		x->num[i] = p;
		x->numlen[i] = (size_t)(e - p);
		p = e;
		if (i < 2) {
			if (p == end || *p != '.')
				return "not MAJOR.MINOR.PATCH (numbers without leading zeros)";
			p++;
		}
	}
	x->pre = x->pre_end = NULL;
	if (p < end && *p == '-') {
		x->pre = p + 1;
		if (!(p = ident_list(p + 1, end, 0)))
			return "bad pre-release identifier";
		x->pre_end = p;
	}
	if (p < end && *p == '+' && !(p = ident_list(p + 1, end, 1)))
		return "bad build metadata";
	if (p != end)
		return "unexpected characters after the version";
	return NULL;
}

static int ident_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int anum = 1, bnum = 1;
	for (size_t i = 0; i < an; i++)
		anum &= dd_ver_isdigit(a[i]);
	for (size_t i = 0; i < bn; i++)
		bnum &= dd_ver_isdigit(b[i]);
	if (anum && bnum)
		return dd_ver_numcmp(a, an, b, bn);
	if (anum != bnum)
		return anum ? -1 : 1;
	return dd_ver_strcmp(a, an, b, bn);
}

static int pre_cmp(const char *a, const char *ae, const char *b, const char *be)
{
	if (!a || !b)
		return (a == NULL) - (b == NULL); /* no pre-release sorts last */
	for (;;) {
		const char *ea = memchr(a, '.', (size_t)(ae - a)), *eb;
		int r;
		eb = memchr(b, '.', (size_t)(be - b));
		if (!ea)
			ea = ae;
		if (!eb)
			eb = be;
		if ((r = ident_cmp(a, (size_t)(ea - a), b, (size_t)(eb - b))))
			return r;
		if (ea == ae || eb == be)
			return (ea != ae) - (eb != be);
		a = ea + 1, b = eb + 1;
	}
}

int dd_ver_semver_valid(const char *v, dd_error *err)
{
	struct sv x;
	const char *why = parse(v, &x);
	return why ? dd_ver_bad(err, "semver", v, why) : 0;
}

int dd_ver_semver_cmp(const char *a, const char *b, int *out, dd_error *err)
{
	struct sv x, y;
	const char *why;
	int r = 0;

	if ((why = parse(a, &x)))
		return dd_ver_bad(err, "semver", a, why);
	if ((why = parse(b, &y)))
		return dd_ver_bad(err, "semver", b, why);
	for (int i = 0; i < 3 && !r; i++)
		r = dd_ver_numcmp(x.num[i], x.numlen[i], y.num[i], y.numlen[i]);
	if (!r)
		r = pre_cmp(x.pre, x.pre_end, y.pre, y.pre_end);
	*out = r;
	return 0;
}
