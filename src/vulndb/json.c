/* json.c - a fast JSON reader for the feed importers (see import_internal.h:
 * dd_vimport_json_load()).
 *
 * jansson's own parser reads one character at a time through a stream
 * layer and was about 40% of the CPU time of an OSV import.  This reader
 * scans the buffer directly and builds the same jansson tree with
 * jansson's constructors.  It accepts only the ordinary case: whenever it
 * meets anything unusual (a syntax error, an escaped object key, a number
 * out of range, a lone surrogate, very deep nesting, ...) it gives up and
 * the document goes to json_loadb(JSON_ALLOW_NUL), which decides and
 * explains.  So the result is always what json_loadb() returns; the fuzz
 * target tests/fuzz/fuzz_vjson.c checks that the two trees are equal. */
#include "vulndb/import_internal.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/banned.h"

/* Below jansson's JSON_PARSER_MAX_DEPTH (2048): deeper goes to jansson. */
#define FAST_MAX_DEPTH 1024

struct rd {
	const unsigned char *p, *end;
	dd_buf scratch; /* unescaped strings */
};

/* 1: a byte that ends the fast scan of a string: '"', '\\', a control
 * character or a non-ASCII byte. */
static const unsigned char stop[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

static void skip_ws(struct rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
		r->p++;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, at most U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t n = end > p ? (size_t)(end - p) : 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0))
			return 0; /* overlong, surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
			return 0; /* overlong, above U+10FFFF */
		return 4;
	}
	return 0;
}

static int hex4(const unsigned char *p, const unsigned char *end, unsigned *out)
{
	unsigned v = 0;
	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		unsigned c = p[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

/* A string at r->p (just after its opening quote).  *s and *n: the text, in
 * the input when it has no escapes (then *escaped = 0), else in r->scratch.
 * Returns -1 to give up. */
static int read_string(struct rd *r, const char **s, size_t *n, int *escaped)
{
	const unsigned char *start = r->p, *p = r->p, *end = r->end;
	for (;;) {
		while (p < end && !stop[*p])
			p++;
		if (p >= end)
			return -1;
		if (*p == '"') {
			*s = (const char *)start;
			*n = (size_t)(p - start);
			*escaped = 0;
			r->p = p + 1;
			return 0;
		}
		if (*p == '\\')
			break;
		if (*p < 0x20)
			return -1;
		size_t l = utf8_len(p, end);
		if (!l)
			return -1;
		p += l;
	}
	/* Escapes: copy into the scratch buffer. */
	dd_buf_reset(&r->scratch);
	dd_buf_append(&r->scratch, start, (size_t)(p - start));
	while (p < end) {
		const unsigned char *q = p;
		while (q < end && !stop[*q])
			q++;
		if (q > p)
			dd_buf_append(&r->scratch, p, (size_t)(q - p));
		p = q;
		if (p >= end)
			return -1;
		if (*p == '"') {
			if (r->scratch.failed)
				return -1;
			*s = r->scratch.data ? r->scratch.data : "";
			*n = r->scratch.len;
			*escaped = 1;
			r->p = p + 1;
			return 0;
		}
		if (*p < 0x20)
			return -1;
		if (*p >= 0x80) {
			size_t l = utf8_len(p, end);
			if (!l)
				return -1;
			dd_buf_append(&r->scratch, p, l);
			p += l;
			continue;
		}
		/* backslash */
		if (end - p < 2)
			return -1;
		char c;
		switch (p[1]) {
		case '"': c = '"'; break;
		case '\\': c = '\\'; break;
		case '/': c = '/'; break;
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u': {
			unsigned cp, lo;
			if (hex4(p + 2, end, &cp))
				return -1;
			p += 6;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return -1; /* lone low surrogate */
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, end, &lo) ||
				    lo < 0xdc00 || lo > 0xdfff)
					return -1;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			}
			dd_buf_put_utf8(&r->scratch, cp);
			continue;
		}
		default:
			return -1;
		}
		dd_buf_append(&r->scratch, &c, 1);
		p += 2;
	}
	return -1;
}

/* JSON number grammar; integers as json_integer (json_int_t), others as
 * json_real, like jansson.  Out of range: give up. */
static json_t *read_number(struct rd *r)
{
	const unsigned char *p = r->p, *end = r->end, *start = r->p;
	int neg = 0, is_real = 0;
	if (p < end && *p == '-') {
		neg = 1;
		p++;
	}
	if (p >= end || *p < '0' || *p > '9')
		return NULL;
	if (*p == '0') {
		p++;
		if (p < end && *p >= '0' && *p <= '9')
			return NULL; /* leading zero */
	} else {
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && *p == '.') {
		is_real = 1;
		p++;
		if (p >= end || *p < '0' || *p > '9')
			return NULL;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		is_real = 1;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || *p < '0' || *p > '9')
			return NULL;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	r->p = p;
	if (!is_real) {
		/* Accumulate negatively: json_int_t's minimum is representable. */
		json_int_t v = 0;
		for (const unsigned char *d = start + neg; d < p; d++) {
			int digit = *d - '0';
			if (v < (LLONG_MIN + digit) / 10)
				return NULL;
			v = v * 10 - digit;
		}
		if (!neg) {
			if (v == LLONG_MIN)
				return NULL;
			v = -v;
		}
		return json_integer(v);
	}
	char tmp[64];
	size_t len = (size_t)(p - start);
	if (len >= sizeof(tmp))
		return NULL;
	memcpy(tmp, start, len);
	tmp[len] = '\0';
	/* The C locale's '.' (drydock never sets LC_NUMERIC).  Like jansson:
	 * overflow is an error, underflow gives a subnormal or 0. */
	char *stop_at = NULL;
	double d = strtod(tmp, &stop_at);
	if (stop_at != tmp + len || isinf(d) || isnan(d))
		return NULL; /* (a locale with another decimal point: jansson copes) */
	return json_real(d);
}

static json_t *read_value(struct rd *r, int depth);

static json_t *read_object(struct rd *r, int depth)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	skip_ws(r);
	if (r->p < r->end && *r->p == '}') {
		r->p++;
		return o;
	}
	for (;;) {
		const char *k;
		size_t kn;
		int esc;
		json_t *v;
		if (r->p >= r->end || *r->p != '"')
			goto fail;
		r->p++;
		/* An escaped key would live in the scratch buffer, which the
		 * value reuses: jansson handles those (rare) documents. */
		if (read_string(r, &k, &kn, &esc) || esc)
			goto fail;
		skip_ws(r);
		if (r->p >= r->end || *r->p != ':')
			goto fail;
		r->p++;
		if (!(v = read_value(r, depth)))
			goto fail;
		if (json_object_setn_new_nocheck(o, k, kn, v))
			goto fail;
		skip_ws(r);
		if (r->p >= r->end)
			goto fail;
		if (*r->p == '}') {
			r->p++;
			return o;
		}
		if (*r->p != ',')
			goto fail;
		r->p++;
		skip_ws(r);
	}
fail:
	json_decref(o);
	return NULL;
}

static json_t *read_array(struct rd *r, int depth)
{
	json_t *a = json_array();
	if (!a)
		return NULL;
	skip_ws(r);
	if (r->p < r->end && *r->p == ']') {
		r->p++;
		return a;
	}
	for (;;) {
		json_t *v = read_value(r, depth);
		if (!v || json_array_append_new(a, v))
			goto fail;
		skip_ws(r);
		if (r->p >= r->end)
			goto fail;
		if (*r->p == ']') {
			r->p++;
			return a;
		}
		if (*r->p != ',')
			goto fail;
		r->p++;
	}
fail:
	json_decref(a);
	return NULL;
}

static int literal(struct rd *r, const char *word, size_t n)
{
	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return -1;
	r->p += n;
	return 0;
}

static json_t *read_value(struct rd *r, int depth)
{
	skip_ws(r);
	if (r->p >= r->end)
		return NULL;
	switch (*r->p) {
	case '{':
		if (depth >= FAST_MAX_DEPTH)
			return NULL;
		r->p++;
		return read_object(r, depth + 1);
	case '[':
		if (depth >= FAST_MAX_DEPTH)
			return NULL;
		r->p++;
		return read_array(r, depth + 1);
	case '"': {
		const char *s;
		size_t n;
		int esc;
		r->p++;
		if (read_string(r, &s, &n, &esc))
			return NULL;
		return json_stringn_nocheck(s, n);
	}
	case 't':
		return literal(r, "true", 4) ? NULL : json_true();
	case 'f':
		return literal(r, "false", 5) ? NULL : json_false();
	case 'n':
		return literal(r, "null", 4) ? NULL : json_null();
	default:
		return read_number(r);
	}
}

json_t *dd_vimport_json_fast(const char *data, size_t len)
{
	struct rd r;
	json_t *root;
	r.p = (const unsigned char *)data;
	r.end = r.p + len;
	dd_buf_init(&r.scratch, 0);
	skip_ws(&r);
	/* json_loadb without JSON_DECODE_ANY: an object or an array. */
	if (r.p >= r.end || (*r.p != '{' && *r.p != '['))
		root = NULL;
	else if ((root = read_value(&r, 0))) {
		skip_ws(&r);
		if (r.p != r.end) {
			json_decref(root);
			root = NULL;
		}
	}
	dd_buf_release(&r.scratch);
	return root;
}

json_t *dd_vimport_json_load(const char *data, size_t len, json_error_t *je)
{
	json_t *root = dd_vimport_json_fast(data, len);
	if (root)
		return root;
	return json_loadb(data, len, JSON_ALLOW_NUL, je);
}
