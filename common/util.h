/* Small parsing helpers shared by the command lines. */
#ifndef SHOAL_UTIL_H
#define SHOAL_UTIL_H

#include <stdint.h>

/* Parses a size like 4096, 512K, 128M, 4G (binary units). Returns 0 or
 * -EINVAL. */
int util_parse_size(const char *s, uint64_t *out);

/* Parses an unsigned integer (decimal or 0x hex) that must lie in [min,max].
 * Returns 0, -EINVAL (not a number) or -ERANGE. */
int util_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
