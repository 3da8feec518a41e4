/** @file
 * Logging with the process name. Messages go to stderr, one line each. */
#ifndef SHOAL_LOG_H
#define SHOAL_LOG_H

/** Sets the name printed before every message ("shoal-cpu[3]"). The string is
 * copied. Call once at the start of main. */
void log_init(const char *name);

/** Prints "name: message" to stderr: a failure the user must see. */
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** Prints "name: message" to stderr: progress worth a line. */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** Prints "name: message" to stderr only when SHOAL_DEBUG is set. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
