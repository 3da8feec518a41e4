/* Tier-1 translator: one guest basic block to x86-64, one guest instruction
 * at a time, guest registers loaded from and stored to the hart structure
 * (rbx) around each. Loads and stores inline the softMMU TLB fast path of
 * the interpreter (same index, same tags) and call a helper otherwise. */
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

/* A slow path emitted after the block body. */
struct cold {
	uint32_t from; /* the jne to patch */
	uint32_t back; /* where to continue */
	uint8_t store; /* store helper (else load) */
	uint8_t rd;
	uint8_t rs2;
	uint32_t info;
};

struct tx {
	struct xbuf *b;
	const struct jit_stubs *st;
	uint32_t start;	 /* buffer position of the block body */
	uint32_t ninsns; /* of the whole block, for instret */
	int chain_self;	 /* a taken branch to the start loops inside */
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

/* rax = r12 + delta (the virtual pc of a place in the block) */
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
	if (n)
		x_alu_mi(t->b, ALU_ADD, 1, RBX, O_INSTRET, (int32_t)n);
	x_patch(t->b, x_jmp(t->b), t->st->exit);
}

/* Goes on at the next pc in rax (through the chain stub) after retiring
 * `n` instructions. */
static void emit_chain(struct tx *t, uint32_t n)
{
	x_alu_mi(t->b, ALU_ADD, 1, RBX, O_INSTRET, (int32_t)n);
	x_patch(t->b, x_jmp(t->b), t->st->chain);
}

static void emit_wb(struct xbuf *b, unsigned rd, int r)
{
	if (rd)
		x_store64(b, RBX, OX(rd), r);
}

/* rsi = rs1 + imm; rax = &dtlb entry; compares the tag at `tag_off` with the
 * page of the access's last byte; jumps (to be patched) when it differs. */
static uint32_t emit_tlb_check(struct xbuf *b, unsigned rs1, int64_t imm, unsigned size,
			       int32_t tag_off)
{
	x_load64(b, RSI, RBX, OX(rs1));
	if (imm)
		x_alu_i(b, ALU_ADD, 1, RSI, (int32_t)imm);
	x_mov(b, RAX, RSI);
	x_shift_i(b, SH_SHR, 1, RAX, 12);
	x_mov(b, RCX, RAX);
	x_shift_i(b, SH_SHR, 1, RCX, 8);
	x_alu(b, ALU_XOR, 0, RAX, RCX); /* 32-bit: zero-extends */
	x_alu_i(b, ALU_AND, 0, RAX, 0xff);
	x_imul_i8(b, 0, RAX, RAX, 40);
	x_alu_m(b, ALU_ADD, 1, RAX, RBX, O_DTLB);
	if (size > 1)
		x_lea(b, RCX, RSI, (int32_t)size - 1);
	else
		x_mov(b, RCX, RSI);
	x_alu_i(b, ALU_AND, 1, RCX, -4096);
	x_alu_m(b, ALU_CMP, 1, RCX, RAX, tag_off);
	return x_jcc(b, CC_NE);
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
	uint32_t miss = emit_tlb_check(b, d->rs1, d->imm, size, O_TAG_R);
	x_load64(b, RAX, RAX, O_ADDEND);
	x_load_idx(b, RAX, RAX, RSI, size, sgn);
	struct cold *c = &t->cold[t->ncold++];
	c->from = miss;
	c->back = b->len;
	c->store = 0;
	c->rd = d->rd;
	c->info = size | (unsigned)sgn << 4 | idx << 8 | pc_off << 16;
	emit_wb(b, d->rd, RAX);
}

static void emit_store(struct tx *t, const struct rv_insn *d, unsigned idx, unsigned pc_off)
{
	struct xbuf *b = t->b;
	unsigned size = d->op == OP_SB ? 1 : d->op == OP_SH ? 2 : d->op == OP_SW ? 4 : 8;
	uint32_t miss = emit_tlb_check(b, d->rs1, d->imm, size, O_TAG_W);
	x_load64(b, RAX, RAX, O_ADDEND);
	x_load64(b, RCX, RBX, OX(d->rs2));
	x_store_idx(b, RCX, RAX, RSI, size);
	struct cold *c = &t->cold[t->ncold++];
	c->from = miss;
	c->back = b->len;
	c->store = 1;
	c->rs2 = d->rs2;
	c->info = size | idx << 8 | pc_off << 16;
}

static void emit_cold(struct tx *t, const struct cold *c)
{
	struct xbuf *b = t->b;
	x_patch(b, c->from, b->len);
	x_mov(b, RDI, RBX); /* rsi holds the address */
	if (c->store) {
		x_load64(b, RDX, RBX, OX(c->rs2));
		x_mov_imm(b, RCX, c->info);
		x_mov(b, R8, R12);
		x_call_m(b, RBX, OH(JH_STORE));
	} else {
		x_mov_imm(b, RDX, c->info);
		x_mov(b, RCX, R12);
		x_call_m(b, RBX, OH(JH_LOAD));
	}
	x_cmp_m8i(b, RBX, O_TRAP, 0);
	t->trap_jmp[t->ntrap++] = x_jcc(b, CC_NE);
	if (!c->store)
		emit_wb(b, c->rd, RAX);
	x_patch(b, x_jmp(b), c->back);
}

/* rax = rs1 op (rs2 or imm) for the integer ALU; returns 0 when handled. */
static void emit_alu(struct tx *t, const struct rv_insn *d)
{
	struct xbuf *b = t->b;
	int32_t imm = (int32_t)d->imm;
	static const int alu_rr[RV_OP_COUNT] = {
	    [OP_ADD] = ALU_ADD + 1, [OP_SUB] = ALU_SUB + 1, [OP_XOR] = ALU_XOR + 1,
	    [OP_OR] = ALU_OR + 1,   [OP_AND] = ALU_AND + 1, [OP_ADDW] = ALU_ADD + 1,
	    [OP_SUBW] = ALU_SUB + 1};
	static const int alu_ri[RV_OP_COUNT] = {[OP_ADDI] = ALU_ADD + 1,
						[OP_XORI] = ALU_XOR + 1,
						[OP_ORI] = ALU_OR + 1,
						[OP_ANDI] = ALU_AND + 1,
						[OP_ADDIW] = ALU_ADD + 1};
	static const int sh_i[RV_OP_COUNT] = {
	    [OP_SLLI] = SH_SHL + 1,  [OP_SRLI] = SH_SHR + 1,  [OP_SRAI] = SH_SAR + 1,
	    [OP_SLLIW] = SH_SHL + 1, [OP_SRLIW] = SH_SHR + 1, [OP_SRAIW] = SH_SAR + 1};
	static const int sh_r[RV_OP_COUNT] = {
	    [OP_SLL] = SH_SHL + 1,  [OP_SRL] = SH_SHR + 1,  [OP_SRA] = SH_SAR + 1,
	    [OP_SLLW] = SH_SHL + 1, [OP_SRLW] = SH_SHR + 1, [OP_SRAW] = SH_SAR + 1};
	static const int helper[RV_OP_COUNT] = {
	    [OP_DIV] = JH_DIV + 1,   [OP_DIVU] = JH_DIVU + 1,	[OP_REM] = JH_REM + 1,
	    [OP_REMU] = JH_REMU + 1, [OP_DIVW] = JH_DIVW + 1,	[OP_DIVUW] = JH_DIVUW + 1,
	    [OP_REMW] = JH_REMW + 1, [OP_REMUW] = JH_REMUW + 1, [OP_MULHSU] = JH_MULHSU + 1};
	unsigned op = d->op;
	int w32 = (op >= OP_ADDIW && op <= OP_SRAW) || (op >= OP_MULW && op <= OP_REMUW);
	if (helper[op]) {
		x_load64(b, RDI, RBX, OX(d->rs1));
		x_load64(b, RSI, RBX, OX(d->rs2));
		x_call_m(b, RBX, OH(helper[op] - 1));
		emit_wb(b, d->rd, RAX);
		return;
	}
	x_load64(b, RAX, RBX, OX(d->rs1));
	if (alu_rr[op]) {
		x_alu_m(b, alu_rr[op] - 1, 1, RAX, RBX, OX(d->rs2));
	} else if (alu_ri[op]) {
		x_alu_i(b, alu_ri[op] - 1, 1, RAX, imm);
	} else if (sh_i[op]) {
		x_shift_i(b, sh_i[op] - 1, !w32, RAX, (uint8_t)imm);
	} else if (sh_r[op]) {
		x_load64(b, RCX, RBX, OX(d->rs2));
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
			x_alu_m(b, ALU_CMP, 1, RAX, RBX, OX(d->rs2));
			x_setcc(b, op == OP_SLT ? CC_L : CC_B, RAX);
			break;
		case OP_MUL:
		case OP_MULW:
			x_load64(b, RCX, RBX, OX(d->rs2));
			x_imul(b, op == OP_MUL, RAX, RCX);
			break;
		case OP_MULH:
		case OP_MULHU:
			x_mul_wide_m(b, op == OP_MULH ? 5 : 4, RBX, OX(d->rs2));
			x_mov(b, RAX, RDX);
			break;
		case OP_LUI: x_mov_imm(b, RAX, (uint64_t)d->imm); break;
		}
	}
	if (w32)
		x_movsxd(b, RAX, RAX);
	emit_wb(b, d->rd, RAX);
}

/* The taken side of a jump to r12 + `delta`, retiring the whole block. */
static void emit_goto(struct tx *t, int64_t delta)
{
	struct xbuf *b = t->b;
	if (delta == 0 && t->chain_self) {
		x_alu_mi(b, ALU_ADD, 1, RBX, O_INSTRET, (int32_t)t->ninsns);
		x_alu_mi(b, ALU_SUB, 0, RBX, O_POLL, 1);
		uint32_t out = x_jcc(b, CC_S);
		x_patch(b, x_jmp(b), t->start);
		x_patch(b, out, b->len);
		x_mov(b, RAX, R12);
		emit_exit(t, 0);
		return;
	}
	emit_pc(b, RAX, delta);
	if (delta == 0) /* a wait loop: the dispatcher yields the core */
		emit_exit(t, t->ninsns);
	else
		emit_chain(t, t->ninsns);
}

static void emit_jump(struct tx *t, const struct rv_insn *d, unsigned pc_off)
{
	struct xbuf *b = t->b;
	int64_t next = (int64_t)pc_off + d->len, target = (int64_t)pc_off + d->imm;
	if (d->op == OP_JAL) {
		if (d->rd) {
			emit_pc(b, RCX, next);
			x_store64(b, RBX, OX(d->rd), RCX);
		}
		emit_goto(t, target);
		return;
	}
	if (d->op == OP_JALR) {
		x_load64(b, RAX, RBX, OX(d->rs1));
		if (d->imm)
			x_alu_i(b, ALU_ADD, 1, RAX, (int32_t)d->imm);
		x_alu_i(b, ALU_AND, 1, RAX, -2);
		if (d->rd) {
			emit_pc(b, RCX, next);
			x_store64(b, RBX, OX(d->rd), RCX);
		}
		emit_chain(t, t->ninsns);
		return;
	}
	static const int cc[RV_OP_COUNT] = {[OP_BEQ] = CC_E,  [OP_BNE] = CC_NE, [OP_BLT] = CC_L,
					    [OP_BGE] = CC_GE, [OP_BLTU] = CC_B, [OP_BGEU] = CC_AE};
	x_load64(b, RAX, RBX, OX(d->rs1));
	x_alu_m(b, ALU_CMP, 1, RAX, RBX, OX(d->rs2));
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
	struct tx t = {.b = out, .st = st, .start = out->len, .ninsns = n};
	/* A loop without stores waits for another hart: the interpreter's
	 * dispatcher yields the core for those, so they go back to it. */
	t.chain_self = stores;
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
				emit_wb(out, d->rd, RAX);
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
