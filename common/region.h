/** @file
 * Header at the start of every shared region (guest RAM excepted: RAM is the
 * guest's, so its header lives in the region description message instead).
 * A region whose header does not match what the reader expects is refused. */
#ifndef SHOAL_REGION_H
#define SHOAL_REGION_H

#include <stddef.h>
#include <stdint.h>

#define REGION_MAGIC 0x4c414f4853u /* "SHOAL" */
#define REGION_LAYOUT_VERSION 3	   /* 3: shadow pages: 512 registers, ISR, private state */

/** What a shared region holds; carried in its header and in requests. */
enum region_kind {
	REGION_RAM = 1,
	REGION_BOARD = 2,
	REGION_SHADOW = 3,
	REGION_JIT = 4, /* shoal-jit's code cache (common/jitcache.h) */
};

/** The first bytes of every non-RAM shared region, written by its creator
 * before the region is handed out, checked by every mapper. */
struct region_hdr {
	uint64_t magic;
	uint32_t layout_version;
	uint32_t kind;	     /* enum region_kind */
	uint64_t size;	     /* bytes, header included */
	uint64_t generation; /* bumped by the writer each time it (re)creates it */
};

/** Fills a header. The caller owns the memory, which must be at least `size`
 * bytes. */
void region_hdr_init(struct region_hdr *h, enum region_kind kind, uint64_t size,
		     uint64_t generation);

/** Checks a header against the expected kind and the mapped size. Returns 0, or
 * -EINVAL with a one-line reason written to `why` (which may be NULL). */
int region_hdr_check(const struct region_hdr *h, enum region_kind kind, uint64_t mapped_size,
		     char *why, size_t why_len);

/** Name of a region kind for messages ("ram", "board", "shadow"); NULL if
 * unknown. */
const char *region_kind_name(int kind);

/** Parses a region kind name; returns the kind or -EINVAL. */
int region_kind_parse(const char *name);

#endif
