/* yamlfast.c - a fast reader for the YAML that feed files use (see
 * import_internal.h: dd_vimport_yaml_fast()).
 *
 * libyaml's event parser was more than half of the CPU time of importing
 * the PyPA OSV YAML records.  This reader scans the buffer directly and
 * builds the same jansson tree as dd_vimport_yaml_load()'s libyaml
 * conversion (yaml.c): mappings become objects (keys in document order,
 * json_object_setn_new_nocheck() as there), sequences arrays, scalars
 * strings, and a plain `~`, `null`, `Null`, `NULL` or an empty value null.
 *
 * It accepts only a subset: block mappings with plain keys of
 * [A-Za-z0-9_][A-Za-z0-9_./+~-]* or quoted keys of printable ASCII without
 * escapes, block sequences (also `- key: value`
 * compact mappings, and sequences at the indentation of their mapping
 * key), plain, single- and double-quoted scalars (also over several lines),
 * `|` and `>` block scalars with their chomping and indentation indicators,
 * comments, empty values, `[]` and `{}`, and one leading `---`.  The
 * scanning of scalars follows libyaml's scanner step by step (folding of
 * line breaks, escapes, block scalar indentation and chomping).  Anything
 * else -- tabs, CR, control characters, invalid UTF-8, a BOM, anchors,
 * aliases, tags, directives, flow collections with content, a second
 * document, other or complex keys, indentation that is not exactly what
 * the subset expects, `\0`, `\/` and `\'` escapes, nesting deeper than
 * 60 -- makes it decline (return NULL), and the caller asks libyaml, which
 * decides and explains.  tests/unit/test_vulndb_yaml.c and the fuzz target
 * tests/fuzz/fuzz_vyaml.c compare the two. */
#include "vulndb/import_internal.h"

#include <stdint.h>
#include <string.h>

#include "util/banned.h"

#define YF_MAX_DEPTH 60  /* yaml.c refuses nesting deeper than 64 */
#define YF_MAX_KEY 1000  /* libyaml: a simple key is at most 1024 chars */
#define YF_MAX_COL 10000 /* columns fit an int comfortably */

struct yr {
	const unsigned char *p, *end;
	const unsigned char *ls; /* start of the line p is on */
	dd_buf sb;               /* a scalar being assembled */
	int depth;
};

/* ---- input check ------------------------------------------------------ */

/* Decline anything libyaml might treat differently from plain UTF-8 text
 * with '\n' line ends: control characters (tab, CR and NUL included), DEL,
 * the C1 range (NEL is a YAML line break), U+2028/U+2029 (line breaks),
 * U+FEFF (a BOM is skipped at some places), U+FFFE/U+FFFF, and invalid or
 * overlong UTF-8.  0: fine. */
static int prescan(const unsigned char *p, const unsigned char *end)
{
	while (p < end) {
		if (end - p >= 8) {
			/* eight printable ASCII bytes at once: none below 0x20
			 * (the usual test for a byte below n), none 0x7f or above */
			uint64_t x;
			memcpy(&x, p, 8);
			uint64_t low = (x - 0x2020202020202020u) & ~x & 0x8080808080808080u;
			uint64_t high = (x | (x + 0x0101010101010101u)) & 0x8080808080808080u;
			if (!(low | high)) {
				p += 8;
				continue;
			}
		}
		unsigned c = *p;
		if (c >= 0x20 && c < 0x7f) {
			p++;
			continue;
		}
		if (c == '\n') {
			p++;
			continue;
		}
		size_t n = (size_t)(end - p);
		unsigned cp;
		if (c >= 0xc2 && c <= 0xdf) {
			if (n < 2 || (p[1] & 0xc0) != 0x80)
				return -1;
			cp = ((c & 0x1fu) << 6) | (p[1] & 0x3fu);
			if (cp < 0xa0)
				return -1;
			p += 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
				return -1;
			cp = ((c & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu);
			if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0x2028 ||
			    cp == 0x2029 || cp == 0xfeff || cp >= 0xfffe)
				return -1;
			p += 3;
		} else if (c >= 0xf0 && c <= 0xf4) {
			if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
			    (p[3] & 0xc0) != 0x80)
				return -1;
			cp = ((c & 0x07u) << 18) | ((p[1] & 0x3fu) << 12) | ((p[2] & 0x3fu) << 6) |
			     (p[3] & 0x3fu);
			if (cp < 0x10000 || cp > 0x10ffff)
				return -1;
			p += 4;
		} else {
			return -1;
		}
	}
	return 0;
}

/* ---- lines -------------------------------------------------------------- */

static int blankz(const struct yr *r, const unsigned char *q)
{
	return q >= r->end || *q == ' ' || *q == '\n';
}

/* "---" or "..." followed by a blank, a line break or the end. */
static int doc_marker(const struct yr *r, const unsigned char *q)
{
	if (r->end - q < 3 || (q[0] != '-' && q[0] != '.') || q[1] != q[0] || q[2] != q[0])
		return 0;
	return blankz(r, q + 3);
}

static int dash_at(const struct yr *r, const unsigned char *q)
{
	return q < r->end && *q == '-' && blankz(r, q + 1);
}

/* 1: a byte that ends the fast scan of a plain scalar's line: '\n', '#'
 * or ':'. */
static const unsigned char plain_stop[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* 2: a plain key's first character ([A-Za-z0-9_]), 1: a later one
 * ([A-Za-z0-9_./+~-]), 0: neither. */
static const unsigned char key_class[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0,
	0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 2,
	0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 1, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* A simple key at q: a plain name ("name:"), or a single- or double-quoted
 * one of printable ASCII without escapes ("'name':"), followed by a blank,
 * a line break or the end.  1 with *k, *kn (the name) and *colon set, or 0. */
static int key_at(const struct yr *r, const unsigned char *q, const unsigned char **k,
		  size_t *kn, const unsigned char **colon)
{
	const unsigned char *s = q;
	if (q >= r->end)
		return 0;
	if (*q == '"' || *q == '\'') {
		unsigned quote = *q++;
		s = q;
		while (q < r->end && *q >= 0x20 && *q < 0x7f && *q != quote && *q != '\\')
			q++;
		if (q >= r->end || *q != quote)
			return 0;
		*kn = (size_t)(q - s);
		q++;
	} else {
		if (key_class[*q] != 2)
			return 0;
		while (q < r->end && key_class[*q])
			q++;
		*kn = (size_t)(q - s);
	}
	if (q >= r->end || *q != ':' || !blankz(r, q + 1) || *kn > YF_MAX_KEY)
		return 0;
	*k = s;
	*colon = q;
	return 1;
}

static int is_key(const struct yr *r, const unsigned char *q)
{
	const unsigned char *k, *c;
	size_t kn;
	return key_at(r, q, &k, &kn, &c);
}

/* r->p is at the start of a line (or the end).  Skip empty and comment
 * lines; returns the indentation of the next line with content (r->p and
 * r->ls at its start), -1 at the end, -2 to decline. */
static int next_line(struct yr *r)
{
	for (;;) {
		const unsigned char *q = r->p;
		r->ls = q;
		while (q < r->end && *q == ' ')
			q++;
		if (q >= r->end) {
			r->p = r->ls = q;
			return -1;
		}
		if (*q == '#') {
			while (q < r->end && *q != '\n')
				q++;
		}
		if (q >= r->end) {
			r->p = r->ls = q;
			return -1;
		}
		if (*q == '\n') {
			r->p = q + 1;
			continue;
		}
		if (q - r->p > YF_MAX_COL || (q == r->p && doc_marker(r, q)))
			return -2;
		return (int)(q - r->p);
	}
}

/* After a value on a line: only blanks and a comment may follow.  When the
 * scalar already consumed its line (r->p at a line start) nothing to do.
 * 0, or -1 to decline. */
static int finish_line(struct yr *r)
{
	const unsigned char *q = r->p;
	if (q == r->ls)
		return 0;
	while (q < r->end && *q == ' ')
		q++;
	if (q < r->end && *q == '#' && q > r->ls && q[-1] == ' ')
		while (q < r->end && *q != '\n')
			q++;
	if (q < r->end && *q != '\n')
		return -1;
	if (q < r->end)
		q++;
	r->p = r->ls = q;
	return 0;
}

/* ---- scalars ------------------------------------------------------------ */

static void put_nl(dd_buf *b, size_t n)
{
	while (n--)
		dd_buf_putc(b, '\n');
}

/* The assembled scalar: the one piece [s0, s0+n0) when nothing had to be
 * joined (no copy), else r->sb. */
static json_t *take(struct yr *r, const unsigned char *s0, size_t n0, int copied)
{
	if (!copied)
		return json_stringn_nocheck((const char *)s0, n0);
	if (r->sb.failed)
		return NULL;
	return json_stringn_nocheck(r->sb.data ? r->sb.data : "", r->sb.len);
}

/* Start copying into r->sb (the pieces so far were the single [s0, s0+n0)). */
static void start_copy(struct yr *r, const unsigned char *s0, size_t n0, int *copied)
{
	if (*copied)
		return;
	dd_buf_reset(&r->sb);
	dd_buf_append(&r->sb, s0, n0);
	*copied = 1;
}

/* A plain scalar at r->p in a collection at column pind: what libyaml's
 * yaml_parser_scan_plain_scalar() (block context) makes of it, a line at a
 * time.  Within a line the text from the first to the last non-blank is
 * kept as it is (libyaml copies the blanks between words); a line break
 * becomes a space, or n newlines when n empty lines follow it; a line less
 * indented than pind + 1, a comment or the end ends the scalar. */
static json_t *plain(struct yr *r, int pind)
{
	const unsigned char *p = r->p, *end = r->end, *ls = r->ls, *s0 = NULL;
	size_t n0 = 0;
	int copied = 0;
	long indent = (long)pind + 1;

	for (int first = 1;; first = 0) {
		/* The content of this line: [w, last), without trailing blanks. */
		const unsigned char *w = p, *q = p, *last;
		int comment = 0;
		for (;;) {
			while (q < end && !plain_stop[*q])
				q++;
			if (q < end && *q == ':') {
				if (blankz(r, q + 1))
					return NULL; /* a key or an error: libyaml decides */
				q++;
				continue;
			}
			if (q < end && *q == '#') {
				/* (never at w: a scalar does not start with '#') */
				if (q[-1] != ' ') {
					q++;
					continue;
				}
				comment = 1;
			}
			break;
		}
		last = q;
		while (last > w && last[-1] == ' ')
			last--;
		if (first) {
			s0 = w;
			n0 = (size_t)(last - w);
		} else {
			dd_buf_append(&r->sb, w, (size_t)(last - w));
		}
		if (comment || q >= end) {
			r->p = last;
			r->ls = ls;
			break;
		}
		/* q at a line break: count the empty lines after it. */
		size_t trailing = 0;
		p = q + 1;
		ls = p;
		for (;;) {
			while (p < end && *p == ' ')
				p++;
			if (p >= end || *p != '\n')
				break;
			trailing++;
			ls = ++p;
		}
		if (p >= end || p - ls < indent || *p == '#') {
			r->p = r->ls = ls;
			break;
		}
		/* A continuation line: join. */
		start_copy(r, s0, n0, &copied);
		if (trailing == 0)
			dd_buf_putc(&r->sb, ' ');
		else
			put_nl(&r->sb, trailing);
	}
	if (!copied && ((n0 == 1 && s0[0] == '~') ||
			(n0 == 4 && (memcmp(s0, "null", 4) == 0 || memcmp(s0, "Null", 4) == 0 ||
				     memcmp(s0, "NULL", 4) == 0))))
		return json_null();
	return take(r, s0, n0, copied);
}

static int hexval(unsigned c)
{
	if (c >= '0' && c <= '9')
		return (int)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (int)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (int)(c - 'A' + 10);
	return -1;
}

/* The escape at p (p[0] == '\\', not before a line break) into r->sb;
 * returns its length, or 0 to decline. */
static size_t escape(struct yr *r, const unsigned char *p)
{
	if (r->end - p < 2)
		return 0;
	size_t digits = 0;
	unsigned cp = 0;
	switch (p[1]) {
	case 'a': cp = 7; break;
	case 'b': cp = 8; break;
	case 't': cp = 9; break;
	case 'n': cp = 10; break;
	case 'v': cp = 11; break;
	case 'f': cp = 12; break;
	case 'r': cp = 13; break;
	case 'e': cp = 27; break;
	case ' ': cp = ' '; break;
	case '"': cp = '"'; break;
	case '\\': cp = '\\'; break;
	case 'N': cp = 0x85; break;
	case '_': cp = 0xa0; break;
	case 'L': cp = 0x2028; break;
	case 'P': cp = 0x2029; break;
	case 'x': digits = 2; break;
	case 'u': digits = 4; break;
	case 'U': digits = 8; break;
	default:
		return 0; /* \0, \/, \' and unknown escapes: libyaml's business */
	}
	if (digits) {
		if ((size_t)(r->end - p) < 2 + digits)
			return 0;
		for (size_t i = 0; i < digits; i++) {
			int h = hexval(p[2 + i]);
			if (h < 0)
				return 0;
			cp = (cp << 4) | (unsigned)h;
		}
		if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return 0;
	}
	dd_buf_put_utf8(&r->sb, cp);
	return 2 + digits;
}

/* A single- or double-quoted scalar at r->p (on its opening quote) in a
 * collection at column pind: libyaml's yaml_parser_scan_flow_scalar().
 * Continuation lines must be indented more than pind (libyaml does not
 * check; the subset does). */
static json_t *quoted(struct yr *r, int pind)
{
	const unsigned char *end = r->end, *ls = r->ls;
	int single = *r->p == '\'';
	unsigned q = single ? '\'' : '"';
	const unsigned char *p = r->p + 1, *w;

	/* The common case: one line, no escapes. */
	w = p;
	while (p < end && *p != q && *p != '\n' && (single || *p != '\\'))
		p++;
	if (p < end && *p == q && (!single || p + 1 >= end || p[1] != '\'')) {
		r->p = p + 1;
		return json_stringn_nocheck((const char *)w, (size_t)(p - w));
	}

	p = r->p + 1;
	dd_buf_reset(&r->sb);
	for (;;) {
		if ((p == ls && doc_marker(r, p)) || p >= end)
			return NULL;
		int leading_blanks = 0;
		w = p;
		while (p < end && *p != ' ' && *p != '\n') {
			if (single && *p == '\'' && p + 1 < end && p[1] == '\'') {
				dd_buf_append(&r->sb, w, (size_t)(p - w));
				dd_buf_putc(&r->sb, '\'');
				p += 2;
				w = p;
			} else if (*p == q) {
				break;
			} else if (!single && *p == '\\') {
				dd_buf_append(&r->sb, w, (size_t)(p - w));
				if (p + 1 < end && p[1] == '\n') {
					p += 2;
					ls = p;
					w = p;
					leading_blanks = 1;
					break;
				}
				size_t n = escape(r, p);
				if (!n)
					return NULL;
				p += n;
				w = p;
			} else {
				p++;
			}
		}
		dd_buf_append(&r->sb, w, (size_t)(p - w));
		if (p < end && *p == q) {
			p++;
			break;
		}
		/* Blanks and line breaks, then join or fold. */
		size_t nws = 0, trailing = 0;
		int leading_break = 0;
		while (p < end && (*p == ' ' || *p == '\n')) {
			if (*p == ' ') {
				if (!leading_blanks)
					nws++;
			} else if (!leading_blanks) {
				nws = 0;
				leading_blanks = 1;
				leading_break = 1;
			} else {
				trailing++;
			}
			if (*p++ == '\n')
				ls = p;
		}
		if (ls > r->ls && p < end && p - ls <= pind)
			return NULL; /* not indented more than its collection */
		if (leading_blanks) {
			if (leading_break && trailing == 0)
				dd_buf_putc(&r->sb, ' ');
			else
				put_nl(&r->sb, trailing);
		} else {
			while (nws--)
				dd_buf_putc(&r->sb, ' ');
		}
	}
	r->p = p;
	r->ls = ls;
	return take(r, NULL, 0, 1);
}

/* libyaml's yaml_parser_scan_block_scalar_breaks(). */
static void block_breaks(struct yr *r, const unsigned char **pp, const unsigned char **lsp,
			 long *indent, size_t *breaks, int pind)
{
	const unsigned char *p = *pp, *ls = *lsp;
	long max_indent = 0;
	for (;;) {
		while ((!*indent || p - ls < *indent) && p < r->end && *p == ' ')
			p++;
		if (p - ls > max_indent)
			max_indent = p - ls;
		if (p >= r->end || *p != '\n')
			break;
		p++;
		ls = p;
		(*breaks)++;
	}
	if (!*indent) {
		*indent = max_indent;
		if (*indent < (long)pind + 1)
			*indent = (long)pind + 1;
		if (*indent < 1)
			*indent = 1;
	}
	*pp = p;
	*lsp = ls;
}

/* A `|` or `>` block scalar at r->p in a collection at column pind:
 * libyaml's yaml_parser_scan_block_scalar(). */
static json_t *block(struct yr *r, int pind)
{
	const unsigned char *p = r->p, *end = r->end, *ls;
	int literal = *p++ == '|', chomping = 0, increment = 0;

	if (p < end && (*p == '+' || *p == '-')) {
		chomping = *p++ == '+' ? 1 : -1;
		if (p < end && *p >= '0' && *p <= '9') {
			if (*p == '0')
				return NULL;
			increment = *p++ - '0';
		}
	} else if (p < end && *p >= '0' && *p <= '9') {
		if (*p == '0')
			return NULL;
		increment = *p++ - '0';
		if (p < end && (*p == '+' || *p == '-'))
			chomping = *p++ == '+' ? 1 : -1;
	}
	while (p < end && *p == ' ')
		p++;
	if (p < end && *p == '#')
		while (p < end && *p != '\n')
			p++;
	if (p < end && *p != '\n')
		return NULL;
	if (p < end)
		p++;
	ls = p;

	long indent = increment ? (long)pind + increment : 0;
	size_t trailing = 0;
	int leading_break = 0, leading_blank = 0;
	dd_buf_reset(&r->sb);
	block_breaks(r, &p, &ls, &indent, &trailing, pind);
	while (p - ls == indent && p < end) {
		int trailing_blank = *p == ' ';
		if (!literal && leading_break && !leading_blank && !trailing_blank) {
			if (trailing == 0)
				dd_buf_putc(&r->sb, ' ');
		} else if (leading_break) {
			dd_buf_putc(&r->sb, '\n');
		}
		leading_break = 0;
		put_nl(&r->sb, trailing);
		trailing = 0;
		leading_blank = *p == ' ';
		const unsigned char *q = p;
		while (p < end && *p != '\n')
			p++;
		dd_buf_append(&r->sb, q, (size_t)(p - q));
		if (p < end) {
			p++;
			ls = p;
			leading_break = 1;
		}
		block_breaks(r, &p, &ls, &indent, &trailing, pind);
	}
	if (chomping != -1 && leading_break)
		dd_buf_putc(&r->sb, '\n');
	if (chomping == 1)
		put_nl(&r->sb, trailing);
	r->p = r->ls = p >= end ? end : ls;
	return take(r, NULL, 0, 1);
}

/* A scalar, `[]` or `{}` starting at r->p (not a key, not a `- `) on a
 * line of a collection at column pind, up to the end of its line. */
static json_t *inline_value(struct yr *r, int pind)
{
	const unsigned char *p = r->p;
	json_t *v = NULL;
	switch (*p) {
	case '"':
	case '\'':
		v = quoted(r, pind);
		break;
	case '|':
	case '>':
		v = block(r, pind);
		break;
	case '[':
	case '{':
		if (r->end - p < 2 || p[1] != (*p == '[' ? ']' : '}'))
			return NULL;
		v = *p == '[' ? json_array() : json_object();
		r->p += 2;
		break;
	case ',': case ']': case '}': case '#': case '&': case '*': case '!':
	case '%': case '@': case '`':
		return NULL;
	case '-': case '?': case ':':
		if (blankz(r, p + 1))
			return NULL;
		v = plain(r, pind);
		break;
	default:
		v = plain(r, pind);
		break;
	}
	if (v && finish_line(r)) {
		json_decref(v);
		v = NULL;
	}
	return v;
}

/* ---- collections -------------------------------------------------------- */

static json_t *mapping(struct yr *r, int col);
static json_t *sequence(struct yr *r, int col, int indentless);

/* The value after a mapping key's ':' (in_map) or a sequence's '-', r->p
 * just after that indicator, in a collection at column pind. */
static json_t *node_after(struct yr *r, int pind, int in_map)
{
	const unsigned char *q = r->p;
	while (q < r->end && *q == ' ')
		q++;
	if (q >= r->end || *q == '\n' || *q == '#') {
		/* '#' here always follows a blank: ':' and '-' need one */
		while (q < r->end && *q != '\n')
			q++;
		if (q < r->end)
			q++;
		r->p = r->ls = q;
		int c = next_line(r);
		if (c == -2)
			return NULL;
		if (c < pind)
			return json_null();
		if (c == pind) {
			if (in_map && dash_at(r, r->p + c)) {
				r->p += c;
				return sequence(r, c, 1);
			}
			return json_null();
		}
		r->p += c;
		if (dash_at(r, r->p))
			return sequence(r, c, 0);
		if (is_key(r, r->p))
			return mapping(r, c);
		return NULL; /* a scalar on the next line: libyaml's */
	}
	r->p = q;
	if (q - r->ls > YF_MAX_COL)
		return NULL;
	if (!in_map) {
		if (dash_at(r, q))
			return sequence(r, (int)(q - r->ls), 0);
		if (is_key(r, q))
			return mapping(r, (int)(q - r->ls));
	}
	return inline_value(r, pind);
}

/* A block mapping whose first key is at r->p, column col. */
static json_t *mapping(struct yr *r, int col)
{
	json_t *obj = json_object();
	if (!obj || ++r->depth > YF_MAX_DEPTH)
		goto bad;
	for (;;) {
		const unsigned char *k, *colon;
		size_t kn;
		if (!key_at(r, r->p, &k, &kn, &colon))
			goto bad;
		r->p = colon + 1;
		json_t *v = node_after(r, col, 1);
		if (!v || json_object_setn_new_nocheck(obj, (const char *)k, kn, v))
			goto bad;
		int c = next_line(r);
		if (c == -2 || c > col)
			goto bad;
		if (c < col)
			break;
		r->p += c;
	}
	r->depth--;
	return obj;
bad:
	json_decref(obj);
	return NULL;
}

/* A block sequence whose first '-' is at r->p, column col; indentless: the
 * value of a mapping key at the same column (ends at that mapping's next
 * key). */
static json_t *sequence(struct yr *r, int col, int indentless)
{
	json_t *arr = json_array();
	if (!arr || ++r->depth > YF_MAX_DEPTH)
		goto bad;
	for (;;) {
		r->p++; /* the '-' */
		json_t *v = node_after(r, col, 0);
		if (!v || json_array_append_new(arr, v))
			goto bad;
		int c = next_line(r);
		if (c == -2 || c > col)
			goto bad;
		if (c < col)
			break;
		if (!dash_at(r, r->p + c)) {
			if (indentless)
				break;
			goto bad;
		}
		r->p += c;
	}
	r->depth--;
	return arr;
bad:
	json_decref(arr);
	return NULL;
}

json_t *dd_vimport_yaml_fast(const char *data, size_t len)
{
	struct yr r = { 0 };
	json_t *root = NULL;

	if (!data || prescan((const unsigned char *)data, (const unsigned char *)data + len))
		return NULL;
	r.p = r.ls = (const unsigned char *)data;
	r.end = r.p + len;
	dd_buf_init(&r.sb, 0);
	if (doc_marker(&r, r.p) && r.p[0] == '-') {
		/* "---" alone on the first line (a comment may follow) */
		r.p += 3;
		while (r.p < r.end && *r.p == ' ')
			r.p++;
		if (r.p < r.end && *r.p == '#' && r.p[-1] == ' ')
			while (r.p < r.end && *r.p != '\n')
				r.p++;
		if (r.p < r.end && *r.p != '\n')
			goto done;
		if (r.p < r.end)
			r.p++;
		r.ls = r.p;
	}
	if (next_line(&r) != 0)
		goto done;
	if (dash_at(&r, r.p))
		root = sequence(&r, 0, 0);
	else if (is_key(&r, r.p))
		root = mapping(&r, 0);
	if (root && next_line(&r) != -1) {
		json_decref(root);
		root = NULL;
	}
done:
	dd_buf_release(&r.sb);
	return root;
}
