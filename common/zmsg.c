#include "zmsg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

static void *zmsg_socket(void *ctx, int type)
{
	void *s = zmq_socket(ctx, type);
	if (!s)
		return NULL;
	int linger = 2000;
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	int64_t maxmsg = PROTO_MAX_BYTES;
	zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
	return s;
}

/* A socket of `type` bound to (or connected to) `endpoint`, or NULL with
 * errno set. */
static void *zmsg_attach(void *ctx, int type, const char *endpoint, int bind)
{
	void *s = zmsg_socket(ctx, type);
	if (!s)
		return NULL;
	if (!bind) {
		/* A peer that is (re)starting (its endpoint not bound yet) is
		 * found within 10 ms, not ZeroMQ's default 100: the first vCPU
		 * access to a device waits for that. */
		int ivl = 10;
		zmq_setsockopt(s, ZMQ_RECONNECT_IVL, &ivl, sizeof(ivl));
	}
	if (type == ZMQ_PUSH) {
		/* Sends never block and are dropped while not connected. */
		int on = 1, hwm = 4096, linger = 0;
		zmq_setsockopt(s, ZMQ_IMMEDIATE, &on, sizeof(on));
		zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof(hwm));
		zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	}
	if ((bind ? zmq_bind(s, endpoint) : zmq_connect(s, endpoint)) != 0) {
		int e = errno;
		zmq_close(s);
		errno = e;
		return NULL;
	}
	return s;
}

void *zmsg_router(void *ctx, const char *endpoint)
{
	return zmsg_attach(ctx, ZMQ_ROUTER, endpoint, 1);
}

void *zmsg_pull(void *ctx, const char *endpoint)
{
	return zmsg_attach(ctx, ZMQ_PULL, endpoint, 1);
}

void *zmsg_push(void *ctx, const char *endpoint)
{
	return zmsg_attach(ctx, ZMQ_PUSH, endpoint, 0);
}

void *zmsg_dealer(void *ctx, const char *endpoint)
{
	return zmsg_attach(ctx, ZMQ_DEALER, endpoint, 0);
}

int zmsg_send(void *sock, const void *ident, size_t ident_len, const struct proto_msg *m)
{
	char buf[512];
	int n = proto_encode(m, buf, sizeof(buf));
	if (n < 0)
		return n;
	if (ident && zmq_send(sock, ident, ident_len, ZMQ_SNDMORE) < 0)
		return -errno;
	if (zmq_send(sock, buf, (size_t)n, 0) < 0)
		return -errno;
	return 0;
}

int zmsg_recv(void *sock, void *ident, size_t *ident_len, struct proto_msg *m, int flags, char *why,
	      size_t why_len)
{
	char buf[PROTO_MAX_BYTES];
	int n;
	if (ident) {
		n = zmq_recv(sock, ident, 256, flags);
		if (n < 0)
			return -errno;
		*ident_len = (size_t)(n > 256 ? 256 : n);
		int more = 0;
		size_t ml = sizeof(more);
		zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &ml);
		if (!more) {
			snprintf(why, why_len, "message without a body frame");
			return -EPROTO;
		}
		flags = 0; /* the body of a multipart message is already here */
	}
	n = zmq_recv(sock, buf, sizeof(buf), flags);
	if (n < 0)
		return -errno;
	/* Drain any extra frames a hostile peer appended. */
	int more = 0;
	size_t ml = sizeof(more);
	int extra = 0;
	while (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &ml) == 0 && more) {
		char junk[64];
		zmq_recv(sock, junk, sizeof(junk), 0);
		extra = 1;
	}
	if (extra) {
		snprintf(why, why_len, "message with unexpected extra frames");
		return -EPROTO;
	}
	if ((size_t)n > sizeof(buf)) {
		snprintf(why, why_len, "message of %d bytes exceeds the limit", n);
		return -EPROTO;
	}
	return proto_decode(buf, (size_t)n, m, why, why_len);
}
