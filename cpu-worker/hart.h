/** @file
 * One RISC-V hart as run by a shoal-cpu process. The process owns all of it;
 * only `bh` (its board record) and guest RAM are shared. */
#ifndef SHOAL_HART_H
#define SHOAL_HART_H

#include <stdint.h>

#include "../common/board.h"
#include "../common/shadow.h"
#include "decode.h"

enum { PRV_U = 0, PRV_S = 1, PRV_M = 3 };

/** Exception causes. */
enum {
	EXC_INSN_MISALIGNED = 0,
	EXC_INSN_ACCESS = 1,
	EXC_ILLEGAL = 2,
	EXC_BREAKPOINT = 3,
	EXC_LOAD_MISALIGNED = 4,
	EXC_LOAD_ACCESS = 5,
	EXC_STORE_MISALIGNED = 6,
	EXC_STORE_ACCESS = 7,
	EXC_ECALL_U = 8,
	EXC_ECALL_S = 9,
	EXC_ECALL_M = 11,
};

#define MSTATUS_SIE (1ull << 1)
#define MSTATUS_MIE (1ull << 3)
#define MSTATUS_SPIE (1ull << 5)
#define MSTATUS_MPIE (1ull << 7)
#define MSTATUS_SPP (1ull << 8)
#define MSTATUS_MPP (3ull << 11)
#define MSTATUS_MPRV (1ull << 17)
#define MSTATUS_SUM (1ull << 18)
#define MSTATUS_MXR (1ull << 19)
#define MSTATUS_TVM (1ull << 20)
#define MSTATUS_TW (1ull << 21)
#define MSTATUS_TSR (1ull << 22)
#define MSTATUS_UXL (2ull << 32)
#define MSTATUS_SXL (2ull << 34)

#define IRQ_SSIP_BIT (1ull << 1)
#define IRQ_STIP_BIT (1ull << 5)

/** A device window: guest physical [base, base+size) served by a device
 * process over ZeroMQ, with an optional shadow page for hot registers. */
struct dev_window {
	uint64_t base, size;
	void *sock;	       /* DEALER to the device's ROUTER */
	struct shadow *shadow; /* may be NULL */
	char name[32];
};

#define HART_MAX_DEVS 32

/** Predecoded instruction as the interpreter runs it. */
struct pinsn {
	const void *h; /* handler label */
	int64_t imm;
	uint16_t pc_off; /* from the block start */
	uint8_t rd, rs1, rs2, len;
	uint16_t op;
	uint32_t raw;
};

/** A predecoded basic block: at most one page, ending at a control op. */
struct block {
	uint64_t pc;
	struct block *hnext; /* hash chain */
	uint32_t n;	     /* guest instructions, the synthetic fallthrough excluded */
	uint32_t pad;
	struct pinsn ins[];
};

#define JC_BITS 12
#define BH_BITS 14

/** One hart's architectural state and its private caches, owned by the
 * vCPU process that runs it. */
struct hart {
	uint64_t x[33]; /* x[32] is where writes to x0 go */
	uint64_t pc;
	uint64_t instret;
	uint64_t cycle_off; /* mcycle = instret + cycle_off */
	uint8_t *ram;
	uint64_t ram_size;
	uint64_t ram_lim[9]; /* ram_lim[n]: largest offset where an n-byte access fits, +1 */
	uint64_t tohost;     /* guest address of HTIF tohost, or 1 when absent */
	uint32_t priv;
	uint32_t hartid;

	uint64_t mstatus, misa, medeleg, mideleg, mie, mip_sw, mtvec, mscratch, mepc, mcause, mtval;
	uint64_t mcounteren, scounteren, mcountinhibit, menvcfg;
	uint64_t stvec, sscratch, sepc, scause, stval, satp;
	uint64_t pmpcfg[2], pmpaddr[16];

	uint64_t resv_addr; /* LR/SC reservation, checked by compare-and-swap */
	uint64_t resv_val;
	int resv_valid;

	struct board *board;
	struct board_hart *bh;
	uint32_t mtip;	    /* IRQ_MTIP if mtime >= mtimecmp at the last poll */
	int32_t poll_count; /* blocks until the next interrupt poll */

	uint32_t ndev;
	struct dev_window dev[HART_MAX_DEVS];
	uint64_t mmio_id;

	/* Block cache: arena, hash, jump cache. Flushed by fence.i. */
	uint8_t *arena;
	uint64_t arena_used, arena_size;
	struct block *bhash[1u << BH_BITS];
	struct block *jc[1u << JC_BITS];
	uint64_t blocks_built;
};

/* csr.c */
/** Reads/writes a CSR for instruction `op` (CSRRW...). Returns 0 or EXC_ILLEGAL.
 * `instret_now` is the retired count before this instruction. */
int csr_op(struct hart *h, unsigned op, unsigned csr, uint64_t src, int do_write, int do_read,
	   uint64_t *old, uint64_t instret_now);
/** Takes exception `cause` at h->pc with `tval`. */
void hart_trap(struct hart *h, uint64_t cause, uint64_t tval);
/** Returns the interrupt number to take now, or -1. */
int hart_pending_irq(struct hart *h);
/** Refreshes h->mtip from the clock and h->bh. */
void hart_poll_timer(struct hart *h);
/** MRET: returns from an M-mode trap per mstatus.MPP/MPIE. */
void hart_mret(struct hart *h);
/** SRET: returns from an S-mode trap. Returns 0, or an exception cause when
 * SRET is illegal in the current mode (mstatus.TSR, U-mode). */
int hart_sret(struct hart *h);
/** WFI: sleeps until an interrupt is pending for this hart. */
void hart_wfi(struct hart *h);
/** Puts the hart in its reset state (M-mode, mhartid = `hartid`). */
void hart_reset(struct hart *h, uint32_t hartid);

/* bus.c */
/** Slow-path load for addresses outside the RAM fast path. Returns 0 or
 * an exception cause. */
int bus_load(struct hart *h, uint64_t addr, unsigned size, uint64_t *val);
/** Slow-path store; returns 0 or an exception cause. */
int bus_store(struct hart *h, uint64_t addr, unsigned size, uint64_t val);
/** Waits until every device has handled this hart's posted writes. */
void bus_sync_devices(struct hart *h);
/** The guest asked to stop: records the exit code, flushes devices, exits. */
__attribute__((noreturn)) void bus_guest_exit(struct hart *h, int code, const char *why);

/* exec.c */
/** Runs the hart forever (it leaves through bus_guest_exit or a signal). */
__attribute__((noreturn)) void hart_run(struct hart *h);
/** Drops every predecoded block and the jump cache (fence.i). */
void hart_flush_blocks(struct hart *h);

#endif
