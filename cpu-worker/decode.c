#include "decode.h"

static const char *const op_names[] = {
#define RV_NAME(n) #n,
    RV_OPS(RV_NAME)
#undef RV_NAME
};

const char *rv_op_name(unsigned op)
{
	return op < RV_OP_COUNT ? op_names[op] : "?";
}

/* bits [hi:lo] of x */
static inline uint32_t bits(uint32_t x, int hi, int lo)
{
	return (x >> lo) & ((1u << (hi - lo + 1)) - 1);
}

static inline int64_t sext(uint64_t x, int width)
{
	return (int64_t)(x << (64 - width)) >> (64 - width);
}

/* 32-bit encoders used by the compressed expansion. */
static uint32_t enc_i(uint32_t opc, uint32_t f3, uint32_t rd, uint32_t rs1, int32_t imm)
{
	return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc;
}

static uint32_t enc_s(uint32_t opc, uint32_t f3, uint32_t rs1, uint32_t rs2, int32_t imm)
{
	uint32_t u = (uint32_t)imm;
	return bits(u, 11, 5) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | bits(u, 4, 0) << 7 | opc;
}

static uint32_t enc_b(uint32_t f3, uint32_t rs1, uint32_t rs2, int32_t imm)
{
	uint32_t u = (uint32_t)imm;
	return bits(u, 12, 12) << 31 | bits(u, 10, 5) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 |
	       bits(u, 4, 1) << 8 | bits(u, 11, 11) << 7 | 0x63;
}

static uint32_t enc_j(uint32_t rd, int32_t imm)
{
	uint32_t u = (uint32_t)imm;
	return bits(u, 20, 20) << 31 | bits(u, 10, 1) << 21 | bits(u, 11, 11) << 20 |
	       bits(u, 19, 12) << 12 | rd << 7 | 0x6f;
}

static uint32_t enc_r(uint32_t opc, uint32_t f3, uint32_t f7, uint32_t rd, uint32_t rs1,
		      uint32_t rs2)
{
	return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc;
}

uint32_t rvc_expand(uint16_t c)
{
	uint32_t rd = bits(c, 11, 7), rs2 = bits(c, 6, 2);
	uint32_t rdp = bits(c, 4, 2) + 8, rs1p = bits(c, 9, 7) + 8;
	uint32_t f3 = bits(c, 15, 13);
	int32_t imm6 = (int32_t)sext(bits(c, 12, 12) << 5 | bits(c, 6, 2), 6);
	switch (bits(c, 1, 0)) {
	case 0:
		switch (f3) {
		case 0: { /* C.ADDI4SPN */
			uint32_t u = bits(c, 12, 11) << 4 | bits(c, 10, 7) << 6 |
				     bits(c, 6, 6) << 2 | bits(c, 5, 5) << 3;
			return u ? enc_i(0x13, 0, rdp, 2, (int32_t)u) : 0;
		}
		case 2: /* C.LW */
			return enc_i(0x03, 2, rdp, rs1p,
				     (int32_t)(bits(c, 12, 10) << 3 | bits(c, 6, 6) << 2 |
					       bits(c, 5, 5) << 6));
		case 3: /* C.LD */
			return enc_i(0x03, 3, rdp, rs1p,
				     (int32_t)(bits(c, 12, 10) << 3 | bits(c, 6, 5) << 6));
		case 6: /* C.SW */
			return enc_s(0x23, 2, rs1p, rdp,
				     (int32_t)(bits(c, 12, 10) << 3 | bits(c, 6, 6) << 2 |
					       bits(c, 5, 5) << 6));
		case 7: /* C.SD */
			return enc_s(0x23, 3, rs1p, rdp,
				     (int32_t)(bits(c, 12, 10) << 3 | bits(c, 6, 5) << 6));
		case 1: /* C.FLD */
			return enc_i(0x07, 3, rdp, rs1p,
				     (int32_t)(bits(c, 12, 10) << 3 | bits(c, 6, 5) << 6));
		case 5: /* C.FSD */
			return enc_s(0x27, 3, rs1p, rdp,
				     (int32_t)(bits(c, 12, 10) << 3 | bits(c, 6, 5) << 6));
		default: /* 4 is reserved */ return 0;
		}
	case 1:
		switch (f3) {
		case 0: /* C.ADDI, C.NOP */ return enc_i(0x13, 0, rd, rd, imm6);
		case 1: /* C.ADDIW */ return rd ? enc_i(0x1b, 0, rd, rd, imm6) : 0;
		case 2: /* C.LI */ return enc_i(0x13, 0, rd, 0, imm6);
		case 3:
			if (rd == 2) { /* C.ADDI16SP */
				int32_t imm = (int32_t)sext(
				    bits(c, 12, 12) << 9 | bits(c, 6, 6) << 4 | bits(c, 5, 5) << 6 |
					bits(c, 4, 3) << 7 | bits(c, 2, 2) << 5,
				    10);
				return imm ? enc_i(0x13, 0, 2, 2, imm) : 0;
			}
			/* C.LUI */
			if (imm6 == 0)
				return 0;
			return ((uint32_t)imm6 << 12) | rd << 7 | 0x37;
		case 4:
			switch (bits(c, 11, 10)) {
			case 0: /* C.SRLI */
				return enc_i(0x13, 5, rs1p, rs1p,
					     (int32_t)(bits(c, 12, 12) << 5 | rs2));
			case 1: /* C.SRAI */
				return enc_i(0x13, 5, rs1p, rs1p,
					     (int32_t)(0x400 | bits(c, 12, 12) << 5 | rs2));
			case 2: /* C.ANDI */ return enc_i(0x13, 7, rs1p, rs1p, imm6);
			default: {
				static const uint8_t f3s[4] = {0, 4, 6, 7};
				uint32_t k = bits(c, 6, 5);
				if (!bits(c, 12, 12)) /* C.SUB C.XOR C.OR C.AND */
					return enc_r(0x33, f3s[k], k == 0 ? 0x20 : 0, rs1p, rs1p,
						     rdp);
				if (k == 0) /* C.SUBW */
					return enc_r(0x3b, 0, 0x20, rs1p, rs1p, rdp);
				if (k == 1) /* C.ADDW */
					return enc_r(0x3b, 0, 0, rs1p, rs1p, rdp);
				return 0;
			}
			}
		case 5: { /* C.J */
			int32_t imm = (int32_t)sext(bits(c, 12, 12) << 11 | bits(c, 11, 11) << 4 |
							bits(c, 10, 9) << 8 | bits(c, 8, 8) << 10 |
							bits(c, 7, 7) << 6 | bits(c, 6, 6) << 7 |
							bits(c, 5, 3) << 1 | bits(c, 2, 2) << 5,
						    12);
			return enc_j(0, imm);
		}
		default: { /* C.BEQZ, C.BNEZ */
			int32_t imm = (int32_t)sext(bits(c, 12, 12) << 8 | bits(c, 11, 10) << 3 |
							bits(c, 6, 5) << 6 | bits(c, 4, 3) << 1 |
							bits(c, 2, 2) << 5,
						    9);
			return enc_b(f3 == 6 ? 0 : 1, rs1p, 0, imm);
		}
		}
	case 2:
		switch (f3) {
		case 0: /* C.SLLI */
			return enc_i(0x13, 1, rd, rd, (int32_t)(bits(c, 12, 12) << 5 | rs2));
		case 2: /* C.LWSP */
			if (!rd)
				return 0;
			return enc_i(0x03, 2, rd, 2,
				     (int32_t)(bits(c, 12, 12) << 5 | bits(c, 6, 4) << 2 |
					       bits(c, 3, 2) << 6));
		case 3: /* C.LDSP */
			if (!rd)
				return 0;
			return enc_i(0x03, 3, rd, 2,
				     (int32_t)(bits(c, 12, 12) << 5 | bits(c, 6, 5) << 3 |
					       bits(c, 4, 2) << 6));
		case 4:
			if (!bits(c, 12, 12)) {
				if (rs2 == 0) /* C.JR */
					return rd ? enc_i(0x67, 0, 0, rd, 0) : 0;
				return enc_r(0x33, 0, 0, rd, 0, rs2); /* C.MV */
			}
			if (rs2 == 0) {
				if (rd == 0)
					return 0x00100073;	 /* C.EBREAK */
				return enc_i(0x67, 0, 1, rd, 0); /* C.JALR */
			}
			return enc_r(0x33, 0, 0, rd, rd, rs2); /* C.ADD */
		case 6:					       /* C.SWSP */
			return enc_s(0x23, 2, 2, rs2,
				     (int32_t)(bits(c, 12, 9) << 2 | bits(c, 8, 7) << 6));
		case 7: /* C.SDSP */
			return enc_s(0x23, 3, 2, rs2,
				     (int32_t)(bits(c, 12, 10) << 3 | bits(c, 9, 7) << 6));
		case 1: /* C.FLDSP */
			return enc_i(0x07, 3, rd, 2,
				     (int32_t)(bits(c, 12, 12) << 5 | bits(c, 6, 5) << 3 |
					       bits(c, 4, 2) << 6));
		case 5: /* C.FSDSP */
			return enc_s(0x27, 3, 2, rs2,
				     (int32_t)(bits(c, 12, 10) << 3 | bits(c, 9, 7) << 6));
		default: return 0;
		}
	}
	return 0;
}

static void decode32(uint32_t w, struct rv_insn *o)
{
	uint32_t opc = bits(w, 6, 0), f3 = bits(w, 14, 12), f7 = bits(w, 31, 25);
	o->rd = (uint8_t)bits(w, 11, 7);
	o->rs1 = (uint8_t)bits(w, 19, 15);
	o->rs2 = (uint8_t)bits(w, 24, 20);
	int64_t imm_i = sext(w >> 20, 12);
	o->op = OP_ILLEGAL;
	switch (opc) {
	case 0x37:
		o->op = OP_LUI;
		o->imm = (int32_t)(w & 0xfffff000u);
		return;
	case 0x17:
		o->op = OP_AUIPC;
		o->imm = (int32_t)(w & 0xfffff000u);
		return;
	case 0x6f:
		o->op = OP_JAL;
		o->imm = sext(bits(w, 31, 31) << 20 | bits(w, 19, 12) << 12 |
				  bits(w, 20, 20) << 11 | bits(w, 30, 21) << 1,
			      21);
		return;
	case 0x67:
		if (f3 == 0) {
			o->op = OP_JALR;
			o->imm = imm_i;
		}
		return;
	case 0x63: {
		static const uint16_t b[8] = {OP_BEQ, OP_BNE, OP_ILLEGAL, OP_ILLEGAL,
					      OP_BLT, OP_BGE, OP_BLTU,	  OP_BGEU};
		o->op = b[f3];
		o->imm = sext(bits(w, 31, 31) << 12 | bits(w, 7, 7) << 11 | bits(w, 30, 25) << 5 |
				  bits(w, 11, 8) << 1,
			      13);
		return;
	}
	case 0x03: {
		static const uint16_t l[8] = {OP_LB,  OP_LH,  OP_LW,  OP_LD,
					      OP_LBU, OP_LHU, OP_LWU, OP_ILLEGAL};
		o->op = l[f3];
		o->imm = imm_i;
		return;
	}
	case 0x23: {
		static const uint16_t s[8] = {OP_SB,	  OP_SH,      OP_SW,	  OP_SD,
					      OP_ILLEGAL, OP_ILLEGAL, OP_ILLEGAL, OP_ILLEGAL};
		o->op = s[f3];
		o->imm = sext(f7 << 5 | bits(w, 11, 7), 12);
		return;
	}
	case 0x13:
		o->imm = imm_i;
		switch (f3) {
		case 0: o->op = OP_ADDI; return;
		case 2: o->op = OP_SLTI; return;
		case 3: o->op = OP_SLTIU; return;
		case 4: o->op = OP_XORI; return;
		case 6: o->op = OP_ORI; return;
		case 7: o->op = OP_ANDI; return;
		case 1:
			o->imm = bits(w, 25, 20);
			if (bits(w, 31, 26) == 0)
				o->op = OP_SLLI;
			return;
		case 5:
			o->imm = bits(w, 25, 20);
			if (bits(w, 31, 26) == 0)
				o->op = OP_SRLI;
			else if (bits(w, 31, 26) == 0x10)
				o->op = OP_SRAI;
			return;
		}
		return;
	case 0x1b:
		o->imm = imm_i;
		if (f3 == 0) {
			o->op = OP_ADDIW;
		} else if (f3 == 1 && f7 == 0) {
			o->op = OP_SLLIW;
			o->imm = o->rs2;
		} else if (f3 == 5 && (f7 == 0 || f7 == 0x20)) {
			o->op = f7 ? OP_SRAIW : OP_SRLIW;
			o->imm = o->rs2;
		}
		return;
	case 0x33:
		if (f7 == 0) {
			static const uint16_t r[8] = {OP_ADD, OP_SLL, OP_SLT, OP_SLTU,
						      OP_XOR, OP_SRL, OP_OR,  OP_AND};
			o->op = r[f3];
		} else if (f7 == 0x20) {
			if (f3 == 0)
				o->op = OP_SUB;
			else if (f3 == 5)
				o->op = OP_SRA;
		} else if (f7 == 1) {
			static const uint16_t m[8] = {OP_MUL, OP_MULH, OP_MULHSU, OP_MULHU,
						      OP_DIV, OP_DIVU, OP_REM,	  OP_REMU};
			o->op = m[f3];
		}
		return;
	case 0x3b:
		if (f7 == 0) {
			if (f3 == 0)
				o->op = OP_ADDW;
			else if (f3 == 1)
				o->op = OP_SLLW;
			else if (f3 == 5)
				o->op = OP_SRLW;
		} else if (f7 == 0x20) {
			if (f3 == 0)
				o->op = OP_SUBW;
			else if (f3 == 5)
				o->op = OP_SRAW;
		} else if (f7 == 1) {
			static const uint16_t m[8] = {OP_MULW, OP_ILLEGAL, OP_ILLEGAL, OP_ILLEGAL,
						      OP_DIVW, OP_DIVUW,   OP_REMW,    OP_REMUW};
			o->op = m[f3];
		}
		return;
	case 0x2f: {
		if (f3 != 2 && f3 != 3)
			return;
		int d = f3 == 3;
		switch (bits(w, 31, 27)) {
		case 0x02:
			if (o->rs2 == 0)
				o->op = d ? OP_LR_D : OP_LR_W;
			return;
		case 0x03: o->op = d ? OP_SC_D : OP_SC_W; return;
		case 0x01: o->op = d ? OP_AMOSWAP_D : OP_AMOSWAP_W; return;
		case 0x00: o->op = d ? OP_AMOADD_D : OP_AMOADD_W; return;
		case 0x04: o->op = d ? OP_AMOXOR_D : OP_AMOXOR_W; return;
		case 0x0c: o->op = d ? OP_AMOAND_D : OP_AMOAND_W; return;
		case 0x08: o->op = d ? OP_AMOOR_D : OP_AMOOR_W; return;
		case 0x10: o->op = d ? OP_AMOMIN_D : OP_AMOMIN_W; return;
		case 0x14: o->op = d ? OP_AMOMAX_D : OP_AMOMAX_W; return;
		case 0x18: o->op = d ? OP_AMOMINU_D : OP_AMOMINU_W; return;
		case 0x1c: o->op = d ? OP_AMOMAXU_D : OP_AMOMAXU_W; return;
		}
		return;
	}
	case 0x07: /* FLW, FLD */
		o->imm = imm_i;
		if (f3 == 2 || f3 == 3)
			o->op = f3 == 2 ? OP_FLW : OP_FLD;
		return;
	case 0x27: /* FSW, FSD */
		o->imm = sext(f7 << 5 | bits(w, 11, 7), 12);
		if (f3 == 2 || f3 == 3)
			o->op = f3 == 2 ? OP_FSW : OP_FSD;
		return;
	case 0x43:
	case 0x47:
	case 0x4b:
	case 0x4f:
	case 0x53: o->op = OP_FPU; return; /* fields checked by fpu_exec */
	case 0x0f:
		if (f3 == 0)
			o->op = OP_FENCE;
		else if (f3 == 1)
			o->op = OP_FENCE_I;
		return;
	case 0x73:
		o->imm = bits(w, 31, 20);
		switch (f3) {
		case 0:
			if (w == 0x00000073)
				o->op = OP_ECALL;
			else if (w == 0x00100073)
				o->op = OP_EBREAK;
			else if (w == 0x30200073)
				o->op = OP_MRET;
			else if (w == 0x10200073)
				o->op = OP_SRET;
			else if (w == 0x10500073)
				o->op = OP_WFI;
			else if (f7 == 0x09 && o->rd == 0)
				o->op = OP_SFENCE_VMA;
			return;
		case 1: o->op = OP_CSRRW; return;
		case 2: o->op = OP_CSRRS; return;
		case 3: o->op = OP_CSRRC; return;
		case 5: o->op = OP_CSRRWI; return;
		case 6: o->op = OP_CSRRSI; return;
		case 7: o->op = OP_CSRRCI; return;
		}
		return;
	}
}

void rv_decode(uint32_t b, struct rv_insn *out)
{
	out->imm = 0;
	if ((b & 3) != 3) {
		uint16_t c = (uint16_t)b;
		out->raw = c;
		out->len = 2;
		uint32_t w = rvc_expand(c);
		if (!w) {
			out->op = OP_ILLEGAL;
			out->rd = out->rs1 = out->rs2 = 0;
			return;
		}
		decode32(w, out);
		return;
	}
	out->raw = b;
	out->len = 4;
	decode32(b, out);
}
