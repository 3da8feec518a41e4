/* The goldfish RTC at 0x101000 (its own device process): the time is the
 * host's wall clock, a time written reads back, an alarm 20 ms ahead
 * raises PLIC source 11 (hart 0's M context, WFI until it does), and a
 * cleared alarm stays quiet. Failed checks exit with their own status. */
#include "guest.h"

#define RTC ((volatile uint32_t *)0x101000ul)
#define TIME_LOW 0
#define TIME_HIGH 1
#define ALARM_LOW 2
#define ALARM_HIGH 3
#define IRQ_ENABLED 4
#define CLEAR_ALARM 5
#define ALARM_STATUS 6
#define CLEAR_INTERRUPT 7
#define PLIC ((volatile uint32_t *)0x0c000000ul)
#define MIP_MEIP (1ul << 11)

static uint64_t now_ns(void)
{
	uint64_t lo = RTC[TIME_LOW]; /* latches the high half */
	return (uint64_t)RTC[TIME_HIGH] << 32 | lo;
}

static uint64_t mip(void)
{
	uint64_t v;
	__asm__ volatile("csrr %0, mip" : "=r"(v));
	return v;
}

int main(uint64_t hartid)
{
	if (hartid != 0)
		guest_park();
	uint64_t t = now_ns();
	CHECK(t > 1700000000ull * 1000000000ull, 10); /* after Nov 2023 */
	uint64_t y2100 = 4102444800ull * 1000000000ull;
	RTC[TIME_HIGH] = (uint32_t)(y2100 >> 32);
	RTC[TIME_LOW] = (uint32_t)y2100;
	t = now_ns();
	CHECK(t >= y2100 && t < y2100 + 10000000000ull, 11);
	RTC[TIME_HIGH] = 0; /* back near the epoch: alarms below are relative */
	RTC[TIME_LOW] = 0;
	CHECK(now_ns() < 10000000000ull, 12);

	/* An alarm far ahead is armed until cleared. */
	RTC[ALARM_HIGH] = 1000;
	RTC[ALARM_LOW] = 0;
	CHECK(RTC[ALARM_STATUS] == 1, 13);
	RTC[CLEAR_ALARM] = 1;
	CHECK(RTC[ALARM_STATUS] == 0, 14);

	/* An alarm 20 ms ahead interrupts through the PLIC. */
	PLIC[11] = 1;			     /* priority */
	PLIC[0x200000 / 4] = 0;		     /* hart 0 M threshold */
	PLIC[0x2000 / 4] = 1u << 11;	     /* hart 0 M enable */
	__asm__ volatile("csrs mie, %0" ::"r"(MIP_MEIP));
	RTC[IRQ_ENABLED] = 1;
	uint64_t at = now_ns() + 20000000ull;
	RTC[ALARM_HIGH] = (uint32_t)(at >> 32);
	RTC[ALARM_LOW] = (uint32_t)at;
	for (int i = 0; i < 1000 && !(mip() & MIP_MEIP); i++)
		__asm__ volatile("wfi");
	CHECK(mip() & MIP_MEIP, 15);
	CHECK(now_ns() >= at, 16); /* not early */
	CHECK(RTC[ALARM_STATUS] == 0, 17);
	uint32_t src = PLIC[0x200004 / 4];
	CHECK(src == 11, 18);
	RTC[CLEAR_INTERRUPT] = 1;
	PLIC[0x200004 / 4] = src;
	CHECK(RTC[IRQ_ENABLED] == 1, 19); /* a read: the writes before it are done */
	CHECK(!(mip() & MIP_MEIP), 20);
	guest_puts("rtc: time, set, alarm interrupt all work\n");
	return 0;
}
