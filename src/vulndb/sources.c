/* sources.c - the feeds `drydock db update` downloads (see sources.h). */
#include "vulndb/sources.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "util/reader.h"
#include "util/banned.h"

#define OSV_BASE "https://osv-vulnerabilities.storage.googleapis.com/"

/* osv.dev ecosystems downloaded by default: (source name, URL path). */
static const char *const osv_ecosystems[][2] = {
	{ "osv-AlmaLinux", "AlmaLinux" }, { "osv-Rocky-Linux", "Rocky%20Linux" },
	{ "osv-PyPI", "PyPI" },           { "osv-npm", "npm" },
	{ "osv-Go", "Go" },               { "osv-Maven", "Maven" },
	{ "osv-crates.io", "crates.io" }, { "osv-RubyGems", "RubyGems" },
	{ "osv-NuGet", "NuGet" },         { "osv-Packagist", "Packagist" },
	{ "osv-Hex", "Hex" },             { "osv-Pub", "Pub" },
	{ "osv-Wolfi", "Wolfi" },         { "osv-Chainguard", "Chainguard" },
};
/* Also on osv.dev, but drydock reads the distributions' own feeds by
 * default (listed, disabled). */
static const char *const osv_disabled[][2] = {
	{ "osv-Debian", "Debian" }, { "osv-Alpine", "Alpine" }, { "osv-Ubuntu", "Ubuntu" },
};
static const char *const alpine_releases[] = { "v3.20", "v3.21", "v3.22", "v3.23" };

int dd_vulndb_sources_default_text(dd_buf *o)
{
	time_t now = time(NULL);
	struct tm tm;
	int year = 2026;
	if (gmtime_r(&now, &tm) && tm.tm_year + 1900 > 2026 && tm.tm_year + 1900 < 3000)
		year = tm.tm_year + 1900;

	dd_buf_puts(o, "# drydock vulnerability feed sources (docs/vulndb.md)\n"
		       "# NAME  KIND  URL  [enabled|disabled] [latest] [changes]\n"
		       "# KIND is the format expected (- for any); 'latest': URL names a file\n"
		       "# whose first word is the file to download next to it; 'changes':\n"
		       "# incremental updates from changes.csv and deletions.csv next to it.\n\n"
		       "# Distributions\n");
	dd_buf_puts(o, "debian-tracker debian-tracker "
		       "https://security-tracker.debian.org/tracker/data/json\n");
	for (size_t i = 0; i < sizeof(alpine_releases) / sizeof(alpine_releases[0]); i++)
		for (int c = 0; c < 2; c++)
			dd_buf_printf(o, "alpine-%s-%s alpine-secdb "
				      "https://secdb.alpinelinux.org/%s/%s.json\n",
				      alpine_releases[i], c ? "community" : "main", alpine_releases[i],
				      c ? "community" : "main");
	dd_buf_puts(o, "ubuntu-osv osv https://security-metadata.canonical.com/osv/osv-all.tar.xz\n");
	dd_buf_puts(o, "redhat-csaf-vex csaf-vex "
		       "https://security.access.redhat.com/data/csaf/v2/vex/archive_latest.txt "
		       "enabled latest changes\n");
	dd_buf_puts(o, "wolfi-secdb alpine-secdb https://packages.wolfi.dev/os/security.json\n");
	dd_buf_puts(o, "chainguard-secdb alpine-secdb "
		       "https://packages.cgr.dev/chainguard/security.json\n");
	dd_buf_puts(o, "\n# osv.dev, per ecosystem\n");
	for (size_t i = 0; i < sizeof(osv_ecosystems) / sizeof(osv_ecosystems[0]); i++)
		dd_buf_printf(o, "%s osv " OSV_BASE "%s/all.zip\n", osv_ecosystems[i][0],
			      osv_ecosystems[i][1]);
	for (size_t i = 0; i < sizeof(osv_disabled) / sizeof(osv_disabled[0]); i++)
		dd_buf_printf(o, "%s osv " OSV_BASE "%s/all.zip disabled\n", osv_disabled[i][0],
			      osv_disabled[i][1]);
	dd_buf_puts(o, "\n# NVD JSON 2.0 feeds (CVSS enrichment)\n");
	for (int y = 2002; y <= year; y++)
		dd_buf_printf(o, "nvd-%d cve https://nvd.nist.gov/feeds/json/cve/2.0/"
			      "nvdcve-2.0-%d.json.gz\n", y, y);
	return o->failed ? -1 : 0;
}

const dd_vulndb_source_def *dd_vulndb_sources_find(const dd_vulndb_sources *s,
						   const char *name)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

void dd_vulndb_sources_release(dd_vulndb_sources *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].kind);
		free(s->v[i].url);
	}
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static int valid_name(const char *p, size_t n)
{
	if (n == 0 || n > 128)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)p[i]) && !strchr("._-:+", p[i]))
			return 0;
	return 1;
}

#define MAX_WORDS 6

int dd_vulndb_sources_parse(dd_vulndb_sources *out, const char *text, size_t len,
			    const char *name, dd_error *err)
{
	size_t off = 0, cap = 0;
	int line = 0, rc = 0;

	memset(out, 0, sizeof(*out));
	while (off < len) {
		const char *l = text + off, *nl = memchr(l, '\n', len - off);
		size_t ll = nl ? (size_t)(nl - l) : len - off;
		const char *w[MAX_WORDS];
		size_t wl[MAX_WORDS], nw = 0, i = 0;

		off += ll + (nl ? 1 : 0);
		line++;
		while (i < ll) {
			while (i < ll && (l[i] == ' ' || l[i] == '\t' || l[i] == '\r'))
				i++;
			if (i >= ll || (nw == 0 && l[i] == '#'))
				break;
			if (nw == MAX_WORDS) {
				rc = dd_error_set(err, DD_EINPUT, "%s:%d: too many words (NAME KIND URL "
						  "[enabled|disabled] [latest] [changes])", name, line);
				goto fail;
			}
			w[nw] = l + i;
			while (i < ll && l[i] != ' ' && l[i] != '\t' && l[i] != '\r')
				i++;
			wl[nw] = (size_t)(l + i - w[nw]);
			nw++;
		}
		if (nw == 0)
			continue;
		if (nw < 3) {
			rc = dd_error_set(err, DD_EINPUT, "%s:%d: expected NAME KIND URL", name, line);
			goto fail;
		}
		if (!valid_name(w[0], wl[0]) || !valid_name(w[1], wl[1])) {
			rc = dd_error_set(err, DD_EINPUT, "%s:%d: bad source name or kind (letters, "
					  "digits and ._-:+ only)", name, line);
			goto fail;
		}
		if (!((wl[2] > 7 && strncmp(w[2], "http://", 7) == 0) ||
		      (wl[2] > 8 && strncmp(w[2], "https://", 8) == 0)) || wl[2] > 4096) {
			rc = dd_error_set(err, DD_EINPUT, "%s:%d: URL must start with http:// or "
					  "https://", name, line);
			goto fail;
		}
		dd_vulndb_source_def d = { NULL, NULL, NULL, 1, 0, 0 };
		int any_kind = (wl[1] == 1 && w[1][0] == '-') ||
			       (wl[1] == 4 && !strncmp(w[1], "auto", 4));
		for (size_t k = 3; k < nw; k++) {
			if (wl[k] == 7 && strncmp(w[k], "enabled", 7) == 0)
				d.enabled = 1;
			else if (wl[k] == 8 && strncmp(w[k], "disabled", 8) == 0)
				d.enabled = 0;
			else if (wl[k] == 6 && strncmp(w[k], "latest", 6) == 0)
				d.latest = 1;
			else if (wl[k] == 7 && strncmp(w[k], "changes", 7) == 0)
				d.changes = 1;
			else {
				rc = dd_error_set(err, DD_EINPUT, "%s:%d: unknown word '%.*s' (enabled, "
						  "disabled, latest, changes)", name, line,
						  (int)(wl[k] > 64 ? 64 : wl[k]), w[k]);
				goto fail;
			}
		}
		if (d.changes && !d.latest) {
			rc = dd_error_set(err, DD_EINPUT, "%s:%d: 'changes' goes with 'latest' (the "
					  "URL of archive_latest.txt)", name, line);
			goto fail;
		}
		for (size_t k = 0; k < out->n; k++)
			if (strlen(out->v[k].name) == wl[0] &&
			    strncmp(out->v[k].name, w[0], wl[0]) == 0) {
				rc = dd_error_set(err, DD_EINPUT, "%s:%d: source '%.*s' listed twice",
						  name, line, (int)wl[0], w[0]);
				goto fail;
			}
		if (out->n == cap) {
			size_t ncap = cap ? cap * 2 : 32, bytes;
			dd_vulndb_source_def *nv;
			if (dd_mul_size(&bytes, ncap, sizeof(*nv)) || !(nv = realloc(out->v, bytes))) {
				rc = dd_error_oom(err);
				goto fail;
			}
			out->v = nv;
			cap = ncap;
		}
		d.name = dd_strndup(w[0], wl[0]);
		d.url = dd_strndup(w[2], wl[2]);
		if (!any_kind)
			d.kind = dd_strndup(w[1], wl[1]);
		out->v[out->n++] = d;
		if (!d.name || !d.url || (!d.kind && !any_kind)) {
			rc = dd_error_oom(err);
			goto fail;
		}
	}
	return 0;
fail:
	dd_vulndb_sources_release(out);
	return rc;
}

int dd_vulndb_sources_default(dd_vulndb_sources *out, dd_error *err)
{
	dd_buf t = DD_BUF_INIT;
	int rc;
	if (dd_vulndb_sources_default_text(&t)) {
		dd_buf_release(&t);
		return dd_error_oom(err);
	}
	rc = dd_vulndb_sources_parse(out, t.data, t.len, "(built-in sources)", err);
	dd_buf_release(&t);
	return rc;
}

int dd_vulndb_sources_load(dd_vulndb_sources *out, const char *path, const char **used,
			   dd_buf *used_buf, dd_error *err)
{
	dd_buf text = DD_BUF_INIT;
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	struct stat sb;
	int rc;

	memset(out, 0, sizeof(*out));
	dd_buf_reset(used_buf);
	if (path && *path)
		dd_buf_puts(used_buf, path);
	else if (xdg && *xdg == '/')
		dd_buf_printf(used_buf, "%s/drydock/sources", xdg);
	else if (home && *home)
		dd_buf_printf(used_buf, "%s/.config/drydock/sources", home);
	if ((rc = dd_buf_error(used_buf, err, "sources path")))
		return rc;
	if (!(path && *path) && (!used_buf->data || stat(used_buf->data, &sb) != 0)) {
		*used = "(built-in)";
		return dd_vulndb_sources_default(out, err);
	}
	if ((rc = dd_file_slurp(used_buf->data, &text, (size_t)4 << 20, err))) {
		dd_error_prefix(err, "sources file");
		goto done;
	}
	*used = used_buf->data;
	rc = dd_vulndb_sources_parse(out, text.data ? text.data : "", text.len, used_buf->data,
				     err);
done:
	dd_buf_release(&text);
	return rc;
}
