/* A split virtqueue of VQ_N entries for the bare-metal virtio driver tests:
 * the three ring areas in one struct (each aligned as virtio 1.1 asks), a
 * way to offer a filled descriptor chain and a way to wait for the device's
 * next used entry. */
#ifndef VIRTQ_H
#define VIRTQ_H

#include <stdint.h>

#define VQ_N 8
#define VQ_F_NEXT 1
#define VQ_F_WRITE 2

struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct virtq {
	struct vq_desc d[VQ_N] __attribute__((aligned(16)));
	struct {
		uint16_t flags, idx, ring[VQ_N], used_event;
	} avail __attribute__((aligned(4)));
	struct {
		uint16_t flags, idx;
		struct {
			uint32_t id, len;
		} ring[VQ_N];
		uint16_t avail_event;
	} used __attribute__((aligned(4)));
	uint16_t seen; /* used entries already taken */
};

/* Puts descriptor chain `head` (already filled) in the avail ring. The
 * caller notifies the device (QueueNotify) when it wants to. */
static inline void virtq_offer(struct virtq *q, uint16_t head)
{
	q->avail.ring[q->avail.idx % VQ_N] = head;
	__asm__ volatile("fence rw, rw");
	q->avail.idx++;
	__asm__ volatile("fence rw, rw");
}

/* Waits up to `spins` polls for the next used entry; returns its length
 * (and its head in *head when not NULL), or -1 if none came. */
static inline long virtq_take(struct virtq *q, uint16_t *head, long spins)
{
	for (long spin = 0; spin < spins; spin++) {
		if (*(volatile uint16_t *)&q->used.idx != q->seen) {
			__asm__ volatile("fence rw, rw");
			unsigned i = q->seen++ % VQ_N;
			if (head)
				*head = (uint16_t)q->used.ring[i].id;
			return q->used.ring[i].len;
		}
	}
	return -1;
}

#endif
