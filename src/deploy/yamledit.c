/* yamledit.c - see yamledit.h.
 *
 * The file is parsed once into a flat array of events (struct ev; a
 * collection start knows the index of its end, which is all the tree we
 * need), the three rules plan a list of byte-range edits, the edits are
 * spliced into a copy of the text, and the copy is parsed again and
 * compared event by event with what was intended.
 *
 * libyaml marks count characters (code points; CRLF is two), not bytes,
 * and do not count a leading UTF-8 BOM: to_byte() converts. */
#include "deploy/yamledit.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "registry/ref.h"
#include "util/digest.h"
#include "util/log.h"

#include "util/banned.h"

#define ARENA_MAX ((size_t)64 << 20)
#define VALUE_MAX 512 /* longest scalar considered as a reference */
#define NONE ((size_t)-1)

enum { F_PLAIN_IMPL = 1, F_QUOTED_IMPL = 2, F_IMPLICIT = 4, F_HAS_PROPS = 8, F_IN_FLOW = 16 };

struct ev {
	uint8_t type;   /* yaml_event_type_t */
	uint8_t style;  /* scalar or collection style */
	uint8_t flags;  /* F_* */
	uint32_t start, end; /* character indexes of the marks */
	uint32_t line;  /* 1-based */
	uint32_t close; /* collection start: index of its end event; else itself */
	uint32_t val, vlen; /* arena: scalar value, or alias anchor */
	uint32_t tag, tlen, anc, alen;
};

struct evlist {
	struct ev *v;
	size_t n, cap;
	dd_buf arena;
};

struct target {
	dd_ref ref;
	const char *digest;
};

struct edit {
	size_t ev;        /* the scalar replaced, or the event the pair follows */
	int insert;       /* 1: a `digest: V` pair inserted after ev */
	int style;        /* style of the new scalar */
	size_t b0, b1;    /* byte range replaced (b0 == b1: insertion) */
	char *text;       /* bytes written there */
	char *value;      /* the scalar value the check expects */
};

struct plan {
	const char *name;
	const char *text;
	size_t len, base; /* base: bytes of a leading BOM */
	size_t ci, bi;    /* to_byte() cursor */
	struct evlist *L;
	const struct target *t;
	size_t nt;
	struct edit *e;
	size_t ne, cape;
	dd_error *err;
};

/* ---- loading events -------------------------------------------------- */

static void evlist_release(struct evlist *L)
{
	free(L->v);
	dd_buf_release(&L->arena);
	memset(L, 0, sizeof(*L));
}

static uint32_t stash(struct evlist *L, const void *p, size_t n, uint32_t *len)
{
	uint32_t off = (uint32_t)L->arena.len;
	*len = (uint32_t)n;
	if (n)
		dd_buf_append(&L->arena, p, n);
	return off;
}

static const char *ev_str(const struct evlist *L, uint32_t off)
{
	return L->arena.data ? L->arena.data + off : "";
}

static int push_event(struct evlist *L, const yaml_event_t *y, int in_flow)
{
	if (L->n == L->cap) {
		size_t cap = L->cap ? L->cap * 2 : 256;
		if (cap > DD_YAMLEDIT_MAX_NODES + 8)
			cap = DD_YAMLEDIT_MAX_NODES + 8;
		if (L->n >= cap)
			return DD_EINPUT;
		struct ev *v = realloc(L->v, cap * sizeof(*v));
		if (!v)
			return DD_EENV;
		L->v = v;
		L->cap = cap;
	}
	struct ev *e = &L->v[L->n];
	memset(e, 0, sizeof(*e));
	e->type = (uint8_t)y->type;
	e->start = (uint32_t)y->start_mark.index;
	e->end = (uint32_t)y->end_mark.index;
	e->line = (uint32_t)y->start_mark.line + 1;
	e->close = (uint32_t)L->n;
	const yaml_char_t *tag = NULL, *anchor = NULL;
	switch (y->type) {
	case YAML_SCALAR_EVENT:
		e->style = (uint8_t)y->data.scalar.style;
		e->flags = (uint8_t)((y->data.scalar.plain_implicit ? F_PLAIN_IMPL : 0) |
				     (y->data.scalar.quoted_implicit ? F_QUOTED_IMPL : 0));
		e->val = stash(L, y->data.scalar.value, y->data.scalar.length, &e->vlen);
		tag = y->data.scalar.tag;
		anchor = y->data.scalar.anchor;
		break;
	case YAML_SEQUENCE_START_EVENT:
		e->style = (uint8_t)y->data.sequence_start.style;
		e->flags = y->data.sequence_start.implicit ? F_IMPLICIT : 0;
		tag = y->data.sequence_start.tag;
		anchor = y->data.sequence_start.anchor;
		break;
	case YAML_MAPPING_START_EVENT:
		e->style = (uint8_t)y->data.mapping_start.style;
		e->flags = y->data.mapping_start.implicit ? F_IMPLICIT : 0;
		tag = y->data.mapping_start.tag;
		anchor = y->data.mapping_start.anchor;
		break;
	case YAML_ALIAS_EVENT:
		e->val = stash(L, y->data.alias.anchor, strlen((const char *)y->data.alias.anchor),
			       &e->vlen);
		break;
	case YAML_DOCUMENT_START_EVENT:
		e->flags = y->data.document_start.implicit ? F_IMPLICIT : 0;
		break;
	case YAML_DOCUMENT_END_EVENT:
		e->flags = y->data.document_end.implicit ? F_IMPLICIT : 0;
		break;
	default:
		break;
	}
	if (tag)
		e->tag = stash(L, tag, strlen((const char *)tag), &e->tlen);
	if (anchor)
		e->anc = stash(L, anchor, strlen((const char *)anchor), &e->alen);
	if (tag || anchor)
		e->flags |= F_HAS_PROPS;
	if (in_flow)
		e->flags |= F_IN_FLOW;
	if (L->arena.failed)
		return L->arena.failed;
	L->n++;
	return 0;
}

static int parse_error(const yaml_parser_t *p, const char *name, dd_error *err)
{
	const char *what = p->problem ? p->problem : "syntax error";
	size_t line = p->problem_mark.line + 1;
	if (p->error == YAML_MEMORY_ERROR)
		return dd_error_oom(err);
	if (p->context)
		return dd_error_set(err, DD_EINPUT, "%s:%zu: %s %s", name, line, what, p->context);
	return dd_error_set(err, DD_EINPUT, "%s:%zu: %s", name, line, what);
}

/* Parse text into L: every event, with the nesting resolved. */
static int load(struct evlist *L, const char *text, size_t len, const char *name, dd_error *err)
{
	yaml_parser_t p;
	yaml_event_t y;
	uint32_t stack[DD_YAMLEDIT_MAX_DEPTH + 1];
	uint8_t flow[DD_YAMLEDIT_MAX_DEPTH + 1];
	size_t depth = 0;
	int rc = 0, end = 0;

	dd_buf_init(&L->arena, ARENA_MAX);
	if (!yaml_parser_initialize(&p))
		return dd_error_oom(err);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (!end) {
		if (!yaml_parser_parse(&p, &y)) {
			rc = parse_error(&p, name, err);
			break;
		}
		int in_flow = depth && flow[depth - 1];
		size_t line = y.start_mark.line + 1;
		end = y.type == YAML_STREAM_END_EVENT;
		rc = push_event(L, &y, in_flow);
		int open = y.type == YAML_SEQUENCE_START_EVENT || y.type == YAML_MAPPING_START_EVENT;
		int shut = y.type == YAML_SEQUENCE_END_EVENT || y.type == YAML_MAPPING_END_EVENT;
		int is_flow = (y.type == YAML_SEQUENCE_START_EVENT &&
			       y.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE) ||
			      (y.type == YAML_MAPPING_START_EVENT &&
			       y.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE);
		yaml_event_delete(&y);
		if (rc == DD_EENV) {
			rc = dd_error_oom(err);
			break;
		} else if (rc) {
			rc = dd_error_set(err, DD_EINPUT, "%s:%zu: too many nodes", name, line);
			break;
		}
		if (open) {
			if (depth >= DD_YAMLEDIT_MAX_DEPTH) {
				rc = dd_error_set(err, DD_EINPUT, "%s:%zu: nested deeper than %d",
						  name, line, DD_YAMLEDIT_MAX_DEPTH);
				break;
			}
			flow[depth] = (uint8_t)(is_flow || in_flow);
			stack[depth++] = (uint32_t)(L->n - 1);
		} else if (shut && depth) {
			L->v[stack[--depth]].close = (uint32_t)(L->n - 1);
		}
	}
	yaml_parser_delete(&p);
	return rc;
}

/* ---- positions ---------------------------------------------------------- */

/* Byte offset of character index ci. */
static size_t to_byte(struct plan *P, size_t ci)
{
	const unsigned char *t = (const unsigned char *)P->text;
	while (P->ci > ci && P->bi > P->base) { /* back: as far as needed, not from 0 */
		P->bi--;
		while (P->bi > P->base && (t[P->bi] & 0xC0) == 0x80)
			P->bi--;
		P->ci--;
	}
	while (P->ci < ci && P->bi < P->len) {
		P->bi++;
		while (P->bi < P->len && (t[P->bi] & 0xC0) == 0x80)
			P->bi++;
		P->ci++;
	}
	return P->bi;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Skip the node properties (&anchor, !tag) and comments/space between
 * them at the start of a node's span [b, e). */
static size_t skip_props(const char *t, size_t b, size_t e)
{
	while (b < e) {
		if (is_space(t[b])) {
			b++;
		} else if (e - b >= 3 && !memcmp(t + b, "\xEF\xBB\xBF", 3)) {
			b += 3; /* a BOM at a line start is skipped like space */
		} else if (t[b] == '#') {
			while (b < e && t[b] != '\n')
				b++;
		} else if (t[b] == '&' || t[b] == '!') {
			while (b < e && !is_space(t[b]))
				b++;
		} else {
			break;
		}
	}
	return b;
}

/* ---- events as a tree --------------------------------------------------- */

static size_t next_node(const struct evlist *L, size_t i)
{
	return (size_t)L->v[i].close + 1;
}

static int scalar_is(const struct evlist *L, size_t i, const char *s)
{
	const struct ev *e = &L->v[i];
	size_t n = strlen(s);
	return e->type == YAML_SCALAR_EVENT && e->vlen == n && memcmp(ev_str(L, e->val), s, n) == 0;
}

/* Value event of key `key` in the mapping starting at m, or NONE. */
static size_t map_get(const struct evlist *L, size_t m, const char *key)
{
	size_t k = m + 1, stop = L->v[m].close;
	while (k < stop) {
		size_t v = next_node(L, k);
		if (v >= stop)
			break;
		if (scalar_is(L, k, key))
			return v;
		k = next_node(L, v);
	}
	return NONE;
}

/* A scalar's value as a C string of at most VALUE_MAX bytes, else NULL. */
static const char *scalar_cstr(const struct evlist *L, size_t i, char *buf)
{
	if (i == NONE || L->v[i].type != YAML_SCALAR_EVENT || L->v[i].vlen >= VALUE_MAX)
		return NULL;
	const char *s = ev_str(L, L->v[i].val);
	size_t n = L->v[i].vlen;
	if (memchr(s, '\0', n))
		return NULL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

/* ---- references --------------------------------------------------------- */

struct split {
	size_t name_len;  /* repository part as written */
	size_t tag_end;   /* end of ":tag" (== name_len when no tag) */
	int has_digest;
};

static void split_ref(const char *s, struct split *sp)
{
	size_t n = strlen(s);
	const char *at = strchr(s, '@');
	size_t nt = at ? (size_t)(at - s) : n;
	size_t slash = 0, colon = NONE;
	for (size_t i = 0; i < nt; i++) {
		if (s[i] == '/') {
			slash = i;
			colon = NONE;
		} else if (s[i] == ':' && (i > slash || slash == 0)) {
			colon = i;
		}
	}
	/* "host:5000" with no slash is a repository "host" with tag "5000" */
	sp->name_len = colon != NONE ? colon : nt;
	sp->tag_end = nt;
	sp->has_digest = at != NULL;
}

static const struct target *match(const struct plan *P, const char *s)
{
	dd_ref r;
	if (!s || !*s || dd_ref_parse(&r, s, NULL) != 0)
		return NULL;
	for (size_t i = 0; i < P->nt; i++)
		if (!strcmp(r.domain, P->t[i].ref.domain) && !strcmp(r.path, P->t[i].ref.path))
			return &P->t[i];
	return NULL;
}

/* ---- planning ----------------------------------------------------------- */

static int add_edit(struct plan *P, struct edit *e)
{
	if (P->ne == P->cape) {
		size_t cap = P->cape ? P->cape * 2 : 8;
		struct edit *v = realloc(P->e, cap * sizeof(*v));
		if (!v)
			goto oom;
		P->e = v;
		P->cape = cap;
	}
	if (!e->text || !e->value)
		goto oom;
	P->e[P->ne++] = *e;
	return 0;
oom:
	free(e->text);
	free(e->value);
	return dd_error_oom(P->err);
}

static char *cat3(const char *a, size_t an, const char *b, const char *c)
{
	dd_buf o = DD_BUF_INIT;
	dd_buf_append(&o, a, an);
	dd_buf_puts(&o, b);
	dd_buf_puts(&o, c);
	if (o.failed) {
		dd_buf_release(&o);
		return NULL;
	}
	if (!o.data)
		return dd_strdup("");
	return dd_buf_detach(&o, NULL);
}

/* Can v be written as a plain scalar anywhere (block or flow)?  A
 * conservative set: what references, tags and digests are made of. */
static int plain_safe(const char *v)
{
	if (!*v || !((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') || (*v >= '0' && *v <= '9') ||
		     *v == '.' || *v == '/' || *v == '_'))
		return 0;
	for (const char *p = v; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("._/:@+=~-", *p)))
			return 0;
	return 1;
}

/* v as scalar text in style st, or double-quoted when st cannot hold it
 * (*st_out says which); colon: v must be quoted (see replace_scalar);
 * sep: prefix a space.  NULL when out of memory. */
static char *render(const char *v, int st, int colon, int sep, int *st_out)
{
	dd_buf o = DD_BUF_INIT;
	int safe_single = 1;
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			safe_single = 0;
	if (st == YAML_PLAIN_SCALAR_STYLE && (!plain_safe(v) || colon))
		st = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	if (st == YAML_SINGLE_QUOTED_SCALAR_STYLE && !safe_single)
		st = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	*st_out = st;
	if (sep)
		dd_buf_putc(&o, ' ');
	if (st == YAML_PLAIN_SCALAR_STYLE) {
		dd_buf_puts(&o, v);
	} else if (st == YAML_SINGLE_QUOTED_SCALAR_STYLE) {
		dd_buf_putc(&o, '\'');
		for (const char *p = v; *p; p++)
			dd_buf_append(&o, *p == '\'' ? "''" : p, *p == '\'' ? 2 : 1);
		dd_buf_putc(&o, '\'');
	} else {
		dd_buf_putc(&o, '"');
		for (const char *p = v; *p; p++) {
			unsigned char c = (unsigned char)*p;
			if (c == '"' || c == '\\')
				dd_buf_printf(&o, "\\%c", c);
			else if (c < 0x20 || c == 0x7f)
				dd_buf_printf(&o, "\\x%02x", c);
			else
				dd_buf_putc(&o, (char)c);
		}
		dd_buf_putc(&o, '"');
	}
	if (o.failed || !o.data) {
		dd_buf_release(&o);
		return NULL;
	}
	return dd_buf_detach(&o, NULL);
}

/* Plan replacing scalar i's value by v (a C string), in the scalar's own
 * style.  Returns 0 (also when the scalar cannot be edited in place: a
 * warning says so) or an error. */
static int replace_scalar(struct plan *P, size_t i, const char *v)
{
	const struct ev *e = &P->L->v[i];
	const char *t = P->text;
	size_t b = to_byte(P, e->start), end = to_byte(P, e->end);
	struct edit ed = { i, 0, e->style, 0, 0, NULL, NULL };
	char q[2] = { 0, 0 };

	if (end < b || end > P->len)
		return 0;
	if (e->flags & F_HAS_PROPS)
		b = skip_props(t, b, end);
	if (e->style == YAML_LITERAL_SCALAR_STYLE || e->style == YAML_FOLDED_SCALAR_STYLE) {
		/* header line, then one content line: replace its text */
		if (!plain_safe(v))
			goto cannot;
		const char *nl = memchr(t + b, '\n', end - b);
		if (!nl)
			goto cannot;
		b = (size_t)(nl - t) + 1;
		while (b < end && is_space(t[b]))
			b++;
		size_t c = b;
		while (c < end && t[c] != '\n' && t[c] != '\r')
			c++;
		while (c > b && (t[c - 1] == ' ' || t[c - 1] == '\t'))
			c--;
		if (b >= end)
			goto cannot;
		ed.b0 = b;
		ed.b1 = c;
		ed.text = dd_strdup(v);
		/* the value keeps its trailing line breaks */
		size_t keep = e->vlen;
		const char *ov = ev_str(P->L, e->val);
		while (keep && (ov[keep - 1] == '\n' || ov[keep - 1] == '\r'))
			keep--;
		dd_buf x = DD_BUF_INIT;
		dd_buf_puts(&x, v);
		dd_buf_append(&x, ov + keep, e->vlen - keep);
		ed.value = x.failed ? NULL : dd_buf_detach(&x, NULL);
		dd_buf_release(&x);
		return add_edit(P, &ed);
	}
	if (e->style == YAML_PLAIN_SCALAR_STYLE) {
		/* a plain scalar's text is its value: find it from the end */
		if (end - b < e->vlen || memcmp(t + end - e->vlen, ev_str(P->L, e->val), e->vlen))
			goto cannot;
		b = end - e->vlen;
	} else {
		q[0] = e->style == YAML_SINGLE_QUOTED_SCALAR_STYLE ? '\'' : '"';
		if (end - b < 2 || t[b] != q[0] || t[end - 1] != q[0])
			goto cannot;
	}
	ed.b0 = b;
	ed.b1 = end;
	/* a ':' inside a plain flow scalar trips older parsers: quote it */
	int colon = (e->flags & F_IN_FLOW) && strchr(v, ':') &&
		    !memchr(ev_str(P->L, e->val), ':', e->vlen);
	int sep = b == end && (b == 0 || !is_space(t[b - 1])); /* `key:` with no value */
	ed.text = render(v, e->style, colon, sep, &ed.style);
	ed.value = dd_strdup(v);
	return add_edit(P, &ed);
cannot:
	dd_warn("%s:%u: this scalar's layout cannot be edited in place; not rewritten", P->name,
		(unsigned)e->line);
	return 0;
}

/* Rule (a): `image: REF`. */
static int rule_image(struct plan *P, size_t v)
{
	char buf[VALUE_MAX], *nv;
	const char *s = scalar_cstr(P->L, v, buf);
	const struct ev *e = &P->L->v[v];
	const struct target *t;
	struct split sp;
	int rc;

	if (!s)
		return 0;
	if (e->style == YAML_LITERAL_SCALAR_STYLE || e->style == YAML_FOLDED_SCALAR_STYLE) {
		size_t n = strlen(buf);
		while (n && buf[n - 1] == '\n')
			buf[--n] = '\0';
	}
	if (!(t = match(P, s)))
		return 0;
	split_ref(s, &sp);
	nv = cat3(s, sp.tag_end, "@", t->digest);
	if (!nv)
		return dd_error_oom(P->err);
	rc = strcmp(nv, s) ? replace_scalar(P, v, nv) : 0;
	free(nv);
	return rc;
}

/* Column (in characters) of byte b on its line. */
static size_t column_of(const char *t, size_t b)
{
	size_t c = 0, i = b;
	while (i > 0 && t[i - 1] != '\n') {
		i--;
		if (((unsigned char)t[i] & 0xC0) != 0x80)
			c++;
	}
	return c;
}

/* Plan a `digest: D` pair after the last pair of mapping m. */
static int insert_digest(struct plan *P, size_t m, const char *digest)
{
	const struct evlist *L = P->L;
	const char *t = P->text;
	size_t k = m + 1, stop = L->v[m].close, lastv = NONE;
	struct edit ed = { 0, 1, YAML_PLAIN_SCALAR_STYLE, 0, 0, NULL, NULL };

	while (k < stop) {
		size_t v = next_node(L, k);
		if (v >= stop)
			break;
		lastv = v;
		k = next_node(L, v);
	}
	if (lastv == NONE || L->v[lastv].type != YAML_SCALAR_EVENT)
		goto cannot;
	size_t b = to_byte(P, L->v[lastv].end);
	ed.ev = lastv;
	if (L->v[m].style == YAML_FLOW_MAPPING_STYLE) {
		ed.b0 = ed.b1 = b;
		ed.style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
		ed.text = cat3(", digest: \"", 11, digest, "\"");
		ed.value = dd_strdup(digest);
		return add_edit(P, &ed);
	}
	size_t indent = column_of(t, to_byte(P, L->v[m + 1].start));
	int block = L->v[lastv].style == YAML_LITERAL_SCALAR_STYLE ||
		    L->v[lastv].style == YAML_FOLDED_SCALAR_STYLE;
	size_t c = b;
	const char *eol = "\n";
	if (block) {
		if (!b || t[b - 1] != '\n')
			goto cannot;
		if (b >= 2 && t[b - 2] == '\r')
			eol = "\r\n";
	} else {
		while (c < P->len && (t[c] == ' ' || t[c] == '\t'))
			c++;
		if (c < P->len && t[c] == '#')
			while (c < P->len && t[c] != '\n')
				c++;
		if (c < P->len && t[c] == '\r' && c + 1 < P->len && t[c + 1] == '\n')
			c++;
		if (c < P->len && t[c] != '\n')
			goto cannot;
		if (c < P->len && c > 0 && t[c - 1] == '\r')
			eol = "\r\n";
	}
	dd_buf o = DD_BUF_INIT;
	if (!block && c >= P->len)
		dd_buf_puts(&o, eol); /* the file ends without a line break */
	for (size_t i = 0; i < indent && i < 4096; i++)
		dd_buf_putc(&o, ' ');
	dd_buf_printf(&o, "digest: %s", digest);
	if (block || c < P->len)
		dd_buf_puts(&o, eol);
	ed.b0 = ed.b1 = block ? b : (c < P->len ? c + 1 : P->len);
	ed.text = o.failed ? NULL : dd_buf_detach(&o, NULL);
	dd_buf_release(&o);
	ed.value = dd_strdup(digest);
	return add_edit(P, &ed);
cannot:
	dd_warn("%s:%u: cannot add a digest key to this entry; not rewritten", P->name,
		(unsigned)L->v[m].line);
	return 0;
}

/* Rule (b): a kustomization `images:` entry (mapping m). */
static int rule_kustomize(struct plan *P, size_t m)
{
	char buf[VALUE_MAX], dbuf[VALUE_MAX];
	size_t nn = map_get(P->L, m, "newName"), nm = map_get(P->L, m, "name");
	const char *s = scalar_cstr(P->L, nn != NONE ? nn : nm, buf);
	const struct target *t = match(P, s);
	if (!t)
		return 0;
	size_t d = map_get(P->L, m, "digest");
	if (d == NONE)
		return insert_digest(P, m, t->digest);
	const char *cur = scalar_cstr(P->L, d, dbuf);
	if (cur && !strcmp(cur, t->digest))
		return 0;
	if (P->L->v[d].type != YAML_SCALAR_EVENT)
		return 0;
	return replace_scalar(P, d, t->digest);
}

/* Rule (c): a Helm values map with `repository:` (mapping m). */
static int rule_helm(struct plan *P, size_t m)
{
	char rbuf[VALUE_MAX], gbuf[VALUE_MAX], vbuf[VALUE_MAX], full[2 * VALUE_MAX + 2];
	const char *repo = scalar_cstr(P->L, map_get(P->L, m, "repository"), rbuf);
	const char *reg = scalar_cstr(P->L, map_get(P->L, m, "registry"), gbuf);
	struct split sp;

	if (!repo || !*repo)
		return 0;
	split_ref(repo, &sp);
	if (sp.has_digest || sp.tag_end != sp.name_len)
		return 0; /* a tag or digest inside `repository:` is not this form */
	snprintf(full, sizeof(full), "%s%s%s", reg && *reg ? reg : "", reg && *reg ? "/" : "",
		 repo);
	const struct target *t = match(P, full);
	if (!t)
		return 0;
	size_t d = map_get(P->L, m, "digest"), tg = map_get(P->L, m, "tag");
	if (d != NONE && P->L->v[d].type == YAML_SCALAR_EVENT) {
		const char *cur = scalar_cstr(P->L, d, vbuf);
		if (cur && !strcmp(cur, t->digest))
			return 0;
		return replace_scalar(P, d, t->digest);
	}
	const char *tag = scalar_cstr(P->L, tg, vbuf);
	if (!tag || !*tag || *tag == '@') {
		dd_warn("%s:%u: image map for %s has neither a digest: key nor a tag: to pin; "
			"not rewritten", P->name, (unsigned)P->L->v[m].line, full);
		return 0;
	}
	const char *at = strchr(tag, '@');
	char *nv = cat3(tag, at ? (size_t)(at - tag) : strlen(tag), "@", t->digest);
	if (!nv)
		return dd_error_oom(P->err);
	int rc = strcmp(nv, tag) ? replace_scalar(P, tg, nv) : 0;
	free(nv);
	return rc;
}

static int is_kustomization(const struct plan *P, size_t root)
{
	char buf[VALUE_MAX];
	const char *base = strrchr(P->name, '/');
	base = base ? base + 1 : P->name;
	if (!strcmp(base, "kustomization.yaml") || !strcmp(base, "kustomization.yml") ||
	    !strcmp(base, "Kustomization"))
		return 1;
	const char *api = scalar_cstr(P->L, map_get(P->L, root, "apiVersion"), buf);
	return api && !strncmp(api, "kustomize.config.k8s.io/", 24);
}

static int plan_document_root(struct plan *P, size_t root)
{
	const struct evlist *L = P->L;
	if (L->v[root].type != YAML_MAPPING_START_EVENT || !is_kustomization(P, root))
		return 0;
	size_t seq = map_get(L, root, "images");
	if (seq == NONE || L->v[seq].type != YAML_SEQUENCE_START_EVENT)
		return 0;
	for (size_t i = seq + 1; i < L->v[seq].close; i = next_node(L, i)) {
		int rc = L->v[i].type == YAML_MAPPING_START_EVENT ? rule_kustomize(P, i) : 0;
		if (rc)
			return rc;
	}
	return 0;
}

static int plan_all(struct plan *P)
{
	const struct evlist *L = P->L;
	int rc = 0;
	for (size_t i = 0; i < L->n && !rc; i++) {
		if (L->v[i].type == YAML_DOCUMENT_START_EVENT && i + 1 < L->n) {
			rc = plan_document_root(P, i + 1);
			continue;
		}
		if (L->v[i].type != YAML_MAPPING_START_EVENT)
			continue;
		size_t img = map_get(L, i, "image");
		if (img != NONE && L->v[img].type == YAML_SCALAR_EVENT)
			rc = rule_image(P, img);
		if (!rc && map_get(L, i, "repository") != NONE)
			rc = rule_helm(P, i);
	}
	return rc;
}

/* ---- splicing and checking ---------------------------------------------- */

static int cmp_edit(const void *a, const void *b)
{
	const struct edit *x = a, *y = b;
	if (x->b0 != y->b0)
		return x->b0 < y->b0 ? -1 : 1;
	if (x->ev != y->ev)
		return x->ev < y->ev ? -1 : 1;
	return x->insert - y->insert;
}

static int cmp_edit_ev(const void *a, const void *b)
{
	const struct edit *x = *(const struct edit *const *)a, *y = *(const struct edit *const *)b;
	if (x->ev != y->ev)
		return x->ev < y->ev ? -1 : 1;
	return x->insert - y->insert;
}

/* Sort by position; a scalar planned twice (by two rules) is edited once. */
static void sort_edits(struct plan *P)
{
	size_t w = 0;
	qsort(P->e, P->ne, sizeof(*P->e), cmp_edit);
	for (size_t i = 0; i < P->ne; i++) {
		if (w && P->e[w - 1].ev == P->e[i].ev && P->e[w - 1].insert == P->e[i].insert) {
			free(P->e[i].text);
			free(P->e[i].value);
			continue;
		}
		P->e[w++] = P->e[i];
	}
	P->ne = w;
}

static int splice(const struct plan *P, dd_buf *o)
{
	size_t at = 0;
	for (size_t i = 0; i < P->ne; i++) {
		const struct edit *e = &P->e[i];
		if (e->b0 < at || e->b1 < e->b0 || e->b1 > P->len)
			return dd_error_set(P->err, DD_EINTERNAL, "%s: overlapping edits", P->name);
		dd_buf_append(o, P->text + at, e->b0 - at);
		dd_buf_puts(o, e->text);
		at = e->b1;
	}
	dd_buf_append(o, P->text + at, P->len - at);
	return o->failed ? dd_buf_error(o, P->err, P->name) : 0;
}

static int same_str(const struct evlist *A, uint32_t ao, uint32_t al, const struct evlist *B,
		    uint32_t bo, uint32_t bl)
{
	return al == bl && (!al || memcmp(ev_str(A, ao), ev_str(B, bo), al) == 0);
}

/* Does B's event j equal A's event i (with value v and style st when
 * v is not NULL)? */
static int same_event(const struct evlist *A, size_t i, const struct evlist *B, size_t j,
		      const char *v, int st)
{
	const struct ev *a = &A->v[i], *b = &B->v[j];
	const uint8_t mask = F_PLAIN_IMPL | F_QUOTED_IMPL | F_IMPLICIT;
	if (a->type != b->type)
		return 0;
	if (!same_str(A, a->tag, a->tlen, B, b->tag, b->tlen) ||
	    !same_str(A, a->anc, a->alen, B, b->anc, b->alen))
		return 0;
	if (!v)
		return a->style == b->style && (a->flags & mask) == (b->flags & mask) &&
		       same_str(A, a->val, a->vlen, B, b->val, b->vlen);
	return b->style == st && b->vlen == strlen(v) && !memcmp(ev_str(B, b->val), v, b->vlen) &&
	       (st != a->style || (a->flags & mask) == (b->flags & mask));
}

static int is_new_scalar(const struct evlist *B, size_t j, const char *v, int st)
{
	const struct ev *b = &B->v[j];
	return b->type == YAML_SCALAR_EVENT && b->style == st && !b->tlen && !b->alen &&
	       b->vlen == strlen(v) && !memcmp(ev_str(B, b->val), v, b->vlen);
}

/* Parse the result and compare it with the plan. */
static int check(const struct plan *P, const char *text, size_t len)
{
	struct evlist B = { 0 };
	dd_error e2 = DD_ERROR_INIT;
	const struct evlist *A = P->L;
	const struct edit **by_ev = dd_calloc(P->ne, sizeof(*by_ev));
	size_t j = 0, k = 0;
	int rc;

	if (!by_ev)
		return dd_error_oom(P->err);
	for (size_t i = 0; i < P->ne; i++)
		by_ev[i] = &P->e[i];
	qsort(by_ev, P->ne, sizeof(*by_ev), cmp_edit_ev);
	rc = load(&B, text, len, P->name, &e2);
	if (rc) {
		rc = dd_error_set(P->err, DD_EINTERNAL, "%s: the rewritten text does not parse (%s)",
				  P->name, e2.msg);
		goto done;
	}
	for (size_t i = 0; i < A->n; i++, j++) {
		const struct edit *rep = NULL, *ins = NULL;
		for (; k < P->ne && by_ev[k]->ev == i; k++) {
			if (by_ev[k]->insert)
				ins = by_ev[k];
			else
				rep = by_ev[k];
		}
		if (j >= B.n || !same_event(A, i, &B, j, rep ? rep->value : NULL, rep ? rep->style : 0))
			goto differ;
		if (ins) {
			if (j + 2 >= B.n || !is_new_scalar(&B, j + 1, "digest", YAML_PLAIN_SCALAR_STYLE) ||
			    !is_new_scalar(&B, j + 2, ins->value, ins->style))
				goto differ;
			j += 2;
		}
	}
	if (j != B.n)
		goto differ;
	goto done;
differ:
	rc = dd_error_set(P->err, DD_EINTERNAL,
			  "%s:%u: the rewritten text would differ from the plan; not rewritten",
			  P->name, (unsigned)(j < B.n ? B.v[j].line : 0));
done:
	free(by_ev);
	evlist_release(&B);
	return rc;
}

/* ---- entry point -------------------------------------------------------- */

static int parse_targets(struct target *t, const dd_image_update *u, size_t n, dd_error *err)
{
	for (size_t i = 0; i < n; i++) {
		struct split sp;
		dd_digest d;
		if (!u[i].repository || !u[i].digest)
			return dd_error_set(err, DD_EUSAGE, "image update %zu: missing repository or digest", i + 1);
		split_ref(u[i].repository, &sp);
		if (sp.has_digest || sp.tag_end != sp.name_len)
			return dd_error_set(err, DD_EUSAGE, "image update '%s': a repository has no tag or digest",
					    u[i].repository);
		if (dd_ref_parse(&t[i].ref, u[i].repository, err) != 0)
			return dd_error_prefix(err, "image update");
		if (dd_digest_parse(&d, u[i].digest, "image update", err) != 0 || strcmp(d.s, u[i].digest))
			return dd_error_set(err, DD_EUSAGE, "image update '%s': bad digest '%s'",
					    u[i].repository, u[i].digest);
		t[i].digest = u[i].digest;
	}
	return 0;
}

int dd_yamledit_apply(const char *text, size_t len, const char *name,
		      const dd_image_update *u, size_t n, dd_buf *out, size_t *changes,
		      dd_error *err)
{
	struct evlist L = { 0 };
	struct plan P = { 0 };
	dd_buf o = DD_BUF_INIT_MAX(DD_YAMLEDIT_MAX * 2);
	int rc;

	if (changes)
		*changes = 0;
	name = name ? name : "<input>";
	P.name = name;
	P.text = text;
	P.len = len;
	P.err = err;
	P.L = &L;
	if (n && !(P.t = dd_calloc(n, sizeof(*P.t))))
		return dd_error_oom(err);
	P.nt = n;
	if ((rc = parse_targets((struct target *)P.t, u, n, err)))
		goto done;
	if (len > DD_YAMLEDIT_MAX) {
		rc = dd_error_set(err, DD_EINPUT, "%s: larger than %zu MiB", name, DD_YAMLEDIT_MAX >> 20);
		goto done;
	}
	if (len >= 2 && (((unsigned char)text[0] == 0xFE && (unsigned char)text[1] == 0xFF) ||
			 ((unsigned char)text[0] == 0xFF && (unsigned char)text[1] == 0xFE) ||
			 !text[0] || !text[1])) {
		rc = dd_error_set(err, DD_EINPUT, "%s:1: not UTF-8 (UTF-16 is not supported)", name);
		goto done;
	}
	if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
		P.base = P.bi = 3;
	if ((rc = load(&L, text, len, name, err)) || (n && (rc = plan_all(&P))))
		goto done;
	if (P.ne) {
		sort_edits(&P);
		if ((rc = splice(&P, &o)) || (rc = check(&P, o.data, o.len)))
			goto done;
		rc = dd_buf_append(out, o.data, o.len);
	} else {
		rc = dd_buf_append(out, text, len);
	}
	if (rc) {
		rc = dd_buf_error(out, err, name);
		goto done;
	}
	if (changes)
		*changes = P.ne;
done:
	for (size_t i = 0; i < P.ne; i++) {
		free(P.e[i].text);
		free(P.e[i].value);
	}
	free(P.e);
	free((void *)P.t);
	dd_buf_release(&o);
	evlist_release(&L);
	return rc;
}
