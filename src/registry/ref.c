/* ref.c - see ref.h.  Grammar from the distribution/reference package. */
#include "registry/ref.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "util/banned.h"

static int is_alnum_lower(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* path-component := [a-z0-9]+ (separator [a-z0-9]+)*
 * separator := [_.] | __ | [-]+ */
static int valid_component(const char *s, size_t n)
{
	size_t i = 0;
	if (!n || !is_alnum_lower((unsigned char)s[0]) || !is_alnum_lower((unsigned char)s[n - 1]))
		return 0;
	while (i < n) {
		if (is_alnum_lower((unsigned char)s[i])) {
			i++;
			continue;
		}
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
		} else if (s[i] == '-') {
			while (i < n && s[i] == '-')
				i++;
		} else {
			return 0;
		}
		if (i >= n || !is_alnum_lower((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

/* domain := host [:port]; host := label(.label)* | [ipv6] */
static int valid_domain(const char *s, size_t n)
{
	size_t hostlen = n;
	const char *colon;

	if (!n)
		return 0;
	if (s[0] == '[') {
		const char *end = memchr(s, ']', n);
		if (!end)
			return 0;
		for (const char *p = s + 1; p < end; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
				return 0;
		hostlen = (size_t)(end - s) + 1;
	} else {
		colon = memchr(s, ':', n);
		if (colon)
			hostlen = (size_t)(colon - s);
		size_t i = 0;
		while (i < hostlen) {
			size_t j = i;
			while (j < hostlen && s[j] != '.')
				j++;
			if (j == i || !isalnum((unsigned char)s[i]) || !isalnum((unsigned char)s[j - 1]))
				return 0;
			for (size_t k = i; k < j; k++)
				if (!isalnum((unsigned char)s[k]) && s[k] != '-')
					return 0;
			i = j + 1;
			if (j < hostlen && i >= hostlen)
				return 0;
		}
	}
	if (hostlen < n) {
		if (s[hostlen] != ':' || hostlen + 1 == n || n - hostlen - 1 > 5)
			return 0;
		for (size_t k = hostlen + 1; k < n; k++)
			if (!isdigit((unsigned char)s[k]))
				return 0;
	}
	return 1;
}

static int valid_tag(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 128)
		return 0;
	if (!isalnum((unsigned char)s[0]) && s[0] != '_')
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return 0;
	return 1;
}

static int looks_like_domain(const char *s, size_t n)
{
	return memchr(s, '.', n) || memchr(s, ':', n) || (n == 9 && !memcmp(s, "localhost", 9)) ||
	       (n && s[0] == '[');
}

int dd_ref_parse(dd_ref *out, const char *s, dd_error *err)
{
	char name[DD_REF_NAME_MAX + 1 + 256];
	const char *at, *p, *slash, *rest;
	size_t namelen;

	memset(out, 0, sizeof(*out));
	if (!strncmp(s, "docker://", 9))
		s += 9;
	if (!*s)
		return dd_error_set(err, DD_EUSAGE, "empty image reference");
	at = strchr(s, '@');
	if (at && dd_digest_parse(&out->digest, at + 1, "image reference", err))
		return DD_EUSAGE;
	namelen = at ? (size_t)(at - s) : strlen(s);
	if (namelen >= sizeof(name))
		return dd_error_set(err, DD_EUSAGE, "image reference '%.60s...' is too long", s);
	memcpy(name, s, namelen);
	name[namelen] = '\0';

	/* The tag follows the last ':' after the last '/'. */
	slash = strrchr(name, '/');
	p = strrchr(slash ? slash : name, ':');
	if (p) {
		if (!valid_tag(p + 1))
			return dd_error_set(err, DD_EUSAGE, "image reference '%s': invalid tag '%s'", s, p + 1);
		memcpy(out->tag, p + 1, strlen(p + 1) + 1);
		name[p - name] = '\0';
	}
	/* Domain? */
	slash = strchr(name, '/');
	if (slash && looks_like_domain(name, (size_t)(slash - name))) {
		size_t dn = (size_t)(slash - name);
		if (!valid_domain(name, dn) || dn >= sizeof(out->domain))
			return dd_error_set(err, DD_EUSAGE, "image reference '%s': invalid registry '%.*s'",
					    s, (int)dn, name);
		memcpy(out->domain, name, dn);
		out->domain[dn] = '\0';
		rest = slash + 1;
	} else {
		snprintf(out->domain, sizeof(out->domain), "docker.io");
		rest = name;
	}
	if (!strcmp(out->domain, "index.docker.io"))
		snprintf(out->domain, sizeof(out->domain), "docker.io");
	{
		const char *pre = (!strcmp(out->domain, "docker.io") && !strchr(rest, '/')) ? "library/" : "";
		size_t pl = strlen(pre), rl = strlen(rest);
		if (pl + rl >= sizeof(out->path))
			return dd_error_set(err, DD_EUSAGE, "image reference '%.60s...': name too long", s);
		memcpy(out->path, pre, pl);
		memcpy(out->path + pl, rest, rl + 1);
	}
	/* Validate each path component ("host/" alone has none). */
	if (!out->path[0])
		return dd_error_set(err, DD_EUSAGE, "image reference '%s': empty repository name", s);
	for (const char *c = out->path; *c;) {
		const char *e = strchr(c, '/');
		size_t n = e ? (size_t)(e - c) : strlen(c);
		if (!valid_component(c, n))
			return dd_error_set(err, DD_EUSAGE,
					    "image reference '%s': invalid repository name component '%.*s' "
					    "(lowercase letters, digits and . _ - only)", s, (int)n, c);
		c += n + (e ? 1 : 0);
		if (e && !*c)
			return dd_error_set(err, DD_EUSAGE, "image reference '%s': empty name component", s);
	}
	if (strlen(out->domain) + 1 + strlen(out->path) > DD_REF_NAME_MAX)
		return dd_error_set(err, DD_EUSAGE, "image reference '%s': name longer than %d characters",
				    s, DD_REF_NAME_MAX);
	if (!out->tag[0] && !dd_digest_is_set(&out->digest))
		snprintf(out->tag, sizeof(out->tag), "latest");
	return 0;
}

void dd_ref_format(const dd_ref *r, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s%s%s%s%s", r->domain, r->path, r->tag[0] ? ":" : "", r->tag,
		 dd_digest_is_set(&r->digest) ? "@" : "", r->digest.s);
}

const char *dd_ref_api_host(const dd_ref *r)
{
	return strcmp(r->domain, "docker.io") == 0 ? "registry-1.docker.io" : r->domain;
}

int dd_ref_is_loopback(const dd_ref *r)
{
	const char *d = r->domain;
	size_t hn = strcspn(d, ":");
	if (d[0] == '[')
		return strncmp(d, "[::1]", 5) == 0;
	if (hn == 9 && !strncmp(d, "localhost", 9))
		return 1;
	if (!strncmp(d, "127.", 4)) {
		int a, b, c;
		char tail;
		char host[64];
		if (hn >= sizeof(host))
			return 0;
		memcpy(host, d, hn);
		host[hn] = '\0';
		return sscanf(host, "127.%d.%d.%d%c", &a, &b, &c, &tail) == 3 && a >= 0 && a < 256 &&
		       b >= 0 && b < 256 && c >= 0 && c < 256;
	}
	return 0;
}

int dd_ref_looks_remote(const char *s)
{
	if (!strncmp(s, "docker://", 9))
		return 1;
	const char *slash = strchr(s, '/');
	return slash && looks_like_domain(s, (size_t)(slash - s)) && s[0] != '.' && s[0] != '/';
}
