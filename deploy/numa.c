/* Parsing and checking of --numa node options. */
#include "numa.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../common/util.h"

int numa_parse(const char *spec, struct numa_node *out, char *why, size_t why_len)
{
	char buf[256];
	if (strlen(spec) >= sizeof(buf)) {
		snprintf(why, why_len, "too long");
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", spec);
	*out = (struct numa_node){.host_node = -1};
	int have_cpus = 0, have_mem = 0;
	char *save = NULL;
	char *tok = strtok_r(buf, ",", &save);
	if (!tok || strcmp(tok, "node") != 0) {
		snprintf(why, why_len, "expected 'node,cpus=A-B,mem=SIZE'");
		return -EINVAL;
	}
	while ((tok = strtok_r(NULL, ",", &save))) {
		char *eq = strchr(tok, '=');
		if (!eq) {
			snprintf(why, why_len, "'%s': expected key=value", tok);
			return -EINVAL;
		}
		*eq = 0;
		const char *v = eq + 1;
		uint64_t a, b;
		if (strcmp(tok, "cpus") == 0) {
			char lo[32];
			const char *dash = strchr(v, '-');
			size_t l = dash ? (size_t)(dash - v) : strlen(v);
			if (l == 0 || l >= sizeof(lo)) {
				snprintf(why, why_len, "cpus=%s: expected A-B or A", v);
				return -EINVAL;
			}
			memcpy(lo, v, l);
			lo[l] = 0;
			if (util_parse_u64(lo, 0, 511, &a) ||
			    (dash ? util_parse_u64(dash + 1, 0, 511, &b) : (b = a, 0)) || b < a) {
				snprintf(why, why_len,
					 "cpus=%s: expected a range A-B of harts 0-511", v);
				return -EINVAL;
			}
			out->first_cpu = (uint32_t)a;
			out->ncpus = (uint32_t)(b - a + 1);
			have_cpus = 1;
		} else if (strcmp(tok, "mem") == 0) {
			if (util_parse_size(v, &a) || a == 0 || a % 4096) {
				snprintf(why, why_len, "mem=%s: expected a size like 256M", v);
				return -EINVAL;
			}
			out->mem = a;
			have_mem = 1;
		} else if (strcmp(tok, "hostnode") == 0) {
			if (util_parse_u64(v, 0, 1023, &a)) {
				snprintf(why, why_len,
					 "hostnode=%s: expected a host NUMA node number", v);
				return -EINVAL;
			}
			out->host_node = (int)a;
		} else {
			snprintf(why, why_len, "unknown key '%s' (expected cpus, mem, hostnode)",
				 tok);
			return -EINVAL;
		}
	}
	if (!have_cpus || !have_mem) {
		snprintf(why, why_len, "needs both cpus= and mem=");
		return -EINVAL;
	}
	return 0;
}

int numa_check(const struct numa_node *nodes, unsigned n, uint32_t smp, uint64_t mem, char *why,
	       size_t why_len)
{
	static uint8_t owner[512];
	memset(owner, 0xff, sizeof(owner));
	uint64_t total = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct numa_node *d = &nodes[i];
		if (d->mem < (2u << 20)) {
			snprintf(why, why_len, "node %u: mem must be at least 2M", i);
			return -EINVAL;
		}
		total += d->mem;
		for (uint32_t c = d->first_cpu; c < d->first_cpu + d->ncpus; c++) {
			if (c >= smp) {
				snprintf(why, why_len,
					 "node %u: cpu %u does not exist with --smp %u", i, c, smp);
				return -EINVAL;
			}
			if (owner[c] != 0xff) {
				snprintf(why, why_len, "nodes %u and %u both claim cpu %u",
					 owner[c], i, c);
				return -EINVAL;
			}
			owner[c] = (uint8_t)i;
		}
	}
	for (uint32_t c = 0; c < smp; c++)
		if (owner[c] == 0xff) {
			snprintf(why, why_len, "cpu %u is in no node (every hart needs one)", c);
			return -EINVAL;
		}
	if (mem && total != mem) {
		snprintf(why, why_len, "the nodes' mem adds up to %llu bytes but --mem is %llu",
			 (unsigned long long)total, (unsigned long long)mem);
		return -EINVAL;
	}
	return 0;
}
