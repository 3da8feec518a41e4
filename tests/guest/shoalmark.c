/* shoalmark on bare metal (perf/cpu/mark.h): times MARK_ITERS iterations
 * with the CLINT's mtime (10 MHz on shoal and on QEMU's virt) and prints
 *   shoalmark iters N us T crc C instret I
 * then leaves through the test finisher, so it runs unchanged on QEMU. */
#include "guest.h"
#include "../../perf/cpu/mark.h"

#ifndef MARK_ITERS
#define MARK_ITERS 2000
#endif

int main(uint64_t hartid)
{
	if (hartid != 0)
		guest_park();
	uint64_t t0 = *CLINT_MTIME, i0, i1;
	__asm__ volatile("csrr %0, minstret" : "=r"(i0));
	uint16_t crc = mark_run(MARK_ITERS);
	__asm__ volatile("csrr %0, minstret" : "=r"(i1));
	uint64_t t1 = *CLINT_MTIME;
	guest_puts("shoalmark iters ");
	guest_putu(MARK_ITERS);
	guest_puts(" us ");
	guest_putu((t1 - t0) / 10);
	guest_puts(" crc ");
	guest_putu(crc);
	guest_puts(" instret ");
	guest_putu(i1 - i0);
	guest_putc('\n');
	*FINISHER = 0x5555;
	for (;;)
		;
}
