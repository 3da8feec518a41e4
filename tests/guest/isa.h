/* Self-checking ISA test framework for bare-metal assembly programs, with the
 * riscv-tests interface: hart 0 runs the tests, others park in WFI; the result
 * goes to `tohost` (1 = pass, (testnum << 1) | 1 = fail at that test).
 *
 * A test that expects a trap sets s10 = expected mcause and s11 = where to
 * resume; the handler then checks mcause, leaves mtval in s9, mepc in s8,
 * clears s10 and resumes in M-mode with interrupts off (MPIE cleared). Any other trap fails the current test. */
#define TESTNUM gp

#define RVTEST_BEGIN                   \
	.section .text.init;           \
	.globl _start;                 \
_start:                                \
	csrr t0, mhartid;              \
	bnez t0, park;                 \
	la t0, trap_vector;            \
	csrw mtvec, t0;                \
	li s10, 0;                     \
	li TESTNUM, 0;

#define RVTEST_END                     \
pass:                                  \
	fence;                         \
	li a0, 1;                      \
	la t0, tohost;                 \
	sd a0, 0(t0);                  \
1:	j 1b;                          \
fail:                                  \
	fence;                         \
	slli a0, TESTNUM, 1;           \
	ori a0, a0, 1;                 \
	la t0, tohost;                 \
	sd a0, 0(t0);                  \
1:	j 1b;                          \
park:                                  \
	wfi;                           \
	j park;                        \
	.align 2;                      \
trap_vector:                           \
	beqz s10, fail;                \
	csrr t6, mcause;               \
	bne t6, s10, fail;             \
	csrr s9, mtval;                \
	csrr s8, mepc;                 \
	li s10, 0;                     \
	csrw mepc, s11;                \
	li t6, 0x1800;                 \
	csrs mstatus, t6;              \
	li t6, 0x80;                   \
	csrc mstatus, t6;              \
	mret;                          \
	.section .tohost, "aw", @progbits; \
	.align 6;                      \
	.globl tohost;                 \
tohost: .dword 0; .size tohost, 8;      \
	.align 6;                      \
	.globl fromhost;               \
fromhost: .dword 0; .size fromhost, 8;  \
	.text

#define TEST_RR(n, inst, res, v1, v2)                                   \
test_##n: li TESTNUM, n; li a1, v1; li a2, v2; inst a4, a1, a2;        \
	li t2, res; bne a4, t2, fail;

#define TEST_IMM(n, inst, res, v1, imm)                                 \
test_##n: li TESTNUM, n; li a1, v1; inst a4, a1, imm;                  \
	li t2, res; bne a4, t2, fail;

#define TEST_EQ(n, reg, res)                                            \
test_##n: li TESTNUM, n; li t2, res; bne reg, t2, fail;

#define TEST_LD(n, inst, res, off, base)                                \
test_##n: li TESTNUM, n; la a1, base; inst a4, off(a1);               \
	li t2, res; bne a4, t2, fail;

#define TEST_ST(n, st, ld, val, off, base)                              \
test_##n: li TESTNUM, n; la a1, base; li a2, val; st a2, off(a1);     \
	ld a4, off(a1); li t2, val; bne a4, t2, fail;

#define TEST_BR_TAKEN(n, inst, v1, v2)                                  \
test_##n: li TESTNUM, n; li a1, v1; li a2, v2; inst a1, a2, 2f;        \
	j fail; 2:

#define TEST_BR_NOT(n, inst, v1, v2)                                    \
test_##n: li TESTNUM, n; li a1, v1; li a2, v2; inst a1, a2, fail;

/* Branches with x0 as the first (X0 = 1) or second operand. */
#define TEST_BR0_TAKEN(n, inst, first, v)                               \
test_##n: li TESTNUM, n; li a1, v;                                      \
	.if first; inst x0, a1, 2f; .else; inst a1, x0, 2f; .endif;     \
	j fail; 2:
#define TEST_BR0_NOT(n, inst, first, v)                                 \
test_##n: li TESTNUM, n; li a1, v;                                      \
	.if first; inst x0, a1, fail; .else; inst a1, x0, fail; .endif;

/* Runs `code` and requires it to trap with `cause`; resumes after it. */
#define TEST_TRAP(n, cause, ...)                                        \
test_##n: li TESTNUM, n; li s10, cause; la s11, 3f; __VA_ARGS__; j fail; \
3:	bnez s10, fail;
