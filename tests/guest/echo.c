/* UART input: reads characters until a newline (LSR.DR polled from the
 * shadow page, RBR read by round trip) and echoes them upper-cased. */
#include "guest.h"

int main(uint64_t hartid)
{
	if (hartid != 0)
		guest_park();
	guest_puts("echo> ");
	for (int n = 0; n < 200; n++) {
		while (!(UART[5] & 1))
			;
		char c = (char)UART[0];
		if (c == '\n')
			break;
		guest_putc(c >= 'a' && c <= 'z' ? (char)(c - 32) : c);
	}
	guest_putc('\n');
	return 0;
}
