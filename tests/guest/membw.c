/* Guest memory bandwidth, timed by the guest with mtime (10 MHz): fills and
 * copies a 16 MiB buffer at _end with 64-bit accesses, ROUNDS times, and
 * prints "write_mbps N", "copy_mbps N" (bytes read + written) and a checksum
 * so a broken copy cannot pass as fast. Exits through the test finisher. */
#include "guest.h"

#ifndef ROUNDS
#define ROUNDS 8
#endif
#define BYTES (8ul << 20)

extern uint64_t _end[];

static uint64_t mbps(uint64_t bytes, uint64_t ticks)
{
	return ticks ? bytes * 10 / ticks : 0; /* ticks are 100 ns: MB/s */
}

int main(uint64_t hartid)
{
	if (hartid != 0)
		guest_park();
	uint64_t *a = (uint64_t *)(((uintptr_t)_end + 4095) & ~4095ul);
	uint64_t *b = a + BYTES / 8;
	uint64_t n = BYTES / 8;
	uint64_t t0 = *CLINT_MTIME;
	for (int r = 0; r < ROUNDS; r++)
		for (uint64_t i = 0; i < n; i += 4) {
			a[i] = i + r;
			a[i + 1] = i + 1;
			a[i + 2] = i + 2;
			a[i + 3] = i + 3;
		}
	uint64_t t1 = *CLINT_MTIME;
	for (int r = 0; r < ROUNDS; r++)
		for (uint64_t i = 0; i < n; i += 4) {
			b[i] = a[i];
			b[i + 1] = a[i + 1];
			b[i + 2] = a[i + 2];
			b[i + 3] = a[i + 3];
		}
	uint64_t t2 = *CLINT_MTIME;
	uint64_t sum = 0;
	for (uint64_t i = 0; i < n; i += 512)
		sum += b[i] ^ b[i + 1];
	guest_puts("write_mbps ");
	guest_putu(mbps(BYTES * ROUNDS, t1 - t0));
	guest_puts("\ncopy_mbps ");
	guest_putu(mbps(2 * BYTES * ROUNDS, t2 - t1));
	guest_puts("\nchecksum ");
	guest_putu(sum);
	guest_puts("\n");
	*FINISHER = 0x5555;
	for (;;)
		;
}
