/** @file
 * A small x86-64 emitter: exactly the instruction forms tier 1 uses.
 * Writes into a bounded buffer; running out of room sets `overflow` (the
 * translation is then dropped), never writes past the end. All branches
 * are rel32 so generated code is position independent. */
#ifndef SHOAL_X86_H
#define SHOAL_X86_H

#include <stdint.h>

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

/* Condition codes (the low nibble of Jcc/SETcc). */
enum {
	CC_B = 2,
	CC_AE = 3,
	CC_E = 4,
	CC_NE = 5,
	CC_BE = 6,
	CC_A = 7,
	CC_S = 8,
	CC_NS = 9,
	CC_L = 0xc,
	CC_GE = 0xd,
	CC_LE = 0xe,
	CC_G = 0xf
};

/* Group-1 ALU operations: the /digit of 81/83 and, times 8 plus 1, the
 * opcode of the r/m, reg form. */
enum { ALU_ADD = 0, ALU_OR = 1, ALU_AND = 4, ALU_SUB = 5, ALU_XOR = 6, ALU_CMP = 7 };
/* Group-2 shifts: the /digit of C1/D3. */
enum { SH_SHL = 4, SH_SHR = 5, SH_SAR = 7 };

struct xbuf {
	uint8_t *p;
	uint32_t len, cap;
	int overflow;
};

static inline void xb(struct xbuf *b, uint8_t v)
{
	if (b->len < b->cap)
		b->p[b->len] = v;
	else
		b->overflow = 1;
	b->len++;
}

/* An instruction being assembled: its bytes are collected here and then
 * appended at once (each store through the buffer's byte pointer would
 * make the compiler reload the buffer's fields before the next byte). */
struct xins {
	uint8_t v[16];
	unsigned n;
};

static inline void xi_b(struct xins *i, uint8_t v)
{
	i->v[i->n++ & 15] = v;
}

static inline void xi_32(struct xins *i, uint32_t v)
{
	for (int k = 0; k < 4; k++)
		xi_b(i, (uint8_t)(v >> (8 * k)));
}

/* Appends instruction `i` (its 16-byte array in one copy when room is
 * left; bytes past i->n are overwritten by what follows). */
static inline void xput(struct xbuf *b, const struct xins *i)
{
	if (b->len <= b->cap && b->cap - b->len >= 16) {
		__builtin_memcpy(b->p + b->len, i->v, 16);
		b->len += i->n;
	} else {
		for (unsigned k = 0; k < i->n; k++)
			xb(b, i->v[k]);
	}
}

static inline void x32(struct xbuf *b, uint32_t v)
{
	struct xins i = {.n = 0};
	xi_32(&i, v);
	xput(b, &i);
}

static inline int fits8(int64_t v)
{
	return v >= -128 && v <= 127;
}

static inline int fits32(int64_t v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

/* REX with W, and the high bits of reg, index and base. `force` emits it
 * even when empty (to reach spl/bpl/sil/dil as byte registers). */
static inline void xi_rex(struct xins *i, int w, int reg, int index, int base, int force)
{
	uint8_t v = (uint8_t)(0x40 | (w << 3) | ((reg >> 3) & 1) << 2 | ((index >> 3) & 1) << 1 |
			      ((base >> 3) & 1));
	if (v != 0x40 || force)
		xi_b(i, v);
}

static inline void x_rex(struct xbuf *b, int w, int reg, int index, int base, int force)
{
	struct xins i = {.n = 0};
	xi_rex(&i, w, reg, index, base, force);
	xput(b, &i);
}

/* ModRM (+SIB, +displacement) for [base + index << scale + disp]; index < 0:
 * none. rsp cannot be an index. */
static inline void xi_mem_s(struct xins *i, int reg, int base, int index, int scale, int32_t disp)
{
	int sib = index >= 0 || (base & 7) == RSP;
	int mod = (disp == 0 && (base & 7) != RBP) ? 0 : fits8(disp) ? 1 : 2;
	xi_b(i, (uint8_t)(mod << 6 | (reg & 7) << 3 | (sib ? 4 : (base & 7))));
	if (sib)
		xi_b(i, (uint8_t)(scale << 6 | ((index >= 0 ? index : RSP) & 7) << 3 | (base & 7)));
	if (mod == 1)
		xi_b(i, (uint8_t)disp);
	else if (mod == 2)
		xi_32(i, (uint32_t)disp);
}

static inline void x_mem(struct xbuf *b, int reg, int base, int index, int32_t disp)
{
	struct xins i = {.n = 0};
	xi_mem_s(&i, reg, base, index, 0, disp);
	xput(b, &i);
}

/* opcode (1-2 bytes, 0F-prefixed when op > 0xff) with a memory operand
 * [base + index << scale + disp]. */
static inline void x_op_ms(struct xbuf *b, int w, unsigned op, int reg, int base, int index,
			   int scale, int32_t disp)
{
	struct xins i = {.n = 0};
	xi_rex(&i, w, reg, index >= 0 ? index : 0, base, 0);
	if (op > 0xff)
		xi_b(&i, (uint8_t)(op >> 8));
	xi_b(&i, (uint8_t)op);
	xi_mem_s(&i, reg, base, index, scale, disp);
	xput(b, &i);
}
static inline void x_op_m(struct xbuf *b, int w, unsigned op, int reg, int base, int index,
			  int32_t disp)
{
	x_op_ms(b, w, op, reg, base, index, 0, disp);
}

/* add al, ah */
static inline void x_add_al_ah(struct xbuf *b)
{
	xb(b, 0x00);
	xb(b, 0xe0);
}

/* opcode with a register operand: reg field `reg`, r/m field `rm`. */
static inline void x_op_r(struct xbuf *b, int w, unsigned op, int reg, int rm)
{
	struct xins i = {.n = 0};
	xi_rex(&i, w, reg, 0, rm, 0);
	if (op > 0xff)
		xi_b(&i, (uint8_t)(op >> 8));
	xi_b(&i, (uint8_t)op);
	xi_b(&i, (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7)));
	xput(b, &i);
}

/* test a, r (64-bit with w, else 32) */
static inline void x_test(struct xbuf *b, int w, int a, int r)
{
	x_op_r(b, w, 0x85, r, a);
}

/* mov r64, [base + disp] / mov [base + disp], r64 */
static inline void x_load64(struct xbuf *b, int r, int base, int32_t disp)
{
	x_op_m(b, 1, 0x8b, r, base, -1, disp);
}
static inline void x_store64(struct xbuf *b, int base, int32_t disp, int r)
{
	x_op_m(b, 1, 0x89, r, base, -1, disp);
}
static inline void x_mov(struct xbuf *b, int dst, int src)
{
	x_op_r(b, 1, 0x89, src, dst);
}

static inline void x_mov_imm(struct xbuf *b, int r, uint64_t imm)
{
	if (imm <= 0xffffffffull) { /* mov r32, imm32 zero-extends */
		x_rex(b, 0, 0, 0, r, 0);
		xb(b, (uint8_t)(0xb8 + (r & 7)));
		x32(b, (uint32_t)imm);
	} else if (fits32((int64_t)imm)) {
		x_op_r(b, 1, 0xc7, 0, r);
		x32(b, (uint32_t)imm);
	} else {
		x_rex(b, 1, 0, 0, r, 0);
		xb(b, (uint8_t)(0xb8 + (r & 7)));
		x32(b, (uint32_t)imm);
		x32(b, (uint32_t)(imm >> 32));
	}
}

/* op dst, src (64-bit when w) */
static inline void x_alu(struct xbuf *b, int alu, int w, int dst, int src)
{
	x_op_r(b, w, (unsigned)(alu * 8 + 1), src, dst);
}
/* op r, [base + disp] */
static inline void x_alu_m(struct xbuf *b, int alu, int w, int r, int base, int32_t disp)
{
	x_op_m(b, w, (unsigned)(alu * 8 + 3), r, base, -1, disp);
}
/* op r, imm32 (sign-extended) */
static inline void x_alu_i(struct xbuf *b, int alu, int w, int r, int32_t imm)
{
	x_op_r(b, w, fits8(imm) ? 0x83 : 0x81, alu, r);
	if (fits8(imm))
		xb(b, (uint8_t)imm);
	else
		x32(b, (uint32_t)imm);
}
/* op dst16, src16 and op r16, imm: the 16-bit forms (a 0x66 prefix),
 * which keep bits 16-63 of the destination. */
static inline void x_alu16(struct xbuf *b, int alu, int dst, int src)
{
	xb(b, 0x66);
	x_op_r(b, 0, (unsigned)(alu * 8 + 1), src, dst);
}
static inline void x_alu16_i(struct xbuf *b, int alu, int r, int16_t imm)
{
	xb(b, 0x66);
	x_op_r(b, 0, fits8(imm) ? 0x83 : 0x81, alu, r);
	xb(b, (uint8_t)imm);
	if (!fits8(imm))
		xb(b, (uint8_t)((uint16_t)imm >> 8));
}
/* test r, imm32 (sign-extended with w) */
static inline void x_test_i(struct xbuf *b, int w, int r, int32_t imm)
{
	x_op_r(b, w, 0xf7, 0, r);
	x32(b, (uint32_t)imm);
}
/* op qword/dword [base + disp], imm32 */
static inline void x_alu_mi(struct xbuf *b, int alu, int w, int base, int32_t disp, int32_t imm)
{
	x_op_m(b, w, fits8(imm) ? 0x83 : 0x81, alu, base, -1, disp);
	if (fits8(imm))
		xb(b, (uint8_t)imm);
	else
		x32(b, (uint32_t)imm);
}
/* cmp byte [base + disp], imm8 */
static inline void x_cmp_m8i(struct xbuf *b, int base, int32_t disp, uint8_t imm)
{
	x_op_m(b, 0, 0x80, ALU_CMP, base, -1, disp);
	xb(b, imm);
}
/* mov byte [base + disp], imm8 / mov dword [base + disp], imm32 */
static inline void x_mov_m8i(struct xbuf *b, int base, int32_t disp, uint8_t imm)
{
	x_op_m(b, 0, 0xc6, 0, base, -1, disp);
	xb(b, imm);
}
static inline void x_mov_m32i(struct xbuf *b, int base, int32_t disp, uint32_t imm)
{
	x_op_m(b, 0, 0xc7, 0, base, -1, disp);
	x32(b, imm);
}

static inline void x_shift_i(struct xbuf *b, int sh, int w, int r, uint8_t n)
{
	x_op_r(b, w, 0xc1, sh, r);
	xb(b, n);
}
static inline void x_shift_cl(struct xbuf *b, int sh, int w, int r)
{
	x_op_r(b, w, 0xd3, sh, r);
}

/* imul dst, src */
static inline void x_imul(struct xbuf *b, int w, int dst, int src)
{
	x_op_r(b, w, 0x0faf, dst, src);
}
/* Group 3 on r: neg (/3); mul (/4), imul (/5) of rax by r into rdx:rax;
 * div (/6), idiv (/7) of rdx:rax by r. */
enum { G3_NOT = 2, G3_NEG, G3_MUL, G3_IMUL, G3_DIV, G3_IDIV };
static inline void x_group3(struct xbuf *b, int w, int digit, int r)
{
	x_op_r(b, w, 0xf7, digit, r);
}
/* cqo (cdq when !w): rdx = the sign of rax */
static inline void x_cqo(struct xbuf *b, int w)
{
	if (w)
		xb(b, 0x48);
	xb(b, 0x99);
}

/* movsxd dst, src32 */
static inline void x_movsxd(struct xbuf *b, int dst, int src)
{
	x_op_r(b, 1, 0x63, dst, src);
}

/* dst = the low `bits` (8, 16 or 32) of src, sign- or zero-extended. */
static inline void x_extend(struct xbuf *b, int dst, int src, unsigned bits, int sgn)
{
	if (bits == 32) {
		x_op_r(b, sgn, sgn ? 0x63 : 0x8b, dst, src); /* movsxd, or mov r32 */
		return;
	}
	x_rex(b, sgn, dst, 0, src, bits == 8 && src >= 4 && src < 8); /* sil etc. need a REX */
	xb(b, 0x0f);
	xb(b, (uint8_t)((bits == 8 ? 0xb6 : 0xb7) | (sgn ? 8 : 0)));
	xb(b, (uint8_t)(0xc0 | (dst & 7) << 3 | (src & 7)));
}

/* setcc r8; movzx r32, r8 (r must be rax, rcx, rdx or rbx) */
static inline void x_setcc(struct xbuf *b, int cc, int r)
{
	x_op_r(b, 0, 0x0f90u + (unsigned)cc, 0, r);
	x_op_r(b, 0, 0x0fb6, r, r);
}

/* cmovcc dst, src (64-bit) */
static inline void x_cmov(struct xbuf *b, int cc, int dst, int src)
{
	x_op_r(b, 1, 0x0f40u + (unsigned)cc, dst, src);
}

/* lea dst, [base + disp] */
static inline void x_lea(struct xbuf *b, int dst, int base, int32_t disp)
{
	x_op_m(b, 1, 0x8d, dst, base, -1, disp);
}

/* Loads from [base + index + disp] into r: size 1/2/4/8, sign-extended
 * or not. */
static inline void x_load_idx(struct xbuf *b, int r, int base, int index, int32_t disp,
			      unsigned size, int sgn)
{
	switch (size) {
	case 1: x_op_m(b, sgn, sgn ? 0x0fbe : 0x0fb6, r, base, index, disp); break;
	case 2: x_op_m(b, sgn, sgn ? 0x0fbf : 0x0fb7, r, base, index, disp); break;
	case 4: x_op_m(b, sgn, sgn ? 0x63 : 0x8b, r, base, index, disp); break;
	default: x_op_m(b, 1, 0x8b, r, base, index, disp); break;
	}
}

/* Stores the low `size` bytes of r to [base + index + disp]. */
static inline void x_store_idx(struct xbuf *b, int r, int base, int index, int32_t disp,
			       unsigned size)
{
	if (size == 2)
		xb(b, 0x66);
	if (size == 1) {
		x_rex(b, 0, r, index, base, r >= 4 && r < 8);
		xb(b, 0x88);
		x_mem(b, r, base, index, disp);
		return;
	}
	x_op_m(b, size == 8, 0x89, r, base, index, disp);
}

/* Jumps: return the position of the rel32 to patch with x_patch. */
static inline uint32_t x_jcc(struct xbuf *b, int cc)
{
	xb(b, 0x0f);
	xb(b, (uint8_t)(0x80 + cc));
	x32(b, 0);
	return b->len - 4;
}
static inline uint32_t x_call_rel(struct xbuf *b)
{
	xb(b, 0xe8);
	x32(b, 0);
	return b->len - 4;
}
static inline uint32_t x_jmp(struct xbuf *b)
{
	xb(b, 0xe9);
	x32(b, 0);
	return b->len - 4;
}
/* Points the rel32 at `at` to buffer position `target`. */
static inline void x_patch(struct xbuf *b, uint32_t at, uint32_t target)
{
	if (at + 4 > b->cap)
		return;
	uint32_t rel = target - (at + 4);
	for (int i = 0; i < 4; i++)
		b->p[at + i] = (uint8_t)(rel >> (8 * i));
}

/* call [base + disp] */
static inline void x_call_m(struct xbuf *b, int base, int32_t disp)
{
	x_op_m(b, 0, 0xff, 2, base, -1, disp);
}

static inline void x_push(struct xbuf *b, int r)
{
	x_rex(b, 0, 0, 0, r, 0);
	xb(b, (uint8_t)(0x50 + (r & 7)));
}
static inline void x_pop(struct xbuf *b, int r)
{
	x_rex(b, 0, 0, 0, r, 0);
	xb(b, (uint8_t)(0x58 + (r & 7)));
}
static inline void x_ret(struct xbuf *b)
{
	xb(b, 0xc3);
}
static inline void x_mfence(struct xbuf *b)
{
	xb(b, 0x0f);
	xb(b, 0xae);
	xb(b, 0xf0);
}
/* Scalar SSE with a mandatory prefix (0x66, 0xf2): op xmm`x`, [base + disp]
 * (xmm0-xmm7 only). */
static inline void x_sse_m(struct xbuf *b, uint8_t prefix, unsigned op, int x, int base,
			   int32_t disp)
{
	xb(b, prefix);
	x_op_m(b, 0, op, x, base, -1, disp);
}
/* movq r64, xmm`x` (w), else movd r32, xmm`x` (zero-extends) */
static inline void x_mov_from_xmm(struct xbuf *b, int w, int r, int x)
{
	xb(b, 0x66);
	x_op_r(b, w, 0x0f7e, x, r);
}
/* vfm{add,sub,nmadd,nmsub}231s{s,d} xmm`d`, xmm`v`, [base + disp]: d =
 * v * m + d and its negations (VEX.LIG.66.0F38.W0 for singles, W1 for
 * doubles, opcode B9 BB BD BF; base below r8, d and v below xmm8). */
static inline void x_vfma231_m(struct xbuf *b, int dbl, uint8_t opcode, int d, int v, int base,
			       int32_t disp)
{
	xb(b, 0xc4);
	xb(b, 0xe2);						/* ~R ~X ~B set, map 0F38 */
	xb(b, (uint8_t)((dbl ? 0x81 : 0x01) | (~v & 15) << 3)); /* W, ~vvvv, L0, pp 66 */
	xb(b, opcode);
	struct xins i = {.n = 0};
	xi_mem_s(&i, d, base, -1, 0, disp);
	xput(b, &i);
}
/* jmp rsi-style: jmp r64 */
static inline void x_jmp_r(struct xbuf *b, int r)
{
	x_op_r(b, 0, 0xff, 4, r);
}

#endif
