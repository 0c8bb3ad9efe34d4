/*
 * watch.h - the base-image update loop: detect -> order -> rebuild ->
 * validate -> redeploy (docs/watch.md).
 *
 * One pass (dd_watch_pass) checks every tracked tag (or those a webhook
 * named), records what moved in the state DB, opens a round for the
 * changes whose debounce has passed, and works through it: every image
 * built on a changed one is rebuilt once, bases first; each rebuilt image
 * is scanned and held back when it fails the fleet's policy; the images
 * that pass are written to the GitOps repositories (one commit per round)
 * and set on the kubectl targets.  Every step is committed to the state
 * DB before the next starts, and a round left unfinished by a crash is
 * resumed first: a build that was running is run again, a deployment that
 * was done is not redone (git commits carry a Drydock-Change trailer that
 * is looked for before committing).
 *
 * After the vulnerability DB changes, the kept inventories of every
 * tracked and deployed image are matched again and the images that became
 * affected are reported (without pulling them).
 *
 * Memory: dd_watch_new() borrows the fleet (it must outlive the watcher)
 * and owns everything else; dd_watch_free() releases it.
 */
#ifndef DD_WATCH_WATCH_H
#define DD_WATCH_WATCH_H

#include <signal.h>
#include <stdio.h>

#include "util/error.h"
#include "watch/fleet.h"

typedef struct dd_watch dd_watch;

typedef struct dd_watch_opts {
	const char *state_path; /* NULL: fleet watch.state, else the default */
	const char *db_path;    /* NULL: fleet policy.db, else the default DB */
	const char *workdir;    /* builds, git clones; NULL: next to the state */
	FILE *log;              /* structured log lines (JSON), NULL: none */
	int quiet;
} dd_watch_opts;

/* What a pass did (counts since dd_watch_new for the daemon). */
typedef struct dd_watch_report {
	size_t checked, changes, builds, succeeded, blocked, failed, skipped;
	size_t commits, deploys, newly_affected, poll_errors, deploy_errors;
} dd_watch_report;

int dd_watch_new(dd_watch **out, const dd_fleet *fleet, const dd_watch_opts *o, dd_error *err);
void dd_watch_free(dd_watch *w);

/*
 * One pass: check every tracked tag, handle the changes (no debounce wait:
 * for `--once`), re-match when the DB changed.  Returns 0 with *rep
 * filled; errors of single images (a registry down, a build failing) are
 * logged and counted, not returned.
 */
int dd_watch_pass(dd_watch *w, dd_watch_report *rep, dd_error *err);

/* The daemon: poll on each registry's interval with jitter, take
 * webhooks and serve /metrics on fleet watch.listen, debounce, until
 * *stop becomes non-zero. */
int dd_watch_run(dd_watch *w, volatile sig_atomic_t *stop, dd_watch_report *rep, dd_error *err);

/* `drydock watch status`: what is tracked, last checks, pending and recent
 * builds, as text or JSON, to fp. */
int dd_watch_status(const dd_fleet *fleet, const char *state_path, int json, FILE *fp,
		    dd_error *err);

#endif
