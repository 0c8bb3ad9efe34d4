/* auth.c - see auth.h. */
#include "registry/auth.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/reader.h"
#include "util/banned.h"

#define CONFIG_MAX ((size_t)1 << 20)

static void wipe_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

void dd_cred_release(dd_cred *c)
{
	if (!c)
		return;
	wipe_free(c->username);
	wipe_free(c->password);
	wipe_free(c->identity_token);
	memset(c, 0, sizeof(*c));
}

void dd_challenge_release(dd_challenge *c)
{
	if (!c)
		return;
	free(c->realm);
	free(c->service);
	free(c->scope);
	memset(c, 0, sizeof(*c));
}

/* ---- base64 ---- */

char *dd_base64_encode(const void *p, size_t n)
{
	size_t outn = 4 * ((n + 2) / 3) + 1;
	char *out = malloc(outn);
	if (!out)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

int dd_base64_decode(const char *s, unsigned char **out, size_t *outlen)
{
	size_t n = strlen(s), pad = 0;
	unsigned char *buf;
	int r;

	*out = NULL;
	if (n % 4 || n > (1u << 20))
		return -1;
	/* Strict RFC 4648: the alphabet only, '=' only as the last one or two
	 * characters (EVP_DecodeBlock alone accepts "====" and blanks). */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '=') {
			if (i < n - 2 || (i == n - 2 && s[n - 1] != '='))
				return -1;
		} else if (!isalnum(c) && c != '+' && c != '/') {
			return -1;
		}
	}
	buf = malloc(n / 4 * 3 + 1);
	if (!buf)
		return -1;
	r = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)n);
	if (r < 0) {
		free(buf);
		return -1;
	}
	if (n && s[n - 1] == '=')
		pad++;
	if (n > 1 && s[n - 2] == '=')
		pad++;
	*outlen = (size_t)r - pad;
	buf[*outlen] = '\0';
	*out = buf;
	return 0;
}

char *dd_auth_basic_header(const char *user, const char *password)
{
	dd_buf b = DD_BUF_INIT_MAX(8192);
	char *enc, *res = NULL;
	dd_buf hdr = DD_BUF_INIT_MAX(16384);

	dd_buf_printf(&b, "%s:%s", user ? user : "", password ? password : "");
	if (b.failed) {
		dd_buf_release(&b);
		return NULL;
	}
	enc = dd_base64_encode(b.data, b.len);
	OPENSSL_cleanse(b.data, b.len);
	dd_buf_release(&b);
	if (!enc)
		return NULL;
	if (dd_buf_printf(&hdr, "Basic %s", enc) == 0)
		res = dd_buf_detach(&hdr, NULL);
	wipe_free(enc);
	dd_buf_release(&hdr);
	return res;
}

/* ---- challenges ---- */

int dd_challenge_parse(dd_challenge *out, const char *h, dd_error *err)
{
	const char *p = h;
	memset(out, 0, sizeof(*out));
	while (isspace((unsigned char)*p))
		p++;
	if (!strncasecmp(p, "Bearer", 6) && (!p[6] || isspace((unsigned char)p[6])))
		out->scheme = DD_AUTH_BEARER, p += 6;
	else if (!strncasecmp(p, "Basic", 5) && (!p[5] || isspace((unsigned char)p[5])))
		out->scheme = DD_AUTH_BASIC, p += 5;
	else
		return dd_error_set(err, DD_EINPUT, "unsupported authentication challenge '%.40s'", h);
	while (*p) {
		char key[32], *val;
		size_t kl = 0;
		dd_buf v = DD_BUF_INIT_MAX(4096);

		while (isspace((unsigned char)*p) || *p == ',')
			p++;
		if (!*p)
			break;
		while (*p && *p != '=' && *p != ',' && !isspace((unsigned char)*p)) {
			if (kl < sizeof(key) - 1)
				key[kl++] = *p;
			else
				key[0] = '\0', kl = sizeof(key) - 1; /* too long: no name we know */
			p++;
		}
		key[kl] = '\0';
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '=')
			goto bad;
		p++;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '"') {
			p++;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1])
					p++;
				dd_buf_putc(&v, *p++);
			}
			if (*p != '"') {
				dd_buf_release(&v);
				goto bad;
			}
			p++;
		} else {
			while (*p && *p != ',' && !isspace((unsigned char)*p))
				dd_buf_putc(&v, *p++);
		}
		if (v.failed) {
			dd_buf_release(&v);
			goto bad;
		}
		val = dd_buf_detach(&v, NULL);
		if (!strcasecmp(key, "realm"))
			free(out->realm), out->realm = val;
		else if (!strcasecmp(key, "service"))
			free(out->service), out->service = val;
		else if (!strcasecmp(key, "scope"))
			free(out->scope), out->scope = val;
		else
			free(val);
	}
	if (out->scheme == DD_AUTH_BEARER && (!out->realm || !*out->realm)) {
		dd_challenge_release(out);
		return dd_error_set(err, DD_EINPUT, "Bearer challenge without a realm: '%.80s'", h);
	}
	return 0;
bad:
	dd_challenge_release(out);
	return dd_error_set(err, DD_EINPUT, "malformed authentication challenge '%.80s'", h);
}

/* ---- credential stores ---- */

/* Keys in "auths" may be "host", "https://host", "https://host/v1/"... */
static int host_matches(const char *key, const char *host)
{
	const char *k = key;
	size_t hl = strlen(host);
	if (!strncmp(k, "https://", 8))
		k += 8;
	else if (!strncmp(k, "http://", 7))
		k += 7;
	if (strncmp(k, host, hl))
		return 0;
	return k[hl] == '\0' || k[hl] == '/';
}

static int is_docker_hub(const char *host)
{
	return !strcmp(host, "docker.io") || !strcmp(host, "index.docker.io") ||
	       !strcmp(host, "registry-1.docker.io");
}

static json_t *find_host(json_t *obj, const char *host)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		if (host_matches(key, host))
			return v;
		if (is_docker_hub(host) && (host_matches(key, "index.docker.io") ||
					    host_matches(key, "docker.io") ||
					    host_matches(key, "registry-1.docker.io")))
			return v;
	}
	return NULL;
}

/* Run docker-credential-NAME get with host on stdin. */
static int run_helper(dd_cred *out, const char *name, const char *host, dd_error *err)
{
	char prog[128];
	int in[2], outp[2];
	pid_t pid;
	dd_buf resp = DD_BUF_INIT;
	dd_fd_reader fr;
	dd_reader r;
	int status, rc = 0;
	json_t *j = NULL;

	for (const char *c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
			return dd_error_set(err, DD_EENV, "invalid credential helper name '%.40s'", name);
	snprintf(prog, sizeof(prog), "docker-credential-%s", name);
	if (pipe(in))
		return dd_error_set(err, DD_EENV, "pipe: %s", strerror(errno));
	if (pipe(outp)) {
		close(in[0]);
		close(in[1]);
		return dd_error_set(err, DD_EENV, "pipe: %s", strerror(errno));
	}
	pid = fork();
	if (pid < 0) {
		close(in[0]);
		close(in[1]);
		close(outp[0]);
		close(outp[1]);
		return dd_error_set(err, DD_EENV, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(outp[1], 1);
		close(in[1]);
		close(outp[0]);
		execlp(prog, prog, "get", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	{
		/* Docker Hub's helpers know it by its legacy server URL. */
		const char *server = is_docker_hub(host) ? "https://index.docker.io/v1/" : host;
		void (*old)(int) = signal(SIGPIPE, SIG_IGN);
		ssize_t wr = write(in[1], server, strlen(server));
		(void)wr;
		close(in[1]);
		signal(SIGPIPE, old);
	}
	dd_reader_from_fd(&r, &fr, outp[0], prog);
	/* (the limit must leave room for dd_reader_slurp's 64 KiB reads) */
	rc = dd_reader_slurp(&r, &resp, CONFIG_MAX, prog, err);
	close(outp[0]);
	waitpid(pid, &status, 0);
	if (rc)
		goto done;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		/* "credentials not found" is not an error: anonymous access. */
		if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
			rc = dd_error_set(err, DD_EENV, "credential helper %s not found in PATH", prog);
		goto done;
	}
	j = json_loadb(resp.data ? resp.data : "", resp.len, 0, NULL);
	if (!json_is_object(j)) {
		rc = dd_error_set(err, DD_EENV, "credential helper %s: malformed answer", prog);
		goto done;
	}
	{
		const char *u = json_string_value(json_object_get(j, "Username"));
		const char *s = json_string_value(json_object_get(j, "Secret"));
		if (u && s) {
			if (!strcmp(u, "<token>"))
				out->identity_token = strdup(s);
			else {
				out->username = strdup(u);
				out->password = strdup(s);
			}
			out->origin = "credential helper";
		}
	}
done:
	json_decref(j);
	if (resp.data)
		OPENSSL_cleanse(resp.data, resp.len);
	dd_buf_release(&resp);
	return rc;
}

static int from_auth_entry(dd_cred *out, json_t *e, const char *file, dd_error *err)
{
	const char *auth = json_string_value(json_object_get(e, "auth"));
	const char *tok = json_string_value(json_object_get(e, "identitytoken"));
	const char *u = json_string_value(json_object_get(e, "username"));
	const char *p = json_string_value(json_object_get(e, "password"));

	if (auth && *auth) {
		unsigned char *dec;
		size_t n;
		char *colon;
		if (dd_base64_decode(auth, &dec, &n) || !(colon = memchr(dec, ':', n))) {
			if (dec)
				free(dec);
			return dd_error_set(err, DD_EENV, "%s: malformed \"auth\" entry", file);
		}
		*colon = '\0';
		out->username = strdup((char *)dec);
		out->password = strdup(colon + 1);
		OPENSSL_cleanse(dec, n);
		free(dec);
	} else if (u && p) {
		out->username = strdup(u);
		out->password = strdup(p);
	}
	if (tok && *tok)
		out->identity_token = strdup(tok);
	out->origin = "auth file";
	return 0;
}

int dd_cred_parse_config(dd_cred *out, char **helper, const char *json, size_t n,
			 const char *host, const char *file, dd_error *err)
{
	json_t *j, *v, *entry;
	const char *h = NULL;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	*helper = NULL;
	j = json_loadb(json ? json : "", n, 0, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		return dd_error_set(err, DD_EENV, "%s: not a valid JSON credentials file", file);
	}
	v = json_object_get(j, "credHelpers");
	if (json_is_object(v) && (entry = find_host(v, host)))
		h = json_string_value(entry);
	if (!h)
		h = json_string_value(json_object_get(j, "credsStore"));
	if (h && *h && !(*helper = strdup(h))) {
		json_decref(j);
		return dd_error_oom(err);
	}
	entry = find_host(json_object_get(j, "auths"), host);
	if (!rc && json_is_object(entry)) {
		rc = from_auth_entry(out, entry, file, err);
		if (!rc)
			rc = (out->username || out->identity_token) ? 1 : 0;
	}
	json_decref(j);
	if (rc < 0) {
		dd_cred_release(out);
		free(*helper);
		*helper = NULL;
	}
	return rc;
}

/* 1 = found, 0 = not there, <0 error.  A credential helper named by the
 * file is asked first; the file's own "auths" entry is the fallback. */
static int lookup_file(dd_cred *out, const char *file, const char *host, dd_error *err)
{
	dd_buf b = DD_BUF_INIT;
	dd_error e2;
	dd_cred fromfile;
	char *helper = NULL;
	int rc, found;

	if (access(file, F_OK) != 0)
		return 0;
	if (dd_file_slurp(file, &b, CONFIG_MAX, &e2)) {
		dd_buf_release(&b);
		return dd_error_set(err, DD_EENV, "%s", e2.msg);
	}
	found = dd_cred_parse_config(&fromfile, &helper, b.data, b.len, host, file, err);
	if (b.data)
		OPENSSL_cleanse(b.data, b.len);
	dd_buf_release(&b);
	if (found < 0)
		return found;
	rc = 0;
	if (helper) {
		rc = run_helper(out, helper, host, err);
		if (!rc && (out->username || out->identity_token))
			rc = 1;
	}
	if (rc == 0 && found) {
		*out = fromfile;
		memset(&fromfile, 0, sizeof(fromfile));
		rc = 1;
	}
	dd_cred_release(&fromfile);
	free(helper);
	return rc;
}

int dd_cred_lookup(dd_cred *out, const char *host, dd_error *err)
{
	char path[4096];
	const char *e;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((e = getenv("REGISTRY_AUTH_FILE")) && *e) {
		if ((rc = lookup_file(out, e, host, err)))
			return rc < 0 ? rc : 0;
	}
	if ((e = getenv("XDG_RUNTIME_DIR")) && *e) {
		snprintf(path, sizeof(path), "%s/containers/auth.json", e);
		if ((rc = lookup_file(out, path, host, err)))
			return rc < 0 ? rc : 0;
	}
	if ((e = getenv("DOCKER_CONFIG")) && *e)
		snprintf(path, sizeof(path), "%s/config.json", e);
	else if ((e = getenv("HOME")) && *e)
		snprintf(path, sizeof(path), "%s/.docker/config.json", e);
	else
		return 0;
	rc = lookup_file(out, path, host, err);
	return rc < 0 ? rc : 0;
}
