/* 16550A UART on the terminal: output to stdout, input from stdin.
 * The line status register is published in the shadow page so a vCPU polls it
 * without a round trip; reads with side effects (RBR, IIR) are round trips.
 * Its interrupt (received data, transmitter empty) is a PLIC line in the
 * board page, raised and lowered here. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/log.h"
#include "device.h"

enum { RBR = 0, IER = 1, IIR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };
#define LCR_DLAB 0x80
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MCR_LOOP 0x10
#define RX_SIZE 2048
#define OUT_SIZE 65536
#define UART_STATE_MAGIC 0x55415254u /* "UART" */

enum { TAG_STDIN = 1, TAG_STDOUT = 2 };

/* What the guest can see: in the shadow page's private area, so a
 * restarted UART keeps its registers and the input not yet read. */
struct uart_state {
	uint32_t magic;
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	uint8_t thre_pending;
	uint32_t rx_head, rx_len;
	uint8_t rx[RX_SIZE];
};

struct uart {
	struct uart_state *s; /* shadow->priv, or `own` without a shadow */
	struct uart_state own;
	int in_fd, out_fd, in_armed, in_eof;
	/* Output: bytes accumulate in `pend` while `fly` is being written. */
	char bufs[2][OUT_SIZE];
	char *pend, *fly;
	unsigned pend_len, fly_len, fly_off;
	int writing;
};

/* The value a read of register `off` returns, for the registers whose
 * read has no side effect (not RBR, IIR). */
static uint8_t uart_reg(const struct uart_state *s, unsigned off)
{
	switch (off) {
	case IER: return (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
	case LCR: return s->lcr;
	case MCR: return s->mcr;
	case LSR: return LSR_THRE | LSR_TEMT | (s->rx_len ? LSR_DR : 0);
	case MSR:
		if (s->mcr & MCR_LOOP)
			return (uint8_t)(((s->mcr & 0x0c) << 4) | ((s->mcr & 0x01) << 5) |
					 ((s->mcr & 0x02) << 3));
		return 0xb0; /* DCD, DSR, CTS */
	case SCR: return s->scr;
	}
	return 0;
}

/* Publishes the registers whose reads have no side effect (LSR, and those
 * the guest writes: IER, LCR, MCR, MSR, SCR - Linux reads IER for every
 * console line) and drives the interrupt line: received data with ERBFI,
 * or a transmitter-empty event with ETBEI. Called after every change. */
static void uart_publish(struct device *d)
{
	struct uart *u = d->priv;
	if (d->shadow) {
		static const uint8_t written[] = {IER, LCR, MCR, MSR, SCR};
		shadow_publish8(d->shadow, LSR, uart_reg(u->s, LSR));
		for (unsigned i = 0; i < sizeof(written); i++)
			shadow_publish8_written(d->shadow, written[i], uart_reg(u->s, written[i]));
	}
	device_irq(d, ((u->s->ier & 1) && u->s->rx_len) || ((u->s->ier & 2) && u->s->thre_pending));
}

static void uart_rx_push(struct uart *u, uint8_t c)
{
	if (u->s->rx_len == RX_SIZE)
		return; /* overrun: dropped, as on hardware */
	u->s->rx[(u->s->rx_head + u->s->rx_len++) % RX_SIZE] = c;
}

static void uart_flush_out(struct device *d)
{
	struct uart *u = d->priv;
	if (u->writing || !u->pend_len)
		return;
	char *t = u->fly;
	u->fly = u->pend;
	u->pend = t;
	u->fly_len = u->pend_len;
	u->fly_off = 0;
	u->pend_len = 0;
	if (devloop_write(d->loop, u->out_fd, u->fly, u->fly_len, TAG_STDOUT) == 0)
		u->writing = 1;
}

static void uart_out(struct device *d, uint8_t c)
{
	struct uart *u = d->priv;
	if (u->pend_len == OUT_SIZE) {
		if (u->writing)
			return; /* the terminal is not keeping up: drop, never block the guest */
		uart_flush_out(d);
	}
	u->pend[u->pend_len++] = (char)c;
}

static void uart_arm_input(struct device *d)
{
	struct uart *u = d->priv;
	if (u->in_armed || u->in_eof || u->s->rx_len > RX_SIZE / 2)
		return;
	if (devloop_poll(d->loop, u->in_fd, POLLIN, TAG_STDIN) == 0)
		u->in_armed = 1;
}

static int uart_init(struct device *d, const char *args)
{
	(void)args;
	struct uart *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->in_fd = 0;
	u->out_fd = 1;
	u->pend = u->bufs[0];
	u->fly = u->bufs[1];
	_Static_assert(sizeof(struct uart_state) <= SHADOW_PRIV_SIZE, "shadow page too small");
	u->s = d->shadow ? (struct uart_state *)(void *)d->shadow->priv : &u->own;
	if (u->s->magic != UART_STATE_MAGIC) {
		memset(u->s, 0, sizeof(*u->s));
		u->s->magic = UART_STATE_MAGIC;
	} else {
		log_info("%s: restarted with its registers and %u input bytes", d->name,
			 u->s->rx_len);
	}
	d->priv = u;
	int fl = fcntl(u->in_fd, F_GETFL);
	if (fl < 0)
		u->in_eof = 1;
	uart_publish(d);
	uart_arm_input(d);
	return 0;
}

static uint64_t uart_read(struct device *d, uint64_t off, unsigned size)
{
	(void)size;
	struct uart *u = d->priv;
	uint8_t v = 0;
	switch (off) {
	case RBR:
		if (u->s->lcr & LCR_DLAB) {
			v = u->s->dll;
		} else if (u->s->rx_len) {
			v = u->s->rx[u->s->rx_head];
			u->s->rx_head = (u->s->rx_head + 1) % RX_SIZE;
			u->s->rx_len--;
			uart_arm_input(d);
		}
		break;
	case IIR:
		if ((u->s->ier & 1) && u->s->rx_len)
			v = 0x04;
		else if ((u->s->ier & 2) && u->s->thre_pending) {
			v = 0x02;
			u->s->thre_pending = 0;
		} else
			v = 0x01;
		if (u->s->fcr & 1)
			v |= 0xc0;
		break;
	default: v = uart_reg(u->s, (unsigned)off); break;
	}
	uart_publish(d);
	return v;
}

static void uart_write(struct device *d, uint64_t off, unsigned size, uint64_t val)
{
	(void)size;
	struct uart *u = d->priv;
	uint8_t v = (uint8_t)val;
	switch (off) {
	case RBR:
		if (u->s->lcr & LCR_DLAB)
			u->s->dll = v;
		else if (u->s->mcr & MCR_LOOP)
			uart_rx_push(u, v);
		else
			uart_out(d, v);
		u->s->thre_pending = 1;
		break;
	case IER:
		if (u->s->lcr & LCR_DLAB)
			u->s->dlm = v;
		else {
			if ((v & 2) && !(u->s->ier & 2))
				u->s->thre_pending = 1;
			u->s->ier = v & 0x0f;
		}
		break;
	case IIR:
		u->s->fcr = v;
		if (v & 2)
			u->s->rx_len = 0;
		break;
	case LCR: u->s->lcr = v; break;
	case MCR: u->s->mcr = v & 0x1f; break;
	case SCR: u->s->scr = v; break;
	}
	uart_publish(d);
}

static void uart_io_complete(struct device *d, uint32_t tag, int32_t res)
{
	struct uart *u = d->priv;
	if (tag == TAG_STDIN) {
		u->in_armed = 0;
		if (res < 0 || (res & (POLLERR | POLLNVAL))) {
			u->in_eof = 1;
			return;
		}
		uint8_t buf[256];
		unsigned room = RX_SIZE - u->s->rx_len;
		ssize_t n = read(u->in_fd, buf, room < sizeof(buf) ? room : sizeof(buf));
		if (n <= 0) {
			if (n == 0 || (errno != EAGAIN && errno != EINTR))
				u->in_eof = 1;
		} else {
			for (ssize_t k = 0; k < n; k++)
				uart_rx_push(u, buf[k]);
		}
		uart_publish(d);
		uart_arm_input(d);
	} else if (tag == TAG_STDOUT) {
		u->writing = 0;
		if (res > 0 && (unsigned)res < u->fly_len - u->fly_off) {
			u->fly_off += (unsigned)res;
			if (devloop_write(d->loop, u->out_fd, u->fly + u->fly_off,
					  u->fly_len - u->fly_off, TAG_STDOUT) == 0)
				u->writing = 1;
			return;
		}
		uart_flush_out(d);
	}
}

static void uart_idle(struct device *d)
{
	uart_flush_out(d);
}

static void write_all(int fd, const char *p, unsigned n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (unsigned)w;
	}
}

static void uart_stop(struct device *d)
{
	struct uart *u = d->priv;
	/* main.c has waited for the in-flight write; only the pending bytes
	 * remain, and they go after it, in order. */
	write_all(u->out_fd, u->pend, u->pend_len);
	u->pend_len = 0;
	u->writing = 0;
}

const struct device_ops uart16550_ops = {
    .name = "uart16550",
    .init = uart_init,
    .mmio_read = uart_read,
    .mmio_write = uart_write,
    .io_complete = uart_io_complete,
    .idle = uart_idle,
    .stop = uart_stop,
};
