/* Loads and stores of every width, sign and zero extension, misaligned
 * accesses (done in hardware here, as the spec allows). */
#include "isa.h"
	RVTEST_BEGIN
	TEST_LD(1, lb, 0xffffffffffffff80, 0, d8)
	TEST_LD(2, lbu, 0x80, 0, d8)
	TEST_LD(3, lh, 0xffffffffffff8001, 0, d16)
	TEST_LD(4, lhu, 0x8001, 0, d16)
	TEST_LD(5, lw, 0xffffffff80000002, 0, d32)
	TEST_LD(6, lwu, 0x80000002, 0, d32)
	TEST_LD(7, ld, 0x8877665544332211, 0, d64)
	TEST_LD(8, lb, 0x11, -8, d16)
	TEST_LD(9, lw, 0x44332211, 0, d64)
	TEST_LD(10, lw, 0xffffffff88776655, 4, d64)
	/* misaligned loads */
	TEST_LD(11, lh, 0x3322, 1, d64)
	TEST_LD(12, lw, 0x55443322, 1, d64)
	TEST_LD(13, ld, 0x0188776655443322, 1, d64)
	TEST_LD(14, lwu, 0x88776655, 4, d64)
	/* stores */
	TEST_ST(20, sb, lbu, 0xab, 0, buf)
	TEST_ST(21, sh, lhu, 0xbeef, 2, buf)
	TEST_ST(22, sw, lwu, 0xdeadbeef, 4, buf)
	TEST_ST(23, sd, ld, 0x0123456789abcdef, 8, buf)
	TEST_ST(24, sd, ld, 0x1122334455667788, 17, buf)
	TEST_ST(25, sw, lwu, 0x99aabbcc, 27, buf)
	TEST_ST(26, sh, lhu, 0x7788, 33, buf)
	/* a store of a narrow width leaves the neighbours alone */
test_27: li TESTNUM, 27
	la a1, buf
	li a2, -1
	sd a2, 40(a1)
	sb zero, 43(a1)
	ld a4, 40(a1)
	li t2, 0xffffffff00ffffff
	bne a4, t2, fail
	/* x0 as destination discards the value but still loads */
test_28: li TESTNUM, 28
	la a1, d64
	ld x0, 0(a1)
	bnez x0, fail
	/* an access outside RAM and devices is an access fault */
	TEST_TRAP(29, 5, li a1, 0x40000000; ld a4, 0(a1))
	TEST_TRAP(30, 7, li a1, 0x40000000; sd a4, 0(a1))
	TEST_EQ(31, s9, 0x40000000)
test_32: li TESTNUM, 32
	/* fences, and Zihintpause's PAUSE (fence w,0) in a hot loop: no trap,
	 * no register changed (the loop runs translated under the JIT) */
	li a1, 0
	li a2, 200
	li a3, 77
1:	fence rw, rw
	.word 0x0100000f /* pause */
	fence w, o
	addi a1, a1, 1
	bne a1, a2, 1b
	li t2, 77
	bne a3, t2, fail
	li t2, 200
	bne a1, t2, fail
	j pass
	RVTEST_END
	.data
	.align 4
	.byte 0x11, 0, 0, 0, 0, 0, 0, 0
d16:	.half 0x8001
	.align 3
d8:	.byte 0x80
	.align 3
d32:	.word 0x80000002
	.align 3
d64:	.dword 0x8877665544332211
	.dword 0x0000000000000001
	.align 4
buf:	.fill 64, 1, 0
