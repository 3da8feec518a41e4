/** @file
 * The board page: machine state shared by every vCPU and device process.
 * Owned (created, sized, initialised) by shoal-mem; written by vCPUs and
 * devices only through the atomic operations named below.
 *
 * Layout: struct board, then `nharts` struct board_hart records, each on its
 * own cache line so harts never false-share. */
#ifndef SHOAL_BOARD_H
#define SHOAL_BOARD_H

#include <stdint.h>
#include <time.h>

#include "futex.h"
#include "region.h"

#define BOARD_MAX_HARTS 512
#define BOARD_TIMEBASE_HZ 10000000ull /* mtime ticks per second */

/** Board run states. */
enum board_state {
	BOARD_RUNNING = 0,
	BOARD_SHUTDOWN = 1, /* the guest asked to stop; exit_code is valid */
	BOARD_REBOOT = 2,   /* the guest asked for a reset */
	BOARD_CLAIMED = 3,  /* a stop request is being written */
};

/** Interrupt-pending bits, as in mip. */
#define IRQ_MSIP (1u << 3)
#define IRQ_MTIP (1u << 7)
#define IRQ_SEIP (1u << 9)
#define IRQ_MEIP (1u << 11)

/** One hart's record in the board page, a cache line of its own so harts do
 * not false-share. Written by other processes only with atomics. */
struct board_hart {
	/* Bits another process raised for this hart (IRQ_*); set and cleared
	 * with atomic OR/AND, then wake_seq is bumped and futex-woken. */
	uint32_t ip;
	/* Futex word: incremented by every waker. The hart sleeps on it in WFI. */
	uint32_t wake_seq;
	/* CLINT mtimecmp, written by any hart (atomic 64-bit store). */
	uint64_t mtimecmp;
	/* Set by the hart's vCPU when it starts running. */
	uint32_t running;
	uint32_t pad0;
	uint64_t pad[4];
} __attribute__((aligned(64)));

#define PLIC_SOURCES 96 /* source 0 is "none"; 1-95 usable (riscv,ndev = 95) */
#define PLIC_WORDS (PLIC_SOURCES / 32)
#define PLIC_CONTEXTS (2 * BOARD_MAX_HARTS) /* hart h: 2h is M-mode, 2h+1 is S-mode */

/** The PLIC's state, shared by every vCPU (which serve its MMIO window) and
 * every device (which drive its lines). All fields are changed only with
 * atomics. A source's `level` is its device's interrupt line; `pending` is
 * latched from it and cleared by the claim that wins a compare-and-swap, so
 * two harts never claim one interrupt; `claimed` holds a source from
 * re-pending until its completion. */
struct plic_state {
	uint32_t priority[PLIC_SOURCES];
	uint32_t pending[PLIC_WORDS];
	uint32_t level[PLIC_WORDS];
	uint32_t claimed[PLIC_WORDS];
	uint32_t threshold[PLIC_CONTEXTS];
	uint32_t enable[PLIC_CONTEXTS][PLIC_WORDS];
};

/** The board page (region kind REGION_BOARD): created and sized by shoal-mem,
 * shared read+write by every vCPU, device and shoal itself. */
struct board {
	struct region_hdr hdr;
	uint32_t nharts;
	uint32_t state;		/* enum board_state; first writer wins (CAS) */
	int32_t exit_code;	/* valid when state == BOARD_SHUTDOWN */
	uint32_t jit_epoch;	/* bumped by shoal when shoal-jit dies: vCPUs drop its cache */
	uint32_t images_ready;	/* futex word, set by shoal once the boot images are in RAM */
	uint64_t mtime_base_ns; /* CLOCK_MONOTONIC at mtime == 0 */
	struct plic_state plic;
	struct board_hart hart[];
} __attribute__((aligned(64)));

/** Bytes of a board page for `nharts` harts, rounded up to a page. */
static inline uint64_t board_size(uint32_t nharts)
{
	uint64_t n = sizeof(struct board) + (uint64_t)nharts * sizeof(struct board_hart);
	return (n + 4095) & ~4095ull;
}

/** mtime now, at BOARD_TIMEBASE_HZ, from CLOCK_MONOTONIC. */
static inline uint64_t board_mtime(const struct board *b)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	return (ns - b->mtime_base_ns) / (1000000000ull / BOARD_TIMEBASE_HZ);
}

/** Marks the boot images as in RAM (shoal) and wakes the vCPUs waiting. */
static inline void board_images_ready(struct board *b)
{
	__atomic_store_n(&b->images_ready, 1, __ATOMIC_RELEASE);
	futex_wake(&b->images_ready, INT32_MAX);
}

/** Waits until shoal has put the boot images in RAM (a vCPU, before its
 * first instruction: vCPUs are started while the images are copied). */
static inline void board_wait_images(struct board *b)
{
	while (!__atomic_load_n(&b->images_ready, __ATOMIC_ACQUIRE))
		futex_wait(&b->images_ready, 0, NULL);
}

/** Wakes hart record `t` from WFI (any process may call it). */
static inline void board_wake(struct board_hart *t)
{
	__atomic_fetch_add(&t->wake_seq, 1, __ATOMIC_RELEASE);
	futex_wake(&t->wake_seq, 1);
}

/** Wakes every hart with a PLIC context that enables source `src` (a valid
 * source number), so a sleeping one re-evaluates its external interrupts. */
static inline void board_wake_enabled(struct board *b, unsigned src)
{
	struct plic_state *p = &b->plic;
	uint32_t bit = 1u << (src % 32), w = src / 32;
	for (uint32_t h = 0; h < b->nharts; h++)
		if ((__atomic_load_n(&p->enable[2 * h][w], __ATOMIC_RELAXED) |
		     __atomic_load_n(&p->enable[2 * h + 1][w], __ATOMIC_RELAXED)) &
		    bit)
			board_wake(&b->hart[h]);
}

/** Drives PLIC source `src`'s line to `level` (device side). A rising line
 * latches pending unless the source is claimed, and wakes every hart with a
 * context that enables the source; no round trip to anyone. */
static inline void board_irq_line(struct board *b, unsigned src, int level)
{
	if (src == 0 || src >= PLIC_SOURCES)
		return;
	struct plic_state *p = &b->plic;
	uint32_t bit = 1u << (src % 32), w = src / 32;
	if (!level) {
		__atomic_fetch_and(&p->level[w], ~bit, __ATOMIC_ACQ_REL);
		return;
	}
	__atomic_fetch_or(&p->level[w], bit, __ATOMIC_ACQ_REL);
	if (__atomic_load_n(&p->claimed[w], __ATOMIC_ACQUIRE) & bit)
		return;
	__atomic_fetch_or(&p->pending[w], bit, __ATOMIC_ACQ_REL);
	board_wake_enabled(b, src);
}

/** Asks the VM to stop with `code` (`state` BOARD_SHUTDOWN) or to reset
 * (BOARD_REBOOT). The first request wins; returns 1 if this one did. */
static inline int board_request_stop(struct board *b, uint32_t state, int32_t code)
{
	uint32_t expected = BOARD_RUNNING;
	if (!__atomic_compare_exchange_n(&b->state, &expected, BOARD_CLAIMED, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return 0;
	b->exit_code = code;
	__atomic_store_n(&b->state, state, __ATOMIC_RELEASE);
	return 1;
}

/** Puts the board page back in its power-on state for a guest reset: no
 * interrupt pending or enabled, timers disarmed. Device lines keep their
 * level (a high line pends again). Only while no hart runs. */
static inline void board_reset(struct board *b)
{
	struct plic_state *p = &b->plic;
	for (unsigned i = 0; i < PLIC_SOURCES; i++)
		__atomic_store_n(&p->priority[i], 0, __ATOMIC_RELAXED);
	for (unsigned w = 0; w < PLIC_WORDS; w++) {
		__atomic_store_n(&p->claimed[w], 0, __ATOMIC_RELAXED);
		__atomic_store_n(&p->pending[w], __atomic_load_n(&p->level[w], __ATOMIC_RELAXED),
				 __ATOMIC_RELAXED);
	}
	for (uint32_t c = 0; c < 2 * b->nharts; c++) {
		__atomic_store_n(&p->threshold[c], 0, __ATOMIC_RELAXED);
		for (unsigned w = 0; w < PLIC_WORDS; w++)
			__atomic_store_n(&p->enable[c][w], 0, __ATOMIC_RELAXED);
	}
	for (uint32_t h = 0; h < b->nharts; h++) {
		__atomic_store_n(&b->hart[h].ip, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&b->hart[h].mtimecmp, ~0ull, __ATOMIC_RELAXED);
		__atomic_store_n(&b->hart[h].running, 0, __ATOMIC_RELAXED);
	}
	b->exit_code = 0;
	__atomic_store_n(&b->state, BOARD_RUNNING, __ATOMIC_RELEASE);
}

#endif
