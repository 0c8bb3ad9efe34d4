/*
 * webhook.h - registry push notifications turned into "this tag/digest was
 * pushed" events for `drydock watch` (docs/webhooks.md).
 *
 * Three payload formats, told apart by their content (the Content-Type is
 * only a hint):
 *
 *   distribution  the CNCF distribution (docker-registry) notification
 *                 envelope {"events":[{"action":"push","target":{...},
 *                 "request":{"host":...}}...]}; only manifest pushes count
 *                 (blob pushes, mounts, pulls and deletes are ignored);
 *                 pushes of an index's child manifests carry no tag.
 *   acr           an Azure Container Registry webhook {"action":"push" or
 *                 "chart_push","target":{...},"request":{"host":...}};
 *                 delete, chart_delete and quarantine are ignored.
 *   harbor        a Harbor webhook, "Default" format {"type":"PUSH_ARTIFACT",
 *                 "event_data":{"resources":[...],"repository":{...}}} or
 *                 "CloudEvents" format {"specversion":"1.0","type":
 *                 "harbor.artifact.pushed","data":{...}}; the registry host
 *                 comes from resources[].resource_url; other types ignored.
 *
 * Every string taken into an event is validated: repository names, tags
 * and digests follow the OCI distribution grammar and hosts are
 * host[:port] or [v6]:port, so nothing hostile (path segments, control
 * characters, URLs) reaches the poller, the logs or the state DB.
 *
 * Memory: dd_webhook_parse() allocates the event array and every string in
 * it; dd_push_events_free() releases them.  Nothing is borrowed from body.
 */
#ifndef DD_WATCH_WEBHOOK_H
#define DD_WATCH_WEBHOOK_H

#include <stddef.h>

#include "util/error.h"

#define DD_WEBHOOK_MAX ((size_t)1 << 20) /* largest payload accepted: 1 MiB */

typedef struct dd_push_event {
	char *registry;   /* host[:port] as the registry names itself (request.host,
			     Harbor's resource_url), or NULL when the payload has none */
	char *repository; /* "library/base", never NULL */
	char *tag;        /* "12", or NULL (a push by digest, an index's child) */
	char *digest;     /* manifest digest "sha256:...", or NULL */
	char *media_type; /* manifest media type, or NULL (Harbor sends none) */
	const char *source; /* static: "distribution", "acr" or "harbor" */
} dd_push_event;

/*
 * Parse one webhook request body of len bytes.  content_type may be NULL.
 * On success returns 0 with *events (NULL when *n is 0) holding the pushes
 * in payload order; a valid payload with nothing relevant (a pull, a blob
 * push, a Harbor scan report) gives *n == 0.  A body over DD_WEBHOOK_MAX,
 * invalid JSON, an unknown shape or a field of the wrong type is DD_EINPUT
 * with one line naming the field ("webhook (distribution): events[2].target
 * .repository: invalid repository name '..'"); DD_EENV when out of memory.
 */
int dd_webhook_parse(const char *body, size_t len, const char *content_type,
		     dd_push_event **events, size_t *n, dd_error *err);

/* Free n events and the array; NULL is fine. */
void dd_push_events_free(dd_push_event *e, size_t n);

/* Validators used by the parser, exported for the server and tests:
 * 1 when s is a valid repository path / tag / digest / host[:port]. */
int dd_webhook_valid_repository(const char *s);
int dd_webhook_valid_tag(const char *s);
int dd_webhook_valid_digest(const char *s);
int dd_webhook_valid_host(const char *s);

#endif
