/* LR/SC and AMO contention across 4 hart processes: each hart adds to two
 * shared counters ITER times, one with amoadd.w and one with an LR/SC loop;
 * both must end exactly at 4 * ITER. Run with --smp 4. */
#include "guest.h"

#define HARTS 4
#define ITER 200000

static volatile uint32_t amo_counter, lrsc_counter, done, start;

static void lrsc_inc(volatile uint32_t *p)
{
	uint32_t tmp, fail;
	__asm__ volatile("1: lr.w %0, (%2)\n"
			 "   addiw %0, %0, 1\n"
			 "   sc.w %1, %0, (%2)\n"
			 "   bnez %1, 1b\n"
			 : "=&r"(tmp), "=&r"(fail)
			 : "r"(p)
			 : "memory");
}

int main(uint64_t hartid)
{
	if (hartid >= HARTS)
		guest_park();
	__atomic_fetch_add(&start, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&start, __ATOMIC_SEQ_CST) < HARTS)
		;
	for (int i = 0; i < ITER; i++) {
		__atomic_fetch_add(&amo_counter, 1, __ATOMIC_RELAXED);
		lrsc_inc(&lrsc_counter);
	}
	__atomic_fetch_add(&done, 1, __ATOMIC_SEQ_CST);
	if (hartid != 0)
		guest_park();
	while (__atomic_load_n(&done, __ATOMIC_SEQ_CST) < HARTS)
		;
	guest_puts("amo ");
	guest_putu(amo_counter);
	guest_puts(" lrsc ");
	guest_putu(lrsc_counter);
	guest_putc('\n');
	CHECK(amo_counter == HARTS * ITER, 3);
	CHECK(lrsc_counter == HARTS * ITER, 4);
	return 0;
}
