/* fpmark: an F and D benchmark (our own code) for the JIT: a fused
 * multiply-add sweep, a dot product, Newton square roots by division and
 * a single-precision polynomial, over arrays that fit in L1. Prints
 *   fpmark iters N us T sum S
 * where S is the results' bits folded together, the same on every correct
 * emulator (mtime is 10 MHz on shoal and on QEMU's virt). */
#include "guest.h"

#ifndef FP_ITERS
#define FP_ITERS 20000
#endif
#define FP_N 256

static struct {
	double x[FP_N], y[FP_N];
	float s[FP_N];
} fp __attribute__((aligned(4096))); /* not in a page with code */

static uint64_t fold(uint64_t h, uint64_t v)
{
	h ^= v;
	return h * 0x100000001b3ull;
}

int main(uint64_t hartid)
{
	if (hartid != 0)
		guest_park();
	for (int i = 0; i < FP_N; i++) {
		fp.x[i] = 1.0 + i * 0.015625;
		fp.y[i] = 1.0 / (i + 3);
		fp.s[i] = (float)i * 0.125f + 0.5f;
	}
	uint64_t t0 = *CLINT_MTIME, h = 0xcbf29ce484222325ull;
	for (int it = 0; it < FP_ITERS; it++) {
		double a = 0.5 + it * 1e-6, dot = 0;
		for (int i = 0; i < FP_N; i++) { /* fmadd.d, then a dot product */
			fp.y[i] = a * fp.x[i] + fp.y[i] * 0.75;
			dot += fp.x[i] * fp.y[i];
		}
		double r = dot; /* Newton: r = sqrt(dot) by division */
		for (int k = 0; k < 8; k++)
			r = 0.5 * (r + dot / r);
		float p = 0; /* Horner, single precision */
		for (int i = 0; i < FP_N; i++)
			p = p * 0.5f + fp.s[i] * 0.25f;
		uint64_t rb, pb = 0;
		__builtin_memcpy(&rb, &r, 8);
		__builtin_memcpy(&pb, &p, 4);
		h = fold(fold(h, rb), pb);
	}
	uint64_t t1 = *CLINT_MTIME;
	guest_puts("fpmark iters ");
	guest_putu(FP_ITERS);
	guest_puts(" us ");
	guest_putu((t1 - t0) / 10);
	guest_puts(" sum ");
	guest_putu(h >> 1);
	guest_putc('\n');
	*FINISHER = 0x5555;
	for (;;)
		;
}
