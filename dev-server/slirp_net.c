/* shoal-net: user-mode networking (libslirp) for a virtio-net device. It
 * exchanges Ethernet frames with the device over a SOCK_SEQPACKET socket
 * (fd 3, inherited from shoal), one frame per message. Living apart from
 * the device process, its TCP connections survive a device restart.
 *
 * Usage (spawned by shoal):
 *   shoal-net --name NAME [--hostfwd tcp|udp:HOSTADDR:HOSTPORT-GUESTADDR:GUESTPORT]...
 * Guest network 10.0.2.0/24: gateway and host 10.0.2.2, DNS 10.0.2.3, the
 * guest's DHCP address 10.0.2.15 (as QEMU's -netdev user). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <slirp/libslirp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/util.h"

#define FRAME_FD 3
#define MAX_POLL 1024
#define MAX_TIMERS 64
#define QUEUE_FRAMES 2048 /* frames held while the device cannot take them */

struct timer {
	int used;
	int64_t expire_ms; /* -1: not armed */
	SlirpTimerId id;
	void *cb_opaque;
};

static struct {
	Slirp *slirp;
	struct pollfd pfd[MAX_POLL];
	int npfd;
	struct timer timers[MAX_TIMERS];
	uint8_t frame[65536];
	/* Frames for the device that did not fit in the socket: sent in order
	 * when it drains (the device waits for guest receive buffers). */
	struct {
		uint8_t *data;
		size_t len;
	} q[QUEUE_FRAMES];
	unsigned qhead, qlen;
	unsigned long dropped;
} g;

/* Sends queued frames while the socket takes them. */
static void flush_queue(void)
{
	while (g.qlen) {
		unsigned i = g.qhead;
		if (send(FRAME_FD, g.q[i].data, g.q[i].len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
		    (errno == EAGAIN || errno == ENOBUFS))
			return;
		free(g.q[i].data);
		g.qhead = (g.qhead + 1) % QUEUE_FRAMES;
		g.qlen--;
	}
}

static ssize_t send_packet(const void *buf, size_t len, void *opaque)
{
	(void)opaque;
	flush_queue();
	if (!g.qlen && send(FRAME_FD, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
		return (ssize_t)len;
	/* Full (the guest is slow, or the device is restarting): hold the
	 * frame; past the queue's size drop it (TCP retransmits). */
	uint8_t *copy = g.qlen < QUEUE_FRAMES ? malloc(len) : NULL;
	if (!copy) {
		g.dropped++;
		return (ssize_t)len;
	}
	memcpy(copy, buf, len);
	unsigned i = (g.qhead + g.qlen++) % QUEUE_FRAMES;
	g.q[i].data = copy;
	g.q[i].len = len;
	return (ssize_t)len;
}

static void guest_error(const char *msg, void *opaque)
{
	(void)opaque;
	log_err("guest network error: %s", msg);
}

static int64_t clock_get_ns(void *opaque)
{
	(void)opaque;
	return (int64_t)util_now_ns();
}

static void *timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	(void)opaque;
	for (int i = 0; i < MAX_TIMERS; i++)
		if (!g.timers[i].used) {
			g.timers[i] = (struct timer){1, -1, id, cb_opaque};
			return &g.timers[i];
		}
	log_err("out of timers");
	return NULL;
}

static void timer_free(void *t, void *opaque)
{
	(void)opaque;
	if (t)
		((struct timer *)t)->used = 0;
}

static void timer_mod(void *t, int64_t expire_ms, void *opaque)
{
	(void)opaque;
	if (t)
		((struct timer *)t)->expire_ms = expire_ms;
}

static void register_poll_fd(int fd, void *opaque)
{
	(void)fd;
	(void)opaque;
}

static void notify(void *opaque)
{
	(void)opaque;
}

static int add_poll(int fd, int events, void *opaque)
{
	(void)opaque;
	if (g.npfd == MAX_POLL)
		return -1;
	short ev = 0;
	if (events & SLIRP_POLL_IN)
		ev |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		ev |= POLLOUT;
	if (events & SLIRP_POLL_PRI)
		ev |= POLLPRI;
	g.pfd[g.npfd] = (struct pollfd){.fd = fd, .events = ev};
	return g.npfd++;
}

static int get_revents(int idx, void *opaque)
{
	(void)opaque;
	short r = idx >= 0 && idx < g.npfd ? g.pfd[idx].revents : 0;
	return ((r & POLLIN) ? SLIRP_POLL_IN : 0) | ((r & POLLOUT) ? SLIRP_POLL_OUT : 0) |
	       ((r & POLLPRI) ? SLIRP_POLL_PRI : 0) | ((r & POLLERR) ? SLIRP_POLL_ERR : 0) |
	       ((r & POLLHUP) ? SLIRP_POLL_HUP : 0);
}

/* Parses "tcp:127.0.0.1:8080-:80" (host address optional, guest address
 * defaults to 10.0.2.15) and installs it. Returns 0 or -1 with a message. */
static int add_hostfwd(const char *spec)
{
	char proto[8], haddr[64] = "", gaddr[64] = "";
	int hport, gport, n = 0;
	const char *p = spec;
	if (sscanf(p, "%7[a-z]:%n", proto, &n) != 1 || n == 0)
		goto bad;
	p += n;
	n = 0;
	if (sscanf(p, "%63[0-9.]:%n", haddr, &n) == 1 && n)
		p += n;
	else if (*p == ':')
		p++;
	n = 0;
	if (sscanf(p, "%d-%n", &hport, &n) != 1 || n == 0)
		goto bad;
	p += n;
	n = 0;
	if (sscanf(p, "%63[0-9.]:%n", gaddr, &n) == 1 && n)
		p += n;
	else if (*p == ':')
		p++;
	else
		goto bad;
	n = 0;
	if (sscanf(p, "%d%n", &gport, &n) != 1 || p[n] != 0)
		goto bad;
	struct in_addr h = {.s_addr = htonl(INADDR_LOOPBACK)}, gu;
	inet_pton(AF_INET, "10.0.2.15", &gu);
	if ((*haddr && inet_pton(AF_INET, haddr, &h) != 1) ||
	    (*gaddr && inet_pton(AF_INET, gaddr, &gu) != 1))
		goto bad;
	int udp = strcmp(proto, "udp") == 0;
	if (!udp && strcmp(proto, "tcp") != 0)
		goto bad;
	if (slirp_add_hostfwd(g.slirp, udp, h, hport, gu, gport) < 0) {
		log_err("hostfwd %s: cannot listen on port %d: %s", spec, hport, strerror(errno));
		return -1;
	}
	return 0;
bad:
	log_err("hostfwd %s: expected tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT", spec);
	return -1;
}

int main(int argc, char **argv)
{
	const char *name = "net";
	const char *fwd[32];
	int nfwd = 0;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--name") == 0)
			name = argv[i + 1];
		else if (strcmp(argv[i], "--hostfwd") == 0 && nfwd < 32)
			fwd[nfwd++] = argv[i + 1];
		else {
			fprintf(stderr, "shoal-net: %s: unknown option (it is started by shoal)\n",
				argv[i]);
			return 2;
		}
	}
	char lname[64];
	snprintf(lname, sizeof(lname), "shoal-net[%s]", name);
	log_init(lname);

	SlirpConfig cfg = {.version = 4, .in_enabled = true, .if_mtu = 1500, .if_mru = 1500};
	inet_pton(AF_INET, "10.0.2.0", &cfg.vnetwork);
	inet_pton(AF_INET, "255.255.255.0", &cfg.vnetmask);
	inet_pton(AF_INET, "10.0.2.2", &cfg.vhost);
	inet_pton(AF_INET, "10.0.2.15", &cfg.vdhcp_start);
	inet_pton(AF_INET, "10.0.2.3", &cfg.vnameserver);
	cfg.vhostname = "shoal";
	static const SlirpCb cb = {
	    .send_packet = send_packet,
	    .guest_error = guest_error,
	    .clock_get_ns = clock_get_ns,
	    .timer_free = timer_free,
	    .timer_mod = timer_mod,
	    .register_poll_fd = register_poll_fd,
	    .unregister_poll_fd = register_poll_fd,
	    .notify = notify,
	    .timer_new_opaque = timer_new_opaque,
	};
	g.slirp = slirp_new(&cfg, &cb, NULL);
	if (!g.slirp) {
		log_err("cannot start user-mode networking");
		return 1;
	}
	for (int i = 0; i < nfwd; i++)
		if (add_hostfwd(fwd[i]))
			return 2;

	int sfd = util_stop_signalfd();
	for (;;) {
		g.npfd = 0;
		add_poll(sfd, SLIRP_POLL_IN, NULL);
		add_poll(FRAME_FD, SLIRP_POLL_IN | (g.qlen ? SLIRP_POLL_OUT : 0), NULL);
		uint32_t timeout = 1000;
		slirp_pollfds_fill(g.slirp, &timeout, add_poll, NULL);
		int64_t now_ms = (int64_t)util_now_ns() / 1000000;
		for (int i = 0; i < MAX_TIMERS; i++)
			if (g.timers[i].used && g.timers[i].expire_ms >= 0) {
				int64_t left = g.timers[i].expire_ms - now_ms;
				if (left < (int64_t)timeout)
					timeout = left < 0 ? 0 : (uint32_t)left;
			}
		int r = poll(g.pfd, (nfds_t)g.npfd, (int)timeout);
		if (r < 0 && errno != EINTR) {
			log_err("poll: %s", strerror(errno));
			return 1;
		}
		if (r > 0 && g.pfd[0].revents)
			break; /* SIGTERM and friends: stop */
		if (r > 0 && (g.pfd[1].revents & POLLOUT))
			flush_queue();
		if (r > 0 && (g.pfd[1].revents & POLLIN)) {
			for (int k = 0; k < 64; k++) {
				ssize_t n = recv(FRAME_FD, g.frame, sizeof(g.frame), MSG_DONTWAIT);
				if (n <= 0)
					break;
				slirp_input(g.slirp, g.frame, (int)n);
			}
		}
		slirp_pollfds_poll(g.slirp, r < 0, get_revents, NULL);
		now_ms = (int64_t)util_now_ns() / 1000000;
		for (int i = 0; i < MAX_TIMERS; i++)
			if (g.timers[i].used && g.timers[i].expire_ms >= 0 &&
			    g.timers[i].expire_ms <= now_ms) {
				g.timers[i].expire_ms = -1;
				slirp_handle_timer(g.slirp, g.timers[i].id, g.timers[i].cb_opaque);
			}
	}
	slirp_cleanup(g.slirp);
	return 0;
}
