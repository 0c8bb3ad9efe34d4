/* sbom.c - helpers shared by the CycloneDX and SPDX writers (see sbom.h). */
#include "report/sbom.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "report/purl.h"
#include "util/digest.h"
#include "util/banned.h"

/* ---- SPDX license expressions ---- */

struct key {
	const char *s;
	size_t n;
};

static int id_cmp(const void *k, const void *e)
{
	const struct key *key = k;
	const char *id = *(const char *const *)e;
	int c = strncasecmp(key->s, id, key->n);
	if (c)
		return c;
	return id[key->n] ? -1 : 0;
}

const char *dd_spdx_license_lookup(const char *id, size_t n)
{
	struct key k = { id, n };
	const char *const *hit;
	if (!n || memchr(id, '\0', n))
		return NULL;
	hit = bsearch(&k, dd_spdx_license_ids, dd_spdx_license_ids_count,
		      sizeof(dd_spdx_license_ids[0]), id_cmp);
	return hit ? *hit : NULL;
}

/* A tiny recursive-descent parser over the SPDX 2.3 Annex D grammar:
 *   expr   := term ("OR" term)*
 *   term   := factor ("AND" factor)*
 *   factor := "(" expr ")" | simple ["WITH" exception]
 *   simple := listed-id ["+"]
 * Operators are accepted in any case and written upper-case. */
enum tok { T_END, T_ID, T_LP, T_RP, T_AND, T_OR, T_WITH, T_BAD };

#define LIC_MAX_DEPTH 16
#define LIC_MAX_LEN 4096

struct lex {
	const char *p;
	enum tok t;
	const char *s; /* token text (T_ID) */
	size_t n;
	int plus;      /* T_ID followed by '+' */
	dd_buf *out;
	int nids, nops, depth;
};

static int id_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-';
}

static void next(struct lex *l)
{
	while (*l->p == ' ' || *l->p == '\t' || *l->p == '\n' || *l->p == '\r')
		l->p++;
	l->plus = 0;
	if (!*l->p) {
		l->t = T_END;
		return;
	}
	if (*l->p == '(' || *l->p == ')') {
		l->t = *l->p == '(' ? T_LP : T_RP;
		l->p++;
		return;
	}
	if (!id_char(*l->p)) {
		l->t = T_BAD;
		return;
	}
	l->s = l->p;
	while (id_char(*l->p))
		l->p++;
	l->n = (size_t)(l->p - l->s);
	if (*l->p == '+') {
		l->plus = 1;
		l->p++;
	}
	l->t = T_ID;
	if (!l->plus) {
		if (l->n == 3 && strncasecmp(l->s, "AND", 3) == 0)
			l->t = T_AND;
		else if (l->n == 2 && strncasecmp(l->s, "OR", 2) == 0)
			l->t = T_OR;
		else if (l->n == 4 && strncasecmp(l->s, "WITH", 4) == 0)
			l->t = T_WITH;
	}
}

static int emit_id(struct lex *l)
{
	const char *canon;
	/* "GPL-2.0+" is itself a (deprecated) listed id; try it whole first. */
	if (l->plus && (canon = dd_spdx_license_lookup(l->s, l->n + 1))) {
		dd_buf_puts(l->out, canon);
	} else if ((canon = dd_spdx_license_lookup(l->s, l->n))) {
		dd_buf_puts(l->out, canon);
		if (l->plus)
			dd_buf_putc(l->out, '+');
	} else {
		return -1;
	}
	l->nids++;
	return 0;
}

static int parse_expr(struct lex *l);

static int parse_factor(struct lex *l)
{
	if (l->t == T_LP) {
		if (++l->depth > LIC_MAX_DEPTH)
			return -1;
		dd_buf_putc(l->out, '(');
		next(l);
		if (parse_expr(l) || l->t != T_RP)
			return -1;
		dd_buf_putc(l->out, ')');
		l->depth--;
		l->nops++;
		next(l);
		return 0;
	}
	if (l->t != T_ID || emit_id(l))
		return -1;
	next(l);
	if (l->t == T_WITH) {
		next(l);
		if (l->t != T_ID || l->plus)
			return -1;
		dd_buf_puts(l->out, " WITH ");
		if (emit_id(l))
			return -1;
		l->nops++;
		next(l);
	}
	return 0;
}

static int parse_term(struct lex *l)
{
	if (parse_factor(l))
		return -1;
	while (l->t == T_AND) {
		dd_buf_puts(l->out, " AND ");
		l->nops++;
		next(l);
		if (parse_factor(l))
			return -1;
	}
	return 0;
}

static int parse_expr(struct lex *l)
{
	if (parse_term(l))
		return -1;
	while (l->t == T_OR) {
		dd_buf_puts(l->out, " OR ");
		l->nops++;
		next(l);
		if (parse_term(l))
			return -1;
	}
	return 0;
}

enum dd_license_kind dd_license_classify(const char *s, dd_buf *canon)
{
	dd_buf tmp = DD_BUF_INIT_MAX(2 * LIC_MAX_LEN);
	struct lex l;
	enum dd_license_kind kind = DD_LICENSE_TEXT;
	const char *q;

	if (!s)
		return DD_LICENSE_NONE;
	for (q = s; *q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'; q++)
		;
	if (!*q)
		return DD_LICENSE_NONE;
	if (strlen(s) > LIC_MAX_LEN)
		return DD_LICENSE_TEXT;
	memset(&l, 0, sizeof(l));
	l.p = s;
	l.out = &tmp;
	next(&l);
	if (parse_expr(&l) == 0 && l.t == T_END && !tmp.failed) {
		kind = l.nops == 0 && l.nids == 1 && dd_spdx_license_lookup(tmp.data, tmp.len)
			       ? DD_LICENSE_ID : DD_LICENSE_EXPR;
		if (canon)
			dd_buf_append(canon, tmp.data, tmp.len);
	}
	dd_buf_release(&tmp);
	return kind;
}

/* ---- time and identifiers ---- */

int dd_sbom_time(time_t *out, int *fixed, dd_error *err)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	unsigned long long v = 0;

	*fixed = 0;
	if (!s) {
		*out = time(NULL);
		return 0;
	}
	if (!*s || strlen(s) > 12)
		goto bad;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		v = v * 10 + (unsigned long long)(*p - '0');
	}
	if (v > 253402300799ULL || (sizeof(time_t) < 8 && v > 0x7fffffffULL))
		goto bad;
	*out = (time_t)v;
	*fixed = 1;
	return 0;
bad:
	return dd_error_set(err, DD_EUSAGE,
			    "SOURCE_DATE_EPOCH '%.40s' is not a number of seconds since 1970 "
			    "(0 to 253402300799)", s);
}

void dd_sbom_rfc3339(char *buf, size_t n, time_t t)
{
	struct tm tm;
	if (!n)
		return;
	if (!gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, n, "1970-01-01T00:00:00Z");
}

int dd_sbom_uuid(char out[37], const char *format, const dd_inventory *inv, int fixed,
		 time_t t, dd_error *err)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	int rc;

	if (fixed) {
		dd_buf seed = DD_BUF_INIT;
		dd_digest d;
		dd_buf_printf(&seed, "drydock\n%s\n%s\n%lld\n%s\n%s\n%s\n%s\n", format, DD_VERSION,
			      (long long)t, dd_inventory_ref(inv), dd_inventory_manifest_digest(inv)->s,
			      dd_inventory_config_digest(inv)->s, dd_inventory_index_digest(inv)->s);
		if (seed.failed) {
			rc = dd_buf_error(&seed, err, "SBOM serial number");
			dd_buf_release(&seed);
			return rc;
		}
		rc = dd_digest_of(&d, seed.data, seed.len, err);
		dd_buf_release(&seed);
		if (rc)
			return rc;
		const char *h = dd_digest_hex(&d);
		for (int i = 0; i < 16; i++) {
			int hi = h[2 * i] <= '9' ? h[2 * i] - '0' : h[2 * i] - 'a' + 10;
			int lo = h[2 * i + 1] <= '9' ? h[2 * i + 1] - '0' : h[2 * i + 1] - 'a' + 10;
			b[i] = (unsigned char)(hi << 4 | lo);
		}
	} else if (RAND_bytes(b, sizeof(b)) != 1) {
		return dd_error_set(err, DD_EENV, "no random bytes for the SBOM serial number");
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	for (int i = 0, k = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[k++] = '-';
		out[k++] = hex[b[i] >> 4];
		out[k++] = hex[b[i] & 15];
	}
	out[36] = '\0';
	return 0;
}

/* ---- text ---- */

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid. */
static size_t utf8_len(const unsigned char *p)
{
	unsigned c = p[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f))
			return 0; /* overlong, surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

int dd_sbom_utf8(dd_buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	if (!s)
		return out->failed;
	while (*p) {
		size_t n = utf8_len(p);
		if (n) {
			dd_buf_append(out, p, n);
			p += n;
		} else {
			dd_buf_puts(out, "\xef\xbf\xbd");
			p++;
		}
	}
	return out->failed;
}

/* ---- package references ---- */

struct refsort {
	const char *purl;
	size_t i;
};

static int refsort_cmp(const void *a, const void *b)
{
	const struct refsort *x = a, *y = b;
	int c = strcmp(x->purl, y->purl);
	if (c)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

void dd_sbom_refs_release(dd_sbom_refs *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		if (r->purls)
			free(r->purls[i]);
		if (r->refs)
			free(r->refs[i]);
	}
	free(r->purls);
	free(r->refs);
	memset(r, 0, sizeof(*r));
}

int dd_sbom_refs_build(dd_sbom_refs *out, const dd_inventory *inv, dd_error *err)
{
	size_t n = dd_inventory_package_count(inv);
	const dd_os *os = dd_inventory_os(inv);
	struct refsort *order = NULL;
	dd_buf b = DD_BUF_INIT_MAX(1 << 20);
	dd_error ignore;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!n)
		return 0;
	out->purls = dd_calloc(n, sizeof(char *));
	out->refs = dd_calloc(n, sizeof(char *));
	order = dd_calloc(n, sizeof(*order));
	if (!out->purls || !out->refs || !order)
		goto oom;
	out->n = n;
	for (size_t i = 0; i < n; i++) {
		dd_buf_reset(&b);
		if (dd_purl_format(&b, dd_inventory_package(inv, i), os, &ignore) == 0 &&
		    !(out->purls[i] = dd_strdup(dd_buf_cstr(&b))))
			goto oom;
		order[i].purl = out->purls[i] ? out->purls[i] : "";
		order[i].i = i;
	}
	qsort(order, n, sizeof(*order), refsort_cmp);
	for (size_t k = 0, dup = 1; k < n; k++) {
		size_t i = order[k].i;
		dup = k && strcmp(order[k].purl, order[k - 1].purl) == 0 ? dup + 1 : 1;
		dd_buf_reset(&b);
		if (!out->purls[i])
			dd_buf_printf(&b, "package-%zu", i + 1);
		else if (dup == 1)
			dd_buf_puts(&b, out->purls[i]);
		else
			dd_buf_printf(&b, "%s#%zu", out->purls[i], dup);
		if (b.failed || !(out->refs[i] = dd_strdup(dd_buf_cstr(&b))))
			goto oom;
	}
	goto done;
oom:
	rc = dd_error_oom(err);
	dd_sbom_refs_release(out);
done:
	free(order);
	dd_buf_release(&b);
	return rc;
}

void dd_sbom_platform(char *buf, size_t n, const dd_platform *p)
{
	if (!n)
		return;
	buf[0] = '\0';
	if (!p || !p->os[0] || !p->arch[0])
		return;
	if (p->variant[0])
		snprintf(buf, n, "%s/%s/%s", p->os, p->arch, p->variant);
	else
		snprintf(buf, n, "%s/%s", p->os, p->arch);
}
