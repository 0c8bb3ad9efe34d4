/*
 * http.h - the few HTTP requests a registry client makes, over libcurl.
 *
 * One dd_http per registry session keeps one curl handle, so connections
 * (and TLS sessions) are reused.  Redirects are followed here, by hand, so
 * that an Authorization header is never sent to another host than the one
 * it was meant for (blob downloads redirect to storage such as S3 or Azure
 * Blob).  TLS is always verified unless the session was made insecure.
 *
 * Two ways to receive a body: whole, into a bounded dd_buf
 * (dd_http_request), or as a pull stream (dd_http_stream_*) that hands
 * bytes to the layer walker as they arrive, never buffering a whole blob.
 *
 * Memory: dd_http_new allocates the session, dd_http_free releases it.
 * dd_http_response owns its header strings; dd_http_response_release frees
 * them.  A dd_http_stream is owned by the caller until dd_http_stream_free.
 */
#ifndef DD_REGISTRY_HTTP_H
#define DD_REGISTRY_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/reader.h"

typedef struct dd_http_opts {
	int insecure;          /* no TLS verification; plain http allowed */
	int allow_http;        /* plain http allowed (loopback registries) */
	const char *ca_file;   /* extra CA bundle (PEM) */
	const char *ca_dir;    /* directory of CA certificates */
	long connect_timeout;  /* seconds, 0 = 30 */
	int max_retries;       /* for 5xx, 429 and transport errors; 0 = default 3,
				  negative = none (a poller that backs off itself) */
} dd_http_opts;

typedef struct dd_http dd_http;

typedef struct dd_http_response {
	long status;
	char *content_type;
	char *docker_digest;      /* Docker-Content-Digest */
	char *www_authenticate;
	char *location;
	char *link;               /* Link (pagination) */
	char *etag;               /* ETag, as sent (quotes and W/ kept) */
	char *last_modified;      /* Last-Modified, as sent */
	long long content_length; /* -1 when absent */
	long retry_after;         /* seconds, -1 when absent (delay-seconds or an
				     HTTP-date, made relative to now) */
	int ratelimit_exhausted;  /* RateLimit-Remaining, X-RateLimit-Remaining or
				     RateLimit: remaining= said 0 */
	long ratelimit_reset;     /* seconds until the limit resets (RateLimit-Reset,
				     X-RateLimit-Reset as seconds or epoch time,
				     RateLimit: reset=, else a ";w=" window when
				     exhausted), -1 when unknown */
	int curl_code;            /* libcurl's code of a transport failure, else 0 */
} dd_http_response;

void dd_http_response_release(dd_http_response *r);

int dd_http_new(dd_http **out, const dd_http_opts *o, dd_error *err);
void dd_http_free(dd_http *h);

/* An extra request header ("Accept: ...").  `auth` is the Authorization
 * header value for the original host, or NULL. */
typedef struct dd_http_req {
	const char *method;      /* "GET", "HEAD", "PUT", "POST", "PATCH" */
	const char *url;
	const char *auth;        /* "Bearer x" / "Basic y": only sent to url's host */
	const char *const *headers; /* NULL-terminated, may be NULL */
	const void *body;        /* request body for PUT/POST/PATCH */
	size_t body_len;
	size_t max_body;         /* response bodies above this are refused */
	/* A streamed request body (blob uploads): read to its end, exactly
	 * upload_len bytes.  Such a request is not retried (the stream cannot
	 * be rewound); callers retry the whole upload. */
	dd_reader *upload;
	uint64_t upload_len;
} dd_http_req;

/* Perform req (following up to 5 redirects, retrying 5xx/429/resets with
 * backoff), store headers in resp and the body in body (may be NULL for
 * HEAD).  A completed exchange returns 0 whatever the status; transport
 * failures return DD_EENV. */
int dd_http_request(dd_http *h, const dd_http_req *req, dd_http_response *resp, dd_buf *body,
		    dd_error *err);

/* Streaming GET.  dd_http_stream_open performs the request up to the first
 * body bytes; on a 2xx status *out is a stream to read from (expected_len
 * is checked when >= 0).  On other statuses (a 304 answering a conditional
 * request, a 404, ...), resp tells why and *out is NULL.  req->headers
 * (e.g. "If-None-Match: ...") are sent with the first request and its
 * redirects, not with the Range requests that resume a dropped body. */
typedef struct dd_http_stream dd_http_stream;
int dd_http_stream_open(dd_http *h, const dd_http_req *req, dd_http_response *resp,
			dd_http_stream **out, dd_error *err);
void dd_http_stream_reader(dd_http_stream *s, dd_reader *r);
void dd_http_stream_free(dd_http_stream *s);

/* Is url's scheme+host+port the same as other's? */
int dd_http_same_origin(const char *a, const char *b);

#endif
