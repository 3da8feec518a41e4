/* A extension on one hart: every AMO's result and memory effect, LR/SC
 * success and failure, and the alignment traps. */
#include "isa.h"
#define TEST_AMO(n, inst, old, src, new_) \
test_##n: li TESTNUM, n; la a1, amo; li a2, old; sd a2, 0(a1); li a3, src; \
	inst a4, a3, (a1); li t2, old; bne a4, t2, fail; ld a5, 0(a1); li t2, new_; bne a5, t2, fail;
#define TEST_AMOW(n, inst, old, src, new_, ret) \
test_##n: li TESTNUM, n; la a1, amo; li a2, old; sd a2, 0(a1); li a3, src; \
	inst a4, a3, (a1); li t2, ret; bne a4, t2, fail; ld a5, 0(a1); li t2, new_; bne a5, t2, fail;
	RVTEST_BEGIN
	TEST_AMO(1, amoswap.d, 5, 7, 7)
	TEST_AMO(2, amoadd.d, -1, 2, 1)
	TEST_AMO(3, amoxor.d, 0xff, 0x0f, 0xf0)
	TEST_AMO(4, amoand.d, 0xff, 0x0f, 0x0f)
	TEST_AMO(5, amoor.d, 0xf0, 0x0f, 0xff)
	TEST_AMO(6, amomin.d, -5, 3, -5)
	TEST_AMO(7, amomax.d, -5, 3, 3)
	TEST_AMO(8, amominu.d, -5, 3, 3)
	TEST_AMO(9, amomaxu.d, -5, 3, -5)
	/* word AMOs sign-extend the old value and leave the upper word alone */
	TEST_AMOW(10, amoadd.w, 0x7fffffff, 1, 0x80000000, 0x7fffffff)
	TEST_AMOW(11, amoswap.w, 0x1234567880000000, 5, 0x1234567800000005, 0xffffffff80000000)
	TEST_AMOW(12, amomin.w, 0x80000000, 1, 0x80000000, 0xffffffff80000000)
	TEST_AMOW(13, amominu.w, 0x80000000, 1, 1, 0xffffffff80000000)
	TEST_AMOW(14, amomax.w, 0x80000000, 1, 1, 0xffffffff80000000)
	TEST_AMOW(15, amomaxu.w, 0x80000000, 1, 0x80000000, 0xffffffff80000000)
	TEST_AMOW(16, amoxor.w, 0xffffffff, 1, 0xfffffffe, 0xffffffffffffffff)
	TEST_AMOW(17, amoand.w, 0xf0f0f0f0, 0xff, 0xf0, 0xfffffffff0f0f0f0)
	TEST_AMOW(18, amoor.w, 0x0, 0x80000000, 0x80000000, 0)
test_20: li TESTNUM, 20
	la a1, amo
	li a2, 41
	sd a2, 0(a1)
	lr.d a4, (a1)
	addi a4, a4, 1
	sc.d a5, a4, (a1)
	bnez a5, fail
	ld a6, 0(a1)
	li t2, 42
	bne a6, t2, fail
test_21: li TESTNUM, 21
	/* SC without a reservation fails and does not store */
	sc.d a5, zero, (a1)
	beqz a5, fail
	ld a6, 0(a1)
	li t2, 42
	bne a6, t2, fail
test_22: li TESTNUM, 22
	/* SC to another address than the LR fails */
	lr.w a4, (a1)
	addi a2, a1, 8
	sc.w a5, a4, (a2)
	beqz a5, fail
test_23: li TESTNUM, 23
	lr.w a4, (a1)
	li t2, 42
	bne a4, t2, fail
	li a3, -1
	sc.w a5, a3, (a1)
	bnez a5, fail
	lw a6, 0(a1)
	li t2, -1
	bne a6, t2, fail
	/* misaligned atomics trap: AMO/SC as store, LR as load */
	TEST_TRAP(30, 6, la a1, amo; addi a1, a1, 1; amoadd.d a4, a3, (a1))
	TEST_TRAP(31, 6, la a1, amo; addi a1, a1, 2; amoswap.w a4, a3, (a1))
	TEST_TRAP(32, 4, la a1, amo; addi a1, a1, 4; lr.d a4, (a1))
	TEST_TRAP(33, 6, la a1, amo; addi a1, a1, 1; sc.w a4, a3, (a1))
	/* atomics outside RAM are access faults */
	TEST_TRAP(34, 7, li a1, 0x10000000; amoadd.w a4, a3, (a1))
	j pass
	RVTEST_END
	.data
	.align 4
amo:	.dword 0, 0
