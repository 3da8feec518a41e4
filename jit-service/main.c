/* shoal-jit: the shared JIT service. Owns the code cache (a memfd laid out
 * as common/jitcache.h says), compiles the blocks vCPUs ask for, one at a
 * time, and publishes them in the lock-free index. Never answers a
 * request: vCPUs find translations in the index on a later visit.
 *
 * Usage (spawned by shoal):
 *   shoal-jit --mem-sock PATH --ram-nodes K --dir RUNDIR
 *
 * Listens on ipc://RUNDIR/jit.sock (PULL, compile requests when the ring
 * in the cache is full) and RUNDIR/jit-fd.sock (hands the cache's fd and
 * the kick eventfd to local peers of the same user). Exits with status 3
 * when the code part is full: shoal then starts a new instance with an
 * empty cache. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "../common/fdpass.h"
#include "../common/jitcache.h"
#include "../common/log.h"
#include "../common/memclient.h"
#include "../common/proto.h"
#include "../common/util.h"
#include "../common/zmsg.h"
#include "../cpu-worker/hart.h"
#include "cover.h"
#include "translate.h"

#define JIT_EXIT_FULL 3

struct jit {
	int fd;	  /* the cache memfd */
	int kick; /* eventfd: a vCPU adds to it when shoal-jit sleeps */
	uint8_t *base;
	struct jit_cache *c;
	uint32_t *gens;
	uint64_t *codebits;
	uint64_t *code_epoch;
	struct post_ring *req; /* compile requests from the vCPUs */
	struct jit_index_entry *index;
	uint8_t *code;
	struct guest_ram ram;
	uint64_t index_full; /* translations dropped: no free slot near home */
	struct jit_stubs stubs;
	const char *dump_dir;
	uint64_t populated;	/* bytes of the code part faulted in */
	struct jit_cover cover; /* block starts inside translations */
};

/* Faults in the code part ahead of use, after a translation is published,
 * so the next ones do not pay the first touch of their pages. */
#define JIT_POPULATE_CHUNK (2u << 20)
static void populate_ahead(struct jit *j)
{
	uint64_t want = j->c->code_used + JIT_POPULATE_CHUNK / 2;
	while (j->populated < want && j->populated < j->c->code_size) {
		uint64_t len = JIT_POPULATE_CHUNK;
		if (j->populated + len > j->c->code_size)
			len = j->c->code_size - j->populated;
		if (madvise(j->code + j->populated, len, MADV_POPULATE_WRITE) != 0)
			j->populated = j->c->code_size; /* not supported: first touch it is */
		else
			j->populated += len;
	}
}

static int jit_create(struct jit *j, uint64_t generation)
{
	struct jit_cache lay;
	memset(&lay, 0, sizeof(lay));
	uint64_t size = jit_cache_layout(&lay, RAM_BASE, j->ram.size >> 12);
	j->fd = memfd_create("shoal-jit-cache", MFD_CLOEXEC);
	if (j->fd < 0 || ftruncate(j->fd, (off_t)size) < 0) {
		log_err("cannot create a %llu-byte code cache: %s", (unsigned long long)size,
			strerror(errno));
		return -1;
	}
	j->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, j->fd, 0);
	if (j->base == MAP_FAILED) {
		log_err("cannot map the code cache: %s", strerror(errno));
		return -1;
	}
	j->c = (struct jit_cache *)j->base;
	*j->c = lay;
	region_hdr_init(&j->c->hdr, REGION_JIT, size, generation);
	j->c->abi = JIT_ABI_VERSION;
	j->gens = (uint32_t *)(j->base + lay.gens_off);
	j->codebits = (uint64_t *)(j->base + lay.codebits_off);
	j->code_epoch = (uint64_t *)(j->base + lay.code_epoch_off);
	j->req = (struct post_ring *)(j->base + lay.req_ring_off);
	j->req->slots = JIT_REQ_SLOTS; /* before any vCPU can map the cache */
	j->index = (struct jit_index_entry *)(j->base + lay.index_off);
	j->code = j->base + lay.code_off;
	/* Offsets 0 and JIT_NO_CODE are never code: the stubs start at 16. */
	struct xbuf b = {.p = j->code, .len = 16, .cap = (uint32_t)lay.code_size};
	jit_emit_stubs(&b, &j->stubs);
	j->c->enter_off = j->stubs.enter;
	j->c->exit_off = j->stubs.exit;
	__atomic_store_n(&j->c->code_used, (b.len + 15) & ~15u, __ATOMIC_RELEASE);
	populate_ahead(j);
	return 0;
}

/* Publishes `val` for `key`. Returns 0, or -1 when no slot is free. */
static int index_publish(struct jit *j, uint64_t key, uint64_t val)
{
	for (unsigned i = 0; i < 2 * JIT_INDEX_PROBES; i++) {
		struct jit_index_entry *e = &j->index[jit_index_slot(key, i)];
		if (e->key == key) {
			__atomic_store_n(&e->val, val, __ATOMIC_RELEASE);
			return 0;
		}
		if (e->key == 0) {
			__atomic_store_n(&e->val, val, __ATOMIC_RELEASE);
			__atomic_store_n(&e->key, key, __ATOMIC_RELEASE);
			return 0;
		}
	}
	return -1;
}

static void note_latency(struct jit_stats *st, uint64_t ns, unsigned blocks)
{
	unsigned k = 0;
	while (k + 1 < JIT_LAT_BUCKETS && (1ull << (k + 1)) <= ns)
		k++;
	st->lat_hist[k]++;
	st->lat_ns_total += ns;
	uint64_t us = ns / blocks / 1000;
	st->blk_us_hist[us < JIT_BLK_US_BUCKETS ? us : JIT_BLK_US_BUCKETS - 1] += blocks;
	st->blocks += blocks;
}

/* Compiles the block at guest physical `ppc` in `mode` (JIT_REQ_NOW:
 * never put off) unless a current translation exists. Returns 0, or
 * -ENOSPC when the cache is full. */
static int jit_compile(struct jit *j, uint64_t ppc, unsigned mode)
{
	int now = (mode & JIT_REQ_NOW) != 0;
	mode &= ~JIT_REQ_NOW;
	struct jit_cache *c = j->c;
	struct jit_stats *st = &c->stats;
	uint64_t off = ppc - RAM_BASE;
	if (off >= j->ram.size || (ppc & 1) || mode >= (1u << JIT_MODE_BITS))
		return 0;
	uint64_t t0 = util_now_ns();
	uint64_t page = off >> 12, key = jit_key(ppc, mode);
	uint64_t old = jit_index_find(j->index, key);
	uint32_t cur = __atomic_load_n(&j->gens[page], __ATOMIC_ACQUIRE);
	if (old && (uint32_t)(old >> 32) == cur) {
		st->duplicate++;
		return 0;
	}
	if (!now && jit_cover_put_off(&j->cover, key, cur)) {
		st->put_off++;
		return 0;
	}
	/* Mark the page before reading it: a store from then on bumps the
	 * generation, so the snapshot below is current or already stale. */
	uint64_t bit = 1ull << (page % 64);
	if (!(__atomic_fetch_or(&j->codebits[page / 64], bit, __ATOMIC_ACQ_REL) & bit))
		__atomic_fetch_add(j->code_epoch, 1, __ATOMIC_RELEASE);
	uint32_t gen = __atomic_load_n(&j->gens[page], __ATOMIC_ACQUIRE);
	unsigned po = (unsigned)(off & 4095);
	static uint8_t snap[4096];
	memcpy(snap, j->ram.host + (off & ~4095ull), sizeof(snap));
	static struct jit_tr tr;
	if (jit_decode(snap, po, &tr)) {
		st->refused++;
		if (index_publish(j, key, (uint64_t)gen << 32 | JIT_NO_CODE))
			j->index_full++;
		return 0;
	}
	uint64_t used = c->code_used;
	struct jit_block_hdr *bh = (struct jit_block_hdr *)(j->code + used);
	bh->ppc = ppc;
	bh->guest_off = tr.span_off;
	bh->guest_len = tr.span_len;
	bh->ninsns = tr.ninsns;
	bh->mode = mode;
	uint32_t code_at = (uint32_t)used + jit_block_code_off(bh);
	if ((uint64_t)code_at + 65536 > c->code_size)
		return -ENOSPC; /* a region's code is far smaller */
	memcpy(bh + 1, snap + tr.span_off, tr.span_len);
	struct xbuf b = {.p = j->code, .len = code_at, .cap = (uint32_t)c->code_size};
	tr.site_seed = jit_hash(key);
	static struct jit_pcmap map;
	map.n = 0;
	jit_pcmap = j->dump_dir ? &map : NULL;
	if (jit_emit(&tr, &b, &j->stubs))
		return -ENOSPC;
	bh->code_len = b.len - code_at;
	if (j->dump_dir) { /* SHOAL_JIT_DUMP=DIR: each translation's code, to disassemble */
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%llx-m%u-at%llx.bin", j->dump_dir,
			 (unsigned long long)ppc, mode,
			 (unsigned long long)(c->code_off + code_at));
		FILE *f = fopen(path, "wb");
		if (f) {
			fwrite(j->code + code_at, 1, bh->code_len, f);
			fclose(f);
		}
		/* and where each guest instruction's code starts (cold: the
		 * slow paths and tails after the blocks) */
		snprintf(path + strlen(path) - 4, 5, ".map");
		f = fopen(path, "w");
		for (uint32_t i = 0; f && i < map.n; i++)
			if (map.off[i] == JIT_PCMAP_COLD)
				fprintf(f, "%x cold\n", map.at[i] - code_at);
			else
				fprintf(f, "%x %llx\n", map.at[i] - code_at,
					(unsigned long long)((ppc & ~4095ull) + map.off[i]));
		if (f)
			fclose(f);
	}
	uint64_t end = (b.len + 15) & ~15ull;
	__atomic_store_n(&c->code_used, end, __ATOMIC_RELEASE);
	if (index_publish(j, key, (uint64_t)gen << 32 | used)) {
		j->index_full++;
		return 0;
	}
	jit_cover_note(&j->cover, &tr, ppc & ~4095ull, mode, gen);
	st->compiled++;
	st->guest_insns += tr.ninsns;
	st->recompiled += old != 0;
	note_latency(st, util_now_ns() - t0, tr.nblocks);
	populate_ahead(j);
	return 0;
}

static void serve_fd(struct jit *j, int listen_fd)
{
	int s = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0)
		return;
	if (fdpass_peer_check(s) != 0) {
		log_err("refused a client of another user");
		close(s);
		return;
	}
	struct proto_msg m = {.op = OP_REGION,
			      .size = j->c->hdr.size,
			      .node = -1,
			      .generation = j->c->hdr.generation};
	snprintf(m.kind, sizeof(m.kind), "%s", region_kind_name(REGION_JIT));
	char buf[512];
	int n = proto_encode(&m, buf, sizeof(buf));
	if (n > 0)
		fdpass_send(s, buf, (size_t)n, (int[]){j->fd, j->kick}, 2);
	close(s);
}

/* Compiles request `ppc` in `mode`; exits (the cache full) when it does
 * not fit. */
static void serve_request(struct jit *j, uint64_t ppc, unsigned mode)
{
	j->c->stats.requests++;
	log_debug("compile 0x%llx mode %u", (unsigned long long)ppc, mode);
	if (jit_compile(j, ppc, mode) == -ENOSPC) {
		log_err("code cache full (%llu bytes); restarting with an empty one",
			(unsigned long long)j->c->code_size);
		exit(JIT_EXIT_FULL);
	}
}

/* Serves what came as messages: requests that found the ring full. */
static void serve_socket(struct jit *j, void *pull)
{
	char why[256];
	for (;;) {
		struct proto_msg m;
		int r = zmsg_recv(pull, NULL, NULL, &m, ZMQ_DONTWAIT, why, sizeof(why));
		if (r == -EAGAIN || (r && r != -EPROTO))
			return;
		if (r == -EPROTO || m.op != OP_JIT_COMPILE) {
			log_err("ignored a malformed compile request: %s",
				r ? why : "not a jit_compile");
			continue;
		}
		serve_request(j, m.addr, (unsigned)m.index);
	}
}

/* Serves up to `max` requests from the ring; returns 1 if it has more. */
static int serve_ring(struct jit *j, unsigned max)
{
	const struct post_slot *s;
	for (unsigned n = 0; n < max && (s = post_ring_peek(j->req)); n++) {
		uint64_t ppc = s->value;
		unsigned mode = s->off;
		post_ring_pop(j->req);
		serve_request(j, ppc, mode);
	}
	return post_ring_peek(j->req) != NULL;
}

static void fail(const char *arg, const char *what)
{
	log_err("%s: %s", arg, what);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *memsock = NULL, *dir = NULL;
	uint64_t nodes = 1;
	log_init("shoal-jit");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			fail(a, "missing value");
		i++;
		int r = 0;
		if (strcmp(a, "--mem-sock") == 0)
			memsock = v;
		else if (strcmp(a, "--dir") == 0)
			dir = v;
		else if (strcmp(a, "--ram-nodes") == 0)
			r = util_parse_u64(v, 1, MEM_MAX_NODES, &nodes);
		else
			fail(a, "unknown option (shoal-jit is started by shoal)");
		if (r)
			fail(v, "bad number");
	}
	if (!memsock || !dir)
		fail("shoal-jit", "needs --mem-sock and --dir (it is started by shoal)");
	int sfd = util_stop_signalfd();
	static struct jit j;
	int ms = memclient_connect(memsock);
	char why[256];
	if (ms < 0) {
		log_err("cannot reach shoal-mem at %s: %s", memsock, strerror(-ms));
		return 1;
	}
	if (memclient_map_ram(ms, (uint32_t)nodes, &j.ram, why, sizeof(why))) {
		log_err("%s", why);
		return 1;
	}
	close(ms);
	/* A new instance's cache is told apart from its predecessor's. */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	j.dump_dir = getenv("SHOAL_JIT_DUMP");
	if (jit_create(&j, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec))
		return 1;
	j.kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (j.kick < 0) {
		log_err("eventfd: %s", strerror(errno));
		return 1;
	}
	if (jit_cover_init(&j.cover)) {
		log_err("out of memory");
		return 1;
	}

	/* The request socket exists before anyone can map the cache. */
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "ipc://%s/jit.sock", dir);
	void *zctx = zmq_ctx_new();
	void *pull = zctx ? zmsg_pull(zctx, path) : NULL;
	if (!pull) {
		log_err("cannot bind %s: %s", path, zmq_strerror(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/jit-fd.sock", dir);
	unlink(path);
	int lfd = fdpass_listen(path);
	if (lfd < 0) {
		log_err("cannot listen on %s: %s", path, strerror(-lfd));
		return 1;
	}
	zmq_pollitem_t items[4] = {
	    {.socket = pull, .events = ZMQ_POLLIN},
	    {.fd = lfd, .events = ZMQ_POLLIN},
	    {.fd = sfd, .events = ZMQ_POLLIN},
	    {.fd = j.kick, .events = ZMQ_POLLIN},
	};
	int more = 0;
	for (;;) {
		/* Sleeps only when the ring is empty and says so: a vCPU then
		 * adds to the kick eventfd with its next request (it has the
		 * eventfd before it can reach the ring, so no kick is lost);
		 * else just looks. */
		int busy = more || post_ring_sleep(j.req);
		if (zmq_poll(items, 4, busy ? 0 : -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err("zmq_poll: %s", zmq_strerror(errno));
			return 1;
		}
		post_ring_awake(j.req);
		if (items[2].revents)
			break;
		uint64_t kicks;
		if (items[3].revents && read(j.kick, &kicks, sizeof(kicks)) < 0 && errno != EAGAIN)
			log_err("kick eventfd: %s", strerror(errno));
		if (items[1].revents)
			serve_fd(&j, lfd);
		serve_socket(&j, pull);
		more = serve_ring(&j, 64);
	}
	return 0;
}
