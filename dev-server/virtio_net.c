/* virtio-net: Ethernet frames between the guest's queues and a backend fd
 * (inherited as fd 3 from shoal, which keeps its own copy so a restarted
 * device finds the same backend): a SOCK_SEQPACKET socket to shoal-net
 * (user-mode networking) or a TAP device. One frame per message/read.
 *
 * --args: "mac=52:54:00:12:34:56". Queue 0 receives, queue 1 transmits. A
 * frame in flight when the process dies may be sent twice or lost; TCP
 * recovers either (DESIGN: network requests are at-least-once). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../common/log.h"
#include "virtio.h"

#define VIRTIO_ID_NET 1
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_STATUS 16
#define NET_HDR 12 /* struct virtio_net_hdr with num_buffers (VERSION_1) */
#define FRAME_MAX 65536
#define RXQ 0
#define TXQ 1
#define BACKEND_FD 3

enum { TAG_BACKEND = 1 };

struct net {
	struct virtio_dev v;
	uint8_t mac[6];
	int fd;
	int polling; /* a poll on the backend is in flight */
	uint8_t frame[FRAME_MAX];
	int frame_len; /* > 0: a frame read from the backend, not yet delivered */
	struct vq_elem e;
};

static unsigned net_config(struct virtio_dev *v, uint8_t *cfg, unsigned cap)
{
	struct net *n = v->priv;
	if (cap < 8)
		return 0;
	memcpy(cfg, n->mac, 6);
	cfg[6] = 1; /* status: link up */
	cfg[7] = 0;
	return 8;
}

static void net_arm(struct net *n)
{
	if (!n->polling && devloop_poll(n->v.dev->loop, n->fd, POLLIN, TAG_BACKEND) == 0)
		n->polling = 1;
}

/* Sends every frame the guest queued for transmission. */
static void net_tx(struct net *n, uint16_t head)
{
	struct vq_elem *e = &n->e;
	vq_parse_chain(&n->v, TXQ, head, e);
	if (!e->bad && e->nin == 0 && e->out_len > NET_HDR) {
		/* Skip the header, then send the rest as one frame. */
		struct iovec iov[VQ_MAX_SEGS];
		unsigned k = 0;
		size_t skip = NET_HDR;
		for (unsigned i = 0; i < e->nout; i++) {
			size_t len = e->iov[i].iov_len;
			if (skip >= len) {
				skip -= len;
				continue;
			}
			iov[k].iov_base = (uint8_t *)e->iov[i].iov_base + skip;
			iov[k++].iov_len = len - skip;
			skip = 0;
		}
		if (writev(n->fd, iov, (int)k) < 0 && errno != EAGAIN && errno != ENOBUFS)
			log_err("%s: backend write: %s", n->v.dev->name, strerror(errno));
	}
	vq_push(&n->v, TXQ, head, 0);
}

/* Delivers the held frame into one guest receive buffer; returns 0 when
 * the guest has none (the frame stays held). */
static int net_deliver(struct net *n)
{
	uint16_t head;
	if (!vq_pop(&n->v, RXQ, &head))
		return 0;
	struct vq_elem *e = &n->e;
	vq_parse_chain(&n->v, RXQ, head, e);
	uint32_t written = 0;
	if (!e->bad && e->nout == 0 && e->in_len >= NET_HDR + (uint32_t)n->frame_len) {
		uint8_t hdr[NET_HDR] = {0};
		hdr[10] = 1; /* num_buffers */
		const uint8_t *src[2] = {hdr, n->frame};
		size_t left[2] = {NET_HDR, (size_t)n->frame_len};
		unsigned part = 0;
		for (unsigned i = e->nout; i < e->nout + e->nin && part < 2; i++) {
			uint8_t *dst = e->iov[i].iov_base;
			size_t room = e->iov[i].iov_len;
			while (room && part < 2) {
				size_t k = left[part] < room ? left[part] : room;
				memcpy(dst, src[part], k);
				dst += k;
				room -= k;
				src[part] += k;
				left[part] -= k;
				written += (uint32_t)k;
				if (!left[part])
					part++;
			}
		}
	}
	/* A buffer too small or malformed gets the frame dropped, not stuck. */
	vq_push(&n->v, RXQ, head, written);
	n->frame_len = 0;
	return 1;
}

/* Moves frames from the backend into guest buffers while both have some. */
static void net_rx(struct net *n)
{
	for (;;) {
		if (n->frame_len == 0) {
			ssize_t r = read(n->fd, n->frame, sizeof(n->frame));
			if (r <= 0)
				break;
			n->frame_len = (int)r;
		}
		if (!net_deliver(n))
			return; /* held: wait for the guest to post buffers (rx notify) */
	}
	net_arm(n);
}

static void net_notify(struct virtio_dev *v, unsigned q)
{
	struct net *n = v->priv;
	if (q == TXQ) {
		uint16_t head;
		while (vq_pop(v, TXQ, &head))
			net_tx(n, head);
	} else if (n->frame_len) {
		net_rx(n);
	} else {
		net_arm(n);
	}
}

static void net_resubmit(struct virtio_dev *v, unsigned q, uint16_t head)
{
	struct net *n = v->priv;
	if (q == TXQ) {
		net_tx(n, head); /* sent again: at-least-once */
	} else {
		vq_push(v, RXQ, head, 0); /* an empty receive: the frame was lost */
	}
}

static void net_reset(struct virtio_dev *v)
{
	struct net *n = v->priv;
	n->frame_len = 0;
}

static const struct virtio_ops net_vops = {
    .device_id = VIRTIO_ID_NET,
    .nqueues = 2,
    .features = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS),
    .config = net_config,
    .notify = net_notify,
    .reset = net_reset,
    .resubmit = net_resubmit,
};

static int net_init(struct device *d, const char *args)
{
	struct net *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	unsigned m[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	const char *mac = strstr(args, "mac=");
	if (mac &&
	    sscanf(mac + 4, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6) {
		log_err("%s: bad mac in '%s'", d->name, args);
		free(n);
		return -EINVAL;
	}
	for (int i = 0; i < 6; i++)
		n->mac[i] = (uint8_t)m[i];
	n->fd = BACKEND_FD;
	if (fcntl(n->fd, F_SETFL, fcntl(n->fd, F_GETFL) | O_NONBLOCK) < 0) {
		log_err("%s: no backend on fd %d: %s", d->name, BACKEND_FD, strerror(errno));
		free(n);
		return -EBADF;
	}
	n->v.priv = n;
	d->priv = n;
	int r = virtio_init(&n->v, d, &net_vops);
	if (r < 0)
		return r;
	if (r == 1)
		virtio_recover(&n->v);
	net_arm(n);
	return 0;
}

static void net_io_complete(struct device *d, uint32_t tag, int32_t res)
{
	(void)tag;
	(void)res;
	struct net *n = d->priv;
	n->polling = 0;
	net_rx(n);
}

const struct device_ops virtio_net_ops = {
    .name = "virtio-net",
    .init = net_init,
    .mmio_read = virtio_dev_mmio_read,
    .mmio_write = virtio_dev_mmio_write,
    .io_complete = net_io_complete,
    .idle = virtio_dev_idle,
};
