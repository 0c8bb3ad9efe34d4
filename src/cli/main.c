/*
 * main.c - drydock's entry point: global options and the command table.
 * Each command lives in its own file (src/cli/<command>.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/log.h"
#include "util/banned.h"

static int cmd_help(int argc, char **argv, dd_error *err);
static int cmd_version(int argc, char **argv, dd_error *err);

static const struct dd_cmd commands[] = {
	{ "inspect", dd_cmd_inspect, "show an image's manifest, config and layers" },
	{ "sbom", dd_cmd_sbom, "list the OS packages of an image (table, JSON, CycloneDX, SPDX)" },
	{ "cache", dd_cmd_cache, "show or prune the layer cache" },
	{ "ls", dd_cmd_ls, "list an image's files (the squashed view) and their layers" },
	{ "copy", dd_cmd_copy, "copy an image between oci:, docker-archive: and registries" },
	{ "resolve", dd_cmd_resolve, "print the digest a registry reference points to" },
	{ "version-cmp", dd_cmd_version_cmp, "compare two versions with an ecosystem's ordering" },
	{ "db", dd_cmd_db, "import vulnerability feeds; show, export the vulnerability DB" },
	{ "scan", dd_cmd_scan, "find known vulnerabilities in an image or SBOM (table, JSON, SARIF, CycloneDX, OpenVEX)" },
	{ "rescan", dd_cmd_rescan, "re-match every scanned image against the current DB; list what changed" },
	{ "lineage", dd_cmd_lineage, "show each image's base chain and how each link was found" },
	{ "watch", dd_cmd_watch, "rebuild, validate and redeploy images when their base image is updated" },
	{ "help", cmd_help, "show help for drydock or one command" },
	{ "version", cmd_version, "print drydock's version" },
	{ NULL, NULL, NULL },
};

/* On a terminal, progress (DD_LOG_INFO) is one status line rewritten in
 * place; warnings and errors clear it first.  Off with DRYDOCK_PROGRESS=0,
 * TERM=dumb, or when standard error is not a terminal. */
static int status_shown;

static void clear_status(void)
{
	if (status_shown) {
		fputs("\r\033[K", stderr);
		status_shown = 0;
	}
}

static void tty_sink(enum dd_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	if (level == DD_LOG_INFO) {
		fprintf(stderr, "\r\033[K%.*s", 100, msg);
		status_shown = 1;
		return;
	}
	clear_status();
	fprintf(stderr, "drydock: %s%s\n", level == DD_LOG_WARN ? "warning: " : "", msg);
}

static void setup_progress(void)
{
	const char *p = getenv("DRYDOCK_PROGRESS"), *term = getenv("TERM");
	if ((p && !strcmp(p, "0")) || !isatty(2) || (term && !strcmp(term, "dumb")))
		return;
	dd_log_set_sink(tty_sink, NULL);
	dd_log_set_level(DD_LOG_INFO);
	atexit(clear_status);
}

static const struct dd_cmd *find_cmd(const char *name)
{
	for (const struct dd_cmd *c = commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: drydock [--version] [--help] <command> [<args>]\n"
		"\n"
		"drydock keeps container images free of known vulnerabilities.\n"
		"\n"
		"commands:\n");
	for (const struct dd_cmd *c = commands; c->name; c++)
		fprintf(out, "  %-14s %s\n", c->name, c->summary);
	fprintf(out,
		"\n"
		"images: oci:PATH[:TAG|@DIGEST], docker-archive:PATH, rootfs:PATH\n"
		"exit status: 0 ok, 1 gate failed, 2 usage, 3 bad input, 4 environment,\n"
		"             5 internal error (see docs/cli.md)\n"
		"'drydock <command> --help' shows a command's options.\n");
}

static int cmd_help(int argc, char **argv, dd_error *err)
{
	(void)err;
	if (argc > 1) {
		const struct dd_cmd *c = find_cmd(argv[1]);
		if (!c)
			return dd_error_set(err, DD_EUSAGE, "help: unknown command '%s'", argv[1]);
		if (c->run != cmd_help && c->run != cmd_version) {
			char *args[] = { argv[1], (char *)"--help", NULL };
			return c->run(2, args, err);
		}
	}
	usage(stdout);
	return 0;
}

static int cmd_version(int argc, char **argv, dd_error *err)
{
	(void)argc;
	(void)argv;
	(void)err;
	printf("drydock %s\n", DD_VERSION);
	return 0;
}

int main(int argc, char **argv)
{
	dd_error err = DD_ERROR_INIT;
	const struct dd_cmd *c;
	int rc;

	if (argc < 2) {
		usage(stderr);
		return dd_exit_code(DD_EUSAGE);
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		return cmd_version(argc - 1, argv + 1, &err);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(1, argv + 1, &err);
	c = find_cmd(argv[1]);
	if (!c) {
		fprintf(stderr, "drydock: '%s' is not a drydock command; see 'drydock help'\n",
			argv[1]);
		return dd_exit_code(DD_EUSAGE);
	}
	setup_progress();
	rc = c->run(argc - 1, argv + 1, &err);
	clear_status();
	if (rc < 0) {
		fprintf(stderr, "drydock: %s\n", err.msg[0] ? err.msg : dd_error_kind(rc));
		return dd_exit_code(rc);
	}
	return 0;
}
