/* The vCPU's side of tier 1: maps shoal-jit's code cache, asks for
 * translations of hot blocks (never waiting), binds current ones to its
 * blocks, and provides the helpers translated code calls.
 *
 * Ownership: the cache belongs to shoal-jit; this file maps its parts
 * (header and index read-only, page generations read+write, code
 * read+execute) and drops the mapping when shoal reports, through
 * board->jit_epoch, that the service died. Until a new service answers,
 * the hart interprets. */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zmq.h>

#include "../common/jitcache.h"
#include "../common/log.h"
#include "../common/proto.h"
#include "../common/util.h"
#include "../common/zmsg.h"
#include "alu.h"
#include "hart.h"

#define JIT_RETRY_NS 1000000ull	       /* between attempts to reach shoal-jit */
#define JIT_SYNC_WAIT_NS 1000000000ull /* --jit-sync: longest wait for one block */
/* While its translation is being compiled a block looks again every this
 * many visits: a look-up costs about as much as one interpreted block, and
 * a hot loop must not stay interpreted long after its code is ready (in a
 * Linux boot, where requests wait milliseconds behind each other, every 64
 * visits left 7.5% of the instructions interpreted, every 8 about 4.5%).
 * It asks again every JIT_RESEND_TRIES look-ups (a request is dropped
 * while the socket is not connected). */
#define JIT_RETRY_HITS 8
#define JIT_RESEND_TRIES 32

static struct {
	char fdsock[PATH_MAX];
	void *zctx, *push;
	int mapped;
	uint8_t *ro; /* header and index, read-only */
	uint8_t *rw; /* page generations, read+write */
	uint8_t *rx; /* code, read+execute */
	const struct jit_cache *hdr;
	const struct jit_index_entry *index;
	const uint64_t *code_epoch;
	struct post_ring *req; /* compile requests to shoal-jit */
	int kick;	       /* shoal-jit's eventfd: wakes it when it sleeps */
	uint64_t epoch_seen;
	struct jit_hart_stats *hs;
	struct jit_hart_stats local; /* while unmapped */
	uint32_t board_epoch;
	uint64_t next_try_ns;
} J;

/* ---- helpers called from translated code ---- */

/* `info` holds the instruction's index in its block and its pc offset
 * from the region's entry, h->jit_base (JH_INFO_*). This makes h->pc the
 * instruction's. */
static void jh_at(struct hart *h, uint64_t info)
{
	h->pc = h->jit_base + (uint64_t)JH_INFO_PC_OFF(info);
}

/* Exception `e` at address `a`: instret exact, the trap taken, and the
 * translated code told to leave. */
static void jh_fault(struct hart *h, int e, uint64_t a, uint64_t info)
{
	h->instret += JH_INFO_INDEX(info);
	hart_trap(h, (uint64_t)e, a);
	h->jit_trap = 1;
}

/* An FP register load or store (JH_INFO_FP) while mstatus.FS is off is
 * illegal; returns 1 then (the trap taken). */
static int jh_fp_off(struct hart *h, uint64_t info)
{
	if (!(h->mstatus & MSTATUS_FS)) {
		jh_fault(h, EXC_ILLEGAL, info >> 32, info);
		return 1;
	}
	return 0;
}

/* Slow-path load; info's low bits: size | signed << 4 (| JH_INFO_FP). */
static uint64_t jh_load(struct hart *h, uint64_t a, uint64_t info)
{
	unsigned size = info & 15;
	jh_at(h, info);
	if ((info & JH_INFO_FP) && jh_fp_off(h, info))
		return 0;
	uint64_t v;
	int e = mmu_load(h, a, size, &v);
	if (e) {
		jh_fault(h, e, a, info);
		return 0;
	}
	if (info & JH_INFO_FP) /* f[rd] is written: dirty (not if it faulted) */
		h->mstatus |= MSTATUS_FS;
	if (info & 16) {
		unsigned sh = 64 - 8 * size;
		v = (uint64_t)((int64_t)(v << sh) >> sh);
	}
	return v;
}

/* Slow-path store; info's low bits: size (| JH_INFO_FP). */
static void jh_store(struct hart *h, uint64_t a, uint64_t v, uint64_t info)
{
	jh_at(h, info);
	if ((info & JH_INFO_FP) && jh_fp_off(h, info))
		return;
	int e = mmu_store(h, a, info & 15, v);
	if (e)
		jh_fault(h, e, a, info);
}

/* A CSR instruction whose bits are `raw`, with source value `src` (rs1's
 * or the immediate); info's low byte: the OP_*, JH_INFO_WRITES: it writes.
 * Returns the old value for rd. instret is h->instret plus the
 * instructions of its block before it, as the interpreter has it. */
static uint64_t jh_csr(struct hart *h, uint64_t src, uint64_t raw, uint64_t info)
{
	jh_at(h, info);
	uint64_t old = 0;
	uint32_t epoch = h->block_epoch;
	unsigned priv = h->priv;
	int e = csr_op(h, info & 0xff, (unsigned)(raw >> 20), src, !!(info & JH_INFO_WRITES), 1,
		       &old, h->instret + JH_INFO_INDEX(info));
	if (e)
		jh_fault(h, e, raw, info);
	/* A write that dropped translations (satp, PMP, MXR) or made an
	 * interrupt takeable (SIE, sie, stimecmp) goes back to C; the rest of
	 * the region stays valid (the data context is looked up at each
	 * access). Translated code tests this after writes only. */
	if (info & JH_INFO_WRITES)
		h->jit_leave =
		    h->block_epoch != epoch || h->priv != priv || hart_pending_irq(h) >= 0;
	return old;
}

/* An F or D instruction whose bits are `raw` (not a load or store), by
 * fpu_exec with h->x exact; illegal while mstatus.FS is off. Returns x[rd]
 * for the instructions that write an integer register. */
static uint64_t jh_fpu(struct hart *h, uint64_t raw, uint64_t info)
{
	jh_at(h, info);
	if (!(h->mstatus & MSTATUS_FS) || fpu_exec(h, (uint32_t)raw)) {
		jh_fault(h, EXC_ILLEGAL, raw, info);
		return 0;
	}
	return h->x[(raw >> 7) & 31];
}

/* LR/SC/AMO; info's low byte: the OP_*. */
static uint64_t jh_amo(struct hart *h, uint64_t a, uint64_t src, uint64_t info)
{
	jh_at(h, info);
	uint64_t v = 0;
	int e = amo_exec(h, info & 0xff, a, src, &v);
	if (e)
		jh_fault(h, e, a, info);
	return v;
}

/* ---- the cache mapping ---- */

static void jit_unmap(struct hart *h)
{
	if (!J.mapped)
		return;
	/* Blocks point into the code: drop them before the mapping. */
	hart_flush_blocks(h);
	h->jit_codebits = NULL;
	h->jit_gens = NULL;
	h->jit_enter = NULL;
	h->jit_rx = NULL;
	mmu_mark_code(h); /* no page holds code now: stores go fast again */
	struct jit_cache c = *J.hdr;
	munmap(J.ro, c.index_off + c.index_size);
	munmap(J.rw, c.pages_size);
	munmap(J.rx, c.code_size);
	close(J.kick);
	J.mapped = 0;
	J.hs = &J.local;
}

/* Maps the cache `fd` whose checked header is `hdr`, whose kick eventfd
 * is `kick` (kept while mapped); returns 0 or -1 (logged). */
static int jit_map(struct hart *h, int fd, const struct jit_cache *hdr, int kick)
{
	if (hdr->ram_pages != h->ram_size >> 12 || hdr->abi != JIT_ABI_VERSION) {
		log_err("shoal-jit's code cache covers %llu pages (abi %u), this hart has %llu "
			"(abi %u); running without it",
			(unsigned long long)hdr->ram_pages, hdr->abi,
			(unsigned long long)(h->ram_size >> 12), JIT_ABI_VERSION);
		return -1;
	}
	J.ro = mmap(NULL, hdr->index_off + hdr->index_size, PROT_READ, MAP_SHARED, fd, 0);
	J.rw = mmap(NULL, hdr->pages_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		    (off_t)hdr->pages_off);
	J.rx =
	    mmap(NULL, hdr->code_size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, (off_t)hdr->code_off);
	if (J.ro == MAP_FAILED || J.rw == MAP_FAILED || J.rx == MAP_FAILED) {
		log_err("cannot map shoal-jit's code cache: %s", strerror(errno));
		if (J.ro != MAP_FAILED)
			munmap(J.ro, hdr->index_off + hdr->index_size);
		if (J.rw != MAP_FAILED)
			munmap(J.rw, hdr->pages_size);
		if (J.rx != MAP_FAILED)
			munmap(J.rx, hdr->code_size);
		return -1;
	}
	J.hdr = (const struct jit_cache *)J.ro;
	J.index = (const struct jit_index_entry *)(J.ro + hdr->index_off);
	J.code_epoch = (const uint64_t *)(J.rw + (hdr->code_epoch_off - hdr->pages_off));
	J.req = (struct post_ring *)(J.rw + (hdr->req_ring_off - hdr->pages_off));
	J.hs = (struct jit_hart_stats *)(J.rw + (hdr->hstats_off - hdr->pages_off)) + h->hartid;
	h->jit_gens = (uint32_t *)(J.rw + (hdr->gens_off - hdr->pages_off));
	h->jit_codebits = (uint64_t *)(J.rw + (hdr->codebits_off - hdr->pages_off));
	h->jit_enter = (uint64_t(*)(struct hart *, const void *, uint64_t))(J.rx + hdr->enter_off);
	h->jit_rx = J.rx;
	J.kick = kick;
	J.mapped = 1;
	J.epoch_seen = __atomic_load_n(J.code_epoch, __ATOMIC_ACQUIRE);
	mmu_mark_code(h);
	return 0;
}

/* Asks shoal-jit for its cache, at most every JIT_RETRY_NS. */
static void jit_connect(struct hart *h)
{
	uint64_t t = util_now_ns();
	if (t < J.next_try_ns)
		return;
	J.next_try_ns = t + JIT_RETRY_NS;
	struct jit_cache hdr;
	char why[160];
	int kick = -1;
	int fd = jitcache_fetch(J.fdsock, &hdr, &kick, why, sizeof(why));
	if (fd == -EPROTO || fd == -EINVAL)
		log_err("shoal-jit's code cache: %s; running without it", why);
	if (fd < 0)
		return;
	if (jit_map(h, fd, &hdr, kick))
		close(kick);
	close(fd);
}

void jit_init(struct hart *h, const char *dir, uint32_t threshold, int sync)
{
	h->jit_sync = (uint8_t)sync;
	J.hs = &J.local;
	h->jit_on = threshold > 0;
	h->jit_threshold = threshold;
	if (!h->jit_on)
		return;
	static const void *const helpers[JH_COUNT] = {
	    [JH_LOAD] = (const void *)jh_load, [JH_STORE] = (const void *)jh_store,
	    [JH_AMO] = (const void *)jh_amo,   [JH_CSR] = (const void *)jh_csr,
	    [JH_FPU] = (const void *)jh_fpu,
	};
	memcpy(h->jit_helper, helpers, sizeof(helpers));
	snprintf(J.fdsock, sizeof(J.fdsock), "%s/jit-fd.sock", dir);
	char ep[PATH_MAX + 16];
	snprintf(ep, sizeof(ep), "ipc://%s/jit.sock", dir);
	J.zctx = zmq_ctx_new();
	J.push = J.zctx ? zmsg_push(J.zctx, ep) : NULL;
	if (!J.push) {
		log_err("cannot reach shoal-jit at %s: %s; interpreting only", ep,
			zmq_strerror(errno));
		h->jit_on = 0;
		return;
	}
	J.board_epoch = __atomic_load_n(&h->board->jit_epoch, __ATOMIC_ACQUIRE);
}

void jit_poll(struct hart *h)
{
	uint32_t be = __atomic_load_n(&h->board->jit_epoch, __ATOMIC_ACQUIRE);
	if (be != J.board_epoch) {
		J.board_epoch = be;
		jit_unmap(h);
		J.next_try_ns = 0;
	}
	if (J.mapped) {
		J.hs->instret = h->instret;
		J.hs->interp = h->interp_insns;
		uint64_t e = __atomic_load_n(J.code_epoch, __ATOMIC_ACQUIRE);
		if (e != J.epoch_seen) {
			J.epoch_seen = e;
			mmu_mark_code(h);
		}
	}
}

void jit_code_write(struct hart *h, uint64_t pa_page)
{
	uint64_t n = (pa_page - HART_RAM_BASE) >> 12;
	if (!h->jit_codebits || n >= h->ram_size >> 12)
		return;
	uint64_t bit = 1ull << (n % 64);
	if (__atomic_fetch_and(&h->jit_codebits[n / 64], ~bit, __ATOMIC_ACQ_REL) & bit)
		__atomic_fetch_add(&h->jit_gens[n], 1, __ATOMIC_RELEASE);
}

/* Asks shoal-jit for a translation: through the request ring in the cache
 * (and a kick on its eventfd when it sleeps), or as a message when the
 * ring is full. A request that is lost is asked again (JIT_RESEND_TRIES). */
static void jit_request(uint64_t ppc, unsigned mode, uint32_t gen)
{
	if (J.mapped && jit_req_push(J.req, ppc, mode, gen)) {
		J.hs->requests++;
		uint64_t one = 1;
		if (post_ring_needs_kick(J.req) && write(J.kick, &one, sizeof(one)) < 0) {
			log_err("cannot wake shoal-jit: %s", strerror(errno));
			/* the next request tries again */
			__atomic_store_n(&J.req->sleeping, 1, __ATOMIC_RELEASE);
		}
		return;
	}
	struct proto_msg m = {.op = OP_JIT_COMPILE, .addr = ppc, .index = mode, .generation = gen};
	char buf[128];
	int n = proto_encode(&m, buf, sizeof(buf));
	if (n > 0 && zmq_send(J.push, buf, (size_t)n, ZMQ_DONTWAIT) >= 0)
		J.hs->requests++;
}

/* Whether translation `bh` was made from the guest bytes now at its place
 * for the block at `ppc`. If not, they changed behind the TLB's back (a
 * store that raced with the page first getting code, a device's DMA): the
 * page's translations are invalid for every hart. */
static int jit_source_current(struct hart *h, uint64_t ppc, const struct jit_block_hdr *bh)
{
	uint64_t off = ppc - HART_RAM_BASE;
	if (bh->ppc == ppc && bh->guest_off + bh->guest_len <= 4096 &&
	    memcmp(h->ram + (off & ~4095ull) + bh->guest_off, bh + 1, bh->guest_len) == 0)
		return 1;
	__atomic_fetch_add(&h->jit_gens[off >> 12], 1, __ATOMIC_RELEASE);
	J.hs->stale++;
	return 0;
}

/* Looks `b` up in the index. Returns 1 when the block is settled (bound to
 * its translation, or known untranslatable), 0 when there is no current
 * translation; `*gen` gets the page's generation. */
static int jit_bind(struct hart *h, struct block *b, unsigned mode, uint32_t *gen)
{
	uint64_t page = (b->ppc - HART_RAM_BASE) >> 12;
	*gen = __atomic_load_n(&h->jit_gens[page], __ATOMIC_ACQUIRE);
	/* A page without the has-code bit has no current translation (shoal-jit
	 * sets it before reading the page; a store clears it and bumps the
	 * generation): a bitmap read instead of a probe into the large index. */
	if (!jit_page_has_code(h, b->ppc & ~4095ull))
		return 0;
	uint64_t val = jit_index_find(J.index, jit_key(b->ppc, mode));
	J.hs->lookups += !h->jit_waiting;
	if (!val || (uint32_t)(val >> 32) != *gen)
		return 0;
	uint32_t co = (uint32_t)val;
	if (co == JIT_NO_CODE) { /* tier 1 cannot start this block */
		J.hs->hits++;
		b->jit_next = UINT32_MAX;
		return 1;
	}
	const struct jit_block_hdr *bh = (const struct jit_block_hdr *)(J.rx + co);
	if (!jit_source_current(h, b->ppc, bh)) {
		(*gen)++;
		return 0;
	}
	J.hs->hits++;
	J.hs->installs++;
	b->jit = (const uint8_t *)bh + jit_block_code_off(bh);
	b->jit_hdr = bh;
	return 1;
}

void jit_recheck(struct hart *h, struct block *b)
{
	if (jit_source_current(h, b->ppc, b->jit_hdr))
		return;
	b->jit = NULL;
	b->jit_hdr = NULL;
	b->jit_next = b->hits + 1; /* look up (and ask for) the new one */
}

void jit_consider(struct hart *h, struct block *b)
{
	if (b->ppc - HART_RAM_BASE >= h->ram_size) { /* the boot ROM is private to each hart */
		b->jit_next = UINT32_MAX;
		return;
	}
	if (!J.mapped) {
		jit_connect(h);
		while (!J.mapped && h->jit_sync &&
		       J.next_try_ns < JIT_SYNC_WAIT_NS * 10 + util_now_ns()) {
			usleep(1000); /* --jit-sync: the service is starting */
			J.next_try_ns = 0;
			jit_connect(h);
		}
		if (!J.mapped) {
			b->jit_next = b->hits + JIT_RETRY_HITS;
			return;
		}
	}
	unsigned mode = h->priv;
	uint32_t gen;
	if (jit_bind(h, b, mode, &gen))
		return;
	if (b->hits < h->jit_threshold) {
		b->jit_next = h->jit_threshold;
		return;
	}
	/* Ask again now and then: a request is dropped, not queued, while
	 * the socket is not connected (the service starting or restarting). */
	if (b->jit_tries++ % JIT_RESEND_TRIES == 0)
		jit_request(b->ppc, mode | (h->jit_sync ? JIT_REQ_NOW : 0), gen);
	if (h->jit_sync) {
		/* Testing: wait (bounded) for the translation, so every block
		 * that tier 1 can start runs translated from its first visit. */
		uint64_t until = util_now_ns() + JIT_SYNC_WAIT_NS;
		int bound = 0;
		h->jit_waiting = 1;
		while (!bound && util_now_ns() < until) {
			sched_yield();
			bound = jit_bind(h, b, mode, &gen);
		}
		h->jit_waiting = 0;
		if (bound)
			return;
	}
	b->jit_next = b->hits + JIT_RETRY_HITS;
}
