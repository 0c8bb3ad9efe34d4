/*
 * apk.c - Alpine version ordering, as apk-tools 3 (src/version.c).
 *
 * digit{.digit}...{letter}{_suffix{number}}...{~hash}{-r#}.  A version is
 * read as tokens (initial number, .number, letter, _suffix, suffix number,
 * ~commit hash, -r revision); tokens of the same kind compare pairwise
 * (numbers as numbers, except that a '.'-number with a leading zero compares
 * as a string; suffixes in the order _alpha _beta _pre _rc < none < _cvs
 * _svn _git _hg _p; hashes as strings).  When the kinds differ, the version
 * that ended is newer than one going on with a pre-release suffix and older
 * than one going on with anything else.  Like `apk version -t`, comparison
 * accepts malformed versions (the first bad token just stops the walk);
 * dd_version_valid() applies apk's stricter check.
 */
#include <stddef.h>
#include <stdint.h>

#include "version/internal.h"
#include "util/banned.h"

enum tok {
	T_INITIAL_DIGIT,
	T_DIGIT,
	T_LETTER,
	T_SUFFIX,
	T_SUFFIX_NO,
	T_COMMIT_HASH,
	T_REVISION_NO,
	T_END,
	T_INVALID,
};

enum { SUF_INVALID, SUF_ALPHA, SUF_BETA, SUF_PRE, SUF_RC, SUF_NONE,
       SUF_CVS, SUF_SVN, SUF_GIT, SUF_HG, SUF_P };

struct tstate {
	enum tok tok;
	int suffix;
	uint64_t number;           /* wraps like apk's apk_blob_pull_uint */
	const char *val, *val_end; /* the token's text */
	const char *p, *end;       /* rest of the input */
};

static int suffix_value(const char *s, size_t n)
{
	static const char *const names[] = {
		[SUF_ALPHA] = "alpha", [SUF_BETA] = "beta", [SUF_PRE] = "pre",
		[SUF_RC] = "rc", [SUF_CVS] = "cvs", [SUF_SVN] = "svn",
		[SUF_GIT] = "git", [SUF_HG] = "hg", [SUF_P] = "p",
	};
	for (int i = SUF_ALPHA; i <= SUF_P; i++)
		if (names[i] && strlen(names[i]) == n && memcmp(names[i], s, n) == 0)
			return i;
	return SUF_INVALID;
}

static int ishex(int c) { return dd_ver_isdigit(c) || (c >= 'a' && c <= 'f'); }

static void parse_digits(struct tstate *t)
{
	t->val = t->p;
	t->number = 0;
	while (t->p < t->end && dd_ver_isdigit(*t->p))
		t->number = t->number * 10 + (uint64_t)(*t->p++ - '0');
	t->val_end = t->p;
	if (t->val == t->val_end)
		t->tok = T_INVALID;
}

/* Take the run of characters matching ok() as the token's text. */
static void take_run(struct tstate *t, int (*ok)(int))
{
	t->val = t->p;
	while (t->p < t->end && ok((unsigned char)*t->p))
		t->p++;
	t->val_end = t->p;
}

static void token_first(struct tstate *t, const char *s)
{
	t->p = s;
	t->end = s + strlen(s);
	t->tok = T_INITIAL_DIGIT;
	parse_digits(t);
}

static int next_digits(struct tstate *t)
{
	if (t->tok == T_INITIAL_DIGIT || t->tok == T_DIGIT)
		t->tok = T_DIGIT;
	else if (t->tok == T_SUFFIX)
		t->tok = T_SUFFIX_NO;
	else
		return -1;
	parse_digits(t);
	return 0;
}

static void token_next(struct tstate *t)
{
	int bad = 0;

	if (t->p == t->end) {
		t->tok = T_END;
		return;
	}
	switch (*t->p) {
	case '.':
		if (t->tok > T_DIGIT) {
			bad = 1;
			break;
		}
		t->p++;
		bad = next_digits(t);
		break;
	case '_':
		if (t->tok > T_SUFFIX_NO) {
			bad = 1;
			break;
		}
		t->p++;
		take_run(t, dd_ver_islower);
		t->suffix = suffix_value(t->val, (size_t)(t->val_end - t->val));
		t->tok = T_SUFFIX;
		bad = t->suffix == SUF_INVALID;
		break;
	case '~':
		if (t->tok >= T_COMMIT_HASH) {
			bad = 1;
			break;
		}
		t->p++;
		take_run(t, ishex);
		t->tok = T_COMMIT_HASH;
		bad = t->val == t->val_end;
		break;
	case '-':
		if (t->tok >= T_REVISION_NO || t->end - t->p < 2 || t->p[1] != 'r') {
			bad = 1;
			break;
		}
		t->p += 2;
		t->tok = T_REVISION_NO;
		parse_digits(t);
		break;
	default:
		if (dd_ver_islower(*t->p)) {
			if (t->tok > T_DIGIT) {
				bad = 1;
				break;
			}
			t->val = t->p++;
			t->val_end = t->p;
			t->tok = T_LETTER;
		} else if (dd_ver_isdigit(*t->p)) {
			bad = next_digits(t);
		} else {
			bad = 1;
		}
	}
	if (bad)
		t->tok = T_INVALID;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

/* Compare two tokens of the same kind. */
static int token_cmp(const struct tstate *a, const struct tstate *b)
{
	switch (a->tok) {
	case T_DIGIT:
		if (*a->val == '0' || *b->val == '0')
			break; /* leading zero: string order, as Gentoo */
		/* fall through */
	case T_INITIAL_DIGIT:
	case T_SUFFIX_NO:
	case T_REVISION_NO:
		return cmp_u64(a->number, b->number);
	case T_LETTER:
		return cmp_u64((unsigned char)*a->val, (unsigned char)*b->val);
	case T_SUFFIX:
		return cmp_u64((uint64_t)a->suffix, (uint64_t)b->suffix);
	default:
		break;
	}
	return dd_ver_strcmp(a->val, (size_t)(a->val_end - a->val), b->val,
			     (size_t)(b->val_end - b->val));
}

static int compare(const char *a, const char *b)
{
	struct tstate ta, tb;
	int r;

	for (token_first(&ta, a), token_first(&tb, b); ta.tok == tb.tok && ta.tok < T_END;
	     token_next(&ta), token_next(&tb))
		if ((r = token_cmp(&ta, &tb)))
			return r;
	if (ta.tok == tb.tok)
		return 0;
	if (ta.tok == T_SUFFIX && ta.suffix < SUF_NONE)
		return -1;
	if (tb.tok == T_SUFFIX && tb.suffix < SUF_NONE)
		return 1;
	return ta.tok > tb.tok ? -1 : 1;
}

int dd_ver_apk_valid(const char *v, dd_error *err)
{
	struct tstate t;

	for (token_first(&t, v); t.tok < T_END; token_next(&t))
		;
	return t.tok == T_END ? 0 : dd_ver_bad(err, "apk", v, "not digit{.digit}...{letter}"
						   "{_suffix{#}}...{~hash}{-r#}");
}

int dd_ver_apk_cmp(const char *a, const char *b, int *out, dd_error *err)
{
	(void)err;
	*out = compare(a, b);
	return 0;
}
