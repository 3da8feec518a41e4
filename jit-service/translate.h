/** @file
 * Tier 1: translates one guest basic block (RV64GC, from a snapshot of its
 * bytes) into x86-64 code in the code part of the cache.
 *
 * The code's contract with the vCPU (cpu-worker/jit.c):
 *  - it is entered through the enter stub with rdi = the hart, rsi = the
 *    code, rdx = the block's virtual pc; it runs with rbx = the hart and
 *    r12 = the block's virtual pc, and returns the next virtual pc in rax
 *    through the exit stub, or goes on to the next block's translation
 *    through the chain stub (this hart's jump cache decides, so only
 *    translations the hart checked are ever run);
 *  - it adds the instructions it retired to h->instret, except when a
 *    helper took an exception: then h->jit_trap is set, the helper has
 *    accounted instret and h->pc is the trap vector;
 *  - every block-to-block step counts down h->poll_count and leaves when
 *    it runs out, so interrupts are polled with a bounded delay.
 * Instructions tier 1 does not translate end the block before them: the
 * code leaves with their pc and the interpreter runs them. */
#ifndef SHOAL_TRANSLATE_H
#define SHOAL_TRANSLATE_H

#include <stdint.h>

#include "../cpu-worker/decode.h"
#include "x86.h"

#define JIT_BLOCK_MAX 64
#define JIT_GUEST_MAX (JIT_BLOCK_MAX * 4)

/** A decoded block, ready to emit. */
struct jit_tr {
	uint32_t ninsns;    /* guest instructions translated */
	uint32_t guest_len; /* bytes of guest code they span */
	int ended;	    /* the last instruction is a jump */
	struct rv_insn ins[JIT_BLOCK_MAX];
};

/** Decodes the block starting at `bytes` (a snapshot of guest code, `avail`
 * bytes, never past its page) up to its first jump, its first instruction
 * tier 1 does not translate, or JIT_BLOCK_MAX instructions. Returns 0, or
 * -ENOENT when not even the first instruction translates. */
int jit_decode(const uint8_t *bytes, unsigned avail, struct jit_tr *tr);

/** Code offsets of the shared stubs: enter (from C), exit (back to C with
 * the next pc in rax) and chain (next pc in rax: jumps straight to its
 * translation when this hart's jump cache has one bound, else exits). */
struct jit_stubs {
	uint32_t enter, exit, chain;
};

/** Emits the code for `tr` at out->len, which is its offset in the code
 * part. Returns 0 or -ENOSPC when `out` is full. */
int jit_emit(const struct jit_tr *tr, struct xbuf *out, const struct jit_stubs *st);

/** Emits the stubs at out->len. */
void jit_emit_stubs(struct xbuf *out, struct jit_stubs *st);

#endif
