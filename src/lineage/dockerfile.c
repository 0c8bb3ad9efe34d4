/*
 * dockerfile.c - find every stage's FROM image in a Dockerfile (see
 * lineage.h).  Follows BuildKit's reading: parser directives at the top,
 * instructions case-insensitive, the escape character continues a line,
 * comment and blank lines inside a continuation are dropped, heredoc bodies
 * of RUN/COPY/ADD are skipped, and FROM sees only the ARGs declared before
 * the first FROM (plus the automatic platform ARGs).
 */
#include "lineage/lineage.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/banned.h"

#define MAX_DEPTH 16 /* nested ${a:-${b:-...}} */

struct var {
	char *name, *value; /* value NULL: declared without a value */
};

struct parser {
	const char *text;
	size_t len, pos, lineno;
	char esc;
	struct var *vars;
	size_t n_vars, cap_vars;
	const char *const *args;
	size_t n_args;
	dd_dockerfile *df;
	size_t cap_stages;
	dd_error *err;
};

static const char *const instructions[] = {
	"add", "arg", "cmd", "copy", "entrypoint", "env", "expose", "from", "healthcheck",
	"label", "maintainer", "onbuild", "run", "shell", "stopsignal", "user", "volume", "workdir",
};

static int perr(struct parser *p, size_t line, const char *what, const char *detail)
{
	return dd_error_set(p->err, DD_EINPUT, "Dockerfile line %zu: %s%s%.200s%s", line, what,
			    detail ? " '" : "", detail ? detail : "", detail ? "'" : "");
}

/* The same naming a word of the input. */
static int perr_word(struct parser *p, size_t line, const char *what, const char *s, size_t n)
{
	return dd_error_set(p->err, DD_EINPUT, "Dockerfile line %zu: %s '%.*s'", line, what,
			    (int)(n < 200 ? n : 200), s);
}

/* ---- variables ---- */

static struct var *var_find(struct parser *p, const char *name, size_t n)
{
	for (size_t i = 0; i < p->n_vars; i++)
		if (strlen(p->vars[i].name) == n && memcmp(p->vars[i].name, name, n) == 0)
			return &p->vars[i];
	return NULL;
}

/* Define (or redefine) name; value is copied (NULL: declared, no value). */
static int var_set(struct parser *p, const char *name, size_t n, const char *value)
{
	struct var *v = var_find(p, name, n);
	char *val = NULL;

	if (value && !(val = dd_strdup(value)))
		return dd_error_oom(p->err);
	if (!v) {
		if (p->n_vars == p->cap_vars) {
			size_t cap = p->cap_vars ? p->cap_vars * 2 : 16, bytes;
			struct var *nv;
			if (dd_mul_size(&bytes, cap, sizeof(*nv)) || !(nv = realloc(p->vars, bytes))) {
				free(val);
				return dd_error_oom(p->err);
			}
			p->vars = nv;
			p->cap_vars = cap;
		}
		v = &p->vars[p->n_vars];
		if (!(v->name = dd_strndup(name, n))) {
			free(val);
			return dd_error_oom(p->err);
		}
		v->value = NULL;
		p->n_vars++;
	}
	free(v->value);
	v->value = val;
	return 0;
}

/* The --build-arg value for name, or NULL. */
static const char *build_arg(const struct parser *p, const char *name, size_t n)
{
	for (size_t i = p->n_args; i-- > 0;) {
		const char *a = p->args[i], *eq = a ? strchr(a, '=') : NULL;
		if (eq && (size_t)(eq - a) == n && memcmp(a, name, n) == 0)
			return eq + 1;
	}
	return NULL;
}

/* TARGETPLATFORM, TARGETOS, ... (prefix "TARGET" or "BUILD") from the
 * build args, else from their PLATFORM build arg, else linux/amd64. */
static int platform_vars(struct parser *p, const char *prefix)
{
	static const char *const suffix[] = { "PLATFORM", "OS", "ARCH", "VARIANT" };
	char name[32], val[4][128] = { "linux/amd64", "linux", "amd64", "" };
	const char *plat;
	int rc;

	snprintf(name, sizeof(name), "%sPLATFORM", prefix);
	plat = build_arg(p, name, strlen(name));
	if (plat) {
		const char *s = plat;
		snprintf(val[0], sizeof(val[0]), "%s", plat);
		for (int i = 1; i < 4; i++) {
			size_t n = strcspn(s, "/");
			snprintf(val[i], sizeof(val[i]), "%.*s", (int)(n < 127 ? n : 127), s);
			s += n;
			if (*s)
				s++;
		}
	}
	for (int i = 0; i < 4; i++) {
		const char *given;
		snprintf(name, sizeof(name), "%s%s", prefix, suffix[i]);
		given = build_arg(p, name, strlen(name));
		if ((rc = var_set(p, name, strlen(name), given ? given : val[i])))
			return rc;
	}
	return 0;
}

/* ---- word expansion (the shell-like lexer FROM and ARG use) ---- */

static int expand(struct parser *p, const char *s, size_t n, size_t *used, int stop_brace,
		  int depth, dd_buf *out, size_t line);

static int is_name_char(int c)
{
	return isalnum(c) || c == '_';
}

/* ${NAME[op word]} starting after "${"; *used gets the bytes consumed
 * including the closing brace. */
static int expand_braced(struct parser *p, const char *s, size_t n, size_t *used, int depth,
			 dd_buf *out, size_t line)
{
	size_t i = 0, wused = 0, nlen;
	const struct var *v;
	const char *val;
	dd_buf word = DD_BUF_INIT_MAX(DD_DOCKERFILE_MAX);
	char op = 0;
	int colon = 0, rc;

	while (i < n && is_name_char((unsigned char)s[i]))
		i++;
	nlen = i;
	if (nlen == 0)
		return perr(p, line, "bad substitution: ${ without a name", NULL);
	if (i < n && s[i] == ':') {
		colon = 1;
		i++;
	}
	if (i < n && (s[i] == '-' || s[i] == '+' || s[i] == '?'))
		op = s[i++];
	else if (colon || (i < n && s[i] != '}'))
		return perr(p, line, "unsupported substitution in", "${");
	if (i >= n && !op)
		return perr(p, line, "missing '}' after", "${");
	if (op) {
		if ((rc = expand(p, s + i, n - i, &wused, 1, depth + 1, &word, line)))
			goto done;
		i += wused;
	}
	if (i >= n || s[i] != '}') {
		rc = perr(p, line, "missing '}' after", "${");
		goto done;
	}
	i++;
	v = var_find(p, s, nlen);
	val = v ? v->value : NULL;
	rc = 0;
	switch (op) {
	case 0:
		if (val)
			dd_buf_puts(out, val);
		break;
	case '-':
		dd_buf_puts(out, val && (!colon || *val) ? val : dd_buf_cstr(&word));
		break;
	case '+':
		if (val && (!colon || *val))
			dd_buf_puts(out, dd_buf_cstr(&word));
		break;
	case '?':
		if (!val || (colon && !*val)) {
			dd_buf_puts(&word, "");
			rc = dd_error_set(p->err, DD_EINPUT, "Dockerfile line %zu: %.*s: %.200s", line,
					  (int)nlen, s, word.len ? dd_buf_cstr(&word) : "is not set");
			goto done;
		}
		dd_buf_puts(out, val);
		break;
	}
	*used = i;
done:
	dd_buf_release(&word);
	return rc;
}

static int expand_dollar(struct parser *p, const char *s, size_t n, size_t *used, int depth,
			 dd_buf *out, size_t line)
{
	size_t i = 0;

	if (n > 0 && s[0] == '{') {
		int rc = expand_braced(p, s + 1, n - 1, &i, depth, out, line);
		*used = i + 1;
		return rc;
	}
	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_')) {
		dd_buf_putc(out, '$');
		*used = 0;
		return 0;
	}
	while (i < n && is_name_char((unsigned char)s[i]))
		i++;
	const struct var *v = var_find(p, s, i);
	if (v && v->value)
		dd_buf_puts(out, v->value);
	*used = i;
	return 0;
}

/* Expand s[0..n): quotes removed, the escape character escapes, $VAR and
 * ${VAR...} replaced.  With stop_brace, stops before an unquoted '}' (the
 * word of ${VAR:-word}); *used gets the bytes consumed. */
static int expand(struct parser *p, const char *s, size_t n, size_t *used, int stop_brace,
		  int depth, dd_buf *out, size_t line)
{
	size_t i = 0;
	char quote = 0;
	int rc;

	if (depth > MAX_DEPTH)
		return perr(p, line, "substitutions nested too deeply", NULL);
	while (i < n) {
		char c = s[i];
		if (quote == '\'') {
			if (c == '\'')
				quote = 0;
			else
				dd_buf_putc(out, c);
			i++;
			continue;
		}
		if (c == p->esc && i + 1 < n) {
			char d = s[i + 1];
			if (quote == '"' && d != '"' && d != '$' && d != p->esc)
				dd_buf_putc(out, c);
			dd_buf_putc(out, d);
			i += 2;
			continue;
		}
		if (c == '$') {
			size_t u = 0;
			if ((rc = expand_dollar(p, s + i + 1, n - i - 1, &u, depth, out, line)))
				return rc;
			i += 1 + u;
			continue;
		}
		if (!quote && stop_brace && c == '}')
			break;
		if (c == '"' && quote == '"')
			quote = 0;
		else if (!quote && (c == '"' || c == '\''))
			quote = c;
		else
			dd_buf_putc(out, c);
		i++;
	}
	if (quote)
		return perr(p, line, "unterminated quote in", dd_buf_cstr(out));
	if (out->failed)
		return dd_buf_error(out, p->err, "Dockerfile word");
	*used = i;
	return 0;
}

static int expand_word(struct parser *p, const char *s, size_t n, size_t line, char **res)
{
	dd_buf b = DD_BUF_INIT_MAX(DD_DOCKERFILE_MAX);
	size_t used = 0;
	int rc = expand(p, s, n, &used, 0, 0, &b, line);

	if (!rc && !b.data && dd_buf_puts(&b, ""))
		rc = dd_buf_error(&b, p->err, "Dockerfile word");
	if (rc) {
		dd_buf_release(&b);
		return rc;
	}
	*res = dd_buf_detach(&b, NULL);
	return 0;
}

/* ---- words ---- */

struct word {
	const char *s;
	size_t n;
};

/* The next whitespace-separated word of s[0..n) from *pos (quotes and the
 * escape character keep whitespace inside a word); 0 when there is none. */
static int next_word(const char *s, size_t n, size_t *pos, char esc, struct word *w)
{
	size_t i = *pos;
	char quote = 0;

	while (i < n && isspace((unsigned char)s[i]))
		i++;
	if (i >= n)
		return 0;
	w->s = s + i;
	while (i < n && (quote || !isspace((unsigned char)s[i]))) {
		if (s[i] == esc && quote != '\'' && i + 1 < n)
			i++;
		else if (quote && s[i] == quote)
			quote = 0;
		else if (!quote && (s[i] == '"' || s[i] == '\''))
			quote = s[i];
		i++;
	}
	w->n = (size_t)(s + i - w->s);
	*pos = i;
	return 1;
}

/* Split s into at most max words; returns the count, or max + 1 when there
 * are more. */
static size_t split_words(const char *s, size_t n, char esc, struct word *w, size_t max)
{
	size_t pos = 0, k = 0;
	struct word tmp;

	while (k <= max && next_word(s, n, &pos, esc, k < max ? &w[k] : &tmp))
		k++;
	return k;
}

/* ---- instructions ---- */

static int do_arg(struct parser *p, const char *a, size_t n, size_t line)
{
	struct word w[64];
	size_t k = split_words(a, n, p->esc, w, 64);
	int rc;

	if (k == 0)
		return perr(p, line, "ARG needs a name", NULL);
	if (k > 64)
		return perr(p, line, "ARG declares too many names", NULL);
	for (size_t i = 0; i < k; i++) {
		const char *eq = memchr(w[i].s, '=', w[i].n);
		size_t nl = eq ? (size_t)(eq - w[i].s) : w[i].n;
		const char *given = build_arg(p, w[i].s, nl);
		char *def = NULL;

		int bad = nl == 0 || !(isalpha((unsigned char)w[i].s[0]) || w[i].s[0] == '_');
		for (size_t j = 0; j < nl; j++)
			bad |= !is_name_char((unsigned char)w[i].s[j]);
		if (bad)
			return perr_word(p, line, "ARG: bad name in", w[i].s, w[i].n);
		if (!eq && !given && var_find(p, w[i].s, nl))
			continue; /* `ARG TARGETARCH` keeps the value it has */
		if (eq && !given &&
		    (rc = expand_word(p, eq + 1, w[i].n - nl - 1, line, &def)))
			return rc;
		rc = var_set(p, w[i].s, nl, given ? given : def);
		free(def);
		if (rc)
			return rc;
	}
	return 0;
}

static int valid_stage_name(const char *s)
{
	if (!islower((unsigned char)*s))
		return 0;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-' &&
		    *s != '_' && *s != '.')
			return 0;
	return 1;
}

static int add_stage(struct parser *p, dd_dockerfile_stage **out)
{
	dd_dockerfile *df = p->df;
	if (df->n_stages == p->cap_stages) {
		size_t cap = p->cap_stages ? p->cap_stages * 2 : 4, bytes;
		dd_dockerfile_stage *ns;
		if (dd_mul_size(&bytes, cap, sizeof(*ns)) || !(ns = realloc(df->stages, bytes)))
			return dd_error_oom(p->err);
		df->stages = ns;
		p->cap_stages = cap;
	}
	*out = &df->stages[df->n_stages++];
	memset(*out, 0, sizeof(**out));
	(*out)->parent = -1;
	return 0;
}

static int do_from(struct parser *p, const char *a, size_t n, size_t line)
{
	struct word w[8];
	size_t k = split_words(a, n, p->esc, w, 8), i = 0;
	dd_dockerfile_stage *st = NULL;
	int rc;

	if ((rc = add_stage(p, &st)))
		return rc;
	st->line = line;
	for (; i < k && i < 8 && w[i].n >= 2 && w[i].s[0] == '-' && w[i].s[1] == '-'; i++) {
		if (w[i].n == 10 && memcmp(w[i].s, "--platform", 10) == 0)
			return perr(p, line, "FROM: --platform needs =VALUE", NULL);
		if (w[i].n > 11 && memcmp(w[i].s, "--platform=", 11) == 0) {
			free(st->platform);
			st->platform = NULL;
			if ((rc = expand_word(p, w[i].s + 11, w[i].n - 11, line, &st->platform)))
				return rc;
		} else {
			char flag[64];
			size_t fl = strcspn(w[i].s, "= \t");
			snprintf(flag, sizeof(flag), "%.*s", (int)(fl < w[i].n ? fl : w[i].n), w[i].s);
			return perr(p, line, "FROM: unknown flag", flag);
		}
	}
	if (k > 8)
		return perr(p, line, "FROM takes IMAGE or IMAGE AS NAME", NULL);
	if (k - i != 1 && k - i != 3)
		return perr(p, line, k == i ? "FROM needs an image" :
			    "FROM takes IMAGE or IMAGE AS NAME", NULL);
	if ((rc = expand_word(p, w[i].s, w[i].n, line, &st->from)))
		return rc;
	if (!*st->from)
		return perr_word(p, line, "FROM: the image is empty after expanding", w[i].s, w[i].n);
	if (k - i == 3) {
		if (w[i + 1].n != 2 || strncasecmp(w[i + 1].s, "as", 2) != 0)
			return perr(p, line, "FROM: expected AS NAME after the image", NULL);
		if (!(st->name = dd_strndup(w[i + 2].s, w[i + 2].n)))
			return dd_error_oom(p->err);
		for (char *c = st->name; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		if (!valid_stage_name(st->name))
			return perr(p, line, "FROM: invalid stage name", st->name);
		for (size_t j = 0; j + 1 < p->df->n_stages; j++)
			if (p->df->stages[j].name && strcmp(p->df->stages[j].name, st->name) == 0)
				return perr(p, line, "FROM: duplicate stage name", st->name);
	}
	for (size_t j = 0; j + 1 < p->df->n_stages; j++) {
		const dd_dockerfile_stage *e = &p->df->stages[j];
		if (e->name && strcasecmp(e->name, st->from) == 0) {
			st->parent = (long)j;
			st->base = e->base;
			return 0;
		}
	}
	st->base = dd_dockerfile_is_scratch(st->from) ? NULL : st->from;
	return 0;
}

/* ---- lines ---- */

/* The next physical line (without its newline or trailing '\r'); 0 at EOF. */
static int next_line(struct parser *p, const char **s, size_t *n)
{
	const char *nl;

	if (p->pos >= p->len)
		return 0;
	*s = p->text + p->pos;
	nl = memchr(*s, '\n', p->len - p->pos);
	*n = nl ? (size_t)(nl - *s) : p->len - p->pos;
	p->pos += *n + (nl ? 1 : 0);
	p->lineno++;
	if (*n && (*s)[*n - 1] == '\r')
		(*n)--;
	return 1;
}

static void trim(const char **s, size_t *n)
{
	while (*n && isspace((unsigned char)**s))
		(*s)++, (*n)--;
	while (*n && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* Parser directives: "# key=value" lines at the very top. */
static int directives(struct parser *p)
{
	int seen_escape = 0, seen_syntax = 0;

	for (;;) {
		size_t save = p->pos, saveno = p->lineno, n, kn;
		const char *s, *eq, *k;
		if (!next_line(p, &s, &n))
			return 0;
		trim(&s, &n);
		if (n < 2 || s[0] != '#' || !(eq = memchr(s, '=', n)))
			goto stop;
		k = s + 1;
		while (k < eq && isspace((unsigned char)*k))
			k++;
		kn = (size_t)(eq - k);
		while (kn && isspace((unsigned char)k[kn - 1]))
			kn--;
		const char *v = eq + 1;
		size_t vn = (size_t)(s + n - v);
		trim(&v, &vn);
		if (kn == 6 && strncasecmp(k, "escape", 6) == 0) {
			if (seen_escape++)
				return perr(p, p->lineno, "only one escape directive may be used", NULL);
			if (vn != 1 || (v[0] != '\\' && v[0] != '`'))
				return perr(p, p->lineno, "escape directive: expected \\ or `", NULL);
			p->esc = v[0];
		} else if (kn == 6 && strncasecmp(k, "syntax", 6) == 0) {
			if (seen_syntax++)
				return perr(p, p->lineno, "only one syntax directive may be used", NULL);
			if (!(p->df->syntax = dd_strndup(v, vn)))
				return dd_error_oom(p->err);
		} else if (!(kn == 5 && strncasecmp(k, "check", 5) == 0)) {
			goto stop;
		}
		continue;
stop:
		p->pos = save;
		p->lineno = saveno;
		return 0;
	}
}

/* Heredoc delimiters named in a RUN/COPY/ADD instruction ("<<EOF",
 * "<<-'EOF'"), then their bodies skipped. */
static int skip_heredocs(struct parser *p, const char *a, size_t n, size_t line)
{
	struct word w;
	size_t pos = 0;

	while (next_word(a, n, &pos, p->esc, &w)) {
		const char *s = w.s;
		size_t m = w.n, j = 0;
		int strip = 0;
		char delim[256];
		while (j < m && isdigit((unsigned char)s[j]))
			j++;
		if (m - j < 3 || s[j] != '<' || s[j + 1] != '<' || memchr(s + j + 2, '<', m - j - 2))
			continue;
		j += 2;
		if (s[j] == '-')
			strip = 1, j++;
		size_t dn = 0;
		for (; j < m && dn + 1 < sizeof(delim); j++)
			if (s[j] != '"' && s[j] != '\'')
				delim[dn++] = s[j];
		delim[dn] = '\0';
		if (!dn)
			continue;
		for (;;) {
			const char *l;
			size_t ln;
			if (!next_line(p, &l, &ln))
				return perr(p, line, "heredoc is not terminated:", delim);
			while (strip && ln && *l == '\t')
				l++, ln--;
			if (ln == dn && memcmp(l, delim, dn) == 0)
				break;
		}
	}
	return 0;
}

/* One instruction (continuations joined) in b, starting at line `line`. */
static int instruction(struct parser *p, const dd_buf *b, size_t line)
{
	const char *s = dd_buf_cstr(b), *a;
	size_t n = b->len, kw = 0, an;
	char name[16];
	size_t i;

	while (kw < n && !isspace((unsigned char)s[kw]))
		kw++;
	a = s + kw;
	an = n - kw;
	trim(&a, &an);
	for (i = 0; i < sizeof(instructions) / sizeof(instructions[0]); i++)
		if (strlen(instructions[i]) == kw && strncasecmp(instructions[i], s, kw) == 0)
			break;
	if (i == sizeof(instructions) / sizeof(instructions[0])) {
		snprintf(name, sizeof(name), "%.*s", (int)(kw < 15 ? kw : 15), s);
		return perr(p, line, "unknown instruction", name);
	}
	if (!strcmp(instructions[i], "from"))
		return do_from(p, a, an, line);
	if (!strcmp(instructions[i], "arg"))
		return p->df->n_stages ? 0 : do_arg(p, a, an, line);
	if (!p->df->n_stages)
		return perr(p, line, "only ARG may come before the first FROM, not", instructions[i]);
	if (!strcmp(instructions[i], "run") || !strcmp(instructions[i], "copy") ||
	    !strcmp(instructions[i], "add"))
		return skip_heredocs(p, a, an, line);
	return 0;
}

static int parse(struct parser *p)
{
	dd_buf b = DD_BUF_INIT_MAX(DD_DOCKERFILE_MAX);
	const char *s;
	size_t n, start = 0;
	int rc = 0;

	if ((rc = directives(p)))
		return rc;
	while (next_line(p, &s, &n)) {
		int more = 0;
		trim(&s, &n);
		if (n == 0 || s[0] == '#')
			continue; /* blank and comment lines, also inside a continuation */
		if (!b.len)
			start = p->lineno;
		if (s[n - 1] == p->esc) {
			more = 1;
			n--;
		}
		if (dd_buf_append(&b, s, n) || (more && dd_buf_putc(&b, ' ')))
			break;
		if (more)
			continue;
		if ((rc = instruction(p, &b, start)))
			goto done;
		dd_buf_reset(&b);
	}
	if (b.failed) {
		rc = dd_buf_error(&b, p->err, "Dockerfile instruction");
		goto done;
	}
	if (b.len && (rc = instruction(p, &b, start)))
		goto done;
	if (!p->df->n_stages)
		rc = dd_error_set(p->err, DD_EINPUT, "Dockerfile: no FROM instruction");
done:
	dd_buf_release(&b);
	return rc;
}

int dd_dockerfile_parse(dd_dockerfile **out, const char *text, size_t len,
			const char *const *build_args, size_t n_args, dd_error *err)
{
	struct parser p;
	int rc;

	*out = NULL;
	if (len > DD_DOCKERFILE_MAX)
		return dd_error_set(err, DD_EINPUT, "Dockerfile: larger than %zu bytes",
				    DD_DOCKERFILE_MAX);
	if (len && memchr(text, '\0', len))
		return dd_error_set(err, DD_EINPUT, "Dockerfile: holds a NUL byte (not a text file)");
	memset(&p, 0, sizeof(p));
	p.text = text;
	p.len = len;
	p.esc = '\\';
	p.args = build_args;
	p.n_args = n_args;
	p.err = err;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		p.pos = 3;
	if (!(p.df = calloc(1, sizeof(*p.df)))) {
		rc = dd_error_oom(err);
		goto done;
	}
	if ((rc = platform_vars(&p, "TARGET")) || (rc = platform_vars(&p, "BUILD")))
		goto done;
	rc = parse(&p);
	p.df->escape = p.esc;
done:
	for (size_t i = 0; i < p.n_vars; i++) {
		free(p.vars[i].name);
		free(p.vars[i].value);
	}
	free(p.vars);
	if (rc) {
		dd_dockerfile_free(p.df);
		return rc;
	}
	*out = p.df;
	return 0;
}

void dd_dockerfile_free(dd_dockerfile *df)
{
	if (!df)
		return;
	for (size_t i = 0; i < df->n_stages; i++) {
		free(df->stages[i].from);
		free(df->stages[i].name);
		free(df->stages[i].platform);
	}
	free(df->stages);
	free(df->syntax);
	free(df);
}

long dd_dockerfile_target(const dd_dockerfile *df, const char *target)
{
	if (!df || !df->n_stages)
		return -1;
	if (!target)
		return (long)df->n_stages - 1;
	for (size_t i = 0; i < df->n_stages; i++)
		if (df->stages[i].name && strcasecmp(df->stages[i].name, target) == 0)
			return (long)i;
	return -1;
}

int dd_dockerfile_is_scratch(const char *from)
{
	return from && strcasecmp(from, "scratch") == 0;
}
