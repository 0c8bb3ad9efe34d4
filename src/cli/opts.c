/* opts.c - declarative option parsing and help (see cli.h). */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/layercache.h"
#include "util/log.h"
#include "util/banned.h"

static const struct dd_opt *find_long(const struct dd_opt *o, const char *name, size_t n)
{
	for (; o && o->name; o++)
		if (strlen(o->name) == n && strncmp(o->name, name, n) == 0)
			return o;
	return NULL;
}

static const struct dd_opt *find_short(const struct dd_opt *o, char c)
{
	for (; o && o->name; o++)
		if (o->shortc && o->shortc == c)
			return o;
	return NULL;
}

static int parse_u64(const char *s, int sized, uint64_t *out)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	if (sized && *end) {
		switch (*end) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		case 't': case 'T': shift = 40; break;
		default: return -1;
		}
		end++;
		if (*end == 'i')
			end++;
		if (*end == 'B' || *end == 'b')
			end++;
	}
	if (*end)
		return -1;
	if (shift && v > (~0ULL >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int set_opt(const struct dd_cmdspec *spec, const struct dd_opt *o, const char *val,
		   dd_error *err)
{
	switch (o->kind) {
	case DD_OPT_FLAG:
		*(int *)o->dst = 1;
		return 0;
	case DD_OPT_STR:
		*(const char **)o->dst = val;
		return 0;
	case DD_OPT_SIZE:
	case DD_OPT_UINT:
		if (parse_u64(val, o->kind == DD_OPT_SIZE, (uint64_t *)o->dst))
			return dd_error_set(err, DD_EUSAGE, "%s: --%s: '%s' is not a valid %s",
					    spec->name, o->name, val,
					    o->kind == DD_OPT_SIZE ? "size" : "number");
		return 0;
	}
	return DD_EINTERNAL;
}

int dd_opts_parse(const struct dd_cmdspec *spec, int argc, char **argv, int *npos,
		  dd_error *err)
{
	int n = 0, only_pos = 0;

	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		const struct dd_opt *o;
		const char *val = NULL;

		if (only_pos || a[0] != '-' || a[1] == '\0') {
			argv[1 + n++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			dd_opts_help(spec, stdout);
			return 1;
		}
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
			o = find_long(spec->opts, a + 2, len);
			if (!o)
				return dd_error_set(err, DD_EUSAGE,
						    "%s: unknown option '%.*s' (see 'drydock %s --help')",
						    spec->name, (int)len + 2, a, spec->name);
			if (eq) {
				if (o->kind == DD_OPT_FLAG)
					return dd_error_set(err, DD_EUSAGE, "%s: --%s takes no value",
							    spec->name, o->name);
				val = eq + 1;
			}
		} else {
			o = find_short(spec->opts, a[1]);
			if (!o)
				return dd_error_set(err, DD_EUSAGE,
						    "%s: unknown option '-%c' (see 'drydock %s --help')",
						    spec->name, a[1], spec->name);
			if (a[2]) {
				if (o->kind == DD_OPT_FLAG)
					return dd_error_set(err, DD_EUSAGE, "%s: -%c takes no value",
							    spec->name, a[1]);
				val = a + 2;
			}
		}
		if (o->kind != DD_OPT_FLAG && !val) {
			if (i + 1 >= argc)
				return dd_error_set(err, DD_EUSAGE, "%s: --%s needs a value (%s)",
						    spec->name, o->name, o->argname ? o->argname : "VALUE");
			val = argv[++i];
		}
		int rc = set_opt(spec, o, val, err);
		if (rc)
			return rc;
	}
	*npos = n;
	return 0;
}

void dd_opts_help(const struct dd_cmdspec *spec, FILE *out)
{
	fprintf(out, "usage: drydock %s %s\n\n%s\n", spec->name, spec->usage, spec->summary);
	if (spec->details)
		fprintf(out, "\n%s\n", spec->details);
	fprintf(out, "\noptions:\n");
	for (const struct dd_opt *o = spec->opts; o && o->name; o++) {
		char left[64];
		if (o->shortc)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->shortc, o->name, o->argname ? " " : "",
				 o->argname ? o->argname : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->argname ? " " : "",
				 o->argname ? o->argname : "");
		fprintf(out, "  %-30s %s\n", left, o->help);
	}
	fprintf(out, "  %-30s %s\n", "-h, --help", "show this help");
}

static dd_layercache *g_cache;

static void close_cache(void)
{
	dd_layercache_close(g_cache);
	g_cache = NULL;
}

/* The layer cache, opened once per process; NULL when turned off
 * (DRYDOCK_NO_CACHE=1) or unusable (a warning says why). */
static dd_layercache *layer_cache(void)
{
	static int tried;
	const char *off = getenv("DRYDOCK_NO_CACHE");
	dd_error e = DD_ERROR_INIT;

	if (tried || (off && *off && strcmp(off, "0")))
		return g_cache;
	tried = 1;
	if (dd_layercache_open(&g_cache, NULL, &e)) {
		dd_warn("working without the layer cache: %s", e.msg);
		return NULL;
	}
	atexit(close_cache);
	return g_cache;
}

int dd_image_cli_apply(struct dd_image_cli *c, dd_image_opts *o, dd_error *err)
{
	int rc = dd_registry_cli_apply(&c->reg, &c->ropts, err);
	if (rc)
		return rc;
	o->registry = &c->ropts;
	o->cache = layer_cache();
	o->platform = c->platform;
	if (c->max_total)
		o->limits.max_total_bytes = c->max_total;
	if (c->max_entries)
		o->limits.max_entries = c->max_entries;
	if (c->max_file)
		o->limits.max_file_bytes = c->max_file;
	return 0;
}

int dd_output_open(dd_output *o, const char *path, dd_error *err)
{
	o->fp = stdout;
	o->path = o->tmp = NULL;
	if (!path || strcmp(path, "-") == 0)
		return 0;
	size_t n = strlen(path) + 32;
	o->path = strdup(path);
	o->tmp = malloc(n);
	if (!o->path || !o->tmp) {
		free(o->path);
		free(o->tmp);
		return dd_error_oom(err);
	}
	snprintf(o->tmp, n, "%s.tmp.%ld", path, (long)getpid());
	o->fp = fopen(o->tmp, "wx");
	if (!o->fp) {
		int e = errno;
		free(o->path);
		free(o->tmp);
		o->path = o->tmp = NULL;
		return dd_error_set(err, DD_EENV, "cannot write %s: %s", path, strerror(e));
	}
	return 0;
}

int dd_output_close(dd_output *o, int rc, dd_error *err)
{
	if (!o->path) {
		if (fflush(stdout) != 0 && rc == 0)
			rc = dd_error_set(err, DD_EENV, "writing standard output: %s", strerror(errno));
		return rc;
	}
	if (fclose(o->fp) != 0 && rc == 0)
		rc = dd_error_set(err, DD_EENV, "writing %s: %s", o->path, strerror(errno));
	if (rc == 0 && rename(o->tmp, o->path) != 0)
		rc = dd_error_set(err, DD_EENV, "cannot write %s: %s", o->path, strerror(errno));
	if (rc != 0)
		unlink(o->tmp);
	free(o->path);
	free(o->tmp);
	o->path = o->tmp = NULL;
	return rc;
}

int dd_cli_color(FILE *fp)
{
	const char *nc = getenv("NO_COLOR");
	if (nc && *nc)
		return 0;
	return isatty(fileno(fp));
}
