/* Every hart sleeps in WFI forever: a VM that only ends when stopped. The
 * end-to-end tests use it to kill processes of a running VM. */
#include "guest.h"

int main(uint64_t hartid)
{
	if (hartid == 0)
		guest_puts("parked\n");
	guest_park();
}
