/* Interpreter benchmark: an integer loop of arithmetic, loads/stores and
 * branches over a 4 KiB table. Prints the checksum; exits through the test
 * finisher so it runs unchanged on QEMU's virt machine. It prints the
 * instructions it retired (minstret), so a benchmark can turn time into MIPS.
 * ROUNDS sets the length (about 3e8 instructions by default). */
#include "guest.h"

#ifndef ROUNDS
#define ROUNDS 20000
#endif

/* Page-aligned so no peer sees stores to a page that holds code. */
static uint32_t table[1024] __attribute__((aligned(4096)));

int main(uint64_t hartid)
{
	if (hartid != 0)
		guest_park();
	uint32_t x = 12345;
	for (int i = 0; i < 1024; i++) {
		x = x * 1103515245u + 12345u;
		table[i] = x;
	}
	uint64_t sum = 0;
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < 1024; i++) {
			uint32_t v = table[i];
			v ^= v >> 7;
			v += (uint32_t)r * 3u;
			if (v & 1)
				sum += v;
			else
				sum ^= (uint64_t)v << 3;
			table[(i * 7 + r) & 1023] = v;
		}
	}
	uint64_t n;
	__asm__ volatile("csrr %0, minstret" : "=r"(n));
	guest_puts("intloop checksum ");
	guest_putu(sum);
	guest_puts(" instret ");
	guest_putu(n);
	guest_putc('\n');
	*FINISHER = 0x5555;
	for (;;)
		;
}
