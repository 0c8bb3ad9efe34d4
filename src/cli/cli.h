/*
 * cli.h - the command table and the declarative option parser shared by
 * every subcommand (one file per subcommand in src/cli/).
 *
 * A command declares its options once, in a dd_opt table; the same table
 * parses argv and prints --help, so help cannot drift from the parser.
 * Commands return a DD_E* code (0 on success); main() maps it to the exit
 * status of docs/cli.md and prints the error message, once, on stderr.
 */
#ifndef DD_CLI_CLI_H
#define DD_CLI_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "image/image.h"
#include "registry/registry.h"
#include "util/error.h"

enum dd_opt_kind {
	DD_OPT_FLAG,  /* int, set to 1 */
	DD_OPT_STR,   /* const char *, borrowed from argv */
	DD_OPT_SIZE,  /* uint64_t, accepts K/M/G/T suffixes (powers of 1024) */
	DD_OPT_UINT,  /* uint64_t */
};

struct dd_opt {
	const char *name;     /* long name without "--" */
	char shortc;          /* 0 when none */
	enum dd_opt_kind kind;
	void *dst;
	const char *argname;  /* "FILE", "FORMAT"; NULL for flags */
	const char *help;
};

struct dd_cmd {
	const char *name;
	int (*run)(int argc, char **argv, dd_error *err);
	const char *summary;  /* one line for `drydock help` */
};

struct dd_cmdspec {
	const char *name;     /* "inspect" */
	const char *usage;    /* "IMAGE [options]" */
	const char *summary;
	const char *details;  /* paragraphs after the usage line; may be NULL */
	const struct dd_opt *opts; /* terminated by {0} */
};

/* Parse argv[1..] against spec.  Positional arguments are compacted into
 * argv[1..*npos].  Returns 0, 1 when --help was printed (command should
 * return 0), or DD_EUSAGE with err filled. */
int dd_opts_parse(const struct dd_cmdspec *spec, int argc, char **argv, int *npos,
		  dd_error *err);
void dd_opts_help(const struct dd_cmdspec *spec, FILE *out);



/* Registry options (registry references, resolve, copy). */
struct dd_registry_cli {
	const char *tls_verify, *ca_file, *cert_dir, *username;
	int password_stdin;
	char *password; /* read from stdin by dd_registry_cli_apply */
};
#define DD_REGISTRY_CLI_OPTS(s)                                                                  \
	{ "tls-verify", 0, DD_OPT_STR, &(s).tls_verify, "BOOL",                                   \
	  "verify TLS certificates (default true); false also allows plain HTTP" },               \
	{ "ca-file", 0, DD_OPT_STR, &(s).ca_file, "FILE", "trust the CA certificates in FILE" },  \
	{ "cert-dir", 0, DD_OPT_STR, &(s).cert_dir, "DIR", "trust the CA certificates in DIR" },  \
	{ "username", 'u', DD_OPT_STR, &(s).username, "USER", "registry user name" },             \
	{ "password-stdin", 0, DD_OPT_FLAG, &(s).password_stdin, NULL,                            \
	  "read the registry password from standard input" }
int dd_registry_cli_apply(struct dd_registry_cli *c, dd_registry_opts *o, dd_error *err);
void dd_registry_cli_release(struct dd_registry_cli *c);

/* Options every image-reading command takes: platform, limits, and the
 * registry options (images may live in a registry). */
struct dd_image_cli {
	const char *platform;
	uint64_t max_total, max_entries, max_file;
	struct dd_registry_cli reg;
	dd_registry_opts ropts;
};
#define DD_IMAGE_CLI_OPTS(s)                                                                     \
	{ "platform", 0, DD_OPT_STR, &(s).platform, "OS/ARCH[/VARIANT]",                          \
	  "choose this platform from a multi-platform index (default: the host's)" },             \
	{ "max-image-size", 0, DD_OPT_SIZE, &(s).max_total, "SIZE",                               \
	  "refuse images whose layers uncompress to more than SIZE (default 64G)" },              \
	{ "max-entries", 0, DD_OPT_UINT, &(s).max_entries, "N",                                   \
	  "refuse images with more than N tar entries in all (default 4000000)" },                \
	{ "max-file-size", 0, DD_OPT_SIZE, &(s).max_file, "SIZE",                                 \
	  "refuse any single file larger than SIZE (default 16G)" },                              \
	DD_REGISTRY_CLI_OPTS((s).reg)
/* Fill o from the parsed options (reads --password-stdin) and the layer
 * cache (opened once per process, unless DRYDOCK_NO_CACHE=1). */
int dd_image_cli_apply(struct dd_image_cli *c, dd_image_opts *o, dd_error *err);

/* Open the output named by -o (atomically replaced on success) or stdout. */
typedef struct dd_output {
	FILE *fp;
	char *path;     /* final path, NULL for stdout */
	char *tmp;      /* temporary path next to it */
} dd_output;
int dd_output_open(dd_output *o, const char *path, dd_error *err);
/* Commit (rename into place) when rc == 0, else discard.  Returns rc or an
 * I/O error. */
int dd_output_close(dd_output *o, int rc, dd_error *err);

/* Colour is used only on a TTY and never when NO_COLOR is set. */
int dd_cli_color(FILE *fp);

/* The commands (one file each). */
int dd_cmd_inspect(int argc, char **argv, dd_error *err);
int dd_cmd_sbom(int argc, char **argv, dd_error *err);
int dd_cmd_resolve(int argc, char **argv, dd_error *err);
int dd_cmd_copy(int argc, char **argv, dd_error *err);
int dd_cmd_cache(int argc, char **argv, dd_error *err);
int dd_cmd_ls(int argc, char **argv, dd_error *err);
int dd_cmd_version_cmp(int argc, char **argv, dd_error *err);
int dd_cmd_db(int argc, char **argv, dd_error *err);
int dd_cmd_scan(int argc, char **argv, dd_error *err);
int dd_cmd_rescan(int argc, char **argv, dd_error *err);
int dd_cmd_lineage(int argc, char **argv, dd_error *err);
int dd_cmd_watch(int argc, char **argv, dd_error *err);

#endif
