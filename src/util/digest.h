/*
 * digest.h - content digests ("sha256:<64 hex>") and a streaming SHA-256.
 *
 * Digests are kept as their canonical string form in a fixed-size value, so
 * they can be copied and compared without allocation.
 *
 * Memory: dd_sha256 holds an OpenSSL context; dd_sha256_init() allocates it,
 * dd_sha256_final() or dd_sha256_release() frees it.  dd_digest is a value.
 */
#ifndef DD_UTIL_DIGEST_H
#define DD_UTIL_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define DD_DIGEST_MAX 72 /* "sha256:" + 64 hex + NUL */

typedef struct dd_digest {
	char s[DD_DIGEST_MAX]; /* "" when unset */
} dd_digest;

typedef struct dd_sha256 {
	void *ctx; /* EVP_MD_CTX */
} dd_sha256;

int dd_sha256_init(dd_sha256 *h, dd_error *err);
void dd_sha256_update(dd_sha256 *h, const void *p, size_t n);
/* Writes "sha256:<hex>" into out and releases the context. */
void dd_sha256_final(dd_sha256 *h, dd_digest *out);
void dd_sha256_release(dd_sha256 *h);

/* One-shot digest of a memory block. */
int dd_digest_of(dd_digest *out, const void *p, size_t n, dd_error *err);

/* Validate and copy a digest string.  Only sha256 is accepted (the only
 * algorithm registries use); anything else, or malformed hex, is DD_EINPUT
 * with a message naming `what`. */
int dd_digest_parse(dd_digest *out, const char *s, const char *what, dd_error *err);

/* The 64 hex characters after "sha256:" (for blob paths). */
const char *dd_digest_hex(const dd_digest *d);

int dd_digest_eq(const dd_digest *a, const dd_digest *b);
int dd_digest_is_set(const dd_digest *d);

#endif
