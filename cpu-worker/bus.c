/* The physical bus outside RAM, as one vCPU sees it: the CLINT (served from
 * the board page), the test finisher, HTIF tohost, and device windows served
 * by device processes (shadow page for hot registers, posted writes, read
 * round trips). */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "../common/futex.h"
#include "../common/log.h"
#include "../common/zmsg.h"
#include "hart.h"

#define CLINT_BASE 0x2000000ull
#define CLINT_SIZE 0x10000ull
#define PLIC_BASE 0xc000000ull
#define PLIC_SIZE 0x4000000ull
#define FINISHER_BASE 0x100000ull
#define FINISHER_SIZE 0x1000ull

static int clint_load(struct hart *h, uint64_t off, unsigned size, uint64_t *val)
{
	uint32_t n = h->board->nharts;
	if (off < 0x4000) {
		if (size != 4 || off % 4 || off / 4 >= n)
			return off / 4 < n ? EXC_LOAD_ACCESS : (*val = 0, 0);
		*val = (__atomic_load_n(&h->board->hart[off / 4].ip, __ATOMIC_ACQUIRE) & IRQ_MSIP)
			   ? 1
			   : 0;
		return 0;
	}
	if (off >= 0x4000 && off < 0xbff8) {
		uint64_t i = (off - 0x4000) / 8;
		if (i >= n) {
			*val = 0;
			return 0;
		}
		uint64_t v = __atomic_load_n(&h->board->hart[i].mtimecmp, __ATOMIC_RELAXED);
		*val = size == 8 ? v : (v >> (8 * (off & 4)));
		if (size == 4)
			*val &= 0xffffffffull;
		return (size == 4 || size == 8) && off % size == 0 ? 0 : EXC_LOAD_ACCESS;
	}
	if (off >= 0xbff8 && off < 0xc000) {
		uint64_t t = board_mtime(h->board);
		if (size == 8 && off == 0xbff8)
			*val = t;
		else if (size == 4 && off % 4 == 0)
			*val = (t >> (8 * (off & 4))) & 0xffffffffull;
		else
			return EXC_LOAD_ACCESS;
		return 0;
	}
	*val = 0;
	return 0;
}

static int clint_store(struct hart *h, uint64_t off, unsigned size, uint64_t val)
{
	uint32_t n = h->board->nharts;
	if (off < 0x4000) {
		if (size != 4 || off % 4)
			return EXC_STORE_ACCESS;
		if (off / 4 >= n)
			return 0;
		struct board_hart *t = &h->board->hart[off / 4];
		if (val & 1)
			__atomic_fetch_or(&t->ip, IRQ_MSIP, __ATOMIC_ACQ_REL);
		else
			__atomic_fetch_and(&t->ip, ~IRQ_MSIP, __ATOMIC_ACQ_REL);
		board_wake(t);
		return 0;
	}
	if (off >= 0x4000 && off < 0xbff8) {
		uint64_t i = (off - 0x4000) / 8;
		if ((size != 4 && size != 8) || off % size)
			return EXC_STORE_ACCESS;
		if (i >= n)
			return 0;
		struct board_hart *t = &h->board->hart[i];
		uint64_t v = __atomic_load_n(&t->mtimecmp, __ATOMIC_RELAXED);
		if (size == 8) {
			v = val;
		} else {
			unsigned sh = 8 * (unsigned)(off & 4);
			v = (v & ~(0xffffffffull << sh)) | ((val & 0xffffffffull) << sh);
		}
		__atomic_store_n(&t->mtimecmp, v, __ATOMIC_RELEASE);
		if (t == h->bh)
			hart_poll_timer(h);
		else
			board_wake(t);
		return 0;
	}
	return 0; /* mtime is the host clock: writes are ignored */
}

/* Waits (up to 2 s) until device `d` has handled every message this hart
 * sent it. */
static void sync_device(struct hart *h, struct dev_window *d)
{
	struct proto_msg m = {.op = OP_SYNC, .id = ++h->mmio_id};
	if (zmsg_send(d->sock, NULL, 0, &m))
		return;
	zmq_pollitem_t pi = {.socket = d->sock, .events = ZMQ_POLLIN};
	for (int tries = 0; tries < 20; tries++) {
		if (zmq_poll(&pi, 1, 100) <= 0)
			continue;
		struct proto_msg r;
		char why[128];
		if (zmsg_recv(d->sock, NULL, NULL, &r, ZMQ_DONTWAIT, why, sizeof(why)) == 0 &&
		    r.op == OP_SYNC_REPLY && r.id == m.id) {
			d->posted = 0;
			return;
		}
	}
}

/* Tells a sleeping device that its ring has writes (common/postring.h). */
static void kick(struct dev_window *d)
{
	struct proto_msg m = {.op = OP_KICK};
	zmsg_send(d->sock, NULL, 0, &m);
}

/* One step of waiting for device `d` to make progress on its ring: spins
 * first, then yields the CPU (the device may need it), then sleeps. Returns
 * the number of steps so far; says so once when the wait gets long. */
static unsigned ring_pause(struct hart *h, struct dev_window *d, unsigned tries, const char *what)
{
	if (post_ring_needs_kick(shadow_ring(d->shadow)))
		kick(d);
	if (tries < 64) {
		__builtin_ia32_pause();
	} else if (tries < 1024) {
		sched_yield();
	} else {
		struct timespec ts = {0, 100 * 1000};
		nanosleep(&ts, NULL);
		if (tries == 1024 + 50000) /* about 5 s */
			log_err("hart %u: device %s has not %s for 5 s; still waiting", h->hartid,
				d->name, what);
	}
	return tries + 1;
}

/* A posted write: through the device's ring when it has one (every hart's
 * writes in one order), else a message on this hart's socket. */
static int dev_post(struct hart *h, struct dev_window *d, uint64_t off, unsigned size, uint64_t val)
{
	if (!d->shadow) {
		struct proto_msg m = {.op = OP_MMIO_WRITE, .addr = off, .size = size, .value = val};
		d->posted = 1;
		return zmsg_send(d->sock, NULL, 0, &m) ? EXC_STORE_ACCESS : 0;
	}
	struct post_ring *r = shadow_ring(d->shadow);
	uint64_t t;
	for (unsigned tries = 0; !(t = post_ring_push(r, (uint32_t)off, size, val));)
		tries = ring_pause(h, d, tries, "made room for a write");
	d->ticket = t;
	if (post_ring_needs_kick(r))
		kick(d);
	return 0;
}

void bus_sync_devices(struct hart *h)
{
	for (uint32_t i = 0; i < h->ndev; i++)
		sync_device(h, &h->dev[i]);
}

void bus_fence_io(struct hart *h)
{
	for (uint32_t i = 0; i < h->ndev; i++)
		if (h->dev[i].posted)
			sync_device(h, &h->dev[i]);
}

void bus_settle_line(struct hart *h, unsigned src)
{
	for (uint32_t i = 0; i < h->ndev; i++) {
		struct dev_window *d = &h->dev[i];
		if (d->irq != src)
			continue;
		if (d->posted)
			sync_device(h, d);
		/* Ring writes: wait (up to about 2 s) until the device has them. */
		for (unsigned tries = 0; d->shadow &&
					 !post_ring_done(shadow_ring(d->shadow), d->ticket) &&
					 tries < 1024 + 20000;)
			tries = ring_pause(h, d, tries, "handled a write");
	}
}

/* Ends this hart's process after asking the VM to stop (BOARD_SHUTDOWN) or
 * reset (BOARD_REBOOT); shoal acts on the request when the process exits. */
static __attribute__((noreturn)) void guest_stop(struct hart *h, uint32_t state, int code,
						 const char *why)
{
	if (board_request_stop(h->board, state, code))
		log_debug("hart %u: %s, exit code %d", h->hartid, why, code);
	bus_sync_devices(h);
	exit(0);
}

void bus_guest_exit(struct hart *h, int code, const char *why)
{
	guest_stop(h, BOARD_SHUTDOWN, code, why);
}

static int htif_store(struct hart *h, uint64_t addr)
{
	uint64_t v;
	memcpy(&v, h->ram + (addr & ~7ull) - 0x80000000ull, 8);
	if (v == 0)
		return 0;
	if (v & 1)
		bus_guest_exit(h, (int)((v >> 1) & 0x7fffffff), "HTIF tohost");
	if ((v >> 56) == 1 && ((v >> 48) & 0xff) == 1 && h->ndev) {
		/* console putchar: hand it to the first device (the UART) */
		dev_post(h, &h->dev[0], 0, 1, v & 0xff);
	}
	uint64_t zero = 0;
	memcpy(h->ram + (addr & ~7ull) - 0x80000000ull, &zero, 8);
	return 0;
}

static struct dev_window *dev_find(struct hart *h, uint64_t addr, unsigned size)
{
	for (uint32_t i = 0; i < h->ndev; i++) {
		struct dev_window *d = &h->dev[i];
		if (addr - d->base < d->size && addr - d->base + size <= d->size)
			return d;
	}
	return NULL;
}

static int dev_read(struct hart *h, struct dev_window *d, uint64_t off, unsigned size,
		    uint64_t *val)
{
	if (d->shadow && shadow_current(d->shadow, off, size)) {
		uint64_t v = 0;
		if (size == 4 && !(off & 3)) {
			v = __atomic_load_n((uint32_t *)(void *)&d->shadow->regs[off],
					    __ATOMIC_ACQUIRE);
		} else {
			for (unsigned i = 0; i < size; i++)
				v |= (uint64_t)__atomic_load_n(&d->shadow->regs[off + i],
							       __ATOMIC_ACQUIRE)
				     << (8 * i);
		}
		*val = v;
		return 0;
	}
	struct proto_msg m = {.op = OP_MMIO_READ, .id = ++h->mmio_id, .addr = off, .size = size};
	if (zmsg_send(d->sock, NULL, 0, &m))
		return EXC_LOAD_ACCESS;
	zmq_pollitem_t pi = {.socket = d->sock, .events = ZMQ_POLLIN};
	int waited = 0;
	for (;;) {
		int r = zmq_poll(&pi, 1, 200);
		if (r < 0 && errno != EINTR)
			return EXC_LOAD_ACCESS;
		if (r <= 0) {
			/* A device that died and was restarted lost the request:
			 * ask again (same id; a late duplicate reply is dropped). */
			zmsg_send(d->sock, NULL, 0, &m);
			if (++waited == 25)
				log_err("hart %u: device %s has not answered a read for 5 s; still "
					"waiting",
					h->hartid, d->name);
			continue;
		}
		struct proto_msg rep;
		char why[128];
		int e = zmsg_recv(d->sock, NULL, NULL, &rep, ZMQ_DONTWAIT, why, sizeof(why));
		if (e == -EAGAIN)
			continue;
		if (e) {
			log_err("hart %u: bad reply from device %s: %s", h->hartid, d->name, why);
			continue;
		}
		if (rep.id != m.id)
			continue; /* a stale reply */
		if (rep.op == OP_ERROR)
			return EXC_LOAD_ACCESS;
		if (rep.op != OP_MMIO_REPLY)
			continue;
		d->posted = 0; /* the reply follows every earlier write */
		*val = size == 8 ? rep.value : rep.value & ((1ull << (8 * size)) - 1);
		return 0;
	}
}

int bus_load(struct hart *h, uint64_t addr, unsigned size, uint64_t *val)
{
	uint64_t off = addr - 0x80000000ull;
	if (off < h->ram_size && off + size <= h->ram_size) {
		uint64_t v = 0;
		memcpy(&v, h->ram + off, size);
		*val = v;
		return 0;
	}
	if (addr - CLINT_BASE < CLINT_SIZE)
		return clint_load(h, addr - CLINT_BASE, size, val);
	if (addr - PLIC_BASE < PLIC_SIZE)
		return plic_load(h, addr - PLIC_BASE, size, val);
	if (addr - FINISHER_BASE < FINISHER_SIZE) {
		*val = 0;
		return 0;
	}
	struct dev_window *d = dev_find(h, addr, size);
	if (d)
		return dev_read(h, d, addr - d->base, size, val);
	return EXC_LOAD_ACCESS;
}

int bus_store(struct hart *h, uint64_t addr, unsigned size, uint64_t val)
{
	uint64_t off = addr - 0x80000000ull;
	if (off < h->ram_size && off + size <= h->ram_size) {
		memcpy(h->ram + off, &val, size);
		if ((addr & ~7ull) == h->tohost)
			return htif_store(h, addr);
		return 0;
	}
	if (addr - CLINT_BASE < CLINT_SIZE)
		return clint_store(h, addr - CLINT_BASE, size, val);
	if (addr - PLIC_BASE < PLIC_SIZE)
		return plic_store(h, addr - PLIC_BASE, size, val);
	if (addr - FINISHER_BASE < FINISHER_SIZE) {
		if (addr == FINISHER_BASE) {
			uint32_t v = (uint32_t)val, st = v & 0xffff;
			if (st == 0x5555)
				bus_guest_exit(h, 0, "test finisher pass");
			if (st == 0x3333)
				bus_guest_exit(h, (int)(v >> 16), "test finisher fail");
			if (st == 0x7777)
				guest_stop(h, BOARD_REBOOT, 0, "test finisher reset");
		}
		return 0;
	}
	struct dev_window *d = dev_find(h, addr, size);
	if (d && d->shadow && d->shadow->isr_off && addr - d->base == d->shadow->ack_off &&
	    size == 4) {
		/* Interrupt acknowledge: cleared here, no message (common/shadow.h). */
		shadow_isr_ack(d->shadow, h->board, (uint32_t)val);
		return 0;
	}
	if (d)
		return dev_post(h, d, addr - d->base, size, val);
	return EXC_STORE_ACCESS;
}
