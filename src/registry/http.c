/* http.c - see http.h. */
#include "registry/http.h"

#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/log.h"
#include "util/banned.h"

#define MAX_REDIRECTS 5
#define STREAM_BUF (1u << 20)

struct dd_http {
	CURL *curl;
	dd_http_opts o;
	char errbuf[CURL_ERROR_SIZE];
};

void dd_http_response_release(dd_http_response *r)
{
	if (!r)
		return;
	free(r->content_type);
	free(r->docker_digest);
	free(r->www_authenticate);
	free(r->location);
	free(r->link);
	free(r->etag);
	free(r->last_modified);
	memset(r, 0, sizeof(*r));
	r->content_length = -1;
	r->retry_after = -1;
	r->ratelimit_reset = -1;
}

int dd_http_new(dd_http **out, const dd_http_opts *o, dd_error *err)
{
	static int global_done;
	dd_http *h;

	*out = NULL;
	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return dd_error_set(err, DD_EENV, "cannot initialise libcurl");
		global_done = 1;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return dd_error_oom(err);
	if (o)
		h->o = *o;
	if (!h->o.connect_timeout)
		h->o.connect_timeout = 30;
	if (!h->o.max_retries)
		h->o.max_retries = 3;
	h->curl = curl_easy_init();
	if (!h->curl) {
		free(h);
		return dd_error_set(err, DD_EENV, "cannot create an HTTP handle");
	}
	*out = h;
	return 0;
}

void dd_http_free(dd_http *h)
{
	if (!h)
		return;
	curl_easy_cleanup(h->curl);
	free(h);
}

/* ---- URLs ---- */

static char *url_part(const char *url, CURLUPart part)
{
	CURLU *u = curl_url();
	char *v = NULL, *copy = NULL;
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, part, &v, part == CURLUPART_PORT ? CURLU_DEFAULT_PORT : 0) == CURLUE_OK)
		copy = strdup(v);
	curl_free(v);
	curl_url_cleanup(u);
	return copy;
}

int dd_http_same_origin(const char *a, const char *b)
{
	static const CURLUPart parts[] = { CURLUPART_SCHEME, CURLUPART_HOST, CURLUPART_PORT };
	int same = 1;
	for (size_t i = 0; same && i < 3; i++) {
		char *x = url_part(a, parts[i]), *y = url_part(b, parts[i]);
		same = x && y && strcasecmp(x, y) == 0;
		free(x);
		free(y);
	}
	return same;
}

/* Resolve location against base; returns a malloc'd URL or NULL. */
static char *resolve_url(const char *base, const char *location)
{
	CURLU *u = curl_url();
	char *v = NULL, *copy = NULL;
	if (u && curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_URL, location, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &v, 0) == CURLUE_OK)
		copy = strdup(v);
	curl_free(v);
	curl_url_cleanup(u);
	return copy;
}

/* url for a message: without its query, which for pre-signed storage URLs
 * (blob redirects, upload locations) is a credential. */
static const char *safe_url(const char *url, char *buf, size_t n)
{
	size_t k = strcspn(url, "?#");
	snprintf(buf, n, "%.*s%s", (int)(k < n - 8 ? k : n - 8), url, url[k] ? "?..." : "");
	return buf;
}
#define SAFE_URL(u) safe_url((u), (char[600]){ 0 }, 600)

static int check_scheme(const dd_http *h, const char *url, dd_error *err)
{
	if (!strncasecmp(url, "https://", 8))
		return 0;
	if (!strncasecmp(url, "http://", 7)) {
		if (h->o.allow_http || h->o.insecure)
			return 0;
		return dd_error_set(err, DD_EENV,
				    "refusing plain HTTP to %s (mark the registry insecure with --tls-verify=false)",
				    SAFE_URL(url));
	}
	return dd_error_set(err, DD_EENV, "unsupported URL scheme in '%.200s'", SAFE_URL(url));
}

/* ---- headers ---- */

static char *trim_dup(const char *p, size_t n)
{
	while (n && isspace((unsigned char)*p)) {
		p++;
		n--;
	}
	while (n && isspace((unsigned char)p[n - 1]))
		n--;
	return dd_strndup(p, n);
}

static void set_field(char **dst, const char *v, size_t n)
{
	free(*dst);
	*dst = trim_dup(v, n);
}

struct hdr_ctx {
	dd_http_response *resp;
	int done; /* blank line seen */
	long window; /* a rate-limit ";w=" window seen, 0 none */
};

/* A header's decimal value (leading digits of the trimmed text), -1 when
 * it does not start with one. */
static long num_value(const char *t)
{
	char *end;
	long v;

	if (!t || !isdigit((unsigned char)t[0]))
		return -1;
	errno = 0;
	v = strtol(t, &end, 10);
	return errno ? -1 : v;
}

/* X-RateLimit-Reset is seconds on some registries, a Unix time on others
 * (GitHub style); a value past 2001 is taken as a time. */
static long reset_value(long v)
{
	if (v > 1000000000L) {
		long now = (long)time(NULL);
		v = v > now ? v - now : 0;
	}
	return v;
}

/* The ";w=SECONDS" window parameter of a RateLimit-* value, or 0. */
static long window_of(const char *t)
{
	const char *w = t ? strstr(t, ";w=") : NULL;
	long v = w ? num_value(w + 3) : -1;
	return v > 0 ? v : 0;
}

/* The structured "RateLimit: limit=100, remaining=0, reset=30" form (and
 * the later drafts' "RateLimit: \"policy\";r=0;t=30"). */
static void ratelimit_fields(dd_http_response *r, const char *t)
{
	for (const char *p = t; p && *p;) {
		while (*p == ' ' || *p == ',' || *p == ';')
			p++;
		if ((!strncasecmp(p, "remaining=", 10) && num_value(p + 10) == 0) ||
		    (!strncasecmp(p, "r=", 2) && num_value(p + 2) == 0))
			r->ratelimit_exhausted = 1;
		else if (!strncasecmp(p, "reset=", 6) && num_value(p + 6) >= 0)
			r->ratelimit_reset = num_value(p + 6);
		else if (!strncasecmp(p, "t=", 2) && num_value(p + 2) >= 0)
			r->ratelimit_reset = num_value(p + 2);
		p = strpbrk(p, ",;");
	}
}

static size_t header_cb(char *buf, size_t size, size_t nitems, void *ud)
{
	struct hdr_ctx *hc = ud;
	dd_http_response *r = hc->resp;
	size_t n = size * nitems;
	const char *colon;

	if (n >= 5 && !strncmp(buf, "HTTP/", 5)) {
		/* A new response (after 100-continue, or a redirect hop). */
		dd_http_response_release(r);
		hc->done = 0;
		hc->window = 0;
		return n;
	}
	if (n <= 2 && (buf[0] == '\r' || buf[0] == '\n')) {
		hc->done = 1;
		if (r->ratelimit_exhausted && r->ratelimit_reset < 0 && hc->window)
			r->ratelimit_reset = hc->window;
		return n;
	}
	colon = memchr(buf, ':', n);
	if (!colon)
		return n;
	size_t kl = (size_t)(colon - buf), vl = n - kl - 1;
	const char *v = colon + 1;
#define IS(name) (kl == sizeof(name) - 1 && !strncasecmp(buf, name, kl))
	if (IS("Content-Type"))
		set_field(&r->content_type, v, vl);
	else if (IS("Docker-Content-Digest"))
		set_field(&r->docker_digest, v, vl);
	else if (IS("WWW-Authenticate"))
		set_field(&r->www_authenticate, v, vl);
	else if (IS("Location"))
		set_field(&r->location, v, vl);
	else if (IS("Link"))
		set_field(&r->link, v, vl);
	else if (IS("ETag"))
		set_field(&r->etag, v, vl);
	else if (IS("Last-Modified"))
		set_field(&r->last_modified, v, vl);
	else if (IS("Content-Length")) {
		char *t = trim_dup(v, vl);
		r->content_length = t ? strtoll(t, NULL, 10) : -1;
		free(t);
	} else if (IS("Retry-After")) {
		char *t = trim_dup(v, vl);
		if (t && isdigit((unsigned char)t[0])) {
			r->retry_after = num_value(t);
		} else if (t && t[0]) { /* an HTTP-date */
			time_t when = curl_getdate(t, NULL), now = time(NULL);
			if (when != (time_t)-1)
				r->retry_after = when > now ? (long)(when - now) : 0;
		}
		free(t);
	} else if (IS("RateLimit-Remaining") || IS("X-RateLimit-Remaining")) {
		char *t = trim_dup(v, vl);
		if (num_value(t) == 0)
			r->ratelimit_exhausted = 1;
		if (window_of(t))
			hc->window = window_of(t);
		free(t);
	} else if (IS("RateLimit-Reset")) {
		char *t = trim_dup(v, vl);
		if (num_value(t) >= 0)
			r->ratelimit_reset = num_value(t);
		free(t);
	} else if (IS("X-RateLimit-Reset")) {
		char *t = trim_dup(v, vl);
		if (num_value(t) >= 0)
			r->ratelimit_reset = reset_value(num_value(t));
		free(t);
	} else if (IS("RateLimit")) {
		char *t = trim_dup(v, vl);
		ratelimit_fields(r, t);
		free(t);
	}
#undef IS
	return n;
}

/* ---- whole-body requests ---- */

struct body_ctx {
	dd_buf *body;
	size_t max;
	int too_big;
};

static size_t body_cb(char *p, size_t size, size_t nm, void *ud)
{
	struct body_ctx *bc = ud;
	size_t n = size * nm;
	if (!bc->body)
		return n;
	if (bc->body->len + n > bc->max || dd_buf_append(bc->body, p, n)) {
		bc->too_big = 1;
		return 0;
	}
	return n;
}

struct upload_ctx {
	dd_reader *r;
	dd_error err;
	int failed;
};

static size_t upload_cb(char *p, size_t size, size_t nm, void *ud)
{
	struct upload_ctx *u = ud;
	ssize_t n = dd_reader_read(u->r, p, size * nm, &u->err);
	if (n < 0) {
		u->failed = 1;
		return CURL_READFUNC_ABORT;
	}
	return (size_t)n;
}

static struct curl_slist *build_headers(const dd_http_req *req, const char *auth)
{
	struct curl_slist *l = NULL, *t;

	for (const char *const *hp = req->headers; hp && *hp; hp++) {
		t = curl_slist_append(l, *hp);
		if (!t)
			goto oom;
		l = t;
	}
	if (auth) {
		/* tokens can be long (several KiB): no fixed-size line */
		dd_buf line = DD_BUF_INIT_MAX((size_t)2 << 20);
		dd_buf_printf(&line, "Authorization: %s", auth);
		t = line.failed ? NULL : curl_slist_append(l, dd_buf_cstr(&line));
		if (line.data)
			memset(line.data, 0, line.len);
		dd_buf_release(&line);
		if (!t)
			goto oom;
		l = t;
	}
	/* No "Expect: 100-continue" round trips on uploads. */
	t = curl_slist_append(l, "Expect:");
	if (!t)
		goto oom;
	return t;
oom:
	curl_slist_free_all(l);
	return NULL;
}

static void common_opts(dd_http *h, CURL *c, const char *url, const char *method,
			struct curl_slist *hdrs, struct hdr_ctx *hc)
{
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, hc);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, h->o.connect_timeout);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "drydock/" DD_VERSION);
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 256L * 1024);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	if (h->o.insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	} else {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	}
	if (h->o.ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->o.ca_file);
	if (h->o.ca_dir)
		curl_easy_setopt(c, CURLOPT_CAPATH, h->o.ca_dir);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET"))
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
}

static int retryable_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

static int retryable_status(long s)
{
	return s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

static void backoff(int attempt, long retry_after)
{
	long ms = 250L << (attempt < 5 ? attempt : 5);
	if (retry_after >= 0)
		ms = (retry_after > 60 ? 60 : retry_after) * 1000L;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static const char *curl_msg(dd_http *h, CURLcode rc)
{
	return h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc);
}

int dd_http_request(dd_http *h, const dd_http_req *req, dd_http_response *resp, dd_buf *body,
		    dd_error *err)
{
	char *url = strdup(req->url), *next;
	const char *method = req->method;
	const char *auth = req->auth;
	int rc = 0, attempt = 0;

	memset(resp, 0, sizeof(*resp));
	dd_http_response_release(resp);
	if (!url)
		return dd_error_oom(err);
	for (int hop = 0;; hop++) {
		struct hdr_ctx hc = { resp, 0 };
		struct body_ctx bc = { body, req->max_body ? req->max_body : ((size_t)64 << 20), 0 };
		struct curl_slist *hdrs;
		CURLcode cr;

		if ((rc = check_scheme(h, url, err)))
			break;
		hdrs = build_headers(req, auth);
		if (!hdrs) {
			rc = dd_error_oom(err);
			break;
		}
		if (body)
			dd_buf_reset(body);
		dd_http_response_release(resp);
		h->errbuf[0] = '\0';
		common_opts(h, h->curl, url, method, hdrs, &hc);
		curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, body_cb);
		curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &bc);
		struct upload_ctx uc = { req->upload, DD_ERROR_INIT, 0 };
		if (req->upload) {
			curl_easy_setopt(h->curl, CURLOPT_UPLOAD, 1L);
			curl_easy_setopt(h->curl, CURLOPT_READFUNCTION, upload_cb);
			curl_easy_setopt(h->curl, CURLOPT_READDATA, &uc);
			curl_easy_setopt(h->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->upload_len);
			curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, method);
		} else if (req->body && strcmp(method, "GET") && strcmp(method, "HEAD")) {
			curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, req->body);
			curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		} else if (!strcmp(method, "PUT") || !strcmp(method, "POST") || !strcmp(method, "PATCH")) {
			curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, "");
			curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
		}
		cr = curl_easy_perform(h->curl);
		curl_slist_free_all(hdrs);
		if (uc.failed) {
			rc = dd_error_set(err, uc.err.code ? uc.err.code : DD_EENV, "%s", uc.err.msg);
			break;
		}
		if (bc.too_big) {
			rc = dd_error_set(err, DD_EINPUT, "%s: response body larger than %zu bytes",
					  SAFE_URL(url), bc.max);
			break;
		}
		if (cr != CURLE_OK) {
			if (retryable_curl(cr) && attempt < h->o.max_retries && !req->upload) {
				dd_debug("%s: %s; retrying", SAFE_URL(url), curl_msg(h, cr));
				backoff(attempt++, -1);
				hop--;
				continue;
			}
			rc = dd_error_set(err, DD_EENV, "%s: %s", SAFE_URL(url), curl_msg(h, cr));
			resp->curl_code = (int)cr;
			break;
		}
		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
		if (retryable_status(resp->status) && attempt < h->o.max_retries && !req->upload) {
			dd_debug("%s: HTTP %ld; retrying", SAFE_URL(url), resp->status);
			backoff(attempt++, resp->retry_after);
			hop--;
			continue;
		}
		if (resp->status >= 300 && resp->status < 400 && resp->status != 304 && resp->location) {
			if (hop >= MAX_REDIRECTS) {
				rc = dd_error_set(err, DD_EENV, "%s: too many redirects", SAFE_URL(req->url));
				break;
			}
			next = resolve_url(url, resp->location);
			if (!next) {
				rc = dd_error_set(err, DD_EINPUT, "%s: bad redirect location", SAFE_URL(url));
				break;
			}
			if (!dd_http_same_origin(url, next))
				auth = NULL; /* never forward credentials to another host */
			if (resp->status == 303)
				method = "GET";
			free(url);
			url = next;
			continue;
		}
		break;
	}
	free(url);
	return rc;
}

/* ---- streaming ---- */

struct dd_http_stream {
	dd_http *h;
	CURLM *multi;
	CURL *easy;
	struct curl_slist *hdrs;
	struct hdr_ctx hc;
	dd_http_response *resp;
	char *url;
	char *orig_url;          /* the request's URL, to start over after a reset */
	char *auth;              /* its Authorization value (a copy), or NULL */
	unsigned char *buf;
	size_t len, off;
	int paused, done, resumes;
	CURLcode result;
	unsigned long long pos;  /* offset in the whole body of the next byte */
	unsigned long long skip; /* bytes to drop (a resume answered 200, not 206) */
	unsigned long long from; /* offset the current request starts at */
	long long expect;        /* length of the whole body, -1 when unknown */
	const char *const *req_hdrs; /* the caller's headers, during open only */
	dd_http_response tail;   /* headers arriving after open (trailers) */
};

static size_t stream_cb(char *p, size_t size, size_t nm, void *ud)
{
	dd_http_stream *s = ud;
	size_t n = size * nm, drop = 0;

	if (s->skip) {
		drop = s->skip < n ? (size_t)s->skip : n;
		if (STREAM_BUF - s->len < n - drop && s->off) {
			memmove(s->buf, s->buf + s->off, s->len - s->off);
			s->len -= s->off;
			s->off = 0;
		}
		if (STREAM_BUF - s->len < n - drop) {
			s->paused = 1;
			return CURL_WRITEFUNC_PAUSE;
		}
		s->skip -= drop;
		memcpy(s->buf + s->len, p + drop, n - drop);
		s->len += n - drop;
		s->pos += n;
		return n;
	}
	if (STREAM_BUF - s->len < n && s->off) {
		memmove(s->buf, s->buf + s->off, s->len - s->off);
		s->len -= s->off;
		s->off = 0;
	}
	if (STREAM_BUF - s->len < n) {
		s->paused = 1;
		return CURL_WRITEFUNC_PAUSE;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	s->pos += n;
	return n;
}

/* Drive the transfer once; sets done when it completed. */
static void stream_step(dd_http_stream *s, int wait)
{
	int running = 0, q;
	CURLMsg *m;

	if (s->paused) {
		s->paused = 0;
		curl_easy_pause(s->easy, CURLPAUSE_CONT);
	}
	curl_multi_perform(s->multi, &running);
	while ((m = curl_multi_info_read(s->multi, &q))) {
		if (m->msg == CURLMSG_DONE) {
			s->done = 1;
			s->result = m->data.result;
		}
	}
	if (!s->done && wait && s->len == s->off)
		curl_multi_poll(s->multi, NULL, 0, 1000, NULL);
}

static void stream_detach(dd_http_stream *s)
{
	if (s->easy) {
		curl_multi_remove_handle(s->multi, s->easy);
		curl_easy_cleanup(s->easy);
		s->easy = NULL;
	}
	curl_slist_free_all(s->hdrs);
	s->hdrs = NULL;
}

/* Start one hop: returns 0 when headers arrived (or transfer ended). */
static int stream_start(dd_http_stream *s, const char *auth, const char *range, dd_error *err)
{
	dd_http *h = s->h;
	const char *extra[17] = { NULL };
	size_t ne = 0;
	if (range)
		extra[ne++] = range;
	for (size_t i = 0; s->req_hdrs && s->req_hdrs[i] && ne < 16; i++)
		extra[ne++] = s->req_hdrs[i];
	s->hdrs = build_headers(&(dd_http_req){ .method = "GET", .url = s->url, .headers = extra }, auth);
	s->easy = curl_easy_init();
	if (!s->hdrs || !s->easy)
		return dd_error_oom(err);
	s->hc.resp = s->resp;
	s->hc.done = 0;
	s->len = s->off = 0;
	s->done = s->paused = 0;
	s->pos = s->from; /* bodies of 5xx answers and redirects are not the blob */
	dd_http_response_release(s->resp);
	common_opts(h, s->easy, s->url, "GET", s->hdrs, &s->hc);
	curl_easy_setopt(s->easy, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, stream_cb);
	curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
	curl_multi_add_handle(s->multi, s->easy);
	while (!s->hc.done && !s->done)
		stream_step(s, 1);
	/* After headers, make sure at least the status is known. */
	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->resp->status);
	return 0;
}

/* Perform the GET (redirects, retries) up to the body.  from > 0 asks for
 * the body from that offset on (a resume after a dropped connection). */
static int stream_connect(dd_http_stream *s, unsigned long long from, dd_error *err)
{
	dd_http *h = s->h;
	dd_http_response *resp = s->resp;
	const char *auth = s->auth;
	char range[64];
	int rc = 0, attempt = 0;

	snprintf(range, sizeof(range), "Range: bytes=%llu-", from);
	s->from = from;
	for (int hop = 0;; hop++) {
		if ((rc = check_scheme(h, s->url, err)) ||
		    (rc = stream_start(s, auth, from ? range : NULL, err)))
			break;
		if (s->done && s->result != CURLE_OK && s->len == 0) {
			if (retryable_curl(s->result) && attempt < h->o.max_retries) {
				stream_detach(s);
				backoff(attempt++, -1);
				hop--;
				continue;
			}
			rc = dd_error_set(err, DD_EENV, "%s: %s", SAFE_URL(s->url), curl_easy_strerror(s->result));
			resp->curl_code = (int)s->result;
			break;
		}
		if (retryable_status(resp->status) && attempt < h->o.max_retries) {
			stream_detach(s);
			backoff(attempt++, resp->retry_after);
			hop--;
			continue;
		}
		if (resp->status >= 300 && resp->status < 400 && resp->location) {
			char *next;
			if (hop >= MAX_REDIRECTS) {
				rc = dd_error_set(err, DD_EENV, "%s: too many redirects", SAFE_URL(s->orig_url));
				break;
			}
			next = resolve_url(s->url, resp->location);
			if (!next) {
				rc = dd_error_set(err, DD_EINPUT, "%s: bad redirect location", SAFE_URL(s->url));
				break;
			}
			if (!dd_http_same_origin(s->url, next))
				auth = NULL; /* never forward credentials to another host */
			stream_detach(s);
			free(s->url);
			s->url = next;
			continue;
		}
		break;
	}
	return rc;
}

int dd_http_stream_open(dd_http *h, const dd_http_req *req, dd_http_response *resp,
			dd_http_stream **out, dd_error *err)
{
	dd_http_stream *s;
	int rc;

	*out = NULL;
	memset(resp, 0, sizeof(*resp));
	dd_http_response_release(resp);
	s = calloc(1, sizeof(*s));
	if (!s || !(s->buf = malloc(STREAM_BUF)) || !(s->multi = curl_multi_init()) ||
	    !(s->url = strdup(req->url)) || !(s->orig_url = strdup(req->url)) ||
	    (req->auth && !(s->auth = strdup(req->auth)))) {
		dd_http_stream_free(s);
		return dd_error_oom(err);
	}
	s->h = h;
	s->resp = resp;
	s->expect = -1;
	s->req_hdrs = req->headers;
	rc = stream_connect(s, 0, err);
	s->req_hdrs = NULL;
	if (rc || resp->status < 200 || resp->status >= 300) {
		s->resp = NULL;
		dd_http_stream_free(s);
		return rc;
	}
	s->expect = resp->content_length;
	s->resp = NULL;
	s->hc.resp = &s->tail; /* resp belongs to the caller, who may release it */
	*out = s;
	return 0;
}

/* The connection dropped after `pos` bytes: start over from there (a Range
 * request; a server that ignores Range sends it all and the first pos bytes
 * are dropped).  The response is kept in the stream, not the caller's. */
static int stream_resume(dd_http_stream *s, dd_error *err)
{
	dd_http_response r2;
	unsigned long long from = s->pos + s->skip;
	int rc;

	memset(&r2, 0, sizeof(r2));
	dd_http_response_release(&r2);
	stream_detach(s);
	backoff(s->resumes++, -1);
	free(s->url);
	if (!(s->url = strdup(s->orig_url)))
		return dd_error_oom(err);
	s->resp = &r2;
	s->pos = from;
	s->skip = 0;
	rc = stream_connect(s, from, err);
	if (!rc && r2.status == 206) {
		s->skip = 0;
	} else if (!rc && r2.status == 200) {
		s->skip = from;
		s->pos = 0;
		/* bytes that arrived during stream_connect were not skipped */
		if (s->len) {
			unsigned long long d = s->len < from ? s->len : from;
			memmove(s->buf, s->buf + d, s->len - d);
			s->len -= d;
			s->skip -= d;
			s->pos = from - s->skip;
			if (s->skip == 0)
				s->pos = from + s->len;
		}
	} else if (!rc) {
		rc = dd_error_set(err, DD_EENV, "%s: resuming the download at byte %llu: HTTP %ld",
				  SAFE_URL(s->orig_url), from, r2.status);
	}
	s->resp = NULL;
	s->hc.resp = &s->tail;
	dd_http_response_release(&r2);
	return rc;
}

static ssize_t stream_read(void *ctx, void *buf, size_t n, dd_error *err)
{
	dd_http_stream *s = ctx;
	size_t k;

	while (s->len == s->off) {
		if (s->done) {
			if (s->result != CURLE_OK && retryable_curl(s->result) &&
			    s->resumes < s->h->o.max_retries) {
				dd_debug("%s: %s after %llu bytes; resuming", SAFE_URL(s->orig_url),
					 curl_easy_strerror(s->result), s->pos);
				int rc = stream_resume(s, err);
				if (rc)
					return rc;
				continue;
			}
			if (s->result != CURLE_OK)
				return dd_error_set(err, DD_EENV, "%s: download interrupted after %llu bytes: %s",
						    SAFE_URL(s->url), s->pos, curl_easy_strerror(s->result));
			if (s->expect >= 0 && s->pos != (unsigned long long)s->expect)
				return dd_error_set(err, DD_EINPUT, "%s: got %llu bytes, expected %lld",
						    SAFE_URL(s->url), s->pos, s->expect);
			return 0;
		}
		s->len = s->off = 0;
		stream_step(s, 1);
	}
	k = s->len - s->off;
	if (k > n)
		k = n;
	memcpy(buf, s->buf + s->off, k);
	s->off += k;
	return (ssize_t)k;
}

void dd_http_stream_reader(dd_http_stream *s, dd_reader *r)
{
	r->read = stream_read;
	r->ctx = s;
}

void dd_http_stream_free(dd_http_stream *s)
{
	if (!s)
		return;
	stream_detach(s);
	if (s->multi)
		curl_multi_cleanup(s->multi);
	free(s->buf);
	free(s->url);
	free(s->orig_url);
	dd_http_response_release(&s->tail);
	if (s->auth) {
		memset(s->auth, 0, strlen(s->auth));
		free(s->auth);
	}
	free(s);
}
