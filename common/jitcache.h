/** @file
 * The shared code cache of shoal-jit: one memfd, created and sized by
 * shoal-jit, in four page-aligned parts:
 *
 *   header   struct jit_cache    written by shoal-jit, read by everyone
 *   pages    per guest RAM page: generation (u32) and has-code bit;
 *            per hart: lookup counters; the compile request ring
 *                                 -- read+write in every vCPU
 *   index    open-addressing hash, JIT_INDEX_ENTRIES entries
 *                                 -- written by shoal-jit, read by vCPUs
 *   code     translated blocks    -- written by shoal-jit (its mapping is
 *                                    read+write), read+execute in vCPUs
 *
 * No mapping is ever writable and executable. vCPUs fetch the fd from
 * shoal-jit's fd socket (RUNDIR/jit-fd.sock) and map each part on its own.
 *
 * Index contract (lock-free): an entry's key is written once, after its
 * value; a value is one 64-bit word (page generation << 32 | code offset)
 * replaced atomically when a block is compiled again. Code and its guest
 * bytes are written before the value that points at them (release); a
 * reader loads key then value with acquire. Code is never rewritten in
 * place, so a vCPU running an old translation is never disturbed.
 *
 * Invalidation: a store to a page whose has-code bit is set bumps the
 * page's generation (and clears the bit); an entry whose generation is not
 * the page's is stale. Every translation also carries the guest bytes it
 * was made from, which a vCPU compares before it first runs the
 * translation after a fence.i, so code changed by a store that raced with
 * the bit being set is never run after the fence. */
#ifndef SHOAL_JITCACHE_H
#define SHOAL_JITCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "postring.h"
#include "region.h"

#define JIT_INDEX_BITS 20
#define JIT_INDEX_ENTRIES (1u << JIT_INDEX_BITS)
#define JIT_INDEX_PROBES 32 /* slots in each of a key's two probe runs */
#define JIT_CODE_SIZE (256ull << 20)
#define JIT_REQ_SLOTS 1024     /* compile requests a boot's bursts queue */
#define JIT_LAT_BUCKETS 32     /* compile latency histogram: bucket i < 2^i ns */
#define JIT_BLK_US_BUCKETS 128 /* per guest block: bucket i in [i, i+1) us, the last open */

/** Compile latency and volume, written by shoal-jit only. */
struct jit_stats {
	uint64_t requests;   /* compile requests received */
	uint64_t compiled;   /* translations published */
	uint64_t refused;    /* blocks whose first instruction tier 1 does not translate */
	uint64_t duplicate;  /* requests for a translation already current */
	uint64_t put_off;    /* requests for a block inside a translation, put off once */
	uint64_t recompiled; /* translations of an entry that had an older one */
	uint64_t guest_insns;
	uint64_t lat_ns_total;
	uint64_t lat_hist[JIT_LAT_BUCKETS];
	/* A translation's latency shared among the guest basic blocks it
	 * holds: `blocks` of them, each counted in blk_us_hist. */
	uint64_t blocks;
	uint64_t blk_us_hist[JIT_BLK_US_BUCKETS];
};

/** Per-hart counters, each hart writing only its own cache line. */
struct jit_hart_stats {
	uint64_t lookups;  /* index probes */
	uint64_t hits;	   /* probes that found a current translation */
	uint64_t installs; /* translations bound to a block after checking its bytes */
	uint64_t stale;	   /* translations refused: generation or bytes changed */
	uint64_t requests; /* compile requests sent */
	uint64_t instret;  /* the hart's retired instructions (copied at polls) */
	uint64_t interp;   /* of which the interpreter ran (copied at polls) */
	uint64_t pad[1];
};

/** The cache header (region kind REGION_JIT). */
struct jit_cache {
	struct region_hdr hdr;	 /* generation: the cache generation */
	uint64_t ram_base;	 /* guest physical address of page 0 */
	uint64_t ram_pages;	 /* pages covered by gens/codebits */
	uint64_t pages_off;	 /* part 2 */
	uint64_t pages_size;	 /* bytes */
	uint64_t gens_off;	 /* uint32_t[ram_pages], from the region start */
	uint64_t codebits_off;	 /* uint64_t[(ram_pages + 63) / 64] */
	uint64_t hstats_off;	 /* struct jit_hart_stats[BOARD_MAX_HARTS] */
	uint64_t code_epoch_off; /* uint64_t: bumped when a has-code bit goes 0 -> 1 */
	uint64_t req_ring_off;	 /* struct post_ring: compile requests (jit_req_push) */
	uint64_t index_off;	 /* part 3: struct jit_index_entry[JIT_INDEX_ENTRIES] */
	uint64_t index_size;
	uint64_t code_off; /* part 4 */
	uint64_t code_size;
	uint64_t code_used; /* bytes of part 4 in use (shoal-jit, release) */
	uint32_t enter_off; /* code offsets of the entry and exit stubs */
	uint32_t exit_off;
	uint32_t abi; /* JIT_ABI_VERSION of the translator */
	uint32_t pad;
	struct jit_stats stats;
};

/** One index slot. key 0 is empty. */
struct jit_index_entry {
	uint64_t key; /* jit_key() */
	uint64_t val; /* generation << 32 | offset in the code part, or JIT_NO_CODE */
};

/** The offset an entry holds for a block tier 1 cannot start (real
 * offsets are multiples of 16, so a value is never 0). */
#define JIT_NO_CODE 1u

/** A translation's header in the code part, followed by the guest bytes
 * it was made from (padded to 16) and then its host code. A translation
 * covers a region of one page entered at `ppc`. */
struct jit_block_hdr {
	uint64_t ppc;	    /* the entry */
	uint32_t guest_off; /* page offset of the guest bytes it was made from */
	uint32_t guest_len;
	uint32_t ninsns;
	uint32_t code_len;
	uint32_t mode;
	uint32_t pad;
};

static inline uint32_t jit_block_code_off(const struct jit_block_hdr *b)
{
	return (uint32_t)(sizeof(*b) + ((b->guest_len + 15u) & ~15u));
}

/** Index key of a block at guest physical `ppc` translated in mode `mode`
 * (JIT_MODE_BITS bits). Never 0. */
#define JIT_MODE_BITS 3
/* In a request's mode: compile now, never put off (--jit-sync). */
#define JIT_REQ_NOW (1u << 31)
static inline uint64_t jit_key(uint64_t ppc, unsigned mode)
{
	return (ppc << JIT_MODE_BITS) | mode | (1ull << 63);
}

static inline uint32_t jit_hash(uint64_t key)
{
	return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> (64 - JIT_INDEX_BITS));
}

/** The first index slot `key` may occupy. The keys of one guest page share
 * a group of 64 slots (by the entry's offset in the page) at a hashed
 * place: the translations of a page are looked up in one or two index
 * pages, not one each (a Linux boot touched some 4500 index pages per
 * vCPU, each a page fault, before). */
#define JIT_GROUP_BITS 6
static inline uint32_t jit_index_home(uint64_t key)
{
	uint64_t page = key >> (12 + JIT_MODE_BITS);
	uint32_t group =
	    (uint32_t)((page * 0x9e3779b97f4a7c15ull) >> (64 - (JIT_INDEX_BITS - JIT_GROUP_BITS)));
	uint32_t in_page = (uint32_t)((key >> (JIT_MODE_BITS + 1)) + (key & 7) * 7);
	return (group << JIT_GROUP_BITS) | (in_page & ((1u << JIT_GROUP_BITS) - 1));
}

/** The index slot of probe `i` (0 <= i < 2 * JIT_INDEX_PROBES) for `key`:
 * JIT_INDEX_PROBES slots from its home in its page's group, then as many
 * from a hash of the whole key, for a page with more translations than its
 * group holds (every block of a page, with --jit-threshold 1). Slots are
 * never emptied, so a key is in the second run only if the first is full. */
static inline uint32_t jit_index_slot(uint64_t key, unsigned i)
{
	uint32_t s =
	    i < JIT_INDEX_PROBES ? jit_index_home(key) + i : jit_hash(key) + (i - JIT_INDEX_PROBES);
	return s & (JIT_INDEX_ENTRIES - 1);
}

/** Finds `key`'s value in `index`, or 0. Lock-free; see the contract above. */
static inline uint64_t jit_index_find(const struct jit_index_entry *index, uint64_t key)
{
	for (unsigned i = 0; i < 2 * JIT_INDEX_PROBES; i++) {
		const struct jit_index_entry *e = &index[jit_index_slot(key, i)];
		uint64_t k = __atomic_load_n(&e->key, __ATOMIC_ACQUIRE);
		if (k == key)
			return __atomic_load_n(&e->val, __ATOMIC_ACQUIRE);
		if (k == 0)
			return 0;
	}
	return 0;
}

/** Asks shoal-jit at `fdsock` (RUNDIR/jit-fd.sock) for its cache: returns
 * the memfd (the caller owns it) with a checked copy of its header in
 * `*hdr`, or a negative errno with a reason in `why`. With `kick`, also
 * shoal-jit's kick eventfd there (the caller owns it too): adding to it
 * wakes a shoal-jit that sleeps with its request ring empty. */
int jitcache_fetch(const char *fdsock, struct jit_cache *hdr, int *kick, char *why, size_t why_len);

static inline uint64_t jit_pages_round(uint64_t n)
{
	return (n + 4095) & ~4095ull;
}

/** Compile requests travel through a posted-write ring (common/postring.h)
 * in the pages part, from every vCPU to shoal-jit: a slot's `value` is the
 * block's guest physical pc, `off` its mode key and `size` its page's
 * generation. Returns what post_ring_push returns (0: the ring is full). */
static inline uint64_t jit_req_push(struct post_ring *r, uint64_t ppc, unsigned mode, uint32_t gen)
{
	return post_ring_push(r, mode, gen, ppc);
}

/** Lays out a cache for `ram_pages` guest pages; fills the offsets and
 * sizes of `c` and returns the region's total size. */
static inline uint64_t jit_cache_layout(struct jit_cache *c, uint64_t ram_base, uint64_t ram_pages)
{
	c->ram_base = ram_base;
	c->ram_pages = ram_pages;
	c->pages_off = jit_pages_round(sizeof(*c));
	c->gens_off = c->pages_off;
	c->codebits_off = c->gens_off + jit_pages_round(ram_pages * 4);
	c->hstats_off = c->codebits_off + jit_pages_round((ram_pages + 63) / 64 * 8);
	c->code_epoch_off = c->hstats_off + BOARD_MAX_HARTS * sizeof(struct jit_hart_stats);
	c->req_ring_off = c->code_epoch_off + 64;
	c->pages_size =
	    jit_pages_round(c->req_ring_off + post_ring_size(JIT_REQ_SLOTS)) - c->pages_off;
	c->index_off = c->pages_off + c->pages_size;
	c->index_size = JIT_INDEX_ENTRIES * sizeof(struct jit_index_entry);
	c->code_off = c->index_off + c->index_size;
	c->code_size = JIT_CODE_SIZE;
	return c->code_off + c->code_size;
}

#endif
