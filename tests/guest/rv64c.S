/* Compressed instructions, written as explicit c.* mnemonics so the
 * assembler cannot pick the 32-bit forms. */
#include "isa.h"
	RVTEST_BEGIN
	.option push
	.option rvc
test_1: li TESTNUM, 1
	c.li a4, -32
	li t2, -32
	bne a4, t2, fail
test_2: li TESTNUM, 2
	c.li a4, 5
	c.addi a4, -6
	li t2, -1
	bne a4, t2, fail
test_3: li TESTNUM, 3
	li a4, 0x7fffffff
	c.addiw a4, 1
	li t2, 0xffffffff80000000
	bne a4, t2, fail
test_4: li TESTNUM, 4
	c.lui a4, 0xfffff
	li t2, 0xfffffffffffff000
	bne a4, t2, fail
test_5: li TESTNUM, 5
	mv t0, sp
	li sp, 0x1000
	c.addi16sp sp, -512
	mv a4, sp
	mv sp, t0
	li t2, 0xe00
	bne a4, t2, fail
test_6: li TESTNUM, 6
	mv t0, sp
	li sp, 0x1000
	c.addi4spn a4, sp, 1020
	mv sp, t0
	li t2, 0x13fc
	bne a4, t2, fail
test_7: li TESTNUM, 7
	li a4, -16
	c.srli a4, 60
	li t2, 15
	bne a4, t2, fail
test_8: li TESTNUM, 8
	li a4, -16
	c.srai a4, 2
	li t2, -4
	bne a4, t2, fail
test_9: li TESTNUM, 9
	li a4, 0xff
	c.andi a4, -16
	li t2, 0xf0
	bne a4, t2, fail
test_10: li TESTNUM, 10
	li a4, 1
	c.slli a4, 63
	li t2, 0x8000000000000000
	bne a4, t2, fail
test_11: li TESTNUM, 11
	li a4, 10
	li a5, 3
	c.sub a4, a5
	li t2, 7
	bne a4, t2, fail
	c.xor a4, a5
	li t2, 4
	bne a4, t2, fail
	c.or a4, a5
	li t2, 7
	bne a4, t2, fail
	c.and a4, a5
	li t2, 3
	bne a4, t2, fail
test_12: li TESTNUM, 12
	li a4, 0x7fffffff
	li a5, 1
	c.addw a4, a5
	li t2, 0xffffffff80000000
	bne a4, t2, fail
	c.subw a4, a5
	li t2, 0x7fffffff
	bne a4, t2, fail
test_13: li TESTNUM, 13
	c.mv a4, a5
	c.add a4, a5
	li t2, 2
	bne a4, t2, fail
test_14: li TESTNUM, 14
	la a1, cbuf
	li a4, -2
	c.sw a4, 4(a1)
	c.lw a5, 4(a1)
	li t2, -2
	bne a5, t2, fail
	c.sd a4, 8(a1)
	c.ld a5, 8(a1)
	bne a5, t2, fail
test_15: li TESTNUM, 15
	mv t0, sp
	la sp, cbuf
	li a4, 0x55
	c.swsp a4, 16(sp)
	c.lwsp a5, 16(sp)
	c.sdsp a4, 24(sp)
	c.ldsp a6, 24(sp)
	mv sp, t0
	li t2, 0x55
	bne a5, t2, fail
	bne a6, t2, fail
test_16: li TESTNUM, 16
	li a4, 0
	c.beqz a4, 1f
	j fail
1:	c.bnez a4, fail
	c.j 2f
	j fail
2:
test_17: li TESTNUM, 17
	la a1, 3f
	c.jalr a1
4:	j fail
3:	la t2, 4b
	bne ra, t2, fail
test_18: li TESTNUM, 18
	la a1, 5f
	c.jr a1
	j fail
5:
	TEST_TRAP(19, 3, c.ebreak)
	/* the all-zero halfword is illegal; mtval holds the bits */
	TEST_TRAP(20, 2, .half 0)
	.option pop
	j pass
	RVTEST_END
	.data
	.align 4
cbuf:	.fill 64, 1, 0
