/* The start-up benchmark's program: one line from hart 0, then exit 0
 * through the test finisher, which QEMU's virt board also has. */
#include "guest.h"

int main(uint64_t hartid)
{
	if (hartid != 0)
		guest_park();
	guest_puts("up\n");
	*FINISHER = 0x5555;
	for (;;)
		;
}
