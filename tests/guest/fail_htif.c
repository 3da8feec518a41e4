/* Fails on purpose with status 7 through HTIF, to prove that a guest's
 * failure reaches shoal's exit status. */
#include "guest.h"

int main(uint64_t hartid)
{
	if (hartid != 0)
		for (;;)
			__asm__ volatile("wfi");
	guest_puts("failing with 7\n");
	return 7;
}
