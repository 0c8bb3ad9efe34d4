/*
 * watch.c - `drydock watch`: rebuild, validate and redeploy the images
 * built on a base image when the base is updated (src/watch/watch.h,
 * docs/watch.md).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "watch/fleet.h"
#include "watch/watch.h"
#include "util/banned.h"

static struct {
	const char *config, *state, *db, *format, *log;
	int once;
} o;

static const struct dd_opt opts[] = {
	{ "config", 'c', DD_OPT_STR, &o.config, "FLEET", "the fleet file (YAML, docs/watch.md)" },
	{ "once", 0, DD_OPT_FLAG, &o.once, NULL,
	  "check every tracked tag once, handle what changed, and exit (cron, CI)" },
	{ "state", 0, DD_OPT_STR, &o.state, "PATH",
	  "the state DB (default: the fleet's watch.state, else $XDG_STATE_HOME/drydock/watch.sqlite)" },
	{ "db", 0, DD_OPT_STR, &o.db, "PATH", "the vulnerability DB (default: the fleet's policy.db)" },
	{ "log", 0, DD_OPT_STR, &o.log, "FILE", "append the JSON log lines to FILE instead of stderr" },
	{ "format", 'f', DD_OPT_STR, &o.format, "FORMAT",
	  "summary (--once) and status output: table (default) or json" },
	{ 0 },
};

static const struct dd_cmdspec spec = {
	"watch", "[status] --config FLEET [options]",
	"Rebuild, validate and redeploy images when their base image is updated.",
	"Tracks the tags of the fleet file; when a base image's tag moves (seen by\n"
	"polling with HEAD requests, or a registry webhook), every image built on\n"
	"it is rebuilt once, bases first, scanned against the fleet's policy, and\n"
	"the images that pass are committed to the GitOps repositories by digest\n"
	"or set with kubectl.  The first check of a tag only records its digest.\n"
	"After 'drydock db update', the kept inventories of the tracked and\n"
	"deployed images are matched again and new findings are reported.\n"
	"Log lines are JSON on stderr.  'watch status' shows what is tracked,\n"
	"the last checks and the recent builds.\n\n"
	"exit status with --once: 0 nothing wrong, 1 a rebuilt image was blocked\n"
	"by the policy or a running image became affected, 4 a check, build or\n"
	"deployment failed.",
	opts,
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int dd_cmd_watch(int argc, char **argv, dd_error *err)
{
	dd_fleet *f = NULL;
	dd_watch *w = NULL;
	dd_watch_opts wo;
	dd_watch_report rep;
	FILE *log = NULL;
	int npos = 0, rc, json = 0, status = 0;

	memset(&o, 0, sizeof(o));
	memset(&rep, 0, sizeof(rep));
	rc = dd_opts_parse(&spec, argc, argv, &npos, err);
	if (rc)
		return rc > 0 ? 0 : rc;
	if (npos == 1 && strcmp(argv[1], "status") == 0)
		status = 1;
	else if (npos != 0)
		return dd_error_set(err, DD_EUSAGE, "watch: unexpected argument '%s' (see 'drydock watch --help')",
				    argv[1]);
	if (!o.config)
		return dd_error_set(err, DD_EUSAGE, "watch: --config FLEET is required");
	if (o.format && strcmp(o.format, "json") == 0)
		json = 1;
	else if (o.format && strcmp(o.format, "table") != 0)
		return dd_error_set(err, DD_EUSAGE, "watch: unknown format '%s' (table, json)", o.format);
	if ((rc = dd_fleet_load(&f, o.config, err)))
		return rc;
	if (status) {
		rc = dd_watch_status(f, o.state, json, stdout, err);
		goto done;
	}
	if (o.log && !(log = fopen(o.log, "a"))) {
		rc = dd_error_set(err, DD_EENV, "watch: cannot open %s for appending", o.log);
		goto done;
	}
	memset(&wo, 0, sizeof(wo));
	wo.state_path = o.state;
	wo.db_path = o.db;
	wo.log = log ? log : stderr;
	if ((rc = dd_watch_new(&w, f, &wo, err)))
		goto done;
	if (o.once) {
		rc = dd_watch_pass(w, &rep, err);
	} else {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		rc = dd_watch_run(w, &stop, &rep, err);
	}
	if (rc)
		goto done;
	if (json)
		printf("{\"checked\": %zu, \"changes\": %zu, \"builds\": %zu, \"succeeded\": %zu, "
		       "\"blocked\": %zu, \"failed\": %zu, \"skipped\": %zu, \"commits\": %zu, "
		       "\"deploys\": %zu, \"newly_affected\": %zu, \"check_errors\": %zu}\n",
		       rep.checked, rep.changes, rep.builds, rep.succeeded, rep.blocked, rep.failed,
		       rep.skipped, rep.commits, rep.deploys, rep.newly_affected, rep.poll_errors);
	else
		printf("checked %zu tag(s): %zu change(s); %zu rebuilt: %zu validated, %zu blocked, "
		       "%zu failed, %zu skipped; %zu commit(s), %zu kubectl update(s); %zu image(s) "
		       "newly affected\n",
		       rep.checked, rep.changes, rep.builds, rep.succeeded, rep.blocked, rep.failed,
		       rep.skipped, rep.commits, rep.deploys, rep.newly_affected);
	if (o.once) {
		if (rep.failed || rep.poll_errors || rep.deploy_errors)
			rc = dd_error_set(err, DD_EENV,
					  "watch: %zu check(s), %zu build(s), %zu deployment(s) failed (see the log)",
					  rep.poll_errors, rep.failed, rep.deploy_errors);
		else if (rep.blocked || rep.newly_affected)
			rc = dd_error_set(err, DD_EGATE,
					  "watch: %zu rebuilt image(s) blocked by the policy, %zu image(s) newly affected",
					  rep.blocked, rep.newly_affected);
	}
done:
	dd_watch_free(w);
	dd_fleet_free(f);
	if (log)
		fclose(log);
	return rc;
}
