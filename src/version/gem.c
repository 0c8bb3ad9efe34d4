/*
 * gem.c - RubyGems version ordering, as Gem::Version#<=> (rubygems 3.3).
 *
 * Valid: /\A\s*([0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?)?\s*\z/
 * (blank means "0").  Each '-' reads as ".pre.", and the version splits
 * into segments: runs of digits (numbers) and runs of letters (strings).
 * Trailing zeros are dropped from the numbers before the first string and
 * from the end; then segments compare pairwise (missing = 0): a string is
 * older than a number (so "1.0.a" is a pre-release of "1.0"), numbers
 * compare as numbers and strings byte-wise.
 */
#include <stddef.h>

#include "version/internal.h"
#include "util/banned.h"

struct seg {
	int str; /* 0 number, 1 string */
	const char *p;
	size_t n;
};

/* The segments of [s, e) in order; a '-' is the segment "pre". */
struct segiter {
	const char *p, *end;
	size_t idx;
};

static int isspace_rb(int c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

static int next_seg(struct segiter *it, struct seg *out)
{
	while (it->p < it->end && *it->p != '-' && !dd_ver_isalnum((unsigned char)*it->p))
		it->p++;
	if (it->p == it->end)
		return 0;
	it->idx++;
	if (*it->p == '-') {
		*out = (struct seg){ 1, "pre", 3 };
		it->p++;
		return 1;
	}
	out->p = it->p;
	out->str = !dd_ver_isdigit(*it->p);
	while (it->p < it->end && (out->str ? dd_ver_isalpha(*it->p) : dd_ver_isdigit(*it->p)))
		it->p++;
	out->n = (size_t)(it->p - out->p);
	return 1;
}

static int seg_is_zero(const struct seg *s)
{
	if (s->str)
		return 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->p[i] != '0')
			return 0;
	return 1;
}

/* canonical_segments: indices [1, num_last] and [first_str, str_last]
 * (1-based) survive. */
struct canon {
	const char *p, *end;
	size_t num_last, first_str, str_last;
};

static void canonicalize(const char *p, const char *end, struct canon *c)
{
	struct segiter it = { p, end, 0 };
	struct seg s;

	*c = (struct canon){ p, end, 0, 0, 0 };
	while (next_seg(&it, &s)) {
		if (s.str && !c->first_str)
			c->first_str = it.idx;
		if (!seg_is_zero(&s)) {
			if (c->first_str)
				c->str_last = it.idx;
			else
				c->num_last = it.idx;
		}
	}
}

/* Next canonical segment, or 0 at the end. */
static int next_canon(const struct canon *c, struct segiter *it, struct seg *out)
{
	while (next_seg(it, out)) {
		if (it->idx <= c->num_last && (!c->first_str || it->idx < c->first_str))
			return 1;
		if (c->first_str && it->idx >= c->first_str && it->idx <= c->str_last)
			return 1;
	}
	return 0;
}

static const char *parse(const char *v, const char **pe)
{
	const char *p = v, *end = v + strlen(v), *q;

	while (p < end && isspace_rb((unsigned char)*p))
		p++;
	while (end > p && isspace_rb((unsigned char)end[-1]))
		end--;
	*pe = end;
	if (p == end)
		return p; /* blank: version "0" */
	for (q = p; q < end && dd_ver_isdigit(*q); q++)
		;
	if (q == p)
		return NULL;
	while (q + 1 < end && *q == '.' && dd_ver_isalnum((unsigned char)q[1]))
		for (q++; q < end && dd_ver_isalnum((unsigned char)*q); q++)
			;
	if (q < end && *q == '-') {
		do {
			const char *s = ++q;
			while (q < end && (dd_ver_isalnum((unsigned char)*q) || *q == '-'))
				q++;
			if (q == s)
				return NULL;
		} while (q < end && *q == '.');
	}
	return q == end ? p : NULL;
}

static int seg_cmp(const struct seg *x, const struct seg *y)
{
	if (x->str != y->str)
		return x->str ? -1 : 1;
	if (x->str)
		return dd_ver_strcmp(x->p, x->n, y->p, y->n);
	return dd_ver_numcmp(x->p, x->n, y->p, y->n);
}

int dd_ver_gem_valid(const char *v, dd_error *err)
{
	const char *e;
	return parse(v, &e) ? 0 : dd_ver_bad(err, "gem", v, "malformed version number string");
}

int dd_ver_gem_cmp(const char *a, const char *b, int *out, dd_error *err)
{
	static const struct seg zero = { 0, "0", 1 };
	const char *pa, *pb, *ea, *eb;
	struct canon ca, cb;
	struct segiter ia, ib;

	if (!(pa = parse(a, &ea)))
		return dd_ver_bad(err, "gem", a, "malformed version number string");
	if (!(pb = parse(b, &eb)))
		return dd_ver_bad(err, "gem", b, "malformed version number string");
	canonicalize(pa, ea, &ca);
	canonicalize(pb, eb, &cb);
	ia = (struct segiter){ pa, ea, 0 };
	ib = (struct segiter){ pb, eb, 0 };
	for (;;) {
		struct seg x, y;
		int hx = next_canon(&ca, &ia, &x), hy = next_canon(&cb, &ib, &y), r;
		if (!hx && !hy)
			break;
		if ((r = seg_cmp(hx ? &x : &zero, hy ? &y : &zero))) {
			*out = r;
			return 0;
		}
	}
	*out = 0;
	return 0;
}
