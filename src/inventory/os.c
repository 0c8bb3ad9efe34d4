/* os.c - operating system detection (see os.h). */
#include "inventory/os.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/catalog.h"
#include "util/buf.h"
#include "util/banned.h"

#define OS_VALUE_MAX 4096

static int set_field(char **dst, const char *s, size_t n)
{
	char *v = dd_text_dup(s, n);
	if (!v)
		return -1;
	free(*dst);
	*dst = v;
	return 0;
}

/* Decode one os-release value (shell-style quoting) from p[0..n) into out. */
static void decode_value(const char *p, size_t n, dd_buf *out)
{
	size_t i = 0;
	while (i < n) {
		char c = p[i];
		if (c == '"') {
			for (i++; i < n && p[i] != '"'; i++) {
				if (p[i] == '\\' && i + 1 < n &&
				    strchr("$\"\\`\n", p[i + 1])) {
					i++;
				}
				dd_buf_putc(out, p[i]);
			}
			i++; /* closing quote (or past the end) */
		} else if (c == '\'') {
			for (i++; i < n && p[i] != '\''; i++)
				dd_buf_putc(out, p[i]);
			i++;
		} else if (c == '\\' && i + 1 < n) {
			dd_buf_putc(out, p[i + 1]);
			i += 2;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '#') {
			/* unquoted whitespace ends the value; the rest is junk */
			break;
		} else {
			dd_buf_putc(out, c);
			i++;
		}
	}
}

int dd_osrelease_parse(dd_os *os, const char *data, size_t len, dd_error *err)
{
	const char *p = data, *end = data + len;
	size_t pretty_n = 0;
	dd_buf val = DD_BUF_INIT_MAX(OS_VALUE_MAX);
	int rc = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *k = p, *eq;
		p = nl ? nl + 1 : end;
		while (k < le && (*k == ' ' || *k == '\t'))
			k++;
		if (k == le || *k == '#')
			continue;
		eq = k;
		while (eq < le && (isalnum((unsigned char)*eq) || *eq == '_'))
			eq++;
		if (eq == k || eq == le || *eq != '=')
			continue;
		size_t klen = (size_t)(eq - k);
		dd_buf_reset(&val);
		decode_value(eq + 1, (size_t)(le - eq - 1), &val);
		if (val.failed)
			continue; /* absurdly long value: ignore the line */
		const char *v = dd_buf_cstr(&val);
		char **dst = NULL;
#define KEY(s) (klen == sizeof(s) - 1 && memcmp(k, s, klen) == 0)
		if (KEY("ID"))
			dst = &os->id;
		else if (KEY("VERSION_ID"))
			dst = &os->version_id;
		else if (KEY("VERSION_CODENAME"))
			dst = &os->codename;
		else if (KEY("UBUNTU_CODENAME") && !os->codename)
			dst = &os->codename;
		else if (KEY("ID_LIKE"))
			dst = &os->id_like;
		else if (KEY("PRETTY_NAME")) {
			pretty_n = val.len;
			dst = &os->name;
		} else if (KEY("NAME") && !pretty_n) {
			dst = &os->name;
		}
#undef KEY
		if (dst && val.len && set_field(dst, v, val.len)) {
			rc = dd_error_oom(err);
			goto done;
		}
	}
done:
	dd_buf_release(&val);
	return rc;
}

/* First line of data, trimmed. */
static void first_line(const char *data, size_t len, const char **s, size_t *n)
{
	const char *nl = memchr(data, '\n', len);
	size_t l = nl ? (size_t)(nl - data) : len;
	while (l && isspace((unsigned char)data[l - 1]))
		l--;
	while (l && isspace((unsigned char)*data)) {
		data++;
		l--;
	}
	*s = data;
	*n = l;
}

/* "... release 8.9 (Ootpa)" -> "8.9" */
static int after_release(const char *s, size_t n, const char **v, size_t *vn)
{
	for (size_t i = 0; i + 8 <= n; i++) {
		if (memcmp(s + i, "release ", 8) == 0) {
			size_t j = i + 8, k;
			for (k = j; k < n && !isspace((unsigned char)s[k]); k++)
				;
			*v = s + j;
			*vn = k - j;
			return k > j;
		}
	}
	return 0;
}

static const struct {
	const char *prefix;
	const char *id;
} redhat_ids[] = {
	{ "Red Hat Enterprise Linux", "rhel" },
	{ "CentOS Stream", "centos" },
	{ "CentOS", "centos" },
	{ "Fedora", "fedora" },
	{ "Rocky Linux", "rocky" },
	{ "AlmaLinux", "almalinux" },
	{ "Oracle Linux", "ol" },
	{ "Amazon Linux", "amzn" },
	{ "CBL-Mariner", "mariner" },
};

static int parse_redhat(dd_os *os, const char *s, size_t n)
{
	const char *v;
	size_t vn;
	for (size_t i = 0; i < sizeof(redhat_ids) / sizeof(redhat_ids[0]); i++) {
		size_t pl = strlen(redhat_ids[i].prefix);
		if (n >= pl && memcmp(s, redhat_ids[i].prefix, pl) == 0) {
			if (set_field(&os->id, redhat_ids[i].id, strlen(redhat_ids[i].id)))
				return -1;
			break;
		}
	}
	if (!os->id)
		return 0;
	if (after_release(s, n, &v, &vn) && set_field(&os->version_id, v, vn))
		return -1;
	return set_field(&os->name, s, n);
}

static int parse_suse(dd_os *os, const char *data, size_t len)
{
	const char *s, *p, *end = data + len;
	size_t n;
	char ver[64] = "", patch[32] = "";

	first_line(data, len, &s, &n);
	if (!n)
		return 0;
	const char *id = (n >= 8 && memcmp(s, "openSUSE", 8) == 0) ? "opensuse" : "sles";
	if (set_field(&os->id, id, strlen(id)) || set_field(&os->name, s, n))
		return -1;
	for (p = data; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *eq = memchr(p, '=', (size_t)(le - p));
		if (eq) {
			const char *k = p, *ke = eq, *v = eq + 1, *ve = le;
			while (ke > k && isspace((unsigned char)ke[-1]))
				ke--;
			while (v < ve && isspace((unsigned char)*v))
				v++;
			while (ve > v && isspace((unsigned char)ve[-1]))
				ve--;
			size_t vl = (size_t)(ve - v);
			if ((size_t)(ke - k) == 7 && memcmp(k, "VERSION", 7) == 0 && vl < sizeof(ver))
				snprintf(ver, sizeof(ver), "%.*s", (int)vl, v);
			if ((size_t)(ke - k) == 10 && memcmp(k, "PATCHLEVEL", 10) == 0 &&
			    vl < sizeof(patch))
				snprintf(patch, sizeof(patch), "%.*s", (int)vl, v);
		}
		p = nl ? nl + 1 : end;
	}
	if (ver[0]) {
		char full[100];
		if (patch[0] && strcmp(patch, "0") != 0)
			snprintf(full, sizeof(full), "%s.%s", ver, patch);
		else
			snprintf(full, sizeof(full), "%s", ver);
		if (set_field(&os->version_id, full, strlen(full)))
			return -1;
	}
	return 0;
}

static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

int dd_os_parse_release_file(dd_os *os, const char *path, const char *data, size_t len,
			     dd_error *err)
{
	const char *s;
	size_t n;
	int r = 0;

	first_line(data, len, &s, &n);
	if (ends_with(path, "os-release"))
		return dd_osrelease_parse(os, data, len, err);
	if (!n || n > 256)
		return 0;
	if (ends_with(path, "alpine-release")) {
		r = set_field(&os->id, "alpine", 6) || set_field(&os->version_id, s, n);
	} else if (ends_with(path, "debian_version")) {
		r = set_field(&os->id, "debian", 6) || set_field(&os->version_id, s, n);
	} else if (ends_with(path, "redhat-release")) {
		r = parse_redhat(os, s, n);
	} else if (ends_with(path, "SuSE-release")) {
		r = parse_suse(os, data, len);
	}
	if (r)
		return dd_error_oom(err);
	if (os->id && !os->name) {
		/* Say where the name came from: "alpine 3.10.2" */
		dd_buf b = DD_BUF_INIT_MAX(600);
		dd_buf_printf(&b, "%s%s%s", os->id, os->version_id ? " " : "",
			      os->version_id ? os->version_id : "");
		if (b.failed || set_field(&os->name, b.data, b.len)) {
			dd_buf_release(&b);
			return dd_error_oom(err);
		}
		dd_buf_release(&b);
	}
	return 0;
}

/* ---- the cataloger ---- */

static const char *const os_patterns[] = {
	"etc/os-release",     "usr/lib/os-release", "etc/alpine-release",
	"etc/debian_version", "etc/redhat-release", "etc/SuSE-release",
	NULL,
};

#define OS_FILE_MAX (64 * 1024)

static void os_free(void *r)
{
	if (r) {
		dd_os_release(r);
		free(r);
	}
}

static int os_parse(const char *path, const void *data, size_t len, void **result,
		    dd_warnlist *warn, dd_error *err)
{
	dd_os *os = dd_calloc(1, sizeof(*os));
	int rc;
	if (!os)
		return dd_error_oom(err);
	if (len > OS_FILE_MAX) {
		dd_warnlist_add(warn, "%s: %zu bytes, more than a release file holds; ignored",
				path, len);
		free(os);
		return 0;
	}
	rc = dd_os_parse_release_file(os, path, data, len, err);
	if (rc) {
		os_free(os);
		return rc;
	}
	if (!os->id)
		dd_warnlist_add(warn, "%s: no distribution ID in it", path);
	*result = os;
	return 0;
}

static int os_copy(dd_os *dst, const dd_os *src, const char *source)
{
	dd_os_release(dst);
#define CP(f) if (src->f && !(dst->f = dd_strdup(src->f))) return -1
	CP(id);
	CP(version_id);
	CP(codename);
	CP(id_like);
	CP(name);
#undef CP
	return (dst->source = dd_strdup(source)) ? 0 : -1;
}

static int os_resolve(dd_catalog *cat, dd_inventory *inv, dd_error *err)
{
	const dd_walker *w = dd_catalog_walker(cat);
	const dd_catfile *best = NULL;
	const dd_fsentry *status_d = dd_walker_resolve(w, "var/lib/dpkg/status.d");
	int distroless = status_d && status_d->type == DD_FT_DIR;

	for (size_t i = 0; os_patterns[i]; i++) {
		const dd_catfile *f = dd_catalog_visible(cat, os_patterns[i], 1);
		if (!f)
			continue;
		dd_catalog_report(f, inv);
		const dd_os *os = f->result;
		if (os && os->id) {
			best = f;
			break;
		}
	}
	if (best) {
		const dd_os *os = best->result;
		if (os_copy(&inv->os, os, best->path))
			return dd_error_oom(err);
		/* Debian testing/sid: no VERSION_ID in os-release. */
		if (!inv->os.version_id && strcmp(inv->os.id, "debian") == 0) {
			const dd_catfile *dv = dd_catalog_visible(cat, "etc/debian_version", 1);
			const dd_os *d = dv ? dv->result : NULL;
			if (d && d->version_id &&
			    !(inv->os.version_id = dd_strdup(d->version_id)))
				return dd_error_oom(err);
		}
		inv->os.distroless = distroless;
		return 0;
	}
	if (distroless) {
		dd_os_release(&inv->os);
		inv->os.distroless = 1;
		if (!(inv->os.id = dd_strdup("debian")) ||
		    !(inv->os.name = dd_strdup("distroless (Debian-based, no os-release)")) ||
		    !(inv->os.source = dd_strdup("var/lib/dpkg/status.d")))
			return dd_error_oom(err);
		dd_inventory_warn(inv, "no os-release in the image; var/lib/dpkg/status.d "
				       "says it is a distroless Debian-based image, version unknown");
		return 0;
	}
	dd_inventory_warn(inv, "operating system unknown: none of etc/os-release, "
			       "usr/lib/os-release, etc/alpine-release, etc/debian_version, "
			       "etc/redhat-release, etc/SuSE-release names it");
	return 0;
}

const dd_cataloger dd_cataloger_os = {
	.name = "os",
	.version = 1,
	.patterns = os_patterns,
	.parse = os_parse,
	.free_result = os_free,
	.resolve = os_resolve,
};
