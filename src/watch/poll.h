/*
 * poll.h - cheap change detection for tracked tags (docs/polling.md).
 *
 * One HEAD per tag and poll when nothing changed: HEAD
 * /v2/<repo>/manifests/<tag> with the full Accept list, compared with the
 * digest seen last time.  Only when the digest moved and the tag names a
 * multi-platform index is the index fetched (by digest, so it is the one
 * the HEAD saw), and its per-platform manifest digests reported, so the
 * caller tells "a platform was added to the index" (nothing to rebuild)
 * from "the linux/amd64 image changed" (rebuild): dd_poll_needs_rebuild().
 *
 * A session keeps one registry client per repository (connections and
 * bearer tokens reused across polls), with per-registry settings from the
 * fleet file (credentials by reference: an environment variable or a file,
 * read when the repository is first polled).  The client never sleeps on a
 * 429 or 503: the check fails at once with DD_EENV and the result says how
 * long the registry asked to wait; the caller backs off per registry.
 * dd_poll_next_delay() spreads polls (interval with uniform jitter).
 *
 * Memory: dd_poll_session_new() allocates the session, dd_poll_session_free()
 * releases it (and every cached client).  The registries array it is given
 * is borrowed and must outlive it.  dd_poll_check() fills a caller-owned
 * dd_poll_result whose strings it allocates; dd_poll_result_release() frees
 * them.  A session is not thread-safe: one per polling thread.
 */
#ifndef DD_WATCH_POLL_H
#define DD_WATCH_POLL_H

#include <stddef.h>

#include "util/error.h"
#include "watch/fleet.h"

typedef struct dd_poll_session dd_poll_session;

/* The most repositories a session keeps clients for; beyond, the least
 * recently polled one is closed (and logs in again when polled again). */
#define DD_POLL_MAX_CLIENTS 128

typedef struct dd_poll_target {
	const char *registry_ref;        /* "127.0.0.1:5000/base:12" (a tag is required) */
	const char *const *platforms;    /* "linux/amd64"...; n_platforms 0 = every platform */
	size_t n_platforms;
	const char *known_digest;        /* last seen top-level digest, or NULL */
} dd_poll_target;

typedef struct dd_poll_platform {
	char *platform; /* as asked ("linux/arm64"), or the index's "os/arch[/variant]" */
	char *digest;   /* its manifest digest; NULL when the index has none for it */
} dd_poll_platform;

typedef struct dd_poll_result {
	char *digest;       /* the tag's digest now ("sha256:..."), NULL on failure */
	char *media_type;   /* its media type (Content-Type), or NULL */
	int changed;        /* 1: digest differs from known_digest (or none was known) */
	int is_index;       /* 1: the tag names an index (platforms were read when changed) */
	dd_poll_platform *platforms; /* when changed and an index: the wanted platforms
					(in the order asked) or every real platform
					(attestation entries "unknown/unknown" left out) */
	size_t n_platforms;
	long retry_after;   /* seconds the registry asked us to wait (429/503
			       Retry-After, or a rate limit's reset when
			       remaining = 0), 0 if none */
	int throttled;      /* 1: a 429 or 503, or a rate limit at 0 (retry_after
			       may still be 0 when the registry did not say) */
	long status;        /* HTTP status of the last response, 0 when none came */
	unsigned requests;  /* HTTP requests this check made (the /v2/ ping and
			       auth retries of a new client included) */
} dd_poll_result;

/*
 * A session polling with the settings of registries[0..n) (matched to a
 * reference by host: "127.0.0.1:5000", "ghcr.io"; NULL/0: defaults for
 * every registry, i.e. docker credential helpers and config files, TLS
 * verified except on loopback).
 */
int dd_poll_session_new(dd_poll_session **out, const dd_fleet_registry *registries, size_t n,
			dd_error *err);
void dd_poll_session_free(dd_poll_session *s);

/* HTTP requests made by the session so far (every check, every client). */
unsigned long dd_poll_requests(const dd_poll_session *s);

/*
 * Check one tag.  *out is always initialised (release it either way).
 * Returns 0 with out->digest and out->changed; DD_EINPUT for a bad
 * reference, a missing tag (HTTP 404) or a malformed index; DD_EENV for
 * network failures, authentication failures, and a 429/503 (out->throttled
 * = 1, out->retry_after set).  A 200 that says the rate limit is used up
 * returns 0 with throttled = 1 and retry_after set: the answer is good, the
 * next request would not be.
 */
int dd_poll_check(dd_poll_session *s, const dd_poll_target *t, dd_poll_result *out, dd_error *err);
void dd_poll_result_release(dd_poll_result *r);

/*
 * Does a change need a rebuild?  r is a changed result, known the
 * per-platform digests stored from the previous one (n_known 0 when the
 * previous digest was a single manifest or nothing is stored).
 *   - a single manifest (not an index) that changed: 1;
 *   - an index: 1 when a platform present in both has another digest; a
 *     platform that appeared or disappeared alone is not a rebuild;
 *   - an index where nothing was known per platform (first poll, or the
 *     tag used to name a single manifest): 1.
 * An unchanged result is 0.
 */
int dd_poll_needs_rebuild(const dd_poll_result *r, const dd_poll_platform *known, size_t n_known);

/*
 * The per-platform digests of an image index (OCI index or Docker manifest
 * list) of len bytes: for each of want[0..n_want) the best-matching entry
 * (dd_platform_match; arm64 = arm64/v8), or, with n_want 0, every entry
 * with a platform other than unknown/unknown.  *out (n_out entries) is
 * allocated; free with dd_poll_platforms_free().  DD_EINPUT on a malformed
 * index (message names the entry), DD_EUSAGE on a malformed wanted platform.
 */
int dd_poll_platforms_of(const char *index, size_t len, const char *const *want, size_t n_want,
			 dd_poll_platform **out, size_t *n_out, dd_error *err);
void dd_poll_platforms_free(dd_poll_platform *p, size_t n);

/*
 * Seconds until the next poll: interval_s with uniform jitter of
 * +-jitter_pct percent (capped at 100), drawn from a generator seeded with
 * seed (the same seed gives the same delay; vary it per tag and round).
 * Never negative.
 */
double dd_poll_next_delay(unsigned interval_s, unsigned jitter_pct, unsigned long seed);

#endif
