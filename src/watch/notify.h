/*
 * notify.h - POST the watcher's reports (a round's outcome, images a DB
 * update made affected) as JSON to the fleet's watch.notify_url: a Slack/
 * Teams relay, an alert manager, a CI hook.
 *
 * One request per report, 10 s timeout, two retries on a network error or
 * a 5xx; a report that still fails is logged by the caller and dropped
 * (the state DB and the log keep everything it said).
 *
 * Memory: nothing retained; the body is borrowed for the call.
 */
#ifndef DD_WATCH_NOTIFY_H
#define DD_WATCH_NOTIFY_H

#include <stddef.h>

#include "util/error.h"

/* POST body (JSON text, len bytes) to url.  0, or DD_EENV naming the URL
 * and the HTTP status or network error. */
int dd_notify_post(const char *url, const char *body, size_t len, dd_error *err);

#endif
