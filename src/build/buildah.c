/*
 * buildah.c - the default backend: pin every FROM to the digest resolved
 * now, `buildah bud --isolation chroot --pull=false`, `buildah push`.
 *
 * Pinning: for each external FROM, HEAD gives its digest D; `buildah pull
 * REPO@D` fetches exactly that manifest and `buildah tag REPO@D NAME` points
 * the FROM's name at it in local storage, so the build (which pulls only
 * what is missing) starts from D even when the tag moves meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "build/internal.h"
#include "registry/auth.h"
#include "util/banned.h"

typedef struct bh {
	const dd_build_request *rq;
	dd_build_result *res;
	double deadline;
	char *authfile;   /* 0600 auth.json with the fleet's credentials, or NULL */
	char **certdirs;  /* per host: a directory with ca.crt -> the fleet's CA */
	char **certhosts;
	size_t n_certs;
} bh;

static void globals(dd_build_argv *a)
{
	static const struct {
		const char *env, *flag;
	} g[] = { { "DRYDOCK_BUILDAH_ROOT", "--root" },
		  { "DRYDOCK_BUILDAH_RUNROOT", "--runroot" },
		  { "DRYDOCK_BUILDAH_DRIVER", "--storage-driver" } };

	dd_build_argv_add(a, "buildah");
	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		const char *v = getenv(g[i].env);
		if (v && *v) {
			dd_build_argv_add(a, g[i].flag);
			dd_build_argv_add(a, v);
		}
	}
}

/* --tls-verify, --authfile, --cert-dir for a command talking to host. */
static void registry_flags(const bh *b, dd_build_argv *a, const char *host)
{
	if (dd_build_tls_off(b->rq, host))
		dd_build_argv_add(a, "--tls-verify=false");
	if (b->authfile) {
		dd_build_argv_add(a, "--authfile");
		dd_build_argv_add(a, b->authfile);
	}
	for (size_t i = 0; i < b->n_certs; i++)
		if (!strcmp(b->certhosts[i], host)) {
			dd_build_argv_add(a, "--cert-dir");
			dd_build_argv_add(a, b->certdirs[i]);
		}
}

static int run(bh *b, dd_build_argv *a, const char *what, dd_error *err)
{
	dd_build_proc p = { 0 };

	if (a->failed)
		return dd_error_oom(err);
	p.argv = a->v;
	p.log = &b->res->log;
	p.deadline = b->deadline;
	p.rq = b->rq;
	return dd_build_spawn_ok(&p, what, err);
}

static char *tmp_path(const char *dir, const char *name)
{
	dd_buf s = DD_BUF_INIT_MAX(8192);
	dd_buf_printf(&s, "%s/%s", dir, name);
	return dd_buf_detach(&s, NULL);
}

/* Hosts the build talks to: the target's and every base's. */
static int involved(const char *host, const dd_ref *target, const dd_build_base *bases, size_t n)
{
	if (!strcmp(host, target->domain))
		return 1;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(host, bases[i].ref.domain))
			return 1;
	return 0;
}

/* The auth file and CA directories for the registries involved. */
static int prepare_registries(bh *b, const dd_ref *target, const dd_build_base *bases, size_t n,
			      dd_error *err)
{
	const dd_build_request *rq = b->rq;
	json_t *root = json_object(), *auths = json_object();
	char *text = NULL;
	int rc = 0, any = 0, fd = -1;

	if (!root || !auths || json_object_set(root, "auths", auths)) {
		rc = dd_error_oom(err);
		goto done;
	}
	b->certdirs = dd_calloc(rq->n_registries + 1, sizeof(char *));
	b->certhosts = dd_calloc(rq->n_registries + 1, sizeof(char *));
	if (!b->certdirs || !b->certhosts) {
		rc = dd_error_oom(err);
		goto done;
	}
	for (size_t i = 0; i < rq->n_registries; i++) {
		const dd_fleet_registry *r = &rq->registries[i];
		if (!r->host || !involved(r->host, target, bases, n))
			continue;
		if (r->username) {
			char *pass = NULL, *up = NULL, *enc = NULL;
			size_t ul = strlen(r->username);
			if ((rc = dd_fleet_password(r, &pass, err)))
				goto done;
			size_t pl = pass ? strlen(pass) : 0;
			up = malloc(ul + pl + 2);
			if (up) {
				memcpy(up, r->username, ul);
				up[ul] = ':';
				memcpy(up + ul + 1, pass ? pass : "", pl + 1);
				enc = dd_base64_encode(up, ul + pl + 1);
				explicit_bzero(up, ul + pl + 1);
				free(up);
			}
			if (pass) {
				explicit_bzero(pass, pl);
				free(pass);
			}
			json_t *e = enc ? json_pack("{s:s}", "auth", enc) : NULL;
			if (enc) {
				explicit_bzero(enc, strlen(enc));
				free(enc);
			}
			if (!e || json_object_set_new(auths, r->host, e)) {
				rc = dd_error_oom(err);
				goto done;
			}
			any = 1;
		}
		if (r->ca_file) {
			char *dir = tmp_path(rq->workdir, "certs.XXXXXX"), *crt = NULL;
			if (!dir || !mkdtemp(dir)) {
				rc = dd_error_set(err, DD_EENV, "cannot create a directory in %s: %s",
						  rq->workdir, strerror(errno));
				free(dir);
				goto done;
			}
			b->certdirs[b->n_certs] = dir;
			b->certhosts[b->n_certs++] = r->host;
			crt = tmp_path(dir, "ca.crt");
			if (!crt || symlink(r->ca_file, crt)) {
				rc = dd_error_set(err, DD_EENV, "%s: cannot link the CA file: %s", dir,
						  strerror(errno));
				free(crt);
				goto done;
			}
			free(crt);
		}
	}
	if (!any)
		goto done;
	if (!(text = json_dumps(root, JSON_COMPACT)) || !(b->authfile = tmp_path(rq->workdir, "auth.XXXXXX"))) {
		rc = dd_error_oom(err);
		goto done;
	}
	fd = mkstemp(b->authfile); /* 0600 */
	size_t len = strlen(text);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || close(fd)) {
		fd = -1;
		rc = dd_error_set(err, DD_EENV, "cannot write the registry auth file in %s: %s",
				  rq->workdir, strerror(errno));
		goto done;
	}
	fd = -1;
done:
	if (fd >= 0)
		close(fd);
	if (text) {
		explicit_bzero(text, strlen(text));
		free(text);
	}
	json_decref(auths);
	json_decref(root);
	return rc;
}

static void release(bh *b)
{
	if (b->authfile) {
		unlink(b->authfile);
		free(b->authfile);
	}
	for (size_t i = 0; i < b->n_certs; i++) {
		dd_build_remove_tree(b->certdirs[i]);
		free(b->certdirs[i]);
	}
	free(b->certdirs);
	free(b->certhosts);
}

/* Resolve, pull and tag one base. */
static int pin(bh *b, const dd_build_base *base, dd_error *err)
{
	char canon[600], byd[600];
	dd_digest d;
	dd_build_argv a = { 0 };
	int rc;

	dd_ref_format(&base->ref, canon, sizeof(canon));
	if ((rc = dd_build_resolve(&d, b->rq, &base->ref, err)))
		return dd_error_prefix(err, "FROM %s", base->written);
	dd_build_note(&b->res->log, "FROM %s: %s", canon, d.s);
	snprintf(byd, sizeof(byd), "%s/%s@%s", base->ref.domain, base->ref.path, d.s);

	globals(&a);
	dd_build_argv_add(&a, "pull");
	registry_flags(b, &a, base->ref.domain);
	if (base->platform && !strchr(base->platform, '$')) {
		dd_build_argv_add(&a, "--platform");
		dd_build_argv_add(&a, base->platform);
	}
	dd_build_argv_addf(&a, "docker://%s", byd);
	if ((rc = run(b, &a, "buildah pull", err)))
		goto done;
	dd_build_argv_release(&a);

	if (base->ref.tag[0]) {
		/* The FROM's name (normalised, and as written for short names,
		 * which local lookup tries first as localhost/NAME) -> D. */
		char tagged[600];
		snprintf(tagged, sizeof(tagged), "%s/%s:%s", base->ref.domain, base->ref.path,
			 base->ref.tag);
		globals(&a);
		dd_build_argv_add(&a, "tag");
		dd_build_argv_add(&a, byd);
		dd_build_argv_add(&a, tagged);
		if (strcmp(base->written, tagged) && !strchr(base->written, '@'))
			dd_build_argv_add(&a, base->written);
		if ((rc = run(b, &a, "buildah tag", err)))
			goto done;
	}
	if (dd_build_add_from(b->res, &base->ref, d.s, base->runtime, 1))
		rc = dd_error_oom(err);
done:
	dd_build_argv_release(&a);
	return rc;
}

static int bud(bh *b, const dd_build_ctx *c, dd_error *err)
{
	const dd_fleet_build *fb = &b->rq->image->build;
	dd_build_argv a = { 0 };
	int rc;

	globals(&a);
	dd_build_argv_add(&a, "bud");
	dd_build_argv_add(&a, "--isolation");
	dd_build_argv_add(&a, "chroot");
	dd_build_argv_add(&a, "--pull=false");
	if (b->authfile) {
		dd_build_argv_add(&a, "--authfile");
		dd_build_argv_add(&a, b->authfile);
	}
	dd_build_argv_add(&a, "-f");
	dd_build_argv_add(&a, c->dockerfile);
	for (size_t i = 0; i < fb->n_args; i++) {
		dd_build_argv_add(&a, "--build-arg");
		dd_build_argv_addf(&a, "%s=%s", fb->args[i].key, fb->args[i].value ? fb->args[i].value : "");
	}
	if (fb->target && *fb->target) {
		dd_build_argv_add(&a, "--target");
		dd_build_argv_add(&a, fb->target);
	}
	if (b->rq->change_id && *b->rq->change_id) {
		dd_build_argv_add(&a, "--label");
		dd_build_argv_addf(&a, "io.drydock.change=%s", b->rq->change_id);
	}
	dd_build_argv_add(&a, "-t");
	dd_build_argv_add(&a, b->res->ref);
	dd_build_argv_add(&a, c->dir);
	rc = run(b, &a, "buildah bud", err);
	dd_build_argv_release(&a);
	return rc;
}

static int push(bh *b, const dd_ref *target, dd_error *err)
{
	dd_build_argv a = { 0 };
	dd_buf text = DD_BUF_INIT_MAX(4096);
	dd_digest d;
	char *df = tmp_path(b->rq->workdir, "digest.XXXXXX");
	int fd = -1, rc;

	if (!df || (fd = mkstemp(df)) < 0) {
		rc = dd_error_set(err, DD_EENV, "cannot create a file in %s: %s", b->rq->workdir,
				  strerror(errno));
		goto done;
	}
	globals(&a);
	dd_build_argv_add(&a, "push");
	registry_flags(b, &a, target->domain);
	dd_build_argv_add(&a, "--digestfile");
	dd_build_argv_add(&a, df);
	dd_build_argv_add(&a, b->res->ref);
	dd_build_argv_addf(&a, "docker://%s", b->res->ref);
	if ((rc = run(b, &a, "buildah push", err)))
		goto done;
	for (;;) {
		char buf[256];
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (dd_buf_append(&text, buf, (size_t)n))
			break;
	}
	while (text.len && strchr("\r\n \t", text.data[text.len - 1]))
		text.data[--text.len] = '\0';
	if ((rc = dd_digest_parse(&d, dd_buf_cstr(&text), "buildah push --digestfile", err)))
		goto done;
	if (!(b->res->digest = strdup(d.s)))
		rc = dd_error_oom(err);
done:
	if (fd >= 0)
		close(fd);
	if (df) {
		unlink(df);
		free(df);
	}
	dd_buf_release(&text);
	dd_build_argv_release(&a);
	return rc;
}

/* Drop the built image from local storage (vfs keeps full copies). */
static void forget(bh *b)
{
	const char *keep = getenv("DRYDOCK_BUILDAH_KEEP");
	dd_build_argv a = { 0 };
	dd_error e = DD_ERROR_INIT;

	if (keep && !strcmp(keep, "1"))
		return;
	globals(&a);
	dd_build_argv_add(&a, "rmi");
	dd_build_argv_add(&a, b->res->ref);
	if (run(b, &a, "buildah rmi", &e))
		dd_build_note(&b->res->log, "warning: %s", e.msg);
	dd_build_argv_release(&a);
}

int dd_build_buildah(const dd_build_request *rq, dd_build_result *res, double deadline,
		     dd_error *err)
{
	bh b = { rq, res, deadline, NULL, NULL, NULL, 0 };
	dd_build_ctx c = { 0 };
	dd_build_base *bases = NULL;
	size_t n = 0;
	dd_ref target;
	int rc;

	c.deadline = deadline;
	if ((rc = dd_ref_parse(&target, res->ref, err))) {
		rc = DD_EINPUT;
		if (err)
			err->code = rc;
		goto done;
	}
	if ((rc = dd_build_context(&c, rq, &res->log, err)) ||
	    (rc = dd_build_bases(&bases, &n, &c, &rq->image->build, err)) ||
	    (rc = prepare_registries(&b, &target, bases, n, err)))
		goto done;
	for (size_t i = 0; i < n; i++)
		if ((rc = pin(&b, &bases[i], err)))
			goto done;
	if ((rc = bud(&b, &c, err)))
		goto done;
	rc = push(&b, &target, err);
	forget(&b);
done:
	release(&b);
	dd_build_bases_free(bases, n);
	dd_build_context_release(&c);
	return rc;
}
