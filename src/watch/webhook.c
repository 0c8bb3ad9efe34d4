/* webhook.c - see webhook.h. */
#include "watch/webhook.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/log.h"
#include "util/banned.h"

#define MAX_EVENTS 100000

/* ---- validators (OCI distribution spec grammar) ---- */

static int is_lower_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_alnum(int c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* over s[0..n) */
static int valid_component(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || !is_lower_alnum((unsigned char)s[0]) || !is_lower_alnum((unsigned char)s[n - 1]))
		return 0;
	while (i < n) {
		if (is_lower_alnum((unsigned char)s[i])) {
			i++;
			continue;
		}
		/* a separator: ".", "_", "__" or "-+" */
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i++;
			if (i < n && s[i] == '_')
				i++;
		} else if (s[i] == '-') {
			while (i < n && s[i] == '-')
				i++;
		} else {
			return 0;
		}
		if (i >= n || !is_lower_alnum((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

int dd_webhook_valid_repository(const char *s)
{
	size_t len;
	const char *p, *slash;

	if (!s)
		return 0;
	len = strlen(s);
	if (len == 0 || len > 255)
		return 0;
	for (p = s;; p = slash + 1) {
		slash = strchr(p, '/');
		if (!valid_component(p, slash ? (size_t)(slash - p) : strlen(p)))
			return 0;
		if (!slash)
			return 1;
	}
}

int dd_webhook_valid_tag(const char *s)
{
	size_t i;

	if (!s || !(is_alnum((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (i = 1; s[i]; i++) {
		if (i >= 128)
			return 0;
		if (!(is_alnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return 0;
	}
	return 1;
}

static int all_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int dd_webhook_valid_digest(const char *s)
{
	const char *colon, *enc;
	size_t alen, elen, i;

	if (!s || strlen(s) > 256 || !(colon = strchr(s, ':')))
		return 0;
	alen = (size_t)(colon - s);
	enc = colon + 1;
	elen = strlen(enc);
	/* algorithm: [a-z0-9]+([+._-][a-z0-9]+)* */
	if (alen == 0 || !is_lower_alnum((unsigned char)s[0]) || !is_lower_alnum((unsigned char)s[alen - 1]))
		return 0;
	for (i = 1; i < alen; i++) {
		int sep = s[i] == '+' || s[i] == '.' || s[i] == '_' || s[i] == '-';
		if (!is_lower_alnum((unsigned char)s[i]) && !(sep && is_lower_alnum((unsigned char)s[i - 1])))
			return 0;
	}
	if (alen == 6 && memcmp(s, "sha256", 6) == 0)
		return elen == 64 && all_lower_hex(enc, elen);
	if (alen == 6 && memcmp(s, "sha512", 6) == 0)
		return elen == 128 && all_lower_hex(enc, elen);
	/* encoded: [a-zA-Z0-9=_-]+ */
	if (elen == 0)
		return 0;
	for (i = 0; i < elen; i++)
		if (!(is_alnum((unsigned char)enc[i]) || enc[i] == '=' || enc[i] == '_' || enc[i] == '-'))
			return 0;
	return 1;
}

static int valid_port(const char *p)
{
	unsigned long v = 0;
	size_t i;

	for (i = 0; p[i]; i++) {
		if (i >= 5 || p[i] < '0' || p[i] > '9')
			return 0;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	return i > 0 && v >= 1 && v <= 65535;
}

int dd_webhook_valid_host(const char *s)
{
	size_t i, n;
	const char *port = NULL;

	if (!s || !*s || strlen(s) > 260)
		return 0;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close - s < 3)
			return 0;
		for (const char *p = s + 1; p < close; p++)
			if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F') ||
			      *p == ':' || *p == '.'))
				return 0;
		if (close[1] == '\0')
			return 1;
		return close[1] == ':' && valid_port(close + 2);
	}
	port = strchr(s, ':');
	n = port ? (size_t)(port - s) : strlen(s);
	if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-' || s[n - 1] == '.' || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		if (!(is_alnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '.'))
			return 0;
		if (s[i] == '.' && s[i + 1] == '.')
			return 0;
	}
	return !port || valid_port(port + 1);
}

/* ---- the event list ---- */

typedef struct evlist {
	dd_push_event *v;
	size_t n, cap;
	const char *source; /* "distribution", "acr", "harbor" */
	dd_error *err;
} evlist;

void dd_push_events_free(dd_push_event *e, size_t n)
{
	if (!e)
		return;
	for (size_t i = 0; i < n; i++) {
		free(e[i].registry);
		free(e[i].repository);
		free(e[i].tag);
		free(e[i].digest);
		free(e[i].media_type);
	}
	free(e);
}

/* "webhook (SOURCE): WHERE: what" */
#define FAIL(L, where, ...) \
	fail_at((L), (where), __VA_ARGS__)

static int fail_at(evlist *L, const char *where, const char *fmt, ...) DD_PRINTF(3, 4);
static int fail_at(evlist *L, const char *where, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return dd_error_set(L->err, DD_EINPUT, "webhook (%s): %s: %s", L->source, where, what);
}

/* Append an event; every field is validated here.  registry may be NULL
 * (or invalid: then dropped with a debug line, it is only a hint). */
static int add_event(evlist *L, const char *where, const char *registry, const char *repo,
		     const char *tag, const char *digest, const char *mt)
{
	dd_push_event *e;

	if (!repo)
		return FAIL(L, where, "no repository");
	if (!dd_webhook_valid_repository(repo))
		return FAIL(L, where, "invalid repository name '%.100s'", repo);
	if (tag && !dd_webhook_valid_tag(tag))
		return FAIL(L, where, "invalid tag '%.100s'", tag);
	if (digest && !dd_webhook_valid_digest(digest))
		return FAIL(L, where, "invalid digest '%.100s'", digest);
	if (!tag && !digest)
		return FAIL(L, where, "neither a tag nor a digest");
	if (mt && (strlen(mt) > 255 || strpbrk(mt, " \t\r\n\"\\")))
		return FAIL(L, where, "invalid media type '%.100s'", mt);
	if (registry && !dd_webhook_valid_host(registry)) {
		dd_debug("webhook (%s): %s: ignoring invalid registry host '%.100s'", L->source, where,
			 registry);
		registry = NULL;
	}
	if (L->n >= MAX_EVENTS)
		return FAIL(L, where, "more than %d events", MAX_EVENTS);
	if (L->n == L->cap) {
		size_t cap = L->cap ? L->cap * 2 : 4, bytes;
		dd_push_event *nv;
		if (dd_mul_size(&bytes, cap, sizeof(*nv)) < 0 || !(nv = realloc(L->v, bytes)))
			return dd_error_oom(L->err);
		L->v = nv;
		L->cap = cap;
	}
	e = &L->v[L->n];
	memset(e, 0, sizeof(*e));
	e->source = L->source;
	e->repository = dd_strdup(repo);
	e->registry = dd_strdup(registry);
	e->tag = dd_strdup(tag);
	e->digest = dd_strdup(digest);
	e->media_type = dd_strdup(mt);
	L->n++; /* counted now so a failure below still frees what was copied */
	if (!e->repository || (registry && !e->registry) || (tag && !e->tag) || (digest && !e->digest) ||
	    (mt && !e->media_type))
		return dd_error_oom(L->err);
	return 0;
}

/*
 * Borrow an optional string member: absent or null gives NULL, "" too; any
 * other JSON type is an error naming where.key.
 */
static int opt_str(evlist *L, json_t *obj, const char *key, const char *where, const char **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		char w[256];
		snprintf(w, sizeof(w), "%s.%s", where, key);
		return FAIL(L, w, "not a string");
	}
	if (json_string_length(v) != strlen(json_string_value(v))) {
		char w[256];
		snprintf(w, sizeof(w), "%s.%s", where, key);
		return FAIL(L, w, "contains a NUL byte");
	}
	if (json_string_value(v)[0])
		*out = json_string_value(v);
	return 0;
}

/* An optional object member: absent/null gives NULL; another type is an error. */
static int opt_obj(evlist *L, json_t *obj, const char *key, const char *where, json_t **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v)) {
		char w[256];
		snprintf(w, sizeof(w), "%s.%s", where, key);
		return FAIL(L, w, "not an object");
	}
	*out = v;
	return 0;
}

/*
 * The host[:port] of "scheme://host[:port][/path]", or of "host[:port]/path"
 * when there is no scheme, into buf ("" when there is none); returns the
 * path after the host's '/', or NULL.
 */
static const char *host_of_url(const char *url, char *buf, size_t n)
{
	const char *p = url, *end;
	int scheme = 0;
	size_t len;

	buf[0] = '\0';
	if (!url)
		return NULL;
	if (strncmp(p, "http://", 7) == 0)
		p += 7, scheme = 1;
	else if (strncmp(p, "https://", 8) == 0)
		p += 8, scheme = 1;
	else if (strstr(p, "://"))
		return NULL;
	end = p + strcspn(p, "/?#");
	len = (size_t)(end - p);
	if (len == 0 || len >= n || (!scheme && *end != '/'))
		return NULL; /* a bare word is not a URL with a host */
	memcpy(buf, p, len);
	buf[len] = '\0';
	if (strchr(buf, '@')) { /* userinfo: not a registry host */
		buf[0] = '\0';
		return NULL;
	}
	return *end == '/' ? end + 1 : NULL;
}

/* ---- distribution ---- */

static int is_manifest_mt(const char *mt)
{
	return strstr(mt, "manifest") || strstr(mt, "index") || strstr(mt, "helm.chart");
}

/* What target.url names: 1 ".../manifests/REF", 0 ".../blobs/REF", -1
 * neither.  The segment before the reference decides, so a repository
 * named "manifests" or "blobs" cannot confuse it. */
static int url_kind(const char *url)
{
	const char *end = url + strcspn(url, "?#"), *last, *prev;

	last = memrchr(url, '/', (size_t)(end - url));
	if (!last || last == url)
		return -1;
	prev = memrchr(url, '/', (size_t)(last - url));
	if (!prev)
		return -1;
	if (last - prev - 1 == 9 && memcmp(prev + 1, "manifests", 9) == 0)
		return 1;
	if (last - prev - 1 == 5 && memcmp(prev + 1, "blobs", 5) == 0)
		return 0;
	return -1;
}

/* 1: a manifest event, 0: a blob event (layer, config, mount...). */
static int dist_is_manifest(const char *url, const char *mt, const char *tag)
{
	int kind = url ? url_kind(url) : -1;

	if (kind >= 0)
		return kind;
	if (tag)
		return 1;
	return mt && is_manifest_mt(mt) && !strstr(mt, "octet-stream");
}

static int parse_distribution(evlist *L, json_t *root)
{
	json_t *events = json_object_get(root, "events");
	size_t i;
	json_t *ev;

	if (!json_is_array(events))
		return FAIL(L, "events", "not an array");
	json_array_foreach(events, i, ev) {
		char where[40], whost[96];
		const char *action, *repo, *tag, *digest, *mt, *url, *host;
		json_t *target, *req;
		char urlhost[300];
		int rc;

		snprintf(where, sizeof(where), "events[%zu]", i);
		if (!json_is_object(ev))
			return FAIL(L, where, "not an object");
		if ((rc = opt_str(L, ev, "action", where, &action)) < 0)
			return rc;
		if (!action)
			return FAIL(L, where, "no action");
		if (strcmp(action, "push") != 0)
			continue; /* pull, mount, delete */
		if ((rc = opt_obj(L, ev, "target", where, &target)) < 0 ||
		    (rc = opt_obj(L, ev, "request", where, &req)) < 0)
			return rc;
		if (!target)
			return FAIL(L, where, "push without a target");
		snprintf(whost, sizeof(whost), "%s.target", where);
		if ((rc = opt_str(L, target, "repository", whost, &repo)) < 0 ||
		    (rc = opt_str(L, target, "tag", whost, &tag)) < 0 ||
		    (rc = opt_str(L, target, "digest", whost, &digest)) < 0 ||
		    (rc = opt_str(L, target, "mediaType", whost, &mt)) < 0 ||
		    (rc = opt_str(L, target, "url", whost, &url)) < 0)
			return rc;
		if (!dist_is_manifest(url, mt, tag))
			continue;
		host = NULL;
		if (req) {
			snprintf(whost, sizeof(whost), "%s.request", where);
			if ((rc = opt_str(L, req, "host", whost, &host)) < 0)
				return rc;
		}
		if (!host || !dd_webhook_valid_host(host)) {
			host_of_url(url, urlhost, sizeof(urlhost));
			if (urlhost[0])
				host = urlhost;
		}
		snprintf(whost, sizeof(whost), "%s.target", where);
		if ((rc = add_event(L, whost, host, repo, tag, digest, mt)) < 0)
			return rc;
	}
	return 0;
}

/* ---- ACR ---- */

static int parse_acr(evlist *L, json_t *root)
{
	const char *action, *repo, *tag, *digest, *mt, *host = NULL;
	json_t *target, *req;
	int rc;

	if ((rc = opt_str(L, root, "action", "payload", &action)) < 0)
		return rc;
	if (!action)
		return FAIL(L, "action", "empty");
	if (strcmp(action, "push") != 0 && strcmp(action, "chart_push") != 0)
		return 0; /* delete, chart_delete, quarantine, ping */
	if ((rc = opt_obj(L, root, "target", "payload", &target)) < 0 ||
	    (rc = opt_obj(L, root, "request", "payload", &req)) < 0)
		return rc;
	if (!target)
		return FAIL(L, "target", "missing in a push");
	if ((rc = opt_str(L, target, "repository", "target", &repo)) < 0 ||
	    (rc = opt_str(L, target, "tag", "target", &tag)) < 0 ||
	    (rc = opt_str(L, target, "digest", "target", &digest)) < 0 ||
	    (rc = opt_str(L, target, "mediaType", "target", &mt)) < 0)
		return rc;
	if (req && (rc = opt_str(L, req, "host", "request", &host)) < 0)
		return rc;
	return add_event(L, "target", host, repo, tag, digest, mt);
}

/* ---- Harbor ---- */

/* event_data (Default) or data (CloudEvents): resources[] + repository{}. */
static int parse_harbor_data(evlist *L, json_t *data, const char *dname)
{
	json_t *resources, *repo_obj, *res;
	const char *full = NULL, *ns = NULL, *name = NULL;
	char repo_buf[520], w[96];
	size_t i;
	int rc;

	if ((rc = opt_obj(L, data, "repository", dname, &repo_obj)) < 0)
		return rc;
	snprintf(w, sizeof(w), "%s.repository", dname);
	if (repo_obj && ((rc = opt_str(L, repo_obj, "repo_full_name", w, &full)) < 0 ||
			 (rc = opt_str(L, repo_obj, "namespace", w, &ns)) < 0 ||
			 (rc = opt_str(L, repo_obj, "name", w, &name)) < 0))
		return rc;
	if (!full && ns && name) {
		snprintf(repo_buf, sizeof(repo_buf), "%.255s/%.255s", ns, name);
		full = repo_buf;
	}
	resources = json_object_get(data, "resources");
	if (!resources || json_is_null(resources))
		return FAIL(L, dname, "a push without resources");
	if (!json_is_array(resources)) {
		snprintf(w, sizeof(w), "%s.resources", dname);
		return FAIL(L, w, "not an array");
	}
	json_array_foreach(resources, i, res) {
		const char *digest, *tag, *url, *repo = full, *path;
		char host[300], urlrepo[300];

		snprintf(w, sizeof(w), "%s.resources[%zu]", dname, i);
		if (!json_is_object(res))
			return FAIL(L, w, "not an object");
		if ((rc = opt_str(L, res, "digest", w, &digest)) < 0 ||
		    (rc = opt_str(L, res, "tag", w, &tag)) < 0 ||
		    (rc = opt_str(L, res, "resource_url", w, &url)) < 0)
			return rc;
		/* with no tag Harbor puts the digest in "tag" (and '@' in the URL) */
		if (tag && (strchr(tag, ':') || (digest && strcmp(tag, digest) == 0)))
			tag = NULL;
		path = host_of_url(url, host, sizeof(host));
		if (!repo && path) {
			/* "host/ns/name:tag" or "host/ns/name@digest" */
			size_t n = strcspn(path, "@:");
			if (n < sizeof(urlrepo)) {
				memcpy(urlrepo, path, n);
				urlrepo[n] = '\0';
				repo = urlrepo;
			}
		}
		if ((rc = add_event(L, w, host[0] ? host : NULL, repo, tag, digest, NULL)) < 0)
			return rc;
	}
	return 0;
}

static int parse_harbor(evlist *L, json_t *root)
{
	const char *type;
	json_t *data;
	int rc;

	if ((rc = opt_str(L, root, "type", "payload", &type)) < 0)
		return rc;
	if (!type)
		return FAIL(L, "type", "empty");
	if (json_object_get(root, "specversion")) {
		/* CloudEvents: "harbor.artifact.pushed" */
		if (strncmp(type, "harbor.", 7) != 0)
			return FAIL(L, "type", "CloudEvents type '%.100s' is not a Harbor event", type);
		if (strcmp(type, "harbor.artifact.pushed") != 0)
			return 0;
		if ((rc = opt_obj(L, root, "data", "payload", &data)) < 0)
			return rc;
		if (!data)
			return FAIL(L, "data", "missing in a push");
		return parse_harbor_data(L, data, "data");
	}
	if (strcmp(type, "PUSH_ARTIFACT") != 0)
		return 0; /* PULL_ARTIFACT, DELETE_ARTIFACT, SCANNING_*, QUOTA_*, REPLICATION... */
	if ((rc = opt_obj(L, root, "event_data", "payload", &data)) < 0)
		return rc;
	if (!data)
		return FAIL(L, "event_data", "missing in a push");
	return parse_harbor_data(L, data, "event_data");
}

/* ---- entry point ---- */

int dd_webhook_parse(const char *body, size_t len, const char *content_type,
		     dd_push_event **events, size_t *n, dd_error *err)
{
	evlist L = { NULL, 0, 0, "webhook", err };
	json_error_t je;
	json_t *root = NULL;
	int rc;

	*events = NULL;
	*n = 0;
	if (len > DD_WEBHOOK_MAX)
		return dd_error_set(err, DD_EINPUT, "webhook: payload of %zu bytes is over the %zu byte limit",
				    len, DD_WEBHOOK_MAX);
	if (!body || len == 0)
		return dd_error_set(err, DD_EINPUT, "webhook: empty payload");
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		rc = dd_error_set(err, DD_EINPUT, "webhook: invalid JSON at line %d column %d: %s", je.line,
				  je.column, je.text);
		goto done;
	}
	if (!json_is_object(root)) {
		rc = dd_error_set(err, DD_EINPUT, "webhook: the payload is a JSON %s, not an object%s",
				  json_is_array(root) ? "array" : "scalar",
				  json_is_array(root) ? " (Azure Event Grid batches are not supported; use an ACR webhook)" : "");
		goto done;
	}
	if (json_object_get(root, "events")) {
		L.source = "distribution";
		rc = parse_distribution(&L, root);
	} else if (json_object_get(root, "specversion") ||
		   (json_object_get(root, "type") &&
		    (json_object_get(root, "event_data") || json_object_get(root, "occur_at")))) {
		L.source = "harbor";
		rc = parse_harbor(&L, root);
	} else if (json_object_get(root, "action")) {
		L.source = "acr";
		rc = parse_acr(&L, root);
	} else {
		rc = dd_error_set(err, DD_EINPUT,
				  "webhook: not a distribution, ACR or Harbor notification "
				  "(no \"events\", \"action\" or \"type\"/\"event_data\")%s%.100s",
				  content_type ? "; content type " : "", content_type ? content_type : "");
	}
	if (rc < 0)
		goto done;
	*events = L.v;
	*n = L.n;
	L.v = NULL;
	L.n = 0;
	rc = 0;
done:
	dd_push_events_free(L.v, L.n);
	json_decref(root);
	return rc;
}
