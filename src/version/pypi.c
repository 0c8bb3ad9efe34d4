/*
 * pypi.c - PEP 440 version ordering, as Python's packaging.version.Version
 * (packaging >= 22: "legacy" versions are invalid).
 *
 * [N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local], case-insensitive, with the
 * PEP's alternative spellings (alpha, beta, c, pre, preview; rev, r; the
 * implicit post release "-N"; '-', '_' or '.' separators or none; missing
 * numbers = 0; a leading 'v'; surrounding whitespace).  Order: epoch,
 * release (trailing zeros ignored), then dev-only releases < pre-releases
 * < the release < post releases, dev releases before their base, and a
 * local version after the same public version (numeric local segments
 * above alphanumeric ones).
 */
#include <stddef.h>

#include "version/internal.h"
#include "util/banned.h"

struct num {
	const char *p;
	size_t n; /* 0: absent (counts as 0) */
};

struct pep {
	struct num epoch;
	const char *rel, *rel_end;
	int pre;       /* 0 none, 1 a, 2 b, 3 rc */
	struct num pre_n;
	int has_post, has_dev;
	struct num post_n, dev_n;
	const char *local, *local_end; /* NULL when absent */
};

/* Python's \s for ASCII: space, \t-\r and \x1c-\x1f. */
static int isspace_py(int c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}
static int issep(int c) { return c == '-' || c == '_' || c == '.'; }

static const char *digits(const char *p, const char *end, struct num *out)
{
	const char *s = p;
	while (p < end && dd_ver_isdigit(*p))
		p++;
	out->p = s;
	out->n = (size_t)(p - s);
	return p;
}

/* Match one of words[] (tried in order) case-insensitively at p; returns
 * the end of the match and its index in *which, or NULL. */
static const char *word(const char *p, const char *end, const char *const *words, int *which)
{
	for (int i = 0; words[i]; i++) {
		size_t n = strlen(words[i]);
		if ((size_t)(end - p) >= n && dd_ver_strcasecmp(p, n, words[i], n) == 0) {
			*which = i;
			return p + n;
		}
	}
	return NULL;
}

/* [-_.]?WORD[-_.]?N? ; returns the end or NULL (nothing consumed). */
static const char *labelled(const char *p, const char *end, const char *const *words,
			    int *which, struct num *n)
{
	const char *q = p, *e;

	if (q < end && issep(*q))
		q++;
	if (!(q = word(q, end, words, which)))
		return NULL;
	e = q;
	if (e < end && issep(*e))
		e++;
	e = digits(e, end, n);
	return e;
}

static const char *parse_pre(const char *p, const char *end, struct pep *x)
{
	static const char *const words[] = { "alpha", "a", "beta", "b", "preview", "pre",
					     "c", "rc", NULL };
	static const int rank[] = { 1, 1, 2, 2, 3, 3, 3, 3 };
	int w;
	const char *e = labelled(p, end, words, &w, &x->pre_n);
	if (!e)
		return p;
	x->pre = rank[w];
	return e;
}

static const char *parse_post(const char *p, const char *end, struct pep *x)
{
	static const char *const words[] = { "post", "rev", "r", NULL };
	int w;
	const char *e;

	if (p < end && *p == '-' && p + 1 < end && dd_ver_isdigit(p[1])) {
		x->has_post = 1;
		return digits(p + 1, end, &x->post_n);
	}
	if (!(e = labelled(p, end, words, &w, &x->post_n)))
		return p;
	x->has_post = 1;
	return e;
}

static const char *parse_dev(const char *p, const char *end, struct pep *x)
{
	static const char *const words[] = { "dev", NULL };
	int w;
	const char *e = labelled(p, end, words, &w, &x->dev_n);
	if (!e)
		return p;
	x->has_dev = 1;
	return e;
}

/* +[a-z0-9]+([-_.][a-z0-9]+)* */
static const char *parse_local(const char *p, const char *end, struct pep *x)
{
	const char *q;

	if (p == end || *p != '+')
		return p;
	q = p + 1;
	for (;;) {
		const char *s = q;
		while (q < end && dd_ver_isalnum((unsigned char)*q))
			q++;
		if (q == s)
			return p; /* not a local version: caller sees the '+' */
		if (q + 1 < end && issep(*q) && dd_ver_isalnum((unsigned char)q[1]))
			q++;
		else
			break;
	}
	x->local = p + 1;
	x->local_end = q;
	return q;
}

static const char *parse(const char *v, struct pep *x)
{
	const char *p = v, *end = v + strlen(v), *q;

	memset(x, 0, sizeof(*x));
	while (p < end && isspace_py((unsigned char)*p))
		p++;
	while (end > p && isspace_py((unsigned char)end[-1]))
		end--;
	if (p < end && (*p == 'v' || *p == 'V'))
		p++;
	q = digits(p, end, &x->epoch);
	if (x->epoch.n && q < end && *q == '!')
		p = q + 1;
	else
		x->epoch.n = 0;
	x->rel = p;
	while (p < end && dd_ver_isdigit(*p)) {
		struct num n;
		p = digits(p, end, &n);
		if (p + 1 < end && *p == '.' && dd_ver_isdigit(p[1]))
			p++;
	}
	x->rel_end = p;
	if (x->rel == x->rel_end)
		return "no release number";
	p = parse_pre(p, end, x);
	p = parse_post(p, end, x);
	p = parse_dev(p, end, x);
	p = parse_local(p, end, x);
	return p == end ? NULL : "not a PEP 440 version";
}

/* Next release component after *p (0 once the release is exhausted). */
static struct num next_component(const char **p, const char *end)
{
	struct num n = { *p, 0 };
	if (*p < end) {
		*p = digits(*p, end, &n);
		if (*p < end)
			(*p)++; /* the '.' */
	}
	return n;
}

static int release_cmp(const struct pep *a, const struct pep *b)
{
	const char *p = a->rel, *q = b->rel;
	while (p < a->rel_end || q < b->rel_end) {
		struct num x = next_component(&p, a->rel_end), y = next_component(&q, b->rel_end);
		int r = dd_ver_numcmp(x.p, x.n, y.p, y.n);
		if (r)
			return r;
	}
	return 0;
}

static int num_cmp(struct num a, struct num b) { return dd_ver_numcmp(a.p, a.n, b.p, b.n); }

/* packaging's _cmpkey pre element: -inf for a dev-only release, +inf for
 * no pre-release, else (letter, number). */
static int pre_cmp(const struct pep *a, const struct pep *b)
{
	int ka = !a->pre ? (!a->has_post && a->has_dev ? -1 : 1) : 0;
	int kb = !b->pre ? (!b->has_post && b->has_dev ? -1 : 1) : 0;
	if (ka != kb)
		return ka < kb ? -1 : 1;
	if (ka)
		return 0;
	if (a->pre != b->pre)
		return a->pre < b->pre ? -1 : 1;
	return num_cmp(a->pre_n, b->pre_n);
}

static int optional_cmp(int ha, struct num a, int hb, struct num b, int absent)
{
	if (!ha || !hb)
		return ha == hb ? 0 : (!ha ? absent : -absent);
	return num_cmp(a, b);
}

static int all_digits(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!dd_ver_isdigit(p[i]))
			return 0;
	return 1;
}

static int local_part_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int da = all_digits(a, an), db = all_digits(b, bn);
	if (da && db)
		return dd_ver_numcmp(a, an, b, bn);
	if (da != db)
		return da ? 1 : -1; /* numeric segments sort after alphanumeric */
	return dd_ver_strcasecmp(a, an, b, bn);
}

static size_t part_len(const char *p, const char *end)
{
	const char *s = p;
	while (p < end && !issep(*p))
		p++;
	return (size_t)(p - s);
}

static int local_cmp(const struct pep *x, const struct pep *y)
{
	const char *a = x->local, *b = y->local;
	if (!a || !b)
		return (a != NULL) - (b != NULL);
	for (;;) {
		size_t an = part_len(a, x->local_end), bn = part_len(b, y->local_end);
		int r = local_part_cmp(a, an, b, bn);
		if (r)
			return r;
		a += an, b += bn;
		if (a == x->local_end || b == y->local_end)
			return (a != x->local_end) - (b != y->local_end);
		a++, b++;
	}
}

int dd_ver_pypi_valid(const char *v, dd_error *err)
{
	struct pep x;
	const char *why = parse(v, &x);
	return why ? dd_ver_bad(err, "pypi", v, why) : 0;
}

int dd_ver_pypi_cmp(const char *a, const char *b, int *out, dd_error *err)
{
	struct pep x, y;
	const char *why;
	int r;

	if ((why = parse(a, &x)))
		return dd_ver_bad(err, "pypi", a, why);
	if ((why = parse(b, &y)))
		return dd_ver_bad(err, "pypi", b, why);
	r = num_cmp(x.epoch, y.epoch);
	if (!r)
		r = release_cmp(&x, &y);
	if (!r)
		r = pre_cmp(&x, &y);
	if (!r)
		r = optional_cmp(x.has_post, x.post_n, y.has_post, y.post_n, -1);
	if (!r)
		r = optional_cmp(x.has_dev, x.dev_n, y.has_dev, y.dev_n, 1);
	if (!r)
		r = local_cmp(&x, &y);
	*out = r;
	return 0;
}
