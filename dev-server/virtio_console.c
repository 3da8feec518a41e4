/* virtio-console (one port, no multiport): a byte stream between the guest
 * and shoal, which relays it to whoever connects to RUNDIR/NAME.sock.
 * Exactly once in both directions, across device restarts:
 *
 * - guest to host (queue 1) goes out on fd 3 (SOCK_SEQPACKET) as messages
 *   [u64 stream offset][bytes]; one request at a time, its start offset
 *   kept in the shadow page before it is sent, so a redone request carries
 *   the same offsets and shoal drops what it already delivered;
 * - host to guest (queue 0) comes in on fd 4 (SOCK_STREAM): bytes are
 *   peeked into the guest's buffer and consumed only after the completion
 *   is published; the pending count and its used slot are kept in the
 *   shadow page, so after a crash they are consumed exactly when the guest
 *   got them. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../common/log.h"
#include "virtio.h"

#define VIRTIO_ID_CONSOLE 3
#define RXQ 0
#define TXQ 1
#define TX_FD 3
#define RX_FD 4
#define VCON_MAGIC 0x56434f4eu /* "VCON" */
#define NO_HEAD 0xffffffffu

enum { TAG_RX = 1, TAG_TX = 2 };

/* Stream state after the transport's, in the shadow page. */
struct vcon_state {
	uint32_t magic;
	uint32_t tx_head;      /* the request being sent, NO_HEAD for none */
	uint64_t tx_start;     /* its first byte's stream offset */
	uint64_t tx_off;       /* the next stream offset to assign */
	uint32_t rx_pending;   /* bytes peeked into a completed receive... */
	uint16_t rx_used_slot; /* ...whose used slot is this: consume them once
				* used_idx has passed it */
	uint16_t pad;
};

struct vcon {
	struct virtio_dev v;
	struct vcon_state *s;
	struct vq_elem e;
	int rx_polling, tx_polling;
	uint8_t buf[65536 + 8];
};

static void arm(struct vcon *c, int fd, unsigned ev, int *flag, uint32_t tag)
{
	if (!*flag && devloop_poll(c->v.dev->loop, fd, ev, tag) == 0)
		*flag = 1;
}

/* Consumes the bytes a published receive took (see vcon_state). */
static void rx_settle(struct vcon *c)
{
	struct vcon_state *s = c->s;
	if (!s->rx_pending)
		return;
	if ((int16_t)(c->v.st->q[RXQ].used_idx - s->rx_used_slot) > 0) {
		uint8_t sink[4096];
		uint32_t left = s->rx_pending;
		while (left) {
			ssize_t n = recv(RX_FD, sink, left < sizeof(sink) ? left : sizeof(sink),
					 MSG_DONTWAIT);
			if (n <= 0)
				break;
			left -= (uint32_t)n;
		}
	}
	s->rx_pending = 0;
}

/* Moves host bytes into guest receive buffers while both have some. */
static void vcon_rx(struct vcon *c)
{
	for (;;) {
		rx_settle(c);
		ssize_t avail = recv(RX_FD, c->buf, sizeof(c->buf), MSG_PEEK | MSG_DONTWAIT);
		if (avail <= 0) {
			if (avail == 0)
				return; /* shoal closed its end: nothing more will come */
			break;
		}
		uint16_t head;
		if (!vq_pop(&c->v, RXQ, &head))
			return; /* no guest buffer: the rx notify brings us back */
		struct vq_elem *e = &c->e;
		vq_parse_chain(&c->v, RXQ, head, e);
		uint32_t done = 0;
		for (unsigned i = e->nout; !e->bad && i < e->nout + e->nin && done < avail; i++) {
			size_t k = e->iov[i].iov_len < (size_t)avail - done ? e->iov[i].iov_len
									    : (size_t)avail - done;
			memcpy(e->iov[i].iov_base, c->buf + done, k);
			done += (uint32_t)k;
		}
		c->s->rx_used_slot = c->v.st->q[RXQ].used_idx;
		__atomic_store_n(&c->s->rx_pending, done, __ATOMIC_RELEASE);
		vq_push(&c->v, RXQ, head, done);
	}
	arm(c, RX_FD, POLLIN, &c->rx_polling, TAG_RX);
}

/* Sends request `head` from stream offset c->s->tx_start. Returns 0 when
 * the socket is full (retry when writable), 1 when done. */
static int tx_send(struct vcon *c, uint16_t head)
{
	struct vq_elem *e = &c->e;
	vq_parse_chain(&c->v, TXQ, head, e);
	uint32_t len = 0;
	memcpy(c->buf, &c->s->tx_start, 8);
	for (unsigned i = 0; !e->bad && i < e->nout && len < sizeof(c->buf) - 8; i++) {
		size_t k = e->iov[i].iov_len < sizeof(c->buf) - 8 - len ? e->iov[i].iov_len
									: sizeof(c->buf) - 8 - len;
		memcpy(c->buf + 8 + len, e->iov[i].iov_base, k);
		len += (uint32_t)k;
	}
	if (len && send(TX_FD, c->buf, 8 + len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		if (errno == EAGAIN || errno == ENOBUFS)
			return 0;
		log_err("%s: console output: %s", c->v.dev->name, strerror(errno));
	}
	uint64_t end = c->s->tx_start + len;
	if (end > c->s->tx_off)
		__atomic_store_n(&c->s->tx_off, end, __ATOMIC_RELEASE);
	vq_push(&c->v, TXQ, head, 0);
	__atomic_store_n(&c->s->tx_head, NO_HEAD, __ATOMIC_RELEASE);
	return 1;
}

static void vcon_tx(struct vcon *c)
{
	for (;;) {
		uint16_t head;
		if (c->s->tx_head == NO_HEAD) {
			if (!vq_pop(&c->v, TXQ, &head))
				return;
			c->s->tx_start = c->s->tx_off;
			__atomic_store_n(&c->s->tx_head, head, __ATOMIC_RELEASE);
		}
		if (!tx_send(c, (uint16_t)c->s->tx_head)) {
			arm(c, TX_FD, POLLOUT, &c->tx_polling, TAG_TX);
			return;
		}
	}
}

static void vcon_notify(struct virtio_dev *v, unsigned q)
{
	struct vcon *c = v->priv;
	if (q == TXQ)
		vcon_tx(c);
	else
		vcon_rx(c);
}

static void vcon_resubmit(struct virtio_dev *v, unsigned q, uint16_t head)
{
	struct vcon *c = v->priv;
	if (q == TXQ) {
		/* The one request being sent: again, with the same offsets. */
		if (c->s->tx_head != head) {
			c->s->tx_start = c->s->tx_off;
			c->s->tx_head = head;
		}
		if (!tx_send(c, head))
			arm(c, TX_FD, POLLOUT, &c->tx_polling, TAG_TX);
	} else {
		/* A receive not yet completed: nothing was consumed for it. */
		c->s->rx_pending = 0;
		vq_push(v, RXQ, head, 0);
	}
}

static void vcon_reset(struct virtio_dev *v)
{
	struct vcon *c = v->priv;
	c->s->tx_head = NO_HEAD;
	rx_settle(c);
}

static const struct virtio_ops vcon_vops = {
    .device_id = VIRTIO_ID_CONSOLE,
    .nqueues = 2,
    .notify = vcon_notify,
    .reset = vcon_reset,
    .resubmit = vcon_resubmit,
};

static int vcon_init(struct device *d, const char *args)
{
	(void)args;
	struct vcon *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	_Static_assert(sizeof(struct virtio_state) + sizeof(struct vcon_state) <= SHADOW_PRIV_SIZE,
		       "shadow page too small");
	if (!d->shadow || fcntl(TX_FD, F_GETFD) < 0 || fcntl(RX_FD, F_GETFD) < 0) {
		log_err("%s: needs a shadow page and its streams on fds 3 and 4", d->name);
		free(c);
		return -EBADF;
	}
	c->s = (struct vcon_state *)(void *)(d->shadow->priv + sizeof(struct virtio_state));
	c->v.priv = c;
	d->priv = c;
	int r = virtio_init(&c->v, d, &vcon_vops);
	if (r < 0)
		return r;
	if (r == 0 || c->s->magic != VCON_MAGIC) {
		memset(c->s, 0, sizeof(*c->s));
		c->s->tx_head = NO_HEAD;
		c->s->magic = VCON_MAGIC;
	}
	if (r == 1) {
		rx_settle(c); /* before recovery can redo or reuse anything */
		/* A request whose completion was counted before the crash is
		 * not being sent any more. */
		if (c->s->tx_head != NO_HEAD && !vq_in_flight(&c->v, TXQ, (uint16_t)c->s->tx_head))
			c->s->tx_head = NO_HEAD;
		virtio_recover(&c->v);
	}
	arm(c, RX_FD, POLLIN, &c->rx_polling, TAG_RX);
	return 0;
}

static void vcon_io_complete(struct device *d, uint32_t tag, int32_t res)
{
	(void)res;
	struct vcon *c = d->priv;
	if (tag == TAG_RX) {
		c->rx_polling = 0;
		vcon_rx(c);
	} else {
		c->tx_polling = 0;
		vcon_tx(c);
	}
}

static void vcon_idle(struct device *d)
{
	struct vcon *c = d->priv;
	virtio_flush(&c->v);
	rx_settle(c); /* counted: consume what the guest got */
}

const struct device_ops virtio_console_ops = {
    .name = "virtio-console",
    .init = vcon_init,
    .mmio_read = virtio_dev_mmio_read,
    .mmio_write = virtio_dev_mmio_write,
    .io_complete = vcon_io_complete,
    .idle = vcon_idle,
};
