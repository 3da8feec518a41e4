/* shoal-dev: one device instance per process. The main loop is io_uring:
 * the ZeroMQ socket's fd, signals and the device's own file I/O are all
 * completions on one ring.
 *
 * Usage (spawned by shoal):
 *   shoal-dev --type TYPE --name NAME --endpoint ipc://PATH --mem-sock PATH
 *             [--shadow INDEX] [--irq SOURCE] [--ram-nodes N] [--args STRING]
 */
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <zmq.h>

#include "../common/log.h"
#include "../common/memclient.h"
#include "../common/util.h"
#include "../common/zmsg.h"
#include "device.h"

/* user_data: high 32 bits say whose completion it is. */
#define UD_ZMQ (1ull << 32)
#define UD_SIGNAL (2ull << 32)
#define UD_DEVICE (3ull << 32)

struct devloop {
	struct io_uring ring;
	unsigned dev_inflight;
};

static const struct device_ops *const device_types[] = {
    &uart16550_ops,  &goldfish_rtc_ops, &virtio_blk_ops,
    &virtio_rng_ops, &virtio_net_ops,	&virtio_console_ops,
};

static struct io_uring_sqe *get_sqe(struct devloop *l)
{
	struct io_uring_sqe *s = io_uring_get_sqe(&l->ring);
	if (!s) {
		io_uring_submit(&l->ring);
		s = io_uring_get_sqe(&l->ring);
	}
	return s;
}

int devloop_poll(struct devloop *l, int fd, unsigned events, uint32_t tag)
{
	struct io_uring_sqe *s = get_sqe(l);
	if (!s)
		return -EBUSY;
	io_uring_prep_poll_add(s, fd, events);
	io_uring_sqe_set_data64(s, UD_DEVICE | tag);
	l->dev_inflight++;
	return 0;
}

int devloop_write(struct devloop *l, int fd, const void *buf, unsigned len, uint32_t tag)
{
	struct io_uring_sqe *s = get_sqe(l);
	if (!s)
		return -EBUSY;
	io_uring_prep_write(s, fd, buf, len, (uint64_t)-1);
	io_uring_sqe_set_data64(s, UD_DEVICE | tag);
	l->dev_inflight++;
	return 0;
}

int devloop_readv(struct devloop *l, int fd, const struct iovec *iov, unsigned n, uint64_t off,
		  uint32_t tag)
{
	struct io_uring_sqe *s = get_sqe(l);
	if (!s)
		return -EBUSY;
	io_uring_prep_readv(s, fd, iov, n, off);
	io_uring_sqe_set_data64(s, UD_DEVICE | tag);
	l->dev_inflight++;
	return 0;
}

int devloop_writev(struct devloop *l, int fd, const struct iovec *iov, unsigned n, uint64_t off,
		   uint32_t tag)
{
	struct io_uring_sqe *s = get_sqe(l);
	if (!s)
		return -EBUSY;
	io_uring_prep_writev(s, fd, iov, n, off);
	io_uring_sqe_set_data64(s, UD_DEVICE | tag);
	l->dev_inflight++;
	return 0;
}

int devloop_fsync(struct devloop *l, int fd, int datasync, uint32_t tag)
{
	struct io_uring_sqe *s = get_sqe(l);
	if (!s)
		return -EBUSY;
	io_uring_prep_fsync(s, fd, datasync ? IORING_FSYNC_DATASYNC : 0);
	io_uring_sqe_set_data64(s, UD_DEVICE | tag);
	l->dev_inflight++;
	return 0;
}

static void fail(const char *arg, const char *what)
{
	log_err("%s: %s", arg, what);
	exit(2);
}

/* How long the loop keeps polling the ring after a write before it sleeps:
 * writes come in bursts (a console line, a batch of notifies), and a
 * sleeping device costs the writer a kick and itself a wake-up. */
#define LINGER_NS 30000

/* An MMIO access size a device is asked to serve (others are dropped, or
 * refused for reads). */
static int access_size_ok(uint64_t size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

/* Handles every write published in the device's posted-write ring; returns
 * how many. */
static unsigned drain_posted(struct device *d)
{
	if (!d->shadow)
		return 0;
	struct post_ring *r = shadow_ring(d->shadow);
	const struct post_slot *s;
	unsigned n = 0;
	while ((s = post_ring_peek(r))) {
		if (access_size_ok(s->size))
			d->ops->mmio_write(d, s->off, s->size, s->value);
		post_ring_pop(r);
		n++;
	}
	return n;
}

/* After a burst of ring writes: polls for more until LINGER_NS pass
 * without one, or until an I/O the writes started completes. What the
 * writes queued (a notify's reads, the UART's output) is submitted first. */
static void linger_posted(struct device *d)
{
	struct post_ring *r = shadow_ring(d->shadow);
	struct io_uring *ring = &d->loop->ring;
	io_uring_submit(ring);
	uint64_t until = util_now_ns() + LINGER_NS;
	for (unsigned i = 1;; i++) {
		if (post_ring_peek(r)) {
			drain_posted(d);
			io_uring_submit(ring);
			until = util_now_ns() + LINGER_NS;
		} else if (io_uring_cq_ready(ring)) {
			return;
		} else if (i % 64 == 0 && util_now_ns() > until) {
			return;
		}
		__builtin_ia32_pause();
	}
}

/* Handles every message waiting on the ROUTER. A hart published its ring
 * writes before it sent a message, so they are handled first. */
static void serve_zmq(struct device *d, void *sock)
{
	for (;;) {
		int ev = 0;
		size_t evl = sizeof(ev);
		if (zmq_getsockopt(sock, ZMQ_EVENTS, &ev, &evl) || !(ev & ZMQ_POLLIN))
			return;
		char ident[256];
		size_t il = 0;
		struct proto_msg m, rep = {0};
		char why[128];
		int r = zmsg_recv(sock, ident, &il, &m, ZMQ_DONTWAIT, why, sizeof(why));
		if (r == -EAGAIN)
			return;
		if (r == -EPROTO) {
			rep.op = OP_ERROR;
			snprintf(rep.error, sizeof(rep.error), "%s", why);
			zmsg_send(sock, ident, il, &rep);
			continue;
		}
		if (r)
			return;
		drain_posted(d);
		switch (m.op) {
		case OP_MMIO_WRITE:
			if (access_size_ok(m.size))
				d->ops->mmio_write(d, m.addr, (unsigned)m.size, m.value);
			break; /* posted: no reply, even for a bad size */
		case OP_MMIO_READ:
			if (!access_size_ok(m.size)) {
				rep.op = OP_ERROR;
				rep.id = m.id;
				rep.present = PF_ID;
				snprintf(rep.error, sizeof(rep.error), "bad read size %llu",
					 (unsigned long long)m.size);
			} else {
				rep.op = OP_MMIO_REPLY;
				rep.id = m.id;
				rep.value = d->ops->mmio_read(d, m.addr, (unsigned)m.size);
			}
			zmsg_send(sock, ident, il, &rep);
			break;
		case OP_KICK: break; /* the ring was drained above */
		case OP_SYNC:
			rep.op = OP_SYNC_REPLY;
			rep.id = m.id;
			zmsg_send(sock, ident, il, &rep);
			break;
		default:
			rep.op = OP_ERROR;
			snprintf(rep.error, sizeof(rep.error), "op '%s' is not served by a device",
				 proto_op_name(m.op));
			zmsg_send(sock, ident, il, &rep);
		}
	}
}

int main(int argc, char **argv)
{
	const char *type = NULL, *name = "dev", *endpoint = NULL, *memsock = NULL, *args = "";
	int64_t shadow_idx = -1;
	uint64_t irq = 0, ram_nodes = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			fail(a, "missing value");
		i++;
		if (strcmp(a, "--type") == 0)
			type = v;
		else if (strcmp(a, "--name") == 0)
			name = v;
		else if (strcmp(a, "--endpoint") == 0)
			endpoint = v;
		else if (strcmp(a, "--mem-sock") == 0)
			memsock = v;
		else if (strcmp(a, "--args") == 0)
			args = v;
		else if (strcmp(a, "--shadow") == 0) {
			uint64_t x;
			if (util_parse_u64(v, 0, 63, &x))
				fail(v, "bad shadow index");
			shadow_idx = (int64_t)x;
		} else if (strcmp(a, "--ram-nodes") == 0) {
			if (util_parse_u64(v, 1, MEM_MAX_NODES, &ram_nodes))
				fail(v, "bad RAM node count");
		} else if (strcmp(a, "--irq") == 0) {
			if (util_parse_u64(v, 1, PLIC_SOURCES - 1, &irq))
				fail(v, "bad PLIC source number");
		} else
			fail(a, "unknown option (shoal-dev is started by shoal)");
	}
	char lname[64];
	snprintf(lname, sizeof(lname), "shoal-dev[%s]", name);
	log_init(lname);
	if (!type || !endpoint)
		fail("shoal-dev", "needs --type and --endpoint (it is started by shoal)");
	struct device dev = {0};
	snprintf(dev.name, sizeof(dev.name), "%s", name);
	dev.irq = (unsigned)irq;
	for (size_t i = 0; i < sizeof(device_types) / sizeof(device_types[0]); i++)
		if (strcmp(device_types[i]->name, type) == 0)
			dev.ops = device_types[i];
	if (!dev.ops)
		fail(type, "unknown device type");

	if (memsock) {
		int ms = memclient_connect(memsock);
		if (ms < 0) {
			log_err("cannot reach shoal-mem at %s: %s", memsock, strerror(-ms));
			return 1;
		}
		char why[256];
		uint64_t sz;
		dev.board = memclient_map_region(ms, REGION_BOARD, 0, &sz, why, sizeof(why));
		if (!dev.board) {
			log_err("%s", why);
			return 1;
		}
		if (shadow_idx >= 0) {
			dev.shadow = memclient_map_region(ms, REGION_SHADOW, (uint32_t)shadow_idx,
							  &sz, why, sizeof(why));
			if (!dev.shadow) {
				log_err("%s", why);
				return 1;
			}
		}
		if (ram_nodes) {
			struct guest_ram ram;
			if (memclient_map_ram(ms, (uint32_t)ram_nodes, &ram, why, sizeof(why))) {
				log_err("%s", why);
				return 1;
			}
			dev.ram = ram.host;
			dev.ram_size = ram.size;
		}
		close(ms);
	}

	int sfd = util_stop_signalfd();

	struct devloop loop = {0};
	int r = io_uring_queue_init(64, &loop.ring, 0);
	if (r < 0) {
		log_err("io_uring_queue_init: %s", strerror(-r));
		return 1;
	}
	dev.loop = &loop;

	void *zctx = zmq_ctx_new();
	void *sock = zmsg_router(zctx, endpoint);
	if (!sock) {
		log_err("cannot bind %s: %s", endpoint, zmq_strerror(errno));
		return 1;
	}
	int zfd;
	size_t zl = sizeof(zfd);
	zmq_getsockopt(sock, ZMQ_FD, &zfd, &zl);

	if (dev.ops->init(&dev, args) < 0)
		return 1;

	struct io_uring_sqe *s = get_sqe(&loop);
	io_uring_prep_poll_add(s, sfd, POLLIN);
	io_uring_sqe_set_data64(s, UD_SIGNAL);
	int zmq_armed = 0, stopping = 0;
	while (!stopping) {
		serve_zmq(&dev, sock);
		if (drain_posted(&dev))
			linger_posted(&dev);
		if (dev.ops->idle)
			dev.ops->idle(&dev);
		if (dev.shadow && post_ring_sleep(shadow_ring(dev.shadow)))
			continue; /* a write came in while going to sleep */
		if (!zmq_armed) {
			s = get_sqe(&loop);
			io_uring_prep_poll_add(s, zfd, POLLIN);
			io_uring_sqe_set_data64(s, UD_ZMQ);
			zmq_armed = 1;
		}
		r = io_uring_submit_and_wait(&loop.ring, 1);
		if (r < 0 && r != -EINTR) {
			log_err("io_uring: %s", strerror(-r));
			return 1;
		}
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		io_uring_for_each_cqe(&loop.ring, head, cqe)
		{
			uint64_t ud = io_uring_cqe_get_data64(cqe);
			seen++;
			if (ud == UD_ZMQ) {
				zmq_armed = 0;
			} else if (ud == UD_SIGNAL) {
				stopping = 1;
			} else if ((ud >> 32) == (UD_DEVICE >> 32)) {
				loop.dev_inflight--;
				if (dev.ops->io_complete)
					dev.ops->io_complete(&dev, (uint32_t)ud, cqe->res);
			}
		}
		io_uring_cq_advance(&loop.ring, seen);
		if (dev.shadow)
			post_ring_awake(shadow_ring(dev.shadow));
	}
	/* Orderly stop: serve what the vCPUs already sent, let in-flight writes
	 * land, then flush the rest synchronously. */
	serve_zmq(&dev, sock);
	drain_posted(&dev);
	if (dev.ops->idle)
		dev.ops->idle(&dev);
	for (int spins = 0; spins < 100; spins++) {
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts = {0, 10 * 1000 * 1000};
		io_uring_submit(&loop.ring);
		if (io_uring_wait_cqe_timeout(&loop.ring, &cqe, &ts) != 0)
			break;
		uint64_t ud = io_uring_cqe_get_data64(cqe);
		if ((ud >> 32) == (UD_DEVICE >> 32) && dev.ops->io_complete)
			dev.ops->io_complete(&dev, (uint32_t)ud, cqe->res);
		io_uring_cqe_seen(&loop.ring, cqe);
	}
	if (dev.ops->stop)
		dev.ops->stop(&dev);
	zmq_close(sock);
	zmq_ctx_term(zctx);
	return 0;
}
