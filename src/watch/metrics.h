/*
 * metrics.h - a tiny thread-safe registry of counters and gauges, rendered
 * in the Prometheus text exposition format 0.0.4 for `GET /metrics`.
 *
 * A metric family is a name ("drydock_webhook_requests_total"), a help
 * line and a type (counter or gauge); it has one series per distinct label
 * set.  The first call that names a family fixes its help and type; a
 * later call with the other type is refused.  Families render in the order
 * they were first used, series likewise.
 *
 * Labels are passed as text "key=value,key=value" (NULL or "" for none):
 * keys follow [a-zA-Z_][a-zA-Z0-9_]* and do not start with "__"; a value
 * runs up to the next ',' and may hold anything else (quotes, backslashes
 * and newlines are escaped when rendered).  dd_metrics_*_addv() take
 * key/value arrays instead, for values that may contain ','.
 *
 * Every call takes the registry's mutex: any thread may update or render.
 * A registry holds at most DD_METRICS_MAX_SERIES series in all, so label
 * values taken from requests cannot exhaust memory.
 *
 * Memory: dd_metrics_new() allocates the registry; dd_metrics_free()
 * releases it and every family.  Names, help and labels are copied.
 */
#ifndef DD_WATCH_METRICS_H
#define DD_WATCH_METRICS_H

#include <stddef.h>

#include "util/buf.h"
#include "util/error.h"

#define DD_METRICS_MAX_SERIES 10000

typedef struct dd_metrics dd_metrics;

/* A new, empty registry; DD_EENV when out of memory. */
int dd_metrics_new(dd_metrics **out, dd_error *err);
void dd_metrics_free(dd_metrics *m);

/*
 * Add value (>= 0) to a counter / set or add to a gauge.  help is used
 * when the family is first seen (NULL: no HELP line).  Returns 0, or
 * DD_EINTERNAL for a bad name, bad labels, a negative counter increment
 * or a type clash, DD_EINPUT when the series limit is reached, DD_EENV
 * when out of memory.  The registry is unchanged on failure.
 */
int dd_metrics_counter_add(dd_metrics *m, const char *name, const char *help, const char *labels,
			   double value);
int dd_metrics_gauge_set(dd_metrics *m, const char *name, const char *help, const char *labels,
			 double value);
int dd_metrics_gauge_add(dd_metrics *m, const char *name, const char *help, const char *labels,
			 double delta);

/* The same with labels as nkv key/value pairs: kv[0]=key0, kv[1]=value0... */
int dd_metrics_counter_addv(dd_metrics *m, const char *name, const char *help,
			    const char *const *kv, size_t nkv, double value);
int dd_metrics_gauge_setv(dd_metrics *m, const char *name, const char *help,
			  const char *const *kv, size_t nkv, double value);

/*
 * The current value of a series (labels as above) into *value; returns 0,
 * or DD_EINPUT when there is no such series (*value is then 0).
 */
int dd_metrics_get(dd_metrics *m, const char *name, const char *labels, double *value);

/*
 * Append the whole registry to out in text format 0.0.4:
 *   # HELP name help   (backslash and newline escaped)
 *   # TYPE name counter|gauge
 *   name{key="value",...} 12
 * Returns 0 or the buffer's error (DD_EINPUT when out->max is reached,
 * DD_EENV when out of memory).
 */
int dd_metrics_render(dd_metrics *m, dd_buf *out);

#endif
