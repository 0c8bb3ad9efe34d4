/* purl.c - package URLs for OS packages (see purl.h). */
#include "report/purl.h"

#include <stdio.h>
#include <string.h>

#include "util/banned.h"

static int is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_' || c == '~';
}

static int enc(dd_buf *out, const char *s, int lower)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		if (lower && c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (is_unreserved(c)) {
			dd_buf_putc(out, (char)c);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			dd_buf_append(out, e, 3);
		}
	}
	return out->failed;
}

int dd_purl_encode(dd_buf *out, const char *s)
{
	return enc(out, s ? s : "", 0);
}

static int has(const char *s)
{
	return s && *s;
}

static void lower_copy(char *buf, size_t n, const char *s)
{
	size_t i = 0;
	if (!n)
		return;
	for (; s && s[i] && i + 1 < n; i++)
		buf[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
	buf[i] = '\0';
}

/* rpm vendors by the OS id (os-release ID) of the image. */
static const char *rpm_vendor_of_os(const char *id)
{
	static const struct { const char *id, *ns; } map[] = {
		{ "rhel", "redhat" },     { "ol", "oracle" },      { "amzn", "amazon" },
		{ "sles", "suse" },       { "sled", "suse" },      { "sle-micro", "suse" },
		{ "sles_sap", "suse" },   { "opensuse", "opensuse" },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(id, map[i].id) == 0)
			return map[i].ns;
	if (strncmp(id, "opensuse-", 9) == 0)
		return "opensuse";
	return NULL;
}

/* rpm vendors by the package's Vendor header, used when the OS is unknown. */
static const char *rpm_vendor_of_header(const char *v)
{
	static const struct { const char *needle, *ns; } map[] = {
		{ "Red Hat", "redhat" },  { "Fedora", "fedora" },     { "CentOS", "centos" },
		{ "openSUSE", "opensuse" }, { "SUSE", "suse" },       { "Amazon", "amazon" },
		{ "Rocky", "rocky" },     { "AlmaLinux", "almalinux" }, { "Oracle", "oracle" },
		{ "Microsoft", "mariner" },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strstr(v, map[i].needle))
			return map[i].ns;
	return NULL;
}

const char *dd_purl_namespace(char *buf, size_t n, enum dd_pkg_type t, const dd_os *os,
			      const char *vendor)
{
	char id[128];
	const char *ns;
	size_t k = 0;

	if (!n)
		return buf;
	buf[0] = '\0';
	if (os && has(os->id)) {
		lower_copy(id, sizeof(id), os->id);
		ns = t == DD_PKG_RPM ? rpm_vendor_of_os(id) : NULL;
		lower_copy(buf, n, ns ? ns : id);
		return buf;
	}
	if (t == DD_PKG_DEB) {
		lower_copy(buf, n, "debian");
	} else if (t == DD_PKG_APK) {
		lower_copy(buf, n, "alpine");
	} else if (has(vendor)) {
		ns = rpm_vendor_of_header(vendor);
		if (ns) {
			lower_copy(buf, n, ns);
			return buf;
		}
		/* "Acme Corp, Inc." -> "acmecorp" */
		for (const char *p = vendor; *p && *p != ',' && k + 1 < n; p++) {
			unsigned char c = (unsigned char)*p;
			if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
				buf[k++] = (char)((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
		}
		buf[k] = '\0';
	}
	return buf;
}

/* Skip a leading "EPOCH:" of an rpm version string; *epoch set when found. */
static const char *rpm_strip_epoch(const char *v, int *has_epoch, unsigned long *epoch)
{
	const char *p = v;
	unsigned long e = 0;
	while (*p >= '0' && *p <= '9') {
		if (e < 100000000UL)
			e = e * 10 + (unsigned long)(*p - '0');
		p++;
	}
	if (p != v && *p == ':') {
		*has_epoch = 1;
		*epoch = e;
		return p + 1;
	}
	return v;
}

static void qualifier(dd_buf *out, int *nq, const char *key)
{
	dd_buf_putc(out, *nq ? '&' : '?');
	dd_buf_puts(out, key);
	dd_buf_putc(out, '=');
	(*nq)++;
}

static int differs(const char *a, const char *b)
{
	return has(a) && has(b) && strcmp(a, b) != 0;
}

int dd_purl_format(dd_buf *out, const dd_package *p, const dd_os *os, dd_error *err)
{
	char ns[128];
	int lower, nq = 0, has_epoch = 0;
	unsigned long epoch = 0;
	int rc;
	dd_buf ver = DD_BUF_INIT_MAX(1 << 20);

	if (!p || !has(p->name))
		return dd_error_set(err, DD_EINPUT, "package without a name has no package URL");
	lower = p->type == DD_PKG_DEB || p->type == DD_PKG_APK;
	dd_buf_puts(out, "pkg:");
	dd_buf_puts(out, dd_pkg_type_name(p->type));
	dd_buf_putc(out, '/');
	dd_purl_namespace(ns, sizeof(ns), p->type, os, p->vendor);
	if (ns[0]) {
		enc(out, ns, 1);
		dd_buf_putc(out, '/');
	}
	enc(out, p->name, lower);

	/* version: rpm VERSION-RELEASE (epoch as a qualifier), else as printed */
	if (p->type == DD_PKG_RPM) {
		if (p->has_epoch) {
			has_epoch = 1;
			epoch = p->epoch;
		}
		if (has(p->rpm_version)) {
			dd_buf_puts(&ver, p->rpm_version);
			if (has(p->rpm_release)) {
				dd_buf_putc(&ver, '-');
				dd_buf_puts(&ver, p->rpm_release);
			}
		} else if (has(p->version)) {
			int he = 0;
			unsigned long e = 0;
			dd_buf_puts(&ver, rpm_strip_epoch(p->version, &he, &e));
			if (he && !has_epoch) {
				has_epoch = 1;
				epoch = e;
			}
		}
	} else if (has(p->version)) {
		dd_buf_puts(&ver, p->version);
	}
	if (ver.len) {
		dd_buf_putc(out, '@');
		enc(out, dd_buf_cstr(&ver), 0);
	}

	/* qualifiers, sorted by key: arch, distro, epoch, upstream */
	if (has(p->arch) && strcmp(p->arch, "(none)") != 0) {
		qualifier(out, &nq, "arch");
		enc(out, p->arch, 0);
	}
	if (os && has(os->id) && (has(os->version_id) || has(os->codename))) {
		qualifier(out, &nq, "distro");
		enc(out, os->id, 1);
		dd_buf_putc(out, '-');
		enc(out, has(os->version_id) ? os->version_id : os->codename, 0);
	}
	if (p->type == DD_PKG_RPM && has_epoch) {
		char e[24];
		snprintf(e, sizeof(e), "%lu", epoch);
		qualifier(out, &nq, "epoch");
		dd_buf_puts(out, e);
	}
	if (differs(p->source_name, p->name) || differs(p->source_version, dd_buf_cstr(&ver))) {
		qualifier(out, &nq, "upstream");
		enc(out, has(p->source_name) ? p->source_name : p->name, 0);
		if (differs(p->source_version, dd_buf_cstr(&ver))) {
			enc(out, "@", 0);
			enc(out, p->source_version, 0);
		}
	}
	rc = ver.failed ? dd_buf_error(&ver, err, "package version")
			: out->failed ? dd_buf_error(out, err, "package URL") : 0;
	dd_buf_release(&ver);
	return rc;
}
