/* Four harts run the same code (a CRC over a private buffer, then a
 * barrier), so a shared JIT must compile each of its blocks once: the
 * test reads shoal's --stats (no recompiles, duplicate requests answered
 * from the index). Prints the CRC each hart got; they must agree. */
#include "guest.h"

#define HARTS 4

static struct {
	volatile uint32_t done;
	uint32_t crc[HARTS];
} shared __attribute__((aligned(4096)));

static uint32_t crc32(const uint8_t *p, unsigned n, uint32_t c)
{
	c = ~c;
	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

int main(uint64_t hartid)
{
	if (hartid >= HARTS)
		guest_park();
	uint8_t buf[256];
	for (int i = 0; i < 256; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	uint32_t c = 0;
	for (int r = 0; r < 300; r++)
		c = crc32(buf, sizeof(buf), c);
	shared.crc[hartid] = c;
	__atomic_fetch_add(&shared.done, 1, __ATOMIC_ACQ_REL);
	if (hartid != 0)
		guest_park();
	/* Fewer harts (a one-hart baseline): give up waiting after 2 s. */
	uint64_t t0 = *CLINT_MTIME;
	while (__atomic_load_n(&shared.done, __ATOMIC_ACQUIRE) != HARTS &&
	       *CLINT_MTIME - t0 < 20000000)
		;
	uint32_t n = __atomic_load_n(&shared.done, __ATOMIC_ACQUIRE);
	for (uint32_t h = 1; h < n; h++)
		CHECK(shared.crc[h] == shared.crc[0], 10);
	guest_puts("jitshare crc ");
	guest_putu(c);
	guest_puts(" harts ");
	guest_putu(n);
	guest_putc('\n');
	return 0;
}
