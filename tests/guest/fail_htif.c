/* Fails on purpose with status 7 through HTIF, to prove that a guest's
 * failure reaches shoal's exit status. */
#include "guest.h"

int main(uint64_t hartid)
{
	if (hartid != 0)
		guest_park();
	guest_puts("failing with 7\n");
	return 7;
}
