/** @file
 * One RISC-V hart as run by a shoal-cpu process. The process owns all of it;
 * only `bh` (its board record) and guest RAM are shared. */
#ifndef SHOAL_HART_H
#define SHOAL_HART_H

#include <stdint.h>
#include <string.h>

#include "../common/board.h"
#include "../common/shadow.h"
#include "decode.h"

enum { PRV_U = 0, PRV_S = 1, PRV_M = 3 };

/** Exception causes. */
enum {
	EXC_INSN_MISALIGNED = 0,
	EXC_INSN_ACCESS = 1,
	EXC_ILLEGAL = 2,
	EXC_BREAKPOINT = 3,
	EXC_LOAD_MISALIGNED = 4,
	EXC_LOAD_ACCESS = 5,
	EXC_STORE_MISALIGNED = 6,
	EXC_STORE_ACCESS = 7,
	EXC_ECALL_U = 8,
	EXC_ECALL_S = 9,
	EXC_ECALL_M = 11,
	EXC_INSN_PAGE_FAULT = 12,
	EXC_LOAD_PAGE_FAULT = 13,
	EXC_STORE_PAGE_FAULT = 15,
};

#define HART_RAM_BASE 0x80000000ull

/** Translation contexts, each with its own TLB: M (identity), S, S with
 * mstatus.SUM set, U. */
enum { MMU_M, MMU_S, MMU_SSUM, MMU_U, MMU_CTX_COUNT };
/** Access kinds for translation. */
enum { ACC_R, ACC_W, ACC_X };

#define TLB_SIZE 256
#define TLB_VICTIMS 8
#define TLB_INVALID (~0ull)
#define TLB_IO 1ull   /* tag bit: no direct host access (MMIO, ROM write, tohost) */
#define TLB_CODE 2ull /* tag_w bit: the page holds translated code (stores go slow) */
#define TLB_FLAGS (TLB_IO | TLB_CODE)

/** One softMMU TLB entry: a 4 KiB virtual page. A tag equals the page's
 * virtual address when that access may use `addend` directly (host address
 * = addend + va); with TLB_IO set the access goes to the bus at pa_page. */
struct tlb_entry {
	uint64_t tag_r, tag_w, tag_x;
	uintptr_t addend;
	uint64_t pa_page;
};

/** The TLB set of virtual address `va`: the page number plus its upper
 * bits, so arrays a power-of-two number of pages apart (a copy's source
 * and destination) do not evict each other. (A xor fold made pages 0x101
 * apart collide: a bare-metal program's code and its stack 1 MiB above.)
 * Translated code computes the same index (jit-service/translate.c). */
static inline unsigned tlb_index(uint64_t va)
{
	uint64_t vpn = va >> 12;
	return (unsigned)(vpn + (vpn >> 8)) & (TLB_SIZE - 1);
}

/** One context's TLB: direct-mapped main set plus a small victim set. */
struct tlb {
	struct tlb_entry e[TLB_SIZE];
	struct tlb_entry victim[TLB_VICTIMS];
	uint32_t vnext;
};

#define MSTATUS_SIE (1ull << 1)
#define MSTATUS_MIE (1ull << 3)
#define MSTATUS_SPIE (1ull << 5)
#define MSTATUS_MPIE (1ull << 7)
#define MSTATUS_SPP (1ull << 8)
#define MSTATUS_MPP (3ull << 11)
#define MSTATUS_FS (3ull << 13) /* FP state: 0 off, 3 dirty */
#define MSTATUS_SD (1ull << 63) /* read-only: FS is dirty */
#define MSTATUS_MPRV (1ull << 17)
#define MSTATUS_SUM (1ull << 18)
#define MSTATUS_MXR (1ull << 19)
#define MSTATUS_TVM (1ull << 20)
#define MSTATUS_TW (1ull << 21)
#define MSTATUS_TSR (1ull << 22)
#define MSTATUS_UXL (2ull << 32)
#define MSTATUS_SXL (2ull << 34)

#define IRQ_SSIP_BIT (1ull << 1)
#define IRQ_STIP_BIT (1ull << 5)
#define MENVCFG_FIOM 1ull	  /* fence i/o implies memory */
#define MENVCFG_STCE (1ull << 63) /* Sstc: stimecmp drives mip.STIP */
/** The timer interrupts a hart polls the clock for (MTIP, and STIP under Sstc). */
#define HART_TIMER_IRQS (IRQ_MTIP | IRQ_STIP_BIT)

/** A device window: guest physical [base, base+size) served by a device
 * process over ZeroMQ, with an optional shadow page for hot registers. */
struct dev_window {
	uint64_t base, size;
	void *sock;	       /* DEALER to the device's ROUTER */
	struct shadow *shadow; /* may be NULL */
	uint32_t irq;	       /* the PLIC source it drives, 0 if none */
	int posted;	       /* writes sent since the device last answered */
	uint64_t ticket;       /* the last write this hart put in the ring */
	char name[32];
};

#define HART_MAX_DEVS 32

/** Predecoded instruction as the interpreter runs it. */
struct pinsn {
	const void *h; /* handler label */
	int64_t imm;
	uint16_t pc_off; /* from the block start */
	uint8_t rd, rs1, rs2, len;
	uint16_t op;
	uint32_t raw;
};

#define JIT_SITES 64 /* per kind: loads, stores */
#define JIT_GROUPS 4 /* access groups a translated block keeps open at once */
#define JIT_HOISTS 2 /* base registers a translated region checks once */

/** One translated access's page cache: `page` (4 KiB aligned; ~0 when
 * empty) hit in the TLB of the current data context with host address =
 * addend + va. */
struct jit_site {
	uint64_t page;
	uintptr_t addend;
};

/** A predecoded basic block: at most one page, ending at a control op. */
struct block {
	uint64_t pc;	      /* virtual */
	uint64_t ppc;	      /* physical */
	struct block *hnext;  /* hash chain */
	uint32_t n;	      /* guest instructions, the synthetic fallthrough excluded */
	uint16_t stores;      /* 1 if any instruction writes memory or a CSR */
	uint16_t jit_tries;   /* index look-ups since the first compile request */
	const void *jit;      /* translated code (RX in the JIT cache), or NULL */
	const void *jit_hdr;  /* its struct jit_block_hdr */
	uint32_t epoch;	      /* h->block_epoch when last known usable */
	uint32_t fence_epoch; /* h->fence_epoch when last compared with guest memory */
	uint32_t hits;	      /* visits, counted until the translation is bound */
	uint32_t jit_next;    /* hits at which to ask shoal-jit / look again */
	/* The block run after this one last time (in fetch context succ_ctx,
	 * for virtual succ_pc; 1: none): checked like a jump cache slot, it
	 * saves the dispatcher the slot's cache miss. */
	struct block *succ;
	uint64_t succ_pc;
	uint32_t succ_ctx;
	struct pinsn ins[];
};

/** A jump cache entry of translated code, which a region's chain reads on
 * its own (one cache line, no block behind it): the translation at offset
 * `code` of this vCPU's code mapping runs virtual `pc`; it holds while
 * h->block_epoch is `epoch`. An entry never written is all zero, which
 * no block epoch (never 0) matches. */
struct jit_jc {
	uint64_t pc;
	uint32_t epoch;
	uint32_t code;
};

/** Bumped when anything translated code relies on changes (struct hart
 * offsets, helper signatures, the stubs' contract, the index layout). */
#define JIT_ABI_VERSION 18u

/* Helpers translated code calls through h->jit_helper[] (its code is
 * position independent: no host address is ever baked in). */
enum {
	/* uint64_t (h, addr, info) with h->pc = the region's entry pc; info =
	 * size | signed << 4 | index in its block << 8 | pc offset << 16 (see
	 * JH_INFO_*); an FLW or FLD has JH_INFO_FP and its bits in info's
	 * upper half, and returns what it read (the code boxes and puts it) */
	JH_LOAD,
	JH_STORE, /* void (h, addr, value, info), h->pc and info as for JH_LOAD */
	JH_AMO,	  /* uint64_t (h, addr, src, info): LR/SC/AMO, info as JH_LOAD's
		   * with the OP_* in place of size and sign */
	JH_CSR,	  /* uint64_t (h, src, raw, info): a CSR instruction (its bits in
		   * raw), info as JH_AMO's, JH_INFO_WRITES set when it writes */
	JH_FPU,	  /* uint64_t (h, raw, info): an F or D instruction other than a
		   * load or store (OP_FPU), info as JH_AMO's; returns x[rd] */
	JH_COUNT
};
/* A helper's info (32 bits): bits 0-7 the size and sign or the OP_*, bits
 * 8-14 the instruction's index in its block, bit 15 a flag, bits 16-31 its
 * pc offset from the region's entry (signed). */
#define JH_INFO_INDEX(info) (((info) >> 8) & 0x7f)
/* A load or store of an FP register: mstatus.FS must be on (an FLW or
 * FLD makes it dirty); the instruction's bits are in info's upper half. */
#define JH_INFO_FP (1u << 5)
#define JH_INFO_WRITES (1u << 15)
#define JH_INFO_PC_OFF(info) ((int64_t)(int16_t)((info) >> 16))

#define JC_BITS 14
#define JJ_BITS 14 /* the chains' jump caches: 256 KiB per fetch context */
#define BH_BITS 14

/** One hart's architectural state and its private caches, owned by the
 * vCPU process that runs it. */
struct hart {
	uint64_t x[33]; /* x[32] is where writes to x0 go */
	uint64_t f[32]; /* FP registers; singles NaN-boxed */
	uint64_t fcsr;	/* frm << 5 | fflags */
	uint64_t pc;
	uint64_t instret;
	uint64_t interp_insns; /* retired by the interpreter (the rest ran translated) */
	uint64_t cycle_off;    /* mcycle = instret + cycle_off */
	uint8_t *ram;
	uint64_t ram_size;
	uint64_t tohost; /* guest address of HTIF tohost, or 1 when absent */
	uint8_t *rom;	 /* boot ROM (private, read-only to the guest), or NULL */
	uint64_t rom_base, rom_size;
	uint32_t priv;
	uint32_t hartid;

	uint64_t mstatus, misa, medeleg, mideleg, mie, mip_sw, mtvec, mscratch, mepc, mcause, mtval;
	uint64_t mcounteren, scounteren, mcountinhibit, menvcfg, senvcfg;
	uint64_t stimecmp; /* Sstc: S-mode timer compare (private to this hart) */
	uint64_t stvec, sscratch, sepc, scause, stval, satp;
	uint64_t pmpcfg[2], pmpaddr[16];

	uint64_t resv_addr; /* LR/SC reservation, checked by compare-and-swap */
	uint64_t resv_val;
	int resv_valid;

	struct board *board;
	struct board_hart *bh;
	uint32_t mtip;	    /* IRQ_MTIP if mtime >= mtimecmp at the last poll */
	uint32_t stip;	    /* IRQ_STIP_BIT if menvcfg.STCE and mtime >= stimecmp */
	uint32_t spins;	    /* consecutive runs of a store-free self-loop block */
	int32_t poll_count; /* blocks until the next interrupt poll */

	uint32_t ndev;
	struct dev_window dev[HART_MAX_DEVS];
	uint64_t mmio_id;

	/* Translation: contexts for fetch and data, the data TLB in use. */
	unsigned ictx, dctx;
	uint64_t fault_va; /* the address a failed fetch reports in xtval */
	struct tlb_entry *dtlb;
	struct tlb tlb[MMU_CTX_COUNT];

	/* Block cache: arena, hash (by virtual and physical pc), one jump cache
	 * per fetch context (M, S, U; index by MMU_* of the fetch context).
	 * fence.i and any change to address translation or fetch permission
	 * start a new block epoch: jump caches skip a block of an older one
	 * until block_find has checked its physical pc again (and, after a
	 * fence.i, its instructions against guest memory).
	 */
	uint8_t *arena;
	uint64_t arena_used, arena_size;
	struct block *bhash[1u << BH_BITS];
	struct block *jc[MMU_CTX_COUNT][1u << JC_BITS];
	struct block **jcur; /* jc[ictx] */
	uint64_t blocks_built;
	uint32_t block_epoch; /* bumped by fence.i and by dropped address translations */
	uint32_t fence_epoch; /* bumped by fence.i */
	/* The virtual pages blocks were found on in this block epoch (a Bloom
	 * filter, one bit per hash): an sfence.vma of a page not in it cannot
	 * change what a jump cache holds, and starts no new epoch. */
	uint64_t epoch_pages[64];
	/* The 2 MiB and 1 GiB regions the S/U TLBs hold superpage granules
	 * of (Bloom filters, cleared with those TLBs): an sfence.vma of an
	 * address in one drops the whole TLB, since every granule of the
	 * superpage came from the one leaf PTE the fence is about. A larger
	 * superpage (Sv48's 512 GiB) sets super_any alone. */
	uint64_t super_2m[64];
	uint64_t super_1g[64];
	uint8_t super_any; /* any of the above was noted since the last flush */
	uint8_t super_huge;

	/* Tier 1 (cpu-worker/jit.c). Translated code runs with rbx = h and
	 * reaches these by offset. jit_trap is set by a helper that took an
	 * exception (h->pc is then the trap vector). */
	uint8_t jit_trap;
	/* The virtual pc of the running region's entry: the pcs it computes
	 * (links, auipc, exits) and its helpers' h->pc are offsets from it. */
	uint64_t jit_base;
	/* Set by the CSR helper when what the instruction did needs C before
	 * the next one (a new block epoch, an interrupt to take); translated
	 * code goes on after a CSR write only while it is 0. */
	uint8_t jit_leave;
	uint8_t jit_on;
	uint8_t jit_sync;    /* --jit-sync: wait for translations (differential tests) */
	uint8_t jit_waiting; /* in that wait: look-ups are not counted */
	uint32_t jit_threshold;
	const void *jit_helper[JH_COUNT];
	uint64_t (*jit_enter)(struct hart *h, const void *code, uint64_t vpc);
	uint64_t *jit_codebits; /* the cache's has-code bits, NULL when unmapped */
	uint32_t *jit_gens;	/* page generations */
	/* Translated loads (then stores) remember the last page they hit in
	 * the TLB in a slot of their own; emptied with any TLB entry, on a
	 * data context change and when pages get code. */
	struct jit_site jit_site[2 * JIT_SITES];
	uint8_t jit_sites_used; /* set by a fill: a flush has work to do */
	/* Accesses off one base register in a translated block share one
	 * TLB check: the first (the group's leader) checks the bytes of all
	 * and leaves the addend here, 0 when the check failed; the others
	 * read it. Only meaningful inside one run of the block. */
	uintptr_t jit_group[JIT_GROUPS];
	/* A region whose loops access memory off a register it never writes
	 * checks those bytes once, at its entry, and leaves the addend here
	 * for its accesses off that register. Only meaningful inside one run
	 * of the region. */
	uintptr_t jit_hoist[JIT_HOISTS];
	/* Translated DIVUW/REMUW in loops remember their last divisor d (>= 2,
	 * zero-extended) and m = ceil(2^64 / d): the quotient of a 32-bit x is
	 * then the high half of x * m. Never stale; all zero matches only a
	 * divisor of 0, which the code tests before. */
	struct {
		uint64_t d, m;
	} jit_dsite[JIT_SITES];
	/* The chains' jump caches, one per fetch context like jc[]; an
	 * entry is written when C code enters a translation, so only
	 * translations this hart checked are ever chained to. */
	const uint8_t *jit_rx;	 /* the code mapping, NULL when unmapped */
	struct jit_jc *jit_jcur; /* jit_jc[ictx] */
	struct jit_jc jit_jc[MMU_CTX_COUNT][1u << JJ_BITS];
	uint64_t flushes; /* hart_flush_blocks calls: blocks from before are gone */
};

/* csr.c */
/** Reads/writes a CSR for instruction `op` (CSRRW...). Returns 0 or EXC_ILLEGAL.
 * `instret_now` is the retired count before this instruction. */
int csr_op(struct hart *h, unsigned op, unsigned csr, uint64_t src, int do_write, int do_read,
	   uint64_t *old, uint64_t instret_now);
/** Takes exception `cause` at h->pc with `tval`. */
void hart_trap(struct hart *h, uint64_t cause, uint64_t tval);
/** Returns the interrupt number to take now, or -1. */
int hart_pending_irq(struct hart *h);
/** Refreshes h->mtip (mtimecmp in h->bh) and h->stip (stimecmp) from the clock. */
void hart_poll_timer(struct hart *h);
/** MRET: returns from an M-mode trap per mstatus.MPP/MPIE. */
void hart_mret(struct hart *h);
/** SRET: returns from an S-mode trap. Returns 0, or an exception cause when
 * SRET is illegal in the current mode (mstatus.TSR, U-mode). */
int hart_sret(struct hart *h);
/** WFI: sleeps until an interrupt is pending for this hart. */
void hart_wfi(struct hart *h);
/** Puts the hart in its reset state (M-mode, mhartid = `hartid`). */
void hart_reset(struct hart *h, uint32_t hartid);

/* fpu.c */
/** Runs one F/D arithmetic, conversion, move, compare or FMA instruction
 * `insn` (FS must be on). Returns 0, or EXC_ILLEGAL for a bad encoding or
 * rounding mode. Sets fflags and marks FS dirty. */
int fpu_exec(struct hart *h, uint32_t insn);

/* plic.c */
/** MEIP and SEIP for this hart from the PLIC state (0 if nothing is due). */
uint32_t plic_eip(struct hart *h);
/** PLIC MMIO at offset `off` of its window; 32-bit accesses only. Return 0
 * or an access-fault cause. A read of a claim register claims. */
int plic_load(struct hart *h, uint64_t off, unsigned size, uint64_t *val);
/** See plic_load; a write to a claim register completes. */
int plic_store(struct hart *h, uint64_t off, unsigned size, uint64_t val);

/* mmu.c */
/** Empties every TLB and sets the contexts; call once before running. */
void mmu_init(struct hart *h);
/** Drops every S/U translation and the S/U jump caches (satp, sfence.vma). */
void mmu_flush(struct hart *h);
/** sfence.vma: drops the translations of page `va` (or all without an
 * address) for `asid` (or every ASID). */
void mmu_sfence(struct hart *h, int has_addr, uint64_t va, int has_asid, uint64_t asid);
/** Recomputes the fetch and data contexts after a change of privilege,
 * mstatus (MPRV, MPP, SUM) or satp. Must be called after each. */
void mmu_update_ctx(struct hart *h);
/** Translates `va` for a `size`-byte access `acc` in the current context and
 * checks it against the PMP, filling the TLB when the whole page has one
 * PMP verdict. Returns 0 with `*pa`, or the exception cause (page fault
 * from the tables, access fault from the PMP or a bad table address). */
int mmu_translate(struct hart *h, uint64_t va, unsigned size, int acc, uint64_t *pa);
/** Host address of the RAM/ROM page holding instruction address `va` and
 * its physical address in `*pa_page`, or NULL with `*cause` set. */
uint8_t *mmu_fetch_page(struct hart *h, uint64_t va, uint64_t *pa_page, int *cause);
/** Makes every write tag's TLB_CODE say whether its page holds translated
 * code now (set for pages that got code, clear for those that lost it). */
void mmu_mark_code(struct hart *h);
/** Drops every translation of every context, M included (PMP changes). */
void mmu_flush_all(struct hart *h);
/** Slow-path load/store at virtual `va` (page-crossing, MMIO, TLB miss).
 * Return 0 or an exception cause; a store that faults writes nothing. */
int mmu_load(struct hart *h, uint64_t va, unsigned size, uint64_t *val);
/** See mmu_load. */
int mmu_store(struct hart *h, uint64_t va, unsigned size, uint64_t val);
/** Host pointer for an aligned atomic at `va` (acc ACC_R for LR, ACC_W for
 * SC and AMOs), or NULL with the cause (misaligned, page or access fault). */
void *mmu_amo_ptr(struct hart *h, uint64_t va, unsigned size, int acc, int *cause);

/* bus.c */
/** Slow-path load for addresses outside the RAM fast path. Returns 0 or
 * an exception cause. */
int bus_load(struct hart *h, uint64_t addr, unsigned size, uint64_t *val);
/** Slow-path store; returns 0 or an exception cause. */
int bus_store(struct hart *h, uint64_t addr, unsigned size, uint64_t val);
/** Waits until every device has handled this hart's posted writes. */
void bus_sync_devices(struct hart *h);
/** A FENCE whose predecessor set has device output (O): waits until the
 * devices this hart posted writes to have handled them, so a write made
 * before the fence (before a lock release: Linux's `fence o,w`) reaches
 * the device before anything another hart does after acquiring the lock.
 * Posted writes from different harts travel on different sockets and
 * would otherwise be handled in any order. */
void bus_fence_io(struct hart *h);
/** Before a PLIC completion re-pends source `src` because its line is high:
 * waits for the device driving it to handle this hart's posted writes (one
 * of them may lower the line). No-op when nothing was posted since the
 * device last answered. */
void bus_settle_line(struct hart *h, unsigned src);
/** The guest asked to stop: records the exit code, flushes devices, exits. */
__attribute__((noreturn)) void bus_guest_exit(struct hart *h, int code, const char *why);

/* amo.c */
/** Runs LR, SC or an AMO (`op`, an OP_* from OP_LR_W to OP_AMOMAXU_D) at
 * `a` with source `src`; puts rd's new value in `*rd`. Returns 0 or the
 * exception cause (misaligned, page or access fault). */
int amo_exec(struct hart *h, unsigned op, uint64_t a, uint64_t src, uint64_t *rd);

/* jit.c */
/** Sets tier 1 up (it connects lazily). `dir` is the run directory holding
 * jit-fd.sock and jit.sock; threshold 0 turns tier 1 off; `sync` (testing)
 * makes a hart wait for each translation it asks for. */
void jit_init(struct hart *h, const char *dir, uint32_t threshold, int sync);
/** A block reached b->jit_next visits: asks for or looks up its translation
 * and binds it to b->jit when it is current. */
void jit_consider(struct hart *h, struct block *b);
/** Poll-time housekeeping: drops the cache when shoal-jit died, marks newly
 * translated pages in the TLB. */
void jit_poll(struct hart *h);
/** A store is about to change physical page `pa_page`, whose TLB entry
 * carries TLB_CODE: invalidates its translations for every hart. */
void jit_code_write(struct hart *h, uint64_t pa_page);
/** After a fence.i: keeps the translation bound to `b` only if the guest
 * bytes it was made from are unchanged. */
void jit_recheck(struct hart *h, struct block *b);
/** Sets bit `b` of a 4096-bit Bloom filter (epoch_pages, super_2m, ...). */
static inline void bloom_set(uint64_t f[64], unsigned b)
{
	f[b / 64] |= 1ull << (b % 64);
}
/** Whether bit `b` of a 4096-bit Bloom filter is set. */
static inline int bloom_has(const uint64_t f[64], unsigned b)
{
	return (f[b / 64] >> (b % 64)) & 1;
}
/** The bit of `epoch_pages` for virtual address `va`'s page. */
static inline unsigned epoch_page_bit(uint64_t va)
{
	uint64_t vpn = va >> 12;
	return (unsigned)(vpn ^ (vpn >> 12) ^ (vpn >> 24)) & 4095;
}
/** Puts virtual address `va`'s page in h->epoch_pages. */
static inline void epoch_page_note(struct hart *h, uint64_t va)
{
	bloom_set(h->epoch_pages, epoch_page_bit(va));
}
/** Whether `va`'s page may be in h->epoch_pages (a Bloom filter). */
static inline int epoch_page_noted(const struct hart *h, uint64_t va)
{
	return bloom_has(h->epoch_pages, epoch_page_bit(va));
}
/** Starts a new block epoch: every jump cache entry and block is checked
 * again before it runs. */
static inline void hart_new_block_epoch(struct hart *h)
{
	if (++h->block_epoch == 0) /* 0 would match never-written jump cache entries */
		h->block_epoch = 1;
	memset(h->epoch_pages, 0, sizeof(h->epoch_pages));
}

/** Empties every translated access's page cache (see struct jit_site). */
static inline void jit_sites_flush(struct hart *h)
{
	if (h->jit_sites_used) {
		memset(h->jit_site, 0xff, sizeof(h->jit_site));
		h->jit_sites_used = 0;
	}
}
/** Whether RAM page `pa_page` holds translated code (TLB fills mark it). */
static inline int jit_page_has_code(const struct hart *h, uint64_t pa_page)
{
	uint64_t n = (pa_page - HART_RAM_BASE) >> 12;
	return h->jit_codebits && n < (h->ram_size >> 12) &&
	       (__atomic_load_n(&h->jit_codebits[n / 64], __ATOMIC_RELAXED) >> (n % 64)) & 1;
}

/* exec.c */
/** Runs the hart forever (it leaves through bus_guest_exit or a signal). */
__attribute__((noreturn)) void hart_run(struct hart *h);
/** Drops every predecoded block and the jump caches. */
void hart_flush_blocks(struct hart *h);

#endif
