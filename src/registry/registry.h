/*
 * registry.h - a client for one repository on an OCI Distribution registry.
 *
 * dd_registry_new() pings /v2/ once to learn the scheme and the auth
 * challenge; every later request carries the right Authorization (Basic, or
 * a Bearer token fetched for the repository's scope and refreshed before it
 * expires) and reuses the connection.  Everything fetched is verified:
 * manifests against their digest (when asked by digest, and against
 * Docker-Content-Digest when the registry sends it), and refused above
 * 4 MiB; blobs are verified by whoever consumes the stream (the layer
 * walker) or, for small blobs, here.
 *
 * Scheme: HTTPS with verification always, except (a) registries marked
 * insecure (tls_verify = 0): TLS without verification, or plain HTTP when
 * the server does not speak TLS; (b) loopback registries (localhost,
 * 127.0.0.0/8, [::1]) that do not speak TLS at all: plain HTTP.  A
 * loopback registry that does speak TLS must present a valid certificate.
 *
 * Memory: dd_registry_new allocates; dd_registry_free releases the session.
 * Out-parameters are owned by the caller (free(), dd_buf_release).
 */
#ifndef DD_REGISTRY_REGISTRY_H
#define DD_REGISTRY_REGISTRY_H

#include "registry/http.h"
#include "registry/ref.h"
#include "util/buf.h"
#include "util/digest.h"
#include "util/error.h"
#include "util/reader.h"

typedef struct dd_registry_opts {
	const char *username;   /* explicit credentials (--username) */
	const char *password;   /* (--password-stdin) */
	int tls_verify;         /* 1 (default) or 0 = insecure */
	const char *ca_file;    /* --ca-file */
	const char *cert_dir;   /* --cert-dir (directory of CA certificates) */
	int push;               /* ask for push scope too */
	int max_retries;        /* HTTP retries of 5xx/429/resets: 0 = default (3),
				   negative = none (the caller backs off itself) */
} dd_registry_opts;

void dd_registry_opts_init(dd_registry_opts *o);

typedef struct dd_registry dd_registry;

int dd_registry_new(dd_registry **out, const dd_ref *ref, const dd_registry_opts *o,
		    dd_error *err);
void dd_registry_free(dd_registry *r);

/* The Accept header value listing every manifest type drydock reads. */
extern const char *const dd_manifest_accept;

/* GET a manifest by tag or digest ("sha256:..."); body verified, at most
 * 4 MiB.  media_type (malloc'd) from Content-Type or NULL. */
int dd_registry_get_manifest(dd_registry *r, const char *reference, dd_buf *body,
			     char **media_type, dd_digest *digest, dd_error *err);

/* HEAD a manifest: its digest (Docker-Content-Digest, or GET + sha256 when
 * the registry does not send it) and media type. */
int dd_registry_resolve(dd_registry *r, const char *reference, dd_digest *digest,
			char **media_type, dd_error *err);

/* GET a small blob (config) into body, verified against digest. */
int dd_registry_get_blob(dd_registry *r, const dd_digest *digest, size_t max, dd_buf *body,
			 dd_error *err);

/* Open a blob as a stream; the caller verifies the digest while reading
 * (the layer walker does).  Free with dd_http_stream_free. */
int dd_registry_open_blob(dd_registry *r, const dd_digest *digest, dd_http_stream **out,
			  dd_reader *reader, dd_error *err);

/* List tags (following n=/last= and Link: rel="next" pagination); cb is
 * called once per tag. */
int dd_registry_list_tags(dd_registry *r, int (*cb)(void *ctx, const char *tag), void *ctx,
			  dd_error *err);

/* The referrers of a manifest (signatures, SBOMs, attestations): GET
 * /v2/<name>/referrers/<digest>, or, on registries without that API, the
 * index tagged "sha256-<hex>" (the OCI tag schema).  artifact_type filters
 * (NULL: all).  cb is called once per referrer. */
typedef struct dd_referrer {
	const char *media_type;
	const char *artifact_type; /* may be NULL */
	dd_digest digest;
	uint64_t size;
} dd_referrer;
int dd_registry_referrers(dd_registry *r, const dd_digest *subject, const char *artifact_type,
			  int (*cb)(void *ctx, const dd_referrer *ref), void *ctx, dd_error *err);

/* ---- push ---- */

/* 1 when the registry has the blob, 0 when not. */
int dd_registry_blob_exists(dd_registry *r, const dd_digest *digest, dd_error *err);

/* Upload a blob of `size` bytes read from src: POST, then one PUT with
 * ?digest= or, above the chunk size (64 MiB; DRYDOCK_UPLOAD_CHUNK), PATCH
 * chunks streamed from src and a closing PUT.  When `mount_from` names another repository on the same
 * registry, a cross-repository mount is tried first (no bytes move).
 * The registry verifies the digest; so does the reader's owner.
 * Returns 0 when uploaded, 1 when the registry had it or mounted it. */
int dd_registry_push_blob(dd_registry *r, const dd_digest *digest, uint64_t size,
			  dd_reader *src, const char *mount_from, dd_error *err);

/* PUT a manifest or index under reference (tag or its digest). */
int dd_registry_put_manifest(dd_registry *r, const char *reference, const char *media_type,
			     const void *p, size_t n, dd_error *err);

const dd_ref *dd_registry_ref(const dd_registry *r);

/* What the last API response said (for pollers that pace themselves):
 * its HTTP status (0 when none came); how many seconds it asked the client
 * to wait: the Retry-After of a 429 or 503 (delay-seconds or HTTP-date), or,
 * when a RateLimit-Remaining / X-RateLimit-Remaining header said 0, the
 * limit's reset (0 when the registry did not say when), else -1; and the
 * number of API requests made so far (the /v2/ ping and authentication
 * retries included, token requests not). */
long dd_registry_last_status(const dd_registry *r);
long dd_registry_retry_after(const dd_registry *r);
unsigned long dd_registry_requests(const dd_registry *r);

#endif
