/*
 * build.h - rebuild one image of the fleet and learn the digest it got.
 *
 * Backends (dd_fleet_build.backend, docs/build.md):
 *   buildah  resolve every external FROM of the Dockerfile to a digest
 *            (HEAD), pull exactly that digest and tag it under the FROM's
 *            name, `buildah bud --isolation chroot --pull=false`, then
 *            `buildah push --digestfile`: the image is built on the bases
 *            recorded in dd_build_result.froms, not on whatever the tags
 *            point to a moment later;
 *   command  `sh -c TEMPLATE` with {image} {tag} {ref} {context}
 *            {dockerfile} {base} {base_digest} {change} replaced by
 *            shell-quoted values; the digest is the command's last stdout
 *            line when that is "sha256:<hex>", else the registry's;
 *   jenkins, azure, github  trigger an external CI (buildWithParameters,
 *            Azure Pipelines runs API, repository_dispatch), then poll the
 *            registry until REPO:TAG's digest differs from
 *            previous_digest.
 * Processes run without a shell (posix_spawn) in their own process group,
 * killed as a group at the recipe's timeout.  Secrets (registry passwords,
 * CI tokens) never appear in argv, the log or error messages: registry
 * credentials reach buildah through a 0600 auth file in the workdir.
 *
 * Environment: DRYDOCK_BUILDAH_ROOT, DRYDOCK_BUILDAH_RUNROOT,
 * DRYDOCK_BUILDAH_DRIVER (buildah's --root, --runroot, --storage-driver),
 * DRYDOCK_BUILDAH_KEEP=1 (keep the built image in local storage),
 * DRYDOCK_BUILD_POLL (seconds between the first registry polls while
 * waiting for a CI build, default 5).
 *
 * Memory: the request is borrowed.  dd_build_run() fills a caller-owned
 * dd_build_result (strings and arrays malloc'd, the log a dd_buf);
 * dd_build_result_release() frees them (a zeroed result is fine).
 */
#ifndef DD_BUILD_BUILD_H
#define DD_BUILD_BUILD_H

#include <stddef.h>

#include "util/buf.h"
#include "util/error.h"
#include "watch/fleet.h"

#define DD_BUILD_LOG_MAX ((size_t)1 << 20) /* the log keeps its last 1 MiB */

typedef struct dd_build_request {
	const dd_fleet_image *image;        /* what to build; image->build is the recipe */
	const dd_fleet_registry *registries; /* credentials, insecure, CA per host */
	size_t n_registries;
	const char *workdir;     /* scratch directory of this build (must exist) */
	const char *change_id;   /* passed to CI triggers, label io.drydock.change; may be NULL */
	const char *base_ref;    /* the base change that triggered this, or NULL */
	const char *base_digest; /* its new digest, or NULL */
	const char *previous_digest; /* REPO:TAG's digest before the build, or NULL:
					CI backends wait until the tag differs */
	/* Optional: called when a build process starts (pgid = its process
	 * group, what = "buildah", "git", "sh") and again with running = 0
	 * when it has ended, so a supervisor can record the group and kill it
	 * if it is itself killed and restarted.  May be NULL. */
	void (*on_process)(void *ctx, long pgid, const char *what, int running);
	void *on_process_ctx;
} dd_build_request;

typedef struct dd_build_from {
	char *ref;     /* normalised reference ("127.0.0.1:5000/base:12", "docker.io/library/debian:12") */
	char *digest;  /* the digest built on ("sha256:..."; an index's digest
			  for a multi-platform base), or NULL when unknown */
	int runtime;   /* 1: the base of the target (last) stage */
	int exact;     /* 1: pinned (buildah); 0: resolved just before the
			  command ran (command backend), not enforced */
} dd_build_from;

typedef struct dd_build_result {
	char *digest;          /* manifest digest of REPO:TAG after the build */
	char *ref;             /* "REPO:TAG" pushed */
	dd_build_from *froms;  /* every distinct external FROM of every stage, in
				  Dockerfile order (none for CI backends) */
	size_t n_froms;
	dd_buf log;            /* combined output (commands, stdout, stderr); the
				  last DD_BUILD_LOG_MAX bytes */
} dd_build_result;

/*
 * Build rq->image with its recipe's backend.  Returns 0 with out filled, or
 * a negative code with a one-line message "build NAME: ..." (a failed
 * build: DD_EENV with the last line of its output; a bad recipe or
 * Dockerfile: DD_EINPUT).  out->log holds the output in both cases;
 * release out either way.
 */
int dd_build_run(const dd_build_request *rq, dd_build_result *out, dd_error *err);
void dd_build_result_release(dd_build_result *r);

/*
 * The runtime base of a recipe with a context directory (not git): the
 * FROM of its Dockerfile's target stage, after ARG expansion with the
 * recipe's args, normalised ("docker.io/library/debian:12"); *ref NULL for
 * scratch or a git context (malloc'd, caller frees).  DD_EINPUT for a
 * Dockerfile that does not parse, DD_EENV when it cannot be read.
 */
int dd_build_runtime_base(const dd_fleet_build *b, char **ref, dd_error *err);

/* ---- pieces, exposed for tests and the watcher ---- */

/* The values a command template or a CI trigger receives (NULL = ""). */
typedef struct dd_build_vars {
	const char *image;       /* repository without tag */
	const char *tag;
	const char *ref;         /* image:tag */
	const char *context;     /* build context directory */
	const char *dockerfile;  /* Dockerfile path */
	const char *base;        /* base reference that changed */
	const char *base_digest;
	const char *change;      /* change id */
} dd_build_vars;

/* Append s to out as one POSIX shell word: '...' with ' as '\''. */
int dd_build_shell_quote(dd_buf *out, const char *s);

/* Replace {image} {tag} {ref} {context} {dockerfile} {base} {base_digest}
 * {change} in tmpl by shell-quoted values into out; other braces are kept
 * as written.  DD_EINPUT when out overflows. */
int dd_build_template(dd_buf *out, const char *tmpl, const dd_build_vars *v, dd_error *err);

/* Append the last bytes of p to a tail-keeping log (at most max bytes are
 * kept, whole lines when possible). */
void dd_build_log_append(dd_buf *log, const void *p, size_t n, size_t max);

/* The last non-empty line of text (at most cap-1 bytes) into line. */
void dd_build_last_line(const char *text, size_t len, char *line, size_t cap);

/* An HTTP request a CI backend sends (every string malloc'd). */
typedef struct dd_build_ci_request {
	char *url;
	char *content_type;
	char *body;
	size_t body_len;
	const char *accept;      /* static, or NULL */
	int auth;                /* 0 none, 1 Basic user:token, 2 Basic :token, 3 Bearer token */
} dd_build_ci_request;

/* The trigger request of backend b (DD_BUILD_JENKINS, _AZURE, _GITHUB)
 * for these values: URL, body, content type.  DD_EINPUT for another
 * backend or a recipe without url. */
int dd_build_ci_compose(dd_build_ci_request *out, const dd_fleet_build *b, const dd_build_vars *v,
			dd_error *err);
void dd_build_ci_request_release(dd_build_ci_request *r);

/* The Jenkins root of a job URL ("https://ci/job/a/job/b" -> "https://ci"),
 * malloc'd, or NULL when the URL has no "/job/". */
char *dd_build_jenkins_root(const char *job_url);

#endif
