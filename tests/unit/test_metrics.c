/* Unit tests for src/watch/metrics.c: exact text exposition output,
 * escaping, type clashes, limits, and updates from several threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "watch/metrics.h"

static dd_metrics *new_metrics(void)
{
	dd_metrics *m = NULL;
	dd_error e = DD_ERROR_INIT;
	assert_int_equal(dd_metrics_new(&m, &e), 0);
	return m;
}

static void assert_render(dd_metrics *m, const char *want)
{
	dd_buf b = DD_BUF_INIT;
	assert_int_equal(dd_metrics_render(m, &b), 0);
	assert_string_equal(dd_buf_cstr(&b), want);
	dd_buf_release(&b);
}

static void test_render_exact(void **state)
{
	dd_metrics *m = new_metrics();
	(void)state;

	assert_int_equal(dd_metrics_counter_add(m, "drydock_webhook_requests_total", "Webhook requests.",
						"status=202", 1), 0);
	assert_int_equal(dd_metrics_counter_add(m, "drydock_webhook_requests_total", "ignored later help",
						"status=401", 2), 0);
	assert_int_equal(dd_metrics_counter_add(m, "drydock_webhook_requests_total", NULL, "status=202", 4), 0);
	assert_int_equal(dd_metrics_gauge_set(m, "drydock_queue", "Queued.\nSecond \\ line", NULL, -1.5), 0);
	assert_int_equal(dd_metrics_gauge_add(m, "drydock_queue", NULL, NULL, 0.25), 0);
	assert_int_equal(dd_metrics_gauge_set(m, "drydock_builds", NULL, "image=app,state=running", 2), 0);
	assert_render(m,
		      "# HELP drydock_webhook_requests_total Webhook requests.\n"
		      "# TYPE drydock_webhook_requests_total counter\n"
		      "drydock_webhook_requests_total{status=\"202\"} 5\n"
		      "drydock_webhook_requests_total{status=\"401\"} 2\n"
		      "# HELP drydock_queue Queued.\\nSecond \\\\ line\n"
		      "# TYPE drydock_queue gauge\n"
		      "drydock_queue -1.25\n"
		      "# TYPE drydock_builds gauge\n"
		      "drydock_builds{image=\"app\",state=\"running\"} 2\n");
	dd_metrics_free(m);
}

static void test_label_escaping_and_values(void **state)
{
	dd_metrics *m = new_metrics();
	const char *kv[] = { "repo", "a\"b\\c\nd,e", "z", "" };
	double v;
	(void)state;

	assert_int_equal(dd_metrics_counter_addv(m, "x_total", NULL, kv, 2, 3), 0);
	assert_int_equal(dd_metrics_gauge_set(m, "g_inf", NULL, NULL, INFINITY), 0);
	assert_int_equal(dd_metrics_gauge_set(m, "g_ninf", NULL, NULL, -INFINITY), 0);
	assert_int_equal(dd_metrics_gauge_set(m, "g_nan", NULL, NULL, NAN), 0);
	assert_int_equal(dd_metrics_gauge_set(m, "g_big", NULL, NULL, 1e20), 0);
	assert_int_equal(dd_metrics_gauge_set(m, "g_frac", NULL, NULL, 0.1), 0);
	assert_render(m,
		      "# TYPE x_total counter\n"
		      "x_total{repo=\"a\\\"b\\\\c\\nd,e\",z=\"\"} 3\n"
		      "# TYPE g_inf gauge\ng_inf +Inf\n"
		      "# TYPE g_ninf gauge\ng_ninf -Inf\n"
		      "# TYPE g_nan gauge\ng_nan NaN\n"
		      "# TYPE g_big gauge\ng_big 1e+20\n"
		      "# TYPE g_frac gauge\ng_frac 0.10000000000000001\n");
	assert_int_equal(dd_metrics_get(m, "g_big", NULL, &v), 0);
	assert_true(v == 1e20);
	assert_int_equal(dd_metrics_get(m, "x_total", "repo=nope,z=", &v), DD_EINPUT);
	assert_true(v == 0);
	assert_int_equal(dd_metrics_get(m, "nope", NULL, &v), DD_EINPUT);
	dd_metrics_free(m);
}

static void test_misuse_refused(void **state)
{
	dd_metrics *m = new_metrics();
	const char *dup[] = { "a", "1", "a", "2" };
	(void)state;

	assert_int_equal(dd_metrics_counter_add(m, "c_total", NULL, NULL, 1), 0);
	assert_int_equal(dd_metrics_gauge_set(m, "c_total", NULL, NULL, 1), DD_EINTERNAL); /* type clash */
	assert_int_equal(dd_metrics_counter_add(m, "c_total", NULL, NULL, -1), DD_EINTERNAL);
	assert_int_equal(dd_metrics_counter_add(m, "c_total", NULL, NULL, NAN), DD_EINTERNAL);
	assert_int_equal(dd_metrics_counter_add(m, "1bad", NULL, NULL, 1), DD_EINTERNAL);
	assert_int_equal(dd_metrics_counter_add(m, "bad-name", NULL, NULL, 1), DD_EINTERNAL);
	assert_int_equal(dd_metrics_counter_add(m, "", NULL, NULL, 1), DD_EINTERNAL);
	assert_int_equal(dd_metrics_counter_add(m, "ok", NULL, "noequals", 1), DD_EINTERNAL);
	assert_int_equal(dd_metrics_counter_add(m, "ok", NULL, "__reserved=1", 1), DD_EINTERNAL);
	assert_int_equal(dd_metrics_counter_add(m, "ok", NULL, "bad-key=1", 1), DD_EINTERNAL);
	assert_int_equal(dd_metrics_counter_add(m, "ok", NULL, "a=1,a=2", 1), DD_EINTERNAL);
	assert_int_equal(dd_metrics_counter_addv(m, "ok", NULL, dup, 2, 1), DD_EINTERNAL);
	assert_int_equal(dd_metrics_counter_add(NULL, "ok", NULL, NULL, 1), DD_EINTERNAL);
	/* nothing of the refused calls shows */
	assert_render(m, "# TYPE c_total counter\nc_total 1\n");
	dd_metrics_free(m);
	dd_metrics_free(NULL);
}

static void test_series_limit(void **state)
{
	dd_metrics *m = new_metrics();
	char l[64];
	(void)state;

	for (int i = 0; i < DD_METRICS_MAX_SERIES; i++) {
		snprintf(l, sizeof(l), "repo=r%d", i);
		assert_int_equal(dd_metrics_counter_add(m, "pushes_total", NULL, l, 1), 0);
	}
	assert_int_equal(dd_metrics_counter_add(m, "pushes_total", NULL, "repo=one-more", 1), DD_EINPUT);
	assert_int_equal(dd_metrics_gauge_set(m, "other", NULL, NULL, 1), DD_EINPUT);
	/* existing series still count */
	assert_int_equal(dd_metrics_counter_add(m, "pushes_total", NULL, "repo=r7", 1), 0);
	{
		double v;
		assert_int_equal(dd_metrics_get(m, "pushes_total", "repo=r7", &v), 0);
		assert_true(v == 2);
	}
	/* a render into a small buffer fails cleanly */
	{
		dd_buf b = DD_BUF_INIT_MAX(1000);
		assert_int_equal(dd_metrics_render(m, &b), DD_EINPUT);
		dd_buf_release(&b);
	}
	dd_metrics_free(m);
}

#define THREADS 8
#define ADDS 20000

static void *adder(void *arg)
{
	dd_metrics *m = arg;
	char l[32];
	for (int i = 0; i < ADDS; i++) {
		snprintf(l, sizeof(l), "k=%d", i % 4);
		dd_metrics_counter_add(m, "hits_total", "Hits.", l, 1);
		dd_metrics_gauge_add(m, "level", NULL, NULL, 1);
		if (i % 1000 == 0) {
			dd_buf b = DD_BUF_INIT;
			dd_metrics_render(m, &b);
			dd_buf_release(&b);
		}
	}
	return NULL;
}

static void test_threads(void **state)
{
	dd_metrics *m = new_metrics();
	pthread_t t[THREADS];
	double v, sum = 0;
	(void)state;

	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, adder, m), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (int k = 0; k < 4; k++) {
		char l[16];
		snprintf(l, sizeof(l), "k=%d", k);
		assert_int_equal(dd_metrics_get(m, "hits_total", l, &v), 0);
		assert_true(v == THREADS * ADDS / 4);
		sum += v;
	}
	assert_true(sum == THREADS * ADDS);
	assert_int_equal(dd_metrics_get(m, "level", "", &v), 0);
	assert_true(v == THREADS * ADDS);
	dd_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_exact),
		cmocka_unit_test(test_label_escaping_and_values),
		cmocka_unit_test(test_misuse_refused),
		cmocka_unit_test(test_series_limit),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
