/* Cross-hart wake-up latency: harts 0 and 1 play ping-pong with machine
 * software interrupts. Each waits in WFI (MSIE enabled, MIE off, so WFI
 * wakes without trapping), clears its own msip and raises the other's.
 * Hart 0 times ROUNDS round trips with the CLINT's mtime and prints
 * "ipi_rtt_ns N" and "ipi ok", then exits through the test finisher.
 * Linux pays such a wake-up (through SBI) for every hand-off to a thread
 * on an idle hart. Run with 2 harts. */
#include "guest.h"

#ifndef ROUNDS
#define ROUNDS 2000
#endif

static volatile uint32_t ready;

static void wait_msip(void)
{
	uint64_t mip;
	for (;;) {
		__asm__ volatile("csrr %0, mip" : "=r"(mip));
		if (mip & 8)
			return;
		__asm__ volatile("wfi");
	}
}

int main(uint64_t hartid)
{
	if (hartid > 1)
		guest_park();
	__asm__ volatile("csrw mie, %0" ::"r"(8ul));
	if (hartid == 1) {
		__atomic_store_n(&ready, 1, __ATOMIC_SEQ_CST);
		for (int i = 0; i < ROUNDS; i++) {
			wait_msip();
			*CLINT_MSIP(1) = 0;
			*CLINT_MSIP(0) = 1;
		}
		guest_park();
	}
	while (!__atomic_load_n(&ready, __ATOMIC_SEQ_CST))
		;
	uint64_t t0 = *CLINT_MTIME;
	for (int i = 0; i < ROUNDS; i++) {
		*CLINT_MSIP(1) = 1;
		wait_msip();
		*CLINT_MSIP(0) = 0;
	}
	uint64_t t1 = *CLINT_MTIME;
	guest_puts("ipi_rtt_ns ");
	guest_putu((t1 - t0) * 100 / ROUNDS);
	guest_puts("\nipi ok\n");
	*FINISHER = 0x5555;
	for (;;)
		;
}
