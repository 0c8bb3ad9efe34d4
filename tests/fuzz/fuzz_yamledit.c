/* fuzz_yamledit - image-reference rewriting (dd_yamledit_apply).  The first
 * byte picks the file name (a kustomization or not).  Properties: no crash;
 * nothing changed means the bytes are the input's; a planned edit always
 * passes the re-parse check; a second apply changes nothing (idempotence). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deploy/yamledit.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(enum dd_log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)msg;
	(void)ctx;
}

static const dd_image_update upd[] = {
	{ "127.0.0.1:5000/app", "sha256:2222222222222222222222222222222222222222222222222222222222222222" },
	{ "docker.io/library/nginx", "sha256:3333333333333333333333333333333333333333333333333333333333333333" },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dd_buf out = DD_BUF_INIT, again = DD_BUF_INIT;
	dd_error err = DD_ERROR_INIT;
	size_t changes = 0, c2 = 0;
	const char *name;

	if (size < 1)
		return 0;
	dd_log_set_sink(quiet, NULL);
	name = (data[0] & 1) ? "kustomization.yaml" : "values.yaml";
	data++;
	size--;
	int rc = dd_yamledit_apply((const char *)data, size, name, upd, 2, &out, &changes, &err);
	if (rc == DD_EINTERNAL)
		__builtin_trap(); /* a planned edit failed its own check: a bug */
	if (rc == 0) {
		if (!changes && (out.len != size || (size && memcmp(out.data, data, size))))
			__builtin_trap();
		if (dd_yamledit_apply(out.data, out.len, name, upd, 2, &again, &c2, &err) != 0)
			__builtin_trap(); /* the result of an edit must parse */
		if (c2 || again.len != out.len || (out.len && memcmp(again.data, out.data, out.len)))
			__builtin_trap(); /* idempotent */
	} else if (out.len || strchr(err.msg, '\n')) {
		__builtin_trap();
	}
	dd_buf_release(&out);
	dd_buf_release(&again);
	return 0;
}
