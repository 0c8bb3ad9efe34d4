/* Fuzz the build module's text handling: command templates and shell
 * quoting (a quoted word must read back as the value, whatever it holds),
 * CI request composition (URLs, form and JSON bodies), the log tail and
 * the last-line extraction.  Input: NUL-separated template, URL, values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "build/build.h"

/* Undo POSIX single quoting of one word: '...' runs and \' between them. */
static int unquote(const char *s, size_t n, dd_buf *out)
{
	size_t i = 0;
	while (i < n) {
		if (s[i] == '\'') {
			const char *end = memchr(s + i + 1, '\'', n - i - 1);
			if (!end)
				return -1;
			dd_buf_append(out, s + i + 1, (size_t)(end - (s + i + 1)));
			i = (size_t)(end - s) + 1;
		} else if (s[i] == '\\' && i + 1 < n) {
			dd_buf_putc(out, s[i + 1]);
			i += 2;
		} else {
			return -1; /* anything unquoted would be seen by the shell */
		}
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *parts[8] = { 0 };
	size_t np = 0;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (char *p = copy; np < 8 && p <= copy + size; p += strlen(p) + 1)
		parts[np++] = p;
	for (size_t i = np; i < 8; i++)
		parts[i] = "";

	dd_build_vars v = { parts[2], parts[3], parts[4], parts[5], parts[6], parts[7], NULL, parts[2] };
	dd_buf out = DD_BUF_INIT;
	dd_error e = DD_ERROR_INIT;
	if (dd_build_template(&out, parts[0], &v, &e))
		abort(); /* small input, no limit reached */
	dd_buf_release(&out);

	for (size_t i = 0; i < 8; i++) {
		dd_buf q = DD_BUF_INIT, back = DD_BUF_INIT;
		dd_build_shell_quote(&q, parts[i]);
		if (unquote(q.data, q.len, &back) || strcmp(dd_buf_cstr(&back), parts[i]))
			abort();
		dd_buf_release(&q);
		dd_buf_release(&back);
	}

	static const enum dd_build_backend ci[] = { DD_BUILD_JENKINS, DD_BUILD_AZURE, DD_BUILD_GITHUB };
	for (size_t i = 0; i < 3; i++) {
		dd_fleet_build b;
		dd_build_ci_request r;
		memset(&b, 0, sizeof(b));
		b.backend = ci[i];
		b.url = parts[1];
		b.event_type = parts[3];
		if (dd_build_ci_compose(&r, &b, &v, &e) == 0) {
			if (!r.url || !r.body || strlen(r.body) != r.body_len)
				abort();
			if (ci[i] != DD_BUILD_JENKINS) {
				json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
				if (!j)
					abort();
				json_decref(j);
			} else if (strpbrk(r.body, " \"'\n\r#")) {
				abort(); /* form values are percent-encoded */
			}
			dd_build_ci_request_release(&r);
		}
	}
	free(dd_build_jenkins_root(parts[1]));

	char line[64];
	dd_build_last_line((const char *)data, size, line, sizeof(line));
	if (strlen(line) >= sizeof(line))
		abort();
	dd_buf log = DD_BUF_INIT;
	for (size_t off = 0; off < size; off += 7)
		dd_build_log_append(&log, data + off, size - off < 7 ? size - off : 7, 100);
	if (log.len > 100)
		abort();
	dd_buf_release(&log);
	free(copy);
	return 0;
}
