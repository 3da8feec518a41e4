/* A device's shadow page: registers the device publishes in shared memory so
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

struct shadow {
	struct region_hdr hdr;
	uint64_t valid[SHADOW_REGS / 64];
	uint8_t regs[SHADOW_REGS];
	/* Device-private state that must survive a restart may follow. */
};

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

static inline void shadow_publish8(struct shadow *s, unsigned off, uint8_t v)
{
	__atomic_store_n(&s->regs[off], v, __ATOMIC_RELEASE);
	__atomic_fetch_or(&s->valid[off / 64], 1ull << (off % 64), __ATOMIC_RELEASE);
}

#endif
