/*
 * build.c - dd_build_run(): the recipe's backend, and what the backends
 * share: the build context (a directory or a git clone), the Dockerfile's
 * external FROMs, registry sessions with the fleet's credentials, the log.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/internal.h"
#include "lineage/lineage.h"
#include "util/banned.h"


/* ---- the log ---- */

void dd_build_log_append(dd_buf *log, const void *p, size_t n, size_t max)
{
	const char *s = p;

	if (!log || !n || !max)
		return;
	if (n >= max) { /* only its tail can stay */
		s += n - max;
		n = max;
		log->len = 0;
	}
	if (log->len + n > max) {
		size_t drop = log->len + n - max;
		/* Drop whole lines when a line ends soon after the cut. */
		const char *nl = memchr(log->data + drop, '\n', log->len - drop);
		if (nl && (size_t)(nl - log->data) - drop < 4096)
			drop = (size_t)(nl - log->data) + 1;
		memmove(log->data, log->data + drop, log->len - drop);
		log->len -= drop;
		log->data[log->len] = '\0';
	}
	dd_buf_append(log, s, n);
}

void dd_build_last_line(const char *text, size_t len, char *line, size_t cap)
{
	size_t end = len, start;

	if (!cap)
		return;
	line[0] = '\0';
	if (!text)
		return;
	while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r' || text[end - 1] == ' ' ||
			   text[end - 1] == '\t'))
		end--;
	start = end;
	while (start > 0 && text[start - 1] != '\n' && text[start - 1] != '\r')
		start--;
	while (start < end && (text[start] == ' ' || text[start] == '\t'))
		start++;
	if (end - start >= cap)
		start = end - (cap - 1); /* the end of a long line says most */
	memcpy(line, text + start, end - start);
	line[end - start] = '\0';
}

void dd_build_note(dd_buf *log, const char *fmt, ...)
{
	char line[1200];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	dd_build_log_append(log, "drydock: ", 9, DD_BUILD_LOG_MAX);
	line[n++] = '\n';
	dd_build_log_append(log, line, (size_t)n, DD_BUILD_LOG_MAX);
}

/* ---- results ---- */

void dd_build_result_release(dd_build_result *r)
{
	if (!r)
		return;
	free(r->digest);
	free(r->ref);
	for (size_t i = 0; i < r->n_froms; i++) {
		free(r->froms[i].ref);
		free(r->froms[i].digest);
	}
	free(r->froms);
	dd_buf_release(&r->log);
	memset(r, 0, sizeof(*r));
}

int dd_build_add_from(dd_build_result *res, const dd_ref *ref, const char *digest, int runtime,
		      int exact)
{
	char name[600];
	dd_build_from *v;

	v = realloc(res->froms, (res->n_froms + 1) * sizeof(*v));
	if (!v)
		return DD_EENV;
	res->froms = v;
	dd_ref_format(ref, name, sizeof(name));
	v += res->n_froms;
	v->ref = strdup(name);
	v->digest = digest ? strdup(digest) : NULL;
	v->runtime = runtime;
	v->exact = exact;
	if (!v->ref || (digest && !v->digest)) {
		free(v->ref);
		free(v->digest);
		return DD_EENV;
	}
	res->n_froms++;
	return 0;
}

int dd_build_image_ref(dd_buf *out, const dd_fleet_image *im)
{
	return dd_buf_printf(out, "%s:%s", im->image, im->tag && *im->tag ? im->tag : "latest");
}

/* ---- argv vectors ---- */

void dd_build_argv_add(dd_build_argv *a, const char *s)
{
	if (a->failed)
		return;
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 32;
		const char **v = realloc(a->v, cap * sizeof(*v));
		if (!v) {
			a->failed = 1;
			return;
		}
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

void dd_build_argv_addf(dd_build_argv *a, const char *fmt, ...)
{
	dd_buf b = DD_BUF_INIT_MAX(1 << 20);
	va_list ap;
	char **own;

	if (a->failed)
		return;
	va_start(ap, fmt);
	dd_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	own = realloc(a->own, (a->n_own + 1) * sizeof(*own));
	if (b.failed || !own) {
		if (own)
			a->own = own;
		dd_buf_release(&b);
		a->failed = 1;
		return;
	}
	a->own = own;
	a->own[a->n_own] = dd_buf_detach(&b, NULL);
	if (!a->own[a->n_own]) {
		a->failed = 1;
		return;
	}
	dd_build_argv_add(a, a->own[a->n_own++]);
}

void dd_build_argv_release(dd_build_argv *a)
{
	for (size_t i = 0; i < a->n_own; i++)
		free(a->own[i]);
	free(a->own);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* ---- the context ---- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void dd_build_remove_tree(const char *path)
{
	if (path)
		nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void dd_build_context_release(dd_build_ctx *c)
{
	if (!c)
		return;
	dd_build_remove_tree(c->clone);
	free(c->clone);
	free(c->dir);
	free(c->dockerfile);
	memset(c, 0, sizeof(*c));
}

static int is_commit(const char *s)
{
	size_t n = strlen(s);
	if (n < 7 || n > 64)
		return 0;
	return s[strspn(s, "0123456789abcdef")] == '\0';
}

static int clone_git(dd_build_ctx *c, const dd_build_request *rq, dd_buf *log, dd_error *err)
{
	static const char *const env[] = { "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=/bin/true",
					   "SSH_ASKPASS=/bin/true", NULL };
	const dd_fleet_build *b = &rq->image->build;
	const char *workdir = rq->workdir;
	const char *ref = b->git_ref && *b->git_ref ? b->git_ref : "HEAD";
	dd_build_argv a = { 0 };
	dd_build_proc p = { 0 };
	dd_buf dir = DD_BUF_INIT_MAX(8192);
	int rc;

	if (dd_buf_printf(&dir, "%s/src.XXXXXX", workdir) || !(c->clone = dd_buf_detach(&dir, NULL)))
		return dd_error_oom(err);
	if (!mkdtemp(c->clone))
		return dd_error_set(err, DD_EENV, "cannot create a directory in %s: %s", workdir,
				    strerror(errno));
	p.env = env;
	p.log = log;
	p.deadline = c->deadline;
	p.rq = rq;
	dd_build_argv_add(&a, "git");
	dd_build_argv_add(&a, "clone");
	dd_build_argv_add(&a, "--quiet");
	if (!strcmp(ref, "HEAD")) {
		dd_build_argv_add(&a, "--depth=1");
	} else if (is_commit(ref)) {
		dd_build_argv_add(&a, "--no-checkout");
	} else {
		dd_build_argv_add(&a, "--depth=1");
		dd_build_argv_add(&a, "--branch");
		dd_build_argv_add(&a, ref);
	}
	dd_build_argv_add(&a, "--");
	dd_build_argv_add(&a, b->git_url);
	dd_build_argv_add(&a, c->clone);
	if (a.failed) {
		rc = dd_error_oom(err);
		goto done;
	}
	p.argv = a.v;
	if ((rc = dd_build_spawn_ok(&p, "git clone", err)))
		goto done;
	if (is_commit(ref)) {
		dd_build_argv_release(&a);
		dd_build_argv_add(&a, "git");
		dd_build_argv_add(&a, "-C");
		dd_build_argv_add(&a, c->clone);
		dd_build_argv_add(&a, "-c");
		dd_build_argv_add(&a, "advice.detachedHead=false");
		dd_build_argv_add(&a, "checkout");
		dd_build_argv_add(&a, "--quiet");
		dd_build_argv_add(&a, "--detach");
		dd_build_argv_add(&a, ref);
		dd_build_argv_add(&a, "--");
		if (a.failed) {
			rc = dd_error_oom(err);
			goto done;
		}
		p.argv = a.v;
		rc = dd_build_spawn_ok(&p, "git checkout", err);
	}
done:
	dd_build_argv_release(&a);
	return rc;
}

int dd_build_context(dd_build_ctx *c, const dd_build_request *rq, dd_buf *log, dd_error *err)
{
	const dd_fleet_build *b = &rq->image->build;
	const char *df = b->dockerfile && *b->dockerfile ? b->dockerfile : "Dockerfile";
	dd_buf s = DD_BUF_INIT_MAX(16384);
	int rc = 0;

	if (b->git_url) {
		if ((rc = clone_git(c, rq, log, err)))
			goto done;
		if (b->context && *b->context && b->context[0] != '/')
			dd_buf_printf(&s, "%s/%s", c->clone, b->context);
		else
			dd_buf_puts(&s, c->clone);
	} else if (b->context && *b->context) {
		dd_buf_puts(&s, b->context);
	} else if (b->backend == DD_BUILD_COMMAND) {
		dd_buf_puts(&s, rq->workdir); /* a command may need no context */
	} else {
		rc = dd_error_set(err, DD_EINPUT, "the recipe has neither a context directory nor a git URL");
		goto done;
	}
	if (s.failed || !(c->dir = dd_buf_detach(&s, NULL))) {
		rc = dd_error_oom(err);
		goto done;
	}
	if (df[0] == '/')
		dd_buf_puts(&s, df);
	else
		dd_buf_printf(&s, "%s/%s", c->dir, df);
	if (s.failed || !(c->dockerfile = dd_buf_detach(&s, NULL)))
		rc = dd_error_oom(err);
done:
	dd_buf_release(&s);
	return rc;
}

/* ---- the Dockerfile's bases ---- */

static int read_small(const char *path, size_t max, dd_buf *out, dd_error *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	int rc = 0;

	if (fd < 0)
		return dd_error_set(err, errno == ENOENT ? DD_EINPUT : DD_EENV, "%s: %s", path,
				    strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		rc = dd_error_set(err, DD_EINPUT, "%s: not a regular file", path);
		goto done;
	}
	if ((uint64_t)st.st_size > max) {
		rc = dd_error_set(err, DD_EINPUT, "%s: larger than %zu bytes", path, max);
		goto done;
	}
	out->max = max + 1;
	for (;;) {
		char buf[16384];
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = dd_error_set(err, DD_EENV, "%s: %s", path, strerror(errno));
			goto done;
		}
		if (!n)
			break;
		if (dd_buf_append(out, buf, (size_t)n)) {
			rc = dd_buf_error(out, err, path);
			goto done;
		}
	}
done:
	close(fd);
	return rc;
}

int dd_build_runtime_base(const dd_fleet_build *b, char **ref, dd_error *err)
{
	dd_build_ctx c;
	dd_build_base *v = NULL;
	dd_buf path = DD_BUF_INIT;
	size_t n = 0;
	int rc;

	*ref = NULL;
	if (!b->context || b->git_url)
		return 0;
	memset(&c, 0, sizeof(c));
	if (dd_buf_printf(&path, "%s/%s", b->context, b->dockerfile ? b->dockerfile : "Dockerfile"))
		return dd_error_oom(err);
	c.dir = b->context;
	c.dockerfile = path.data;
	if (!(rc = dd_build_bases(&v, &n, &c, b, err))) {
		for (size_t i = 0; i < n; i++)
			if (v[i].runtime) {
				char buf[600];
				dd_ref_format(&v[i].ref, buf, sizeof(buf));
				if (!(*ref = dd_strdup(buf)))
					rc = dd_error_oom(err);
			}
	}
	dd_build_bases_free(v, n);
	dd_buf_release(&path);
	return rc;
}

void dd_build_bases_free(dd_build_base *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].written);
		free(v[i].platform);
	}
	free(v);
}

int dd_build_bases(dd_build_base **out, size_t *n, const dd_build_ctx *c, const dd_fleet_build *b,
		   dd_error *err)
{
	dd_buf text = DD_BUF_INIT;
	dd_dockerfile *df = NULL;
	char **args = NULL;
	dd_build_base *v = NULL;
	size_t nv = 0;
	const char *runtime;
	long t;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = read_small(c->dockerfile, DD_DOCKERFILE_MAX, &text, err)))
		goto done;
	args = dd_calloc(b->n_args + 1, sizeof(*args));
	if (!args) {
		rc = dd_error_oom(err);
		goto done;
	}
	for (size_t i = 0; i < b->n_args; i++) {
		dd_buf a = DD_BUF_INIT_MAX(1 << 20);
		dd_buf_printf(&a, "%s=%s", b->args[i].key, b->args[i].value ? b->args[i].value : "");
		if (!(args[i] = dd_buf_detach(&a, NULL))) {
			rc = dd_error_oom(err);
			goto done;
		}
	}
	if ((rc = dd_dockerfile_parse(&df, dd_buf_cstr(&text), text.len, (const char *const *)args,
				      b->n_args, err))) {
		dd_error_prefix(err, "%s", c->dockerfile);
		goto done;
	}
	t = dd_dockerfile_target(df, b->target);
	if (t < 0) {
		rc = dd_error_set(err, DD_EINPUT, "%s: no stage named '%s' (the recipe's target)",
				  c->dockerfile, b->target);
		goto done;
	}
	runtime = df->stages[t].base;
	v = dd_calloc(df->n_stages ? df->n_stages : 1, sizeof(*v));
	if (!v) {
		rc = dd_error_oom(err);
		goto done;
	}
	for (size_t i = 0; i < df->n_stages; i++) {
		const dd_dockerfile_stage *s = &df->stages[i];
		dd_ref ref;
		char a[600], bname[600];
		size_t j;

		if (s->parent >= 0 || !s->from || dd_dockerfile_is_scratch(s->from))
			continue;
		if (dd_ref_parse(&ref, s->from, err)) {
			dd_error_prefix(err, "%s:%zu: FROM", c->dockerfile, s->line);
			rc = DD_EINPUT;
			if (err)
				err->code = rc;
			goto done;
		}
		dd_ref_format(&ref, a, sizeof(a));
		for (j = 0; j < nv; j++) {
			dd_ref_format(&v[j].ref, bname, sizeof(bname));
			if (!strcmp(a, bname))
				break;
		}
		if (j == nv) {
			v[j].ref = ref;
			v[j].written = strdup(s->from);
			v[j].platform = s->platform ? strdup(s->platform) : NULL;
			nv++;
			if (!v[j].written || (s->platform && !v[j].platform)) {
				rc = dd_error_oom(err);
				goto done;
			}
		}
		if (runtime && !strcmp(runtime, s->from))
			v[j].runtime = 1;
	}
	*out = v;
	*n = nv;
	v = NULL;
done:
	dd_build_bases_free(v, nv);
	for (size_t i = 0; args && i < b->n_args; i++)
		free(args[i]);
	free(args);
	dd_dockerfile_free(df);
	dd_buf_release(&text);
	return rc;
}

/* ---- registries ---- */

static int is_hub(const char *h)
{
	return !strcasecmp(h, "docker.io") || !strcasecmp(h, "index.docker.io") ||
	       !strcasecmp(h, "registry-1.docker.io");
}

const dd_fleet_registry *dd_build_registry_for(const dd_build_request *rq, const char *host)
{
	for (size_t i = 0; i < rq->n_registries; i++) {
		const char *h = rq->registries[i].host;
		if (h && (!strcasecmp(h, host) || (is_hub(h) && is_hub(host))))
			return &rq->registries[i];
	}
	return NULL;
}

int dd_build_open_registry(dd_registry **out, const dd_build_request *rq, const dd_ref *ref,
			   dd_error *err)
{
	const dd_fleet_registry *fr = dd_build_registry_for(rq, ref->domain);
	dd_registry_opts o;
	char *pass = NULL;
	int rc;

	dd_registry_opts_init(&o);
	if (fr) {
		o.tls_verify = !fr->insecure;
		o.ca_file = fr->ca_file;
		if (fr->username) {
			if ((rc = dd_fleet_password(fr, &pass, err)))
				return rc;
			o.username = fr->username;
			o.password = pass ? pass : "";
		}
	}
	rc = dd_registry_new(out, ref, &o, err);
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		free(pass);
	}
	return rc;
}

int dd_build_resolve(dd_digest *out, const dd_build_request *rq, const dd_ref *ref, dd_error *err)
{
	dd_registry *r = NULL;
	char *mt = NULL;
	int rc;

	if (dd_digest_is_set(&ref->digest)) {
		*out = ref->digest;
		return 0;
	}
	if ((rc = dd_build_open_registry(&r, rq, ref, err)))
		return rc;
	rc = dd_registry_resolve(r, ref->tag, out, &mt, err);
	free(mt);
	dd_registry_free(r);
	return rc;
}

int dd_build_tls_off(const dd_build_request *rq, const char *host)
{
	const dd_fleet_registry *fr = dd_build_registry_for(rq, host);
	dd_ref r;

	if (fr && fr->insecure)
		return 1;
	if (fr && fr->ca_file)
		return 0; /* it speaks TLS, with a certificate we can verify */
	memset(&r, 0, sizeof(r));
	snprintf(r.domain, sizeof(r.domain), "%s", host);
	return dd_ref_is_loopback(&r);
}

/* ---- dispatch ---- */

static const char *backend_name(enum dd_build_backend b)
{
	switch (b) {
	case DD_BUILD_BUILDAH: return "buildah";
	case DD_BUILD_COMMAND: return "command";
	case DD_BUILD_JENKINS: return "jenkins";
	case DD_BUILD_AZURE: return "azure";
	case DD_BUILD_GITHUB: return "github";
	default: return "none";
	}
}

int dd_build_run(const dd_build_request *rq, dd_build_result *out, dd_error *err)
{
	const dd_fleet_image *im = rq ? rq->image : NULL;
	const char *name;
	dd_buf ref = DD_BUF_INIT_MAX(4096);
	double deadline;
	int rc;

	memset(out, 0, sizeof(*out));
	dd_buf_init(&out->log, 0);
	if (!im || !im->image || !*im->image || !rq->workdir)
		return dd_error_set(err, DD_EINTERNAL, "build: request without image or workdir");
	name = im->name ? im->name : im->image;
	if ((rc = dd_build_image_ref(&ref, im)) || !(out->ref = dd_buf_detach(&ref, NULL))) {
		dd_buf_release(&ref);
		return dd_error_set(err, DD_EENV, "build %s: out of memory", name);
	}
	deadline = dd_build_now() + (im->build.timeout ? im->build.timeout : 3600);
	dd_build_note(&out->log, "build %s (%s) with %s%s%s%s%s%s%s", name, out->ref,
		      backend_name(im->build.backend), rq->change_id ? ", change " : "",
		      rq->change_id ? rq->change_id : "", rq->base_ref || rq->base_digest ? ", base " : "",
		      rq->base_ref ? rq->base_ref : "", rq->base_ref && rq->base_digest ? "@" : "",
		      rq->base_digest ? rq->base_digest : "");
	switch (im->build.backend) {
	case DD_BUILD_BUILDAH:
		rc = dd_build_buildah(rq, out, deadline, err);
		break;
	case DD_BUILD_COMMAND:
		rc = dd_build_command(rq, out, deadline, err);
		break;
	case DD_BUILD_JENKINS:
	case DD_BUILD_AZURE:
	case DD_BUILD_GITHUB:
		rc = dd_build_ci(rq, out, deadline, err);
		break;
	default:
		rc = dd_error_set(err, DD_EINPUT, "image has no build recipe");
		break;
	}
	if (rc) {
		dd_error_prefix(err, "build %s", name);
		dd_build_note(&out->log, "failed: %s", err ? err->msg : "error");
	} else {
		dd_build_note(&out->log, "built %s@%s", out->ref, out->digest);
	}
	return rc;
}
