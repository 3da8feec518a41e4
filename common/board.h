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

#include "region.h"

#define BOARD_MAX_HARTS 512
#define BOARD_TIMEBASE_HZ 10000000ull /* mtime ticks per second */

/** Board run states. */
enum board_state {
	BOARD_RUNNING = 0,
	BOARD_SHUTDOWN = 1, /* the guest asked to stop; exit_code is valid */
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

/** The board page (region kind REGION_BOARD): created and sized by shoal-mem,
 * shared read+write by every vCPU, device and shoal itself. */
struct board {
	struct region_hdr hdr;
	uint32_t nharts;
	uint32_t state;	   /* enum board_state; first writer wins (CAS) */
	int32_t exit_code; /* valid when state == BOARD_SHUTDOWN */
	uint32_t pad0;
	uint64_t mtime_base_ns; /* CLOCK_MONOTONIC at mtime == 0 */
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

/** Asks the VM to stop with `code`. The first request wins; returns 1 if this
 * one did. */
static inline int board_request_shutdown(struct board *b, int32_t code)
{
	uint32_t expected = BOARD_RUNNING;
	if (!__atomic_compare_exchange_n(&b->state, &expected, BOARD_SHUTDOWN + 2, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return 0;
	b->exit_code = code;
	__atomic_store_n(&b->state, BOARD_SHUTDOWN, __ATOMIC_RELEASE);
	return 1;
}

#endif
