/* M/U privilege, traps and CSRs: ecall from M and U, ebreak, illegal
 * instructions and CSRs, mret to U, U-mode CSR permissions, counters,
 * mscratch, mepc alignment, misa and mhartid, counter writes, tselect,
 * menvcfg/senvcfg and the Sstc timer. */
#include "isa.h"
	RVTEST_BEGIN
	TEST_TRAP(1, 11, ecall)
	TEST_TRAP(2, 3, ebreak)
	/* ebreak's mtval is 0 or its pc (the spec allows both) */
test_3: li TESTNUM, 3
	beqz s9, 9f
	bne s9, s8, fail
9:
	TEST_TRAP(4, 2, .word 0xffffffff)
	/* an illegal instruction's mtval is 0 or its bits */
test_5: li TESTNUM, 5
	beqz s9, 9f
	li t2, 0xffffffff
	bne s9, t2, fail
9:
	TEST_TRAP(6, 2, csrr a4, 0x7ff)        /* no such CSR */
	TEST_TRAP(7, 2, csrw mhartid, a4)      /* read-only CSR */
test_8: li TESTNUM, 8
	csrr a4, mhartid
	bnez a4, fail
	csrr a4, misa
	srli a5, a4, 62
	li t2, 2
	bne a5, t2, fail                       /* RV64 */
	andi a5, a4, 0x105                     /* A C I */
	li t2, 0x105
	bne a5, t2, fail
test_9: li TESTNUM, 9
	li a4, 0x1234
	csrw mscratch, a4
	csrrw a5, mscratch, zero
	bne a5, a4, fail
	csrr a5, mscratch
	bnez a5, fail
test_10: li TESTNUM, 10
	li a4, 0x80000003
	csrw mepc, a4
	csrr a5, mepc
	li t2, 0x80000002
	bne a5, t2, fail
test_11: li TESTNUM, 11
	csrr a4, minstret
	nop
	nop
	csrr a5, minstret
	sub a5, a5, a4
	li t2, 3
	bne a5, t2, fail
	csrr a4, cycle
	csrr a4, time
	beqz a4, fail
	/* S and U need a PMP entry (with none, they may access nothing) */
	li t0, -1
	csrw pmpaddr0, t0
	li t0, 0x1f                            /* NAPOT over everything, RWX */
	csrw pmpcfg0, t0
	/* mret to U-mode; ecall from U traps with cause 8 */
test_12: li TESTNUM, 12
	li s10, 8
	la s11, 1f
	la t0, user_code
	csrw mepc, t0
	li t0, 0x1800
	csrc mstatus, t0                       /* MPP = U */
	mret
1:	bnez s10, fail
	/* U-mode may not read M-mode CSRs */
test_13: li TESTNUM, 13
	li s10, 2
	la s11, 2f
	la t0, user_csr
	csrw mepc, t0
	li t0, 0x1800
	csrc mstatus, t0
	mret
2:	bnez s10, fail
	/* U-mode reads of cycle trap unless mcounteren allows them */
test_14: li TESTNUM, 14
	csrwi mcounteren, 0
	li s10, 2
	la s11, 3f
	la t0, user_cycle
	csrw mepc, t0
	li t0, 0x1800
	csrc mstatus, t0
	mret
3:	bnez s10, fail
test_15: li TESTNUM, 15
	csrwi mcounteren, 7
	csrwi scounteren, 7
	li s10, 8                               /* now it reads, then ecalls */
	la s11, 4f
	la t0, user_cycle
	csrw mepc, t0
	li t0, 0x1800
	csrc mstatus, t0
	mret
4:	bnez s10, fail
	/* mret in U-mode is illegal */
test_16: li TESTNUM, 16
	li s10, 2
	la s11, 5f
	la t0, user_mret
	csrw mepc, t0
	li t0, 0x1800
	csrc mstatus, t0
	mret
5:	bnez s10, fail
	/* WFI with an interrupt pending and enabled returns at once */
test_17: li TESTNUM, 17
	csrci mstatus, 8                        /* MIE may be 1 after the U-mode round trips */
	li t0, 0x02000000
	li t1, 1
	sw t1, 0(t0)                            /* msip for hart 0 */
	li t1, 8
	csrs mie, t1
	wfi
	csrr a4, mip
	andi a4, a4, 8
	beqz a4, fail
	sw zero, 0(t0)
	csrr a4, mip
	andi a4, a4, 8
	bnez a4, fail
	/* a machine software interrupt is taken when MIE is set, before the
	 * instruction after the write */
test_18: li TESTNUM, 18
	li s10, 0x8000000000000003
	la s11, 6f
	li t1, 1
	sw t1, 0(t0)
	csrsi mstatus, 8
7:	nop
	nop
8:	j 8b
6:	bnez s10, fail
	la t2, 7b                               /* mepc: the instruction after the write */
	bne s8, t2, fail
	sw zero, 0(t0)
	csrci mstatus, 8
	/* a timer interrupt: mtimecmp a little after now; WFI sleeps until it */
test_19: li TESTNUM, 19
	li t0, 0x0200bff8
	ld t1, 0(t0)
	addi t1, t1, 2000                        /* 200 us at 10 MHz */
	li t2, 0x02004000
	sd t1, 0(t2)
	li t1, 0x80
	csrs mie, t1
	wfi
	csrr a4, mip
	andi a4, a4, 0x80
	beqz a4, fail
	li t1, -1
	sd t1, 0(t2)
	csrr a4, mip
	andi a4, a4, 0x80
	bnez a4, fail
	/* a counter write is what the next instruction reads: the writing
	 * instruction's own increment is suppressed */
test_20: li TESTNUM, 20
	csrwi minstret, 0
	csrr a4, minstret
	bnez a4, fail
	li t1, 1000
	csrw mcycle, t1
	csrr a4, mcycle
	bne a4, t1, fail
	/* no debug triggers: tselect reads 0 whatever is written, no trap */
test_21: li TESTNUM, 21
	li t1, 1
	slli t1, t1, 63
	csrw tselect, t1
	csrr a4, tselect
	bnez a4, fail
	csrr a4, tdata1
	bnez a4, fail
	/* menvcfg: FIOM and STCE are writable, PBMTE (bit 62) is not */
test_22: li TESTNUM, 22
	li t1, -1
	csrw menvcfg, t1
	csrr a4, menvcfg
	li t2, 0x8000000000000001
	bne a4, t2, fail
	csrw senvcfg, t1
	csrr a4, senvcfg
	li t2, 1
	bne a4, t2, fail
	/* Sstc: with STCE, mip.STIP is mtime >= stimecmp and not writable */
test_23: li TESTNUM, 23
	csrwi stimecmp, 0
	csrr a4, mip
	andi a4, a4, 0x20
	beqz a4, fail
	li t1, -1
	csrw stimecmp, t1
	csrr a4, mip
	andi a4, a4, 0x20
	bnez a4, fail
	li t2, 0x20
	csrs mip, t2                             /* ignored under STCE */
	csrr a4, mip
	andi a4, a4, 0x20
	bnez a4, fail
	csrr a4, stimecmp
	bne a4, t1, fail
	/* WFI wakes for the Sstc timer: stimecmp 200 us ahead, STIE on */
test_24: li TESTNUM, 24
	csrr t1, time
	addi t1, t1, 2000
	csrw stimecmp, t1
	li t1, 0x20
	csrs mie, t1
	wfi
	csrr a4, mip
	andi a4, a4, 0x20
	beqz a4, fail
	csrc mie, t1
	/* without STCE, STIP is software's again */
test_25: li TESTNUM, 25
	csrw menvcfg, zero
	csrr a4, mip
	andi a4, a4, 0x20
	bnez a4, fail
	li t2, 0x20
	csrs mip, t2
	csrr a4, mip
	andi a4, a4, 0x20
	beqz a4, fail
	csrc mip, t2
	j pass
user_code:
	ecall
	j fail
user_csr:
	csrr a4, mstatus
	j fail
user_cycle:
	csrr a4, cycle
	ecall
	j fail
user_mret:
	mret
	j fail
	RVTEST_END
