/*
 * ref.h - registry image references in the docker/distribution grammar.
 *
 *   [DOMAIN[:PORT]/]PATH[:TAG][@sha256:HEX]
 *
 * Normalisation as the docker CLI does it: a first component is a domain
 * when it holds '.' or ':' or is "localhost"; otherwise the domain is
 * docker.io, and a one-component path on docker.io gets "library/".
 * "index.docker.io" is docker.io.  With neither tag nor digest the tag is
 * "latest".  A `docker://` prefix is accepted and dropped.
 *
 * Memory: dd_ref is a plain value with fixed-size fields.
 */
#ifndef DD_REGISTRY_REF_H
#define DD_REGISTRY_REF_H

#include <stddef.h>

#include "util/digest.h"
#include "util/error.h"

#define DD_REF_NAME_MAX 255

typedef struct dd_ref {
	char domain[256];   /* "docker.io", "localhost:5000", "[::1]:5000" */
	char path[256];     /* "library/alpine" */
	char tag[129];      /* "" when only a digest was given */
	dd_digest digest;   /* unset when only a tag was given */
} dd_ref;

/* Parse and normalise s; DD_EUSAGE with a message naming the bad part. */
int dd_ref_parse(dd_ref *out, const char *s, dd_error *err);

/* Canonical form "domain/path[:tag][@digest]" into buf (truncated to n). */
void dd_ref_format(const dd_ref *r, char *buf, size_t n);

/* The host to talk to: docker.io is served by registry-1.docker.io. */
const char *dd_ref_api_host(const dd_ref *r);

/* 1 when the domain is loopback: localhost, 127.0.0.0/8 or [::1]. */
int dd_ref_is_loopback(const dd_ref *r);

/* Does s look like a registry reference rather than a local path? */
int dd_ref_looks_remote(const char *s);

#endif
