/* digest.c - see digest.h. */
#include "util/digest.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "util/banned.h"

int dd_sha256_init(dd_sha256 *h, dd_error *err)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(c);
		h->ctx = NULL;
		return dd_error_set(err, DD_EENV, "cannot initialise SHA-256");
	}
	h->ctx = c;
	return 0;
}

void dd_sha256_update(dd_sha256 *h, const void *p, size_t n)
{
	if (h->ctx && n)
		EVP_DigestUpdate(h->ctx, p, n);
}

void dd_sha256_final(dd_sha256 *h, dd_digest *out)
{
	unsigned char md[32];
	unsigned int n = 0;
	static const char hex[] = "0123456789abcdef";

	out->s[0] = '\0';
	if (!h->ctx)
		return;
	EVP_DigestFinal_ex(h->ctx, md, &n);
	memcpy(out->s, "sha256:", 7);
	for (unsigned i = 0; i < 32; i++) {
		out->s[7 + 2 * i] = hex[md[i] >> 4];
		out->s[8 + 2 * i] = hex[md[i] & 15];
	}
	out->s[71] = '\0';
	dd_sha256_release(h);
}

void dd_sha256_release(dd_sha256 *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

int dd_digest_of(dd_digest *out, const void *p, size_t n, dd_error *err)
{
	dd_sha256 h;
	int rc = dd_sha256_init(&h, err);
	if (rc)
		return rc;
	dd_sha256_update(&h, p, n);
	dd_sha256_final(&h, out);
	return 0;
}

int dd_digest_parse(dd_digest *out, const char *s, const char *what, dd_error *err)
{
	size_t n;

	out->s[0] = '\0';
	if (!s)
		return dd_error_set(err, DD_EINPUT, "%s: missing digest", what);
	n = strlen(s);
	if (strncmp(s, "sha256:", 7) != 0) {
		const char *colon = strchr(s, ':');
		if (colon && colon - s < 16)
			return dd_error_set(err, DD_EINPUT, "%s: unsupported digest algorithm '%.*s'",
					    what, (int)(colon - s), s);
		return dd_error_set(err, DD_EINPUT, "%s: malformed digest '%.80s'", what, s);
	}
	if (n != 71)
		return dd_error_set(err, DD_EINPUT, "%s: malformed digest '%.80s'", what, s);
	for (size_t i = 7; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return dd_error_set(err, DD_EINPUT, "%s: malformed digest '%.80s'", what, s);
	}
	memcpy(out->s, s, n + 1);
	return 0;
}

const char *dd_digest_hex(const dd_digest *d)
{
	return d->s[0] ? d->s + 7 : "";
}

int dd_digest_eq(const dd_digest *a, const dd_digest *b)
{
	return a->s[0] && strcmp(a->s, b->s) == 0;
}

int dd_digest_is_set(const dd_digest *d)
{
	return d->s[0] != '\0';
}
