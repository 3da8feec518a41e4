/* MMIO benchmark, timed by the guest with the CLINT's mtime (10 MHz):
 * posted UART THR writes (LSR polled before each, as a console driver does)
 * and read round trips to the UART's IIR (a read with a side effect, so
 * never served from the shadow page). Checks on the way that a register
 * the guest writes and the shadow page serves (SCR, IER) reads back each
 * value just written, though the write is posted. Prints
 * "posted_write_ns N", "read_rt_ns N" and "scratch ok" or "scratch BAD";
 * exits through the test finisher. */
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
	int bad = 0;
	for (int i = 0; i < 20000; i++) {
		UART[7] = (uint8_t)i;
		bad += UART[7] != (uint8_t)i;
		UART[1] = (uint8_t)(i & 0x0c); /* IER: no interrupt enabled */
		bad += UART[1] != (uint8_t)(i & 0x0c);
	}
	UART[1] = 0;
	uint64_t t1r = *CLINT_MTIME;
	uint32_t acc = 0;
	for (int i = 0; i < READS; i++)
		acc += UART[2] & 1; /* IIR: no interrupt pending */
	uint64_t t2 = *CLINT_MTIME;
	guest_puts("\nposted_write_ns ");
	guest_putu((t1 - t0) * 100 / WRITES);
	guest_puts("\nread_rt_ns ");
	guest_putu((t2 - t1r) * 100 / READS);
	guest_puts(!bad && acc == READS ? "\nscratch ok\n" : "\nscratch BAD\n");
	*FINISHER = 0x5555;
	for (;;)
		;
}
