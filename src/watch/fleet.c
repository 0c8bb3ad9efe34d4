/*
 * fleet.c - the fleet file parser (fleet.h, docs/watch.md).
 *
 * libyaml's event stream is read by a small recursive descent that follows
 * the schema: every mapping has a fixed key table, and a list or mapping
 * where a value is expected is an error at once, so the nesting depth is
 * bounded by the schema and not by the input.  Aliases are refused (no
 * billion laughs); anchors are harmless and ignored.
 *
 * Everything is allocated into the dd_fleet being built; any error frees it
 * with dd_fleet_free().  Messages are "FILE:LINE: what" with 1-based lines
 * from libyaml's marks.
 */
#include "watch/fleet.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "match/match.h"
#include "registry/ref.h"
#include "util/buf.h"
#include "util/reader.h"

#include "util/banned.h"

#define MAX_REGISTRIES 10000
#define MAX_IMAGES 100000
#define MAX_GITS 10000
#define MAX_KUBECTLS 100000
#define MAX_PLATFORMS 64
#define MAX_PATHS 10000
#define MAX_ARGS 1000
#define MAX_IGNORE 100000
#define MAX_STRING 8192          /* longest scalar kept (commands, URLs) */
#define MAX_NAME 255             /* image names, hosts, env names */
#define MAX_DURATION 315360000L  /* ten years */

struct imeta {
	size_t line, base_line;
};

typedef struct pctx {
	yaml_parser_t yp;
	yaml_event_t ev;
	int have_ev;
	int rc;               /* DD_EINPUT, or DD_EENV when out of memory */
	const char *text;
	size_t len;
	const char *name;     /* for messages */
	char *dir;            /* absolute directory relative paths start from */
	dd_error *err;
	dd_fleet *f;
	size_t cap_reg, cap_img, cap_git, cap_kube, cap_imeta, cap_kline, cap_rline;
	struct imeta *imeta;  /* parallel to f->images */
	size_t *kline;        /* parallel to f->kubectls: line of `image:` */
	size_t *rline;        /* parallel to f->registries: line of the entry */
} pctx;

/* ---- errors ---------------------------------------------------------- */

static size_t ln(const pctx *p)
{
	return p->ev.start_mark.line + 1;
}

DD_PRINTF(3, 0)
static int failv(pctx *p, size_t line, const char *fmt, va_list ap)
{
	char msg[768];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	p->rc = DD_EINPUT;
	dd_error_set(p->err, DD_EINPUT, "%s:%zu: %s", p->name, line, msg);
	return -1;
}

DD_PRINTF(3, 4)
static int fail_at(pctx *p, size_t line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	failv(p, line, fmt, ap);
	va_end(ap);
	return -1;
}

DD_PRINTF(2, 3)
static int fail(pctx *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	failv(p, ln(p), fmt, ap);
	va_end(ap);
	return -1;
}

static int oom(pctx *p)
{
	p->rc = DD_EENV;
	dd_error_oom(p->err);
	return -1;
}

/* Grow *v (elements of sz bytes, new ones zeroed) to hold need elements. */
static int grow(void *vp, size_t *cap, size_t need, size_t sz)
{
	void **v = vp;
	size_t nc, bytes;
	if (need <= *cap)
		return 0;
	nc = *cap ? *cap : 4;
	while (nc < need)
		if (dd_mul_size(&nc, nc, 2))
			return -1;
	if (dd_mul_size(&bytes, nc, sz))
		return -1;
	void *nv = realloc(*v, bytes);
	if (!nv)
		return -1;
	memset((char *)nv + *cap * sz, 0, (nc - *cap) * sz);
	*v = nv;
	*cap = nc;
	return 0;
}

/* ---- events ---------------------------------------------------------- */

static size_t offset_line(const pctx *p, size_t off)
{
	size_t line = 1;
	for (size_t i = 0; i < off && i < p->len; i++)
		line += p->text[i] == '\n';
	return line;
}

static int next(pctx *p)
{
	if (p->have_ev) {
		yaml_event_delete(&p->ev);
		p->have_ev = 0;
	}
	if (!yaml_parser_parse(&p->yp, &p->ev)) {
		const char *why = p->yp.problem ? p->yp.problem : "syntax error";
		if (p->yp.error == YAML_MEMORY_ERROR)
			return oom(p);
		if (p->yp.error == YAML_READER_ERROR)
			return fail_at(p, offset_line(p, p->yp.problem_offset), "not valid YAML: %s", why);
		return fail_at(p, p->yp.problem_mark.line + 1, "not valid YAML: %s", why);
	}
	p->have_ev = 1;
	if (p->ev.type == YAML_ALIAS_EVENT)
		return fail(p, "YAML aliases (*name) are not supported");
	return 0;
}

static int is_null(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	if (ev->type != YAML_SCALAR_EVENT || !ev->data.scalar.plain_implicit)
		return 0;
	return n == 0 || (n == 1 && v[0] == '~') ||
	       (n == 4 && (!memcmp(v, "null", 4) || !memcmp(v, "Null", 4) || !memcmp(v, "NULL", 4)));
}

/* Start a mapping value; a null value is an empty mapping (*empty = 1). */
static int map_start(pctx *p, const char *what, int *empty)
{
	*empty = 0;
	if (p->ev.type == YAML_MAPPING_START_EVENT)
		return 0;
	if (is_null(&p->ev)) {
		*empty = 1;
		return 0;
	}
	return fail(p, "%s must be a mapping (key: value lines)", what);
}

static int seq_start(pctx *p, const char *what, int *empty)
{
	*empty = 0;
	if (p->ev.type == YAML_SEQUENCE_START_EVENT)
		return 0;
	if (is_null(&p->ev)) {
		*empty = 1;
		return 0;
	}
	return fail(p, "%s must be a list (lines starting with '- ')", what);
}

/* Next list item: 1 with the current event at its start, 0 at the end. */
static int seq_item(pctx *p)
{
	if (next(p))
		return -1;
	return p->ev.type != YAML_SEQUENCE_END_EVENT;
}

static const char *const inline_secrets[][2] = {
	{ "password", "password_env (an environment variable) or password_file" },
	{ "token", "token_env (an environment variable)" },
	{ "webhook_secret", "webhook_secret_env (an environment variable)" },
	{ "git_url", NULL },
	{ "git_ref", NULL },
};

/* Refuse a key that is not in the table; special words get a hint. */
static int unknown_key(pctx *p, const char *k, size_t n, const char *what)
{
	for (size_t i = 0; i < sizeof(inline_secrets) / sizeof(inline_secrets[0]); i++) {
		if (strlen(inline_secrets[i][0]) != n || memcmp(k, inline_secrets[i][0], n))
			continue;
		if (inline_secrets[i][1])
			return fail(p, "an inline '%s' is refused (secrets never go in the fleet file): use %s",
				    inline_secrets[i][0], inline_secrets[i][1]);
		return fail(p, "unknown key '%s' in %s (write git: {url: ..., ref: ...})",
			    inline_secrets[i][0], what);
	}
	return fail(p, "unknown key '%.*s%s' in %s", (int)(n > 64 ? 64 : n), k, n > 64 ? "..." : "", what);
}

/*
 * Next key of a mapping: 1 with its index in keys[] in *idx and the current
 * event at the value (lines[idx] = the key's line when lines); 0 at the end.
 * Unknown and duplicate keys are errors.
 */
static int map_key(pctx *p, const char *what, const char *const *keys, size_t nkeys,
		   unsigned *seen, size_t *idx, size_t *lines)
{
	if (next(p))
		return -1;
	if (p->ev.type == YAML_MAPPING_END_EVENT)
		return 0;
	if (p->ev.type != YAML_SCALAR_EVENT)
		return fail(p, "%s: a key must be a plain word, not a list or mapping", what);
	const char *k = (const char *)p->ev.data.scalar.value;
	size_t n = p->ev.data.scalar.length, i;
	for (i = 0; i < nkeys; i++)
		if (strlen(keys[i]) == n && !memcmp(keys[i], k, n))
			break;
	if (i == nkeys)
		return unknown_key(p, k, n, what);
	if (*seen & (1u << i))
		return fail(p, "duplicate key '%s' in %s", keys[i], what);
	*seen |= 1u << i;
	*idx = i;
	if (lines)
		lines[i] = ln(p);
	if (next(p))
		return -1;
	return 1;
}

/* ---- scalars --------------------------------------------------------- */

static int scalar(pctx *p, const char *key)
{
	if (p->ev.type != YAML_SCALAR_EVENT)
		return fail(p, "'%s' must be a single value, not a list or mapping", key);
	if (memchr(p->ev.data.scalar.value, 0, p->ev.data.scalar.length))
		return fail(p, "'%s' holds a NUL byte", key);
	return 0;
}

/* A string value; null leaves *dst NULL.  multiline allows \n and \t. */
static int get_text(pctx *p, const char *key, char **dst, int multiline, int allow_empty)
{
	if (scalar(p, key))
		return -1;
	if (is_null(&p->ev))
		return allow_empty ? ((*dst = dd_strdup("")) ? 0 : oom(p)) : 0;
	const unsigned char *v = p->ev.data.scalar.value;
	size_t n = p->ev.data.scalar.length;
	if (n > MAX_STRING)
		return fail(p, "'%s' is longer than %d bytes", key, MAX_STRING);
	if (!n && !allow_empty)
		return fail(p, "'%s' is empty", key);
	for (size_t i = 0; i < n; i++)
		if ((v[i] < 0x20 && !(multiline && (v[i] == '\n' || v[i] == '\t'))) || v[i] == 0x7f)
			return fail(p, "'%s' holds a control character", key);
	free(*dst);
	*dst = dd_strndup((const char *)v, n);
	return *dst ? 0 : oom(p);
}

static int get_str(pctx *p, const char *key, char **dst)
{
	return get_text(p, key, dst, 0, 0);
}

static int get_bool(pctx *p, const char *key, int *out)
{
	if (scalar(p, key))
		return -1;
	if (is_null(&p->ev))
		return 0;
	const char *v = (const char *)p->ev.data.scalar.value;
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes"))
		*out = 1;
	else if (!strcasecmp(v, "false") || !strcasecmp(v, "no"))
		*out = 0;
	else
		return fail(p, "'%s' must be true or false (or yes/no), not '%.40s'", key, v);
	return 0;
}

static int get_duration(pctx *p, const char *key, unsigned *out, int allow_zero)
{
	if (scalar(p, key))
		return -1;
	if (is_null(&p->ev))
		return 0;
	const char *v = (const char *)p->ev.data.scalar.value;
	long d = dd_fleet_duration(v);
	if (d < 0)
		return fail(p, "'%s' must be a duration like 90, 30s, 5m, 2h or 1d (at most 3650d), not '%.40s'",
			    key, v);
	if (d == 0 && !allow_zero)
		return fail(p, "'%s' must be at least 1s", key);
	*out = (unsigned)d;
	return 0;
}

/* ---- checks ---------------------------------------------------------- */

static int check_env_name(pctx *p, const char *key, const char *s)
{
	size_t n = strlen(s);
	int ok = n > 0 && n <= MAX_NAME && !(s[0] >= '0' && s[0] <= '9');
	for (size_t i = 0; ok && i < n; i++)
		ok = (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		     (s[i] >= '0' && s[i] <= '9') || s[i] == '_';
	return ok ? 0 : fail(p, "'%s' must name an environment variable (letters, digits, _), not '%s'", key, s);
}

/* user:password@ in the authority part of a URL. */
static int url_has_password(const char *s)
{
	const char *a = strstr(s, "://"), *at, *end;
	if (!a)
		return 0;
	a += 3;
	end = a + strcspn(a, "/?#");
	at = memchr(a, '@', (size_t)(end - a));
	return at && memchr(a, ':', (size_t)(at - a));
}

static int check_http_url(pctx *p, const char *key, const char *s)
{
	if (strncmp(s, "http://", 7) && strncmp(s, "https://", 8))
		return fail(p, "'%s' must be an http:// or https:// URL, not '%s'", key, s);
	if (strchr(s, ' '))
		return fail(p, "'%s' holds a space", key);
	if (url_has_password(s))
		return fail(p, "'%s': a password in the URL is refused: use token_env", key);
	return 0;
}

/* Values that end up as command arguments must not look like options. */
static int check_no_dash(pctx *p, const char *key, const char *s)
{
	return s[0] == '-' ? fail(p, "'%s' must not start with '-'", key) : 0;
}

/* [A-Za-z0-9._-] plus the extra characters given; not starting with '-'. */
static int check_word(pctx *p, const char *key, const char *s, const char *extra)
{
	if (strlen(s) > MAX_NAME)
		return fail(p, "'%s' is longer than %d bytes", key, MAX_NAME);
	for (const char *c = s; *c; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
		      *c == '.' || *c == '_' || *c == '-' || (extra && strchr(extra, *c))))
			return fail(p, "'%s' holds '%c': allowed are letters, digits and . _ -%s", key, *c,
				    extra ? extra : "");
	return check_no_dash(p, key, s);
}

static int check_branch(pctx *p, const char *key, const char *s)
{
	if (check_word(p, key, s, "/+@"))
		return -1;
	if (strstr(s, "..") || strstr(s, "//") || strstr(s, "@{") || s[0] == '/' ||
	    s[strlen(s) - 1] == '/' || s[strlen(s) - 1] == '.')
		return fail(p, "'%s' is not a valid git branch name: '%s'", key, s);
	return 0;
}

/* "os/arch[/variant]". */
static int check_platform(pctx *p, const char *s)
{
	size_t parts = 1;
	if (check_word(p, "platforms", s, "/"))
		return -1;
	for (const char *c = s; *c; c++)
		parts += *c == '/';
	if (parts < 2 || parts > 3 || strstr(s, "//") || s[strlen(s) - 1] == '/' || s[0] == '/')
		return fail(p, "platform '%s' must be os/arch or os/arch/variant", s);
	return 0;
}

/* A path inside a git repository: relative, no "..".  NULL when fine. */
static const char *repo_path_problem(const char *s)
{
	if (s[0] == '/')
		return "must be relative to the repository root";
	for (const char *c = s; *c;) {
		size_t n = strcspn(c, "/");
		if (n == 2 && c[0] == '.' && c[1] == '.')
			return "must not contain '..'";
		c += n;
		c += *c == '/';
	}
	return NULL;
}

static int check_repo_path(pctx *p, const char *s)
{
	const char *why = repo_path_problem(s);
	return why ? fail(p, "path '%s' %s", s, why) : 0;
}

static int check_id(pctx *p, const char *s)
{
	return check_word(p, "ignore", s, ":+/");
}

/* host[:port] or [v6]:port. */
static int check_host(pctx *p, const char *key, const char *s)
{
	if (strchr(s, '/'))
		return fail(p, "'%s' is a registry host (\"registry.example.com:5000\"), without a path: '%s'",
			    key, s);
	return check_word(p, key, s, ":[]");
}

static int check_listen(pctx *p, const char *s)
{
	const char *c = strrchr(s, ':');
	char *end;
	if (check_word(p, "listen", s, ":[]"))
		return -1;
	if (!c || !c[1])
		return fail(p, "'listen' must be HOST:PORT (\"127.0.0.1:9095\"), not '%s'", s);
	errno = 0;
	unsigned long port = strtoul(c + 1, &end, 10);
	if (*end || errno || port < 1 || port > 65535 || c[1] < '0' || c[1] > '9')
		return fail(p, "'listen': port '%s' is not 1..65535", c + 1);
	return 0;
}

/* ---- paths ----------------------------------------------------------- */

static char *join_path(const char *dir, const char *rel)
{
	dd_buf b = DD_BUF_INIT;
	while (rel[0] == '.' && rel[1] == '/') {
		rel += 2;
		while (*rel == '/')
			rel++;
	}
	dd_buf_puts(&b, dir);
	if (strcmp(rel, ".") && *rel) {
		if (!b.len || b.data[b.len - 1] != '/')
			dd_buf_putc(&b, '/');
		dd_buf_puts(&b, rel);
	}
	if (b.failed) {
		dd_buf_release(&b);
		return NULL;
	}
	return dd_buf_detach(&b, NULL);
}

/* Make a relative path absolute against the fleet file's directory. */
static int resolve(pctx *p, char **path)
{
	if (!*path || (*path)[0] == '/')
		return 0;
	char *abs = join_path(p->dir, *path);
	if (!abs)
		return oom(p);
	free(*path);
	*path = abs;
	return 0;
}

static int get_path(pctx *p, const char *key, char **dst)
{
	return get_str(p, key, dst) || resolve(p, dst) ? -1 : 0;
}

/* ---- lists ----------------------------------------------------------- */

typedef int (*check_fn)(pctx *p, const char *s);

static int get_list(pctx *p, const char *what, char ***v, size_t *n, size_t max, check_fn chk)
{
	size_t cap = 0;
	int empty, r;
	char quoted[64];
	snprintf(quoted, sizeof(quoted), "'%s'", what);
	if (seq_start(p, quoted, &empty))
		return -1;
	while (!empty && (r = seq_item(p)) != 0) {
		char *s = NULL;
		if (r < 0)
			return -1;
		if (*n >= max)
			return fail(p, "more than %zu entries in '%s'", max, what);
		if (grow(v, &cap, *n + 1, sizeof(char *)))
			return oom(p);
		if (get_str(p, what, &s))
			return -1;
		if (!s)
			return fail(p, "empty entry in '%s'", what);
		(*v)[(*n)++] = s;
		if (chk && chk(p, s))
			return -1;
	}
	return 0;
}

/* ---- build ----------------------------------------------------------- */

static const char *const backend_names[] = {
	[DD_BUILD_NONE] = "none",       [DD_BUILD_BUILDAH] = "buildah", [DD_BUILD_COMMAND] = "command",
	[DD_BUILD_JENKINS] = "jenkins", [DD_BUILD_AZURE] = "azure",     [DD_BUILD_GITHUB] = "github",
};

const char *dd_build_backend_name(enum dd_build_backend b)
{
	if ((unsigned)b >= sizeof(backend_names) / sizeof(backend_names[0]))
		return "?";
	return backend_names[b];
}

static int get_backend(pctx *p, enum dd_build_backend *out)
{
	if (scalar(p, "backend"))
		return -1;
	const char *v = (const char *)p->ev.data.scalar.value;
	for (size_t i = DD_BUILD_BUILDAH; i < sizeof(backend_names) / sizeof(backend_names[0]); i++)
		if (!strcmp(v, backend_names[i])) {
			*out = (enum dd_build_backend)i;
			return 0;
		}
	return fail(p, "unknown backend '%.40s' (buildah, command, jenkins, azure or github)", v);
}

static int parse_args(pctx *p, dd_fleet_build *b)
{
	size_t cap = 0;
	int empty;
	if (map_start(p, "'args'", &empty))
		return -1;
	while (!empty) {
		if (next(p))
			return -1;
		if (p->ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (p->ev.type != YAML_SCALAR_EVENT)
			return fail(p, "'args': a build argument name must be a plain word");
		if (b->n_args >= MAX_ARGS)
			return fail(p, "more than %d build arguments", MAX_ARGS);
		if (grow(&b->args, &cap, b->n_args + 1, sizeof(*b->args)))
			return oom(p);
		dd_fleet_kv *kv = &b->args[b->n_args++];
		const char *k = (const char *)p->ev.data.scalar.value;
		if (!strcmp(k, "password"))
			return unknown_key(p, k, strlen(k), "args");
		if (get_str(p, "args", &kv->key))
			return -1;
		if (!kv->key)
			return fail(p, "'args': empty build argument name");
		if (check_word(p, "args", kv->key, NULL))
			return -1;
		if (kv->key[0] >= '0' && kv->key[0] <= '9')
			return fail(p, "build argument '%s' must not start with a digit", kv->key);
		for (size_t i = 0; i + 1 < b->n_args; i++)
			if (!strcmp(b->args[i].key, kv->key))
				return fail(p, "duplicate build argument '%s'", kv->key);
		if (next(p) || get_text(p, "args", &kv->value, 0, 1))
			return -1;
	}
	return 0;
}

/* A git URL: no option look-alike, no ext::, no password; ./ and ../ are
 * local paths relative to the fleet file. */
static int get_git_url(pctx *p, char **url)
{
	if (get_str(p, "url", url))
		return -1;
	if (!*url)
		return 0;
	if (check_no_dash(p, "url", *url))
		return -1;
	if (!strncmp(*url, "ext::", 5))
		return fail(p, "git url: the ext:: transport is refused");
	if (url_has_password(*url))
		return fail(p, "git url: a password in the URL is refused (use a credential helper or an SSH key)");
	if (!strncmp(*url, "./", 2) || !strncmp(*url, "../", 3) || !strcmp(*url, ".") || !strcmp(*url, ".."))
		return resolve(p, url);
	return 0;
}

static int parse_build_git(pctx *p, dd_fleet_build *b)
{
	static const char *const keys[] = { "url", "ref" };
	size_t k, line = ln(p);
	unsigned seen = 0;
	int empty, r = 0;
	if (map_start(p, "'git'", &empty))
		return -1;
	while (!empty && (r = map_key(p, "git", keys, 2, &seen, &k, NULL)) > 0) {
		if (k == 0 ? get_git_url(p, &b->git_url)
			   : get_str(p, "ref", &b->git_ref) || (b->git_ref && check_branch(p, "ref", b->git_ref)))
			return -1;
	}
	if (r < 0)
		return -1;
	if (!b->git_url)
		return fail_at(p, line, "'git' needs 'url' (the repository to clone)");
	return 0;
}

static const char *const build_keys[] = { "backend",   "context", "git",  "dockerfile", "target",
					  "args",      "command", "url",  "token_env",  "user",
					  "event_type", "timeout" };
enum { BK_BACKEND, BK_CONTEXT, BK_GIT, BK_DOCKERFILE, BK_TARGET, BK_ARGS, BK_COMMAND, BK_URL,
       BK_TOKEN_ENV, BK_USER, BK_EVENT_TYPE, BK_TIMEOUT, BK_N };

/* Keys that belong to one backend only. */
static int check_build_keys(pctx *p, const dd_fleet_build *b, unsigned seen, const size_t *lines)
{
	int ci = b->backend == DD_BUILD_JENKINS || b->backend == DD_BUILD_AZURE ||
		 b->backend == DD_BUILD_GITHUB;
	static const struct {
		int key;
		const char *who;
	} only[] = {
		{ BK_COMMAND, "command" },  { BK_URL, "jenkins, azure and github" },
		{ BK_TOKEN_ENV, "jenkins, azure and github" }, { BK_USER, "jenkins" },
		{ BK_EVENT_TYPE, "github" },
	};
	for (size_t i = 0; i < sizeof(only) / sizeof(only[0]); i++) {
		int k = only[i].key, ok;
		if (!(seen & (1u << k)))
			continue;
		if (k == BK_COMMAND)
			ok = b->backend == DD_BUILD_COMMAND;
		else if (k == BK_USER)
			ok = b->backend == DD_BUILD_JENKINS;
		else if (k == BK_EVENT_TYPE)
			ok = b->backend == DD_BUILD_GITHUB;
		else
			ok = ci;
		if (!ok)
			return fail_at(p, lines[k], "'%s' is only for the %s backend%s, not %s", build_keys[k],
				       only[i].who, strchr(only[i].who, ' ') ? "s" : "",
				       dd_build_backend_name(b->backend));
	}
	return 0;
}

static int build_defaults(pctx *p, dd_fleet_build *b, size_t line, const size_t *lines)
{
	/* With git, context is a directory inside the clone; else a local one. */
	if (b->context && b->git_url) {
		const char *why = repo_path_problem(b->context);
		if (why)
			return fail_at(p, lines[BK_CONTEXT], "'context' '%s' (a directory inside the git repository) %s",
				       b->context, why);
	} else if (resolve(p, &b->context)) {
		return -1;
	}
	switch (b->backend) {
	case DD_BUILD_BUILDAH:
		if (!b->context && !b->git_url)
			return fail_at(p, line, "the buildah backend needs 'context' (a directory) or 'git: {url: ...}'");
		break;
	case DD_BUILD_COMMAND:
		if (!b->command)
			return fail_at(p, line, "the command backend needs 'command' (a shell command template)");
		break;
	default:
		if (!b->url)
			return fail_at(p, line, "the %s backend needs 'url'", dd_build_backend_name(b->backend));
		break;
	}
	if (!b->dockerfile && !(b->dockerfile = dd_strdup("Dockerfile")))
		return oom(p);
	if (!b->git_ref && !(b->git_ref = dd_strdup("HEAD")))
		return oom(p);
	if (b->backend == DD_BUILD_GITHUB && !b->event_type && !(b->event_type = dd_strdup("drydock-rebuild")))
		return oom(p);
	if (!b->timeout)
		b->timeout = 3600;
	return 0;
}

static int build_value(pctx *p, dd_fleet_build *b, size_t k)
{
	switch (k) {
	case BK_BACKEND:
		return get_backend(p, &b->backend);
	case BK_CONTEXT:
		return get_str(p, "context", &b->context); /* resolved in build_defaults */
	case BK_GIT:
		return parse_build_git(p, b);
	case BK_DOCKERFILE:
		return get_str(p, "dockerfile", &b->dockerfile);
	case BK_TARGET:
		return get_str(p, "target", &b->target) || (b->target && check_word(p, "target", b->target, NULL));
	case BK_ARGS:
		return parse_args(p, b);
	case BK_COMMAND:
		return get_text(p, "command", &b->command, 1, 0);
	case BK_URL:
		return get_str(p, "url", &b->url) || (b->url && check_http_url(p, "url", b->url));
	case BK_TOKEN_ENV:
		return get_str(p, "token_env", &b->token_env) ||
		       (b->token_env && check_env_name(p, "token_env", b->token_env));
	case BK_USER:
		return get_str(p, "user", &b->user);
	case BK_EVENT_TYPE:
		return get_str(p, "event_type", &b->event_type);
	default:
		return get_duration(p, "timeout", &b->timeout, 0);
	}
}

static int parse_build(pctx *p, dd_fleet_build *b)
{
	size_t k, line = ln(p), lines[BK_N] = { 0 };
	unsigned seen = 0;
	int empty, r = 0;
	if (map_start(p, "'build'", &empty))
		return -1;
	b->backend = DD_BUILD_BUILDAH;
	while (!empty && (r = map_key(p, "build", build_keys, BK_N, &seen, &k, lines)) > 0)
		if (build_value(p, b, k))
			return -1;
	if (r < 0)
		return -1;
	return check_build_keys(p, b, seen, lines) || build_defaults(p, b, line, lines) ? -1 : 0;
}

/* ---- images ---------------------------------------------------------- */

/* Split "repo:tag", refuse digests, canonicalise image to "domain/path". */
static int finish_ref(pctx *p, dd_fleet_image *im, size_t image_line, size_t tag_line)
{
	const char *s = im->image, *slash, *colon;
	char full[1024];
	dd_ref ref;
	dd_error e = DD_ERROR_INIT;
	if (!strncmp(s, "docker://", 9))
		s += 9;
	if (strchr(s, '@'))
		return fail_at(p, image_line, "image '%s': a digest cannot be watched; give a tag (the watcher follows tags)",
			       im->image);
	slash = strrchr(s, '/');
	colon = strrchr(slash ? slash : s, ':');
	if (colon && im->tag)
		return fail_at(p, tag_line, "image '%s' already has a tag: remove 'tag:' or the ':%s'", im->image,
			       colon + 1);
	if (strlen(s) > 512 || (im->tag && strlen(im->tag) > 200))
		return fail_at(p, image_line, "image '%.60s...' is too long", s);
	snprintf(full, sizeof(full), "%s%s%s", s, im->tag ? ":" : "", im->tag ? im->tag : "");
	if (dd_ref_parse(&ref, full, &e))
		return fail_at(p, im->tag && !colon ? tag_line : image_line, "%s", e.msg);
	snprintf(full, sizeof(full), "%s/%s", ref.domain, ref.path);
	free(im->image);
	free(im->tag);
	im->tag = NULL;
	if (!(im->image = dd_strdup(full)) || !(im->tag = dd_strdup(ref.tag[0] ? ref.tag : "latest")))
		return oom(p);
	return 0;
}

static int check_image_name(pctx *p, size_t line, const char *s)
{
	if (!*s || strlen(s) > MAX_NAME)
		return fail_at(p, line, "image name '%.60s' must be 1 to %d bytes", s, MAX_NAME);
	for (const char *c = s; *c; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
		      strchr("._-/:[]", *c)))
			return fail_at(p, line, "image name '%s' holds '%c': allowed are letters, digits and . _ - / : [ ]",
				       s, *c);
	return 0;
}

static int parse_image(pctx *p, dd_fleet_image *im, struct imeta *m)
{
	static const char *const keys[] = { "name", "image", "tag", "platforms", "base", "build" };
	size_t k, lines[6] = { 0 };
	unsigned seen = 0;
	int empty, r = 0;
	m->line = ln(p);
	if (map_start(p, "an entry of 'images'", &empty))
		return -1;
	while (!empty && (r = map_key(p, "an image", keys, 6, &seen, &k, lines)) > 0) {
		int rc;
		switch (k) {
		case 0: rc = get_str(p, "name", &im->name); break;
		case 1: rc = get_str(p, "image", &im->image); break;
		case 2: rc = get_str(p, "tag", &im->tag); break;
		case 3: rc = get_list(p, "platforms", &im->platforms, &im->n_platforms, MAX_PLATFORMS,
				      check_platform); break;
		case 4: rc = get_str(p, "base", &im->base); m->base_line = ln(p); break;
		default: rc = parse_build(p, &im->build); break;
		}
		if (rc)
			return -1;
	}
	if (r < 0)
		return -1;
	if (!im->image)
		return fail_at(p, m->line, "an entry of 'images' needs 'image' (the repository, e.g. registry.example.com/app:1)");
	if (finish_ref(p, im, lines[1], lines[2]))
		return -1;
	if (!im->name && !(im->name = dd_strdup(im->image)))
		return oom(p);
	return check_image_name(p, lines[0] ? lines[0] : m->line, im->name);
}

static int parse_images(pctx *p)
{
	dd_fleet *f = p->f;
	int empty, r;
	if (seq_start(p, "'images'", &empty))
		return -1;
	while (!empty && (r = seq_item(p)) != 0) {
		if (r < 0)
			return -1;
		if (f->n_images >= MAX_IMAGES)
			return fail(p, "more than %d images", MAX_IMAGES);
		if (grow(&f->images, &p->cap_img, f->n_images + 1, sizeof(*f->images)) ||
		    grow(&p->imeta, &p->cap_imeta, f->n_images + 1, sizeof(*p->imeta)))
			return oom(p);
		f->n_images++;
		if (parse_image(p, &f->images[f->n_images - 1], &p->imeta[f->n_images - 1]))
			return -1;
	}
	return 0;
}

/* ---- registries ------------------------------------------------------ */

static int registry_value(pctx *p, dd_fleet_registry *g, size_t k)
{
	switch (k) {
	case 0:
		return get_str(p, "host", &g->host) || (g->host && check_host(p, "host", g->host));
	case 1:
		return get_str(p, "username", &g->username);
	case 2:
		return get_str(p, "password_env", &g->password_env) ||
		       (g->password_env && check_env_name(p, "password_env", g->password_env));
	case 3:
		return get_path(p, "password_file", &g->password_file);
	case 4:
		return get_bool(p, "insecure", &g->insecure);
	case 5:
		return get_path(p, "ca_file", &g->ca_file);
	case 6:
		return get_duration(p, "poll_interval", &g->poll_interval, 0);
	default: {
		if (scalar(p, "jitter"))
			return -1;
		if (is_null(&p->ev))
			return 0;
		const char *v = (const char *)p->ev.data.scalar.value;
		char *end;
		errno = 0;
		unsigned long j = strtoul(v, &end, 10);
		if (v[0] < '0' || v[0] > '9' || errno || j > 100 || (*end && strcmp(end, "%")))
			return fail(p, "'jitter' must be a percentage 0..100 (\"10\" or \"10%%\"), not '%.40s'", v);
		g->jitter_pct = (unsigned)j;
		return 0;
	}
	}
}

static int parse_registry(pctx *p, dd_fleet_registry *g)
{
	static const char *const keys[] = { "host", "username", "password_env", "password_file",
					    "insecure", "ca_file", "poll_interval", "jitter" };
	size_t k, line = ln(p);
	unsigned seen = 0;
	int empty, r = 0;
	g->poll_interval = 300;
	g->jitter_pct = 10;
	if (map_start(p, "an entry of 'registries'", &empty))
		return -1;
	while (!empty && (r = map_key(p, "a registry", keys, 8, &seen, &k, NULL)) > 0)
		if (registry_value(p, g, k))
			return -1;
	if (r < 0)
		return -1;
	if (!g->host)
		return fail_at(p, line, "an entry of 'registries' needs 'host'");
	if (g->password_env && g->password_file)
		return fail_at(p, line, "registry %s: give password_env or password_file, not both", g->host);
	return 0;
}

static int parse_registries(pctx *p)
{
	dd_fleet *f = p->f;
	int empty, r;
	if (seq_start(p, "'registries'", &empty))
		return -1;
	while (!empty && (r = seq_item(p)) != 0) {
		if (r < 0)
			return -1;
		if (f->n_registries >= MAX_REGISTRIES)
			return fail(p, "more than %d registries", MAX_REGISTRIES);
		if (grow(&f->registries, &p->cap_reg, f->n_registries + 1, sizeof(*f->registries)) ||
		    grow(&p->rline, &p->cap_rline, f->n_registries + 1, sizeof(*p->rline)))
			return oom(p);
		p->rline[f->n_registries] = ln(p);
		if (parse_registry(p, &f->registries[f->n_registries++]))
			return -1;
	}
	return 0;
}

/* ---- deploy ---------------------------------------------------------- */

static int parse_author(pctx *p, dd_fleet_git *g)
{
	static const char *const keys[] = { "name", "email" };
	size_t k;
	unsigned seen = 0;
	int empty, r = 0;
	if (map_start(p, "'author'", &empty))
		return -1;
	while (!empty && (r = map_key(p, "author", keys, 2, &seen, &k, NULL)) > 0)
		if (get_str(p, keys[k], k ? &g->author_email : &g->author_name))
			return -1;
	return r < 0 ? -1 : 0;
}

static int git_value(pctx *p, dd_fleet_git *g, size_t k)
{
	switch (k) {
	case 0:
		return get_git_url(p, &g->url);
	case 1:
		return get_str(p, "branch", &g->branch) || (g->branch && check_branch(p, "branch", g->branch));
	case 2:
		return get_str(p, "push_branch", &g->push_branch) ||
		       (g->push_branch && check_branch(p, "push_branch", g->push_branch));
	case 3:
		return get_list(p, "paths", &g->paths, &g->n_paths, MAX_PATHS, check_repo_path);
	default:
		return parse_author(p, g);
	}
}

static int parse_git(pctx *p, dd_fleet_git *g)
{
	static const char *const keys[] = { "url", "branch", "push_branch", "paths", "author" };
	size_t k, line = ln(p);
	unsigned seen = 0;
	int empty, r = 0;
	if (map_start(p, "an entry of 'deploy: git'", &empty))
		return -1;
	while (!empty && (r = map_key(p, "a git deployment", keys, 5, &seen, &k, NULL)) > 0)
		if (git_value(p, g, k))
			return -1;
	if (r < 0)
		return -1;
	if (!g->url)
		return fail_at(p, line, "a git deployment needs 'url' (the repository to update)");
	if ((!g->branch && !(g->branch = dd_strdup("main"))) ||
	    (!g->push_branch && !(g->push_branch = dd_strdup(g->branch))) ||
	    (!g->author_name && !(g->author_name = dd_strdup("drydock"))) ||
	    (!g->author_email && !(g->author_email = dd_strdup("drydock@localhost"))))
		return oom(p);
	return 0;
}

static int kubectl_value(pctx *p, dd_fleet_kubectl *t, size_t k, size_t *image_line)
{
	switch (k) {
	case 0:
		*image_line = ln(p);
		return get_str(p, "image", &t->image);
	case 1:
		return get_str(p, "context", &t->context) || (t->context && check_no_dash(p, "context", t->context));
	case 2:
		return get_path(p, "kubeconfig", &t->kubeconfig);
	case 3:
		return get_str(p, "namespace", &t->namespace) ||
		       (t->namespace && check_word(p, "namespace", t->namespace, NULL));
	case 4:
		return get_str(p, "resource", &t->resource) ||
		       (t->resource && check_word(p, "resource", t->resource, "/"));
	default:
		return get_str(p, "container", &t->container) ||
		       (t->container && check_word(p, "container", t->container, NULL));
	}
}

static int parse_kubectl(pctx *p, dd_fleet_kubectl *t, size_t *image_line)
{
	static const char *const keys[] = { "image", "context", "kubeconfig", "namespace", "resource", "container" };
	size_t k, line = ln(p);
	unsigned seen = 0;
	int empty, r = 0;
	if (map_start(p, "an entry of 'deploy: kubectl'", &empty))
		return -1;
	while (!empty && (r = map_key(p, "a kubectl target", keys, 6, &seen, &k, NULL)) > 0)
		if (kubectl_value(p, t, k, image_line))
			return -1;
	if (r < 0)
		return -1;
	if (!t->image)
		return fail_at(p, line, "a kubectl target needs 'image' (a name from 'images')");
	if (!t->resource || !strchr(t->resource, '/'))
		return fail_at(p, line, "a kubectl target needs 'resource' as KIND/NAME (\"deployment/app\")");
	if (!t->container)
		return fail_at(p, line, "a kubectl target needs 'container' (the container to update)");
	if (!t->namespace && !(t->namespace = dd_strdup("default")))
		return oom(p);
	return 0;
}

static int parse_deploy(pctx *p)
{
	static const char *const keys[] = { "git", "kubectl" };
	dd_fleet *f = p->f;
	size_t k;
	unsigned seen = 0;
	int empty, r = 0;
	if (map_start(p, "'deploy'", &empty))
		return -1;
	while (!empty && (r = map_key(p, "deploy", keys, 2, &seen, &k, NULL)) > 0) {
		int e2, r2;
		if (seq_start(p, k ? "'deploy: kubectl'" : "'deploy: git'", &e2))
			return -1;
		while (!e2 && (r2 = seq_item(p)) != 0) {
			if (r2 < 0)
				return -1;
			if (k == 0) {
				if (f->n_gits >= MAX_GITS)
					return fail(p, "more than %d git deployments", MAX_GITS);
				if (grow(&f->gits, &p->cap_git, f->n_gits + 1, sizeof(*f->gits)))
					return oom(p);
				if (parse_git(p, &f->gits[f->n_gits++]))
					return -1;
				continue;
			}
			if (f->n_kubectls >= MAX_KUBECTLS)
				return fail(p, "more than %d kubectl targets", MAX_KUBECTLS);
			if (grow(&f->kubectls, &p->cap_kube, f->n_kubectls + 1, sizeof(*f->kubectls)) ||
			    grow(&p->kline, &p->cap_kline, f->n_kubectls + 1, sizeof(*p->kline)))
				return oom(p);
			p->kline[f->n_kubectls] = ln(p);
			f->n_kubectls++;
			if (parse_kubectl(p, &f->kubectls[f->n_kubectls - 1], &p->kline[f->n_kubectls - 1]))
				return -1;
		}
	}
	return r < 0 ? -1 : 0;
}

/* ---- policy and watch ------------------------------------------------ */

static int parse_policy(pctx *p)
{
	static const char *const keys[] = { "fail_on", "fail_on_new", "ignore", "db" };
	dd_fleet_policy *g = &p->f->policy;
	size_t k;
	unsigned seen = 0;
	int empty, r = 0, rc;
	if (map_start(p, "'policy'", &empty))
		return -1;
	while (!empty && (r = map_key(p, "policy", keys, 4, &seen, &k, NULL)) > 0) {
		if (k == 0) {
			enum dd_severity s;
			if (scalar(p, "fail_on"))
				return -1;
			if (is_null(&p->ev))
				continue;
			if (dd_severity_parse((const char *)p->ev.data.scalar.value, &s))
				return fail(p, "'fail_on' must be CRITICAL, HIGH, MEDIUM, LOW or UNKNOWN, not '%.40s'",
					    (const char *)p->ev.data.scalar.value);
			g->fail_on = (int)s;
			continue;
		}
		if (k == 1)
			rc = get_bool(p, "fail_on_new", &g->fail_on_new);
		else if (k == 2)
			rc = get_list(p, "ignore", &g->ignore, &g->n_ignore, MAX_IGNORE, check_id);
		else
			rc = get_path(p, "db", &g->db);
		if (rc)
			return -1;
	}
	return r < 0 ? -1 : 0;
}

static int watch_value(pctx *p, dd_fleet_watch *w, size_t k)
{
	switch (k) {
	case 0:
		return get_path(p, "state", &w->state);
	case 1:
		return get_str(p, "listen", &w->listen) || (w->listen && check_listen(p, w->listen));
	case 2:
		return get_str(p, "webhook_secret_env", &w->webhook_secret_env) ||
		       (w->webhook_secret_env && check_env_name(p, "webhook_secret_env", w->webhook_secret_env));
	case 3:
		return get_duration(p, "debounce", &w->debounce, 1);
	default:
		return get_str(p, "notify_url", &w->notify_url) ||
		       (w->notify_url && check_http_url(p, "notify_url", w->notify_url));
	}
}

static int parse_watch(pctx *p)
{
	static const char *const keys[] = { "state", "listen", "webhook_secret_env", "debounce", "notify_url" };
	size_t k;
	unsigned seen = 0;
	int empty, r = 0;
	if (map_start(p, "'watch'", &empty))
		return -1;
	while (!empty && (r = map_key(p, "watch", keys, 5, &seen, &k, NULL)) > 0)
		if (watch_value(p, &p->f->watch, k))
			return -1;
	return r < 0 ? -1 : 0;
}

/* ---- the whole file -------------------------------------------------- */

static int expect(pctx *p, yaml_event_type_t t, const char *what)
{
	if (next(p))
		return -1;
	return p->ev.type == t ? 0 : fail(p, "%s", what);
}

static int parse_stream(pctx *p)
{
	static const char *const keys[] = { "registries", "images", "deploy", "policy", "watch" };
	size_t k;
	unsigned seen = 0;
	int empty, r = 0;
	if (expect(p, YAML_STREAM_START_EVENT, "not a YAML stream") || next(p))
		return -1;
	if (p->ev.type != YAML_DOCUMENT_START_EVENT)
		return fail_at(p, 1, "empty fleet file: it needs at least 'images:'");
	if (next(p) || map_start(p, "the fleet file", &empty))
		return -1;
	while (!empty && (r = map_key(p, "the fleet file", keys, 5, &seen, &k, NULL)) > 0) {
		int rc;
		switch (k) {
		case 0: rc = parse_registries(p); break;
		case 1: rc = parse_images(p); break;
		case 2: rc = parse_deploy(p); break;
		case 3: rc = parse_policy(p); break;
		default: rc = parse_watch(p); break;
		}
		if (rc)
			return -1;
	}
	if (r < 0 || expect(p, YAML_DOCUMENT_END_EVENT, "one YAML document expected") ||
	    expect(p, YAML_STREAM_END_EVENT, "more than one YAML document ('---'): the fleet file is one"))
		return -1;
	if (!p->f->n_images)
		return fail(p, "no images: the fleet file needs at least one entry under 'images:'");
	return 0;
}

/* ---- cross checks ---------------------------------------------------- */

struct nameidx {
	const char *s;
	size_t i;
};

static int cmp_nameidx(const void *a, const void *b)
{
	const struct nameidx *x = a, *y = b;
	int c = strcmp(x->s, y->s);
	return c ? c : (x->i > y->i) - (x->i < y->i);
}

static ssize_t find_image(const dd_fleet *f, const char *name)
{
	size_t lo = 0, hi = f->n_images;
	if (!f->by_name) {
		for (size_t i = 0; i < f->n_images; i++)
			if (!strcmp(f->images[i].name, name))
				return (ssize_t)i;
		return -1;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(f->images[f->by_name[mid]].name, name);
		if (!c)
			return (ssize_t)f->by_name[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int index_names(pctx *p)
{
	dd_fleet *f = p->f;
	struct nameidx *v = dd_calloc(f->n_images, sizeof(*v));
	if (!v || !(f->by_name = dd_calloc(f->n_images, sizeof(*f->by_name)))) {
		free(v);
		return oom(p);
	}
	for (size_t i = 0; i < f->n_images; i++)
		v[i] = (struct nameidx){ f->images[i].name, i };
	qsort(v, f->n_images, sizeof(*v), cmp_nameidx);
	for (size_t i = 0; i < f->n_images; i++) {
		f->by_name[i] = v[i].i;
		if (i && !strcmp(v[i].s, v[i - 1].s)) {
			size_t a = v[i - 1].i, b = v[i].i;
			fail_at(p, p->imeta[b].line, "duplicate image name '%s' (also at line %zu); give each a distinct 'name:'",
				v[i].s, p->imeta[a].line);
			free(v);
			return -1;
		}
	}
	free(v);
	return 0;
}

/* base: a name of images[] or a reference; no cycles through names. */
static int check_bases(pctx *p)
{
	dd_fleet *f = p->f;
	size_t *up = dd_calloc(f->n_images, sizeof(*up)), *mark = dd_calloc(f->n_images, sizeof(*mark));
	int rc = 0;
	if (!up || !mark) {
		rc = oom(p);
		goto done;
	}
	for (size_t i = 0; i < f->n_images; i++) {
		const char *b = f->images[i].base;
		ssize_t j;
		dd_ref ref;
		dd_error e = DD_ERROR_INIT;
		up[i] = SIZE_MAX;
		if (!b)
			continue;
		if ((j = find_image(f, b)) >= 0) {
			if ((size_t)j == i) {
				rc = fail_at(p, p->imeta[i].base_line, "image '%s' names itself as its base", b);
				goto done;
			}
			up[i] = (size_t)j;
		} else if (dd_ref_parse(&ref, b, &e)) {
			rc = fail_at(p, p->imeta[i].base_line,
				     "base '%s' is neither an image name in this file nor a valid reference (%s)", b, e.msg);
			goto done;
		}
	}
	/* Walk each chain; mark[] = 1 + the start of the walk that visited it. */
	for (size_t i = 0; i < f->n_images; i++) {
		size_t j = i;
		while (j != SIZE_MAX && !mark[j]) {
			mark[j] = i + 1;
			j = up[j];
		}
		if (j != SIZE_MAX && mark[j] == i + 1) {
			rc = fail_at(p, p->imeta[j].base_line, "image '%s': its bases form a cycle", f->images[j].name);
			goto done;
		}
	}
done:
	free(up);
	free(mark);
	return rc;
}

static int check_fleet(pctx *p)
{
	dd_fleet *f = p->f;
	if (index_names(p) || check_bases(p))
		return -1;
	for (size_t i = 0; i < f->n_kubectls; i++)
		if (find_image(f, f->kubectls[i].image) < 0)
			return fail_at(p, p->kline[i], "kubectl target: no image named '%s' in 'images'",
				       f->kubectls[i].image);
	for (size_t i = 0; i < f->n_registries; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(f->registries[i].host, f->registries[j].host))
				return fail_at(p, p->rline[i], "duplicate registry '%s' (also at line %zu)",
					       f->registries[i].host, p->rline[j]);
	return 0;
}

/* ---- public ---------------------------------------------------------- */

static char *absolute_dir(const char *dir)
{
	char cwd[4096];
	if (dir && dir[0] == '/')
		return dd_strdup(dir);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	return dir && *dir ? join_path(cwd, dir) : dd_strdup(cwd);
}

int dd_fleet_parse(dd_fleet **out, const char *text, size_t len, const char *name,
		   const char *dir, dd_error *err)
{
	pctx p;
	int rc = 0, yinit = 0;

	memset(&p, 0, sizeof(p));
	*out = NULL;
	p.name = name ? name : "<memory>";
	p.err = err;
	p.text = text ? text : "";
	p.len = text ? len : 0;
	p.rc = DD_EINPUT;
	if (p.len > DD_FLEET_MAX)
		return dd_error_set(err, DD_EINPUT, "%s: %zu bytes is larger than the limit of %zu", p.name,
				    p.len, DD_FLEET_MAX);
	if (!(p.f = dd_calloc(1, sizeof(*p.f))) || !(p.f->path = dd_strdup(p.name))) {
		rc = DD_EENV;
		oom(&p);
		goto done;
	}
	if (!(p.dir = absolute_dir(dir))) {
		rc = dd_error_set(err, DD_EENV, "%s: cannot find the current directory", p.name);
		goto done;
	}
	p.f->policy.fail_on = -1;
	p.f->watch.debounce = 10;
	if (!yaml_parser_initialize(&p.yp)) {
		rc = oom(&p);
		goto done;
	}
	yinit = 1;
	yaml_parser_set_input_string(&p.yp, (const unsigned char *)p.text, p.len);
	if (parse_stream(&p) || check_fleet(&p))
		rc = p.rc ? p.rc : DD_EINPUT;
done:
	if (p.have_ev)
		yaml_event_delete(&p.ev);
	if (yinit)
		yaml_parser_delete(&p.yp);
	free(p.imeta);
	free(p.kline);
	free(p.rline);
	free(p.dir);
	if (rc)
		dd_fleet_free(p.f);
	else
		*out = p.f;
	return rc;
}

int dd_fleet_load(dd_fleet **out, const char *path, dd_error *err)
{
	dd_buf text = DD_BUF_INIT, abs = DD_BUF_INIT;
	dd_fd_reader fr;
	dd_reader r;
	struct stat st;
	char *dir = NULL;
	int fd, rc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dd_error_set(err, errno == ENOENT || errno == ENOTDIR ? DD_EINPUT : DD_EENV, "%s: %s", path,
				    strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return dd_error_set(err, DD_EINPUT, "%s: not a regular file", path);
	}
	dd_reader_from_fd(&r, &fr, fd, path);
	rc = dd_reader_slurp(&r, &text, DD_FLEET_MAX, path, err);
	close(fd);
	if (rc)
		goto done;
	if (path[0] != '/') {
		char *cwd = absolute_dir(NULL);
		if (!cwd) {
			rc = dd_error_set(err, DD_EENV, "%s: cannot get the current directory", path);
			goto done;
		}
		dd_buf_puts(&abs, cwd);
		dd_buf_putc(&abs, '/');
		free(cwd);
	}
	dd_buf_puts(&abs, path);
	if (abs.failed) {
		rc = dd_buf_error(&abs, err, path);
		goto done;
	}
	dir = dd_strndup(abs.data, (size_t)(strrchr(abs.data, '/') - abs.data));
	if (!dir) {
		rc = dd_error_oom(err);
		goto done;
	}
	rc = dd_fleet_parse(out, dd_buf_cstr(&text), text.len, path, dir[0] ? dir : "/", err);
	if (!rc) {
		free((*out)->path);
		(*out)->path = dd_buf_detach(&abs, NULL);
	}
done:
	free(dir);
	dd_buf_release(&text);
	dd_buf_release(&abs);
	return rc;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void build_free(dd_fleet_build *b)
{
	free(b->context);
	free(b->git_url);
	free(b->git_ref);
	free(b->dockerfile);
	free(b->target);
	for (size_t i = 0; i < b->n_args; i++) {
		free(b->args[i].key);
		free(b->args[i].value);
	}
	free(b->args);
	free(b->command);
	free(b->url);
	free(b->token_env);
	free(b->user);
	free(b->event_type);
}

void dd_fleet_free(dd_fleet *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_registries; i++) {
		dd_fleet_registry *g = &f->registries[i];
		free(g->host);
		free(g->username);
		free(g->password_env);
		free(g->password_file);
		free(g->ca_file);
	}
	free(f->registries);
	for (size_t i = 0; i < f->n_images; i++) {
		dd_fleet_image *im = &f->images[i];
		free(im->name);
		free(im->image);
		free(im->tag);
		free_strv(im->platforms, im->n_platforms);
		free(im->base);
		build_free(&im->build);
	}
	free(f->images);
	for (size_t i = 0; i < f->n_gits; i++) {
		dd_fleet_git *g = &f->gits[i];
		free(g->url);
		free(g->branch);
		free(g->push_branch);
		free_strv(g->paths, g->n_paths);
		free(g->author_name);
		free(g->author_email);
	}
	free(f->gits);
	for (size_t i = 0; i < f->n_kubectls; i++) {
		dd_fleet_kubectl *t = &f->kubectls[i];
		free(t->image);
		free(t->context);
		free(t->kubeconfig);
		free(t->namespace);
		free(t->resource);
		free(t->container);
	}
	free(f->kubectls);
	free_strv(f->policy.ignore, f->policy.n_ignore);
	free(f->policy.db);
	free(f->watch.state);
	free(f->watch.listen);
	free(f->watch.webhook_secret_env);
	free(f->watch.notify_url);
	free(f->by_name);
	free(f->path);
	free(f);
}

const dd_fleet_registry *dd_fleet_registry_for(const dd_fleet *f, const char *host)
{
	for (size_t i = 0; f && host && i < f->n_registries; i++)
		if (!strcmp(f->registries[i].host, host))
			return &f->registries[i];
	return NULL;
}

const dd_fleet_image *dd_fleet_image_named(const dd_fleet *f, const char *name)
{
	ssize_t i = f && name ? find_image(f, name) : -1;
	return i < 0 ? NULL : &f->images[i];
}

long dd_fleet_duration(const char *s)
{
	unsigned long long v = 0, mult = 1;
	const char *c = s;
	if (!s || *c < '0' || *c > '9')
		return -1;
	for (; *c >= '0' && *c <= '9'; c++) {
		v = v * 10 + (unsigned)(*c - '0');
		if (v > (unsigned long long)MAX_DURATION)
			return -1;
	}
	if (*c) {
		switch (*c) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		default: return -1;
		}
		if (c[1])
			return -1;
	}
	v *= mult;
	return v > (unsigned long long)MAX_DURATION ? -1 : (long)v;
}

/* The password a registry entry refers to (malloc'd), from its variable or
 * file; trailing newlines dropped. */
int dd_fleet_password(const dd_fleet_registry *fr, char **out, dd_error *err)
{
	dd_buf b = DD_BUF_INIT_MAX(DD_FLEET_SECRET_MAX);
	FILE *f = NULL;
	int rc = 0;

	*out = NULL;
	if (!fr->password_env && !fr->password_file)
		return 0;
	if (fr->password_env) {
		const char *v = getenv(fr->password_env);
		if (!v)
			return dd_error_set(err, DD_EENV, "registry %s: environment variable %s "
					    "(password_env) is not set", fr->host, fr->password_env);
		dd_buf_append(&b, v, strlen(v));
	} else {
		char chunk[4096];
		size_t got;
		f = fopen(fr->password_file, "rb");
		if (!f)
			return dd_error_set(err, DD_EENV, "registry %s: cannot open password_file %s: %s",
					    fr->host, fr->password_file, strerror(errno));
		while (!b.failed && (got = fread(chunk, 1, sizeof(chunk), f)) > 0)
			dd_buf_append(&b, chunk, got);
		memset(chunk, 0, sizeof(chunk));
		if (ferror(f)) {
			rc = dd_error_set(err, DD_EENV, "registry %s: cannot read password_file %s",
					  fr->host, fr->password_file);
			goto done;
		}
	}
	if (b.failed) {
		rc = dd_error_set(err, DD_EINPUT, "registry %s: the password is larger than 64 KiB", fr->host);
		goto done;
	}
	while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		b.len--;
	*out = dd_strndup(b.data ? b.data : "", b.len);
	if (!*out)
		rc = dd_error_oom(err);
done:
	if (f)
		fclose(f);
	if (b.data)
		memset(b.data, 0, b.len);
	dd_buf_release(&b);
	return rc;
}
