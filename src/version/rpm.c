/*
 * rpm.c - RPM version ordering, as rpm 4.18 (rpmio/rpmver.c rpmvercmp,
 * rpmverParse/rpmverCmp, which is what rpm's Lua rpm.vercmp() runs).
 *
 * An EVR string "[E:]V[-R]": the epoch is the leading digits when a ':'
 * follows them (missing = 0); the release is what follows the last '-'
 * after the epoch.  Epochs, versions and releases each compare with
 * rpmvercmp; with equal versions, a missing release sorts before any
 * release (even an empty one: "1" < "1-"), as rpm.vercmp() answers.
 *
 * rpmvercmp: separators (anything but ASCII letters, digits, '~', '^') only
 * split segments; '~' sorts before everything (even the end), '^' after the
 * end but before any further segment; digit runs compare as numbers and
 * beat letter runs; letter runs compare as strings.
 */
#include <stddef.h>

#include "version/internal.h"
#include "util/banned.h"

struct evr {
	const char *e, *e_end; /* NULL when there is no epoch */
	const char *v, *v_end;
	const char *r, *r_end; /* NULL when there is no release */
};

static int seg_char(int c)
{
	return dd_ver_isalnum(c) || c == '~' || c == '^';
}

/* rpmvercmp over [a, ae) and [b, be). */
static int vercmp(const char *a, const char *ae, const char *b, const char *be)
{
	if (ae - a == be - b && memcmp(a, b, (size_t)(ae - a)) == 0)
		return 0;
	while (a < ae || b < be) {
		const char *s1, *s2;
		int isnum, r;

		while (a < ae && !seg_char((unsigned char)*a))
			a++;
		while (b < be && !seg_char((unsigned char)*b))
			b++;
		if ((a < ae && *a == '~') || (b < be && *b == '~')) {
			if (a == ae || *a != '~')
				return 1;
			if (b == be || *b != '~')
				return -1;
			a++, b++;
			continue;
		}
		if ((a < ae && *a == '^') || (b < be && *b == '^')) {
			if (a == ae)
				return -1;
			if (b == be)
				return 1;
			if (*a != '^')
				return 1;
			if (*b != '^')
				return -1;
			a++, b++;
			continue;
		}
		if (a == ae || b == be)
			break;
		s1 = a, s2 = b;
		isnum = dd_ver_isdigit(*a);
		if (isnum) {
			while (s1 < ae && dd_ver_isdigit(*s1))
				s1++;
			while (s2 < be && dd_ver_isdigit(*s2))
				s2++;
		} else {
			while (s1 < ae && dd_ver_isalpha(*s1))
				s1++;
			while (s2 < be && dd_ver_isalpha(*s2))
				s2++;
		}
		if (s2 == b) /* different kinds: numbers are newer */
			return isnum ? 1 : -1;
		r = isnum ? dd_ver_numcmp(a, (size_t)(s1 - a), b, (size_t)(s2 - b))
			  : dd_ver_strcmp(a, (size_t)(s1 - a), b, (size_t)(s2 - b));
		if (r)
			return r;
		a = s1, b = s2;
	}
	if (a == ae && b == be)
		return 0;
	return a == ae ? -1 : 1;
}

/* rpm's parseEVR over the whole string. */
static void parse(const char *s, struct evr *x)
{
	const char *p = s, *end = s + strlen(s), *dash = NULL;

	while (dd_ver_isdigit(*p))
		p++;
	for (const char *q = p; q < end; q++)
		if (*q == '-')
			dash = q;
	x->e = x->e_end = NULL;
	x->v = s;
	if (*p == ':') {
		if (p > s) /* an empty epoch (":1.0") counts as 0 */
			x->e = s, x->e_end = p;
		x->v = p + 1;
	}
	x->v_end = dash ? dash : end;
	x->r = x->r_end = NULL;
	if (dash)
		x->r = dash + 1, x->r_end = end;
}

int dd_ver_rpm_valid(const char *v, dd_error *err)
{
	if (!*v)
		return dd_ver_bad(err, "rpm", v, "empty version");
	return 0;
}

int dd_ver_rpm_cmp(const char *a, const char *b, int *out, dd_error *err)
{
	static const char zero[] = "0";
	struct evr x, y;
	int r;

	if (dd_ver_rpm_valid(a, err) || dd_ver_rpm_valid(b, err))
		return DD_EINPUT;
	parse(a, &x);
	parse(b, &y);
	if (!x.e)
		x.e = zero, x.e_end = zero + 1;
	if (!y.e)
		y.e = zero, y.e_end = zero + 1;
	r = vercmp(x.e, x.e_end, y.e, y.e_end);
	if (!r)
		r = vercmp(x.v, x.v_end, y.v, y.v_end);
	if (!r && x.r && y.r)
		r = vercmp(x.r, x.r_end, y.r, y.r_end);
	else if (!r)
		r = (x.r != NULL) - (y.r != NULL); /* no release sorts first */
	*out = r;
	return 0;
}
