/** @file
 * The posted-write ring: MMIO writes from every vCPU to one device, in one
 * order, in shared memory (the second page of the device's shadow region,
 * owned by shoal-mem, so writes not yet handled survive a device restart).
 *
 * Producers (vCPU processes) reserve a slot with a compare-and-swap on
 * `tail`, fill it and publish it by storing its sequence number; the one
 * consumer (the device) handles slots in order and advances `head`. The
 * order of reservation is the order the device sees, across harts: a write
 * a hart made before a fence and a lock release is handled before any
 * write another hart makes after taking the lock.
 *
 * Waking the device: before it sleeps, the device sets `sleeping` and looks
 * at the ring once more; a producer that publishes and then finds
 * `sleeping` set clears it and sends the device a kick message (the
 * Dekker pattern: both sides fence between their store and their load, so
 * a write is never left behind a sleeping device). */
#ifndef SHOAL_POSTRING_H
#define SHOAL_POSTRING_H

#include <stddef.h>
#include <stdint.h>

#define POST_RING_SLOTS 128 /* the capacity of a ring that does not set one */

/** One posted write: `seq` is the slot's ring index + 1 once published. */
struct post_slot {
	uint64_t seq;
	uint32_t off; /* offset in the device's window */
	uint32_t size;
	uint64_t value;
};

/** The ring (see the file comment): this header, then its slots.
 * Zero-filled memory of post_ring_size(POST_RING_SLOTS) bytes is an empty
 * ring; a ring of another capacity has `slots` set before first use. */
struct post_ring {
	uint64_t tail __attribute__((aligned(64))); /* next index to reserve */
	uint32_t slots; /* capacity, a power of two; 0: POST_RING_SLOTS */
	uint64_t head __attribute__((aligned(64))); /* next index to handle */
	uint32_t sleeping;			    /* the device waits for a kick */
	struct post_slot slot[] __attribute__((aligned(64)));
};

/** Bytes a ring of `slots` slots takes. */
#define post_ring_size(slots) \
	(sizeof(struct post_ring) + (size_t)(slots) * sizeof(struct post_slot))

/** The number of slots of `r`. */
static inline uint64_t post_ring_cap(const struct post_ring *r)
{
	uint32_t n = r->slots;
	return n ? n : POST_RING_SLOTS;
}

/** Producer: appends a write; returns its index + 1 (what post_ring_done
 * compares against), or 0 when the ring is full (nothing was written). */
static inline uint64_t post_ring_push(struct post_ring *r, uint32_t off, uint32_t size,
				      uint64_t value)
{
	uint64_t cap = post_ring_cap(r);
	uint64_t t = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);
	do {
		if (t - __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) >= cap)
			return 0;
	} while (!__atomic_compare_exchange_n(&r->tail, &t, t + 1, 1, __ATOMIC_ACQ_REL,
					      __ATOMIC_RELAXED));
	struct post_slot *s = &r->slot[t & (cap - 1)];
	s->off = off;
	s->size = size;
	s->value = value;
	__atomic_store_n(&s->seq, t + 1, __ATOMIC_RELEASE);
	return t + 1;
}

/** Producer, after post_ring_push: 1 if the device is asleep and must be
 * kicked (the flag is cleared, so one producer sends one kick). */
static inline int post_ring_needs_kick(struct post_ring *r)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&r->sleeping, __ATOMIC_RELAXED) &&
	       __atomic_exchange_n(&r->sleeping, 0, __ATOMIC_ACQ_REL);
}

/** 1 once the device has handled the write post_ring_push returned `ticket`
 * for (and every write before it). */
static inline int post_ring_done(const struct post_ring *r, uint64_t ticket)
{
	return __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) >= ticket;
}

/** Consumer: the next published write, or NULL when there is none yet. */
static inline const struct post_slot *post_ring_peek(const struct post_ring *r)
{
	uint64_t h = __atomic_load_n(&r->head, __ATOMIC_RELAXED);
	const struct post_slot *s = &r->slot[h & (post_ring_cap(r) - 1)];
	return __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) == h + 1 ? s : NULL;
}

/** Consumer: the write post_ring_peek returned has been handled. */
static inline void post_ring_pop(struct post_ring *r)
{
	__atomic_store_n(&r->head, __atomic_load_n(&r->head, __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELEASE);
}

/** Consumer, before it sleeps: sets `sleeping`; returns 1 if a write came
 * in meanwhile (the flag is cleared again and the consumer must not sleep). */
static inline int post_ring_sleep(struct post_ring *r)
{
	__atomic_store_n(&r->sleeping, 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!post_ring_peek(r))
		return 0;
	__atomic_store_n(&r->sleeping, 0, __ATOMIC_RELAXED);
	return 1;
}

/** Consumer, when it wakes for any reason. */
static inline void post_ring_awake(struct post_ring *r)
{
	__atomic_store_n(&r->sleeping, 0, __ATOMIC_RELAXED);
}

#endif
