/*
 * auth.h - registry credentials and the authentication handshake.
 *
 * Credentials are looked up the way docker, podman and skopeo do:
 *   1. explicit --username / --password-stdin;
 *   2. ${REGISTRY_AUTH_FILE}, ${XDG_RUNTIME_DIR}/containers/auth.json;
 *   3. $DOCKER_CONFIG/config.json or ~/.docker/config.json: "auths"
 *      (base64 "auth", or "identitytoken"), "credHelpers" and "credsStore"
 *      (running `docker-credential-NAME get`, host on stdin, JSON out).
 * Challenges: `WWW-Authenticate: Basic realm=...` and `Bearer realm=...,
 * service=..., scope=...` (the token server answers {"token"} or
 * {"access_token"}, with "expires_in").
 *
 * Secrets never appear in messages: errors name the registry and the user,
 * never a password or token.
 *
 * Memory: dd_cred owns its strings; dd_cred_release frees (and wipes) them.
 * dd_challenge likewise with dd_challenge_release.
 */
#ifndef DD_REGISTRY_AUTH_H
#define DD_REGISTRY_AUTH_H

#include "util/error.h"

typedef struct dd_cred {
	char *username;
	char *password;
	char *identity_token; /* OAuth2 refresh token from `docker login` */
	const char *origin;   /* "config.json", "credential helper ecr-login", ... */
} dd_cred;

void dd_cred_release(dd_cred *c);

/* Look up credentials for registry domain `host` (e.g. "docker.io",
 * "localhost:5000").  Returns 0 with an empty dd_cred when none are found;
 * an unreadable or malformed config file is DD_EENV naming the file. */
int dd_cred_lookup(dd_cred *out, const char *host, dd_error *err);

/* Parse the contents of one credentials file (config.json or auth.json,
 * n bytes; `file` names it in messages) for `host`, running nothing: fills
 * out from the "auths" entry and sets *helper (malloc'd, or NULL) to the
 * credential helper to ask first ("credHelpers" for host, else
 * "credsStore").  Returns 1 when out holds credentials, 0 when not,
 * DD_EENV when malformed. */
int dd_cred_parse_config(dd_cred *out, char **helper, const char *json, size_t n,
			 const char *host, const char *file, dd_error *err);

typedef struct dd_challenge {
	enum { DD_AUTH_NONE, DD_AUTH_BASIC, DD_AUTH_BEARER } scheme;
	char *realm;
	char *service;
	char *scope;
} dd_challenge;

void dd_challenge_release(dd_challenge *c);

/* Parse a WWW-Authenticate value (quoted strings with escapes, several
 * parameters, case-insensitive scheme).  DD_EINPUT when malformed. */
int dd_challenge_parse(dd_challenge *out, const char *header, dd_error *err);

/* "Basic base64(user:password)" into a new string. */
char *dd_auth_basic_header(const char *user, const char *password);

/* Base64 encode / decode helpers (standard alphabet, padding). */
char *dd_base64_encode(const void *p, size_t n);
int dd_base64_decode(const char *s, unsigned char **out, size_t *outlen);

#endif
