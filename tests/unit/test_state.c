/* Unit tests for src/watch/state: the watcher's SQLite state, its
 * coalescing of changes, rounds, builds and recovery after a crash
 * (a child killed with SIGKILL in the middle of writing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "watch/state.h"

static char dir[256];

static int setup(void **st)
{
	(void)st;
	snprintf(dir, sizeof(dir), "/tmp/dd-state-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **st)
{
	char cmd[300];
	(void)st;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static dd_state *open_state(const char *name)
{
	char path[400];
	dd_state *s = NULL;
	dd_error e = DD_ERROR_INIT;
	snprintf(path, sizeof(path), "%s/%s/watch.sqlite", dir, name);
	assert_int_equal(dd_state_open(&s, path, &e), 0);
	return s;
}

static void free_pending(int64_t *ids, char **images, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(images[i]);
	free(images);
	free(ids);
}

static void test_seen(void **st)
{
	(void)st;
	dd_state *s = open_state("seen");
	dd_error e = DD_ERROR_INIT;
	char *d = NULL;
	int64_t checked = 0;
	assert_int_equal(dd_state_seen_get(s, "base", "", &d, NULL, &e), 0);
	assert_null(d);
	assert_int_equal(dd_state_seen_set(s, "base", "", "sha256:aa", 100, &e), 0);
	assert_int_equal(dd_state_seen_set(s, "base", "linux/amd64", "sha256:bb", 100, &e), 0);
	assert_int_equal(dd_state_seen_touch(s, "base", 150, &e), 0);
	assert_int_equal(dd_state_seen_get(s, "base", "", &d, &checked, &e), 0);
	assert_string_equal(d, "sha256:aa");
	assert_int_equal(checked, 150);
	free(d);
	assert_int_equal(dd_state_seen_set(s, "base", "", "sha256:cc", 200, &e), 0);
	assert_int_equal(dd_state_seen_get(s, "base", "", &d, NULL, &e), 0);
	assert_string_equal(d, "sha256:cc");
	free(d);
	dd_state_counts c;
	assert_int_equal(dd_state_counts_get(s, &c, &e), 0);
	assert_int_equal(c.tracked, 1);
	dd_state_close(s);
}

static void test_changes_coalesce(void **st)
{
	(void)st;
	dd_state *s = open_state("changes");
	dd_error e = DD_ERROR_INIT;
	int64_t a = 0, b = 0, c = 0, *ids = NULL;
	char **images = NULL;
	size_t n = 0;

	assert_int_equal(dd_state_change_add(s, "base", "sha256:1", "sha256:2", "poll", 10, &a, &e), 0);
	/* the webhook reports the same digest: one change */
	assert_int_equal(dd_state_change_add(s, "base", "sha256:1", "sha256:2", "webhook", 11, &b, &e), 0);
	assert_int_equal(a, b);
	/* a burst: the pending change follows the newest digest */
	assert_int_equal(dd_state_change_add(s, "base", "sha256:2", "sha256:3", "poll", 12, &c, &e), 0);
	assert_int_equal(a, c);
	assert_int_equal(dd_state_change_add(s, "other", NULL, "sha256:9", "poll", 20, &b, &e), 0);
	assert_true(b != a);
	/* debounce: only changes detected at or before the cut-off */
	assert_int_equal(dd_state_changes_pending(s, 15, &ids, &images, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(images[0], "base");
	free_pending(ids, images, n);
	assert_int_equal(dd_state_changes_pending(s, 100, &ids, &images, &n, &e), 0);
	assert_int_equal(n, 2);

	/* a round takes them; they are no longer pending */
	char *order[] = { "app", "app-debug" };
	int64_t round = 0, r2 = 0;
	assert_int_equal(dd_state_round_open(s, ids, n, order, 2, 30, &round, &e), 0);
	free_pending(ids, images, n);
	assert_int_equal(dd_state_changes_pending(s, 100, &ids, &images, &n, &e), 0);
	assert_int_equal(n, 0);
	free_pending(ids, images, n);
	/* after the round took it, a new digest of base is a new change */
	assert_int_equal(dd_state_change_add(s, "base", "sha256:3", "sha256:4", "poll", 40, &c, &e), 0);
	assert_true(c != a);

	dd_buf d = DD_BUF_INIT;
	assert_int_equal(dd_state_round_describe(s, round, &d, &e), 0);
	assert_non_null(strstr(dd_buf_cstr(&d), "base sha256:1 -> sha256:3"));
	assert_non_null(strstr(dd_buf_cstr(&d), "other (none) -> sha256:9"));
	dd_buf_release(&d);

	assert_int_equal(dd_state_round_unfinished(s, 0, &r2, &e), 0);
	assert_int_equal(r2, round);
	assert_int_equal(dd_state_round_unfinished(s, round, &r2, &e), 0);
	assert_int_equal(r2, 0);
	assert_int_equal(dd_state_round_finish(s, round, 50, &e), 0);
	assert_int_equal(dd_state_round_unfinished(s, 0, &r2, &e), 0);
	assert_int_equal(r2, 0);
	dd_state_close(s);
}

static void test_builds_and_recovery(void **st)
{
	(void)st;
	dd_state *s = open_state("builds");
	dd_error e = DD_ERROR_INIT;
	int64_t id = 0, round = 0;
	char *order[] = { "mid", "app" };
	dd_state_build *b = NULL;
	size_t n = 0, requeued = 0;
	char *log = NULL, *froms = NULL;

	assert_int_equal(dd_state_change_add(s, "base", "sha256:1", "sha256:2", "poll", 10, &id, &e), 0);
	assert_int_equal(dd_state_round_open(s, &id, 1, order, 2, 11, &round, &e), 0);
	assert_int_equal(dd_state_builds(s, round, &b, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(b[0].image, "mid"); /* queue order is the plan's order */
	assert_string_equal(b[1].image, "app");
	assert_int_equal(b[0].status, DD_BUILD_QUEUED);
	assert_int_equal(dd_state_build_start(s, b[0].id, 12, &e), 0);
	assert_int_equal(dd_state_build_end(s, b[0].id, DD_BUILD_SUCCEEDED, "sha256:m",
					    "[{\"ref\":\"r/base:1\",\"digest\":\"sha256:2\"}]",
					    "{\"CRITICAL\":0}", NULL, "step 1\nstep 2\n", 13, &e),
			 0);
	assert_int_equal(dd_state_build_start(s, b[1].id, 14, &e), 0);
	int64_t app = b[1].id;
	dd_state_builds_free(b, n);

	/* the watcher dies here; the next one puts the running build back */
	dd_state_close(s);
	s = open_state("builds");
	assert_int_equal(dd_state_requeue_running(s, &requeued, &e), 0);
	assert_int_equal(requeued, 1);
	assert_int_equal(dd_state_builds(s, round, &b, &n, &e), 0);
	assert_int_equal(b[0].status, DD_BUILD_SUCCEEDED);
	assert_string_equal(b[0].digest, "sha256:m");
	assert_int_equal(b[1].status, DD_BUILD_QUEUED);
	assert_int_equal(b[1].attempts, 1);
	dd_state_builds_free(b, n);
	assert_int_equal(dd_state_build_log(s, app - 1, &log, &e), 0);
	assert_string_equal(log, "step 1\nstep 2\n");
	free(log);
	assert_int_equal(dd_state_froms_of(s, "sha256:m", &froms, &e), 0);
	assert_non_null(strstr(froms, "sha256:2"));
	free(froms);
	assert_int_equal(dd_state_build_start(s, app, 20, &e), 0);
	assert_int_equal(dd_state_build_end(s, app, DD_BUILD_BLOCKED, "sha256:a", NULL, NULL,
					    "1 finding(s) at or above CRITICAL", NULL, 21, &e),
			 0);
	assert_int_equal(dd_state_builds(s, round, &b, &n, &e), 0);
	assert_int_equal(b[1].attempts, 2);
	assert_string_equal(b[1].reason, "1 finding(s) at or above CRITICAL");
	assert_string_equal(dd_build_status_name(b[1].status), "blocked");
	dd_state_builds_free(b, n);

	/* deployments: recorded once per (round, target) */
	char *status = NULL, *commit = NULL;
	assert_int_equal(dd_state_deploy_get(s, round, "git:/srv/x.git", &status, &commit, &e), 0);
	assert_null(status);
	assert_int_equal(dd_state_deploy_set(s, round, "git:/srv/x.git", "done", "abc123", NULL, 22, &e), 0);
	assert_int_equal(dd_state_deploy_get(s, round, "git:/srv/x.git", &status, &commit, &e), 0);
	assert_string_equal(status, "done");
	assert_string_equal(commit, "abc123");
	free(status);
	free(commit);
	char *d = NULL;
	assert_int_equal(dd_state_running_set(s, "mid", "sha256:m", 23, &e), 0);
	assert_int_equal(dd_state_running_get(s, "mid", &d, &e), 0);
	assert_string_equal(d, "sha256:m");
	free(d);
	dd_state_close(s);
}

/* A writer killed with SIGKILL mid-way leaves a usable file with every
 * committed step and none of the torn one. */
static void test_kill_during_writes(void **st)
{
	(void)st;
	char path[400];
	snprintf(path, sizeof(path), "%s/kill/watch.sqlite", dir);
	for (int round = 0; round < 5; round++) {
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			dd_state *s = NULL;
			if (dd_state_open(&s, path, NULL))
				_exit(1);
			for (int i = 0;; i++) {
				char img[32], dg[32];
				int64_t id;
				snprintf(img, sizeof(img), "img%d", i % 50);
				snprintf(dg, sizeof(dg), "sha256:%d-%d", round, i);
				dd_state_change_add(s, img, NULL, dg, "poll", i, &id, NULL);
				dd_state_seen_set(s, img, "", dg, i, NULL);
			}
		}
		usleep(20000 + round * 15000);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		dd_state *s = NULL;
		dd_error e = DD_ERROR_INIT;
		assert_int_equal(dd_state_open(&s, path, &e), 0);
		int64_t *ids = NULL;
		char **images = NULL;
		size_t n = 0;
		assert_int_equal(dd_state_changes_pending(s, INT64_MAX, &ids, &images, &n, &e), 0);
		assert_true(n <= 50); /* one pending change per image: coalesced */
		free_pending(ids, images, n);
		dd_state_close(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seen),
		cmocka_unit_test(test_changes_coalesce),
		cmocka_unit_test(test_builds_and_recovery),
		cmocka_unit_test(test_kill_during_writes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
