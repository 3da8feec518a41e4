/* Address translation for one hart: Sv39/Sv48 page walks with A/D updates by
 * compare-and-swap on shared RAM, and the private softMMU TLB the
 * interpreter's fast path reads.
 *
 * Contracts: a TLB entry holds one 4 KiB page of one translation context
 * (M, S, S with SUM, U); its tags are set only for the accesses the walk
 * allowed (a write tag only once D is set), and only for RAM and ROM pages,
 * so a tag hit needs no further check. The page holding HTIF tohost never
 * gets a write tag, so stores to it reach the bus. Entries of S and U
 * contexts are dropped by sfence.vma, a satp write and an MXR change; the
 * M context is the identity and never needs flushing. */
#include <string.h>

#include "hart.h"

#define PTE_V (1ull << 0)
#define PTE_R (1ull << 1)
#define PTE_W (1ull << 2)
#define PTE_X (1ull << 3)
#define PTE_U (1ull << 4)
#define PTE_A (1ull << 6)
#define PTE_D (1ull << 7)
#define PTE_PPN_MASK (((1ull << 44) - 1) << 10)
#define PTE_RESERVED (~((1ull << 54) - 1)) /* bits 63:54: Svnapot/Svpbmt not offered */

/* The bit of a Bloom filter of 2^bits for superpage region `r`. */
static unsigned super_bit(uint64_t r, unsigned bits)
{
	return (unsigned)((r * 0x9e3779b97f4a7c15ull) >> (64 - bits));
}

/* Notes that the S/U TLBs hold a granule of the level-`lvl` superpage
 * that maps `va` (see struct hart's super_2m). */
static void super_note(struct hart *h, uint64_t va, unsigned lvl)
{
	h->super_any = 1;
	if (lvl == 1)
		bloom_set(h->super_2m, super_bit(va >> 21, 12));
	else if (lvl == 2)
		bloom_set(h->super_1g, super_bit(va >> 30, 12));
	else
		h->super_huge = 1;
}

/* Whether `va` may lie in a superpage the S/U TLBs hold granules of. */
static int super_noted(const struct hart *h, uint64_t va)
{
	if (!h->super_any)
		return 0;
	return h->super_huge || bloom_has(h->super_2m, super_bit(va >> 21, 12)) ||
	       bloom_has(h->super_1g, super_bit(va >> 30, 12));
}

static void tlb_clear(struct tlb *t)
{
	memset(t, 0xff, sizeof(*t)); /* every tag becomes TLB_INVALID */
	t->vnext = 0;
}

/* After S/U translations were dropped: what cached their results follows
 * (the access page caches of translated code; jump caches, through a new
 * block epoch, so every pc is translated again). */
static void translations_dropped(struct hart *h)
{
	jit_sites_flush(h);
	hart_new_block_epoch(h);
}

void mmu_init(struct hart *h)
{
	for (unsigned c = 0; c < MMU_CTX_COUNT; c++)
		tlb_clear(&h->tlb[c]);
	h->jit_sites_used = 1; /* zeroed slots would claim page 0: empty them */
	jit_sites_flush(h);
	mmu_update_ctx(h);
}

void mmu_flush_all(struct hart *h)
{
	tlb_clear(&h->tlb[MMU_M]);
	mmu_flush(h);
}

void mmu_flush(struct hart *h)
{
	for (unsigned c = MMU_S; c < MMU_CTX_COUNT; c++)
		tlb_clear(&h->tlb[c]);
	if (h->super_any) {
		memset(h->super_2m, 0, sizeof(h->super_2m));
		memset(h->super_1g, 0, sizeof(h->super_1g));
		h->super_any = h->super_huge = 0;
	}
	translations_dropped(h);
}

/* Whether entry `e` translates virtual page `page` for any access. */
static int entry_holds(const struct tlb_entry *e, uint64_t page)
{
	return (e->tag_r & ~TLB_FLAGS) == page || (e->tag_w & ~TLB_FLAGS) == page ||
	       (e->tag_x & ~TLB_FLAGS) == page;
}

static void entry_drop_page(struct tlb_entry *e, uint64_t page)
{
	if (entry_holds(e, page))
		memset(e, 0xff, sizeof(*e));
}

void mmu_sfence(struct hart *h, int has_addr, uint64_t va, int has_asid, uint64_t asid)
{
	/* The TLB holds only the current address space (a satp write flushes
	 * it), so a fence for another ASID has nothing to drop here. */
	if (has_asid && asid != ((h->satp >> 44) & 0xffff))
		return;
	/* A superpage's granules all come from the leaf PTE the fence names:
	 * they go with it (all of the TLB, as the granules are not found by
	 * region). */
	if (!has_addr || super_noted(h, va)) {
		mmu_flush(h);
		return;
	}
	uint64_t page = va & ~0xfffull;
	for (unsigned c = MMU_S; c < MMU_CTX_COUNT; c++) {
		struct tlb *t = &h->tlb[c];
		entry_drop_page(&t->e[tlb_index(va)], page);
		for (unsigned v = 0; v < TLB_VICTIMS; v++)
			entry_drop_page(&t->victim[v], page);
	}
	/* Linux fences each page whose mapping it fixes up (update_mmu_cache),
	 * mostly data: a page no block of this epoch was found on leaves the
	 * jump caches as they are. */
	if (epoch_page_noted(h, va))
		translations_dropped(h);
	else
		jit_sites_flush(h);
}

void mmu_update_ctx(struct hart *h)
{
	unsigned p = h->priv;
	h->ictx = p == PRV_M ? MMU_M : p == PRV_S ? MMU_S : MMU_U;
	h->jcur = h->jc[h->ictx];
	h->jit_jcur = h->jit_jc[h->ictx];
	if (p == PRV_M && (h->mstatus & MSTATUS_MPRV))
		p = (unsigned)((h->mstatus & MSTATUS_MPP) >> 11);
	unsigned d = p == PRV_M	  ? MMU_M
		     : p == PRV_S ? ((h->mstatus & MSTATUS_SUM) ? MMU_SSUM : MMU_S)
				  : MMU_U;
	if (d != h->dctx)
		jit_sites_flush(h); /* their pages were hit in the old context */
	h->dctx = d;
	h->dtlb = h->tlb[d].e;
}

/* Host pointer of physical page `pa_page` if it is RAM or ROM, else NULL.
 * `*writable` says whether guest stores may go straight to it. */
static uint8_t *host_page(struct hart *h, uint64_t pa_page, int *writable)
{
	uint64_t off = pa_page - HART_RAM_BASE;
	if (off < h->ram_size) {
		*writable = (pa_page != (h->tohost & ~0xfffull));
		return h->ram + off;
	}
	off = pa_page - h->rom_base;
	if (h->rom && off < h->rom_size) {
		*writable = 0;
		return h->rom + off;
	}
	return NULL;
}

static int fault_cause(int acc)
{
	return acc == ACC_X   ? EXC_INSN_PAGE_FAULT
	       : acc == ACC_W ? EXC_STORE_PAGE_FAULT
			      : EXC_LOAD_PAGE_FAULT;
}

static int access_cause(int acc)
{
	return acc == ACC_X ? EXC_INSN_ACCESS : acc == ACC_W ? EXC_STORE_ACCESS : EXC_LOAD_ACCESS;
}

/* The PMP's verdict for privilege `priv` on physical [pa, pa + len): 0 with
 * the permissions (PTE_R/W/X bits) in `*perm`, or -1 when entries split the
 * range (the caller checks each access exactly). The lowest matching entry
 * decides; M-mode is bound only by locked entries; S and U get nothing when
 * no entry matches. */
static int pmp_range(const struct hart *h, uint64_t pa, uint64_t len, unsigned priv, uint64_t *perm)
{
	const uint64_t all = PTE_R | PTE_W | PTE_X;
	uint64_t prev = 0;
	for (unsigned i = 0; i < 16; i++) {
		unsigned cfg = (unsigned)(h->pmpcfg[i / 8] >> (8 * (i % 8))) & 0xff;
		uint64_t addr = h->pmpaddr[i], lo, hi;
		unsigned a = (cfg >> 3) & 3;
		uint64_t tor_base = prev;
		prev = addr;
		if (a == 0)
			continue;
		if (a == 1) {
			lo = tor_base << 2;
			hi = addr << 2;
		} else if (a == 2) {
			lo = addr << 2;
			hi = lo + 4;
		} else {
			unsigned ones = (unsigned)__builtin_ctzll(~addr);
			lo = (addr & ~((1ull << ones) - 1)) << 2;
			hi = ones + 3 >= 63 ? ~0ull : lo + (1ull << (ones + 3));
		}
		if (hi <= lo || pa + len <= lo || pa >= hi)
			continue;
		if (pa < lo || pa + len > hi)
			return -1;
		*perm = (priv == PRV_M && !(cfg & 0x80)) ? all : (uint64_t)(cfg & 7) << 1;
		return 0;
	}
	*perm = priv == PRV_M ? all : 0;
	return 0;
}

static unsigned ctx_priv(unsigned ctx)
{
	return ctx == MMU_M ? PRV_M : ctx == MMU_U ? PRV_U : PRV_S;
}

/* Walks the page table for `va`. On success returns 0 with the physical
 * address and the permissions this context has on the page (PTE_R/W/X,
 * PTE_W only when D is set). */
static int mmu_walk(struct hart *h, uint64_t va, int acc, unsigned ctx, uint64_t *pa,
		    uint64_t *perm, unsigned *level)
{
	*level = 0;
	unsigned mode = (unsigned)(h->satp >> 60);
	if (ctx == MMU_M || mode == 0) {
		*pa = va;
		*perm = PTE_R | PTE_W | PTE_X;
		return 0;
	}
	unsigned levels = mode == 9 ? 4 : 3;
	unsigned vabits = 12 + 9 * levels;
	int64_t top = (int64_t)va >> (vabits - 1);
	if (top != 0 && top != -1)
		return fault_cause(acc);
	uint64_t base = (h->satp & ((1ull << 44) - 1)) << 12;
	for (int lvl = (int)levels - 1; lvl >= 0; lvl--) {
		uint64_t pte_pa = base + ((va >> (12 + 9 * lvl)) & 511) * 8;
		uint64_t off = pte_pa - HART_RAM_BASE;
		if (off >= h->ram_size)
			return access_cause(acc);
		/* Page-table reads (and A/D writes) are S-mode accesses
		 * for the PMP, whatever the context. */
		uint64_t pmp;
		if (pmp_range(h, pte_pa, 8, PRV_S, &pmp) || !(pmp & PTE_R))
			return access_cause(acc);
		uint64_t *ptep = (uint64_t *)(void *)(h->ram + off);
again:;
		uint64_t pte = __atomic_load_n(ptep, __ATOMIC_ACQUIRE);
		if (!(pte & PTE_V) || (!(pte & PTE_R) && (pte & PTE_W)) || (pte & PTE_RESERVED))
			return fault_cause(acc);
		uint64_t ppn = (pte & PTE_PPN_MASK) >> 10;
		if (!(pte & (PTE_R | PTE_X))) {
			if (lvl == 0 || (pte & (PTE_A | PTE_D | PTE_U)))
				return fault_cause(acc);
			base = ppn << 12;
			continue;
		}
		/* A leaf: permissions for this context. */
		uint64_t p = 0;
		int user_page = (pte & PTE_U) != 0;
		if (ctx == MMU_U) {
			if (!user_page)
				return fault_cause(acc);
		} else if (user_page && (ctx != MMU_SSUM || acc == ACC_X)) {
			return fault_cause(acc);
		}
		if ((pte & PTE_R) || ((h->mstatus & MSTATUS_MXR) && (pte & PTE_X)))
			p |= PTE_R;
		if (pte & PTE_W)
			p |= PTE_W;
		if ((pte & PTE_X) && !(user_page && ctx != MMU_U))
			p |= PTE_X;
		uint64_t need = acc == ACC_X ? PTE_X : acc == ACC_W ? PTE_W : PTE_R;
		if (!(p & need))
			return fault_cause(acc);
		if (lvl > 0 && (ppn & ((1ull << (9 * lvl)) - 1)))
			return fault_cause(acc); /* misaligned superpage */
		uint64_t want = PTE_A | (acc == ACC_W ? PTE_D : 0);
		if ((pte & want) != want) {
			if (!(pmp & PTE_W))
				return access_cause(acc);
			if (!__atomic_compare_exchange_n(ptep, &pte, pte | want, 0,
							 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				goto again;
			pte |= want;
		}
		if (!(pte & PTE_D))
			p &= ~PTE_W; /* the first write must walk again to set D */
		uint64_t lowmask = (1ull << (12 + 9 * lvl)) - 1;
		*pa = ((ppn << 12) & ~lowmask) | (va & lowmask);
		*perm = p;
		*level = (unsigned)lvl;
		return 0;
	}
	return fault_cause(acc);
}

/* Finds `va`'s entry in context `ctx` (main set, then victims), or NULL. */
static struct tlb_entry *tlb_find(struct hart *h, unsigned ctx, uint64_t page)
{
	struct tlb *t = &h->tlb[ctx];
	struct tlb_entry *e = &t->e[tlb_index(page)];
	if (entry_holds(e, page))
		return e;
	for (unsigned v = 0; v < TLB_VICTIMS; v++) {
		struct tlb_entry *ve = &t->victim[v];
		if (entry_holds(ve, page)) {
			struct tlb_entry tmp = *e; /* swap into the main set */
			*e = *ve;
			*ve = tmp;
			return e;
		}
	}
	return NULL;
}

static struct tlb_entry *tlb_fill(struct hart *h, unsigned ctx, uint64_t page, uint64_t pa_page,
				  uint64_t perm)
{
	struct tlb *t = &h->tlb[ctx];
	struct tlb_entry *e = &t->e[tlb_index(page)];
	if ((e->tag_r & e->tag_w & e->tag_x) != TLB_INVALID && !entry_holds(e, page))
		t->victim[t->vnext++ % TLB_VICTIMS] = *e;
	int writable = 0;
	uint8_t *host = host_page(h, pa_page, &writable);
	uint64_t io = host ? 0 : TLB_IO;
	e->tag_r = (perm & PTE_R) ? page | io : TLB_INVALID;
	e->tag_w = (perm & PTE_W) ? page | io | (writable ? 0 : TLB_IO) : TLB_INVALID;
	if (e->tag_w == page && jit_page_has_code(h, pa_page))
		e->tag_w |= TLB_CODE;
	e->tag_x = (perm & PTE_X) ? page | io : TLB_INVALID;
	e->addend = host ? (uintptr_t)host - page : 0;
	e->pa_page = pa_page;
	return e;
}

int mmu_translate(struct hart *h, uint64_t va, unsigned size, int acc, uint64_t *pa)
{
	unsigned ctx = acc == ACC_X ? h->ictx : h->dctx;
	uint64_t page = va & ~0xfffull;
	struct tlb_entry *e = tlb_find(h, ctx, page);
	uint64_t tag = !e	      ? TLB_INVALID
		       : acc == ACC_X ? e->tag_x
		       : acc == ACC_W ? e->tag_w
				      : e->tag_r;
	if (tag != TLB_INVALID) {
		*pa = e->pa_page | (va & 0xfff);
		return 0;
	}
	uint64_t p, perm, pmp;
	unsigned level;
	int r = mmu_walk(h, va, acc, ctx, &p, &perm, &level);
	if (r)
		return r;
	uint64_t need = acc == ACC_X ? PTE_X : acc == ACC_W ? PTE_W : PTE_R;
	if (pmp_range(h, p & ~0xfffull, 4096, ctx_priv(ctx), &pmp) == 0) {
		if (!(pmp & need))
			return access_cause(acc);
		tlb_fill(h, ctx, page, p & ~0xfffull, perm & pmp);
		if (level)
			super_note(h, va, level);
	} else if (pmp_range(h, p, size, ctx_priv(ctx), &pmp) || !(pmp & need)) {
		return access_cause(acc); /* split by PMP: checked per access, never cached */
	}
	*pa = p;
	return 0;
}

uint8_t *mmu_fetch_page(struct hart *h, uint64_t va, uint64_t *pa_page, int *cause)
{
	uint64_t pa;
	*cause = mmu_translate(h, va, 2, ACC_X, &pa);
	if (*cause)
		return NULL;
	*pa_page = pa & ~0xfffull;
	int writable;
	uint8_t *host = host_page(h, pa & ~0xfffull, &writable);
	if (!host)
		*cause = EXC_INSN_ACCESS;
	return host;
}

int mmu_load(struct hart *h, uint64_t va, unsigned size, uint64_t *val)
{
	if (((va & 0xfff) + size) > 4096) {
		uint64_t v = 0, b;
		for (unsigned i = 0; i < size; i++) {
			int r = mmu_load(h, va + i, 1, &b);
			if (r)
				return r;
			v |= b << (8 * i);
		}
		*val = v;
		return 0;
	}
	uint64_t pa;
	int r = mmu_translate(h, va, size, ACC_R, &pa);
	if (r)
		return r;
	struct tlb_entry *e = &h->dtlb[tlb_index(va)];
	if (e->tag_r == (va & ~0xfffull)) {
		uint64_t v = 0;
		memcpy(&v, (void *)(e->addend + va), size);
		*val = v;
		return 0;
	}
	return bus_load(h, pa, size, val);
}

int mmu_store(struct hart *h, uint64_t va, unsigned size, uint64_t val)
{
	if (((va & 0xfff) + size) > 4096) {
		/* Check every byte can be written before writing any. */
		uint64_t pa;
		for (unsigned i = 0; i < size; i++) {
			int r = mmu_translate(h, va + i, 1, ACC_W, &pa);
			if (r)
				return r;
		}
		for (unsigned i = 0; i < size; i++) {
			int r = mmu_store(h, va + i, 1, (val >> (8 * i)) & 0xff);
			if (r)
				return r;
		}
		return 0;
	}
	uint64_t pa;
	int r = mmu_translate(h, va, size, ACC_W, &pa);
	if (r)
		return r;
	struct tlb_entry *e = &h->dtlb[tlb_index(va)];
	if ((e->tag_w & ~TLB_CODE) == (va & ~0xfffull)) {
		if (e->tag_w & TLB_CODE) {
			jit_code_write(h, e->pa_page);
			e->tag_w &= ~TLB_CODE;
		}
		memcpy((void *)(e->addend + va), &val, size);
		return 0;
	}
	return bus_store(h, pa, size, val);
}

void *mmu_amo_ptr(struct hart *h, uint64_t va, unsigned size, int acc, int *cause)
{
	if (va & (size - 1)) {
		*cause = acc == ACC_R ? EXC_LOAD_MISALIGNED : EXC_STORE_MISALIGNED;
		return NULL;
	}
	uint64_t pa;
	*cause = mmu_translate(h, va, size, acc, &pa);
	if (*cause)
		return NULL;
	uint64_t off = pa - HART_RAM_BASE;
	if (off >= h->ram_size) {
		*cause = acc == ACC_R ? EXC_LOAD_ACCESS : EXC_STORE_ACCESS;
		return NULL;
	}
	if (acc == ACC_W && jit_page_has_code(h, pa & ~0xfffull))
		jit_code_write(h, pa & ~0xfffull);
	return h->ram + off;
}

void mmu_mark_code(struct hart *h)
{
	jit_sites_flush(h); /* a store site may hold a page that now has code */
	for (unsigned c = 0; c < MMU_CTX_COUNT; c++) {
		struct tlb *t = &h->tlb[c];
		for (unsigned i = 0; i < TLB_SIZE + TLB_VICTIMS; i++) {
			struct tlb_entry *e = i < TLB_SIZE ? &t->e[i] : &t->victim[i - TLB_SIZE];
			if (e->tag_w == TLB_INVALID || (e->tag_w & TLB_IO))
				continue;
			e->tag_w &= ~TLB_CODE;
			if (jit_page_has_code(h, e->pa_page))
				e->tag_w |= TLB_CODE;
		}
	}
}
