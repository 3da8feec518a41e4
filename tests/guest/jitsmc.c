/* Self-modifying code under the JIT (run with --jit-threshold 1 --jit-sync
 * on, and without the JIT): code written at run time into its own page is
 * called until translated, then
 *   1. rewritten by the same hart, fence.i, called: the new code runs;
 *   2. rewritten by hart 1 while hart 0 waits; hart 0's fence.i, call:
 *      the new code runs (cross-hart modification);
 *   3. a loop whose body's immediate is patched between calls.
 * Exit status 0 when all agree; 10+ names the failed check. */
#include "guest.h"

static uint32_t code[1024] __attribute__((aligned(4096)));
static volatile uint32_t turn;

typedef long (*fn_t)(long);

/* I-type: addi rd, rs1, imm */
static uint32_t addi(unsigned rd, unsigned rs1, int imm)
{
	return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | rd << 7 | 0x13;
}

/* B-type: bne rs1, rs2, off */
static uint32_t bne(unsigned rs1, unsigned rs2, int off)
{
	uint32_t o = (uint32_t)off;
	return ((o >> 12) & 1) << 31 | ((o >> 5) & 0x3f) << 25 | rs2 << 20 | rs1 << 15 | 1u << 12 |
	       ((o >> 1) & 0xf) << 8 | ((o >> 11) & 1) << 7 | 0x63;
}

#define RET 0x00008067u /* jalr x0, 0(ra) */
#define A0 10
#define T0 5

/* code[0..]: return a0 + k */
static void put_const(int k)
{
	code[0] = addi(A0, A0, k);
	code[1] = RET;
}

/* code[64..]: a0 = 0; repeat a0 times: a0' += k; return the sum */
static void put_loop(int k)
{
	code[64] = addi(T0, A0, 0);
	code[65] = addi(A0, 0, 0);
	code[66] = addi(A0, A0, k);
	code[67] = addi(T0, T0, -1);
	code[68] = bne(T0, 0, -8);
	code[69] = RET;
}

static void fence_i(void)
{
	__asm__ volatile("fence.i" ::: "memory");
}

int main(uint64_t hartid)
{
	fn_t f = (fn_t)(uintptr_t)&code[0];
	fn_t loop = (fn_t)(uintptr_t)&code[64];
	if (hartid == 1) {
		/* Check 2's writer: waits for its turn, rewrites, hands back. */
		for (int round = 0; round < 4; round++) {
			while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != 2 * round + 1)
				;
			put_const(100 + round);
			__atomic_store_n(&turn, 2 * round + 2, __ATOMIC_RELEASE);
		}
		guest_park();
	}
	if (hartid > 1)
		guest_park();

	/* 1: local rewrite */
	put_const(1);
	fence_i();
	for (int i = 0; i < 50; i++)
		CHECK(f(i) == i + 1, 10);
	put_const(7);
	fence_i();
	for (int i = 0; i < 50; i++)
		CHECK(f(i) == i + 7, 11);

	/* 2: another hart rewrites, this one fences */
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < 20; i++)
			f(i); /* hot under the current code */
		__atomic_store_n(&turn, 2 * round + 1, __ATOMIC_RELEASE);
		while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != 2 * round + 2)
			;
		fence_i();
		CHECK(f(5) == 5 + 100 + round, 12);
	}

	/* 3: a loop patched between calls */
	for (int k = 1; k <= 5; k++) {
		put_loop(k);
		fence_i();
		for (int i = 0; i < 10; i++)
			CHECK(loop(100) == 100 * k, 13);
	}
	guest_puts("jitsmc ok\n");
	return 0;
}
