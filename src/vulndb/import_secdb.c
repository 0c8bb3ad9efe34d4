/* import_secdb.c - Alpine secdb (secdb.alpinelinux.org/vX.Y/{main,community}
 * .json|.yaml) and the same format from Wolfi, Chainguard and MinimOS.
 *
 * Each `secfixes` item "<fixed version>": ["CVE-... [ALIAS...]"] becomes an
 * affected entry (ecosystem "Alpine:vX.Y", range introduced 0 / fixed V) of
 * the advisory named by its first word; the other words are aliases.  The
 * key "0" means the package was never affected (status not-affected). */
#include "vulndb/import_internal.h"

#include <string.h>

#include "util/buf.h"
#include "util/banned.h"

/* Ecosystem of a secdb document, or NULL when it cannot be told. */
static int secdb_ecosystem(const json_t *root, dd_buf *out)
{
	int bad = 0;
	const char *dv = dd_vimport_str(root, "distroversion", &bad);
	const char *url = dd_vimport_str(root, "urlprefix", &bad);
	const char *apk = dd_vimport_str(root, "apkurl", &bad);
	static const struct { const char *host, *eco; } hosts[] = {
		{ "wolfi.dev", "Wolfi" },
		{ "cgr.dev", "Chainguard" },
		{ "mini.dev", "MinimOS" },
	};
	if (bad)
		return -1;
	if (dv && *dv)
		return dd_buf_printf(out, "Alpine:%s", dv) ? -1 : 0;
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		if ((url && strstr(url, hosts[i].host)) || (apk && strstr(apk, hosts[i].host)))
			return dd_buf_puts(out, hosts[i].eco) ? -1 : 0;
	return -1;
}

/* One "ID [ALIAS...]" item of package `name` fixed in `ver`. */
static int add_item(dd_vimport *im, const char *eco, const char *name, const char *ver,
		    const char *item, dd_error *err)
{
	char word[128];
	const char *p = item;
	int64_t adv = 0, aff;
	int rc, first = 1;

	while (*p) {
		size_t n;
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		n = strcspn(p, " \t\r\n");
		if (n == 0)
			break;
		if (n >= sizeof(word))
			return dd_error_set(err, DD_EINPUT, "id '%.40s...' is too long", p);
		memcpy(word, p, n);
		word[n] = '\0';
		p += n;
		if (first) {
			dd_vuln_advisory_in a;
			memset(&a, 0, sizeof(a));
			a.id = word;
			if ((rc = dd_vulndb_add_advisory(im->db, &a, DD_VULNDB_ADV_MERGE, &adv, err)))
				return rc;
			first = 0;
		} else if ((rc = dd_vulndb_add_alias(im->db, adv, word, "alias", err))) {
			return rc;
		}
	}
	if (first)
		return dd_error_set(err, DD_EINPUT, "empty id in secfixes['%s']", ver);
	dd_vuln_affected_in in;
	memset(&in, 0, sizeof(in));
	in.ecosystem = eco;
	in.package = name;
	in.status = strcmp(ver, "0") == 0 ? DD_VULN_NOT_AFFECTED : DD_VULN_AFFECTED;
	if ((rc = dd_vulndb_add_affected(im->db, adv, &in, &aff, err)))
		return rc;
	if (strcmp(ver, "0") != 0) {
		int64_t r;
		if ((rc = dd_vulndb_add_range(im->db, aff, "ECOSYSTEM", NULL, &r, err)) ||
		    (rc = dd_vulndb_add_event(im->db, r, "introduced", "0", err)) ||
		    (rc = dd_vulndb_add_event(im->db, r, "fixed", ver, err)))
			return rc;
	}
	return 0;
}

/* Add the items of one fixed version; a malformed item is skipped alone. */
static int add_fix(dd_vimport *im, const char *file, const char *eco, const char *name,
		   const char *ver, const json_t *list, dd_error *err)
{
	json_t *it;
	size_t i;
	int rc;
	if (!*ver)
		return dd_vimport_skip(im, file, name, err, "empty version key in secfixes");
	/* An empty list is also written as null or {} by some generators. */
	if (json_is_null(list) || (json_is_object(list) && json_object_size(list) == 0))
		return 0;
	if (!json_is_array(list))
		return dd_vimport_skip(im, file, name, err, "secfixes['%s'] is not a list", ver);
	json_array_foreach(list, i, it) {
		dd_error ierr = DD_ERROR_INIT;
		if (!json_is_string(it)) {
			if ((rc = dd_vimport_skip(im, file, name, err,
						  "secfixes['%s'][%zu] is not a string", ver, i)))
				return rc;
			continue;
		}
		if ((rc = dd_vulndb_record_begin(im->db, err)))
			return rc;
		int arc = add_item(im, eco, name, ver, json_string_value(it), &ierr);
		if ((rc = dd_vulndb_record_end(im->db, arc != 0, err)) != 0)
			return rc;
		if (ierr.code == DD_EINPUT) {
			if ((rc = dd_vimport_skip(im, file, name, err, "secfixes['%s'][%zu]: %s", ver,
						  i, ierr.msg)))
				return rc;
		} else if (ierr.code) {
			if (err)
				*err = ierr;
			return ierr.code;
		}
	}
	return 0;
}

int dd_vimport_secdb(dd_vimport *im, const char *file, const json_t *root, dd_error *err)
{
	dd_buf eco = DD_BUF_INIT;
	json_t *pkgs = json_object_get(root, "packages"), *p;
	size_t i;
	int rc = 0;

	if (secdb_ecosystem(root, &eco)) {
		rc = dd_vimport_skip(im, file, "-", err,
				     "secdb without a usable distroversion, and urlprefix names no "
				     "known distribution");
		goto done;
	}
	json_array_foreach(pkgs, i, p) {
		json_t *pkg = json_object_get(p, "pkg");
		json_t *fixes = json_object_get(pkg, "secfixes"), *list;
		const char *name, *ver;
		int bad = 0;
		char rid[32];

		im->st->records++;
		name = dd_vimport_str(pkg, "name", &bad);
		if (!json_is_object(pkg) || bad || !name || !*name) {
			snprintf(rid, sizeof(rid), "packages[%zu]", i);
			if ((rc = dd_vimport_skip(im, file, rid, err, "no pkg.name")))
				goto done;
			continue;
		}
		if (!fixes || json_is_null(fixes))
			continue;
		if (!json_is_object(fixes)) {
			if ((rc = dd_vimport_skip(im, file, name, err, "secfixes is not a mapping")))
				goto done;
			continue;
		}
		json_object_foreach(fixes, ver, list) {
			if ((rc = add_fix(im, file, eco.data, name, ver, list, err)))
				goto done;
		}
	}
done:
	dd_buf_release(&eco);
	return rc;
}
