/* Prints a greeting on the UART from hart 0 and exits 0; other harts park. */
#include "guest.h"

int main(uint64_t hartid)
{
	if (hartid != 0)
		guest_park();
	guest_puts("Hello from shoal: RV64 hart 0 is running.\n");
	return 0;
}
