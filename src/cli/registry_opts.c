/* registry_opts.c - the registry options shared by commands (see cli.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/buf.h"
#include "util/banned.h"

int dd_registry_cli_apply(struct dd_registry_cli *c, dd_registry_opts *o, dd_error *err)
{
	dd_registry_opts_init(o);
	if (c->tls_verify) {
		if (!strcmp(c->tls_verify, "false") || !strcmp(c->tls_verify, "0"))
			o->tls_verify = 0;
		else if (strcmp(c->tls_verify, "true") && strcmp(c->tls_verify, "1"))
			return dd_error_set(err, DD_EUSAGE, "--tls-verify takes true or false, not '%s'",
					    c->tls_verify);
	}
	o->ca_file = c->ca_file;
	o->cert_dir = c->cert_dir;
	if (c->password_stdin && !c->username)
		return dd_error_set(err, DD_EUSAGE, "--password-stdin needs --username");
	if (c->username) {
		dd_buf pw = DD_BUF_INIT_MAX(65536);
		char chunk[4096];
		ssize_t n;
		if (!c->password_stdin)
			return dd_error_set(err, DD_EUSAGE,
					    "--username needs --password-stdin (passwords never go on the command line)");
		while ((n = read(0, chunk, sizeof(chunk))) > 0)
			dd_buf_append(&pw, chunk, (size_t)n);
		if (n < 0 || pw.failed) {
			dd_buf_release(&pw);
			return dd_error_set(err, DD_EUSAGE, "cannot read the password from standard input");
		}
		while (pw.len && (pw.data[pw.len - 1] == '\n' || pw.data[pw.len - 1] == '\r'))
			pw.data[--pw.len] = '\0';
		c->password = dd_buf_detach(&pw, NULL);
		o->username = c->username;
		o->password = c->password;
	}
	return 0;
}

void dd_registry_cli_release(struct dd_registry_cli *c)
{
	if (c->password) {
		memset(c->password, 0, strlen(c->password));
		free(c->password);
		c->password = NULL;
	}
}
