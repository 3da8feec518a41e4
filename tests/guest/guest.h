/* Helpers for bare-metal C guest programs (see crt0.S). */
#ifndef GUEST_H
#define GUEST_H

#include <stdint.h>

#define UART ((volatile uint8_t *)0x10000000ul)
#define FINISHER ((volatile uint32_t *)0x100000ul)
#define CLINT_MSIP(h) ((volatile uint32_t *)(0x2000000ul + 4 * (h)))
#define CLINT_MTIMECMP(h) ((volatile uint64_t *)(0x2004000ul + 8 * (h)))
#define CLINT_MTIME ((volatile uint64_t *)0x200bff8ul)

extern volatile uint64_t tohost;

static inline void guest_putc(char c)
{
	while (!(UART[5] & 0x20))
		;
	UART[0] = (uint8_t)c;
}

static inline void guest_puts(const char *s)
{
	while (*s)
		guest_putc(*s++);
}

static inline void guest_putu(uint64_t v)
{
	char b[24];
	int n = 0;
	do
		b[n++] = (char)('0' + v % 10);
	while (v /= 10);
	while (n)
		guest_putc(b[--n]);
}

/* Sleeps in WFI forever: how a hart with nothing to do waits. */
__attribute__((noreturn)) static inline void guest_park(void)
{
	for (;;)
		__asm__ volatile("wfi");
}

/* Ends the run with `code` as shoal's exit status (HTIF tohost). */
__attribute__((noreturn)) static inline void guest_exit(int code)
{
	tohost = ((uint64_t)code << 1) | 1;
	for (;;)
		;
}

#define CHECK(cond, code)                \
	do {                             \
		if (!(cond))             \
			guest_exit(code); \
	} while (0)

static inline uint64_t read_csr_mhartid(void)
{
	uint64_t v;
	__asm__ volatile("csrr %0, mhartid" : "=r"(v));
	return v;
}

#endif
