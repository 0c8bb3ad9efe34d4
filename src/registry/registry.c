/* registry.c - see registry.h. */
#include "registry/registry.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "registry/auth.h"
#include "util/log.h"
#include "util/banned.h"

#define MANIFEST_MAX ((size_t)4 << 20)
#define TOKEN_MAX ((size_t)1 << 20)

const char *const dd_manifest_accept =
	"Accept: application/vnd.oci.image.index.v1+json, "
	"application/vnd.oci.image.manifest.v1+json, "
	"application/vnd.docker.distribution.manifest.list.v2+json, "
	"application/vnd.docker.distribution.manifest.v2+json";

struct dd_registry {
	dd_http *http;
	dd_ref ref;
	dd_registry_opts o;
	char *user, *pass;   /* copies of explicit credentials */
	char base[320];      /* "https://host:port" */
	char *auth;          /* Authorization value in use, or NULL */
	time_t expiry;       /* of a bearer token; 0 = none */
	char *challenge;     /* the last WWW-Authenticate seen */
	dd_cred cred;
	int cred_loaded;
	long last_status;    /* of the last API response, 0 none */
	long retry_after;    /* what it asked us to wait, -1 nothing */
	unsigned long requests;
};

void dd_registry_opts_init(dd_registry_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->tls_verify = 1;
}

const dd_ref *dd_registry_ref(const dd_registry *r)
{
	return &r->ref;
}

long dd_registry_last_status(const dd_registry *r)
{
	return r->last_status;
}

long dd_registry_retry_after(const dd_registry *r)
{
	return r->retry_after;
}

unsigned long dd_registry_requests(const dd_registry *r)
{
	return r->requests;
}

/* Remember what a response asked of the client (dd_registry_retry_after). */
static void note_response(dd_registry *r, const dd_http_response *resp)
{
	r->requests++;
	r->last_status = resp->status;
	r->retry_after = -1;
	if ((resp->status == 429 || resp->status == 503) && resp->retry_after >= 0)
		r->retry_after = resp->retry_after;
	else if (resp->ratelimit_exhausted)
		r->retry_after = resp->ratelimit_reset >= 0 ? resp->ratelimit_reset : 0;
}

static void set_auth(dd_registry *r, char *value, time_t expiry)
{
	free(r->auth);
	r->auth = value;
	r->expiry = expiry;
}

static int load_cred(dd_registry *r, dd_error *err)
{
	if (r->cred_loaded)
		return 0;
	r->cred_loaded = 1;
	if (r->user) {
		r->cred.username = strdup(r->user);
		r->cred.password = strdup(r->pass ? r->pass : "");
		r->cred.origin = "--username";
		return r->cred.username && r->cred.password ? 0 : dd_error_oom(err);
	}
	return dd_cred_lookup(&r->cred, r->ref.domain, err);
}

static char *urlenc(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0), *c = e ? strdup(e) : NULL;
	curl_free(e);
	return c;
}

/* Fetch a bearer token for the challenge. */
static int fetch_token(dd_registry *r, const dd_challenge *ch, dd_error *err)
{
	dd_buf url = DD_BUF_INIT_MAX(16384), body = DD_BUF_INIT;
	dd_http_response resp = { 0 }; /* released on every path */
	char scope[4400], *basic = NULL, *svc = NULL, *sc = NULL;
	json_t *j = NULL;
	const char *tok;
	long long expires;
	int rc;

	if (ch->scope && *ch->scope)
		snprintf(scope, sizeof(scope), "%s", ch->scope);
	else
		snprintf(scope, sizeof(scope), "repository:%s:%s", r->ref.path,
			 r->o.push ? "pull,push" : "pull");
	svc = urlenc(ch->service ? ch->service : "");
	sc = urlenc(scope);
	if (!svc || !sc) {
		rc = dd_error_oom(err);
		goto done;
	}
	/* A challenge may name several scopes, space-separated (a cross-
	 * repository mount needs pull on the source too): the token GET takes
	 * one scope= parameter each, as the token specification says. */
	dd_buf_printf(&url, "%s%sservice=%s", ch->realm, strchr(ch->realm, '?') ? "&" : "?", svc);
	for (const char *p = scope; *p;) {
		size_t n = strcspn(p, " ");
		if (n) {
			char one[sizeof(scope)], *e;
			memcpy(one, p, n);
			one[n] = '\0';
			if (!(e = urlenc(one))) {
				rc = dd_error_oom(err);
				goto done;
			}
			dd_buf_printf(&url, "&scope=%s", e);
			free(e);
		}
		p += n;
		while (*p == ' ')
			p++;
	}
	if (url.failed) {
		rc = dd_buf_error(&url, err, "token URL");
		goto done;
	}
	if ((rc = load_cred(r, err)))
		goto done;
	if (r->cred.identity_token) {
		/* OAuth2 refresh-token grant, as `docker login` stores it. */
		dd_buf form = DD_BUF_INIT;
		char *rt = urlenc(r->cred.identity_token);
		const char *h[] = { "Content-Type: application/x-www-form-urlencoded", NULL };
		dd_buf_printf(&form, "grant_type=refresh_token&client_id=drydock&service=%s&scope=%s&refresh_token=%s",
			      svc, sc, rt ? rt : "");
		free(rt);
		dd_http_req req = { "POST", dd_buf_cstr(&url), NULL, h, form.data, form.len, TOKEN_MAX };
		rc = dd_http_request(r->http, &req, &resp, &body, err);
		dd_buf_release(&form);
	} else {
		if (r->cred.username)
			basic = dd_auth_basic_header(r->cred.username, r->cred.password);
		dd_http_req req = { "GET", dd_buf_cstr(&url), basic, NULL, NULL, 0, TOKEN_MAX };
		rc = dd_http_request(r->http, &req, &resp, &body, err);
	}
	if (rc)
		goto done;
	if (resp.status == 401 || resp.status == 403) {
		rc = r->cred.username || r->cred.identity_token
			? dd_error_set(err, DD_EENV, "%s: authentication failed for user '%s' (credentials from %s)",
				       r->ref.domain, r->cred.username ? r->cred.username : "<token>",
				       r->cred.origin ? r->cred.origin : "?")
			: dd_error_set(err, DD_EENV, "%s: the token server refused anonymous access to %s "
				       "(log in with docker login, or pass --username)", r->ref.domain, r->ref.path);
		goto done;
	}
	if (resp.status != 200) {
		rc = dd_error_set(err, DD_EENV, "%s: token server answered HTTP %ld", r->ref.domain, resp.status);
		goto done;
	}
	j = json_loadb(dd_buf_cstr(&body), body.len, 0, NULL);
	tok = json_string_value(json_object_get(j, "token"));
	if (!tok || !*tok)
		tok = json_string_value(json_object_get(j, "access_token"));
	if (!tok || !*tok) {
		rc = dd_error_set(err, DD_EINPUT, "%s: token server answer has no token", r->ref.domain);
		goto done;
	}
	expires = json_is_integer(json_object_get(j, "expires_in"))
		? json_integer_value(json_object_get(j, "expires_in")) : 60;
	if (expires < 60)
		expires = 60; /* the spec's minimum */
	if (expires > 86400)
		expires = 86400; /* no time_t overflow; a day is plenty */
	{
		dd_buf h = DD_BUF_INIT_MAX(TOKEN_MAX);
		dd_buf_printf(&h, "Bearer %s", tok);
		if (h.failed) {
			rc = dd_buf_error(&h, err, "token");
			dd_buf_release(&h);
			goto done;
		}
		set_auth(r, dd_buf_detach(&h, NULL), time(NULL) + (time_t)expires);
	}
done:
	dd_http_response_release(&resp);
	json_decref(j);
	free(basic);
	free(svc);
	free(sc);
	dd_buf_release(&url);
	dd_buf_release(&body);
	return rc;
}

/* Answer a challenge: set r->auth. */
static int authenticate(dd_registry *r, const char *www, dd_error *err)
{
	dd_challenge ch;
	int rc;

	if (!www)
		return dd_error_set(err, DD_EENV, "%s: HTTP 401 without a WWW-Authenticate challenge",
				    r->ref.domain);
	if ((rc = dd_challenge_parse(&ch, www, err)))
		return dd_error_prefix(err, "%s", r->ref.domain);
	free(r->challenge);
	r->challenge = strdup(www);
	if (ch.scheme == DD_AUTH_BASIC) {
		if ((rc = load_cred(r, err)))
			goto done;
		if (!r->cred.username) {
			rc = dd_error_set(err, DD_EENV, "%s requires authentication and no credentials were "
					  "found (docker login, or --username with --password-stdin)",
					  r->ref.domain);
			goto done;
		}
		set_auth(r, dd_auth_basic_header(r->cred.username, r->cred.password), 0);
		rc = r->auth ? 0 : dd_error_oom(err);
	} else {
		rc = fetch_token(r, &ch, err);
	}
done:
	dd_challenge_release(&ch);
	return rc;
}

static int refresh_if_needed(dd_registry *r, dd_error *err)
{
	if (r->auth && r->expiry && time(NULL) + 15 >= r->expiry && r->challenge) {
		char *c = strdup(r->challenge);
		int rc = c ? authenticate(r, c, err) : dd_error_oom(err);
		free(c);
		return rc;
	}
	return 0;
}

static int auth_failed(dd_registry *r, dd_error *err)
{
	if (r->cred.username)
		return dd_error_set(err, DD_EENV, "%s: authentication failed for user '%s' (credentials from %s)",
				    r->ref.domain, r->cred.username, r->cred.origin ? r->cred.origin : "?");
	return dd_error_set(err, DD_EENV, "%s: access to %s denied (log in with docker login, or pass --username)",
			    r->ref.domain, r->ref.path);
}

/* One request with authentication handled. */
static int request(dd_registry *r, const char *method, const char *path, const char *const *hdrs,
		   dd_http_response *resp, dd_buf *body, size_t max, dd_error *err)
{
	char url[2048];
	int rc;

	memset(resp, 0, sizeof(*resp));
	snprintf(url, sizeof(url), "%s%s", r->base, path);
	for (int attempt = 0;; attempt++) {
		if ((rc = refresh_if_needed(r, err)))
			return rc;
		dd_http_req req = { method, url, r->auth, hdrs, NULL, 0, max };
		rc = dd_http_request(r->http, &req, resp, body, err);
		note_response(r, resp);
		if (rc)
			return dd_error_prefix(err, "%s", r->ref.domain);
		if (resp->status != 401 || attempt > 0)
			break;
		if ((rc = authenticate(r, resp->www_authenticate, err)))
			return rc;
		dd_http_response_release(resp);
	}
	if (resp->status == 401)
		return auth_failed(r, err);
	return 0;
}

/* GET /v2/ (authenticating when challenged).  *status: the last HTTP
 * status seen, 0 when no HTTP answer came. */
static int ping(dd_registry *r, const char *scheme, long *status, dd_error *err)
{
	dd_http_response resp;
	int rc;

	snprintf(r->base, sizeof(r->base), "%s://%s", scheme, dd_ref_api_host(&r->ref));
	rc = request(r, "GET", "/v2/", NULL, &resp, NULL, 65536, err);
	if (status)
		*status = resp.status;
	if (!rc && resp.status != 200)
		rc = dd_error_set(err, DD_EENV, "%s: /v2/ answered HTTP %ld: not an OCI registry?",
				  r->ref.domain, resp.status);
	if (rc && resp.curl_code)
		rc = -1000 - resp.curl_code; /* tell the caller which transport error */
	dd_http_response_release(&resp);
	return rc;
}

int dd_registry_new(dd_registry **out, const dd_ref *ref, const dd_registry_opts *o,
		    dd_error *err)
{
	dd_registry *r;
	dd_http_opts ho = { 0 };
	int rc, may_http;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return dd_error_oom(err);
	r->ref = *ref;
	if (o)
		r->o = *o;
	else
		dd_registry_opts_init(&r->o);
	r->user = o && o->username ? strdup(o->username) : NULL;
	r->pass = o && o->password ? strdup(o->password) : NULL;
	ho.insecure = !r->o.tls_verify;
	ho.ca_file = r->o.ca_file;
	ho.ca_dir = r->o.cert_dir;
	ho.max_retries = r->o.max_retries;
	may_http = !r->o.tls_verify || dd_ref_is_loopback(ref);
	if (r->o.tls_verify && dd_ref_is_loopback(ref)) {
		/* Loopback: plain HTTP first (most local registries, and it saves
		 * a TLS round trip that a plain server answers slowly); a server
		 * that speaks TLS refuses it (HTTP 400) and is then reached over
		 * verified TLS below.  The first request carries no credentials. */
		ho.allow_http = 1;
		if ((rc = dd_http_new(&r->http, &ho, err)))
			goto fail;
		long status = 0;
		rc = ping(r, "http", &status, err);
		if (rc == 0) {
			*out = r;
			return 0;
		}
		if (status && status != 400) /* a plain HTTP registry said no */
			goto fail;
		dd_http_free(r->http);
		r->http = NULL;
		set_auth(r, NULL, 0);
		ho.allow_http = 0;
		may_http = 0;
	}
	if ((rc = dd_http_new(&r->http, &ho, err)))
		goto fail;
	rc = ping(r, "https", NULL, err);
	if (rc <= -1000 && may_http && rc == -1000 - CURLE_SSL_CONNECT_ERROR) {
		/* The server does not speak TLS: plain HTTP is allowed here. */
		dd_http_free(r->http);
		ho.allow_http = 1;
		if ((rc = dd_http_new(&r->http, &ho, err)))
			goto fail;
		rc = ping(r, "http", NULL, err);
	}
	if (rc <= -1000)
		rc = DD_EENV;
	if (rc)
		goto fail;
	*out = r;
	return 0;
fail:
	dd_registry_free(r);
	return rc;
}

void dd_registry_free(dd_registry *r)
{
	if (!r)
		return;
	dd_http_free(r->http);
	free(r->auth);
	free(r->challenge);
	dd_cred_release(&r->cred);
	if (r->pass) {
		memset(r->pass, 0, strlen(r->pass));
		free(r->pass);
	}
	free(r->user);
	free(r);
}

static int status_error(dd_registry *r, const char *what, const char *ref, long status, dd_error *err)
{
	if (status == 404)
		return dd_error_set(err, DD_EINPUT, "%s/%s: %s %s not found", r->ref.domain, r->ref.path,
				    what, ref);
	if (status == 403)
		return dd_error_set(err, DD_EENV, "%s/%s: access to %s %s denied", r->ref.domain,
				    r->ref.path, what, ref);
	return dd_error_set(err, DD_EENV, "%s/%s: %s %s: HTTP %ld", r->ref.domain, r->ref.path, what,
			    ref, status);
}

int dd_registry_get_manifest(dd_registry *r, const char *reference, dd_buf *body,
			     char **media_type, dd_digest *digest, dd_error *err)
{
	const char *hdrs[] = { dd_manifest_accept, NULL };
	dd_http_response resp;
	char path[600];
	int rc;

	*media_type = NULL;
	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", r->ref.path, reference);
	body->max = MANIFEST_MAX;
	if ((rc = request(r, "GET", path, hdrs, &resp, body, MANIFEST_MAX, err)))
		goto done;
	if (resp.status != 200) {
		rc = status_error(r, "manifest", reference, resp.status, err);
		goto done;
	}
	if ((rc = dd_digest_of(digest, body->data ? body->data : "", body->len, err)))
		goto done;
	if (!strncmp(reference, "sha256:", 7) && strcmp(reference, digest->s)) {
		rc = dd_error_set(err, DD_EINPUT, "%s/%s: manifest %s digest mismatch: got %s",
				  r->ref.domain, r->ref.path, reference, digest->s);
		goto done;
	}
	if (resp.docker_digest && !strncmp(resp.docker_digest, "sha256:", 7) &&
	    strcmp(resp.docker_digest, digest->s)) {
		rc = dd_error_set(err, DD_EINPUT, "%s/%s: manifest %s: Docker-Content-Digest %s does not match "
				  "the content (%s)", r->ref.domain, r->ref.path, reference,
				  resp.docker_digest, digest->s);
		goto done;
	}
	if (resp.content_type) {
		size_t n = strcspn(resp.content_type, ";");
		*media_type = dd_strndup(resp.content_type, n);
	}
done:
	dd_http_response_release(&resp);
	return rc;
}

int dd_registry_resolve(dd_registry *r, const char *reference, dd_digest *digest,
			char **media_type, dd_error *err)
{
	const char *hdrs[] = { dd_manifest_accept, NULL };
	dd_http_response resp;
	char path[600];
	int rc;

	*media_type = NULL;
	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", r->ref.path, reference);
	if ((rc = request(r, "HEAD", path, hdrs, &resp, NULL, 0, err)))
		goto done;
	if (resp.status != 200) {
		rc = status_error(r, "manifest", reference, resp.status, err);
		goto done;
	}
	if (resp.docker_digest && dd_digest_parse(digest, resp.docker_digest, "Docker-Content-Digest", NULL) == 0) {
		if (!strncmp(reference, "sha256:", 7) && strcmp(reference, digest->s)) {
			rc = dd_error_set(err, DD_EINPUT, "%s/%s: manifest %s: Docker-Content-Digest %s does not match "
					  "the digest asked for", r->ref.domain, r->ref.path, reference, digest->s);
			goto done;
		}
		if (resp.content_type)
			*media_type = dd_strndup(resp.content_type, strcspn(resp.content_type, ";"));
		goto done;
	}
	/* No (usable) digest header: GET and hash. */
	{
		dd_buf body = DD_BUF_INIT;
		rc = dd_registry_get_manifest(r, reference, &body, media_type, digest, err);
		dd_buf_release(&body);
	}
done:
	dd_http_response_release(&resp);
	return rc;
}

int dd_registry_get_blob(dd_registry *r, const dd_digest *digest, size_t max, dd_buf *body,
			 dd_error *err)
{
	dd_http_response resp;
	dd_digest got;
	char path[600];
	int rc;

	snprintf(path, sizeof(path), "/v2/%s/blobs/%s", r->ref.path, digest->s);
	body->max = max;
	if ((rc = request(r, "GET", path, NULL, &resp, body, max, err)))
		goto done;
	if (resp.status != 200) {
		rc = status_error(r, "blob", digest->s, resp.status, err);
		goto done;
	}
	if ((rc = dd_digest_of(&got, body->data ? body->data : "", body->len, err)))
		goto done;
	if (!dd_digest_eq(&got, digest))
		rc = dd_error_set(err, DD_EINPUT, "%s/%s: blob %s digest mismatch: got %s", r->ref.domain,
				  r->ref.path, digest->s, got.s);
done:
	dd_http_response_release(&resp);
	return rc;
}

int dd_registry_open_blob(dd_registry *r, const dd_digest *digest, dd_http_stream **out,
			  dd_reader *reader, dd_error *err)
{
	dd_http_response resp;
	char url[2048];
	int rc;

	*out = NULL;
	snprintf(url, sizeof(url), "%s/v2/%s/blobs/%s", r->base, r->ref.path, digest->s);
	for (int attempt = 0;; attempt++) {
		if ((rc = refresh_if_needed(r, err)))
			return rc;
		dd_http_req req = { "GET", url, r->auth, NULL, NULL, 0, 0 };
		rc = dd_http_stream_open(r->http, &req, &resp, out, err);
		if (rc) {
			dd_http_response_release(&resp);
			return dd_error_prefix(err, "%s", r->ref.domain);
		}
		if (*out || resp.status != 401 || attempt > 0)
			break;
		rc = authenticate(r, resp.www_authenticate, err);
		dd_http_response_release(&resp);
		if (rc)
			return rc;
	}
	if (!*out) {
		rc = resp.status == 401 ? auth_failed(r, err)
					: status_error(r, "blob", digest->s, resp.status, err);
		dd_http_response_release(&resp);
		return rc;
	}
	dd_http_response_release(&resp);
	dd_http_stream_reader(*out, reader);
	return 0;
}

/* Link: </v2/x/tags/list?n=100&last=y>; rel="next" -> the target of the
 * link-value whose rel is "next" (a header may also carry rel="first",
 * rel="prev"... in any order). */
static char *next_link(const char *link)
{
	const char *p = link, *lt, *gt, *end;
	while (p && (lt = strchr(p, '<')) && (gt = strchr(lt, '>'))) {
		end = strchr(gt, '<'); /* the parameters run up to the next link-value */
		size_t n = end ? (size_t)(end - gt) : strlen(gt);
		for (const char *q = gt; q && q < gt + n; q++) {
			q = strstr(q, "rel=");
			if (!q || q >= gt + n)
				break;
			q += 4;
			if (*q == '"')
				q++;
			if (!strncmp(q, "next", 4) && (q[4] == '"' || q[4] == ';' || q[4] == ',' ||
						      q[4] == ' ' || q[4] == '\0'))
				return dd_strndup(lt + 1, (size_t)(gt - lt - 1));
		}
		p = end;
	}
	return NULL;
}

/* The path and query of an absolute URL ("/v2/...?n=1"), malloc'd. */
static char *path_and_query(const char *url)
{
	CURLU *u = curl_url();
	char *path = NULL, *query = NULL, *res = NULL;
	dd_buf b = DD_BUF_INIT_MAX(8192);
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK) {
		if (curl_url_get(u, CURLUPART_QUERY, &query, 0) != CURLUE_OK)
			query = NULL;
		dd_buf_printf(&b, "%s%s%s", path, query ? "?" : "", query ? query : "");
		if (!b.failed)
			res = dd_buf_detach(&b, NULL);
	}
	dd_buf_release(&b);
	curl_free(path);
	curl_free(query);
	curl_url_cleanup(u);
	return res;
}

int dd_registry_list_tags(dd_registry *r, int (*cb)(void *ctx, const char *tag), void *ctx,
			  dd_error *err)
{
	char first[600];
	char *path;
	int rc = 0, pages = 0;

	/* DRYDOCK_TAGS_PAGE sets the page size (tests use it to force paging). */
	const char *ps = getenv("DRYDOCK_TAGS_PAGE");
	long page = ps ? strtol(ps, NULL, 10) : 1000;
	if (page < 1 || page > 10000)
		page = 1000;
	snprintf(first, sizeof(first), "/v2/%s/tags/list?n=%ld", r->ref.path, page);
	path = strdup(first);
	while (path && !rc) {
		dd_http_response resp;
		dd_buf body = DD_BUF_INIT;
		json_t *j = NULL, *tags, *t;
		size_t i;
		char *next = NULL;

		if (++pages > 10000) {
			rc = dd_error_set(err, DD_EINPUT, "%s/%s: tag list does not end", r->ref.domain, r->ref.path);
			break;
		}
		if (path[0] != '/') {
			/* absolute Link: must stay on this registry */
			char *abs = path;
			if (!dd_http_same_origin(abs, r->base)) {
				rc = dd_error_set(err, DD_EINPUT, "%s: tag list pagination points to another host",
						  r->ref.domain);
				break;
			}
			path = path_and_query(abs);
			free(abs);
			if (!path) {
				rc = dd_error_set(err, DD_EINPUT, "%s: malformed tag list Link", r->ref.domain);
				break;
			}
		}
		rc = request(r, "GET", path, NULL, &resp, &body, (size_t)16 << 20, err);
		if (!rc && resp.status != 200)
			rc = status_error(r, "tag list", "", resp.status, err);
		if (!rc) {
			j = json_loadb(dd_buf_cstr(&body), body.len, 0, NULL);
			tags = json_object_get(j, "tags");
			if (!json_is_array(tags) && !json_is_null(tags))
				rc = dd_error_set(err, DD_EINPUT, "%s/%s: malformed tag list", r->ref.domain,
						  r->ref.path);
			json_array_foreach(tags, i, t) {
				if (rc)
					break;
				if (json_is_string(t))
					rc = cb(ctx, json_string_value(t));
			}
			next = next_link(resp.link);
		}
		json_decref(j);
		dd_buf_release(&body);
		dd_http_response_release(&resp);
		free(path);
		path = next;
	}
	free(path);
	return rc;
}

/* ---- referrers ---- */

static int each_referrer(dd_registry *r, const dd_buf *body, const char *artifact_type,
			 int (*cb)(void *ctx, const dd_referrer *ref), void *ctx, dd_error *err)
{
	json_t *j = json_loadb(dd_buf_cstr(body), body->len, JSON_REJECT_DUPLICATES, NULL), *m;
	size_t i;
	int rc = 0;

	if (!json_is_array(json_object_get(j, "manifests"))) {
		json_decref(j);
		return dd_error_set(err, DD_EINPUT, "%s/%s: referrers answer is not an image index", r->ref.domain,
				    r->ref.path);
	}
	json_array_foreach(json_object_get(j, "manifests"), i, m) {
		dd_referrer ref = { 0 };
		ref.media_type = json_string_value(json_object_get(m, "mediaType"));
		ref.artifact_type = json_string_value(json_object_get(m, "artifactType"));
		if (!ref.media_type || !json_is_integer(json_object_get(m, "size")) ||
		    dd_digest_parse(&ref.digest, json_string_value(json_object_get(m, "digest")), "referrer", err)) {
			rc = dd_error_set(err, DD_EINPUT, "%s/%s: malformed referrer descriptor %zu", r->ref.domain,
					  r->ref.path, i);
			break;
		}
		ref.size = (uint64_t)json_integer_value(json_object_get(m, "size"));
		if (artifact_type && (!ref.artifact_type || strcmp(ref.artifact_type, artifact_type)))
			continue;
		if ((rc = cb(ctx, &ref)))
			break;
	}
	json_decref(j);
	return rc;
}

int dd_registry_referrers(dd_registry *r, const dd_digest *subject, const char *artifact_type,
			  int (*cb)(void *ctx, const dd_referrer *ref), void *ctx, dd_error *err)
{
	const char *hdrs[] = { "Accept: application/vnd.oci.image.index.v1+json", NULL };
	dd_http_response resp;
	dd_buf body = DD_BUF_INIT;
	char path[700], tag[80];
	int rc;

	snprintf(path, sizeof(path), "/v2/%s/referrers/%s", r->ref.path, subject->s);
	if ((rc = request(r, "GET", path, hdrs, &resp, &body, MANIFEST_MAX, err)))
		goto done;
	if (resp.status == 200) {
		rc = each_referrer(r, &body, artifact_type, cb, ctx, err);
		goto done;
	}
	if (resp.status != 404) {
		rc = status_error(r, "referrers of", subject->s, resp.status, err);
		goto done;
	}
	/* No referrers API: the tag schema fallback. */
	snprintf(tag, sizeof(tag), "sha256-%s", dd_digest_hex(subject));
	dd_http_response_release(&resp);
	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", r->ref.path, tag);
	if ((rc = request(r, "GET", path, hdrs, &resp, &body, MANIFEST_MAX, err)))
		goto done;
	if (resp.status == 404)
		goto done; /* no referrers */
	if (resp.status != 200) {
		rc = status_error(r, "manifest", tag, resp.status, err);
		goto done;
	}
	rc = each_referrer(r, &body, artifact_type, cb, ctx, err);
done:
	dd_http_response_release(&resp);
	dd_buf_release(&body);
	return rc;
}

/* ---- push ---- */

int dd_registry_blob_exists(dd_registry *r, const dd_digest *digest, dd_error *err)
{
	dd_http_response resp;
	char path[600];
	int rc;

	snprintf(path, sizeof(path), "/v2/%s/blobs/%s", r->ref.path, digest->s);
	rc = request(r, "HEAD", path, NULL, &resp, NULL, 0, err);
	if (!rc)
		rc = resp.status == 200 ? 1 : resp.status == 404 ? 0
		     : status_error(r, "blob", digest->s, resp.status, err);
	dd_http_response_release(&resp);
	return rc;
}

/* Absolute URL for an upload Location (may be relative). */
static char *upload_url(dd_registry *r, const char *location, const dd_digest *digest)
{
	dd_buf b = DD_BUF_INIT_MAX(8192);
	if (location[0] == '/')
		dd_buf_printf(&b, "%s%s", r->base, location);
	else
		dd_buf_puts(&b, location);
	if (digest)
		dd_buf_printf(&b, "%sdigest=%s", strchr(dd_buf_cstr(&b), '?') ? "&" : "?", digest->s);
	if (b.failed) {
		dd_buf_release(&b);
		return NULL;
	}
	return dd_buf_detach(&b, NULL);
}

/* POST an upload session (or a mount); *location set on 202. Returns 1
 * when a mount succeeded (201). */
static int start_upload(dd_registry *r, const dd_digest *digest, const char *mount_from,
			char **location, dd_error *err)
{
	dd_http_response resp;
	char path[900];
	int rc;

	*location = NULL;
	if (mount_from)
		snprintf(path, sizeof(path), "/v2/%s/blobs/uploads/?mount=%s&from=%s", r->ref.path,
			 digest->s, mount_from);
	else
		snprintf(path, sizeof(path), "/v2/%s/blobs/uploads/", r->ref.path);
	if ((rc = request(r, "POST", path, NULL, &resp, NULL, 65536, err)))
		goto done;
	if (resp.status == 201 && mount_from) {
		rc = 1;
	} else if (resp.status == 202 && resp.location) {
		*location = strdup(resp.location);
		rc = *location ? 0 : dd_error_oom(err);
	} else {
		rc = status_error(r, "blob upload", digest->s, resp.status, err);
	}
done:
	dd_http_response_release(&resp);
	return rc;
}

static int finish_put(dd_registry *r, const char *url, dd_reader *src, uint64_t size,
		      const dd_digest *digest, dd_error *err)
{
	dd_http_response resp;
	const char *h[] = { "Content-Type: application/octet-stream", NULL };
	/* Upload locations may point elsewhere: credentials stay with the registry. */
	const char *auth = dd_http_same_origin(url, r->base) ? r->auth : NULL;
	dd_http_req req = { "PUT", url, auth, h, NULL, 0, 65536, src, size };
	int rc;

	if (!src) {
		req.upload = NULL;
		req.body = "";
	}
	rc = dd_http_request(r->http, &req, &resp, NULL, err);
	if (!rc && resp.status != 201)
		rc = resp.status == 400
			? dd_error_set(err, DD_EINPUT, "%s/%s: the registry rejected blob %s (digest or size mismatch)",
				       r->ref.domain, r->ref.path, digest->s)
			: status_error(r, "blob upload", digest->s, resp.status, err);
	dd_http_response_release(&resp);
	return rc;
}

/* A reader limited to the next `left` bytes of another. */
struct limit_reader {
	dd_reader *in;
	uint64_t left;
};

static ssize_t limit_read(void *ctx, void *buf, size_t n, dd_error *err)
{
	struct limit_reader *l = ctx;
	ssize_t r;
	if (l->left == 0)
		return 0;
	if (n > l->left)
		n = (size_t)l->left;
	r = dd_reader_read(l->in, buf, n, err);
	if (r == 0)
		return dd_error_set(err, DD_EINPUT, "blob ended early");
	if (r > 0)
		l->left -= (uint64_t)r;
	return r;
}

/* Chunk size of uploads: DRYDOCK_UPLOAD_CHUNK bytes (tests set it small),
 * else 64 MiB; a blob no larger than one chunk goes in one PUT. */
static uint64_t upload_chunk(void)
{
	const char *e = getenv("DRYDOCK_UPLOAD_CHUNK");
	long long v = e ? strtoll(e, NULL, 10) : 0;
	return v >= 1024 ? (uint64_t)v : (uint64_t)64 << 20;
}

/* Chunked upload: PATCH with Content-Range per chunk (each streamed from
 * src, never buffered), then PUT ?digest= to close the session. */
static int push_chunked(dd_registry *r, const dd_digest *digest, uint64_t size, dd_reader *src,
			char *loc, uint64_t chunk, dd_error *err)
{
	char *url = NULL;
	int rc = 0;

	for (uint64_t off = 0; off < size && !rc; off += chunk) {
		uint64_t len = size - off < chunk ? size - off : chunk;
		struct limit_reader lr = { src, len };
		dd_reader part = { limit_read, &lr };
		char range[96];
		const char *h[] = { "Content-Type: application/octet-stream", range, NULL };
		dd_http_response resp;
		const char *auth;

		free(url);
		if (!(url = upload_url(r, loc, NULL)))
			return dd_error_oom(err);
		auth = dd_http_same_origin(url, r->base) ? r->auth : NULL;
		snprintf(range, sizeof(range), "Content-Range: %llu-%llu", (unsigned long long)off,
			 (unsigned long long)(off + len - 1));
		dd_http_req req = { "PATCH", url, auth, h, NULL, 0, 65536, &part, len };
		rc = dd_http_request(r->http, &req, &resp, NULL, err);
		if (!rc && resp.status != 202)
			rc = status_error(r, "blob upload chunk", digest->s, resp.status, err);
		if (!rc && resp.location) {
			free(loc);
			loc = strdup(resp.location);
			if (!loc)
				rc = dd_error_oom(err);
		}
		dd_http_response_release(&resp);
	}
	free(url);
	if (!rc) {
		/* the stream must end exactly here (its reader verifies the digest) */
		unsigned char extra;
		ssize_t n = dd_reader_read(src, &extra, 1, err);
		if (n < 0)
			rc = (int)n;
		else if (n > 0)
			rc = dd_error_set(err, DD_EINPUT, "blob %s is larger than %llu bytes", digest->s,
					  (unsigned long long)size);
	}
	if (!rc) {
		url = upload_url(r, loc, digest);
		rc = url ? finish_put(r, url, NULL, 0, digest, err) : dd_error_oom(err);
		free(url);
	}
	free(loc);
	return rc;
}

int dd_registry_push_blob(dd_registry *r, const dd_digest *digest, uint64_t size,
			  dd_reader *src, const char *mount_from, dd_error *err)
{
	char *loc = NULL, *url = NULL;
	int rc;

	rc = dd_registry_blob_exists(r, digest, err);
	if (rc)
		return rc; /* 1: already there */
	if ((rc = refresh_if_needed(r, err)))
		return rc;
	rc = start_upload(r, digest, mount_from, &loc, err);
	if (rc == 1)
		return 1; /* mounted */
	if (rc)
		return rc;
	if (size > upload_chunk())
		return push_chunked(r, digest, size, src, loc, upload_chunk(), err);
	url = upload_url(r, loc, digest);
	rc = url ? finish_put(r, url, src, size, digest, err) : dd_error_oom(err);
	free(loc);
	free(url);
	return rc;
}

int dd_registry_put_manifest(dd_registry *r, const char *reference, const char *media_type,
			     const void *p, size_t n, dd_error *err)
{
	dd_http_response resp;
	char url[1200], ct[300];
	const char *h[] = { ct, NULL };
	int rc;

	if (n > MANIFEST_MAX)
		return dd_error_set(err, DD_EINPUT, "manifest of %zu bytes is over the 4 MiB limit", n);
	if ((rc = refresh_if_needed(r, err)))
		return rc;
	snprintf(url, sizeof(url), "%s/v2/%s/manifests/%s", r->base, r->ref.path, reference);
	snprintf(ct, sizeof(ct), "Content-Type: %s", media_type);
	for (int attempt = 0;; attempt++) {
		dd_http_req req = { "PUT", url, r->auth, h, p, n, 65536, NULL, 0 };
		if ((rc = dd_http_request(r->http, &req, &resp, NULL, err)))
			return dd_error_prefix(err, "%s", r->ref.domain);
		if (resp.status != 401 || attempt > 0)
			break;
		rc = authenticate(r, resp.www_authenticate, err);
		dd_http_response_release(&resp);
		if (rc)
			return rc;
	}
	if (resp.status == 401)
		rc = auth_failed(r, err);
	else if (resp.status != 201 && resp.status != 200)
		rc = status_error(r, "manifest upload", reference, resp.status, err);
	dd_http_response_release(&resp);
	return rc;
}
