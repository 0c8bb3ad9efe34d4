/*
 * state.h - what `drydock watch` remembers between runs: one SQLite file
 * (WAL, every step its own transaction) so that a watcher killed at any
 * moment and started again neither misses an update nor builds or deploys
 * twice (docs/watch.md "State and recovery").
 *
 *   seen      last digest of every tracked tag, per platform ("" = the tag)
 *   changes   a tracked tag moved: image, old -> new digest, when, status
 *   rounds    the changes handled together, and their state
 *   builds    one per (round, image): queued, running, succeeded, blocked,
 *             failed, skipped; digest, FROM digests, scan summary, log
 *   deploys   one per (round, target): done / unchanged / failed, commit id
 *   running   the digest validated and deployed last, per built image
 *   meta      schema version and small facts (last rematch, ...)
 *
 * Memory: dd_state_open() allocates the handle, dd_state_close() frees it.
 * Strings returned through out-parameters are malloc'd (caller frees);
 * dd_state_build rows are released with dd_state_builds_free().
 */
#ifndef DD_WATCH_STATE_H
#define DD_WATCH_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/error.h"

#define DD_STATE_SCHEMA 1

typedef struct dd_state dd_state;

/* Open (creating) the state DB at path; creates the parent directory. */
int dd_state_open(dd_state **out, const char *path, dd_error *err);
void dd_state_close(dd_state *s);
/* The default path: $XDG_STATE_HOME/drydock/watch.sqlite, else
 * ~/.local/state/drydock/watch.sqlite (appended to out). */
int dd_state_default_path(dd_buf *out, dd_error *err);

/* seen: *digest NULL when never seen.  platform "" for the tag itself. */
int dd_state_seen_get(dd_state *s, const char *image, const char *platform, char **digest,
		      int64_t *checked_at, dd_error *err);
int dd_state_seen_set(dd_state *s, const char *image, const char *platform, const char *digest,
		      int64_t now, dd_error *err);
/* Mark the image checked at now (digest unchanged). */
int dd_state_seen_touch(dd_state *s, const char *image, int64_t now, dd_error *err);

/*
 * Record that image moved from old_digest to new_digest.  A change of the
 * same image still pending (not yet in a round) is updated in place
 * (bursts coalesce, detected_at kept); the same new digest recorded twice
 * (poll and webhook) is one change.  *id is the change's id.
 */
int dd_state_change_add(dd_state *s, const char *image, const char *old_digest,
			const char *new_digest, const char *source, int64_t now, int64_t *id,
			dd_error *err);
/* Pending changes detected at or before `before` (debounce), oldest first:
 * ids and image names (malloc'd arrays of malloc'd strings). */
int dd_state_changes_pending(dd_state *s, int64_t before, int64_t **ids, char ***images,
			     size_t *n, dd_error *err);

/* Open a round holding the given pending changes (one transaction) and
 * queue one build per image of `order` (already topologically ordered). */
int dd_state_round_open(dd_state *s, const int64_t *changes, size_t n_changes,
			char *const *order, size_t n_order, int64_t now, int64_t *round,
			dd_error *err);
/* The oldest round with an id above `after` not finished (a crash, a
 * deployment that failed), or 0. */
int dd_state_round_unfinished(dd_state *s, int64_t after, int64_t *round, dd_error *err);
int dd_state_round_finish(dd_state *s, int64_t round, int64_t now, dd_error *err);
/* "base:12 sha256:aaaa.. -> sha256:bbbb.." lines of the round's changes. */
int dd_state_round_describe(dd_state *s, int64_t round, dd_buf *out, dd_error *err);

enum dd_build_status {
	DD_BUILD_QUEUED,
	DD_BUILD_RUNNING,
	DD_BUILD_SUCCEEDED, /* built, pushed, passed the gate */
	DD_BUILD_BLOCKED,   /* built and pushed, failed the gate: not deployed */
	DD_BUILD_FAILED,    /* the build itself failed */
	DD_BUILD_SKIPPED,   /* its base was blocked or failed in the same round */
};
const char *dd_build_status_name(enum dd_build_status st);

typedef struct dd_state_build {
	int64_t id, round;
	char *image;
	enum dd_build_status status;
	char *digest;   /* pushed manifest digest or NULL */
	char *froms;    /* JSON array [{"ref","digest"}] or NULL */
	char *scan;     /* JSON scan summary or NULL */
	char *reason;   /* why blocked/failed/skipped, or NULL */
	int64_t created, started, finished;
	int attempts;
} dd_state_build;

/* The builds of a round in queue order (round 0: the latest 100 of all). */
int dd_state_builds(dd_state *s, int64_t round, dd_state_build **out, size_t *n, dd_error *err);
void dd_state_builds_free(dd_state_build *b, size_t n);
/* A build starts: status running, attempts + 1, started = now. */
int dd_state_build_start(dd_state *s, int64_t id, int64_t now, dd_error *err);
/* A build ends with st; any of digest/froms/scan/reason/log may be NULL. */
int dd_state_build_end(dd_state *s, int64_t id, enum dd_build_status st, const char *digest,
		       const char *froms, const char *scan, const char *reason, const char *log,
		       int64_t now, dd_error *err);
/* The build log (malloc'd) or NULL. */
int dd_state_build_log(dd_state *s, int64_t id, char **log, dd_error *err);
/* Recovery: builds left running by a killed watcher go back to queued;
 * returns how many through *n. */
int dd_state_requeue_running(dd_state *s, size_t *n, dd_error *err);
/* The most recent build of image with a recorded FROM list whose digest is
 * `digest`: its froms JSON (malloc'd) or NULL. */
int dd_state_froms_of(dd_state *s, const char *digest, char **froms, dd_error *err);

/* deploys: the record for (round, target), if any (status "done",
 * "unchanged", "failed"; commit may be NULL). */
int dd_state_deploy_get(dd_state *s, int64_t round, const char *target, char **status,
			char **commit, dd_error *err);
int dd_state_deploy_set(dd_state *s, int64_t round, const char *target, const char *status,
			const char *commit, const char *detail, int64_t now, dd_error *err);

/* running: the validated digest of a built image (what is deployed). */
int dd_state_running_get(dd_state *s, const char *image, char **digest, dd_error *err);
int dd_state_running_set(dd_state *s, const char *image, const char *digest, int64_t now,
			 dd_error *err);

/* meta key/value. */
int dd_state_meta_get(dd_state *s, const char *key, char **value, dd_error *err);
int dd_state_meta_set(dd_state *s, const char *key, const char *value, dd_error *err);

/* Counts for status and metrics. */
typedef struct dd_state_counts {
	size_t tracked, pending_changes, queued, running, succeeded, blocked, failed, skipped,
		deploys;
} dd_state_counts;
int dd_state_counts_get(dd_state *s, dd_state_counts *c, dd_error *err);

/* Every seen row, for `watch status`: called per row. */
int dd_state_seen_each(dd_state *s,
		       int (*cb)(void *ctx, const char *image, const char *platform,
				 const char *digest, int64_t checked, int64_t changed),
		       void *ctx, dd_error *err);

#endif
