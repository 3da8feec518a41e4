/* Software interrupts across hart processes: hart 0 sleeps in WFI with only
 * MSIE enabled; hart 1 raises hart 0's msip through the CLINT. Hart 0 must
 * wake, see MSIP in mip, clear it, and report. Run with --smp 2. */
#include "guest.h"

static volatile uint32_t hart0_sleeping;

int main(uint64_t hartid)
{
	if (hartid == 1) {
		while (!__atomic_load_n(&hart0_sleeping, __ATOMIC_SEQ_CST))
			;
		for (volatile int i = 0; i < 100000; i++)
			;
		*CLINT_MSIP(0) = 1;
		guest_park();
	}
	if (hartid != 0)
		guest_park();
	__asm__ volatile("csrw mie, %0" ::"r"(8ul));
	__atomic_store_n(&hart0_sleeping, 1, __ATOMIC_SEQ_CST);
	uint64_t mip = 0;
	for (int tries = 0; tries < 1000 && !(mip & 8); tries++) {
		__asm__ volatile("wfi");
		__asm__ volatile("csrr %0, mip" : "=r"(mip));
	}
	CHECK(mip & 8, 3);
	*CLINT_MSIP(0) = 0;
	__asm__ volatile("csrr %0, mip" : "=r"(mip));
	CHECK(!(mip & 8), 4);
	guest_puts("ipi: hart 0 woken by hart 1\n");
	return 0;
}
