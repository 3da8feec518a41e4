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

#include "board.h"
#include "postring.h"
#include "region.h"

#define SHADOW_REGS 512		      /* register offsets a shadow can publish: [0, 512) */
#define SHADOW_PAGE 4096	      /* the registers and the device's private state */
#define SHADOW_SIZE (2 * SHADOW_PAGE) /* the second page: the posted-write ring */

/** A device's shadow page: register values the device publishes for vCPUs
 * to read without a round trip, one optional interrupt-status register the
 * vCPUs acknowledge themselves, and the device's private state that must
 * survive its restart. Everything but the interrupt-status register is
 * written only by the owning device. */
struct shadow {
	struct region_hdr hdr;
	uint64_t valid[SHADOW_REGS / 64];
	/* Registers the guest also writes: their published value is current
	 * only once the device has handled every posted write (its ring is
	 * empty); until then a read goes to the device. */
	uint64_t after_writes[SHADOW_REGS / 64];
	uint8_t regs[SHADOW_REGS] __attribute__((aligned(8)));
	/* Interrupt status (optional; isr_off == 0 means none): the 32-bit
	 * register at regs[isr_off] holds pending cause bits; the device sets
	 * them with shadow_isr_raise, and a vCPU's 32-bit write at window
	 * offset ack_off clears the bits written (shadow_isr_ack) without a
	 * message. The line of PLIC source isr_irq is high while bits remain. */
	uint32_t isr_off, ack_off, isr_irq, pad0;
	/* Device-private state that survives a restart (SHADOW_PRIV_SIZE). */
	uint8_t priv[] __attribute__((aligned(64)));
};

#define SHADOW_PRIV_SIZE (SHADOW_PAGE - sizeof(struct shadow))

/** The device's posted-write ring, in the region's second page. */
static inline struct post_ring *shadow_ring(struct shadow *s)
{
	_Static_assert(post_ring_size(POST_RING_SLOTS) <= SHADOW_PAGE, "ring larger than a page");
	return (struct post_ring *)(void *)((char *)s + SHADOW_PAGE);
}

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

/** Returns 1 if the vCPU may serve a read of [off, off + size) from the
 * page: every byte is published, and a register the guest writes has no
 * write pending in the ring (the ring is in the page after the shadow). */
static inline int shadow_current(struct shadow *s, uint64_t off, unsigned size)
{
	if (!shadow_readable(s, off, size))
		return 0;
	uint64_t mask = ((1ull << size) - 1) << (off % 64);
	if (off % 64 + size > 64 ||
	    (__atomic_load_n(&s->after_writes[off / 64], __ATOMIC_ACQUIRE) & mask)) {
		const struct post_ring *r = shadow_ring(s);
		return post_ring_done(r, __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE));
	}
	return 1;
}

/** Device side: sets `bits` in `word`, writing only when one is missing.
 * Devices publish after every change (the UART after every character)
 * while vCPUs poll the same lines: an unchanged page stays in their caches. */
static inline void shadow_set_bits(uint64_t *word, uint64_t bits)
{
	if ((__atomic_load_n(word, __ATOMIC_RELAXED) & bits) != bits)
		__atomic_fetch_or(word, bits, __ATOMIC_RELEASE);
}

/** Publishes byte register `off` = `v` (device side). The value is visible
 * before its valid bit, so a reader never sees a stale value as valid. */
static inline void shadow_publish8(struct shadow *s, unsigned off, uint8_t v)
{
	if (__atomic_load_n(&s->regs[off], __ATOMIC_RELAXED) != v)
		__atomic_store_n(&s->regs[off], v, __ATOMIC_RELEASE);
	shadow_set_bits(&s->valid[off / 64], 1ull << (off % 64));
}

/** Publishes the 32-bit register at `off` (4-aligned) = `v` (device side). */
static inline void shadow_publish32(struct shadow *s, unsigned off, uint32_t v)
{
	uint32_t *r = (uint32_t *)(void *)&s->regs[off];
	if (__atomic_load_n(r, __ATOMIC_RELAXED) != v)
		__atomic_store_n(r, v, __ATOMIC_RELEASE);
	shadow_set_bits(&s->valid[off / 64], 0xfull << (off % 64));
}

/** Publishes byte register `off` = `v` (device side), a register the guest
 * also writes (see `after_writes`). */
static inline void shadow_publish8_written(struct shadow *s, unsigned off, uint8_t v)
{
	shadow_set_bits(&s->after_writes[off / 64], 1ull << (off % 64));
	shadow_publish8(s, off, v);
}

/** Marks `n` bytes at `off` published without writing them (a register
 * whose bytes another agent keeps, like the interrupt status). */
static inline void shadow_mark_valid(struct shadow *s, unsigned off, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		shadow_set_bits(&s->valid[(off + i) / 64], 1ull << ((off + i) % 64));
}

/** The interrupt-status register (shadow->isr_off must be set). */
static inline uint32_t *shadow_isr(struct shadow *s)
{
	return (uint32_t *)(void *)&s->regs[s->isr_off];
}

/** Device side: sets interrupt-status `bits` and raises the line. */
static inline void shadow_isr_raise(struct shadow *s, struct board *b, uint32_t bits)
{
	__atomic_fetch_or(shadow_isr(s), bits, __ATOMIC_ACQ_REL);
	board_irq_line(b, s->isr_irq, 1);
}

/** Either side: clears interrupt-status `bits`; when none remain, lowers the
 * line, then raises it again if the device set a bit meanwhile (so a raise
 * racing this acknowledgement is never lost). */
static inline void shadow_isr_ack(struct shadow *s, struct board *b, uint32_t bits)
{
	if (__atomic_and_fetch(shadow_isr(s), ~bits, __ATOMIC_ACQ_REL) != 0)
		return;
	board_irq_line(b, s->isr_irq, 0);
	if (__atomic_load_n(shadow_isr(s), __ATOMIC_ACQUIRE) != 0)
		board_irq_line(b, s->isr_irq, 1);
}

#endif
