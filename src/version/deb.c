/*
 * deb.c - Debian version ordering, as dpkg (lib/dpkg/parsehelp.c
 * parseversion, lib/dpkg/version.c verrevcmp).
 *
 * [epoch:]upstream[-revision]; the revision is everything after the last
 * '-'.  Within upstream and revision, non-digit runs compare character by
 * character with '~' before the end of the string, the end before letters,
 * letters before everything else; digit runs compare as numbers.
 *
 * dpkg itself only warns (and still compares) when the upstream version does
 * not start with a digit or holds a character outside [A-Za-z0-9.+~:-];
 * drydock rejects those, as Debian policy does (docs/matching.md).
 */
#include <limits.h>
#include <stddef.h>

#include "version/internal.h"
#include "util/banned.h"

struct debver {
	long epoch;
	const char *up, *up_end;   /* upstream version */
	const char *rev, *rev_end; /* revision, empty when absent */
};

static int isblank_c(int c) { return c == ' ' || c == '\t'; }
static int isspace_c(int c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* dpkg's epoch: strtol() over [s, colon) that must end exactly at colon. */
static const char *parse_epoch(const char *s, const char *colon, long *out)
{
	const char *p = s, *digits;
	int neg = 0;
	long v = 0;

	while (p < colon && isspace_c((unsigned char)*p))
		p++;
	if (p < colon && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	digits = p;
	while (p < colon && dd_ver_isdigit(*p)) {
		if (v > (LONG_MAX - 9) / 10)
			v = LONG_MAX; /* saturate: "too big" below */
		else
			v = v * 10 + (*p - '0');
		p++;
	}
	if (p == digits)
		return "epoch in version is empty";
	if (p != colon)
		return "epoch in version is not number";
	if (neg && v > 0)
		return "epoch in version is negative";
	if (v > INT_MAX)
		return "epoch in version is too big";
	*out = v;
	return NULL;
}

/* Characters dpkg allows: alphanumerics and ".+~", plus "-:" upstream. */
static int allowed_char(int c, int upstream)
{
	switch (c) {
	case '.': case '+': case '~':
		return 1;
	case '-': case ':':
		return upstream;
	default:
		return dd_ver_isalnum(c);
	}
}

static const char *check_chars(const char *p, const char *end, int upstream)
{
	for (; p < end; p++)
		if (!allowed_char((unsigned char)*p, upstream))
			return upstream ? "invalid character in version number"
					: "invalid character in revision number";
	return NULL;
}

/* Split and check v as dpkg's parseversion does; NULL or the reason. */
static const char *parse(const char *v, struct debver *d)
{
	const char *s = v, *end, *p, *colon, *hyphen = NULL, *why;

	while (*s && isblank_c(*s))
		s++;
	if (!*s)
		return "version string is empty";
	for (end = s; *end && !isblank_c(*end); end++)
		;
	for (p = end; *p && isblank_c(*p); p++)
		;
	if (*p)
		return "version string has embedded spaces";
	d->epoch = 0;
	colon = memchr(s, ':', (size_t)(end - s));
	if (colon) {
		if ((why = parse_epoch(s, colon, &d->epoch)))
			return why;
		if (colon + 1 == end)
			return "nothing after colon in version number";
		s = colon + 1;
	}
	for (p = s; p < end; p++)
		if (*p == '-')
			hyphen = p;
	d->up = s;
	d->up_end = hyphen ? hyphen : end;
	d->rev = d->rev_end = end;
	if (hyphen) {
		d->rev = hyphen + 1;
		if (d->rev == end)
			return "revision number is empty";
	}
	if (d->up == d->up_end)
		return "version number is empty";
	if (!dd_ver_isdigit(*d->up))
		return "version number does not start with digit";
	if ((why = check_chars(d->up, d->up_end, 1)))
		return why;
	return check_chars(d->rev, d->rev_end, 0);
}

/* dpkg's order(): '~' < end < letters < other characters. */
static int order(int c)
{
	if (dd_ver_isdigit(c))
		return 0;
	if (dd_ver_isalpha(c))
		return c;
	if (c == '~')
		return -1;
	if (c)
		return c + 256;
	return 0;
}

#define AT(p, e) ((p) < (e) ? (unsigned char)*(p) : 0)

/* dpkg's verrevcmp over the ranges [a, ae) and [b, be). */
static int verrevcmp(const char *a, const char *ae, const char *b, const char *be)
{
	while (a < ae || b < be) {
		int first_diff = 0;

		while ((a < ae && !dd_ver_isdigit(*a)) || (b < be && !dd_ver_isdigit(*b))) {
			int ac = order(AT(a, ae)), bc = order(AT(b, be));
			if (ac != bc)
				return ac - bc;
			a++, b++;
		}
		while (a < ae && *a == '0')
			a++;
		while (b < be && *b == '0')
			b++;
		while (dd_ver_isdigit(AT(a, ae)) && dd_ver_isdigit(AT(b, be))) {
			if (!first_diff)
				first_diff = *a - *b;
			a++, b++;
		}
		if (dd_ver_isdigit(AT(a, ae)))
			return 1;
		if (dd_ver_isdigit(AT(b, be)))
			return -1;
		if (first_diff)
			return first_diff;
	}
	return 0;
}

int dd_ver_deb_valid(const char *v, dd_error *err)
{
	struct debver d;
	const char *why = parse(v, &d);
	return why ? dd_ver_bad(err, "deb", v, why) : 0;
}

int dd_ver_deb_cmp(const char *a, const char *b, int *out, dd_error *err)
{
	struct debver x, y;
	const char *why;
	int r;

	if ((why = parse(a, &x)))
		return dd_ver_bad(err, "deb", a, why);
	if ((why = parse(b, &y)))
		return dd_ver_bad(err, "deb", b, why);
	r = x.epoch < y.epoch ? -1 : x.epoch > y.epoch;
	if (!r)
		r = verrevcmp(x.up, x.up_end, y.up, y.up_end);
	if (!r)
		r = verrevcmp(x.rev, x.rev_end, y.rev, y.rev_end);
	*out = dd_ver_sign(r);
	return 0;
}
