/* LR/SC and AMOs, for the interpreter and for translated code alike.
 * Naturally aligned, RAM only, host atomics on the shared page; LR/SC is a
 * compare-and-swap against the value LR read (docs/design-deltas.md 6). */
#include "hart.h"

/* The host address of an aligned `size`-byte atomic at `va` (acc ACC_R for
 * LR, ACC_W otherwise), through the TLB when it can. */
static void *amo_ptr(struct hart *h, uint64_t va, unsigned size, int acc, int *cause)
{
	const struct tlb_entry *te = &h->dtlb[tlb_index(va)];
	if (!(va & (size - 1)) && te->tag_w == (va & ~0xfffull))
		return (void *)(te->addend + va);
	return mmu_amo_ptr(h, va, size, acc, cause);
}

#define CAS_LOOP(type, ctype, pick)                                                   \
	do {                                                                          \
		type cur = __atomic_load_n(p, __ATOMIC_SEQ_CST), s = (type)src, nv;   \
		do                                                                    \
			nv = ((ctype)cur pick(ctype) s) ? cur : s;                    \
		while (!__atomic_compare_exchange_n(p, &cur, nv, 1, __ATOMIC_SEQ_CST, \
						    __ATOMIC_SEQ_CST));               \
		old = cur;                                                            \
	} while (0)

/* One 32-bit (W) or 64-bit (D) operation on *p; returns the old value. */
#define AMO_BODY(type, stype)                                                                \
	switch (op) {                                                                        \
	case OP_AMOSWAP_W:                                                                   \
	case OP_AMOSWAP_D: old = __atomic_exchange_n(p, (type)src, __ATOMIC_SEQ_CST); break; \
	case OP_AMOADD_W:                                                                    \
	case OP_AMOADD_D: old = __atomic_fetch_add(p, (type)src, __ATOMIC_SEQ_CST); break;   \
	case OP_AMOXOR_W:                                                                    \
	case OP_AMOXOR_D: old = __atomic_fetch_xor(p, (type)src, __ATOMIC_SEQ_CST); break;   \
	case OP_AMOAND_W:                                                                    \
	case OP_AMOAND_D: old = __atomic_fetch_and(p, (type)src, __ATOMIC_SEQ_CST); break;   \
	case OP_AMOOR_W:                                                                     \
	case OP_AMOOR_D: old = __atomic_fetch_or(p, (type)src, __ATOMIC_SEQ_CST); break;     \
	case OP_AMOMIN_W:                                                                    \
	case OP_AMOMIN_D: CAS_LOOP(type, stype, <); break;                                   \
	case OP_AMOMAX_W:                                                                    \
	case OP_AMOMAX_D: CAS_LOOP(type, stype, >); break;                                   \
	case OP_AMOMINU_W:                                                                   \
	case OP_AMOMINU_D: CAS_LOOP(type, type, <); break;                                   \
	default: CAS_LOOP(type, type, >); break;                                             \
	}

int amo_exec(struct hart *h, unsigned op, uint64_t a, uint64_t src, uint64_t *rd)
{
	int word = op <= OP_AMOMAXU_W;
	unsigned size = word ? 4 : 8;
	int lr = op == OP_LR_W || op == OP_LR_D, sc = op == OP_SC_W || op == OP_SC_D;
	int e = 0;
	void *ptr = amo_ptr(h, a, size, lr ? ACC_R : ACC_W, &e);
	if (!ptr)
		return e;
	if (lr) {
		uint64_t v =
		    word ? (uint64_t)(int64_t)__atomic_load_n((int32_t *)ptr, __ATOMIC_SEQ_CST)
			 : __atomic_load_n((uint64_t *)ptr, __ATOMIC_SEQ_CST);
		h->resv_addr = a;
		h->resv_val = v;
		h->resv_valid = 1;
		*rd = v;
		return 0;
	}
	if (sc) {
		int ok = 0;
		if (h->resv_valid && h->resv_addr == a) {
			if (word) {
				int32_t expect = (int32_t)h->resv_val;
				ok = __atomic_compare_exchange_n((int32_t *)ptr, &expect,
								 (int32_t)src, 0, __ATOMIC_SEQ_CST,
								 __ATOMIC_SEQ_CST);
			} else {
				uint64_t expect = h->resv_val;
				ok =
				    __atomic_compare_exchange_n((uint64_t *)ptr, &expect, src, 0,
								__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
			}
		}
		h->resv_valid = 0;
		*rd = !ok;
		return 0;
	}
	if (word) {
		uint32_t *p = ptr, old;
		AMO_BODY(uint32_t, int32_t)
		*rd = (uint64_t)(int64_t)(int32_t)old;
	} else {
		uint64_t *p = ptr, old;
		AMO_BODY(uint64_t, int64_t)
		*rd = old;
	}
	return 0;
}
