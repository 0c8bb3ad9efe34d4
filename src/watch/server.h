/*
 * server.h - the HTTP listener of `drydock watch`: registry webhooks in,
 * Prometheus metrics and a health check out (docs/webhooks.md).
 *
 * libmicrohttpd runs the listener in its own thread.  Routes:
 *
 *   POST /webhook, /webhook/distribution, /webhook/acr, /webhook/harbor
 *        the body (at most DD_WEBHOOK_MAX bytes) goes through
 *        dd_webhook_parse() (the format is detected from the content
 *        whatever the path says); its push events are queued and the
 *        answer is 202 {"accepted":N}.  400 {"error":"..."} for a payload
 *        that does not parse, 401 without the secret, 413 for a body over
 *        the limit, 415 for a compressed body, 503 when the queue is full,
 *        405 for another method.
 *   GET  /metrics   dd_metrics_render(), text/plain; version=0.0.4
 *   GET  /healthz   200 "ok"
 *   anything else   404
 *
 * With a secret configured every webhook request must carry it, as
 * "Authorization: Bearer SECRET" or as "?token=SECRET" (compared in
 * constant time); /metrics and /healthz stay open.
 *
 * The server counts drydock_webhook_requests_total{status="202"...} (one
 * per webhook request, by HTTP status) and drydock_webhook_events_total
 * (push events queued), and keeps the gauge drydock_webhook_queue_events
 * (events queued, not yet taken by dd_server_wait()).
 *
 * Threads: the request handler runs on libmicrohttpd's thread; the queue
 * is guarded by a mutex.  One thread (the watch loop) calls
 * dd_server_wait(); dd_server_interrupt() may be called from anywhere,
 * including a signal handler; dd_server_stop() from the thread that
 * started the server once no dd_server_wait() is running.
 *
 * Memory: dd_server_start() allocates the server and copies the secret;
 * the metrics registry is borrowed (it must outlive the server) unless
 * NULL was passed, in which case the server owns one of its own.
 * dd_server_stop() stops the listener, joins its thread and frees the
 * server with any events still queued.  Events returned by
 * dd_server_wait() belong to the caller (dd_push_events_free()).
 */
#ifndef DD_WATCH_SERVER_H
#define DD_WATCH_SERVER_H

#include <stddef.h>

#include "util/error.h"
#include "watch/metrics.h"
#include "watch/webhook.h"

#define DD_SERVER_MAX_QUEUED 100000 /* events held before webhooks get 503 */

typedef struct dd_server dd_server;

/*
 * Listen on listen = "HOST:PORT" ("127.0.0.1:9095", "[::1]:9095",
 * "0.0.0.0:9095"; ":9095" means every address; port 0 picks a free port,
 * see dd_server_port()).  secret NULL or "" disables authentication.
 * metrics NULL: the server makes its own (dd_server_metrics()).
 * Returns 0, DD_EUSAGE for a bad listen address, DD_EENV when the address
 * cannot be bound ("listen 127.0.0.1:9095: Address already in use") or
 * the listener does not start.
 */
int dd_server_start(dd_server **out, const char *listen, const char *secret, dd_metrics *metrics,
		    dd_error *err);

/* The TCP port the server listens on (the one picked for port 0). */
int dd_server_port(const dd_server *s);

/* The metrics registry the server counts into. */
dd_metrics *dd_server_metrics(dd_server *s);

/*
 * Wait up to timeout_ms (< 0: without limit) for queued push events and
 * take all of them: *events / *n (the caller frees them with
 * dd_push_events_free()).  Returns the number taken (> 0), 0 on timeout or
 * after dd_server_interrupt() (*events NULL, *n 0), or a negative DD_E*
 * code when waiting failed.
 */
int dd_server_wait(dd_server *s, int timeout_ms, dd_push_event **events, size_t *n);

/* Make a running or the next dd_server_wait() return 0 at once.
 * Async-signal-safe: a SIGTERM handler may call it. */
void dd_server_interrupt(dd_server *s);

/* Stop listening, join the listener thread, free the server and every
 * event still queued.  NULL is fine. */
void dd_server_stop(dd_server *s);

#endif
