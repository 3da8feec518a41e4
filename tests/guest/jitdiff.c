/* The JIT differential test's harness: runs every generated case
 * (tests/jit/gen_diff.py, linked in as run_case) three times from the same
 * registers and buffer, and prints a hash of the final registers, buffer
 * and faults of each run. Interpreted and translated runs must print the
 * same lines; the three runs of a case must agree (the later ones run
 * translations bound by the earlier). */
#include "guest.h"

extern void run_case(uint64_t n, uint64_t *regs, uint8_t *buf);
extern const uint64_t diff_ncases;
volatile uint64_t diff_trapsum;
volatile uint64_t diff_case_instret; /* minstret as the running case started */

static uint8_t buf[8192] __attribute__((aligned(4096)));
/* x0-x31, f0-f31, fcsr, mstatus.FS at the end (see gen_diff.py) */
static uint64_t regs[32 + 32 + 2];

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h *= 0x100000001b3ull;
	return h ^ (h >> 29);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t run(uint64_t n)
{
	uint64_t s = 0x9e3779b97f4a7c15ull ^ (n * 0x1234567ull);
	for (int i = 0; i < 32; i++) {
		uint64_t v = xorshift(&s);
		/* Some small and some extreme values: shifts, divisions and
		 * comparisons at their edges. */
		switch (v & 7) {
		case 0: v = 0; break;
		case 1: v = (uint64_t)-1; break;
		case 2: v = 1ull << 63; break;
		case 3: v &= 0xff; break;
		}
		regs[i] = v;
	}
	/* FP registers: doubles and NaN-boxed singles, normal, tiny, huge,
	 * zeros, infinities, NaNs (signalling too) and unboxed singles. */
	static const uint64_t special[] = {
	    0,			   1ull << 63,		  0x3ff0000000000000ull, 0xbff8000000000000ull,
	    0x7ff0000000000000ull, 0xfff0000000000000ull, 0x7ff8000000000000ull, 0x7ff0000000000001ull,
	    0x0000000000000001ull, 0x0010000000000000ull, 0x7fefffffffffffffull, 0x43e0000000000000ull,
	    0xffffffff3f800000ull, 0xffffffff7f800000ull, 0xffffffff7fa00000ull, 0xffffffff00000001ull,
	    0xffffffffc0400000ull, 0x000000003f800000ull, 0xffffffff4f000000ull, 0xffffffff80000000ull};
	for (int i = 32; i < 64; i++) {
		uint64_t v = xorshift(&s);
		switch (v % 6) {
		case 0: v = special[(v >> 8) % (sizeof(special) / sizeof(special[0]))]; break;
		case 1: v |= 0xffffffff00000000ull; break; /* a boxed single */
		case 2: v = (v & 0x800fffffffffffffull) | 0x3fe0000000000000ull; break; /* ~1 */
		case 3: v = (v & 0x807fffffull) | 0xffffffff3f000000ull; break; /* single ~1 */
		}
		regs[i] = v;
	}
	/* fcsr: mostly frm 0 and NX set, where arithmetic can take its
	 * shortcut; else any rounding mode (5-7: dynamic rounding is illegal)
	 * and flags */
	uint64_t f = xorshift(&s);
	uint64_t frm = (f & 7) < 5 ? 0 : (f >> 3) & 7, flags = (f >> 8) & 31;
	regs[64] = frm << 5 | flags | (((f >> 16) & 3) != 0);
	for (int i = 0; i < 8192; i++)
		buf[i] = (uint8_t)xorshift(&s);
	diff_trapsum = 0;
	run_case(n, regs, buf + 3072);
	uint64_t h = 0xcbf29ce484222325ull;
	for (int i = 0; i < 66; i++)
		h = mix(h, regs[i]);
	for (int i = 0; i < 8192; i += 8) {
		uint64_t w;
		__builtin_memcpy(&w, buf + i, 8);
		h = mix(h, w);
	}
	return mix(h, diff_trapsum);
}

static void puthex(uint64_t v)
{
	for (int i = 60; i >= 0; i -= 4)
		guest_putc("0123456789abcdef"[(v >> i) & 15]);
}

int main(uint64_t hartid)
{
	if (hartid != 0)
		guest_park();
	unsigned bad = 0;
	for (uint64_t n = 0; n < diff_ncases; n++) {
		uint64_t h0 = run(n), h1 = run(n), h2 = run(n);
		guest_puts("case ");
		guest_putu(n);
		guest_putc(' ');
		puthex(h0);
		if (h1 != h0 || h2 != h0) {
			guest_puts(" runs differ");
			bad++;
		}
		guest_putc('\n');
	}
	guest_puts(bad ? "jitdiff: runs differ\n" : "jitdiff: done\n");
	return bad ? 3 : 0;
}
