/* Decoder, compressed expansion and ALU edge cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../cpu-worker/alu.h"
#include "../../cpu-worker/decode.h"

static struct rv_insn dec(uint32_t w)
{
	struct rv_insn d;
	rv_decode(w, &d);
	return d;
}

static void test_base_formats(void **state)
{
	(void)state;
	struct rv_insn d = dec(0x00a58593); /* addi a1, a1, 10 */
	assert_int_equal(d.op, OP_ADDI);
	assert_int_equal(d.rd, 11);
	assert_int_equal(d.rs1, 11);
	assert_int_equal(d.imm, 10);
	assert_int_equal(d.len, 4);
	d = dec(0xfff00513); /* addi a0, zero, -1 */
	assert_int_equal(d.imm, -1);
	d = dec(0x800002b7); /* lui t0, 0x80000: sign-extended on RV64 */
	assert_int_equal(d.op, OP_LUI);
	assert_int_equal((uint64_t)d.imm, 0xffffffff80000000ull);
	d = dec(0xfe5ff06f); /* jal zero, -28 */
	assert_int_equal(d.op, OP_JAL);
	assert_int_equal(d.imm, -28);
	d = dec(0xfe0718e3); /* bnez a4, -16 */
	assert_int_equal(d.op, OP_BNE);
	assert_int_equal(d.imm, -16);
	d = dec(0x00b53423); /* sd a1, 8(a0) */
	assert_int_equal(d.op, OP_SD);
	assert_int_equal(d.imm, 8);
	assert_int_equal(d.rs2, 11);
	d = dec(0xfeb53c23); /* sd a1, -8(a0) */
	assert_int_equal(d.imm, -8);
}

static void test_shifts_and_reserved(void **state)
{
	(void)state;
	assert_int_equal(dec(0x03f51513).op, OP_SLLI); /* slli a0, a0, 63 */
	assert_int_equal(dec(0x03f51513).imm, 63);
	assert_int_equal(dec(0x43f55513).op, OP_SRAI);
	assert_int_equal(dec(0x43f55513).imm, 63);
	assert_int_equal(dec(0x0205151b).op, OP_ILLEGAL); /* slliw with shamt[5] set */
	assert_int_equal(dec(0x01f5151b).op, OP_SLLIW);
	assert_int_equal(dec(0x4015551b).op, OP_SRAIW);
	assert_int_equal(dec(0x80b50533).op, OP_ILLEGAL); /* add with a bad funct7 */
	assert_int_equal(dec(0x02b50533).op, OP_MUL);
	assert_int_equal(dec(0x02b5453b).op, OP_DIVW);
	assert_int_equal(dec(0xffffffff).op, OP_ILLEGAL);
	assert_int_equal(dec(0x00000000).op, OP_ILLEGAL);
	assert_int_equal(dec(0x00002007).op, OP_FLW);	  /* flw f0, 0(x0) */
	assert_int_equal(dec(0x00004007).op, OP_ILLEGAL); /* load-fp with width 4 */
	assert_int_equal(dec(0x02b57553).op, OP_FPU);	  /* fadd.d: fields for fpu_exec */
}

static void test_system(void **state)
{
	(void)state;
	assert_int_equal(dec(0x00000073).op, OP_ECALL);
	assert_int_equal(dec(0x00100073).op, OP_EBREAK);
	assert_int_equal(dec(0x30200073).op, OP_MRET);
	assert_int_equal(dec(0x10200073).op, OP_SRET);
	assert_int_equal(dec(0x10500073).op, OP_WFI);
	assert_int_equal(dec(0x12000073).op, OP_SFENCE_VMA);
	assert_int_equal(dec(0x0000100f).op, OP_FENCE_I);
	struct rv_insn d = dec(0xf1402573); /* csrr a0, mhartid */
	assert_int_equal(d.op, OP_CSRRS);
	assert_int_equal(d.imm, 0xf14);
	d = dec(0x3007d073); /* csrwi mstatus, 15 */
	assert_int_equal(d.op, OP_CSRRWI);
	assert_int_equal(d.rs1, 15);
	assert_int_equal(dec(0x00004073).op, OP_ILLEGAL); /* funct3 4 */
}

static void test_atomics(void **state)
{
	(void)state;
	assert_int_equal(dec(0x100526af).op, OP_LR_W);
	assert_int_equal(dec(0x10b526af).op, OP_ILLEGAL); /* lr with rs2 != 0 */
	assert_int_equal(dec(0x18b536af).op, OP_SC_D);
	assert_int_equal(dec(0x00b536af).op, OP_AMOADD_D);
	assert_int_equal(dec(0xe0b526af).op, OP_AMOMAXU_W);
	assert_int_equal(dec(0x00b516af).op, OP_ILLEGAL); /* funct3 1 */
}

static void test_compressed(void **state)
{
	(void)state;
	assert_int_equal(rvc_expand(0x0000), 0);	  /* all-zero is illegal */
	assert_int_equal(rvc_expand(0x0001), 0x00000013); /* c.nop = addi x0,x0,0 */
	struct rv_insn d = dec(0x1141);			  /* c.addi sp, -16 */
	assert_int_equal(d.op, OP_ADDI);
	assert_int_equal(d.rd, 2);
	assert_int_equal(d.imm, -16);
	assert_int_equal(d.len, 2);
	d = dec(0x557d); /* c.li a0, -1 */
	assert_int_equal(d.op, OP_ADDI);
	assert_int_equal(d.rs1, 0);
	assert_int_equal(d.imm, -1);
	d = dec(0x8082); /* c.jr ra = ret */
	assert_int_equal(d.op, OP_JALR);
	assert_int_equal(d.rd, 0);
	assert_int_equal(d.rs1, 1);
	d = dec(0x9002); /* c.ebreak */
	assert_int_equal(d.op, OP_EBREAK);
	d = dec(0x6582); /* c.ldsp a1, 0(sp) */
	assert_int_equal(d.op, OP_LD);
	assert_int_equal(d.rd, 11);
	assert_int_equal(d.rs1, 2);
	d = dec(0xe02e); /* c.sdsp a1, 0(sp) */
	assert_int_equal(d.op, OP_SD);
	assert_int_equal(d.rs2, 11);
	d = dec(0x0800); /* c.addi4spn s0, sp, 16 */
	assert_int_equal(d.op, OP_ADDI);
	assert_int_equal(d.rd, 8);
	assert_int_equal(d.imm, 16);
	d = dec(0x7101); /* c.addi16sp sp, -512 */
	assert_int_equal(d.op, OP_ADDI);
	assert_int_equal(d.imm, -512);
	d = dec(0xbfed); /* c.j -6 */
	assert_int_equal(d.op, OP_JAL);
	assert_int_equal(d.imm, -6);
	d = dec(0xdd7d); /* c.beqz a0, -2 */
	assert_int_equal(d.op, OP_BEQ);
	assert_int_equal(d.imm, -2);
	d = dec(0x9d19); /* c.subw a0, a4 */
	assert_int_equal(d.op, OP_SUBW);
	d = dec(0x9d39); /* c.addw a0, a4 */
	assert_int_equal(d.op, OP_ADDW);
	assert_int_equal(rvc_expand(0x9d59), 0);	  /* reserved in the c.subw group */
	assert_int_equal(rvc_expand(0x2000), 0x00043407); /* c.fld f8, 0(s0) */
	assert_int_equal(rvc_expand(0xbc22), 0x02813c27); /* c.fsdsp fs0, 56(sp) */
	assert_int_equal(rvc_expand(0x3462), 0x03813407); /* c.fldsp fs0, 56(sp) */
	assert_int_equal(rvc_expand(0x6501), 0);	  /* c.lui with imm 0 is reserved */
	assert_int_equal(rvc_expand(0x4002), 0);	  /* c.lwsp with rd 0 is reserved */
	assert_int_equal(rvc_expand(0x2001), 0);	  /* c.addiw with rd 0 is reserved */
	d = dec(0x9532);				  /* c.add a0, a2 */
	assert_int_equal(d.op, OP_ADD);
	assert_int_equal(d.rs1, 10);
	assert_int_equal(d.rs2, 12);
	d = dec(0x8532); /* c.mv a0, a2 */
	assert_int_equal(d.op, OP_ADD);
	assert_int_equal(d.rs1, 0);
	d = dec(0x8105); /* c.srli a0, 1 */
	assert_int_equal(d.op, OP_SRLI);
	assert_int_equal(d.imm, 1);
	d = dec(0x9101); /* c.srli a0, 32 */
	assert_int_equal(d.imm, 32);
}

static void test_alu_edges(void **state)
{
	(void)state;
	const uint64_t MIN = 0x8000000000000000ull, M1 = ~0ull;
	assert_int_equal(alu_div(7, 0), M1);
	assert_int_equal(alu_divu(7, 0), M1);
	assert_int_equal(alu_rem(7, 0), 7);
	assert_int_equal(alu_remu(7, 0), 7);
	assert_int_equal(alu_div(MIN, M1), MIN);
	assert_int_equal(alu_rem(MIN, M1), 0);
	assert_int_equal(alu_div((uint64_t)-7, 2), (uint64_t)-3);
	assert_int_equal(alu_rem((uint64_t)-7, 2), (uint64_t)-1);
	assert_int_equal(alu_divw(0x80000000, M1), 0xffffffff80000000ull);
	assert_int_equal(alu_remw(0x80000000, M1), 0);
	assert_int_equal(alu_divw(5, 0), M1);
	assert_int_equal(alu_divuw(5, 0), M1);
	assert_int_equal(alu_remw(0x180000000ull, 0), 0xffffffff80000000ull);
	assert_int_equal(alu_remuw(0x1ffffffffull, 0), M1);
	assert_int_equal(alu_divuw(0xffffffff, 1), M1);
	assert_int_equal(alu_mulh(M1, M1), 0);
	assert_int_equal(alu_mulhu(M1, M1), M1 - 1);
	assert_int_equal(alu_mulhsu(M1, M1), M1);
	assert_int_equal(alu_mulh(MIN, MIN), 0x4000000000000000ull);
	assert_int_equal(alu_sll(1, 64), 1); /* only 6 bits of the amount count */
	assert_int_equal(alu_sll(1, 63), MIN);
	assert_int_equal(alu_sra(MIN, 63), M1);
	assert_int_equal(alu_srl(MIN, 63), 1);
	assert_int_equal(alu_sllw(1, 31), 0xffffffff80000000ull);
	assert_int_equal(alu_sllw(1, 32), 1); /* only 5 bits count */
	assert_int_equal(alu_srlw(0xffffffff00000000ull | 0x80000000, 31), 1);
	assert_int_equal(alu_srlw(0x80000000, 0), 0xffffffff80000000ull);
	assert_int_equal(alu_sraw(0x80000000, 31), M1);
	assert_int_equal(sx32(0x7fffffff + 1ull), 0xffffffff80000000ull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base_formats), cmocka_unit_test(test_shifts_and_reserved),
	    cmocka_unit_test(test_system),	 cmocka_unit_test(test_atomics),
	    cmocka_unit_test(test_compressed),	 cmocka_unit_test(test_alu_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
