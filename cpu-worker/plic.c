/* The PLIC as one vCPU serves it: MMIO on the shared state in the board
 * page, and the external-interrupt bits (MEIP, SEIP) of this hart. Claims
 * are compare-and-swaps on the pending word, so two harts never claim the
 * same interrupt. Level-triggered sources re-pend at completion while their
 * line is still up. */
#include "hart.h"

#define PLIC_PENDING 0x1000u
#define PLIC_ENABLE 0x2000u
#define PLIC_ENABLE_STRIDE 0x80u
#define PLIC_CONTEXT 0x200000u
#define PLIC_CONTEXT_STRIDE 0x1000u

/* The best source for context `ctx`: pending, enabled, priority above the
 * threshold (ties to the lowest id). Returns 0 if none. */
static unsigned plic_best(struct plic_state *p, unsigned ctx)
{
	uint32_t thr = __atomic_load_n(&p->threshold[ctx], __ATOMIC_RELAXED), best_prio = thr;
	unsigned best = 0;
	for (unsigned w = 0; w < PLIC_WORDS; w++) {
		uint32_t cand = __atomic_load_n(&p->pending[w], __ATOMIC_ACQUIRE) &
				__atomic_load_n(&p->enable[ctx][w], __ATOMIC_RELAXED);
		while (cand) {
			unsigned src = w * 32 + (unsigned)__builtin_ctz(cand);
			cand &= cand - 1;
			uint32_t prio = __atomic_load_n(&p->priority[src], __ATOMIC_RELAXED);
			if (prio > best_prio) {
				best_prio = prio;
				best = src;
			}
		}
	}
	return best;
}

uint32_t plic_eip(struct hart *h)
{
	struct plic_state *p = &h->board->plic;
	uint32_t any = 0;
	for (unsigned w = 0; w < PLIC_WORDS; w++)
		any |= __atomic_load_n(&p->pending[w], __ATOMIC_RELAXED);
	if (!any)
		return 0;
	unsigned c = 2 * h->hartid;
	return (plic_best(p, c) ? IRQ_MEIP : 0) | (plic_best(p, c + 1) ? IRQ_SEIP : 0);
}

static unsigned plic_claim(struct plic_state *p, unsigned ctx)
{
	for (;;) {
		unsigned src = plic_best(p, ctx);
		if (!src)
			return 0;
		uint32_t bit = 1u << (src % 32), w = src / 32;
		uint32_t old = __atomic_load_n(&p->pending[w], __ATOMIC_ACQUIRE);
		if (!(old & bit))
			continue; /* another hart took it */
		if (__atomic_compare_exchange_n(&p->pending[w], &old, old & ~bit, 0,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			__atomic_fetch_or(&p->claimed[w], bit, __ATOMIC_ACQ_REL);
			return src;
		}
	}
}

static void plic_complete(struct hart *h, unsigned src)
{
	struct plic_state *p = &h->board->plic;
	if (src == 0 || src >= PLIC_SOURCES)
		return;
	uint32_t bit = 1u << (src % 32), w = src / 32;
	__atomic_fetch_and(&p->claimed[w], ~bit, __ATOMIC_ACQ_REL);
	if (!(__atomic_load_n(&p->level[w], __ATOMIC_ACQUIRE) & bit))
		return;
	/* The handler's writes to the device are posted: the write that
	 * lowers the line may still be on its way. Let the device catch up
	 * before deciding the line is really still high. */
	bus_settle_line(h, src);
	if (__atomic_load_n(&p->level[w], __ATOMIC_ACQUIRE) & bit)
		board_irq_line(h->board, src, 1);
}

/* What a PLIC register offset names. */
enum plic_reg { PR_NONE, PR_PRIORITY, PR_PENDING, PR_ENABLE, PR_THRESHOLD, PR_CLAIM };

/* Decodes `off` (32-bit aligned): the register's kind, its word in the state
 * (`*word`, not for claims) and its context (`*ctx`, for per-context ones).
 * Offsets past the sources, words or this board's contexts are PR_NONE. */
static enum plic_reg plic_decode(struct hart *h, uint64_t off, uint32_t **word, unsigned *ctx)
{
	struct plic_state *p = &h->board->plic;
	uint64_t c, i;
	if (off < PLIC_PENDING) {
		if (off / 4 >= PLIC_SOURCES)
			return PR_NONE;
		*word = &p->priority[off / 4];
		return PR_PRIORITY;
	}
	if (off < PLIC_ENABLE) {
		if ((off - PLIC_PENDING) / 4 >= PLIC_WORDS)
			return PR_NONE;
		*word = &p->pending[(off - PLIC_PENDING) / 4];
		return PR_PENDING;
	}
	if (off < PLIC_CONTEXT) {
		c = (off - PLIC_ENABLE) / PLIC_ENABLE_STRIDE;
		i = (off - PLIC_ENABLE) % PLIC_ENABLE_STRIDE / 4;
		if (c >= 2ull * h->board->nharts || i >= PLIC_WORDS)
			return PR_NONE;
		*ctx = (unsigned)c;
		*word = &p->enable[c][i];
		return PR_ENABLE;
	}
	c = (off - PLIC_CONTEXT) / PLIC_CONTEXT_STRIDE;
	i = (off - PLIC_CONTEXT) % PLIC_CONTEXT_STRIDE;
	if (c >= 2ull * h->board->nharts || (i != 0 && i != 4))
		return PR_NONE;
	*ctx = (unsigned)c;
	*word = &p->threshold[c];
	return i == 0 ? PR_THRESHOLD : PR_CLAIM;
}

int plic_load(struct hart *h, uint64_t off, unsigned size, uint64_t *val)
{
	if (size != 4 || (off & 3))
		return EXC_LOAD_ACCESS;
	uint32_t *word = NULL;
	unsigned ctx = 0;
	switch (plic_decode(h, off, &word, &ctx)) {
	case PR_NONE: *val = 0; break;
	case PR_CLAIM: *val = plic_claim(&h->board->plic, ctx); break;
	default: *val = __atomic_load_n(word, __ATOMIC_RELAXED); break;
	}
	return 0;
}

int plic_store(struct hart *h, uint64_t off, unsigned size, uint64_t val)
{
	struct plic_state *p = &h->board->plic;
	if (size != 4 || (off & 3))
		return EXC_STORE_ACCESS;
	uint32_t v = (uint32_t)val, *word = NULL;
	unsigned ctx = 0;
	switch (plic_decode(h, off, &word, &ctx)) {
	case PR_NONE:
	case PR_PENDING: /* read-only */ break;
	case PR_PRIORITY:
		if (word != &p->priority[0]) { /* source 0 does not exist */
			unsigned src = (unsigned)(word - p->priority);
			__atomic_store_n(word, v & 7, __ATOMIC_SEQ_CST);
			/* Raising a pending source's priority may make it
			 * deliverable to a sleeping hart. */
			if (__atomic_load_n(&p->pending[src / 32], __ATOMIC_ACQUIRE) &
			    (1u << (src % 32)))
				board_wake_enabled(h->board, src);
		}
		break;
	case PR_ENABLE:
	case PR_THRESHOLD:
		if (word == &p->enable[ctx][0])
			v &= ~1u; /* source 0 */
		else if (word == &p->threshold[ctx])
			v &= 7;
		__atomic_store_n(word, v, __ATOMIC_SEQ_CST);
		/* Unmasking may make a pending source deliverable to a hart
		 * asleep in WFI (Linux unmasks from any CPU): wake it to look. */
		board_wake(&h->board->hart[ctx / 2]);
		break;
	case PR_CLAIM: plic_complete(h, v); break;
	}
	h->poll_count = 0; /* a threshold, enable or completion may unmask an interrupt */
	return 0;
}
