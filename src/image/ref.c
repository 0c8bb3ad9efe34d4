/* ref.c - image references and platforms; see image.h and docs/images.md. */
#include "image/internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "registry/ref.h"
#include "util/banned.h"

#define REF_MAX 4096
#define ACCEPTED "use oci:PATH[:TAG|@DIGEST], docker-archive:PATH[:NAME:TAG|:@N], rootfs:PATH or a " \
	"registry reference [docker://]HOST/NAME[:TAG|@DIGEST]"

/* Transports other tools (skopeo, podman) know and drydock does not read. */
static const char *const other_transports[] = {
	"docker-daemon", "containers-storage", "dir", "oci-archive", "ostree", "sif", "tarball",
};

/* ---- docker names ---- */

/* NAME[:TAG] normalised by the registry grammar (registry/ref.h). */
char *dd_srcref_docker_name(const char *s)
{
	dd_ref r;
	char buf[sizeof(r.domain) + sizeof(r.path) + sizeof(r.tag) + 2];

	if (strchr(s, '@') || !strncmp(s, "docker://", 9) || dd_ref_parse(&r, s, NULL))
		return NULL;
	snprintf(buf, sizeof(buf), "%s/%s:%s", r.domain, r.path, r.tag);
	return dd_strdup(buf);
}

/* ---- transport references ---- */

void dd_srcref_release(dd_srcref *r)
{
	if (!r)
		return;
	free(r->path);
	free(r->tag);
	free(r->alt_path);
	free(r->alt_tag);
	r->path = r->tag = r->alt_path = r->alt_tag = NULL;
}

static int printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int set_path(dd_srcref *out, const char *s, size_t n, const char *ref, dd_error *err)
{
	if (n == 0)
		return dd_error_set(err, DD_EUSAGE, "image reference '%s': empty path", ref);
	out->path = dd_strndup(s, n);
	return out->path ? 0 : dd_error_oom(err);
}

/* skopeo splits oci:PATH:TAG at the first ':'; keep that reading as the
 * alternative when it differs from ours (a tag holding ':' or '/'). */
static int set_alt(dd_srcref *out, const char *rest, size_t plen, dd_error *err)
{
	const char *first = strchr(rest, ':');

	if (!first || (size_t)(first - rest) == plen || !first[1] || first == rest || strlen(first + 1) > 255)
		return 0;
	out->alt_path = dd_strndup(rest, (size_t)(first - rest));
	out->alt_tag = dd_strdup(first + 1);
	return out->alt_path && out->alt_tag ? 0 : dd_error_oom(err);
}

/* oci:PATH[:TAG|@DIGEST].  '@' followed by ALG:HEX at the end selects by
 * digest; otherwise the last ':' separates a tag when what follows it holds
 * no '/'.  A trailing ':' means "no tag" (for paths containing ':'). */
static int parse_oci(dd_srcref *out, const char *rest, const char *ref, dd_error *err)
{
	const char *at = strrchr(rest, '@'), *colon;
	size_t plen = strlen(rest);
	int rc;

	if (at && strchr(at, ':') && !strchr(at, '/')) {
		if (dd_digest_parse(&out->digest, at + 1, "image reference", err))
			return dd_error_set(err, DD_EUSAGE, "image reference '%s': '%s' is not a sha256 digest",
					    ref, at + 1);
		plen = (size_t)(at - rest);
		if (plen && rest[plen - 1] == ':')
			plen--;
		return set_path(out, rest, plen, ref, err);
	}
	colon = strrchr(rest, ':');
	if (colon && !strchr(colon, '/')) {
		const char *tag = colon + 1;
		if (*tag) {
			if (strlen(tag) > 255)
				return dd_error_set(err, DD_EUSAGE, "image reference '%s': tag too long", ref);
			out->tag = dd_strdup(tag);
			if (!out->tag)
				return dd_error_oom(err);
		}
		plen = (size_t)(colon - rest);
	}
	if ((rc = set_path(out, rest, plen, ref, err)))
		return rc;
	return set_alt(out, rest, plen, err);
}

/* docker-archive:PATH[:NAME[:TAG]|:@N]; as skopeo, the first ':' ends PATH. */
static int parse_archive(dd_srcref *out, const char *rest, const char *ref, dd_error *err)
{
	const char *colon = strchr(rest, ':');
	const char *sel;
	int rc = set_path(out, rest, colon ? (size_t)(colon - rest) : strlen(rest), ref, err);

	if (rc)
		return rc;
	if (!colon || !colon[1])
		return 0;
	sel = colon + 1;
	if (sel[0] == '@') {
		char *end;
		long v;
		if (!isdigit((unsigned char)sel[1]))
			return dd_error_set(err, DD_EUSAGE,
					    "image reference '%s': '%s' is not a source index (@N)", ref, sel);
		v = strtol(sel + 1, &end, 10);
		if (*end || v < 0 || v > 1000000)
			return dd_error_set(err, DD_EUSAGE,
					    "image reference '%s': '%s' is not a source index (@N)", ref, sel);
		out->index = v;
		return 0;
	}
	out->tag = dd_srcref_docker_name(sel);
	if (!out->tag)
		return dd_error_set(err, DD_EUSAGE,
				    "image reference '%s': '%s' is not a NAME[:TAG] (digests are not accepted)",
				    ref, sel);
	return 0;
}

/* A registry reference, [docker://]NAME[:TAG][@DIGEST] (the registry client
 * parses it fully when the image is opened), or an error naming what is
 * accepted. */
static int registry_or_unsupported(dd_srcref *out, const char *s, dd_error *err)
{
	size_t tn = strcspn(s, ":");
	dd_ref r;

	if (s[tn] == ':')
		for (size_t i = 0; i < sizeof(other_transports) / sizeof(other_transports[0]); i++)
			if (strlen(other_transports[i]) == tn && !strncmp(s, other_transports[i], tn))
				return dd_error_set(err, DD_EUSAGE,
						    "image reference '%s': transport '%.*s' is not supported; " ACCEPTED,
						    s, (int)tn, s);
	if (!strncmp(s, "docker://", 9) || (s[0] != '/' && s[0] != '.')) {
		int rc = dd_ref_parse(&r, s, err);
		if (rc == 0) {
			out->transport = DD_TRANSPORT_REGISTRY;
			return set_path(out, s, strlen(s), s, err);
		}
		if (!strncmp(s, "docker://", 9))
			return rc;
	}
	return dd_error_set(err, DD_EUSAGE, "'%s' is not an image reference; " ACCEPTED, s);
}

int dd_srcref_parse(dd_srcref *out, const char *s, dd_error *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->index = -1;
	if (!s || !*s)
		return dd_error_set(err, DD_EUSAGE, "empty image reference; " ACCEPTED);
	if (strlen(s) > REF_MAX)
		return dd_error_set(err, DD_EUSAGE, "image reference '%.60s...' is too long", s);
	if (!printable(s))
		return dd_error_set(err, DD_EUSAGE, "image reference '%s' contains control characters", s);
	if (!strncmp(s, "oci:", 4)) {
		out->transport = DD_TRANSPORT_OCI;
		rc = parse_oci(out, s + 4, s, err);
	} else if (!strncmp(s, "docker-archive:", 15)) {
		out->transport = DD_TRANSPORT_DOCKER_ARCHIVE;
		rc = parse_archive(out, s + 15, s, err);
	} else if (!strncmp(s, "rootfs:", 7)) {
		out->transport = DD_TRANSPORT_ROOTFS;
		rc = set_path(out, s + 7, strlen(s + 7), s, err);
	} else {
		rc = registry_or_unsupported(out, s, err);
	}
	if (rc)
		dd_srcref_release(out);
	return rc;
}

/* ---- platforms ---- */

static void normalize_platform(dd_platform *p)
{
	static const struct { const char *from, *to, *variant; } arch[] = {
		{ "x86_64", "amd64", "" }, { "x86-64", "amd64", "" }, { "aarch64", "arm64", "" },
		{ "i386", "386", "" }, { "i686", "386", "" }, { "armhf", "arm", "v7" },
		{ "armel", "arm", "v6" },
	};
	for (char *c = p->os; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	for (char *c = p->arch; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	for (char *c = p->variant; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	for (size_t i = 0; i < sizeof(arch) / sizeof(arch[0]); i++) {
		if (strcmp(p->arch, arch[i].from) == 0) {
			snprintf(p->arch, sizeof(p->arch), "%s", arch[i].to);
			if (!p->variant[0])
				snprintf(p->variant, sizeof(p->variant), "%s", arch[i].variant);
			break;
		}
	}
}

static int platform_part(char *dst, size_t cap, const char *s, size_t n)
{
	if (n == 0 || n >= cap)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

int dd_platform_parse(dd_platform *out, const char *s, dd_error *err)
{
	const char *a, *v;

	memset(out, 0, sizeof(*out));
	if (!s)
		return dd_error_set(err, DD_EUSAGE, "missing platform");
	a = strchr(s, '/');
	v = a ? strchr(a + 1, '/') : NULL;
	if (!a || platform_part(out->os, sizeof(out->os), s, (size_t)(a - s)) ||
	    platform_part(out->arch, sizeof(out->arch), a + 1, v ? (size_t)(v - a - 1) : strlen(a + 1)) ||
	    (v && platform_part(out->variant, sizeof(out->variant), v + 1, strlen(v + 1)))) {
		memset(out, 0, sizeof(*out));
		return dd_error_set(err, DD_EUSAGE, "platform '%.100s' is not OS/ARCH[/VARIANT] (e.g. linux/arm64/v8)",
				    s);
	}
	normalize_platform(out);
	return 0;
}

void dd_platform_host(dd_platform *out)
{
	struct utsname u;

	memset(out, 0, sizeof(*out));
	snprintf(out->os, sizeof(out->os), "linux");
	snprintf(out->arch, sizeof(out->arch), "amd64");
	if (uname(&u) != 0)
		return;
	if (!strncmp(u.machine, "armv", 4) && isdigit((unsigned char)u.machine[4])) {
		snprintf(out->arch, sizeof(out->arch), "arm");
		snprintf(out->variant, sizeof(out->variant), "v%c", u.machine[4]);
	} else if (!strcmp(u.machine, "ppc64le") || !strcmp(u.machine, "s390x") ||
		   !strcmp(u.machine, "riscv64") || !strcmp(u.machine, "x86_64") ||
		   !strcmp(u.machine, "aarch64") || !strcmp(u.machine, "i686") ||
		   !strcmp(u.machine, "i386")) {
		snprintf(out->arch, sizeof(out->arch), "%.31s", u.machine);
		normalize_platform(out);
	}
	if (!strcmp(out->arch, "arm64") && !out->variant[0])
		snprintf(out->variant, sizeof(out->variant), "v8");
}

void dd_platform_format(const dd_platform *p, char *buf, size_t n)
{
	if (n == 0)
		return;
	snprintf(buf, n, "%s/%s%s%s", p->os, p->arch, p->variant[0] ? "/" : "", p->variant);
}

/* Variant "vN" -> N, else -1. */
static int variant_num(const char *v)
{
	if (v[0] != 'v' || !isdigit((unsigned char)v[1]) || v[2])
		return -1;
	return v[1] - '0';
}

int dd_platform_match(const dd_platform *have_in, const dd_platform *want_in)
{
	dd_platform have = *have_in, want = *want_in;

	normalize_platform(&have);
	normalize_platform(&want);
	if (strcmp(have.os, want.os) != 0 || strcmp(have.arch, want.arch) != 0)
		return 0;
	if (!strcmp(have.arch, "arm64")) { /* "" and "v8" are the same thing */
		if (!strcmp(have.variant, "v8"))
			have.variant[0] = '\0';
		if (!strcmp(want.variant, "v8"))
			want.variant[0] = '\0';
	}
	if (strcmp(have.variant, want.variant) == 0)
		return 2;
	if (!want.variant[0] || !have.variant[0])
		return 1;
	if (!strcmp(have.arch, "arm")) { /* an arm v7 host runs v6 and v5 images */
		int h = variant_num(have.variant), w = variant_num(want.variant);
		if (h >= 0 && w >= 0 && h <= w)
			return 1;
	}
	return 0;
}
