/*
 * command.c - the command-template backend: `sh -c TEMPLATE` with the
 * placeholders replaced by shell-quoted values (and DRYDOCK_* variables in
 * its environment), then the digest it pushed.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/internal.h"
#include "util/banned.h"

int dd_build_shell_quote(dd_buf *out, const char *s)
{
	dd_buf_putc(out, '\'');
	for (; s && *s; s++) {
		if (*s == '\'')
			dd_buf_puts(out, "'\\''");
		else
			dd_buf_putc(out, *s);
	}
	return dd_buf_putc(out, '\'');
}

static const char *var(const dd_build_vars *v, const char *name, size_t n, int *known)
{
	static const char *const names[] = { "image", "tag", "ref", "context", "dockerfile",
					     "base", "base_digest", "change" };
	const char *vals[] = { v->image, v->tag, v->ref, v->context, v->dockerfile,
			       v->base, v->base_digest, v->change };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && !memcmp(names[i], name, n)) {
			*known = 1;
			return vals[i];
		}
	*known = 0;
	return NULL;
}

int dd_build_template(dd_buf *out, const char *tmpl, const dd_build_vars *v, dd_error *err)
{
	const char *p = tmpl;

	while (p && *p) {
		const char *open = strchr(p, '{');
		if (!open) {
			dd_buf_puts(out, p);
			break;
		}
		dd_buf_append(out, p, (size_t)(open - p));
		size_t n = strspn(open + 1, "abcdefghijklmnopqrstuvwxyz_");
		int known = 0;
		const char *val = open[1 + n] == '}' ? var(v, open + 1, n, &known) : NULL;
		if (known) {
			dd_build_shell_quote(out, val);
			p = open + n + 2;
		} else {
			dd_buf_putc(out, '{');
			p = open + 1;
		}
	}
	if (out->failed)
		return dd_buf_error(out, err, "command template");
	return 0;
}

/* "sha256:<64 hex>" as the last line of out? */
static int printed_digest(const dd_buf *out, dd_digest *d)
{
	char line[200];

	dd_build_last_line(dd_buf_cstr(out), out->len, line, sizeof(line));
	return dd_digest_parse(d, line, "command output", NULL) == 0;
}

/* The Dockerfile's FROMs resolved now (best effort: not enforced). */
static void record_froms(const dd_build_request *rq, dd_build_result *res, const dd_build_ctx *c)
{
	dd_build_base *bases = NULL;
	size_t n = 0;
	dd_error e = DD_ERROR_INIT;

	if (access(c->dockerfile, R_OK))
		return;
	if (dd_build_bases(&bases, &n, c, &rq->image->build, &e)) {
		dd_build_note(&res->log, "warning: %s", e.msg);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		dd_digest d;
		const char *digest = NULL;
		if (dd_build_resolve(&d, rq, &bases[i].ref, &e) == 0)
			digest = d.s;
		else
			dd_build_note(&res->log, "warning: FROM %s: %s", bases[i].written, e.msg);
		dd_build_add_from(res, &bases[i].ref, digest, bases[i].runtime, 0);
	}
	dd_build_bases_free(bases, n);
}

int dd_build_command(const dd_build_request *rq, dd_build_result *res, double deadline,
		     dd_error *err)
{
	const dd_fleet_build *b = &rq->image->build;
	const dd_fleet_image *im = rq->image;
	dd_build_ctx c = { 0 };
	dd_build_vars v = { 0 };
	dd_build_argv env = { 0 };
	dd_buf cmd = DD_BUF_INIT_MAX(1 << 20), out = DD_BUF_INIT;
	dd_build_proc p = { 0 };
	const char *argv[4];
	dd_digest d;
	dd_ref ref;
	int rc, has_df;

	if (!b->command || !*b->command)
		return dd_error_set(err, DD_EINPUT, "the recipe has no command");
	c.deadline = deadline;
	if ((rc = dd_build_context(&c, rq, &res->log, err)))
		goto done;
	has_df = access(c.dockerfile, R_OK) == 0;
	record_froms(rq, res, &c);
	v.image = im->image;
	v.tag = im->tag && *im->tag ? im->tag : "latest";
	v.ref = res->ref;
	v.context = c.dir;
	v.dockerfile = has_df ? c.dockerfile : "";
	v.base = rq->base_ref;
	v.base_digest = rq->base_digest;
	v.change = rq->change_id;
	if ((rc = dd_build_template(&cmd, b->command, &v, err)))
		goto done;
	dd_build_argv_addf(&env, "DRYDOCK_IMAGE=%s", v.image);
	dd_build_argv_addf(&env, "DRYDOCK_TAG=%s", v.tag);
	dd_build_argv_addf(&env, "DRYDOCK_REF=%s", v.ref);
	dd_build_argv_addf(&env, "DRYDOCK_CONTEXT=%s", v.context);
	dd_build_argv_addf(&env, "DRYDOCK_DOCKERFILE=%s", v.dockerfile);
	dd_build_argv_addf(&env, "DRYDOCK_BASE=%s", v.base ? v.base : "");
	dd_build_argv_addf(&env, "DRYDOCK_BASE_DIGEST=%s", v.base_digest ? v.base_digest : "");
	dd_build_argv_addf(&env, "DRYDOCK_CHANGE=%s", v.change ? v.change : "");
	if (env.failed) {
		rc = dd_error_oom(err);
		goto done;
	}
	argv[0] = "sh";
	argv[1] = "-c";
	argv[2] = dd_buf_cstr(&cmd);
	argv[3] = NULL;
	p.argv = argv;
	p.env = env.v;
	p.cwd = c.dir;
	p.deadline = deadline;
	p.rq = rq;
	p.log = &res->log;
	p.out = &out;
	p.show = argv[2];
	if ((rc = dd_build_spawn_ok(&p, "command", err)))
		goto done;
	if (printed_digest(&out, &d)) {
		dd_build_note(&res->log, "the command printed %s", d.s);
	} else {
		if ((rc = dd_ref_parse(&ref, res->ref, err)) ||
		    (rc = dd_build_resolve(&d, rq, &ref, err))) {
			dd_error_prefix(err, "after the command");
			goto done;
		}
	}
	if (!(res->digest = strdup(d.s)))
		rc = dd_error_oom(err);
done:
	dd_build_argv_release(&env);
	dd_buf_release(&cmd);
	dd_buf_release(&out);
	dd_build_context_release(&c);
	return rc;
}
