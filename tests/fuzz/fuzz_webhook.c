/* fuzz_webhook - arbitrary bytes as a registry webhook body through
 * dd_webhook_parse() (distribution, ACR and Harbor formats).  Seeds:
 * tests/data/watch/webhooks/ and tests/fuzz/corpus/webhook/. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "watch/webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ctypes[] = { NULL, "application/vnd.docker.distribution.events.v1+json" };
	dd_error err = DD_ERROR_INIT;

	for (size_t c = 0; c < sizeof(ctypes) / sizeof(ctypes[0]); c++) {
		dd_push_event *ev = NULL;
		size_t n = 0;
		int rc = dd_webhook_parse((const char *)data, size, ctypes[c], &ev, &n, &err);
		if (rc != 0) {
			/* failures are DD_EINPUT (or DD_EENV) with one line and no events */
			if ((rc != DD_EINPUT && rc != DD_EENV) || ev || n || strchr(err.msg, '\n'))
				__builtin_trap();
			continue;
		}
		/* every event holds validated strings */
		for (size_t i = 0; i < n; i++) {
			if (!dd_webhook_valid_repository(ev[i].repository))
				__builtin_trap();
			if (ev[i].tag && !dd_webhook_valid_tag(ev[i].tag))
				__builtin_trap();
			if (ev[i].digest && !dd_webhook_valid_digest(ev[i].digest))
				__builtin_trap();
			if (!ev[i].tag && !ev[i].digest)
				__builtin_trap();
			if (ev[i].registry && !dd_webhook_valid_host(ev[i].registry))
				__builtin_trap();
			if (ev[i].media_type && strpbrk(ev[i].media_type, "\r\n\"\\"))
				__builtin_trap();
		}
		dd_push_events_free(ev, n);
	}
	return 0;
}
