/* Tier-0 interpreter. Guest code is decoded once into blocks of predecoded
 * instructions (ending at a control transfer, a system instruction, a page
 * boundary or 64 instructions), kept per vCPU and found through a direct-mapped
 * jump cache backed by a hash. Handlers are reached by computed goto.
 *
 * Contracts: a block is only run from its first instruction; an exception in
 * the middle of a block leaves pc, instret and all state exact; interrupts are
 * taken at block boundaries, polled every HART_POLL_BLOCKS blocks and right
 * after any CSR access, xRET or WFI. */
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../common/log.h"
#include "alu.h"
#include "hart.h"

#define BLOCK_MAX 64
#define HART_POLL_BLOCKS 256
#define SPIN_YIELD_LOOPS 2048
#define ARENA_SIZE (32u << 20)

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

void hart_flush_blocks(struct hart *h)
{
	/* The first time the tables are still all zero (the hart is static):
	 * writing them would make ~1.5 MiB resident in a vCPU that may
	 * never run much (a zeroed chain-stub entry is empty, as the block
	 * epoch is never 0). */
	if (h->flushes++) {
		memset(h->bhash, 0, sizeof(h->bhash));
		memset(h->jc, 0, sizeof(h->jc));
		memset(h->jit_jc, 0, sizeof(h->jit_jc));
	}
	h->arena_used = 0;
	h->jcur = h->jc[h->ictx];
	h->jit_jcur = h->jit_jc[h->ictx];
}

/* Control transfers, system instructions, CSR accesses (interrupts are
 * polled after them) and illegal instructions end a block. */
static int op_ends_block(unsigned op)
{
	return rv_op_is_jump(op) || (op >= OP_FENCE_I && op <= OP_CSRRCI) || op == OP_ILLEGAL;
}

/* Stores, AMOs, SC, CSR writes and fences count as making progress. */
static int op_writes_memory(unsigned op)
{
	switch (op) {
	case OP_SB:
	case OP_SH:
	case OP_SW:
	case OP_SD:
	case OP_FSW:
	case OP_FSD:
	case OP_ECALL:
	case OP_WFI: return 1;
	}
	return (op >= OP_SC_W && op <= OP_AMOMAXU_D && op != OP_LR_D) ||
	       (op >= OP_CSRRW && op <= OP_CSRRCI);
}

static inline unsigned bhash_idx(uint64_t pc)
{
	return (unsigned)((pc >> 1) ^ (pc >> (BH_BITS + 1))) & ((1u << BH_BITS) - 1);
}

/* Reads the 16-bit parcel at virtual `va` through the fetch context. */
static int fetch16(struct hart *h, uint64_t va, uint16_t *out)
{
	int cause;
	uint64_t pa_page;
	const uint8_t *page = mmu_fetch_page(h, va, &pa_page, &cause);
	if (!page)
		return cause;
	memcpy(out, page + (va & 0xfff), 2);
	return 0;
}

/* Decodes the block at virtual `pc`, physical `ppc` (page `page`). A block
 * never spans two pages, except that one whose first instruction crosses
 * a page boundary is that single instruction and is not put in the hash
 * (it depends on two translations). Returns NULL with the fetch exception
 * in `*cause` if even the first instruction cannot be fetched. */
static struct block *block_build(struct hart *h, uint64_t pc, uint64_t ppc, const uint8_t *page,
				 const void *const *labels, int *cause)
{
	size_t need = sizeof(struct block) + (BLOCK_MAX + 1) * sizeof(struct pinsn);
	if (h->arena_used + need > h->arena_size)
		hart_flush_blocks(h);
	struct block *b = (struct block *)(h->arena + h->arena_used);
	b->pc = pc;
	b->ppc = ppc;
	b->stores = 0;
	b->jit = NULL;
	b->jit_hdr = NULL;
	b->epoch = h->block_epoch;
	b->fence_epoch = h->fence_epoch;
	b->hits = 0;
	b->jit_tries = 0;
	b->succ_pc = 1;
	b->jit_next = h->jit_on ? 1 : UINT32_MAX; /* a current translation is bound at once */
	uint32_t n = 0;
	uint64_t p = pc;
	int ended = 0, crossing = 0;
	while (n < BLOCK_MAX) {
		unsigned po = (unsigned)(p & 0xfff);
		uint16_t lo;
		memcpy(&lo, page + po, 2);
		uint32_t w = lo;
		if ((lo & 3) == 3) {
			if (po == 4094) {
				if (n > 0)
					break; /* the crossing instruction gets its own block */
				uint16_t hi = 0;
				int c = fetch16(h, p + 2, &hi);
				if (c) {
					*cause = c;
					h->fault_va = p + 2;
					return NULL;
				}
				w |= (uint32_t)hi << 16;
				crossing = 1;
			} else {
				memcpy(&w, page + po, 4);
			}
		}
		struct rv_insn d;
		rv_decode(w, &d);
		struct pinsn *pi = &b->ins[n++];
		pi->h = labels[d.op];
		pi->op = d.op;
		pi->imm = d.imm;
		pi->pc_off = (uint16_t)(p - pc);
		/* x0 writes go to a sink register; FP loads name f0 as itself. */
		pi->rd = d.rd || d.op == OP_FLW || d.op == OP_FLD ? d.rd : 32;
		pi->rs1 = d.rs1;
		pi->rs2 = d.rs2;
		pi->len = d.len;
		pi->raw = d.raw;
		p += d.len;
		b->stores |= op_writes_memory(d.op);
		if (op_ends_block(d.op)) {
			ended = 1;
			break;
		}
		if (crossing || (p ^ pc) & ~4095ull)
			break;
	}
	b->n = n;
	if (!ended) {
		struct pinsn *pi = &b->ins[n];
		memset(pi, 0, sizeof(*pi));
		pi->h = labels[OP_FALLTHROUGH];
		pi->op = OP_FALLTHROUGH;
		pi->imm = (int64_t)(p - pc);
	}
	h->arena_used += sizeof(struct block) + (n + 1) * sizeof(struct pinsn);
	h->arena_used = (h->arena_used + 63) & ~63ull;
	b->hnext = NULL;
	if (!crossing) {
		unsigned k = bhash_idx(ppc);
		b->hnext = h->bhash[k];
		h->bhash[k] = b;
	}
	h->blocks_built++;
	return b;
}

/* Whether guest memory (`page`, the block's physical page) still holds the
 * instructions `b` was decoded from. */
static int block_matches(const struct block *b, const uint8_t *page)
{
	unsigned po = (unsigned)(b->ppc & 0xfff);
	for (uint32_t i = 0; i < b->n; i++) {
		const struct pinsn *pi = &b->ins[i];
		const uint8_t *p = page + po + pi->pc_off;
		/* inline: a memcmp call per 2- or 4-byte instruction was 1.2%
		 * of a boot's vCPU time (Linux fences the icache on every hart
		 * whenever it maps an executable user page) */
		uint32_t w = (uint32_t)p[0] | (uint32_t)p[1] << 8;
		if (pi->len == 4)
			w |= (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		if (w != pi->raw)
			return 0;
	}
	return 1;
}

/* Whether `b` (virtual `pc`, physical `ppc` on host page `page`) may run:
 * of the current block epoch, or still at `ppc` and (after a fence.i)
 * unchanged in memory; then it is brought into the epoch. A changed block
 * is never found again (no pc is odd). */
static int block_usable(struct hart *h, struct block *b, uint64_t pc, uint64_t ppc,
			const uint8_t *page)
{
	if (b->ppc != ppc || b->pc != pc)
		return 0;
	if (likely(b->epoch == h->block_epoch))
		return 1;
	if ((pc & 0xfff) == 0xffe && b->ins[0].len == 4)
		return 0; /* crosses a page: its second half's translation may be new */
	if (b->fence_epoch == h->fence_epoch) { /* only translations changed */
		b->epoch = h->block_epoch;
		return 1;
	}
	if (!block_matches(b, page)) {
		b->pc = 1;
		return 0;
	}
	b->epoch = h->block_epoch;
	b->fence_epoch = h->fence_epoch;
	if (b->jit)
		jit_recheck(h, b);
	return 1;
}

/* The block for virtual `pc` in the current fetch context, or NULL with the
 * fetch exception in `*cause`. `seen` is the jump cache's block for `pc`
 * (or NULL): after a fence.i it is usually still good. */
static struct block *block_find(struct hart *h, uint64_t pc, struct block *seen,
				const void *const *labels, int *cause)
{
	uint64_t pa_page;
	const uint8_t *page = mmu_fetch_page(h, pc, &pa_page, cause);
	if (!page) {
		h->fault_va = pc;
		return NULL;
	}
	uint64_t ppc = pa_page | (pc & 0xfff);
	/* What this finds is of the epoch: its page, and the next one when an
	 * instruction at offset 0xffe may cross into it. */
	epoch_page_note(h, pc);
	if ((pc & 0xfff) == 0xffe)
		epoch_page_note(h, pc + 2);
	if (seen && block_usable(h, seen, pc, ppc, page))
		return seen;
	for (struct block *b = h->bhash[bhash_idx(ppc)]; b; b = b->hnext)
		if (b != seen && block_usable(h, b, pc, ppc, page))
			return b;
	return block_build(h, pc, ppc, page, labels, cause);
}

static void hart_init_cache(struct hart *h)
{
	if (h->arena)
		return;
	h->arena_size = ARENA_SIZE;
	h->block_epoch = 1; /* never 0: see hart_flush_blocks */
	h->arena =
	    mmap(NULL, h->arena_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h->arena == MAP_FAILED) {
		log_err("hart %u: cannot allocate the block cache", h->hartid);
		exit(1);
	}
	hart_flush_blocks(h);
	mmu_init(h);
}

void hart_run(struct hart *h)
{
#define LBL(n) [OP_##n] = &&L_##n,
	/* GCC labels-as-values, which cppcheck reads as booleans. */
	// cppcheck-suppress assignBoolToPointer
	static const void *const labels[RV_OP_COUNT] = {RV_OPS(LBL)};
#undef LBL
	hart_init_cache(h);
	uint64_t *const x = h->x;
	const struct tlb_entry *te;
	uint64_t pc = h->pc;
	struct block *b = NULL;
	uint64_t b_flushes = h->flushes; /* h->flushes when b was found */
	const struct pinsn *i;
	uint64_t a, v;
	int e;

#define RD x[i->rd]
#define RS1 x[i->rs1]
#define RS2 x[i->rs2]
#define IPC (b->pc + i->pc_off)
#define NEXT                 \
	do {                 \
		i++;         \
		goto * i->h; \
	} while (0)
#define JUMP(target)            \
	do {                    \
		pc = (target);  \
		goto block_end; \
	} while (0)
#define EXC(cause, tval)                              \
	do {                                          \
		h->instret += (uint64_t)(i - b->ins); \
		h->pc = IPC;                          \
		hart_trap(h, (cause), (tval));        \
		pc = h->pc;                           \
		goto dispatch;                        \
	} while (0)

dispatch : {
	/* The block that ran last may know this one (no jump cache miss). */
	struct block *prev = b_flushes == h->flushes ? b : NULL;
	if (prev && prev->succ_pc == pc && prev->succ_ctx == h->ictx) {
		b = prev->succ;
		if (likely(b->pc == pc && b->epoch == h->block_epoch))
			goto found;
	}
	unsigned j = (unsigned)(pc >> 1) & ((1u << JC_BITS) - 1);
	b = h->jcur[j];
	if (unlikely(!b || b->pc != pc || b->epoch != h->block_epoch)) {
		if (unlikely(pc & 1)) { /* cannot happen: jumps clear bit 0 */
			h->pc = pc;
			hart_trap(h, EXC_INSN_MISALIGNED, pc);
			pc = h->pc;
			goto dispatch;
		}
		b = block_find(h, pc, b, labels, &e);
		if (unlikely(!b)) {
			h->pc = pc;
			hart_trap(h, (uint64_t)e, h->fault_va);
			pc = h->pc;
			goto dispatch;
		}
		h->jcur[j] = b;
	}
	if (prev && b_flushes == h->flushes) { /* block_find may have flushed */
		prev->succ = b;
		prev->succ_pc = pc;
		prev->succ_ctx = h->ictx;
	}
found:
	b_flushes = h->flushes;
	if (b->jit)
		goto run_translated;
	if (unlikely(++b->hits >= b->jit_next)) {
		jit_consider(h, b);
		if (b->jit)
			goto run_translated;
	}
	i = b->ins;
	goto * i->h;
}

run_translated : {
	/* From now on the regions' chains find this translation without C. */
	struct jit_jc *jj = &h->jit_jcur[(pc >> 1) & ((1u << JJ_BITS) - 1)];
	jj->pc = pc;
	jj->epoch = h->block_epoch;
	jj->code = (uint32_t)((const uint8_t *)b->jit - h->jit_rx);
}
	pc = h->jit_enter(h, b->jit, pc);
	if (unlikely(h->jit_trap)) {
		h->jit_trap = 0;
		goto dispatch;
	}
	goto block_retired;

block_end:
	h->instret += b->n;
	h->interp_insns += b->n;
block_retired:
	/* A block that branches to itself without storing anything waits for
	 * another agent (a lock, a flag). With more vCPUs than host cores the
	 * one it waits for may be descheduled: give the core away now and
	 * then instead of burning a whole time slice. */
	if (unlikely(pc == b->pc) && !b->stores) {
		if (unlikely(++h->spins >= SPIN_YIELD_LOOPS)) {
			h->spins = 0;
			sched_yield();
		}
	} else {
		h->spins = 0;
	}
	if (unlikely(--h->poll_count < 0)) {
		h->poll_count = HART_POLL_BLOCKS;
		if (h->mie & HART_TIMER_IRQS)
			hart_poll_timer(h);
		if (h->jit_on)
			jit_poll(h);
		int irq = hart_pending_irq(h);
		if (irq >= 0) {
			h->pc = pc;
			hart_trap(h, (1ull << 63) | (uint64_t)irq, 0);
			pc = h->pc;
		}
	}
	goto dispatch;

L_FALLTHROUGH:
	pc = b->pc + (uint64_t)i->imm;
	goto block_end;
L_ILLEGAL:
	EXC(EXC_ILLEGAL, i->raw);
L_LUI:
	RD = (uint64_t)i->imm;
	NEXT;
L_AUIPC:
	RD = IPC + (uint64_t)i->imm;
	NEXT;
L_JAL:
	v = IPC;
	RD = v + i->len;
	JUMP(v + (uint64_t)i->imm);
L_JALR:
	a = (RS1 + (uint64_t)i->imm) & ~1ull;
	RD = IPC + i->len;
	JUMP(a);
#define BRANCH(name, cond) L_##name : JUMP((cond) ? IPC + (uint64_t)i->imm : IPC + i->len);
	BRANCH(BEQ, RS1 == RS2)
	BRANCH(BNE, RS1 != RS2)
	BRANCH(BLT, (int64_t)RS1 < (int64_t)RS2)
	BRANCH(BGE, (int64_t)RS1 >= (int64_t)RS2)
	BRANCH(BLTU, RS1 < RS2)
	BRANCH(BGEU, RS1 >= RS2)

	/* The TLB fast path: the entry indexed by the first byte's page must be
	 * tagged with the last byte's page, so an access crossing a page (or
	 * missing the TLB) takes the slow path. */
#define TLB_HIT(tag, a, size) \
	(te = &h->dtlb[tlb_index(a)], te->tag == (((a) + (size)-1) & ~0xfffull))
#define LOAD(name, type, conv)                                             \
	L_##name : a = RS1 + (uint64_t)i->imm;                             \
	if (likely(TLB_HIT(tag_r, a, sizeof(type)))) {                     \
		type t_;                                                   \
		memcpy(&t_, (const void *)(te->addend + a), sizeof(type)); \
		RD = (uint64_t)(conv)t_;                                   \
		NEXT;                                                      \
	}                                                                  \
	h->pc = IPC;                                                       \
	e = mmu_load(h, a, sizeof(type), &v);                              \
	if (e)                                                             \
		EXC(e, a);                                                 \
	RD = (uint64_t)(conv)(type)v;                                      \
	NEXT;
	LOAD(LB, int8_t, int64_t)
	LOAD(LH, int16_t, int64_t)
	LOAD(LW, int32_t, int64_t)
	LOAD(LD, uint64_t, uint64_t)
	LOAD(LBU, uint8_t, uint64_t)
	LOAD(LHU, uint16_t, uint64_t)
	LOAD(LWU, uint32_t, uint64_t)

#define STORE(name, type)                                            \
	L_##name : a = RS1 + (uint64_t)i->imm;                       \
	if (likely(TLB_HIT(tag_w, a, sizeof(type)))) {               \
		type t_ = (type)RS2;                                 \
		memcpy((void *)(te->addend + a), &t_, sizeof(type)); \
		NEXT;                                                \
	}                                                            \
	h->pc = IPC;                                                 \
	e = mmu_store(h, a, sizeof(type), RS2);                      \
	if (e)                                                       \
		EXC(e, a);                                           \
	NEXT;
	STORE(SB, uint8_t)
	STORE(SH, uint16_t)
	STORE(SW, uint32_t)
	STORE(SD, uint64_t)

L_ADDI:
	RD = RS1 + (uint64_t)i->imm;
	NEXT;
L_SLTI:
	RD = (int64_t)RS1 < i->imm;
	NEXT;
L_SLTIU:
	RD = RS1 < (uint64_t)i->imm;
	NEXT;
L_XORI:
	RD = RS1 ^ (uint64_t)i->imm;
	NEXT;
L_ORI:
	RD = RS1 | (uint64_t)i->imm;
	NEXT;
L_ANDI:
	RD = RS1 & (uint64_t)i->imm;
	NEXT;
L_SLLI:
	RD = RS1 << i->imm;
	NEXT;
L_SRLI:
	RD = RS1 >> i->imm;
	NEXT;
L_SRAI:
	RD = (uint64_t)((int64_t)RS1 >> i->imm);
	NEXT;
L_ADD:
	RD = RS1 + RS2;
	NEXT;
L_SUB:
	RD = RS1 - RS2;
	NEXT;
L_SLL:
	RD = alu_sll(RS1, RS2);
	NEXT;
L_SLT:
	RD = (int64_t)RS1 < (int64_t)RS2;
	NEXT;
L_SLTU:
	RD = RS1 < RS2;
	NEXT;
L_XOR:
	RD = RS1 ^ RS2;
	NEXT;
L_SRL:
	RD = alu_srl(RS1, RS2);
	NEXT;
L_SRA:
	RD = alu_sra(RS1, RS2);
	NEXT;
L_OR:
	RD = RS1 | RS2;
	NEXT;
L_AND:
	RD = RS1 & RS2;
	NEXT;
L_ADDIW:
	RD = (uint64_t)(int64_t)(int32_t)(uint32_t)(RS1 + (uint64_t)i->imm);
	NEXT;
L_SLLIW:
	RD = (uint64_t)(int64_t)(int32_t)((uint32_t)RS1 << i->imm);
	NEXT;
L_SRLIW:
	RD = (uint64_t)(int64_t)(int32_t)((uint32_t)RS1 >> i->imm);
	NEXT;
L_SRAIW:
	RD = (uint64_t)(int64_t)((int32_t)RS1 >> i->imm);
	NEXT;
L_ADDW:
	RD = (uint64_t)(int64_t)(int32_t)(uint32_t)(RS1 + RS2);
	NEXT;
L_SUBW:
	RD = (uint64_t)(int64_t)(int32_t)(uint32_t)(RS1 - RS2);
	NEXT;
L_SLLW:
	RD = alu_sllw(RS1, RS2);
	NEXT;
L_SRLW:
	RD = alu_srlw(RS1, RS2);
	NEXT;
L_SRAW:
	RD = alu_sraw(RS1, RS2);
	NEXT;

L_MUL:
	RD = RS1 * RS2;
	NEXT;
L_MULH:
	RD = alu_mulh(RS1, RS2);
	NEXT;
L_MULHSU:
	RD = alu_mulhsu(RS1, RS2);
	NEXT;
L_MULHU:
	RD = alu_mulhu(RS1, RS2);
	NEXT;
L_DIV:
	RD = alu_div(RS1, RS2);
	NEXT;
L_DIVU:
	RD = alu_divu(RS1, RS2);
	NEXT;
L_REM:
	RD = alu_rem(RS1, RS2);
	NEXT;
L_REMU:
	RD = alu_remu(RS1, RS2);
	NEXT;
L_MULW:
	RD = sx32(RS1 * RS2);
	NEXT;
L_DIVW:
	RD = alu_divw(RS1, RS2);
	NEXT;
L_DIVUW:
	RD = alu_divuw(RS1, RS2);
	NEXT;
L_REMW:
	RD = alu_remw(RS1, RS2);
	NEXT;
L_REMUW:
	RD = alu_remuw(RS1, RS2);
	NEXT;

	/* Atomics (amo.c): naturally aligned, in RAM, host atomics. */
L_LR_W:
L_LR_D:
L_SC_W:
L_SC_D:
L_AMOSWAP_W:
L_AMOADD_W:
L_AMOXOR_W:
L_AMOAND_W:
L_AMOOR_W:
L_AMOMIN_W:
L_AMOMAX_W:
L_AMOMINU_W:
L_AMOMAXU_W:
L_AMOSWAP_D:
L_AMOADD_D:
L_AMOXOR_D:
L_AMOAND_D:
L_AMOOR_D:
L_AMOMIN_D:
L_AMOMAX_D:
L_AMOMINU_D:
L_AMOMAXU_D:
	a = RS1;
	e = amo_exec(h, i->op, a, RS2, &v);
	if (unlikely(e))
		EXC(e, a);
	RD = v;
	NEXT;

	/* F and D. Loads and stores use the TLB fast path; arithmetic is in
	 * fpu.c. Everything is illegal while mstatus.FS is off. */
#define FP_ON()                                   \
	if (unlikely(!(h->mstatus & MSTATUS_FS))) \
		EXC(EXC_ILLEGAL, i->raw);
#define FLOAD(name, type, box)                                             \
	L_##name : FP_ON() a = RS1 + (uint64_t)i->imm;                     \
	if (likely(TLB_HIT(tag_r, a, sizeof(type)))) {                     \
		type t_;                                                   \
		memcpy(&t_, (const void *)(te->addend + a), sizeof(type)); \
		v = t_;                                                    \
	} else {                                                           \
		h->pc = IPC;                                               \
		e = mmu_load(h, a, sizeof(type), &v);                      \
		if (e)                                                     \
			EXC(e, a);                                         \
	}                                                                  \
	h->f[i->rd] = (box) | v;                                           \
	h->mstatus |= MSTATUS_FS;                                          \
	NEXT;
	FLOAD(FLW, uint32_t, 0xffffffff00000000ull)
	FLOAD(FLD, uint64_t, 0)
#define FSTORE(name, type)                                           \
	L_##name : FP_ON() a = RS1 + (uint64_t)i->imm;               \
	if (likely(TLB_HIT(tag_w, a, sizeof(type)))) {               \
		type t_ = (type)h->f[i->rs2];                        \
		memcpy((void *)(te->addend + a), &t_, sizeof(type)); \
		NEXT;                                                \
	}                                                            \
	h->pc = IPC;                                                 \
	e = mmu_store(h, a, sizeof(type), (type)h->f[i->rs2]);       \
	if (e)                                                       \
		EXC(e, a);                                           \
	NEXT;
	FSTORE(FSW, uint32_t)
	FSTORE(FSD, uint64_t)
L_FPU:
	FP_ON()
	if (unlikely(fpu_exec(h, i->raw)))
		EXC(EXC_ILLEGAL, i->raw);
	NEXT;

L_FENCE:
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (i->raw & (1u << 26)) /* pred.O: device output before what follows */
		bus_fence_io(h);
	if (i->raw == RV_PAUSE) /* a spin-wait: let the hart it waits for run */
		sched_yield();
	NEXT;
L_FENCE_I:
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	h->instret += b->n;
	pc = IPC + i->len;
	hart_new_block_epoch(h); /* blocks are checked against memory before they run again */
	h->fence_epoch++;
	goto dispatch;
L_SFENCE_VMA:
	if (h->priv == PRV_U || (h->priv == PRV_S && (h->mstatus & MSTATUS_TVM)))
		EXC(EXC_ILLEGAL, i->raw);
	mmu_sfence(h, i->rs1 != 0, RS1, i->rs2 != 0, RS2);
	JUMP(IPC + i->len);
L_ECALL:
	EXC(EXC_ECALL_U + h->priv, 0);
L_EBREAK:
	EXC(EXC_BREAKPOINT, IPC);
L_MRET:
	if (h->priv != PRV_M)
		EXC(EXC_ILLEGAL, i->raw);
	hart_mret(h);
	h->poll_count = 0;
	JUMP(h->pc);
L_SRET:
	if (hart_sret(h))
		EXC(EXC_ILLEGAL, i->raw);
	h->poll_count = 0;
	JUMP(h->pc);
L_WFI:
	if (h->priv == PRV_U || (h->priv < PRV_M && (h->mstatus & MSTATUS_TW)))
		EXC(EXC_ILLEGAL, i->raw);
	h->pc = IPC + i->len;
	hart_wfi(h);
	h->poll_count = 0;
	JUMP(IPC + i->len);
L_CSRRW:
L_CSRRS:
L_CSRRC:
L_CSRRWI:
L_CSRRSI:
L_CSRRCI : {
	unsigned op = i->op;
	int imm_form = op >= OP_CSRRWI;
	uint64_t src = imm_form ? i->rs1 : RS1;
	int do_write = op == OP_CSRRW || op == OP_CSRRWI || i->rs1 != 0;
	uint64_t old;
	h->pc = IPC;
	e = csr_op(h, op, (unsigned)i->imm, src, do_write, 1, &old,
		   h->instret + (uint64_t)(i - b->ins));
	if (e)
		EXC(e, i->raw);
	RD = old;
	h->poll_count = 0;
	JUMP(IPC + i->len);
}
}
