/* Reads shoal-jit's counters from its code cache (mapped read-only for the
 * moment of the read) for --stats and shoal ctl status. */
#include "jitstats.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../common/jitcache.h"

/* The latency below which `q` of the compiles fall (bucket upper bound). */
static uint64_t percentile(const struct jit_stats *s, double q)
{
	uint64_t total = 0, seen = 0;
	for (unsigned i = 0; i < JIT_LAT_BUCKETS; i++)
		total += s->lat_hist[i];
	for (unsigned i = 0; i < JIT_LAT_BUCKETS; i++) {
		seen += s->lat_hist[i];
		if (total && (double)seen >= q * (double)total)
			return 1ull << (i + 1);
	}
	return 0;
}

/* The same per guest block: the upper bound (ns) of the 1 us bucket. */
static uint64_t blk_percentile(const struct jit_stats *s, double q)
{
	uint64_t seen = 0;
	for (unsigned i = 0; i < JIT_BLK_US_BUCKETS; i++) {
		seen += s->blk_us_hist[i];
		if (s->blocks && (double)seen >= q * (double)s->blocks)
			return (i + 1) * 1000ull;
	}
	return 0;
}

int jitstats_read(const char *rundir, uint32_t nharts, struct jitstats *out)
{
	memset(out, 0, sizeof(*out));
	char path[4200], why[160];
	snprintf(path, sizeof(path), "%s/jit-fd.sock", rundir);
	struct jit_cache hdr;
	int fd = jitcache_fetch(path, &hdr, NULL, why, sizeof(why));
	if (fd < 0)
		return -1;
	uint8_t *p = mmap(NULL, hdr.pages_size, PROT_READ, MAP_SHARED, fd, (off_t)hdr.pages_off);
	close(fd);
	if (p != MAP_FAILED) {
		const struct jit_hart_stats *hs =
		    (const void *)(p + (hdr.hstats_off - hdr.pages_off));
		for (uint32_t i = 0; i < nharts && i < BOARD_MAX_HARTS; i++) {
			out->lookups += hs[i].lookups;
			out->hits += hs[i].hits;
			out->installs += hs[i].installs;
			out->stale += hs[i].stale;
			out->requests_sent += hs[i].requests;
			out->instret += hs[i].instret;
			out->interp += hs[i].interp;
		}
		munmap(p, hdr.pages_size);
	}
	out->generation = hdr.hdr.generation;
	out->stats = hdr.stats;
	out->code_bytes = hdr.code_used;
	out->p50_ns = percentile(&hdr.stats, 0.5);
	out->p99_ns = percentile(&hdr.stats, 0.99);
	out->blk_p50_ns = blk_percentile(&hdr.stats, 0.5);
	out->blk_p99_ns = blk_percentile(&hdr.stats, 0.99);
	return 0;
}

void jitstats_print(FILE *f, const struct jitstats *s)
{
	fprintf(
	    f,
	    "shoal: jit: %llu translations compiled (%llu guest instructions, %llu refused, %llu "
	    "recompiled), %llu requests (%llu already current, %llu put off), cache %llu KiB\n",
	    (unsigned long long)s->stats.compiled, (unsigned long long)s->stats.guest_insns,
	    (unsigned long long)s->stats.refused, (unsigned long long)s->stats.recompiled,
	    (unsigned long long)s->stats.requests, (unsigned long long)s->stats.duplicate,
	    (unsigned long long)s->stats.put_off, (unsigned long long)(s->code_bytes >> 10));
	fprintf(f,
		"shoal: jit: %llu lookups, %llu hits (%.1f%%), %llu bound, %llu stale; compile "
		"latency p50 < %llu ns, p99 < %llu ns, mean %llu ns\n",
		(unsigned long long)s->lookups, (unsigned long long)s->hits,
		s->lookups ? 100.0 * (double)s->hits / (double)s->lookups : 0.0,
		(unsigned long long)s->installs, (unsigned long long)s->stale,
		(unsigned long long)s->p50_ns, (unsigned long long)s->p99_ns,
		(unsigned long long)(s->stats.compiled ? s->stats.lat_ns_total / s->stats.compiled
						       : 0));
	fprintf(
	    f,
	    "shoal: jit: per guest block (%llu in all): compile latency p50 < %llu ns, p99 < "
	    "%llu ns, mean %llu ns\n",
	    (unsigned long long)s->stats.blocks, (unsigned long long)s->blk_p50_ns,
	    (unsigned long long)s->blk_p99_ns,
	    (unsigned long long)(s->stats.blocks ? s->stats.lat_ns_total / s->stats.blocks : 0));
	fprintf(f, "shoal: jit: %llu guest instructions retired, %.1f%% of them translated\n",
		(unsigned long long)s->instret,
		s->instret ? 100.0 * (double)(s->instret - s->interp) / (double)s->instret : 0.0);
}
