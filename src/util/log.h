/*
 * log.h - warnings and progress from the library.
 *
 * The library never prints to stdout.  Warnings ("skipped malformed apk entry
 * at line 120") go through one sink; the CLI installs one that writes
 * "drydock: warning: ..." to stderr (honouring --quiet).  The default sink
 * writes to stderr.
 */
#ifndef DD_UTIL_LOG_H
#define DD_UTIL_LOG_H

#include "util/error.h"

enum dd_log_level { DD_LOG_DEBUG, DD_LOG_INFO, DD_LOG_WARN };

typedef void (*dd_log_sink)(enum dd_log_level level, const char *msg, void *ctx);

void dd_log_set_sink(dd_log_sink sink, void *ctx);
void dd_log_set_level(enum dd_log_level min);
void dd_log(enum dd_log_level level, const char *fmt, ...) DD_PRINTF(2, 3);
#define dd_warn(...) dd_log(DD_LOG_WARN, __VA_ARGS__)
#define dd_info(...) dd_log(DD_LOG_INFO, __VA_ARGS__)
#define dd_debug(...) dd_log(DD_LOG_DEBUG, __VA_ARGS__)

#endif
