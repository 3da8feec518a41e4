/** @file
 * shoal-jit's counters as shoal reports them (--stats, shoal ctl status). */
#ifndef SHOAL_JITSTATS_H
#define SHOAL_JITSTATS_H

#include <stdint.h>
#include <stdio.h>

#include "../common/jitcache.h"

struct jitstats {
	uint64_t generation;
	struct jit_stats stats; /* the service's own */
	uint64_t code_bytes;
	uint64_t lookups, hits, installs, stale, requests_sent; /* summed over harts */
	uint64_t instret, interp;	 /* retired, and of those interpreted (summed over harts) */
	uint64_t p50_ns, p99_ns;	 /* upper bounds of the latency buckets */
	uint64_t blk_p50_ns, blk_p99_ns; /* per guest block (upper bounds, 1 us buckets) */
};

/** Fetches the cache from the service in `rundir` and reads its counters.
 * Returns 0, or -1 when there is no service to ask. */
int jitstats_read(const char *rundir, uint32_t nharts, struct jitstats *out);

/** Two lines of human-readable summary. */
void jitstats_print(FILE *f, const struct jitstats *s);

#endif
