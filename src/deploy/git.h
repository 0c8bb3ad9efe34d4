/*
 * git.h - GitOps redeploy: pin image digests in a git repository's YAML
 * files, commit, push (libgit2; docs/deploy.md).
 *
 * The work directory is a bare cache repository: every run fetches the
 * remote branches, builds the new tree in memory from the remote tip (no
 * working tree, nothing left half-written by a crash), commits and pushes
 * fast-forward only.  If the push is refused because the remote moved, the
 * run fetches and redoes the edit once.
 *
 * Exactly once: the commit message ends with the trailer line
 * "Drydock-Change: ID".  Before committing, the last DD_DEPLOY_GIT_HISTORY
 * commits of the push branch (and of the base branch) are searched for that
 * trailer; when found, that commit is the result and nothing new is made.
 * A retry after a crash at any point therefore commits at most once.
 *
 * Credentials: none for local paths and file:// URLs; for https the token
 * in $DRYDOCK_GIT_TOKEN (user $DRYDOCK_GIT_USERNAME, else the URL's user,
 * else "x-access-token"); for ssh the ssh-agent.
 *
 * Memory: the caller owns every argument; the result is a value.
 */
#ifndef DD_DEPLOY_GIT_H
#define DD_DEPLOY_GIT_H

#include <stddef.h>

#include "deploy/yamledit.h"
#include "util/error.h"
#include "watch/fleet.h"

#define DD_DEPLOY_GIT_HISTORY 200 /* commits searched for the trailer */
#define DD_DEPLOY_CHANGE_ID_MAX 200

enum dd_deploy_outcome {
	DD_DEPLOY_NO_CHANGE = 0, /* every reference already pinned: no commit */
	DD_DEPLOY_COMMITTED = 1, /* a new commit was pushed */
	DD_DEPLOY_ALREADY = 2,   /* a commit with this change id was already there */
};

typedef struct dd_deploy_result {
	enum dd_deploy_outcome outcome;
	char commit[41];  /* hex id of the commit pushed or found; "" for no change */
	size_t files;     /* files changed by the new commit */
	size_t changes;   /* values changed or keys added */
} dd_deploy_result;

/*
 * Update the repository g to the n image digests of u.
 *
 * workdir: the cache repository's directory (created when missing; reused
 *          and fetched when it exists).
 * message: the commit message (subject, blank line, body); the trailer
 *          "Drydock-Change: change_id" is appended.
 * change_id: one printable line of at most DD_DEPLOY_CHANGE_ID_MAX bytes
 *          naming this change (the caller keeps it across restarts).
 *
 * Files considered: every *.yaml / *.yml blob under g->paths (files or
 * directories; empty = the whole tree).  A file that is not valid YAML is
 * skipped with a warning.  Returns 0 with *out filled; DD_EUSAGE for bad
 * arguments; DD_EENV for git or network failures (message names the URL
 * and branch); DD_EINTERNAL when an edit failed its own check.
 */
int dd_deploy_git(const dd_fleet_git *g, const char *workdir, const dd_image_update *u,
		  size_t n, const char *message, const char *change_id, dd_deploy_result *out,
		  dd_error *err);

/* Name of an outcome: "no change", "committed", "already committed". */
const char *dd_deploy_outcome_name(enum dd_deploy_outcome o);

#endif
