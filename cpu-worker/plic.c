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
	if (__atomic_load_n(&p->level[w], __ATOMIC_ACQUIRE) & bit)
		board_irq_line(h->board, src, 1);
}

int plic_load(struct hart *h, uint64_t off, unsigned size, uint64_t *val)
{
	struct plic_state *p = &h->board->plic;
	if (size != 4 || (off & 3))
		return EXC_LOAD_ACCESS;
	*val = 0;
	if (off < PLIC_PENDING) {
		if (off / 4 < PLIC_SOURCES)
			*val = __atomic_load_n(&p->priority[off / 4], __ATOMIC_RELAXED);
	} else if (off < PLIC_ENABLE) {
		uint64_t w = (off - PLIC_PENDING) / 4;
		if (w < PLIC_WORDS)
			*val = __atomic_load_n(&p->pending[w], __ATOMIC_RELAXED);
	} else if (off < PLIC_CONTEXT) {
		uint64_t ctx = (off - PLIC_ENABLE) / PLIC_ENABLE_STRIDE;
		uint64_t w = (off - PLIC_ENABLE) % PLIC_ENABLE_STRIDE / 4;
		if (ctx < 2ull * h->board->nharts && w < PLIC_WORDS)
			*val = __atomic_load_n(&p->enable[ctx][w], __ATOMIC_RELAXED);
	} else {
		uint64_t ctx = (off - PLIC_CONTEXT) / PLIC_CONTEXT_STRIDE;
		uint64_t reg = (off - PLIC_CONTEXT) % PLIC_CONTEXT_STRIDE;
		if (ctx >= 2ull * h->board->nharts)
			return 0;
		if (reg == 0)
			*val = __atomic_load_n(&p->threshold[ctx], __ATOMIC_RELAXED);
		else if (reg == 4)
			*val = plic_claim(p, (unsigned)ctx);
	}
	return 0;
}

int plic_store(struct hart *h, uint64_t off, unsigned size, uint64_t val)
{
	struct plic_state *p = &h->board->plic;
	if (size != 4 || (off & 3))
		return EXC_STORE_ACCESS;
	uint32_t v = (uint32_t)val;
	if (off < PLIC_PENDING) {
		if (off / 4 < PLIC_SOURCES && off / 4 > 0)
			__atomic_store_n(&p->priority[off / 4], v & 7, __ATOMIC_RELAXED);
	} else if (off < PLIC_ENABLE) {
		/* pending is read-only */
	} else if (off < PLIC_CONTEXT) {
		uint64_t ctx = (off - PLIC_ENABLE) / PLIC_ENABLE_STRIDE;
		uint64_t w = (off - PLIC_ENABLE) % PLIC_ENABLE_STRIDE / 4;
		if (ctx < 2ull * h->board->nharts && w < PLIC_WORDS) {
			__atomic_store_n(&p->enable[ctx][w], w == 0 ? v & ~1u : v,
					 __ATOMIC_SEQ_CST);
			/* Unmasking may make a pending source deliverable to a hart
			 * asleep in WFI (Linux unmasks from any CPU): wake it to look. */
			board_wake(&h->board->hart[ctx / 2]);
		}
	} else {
		uint64_t ctx = (off - PLIC_CONTEXT) / PLIC_CONTEXT_STRIDE;
		uint64_t reg = (off - PLIC_CONTEXT) % PLIC_CONTEXT_STRIDE;
		if (ctx >= 2ull * h->board->nharts)
			return 0;
		if (reg == 0) {
			__atomic_store_n(&p->threshold[ctx], v & 7, __ATOMIC_SEQ_CST);
			board_wake(&h->board->hart[ctx / 2]);
		} else if (reg == 4)
			plic_complete(h, v);
	}
	h->poll_count = 0; /* a threshold, enable or completion may unmask an interrupt */
	return 0;
}
