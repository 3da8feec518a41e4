/* shoal-mem: owns guest RAM (one sealed memfd per guest NUMA node, bound to
 * its host node before first touch, then prefaulted in the background), the
 * board page and the device shadow pages, and hands their fds to local peers
 * of the same user.
 *
 * Usage (spawned by shoal):
 *   shoal-mem --listen-fd FD --harts N [--ram SIZE[@HOSTNODE]]... [--shadows K]
 *             [--prealloc 0|1]
 */
#include <errno.h>
#include <fcntl.h>
#include <numa.h>
#include <numaif.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../common/board.h"
#include "../common/fdpass.h"
#include "../common/log.h"
#include "../common/memclient.h"
#include "../common/proto.h"
#include "../common/shadow.h"
#include "../common/util.h"

#define MAX_SHADOWS 64
#define MAX_CLIENTS 1024

struct mem_region {
	int fd;
	uint64_t size;
	int64_t host_node;
};

struct mem_server {
	uint64_t generation;
	uint32_t nram;
	struct mem_region ram[MEM_MAX_NODES];
	struct mem_region board;
	uint32_t nshadow;
	struct mem_region shadow[MAX_SHADOWS];
};

/* Binds [p, p+len) to host node `node` (strict), so the first touch allocates
 * there. Returns 0 or a negative errno. */
static int mem_bind(void *p, uint64_t len, int node)
{
	if (node < 0)
		return 0;
	if (numa_available() < 0 || node > numa_max_node())
		return -ENODEV;
	unsigned long mask[16] = {0};
	mask[node / (8 * sizeof(long))] |= 1ul << (node % (8 * sizeof(long)));
	if (mbind(p, len, MPOL_BIND, mask, sizeof(mask) * 8, MPOL_MF_STRICT) < 0)
		return -errno;
	return 0;
}

/* --prealloc 1: guest RAM is faulted in by populate_thread; else each page
 * on first touch, as QEMU and Firecracker do by default. */
static int prealloc_ram;

/* Faults in every page of the fd `arg` points at (2 MiB at a time, at the
 * lowest priority): guest RAM is served before it is populated, so the
 * guest starts at once and finds most pages there by the time it touches
 * them. A page the guest touches first is simply already there; the bind
 * is the file's shared policy, so either way it lands on its node. */
static void *populate_thread(void *arg)
{
	const struct mem_region *r = arg;
	struct sched_param sp = {0};
	pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp); /* only on idle cores */
	uint8_t *p = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	const uint64_t chunk = 2u << 20;
	for (uint64_t off = 0; p != MAP_FAILED && off < r->size; off += chunk) {
		uint64_t len = r->size - off < chunk ? r->size - off : chunk;
		if (madvise(p + off, len, MADV_POPULATE_WRITE) < 0)
			break; /* the guest faults the rest in */
	}
	if (p != MAP_FAILED)
		munmap(p, r->size);
	return NULL;
}

/* Creates a sealed memfd of `size` bytes bound to `node`, prefaulted (RAM:
 * by a background thread); with `kind` != REGION_RAM a region header is
 * written. Returns 0 or -errno. */
static int mem_create(struct mem_region *r, const char *name, uint64_t size, int node,
		      enum region_kind kind, uint64_t generation)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	int e = 0;
	void *p = MAP_FAILED;
	if (ftruncate(fd, (off_t)size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		e = -errno;
		goto fail;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		e = -errno;
		goto fail;
	}
	e = mem_bind(p, size, node);
	if (e)
		goto fail;
	if (kind != REGION_RAM && madvise(p, size, MADV_POPULATE_WRITE) < 0) {
		/* Older kernels: touch every page. */
		for (uint64_t off = 0; off < size; off += 4096)
			((volatile char *)p)[off] = 0;
	}
	if (kind != REGION_RAM)
		region_hdr_init(p, kind, size, generation);
	if (kind == REGION_BOARD) {
		struct board *b = p;
		b->mtime_base_ns = util_now_ns();
	}
	munmap(p, size);
	r->fd = fd;
	r->size = size;
	r->host_node = node;
	if (kind == REGION_RAM && prealloc_ram) {
		/* Signals are the main thread's (its signalfd): the thread
		 * starts with all blocked, or a SIGTERM could end the process
		 * through it. */
		sigset_t all, old;
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		pthread_t t;
		if (pthread_create(&t, NULL, populate_thread, r) == 0)
			pthread_detach(t);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	return 0;
fail:
	if (p != MAP_FAILED)
		munmap(p, size);
	close(fd);
	return e;
}

static void mem_reply_error(int c, const char *fmt, const char *arg, uint64_t index)
{
	struct proto_msg m = {.op = OP_ERROR};
	snprintf(m.error, sizeof(m.error), fmt, arg, (unsigned long long)index);
	char buf[512];
	int n = proto_encode(&m, buf, sizeof(buf));
	if (n > 0)
		fdpass_send(c, buf, (size_t)n, NULL, 0);
}

/* Serves one request on client socket `c`. Returns 0 to keep the client,
 * -1 to drop it. */
static int mem_serve(struct mem_server *s, int c)
{
	char buf[PROTO_MAX_BYTES];
	int fds[FDPASS_MAX_FDS], nfd = 0;
	int n = fdpass_recv(c, buf, sizeof(buf), fds, FDPASS_MAX_FDS, &nfd);
	for (int i = 0; i < nfd; i++)
		close(fds[i]); /* clients have no business sending fds */
	if (n <= 0)
		return -1;
	struct proto_msg m;
	char why[128];
	if (proto_decode(buf, (size_t)n, &m, why, sizeof(why))) {
		mem_reply_error(c, "bad request: %s%llu", why, 0);
		return 0;
	}
	if (m.op != OP_REGION_GET) {
		mem_reply_error(c, "unexpected op '%s' (index %llu)", proto_op_name(m.op), 0);
		return 0;
	}
	struct mem_region *r = NULL;
	int kind = region_kind_parse(m.kind);
	if (kind == REGION_RAM && m.index < s->nram)
		r = &s->ram[m.index];
	else if (kind == REGION_BOARD && m.index == 0)
		r = &s->board;
	else if (kind == REGION_SHADOW && m.index < s->nshadow)
		r = &s->shadow[m.index];
	if (!r) {
		mem_reply_error(c, "no region '%s' number %llu", m.kind, m.index);
		return 0;
	}
	struct proto_msg rep = {.op = OP_REGION,
				.index = m.index,
				.size = r->size,
				.node = r->host_node,
				.generation = s->generation};
	snprintf(rep.kind, sizeof(rep.kind), "%s", m.kind);
	n = proto_encode(&rep, buf, sizeof(buf));
	if (n < 0 || fdpass_send(c, buf, (size_t)n, &r->fd, 1))
		return -1;
	return 0;
}

static void usage_fail(const char *arg, const char *what)
{
	log_err("%s: %s", arg, what);
	exit(2);
}

int main(int argc, char **argv)
{
	log_init("shoal-mem");
	struct mem_server s = {0};
	int listen_fd = -1;
	uint64_t nharts = 1;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	s.generation = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;

	uint64_t ram_size[MEM_MAX_NODES];
	int ram_node[MEM_MAX_NODES];
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t x;
		if (!v)
			usage_fail(a, "missing value");
		i++;
		if (strcmp(a, "--listen-fd") == 0) {
			if (util_parse_u64(v, 0, 65535, &x))
				usage_fail(v, "expected a file descriptor");
			listen_fd = (int)x;
		} else if (strcmp(a, "--harts") == 0) {
			if (util_parse_u64(v, 1, BOARD_MAX_HARTS, &x))
				usage_fail(v, "expected a hart count");
			nharts = x;
		} else if (strcmp(a, "--prealloc") == 0) {
			if (util_parse_u64(v, 0, 1, &x))
				usage_fail(v, "expected 0 or 1");
			prealloc_ram = (int)x;
		} else if (strcmp(a, "--shadows") == 0) {
			if (util_parse_u64(v, 0, MAX_SHADOWS, &x))
				usage_fail(v, "expected a shadow page count");
			s.nshadow = (uint32_t)x;
		} else if (strcmp(a, "--ram") == 0) {
			if (s.nram == MEM_MAX_NODES)
				usage_fail(v, "too many RAM nodes");
			char tmp[64];
			snprintf(tmp, sizeof(tmp), "%s", v);
			char *at = strchr(tmp, '@');
			ram_node[s.nram] = -1;
			if (at) {
				*at = 0;
				if (util_parse_u64(at + 1, 0, 1023, &x))
					usage_fail(v, "expected SIZE@HOSTNODE");
				ram_node[s.nram] = (int)x;
			}
			if (util_parse_size(tmp, &ram_size[s.nram]) || ram_size[s.nram] == 0 ||
			    ram_size[s.nram] % 4096)
				usage_fail(v, "expected a size that is a multiple of 4K");
			s.nram++;
		} else {
			usage_fail(a, "unknown option");
		}
	}
	if (listen_fd < 0 || s.nram == 0)
		usage_fail("shoal-mem",
			   "needs --listen-fd and at least one --ram (it is started by shoal)");
	int listening = 0;
	socklen_t optlen = sizeof(listening);
	if (getsockopt(listen_fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen) || !listening)
		usage_fail("--listen-fd", "is not a listening socket");

	for (uint32_t i = 0; i < s.nram; i++) {
		char name[32];
		snprintf(name, sizeof(name), "shoal-ram%u", i);
		int r =
		    mem_create(&s.ram[i], name, ram_size[i], ram_node[i], REGION_RAM, s.generation);
		if (r) {
			log_err("cannot create RAM node %u (%llu bytes, host node %d): %s", i,
				(unsigned long long)ram_size[i], ram_node[i], strerror(-r));
			return 1;
		}
	}
	int r = mem_create(&s.board, "shoal-board", board_size((uint32_t)nharts), -1, REGION_BOARD,
			   s.generation);
	if (r) {
		log_err("cannot create the board page: %s", strerror(-r));
		return 1;
	}
	{
		struct board *b =
		    mmap(NULL, s.board.size, PROT_READ | PROT_WRITE, MAP_SHARED, s.board.fd, 0);
		if (b == MAP_FAILED) {
			log_err("cannot map the board page: %s", strerror(errno));
			return 1;
		}
		b->nharts = (uint32_t)nharts;
		for (uint64_t h = 0; h < nharts; h++)
			b->hart[h].mtimecmp = ~0ull;
		munmap(b, s.board.size);
	}
	for (uint32_t i = 0; i < s.nshadow; i++) {
		r = mem_create(&s.shadow[i], "shoal-shadow", SHADOW_SIZE, -1, REGION_SHADOW,
			       s.generation);
		if (r) {
			log_err("cannot create shadow page %u: %s", i, strerror(-r));
			return 1;
		}
	}

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);

	static struct pollfd pfd[MAX_CLIENTS + 2];
	int npfd = 2;
	pfd[0] = (struct pollfd){.fd = sfd, .events = POLLIN};
	pfd[1] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
	for (;;) {
		if (poll(pfd, (nfds_t)npfd, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err("poll: %s", strerror(errno));
			return 1;
		}
		if (pfd[0].revents)
			break;
		if (pfd[1].revents & (POLLERR | POLLNVAL)) {
			log_err("the listening socket failed");
			return 1;
		}
		if (pfd[1].revents & POLLIN) {
			int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
			if (c >= 0) {
				if (fdpass_peer_check(c) != 0) {
					log_err("refused a client of another user");
					close(c);
				} else if (npfd == MAX_CLIENTS + 2) {
					log_err("too many clients; refused one");
					close(c);
				} else {
					pfd[npfd++] = (struct pollfd){.fd = c, .events = POLLIN};
				}
			}
		}
		for (int i = 2; i < npfd; i++) {
			if (!pfd[i].revents)
				continue;
			if ((pfd[i].revents & POLLIN) && mem_serve(&s, pfd[i].fd) == 0)
				continue;
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) {
				close(pfd[i].fd);
				pfd[i--] = pfd[--npfd];
			}
		}
	}
	return 0;
}
