/* A guest reset through the syscon (0x7777 at 0x100000): the first boot
 * leaves a marker in RAM outside its image, arms hart 0's timer and enables
 * a PLIC source, then asks for a reset. The second boot finds the marker
 * (RAM survives a reset, the image is loaded again), checks that the board
 * came back in its power-on state, and powers off with 0x5555. Built with
 * -DREBOOT_DELAY_MS=N, the first boot waits N ms (mtime) before asking. */
#include "guest.h"

#define MARKER ((volatile uint64_t *)0x80400000ul) /* 4 MiB in: past the image */
#define PLIC_ENABLE_H0 ((volatile uint32_t *)0xc002000ul)
#define MAGIC 0x5348414c424f4f54ull

int main(uint64_t hartid)
{
	if (hartid != 0)
		guest_park();
	if (*MARKER != MAGIC) {
		*MARKER = MAGIC;
		*CLINT_MTIMECMP(0) = 12345;
		*PLIC_ENABLE_H0 = 1u << 10;
#ifdef REBOOT_DELAY_MS
		uint64_t until = *CLINT_MTIME + 10000ull * REBOOT_DELAY_MS; /* 10 MHz */
		while (*CLINT_MTIME < until)
			;
#endif
		guest_puts("reboot: first boot, asking for a reset\n");
		*FINISHER = 0x7777;
		for (;;)
			;
	}
	*MARKER = 0;
	if (*CLINT_MTIMECMP(0) != ~0ull) {
		guest_puts("reboot: FAIL mtimecmp survived the reset\n");
		guest_exit(2);
	}
	if (*PLIC_ENABLE_H0 != 0) {
		guest_puts("reboot: FAIL PLIC enables survived the reset\n");
		guest_exit(3);
	}
	guest_puts("reboot: second boot, board reset\n");
	*FINISHER = 0x5555;
	for (;;)
		;
}
