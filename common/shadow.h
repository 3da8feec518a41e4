/** @file
 * A device's shadow page: registers the device publishes in shared memory so
 * vCPUs can read them without a round trip. Owned by shoal-mem (so it
 * survives a device restart), written only by the device, read by vCPUs.
 *
 * A register at byte offset `off` (off < SHADOW_REGS) may be read from the
 * shadow when bit `off` of `valid` is set; its bytes are in regs[] in guest
 * (little-endian) order. Reads of other offsets go to the device. */
#ifndef SHOAL_SHADOW_H
#define SHOAL_SHADOW_H

#include <stdint.h>

#include "region.h"

#define SHADOW_REGS 256
#define SHADOW_SIZE 4096

/** A device's shadow page: register values the device publishes for vCPUs
 * to read without a round trip. Written only by the owning device. */
struct shadow {
	struct region_hdr hdr;
	uint64_t valid[SHADOW_REGS / 64];
	uint8_t regs[SHADOW_REGS];
	/* Device-private state that must survive a restart may follow. */
};

/** Returns 1 if every byte of [off, off + size) has been published, so a
 * vCPU may serve the read from the page; 0 means ask the device. */
static inline int shadow_readable(const struct shadow *s, uint64_t off, unsigned size)
{
	if (off + size > SHADOW_REGS)
		return 0;
	for (unsigned i = 0; i < size; i++) {
		uint64_t o = off + i;
		if (!(__atomic_load_n(&s->valid[o / 64], __ATOMIC_ACQUIRE) & (1ull << (o % 64))))
			return 0;
	}
	return 1;
}

/** Publishes byte register `off` = `v` (device side). The value is visible
 * before its valid bit, so a reader never sees a stale value as valid. */
static inline void shadow_publish8(struct shadow *s, unsigned off, uint8_t v)
{
	__atomic_store_n(&s->regs[off], v, __ATOMIC_RELEASE);
	__atomic_fetch_or(&s->valid[off / 64], 1ull << (off % 64), __ATOMIC_RELEASE);
}

#endif
