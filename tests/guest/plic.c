/* The PLIC with a real device line, from M-mode on hart 0: the UART's
 * transmitter-empty interrupt (source 10) pends, shows in mip.SEIP through
 * hart 0's S context, is claimed once, and after its line drops and it is
 * completed, SEIP is gone - also after OpenSBI-style csrs/csrc of mip.STIP
 * in between, which once latched SEIP for good. Failed checks exit with
 * their own status. */
#include "guest.h"

#define PLIC ((volatile uint32_t *)0x0c000000ul)
#define PRIO(s) PLIC[(s)]
#define ENABLE(ctx) PLIC[(0x2000 + 0x80 * (ctx)) / 4]
#define THRESHOLD(ctx) PLIC[(0x200000 + 0x1000 * (ctx)) / 4]
#define CLAIM(ctx) PLIC[(0x200004 + 0x1000 * (ctx)) / 4]
#define MIP_SEIP (1ul << 9)
#define MIP_STIP (1ul << 5)

static uint64_t mip(void)
{
	uint64_t v;
	__asm__ volatile("csrr %0, mip" : "=r"(v));
	return v;
}

/* Waits (bounded) for mip.SEIP to become `want`. */
static int seip_becomes(uint64_t want)
{
	for (int i = 0; i < 1000000; i++)
		if ((mip() & MIP_SEIP) == want)
			return 1;
	return 0;
}

int main(uint64_t hartid)
{
	if (hartid != 0)
		guest_park();
	PRIO(10) = 1;
	THRESHOLD(1) = 0;
	ENABLE(1) = 1u << 10;		  /* hart 0, S context */
	CHECK(CLAIM(1) == 0, 10);	  /* nothing pending yet */
	UART[1] = 0x02;			  /* IER: transmitter-empty interrupt */
	CHECK(UART[1] == 0x02, 21);		  /* the write has been handled */
	CHECK(seip_becomes(MIP_SEIP), 11); /* the line rose: SEIP */
	/* What OpenSBI does when it forwards a timer interrupt. */
	__asm__ volatile("csrs mip, %0\n\tcsrc mip, %0" ::"r"(MIP_STIP));
	UART[1] = 0x00;				 /* line down */
	CHECK(UART[1] == 0, 12);		 /* a read: the write has been handled */
	uint32_t src = CLAIM(1);
	CHECK(src == 10, 13);
	CHECK(CLAIM(1) == 0, 14); /* claimed once */
	CLAIM(1) = src;		  /* complete: the line is down, no re-pend */
	CHECK(seip_becomes(0), 15);
	CHECK((mip() & MIP_SEIP) == 0, 16);
	/* A threshold at the source's priority masks it. */
	UART[1] = 0x02;
	CHECK(UART[1] == 0x02, 22); /* posted writes may lag; a read waits for them */
	CHECK(seip_becomes(MIP_SEIP), 17);
	THRESHOLD(1) = 1;
	CHECK(seip_becomes(0), 18);
	CHECK(CLAIM(1) == 0, 19);
	THRESHOLD(1) = 0;
	CHECK(seip_becomes(MIP_SEIP), 20);
	guest_puts("plic: all checks passed\n");
	return 0;
}
