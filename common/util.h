/** @file
 * Small parsing helpers shared by the command lines. */
#ifndef SHOAL_UTIL_H
#define SHOAL_UTIL_H

#include <stddef.h>
#include <stdint.h>

/** Parses a size like 4096, 512K, 128M, 4G (binary units). Returns 0 or
 * -EINVAL. */
int util_parse_size(const char *s, uint64_t *out);

/** Parses an unsigned integer (decimal or 0x hex) that must lie in [min,max].
 * Returns 0, -EINVAL (not a number) or -ERANGE. */
int util_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/** Writes a one-line reason into `why` (capacity `len`; `why` may be NULL)
 * and returns `ret`, so error paths read `return util_reason(...)`. */
int util_reason(char *why, size_t len, int ret, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/** CLOCK_MONOTONIC in nanoseconds. */
uint64_t util_now_ns(void);

/** Blocks SIGTERM, SIGINT and SIGHUP, ignores SIGPIPE, and returns a
 * signalfd (close-on-exec, non-blocking) that reads the blocked ones: how
 * a process's event loop learns it must stop. Returns -1 on failure. */
int util_stop_signalfd(void);

#endif
