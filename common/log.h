/* Logging with the process name. Messages go to stderr, one line each. */
#ifndef SHOAL_LOG_H
#define SHOAL_LOG_H

/* Sets the name printed before every message ("shoal-cpu[3]"). The string is
 * copied. Call once at the start of main. */
void log_init(const char *name);

/* Prints "name: message" to stderr. log_debug prints only when SHOAL_DEBUG is
 * set in the environment. */
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
