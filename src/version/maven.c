/*
 * maven.c - Maven version ordering, as maven-artifact 3.8's
 * ComparableVersion (the comparator Maven itself and OSV use).
 *
 * The version (lower-cased) is split into items at '.', at '-' and at every
 * change between digits and letters; '-' and a digit/letter change open a
 * nested list, so "1.0-rc-1" is [1, [rc, [1]]].  Numbers compare as
 * numbers and beat qualifiers and lists; qualifiers order alpha (a) < beta
 * (b) < milestone (m) < rc = cr < snapshot < "" = ga = final = release
 * < sp < any other string (those in string order); a letter a/b/m directly
 * followed by a digit is alpha/beta/milestone.  Trailing "null" items (0,
 * "", ga, final, release, empty lists) are dropped from every list, so
 * 1 = 1.0 = 1-0 = 1.ga.  A missing item compares as null.
 *
 * The items live in a flat array (a list's nested list is always its last
 * item, so lists form a chain): on the stack for up to STACK_ITEMS items,
 * on the heap beyond that.
 */
#include <stdlib.h>

#include "util/buf.h"
#include "version/internal.h"
#include "util/banned.h"

#define STACK_ITEMS 64

enum { M_NUM, M_STR, M_LIST };

struct mitem {
	unsigned char kind;   /* M_LIST marks the start of a nested list */
	unsigned char dead;   /* removed by normalisation */
	unsigned char digitf; /* string followed by a digit: a/b/m expand */
	const char *p;
	size_t n;
};

struct mver {
	struct mitem *it;
	size_t n, cap;
	int overflow;
};

static void add(struct mver *v, int kind, const char *p, size_t n, int digitf)
{
	if (v->n == v->cap) {
		v->overflow = 1;
		return;
	}
	v->it[v->n++] = (struct mitem){ (unsigned char)kind, 0, (unsigned char)digitf, p, n };
}

static int level_empty(const struct mver *v)
{
	return v->n == 0 || v->it[v->n - 1].kind == M_LIST;
}

/* ComparableVersion.parseItem(); an empty segment is IntItem.ZERO. */
static void add_item(struct mver *v, int digits, const char *p, size_t n)
{
	if (n == 0)
		add(v, M_NUM, "0", 1, 0);
	else
		add(v, digits ? M_NUM : M_STR, p, n, 0);
}

/* ComparableVersion.parseVersion(), without the normalisation. */
static void tokenize(struct mver *v, const char *s)
{
	size_t start = 0, len = strlen(s), i;
	int digits = 0;

	for (i = 0; i < len; i++) {
		char c = s[i];
		if (c == '.' || c == '-') {
			add_item(v, digits, s + start, i - start);
			start = i + 1;
			if (c == '-')
				add(v, M_LIST, NULL, 0, 0);
		} else if (dd_ver_isdigit(c)) {
			if (!digits && i > start) {
				if (!level_empty(v)) /* 1.0.0.X1 < 1.0.0-X2 */
					add(v, M_LIST, NULL, 0, 0);
				add(v, M_STR, s + start, i - start, 1);
				start = i;
				add(v, M_LIST, NULL, 0, 0);
			}
			digits = 1;
		} else {
			if (digits && i > start) {
				add(v, M_NUM, s + start, i - start, 0);
				start = i;
				add(v, M_LIST, NULL, 0, 0);
			}
			digits = 0;
		}
	}
	if (len > start) {
		if (!digits && !level_empty(v))
			add(v, M_LIST, NULL, 0, 0);
		add(v, digits ? M_NUM : M_STR, s + start, len - start, 0);
	}
}

/* A qualifier's rank: 0 alpha .. 6 sp, 7 for any other string. */
static int qualifier_rank(const struct mitem *it)
{
	static const char *const known[] = { "alpha", "beta", "milestone", "rc", "snapshot",
					     "", "sp" };
	static const struct {
		const char *alias;
		int rank;
	} aliases[] = { { "ga", 5 }, { "final", 5 }, { "release", 5 }, { "cr", 3 } };

	if (it->digitf && it->n == 1) {
		switch (dd_ver_tolower((unsigned char)*it->p)) {
		case 'a': return 0;
		case 'b': return 1;
		case 'm': return 2;
		}
	}
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strlen(aliases[i].alias) == it->n &&
		    dd_ver_strcasecmp(it->p, it->n, aliases[i].alias, it->n) == 0)
			return aliases[i].rank;
	for (int i = 0; i < 7; i++)
		if (strlen(known[i]) == it->n && dd_ver_strcasecmp(it->p, it->n, known[i], it->n) == 0)
			return i;
	return 7;
}

static int num_is_zero(const struct mitem *it)
{
	for (size_t i = 0; i < it->n; i++)
		if (it->p[i] != '0')
			return 0;
	return 1;
}

static int scalar_is_null(const struct mitem *it)
{
	return it->kind == M_NUM ? num_is_zero(it) : qualifier_rank(it) == 5;
}

/* ListItem.normalize() on every list, innermost first: drop trailing null
 * scalars of each list (a non-empty nested list does not stop the scan)
 * and nested lists left empty. */
static void normalize(struct mver *v)
{
	int trailing = 1, live = 0;

	for (size_t i = v->n; i-- > 0;) {
		struct mitem *it = &v->it[i];
		if (it->kind == M_LIST) {
			it->dead = !live;
			live = !it->dead;
			trailing = 1;
		} else if (trailing && scalar_is_null(it)) {
			it->dead = 1;
		} else {
			trailing = 0;
			live = 1;
		}
	}
}

/* Index of the next live item of the list at or after i, or n. */
static size_t next_live(const struct mver *v, size_t i)
{
	while (i < v->n && v->it[i].dead)
		i++;
	return i;
}

static int qualifier_cmp(const struct mitem *x, const struct mitem *y)
{
	int rx = qualifier_rank(x), ry = qualifier_rank(y);
	if (rx != ry)
		return rx < ry ? -1 : 1;
	if (rx != 7)
		return 0;
	return dd_ver_strcasecmp(x->p, x->n, y->p, y->n);
}

/* Item.compareTo() for a scalar x against a scalar, a list or null (y). */
static int scalar_cmp(const struct mitem *x, const struct mitem *y)
{
	if (x->kind == M_NUM) {
		if (!y)
			return !num_is_zero(x);
		return y->kind == M_NUM ? dd_ver_numcmp(x->p, x->n, y->p, y->n) : 1;
	}
	if (!y) {
		int rank = qualifier_rank(x);
		return rank < 5 ? -1 : rank > 5;
	}
	return y->kind == M_STR ? qualifier_cmp(x, y) : -1;
}

/* Item.compareTo() for two items of which at most one is a list or null. */
static int item_cmp(const struct mitem *x, const struct mitem *y)
{
	if (!x)
		return -scalar_cmp(y, NULL);
	if (x->kind != M_LIST)
		return scalar_cmp(x, y);
	return -scalar_cmp(y, x); /* x a list, y a scalar */
}

/* ListItem.compareTo(): the list of a starting at item i against the list
 * of b starting at j; a NULL side is null.  A nested list is the last item
 * of its parent, so comparing two nested lists (or one against null)
 * decides the parent's comparison: descend instead of recursing. */
static int list_cmp(const struct mver *a, size_t i, const struct mver *b, size_t j)
{
	for (;;) {
		const struct mitem *x = NULL, *y = NULL;
		int r;

		if (a && (i = next_live(a, i)) < a->n)
			x = &a->it[i];
		if (b && (j = next_live(b, j)) < b->n)
			y = &b->it[j];
		if (!x && !y)
			return 0;
		if ((!x || x->kind == M_LIST) && (!y || y->kind == M_LIST)) {
			if (x)
				i++;
			else
				a = NULL;
			if (y)
				j++;
			else
				b = NULL;
			continue;
		}
		if ((r = item_cmp(x, y)))
			return r;
		i++, j++;
	}
}

static int parse(struct mver *v, const char *s, struct mitem *stack, size_t nstack)
{
	size_t len = strlen(s), cap;

	*v = (struct mver){ stack, 0, nstack, 0 };
	tokenize(v, s);
	if (v->overflow) {
		/* at most 3 items per character, plus the last segment */
		if (dd_mul_size(&cap, len, 3) || dd_add_size(&cap, cap, 2))
			return DD_EENV;
		*v = (struct mver){ calloc(cap, sizeof(struct mitem)), 0, cap, 0 };
		if (!v->it)
			return DD_EENV;
		tokenize(v, s);
		if (v->overflow)
			return DD_EINTERNAL;
	}
	normalize(v);
	return 0;
}

static void release(struct mver *v, const struct mitem *stack)
{
	if (v->it != stack)
		free(v->it);
}

int dd_ver_maven_valid(const char *v, dd_error *err)
{
	(void)v;
	(void)err;
	return 0; /* ComparableVersion accepts every string */
}

int dd_ver_maven_cmp(const char *a, const char *b, int *out, dd_error *err)
{
	struct mitem sa[STACK_ITEMS], sb[STACK_ITEMS];
	struct mver x, y;
	int rc;

	if ((rc = parse(&x, a, sa, STACK_ITEMS)))
		return dd_error_set(err, rc, "maven: cannot compare version '%.200s'", a);
	if ((rc = parse(&y, b, sb, STACK_ITEMS))) {
		release(&x, sa);
		return dd_error_set(err, rc, "maven: cannot compare version '%.200s'", b);
	}
	*out = list_cmp(&x, 0, &y, 0);
	release(&x, sa);
	release(&y, sb);
	return 0;
}
