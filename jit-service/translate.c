/* Tier-1 translator: one guest basic block to x86-64, one guest instruction
 * at a time. The guest registers a block uses most live in host registers
 * for the block (loaded at its start, written back before it leaves and
 * before any helper call, so h->x is exact whenever C code can see it).
 * Loads and stores inline the softMMU TLB fast path of the interpreter
 * (same index, same tags) and call a helper otherwise. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "../cpu-worker/decode.h"
#include "../cpu-worker/hart.h"
#include "translate.h"

#define OX(r) ((int32_t)(offsetof(struct hart, x) + 8 * (unsigned)(r)))
#define OH(k) ((int32_t)(offsetof(struct hart, jit_helper) + 8 * (unsigned)(k)))
#define O_INSTRET ((int32_t)offsetof(struct hart, instret))
#define O_POLL ((int32_t)offsetof(struct hart, poll_count))
#define O_TRAP ((int32_t)offsetof(struct hart, jit_trap))
#define O_PC ((int32_t)offsetof(struct hart, pc))
#define O_DTLB ((int32_t)offsetof(struct hart, dtlb))
#define O_JCUR ((int32_t)offsetof(struct hart, jcur))
#define O_BPC ((int32_t)offsetof(struct block, pc))
#define O_BJIT ((int32_t)offsetof(struct block, jit))
#define O_TAG_R ((int32_t)offsetof(struct tlb_entry, tag_r))
#define O_TAG_W ((int32_t)offsetof(struct tlb_entry, tag_w))
#define O_ADDEND ((int32_t)offsetof(struct tlb_entry, addend))

_Static_assert(sizeof(struct tlb_entry) == 40, "the TLB index scaling below assumes 40 bytes");
_Static_assert(TLB_SIZE == 256, "the TLB index mask below assumes 256 entries");

/* Host registers that hold guest registers within a block; the first
 * four survive helper calls, the rest are reloaded after one. */
static const int cache_regs[] = {RBP, R13, R14, R15, R8, R9, R10, R11};
#define NCACHE 8
#define NSAVED 4

/* A slow path emitted after the block body. */
struct cold {
	uint32_t from;	/* the jne to patch */
	uint32_t back;	/* where to continue */
	uint32_t dirty; /* guest registers to write back before the call */
	uint8_t store;	/* store helper (else load) */
	uint8_t rd;
	uint8_t rs2;
	uint32_t info;
};

struct tx {
	struct xbuf *b;
	const struct jit_stubs *st;
	uint32_t body;	 /* buffer position after the register loads */
	uint32_t ninsns; /* of the whole block, for instret */
	int chain_self;	 /* a taken branch to the start loops inside */
	int8_t host[32]; /* guest register -> host register, or -1 */
	uint32_t cached; /* guest registers with a host register */
	uint32_t dirty;	 /* cached registers written since the last write-back */
	uint32_t trap_jmp[2 * JIT_BLOCK_MAX];
	unsigned ntrap;
	struct cold cold[JIT_BLOCK_MAX];
	unsigned ncold;
};

static int op_translatable(unsigned op)
{
	switch (op) {
	case OP_LUI:
	case OP_AUIPC:
	case OP_JAL:
	case OP_JALR:
	case OP_BEQ:
	case OP_BNE:
	case OP_BLT:
	case OP_BGE:
	case OP_BLTU:
	case OP_BGEU:
	case OP_LB:
	case OP_LH:
	case OP_LW:
	case OP_LD:
	case OP_LBU:
	case OP_LHU:
	case OP_LWU:
	case OP_SB:
	case OP_SH:
	case OP_SW:
	case OP_SD:
	case OP_FENCE: return 1;
	}
	return op >= OP_ADDI && op <= OP_REMUW;
}

static int op_is_jump(unsigned op)
{
	return op == OP_JAL || op == OP_JALR || (op >= OP_BEQ && op <= OP_BGEU);
}

/* Which registers an instruction reads (bits 1..31) and writes. */
static void insn_regs(const struct rv_insn *d, uint32_t *rd_mask, uint32_t *wr_mask)
{
	unsigned op = d->op;
	uint32_t r = 0, w = 0;
	int uses_rs1 = op != OP_LUI && op != OP_AUIPC && op != OP_JAL && op != OP_FENCE;
	int uses_rs2 = (op >= OP_BEQ && op <= OP_BGEU) || (op >= OP_SB && op <= OP_SD) ||
		       (op >= OP_ADD && op <= OP_AND) || (op >= OP_ADDW && op <= OP_SRAW) ||
		       (op >= OP_MUL && op <= OP_REMUW);
	if (uses_rs1)
		r |= 1u << d->rs1;
	if (uses_rs2)
		r |= 1u << d->rs2;
	int writes = !(op >= OP_BEQ && op <= OP_BGEU) && !(op >= OP_SB && op <= OP_SD) &&
		     op != OP_FENCE;
	if (writes)
		w |= 1u << d->rd;
	*rd_mask = r & ~1u;
	*wr_mask = w & ~1u;
}

/* Gives the most used registers of the block a host register each and
 * loads those the block reads before writing. */
static void alloc_regs(struct tx *t, const struct jit_tr *tr)
{
	unsigned uses[32] = {0};
	uint32_t written = 0, load = 0;
	for (unsigned i = 0; i < tr->ninsns; i++) {
		uint32_t r, w;
		insn_regs(&tr->ins[i], &r, &w);
		load |= r & ~written;
		written |= w;
		for (unsigned g = 1; g < 32; g++)
			uses[g] += ((r >> g) & 1) + ((w >> g) & 1);
	}
	memset(t->host, -1, sizeof(t->host));
	for (unsigned k = 0; k < NCACHE; k++) {
		unsigned best = 0;
		for (unsigned g = 1; g < 32; g++)
			if (!((t->cached >> g) & 1) && uses[g] > uses[best])
				best = g;
		if (uses[best] < 2)
			break;
		t->host[best] = (int8_t)cache_regs[k];
		t->cached |= 1u << best;
	}
	for (unsigned g = 1; g < 32; g++)
		if ((t->cached & load) >> g & 1)
			x_load64(t->b, t->host[g], RBX, OX(g));
}

/* The host register holding guest register `g`: its cache register, or
 * `scratch` loaded from h->x. */
static int rget(struct tx *t, unsigned g, int scratch)
{
	if (g && t->host[g] >= 0)
		return t->host[g];
	if (g == 0)
		x_alu(t->b, ALU_XOR, 0, scratch, scratch);
	else
		x_load64(t->b, scratch, RBX, OX(g));
	return scratch;
}

/* Guest register `g` = host register `r`. `mark` records it as dirty (the
 * main path; slow paths join it, which already counts the write). */
static void rput(struct tx *t, unsigned g, int r, int mark)
{
	if (g == 0)
		return;
	if (t->host[g] >= 0) {
		if (t->host[g] != r)
			x_mov(t->b, t->host[g], r);
		if (mark)
			t->dirty |= 1u << g;
	} else {
		x_store64(t->b, RBX, OX(g), r);
	}
}

/* Writes the cached registers in `mask` back to h->x. */
static void flush(struct tx *t, uint32_t mask)
{
	for (unsigned g = 1; g < 32; g++)
		if ((mask >> g) & 1)
			x_store64(t->b, RBX, OX(g), t->host[g]);
}

/* After a helper call: the caller-saved cache registers are reloaded. */
static void reload_volatile(struct tx *t)
{
	for (unsigned g = 1; g < 32; g++)
		for (unsigned k = NSAVED; k < NCACHE; k++)
			if (t->host[g] == cache_regs[k])
				x_load64(t->b, t->host[g], RBX, OX(g));
}

/* r = r12 + delta (the virtual pc of a place in the block) */
static void emit_pc(struct xbuf *b, int r, int64_t delta)
{
	if (fits32(delta)) {
		x_lea(b, r, R12, (int32_t)delta);
	} else {
		x_mov_imm(b, r, (uint64_t)delta);
		x_alu(b, ALU_ADD, 1, r, R12);
	}
}

/* Leaves with the next pc in rax after retiring `n` instructions. */
static void emit_exit(struct tx *t, uint32_t n)
{
	flush(t, t->dirty);
	if (n)
		x_alu_mi(t->b, ALU_ADD, 1, RBX, O_INSTRET, (int32_t)n);
	x_patch(t->b, x_jmp(t->b), t->st->exit);
}

/* Goes on at the next pc in rax (through the chain stub) after retiring
 * `n` instructions. */
static void emit_chain(struct tx *t, uint32_t n)
{
	flush(t, t->dirty);
	x_alu_mi(t->b, ALU_ADD, 1, RBX, O_INSTRET, (int32_t)n);
	x_patch(t->b, x_jmp(t->b), t->st->chain);
}

/* rsi = rs1 + imm; rax = &dtlb entry; compares the tag at `tag_off` with the
 * page of the access's last byte; jumps (to be patched) when it differs. */
static uint32_t emit_tlb_check(struct tx *t, unsigned rs1, int64_t imm, unsigned size,
			       int32_t tag_off)
{
	struct xbuf *b = t->b;
	int base = rget(t, rs1, RSI);
	if (base != RSI || imm)
		x_lea(b, RSI, base, (int32_t)imm);
	x_mov(b, RAX, RSI);
	x_shift_i(b, SH_SHR, 1, RAX, 12);
	x_mov(b, RCX, RAX);
	x_shift_i(b, SH_SHR, 1, RCX, 8);
	x_alu(b, ALU_XOR, 0, RAX, RCX); /* 32-bit: zero-extends */
	x_op_r(b, 0, 0x0fb6, RAX, RAX); /* movzx eax, al */
	x_imul_i8(b, 0, RAX, RAX, 40);
	x_alu_m(b, ALU_ADD, 1, RAX, RBX, O_DTLB);
	x_lea(b, RCX, RSI, (int32_t)size - 1);
	x_alu_i(b, ALU_AND, 1, RCX, -4096);
	x_alu_m(b, ALU_CMP, 1, RCX, RAX, tag_off);
	return x_jcc(b, CC_NE);
}

static struct cold *add_cold(struct tx *t, uint32_t miss, int store, const struct rv_insn *d,
			     uint32_t info)
{
	struct cold *c = &t->cold[t->ncold++];
	c->from = miss;
	c->back = t->b->len;
	c->dirty = t->dirty;
	c->store = (uint8_t)store;
	c->rd = d->rd;
	c->rs2 = d->rs2;
	c->info = info;
	return c;
}

static void emit_load(struct tx *t, const struct rv_insn *d, unsigned idx, unsigned pc_off)
{
	struct xbuf *b = t->b;
	unsigned size = 1;
	int sgn = 0;
	switch (d->op) {
	case OP_LB: sgn = 1; break;
	case OP_LH: sgn = 1; /* fallthrough */
	case OP_LHU: size = 2; break;
	case OP_LW: sgn = 1; /* fallthrough */
	case OP_LWU: size = 4; break;
	case OP_LD: size = 8; break;
	}
	uint32_t miss = emit_tlb_check(t, d->rs1, d->imm, size, O_TAG_R);
	x_load64(b, RAX, RAX, O_ADDEND);
	x_load_idx(b, RAX, RAX, RSI, size, sgn);
	add_cold(t, miss, 0, d, size | (unsigned)sgn << 4 | idx << 8 | pc_off << 16);
	rput(t, d->rd, RAX, 1);
}

static void emit_store(struct tx *t, const struct rv_insn *d, unsigned idx, unsigned pc_off)
{
	struct xbuf *b = t->b;
	unsigned size = d->op == OP_SB ? 1 : d->op == OP_SH ? 2 : d->op == OP_SW ? 4 : 8;
	uint32_t miss = emit_tlb_check(t, d->rs1, d->imm, size, O_TAG_W);
	x_load64(b, RAX, RAX, O_ADDEND);
	int v = rget(t, d->rs2, RCX);
	x_store_idx(b, v, RAX, RSI, size);
	add_cold(t, miss, 1, d, size | idx << 8 | pc_off << 16);
}

/* The slow path: h->x made exact, h->pc = the block's pc, the helper
 * called; an exception leaves through the trap exit. */
static void emit_cold(struct tx *t, const struct cold *c)
{
	struct xbuf *b = t->b;
	x_patch(b, c->from, b->len);
	flush(t, c->dirty);
	x_store64(b, RBX, O_PC, R12);
	if (c->store) {
		int v = rget(t, c->rs2, RDX);
		if (v != RDX)
			x_mov(b, RDX, v);
	}
	x_mov(b, RDI, RBX); /* rsi holds the address */
	x_mov_imm(b, c->store ? RCX : RDX, c->info);
	x_call_m(b, RBX, OH(c->store ? JH_STORE : JH_LOAD));
	x_cmp_m8i(b, RBX, O_TRAP, 0);
	t->trap_jmp[t->ntrap++] = x_jcc(b, CC_NE);
	reload_volatile(t);
	if (!c->store)
		rput(t, c->rd, RAX, 0);
	x_patch(b, x_jmp(b), c->back);
}

/* rd = rs1 op (rs2 or imm) for the integer ALU, computed in rax. */
static void emit_alu(struct tx *t, const struct rv_insn *d)
{
	struct xbuf *b = t->b;
	int32_t imm = (int32_t)d->imm;
	static const int alu_rr[RV_OP_COUNT] = {
	    [OP_ADD] = ALU_ADD + 1, [OP_SUB] = ALU_SUB + 1, [OP_XOR] = ALU_XOR + 1,
	    [OP_OR] = ALU_OR + 1,   [OP_AND] = ALU_AND + 1, [OP_ADDW] = ALU_ADD + 1,
	    [OP_SUBW] = ALU_SUB + 1};
	static const int alu_ri[RV_OP_COUNT] = {[OP_ADDI] = ALU_ADD + 1, [OP_XORI] = ALU_XOR + 1,
						[OP_ORI] = ALU_OR + 1,	 [OP_ANDI] = ALU_AND + 1,
						[OP_ADDIW] = ALU_ADD + 1};
	static const int sh_i[RV_OP_COUNT] = {
	    [OP_SLLI] = SH_SHL + 1,  [OP_SRLI] = SH_SHR + 1,  [OP_SRAI] = SH_SAR + 1,
	    [OP_SLLIW] = SH_SHL + 1, [OP_SRLIW] = SH_SHR + 1, [OP_SRAIW] = SH_SAR + 1};
	static const int sh_r[RV_OP_COUNT] = {
	    [OP_SLL] = SH_SHL + 1,  [OP_SRL] = SH_SHR + 1,  [OP_SRA] = SH_SAR + 1,
	    [OP_SLLW] = SH_SHL + 1, [OP_SRLW] = SH_SHR + 1, [OP_SRAW] = SH_SAR + 1};
	static const int helper[RV_OP_COUNT] = {
	    [OP_DIV] = JH_DIV + 1,     [OP_DIVU] = JH_DIVU + 1,	  [OP_REM] = JH_REM + 1,
	    [OP_REMU] = JH_REMU + 1,   [OP_DIVW] = JH_DIVW + 1,	  [OP_DIVUW] = JH_DIVUW + 1,
	    [OP_REMW] = JH_REMW + 1,   [OP_REMUW] = JH_REMUW + 1, [OP_MULHSU] = JH_MULHSU + 1};
	unsigned op = d->op;
	int w32 = (op >= OP_ADDIW && op <= OP_SRAW) || (op >= OP_MULW && op <= OP_REMUW);
	if (op == OP_LUI) {
		x_mov_imm(b, RAX, (uint64_t)d->imm);
		rput(t, d->rd, RAX, 1);
		return;
	}
	if (helper[op]) {
		/* Pure functions: only the caller-saved cache registers need care. */
		flush(t, t->dirty);
		int a = rget(t, d->rs1, RDI);
		if (a != RDI)
			x_mov(b, RDI, a);
		int c = rget(t, d->rs2, RSI);
		if (c != RSI)
			x_mov(b, RSI, c);
		x_call_m(b, RBX, OH(helper[op] - 1));
		reload_volatile(t);
		rput(t, d->rd, RAX, 1);
		return;
	}
	int a = rget(t, d->rs1, RAX);
	if (a != RAX)
		x_mov(b, RAX, a);
	if (alu_rr[op]) {
		x_alu(b, alu_rr[op] - 1, 1, RAX, rget(t, d->rs2, RCX));
	} else if (alu_ri[op]) {
		x_alu_i(b, alu_ri[op] - 1, 1, RAX, imm);
	} else if (sh_i[op]) {
		x_shift_i(b, sh_i[op] - 1, !w32, RAX, (uint8_t)imm);
	} else if (sh_r[op]) {
		int c = rget(t, d->rs2, RCX);
		if (c != RCX)
			x_mov(b, RCX, c);
		x_shift_cl(b, sh_r[op] - 1, !w32, RAX);
	} else {
		switch (op) {
		case OP_SLTI:
		case OP_SLTIU:
			x_alu_i(b, ALU_CMP, 1, RAX, imm);
			x_setcc(b, op == OP_SLTI ? CC_L : CC_B, RAX);
			break;
		case OP_SLT:
		case OP_SLTU:
			x_alu(b, ALU_CMP, 1, RAX, rget(t, d->rs2, RCX));
			x_setcc(b, op == OP_SLT ? CC_L : CC_B, RAX);
			break;
		case OP_MUL:
		case OP_MULW: x_imul(b, op == OP_MUL, RAX, rget(t, d->rs2, RCX)); break;
		case OP_MULH:
		case OP_MULHU: {
			int c = rget(t, d->rs2, RCX);
			if (c != RCX)
				x_mov(b, RCX, c);
			x_op_r(b, 1, 0xf7, op == OP_MULH ? 5 : 4, RCX); /* rdx:rax = rax * rcx */
			x_mov(b, RAX, RDX);
			break;
		}
		}
	}
	if (w32)
		x_movsxd(b, RAX, RAX);
	rput(t, d->rd, RAX, 1);
}

/* The taken side of a jump to r12 + `delta`, retiring the whole block. */
static void emit_goto(struct tx *t, int64_t delta)
{
	struct xbuf *b = t->b;
	uint32_t saved = t->dirty;
	if (delta == 0 && t->chain_self) {
		/* Loop without leaving: h->x is written back each time round so
		 * the body starts, as it was emitted, with nothing dirty. */
		flush(t, t->dirty);
		x_alu_mi(b, ALU_ADD, 1, RBX, O_INSTRET, (int32_t)t->ninsns);
		x_alu_mi(b, ALU_SUB, 0, RBX, O_POLL, 1);
		uint32_t out = x_jcc(b, CC_S);
		x_patch(b, x_jmp(b), t->body);
		x_patch(b, out, b->len);
		x_mov(b, RAX, R12);
		x_patch(b, x_jmp(b), t->st->exit);
		return;
	}
	emit_pc(b, RAX, delta);
	if (delta == 0) /* a wait loop: the dispatcher yields the core */
		emit_exit(t, t->ninsns);
	else
		emit_chain(t, t->ninsns);
	t->dirty = saved; /* for the other side of a branch */
}

static void emit_jump(struct tx *t, const struct rv_insn *d, unsigned pc_off)
{
	struct xbuf *b = t->b;
	int64_t next = (int64_t)pc_off + d->len, target = (int64_t)pc_off + d->imm;
	if (d->op == OP_JAL) {
		if (d->rd) {
			emit_pc(b, RCX, next);
			rput(t, d->rd, RCX, 1);
		}
		emit_goto(t, target);
		return;
	}
	if (d->op == OP_JALR) {
		int a = rget(t, d->rs1, RAX);
		x_lea(b, RAX, a, (int32_t)d->imm);
		x_alu_i(b, ALU_AND, 1, RAX, -2);
		if (d->rd) {
			emit_pc(b, RCX, next);
			rput(t, d->rd, RCX, 1);
		}
		emit_chain(t, t->ninsns);
		return;
	}
	static const int cc[RV_OP_COUNT] = {[OP_BEQ] = CC_E, [OP_BNE] = CC_NE, [OP_BLT] = CC_L,
					    [OP_BGE] = CC_GE, [OP_BLTU] = CC_B, [OP_BGEU] = CC_AE};
	int a = rget(t, d->rs1, RAX);
	x_alu(b, ALU_CMP, 1, a, rget(t, d->rs2, RCX));
	uint32_t taken = x_jcc(b, cc[d->op]);
	emit_goto(t, next);
	x_patch(b, taken, b->len);
	emit_goto(t, target);
}

int jit_decode(const uint8_t *bytes, unsigned avail, struct jit_tr *tr)
{
	unsigned n = 0, off = 0;
	tr->ended = 0;
	while (n < JIT_BLOCK_MAX && off + 2 <= avail) {
		uint16_t lo;
		memcpy(&lo, bytes + off, 2);
		uint32_t w = lo;
		if ((lo & 3) == 3) {
			if (off + 4 > avail)
				break;
			memcpy(&w, bytes + off, 4);
		}
		rv_decode(w, &tr->ins[n]);
		if (!op_translatable(tr->ins[n].op))
			break;
		off += tr->ins[n].len;
		if (op_is_jump(tr->ins[n++].op)) {
			tr->ended = 1;
			break;
		}
	}
	tr->ninsns = n;
	tr->guest_len = off;
	return n ? 0 : -ENOENT;
}

int jit_emit(const struct jit_tr *tr, struct xbuf *out, const struct jit_stubs *st)
{
	const struct rv_insn *ins = tr->ins;
	unsigned n = tr->ninsns, stores = 0;
	for (unsigned i = 0; i < n; i++)
		stores |= ins[i].op >= OP_SB && ins[i].op <= OP_SD;
	static struct tx t;
	memset(&t, 0, sizeof(t));
	t.b = out;
	t.st = st;
	t.ninsns = n;
	/* A loop without stores waits for another hart: the interpreter's
	 * dispatcher yields the core for those, so they go back to it. */
	t.chain_self = stores;
	alloc_regs(&t, tr);
	t.body = out->len;
	unsigned pc_off = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct rv_insn *d = &ins[i];
		if (op_is_jump(d->op)) {
			emit_jump(&t, d, pc_off);
		} else if (d->op >= OP_LB && d->op <= OP_LWU) {
			emit_load(&t, d, i, pc_off);
		} else if (d->op >= OP_SB && d->op <= OP_SD) {
			emit_store(&t, d, i, pc_off);
		} else if (d->op == OP_FENCE) {
			x_mfence(out);
		} else if (d->op == OP_AUIPC) {
			if (d->rd) {
				emit_pc(out, RAX, (int64_t)pc_off + d->imm);
				rput(&t, d->rd, RAX, 1);
			}
		} else if (d->rd) {
			emit_alu(&t, d);
		}
		pc_off += d->len;
	}
	if (!tr->ended) {
		emit_pc(out, RAX, pc_off);
		emit_chain(&t, n);
	}
	for (unsigned i = 0; i < t.ncold; i++)
		emit_cold(&t, &t.cold[i]);
	if (t.ntrap) {
		uint32_t trap = out->len;
		x_load64(out, RAX, RBX, O_PC);
		x_patch(out, x_jmp(out), st->exit);
		for (unsigned i = 0; i < t.ntrap; i++)
			x_patch(out, t.trap_jmp[i], trap);
	}
	return out->overflow ? -ENOSPC : 0;
}

void jit_emit_stubs(struct xbuf *out, struct jit_stubs *st)
{
	static const int saved[] = {RBX, RBP, R12, R13, R14, R15};
	st->enter = out->len;
	for (unsigned i = 0; i < 6; i++)
		x_push(out, saved[i]);
	x_alu_i(out, ALU_SUB, 1, RSP, 8); /* 16-byte aligned for helper calls */
	x_mov(out, RBX, RDI);
	x_mov(out, R12, RDX);
	x_jmp_r(out, RSI);

	st->exit = out->len;
	x_alu_i(out, ALU_ADD, 1, RSP, 8);
	for (unsigned i = 6; i-- > 0;)
		x_pop(out, saved[i]);
	x_ret(out);

	/* chain: b = h->jcur[(pc >> 1) & mask]; if b && b->pc == pc && b->jit,
	 * r12 = pc and jump to b->jit; else exit. */
	st->chain = out->len;
	uint32_t out_j[5];
	x_alu_mi(out, ALU_SUB, 0, RBX, O_POLL, 1);
	out_j[0] = x_jcc(out, CC_S);
	x_mov(out, RCX, RAX);
	x_shift_i(out, SH_SHR, 0, RCX, 1);
	x_alu_i(out, ALU_AND, 0, RCX, (1 << JC_BITS) - 1);
	x_load64(out, RDX, RBX, O_JCUR);
	x_load64_idx8(out, RDX, RDX, RCX);
	x_test(out, RDX, RDX);
	out_j[1] = x_jcc(out, CC_E);
	x_alu_m(out, ALU_CMP, 1, RAX, RDX, O_BPC);
	out_j[2] = x_jcc(out, CC_NE);
	x_load64(out, RCX, RDX, O_BJIT);
	x_test(out, RCX, RCX);
	out_j[3] = x_jcc(out, CC_E);
	x_mov(out, R12, RAX);
	x_jmp_r(out, RCX);
	for (unsigned i = 0; i < 4; i++)
		x_patch(out, out_j[i], st->exit);
}
