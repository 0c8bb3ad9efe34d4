/*
 * version_cmp.c - `drydock version-cmp ECOSYSTEM A B`: compare two versions
 * with an ecosystem's ordering and print '<', '=' or '>'.  With '-' in
 * place of A B it reads "A B" pairs from standard input, one a line, and
 * answers each on its own line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "version/version.h"
#include "util/banned.h"

static int keep_going;

static const struct dd_opt opts[] = {
	{ "keep-going", 'k', DD_OPT_FLAG, &keep_going, NULL,
	  "with '-': answer '!' for a line with an invalid version (the error goes to "
	  "stderr) and go on; exit 3 at the end" },
	{ 0 },
};

static const struct dd_cmdspec spec = {
	"version-cmp", "ECOSYSTEM A B | ECOSYSTEM -",
	"compare two versions with an ecosystem's ordering; print <, = or >",
	"ECOSYSTEM is deb, rpm, apk, semver, pypi, maven or gem, or an OSV\n"
	"ecosystem name (Debian, Ubuntu, Alpine, Wolfi, Red Hat, AlmaLinux,\n"
	"Rocky Linux, SUSE, npm, crates.io, Go, PyPI, Maven, RubyGems, ...).\n"
	"With '-' instead of A B, reads \"A B\" pairs from standard input, one a\n"
	"line (blank lines are skipped), and prints one answer a line.\n"
	"A version the ecosystem's own tool rejects is an error (exit 3).\n"
	"Put '--' before versions that start with '-'.",
	opts,
};

static char symbol(int r)
{
	return r < 0 ? '<' : r > 0 ? '>' : '=';
}

static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Split line into exactly two whitespace-separated fields, in place. */
static int split_pair(char *line, char **a, char **b)
{
	char *p = line, *f[3];
	int n = 0;

	while (n < 3) {
		while (*p && is_space((unsigned char)*p))
			p++;
		if (!*p)
			break;
		f[n++] = p;
		while (*p && !is_space((unsigned char)*p))
			p++;
		if (*p)
			*p++ = '\0';
	}
	if (n == 0)
		return 0;
	if (n != 2)
		return -1;
	*a = f[0];
	*b = f[1];
	return 1;
}

static int compare_stdin(enum dd_ecosystem eco, dd_error *err)
{
	char *line = NULL, *a, *b;
	size_t cap = 0;
	unsigned long lineno = 0;
	int rc = 0, bad = 0, r, s;

	while (getline(&line, &cap, stdin) >= 0) {
		lineno++;
		if ((s = split_pair(line, &a, &b)) == 0)
			continue;
		if (s < 0)
			rc = dd_error_set(err, DD_EINPUT,
					  "version-cmp: stdin line %lu: expected two versions \"A B\"",
					  lineno);
		else if ((rc = dd_version_cmp(eco, a, b, &r, err)))
			dd_error_prefix(err, "version-cmp: stdin line %lu", lineno);
		if (rc && !keep_going)
			break;
		if (rc) {
			fprintf(stderr, "drydock: %s\n", err->msg);
			bad = rc;
			rc = 0;
			puts("!");
			continue;
		}
		putchar(symbol(r));
		putchar('\n');
	}
	if (!rc && bad)
		rc = dd_error_set(err, bad, "version-cmp: some lines had invalid versions");
	if (!rc && ferror(stdin))
		rc = dd_error_set(err, DD_EENV, "version-cmp: error reading standard input");
	free(line);
	if (fflush(stdout) && !rc)
		rc = dd_error_set(err, DD_EENV, "version-cmp: cannot write standard output");
	return rc;
}

int dd_cmd_version_cmp(int argc, char **argv, dd_error *err)
{
	enum dd_ecosystem eco;
	int npos, rc, r;

	if ((rc = dd_opts_parse(&spec, argc, argv, &npos, err)))
		return rc == 1 ? 0 : rc;
	if (npos != 2 && npos != 3)
		return dd_error_set(err, DD_EUSAGE,
				    "version-cmp: expected ECOSYSTEM A B or ECOSYSTEM - "
				    "(see 'drydock version-cmp --help')");
	if (dd_ecosystem_from_name(argv[1], &eco))
		return dd_error_set(err, DD_EUSAGE,
				    "version-cmp: unknown ecosystem '%s' (deb, rpm, apk, semver, "
				    "pypi, maven, gem, or an OSV ecosystem name)", argv[1]);
	if (npos == 2) {
		if (strcmp(argv[2], "-") != 0)
			return dd_error_set(err, DD_EUSAGE,
					    "version-cmp: expected ECOSYSTEM A B or ECOSYSTEM -");
		return compare_stdin(eco, err);
	}
	if ((rc = dd_version_cmp(eco, argv[2], argv[3], &r, err)))
		return dd_error_prefix(err, "version-cmp");
	printf("%c\n", symbol(r));
	return 0;
}
