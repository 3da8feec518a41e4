/* Ends through the test finisher at 0x100000 (no tohost write): status 5
 * ((5 << 16) | 0x3333). */
#include "guest.h"

int main(uint64_t hartid)
{
	if (hartid != 0)
		guest_park();
	*FINISHER = (5u << 16) | 0x3333;
	for (;;)
		;
}
