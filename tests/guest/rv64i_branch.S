/* Branches (taken and not), JAL/JALR link values, LUI and AUIPC. */
#include "isa.h"
	RVTEST_BEGIN
	TEST_BR_TAKEN(1, beq, 5, 5)
	TEST_BR_NOT(2, beq, 5, 6)
	TEST_BR_TAKEN(3, bne, 5, 6)
	TEST_BR_NOT(4, bne, -1, -1)
	TEST_BR_TAKEN(5, blt, -1, 0)
	TEST_BR_NOT(6, blt, 0, -1)
	TEST_BR_NOT(7, blt, 3, 3)
	TEST_BR_TAKEN(8, bge, 0, -1)
	TEST_BR_TAKEN(9, bge, 3, 3)
	TEST_BR_NOT(10, bge, -2, -1)
	TEST_BR_TAKEN(11, bltu, 0, -1)
	TEST_BR_NOT(12, bltu, -1, 0)
	TEST_BR_TAKEN(13, bgeu, -1, 0)
	TEST_BR_NOT(14, bgeu, 0, 1)
	TEST_BR_TAKEN(15, bgeu, 0x8000000000000000, 0x7fffffffffffffff)
	TEST_BR_TAKEN(16, blt, 0x8000000000000000, 0x7fffffffffffffff)
	/* x0 as an operand (translated code tests the other one against 0) */
	TEST_BR0_TAKEN(30, blt, 1, 5)
	TEST_BR0_NOT(31, blt, 1, -5)
	TEST_BR0_NOT(32, blt, 1, 0)
	TEST_BR0_TAKEN(33, bge, 1, -5)
	TEST_BR0_TAKEN(34, bge, 1, 0)
	TEST_BR0_NOT(35, bge, 1, 5)
	TEST_BR0_TAKEN(36, bltu, 1, 1)
	TEST_BR0_NOT(37, bltu, 1, 0)
	TEST_BR0_TAKEN(38, bgeu, 1, 0)
	TEST_BR0_NOT(39, bgeu, 1, -1)
	TEST_BR0_TAKEN(40, beq, 1, 0)
	TEST_BR0_NOT(41, beq, 1, 3)
	TEST_BR0_TAKEN(42, bne, 1, -3)
	TEST_BR0_NOT(43, bne, 1, 0)
	TEST_BR0_TAKEN(44, blt, 0, -5)
	TEST_BR0_NOT(45, blt, 0, 0)
	TEST_BR0_TAKEN(46, bge, 0, 5)
	TEST_BR0_NOT(47, bge, 0, -1)
	TEST_BR0_NOT(48, bltu, 0, -1)
	TEST_BR0_TAKEN(49, bgeu, 0, -1)
test_20: li TESTNUM, 20
	jal ra, 1f
2:	j fail
1:	la t2, 2b
	bne ra, t2, fail
test_21: li TESTNUM, 21
	la t0, 3f
	addi t0, t0, 1          /* jalr clears bit 0 */
	jalr t1, 0(t0)
4:	j fail
3:	la t2, 4b
	bne t1, t2, fail
test_22: li TESTNUM, 22
	la t0, 5f
	jalr t0, 0(t0)          /* rd == rs1: target read before the link write */
6:	j fail
5:	la t2, 6b
	bne t0, t2, fail
test_23: li TESTNUM, 23
	lui a4, 0x80000
	li t2, 0xffffffff80000000
	bne a4, t2, fail
test_24: li TESTNUM, 24
7:	auipc a4, 0
	la t2, 7b
	bne a4, t2, fail
test_25: li TESTNUM, 25
	/* a loop across many blocks */
	li a1, 1000
	li a4, 0
8:	addi a4, a4, 3
	addi a1, a1, -1
	bnez a1, 8b
	li t2, 3000
	bne a4, t2, fail
	j pass
	RVTEST_END
