/** @file
 * RV64GC (IMAFDC + Zicsr + Zifencei) decoder. F/D arithmetic decodes to one
 * OP_FPU whose fields fpu_exec reads from the instruction word. Pure functions: no hart state, so
 * the unit tests drive them directly. Compressed instructions are expanded to their 32-bit
 * equivalents first, so one decoder serves both. */
#ifndef SHOAL_DECODE_H
#define SHOAL_DECODE_H

#include <stdint.h>

/* clang-format off */
#define RV_OPS(X) \
	X(ILLEGAL) X(LUI) X(AUIPC) X(JAL) X(JALR) \
	X(BEQ) X(BNE) X(BLT) X(BGE) X(BLTU) X(BGEU) \
	X(LB) X(LH) X(LW) X(LD) X(LBU) X(LHU) X(LWU) X(SB) X(SH) X(SW) X(SD) \
	X(ADDI) X(SLTI) X(SLTIU) X(XORI) X(ORI) X(ANDI) X(SLLI) X(SRLI) X(SRAI) \
	X(ADD) X(SUB) X(SLL) X(SLT) X(SLTU) X(XOR) X(SRL) X(SRA) X(OR) X(AND) \
	X(ADDIW) X(SLLIW) X(SRLIW) X(SRAIW) X(ADDW) X(SUBW) X(SLLW) X(SRLW) X(SRAW) \
	X(MUL) X(MULH) X(MULHSU) X(MULHU) X(DIV) X(DIVU) X(REM) X(REMU) \
	X(MULW) X(DIVW) X(DIVUW) X(REMW) X(REMUW) \
	X(LR_W) X(SC_W) X(AMOSWAP_W) X(AMOADD_W) X(AMOXOR_W) X(AMOAND_W) X(AMOOR_W) \
	X(AMOMIN_W) X(AMOMAX_W) X(AMOMINU_W) X(AMOMAXU_W) \
	X(LR_D) X(SC_D) X(AMOSWAP_D) X(AMOADD_D) X(AMOXOR_D) X(AMOAND_D) X(AMOOR_D) \
	X(AMOMIN_D) X(AMOMAX_D) X(AMOMINU_D) X(AMOMAXU_D) \
	X(FENCE) X(FENCE_I) X(ECALL) X(EBREAK) X(MRET) X(SRET) X(WFI) X(SFENCE_VMA) \
	X(CSRRW) X(CSRRS) X(CSRRC) X(CSRRWI) X(CSRRSI) X(CSRRCI) \
	X(FLW) X(FLD) X(FSW) X(FSD) X(FPU) \
	X(FALLTHROUGH)
/* clang-format on */

/** Decoded operations, one per RV_OPS entry. */
enum rv_op {
#define RV_ENUM(n) OP_##n,
	RV_OPS(RV_ENUM)
#undef RV_ENUM
	    RV_OP_COUNT
};

/** Jumps and branches: JAL, JALR, BEQ..BGEU (contiguous in RV_OPS). */
static inline int rv_op_is_jump(unsigned op)
{
	return op >= OP_JAL && op <= OP_BGEU;
}

/** Zihintpause's PAUSE: a FENCE with predecessor W and no successor. */
#define RV_PAUSE 0x0100000fu

/** One decoded instruction. For CSR ops `imm` is the CSR number and, for the
 * immediate forms, rs1 holds the 5-bit zimm. */
struct rv_insn {
	uint16_t op; /* enum rv_op */
	uint8_t rd, rs1, rs2;
	uint8_t len; /* 2 or 4 */
	int64_t imm;
	uint32_t raw; /* the instruction bits as fetched (16 or 32 bits) */
};

/** Expands a 16-bit compressed instruction (RV64C) to the 32-bit instruction
 * it stands for. Returns 0 for a reserved or illegal encoding (including the
 * all-zero halfword) and for encodings that need F/D. */
uint32_t rvc_expand(uint16_t c);

/** Decodes the instruction whose low bits are in `bits` (a 16-bit one if
 * bits[1:0] != 3). Always fills `out`; unknown encodings give OP_ILLEGAL. */
void rv_decode(uint32_t bits, struct rv_insn *out);

/** The name of an op, for tests and traces. */
const char *rv_op_name(unsigned op);

#endif
