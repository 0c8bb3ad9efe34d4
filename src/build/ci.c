/*
 * ci.c - external CI backends: trigger a build (Jenkins
 * buildWithParameters, Azure Pipelines "Runs - Run Pipeline",
 * GitHub repository_dispatch), then wait for the registry to show a new
 * digest for REPO:TAG.
 *
 * The trigger is sent once (no automatic retry: a retried POST could start
 * two builds).  Tokens go only into the Authorization header, and only over
 * HTTPS (plain HTTP to a loopback host is allowed, for tests and proxies).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "build/internal.h"
#include "registry/auth.h"
#include "util/banned.h"

#define POLL_MAX_S 60.0

void dd_build_ci_request_release(dd_build_ci_request *r)
{
	if (!r)
		return;
	free(r->url);
	free(r->content_type);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

char *dd_build_jenkins_root(const char *job_url)
{
	const char *j = job_url ? strstr(job_url, "/job/") : NULL;
	return j ? dd_strndup(job_url, (size_t)(j - job_url)) : NULL;
}

/* url with `suffix` appended to its path (unless it ends so already) and
 * `param` added to its query when no parameter of that name is there. */
static char *url_with(const char *url, const char *suffix, const char *param)
{
	dd_buf s = DD_BUF_INIT_MAX(16384);
	size_t q = strcspn(url, "?#"), end = q;
	const char *rest = url + q;

	while (end > 0 && url[end - 1] == '/')
		end--;
	dd_buf_append(&s, url, end);
	if (suffix) {
		size_t sl = strlen(suffix);
		if (!(end >= sl && !memcmp(url + end - sl, suffix, sl)))
			dd_buf_puts(&s, suffix);
	}
	if (param) {
		size_t nl = strcspn(param, "=");
		int have = 0;
		for (const char *p = rest; *p == '?' || *p == '&';) {
			p++;
			if (!strncmp(p, param, nl) && p[nl] == '=')
				have = 1;
			p += strcspn(p, "&#");
		}
		size_t rl = strcspn(rest, "#");
		dd_buf_append(&s, rest, rl);
		if (!have)
			dd_buf_printf(&s, "%c%s", rl ? '&' : '?', param);
		dd_buf_puts(&s, rest + rl);
	} else {
		dd_buf_puts(&s, rest);
	}
	return s.failed ? (dd_buf_release(&s), NULL) : dd_buf_detach(&s, NULL);
}

static void form_value(dd_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			dd_buf_putc(b, (char)c);
		} else {
			dd_buf_putc(b, '%');
			dd_buf_putc(b, hex[c >> 4]);
			dd_buf_putc(b, hex[c & 15]);
		}
	}
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

static char *dump(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	return s;
}

int dd_build_ci_compose(dd_build_ci_request *out, const dd_fleet_build *b, const dd_build_vars *v,
			dd_error *err)
{
	memset(out, 0, sizeof(*out));
	if (!b->url || !*b->url)
		return dd_error_set(err, DD_EINPUT, "the recipe has no url");
	switch (b->backend) {
	case DD_BUILD_JENKINS: {
		static const char *const keys[] = { "IMAGE", "TAG", "BASE", "BASE_DIGEST", "DRYDOCK_CHANGE" };
		const char *vals[] = { v->image, v->tag, v->base, v->base_digest, v->change };
		dd_buf f = DD_BUF_INIT_MAX(1 << 20);
		for (size_t i = 0; i < 5; i++) {
			dd_buf_printf(&f, "%s%s=", i ? "&" : "", keys[i]);
			form_value(&f, vals[i]);
		}
		out->url = url_with(b->url, "/buildWithParameters", NULL);
		out->content_type = strdup("application/x-www-form-urlencoded");
		out->body_len = f.len;
		out->body = f.failed ? NULL : dd_buf_detach(&f, NULL);
		dd_buf_release(&f);
		out->auth = 1;
		break;
	}
	case DD_BUILD_AZURE:
		out->url = url_with(b->url, NULL, "api-version=7.1");
		out->content_type = strdup("application/json");
		out->body = dump(json_pack("{s:{s:s,s:s,s:s,s:s,s:s}}", "templateParameters",
					   "IMAGE", nz(v->image), "TAG", nz(v->tag), "BASE", nz(v->base),
					   "BASE_DIGEST", nz(v->base_digest), "DRYDOCK_CHANGE",
					   nz(v->change)));
		out->auth = 2;
		break;
	case DD_BUILD_GITHUB:
		out->url = url_with(b->url, "/dispatches", NULL);
		out->content_type = strdup("application/json");
		out->accept = "application/vnd.github+json";
		out->body = dump(json_pack("{s:s,s:{s:s,s:s,s:s,s:s,s:s,s:s}}", "event_type",
					   b->event_type && *b->event_type ? b->event_type : "drydock-rebuild",
					   "client_payload", "image", nz(v->image), "tag", nz(v->tag),
					   "ref", nz(v->ref), "base", nz(v->base), "base_digest",
					   nz(v->base_digest), "change", nz(v->change)));
		out->auth = 3;
		break;
	default:
		return dd_error_set(err, DD_EINPUT, "not a CI backend");
	}
	if (out->body && out->auth != 1)
		out->body_len = strlen(out->body);
	if (!out->body && out->auth != 1 && out->url && out->content_type) {
		dd_build_ci_request_release(out);
		return dd_error_set(err, DD_EINPUT, "cannot encode the request (a value is not UTF-8)");
	}
	if (!out->url || !out->content_type || !out->body) {
		dd_build_ci_request_release(out);
		return dd_error_oom(err);
	}
	return 0;
}

/* https, or http to a loopback host. */
static int url_allowed(const char *url, dd_error *err)
{
	CURLU *u = curl_url();
	char *host = NULL, *scheme = NULL;
	dd_ref r;
	int rc = 0;

	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) || curl_url_get(u, CURLUPART_HOST, &host, 0)) {
		rc = dd_error_set(err, DD_EINPUT, "invalid url '%.200s'", url);
		goto done;
	}
	if (!strcmp(scheme, "https"))
		goto done;
	memset(&r, 0, sizeof(r));
	snprintf(r.domain, sizeof(r.domain), "%s", host);
	if (strcmp(scheme, "http") || !dd_ref_is_loopback(&r))
		rc = dd_error_set(err, DD_EINPUT, "refusing to send the CI token to %s over %s (use https)",
				  host, scheme);
done:
	curl_free(host);
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

/* The URL without its query (which may hold a Jenkins build token). */
static void safe_url(char *buf, size_t n, const char *url)
{
	snprintf(buf, n, "%.*s", (int)strcspn(url, "?#"), url);
}

/* "Jenkins-Crumb: ..." from {root}/crumbIssuer/api/json, or NULL. */
static char *jenkins_crumb(dd_http *h, const char *job_url, const char *auth, dd_buf *log)
{
	char *root = dd_build_jenkins_root(job_url), *url = NULL, *hdr = NULL;
	dd_http_response resp;
	dd_buf body = DD_BUF_INIT_MAX(64 << 10);
	dd_http_req req = { 0 };
	dd_error e = DD_ERROR_INIT;
	json_t *j = NULL;

	memset(&resp, 0, sizeof(resp));
	if (!root || !(url = url_with(root, "/crumbIssuer/api/json", NULL)))
		goto done;
	req.method = "GET";
	req.url = url;
	req.auth = auth;
	req.max_body = 64 << 10;
	if (dd_http_request(h, &req, &resp, &body, &e) || resp.status != 200)
		goto done;
	j = json_loadb(dd_buf_cstr(&body), body.len, 0, NULL);
	const char *field = json_string_value(json_object_get(j, "crumbRequestField"));
	const char *crumb = json_string_value(json_object_get(j, "crumb"));
	if (!field || !crumb || !*field || field[strspn(field, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")] ||
	    strpbrk(crumb, "\r\n") || strlen(crumb) > 512)
		goto done;
	dd_buf hb = DD_BUF_INIT_MAX(1024);
	dd_buf_printf(&hb, "%s: %s", field, crumb);
	hdr = hb.failed ? (dd_buf_release(&hb), NULL) : dd_buf_detach(&hb, NULL);
	if (hdr)
		dd_build_note(log, "jenkins: using the CSRF crumb from %s", root);
done:
	json_decref(j);
	dd_http_response_release(&resp);
	dd_buf_release(&body);
	free(url);
	free(root);
	return hdr;
}

/* ---- following the CI build (Jenkins queue item / build, Azure run) ---- */

typedef struct ci_probe {
	enum dd_build_backend backend;
	dd_http *h;
	const char *auth;
	const char *trigger;  /* the trigger URL: status URLs must be on its origin */
	char *queue;          /* Jenkins: queue item api/json */
	char *build;          /* Jenkins: build api/json; Azure: the run URL */
	long number;          /* Jenkins build number */
	int noted;
} ci_probe;

/* ref resolved against base; NULL when not on base's origin. */
static char *same_origin_url(const char *base, const char *ref)
{
	CURLU *u = curl_url();
	char *s = NULL, *out = NULL;

	if (u && !curl_url_set(u, CURLUPART_URL, base, 0) && !curl_url_set(u, CURLUPART_URL, ref, 0) &&
	    !curl_url_get(u, CURLUPART_URL, &s, 0) && dd_http_same_origin(base, s))
		out = strdup(s);
	curl_free(s);
	curl_url_cleanup(u);
	return out;
}

/* GET url as JSON (NULL on any failure: the probe just knows nothing). */
static json_t *get_json(ci_probe *p, const char *url)
{
	static const char *const hdrs[] = { "Accept: application/json", NULL };
	dd_http_response resp;
	dd_buf body = DD_BUF_INIT_MAX(1 << 20);
	dd_http_req req = { 0 };
	dd_error e = DD_ERROR_INIT;
	json_t *j = NULL;

	memset(&resp, 0, sizeof(resp));
	req.method = "GET";
	req.url = url;
	req.auth = p->auth;
	req.headers = hdrs;
	req.max_body = 1 << 20;
	if (!dd_http_request(p->h, &req, &resp, &body, &e) && resp.status == 200)
		j = json_loadb(dd_buf_cstr(&body), body.len, 0, NULL);
	dd_http_response_release(&resp);
	dd_buf_release(&body);
	return j;
}

static int probe_jenkins(ci_probe *p, dd_buf *log, char *msg, size_t cap)
{
	json_t *j;
	int rc = 0;

	if (!p->build && p->queue) {
		if (!(j = get_json(p, p->queue)))
			return 0; /* not there (yet, or any more) */
		json_t *ex = json_object_get(j, "executable");
		const char *u = json_string_value(json_object_get(ex, "url"));
		if (json_is_true(json_object_get(j, "cancelled"))) {
			snprintf(msg, cap, "the Jenkins queue item was cancelled");
			rc = -1;
		} else if (u) {
			dd_buf b = DD_BUF_INIT_MAX(16384);
			char *abs = same_origin_url(p->trigger, u);
			if (abs)
				dd_buf_printf(&b, "%s%sapi/json", abs, abs[strlen(abs) - 1] == '/' ? "" : "/");
			free(abs);
			p->build = b.failed || !b.len ? (dd_buf_release(&b), NULL) : dd_buf_detach(&b, NULL);
			p->number = (long)json_integer_value(json_object_get(ex, "number"));
			if (p->build)
				dd_build_note(log, "jenkins: build #%ld started", p->number);
		}
		json_decref(j);
		if (rc || !p->build)
			return rc;
	}
	if (!p->build || !(j = get_json(p, p->build)))
		return 0;
	const char *result = json_string_value(json_object_get(j, "result"));
	if (!json_is_true(json_object_get(j, "building")) && result) {
		char where[300];
		safe_url(where, sizeof(where), p->build);
		size_t wl = strlen(where);
		if (wl > 8 && !strcmp(where + wl - 8, "api/json"))
			where[wl - 8] = '\0';
		if (!strcmp(result, "SUCCESS") || !strcmp(result, "UNSTABLE")) {
			rc = 1;
		} else {
			snprintf(msg, cap, "Jenkins build #%ld finished %.40s (%.200s)", p->number, result, where);
			rc = -1;
		}
		if (!p->noted++)
			dd_build_note(log, "jenkins: build #%ld finished %s", p->number, result);
	}
	json_decref(j);
	return rc;
}

static int probe_azure(ci_probe *p, dd_buf *log, char *msg, size_t cap)
{
	json_t *j = p->build ? get_json(p, p->build) : NULL;
	int rc = 0;

	if (!j)
		return 0;
	const char *state = json_string_value(json_object_get(j, "state"));
	const char *result = json_string_value(json_object_get(j, "result"));
	if (state && !strcmp(state, "completed")) {
		long id = (long)json_integer_value(json_object_get(j, "id"));
		if (result && !strcmp(result, "succeeded")) {
			rc = 1;
		} else {
			snprintf(msg, cap, "Azure Pipelines run %ld completed: %.40s", id, result ? result : "unknown");
			rc = -1;
		}
		if (!p->noted++)
			dd_build_note(log, "azure: run %ld completed: %s", id, result ? result : "unknown");
	}
	json_decref(j);
	return rc;
}

static int ci_probe_fn(void *ctx, dd_buf *log, char *msg, size_t cap)
{
	ci_probe *p = ctx;
	return p->backend == DD_BUILD_JENKINS ? probe_jenkins(p, log, msg, cap)
					      : probe_azure(p, log, msg, cap);
}

/* Where the CI says how its build goes, from the trigger's answer. */
static void probe_init(ci_probe *p, const dd_http_response *resp, const dd_buf *body, dd_buf *log)
{
	if (p->backend == DD_BUILD_JENKINS && resp->location) {
		char *abs = same_origin_url(p->trigger, resp->location);
		dd_buf b = DD_BUF_INIT_MAX(16384);
		if (abs)
			dd_buf_printf(&b, "%s%sapi/json", abs, abs[strlen(abs) - 1] == '/' ? "" : "/");
		free(abs);
		p->queue = b.failed || !b.len ? (dd_buf_release(&b), NULL) : dd_buf_detach(&b, NULL);
	} else if (p->backend == DD_BUILD_AZURE) {
		json_t *j = json_loadb(dd_buf_cstr(body), body->len, 0, NULL);
		const char *u = json_string_value(json_object_get(j, "url"));
		char *abs = u ? same_origin_url(p->trigger, u) : NULL;
		p->build = abs ? url_with(abs, NULL, "api-version=7.1") : NULL;
		free(abs);
		if (p->build)
			dd_build_note(log, "azure: run %lld", (long long)json_integer_value(json_object_get(j, "id")));
		json_decref(j);
	}
}

static const char *ci_name(enum dd_build_backend b)
{
	return b == DD_BUILD_JENKINS ? "jenkins" : b == DD_BUILD_AZURE ? "azure" : "github";
}

int dd_build_ci(const dd_build_request *rq, dd_build_result *res, double deadline, dd_error *err)
{
	const dd_fleet_build *b = &rq->image->build;
	const dd_fleet_image *im = rq->image;
	const char *name = ci_name(b->backend), *token;
	dd_build_ci_request cr = { 0 };
	dd_build_vars v = { 0 };
	dd_http *h = NULL;
	dd_http_opts ho = { 0 };
	dd_http_response resp;
	dd_http_req req = { 0 };
	dd_buf body = DD_BUF_INIT_MAX(64 << 10), hdr = DD_BUF_INIT_MAX(256);
	char *auth = NULL, *crumb = NULL, shown[600];
	const char *headers[5];
	size_t nh = 0;
	int rc;

	memset(&resp, 0, sizeof(resp));
	v.image = im->image;
	v.tag = im->tag && *im->tag ? im->tag : "latest";
	v.ref = res->ref;
	v.base = rq->base_ref;
	v.base_digest = rq->base_digest;
	v.change = rq->change_id;
	if ((rc = dd_build_ci_compose(&cr, b, &v, err)) || (rc = url_allowed(cr.url, err)))
		goto done;
	if (!b->token_env || !*b->token_env) {
		rc = dd_error_set(err, DD_EINPUT, "%s: the recipe has no token_env", name);
		goto done;
	}
	if (!(token = getenv(b->token_env)) || !*token) {
		rc = dd_error_set(err, DD_EENV, "%s: environment variable %s (the token) is not set",
				  name, b->token_env);
		goto done;
	}
	if (cr.auth == 1 && (!b->user || !*b->user)) {
		rc = dd_error_set(err, DD_EINPUT, "jenkins: the recipe has no user for the API token");
		goto done;
	}
	if (cr.auth == 1)
		auth = dd_auth_basic_header(b->user, token);
	else if (cr.auth == 2)
		auth = dd_auth_basic_header("", token);
	else {
		dd_buf a = DD_BUF_INIT_MAX(16384);
		dd_buf_printf(&a, "Bearer %s", token);
		auth = a.failed ? (dd_buf_release(&a), NULL) : dd_buf_detach(&a, NULL);
	}
	ho.allow_http = 1; /* url_allowed() said which */
	ho.max_retries = -1; /* never send a trigger twice */
	if (!auth) {
		rc = dd_error_oom(err);
		goto done;
	}
	if ((rc = dd_http_new(&h, &ho, err)))
		goto done;
	if (b->backend == DD_BUILD_JENKINS)
		crumb = jenkins_crumb(h, b->url, auth, &res->log);
	dd_buf_printf(&hdr, "Content-Type: %s", cr.content_type);
	headers[nh++] = dd_buf_cstr(&hdr);
	if (cr.accept) {
		headers[nh++] = "Accept: application/vnd.github+json";
		headers[nh++] = "X-GitHub-Api-Version: 2022-11-28";
	}
	if (crumb)
		headers[nh++] = crumb;
	headers[nh] = NULL;
	req.method = "POST";
	req.url = cr.url;
	req.auth = auth;
	req.headers = headers;
	req.body = cr.body;
	req.body_len = cr.body_len;
	req.max_body = 64 << 10;
	safe_url(shown, sizeof(shown), cr.url);
	if ((rc = dd_http_request(h, &req, &resp, &body, err))) {
		dd_error_prefix(err, "%s trigger", name);
		goto done;
	}
	dd_build_note(&res->log, "%s: POST %s -> HTTP %ld%s%s", name, shown, resp.status,
		      resp.location ? ", " : "", resp.location ? resp.location : "");
	if (resp.status < 200 || resp.status > 299) {
		char line[200];
		dd_build_last_line(dd_buf_cstr(&body), body.len, line, sizeof(line));
		rc = dd_error_set(err, DD_EENV, "%s trigger: POST %s: HTTP %ld%s%s", name, shown,
				  resp.status, line[0] ? ": " : "", line);
		goto done;
	}
	ci_probe pr = { b->backend, h, auth, cr.url, NULL, NULL, 0, 0 };
	probe_init(&pr, &resp, &body, &res->log);
	rc = dd_build_wait(rq, res, deadline, pr.queue || pr.build ? ci_probe_fn : NULL, &pr, err);
	free(pr.queue);
	free(pr.build);
done:
	if (auth) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	free(crumb);
	dd_http_response_release(&resp);
	dd_http_free(h);
	dd_buf_release(&body);
	dd_buf_release(&hdr);
	dd_build_ci_request_release(&cr);
	return rc;
}

int dd_build_wait(const dd_build_request *rq, dd_build_result *res, double deadline,
		  dd_build_probe probe, void *probe_ctx, dd_error *err)
{
	const char *prev = rq->previous_digest, *env = getenv("DRYDOCK_BUILD_POLL");
	double interval = 5, first, start = dd_build_now();
	int after_success = -1; /* polls left once the CI said it succeeded */
	dd_registry *r = NULL;
	char last[400] = "no answer yet";
	unsigned polls = 0;
	dd_ref ref;
	int rc;

	if (env && *env) {
		char *end;
		double x = strtod(env, &end);
		if (!*end && x > 0 && x <= 3600)
			interval = x;
	}
	first = interval;
	if ((rc = dd_ref_parse(&ref, res->ref, err)))
		return rc;
	dd_build_note(&res->log, "waiting for %s to %s%s", res->ref, prev ? "change from " : "appear",
		      prev ? prev : "");
	for (;;) {
		double now = dd_build_now();
		dd_error e = DD_ERROR_INIT;
		dd_digest d;
		char *mt = NULL;

		if (now >= deadline) {
			rc = dd_error_set(err, DD_EENV, "timed out after %.0f s and %u polls waiting for %s to %s%s (%s)",
					  now - start, polls, res->ref, prev ? "change from " : "appear",
					  prev ? prev : "", last);
			break;
		}
		dd_build_sleep(interval < deadline - now ? interval : deadline - now);
		polls++;
		if (!r && dd_build_open_registry(&r, rq, &ref, &e)) {
			snprintf(last, sizeof(last), "%.380s", e.msg);
			r = NULL;
		} else if (dd_registry_resolve(r, ref.tag, &d, &mt, &e) == 0) {
			if (!prev || strcmp(d.s, prev)) {
				free(mt);
				dd_build_note(&res->log, "%s is now %s (after %u polls)", res->ref, d.s, polls);
				rc = (res->digest = strdup(d.s)) ? 0 : dd_error_oom(err);
				break;
			}
			snprintf(last, sizeof(last), "unchanged");
		} else {
			snprintf(last, sizeof(last), "%.380s", e.msg);
			if (e.code == DD_EENV) { /* reconnect next time */
				dd_registry_free(r);
				r = NULL;
			}
		}
		free(mt);
		interval = interval * 1.5 < POLL_MAX_S ? interval * 1.5 : POLL_MAX_S;
		if (after_success > 0) {
			after_success--;
			interval = first;
		} else if (after_success == 0) {
			rc = dd_error_set(err, DD_EENV, "the CI build succeeded but %s %s (the job must push exactly that tag)",
					  res->ref, prev ? "did not change" : "does not exist");
			break;
		} else if (probe) {
			char why[400] = "";
			int st = probe(probe_ctx, &res->log, why, sizeof(why));
			if (st < 0) {
				rc = dd_error_set(err, DD_EENV, "%s", why);
				break;
			}
			if (st > 0) { /* a few more quick polls, then give up */
				after_success = 3;
				interval = first;
			}
		}
	}
	dd_registry_free(r);
	return rc;
}
