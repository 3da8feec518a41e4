/** @file
 * Guest NUMA topology from the command line: `--numa
 * node,cpus=A-B,mem=SIZE[,hostnode=N]`, one option per node in order. */
#ifndef SHOAL_NUMA_H
#define SHOAL_NUMA_H

#include <stddef.h>
#include <stdint.h>

#define NUMA_MAX_NODES 16

/** One guest node as given: harts [first_cpu, first_cpu + ncpus), `mem`
 * bytes of RAM placed on host node `host_node` (-1: not given). */
struct numa_node {
	uint32_t first_cpu, ncpus;
	uint64_t mem;
	int host_node;
};

/** Parses one `--numa` value into `out`. Returns 0, or -EINVAL with a reason
 * naming the bad part in `why`. */
int numa_parse(const char *spec, struct numa_node *out, char *why, size_t why_len);

/** Checks `n` parsed nodes against `smp` harts: CPU ranges must not overlap
 * and must cover every hart; memory must be at least 2 MiB per node and, if
 * `mem` is non-zero (--mem given), sum to it. Returns 0 or -EINVAL with a
 * reason. */
int numa_check(const struct numa_node *nodes, unsigned n, uint32_t smp, uint64_t mem, char *why,
	       size_t why_len);

#endif
