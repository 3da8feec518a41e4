/* MMIO benchmark, timed by the guest with the CLINT's mtime (10 MHz):
 * posted UART THR writes (LSR polled before each, as a console driver does)
 * and read round trips to the UART's scratch register. Prints
 * "posted_write_ns N" and "read_rt_ns N"; exits through the test finisher. */
#include "guest.h"

#ifndef WRITES
#define WRITES 200000
#endif
#ifndef READS
#define READS 2000
#endif

int main(uint64_t hartid)
{
	if (hartid != 0)
		guest_park();
	uint64_t t0 = *CLINT_MTIME;
	for (int i = 0; i < WRITES; i++)
		guest_putc((i & 63) == 63 ? '\n' : 'x');
	uint64_t t1 = *CLINT_MTIME;
	UART[7] = 0x5a;
	uint32_t acc = 0;
	for (int i = 0; i < READS; i++)
		acc += UART[7];
	uint64_t t2 = *CLINT_MTIME;
	guest_puts("\nposted_write_ns ");
	guest_putu((t1 - t0) * 100 / WRITES);
	guest_puts("\nread_rt_ns ");
	guest_putu((t2 - t1) * 100 / READS);
	guest_puts(acc == 0x5au * READS ? "\nscratch ok\n" : "\nscratch BAD\n");
	*FINISHER = 0x5555;
	for (;;)
		;
}
