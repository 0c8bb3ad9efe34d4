/*
 * error.h - status codes and the error record every library call fills.
 *
 * Every fallible library function returns 0 (DD_OK) or one of the negative
 * DD_E* codes below and, on failure, fills the caller's dd_error once, at the
 * place where the failure happened, with a one-line message that names the
 * image, layer, file and record involved.  Callers add context in front with
 * dd_error_prefix(); they never overwrite the message.
 *
 * Memory: dd_error is a plain value (fixed buffer), owned by the caller,
 * usually on the stack.  A NULL dd_error pointer is accepted everywhere and
 * means "I only want the code".
 */
#ifndef DD_UTIL_ERROR_H
#define DD_UTIL_ERROR_H

#include <stddef.h>

/* Codes; the CLI's exit status is the negated code (see docs/cli.md). */
enum {
	DD_OK = 0,
	DD_EGATE = -1,     /* policy or findings gate failed         -> exit 1 */
	DD_EUSAGE = -2,    /* bad command line                         -> exit 2 */
	DD_EINPUT = -3,    /* bad input: image, file, record           -> exit 3 */
	DD_EENV = -4,      /* environment: I/O, network, memory, DB    -> exit 4 */
	DD_EINTERNAL = -5, /* a bug in drydock                         -> exit 5 */
};

#define DD_ERROR_MSG_MAX 1024

typedef struct dd_error {
	int code;
	char msg[DD_ERROR_MSG_MAX];
} dd_error;

#define DD_ERROR_INIT { 0, "" }

#if defined(__GNUC__)
#define DD_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define DD_PRINTF(f, a)
#endif

/* Set code and message; returns code so callers can `return dd_error_set(...)`.
 * Control characters in the formatted message are escaped so hostile names
 * cannot forge extra lines on a terminal. */
int dd_error_set(dd_error *err, int code, const char *fmt, ...) DD_PRINTF(3, 4);

/* Prepend "CONTEXT: " to an already-set message; returns err->code (or
 * DD_EINTERNAL when err holds no error). */
int dd_error_prefix(dd_error *err, const char *fmt, ...) DD_PRINTF(2, 3);

/* Shorthand for allocation failures. */
int dd_error_oom(dd_error *err);

void dd_error_clear(dd_error *err);

/* Map a DD_E* code (or 0) to the process exit status of docs/cli.md. */
int dd_exit_code(int code);

/* Human name of a code: "usage", "bad input", ... */
const char *dd_error_kind(int code);

#endif
