/** @file
 * Tier 1: translates one guest basic block (RV64GC, from a snapshot of its
 * bytes) into x86-64 code in the code part of the cache.
 *
 * The code's contract with the vCPU (cpu-worker/jit.c):
 *  - it is entered through the enter stub with rdi = the hart, rsi = the
 *    code, rdx = the block's virtual pc; it runs with rbx = the hart and
 *    r12 = the block's virtual pc, and returns the next virtual pc in rax
 *    through the exit stub, or goes on to the next block's translation
 *    through its chain, a look-up of this hart's jump cache that each
 *    region has of its own (so only translations the hart checked are
 *    ever run, and the host predicts each region's jump apart);
 *  - it adds the instructions it retired to h->instret, except when a
 *    helper took an exception: then h->jit_trap is set, the helper has
 *    accounted instret and h->pc is the trap vector;
 *  - every step back inside a region (every loop) and every step to
 *    another region counts down h->poll_count and leaves when it runs
 *    out, so interrupts are polled with a bounded delay.
 * Instructions tier 1 does not translate end the block before them: the
 * code leaves with their pc and the interpreter runs them. */
#ifndef SHOAL_TRANSLATE_H
#define SHOAL_TRANSLATE_H

#include <stdint.h>

#include "../cpu-worker/decode.h"
#include "x86.h"

#define JIT_REGION_INSNS 192 /* guest instructions in one translation */
#define JIT_REGION_BLOCKS 64 /* its blocks, one of them kept for jit_emit */
#define JIT_BLOCK_MAX 64     /* instructions in one of its blocks */
/* Room for the instructions of a region and a copy of one block, which
 * jit_emit adds when the entry is a loop's head. */
#define JIT_TR_INSNS (JIT_REGION_INSNS + JIT_BLOCK_MAX)

/** One basic block of a region. */
struct jit_blk {
	uint16_t first, n; /* its instructions in jit_tr.ins */
	uint16_t off;	   /* page offset of its first instruction */
	uint16_t end_off;  /* page offset after its last */
	uint8_t jump;	   /* its last instruction is a jump (else it falls through) */
};

/** A decoded region: the blocks reachable from an entry point through
 * direct jumps, branches and fall-through without leaving the page,
 * translated as one unit (its internal jumps are host jumps). */
struct jit_tr {
	uint32_t ninsns;   /* guest instructions translated */
	uint32_t nblocks;  /* blk[0] starts at the entry */
	uint32_t span_off; /* page offsets of the guest bytes it depends on */
	uint32_t span_len;
	uint32_t entry_off;
	uint32_t site_seed; /* where its access sites start (jit_emit) */
	struct rv_insn ins[JIT_TR_INSNS];
	uint16_t ins_off[JIT_TR_INSNS]; /* page offset of each instruction */
	struct jit_blk blk[JIT_REGION_BLOCKS];
	int8_t blk_at[2048]; /* page offset / 2 -> index in blk[], or -1 */
};

/** Decodes the region entered at page offset `entry_off` of `page` (a
 * snapshot of the whole guest page). Returns 0, or -ENOENT when not even
 * the entry instruction translates. */
int jit_decode(const uint8_t *page, unsigned entry_off, struct jit_tr *tr);

/** Code offsets of the shared stubs: enter (from C), exit (back to C with
 * the next pc in rax) and two TLB look-up subroutines for the slow paths,
 * of loads and of stores (eax = the first byte's address, rcx = the
 * last's; ZF set on a hit, then rax = the addend and rcx = the page);
 * and whether the host has FMA3 (translated code runs on this host). */
struct jit_stubs {
	uint32_t enter, exit;
	uint32_t lookup[2];
	int fma;
};

/** Where the code of each guest instruction starts, for profiles
 * (SHOAL_JIT_DUMP): jit_emit appends (code offset, page offset) pairs
 * while `jit_pcmap` points at one, and (offset, JIT_PCMAP_COLD) where the
 * code that follows the blocks (slow paths, tails) starts. */
#define JIT_PCMAP_MAX 4096
#define JIT_PCMAP_COLD 0xffff
struct jit_pcmap {
	uint32_t n;
	uint32_t at[JIT_PCMAP_MAX];
	uint16_t off[JIT_PCMAP_MAX];
};
extern struct jit_pcmap *jit_pcmap;

/** Emits the code for `tr` at out->len, which is its offset in the code
 * part. Returns 0 or -ENOSPC when `out` is full. */
int jit_emit(const struct jit_tr *tr, struct xbuf *out, const struct jit_stubs *st);

/** Emits the stubs at out->len. */
void jit_emit_stubs(struct xbuf *out, struct jit_stubs *st);

#endif
