/* Self-modifying code: a function is rewritten in RAM and, after fence.i,
 * the new instructions run (the interpreter's block cache must not serve the
 * old ones). */
#include "guest.h"

static uint32_t code[4] __attribute__((aligned(16)));

typedef long (*fn_t)(void);

static void put(uint32_t imm)
{
	code[0] = 0x00000513u | (imm << 20); /* addi a0, zero, imm */
	code[1] = 0x00008067u;               /* ret */
	__asm__ volatile("fence.i" ::: "memory");
}

int main(uint64_t hartid)
{
	if (hartid != 0)
		guest_park();
	fn_t f = (fn_t)(uintptr_t)code;
	put(42);
	long a = f();
	put(7);
	long b = f();
	CHECK(a == 42, 3);
	CHECK(b == 7, 4);
	guest_puts("smc ok\n");
	return 0;
}
