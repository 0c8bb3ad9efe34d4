/* import.c - the import driver: walk files, directories and archives,
 * detect each document's format and hand it to its importer, all inside one
 * source transaction (see import.h). */
#include "vulndb/import_internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"
#include "util/reader.h"
#include "util/banned.h"

#define DEFAULT_MAX_FILE ((size_t)1 << 30)
#define MAX_DEPTH 32

int dd_vimport_skip(dd_vimport *im, const char *file, const char *record, dd_error *err,
		    const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	im->st->skipped++;
	snprintf(im->st->last_error, sizeof(im->st->last_error), "%s: record %s: %s", file,
		 record && *record ? record : "-", msg);
	if (im->opts->strict)
		return dd_error_set(err, DD_EINPUT, "%s (--strict)", im->st->last_error);
	dd_warn("skipped %s", im->st->last_error);
	return 0;
}

const char *dd_vimport_str(const json_t *obj, const char *key, int *bad)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		*bad = 1;
		return NULL;
	}
	return json_string_value(v);
}

static int is_osv_object(const json_t *o)
{
	/* {"id","modified"} alone is an index entry (Chainguard all.json), not
	 * a record. */
	static const char *const keys[] = { "affected", "schema_version", "aliases", "summary",
					    "details", "published", "withdrawn", "references" };
	if (!json_is_object(o) || !json_is_string(json_object_get(o, "id")))
		return 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_object_get(o, keys[i]))
			return 1;
	return 0;
}

enum dd_vformat dd_vimport_detect(const json_t *root)
{
	const char *k;
	json_t *v;
	int n = 0;

	if (json_is_array(root))
		return json_array_size(root) && is_osv_object(json_array_get(root, 0))
			       ? DD_VF_OSV : DD_VF_UNKNOWN;
	if (!json_is_object(root))
		return DD_VF_UNKNOWN;
	if (is_osv_object(root))
		return DD_VF_OSV;
	if (dd_vimport_is_cve(root))
		return DD_VF_CVE;
	if (dd_vimport_is_csaf(root))
		return DD_VF_CSAF;
	v = json_object_get(root, "packages");
	/* Alpine renders an empty package list as {}. */
	if (json_is_object(v) && json_object_size(v) == 0 &&
	    (json_object_get(root, "distroversion") || json_object_get(root, "reponame")))
		return DD_VF_SECDB;
	if (json_is_array(v)) {
		json_t *p0 = json_array_get(v, 0);
		if (json_is_object(json_object_get(p0, "pkg")) ||
		    (!p0 && (json_object_get(root, "distroversion") ||
			     json_object_get(root, "reponame"))))
			return DD_VF_SECDB;
		return DD_VF_UNKNOWN;
	}
	/* Debian tracker: { pkg: { CVE: { releases: {...} } } } */
	json_object_foreach((json_t *)root, k, v) {
		const char *k2;
		json_t *v2;
		if (!json_is_object(v) || ++n > 16)
			break;
		json_object_foreach(v, k2, v2) {
			if (json_is_object(v2) && json_is_object(json_object_get(v2, "releases")))
				return DD_VF_DEBIAN_JSON;
			break;
		}
	}
	return DD_VF_UNKNOWN;
}

static void note_kind(dd_vulndb_import_stats *st, const char *kind)
{
	if (!st->kind[0])
		snprintf(st->kind, sizeof(st->kind), "%s", kind);
	else if (strcmp(st->kind, kind) != 0)
		snprintf(st->kind, sizeof(st->kind), "mixed");
}

/* A file that is not a feed: fatal when named explicitly, else skipped. */
static int bad_file(dd_vimport *im, const char *name, int explicit_file, dd_error *err,
		    const char *why)
{
	if (explicit_file)
		return dd_error_set(err, DD_EINPUT, "%s: %s", name, why);
	return dd_vimport_skip(im, name, "-", err, "%s", why);
}

static int process_blob(dd_vimport *im, const char *name, const char *data, size_t len,
			int explicit_file, dd_error *err)
{
	json_t *root = NULL;
	json_error_t je;
	size_t off = 0;
	int rc = 0;
	char why[300];

	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		off = 3;
	while (off < len && (data[off] == ' ' || data[off] == '\t' || data[off] == '\n' ||
			     data[off] == '\r'))
		off++;
	if (off == len)
		return bad_file(im, name, explicit_file, err, "empty file");
	if (dd_vimport_is_debian_list(data + off, len - off)) {
		note_kind(im->st, "debian-list");
		im->st->files++;
		return dd_vimport_debian_list(im, name, data + off, len - off, err);
	}
	if (dd_vimport_is_ubuntu_uct(data + off, len - off)) {
		note_kind(im->st, "ubuntu-uct");
		im->st->files++;
		return dd_vimport_ubuntu_uct(im, name, data + off, len - off, err);
	}
	if (data[off] == '{' || data[off] == '[') {
		root = dd_vimport_json_load(data + off, len - off, &je);
		if (!root) {
			snprintf(why, sizeof(why), "not valid JSON (line %d: %s)", je.line, je.text);
			return bad_file(im, name, explicit_file, err, why);
		}
	} else {
		dd_error yerr = DD_ERROR_INIT;
		root = dd_vimport_yaml_load(data + off, len - off, name, &yerr);
		if (!root) {
			if (yerr.code != DD_EINPUT) {
				*err = yerr;
				return yerr.code;
			}
			snprintf(why, sizeof(why), "not JSON, and not YAML (%.250s)", yerr.msg);
			return bad_file(im, name, explicit_file, err, why);
		}
	}
	switch (dd_vimport_detect(root)) {
	case DD_VF_OSV:
		note_kind(im->st, "osv");
		im->st->files++;
		rc = dd_vimport_osv(im, name, root, err);
		break;
	case DD_VF_SECDB:
		note_kind(im->st, "alpine-secdb");
		im->st->files++;
		rc = dd_vimport_secdb(im, name, root, err);
		break;
	case DD_VF_DEBIAN_JSON:
		note_kind(im->st, "debian-tracker");
		im->st->files++;
		rc = dd_vimport_debian_json(im, name, root, err);
		break;
	case DD_VF_CVE:
		note_kind(im->st, "cve");
		im->st->files++;
		rc = dd_vimport_cve(im, name, root, err);
		break;
	case DD_VF_CSAF:
		note_kind(im->st, dd_vimport_csaf_is_vex(root) ? "csaf-vex" : "csaf-advisory");
		im->st->files++;
		rc = dd_vimport_csaf(im, name, root, err);
		break;
	default:
		rc = bad_file(im, name, explicit_file, err,
			      "not a recognised vulnerability feed (OSV, Alpine secdb, "
			      "Debian security tracker JSON or lists, Ubuntu CVE Tracker, NVD, CVE JSON 5, "
			      "Red Hat CSAF)");
	}
	json_decref(root);
	return rc;
}

static int has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && strcasecmp(s + n - m, suf) == 0;
}

/* Names considered inside directories and archives. */
static int wanted_name(const char *name)
{
	static const char *const sfx[] = { ".json", ".yaml", ".yml", ".zip", ".gz", ".bz2",
					   ".xz", ".zst", ".tgz", ".tar" };
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	if (base[0] == '.')
		return 0;
	if (strcmp(base, "list") == 0) /* the Debian tracker's data/{CVE,DSA,DLA}/list */
		return 1;
	if (strncmp(base, "CVE-", 4) == 0 && !strchr(base, '.')) /* Ubuntu CVE Tracker */
		return 1;
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++)
		if (has_suffix(base, sfx[i]))
			return 1;
	return 0;
}

static int read_entry(struct archive *a, dd_buf *out, size_t max, const char *name,
		      dd_error *err)
{
	char chunk[65536];
	la_ssize_t n;
	dd_buf_reset(out);
	while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0) {
		if (out->len + (size_t)n > max)
			return dd_error_set(err, DD_EINPUT, "%s: larger than %zu bytes", name, max);
		dd_buf_append(out, chunk, (size_t)n);
	}
	if (n < 0)
		return dd_error_set(err, DD_EINPUT, "%s: %s", name, archive_error_string(a));
	return dd_buf_error(out, err, name);
}

static int process_archive(dd_vimport *im, const char *path, int explicit_file, dd_error *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	dd_buf data = DD_BUF_INIT, name = DD_BUF_INIT;
	size_t max = im->opts->max_file ? im->opts->max_file : DEFAULT_MAX_FILE;
	int rc = 0, r, members = 0;

	if (!a)
		return dd_error_oom(err);
	archive_read_support_filter_all(a);
	archive_read_support_format_all(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
		rc = dd_error_set(err, DD_EINPUT, "%s: %s", path, archive_error_string(a));
		goto done;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *en = archive_entry_pathname(e);
		int raw = archive_format(a) == ARCHIVE_FORMAT_RAW;
		if (archive_entry_filetype(e) != AE_IFREG || !en || (!raw && !wanted_name(en)))
			continue;
		members++;
		dd_buf_reset(&name);
		if (raw)
			dd_buf_puts(&name, path);
		else
			dd_buf_printf(&name, "%s:%s", path, en);
		if ((rc = dd_buf_error(&name, err, "entry name")))
			goto done;
		if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0 &&
		    (uint64_t)archive_entry_size(e) > max) {
			if ((rc = dd_vimport_skip(im, name.data, "-", err, "larger than %zu bytes",
						  max)))
				goto done;
			continue;
		}
		if ((rc = read_entry(a, &data, max, name.data, err)))
			goto done;
		if (data.len == 0 && !data.data)
			dd_buf_puts(&data, "");
		if ((rc = process_blob(im, name.data, data.data ? data.data : "", data.len,
				       explicit_file && raw, err)))
			goto done;
	}
	if (r != ARCHIVE_EOF) {
		rc = dd_error_set(err, DD_EINPUT, "%s: %s", path,
				  archive_error_string(a) ? archive_error_string(a) : "bad archive");
		goto done;
	}
	if (members == 0 && explicit_file)
		rc = dd_error_set(err, DD_EINPUT, "%s: archive holds no .json or .yaml feed files",
				  path);
done:
	archive_read_free(a);
	dd_buf_release(&data);
	dd_buf_release(&name);
	return rc;
}

static int is_archive_magic(const unsigned char *b, size_t n)
{
	return (n >= 4 && memcmp(b, "PK\x03\x04", 4) == 0) ||
	       (n >= 4 && memcmp(b, "PK\x05\x06", 4) == 0) || /* empty zip */
	       (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) ||
	       (n >= 3 && memcmp(b, "BZh", 3) == 0) ||
	       (n >= 6 && memcmp(b, "\xfd" "7zXZ\0", 6) == 0) ||
	       (n >= 4 && memcmp(b, "\x28\xb5\x2f\xfd", 4) == 0) ||
	       (n >= 262 && memcmp(b + 257, "ustar", 5) == 0);
}

/* Does the zip file end with its end-of-central-directory record (within
 * the last 22 + 65535 bytes, the largest comment)? */
static int zip_complete(const char *path)
{
	unsigned char *tail;
	struct stat sb;
	size_t n;
	ssize_t got;
	int fd, ok = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	if (fstat(fd, &sb) != 0 || sb.st_size < 22) {
		close(fd);
		return 0;
	}
	n = (uint64_t)sb.st_size < 22 + 65535 ? (size_t)sb.st_size : 22 + 65535;
	if ((tail = malloc(n))) {
		got = pread(fd, tail, n, sb.st_size - (off_t)n);
		for (ssize_t i = got - 22; got == (ssize_t)n && i >= 0 && !ok; i--)
			ok = memcmp(tail + i, "PK\x05\x06", 4) == 0 &&
			     (size_t)i + 22 + (size_t)(tail[i + 20] | tail[i + 21] << 8) == n;
		free(tail);
	}
	close(fd);
	return ok;
}

/* Read from fd into data until it holds `until` bytes or the file ends. */
static int read_until(int fd, dd_buf *data, size_t until, size_t max, const char *path,
		      int *eof, dd_error *err)
{
	while (data->len < until) {
		ssize_t n;
		if (dd_buf_grow(data, until - data->len)) /* (and room for a NUL) */
			return dd_buf_error(data, err, path);
		n = read(fd, data->data + data->len, until - data->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return dd_error_set(err, DD_EENV, "reading %s: %s", path, strerror(errno));
		if (n == 0) {
			*eof = 1;
			break;
		}
		data->len += (size_t)n;
		if (data->len > max)
			return dd_error_set(err, DD_EINPUT, "%s: larger than the limit of %zu bytes",
					    path, max);
	}
	if (dd_buf_grow(data, 0))
		return dd_buf_error(data, err, path);
	data->data[data->len] = '\0';
	return 0;
}

static int process_file(dd_vimport *im, const char *path, int explicit_file, dd_error *err)
{
	dd_buf *data = &im->file;
	size_t max = im->opts->max_file ? im->opts->max_file : DEFAULT_MAX_FILE;
	size_t size;
	struct stat sb;
	int fd, rc, eof = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return dd_error_set(err, errno == ENOENT ? DD_EINPUT : DD_EENV, "cannot open %s: %s",
				    path, strerror(errno));
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return dd_error_set(err, DD_EINPUT, "%s: not a regular file", path);
	}
	/* An archive is read by libarchive (and may be larger than the
	 * limit of one feed file): sniff its first bytes only. */
	size = (uint64_t)sb.st_size < (uint64_t)max ? (size_t)sb.st_size : max;
	dd_buf_reset(data);
	data->max = max;
	if ((rc = read_until(fd, data, size < 65536 ? size : 65536, (size_t)-2, path, &eof, err))) {
		close(fd);
		return rc;
	}
	if (data->len >= 4 && memcmp(data->data, "PK\x03\x04", 4) == 0 && !zip_complete(path)) {
		close(fd);
		/* libarchive streams zip members from their local headers and
		 * does not notice a missing central directory. */
		if (explicit_file)
			return dd_error_set(err, DD_EINPUT, "%s: truncated zip archive (no end of "
					    "central directory record)", path);
		return dd_vimport_skip(im, path, "-", err, "truncated zip archive");
	}
	if (is_archive_magic((const unsigned char *)data->data, data->len)) {
		close(fd);
		return process_archive(im, path, explicit_file, err);
	}
	if ((unsigned long long)sb.st_size > max) {
		close(fd);
		return dd_error_set(err, DD_EINPUT, "%s: %lld bytes is larger than the limit of %zu",
				    path, (long long)sb.st_size, max);
	}
	/* The rest through the same descriptor (one open per file: thousands
	 * of small records in a directory): the file as large as it was at
	 * open, without a read to find its end.  A size of 0 (not a plain
	 * disk file) is read to its end. */
	rc = eof ? 0 : read_until(fd, data, size, max, path, &eof, err);
	while (rc == 0 && !eof && sb.st_size == 0 && data->len < max) {
		size = data->len + 65536 < max ? data->len + 65536 : max;
		rc = read_until(fd, data, size, max, path, &eof, err);
	}
	close(fd);
	if (rc == 0)
		rc = process_blob(im, path, data->data ? data->data : "", data->len, explicit_file,
				  err);
	/* Keep the memory for the next file, unless it was a big one. */
	if (data->cap > ((size_t)1 << 24))
		dd_buf_release(data);
	return rc;
}

/* Directory entries are stored as one byte of d_type, then the name. */
static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a + 1, *(char *const *)b + 1);
}

static int process_path(dd_vimport *im, const char *path, int explicit_file, int depth,
			dd_error *err);

static int process_dir(dd_vimport *im, const char *path, int depth, dd_error *err)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	dd_buf child = DD_BUF_INIT;
	int rc = 0;

	if (depth > MAX_DEPTH)
		return dd_error_set(err, DD_EINPUT, "%s: directories nested deeper than %d", path,
				    MAX_DEPTH);
	if (!(d = opendir(path)))
		return dd_error_set(err, DD_EENV, "cannot read directory %s: %s", path,
				    strerror(errno));
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		/* Regular files that are not feeds are never looked at. */
		if (de->d_type == DT_REG && !wanted_name(de->d_name))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64, bytes;
			char **nn;
			if (dd_mul_size(&bytes, ncap, sizeof(*nn)) || !(nn = realloc(names, bytes))) {
				rc = dd_error_oom(err);
				goto done;
			}
			names = nn;
			cap = ncap;
		}
		size_t len = strlen(de->d_name);
		if (!(names[n] = malloc(len + 2))) {
			rc = dd_error_oom(err);
			goto done;
		}
		names[n][0] = (char)de->d_type;
		memcpy(names[n] + 1, de->d_name, len + 1);
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n && !rc; i++) {
		dd_buf_reset(&child);
		dd_buf_puts(&child, path);
		if (!has_suffix(path, "/"))
			dd_buf_putc(&child, '/');
		dd_buf_puts(&child, names[i] + 1);
		if ((rc = dd_buf_error(&child, err, "path")))
			break;
		/* The entry's type from readdir() spares an lstat() per file
		 * (process_file opens with O_NOFOLLOW and checks it again). */
		if (names[i][0] == DT_REG)
			rc = process_file(im, child.data, 0, err);
		else if (names[i][0] == DT_DIR)
			rc = process_dir(im, child.data, depth + 1, err);
		else
			rc = process_path(im, child.data, 0, depth + 1, err);
	}
done:
	closedir(d);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	dd_buf_release(&child);
	return rc;
}

static int process_path(dd_vimport *im, const char *path, int explicit_file, int depth,
			dd_error *err)
{
	struct stat sb;
	if (lstat(path, &sb) != 0)
		return dd_error_set(err, errno == ENOENT ? DD_EINPUT : DD_EENV, "cannot read %s: %s",
				    path, strerror(errno));
	if (S_ISLNK(sb.st_mode) && explicit_file) {
		/* A symlink named on the command line is followed. */
		char *real = realpath(path, NULL);
		int rc;
		if (!real)
			return dd_error_set(err, DD_EINPUT, "cannot read %s: %s", path,
					    strerror(errno));
		rc = process_path(im, real, explicit_file, depth + 1, err);
		free(real);
		return rc;
	}
	if (S_ISDIR(sb.st_mode))
		return process_dir(im, path, depth, err);
	if (!S_ISREG(sb.st_mode)) {
		if (explicit_file)
			return dd_error_set(err, DD_EINPUT, "%s: not a regular file or directory",
					    path);
		return 0; /* symlinks and specials inside directories are not followed */
	}
	if (!explicit_file && !wanted_name(path))
		return 0;
	return process_file(im, path, explicit_file, err);
}

/* Common end of an import: sanity checks, counts, commit. */
static int finish(dd_vimport *im, const char *what, dd_error *err)
{
	dd_vulndb_import_stats *st = im->st;
	dd_vulndb_source_meta meta;
	int rc;

	for (size_t i = 0; i < im->opts->n_delete; i++) {
		int found = 0;
		if ((rc = dd_vulndb_delete_advisory(im->db, im->opts->delete_ids[i], &found, err))) {
			dd_vulndb_source_rollback(im->db);
			return rc;
		}
		st->deleted += found;
	}
	if (st->files == 0 && !im->opts->incremental) {
		dd_vulndb_source_rollback(im->db);
		return dd_error_set(err, DD_EINPUT, "%s: no vulnerability feed files found%s", what,
				    st->last_error[0] ? " (see the warnings above)" : "");
	}
	if ((rc = dd_vulndb_source_counts(im->db, &st->advisories, &st->affected, err))) {
		dd_vulndb_source_rollback(im->db);
		return rc;
	}
	if (st->records > 0 && st->advisories == 0) {
		dd_vulndb_source_rollback(im->db);
		return dd_error_set(err, DD_EINPUT, "%s: all %lld records were malformed; "
				    "source '%s' left unchanged (last: %s)", what,
				    (long long)st->records, im->opts->source, st->last_error);
	}
	memset(&meta, 0, sizeof(meta));
	meta.records = st->records;
	meta.skipped = st->skipped;
	meta.last_error = st->last_error[0] ? st->last_error : NULL;
	meta.kind = st->kind[0] ? st->kind : NULL;
	meta.url = im->opts->url;
	meta.etag = im->opts->etag;
	meta.last_modified = im->opts->last_modified;
	meta.cursor = im->opts->cursor;
	if (im->opts->kind && *im->opts->kind && st->kind[0] &&
	    strcmp(im->opts->kind, st->kind) != 0) {
		dd_vulndb_source_rollback(im->db);
		return dd_error_set(err, DD_EINPUT, "%s: expected a %s feed for source '%s', found "
				    "%s; source left unchanged", what, im->opts->kind,
				    im->opts->source, st->kind);
	}
	return dd_vulndb_source_commit(im->db, &meta, err);
}

static int begin(dd_vimport *im, dd_vulndb *db, const dd_vulndb_import_opts *opts,
		 dd_vulndb_import_stats *st, dd_error *err)
{
	memset(st, 0, sizeof(*st));
	memset(im, 0, sizeof(*im));
	im->db = db;
	im->opts = opts;
	im->st = st;
	if (!opts->source || !*opts->source)
		return dd_error_set(err, DD_EUSAGE, "import: no source name");
	if (opts->incremental)
		return dd_vulndb_source_begin_incremental(db, opts->source, NULL, opts->url, err);
	return dd_vulndb_source_begin(db, opts->source, NULL, opts->url, err);
}

int dd_vulndb_import_paths(dd_vulndb *db, const char *const *paths, size_t n,
			   const dd_vulndb_import_opts *opts, dd_vulndb_import_stats *st,
			   dd_error *err)
{
	dd_vimport im;
	int rc;
	if ((rc = begin(&im, db, opts, st, err)))
		return rc;
	for (size_t i = 0; i < n; i++) {
		if ((rc = process_path(&im, paths[i], 1, 0, err))) {
			dd_vulndb_source_rollback(db);
			dd_buf_release(&im.file);
			return rc;
		}
	}
	dd_buf_release(&im.file);
	return finish(&im, n == 1 ? paths[0] : opts->source, err);
}

int dd_vulndb_import_buffer(dd_vulndb *db, const char *name, const void *data, size_t len,
			    const dd_vulndb_import_opts *opts, dd_vulndb_import_stats *st,
			    dd_error *err)
{
	dd_vimport im;
	int rc;
	if ((rc = begin(&im, db, opts, st, err)))
		return rc;
	if ((rc = process_blob(&im, name, data, len, 1, err))) {
		dd_vulndb_source_rollback(db);
		return rc;
	}
	return finish(&im, name, err);
}
