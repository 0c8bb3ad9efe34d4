/*
 * internal.h - what the build backends share (not a public interface).
 *
 * proc.c     running a program without a shell, output into the build log
 * build.c    dispatch, the context (directory or git clone), the Dockerfile's
 *            FROMs, registry sessions with the fleet's credentials
 * buildah.c  the buildah backend
 * command.c  the command-template backend and template expansion
 * ci.c       the Jenkins / Azure Pipelines / GitHub triggers and the wait
 *
 * Memory: as in build.h; helpers document their own.
 */
#ifndef DD_BUILD_INTERNAL_H
#define DD_BUILD_INTERNAL_H

#include "build/build.h"
#include "registry/registry.h"

/* ---- processes (proc.c) ---- */

typedef struct dd_build_proc {
	const char *const *argv;  /* argv[0] looked up in PATH */
	const char *const *env;   /* extra "NAME=VALUE" entries (NULL-terminated) or NULL */
	const char *cwd;          /* working directory, or NULL */
	double deadline;          /* dd_build_now() time to kill the group at; 0 none */
	dd_buf *log;              /* output and the command line are appended here */
	dd_buf *out;              /* stdout is also appended here (bounded), or NULL */
	const char *show;         /* what to log as the command line (NULL: argv) */
	const dd_build_request *rq; /* for rq->on_process, or NULL */
} dd_build_proc;

/* Monotonic seconds. */
double dd_build_now(void);
/* Sleep s seconds (monotonic; resumed after signals). */
void dd_build_sleep(double s);

/* Run p->argv in a new process group, stdin /dev/null, stdout and stderr
 * into the log.  Returns 0 with *status = the exit status (128 + signal
 * number when killed), or DD_EENV when it cannot start or outlived the
 * deadline (the group is killed: SIGTERM, then SIGKILL after 5 s). */
int dd_build_spawn(const dd_build_proc *p, int *status, dd_error *err);

/* Run and require exit status 0; otherwise DD_EENV
 * "WHAT exited N: <last line of output>". */
int dd_build_spawn_ok(const dd_build_proc *p, const char *what, dd_error *err);

/* ---- shared (build.c) ---- */

/* A NULL-terminated argv under construction: borrowed strings (add) or
 * formatted ones it owns (addf).  A failed allocation is sticky. */
typedef struct dd_build_argv {
	const char **v;
	size_t n, cap;
	char **own;
	size_t n_own;
	int failed;
} dd_build_argv;
void dd_build_argv_add(dd_build_argv *a, const char *s);
void dd_build_argv_addf(dd_build_argv *a, const char *fmt, ...) DD_PRINTF(2, 3);
void dd_build_argv_release(dd_build_argv *a);

/* rm -r (no symlinks followed); NULL is fine. */
void dd_build_remove_tree(const char *path);

typedef struct dd_build_ctx {
	char *dir;         /* the build context directory */
	char *dockerfile;  /* the Dockerfile's path */
	char *clone;       /* the git clone to remove at the end, or NULL */
	double deadline;   /* 0: none */
	const char *name;  /* the image's name for messages */
} dd_build_ctx;

/* Prepare the context: the recipe's directory, or a clone of git_url at
 * git_ref under workdir. */
int dd_build_context(dd_build_ctx *c, const dd_build_request *rq, dd_buf *log, dd_error *err);
void dd_build_context_release(dd_build_ctx *c);

/* The fleet's settings for a registry host, or NULL. */
const dd_fleet_registry *dd_build_registry_for(const dd_build_request *rq, const char *host);


/* A session on ref's repository with the fleet's settings for its host. */
int dd_build_open_registry(dd_registry **out, const dd_build_request *rq, const dd_ref *ref,
			   dd_error *err);

/* The digest REF currently has (its digest when it carries one, else a HEAD
 * of its tag). */
int dd_build_resolve(dd_digest *out, const dd_build_request *rq, const dd_ref *ref, dd_error *err);

/* Should commands talking to host skip TLS verification (insecure in the
 * fleet, or a loopback registry without a ca_file: it may speak plain
 * HTTP)? */
int dd_build_tls_off(const dd_build_request *rq, const char *host);

/* One external FROM of the Dockerfile. */
typedef struct dd_build_base {
	dd_ref ref;
	char *written;    /* as written after ARG expansion */
	char *platform;   /* --platform, or NULL */
	int runtime;
} dd_build_base;

/* Every distinct external FROM (not scratch, not a stage) of the
 * Dockerfile at c->dockerfile, with the recipe's build args and target. */
int dd_build_bases(dd_build_base **out, size_t *n, const dd_build_ctx *c, const dd_fleet_build *b,
		   dd_error *err);
void dd_build_bases_free(dd_build_base *v, size_t n);

/* Append a FROM record to the result. */
int dd_build_add_from(dd_build_result *res, const dd_ref *ref, const char *digest, int runtime,
		      int exact);

/* "REPO:TAG" of the image. */
int dd_build_image_ref(dd_buf *out, const dd_fleet_image *im);

/* Add a line to the log ("drydock: ..."). */
void dd_build_note(dd_buf *log, const char *fmt, ...) DD_PRINTF(2, 3);

/* ---- backends ---- */
int dd_build_buildah(const dd_build_request *rq, dd_build_result *res, double deadline,
		     dd_error *err);
int dd_build_command(const dd_build_request *rq, dd_build_result *res, double deadline,
		     dd_error *err);
int dd_build_ci(const dd_build_request *rq, dd_build_result *res, double deadline, dd_error *err);

/* What the CI says about the build it started: 0 running or unknown,
 * 1 finished successfully, -1 failed (why in msg). */
typedef int (*dd_build_probe)(void *ctx, dd_buf *log, char *msg, size_t cap);

/* Poll REPO:TAG until its digest differs from rq->previous_digest (or
 * exists, when that is NULL); the digest goes into res->digest.  With a
 * probe, a failed CI build ends the wait at once, and a successful one
 * that did not change the tag after a few more polls. */
int dd_build_wait(const dd_build_request *rq, dd_build_result *res, double deadline,
		  dd_build_probe probe, void *probe_ctx, dd_error *err);

#endif
