/* Tier-1 translator: a region of guest code (the blocks reachable from an
 * entry through direct jumps and branches inside one page) to x86-64, one
 * guest instruction at a time. The guest registers the region uses most
 * live in host registers for the whole region: all loaded at its entry,
 * written back (those the region writes) before it leaves and before any
 * helper call, so h->x is exact whenever C code can see it. Loads and
 * stores inline the softMMU TLB fast path of the interpreter (same index,
 * same tags) and call a helper otherwise. F and D loads and stores are
 * inline too (after a test that mstatus.FS is dirty); the other F and D
 * instructions call fpu_exec through a helper. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "../cpu-worker/decode.h"
#include "../cpu-worker/hart.h"
#include "translate.h"

#define OX(r) ((int32_t)(offsetof(struct hart, x) + 8 * (unsigned)(r)))
#define OF(r) ((int32_t)(offsetof(struct hart, f) + 8 * (unsigned)(r)))
#define OH(k) ((int32_t)(offsetof(struct hart, jit_helper) + 8 * (unsigned)(k)))
#define O_MSTATUS ((int32_t)offsetof(struct hart, mstatus))
#define O_FCSR ((int32_t)offsetof(struct hart, fcsr))
#define O_INSTRET ((int32_t)offsetof(struct hart, instret))
#define O_POLL ((int32_t)offsetof(struct hart, poll_count))
#define O_TRAP ((int32_t)offsetof(struct hart, jit_trap))
#define O_LEAVE ((int32_t)offsetof(struct hart, jit_leave))
#define O_PC ((int32_t)offsetof(struct hart, pc))
#define O_BASE ((int32_t)offsetof(struct hart, jit_base))
#define O_DTLB ((int32_t)offsetof(struct hart, dtlb))
#define O_JJCUR ((int32_t)offsetof(struct hart, jit_jcur))
#define O_RX ((int32_t)offsetof(struct hart, jit_rx))
#define O_JJEPOCH ((int32_t)offsetof(struct jit_jc, epoch))
#define O_JJCODE ((int32_t)offsetof(struct jit_jc, code))
#define O_HEPOCH ((int32_t)offsetof(struct hart, block_epoch))
#define O_TAG_R ((int32_t)offsetof(struct tlb_entry, tag_r))
#define O_TAG_W ((int32_t)offsetof(struct tlb_entry, tag_w))
#define O_ADDEND ((int32_t)offsetof(struct tlb_entry, addend))
#define O_SITE(k) ((int32_t)(offsetof(struct hart, jit_site) + sizeof(struct jit_site) * (k)))
#define O_SITES_USED ((int32_t)offsetof(struct hart, jit_sites_used))
#define O_GROUP(k) ((int32_t)(offsetof(struct hart, jit_group) + sizeof(uintptr_t) * (k)))
#define O_HOIST(k) ((int32_t)(offsetof(struct hart, jit_hoist) + sizeof(uintptr_t) * (k)))
#define O_DSITE(k)                                    \
	((int32_t)(offsetof(struct hart, jit_dsite) + \
		   sizeof(((struct hart *)0)->jit_dsite[0]) * (k)))

_Static_assert(sizeof(struct tlb_entry) == 40, "the TLB index scaling below assumes 40 bytes");
_Static_assert(TLB_SIZE == 256, "the TLB index mask below assumes 256 entries");
_Static_assert(JIT_BLOCK_MAX <= 128, "a helper's info has 7 bits for the index in a block");

/* Host registers that hold guest registers within a region; the first
 * five survive helper calls, the rest are reloaded after one. */
static const int cache_regs[] = {RBP, R12, R13, R14, R15, R8, R9, R10, R11};
#define NCACHE 9
#define NSAVED 5

/* A slow path emitted after the region's blocks: for an access with a
 * site or in a group, the TLB look-up of its own bytes (which refills the
 * site); else, or when that misses, the helper through a region tail. */
struct cold {
	uint32_t from; /* the jne to patch */
	uint32_t mid;  /* the access, rax = the addend */
	uint32_t back; /* where to continue after it */
	uint16_t site;
	uint8_t size;
	uint8_t store; /* store helper (else load) */
	uint8_t group; /* the access's role in its group (GROUP_*) */
	uint8_t slot;  /* the group's slot in h->jit_group */
	uint8_t rd;
	uint8_t rs2;
	uint8_t cls;  /* the allocation at the access */
	uint8_t addr; /* the register holding the address (less disp) */
	int32_t disp;
	uint32_t unext; /* registers to extend before the helper sees them */
	uint64_t info;
	uint32_t pend;	  /* t->pend at the access */
	uint32_t from_fs; /* an FP access's jnz when FS is not dirty, or NO_JUMP */
	uint8_t fp;	  /* an FP register's load or store */
};

#define NO_JUMP UINT32_MAX

/* A set of a region's blocks. */
typedef uint64_t bset;
#define BIT(k) ((bset)1 << (k))
static inline unsigned bset_first(bset m)
{
	return (unsigned)__builtin_ctzll(m);
}
_Static_assert(JIT_REGION_BLOCKS <= 64, "a bset holds a region's blocks");

/* The slow path of an F or D instruction done inline: fpu_exec through
 * the helper (which does it exactly), then back. */
struct fcold {
	uint32_t jumps[12]; /* the tests that send it here (at most 10) */
	unsigned njumps;
	uint32_t back;
	uint32_t raw, info, unext, pend;
	uint8_t cls;
};

/* A jump to a block of the region, patched once every block is placed. */
struct fixup {
	uint32_t at;
	uint16_t blk;
};

/* Which guest registers live in host registers. A region has one
 * allocation per loop (strongly connected set of blocks) and one for the
 * blocks outside loops; an edge between blocks of different allocations
 * moves the registers over. */
struct alloc {
	int8_t host[32];	/* guest register -> host register, or -1 */
	uint32_t cached;	/* guest registers with a host register */
	uint32_t written;	/* cached registers the region writes */
	uint32_t volatile_regs; /* cached registers in caller-saved hosts */
};

/* Loads and stores off one base register in a block outside loops form
 * a group when the bytes they touch span at most GROUP_SPAN: the leader
 * (the first) looks the TLB up for the whole span and leaves the addend
 * in a slot of h->jit_group, 0 when that failed; the members only test
 * the slot. A stack frame's spills and a struct's fields then cost one
 * look-up instead of one each. */
enum { GROUP_NONE, GROUP_LEADER, GROUP_MEMBER };
#define GROUP_SPAN 256

struct group {
	uint8_t role, slot;
	uint8_t store; /* leader: a member stores (the span needs write access) */
	int16_t lo;    /* leader: the span, as offsets from the base register */
	uint16_t len;
};

/* What find_lazy_ext needs of each instruction, worked out once. */
struct wfact {
	uint32_t reads; /* the registers it reads (insn_regs) */
	uint32_t wr;	/* the register it writes, as a mask (0: none) */
	uint32_t req;	/* its result is a word when these registers hold words */
	uint32_t full;	/* the registers it reads whole */
	uint32_t cmp;	/* a branch: its operands, which it reads whole unless words */
	uint8_t never;	/* its result is never known to be a word */
};

struct tx {
	struct xbuf *b;
	const struct jit_stubs *st;
	const struct jit_tr *tr;
	/* The allocation of the code being emitted (a copy of al[cur]). */
	int8_t host[32];
	uint32_t cached, written, volatile_regs;
	unsigned cur;
	/* The guest register whose value the host's zero flag tells (the last
	 * code emitted set it), or -1. */
	int flags_reg;
	/* The instruction emit_compare emits first (see find_sink), or -1. */
	int sink;
	/* rax holds guest register rax_reg (which has no host register) while
	 * the code ends at rax_at: rput just stored it from rax. -1: none. */
	int rax_reg;
	uint32_t rax_at;
	struct alloc al[JIT_REGION_BLOCKS];
	uint8_t cls[JIT_REGION_BLOCKS]; /* block -> its allocation */
	/* Emission order: block -> its place, and place -> block. An edge to
	 * a block placed at or before its source may close a loop. */
	uint8_t pos[JIT_REGION_BLOCKS], order[JIT_REGION_BLOCKS];
	uint32_t label[JIT_REGION_BLOCKS];
	unsigned nfix, ntrap, ncold, nfcold, nlate; /* entries in the arrays at the end */
	unsigned nsite[3];			    /* load, store and divisor sites so far */
	uint8_t tails_used[JIT_REGION_BLOCKS];	    /* per allocation */
	/* Lazy sign extension (see find_lazy_ext): per instruction, whether
	 * its W result stays unextended; per block at its start, and at the
	 * code being emitted, the registers known to hold a sign-extended
	 * word (wv) and those that may hold an unextended one (unext). */
	uint8_t noext[JIT_TR_INSNS];
	uint32_t wv_in[JIT_REGION_BLOCKS], unext_in[JIT_REGION_BLOCKS];
	uint32_t wv, unext;
	bset succ[JIT_REGION_BLOCKS];	   /* per block, the blocks it goes on to */
	uint8_t ifskip[JIT_REGION_BLOCKS]; /* per block, if_skipped() */
	/* Retired instructions not yet in rdi (see count_insns): t->pend at
	 * the code being emitted, pend_in at each block's start; npred:
	 * each block's ways in (count_preds). */
	unsigned pend;
	unsigned pend_in[JIT_REGION_BLOCKS];
	/* mstatus.FS is known dirty at the code being emitted (an FP load or
	 * operation before it in its block made it so). */
	int fs_dirty;
	uint8_t npred[JIT_REGION_BLOCKS];
	bset reached;
	/* Edges emitted after the blocks (emit_branch_edges): the jump to
	 * patch, and the edge with the state at its branch. */
	struct {
		uint32_t at, unext;
		int32_t off; /* may be outside the page */
		uint16_t n;
		uint8_t from, cls;
	} stub[JIT_REGION_BLOCKS];
	unsigned nstub;
	int in_stubs; /* emitting them: every block is emitted already */
	/* The loop head block 0 is a copy of (peel_entry), else 0. */
	unsigned twin;
	/* Hoisted base registers (choose_hoist): per guest register, its
	 * slot in h->jit_hoist + 1 (0: none); per slot, the register and the
	 * bytes off it the region accesses, and whether it stores there. */
	uint8_t hoist_slot[32];
	unsigned nhoist;
	struct {
		uint8_t reg, store;
		int32_t lo, len;
	} hoist[JIT_HOISTS];
	/* The entry's guards' jumps to the translation that assumes nothing. */
	uint32_t guard[1 + JIT_HOISTS];
	unsigned nguard;
	/* Narrow values (see find_narrow): whether the analysis ran, the
	 * registers assumed to hold 16 bits at the entry (its guard checks),
	 * and at the code being emitted, each register's width. */
	int narrow;
	uint32_t assume;
	uint8_t nw[32];
	/* Not zeroed before a region: filled for every instruction first,
	 * or up to their counts above (nw_in: when `narrow`). */
	uint8_t nw_in[JIT_REGION_BLOCKS][32];
	struct wfact wf[JIT_TR_INSNS];
	struct group grp[JIT_TR_INSNS];
	struct fixup fix[2 * JIT_REGION_BLOCKS];
	uint32_t trap_jmp[JIT_TR_INSNS];
	struct cold cold[JIT_TR_INSNS];
	struct fcold fcold[JIT_TR_INSNS];
	/* Jumps and calls to the region's shared tails, patched at the end. */
	struct {
		uint32_t at;
		uint8_t tail, cls;
	} late[4 * JIT_TR_INSNS];
};

/* Code every region has once, after its blocks, instead of at each use. */
enum {
	TAIL_LEAVE,  /* write back, count, go on at rax through the chain */
	TAIL_POLL,   /* write back, count, leave to C at rax to poll interrupts */
	TAIL_SAVE,   /* subroutine: write back and count, before a helper call */
	TAIL_RELOAD, /* subroutine: reload the caller-saved cache registers */
	TAIL_LOAD,   /* subroutine: the load helper between a write-back and a reload */
	TAIL_STORE,  /* subroutine: the same for the store helper */
	TAIL_FPU,    /* subroutine: the same for the F and D helper */
	TAIL_COUNT
};

static int is_branch(unsigned op)
{
	return op >= OP_BEQ && op <= OP_BGEU;
}

static int is_csr(unsigned op)
{
	return op >= OP_CSRRW && op <= OP_CSRRCI;
}

/* Whether CSR instruction `d` writes its CSR (else it only reads). */
static int csr_writes(const struct rv_insn *d)
{
	return d->op == OP_CSRRW || d->op == OP_CSRRWI || d->rs1 != 0;
}

/* Tier 1 translates RV64IMA's unprivileged integer instructions, and CSR
 * instructions through a helper (each ends its block and leaves the
 * region, as it may change what the code after it means). */
static int op_translatable(unsigned op)
{
	return (op >= OP_LUI && op <= OP_SD) || op == OP_FENCE ||
	       (op >= OP_ADDI && op <= OP_REMUW) || (op >= OP_LR_W && op <= OP_AMOMAXU_D) ||
	       is_csr(op) || (op >= OP_FLW && op <= OP_FPU);
}

static int is_store(unsigned op)
{
	return (op >= OP_SB && op <= OP_SD) || op == OP_FSW || op == OP_FSD;
}

/* The F and D instructions (OP_FPU) that read an integer register (fcvt
 * from an integer, fmv.w.x, fmv.d.x) and that write one (compares, fcvt to
 * an integer, fmv.x.w, fmv.x.d, fclass). */
static int fpu_reads_x(uint32_t raw)
{
	unsigned f5 = raw >> 27;
	return (raw & 0x7f) == 0x53 && (f5 == 0x1a || f5 == 0x1e);
}

static int fpu_writes_x(uint32_t raw)
{
	unsigned f5 = raw >> 27;
	return (raw & 0x7f) == 0x53 && (f5 == 0x14 || f5 == 0x18 || f5 == 0x1c);
}

/* Which registers an instruction reads and writes (x0 never counts). */
static void insn_regs(const struct rv_insn *d, uint32_t *rd_mask, uint32_t *wr_mask)
{
	unsigned op = d->op;
	uint32_t r = 0, w = 0;
	if (op >= OP_FLW && op <= OP_FPU) { /* only their integer registers count */
		*rd_mask = op != OP_FPU || fpu_reads_x(d->raw) ? (1u << d->rs1) & ~1u : 0;
		*wr_mask = op == OP_FPU && fpu_writes_x(d->raw) ? (1u << d->rd) & ~1u : 0;
		return;
	}
	int uses_rs1 = op != OP_LUI && op != OP_AUIPC && op != OP_JAL && op != OP_FENCE &&
		       !(op >= OP_CSRRWI && op <= OP_CSRRCI);
	int uses_rs2 = is_branch(op) || (op >= OP_SB && op <= OP_SD) ||
		       (op >= OP_ADD && op <= OP_AND) || (op >= OP_ADDW && op <= OP_SRAW) ||
		       (op >= OP_MUL && op <= OP_REMUW) ||
		       (op >= OP_LR_W && op <= OP_AMOMAXU_D && op != OP_LR_W && op != OP_LR_D);
	if (uses_rs1)
		r |= 1u << d->rs1;
	if (uses_rs2)
		r |= 1u << d->rs2;
	if (!is_branch(op) && !(op >= OP_SB && op <= OP_SD) && op != OP_FENCE)
		w |= 1u << d->rd;
	*rd_mask = r & ~1u;
	*wr_mask = w & ~1u;
}

/* The region's block starting at page offset `off` (which may lie outside
 * the page), or -1. */
static int find_blk(const struct jit_tr *tr, int64_t off)
{
	return off >= 0 && off < 4096 && !(off & 1) ? tr->blk_at[off / 2] : -1;
}

/* Makes allocation `c` the one the code being emitted runs with. */
static void use_alloc(struct tx *t, unsigned c)
{
	const struct alloc *a = &t->al[c];
	memcpy(t->host, a->host, sizeof(t->host));
	t->cached = a->cached;
	t->written = a->written;
	t->volatile_regs = a->volatile_regs;
	t->cur = c;
}

/* The blocks that follow the blocks in `set` (`succ`: each block's). */
static bset succ_of(const bset *succ, bset set)
{
	bset r = 0;
	for (; set; set &= set - 1)
		r |= succ[bset_first(set)];
	return r;
}

/* The steps from the blocks in `from` along the region's edges until block
 * `k` is among them (breadth first; 0 when it is already), or
 * JIT_REGION_BLOCKS when it never is. */
static unsigned steps_to(const bset *succ, bset from, unsigned k)
{
	bset seen = 0;
	unsigned n = 0;
	for (; from && !((from >> k) & 1) && n < JIT_REGION_BLOCKS; n++) {
		seen |= from;
		from = succ_of(succ, from) & ~seen;
	}
	return from ? n : JIT_REGION_BLOCKS;
}

/* The union of `regs` (register masks, one per block) over the blocks in
 * `set`. */
static uint32_t regs_of(const uint32_t *regs, bset set)
{
	uint32_t r = 0;
	for (; set; set &= set - 1)
		r |= regs[bset_first(set)];
	return r;
}

/* The region's blocks that block `k` goes on to: `*to` by its jump (jal
 * or branch target; -1 for jalr or a target outside the region), `*next`
 * by falling through (-1 after jal or jalr, or outside). */
static void blk_succs(const struct jit_tr *tr, unsigned k, int *to, int *next)
{
	const struct jit_blk *bk = &tr->blk[k];
	const struct rv_insn *last = &tr->ins[bk->first + bk->n - 1];
	int64_t tgt = (int64_t)tr->ins_off[bk->first + bk->n - 1] + last->imm;
	*to = bk->jump && last->op != OP_JALR && !is_csr(last->op) ? find_blk(tr, tgt) : -1;
	*next =
	    !bk->jump || is_branch(last->op) || is_csr(last->op) ? find_blk(tr, bk->end_off) : -1;
}

/* Gives the most used registers of each loop of the region (and of the
 * rest) a host register each, and loads those of the entry block's. */
static void alloc_regs(struct tx *t)
{
	const struct jit_tr *tr = t->tr;
	unsigned nb = tr->nblocks;
	const bset *succ = t->succ;
	bset reach[JIT_REGION_BLOCKS];
	int cyclic = 0; /* an edge to a block at or before its source: maybe a loop */
	for (unsigned k = 0; k < nb; k++) {
		reach[k] = succ[k];
		cyclic |= (succ[k] & (~(bset)0 >> (63 - k))) != 0; /* blocks 0..k */
	}
	if (cyclic) /* transitive closure (Warshall, on bit rows) */
		for (unsigned m = 0; m < nb; m++)
			for (unsigned k = 0; k < nb; k++)
				if ((reach[k] >> m) & 1)
					reach[k] |= reach[m];
	/* Loops: a block that reaches itself gets the allocation of its
	 * strongly connected set (1 + the set's first block); the blocks in no
	 * loop share allocation 0. */
	unsigned weight[JIT_REGION_BLOCKS];
	for (unsigned k = 0; k < nb; k++) {
		t->cls[k] = 0;
		weight[k] = 1;
		if (!((reach[k] >> k) & 1))
			continue;
		for (unsigned j = 0; j <= k; j++)
			if ((reach[k] >> j & 1) && (reach[j] >> k & 1)) {
				t->cls[k] = (uint8_t)(j + 1 < JIT_REGION_BLOCKS ? j + 1 : 0);
				break;
			}
		/* Inside a loop, the shorter the shortest cycle through a block,
		 * the more its uses weigh (inner loops are short). */
		unsigned len = 1 + steps_to(succ, succ[k], k);
		weight[k] = len < 16 ? 256 / len : 16;
	}
	uint32_t written = 0;
	bset used = 0; /* the allocations blocks have */
	unsigned uses[JIT_REGION_BLOCKS][32];
	uint32_t named[JIT_REGION_BLOCKS] = {0}; /* registers each allocation's blocks name */
	memset(uses, 0, sizeof(uses[0]) * (nb < JIT_REGION_BLOCKS ? nb + 1 : nb));
	for (unsigned k = 0; k < nb; k++) {
		const struct jit_blk *bk = &tr->blk[k];
		unsigned *u = uses[t->cls[k]];
		for (unsigned i = bk->first; i < bk->first + bk->n; i++) {
			uint32_t r = t->wf[i].reads, w = t->wf[i].wr;
			written |= w;
			named[t->cls[k]] |= r | w;
			for (uint32_t m = r | w; m; m &= m - 1) {
				unsigned g = (unsigned)__builtin_ctz(m);
				u[g] += weight[k] * (((r >> g) & 1) + ((w >> g) & 1));
			}
		}
		used |= BIT(t->cls[k]);
	}
	for (bset u = used; u; u &= u - 1) {
		unsigned c = bset_first(u);
		struct alloc *a = &t->al[c];
		memset(a->host, -1, sizeof(a->host));
		for (unsigned k = 0; k < NCACHE; k++) {
			unsigned best = 0;
			for (uint32_t m = named[c] & ~a->cached; m; m &= m - 1) {
				unsigned g = (unsigned)__builtin_ctz(m);
				if (uses[c][g] > uses[c][best])
					best = g;
			}
			if (uses[c][best] < 2)
				break;
			a->host[best] = (int8_t)cache_regs[k];
			a->cached |= 1u << best;
			if (k >= NSAVED)
				a->volatile_regs |= 1u << best;
		}
		a->written = written & a->cached;
	}
	/* The blocks outside loops run once per entry: they take the
	 * allocation of the heaviest loop, so entering it moves nothing. */
	unsigned heavy = 0, most = 0;
	for (bset u = used & ~(bset)1; u; u &= u - 1) {
		unsigned c = bset_first(u), sum = 0;
		for (uint32_t m = named[c]; m; m &= m - 1)
			sum += uses[c][__builtin_ctz(m)];
		if (sum > most) {
			most = sum;
			heavy = c;
		}
	}
	if (heavy)
		t->al[0] = t->al[heavy];
	use_alloc(t, t->cls[0]);
	for (unsigned g = 1; g < 32; g++)
		if ((t->cached >> g) & 1)
			x_load64(t->b, t->host[g], RBX, OX(g));
}

/* Whether `d` is an ALU instruction that emit_alu computes straight into
 * rd's host register (no scratch use of rax). */
static int alu_two_address(const struct rv_insn *d)
{
	unsigned op = d->op;
	return op == OP_LUI ||
	       (op >= OP_ADDI && op <= OP_ANDI && op != OP_SLTI && op != OP_SLTIU) ||
	       (op >= OP_SLLI && op <= OP_SRAI) ||
	       (op >= OP_ADD && op <= OP_AND && op != OP_SLT && op != OP_SLTU) ||
	       (op >= OP_ADDIW && op <= OP_SRAW);
}

/* If-conversion: a branch that skips a short block of ALU instructions
 * writing one register D (neither branch operand) runs that block into
 * rdx unconditionally and keeps the result with a cmov: RISC-V code
 * branches where x86 code would not, and such branches on data bits
 * (CRC loops) mispredict half the time. Returns how many instructions
 * block `k`'s branch skips when it is one to convert, else 0. */
static unsigned if_skipped(const struct jit_tr *tr, unsigned k)
{
	const struct jit_blk *bk = &tr->blk[k];
	const struct rv_insn *d = &tr->ins[bk->first + bk->n - 1];
	int f = find_blk(tr, bk->end_off);
	if (!bk->jump || !is_branch(d->op) || f < 0 || (unsigned)f == k)
		return 0;
	/* The skipped instructions: the fall-through block up to the target
	 * (blocks end only at jumps, so the target is usually inside it). */
	int64_t target = (int64_t)tr->ins_off[bk->first + bk->n - 1] + d->imm;
	const struct jit_blk *fb = &tr->blk[f];
	const struct rv_insn *fi = &tr->ins[fb->first];
	const uint16_t *fo = &tr->ins_off[fb->first];
	unsigned n = 0;
	while (n < fb->n && n < 4 && fo[n] != target)
		n++;
	unsigned dreg = fi[0].rd;
	if (n == 0 || n == fb->n || fo[n] != target || dreg == 0 || d->rs1 == dreg ||
	    d->rs2 == dreg)
		return 0;
	for (unsigned i = 0; i < n; i++)
		if (!alu_two_address(&fi[i]) || fi[i].rd != dreg)
			return 0;
	return n;
}

/* Flags for a branch on zero: a block such as `xor a3, s0, a2; andi a3,
 * a3, 1; srli s0, s0, 1; beqz a3` computes the register its branch tests
 * and then does more, whose code clobbers the host flags, so the branch
 * needs a `test`, one more step on the loop's critical path. Returns the
 * instruction that wrote the register when it can be emitted last instead
 * (see emit_compare), else -1: an ALU instruction that sets the flags,
 * followed only by ALU instructions (no trap can see the order) that
 * neither touch its register nor write its operands, and not read by the
 * instructions an if-converted branch skips (they run before it then). */
static int find_sink(const struct tx *t, unsigned k)
{
	const struct jit_tr *tr = t->tr;
	const struct jit_blk *bk = &tr->blk[k];
	unsigned last = bk->first + bk->n - 1;
	const struct rv_insn *br = &tr->ins[last];
	if (!is_branch(br->op) || (br->op != OP_BEQ && br->op != OP_BNE) ||
	    (br->rs1 != 0) == (br->rs2 != 0))
		return -1;
	unsigned x = br->rs1 ? br->rs1 : br->rs2;
	uint32_t xm = 1u << x;
	int i = -1;
	for (unsigned j = last; j-- > bk->first;)
		if (t->wf[j].wr & xm) {
			i = (int)j;
			break;
		}
	if (i < 0 || (unsigned)i + 2 > last || t->al[t->cls[k]].host[x] < 0)
		return -1;
	static const uint8_t sets_zf[RV_OP_COUNT] = {
	    [OP_ADD] = 1,  [OP_SUB] = 1,  [OP_XOR] = 1,	 [OP_OR] = 1,
	    [OP_AND] = 1,  [OP_ADDW] = 1, [OP_SUBW] = 1, [OP_ADDI] = 1,
	    [OP_XORI] = 1, [OP_ORI] = 1,  [OP_ANDI] = 1, [OP_ADDIW] = 1};
	if (!sets_zf[tr->ins[i].op])
		return -1;
	uint32_t keep = xm | t->wf[i].reads;
	for (unsigned j = (unsigned)i + 1; j < last; j++)
		if (!alu_two_address(&tr->ins[j]) || (t->wf[j].reads & xm) || (t->wf[j].wr & keep))
			return -1;
	if (t->ifskip[k]) {
		const struct jit_blk *fb = &tr->blk[find_blk(tr, bk->end_off)];
		for (unsigned j = fb->first; j < fb->first + t->ifskip[k]; j++)
			if ((t->wf[j].reads | t->wf[j].wr) & xm)
				return -1;
	}
	return i;
}

/* Bytes a load or store accesses, else 0. */
static unsigned access_size(unsigned op)
{
	switch (op) {
	case OP_LB:
	case OP_LBU:
	case OP_SB: return 1;
	case OP_LH:
	case OP_LHU:
	case OP_SH: return 2;
	case OP_LW:
	case OP_LWU:
	case OP_SW:
	case OP_FLW:
	case OP_FSW: return 4;
	case OP_LD:
	case OP_SD:
	case OP_FLD:
	case OP_FSD: return 8;
	}
	return 0;
}

/* An open group while find_groups scans a block. */
struct open_group {
	int base; /* -1: the slot is free */
	unsigned leader, members;
	int32_t lo, hi;
};

/* Ends group `o`: its leader leads only when it has members. */
static void close_group(struct tx *t, struct open_group *o)
{
	if (o->base < 0)
		return;
	struct group *g = &t->grp[o->leader];
	if (o->members) {
		g->role = GROUP_LEADER;
		g->lo = (int16_t)o->lo;
		g->len = (uint16_t)(o->hi - o->lo);
	}
	o->base = -1;
}

/* Groups the accesses of the blocks outside loops (see struct group; in
 * loops each access has a site). A group ends where its base register is
 * written; at most JIT_GROUPS are open at once (a new one takes a free
 * slot, else the oldest group's). */
static void find_groups(struct tx *t)
{
	const struct jit_tr *tr = t->tr;
	for (unsigned k = 0; k < tr->nblocks; k++) {
		const struct jit_blk *bk = &tr->blk[k];
		struct open_group open[JIT_GROUPS];
		unsigned next = 0;
		for (unsigned s = 0; s < JIT_GROUPS; s++)
			open[s].base = -1;
		for (unsigned i = bk->first; i < bk->first + bk->n; i++) {
			const struct rv_insn *d = &tr->ins[i];
			struct group *g = &t->grp[i];
			unsigned size = access_size(d->op);
			g->role = GROUP_NONE;
			if (size && d->rs1 && t->cls[k] == 0) {
				int32_t lo = (int32_t)d->imm, hi = lo + (int32_t)size;
				unsigned s = 0;
				while (s < JIT_GROUPS && open[s].base != d->rs1)
					s++;
				if (s < JIT_GROUPS) {
					int32_t nlo = lo < open[s].lo ? lo : open[s].lo;
					int32_t nhi = hi > open[s].hi ? hi : open[s].hi;
					if (nhi - nlo <= GROUP_SPAN) {
						open[s].lo = nlo;
						open[s].hi = nhi;
						open[s].members++;
						g->role = GROUP_MEMBER;
						g->slot = (uint8_t)s;
						t->grp[open[s].leader].store |= is_store(d->op);
					}
				} else {
					s = 0;
					while (s < JIT_GROUPS && open[s].base >= 0)
						s++;
					if (s == JIT_GROUPS) {
						s = next;
						next = (next + 1) % JIT_GROUPS;
					}
				}
				if (g->role == GROUP_NONE) { /* leads a new group in slot s */
					close_group(t, &open[s]);
					open[s].base = d->rs1;
					open[s].leader = i;
					open[s].members = 0;
					open[s].lo = lo;
					open[s].hi = hi;
					g->slot = (uint8_t)s;
					g->store = is_store(d->op);
				}
			}
			for (unsigned s = 0; s < JIT_GROUPS; s++) /* wf: see w_fact */
				if (open[s].base >= 0 && ((t->wf[i].wr >> open[s].base) & 1))
					close_group(t, &open[s]);
		}
		for (unsigned s = 0; s < JIT_GROUPS; s++)
			close_group(t, &open[s]);
	}
}

/* The emission order: each block is followed by the block its code
 * falls into (the fall-through of a branch, the target of a jal) when
 * that is not placed yet, else by the first block not placed yet, so most
 * edges need no jump. */
static void place_blocks(struct tx *t)
{
	const struct jit_tr *tr = t->tr;
	bset placed = 0;
	int k = 0;
	for (unsigned p = 0; p < tr->nblocks; p++) {
		if (k < 0 || (placed >> k & 1))
			k = (int)bset_first(~placed);
		t->order[p] = (uint8_t)k;
		t->pos[k] = (uint8_t)p;
		placed |= BIT(k);
		const struct jit_blk *bk = &tr->blk[k];
		int to, next;
		blk_succs(tr, (unsigned)k, &to, &next);
		/* a jal's code falls into its target, and an if-converted
		 * branch's; a jalr's into nothing; a CSR instruction's and a
		 * branch's into the next, unless the target leads back sooner:
		 * an inner loop's body then follows its test, and the loop
		 * takes one jump a turn (emit_branch_edges) */
		unsigned last = tr->ins[bk->first + bk->n - 1].op;
		int inner = is_branch(last) && !t->ifskip[k] && to >= 0 && next >= 0 &&
			    !((placed >> to) & 1) && !((placed >> next) & 1) &&
			    steps_to(t->succ, BIT(to), (unsigned)k) <
				steps_to(t->succ, BIT(next), (unsigned)k);
		k = (bk->jump && !is_branch(last) && !is_csr(last)) || t->ifskip[k] || inner ? to
											     : next;
	}
}

/* The blocks a block goes on to in its code: an if-converted one only to
 * its branch's target, not to the block it skips. */
static bset real_succs(const struct tx *t, unsigned k)
{
	bset m = t->succ[k];
	if (t->ifskip[k])
		m &= ~BIT(find_blk(t->tr, t->tr->blk[k].end_off));
	return m;
}

/* The blocks the entry reaches (the others are not emitted: a block an
 * if-converted branch skips, when nothing else goes there) and how many
 * ways each has in from them (the entry is one into block 0), for
 * carries(). */
static void count_preds(struct tx *t)
{
	bset reached = BIT(0), todo = BIT(0);
	while (todo) {
		unsigned k = bset_first(todo);
		todo &= todo - 1;
		bset m = real_succs(t, k) & ~reached;
		reached |= m;
		todo |= m;
	}
	t->reached = reached;
	memset(t->npred, 0, sizeof(t->npred));
	t->npred[0] = 1;
	/* a peeled entry and the head it copies count once: they go to the
	 * same blocks with the same counts (see carries) */
	if (t->twin && (reached >> t->twin & 1))
		reached &= ~BIT(0);
	for (bset r = reached; r; r &= r - 1)
		for (bset m = real_succs(t, bset_first(r)); m; m &= m - 1)
			t->npred[bset_first(m)]++;
}

/* Whether the edge from block `from` to block `to` hands its count on
 * (see count_insns): `to` is placed after it, has no other way in and is
 * not emitted yet. */
static int carries(const struct tx *t, unsigned from, int to)
{
	if (to < 0 || t->npred[to] != 1 || t->pos[to] <= t->pos[from] || t->in_stubs)
		return 0;
	if (!t->twin)
		return 1;
	/* a peeled entry's successor has its head for the other way in,
	 * which must be placed before it too and have nothing handed on to
	 * it (block 0 has not) */
	return (unsigned)to != t->twin &&
	       (!(real_succs(t, 0) & BIT(to)) || t->pos[to] > t->pos[t->twin]);
}

/* Lazy sign extension. A W instruction (addw, mulw, ...) leaves a word
 * that RV64 sign-extends to 64 bits: a movsxd after the 32-bit host
 * operation. Many such results are read only by other W instructions,
 * stores of a word or less, shift amounts and compares of two words, all
 * of which look at the low 32 bits alone; then the extension is left out
 * and the host register's upper half holds whatever the operation left
 * there ("unextended"). Code that may see a whole register first extends
 * the unextended ones in place (settle): before a tail (leaving the
 * region, or a helper call that may trap) and before an allocation
 * switch. So h->x is exact whenever C sees it, and traps stay precise.
 *
 * Two analyses over the region decide it: forward, the registers that
 * hold a sign-extended word on every path (wv); backward, the registers
 * whose whole value may still be read (full). A W result is left
 * unextended when its register has a host register and is not in `full`
 * after it. An edge into a block extends the registers not in wv there
 * (edge_settle), so an unextended value never meets a path where the
 * register holds something else: extending it later is always right. A
 * loop's exit then pays for what the code after the loop cannot know,
 * not each turn of the loop. */

static int wv_has(uint32_t wv, unsigned g)
{
	return (wv >> g) & 1;
}

/* The facts of `d` (see struct wfact): W instructions and byte, half and
 * word loads, lui, set-less-than and li leave words; and/or/xor of words,
 * andi of a word or with a positive immediate, and copies of words too;
 * srli by 33 or more and srai by 32 or more as well. Not read whole: the
 * sources of W instructions, the data of a store of a word or less, a
 * shift amount, the source of an slli by 32 or more or of an andi with a
 * positive immediate (which clears the upper half), and a branch's
 * operands when both hold words (it then compares 32 bits: see
 * emit_compare). */
static void w_fact(const struct rv_insn *d, struct wfact *f)
{
	unsigned op = d->op;
	uint32_t r, w, rs1 = (1u << d->rs1) & ~1u, rs2 = (1u << d->rs2) & ~1u;
	insn_regs(d, &r, &w);
	f->reads = r;
	f->wr = w;
	f->req = 0;
	f->never = 0;
	f->full = r;
	f->cmp = 0;
	int wop = (op >= OP_ADDIW && op <= OP_SRAW) || (op >= OP_MULW && op <= OP_REMUW);
	if (wop || (op == OP_SLLI && d->imm >= 32) || (op == OP_ANDI && d->imm >= 0))
		f->full = 0;
	else if (op == OP_SB || op == OP_SH || op == OP_SW || op == OP_SLL || op == OP_SRL ||
		 op == OP_SRA)
		f->full = rs1;
	if (is_branch(op))
		f->cmp = r;
	if (wop)
		return;
	switch (op) {
	case OP_LUI:
	case OP_LB:
	case OP_LH:
	case OP_LW:
	case OP_LBU:
	case OP_LHU:
	case OP_SLTI:
	case OP_SLTIU:
	case OP_SLT:
	case OP_SLTU: break;
	case OP_ADDI: f->never = d->rs1 != 0 && d->imm != 0, f->req = rs1; break;
	case OP_ANDI: f->req = d->imm >= 0 ? 0 : rs1; break;
	case OP_ORI:
	case OP_XORI: f->req = rs1; break;
	case OP_ADD: f->never = d->rs1 != 0 && d->rs2 != 0, f->req = rs1 | rs2; break;
	case OP_AND:
	case OP_OR:
	case OP_XOR: f->req = rs1 | rs2; break;
	case OP_SRLI: f->never = d->imm < 33; break;
	case OP_SRAI: f->never = d->imm < 32; break;
	default: f->never = 1; break;
	}
}

/* Steps wv and unext over the region's instruction `i`. */
static inline void w_step(const struct tx *t, unsigned i, uint32_t *wv, uint32_t *unext)
{
	const struct wfact *f = &t->wf[i];
	if (!f->wr)
		return;
	if (!f->never && (*wv & f->req) == f->req)
		*wv |= f->wr;
	else
		*wv &= ~f->wr;
	if (t->noext[i])
		*unext |= f->wr;
	else
		*unext &= ~f->wr;
}

/* For an if-converted block `k` (see if_skipped): the target block its
 * branch goes to (-1: none in the region, or `k` is no such block), and
 * in `*first` the first of the t->ifskip[k] instructions the branch skips,
 * which run on the way there when it is not taken. The analyses step over
 * them into the target: in the code emitted, the target follows those
 * instructions, not the block they are in. */
static int ifskip_target(const struct tx *t, unsigned k, unsigned *first)
{
	int to, next;
	if (!t->ifskip[k])
		return -1;
	blk_succs(t->tr, k, &to, &next);
	*first = t->tr->blk[next].first;
	return to;
}

/* Steps wv over what block `k`'s if-converted branch skips and returns
 * its target (see ifskip_target). (The target's unext needs nothing
 * more: emit_if_converted extends the value they leave.) */
static int ifskip_step(const struct tx *t, unsigned k, uint32_t *wv)
{
	unsigned first = 0;
	uint32_t unext = 0;
	int to = ifskip_target(t, k, &first);
	for (unsigned i = 0; to >= 0 && i < t->ifskip[k]; i++)
		w_step(t, first + i, wv, &unext);
	return to;
}

/* The W instructions whose extension settle() can put off: those
 * emit_alu computes in rd's host register. */
static int ext_deferrable(const struct rv_insn *d)
{
	unsigned op = d->op;
	return d->rs1 != 0 &&
	       ((op >= OP_ADDIW && op <= OP_SRAW && !(op == OP_SRLIW && (d->imm & 31))) ||
		op == OP_MULW);
}

/* Block `k`'s registers read whole before being written, given those
 * read whole after it (`full`) and the words at its end (`wv_out`); with
 * `decide`, marks its W instructions whose results need no extension. */
static uint32_t full_back(struct tx *t, unsigned k, uint32_t full, uint32_t wv_out, int decide)
{
	const struct jit_blk *bk = &t->tr->blk[k];
	const int8_t *host = t->al[t->cls[k]].host;
	for (unsigned i = bk->first + bk->n; i-- > bk->first;) {
		const struct wfact *f = &t->wf[i];
		if (decide && (f->wr & ~full) && ext_deferrable(&t->tr->ins[i]) &&
		    host[t->tr->ins[i].rd] >= 0)
			t->noext[i] = 1;
		/* only a block's last instruction branches: wv_out is its */
		uint32_t reads = f->full & ~(f->cmp && (wv_out & f->cmp) == f->cmp ? f->cmp : 0);
		full = (full & ~f->wr) | reads;
	}
	return full;
}

/* The analyses of lazy sign extension (above): t->noext, wv_in and
 * unext_in. Regions without a W instruction to defer in a loop skip
 * them. */
static void find_lazy_ext(struct tx *t)
{
	const struct jit_tr *tr = t->tr;
	unsigned nb = tr->nblocks;
	const bset *succ = t->succ;
	int any = 0; /* in a loop: code outside loops runs once an entry */
	for (unsigned k = 0; k < nb; k++)
		for (unsigned i = tr->blk[k].first;
		     t->cls[k] && i < tr->blk[k].first + tr->blk[k].n; i++)
			any |= ext_deferrable(&tr->ins[i]);
	uint32_t wv_out[JIT_REGION_BLOCKS], full_in[JIT_REGION_BLOCKS] = {0};
	for (unsigned k = 0; k < nb; k++) {
		/* from outside only x0 is known; without W instructions to
		 * defer, the blocks' own instructions will do (wv is only
		 * ever less than the truth then) */
		t->wv_in[k] = k && any ? ~0u : 1u;
		t->unext_in[k] = 0;
	}
	if (!any)
		return;
	for (int changed = 1; changed;) { /* wv: intersection, from "all" */
		changed = 0;
		for (unsigned k = 0; k < nb; k++) {
			const struct jit_blk *bk = &tr->blk[k];
			uint32_t wv = t->wv_in[k], un = 0;
			for (unsigned i = bk->first; i < bk->first + bk->n; i++)
				w_step(t, i, &wv, &un);
			wv_out[k] = wv;
			for (bset m = succ[k]; m; m &= m - 1) {
				unsigned s = bset_first(m);
				changed |= (t->wv_in[s] & ~wv) != 0;
				t->wv_in[s] &= wv;
			}
			int s = ifskip_step(t, k, &wv);
			if (s >= 0) {
				changed |= (t->wv_in[s] & ~wv) != 0;
				t->wv_in[s] &= wv;
			}
		}
	}
	for (int changed = 1; changed;) { /* full: union, from none */
		changed = 0;
		for (unsigned k = nb; k-- > 0;) {
			uint32_t full = full_back(t, k, regs_of(full_in, succ[k]), wv_out[k], 0);
			changed |= full != full_in[k];
			full_in[k] = full;
		}
	}
	for (unsigned k = 0; k < nb; k++)
		full_back(t, k, regs_of(full_in, succ[k]), wv_out[k], 1);
	for (int changed = 1; changed;) { /* unext: union, from none */
		changed = 0;
		for (unsigned k = 0; k < nb; k++) {
			const struct jit_blk *bk = &tr->blk[k];
			uint32_t wv = t->wv_in[k], un = t->unext_in[k];
			for (unsigned i = bk->first; i < bk->first + bk->n; i++)
				w_step(t, i, &wv, &un);
			for (bset m = succ[k]; m; m &= m - 1) {
				unsigned s = bset_first(m);
				uint32_t in = un & t->wv_in[s]; /* edge_settle extends the rest */
				changed |= (in & ~t->unext_in[s]) != 0;
				t->unext_in[s] |= in;
			}
		}
	}
}

/* Narrow values. RV64 code without Zbb keeps a 16-bit value (a uint16_t
 * CRC, say) zero-extended with `slli rd, rd, 48; srli rd, rd, 48` after
 * each operation on it, a movzx on the loop's critical path. A forward
 * analysis bounds each register's value: nw (its width) = how many low
 * bits may be set, rounded up to 1, 8, 16, 32 or 64. An extension of a
 * value already that narrow is a move (or nothing), and an operation
 * whose result is then extended to 16 bits is a 16-bit one on a narrow
 * first operand (x86 keeps the rest of the register, zero). A value
 * entering the region is 64 bits wide unless the region assumes it 16,
 * which the guard at its entry checks (jit_emit: a failing guard runs a
 * translation that assumes nothing). */

static unsigned width_round(unsigned w)
{
	return w <= 1 ? w : w <= 8 ? 8 : w <= 16 ? 16 : w <= 32 ? 32 : 64;
}

/* The width of immediate `v` as a 64-bit value. */
static unsigned imm_width(int64_t v)
{
	return v < 0 ? 64 : v == 0 ? 0 : 64 - (unsigned)__builtin_clzll((uint64_t)v);
}

/* Steps the widths `w` over the region's instruction `i`. */
static void nw_step(const struct tx *t, unsigned i, uint8_t *w)
{
	const struct rv_insn *d = &t->tr->ins[i];
	if (!t->wf[i].wr)
		return;
	unsigned a = w[d->rs1], b = w[d->rs2], r = 64, iw = imm_width(d->imm);
	unsigned sh = (unsigned)d->imm & 63, hi = a > b ? a : b;
	switch (d->op) {
	case OP_LUI: r = iw; break;
	case OP_ADDI:
		if (d->rs1 == 0 || d->imm == 0) /* li, mv */
			r = d->rs1 ? a : iw;
		else if (d->imm > 0)
			r = (a > iw ? a : iw) + 1;
		break;
	case OP_ANDI: r = d->imm >= 0 && iw < a ? iw : a; break;
	case OP_ORI:
	case OP_XORI: r = d->imm >= 0 ? (a > iw ? a : iw) : 64; break;
	case OP_SLTI:
	case OP_SLTIU:
	case OP_SLT:
	case OP_SLTU: r = 1; break;
	case OP_SLLI: r = a ? a + sh : 0; break;
	case OP_SRLI: r = a > sh ? a - sh : 0; break;
	case OP_SRAI: r = a == 64 ? 64 : a > sh ? a - sh : 0; break;
	case OP_SRLIW: r = sh & 31 ? 32 - (sh & 31) : 64; break;
	case OP_ADD: r = hi + 1; break;
	case OP_AND: r = a < b ? a : b; break;
	case OP_OR:
	case OP_XOR: r = hi; break;
	case OP_MUL: r = a + b; break;
	case OP_LBU: r = 8; break;
	case OP_LHU: r = 16; break;
	case OP_LWU: r = 32; break;
	}
	w[d->rd] = (uint8_t)width_round(r > 64 ? 64 : r);
}

/* in = the union of in and w; whether that changed in. */
static int widen(uint8_t *in, const uint8_t *w)
{
	int changed = 0;
	for (unsigned g = 1; g < 32; g++)
		if (w[g] > in[g]) {
			in[g] = w[g];
			changed = 1;
		}
	return changed;
}

/* The widths at each block's start (t->nw_in), registers in `assume`
 * taken as 16 bits wide at the entry: the union over the paths, from
 * nothing (widths only grow, through five values, so it ends), over a
 * worklist of the blocks whose start changed. */
static void find_narrow(struct tx *t, uint32_t assume)
{
	const struct jit_tr *tr = t->tr;
	memset(t->nw_in, 0, tr->nblocks * sizeof(t->nw_in[0]));
	for (unsigned g = 1; g < 32; g++)
		t->nw_in[0][g] = (assume >> g) & 1 ? 16 : 64;
	for (bset work = 1; work;) {
		unsigned k = bset_first(work);
		work &= ~BIT(k);
		const struct jit_blk *bk = &tr->blk[k];
		uint8_t w[32];
		memcpy(w, t->nw_in[k], sizeof(w));
		for (unsigned i = bk->first; i < bk->first + bk->n; i++)
			nw_step(t, i, w);
		for (bset m = t->succ[k]; m; m &= m - 1)
			if (widen(t->nw_in[bset_first(m)], w))
				work |= BIT(bset_first(m));
		unsigned first = 0;
		int tg = ifskip_target(t, k, &first);
		if (tg < 0)
			continue;
		for (unsigned i = 0; i < t->ifskip[k]; i++)
			nw_step(t, first + i, w);
		if (widen(t->nw_in[tg], w))
			work |= BIT(tg);
	}
}

/* `slli rd, rs, k` then `srli` or `srai rd, rd, k` (k = 32, 48, 56: how
 * RV64GC code without Zba/Zbb extends a word, halfword or byte), or the
 * same with slliw and srliw/sraiw (k = 16, 24: a half or a byte, extended
 * to 32 and then 64 bits; a zero-extended one is positive as a word):
 * the bits rs's low part has, signed when `*sgn`; else 0. */
static unsigned ext_pair(const struct rv_insn *d, const struct rv_insn *d2, int *sgn)
{
	if (d->rd == 0 || d2->rd != d->rd || d2->rs1 != d->rd || d2->imm != d->imm)
		return 0;
	if (d->op == OP_SLLI && (d2->op == OP_SRLI || d2->op == OP_SRAI) &&
	    (d->imm == 32 || d->imm == 48 || d->imm == 56)) {
		*sgn = d2->op == OP_SRAI;
		return 64 - (unsigned)d->imm;
	}
	if (d->op == OP_SLLIW && (d2->op == OP_SRLIW || d2->op == OP_SRAIW) &&
	    (d->imm == 16 || d->imm == 24)) {
		*sgn = d2->op == OP_SRAIW;
		return 32 - (unsigned)d->imm;
	}
	return 0;
}

/* A zero extension `slli rd, rs, 64 - bits; srli rd, rd, 64 - bits` (see
 * ext_pair): its `bits` (8, 16 or 32), else 0. */
static unsigned zext_pair(const struct rv_insn *d, const struct rv_insn *d2)
{
	int sgn = 1;
	unsigned bits = d->op == OP_SLLI ? ext_pair(d, d2, &sgn) : 0;
	return sgn ? 0 : bits;
}

/* The operations emit_zext_op does in 16 or 32 bits: ALU_* + 1. */
static const uint8_t zext_alu[RV_OP_COUNT] = {
    [OP_ADD] = ALU_ADD + 1,   [OP_ADDW] = ALU_ADD + 1, [OP_ADDI] = ALU_ADD + 1,
    [OP_ADDIW] = ALU_ADD + 1, [OP_SUB] = ALU_SUB + 1,  [OP_SUBW] = ALU_SUB + 1,
    [OP_XOR] = ALU_XOR + 1,   [OP_XORI] = ALU_XOR + 1, [OP_OR] = ALU_OR + 1,
    [OP_ORI] = ALU_OR + 1,    [OP_AND] = ALU_AND + 1,  [OP_ANDI] = ALU_AND + 1};

static int zext_rr(unsigned op)
{
	return (op >= OP_ADD && op <= OP_AND) || op == OP_ADDW || op == OP_SUBW;
}

/* Instruction `i` and the two after it in its block (`left` of them
 * there, it included): an operation whose result is then extended to
 * `bits` 16 or 32. Returns the registers of which one must be narrow for
 * the 16-bit form (`*bits` 16; the first operand, or either when it
 * commutes), else 0. */
static uint32_t zext_op(const struct jit_tr *tr, unsigned i, unsigned left, unsigned *bits)
{
	const struct rv_insn *d = &tr->ins[i];
	*bits = 0;
	if (left < 3 || !zext_alu[d->op] || d->rd == 0 || d->rs1 == 0 || d[1].rs1 != d->rd ||
	    d[1].rd != d->rd || (zext_rr(d->op) && d->rs2 == 0))
		return 0;
	*bits = zext_pair(&d[1], &d[2]);
	if (*bits != 16 && *bits != 32) {
		*bits = 0;
		return 0;
	}
	int commutes = zext_rr(d->op) && d->op != OP_SUB && d->op != OP_SUBW;
	return 1u << d->rs1 | (commutes ? 1u << d->rs2 : 0);
}

/* Counts the sites of narrow values (see find_narrow) that t->nw_in makes
 * cheaper: extensions of a narrow value and operations extended to 16
 * bits with a narrow operand; `*want` gets the registers that would make
 * the others so. */
static unsigned narrow_sites(const struct tx *t, uint32_t *want)
{
	const struct jit_tr *tr = t->tr;
	unsigned n = 0;
	for (unsigned k = 0; k < tr->nblocks; k++) {
		const struct jit_blk *bk = &tr->blk[k];
		uint8_t w[32];
		memcpy(w, t->nw_in[k], sizeof(w));
		for (unsigned i = bk->first, end = i + bk->n, len; i < end; i += len) {
			unsigned bits;
			uint32_t cand = zext_op(tr, i, end - i, &bits);
			len = bits ? 3 : 1;
			if (bits == 16) {
				int ok = 0;
				for (uint32_t m = cand; m; m &= m - 1)
					ok |= w[__builtin_ctz(m)] <= 16;
				n += (unsigned)ok;
				*want |= ok ? 0 : cand;
			} else if (!bits && i + 1 < end &&
				   (bits = zext_pair(&tr->ins[i], &tr->ins[i + 1]))) {
				unsigned rs = tr->ins[i].rs1;
				n += w[rs] <= bits;
				*want |= w[rs] <= bits || bits != 16 ? 0 : 1u << rs;
				len = 2;
			}
			for (unsigned j = i; j < i + len; j++)
				nw_step(t, j, w);
		}
	}
	return n;
}

/* Whether the region has a zero extension to 8 or 16 bits, which
 * find_narrow could help (to 32, zext.w, it seldom does). */
static int has_zext(const struct jit_tr *tr)
{
	for (unsigned k = 0; k < tr->nblocks; k++) {
		const struct jit_blk *bk = &tr->blk[k];
		for (unsigned i = bk->first; i + 1 < bk->first + bk->n; i++) {
			unsigned bits = zext_pair(&tr->ins[i], &tr->ins[i + 1]);
			if (bits && bits < 32)
				return 1;
		}
	}
	return 0;
}

/* Runs find_narrow when it may help, taking as narrow at the entry the
 * fewest registers that make the most sites cheaper (t->assume). Not in
 * the translation a failing guard runs (`!may_assume`): that one seldom
 * runs, and is emitted with the other. */
static void choose_narrow(struct tx *t, int may_assume)
{
	if (!may_assume || !has_zext(t->tr))
		return;
	t->narrow = 1;
	find_narrow(t, 0);
	uint32_t want = 0, none = 0;
	unsigned base = narrow_sites(t, &want);
	if (!want)
		return;
	/* Registers the region writes: a value the code keeps narrow itself
	 * (an accumulator extended at every step) more likely is narrow at
	 * the entry than one it only reads (a wide constant, say). At most
	 * four, then as few as give as much. */
	uint32_t written = 0;
	for (unsigned i = 0; i < t->tr->ninsns; i++)
		written |= t->wf[i].wr;
	if (want & written)
		want &= written;
	while (__builtin_popcount(want) > 4)
		want &= want - 1;
	find_narrow(t, want);
	unsigned best = narrow_sites(t, &none);
	uint32_t ran = want; /* what t->nw_in assumes */
	if (best > base) {
		for (uint32_t m = want & (want - 1) ? want : 0; m; m &= m - 1) {
			uint32_t less = want & ~(1u << __builtin_ctz(m));
			find_narrow(t, ran = less);
			if (narrow_sites(t, &none) == best)
				want = less;
		}
		t->assume = want;
	} else {
		want = 0;
	}
	if (ran != want)
		find_narrow(t, want);
}

/* Steps the state of the code being emitted over instruction `i`. */
static void insn_step(struct tx *t, unsigned i)
{
	w_step(t, i, &t->wv, &t->unext);
	if (t->narrow)
		nw_step(t, i, t->nw);
}

/* Whether guest register `g`'s host register holds its value exactly
 * and that has at most `bits` bits (see find_narrow). */
static int narrow_ok(const struct tx *t, unsigned g, unsigned bits)
{
	return t->narrow && t->nw[g] <= bits && !((t->unext >> g) & 1);
}

/* Extends the registers that may be unextended (keeps the flags). */
static void settle(struct tx *t)
{
	for (uint32_t m = t->unext & t->cached; m; m &= m - 1) {
		int r = t->host[__builtin_ctz(m)];
		x_movsxd(t->b, r, r);
	}
}

/* On an edge into region block `to`: extends the registers that may be
 * unextended but are not known words there (see find_lazy_ext). Keeps
 * the flags. */
static void edge_settle(struct tx *t, int to)
{
	uint32_t m = t->unext & t->cached & ~t->wv_in[to];
	t->unext &= ~m;
	for (; m; m &= m - 1) {
		int r = t->host[__builtin_ctz(m)];
		x_movsxd(t->b, r, r);
	}
}

/* Whether allocation `c` keeps every guest register where the current one
 * does (then going there moves nothing). */
static int same_alloc(const struct tx *t, unsigned c)
{
	return c == t->cur || memcmp(t->al[c].host, t->host, sizeof(t->host)) == 0;
}

/* Code that moves from the current allocation to allocation `c`: the
 * written registers it drops go to h->x, the ones `c` adds come from it. */
static void emit_switch(struct tx *t, unsigned c)
{
	const struct alloc *to = &t->al[c];
	settle(t);
	for (unsigned g = 1; g < 32; g++)
		if ((t->written >> g & 1) && to->host[g] != t->host[g])
			x_store64(t->b, RBX, OX(g), t->host[g]);
	for (unsigned g = 1; g < 32; g++)
		if ((to->cached >> g & 1) && to->host[g] != t->host[g])
			x_load64(t->b, to->host[g], RBX, OX(g));
}

/* The host register holding guest register `g`: its cache register, or
 * `scratch` loaded from h->x. */
static int rget(struct tx *t, unsigned g, int scratch)
{
	if (g && t->host[g] >= 0)
		return t->host[g];
	if (g && (int)g == t->rax_reg && t->rax_at == t->b->len) { /* just stored from rax */
		if (scratch != RAX)
			x_mov(t->b, scratch, RAX);
		return scratch;
	}
	if (g == 0)
		x_alu(t->b, ALU_XOR, 0, scratch, scratch);
	else
		x_load64(t->b, scratch, RBX, OX(g));
	return scratch;
}

/* Host register `r` = guest register `g`. */
static void rget_into(struct tx *t, unsigned g, int r)
{
	int v = rget(t, g, r);
	if (v != r)
		x_mov(t->b, r, v);
}

/* Guest register `g` = host register `r`. */
static void rput(struct tx *t, unsigned g, int r)
{
	if (g == 0)
		return;
	if (t->host[g] >= 0) {
		if (t->host[g] != r)
			x_mov(t->b, t->host[g], r);
	} else {
		x_store64(t->b, RBX, OX(g), r);
		if (r == RAX) {
			t->rax_reg = (int)g;
			t->rax_at = t->b->len;
		}
	}
}

/* Writes the cached registers in `mask` back to h->x. */
static void flush(struct tx *t, uint32_t mask)
{
	for (unsigned g = 1; g < 32; g++)
		if ((mask >> g) & 1)
			x_store64(t->b, RBX, OX(g), t->host[g]);
}

/* After a helper call: the caller-saved cache registers are reloaded. */
static void reload_volatile(struct tx *t)
{
	for (unsigned g = 1; g < 32; g++)
		if ((t->volatile_regs >> g) & 1)
			x_load64(t->b, t->host[g], RBX, OX(g));
}

/* r = h->jit_base + delta (the virtual pc of a place in the region) */
static void emit_pc(struct xbuf *b, int r, int64_t delta)
{
	if (fits32(delta)) {
		x_load64(b, r, RBX, O_BASE);
		if (delta)
			x_lea(b, r, r, (int32_t)delta);
	} else {
		x_mov_imm(b, r, (uint64_t)delta);
		x_alu_m(b, ALU_ADD, 1, r, RBX, O_BASE);
	}
}

/* pc offset from the region's entry of page offset `off` */
static int64_t rel(const struct tx *t, int64_t off)
{
	return off - (int64_t)t->tr->entry_off;
}

/* Instructions retired since the last write-back live in rdi (a memory
 * add per block would chain every loop iteration through a store), less
 * IC_LIMIT: a step back inside the region adds its block's count and
 * goes on while rdi is negative, one fused add and jump. They go to
 * h->instret before the region leaves and before any helper call. */
#define R_IC RDI
#define IC_LIMIT 16384 /* retired in a region before it leaves to poll */

/* rdi = none retired yet */
static void reset_instret(struct xbuf *b)
{
	x_mov_imm(b, R_IC, (uint64_t) - (int64_t)IC_LIMIT);
}

/* h->instret += the count in rdi (which is lost) */
static void sync_instret(struct tx *t)
{
	x_lea(t->b, R_IC, R_IC, IC_LIMIT);
	x_op_m(t->b, 1, 0x01, R_IC, RBX, -1, O_INSTRET); /* add [h->instret], rdi */
}

/* Counts `n` more retired instructions (keeps the flags).
 *
 * Counts are added on a region's edges, and a block whose successors in
 * the region have no other way in hands its count on to them instead
 * (t->pend, see carries): a chain of branchy blocks then adds once,
 * at its end, rather than once a block. Whatever reads rdi first adds
 * what is pending: an edge leaving the region or closing a loop, a
 * helper call. */
static void count_insns(struct tx *t, unsigned n)
{
	if (n)
		x_lea(t->b, R_IC, R_IC, (int32_t)n);
}

/* Adds what is pending to rdi: nothing is pending after. */
static void count_pending(struct tx *t)
{
	count_insns(t, t->pend);
	t->pend = 0;
}

static void to_tail(struct tx *t, int tail, int call)
{
	if (tail != TAIL_RELOAD)
		settle(t); /* the tail writes the registers back */
	t->late[t->nlate].at = call ? x_call_rel(t->b) : x_jmp(t->b);
	t->late[t->nlate].cls = (uint8_t)t->cur;
	t->late[t->nlate++].tail = (uint8_t)tail;
	t->tails_used[t->cur] |= (uint8_t)(1u << tail);
}

/* Leaves the region for the pc in rax, through the chain. */
static void emit_leave(struct tx *t)
{
	to_tail(t, TAIL_LEAVE, 0);
}

/* Before a helper call: h->x and h->instret exact (rdi is free after). */
static void emit_save(struct tx *t)
{
	count_pending(t);
	if (t->written)
		to_tail(t, TAIL_SAVE, 1);
	else
		sync_instret(t);
}

/* After a helper call. */
static void emit_reload(struct tx *t)
{
	if (t->volatile_regs)
		to_tail(t, TAIL_RELOAD, 1);
}

/* With the next pc in rax: e = &h->jit_jcur[(pc >> 1) & mask]; if e->pc
 * == pc and e is of the current block epoch, h->jit_base = pc and on to
 * h->jit_rx + e->code; else to `exit` (and there to C). */
static void emit_chain(struct xbuf *out, uint32_t exit)
{
	uint32_t out_j[3];
	x_alu_mi(out, ALU_SUB, 0, RBX, O_POLL, 1);
	out_j[0] = x_jcc(out, CC_S);
	_Static_assert(sizeof(struct jit_jc) == 16, "the chain scales the index by 16");
	x_mov(out, RCX, RAX);
	x_shift_i(out, SH_SHL, 0, RCX, 3); /* (pc >> 1) * 16 */
	x_alu_i(out, ALU_AND, 0, RCX, ((1 << JJ_BITS) - 1) << 4);
	x_alu_m(out, ALU_ADD, 1, RCX, RBX, O_JJCUR);
	x_alu_m(out, ALU_CMP, 1, RAX, RCX, 0);
	out_j[1] = x_jcc(out, CC_NE);
	x_op_m(out, 0, 0x8b, RDX, RCX, -1, O_JJEPOCH); /* mov edx, [rcx + epoch] */
	x_alu_m(out, ALU_CMP, 0, RDX, RBX, O_HEPOCH);
	out_j[2] = x_jcc(out, CC_NE);
	x_op_m(out, 0, 0x8b, RCX, RCX, -1, O_JJCODE); /* mov ecx, [rcx + code] */
	x_alu_m(out, ALU_ADD, 1, RCX, RBX, O_RX);
	x_store64(out, RBX, O_BASE, RAX);
	x_jmp_r(out, RCX);
	for (unsigned i = 0; i < 3; i++)
		x_patch(out, out_j[i], exit);
}

/* Tail `k` for allocation `c` (see TAIL_*). */
static void emit_tail(struct tx *t, unsigned c, int k)
{
	struct xbuf *b = t->b;
	use_alloc(t, c);
	t->rax_reg = -1;
	if (k == TAIL_RELOAD) {
		reload_volatile(t);
		x_ret(b);
		return;
	}
	flush(t, t->written);
	sync_instret(t);
	if (k == TAIL_LOAD || k == TAIL_STORE || k == TAIL_FPU) { /* rsi, rdx (rcx): arguments */
		static const int helper[TAIL_COUNT] = {
		    [TAIL_LOAD] = JH_LOAD, [TAIL_STORE] = JH_STORE, [TAIL_FPU] = JH_FPU};
		x_mov(b, RDI, RBX);
		x_alu_i(b, ALU_SUB, 1, RSP, 8); /* 16-byte aligned inside this call */
		x_call_m(b, RBX, OH(helper[k]));
		x_alu_i(b, ALU_ADD, 1, RSP, 8);
		x_cmp_m8i(b, RBX, O_TRAP, 0);
		uint32_t ok = x_jcc(b, CC_E);
		x_alu_i(b, ALU_ADD, 1, RSP, 8); /* leaves from inside the call */
		t->trap_jmp[t->ntrap++] = x_jmp(b);
		x_patch(b, ok, b->len);
		reset_instret(b);
		reload_volatile(t);
		x_ret(b);
	} else if (k == TAIL_SAVE) {
		x_ret(b);
	} else if (k == TAIL_POLL) {
		x_mov_m32i(b, RBX, O_POLL, 0); /* poll_count = 0: poll now */
		x_patch(b, x_jmp(b), t->st->exit);
	} else {
		emit_chain(b, t->st->exit); /* a jump of its own: predicted per region */
	}
}

/* The shared tails this region used, and the jumps and calls to them. */
static void emit_tails(struct tx *t)
{
	uint32_t at[JIT_REGION_BLOCKS][TAIL_COUNT];
	for (unsigned c = 0; c < JIT_REGION_BLOCKS; c++)
		for (int k = 0; k < TAIL_COUNT; k++)
			if (t->tails_used[c] >> k & 1) {
				at[c][k] = t->b->len;
				emit_tail(t, c, k);
			}
	for (unsigned i = 0; i < t->nlate; i++)
		x_patch(t->b, t->late[i].at, at[t->late[i].cls][t->late[i].tail]);
}

/* Records that the rel32 at `at` must point at block `blk` once every
 * block is placed. */
static void jump_to_blk(struct tx *t, uint32_t at, int blk)
{
	t->fix[t->nfix].at = at;
	t->fix[t->nfix++].blk = (uint16_t)blk;
}

/* Goes from block `from` to page offset `off`, counting `n` retired
 * instructions on the way: a host jump when the region holds that block
 * (leaving to poll for interrupts when the jump may close a loop and
 * IC_LIMIT instructions ran), else out through the chain. With
 * `may_fall`, what follows is the next block's code, so going there needs
 * no jump. */
static void emit_edge(struct tx *t, unsigned from, int64_t off, int may_fall, unsigned n)
{
	struct xbuf *b = t->b;
	int to = find_blk(t->tr, off);
	n += t->pend;
	if (to < 0) {
		count_insns(t, n);
		emit_pc(b, RAX, rel(t, off));
		emit_leave(t);
		return;
	}
	edge_settle(t, to);
	unsigned c = t->cls[to];
	int same = same_alloc(t, c);
	if (t->pos[to] <= t->pos[from]) {
		x_alu_i(b, ALU_ADD, 1, R_IC, (int32_t)n); /* sets the flags even when n is 0 */
		if (same) {
			jump_to_blk(t, x_jcc(b, CC_L), to);
		} else {
			uint32_t poll = x_jcc(b, CC_GE);
			emit_switch(t, c);
			jump_to_blk(t, x_jmp(b), to);
			x_patch(b, poll, b->len);
		}
		emit_pc(b, RAX, rel(t, off));
		to_tail(t, TAIL_POLL, 0);
		return;
	}
	if (carries(t, from, to))
		t->pend_in[to] = n; /* its only way in */
	else
		count_insns(t, n);
	if (!same)
		emit_switch(t, c);
	if (t->pos[to] != t->pos[from] + 1 || !may_fall)
		jump_to_blk(t, x_jmp(b), to);
}

/* On condition `cc` (the flags are set) a jump from block `from` to block
 * `j`, placed after it in the same allocation; else on to page offset
 * `other`. `n` instructions of `from` are not counted yet. */
static void jcc_edge(struct tx *t, unsigned from, int cc, int j, int64_t other, unsigned n)
{
	edge_settle(t, j); /* on both ways: no code can go on the jump's */
	if (carries(t, from, j)) {
		t->pend_in[j] = t->pend + n;
	} else {
		count_insns(t, t->pend + n); /* lea keeps the flags */
		t->pend = n = 0;
	}
	jump_to_blk(t, x_jcc(t->b, cc), j);
	emit_edge(t, from, other, 1, n);
}

/* On condition `cc` (the flags are set) a jump from block `from` to a
 * stub emitted after the blocks (emit_stubs) that goes to page offset
 * `off`; `n` instructions are not counted on the way yet. */
static void stub_edge(struct tx *t, unsigned from, int cc, int64_t off, unsigned n)
{
	t->stub[t->nstub].at = x_jcc(t->b, cc);
	t->stub[t->nstub].unext = t->unext;
	t->stub[t->nstub].off = (int32_t)off;
	t->stub[t->nstub].n = (uint16_t)(t->pend + n);
	t->stub[t->nstub].from = (uint8_t)from;
	t->stub[t->nstub++].cls = (uint8_t)t->cur;
}

/* A conditional branch ending block `from`, whose `n` instructions are
 * not counted yet: on condition `cc` (the flags are set) to page offset
 * `off`, else to `next`. */
static void emit_branch_edges(struct tx *t, unsigned from, int64_t off, int64_t next, int cc,
			      unsigned n)
{
	int to = find_blk(t->tr, off), nx = find_blk(t->tr, next);
	int to_falls = to >= 0 && t->pos[to] == t->pos[from] + 1 && same_alloc(t, t->cls[to]);
	int nx_falls = nx >= 0 && t->pos[nx] == t->pos[from] + 1 && same_alloc(t, t->cls[nx]);
	/* forward, nothing to move: one jcc there (the inverse one to the
	 * next block when the target follows, as an inner loop's body does) */
	if (to >= 0 && t->pos[to] == t->pos[from] + 1 && nx >= 0 && t->pos[nx] > t->pos[from] &&
	    same_alloc(t, t->cls[nx])) {
		jcc_edge(t, from, cc ^ 1, nx, off, n);
		return;
	}
	/* One way falls into the block that follows and the other does not
	 * lead on: that one goes out of line, so the code falls through
	 * without a jump. The way not taken is the next block's when the
	 * target follows (a loop test, whose body follows and whose exit is
	 * elsewhere), the target's when it leaves the region or goes back
	 * to an outer loop (a loop body's exit test). */
	if (to_falls) {
		stub_edge(t, from, cc ^ 1, next, n);
		emit_edge(t, from, off, 1, n);
		return;
	}
	if (nx_falls &&
	    (to < 0 || (t->pos[to] <= t->pos[from] &&
			steps_to(t->succ, BIT(to), from) > steps_to(t->succ, BIT(nx), from)))) {
		stub_edge(t, from, cc, off, n);
		emit_edge(t, from, next, 1, n);
		return;
	}
	if (to >= 0 && t->pos[to] > t->pos[from] && same_alloc(t, t->cls[to])) {
		jcc_edge(t, from, cc, to, next, n);
		return;
	}
	uint32_t skip = x_jcc(t->b, cc ^ 1); /* the inverse condition */
	uint32_t unext = t->unext;	     /* what each way extends is its own */
	emit_edge(t, from, off, 0, n);
	x_patch(t->b, skip, t->b->len);
	t->unext = unext;
	emit_edge(t, from, next, 1, n);
}

/* The edges emit_branch_edges put out of line, each with the state of
 * its branch. */
static void emit_stubs(struct tx *t)
{
	t->in_stubs = 1;
	for (unsigned i = 0; i < t->nstub; i++) {
		use_alloc(t, t->stub[i].cls);
		t->unext = t->stub[i].unext;
		t->pend = 0;
		t->rax_reg = -1;
		x_patch(t->b, t->stub[i].at, t->b->len);
		emit_edge(t, t->stub[i].from, t->stub[i].off, 0, t->stub[i].n);
	}
}

/* The fast path of an access of `size` bytes at a + disp by a site (load
 * or store) of its own: if the page its slot remembers is the address's
 * and the address is aligned, rax = the addend; else jumps (to be
 * patched). Uses rcx. */
static uint32_t emit_site_check(struct tx *t, int a, int32_t disp, unsigned size, unsigned site)
{
	struct xbuf *b = t->b;
	if (disp)
		x_lea(b, RCX, a, disp);
	else
		x_mov(b, RCX, a);
	x_alu_i(b, ALU_AND, 1, RCX, -4096 | (int32_t)(size - 1));
	x_alu_m(b, ALU_CMP, 1, RCX, RBX, O_SITE(site));
	uint32_t miss = x_jcc(b, CC_NE);
	x_load64(b, RAX, RBX, O_SITE(site) + 8);
	return miss;
}

/* The low 32 bits of a + disp into eax. */
static void emit_addr32(struct xbuf *b, int a, int32_t disp)
{
	if (disp)
		x_op_m(b, 0, 0x8d, RAX, a, -1, disp); /* lea eax, [a + disp] */
	else if (a != RAX)
		x_op_r(b, 0, 0x89, a, RAX); /* mov eax, a32 */
}

/* With eax = an address's low bits: eax = its TLB index (the page number
 * plus its second byte, as tlb_index()) * 5, for 40-byte entries, and rdx
 * = the TLB; then the tag at `tag_off` compared with rcx's page. */
static void emit_tlb_compare(struct xbuf *b, int32_t tag_off)
{
	x_shift_i(b, SH_SHR, 0, RAX, 12);
	x_add_al_ah(b);
	x_op_r(b, 0, 0x0fb6, RAX, RAX);		  /* movzx eax, al */
	x_op_ms(b, 0, 0x8d, RAX, RAX, RAX, 2, 0); /* lea eax, [rax + rax * 4] */
	x_load64(b, RDX, RBX, O_DTLB);
	x_alu_i(b, ALU_AND, 1, RCX, -4096);
	x_op_ms(b, 1, 0x3b, RCX, RDX, RAX, 3, tag_off); /* cmp rcx, [rdx + rax * 8 + tag] */
}

/* The TLB look-up of the `len` bytes at a + disp (the interpreter's
 * index and tags): rax = the entry's addend and rcx = the page when the
 * tag at `tag_off` matches the page of the last byte; else jumps (to be
 * patched). Uses rdx. */
static uint32_t emit_tlb_lookup(struct tx *t, int a, int32_t disp, unsigned len, int32_t tag_off)
{
	struct xbuf *b = t->b;
	emit_addr32(b, a, disp);
	x_lea(b, RCX, a, disp + (int32_t)len - 1);
	emit_tlb_compare(b, tag_off);
	uint32_t miss = x_jcc(b, CC_NE);
	x_op_ms(b, 1, 0x8b, RAX, RDX, RAX, 3, O_ADDEND);
	return miss;
}

#define NO_SITE 0xffff

/* Where an access is: at register `a` + `disp`, by `site` (or NO_SITE). */
struct access {
	int a;
	int32_t disp;
	unsigned site;
};

/* Before an F or D instruction done inline: unless its block made FS
 * dirty already, a jump (returned) to the slow path when mstatus.FS is not
 * dirty, where the helper makes it so or traps; else NO_JUMP. Uses rax.
 * (FS is tested here, not part of the mode key: Linux turns it off at
 * each trap into the kernel and back on as it returns, and a key change
 * would make every chain miss each time.) */
static uint32_t emit_fs_check(struct tx *t)
{
	struct xbuf *b = t->b;
	_Static_assert(MSTATUS_FS == 0x6000, "the test below assumes FS in bits 13-14");
	if (t->fs_dirty)
		return NO_JUMP;
	x_op_m(b, 0, 0x8b, RAX, RBX, -1, O_MSTATUS); /* mov eax, [mstatus] */
	x_group3(b, 0, G3_NOT, RAX);
	x_alu_i(b, ALU_AND, 0, RAX, 0x6000); /* zero: both FS bits set */
	return x_jcc(b, CC_NE);
}

/* The fast path of an access of `size` bytes at rs1 + imm (the offset
 * folded into the access): rax = the addend, or a jump (returned, to be
 * patched) to the slow path. Inside a loop the access gets a site slot
 * (consecutive in a region from a start its entry picks, so its own
 * sites do not share) and checks it first; elsewhere (code that runs once
 * per entry, where a site would seldom hit) it looks the TLB up inline,
 * once for its group (see struct group). */
static uint32_t emit_fast_path(struct tx *t, const struct rv_insn *d, unsigned size, int store,
			       struct access *ac, uint32_t *fs)
{
	struct xbuf *b = t->b;
	const struct group *g = &t->grp[d - t->tr->ins];
	ac->a = rget(t, d->rs1, RSI);
	ac->disp = (int32_t)d->imm;
	if (!fs && t->hoist_slot[d->rs1]) { /* checked at the entry */
		ac->site = NO_SITE;
		x_load64(b, RAX, RBX, O_HOIST(t->hoist_slot[d->rs1] - 1));
		return NO_JUMP;
	}
	if (fs) /* an FP register's: after the address, which its slow path needs */
		*fs = emit_fs_check(t);
	if (t->cur == 0) {
		ac->site = NO_SITE;
		if (g->role == GROUP_MEMBER) {
			x_load64(b, RAX, RBX, O_GROUP(g->slot));
			x_test(b, 1, RAX, RAX);
			return x_jcc(b, CC_E);
		}
		if (g->role == GROUP_NONE)
			return emit_tlb_lookup(t, ac->a, ac->disp, size, store ? O_TAG_W : O_TAG_R);
		uint32_t miss =
		    emit_tlb_lookup(t, ac->a, g->lo, g->len, g->store ? O_TAG_W : O_TAG_R);
		x_store64(b, RBX, O_GROUP(g->slot), RAX);
		return miss;
	}
	unsigned kind = store ? 1 : 0;
	ac->site = kind * JIT_SITES + ((t->tr->site_seed + t->nsite[kind]++) & (JIT_SITES - 1));
	return emit_site_check(t, ac->a, ac->disp, size, ac->site);
}

/* A helper's info (JH_INFO_*): `low` (the access size and sign, or the
 * op) | index in its block << 8 | pc offset from the region's entry << 16
 * (signed; both are in one page). 32 bits, so one short move. */
static uint32_t helper_info(const struct tx *t, unsigned low, unsigned idx, unsigned off)
{
	return low | idx << 8 | (uint32_t)(uint16_t)(int16_t)rel(t, off) << 16;
}

/* Calls helper `k`; when it `traps`, an exception leaves through the trap
 * exit. Then instret counts from 0 again and the caller-saved cache
 * registers are back. The result is in rax. */
static void emit_helper_call(struct tx *t, int k, int traps)
{
	struct xbuf *b = t->b;
	x_call_m(b, RBX, OH(k));
	if (traps) {
		x_cmp_m8i(b, RBX, O_TRAP, 0);
		t->trap_jmp[t->ntrap++] = x_jcc(b, CC_NE);
	}
	reset_instret(b);
	emit_reload(t);
}

static struct cold *add_cold(struct tx *t, uint32_t miss, uint32_t mid, const struct access *ac,
			     unsigned size, int store, const struct rv_insn *d, uint64_t info)
{
	struct cold *c = &t->cold[t->ncold++];
	c->from = miss;
	c->mid = mid;
	c->back = t->b->len;
	c->site = (uint16_t)ac->site;
	c->size = (uint8_t)size;
	c->store = (uint8_t)store;
	c->group = t->grp[d - t->tr->ins].role;
	c->slot = t->grp[d - t->tr->ins].slot;
	c->cls = (uint8_t)t->cur;
	c->addr = (uint8_t)ac->a;
	c->disp = ac->disp;
	c->rd = d->rd;
	c->rs2 = d->rs2;
	c->unext = t->unext;
	c->info = info;
	c->pend = t->pend;
	c->from_fs = NO_JUMP;
	c->fp = 0;
	return c;
}

static void emit_load(struct tx *t, const struct rv_insn *d, unsigned idx, unsigned off)
{
	struct xbuf *b = t->b;
	unsigned size = access_size(d->op);
	int sgn = d->op == OP_LB || d->op == OP_LH || d->op == OP_LW;
	struct access ac;
	uint32_t miss = emit_fast_path(t, d, size, 0, &ac, NULL);
	uint32_t mid = b->len;
	/* Straight into rd's host register when it has one (the slow path
	 * puts the helper's result there too). */
	int dst = d->rd && t->host[d->rd] >= 0 ? t->host[d->rd] : RAX;
	x_load_idx(b, dst, RAX, ac.a, ac.disp, size, sgn);
	if (miss != NO_JUMP)
		add_cold(t, miss, mid, &ac, size, 0, d,
			 helper_info(t, size | (unsigned)sgn << 4, idx, off));
	if (dst == RAX)
		rput(t, d->rd, RAX);
}

static void emit_store(struct tx *t, const struct rv_insn *d, unsigned idx, unsigned off)
{
	struct xbuf *b = t->b;
	unsigned size = access_size(d->op);
	struct access ac;
	uint32_t miss = emit_fast_path(t, d, size, 1, &ac, NULL);
	uint32_t mid = b->len;
	int v = rget(t, d->rs2, RCX);
	x_store_idx(b, v, RAX, ac.a, ac.disp, size);
	if (miss != NO_JUMP)
		add_cold(t, miss, mid, &ac, size, 1, d, helper_info(t, size, idx, off));
}

/* f[rd] = rax, NaN-boxed for a single (its upper half is zero). */
static void emit_fput(struct tx *t, int dbl, unsigned rd)
{
	if (!dbl) {
		x_mov_imm(t->b, RCX, 0xffffffff00000000ull);
		x_alu(t->b, ALU_OR, 1, RAX, RCX);
	}
	x_store64(t->b, RBX, OF(rd), RAX);
}

/* FLW, FLD (rax = the bits read, then NaN-boxed into f[rd]; the slow
 * path comes back with rax read by the helper) and FSW, FSD (f[rs2]'s low
 * bytes): the integer accesses' fast path after the FS test. */
static void emit_faccess(struct tx *t, const struct rv_insn *d, unsigned idx, unsigned off)
{
	struct xbuf *b = t->b;
	unsigned size = access_size(d->op);
	int store = is_store(d->op);
	uint32_t fs;
	struct access ac;
	uint32_t miss = emit_fast_path(t, d, size, store, &ac, &fs);
	uint32_t mid = b->len;
	if (store) {
		x_load64(b, RCX, RBX, OF(d->rs2));
		x_store_idx(b, RCX, RAX, ac.a, ac.disp, size);
	} else {
		x_load_idx(b, RAX, RAX, ac.a, ac.disp, size, 0);
	}
	struct cold *c =
	    add_cold(t, miss, mid, &ac, size, store, d,
		     helper_info(t, size | JH_INFO_FP, idx, off) | (uint64_t)d->raw << 32);
	c->from_fs = fs;
	c->fp = 1;
	if (!store) {
		emit_fput(t, size == 8, d->rd);
		t->fs_dirty = 1;
	}
}

/* rcx = the exponent field of the double (else single) in rax; a jump
 * (recorded in `c`) when it is outside lo..hi. */
static void emit_exp_test(struct tx *t, struct fcold *c, int dbl, unsigned lo, unsigned hi)
{
	struct xbuf *b = t->b;
	x_mov(b, RCX, RAX);
	x_shift_i(b, SH_SHR, 1, RCX, dbl ? 52 : 23);
	x_alu_i(b, ALU_AND, 0, RCX, dbl ? 0x7ff : 0xff);
	if (lo)
		x_alu_i(b, ALU_SUB, 0, RCX, (int32_t)lo);
	x_alu_i(b, ALU_CMP, 0, RCX, (int32_t)(hi - lo));
	c->jumps[c->njumps++] = x_jcc(b, CC_A);
}

/* Moves and sign injection of doubles, inline (FS dirty was tested):
 * fmv.x.d, fmv.x.w, fmv.d.x, fmv.w.x, fsgnj.d, fsgnjn.d, fsgnjx.d.
 * Returns 0 for anything else. */
static int emit_fmove(struct tx *t, const struct rv_insn *d, uint32_t raw)
{
	struct xbuf *b = t->b;
	unsigned f5 = raw >> 27, rm = (raw >> 12) & 7, dbl = (raw >> 25) & 1;
	unsigned rd = (raw >> 7) & 31, rs1 = (raw >> 15) & 31, rs2 = (raw >> 20) & 31;
	if (f5 == 0x1c && rm == 0 && rs2 == 0) { /* fmv.x.d, fmv.x.w */
		if (dbl)
			x_load64(b, RAX, RBX, OF(rs1));
		else
			x_op_m(b, 1, 0x63, RAX, RBX, -1, OF(rs1)); /* movsxd rax, dword */
		rput(t, d->rd, RAX);
	} else if (f5 == 0x1e && rm == 0 && rs2 == 0) { /* fmv.d.x, fmv.w.x */
		rget_into(t, d->rs1, RAX);
		if (!dbl)
			x_op_r(b, 0, 0x89, RAX, RAX); /* mov eax, eax */
		emit_fput(t, (int)dbl, rd);
	} else if (f5 == 0x04 && dbl && rm <= 2) { /* the sign of rs2's, not it, xor */
		x_load64(b, RAX, RBX, OF(rs1));
		x_load64(b, RCX, RBX, OF(rs2));
		if (rm == 1)
			x_group3(b, 1, G3_NOT, RCX);
		x_shift_i(b, SH_SHR, 1, RCX, 63);
		x_shift_i(b, SH_SHL, 1, RCX, 63);
		if (rm != 2) {
			x_shift_i(b, SH_SHL, 1, RAX, 1);
			x_shift_i(b, SH_SHR, 1, RAX, 1);
		}
		x_alu(b, rm == 2 ? ALU_XOR : ALU_OR, 1, RAX, RCX);
		x_store64(b, RBX, OF(rd), RAX);
	} else {
		return 0;
	}
	return 1;
}

/* A jump (recorded in `c`) unless fcsr has frm 0 and NX set (tested each
 * time: the helper's way to the instruction before may leave it
 * otherwise). */
static void emit_fcsr_test(struct tx *t, struct fcold *c)
{
	struct xbuf *b = t->b;
	x_op_m(b, 0, 0x8b, RAX, RBX, -1, O_FCSR);
	x_alu_i(b, ALU_AND, 0, RAX, 0xe1);
	x_alu_i(b, ALU_CMP, 0, RAX, 1);
	c->jumps[c->njumps++] = x_jcc(b, CC_NE);
}

/* rax = f[r]; a jump (recorded in `c`) unless it is a double (else a
 * NaN-boxed single) whose exponent field is in lo..hi. */
static void emit_operand_test(struct tx *t, struct fcold *c, int dbl, unsigned r, unsigned lo,
			      unsigned hi)
{
	struct xbuf *b = t->b;
	x_load64(b, RAX, RBX, OF(r));
	if (!dbl) {
		x_mov(b, RCX, RAX);
		x_shift_i(b, SH_SHR, 1, RCX, 32);
		x_alu_i(b, ALU_CMP, 0, RCX, -1);
		c->jumps[c->njumps++] = x_jcc(b, CC_NE);
	}
	emit_exp_test(t, c, dbl, lo, hi);
}

/* fmin, fmax of normal operands, conversions between singles and doubles
 * whose results are normal, feq, flt, fle of operands neither NaN nor
 * infinite (no flag then), fcvt.{w,l}.{s,d} of values well inside the
 * range, fcvt.{s,d}.{w,wu,l} (exact, or rounding with frm 0 and NX set)
 * and single sign injection inline. Returns 0 for anything else (nothing
 * emitted). */
static int emit_fcmp_cvt(struct tx *t, struct fcold *c, const struct rv_insn *d, uint32_t raw)
{
	struct xbuf *b = t->b;
	unsigned f5 = raw >> 27, rm = (raw >> 12) & 7, dbl = (raw >> 25) & 1;
	unsigned rd = (raw >> 7) & 31, rs1 = (raw >> 15) & 31, rs2 = (raw >> 20) & 31;
	if (f5 == 0x05 && rm <= 1) { /* fmin, fmax of normal operands: no flag */
		unsigned top = dbl ? 0x7fe : 0xfe;
		emit_operand_test(t, c, (int)dbl, rs1, 1, top);
		emit_operand_test(t, c, (int)dbl, rs2, 1, top);
		x_sse_m(b, dbl ? 0xf2 : 0xf3, 0x0f10, 0, RBX, OF(rs1));
		x_sse_m(b, dbl ? 0xf2 : 0xf3, rm ? 0x0f5f : 0x0f5d, 0, RBX, OF(rs2)); /* max, min */
		x_mov_from_xmm(b, (int)dbl, RAX, 0);
		emit_fput(t, (int)dbl, rd);
		return 1;
	}
	/* fcvt.d.s (exact) of a normal single; fcvt.s.d (rounds: frm 0 and NX
	 * wanted) of a double whose single is normal and finite */
	if (f5 == 0x08 && rs2 == !dbl && (dbl ? rm <= 4 || rm == 7 : rm == 0 || rm == 7)) {
		if (!dbl || rm == 7)
			emit_fcsr_test(t, c);
		if (dbl)
			emit_operand_test(t, c, 0, rs1, 1, 0xfe);
		else
			emit_operand_test(t, c, 1, rs1, 0x3ff - 125, 0x3ff + 126);
		x_sse_m(b, dbl ? 0xf3 : 0xf2, 0x0f5a, 0, RBX, OF(rs1)); /* cvtss2sd, cvtsd2ss */
		x_mov_from_xmm(b, (int)dbl, RAX, 0);
		emit_fput(t, (int)dbl, rd);
		return 1;
	}
	if (f5 == 0x14 && rm <= 2) {
		static const int cc[3] = {CC_BE, CC_B, CC_E}; /* fle flt feq */
		unsigned top = dbl ? 0x7fe : 0xfe;
		emit_operand_test(t, c, (int)dbl, rs1, 0, top);
		emit_operand_test(t, c, (int)dbl, rs2, 0, top);
		x_sse_m(b, dbl ? 0xf2 : 0xf3, 0x0f10, 0, RBX, OF(rs1)); /* movs xmm0, rs1 */
		if (dbl)
			x_sse_m(b, 0x66, 0x0f2e, 0, RBX, OF(rs2)); /* ucomisd */
		else
			x_op_m(b, 0, 0x0f2e, 0, RBX, -1, OF(rs2)); /* ucomiss */
		x_setcc(b, cc[rm], RAX);
		rput(t, d->rd, RAX);
		return 1;
	}
	/* fcvt.{w,l}.{d,s} of values below 2^29, 2^61 (in range after any
	 * rounding): truncating for rtz, else by the host's nearest even */
	if (f5 == 0x18 && (rs2 == 0 || rs2 == 2) && (rm <= 1 || rm == 7)) {
		unsigned bias = dbl ? 0x3ff : 0x7f;
		emit_fcsr_test(t, c); /* NX: an inexact result adds nothing */
		emit_operand_test(t, c, (int)dbl, rs1, 0, bias + (rs2 ? 60 : 28));
		xb(b, dbl ? 0xf2 : 0xf3);
		x_op_m(b, rs2 == 2, rm == 1 ? 0x0f2c : 0x0f2d, RAX, RBX, -1,
		       OF(rs1)); /* cvt(t)s{d,s}2si */
		if (rs2 == 0)
			x_movsxd(b, RAX, RAX);
		rput(t, d->rd, RAX);
		return 1;
	}
	/* fcvt.{d,s}.{w,wu,l}: exact to a double from a word, else rounding,
	 * to nearest even only (rne, or dyn with frm 0) */
	int exact = dbl && rs2 < 2;
	if (f5 == 0x1a && rs2 <= 2 && (exact ? rm <= 4 || rm == 7 : rm == 0 || rm == 7)) {
		if (!exact || rm == 7) /* rounds, or a dynamic mode to be valid */
			emit_fcsr_test(t, c);
		rget_into(t, d->rs1, RAX);
		if (rs2 == 0)
			x_movsxd(b, RAX, RAX);
		else if (rs2 == 1)
			x_op_r(b, 0, 0x89, RAX, RAX); /* mov eax, eax */
		xb(b, dbl ? 0xf2 : 0xf3);
		x_op_r(b, 1, 0x0f2a, 0, RAX); /* cvtsi2s{d,s} xmm0, rax */
		x_mov_from_xmm(b, (int)dbl, RAX, 0);
		emit_fput(t, (int)dbl, rd);
		return 1;
	}
	/* fsgnj.s, fsgnjn.s, fsgnjx.s of NaN-boxed singles */
	if (f5 == 0x04 && !dbl && rm <= 2) {
		for (unsigned k = 0; k < 2; k++) { /* rcx = rs2, rax = rs1, both boxed */
			x_load64(b, k ? RAX : RCX, RBX, OF(k ? rs1 : rs2));
			x_alu_mi(b, ALU_CMP, 0, RBX, OF(k ? rs1 : rs2) + 4, -1); /* upper half */
			c->jumps[c->njumps++] = x_jcc(b, CC_NE);
		}
		if (rm == 1)
			x_group3(b, 0, G3_NOT, RCX);
		x_alu_i(b, ALU_AND, 0, RCX, INT32_MIN); /* the sign bit */
		if (rm != 2)
			x_alu_i(b, ALU_AND, 0, RAX, INT32_MAX);
		x_alu(b, rm == 2 ? ALU_XOR : ALU_OR, 0, RAX, RCX);
		emit_fput(t, 0, rd);
		return 1;
	}
	return 0;
}

/* F and D arithmetic (add, sub, mul, div, sqrt and, with FMA3 on the
 * host, the fused four), moves and double sign injection, inline when
 * fpu_exec's own shortcut would apply (fast_arith in fpu.c: FS dirty,
 * rounding to nearest even, fflags.NX set, normal operands, a result
 * that raises no other flag), else through the helper out of line. The
 * host rounds to nearest even and its flags are not read. Operands are
 * tested as normal and not zero (zeros take the helper), singles as
 * NaN-boxed too; a product, quotient or fused result as at least twice
 * the smallest normal. Returns 0 for the instructions it does not do. */
static int emit_farith(struct tx *t, const struct rv_insn *d, unsigned idx, unsigned off)
{
	struct xbuf *b = t->b;
	uint32_t raw = d->raw;
	unsigned opc = raw & 0x7f, f5 = raw >> 27, rm = (raw >> 12) & 7, fmt = (raw >> 25) & 3;
	unsigned rd = (raw >> 7) & 31, rs1 = (raw >> 15) & 31, rs2 = (raw >> 20) & 31;
	int fused = opc != 0x53, sqrt_op = !fused && f5 == 0x0b, dbl = fmt == 1;
	int move = !fused && ((f5 == 0x04 && dbl) || f5 == 0x1c || f5 == 0x1e);
	int other = !fused && ((f5 == 0x04 && !dbl) || f5 == 0x05 || f5 == 0x08 || f5 == 0x14 ||
			       f5 == 0x18 || f5 == 0x1a); /* min/max, compares, conversions */
	if (fmt > 1 || t->nfcold == JIT_TR_INSNS ||
	    (!move && !other &&
	     ((rm != 0 && rm != 7) || (fused && !t->st->fma) ||
	      (!fused && f5 > 3 && !(sqrt_op && rs2 == 0)))))
		return 0;
	struct fcold *c = &t->fcold[t->nfcold];
	c->njumps = 0;
	uint32_t at = b->len;
	uint32_t fs = emit_fs_check(t);
	if (fs != NO_JUMP)
		c->jumps[c->njumps++] = fs;
	if (move || other) {
		if (!(move ? emit_fmove(t, d, raw) : emit_fcmp_cvt(t, c, d, raw))) {
			b->len = at; /* the test made nothing dirty */
			return 0;
		}
	} else {
		emit_fcsr_test(t, c);
		unsigned src[3] = {rs1, rs2, raw >> 27}, nsrc = fused ? 3 : sqrt_op ? 1 : 2;
		for (unsigned k = 0; k < nsrc; k++)
			emit_operand_test(t, c, dbl, src[k], 1, dbl ? 0x7fe : 0xfe);
		if (sqrt_op) { /* and positive: the sign into SF */
			if (dbl)
				x_test(b, 1, RAX, RAX);
			else
				x_shift_i(b, SH_SHL, 1, RAX, 32);
			c->jumps[c->njumps++] = x_jcc(b, CC_S);
		}
		uint8_t pfx = dbl ? 0xf2 : 0xf3; /* sd, ss */
		if (fused) { /* xmm0 = rs3, then rs1 * rs2 and it, negated as the op says */
			static const uint8_t vop[4] = {0xb9, 0xbb, 0xbd, 0xbf}; /* 43 47 4b 4f */
			x_sse_m(b, pfx, 0x0f10, 0, RBX, OF(src[2]));		/* movs xmm0, rs3 */
			x_sse_m(b, pfx, 0x0f10, 1, RBX, OF(rs1));		/* movs xmm1, rs1 */
			x_vfma231_m(b, dbl, vop[(opc >> 2) & 3], 0, 1, RBX, OF(rs2));
		} else {
			static const unsigned sop[4] = {0x0f58, 0x0f5c, 0x0f59,
							0x0f5e}; /* + - * / */
			x_sse_m(b, pfx, 0x0f10, 0, RBX, OF(rs1));
			x_sse_m(b, pfx, sqrt_op ? 0x0f51 : sop[f5], 0, RBX,
				OF(sqrt_op ? rs1 : rs2));
		}
		x_mov_from_xmm(b, (int)dbl, RAX, 0);
		unsigned top = dbl ? 0x7fe : 0xfe;
		if (fused || f5 == 2 || f5 == 3)
			emit_exp_test(t, c, dbl, 2, top);
		else if (!sqrt_op) /* a sum: tiny is exact, only overflow counts */
			emit_exp_test(t, c, dbl, 0, top);
		emit_fput(t, dbl, rd);
	}
	t->nfcold++;
	c->back = b->len;
	c->raw = raw;
	c->info = helper_info(t, 0, idx, off);
	c->unext = t->unext;
	c->pend = t->pend;
	c->cls = (uint8_t)t->cur;
	t->fs_dirty = 1; /* here, or the helper made it so */
	return 1;
}

/* fpu_exec on the F or D instruction `raw` through the helper's tail
 * (h->x and instret exact around it, `pend` counted for it and pending
 * again after), and x[rd] back when it writes one. */
static void emit_fpu_call(struct tx *t, uint32_t raw, uint32_t info, unsigned pend)
{
	struct xbuf *b = t->b;
	x_mov_imm(b, RSI, raw);
	x_mov_imm(b, RDX, info);
	count_insns(t, pend);
	to_tail(t, TAIL_FPU, 1);
	if (pend)
		x_lea(b, R_IC, R_IC, -(int32_t)pend);
	if (fpu_writes_x(raw)) /* the helper returns x[rd] */
		rput(t, (raw >> 7) & 31, RAX);
}

/* The helper for an F or D instruction done inline (see emit_farith). */
static void emit_fcold(struct tx *t, const struct fcold *c)
{
	struct xbuf *b = t->b;
	use_alloc(t, c->cls);
	t->unext = c->unext;
	t->rax_reg = -1;
	for (unsigned i = 0; i < c->njumps; i++)
		x_patch(b, c->jumps[i], b->len);
	emit_fpu_call(t, c->raw, c->info, c->pend);
	x_patch(b, x_jmp(b), c->back);
}

/* Any other F or D instruction: fpu_exec through a helper with h->x exact
 * (it may read x[rs1] and trap), x[rd] back when it writes one. */
static void emit_fpu(struct tx *t, const struct rv_insn *d, unsigned idx, unsigned off)
{
	emit_fpu_call(t, d->raw, helper_info(t, 0, idx, off), t->pend);
	t->fs_dirty = 1;
}

/* The slow path: h->x made exact, h->pc = the region's entry pc, the
 * helper called; an exception leaves through the trap exit. */
static void emit_cold(struct tx *t, const struct cold *c)
{
	struct xbuf *b = t->b;
	use_alloc(t, c->cls);
	t->unext = c->unext;
	t->rax_reg = -1;
	x_patch(b, c->from, b->len);
	int addr = c->addr;
	if (c->group == GROUP_LEADER) { /* its members take their own slow paths */
		x_alu(b, ALU_XOR, 0, RAX, RAX);
		x_store64(b, RBX, O_GROUP(c->slot), RAX);
	}
	if (c->site != NO_SITE || c->group != GROUP_NONE) {
		/* A site or a group missed: the TLB for this access alone (and
		 * the site remembers a hit). */
		emit_addr32(b, addr, c->disp);
		x_lea(b, RCX, addr, c->disp + c->size - 1);
		x_patch(b, x_call_rel(b), t->st->lookup[c->store]);
		uint32_t miss = x_jcc(b, CC_NE);
		if (c->site != NO_SITE) {
			x_store64(b, RBX, O_SITE(c->site), RCX);
			x_store64(b, RBX, O_SITE(c->site) + 8, RAX);
			x_mov_m8i(b, RBX, O_SITES_USED, 1);
		}
		x_patch(b, x_jmp(b), c->mid);
		x_patch(b, miss, b->len);
	}
	if (c->from_fs != NO_JUMP) /* FS not dirty: the helper sees to it */
		x_patch(b, c->from_fs, b->len);
	/* The helper, through the region's tail that writes back around it. */
	if (c->disp)
		x_lea(b, RSI, addr, c->disp);
	else if (addr != RSI)
		x_mov(b, RSI, addr);
	if (c->store && c->fp)
		x_load64(b, RDX, RBX, OF(c->rs2));
	else if (c->store)
		rget_into(t, c->rs2, RDX);
	x_mov_imm(b, c->store ? RCX : RDX, c->info);
	/* The tail adds rdi to h->instret and starts it again: what pends
	 * at the access goes in with it, and out of rdi after. */
	count_insns(t, c->pend);
	to_tail(t, c->store ? TAIL_STORE : TAIL_LOAD, 1);
	if (c->pend)
		x_lea(b, R_IC, R_IC, -(int32_t)c->pend);
	if (!c->store && !c->fp) /* an FP load's value goes on at c->back */
		rput(t, c->rd, RAX);
	x_patch(b, x_jmp(b), c->back);
}

/* A CSR instruction, the last of block `k` (whose `n` instructions are
 * not counted yet): csr_op through a helper with h->x exact, then on to
 * the next instruction. A write goes there through C when the helper says
 * so (h->jit_leave): C takes the interrupt it made takeable, or finds
 * what runs next after translations were dropped. */
static void emit_csr(struct tx *t, unsigned k, const struct rv_insn *d, unsigned idx, unsigned off,
		     unsigned n)
{
	struct xbuf *b = t->b;
	unsigned op = d->op;
	int writes = csr_writes(d);
	emit_save(t);
	if (op >= OP_CSRRWI)
		x_mov_imm(b, RSI, d->rs1); /* the immediate */
	else
		rget_into(t, d->rs1, RSI);
	x_mov_imm(b, RDX, d->raw);
	x_mov(b, RDI, RBX);
	x_mov_imm(b, RCX, helper_info(t, op, idx, off) | (writes ? JH_INFO_WRITES : 0));
	emit_helper_call(t, JH_CSR, 1);
	rput(t, d->rd, RAX);
	insn_step(t, (unsigned)(d - t->tr->ins)); /* before the tail's settle */
	int64_t next = (int64_t)off + d->len;
	if (writes) {
		x_cmp_m8i(b, RBX, O_LEAVE, 0);
		uint32_t stay = x_jcc(b, CC_E);
		count_insns(t, n); /* nothing pends after the helper */
		emit_pc(b, RAX, rel(t, next));
		to_tail(t, TAIL_POLL, 0);
		x_patch(b, stay, b->len);
	}
	emit_edge(t, k, next, 1, n);
}

/* LR, SC and AMOs: a helper call (amo_exec), with h->x exact. */
static void emit_amo(struct tx *t, const struct rv_insn *d, unsigned idx, unsigned off)
{
	emit_save(t);
	rget_into(t, d->rs1, RSI);
	rget_into(t, d->rs2, RDX);
	x_mov(t->b, RDI, RBX);
	x_mov_imm(t->b, RCX, helper_info(t, d->op, idx, off));
	emit_helper_call(t, JH_AMO, 1);
	rput(t, d->rd, RAX);
}

/* DIVUW or REMUW inside a loop, where the divisor seldom changes: a
 * multiply by the reciprocal its site remembers (a divide costs several
 * times as much), refilled by one divide when the divisor is new. */
static void emit_divrem_site(struct tx *t, const struct rv_insn *d)
{
	struct xbuf *b = t->b;
	int rem = d->op == OP_REMUW;
	unsigned site = (t->tr->site_seed + t->nsite[2]++) & (JIT_SITES - 1);
	rget_into(t, d->rs1, RAX);
	rget_into(t, d->rs2, RCX);
	x_extend(b, RSI, RAX, 32, 0); /* x */
	x_extend(b, RCX, RCX, 32, 0); /* d */
	x_op_r(b, 0, 0x85, RCX, RCX);
	uint32_t zero = x_jcc(b, CC_E);
	x_alu_m(b, ALU_CMP, 1, RCX, RBX, O_DSITE(site));
	uint32_t refill = x_jcc(b, CC_NE);
	uint32_t back = b->len;
	x_mov(b, RAX, RSI);
	x_op_m(b, 1, 0xf7, G3_MUL, RBX, -1, O_DSITE(site) + 8); /* mul qword [m]: rdx = x / d */
	if (rem) {
		x_imul(b, 1, RDX, RCX);
		x_alu(b, ALU_SUB, 1, RSI, RDX);
		x_mov(b, RAX, RSI);
	} else {
		x_mov(b, RAX, RDX);
	}
	uint32_t done[3];
	done[0] = x_jmp(b);
	x_patch(b, refill, b->len); /* m = (2^64 - 1) / d + 1, which wraps for d = 1 */
	x_alu_i(b, ALU_CMP, 0, RCX, 1);
	uint32_t one = x_jcc(b, CC_E);
	x_alu(b, ALU_XOR, 0, RDX, RDX);
	x_mov_imm(b, RAX, ~0ull);
	x_group3(b, 1, G3_DIV, RCX);
	x_alu_i(b, ALU_ADD, 1, RAX, 1);
	x_store64(b, RBX, O_DSITE(site) + 8, RAX);
	x_store64(b, RBX, O_DSITE(site), RCX);
	x_patch(b, x_jmp(b), back);
	x_patch(b, one, b->len); /* by 1: x, remainder 0 */
	if (rem)
		x_alu(b, ALU_XOR, 0, RAX, RAX);
	else
		x_mov(b, RAX, RSI);
	done[1] = x_jmp(b);
	x_patch(b, zero, b->len); /* by 0: all ones, remainder x */
	if (rem)
		x_mov(b, RAX, RSI);
	else
		x_mov_imm(b, RAX, ~0ull);
	done[2] = b->len;
	x_patch(b, done[0], done[2]);
	x_patch(b, done[1], done[2]);
	x_movsxd(b, RAX, RAX);
	rput(t, d->rd, RAX);
}

/* DIV, REM and their unsigned and 32-bit forms, inline with RISC-V's
 * results where x86 would fault: by zero, all ones (DIV) or the dividend
 * (REM); the most negative number by -1, itself (DIV) or 0 (REM). */
static void emit_divrem(struct tx *t, const struct rv_insn *d, int w32)
{
	struct xbuf *b = t->b;
	unsigned op = d->op;
	if ((op == OP_DIVUW || op == OP_REMUW) && t->cur != 0) {
		emit_divrem_site(t, d);
		return;
	}
	int w = !w32;
	int sgn = op == OP_DIV || op == OP_REM || op == OP_DIVW || op == OP_REMW;
	int rem = op == OP_REM || op == OP_REMU || op == OP_REMW || op == OP_REMUW;
	rget_into(t, d->rs1, RAX);
	rget_into(t, d->rs2, RCX);
	uint32_t done[2];
	unsigned nd = 0;
	x_op_r(b, w, 0x85, RCX, RCX); /* test: the W forms divide by the low half */
	uint32_t zero = x_jcc(b, CC_E);
	uint32_t normal = 0;
	if (sgn) {
		x_alu_i(b, ALU_CMP, w, RCX, -1);
		normal = x_jcc(b, CC_NE);
		if (rem)
			x_alu(b, ALU_XOR, 0, RAX, RAX);
		else
			x_group3(b, w, G3_NEG, RAX);
		done[nd++] = x_jmp(b);
		x_patch(b, normal, b->len);
		x_cqo(b, w);
	} else {
		x_alu(b, ALU_XOR, 0, RDX, RDX);
	}
	x_group3(b, w, sgn ? G3_IDIV : G3_DIV, RCX);
	if (rem)
		x_mov(b, RAX, RDX);
	done[nd++] = x_jmp(b);
	x_patch(b, zero, b->len);
	if (!rem)
		x_mov_imm(b, RAX, ~0ull);
	for (unsigned i = 0; i < nd; i++)
		x_patch(b, done[i], b->len);
	if (w32)
		x_movsxd(b, RAX, RAX);
	rput(t, d->rd, RAX);
}

/* rd = rs1 op (rs2 or imm) for the integer ALU, computed in rax. */
static void emit_alu(struct tx *t, const struct rv_insn *d)
{
	struct xbuf *b = t->b;
	int32_t imm = (int32_t)d->imm;
	static const int alu_rr[RV_OP_COUNT] = {
	    [OP_ADD] = ALU_ADD + 1, [OP_SUB] = ALU_SUB + 1, [OP_XOR] = ALU_XOR + 1,
	    [OP_OR] = ALU_OR + 1,   [OP_AND] = ALU_AND + 1, [OP_ADDW] = ALU_ADD + 1,
	    [OP_SUBW] = ALU_SUB + 1};
	static const int alu_ri[RV_OP_COUNT] = {[OP_ADDI] = ALU_ADD + 1,
						[OP_XORI] = ALU_XOR + 1,
						[OP_ORI] = ALU_OR + 1,
						[OP_ANDI] = ALU_AND + 1,
						[OP_ADDIW] = ALU_ADD + 1};
	static const int sh_i[RV_OP_COUNT] = {
	    [OP_SLLI] = SH_SHL + 1,  [OP_SRLI] = SH_SHR + 1,  [OP_SRAI] = SH_SAR + 1,
	    [OP_SLLIW] = SH_SHL + 1, [OP_SRLIW] = SH_SHR + 1, [OP_SRAIW] = SH_SAR + 1};
	static const int sh_r[RV_OP_COUNT] = {
	    [OP_SLL] = SH_SHL + 1,  [OP_SRL] = SH_SHR + 1,  [OP_SRA] = SH_SAR + 1,
	    [OP_SLLW] = SH_SHL + 1, [OP_SRLW] = SH_SHR + 1, [OP_SRAW] = SH_SAR + 1};
	unsigned op = d->op;
	int w32 = (op >= OP_ADDIW && op <= OP_SRAW) || (op >= OP_MULW && op <= OP_REMUW);
	/* srliw by 1..31 leaves a positive word, which the 32-bit shift has
	 * zero-extended; the others get the extension unless it is put off */
	int ext = w32 && !(op == OP_SRLIW && (imm & 31));
	int lazy = t->noext[d - t->tr->ins];
	t->flags_reg = -1;
	if (op == OP_LUI) {
		x_mov_imm(b, RAX, (uint64_t)d->imm);
		rput(t, d->rd, RAX);
		return;
	}
	if ((op >= OP_DIV && op <= OP_REMU) || (op >= OP_DIVW && op <= OP_REMUW)) {
		emit_divrem(t, d, w32);
		return;
	}
	/* Moves (mv, and x0 as an operand of add/or/xor): a copy. */
	int src = -1;
	if ((op == OP_ADDI || op == OP_ORI || op == OP_XORI) && imm == 0)
		src = d->rs1;
	else if ((op == OP_ADD || op == OP_OR || op == OP_XOR) && (d->rs1 == 0 || d->rs2 == 0))
		src = d->rs1 ? d->rs1 : d->rs2;
	int hd = t->host[d->rd];
	if (src >= 0) {
		if (src == 0 && hd >= 0) /* li rd, 0 */
			x_mov_imm(b, hd, 0);
		else
			rput(t, d->rd, rget(t, (unsigned)src, RCX));
		return;
	}
	if (d->rs1 == 0 && alu_ri[op] && op != OP_ANDI) { /* li: imm is sign-extended */
		int r = hd >= 0 ? hd : RAX;
		x_mov_imm(b, r, (uint64_t)(int64_t)imm);
		if (r == RAX)
			rput(t, d->rd, RAX);
		return;
	}
	int has_rs2 = alu_rr[op] || sh_r[op] || op == OP_MUL || op == OP_MULW;
	if (hd >= 0 && (has_rs2 || alu_ri[op] || sh_i[op])) {
		/* Two-address form straight into rd's host register. */
		int src2 = -1;
		unsigned rs1 = d->rs1;
		if (has_rs2 && d->rs2 == d->rd && rs1 != d->rd) {
			int commutes = op == OP_ADD || op == OP_XOR || op == OP_OR ||
				       op == OP_AND || op == OP_ADDW || op == OP_MUL ||
				       op == OP_MULW;
			if (commutes) { /* rd = rd op rs1 */
				src2 = rget(t, rs1, RCX);
				rs1 = d->rd;
			} else {
				x_mov(b, RCX, hd); /* read before hd is overwritten */
				src2 = RCX;
			}
		}
		if (rs1 != d->rd) {
			if ((op == OP_ADDI || op == OP_ADDIW) && d->rs1 && t->host[d->rs1] >= 0) {
				x_lea(b, hd, t->host[d->rs1], imm);
				if (op == OP_ADDIW && !lazy)
					x_movsxd(b, hd, hd);
				return;
			}
			rget_into(t, d->rs1, hd);
		}
		if (has_rs2 && src2 < 0)
			src2 = rget(t, d->rs2, RCX);
		if (alu_rr[op] || alu_ri[op]) {
			/* W forms in 32 bits: the zero flag is then rd's (the
			 * sign extension after it keeps the flags). */
			if (alu_rr[op])
				x_alu(b, alu_rr[op] - 1, !w32, hd, src2);
			else
				x_alu_i(b, alu_ri[op] - 1, !w32, hd, imm);
			t->flags_reg = (int)d->rd;
		} else if (sh_i[op]) {
			x_shift_i(b, sh_i[op] - 1, !w32, hd, (uint8_t)imm);
		} else if (sh_r[op]) {
			if (src2 != RCX)
				x_mov(b, RCX, src2);
			x_shift_cl(b, sh_r[op] - 1, !w32, hd);
		} else {
			x_imul(b, op == OP_MUL, hd, src2);
		}
		if (ext && !lazy)
			x_movsxd(b, hd, hd);
		return;
	}
	rget_into(t, d->rs1, RAX);
	if (alu_rr[op]) {
		x_alu(b, alu_rr[op] - 1, 1, RAX, rget(t, d->rs2, RCX));
	} else if (alu_ri[op]) {
		x_alu_i(b, alu_ri[op] - 1, 1, RAX, imm);
	} else if (sh_i[op]) {
		x_shift_i(b, sh_i[op] - 1, !w32, RAX, (uint8_t)imm);
	} else if (sh_r[op]) {
		rget_into(t, d->rs2, RCX);
		x_shift_cl(b, sh_r[op] - 1, !w32, RAX);
	} else {
		switch (op) {
		case OP_SLTI:
		case OP_SLTIU:
			x_alu_i(b, ALU_CMP, 1, RAX, imm);
			x_setcc(b, op == OP_SLTI ? CC_L : CC_B, RAX);
			break;
		case OP_SLT:
		case OP_SLTU:
			x_alu(b, ALU_CMP, 1, RAX, rget(t, d->rs2, RCX));
			x_setcc(b, op == OP_SLT ? CC_L : CC_B, RAX);
			break;
		case OP_MUL:
		case OP_MULW: x_imul(b, op == OP_MUL, RAX, rget(t, d->rs2, RCX)); break;
		case OP_MULH:
		case OP_MULHU:
		case OP_MULHSU:
			rget_into(t, d->rs2, RCX);
			if (op == OP_MULHSU)
				x_mov(b, RSI, RAX);
			x_group3(b, 1, op == OP_MULH ? G3_IMUL : G3_MUL, RCX);
			x_mov(b, RAX, RDX);
			if (op == OP_MULHSU) { /* signed a: mulhu(a, b) - (a < 0 ? b : 0) */
				x_shift_i(b, SH_SAR, 1, RSI, 63);
				x_alu(b, ALU_AND, 1, RSI, RCX);
				x_alu(b, ALU_SUB, 1, RAX, RSI);
			}
			break;
		}
	}
	if (ext)
		x_movsxd(b, RAX, RAX);
	rput(t, d->rd, RAX);
}

/* Sets the flags for branch `d`, taken on condition `cc`; returns the
 * condition to test (swapped when x0 is the first operand: rs2 is then
 * tested against 0). */
static int emit_compare(struct tx *t, const struct rv_insn *d, int cc)
{
	if (t->sink >= 0) {
		emit_alu(t, &t->tr->ins[t->sink]);
		insn_step(t, (unsigned)t->sink);
		t->sink = -1;
	}
	/* two words compare as their low halves (which is all an unextended
	 * register has right: see w_fact) */
	int w = !(wv_has(t->wv, d->rs1) && wv_has(t->wv, d->rs2));
	if (d->rs1 == 0 && d->rs2 != 0) {
		int a = rget(t, d->rs2, RAX);
		if ((int)d->rs2 != t->flags_reg || (cc != CC_E && cc != CC_NE))
			x_test(t->b, w, a, a);
		static const int swapped[16] = {[CC_E] = CC_E,	 [CC_NE] = CC_NE, [CC_L] = CC_G,
						[CC_GE] = CC_LE, [CC_B] = CC_A,	  [CC_AE] = CC_BE};
		return swapped[cc];
	}
	int a = rget(t, d->rs1, RAX);
	if (d->rs2 == 0 && (int)d->rs1 == t->flags_reg && (cc == CC_E || cc == CC_NE))
		return cc; /* the ALU instruction that wrote rs1 set the zero flag */
	if (d->rs2 == 0)
		x_test(t->b, w, a, a);
	else
		x_alu(t->b, ALU_CMP, w, a, rget(t, d->rs2, RCX));
	return cc;
}

/* An extension pair (see ext_pair) as one move with extension, or a
 * plain move of a value already that narrow. Returns 0 when the pair is
 * not one. */
static int emit_extend_pair(struct tx *t, const struct rv_insn *d, const struct rv_insn *d2)
{
	int sgn = 0;
	unsigned bits = ext_pair(d, d2, &sgn);
	if (!bits)
		return 0;
	if (!sgn && narrow_ok(t, d->rs1, bits)) { /* the value already is */
		rput(t, d->rd, rget(t, d->rs1, RAX));
		return 1;
	}
	int src = rget(t, d->rs1, RAX);
	int dst = t->host[d->rd] >= 0 ? t->host[d->rd] : RAX;
	x_extend(t->b, dst, src, bits, sgn);
	if (dst == RAX)
		rput(t, d->rd, RAX);
	return 1;
}

/* Instruction `i`, an operation whose result the two after it extend
 * (see zext_op), as one operation of that size: 32 bits zero-extend, and
 * 16 bits keep the upper bits of the destination, which a narrow first
 * operand copied there makes zero (see find_narrow). Returns 0 when the
 * three are not such. */
static int emit_zext_op(struct tx *t, unsigned i, unsigned left)
{
	const struct rv_insn *d = &t->tr->ins[i];
	unsigned bits;
	uint32_t cand = zext_op(t->tr, i, left, &bits);
	if (!bits)
		return 0;
	unsigned a = d->rs1, o = d->rs2;
	if (bits == 16 && !narrow_ok(t, a, 16)) {
		if (!(cand >> o & 1) || !narrow_ok(t, o, 16))
			return 0;
		a = d->rs2, o = d->rs1; /* it commutes */
	}
	struct xbuf *b = t->b;
	int alu = zext_alu[d->op] - 1, rr = zext_rr(d->op);
	int dst = t->host[d->rd] >= 0 ? t->host[d->rd] : RAX, src = -1;
	if (rr) {
		src = rget(t, o, RCX);
		if (src == dst && o != a) { /* o is rd: read before the copy of a */
			x_mov(b, RCX, dst);
			src = RCX;
		}
	}
	rget_into(t, a, dst);
	if (bits == 16 && rr)
		x_alu16(b, alu, dst, src);
	else if (bits == 16)
		x_alu16_i(b, alu, dst, (int16_t)d->imm);
	else if (rr)
		x_alu(b, alu, 0, dst, src);
	else
		x_alu_i(b, alu, 0, dst, (int32_t)d->imm);
	if (dst == RAX)
		rput(t, d->rd, RAX);
	t->flags_reg = (int)d->rd; /* the zero flag is the extended result's */
	return 1;
}

/* Instruction `i` and the ones after it in its block (`left` of them, it
 * included) as one of the fused forms above, an operation with its
 * extension (emit_zext_op) or an extension pair (emit_extend_pair),
 * stepping the state over what it did. Returns how many instructions that
 * took, 0 when they are neither. */
static unsigned emit_fused(struct tx *t, unsigned i, unsigned left)
{
	const struct rv_insn *d = &t->tr->ins[i];
	unsigned n = 0;
	if (emit_zext_op(t, i, left))
		n = 3;
	else if (left >= 2 && emit_extend_pair(t, d, d + 1))
		n = 2;
	for (unsigned j = i; j < i + n; j++)
		insn_step(t, j);
	return n;
}

/* Emits block `k`'s branch `d` if-converted (see if_skipped); its `nk`
 * instructions are not counted yet. */
static int emit_if_converted(struct tx *t, unsigned k, const struct rv_insn *d, int64_t target,
			     int cc, unsigned nk)
{
	unsigned n = t->ifskip[k];
	if (!n)
		return 0;
	const struct jit_blk *fb = &t->tr->blk[find_blk(t->tr, t->tr->blk[k].end_off)];
	const struct rv_insn *fi = &t->tr->ins[fb->first];
	unsigned dreg = fi[0].rd;
	struct xbuf *b = t->b;
	int home = t->host[dreg];
	uint32_t wv0 = t->wv, unext0 = t->unext;
	unsigned nw0 = t->nw[dreg];
	/* D is computed in rdx: the two-address forms use only rd's register
	 * and rcx, and the compare after them uses rax and rcx. */
	rget_into(t, dreg, RDX);
	t->host[dreg] = RDX;
	for (unsigned i = 0, len; i < n; i += len) {
		len = emit_fused(t, fb->first + i, n - i);
		if (!len) {
			emit_alu(t, &fi[i]);
			insn_step(t, fb->first + i);
			len = 1;
		}
	}
	t->host[dreg] = (int8_t)home;
	/* What D holds after the block ran (see find_lazy_ext); before the
	 * compare, which may step the state over find_sink's instruction. */
	uint32_t wv = t->wv, unext = t->unext;
	if (t->sink >= 0)
		w_step(t, (unsigned)t->sink, &wv, &unext);
	t->wv = wv0, t->unext = unext0;
	if (t->nw[dreg] < nw0) /* D holds either value */
		t->nw[dreg] = (uint8_t)nw0;
	int keep = emit_compare(t, d, cc) ^ 1; /* not taken: the block ran */
	t->wv &= wv; /* D holds a word after it when it did on both ways */
	/* D's new value goes in extended: when the branch skips, D keeps
	 * whatever it held, which need not be a word, so D must not be left
	 * unextended past the cmov (t->unext keeps what it says of the old D). */
	if (unext >> dreg & 1)
		x_movsxd(b, RDX, RDX); /* keeps the flags */
	/* Nor the old value, when the new one need not be a word: D would
	 * then be neither surely a word nor surely exact. */
	if ((t->unext & ~t->wv) >> dreg & 1) {
		x_movsxd(b, home, home);
		t->unext &= ~(1u << dreg);
	}
	if (home >= 0) {
		x_cmov(b, keep, home, RDX);
	} else {
		x_load64(b, RCX, RBX, OX(dreg));
		x_cmov(b, keep, RCX, RDX);
		x_store64(b, RBX, OX(dreg), RCX);
	}
	x_lea(b, RCX, R_IC, (int32_t)n);
	x_cmov(b, keep, R_IC, RCX);
	emit_edge(t, k, target, 1, nk); /* placed next (place_blocks) */
	return 1;
}

/* The jump ending block `k`, whose `n` instructions are not counted yet. */
static void emit_jump(struct tx *t, unsigned k, const struct rv_insn *d, unsigned off, unsigned n)
{
	struct xbuf *b = t->b;
	int64_t next = (int64_t)off + d->len, target = (int64_t)off + d->imm;
	if (d->op == OP_JAL || d->op == OP_JALR) {
		if (d->op == OP_JALR) { /* the target first: rd may be rs1 */
			x_lea(b, RAX, rget(t, d->rs1, RAX), (int32_t)d->imm);
			x_alu_i(b, ALU_AND, 1, RAX, -2);
		}
		if (d->rd) {
			emit_pc(b, RCX, rel(t, next));
			rput(t, d->rd, RCX);
		}
		if (d->op == OP_JALR) {
			count_insns(t, t->pend + n);
			emit_leave(t);
		} else {
			emit_edge(t, k, target, 1, n);
		}
		return;
	}
	static const int cc[RV_OP_COUNT] = {[OP_BEQ] = CC_E,  [OP_BNE] = CC_NE, [OP_BLT] = CC_L,
					    [OP_BGE] = CC_GE, [OP_BLTU] = CC_B, [OP_BGEU] = CC_AE};
	if (emit_if_converted(t, k, d, target, cc[d->op], n))
		return;
	int c = emit_compare(t, d, cc[d->op]);
	emit_branch_edges(t, k, target, next, c, n);
}

int jit_decode(const uint8_t *page, unsigned entry_off, struct jit_tr *tr)
{
	unsigned queue[JIT_REGION_BLOCKS * 2], nq = 0, qi = 0;
	tr->ninsns = tr->nblocks = 0;
	tr->entry_off = entry_off;
	memset(tr->blk_at, -1, sizeof(tr->blk_at));
	unsigned lo = 4096, hi = 0;
	queue[nq++] = entry_off;
	while (qi < nq && tr->nblocks < JIT_REGION_BLOCKS - 1 && tr->ninsns < JIT_REGION_INSNS) {
		unsigned off = queue[qi++];
		if (find_blk(tr, off) >= 0)
			continue;
		struct jit_blk *bk = &tr->blk[tr->nblocks];
		bk->first = (uint16_t)tr->ninsns;
		bk->off = (uint16_t)off;
		bk->jump = 0;
		unsigned n = 0;
		while (n < JIT_BLOCK_MAX && tr->ninsns < JIT_REGION_INSNS && off + 2 <= 4096) {
			uint16_t l16;
			memcpy(&l16, page + off, 2);
			uint32_t w = l16;
			if ((l16 & 3) == 3) {
				if (off + 4 > 4096)
					break; /* crosses the page: the interpreter's */
				memcpy(&w, page + off, 4);
			}
			struct rv_insn *d = &tr->ins[tr->ninsns];
			rv_decode(w, d);
			/* A fence ordering device output waits for the devices
			 * (bus_fence_io) and a PAUSE yields the host CPU: the
			 * interpreter runs them. */
			if (!op_translatable(d->op) ||
			    (d->op == OP_FENCE && ((w & (1u << 26)) || w == RV_PAUSE)))
				break;
			tr->ins_off[tr->ninsns++] = (uint16_t)off;
			n++;
			off += d->len;
			if (is_csr(d->op)) { /* ends its block (emit_csr) */
				bk->jump = 1;
				if (nq < 2 * JIT_REGION_BLOCKS)
					queue[nq++] = off;
				break;
			}
			if (rv_op_is_jump(d->op)) {
				bk->jump = 1;
				int64_t tgt = (int64_t)tr->ins_off[tr->ninsns - 1] + d->imm;
				/* Fall-through first: it tends to be placed next. */
				if (is_branch(d->op) && nq < 2 * JIT_REGION_BLOCKS)
					queue[nq++] = off;
				if (d->op != OP_JALR && tgt >= 0 && tgt < 4096 &&
				    nq < 2 * JIT_REGION_BLOCKS)
					queue[nq++] = (unsigned)tgt;
				break;
			}
		}
		if (n == 0) {
			if (tr->nblocks == 0)
				return -ENOENT;
			continue; /* a target tier 1 cannot start: left to the interpreter */
		}
		bk->n = (uint16_t)n;
		bk->end_off = (uint16_t)off;
		tr->blk_at[bk->off / 2] = (int8_t)tr->nblocks;
		if (bk->off < lo)
			lo = bk->off;
		if (off > hi)
			hi = off;
		tr->nblocks++;
	}
	tr->span_off = lo;
	tr->span_len = hi - lo;
	return 0;
}

/* A region entered at a loop's head gets a copy of that block as its
 * entry, and the jumps inside the region go to the original: what the
 * registers hold when the region is entered from outside is not known,
 * and the head's analyses (find_lazy_ext) then see the loop alone.
 * Makes t->tr the copy (t->succ and t->wf follow), unless the entry is no
 * loop head, there is no W instruction or no room. */
static void peel_entry(struct tx *t)
{
	static struct jit_tr p;
	const struct jit_tr *tr = t->tr;
	unsigned nb = tr->nblocks, n = tr->blk[0].n, ni = tr->ninsns;
	int head = 0, w = 0; /* w: a W instruction, else there is nothing to gain */
	for (unsigned k = 0; k < nb; k++)
		head |= t->succ[k] & 1;
	for (unsigned i = 0; i < ni; i++)
		w |= ext_deferrable(&tr->ins[i]);
	if (!head || !w || nb >= JIT_REGION_BLOCKS || ni + n > JIT_TR_INSNS)
		return;
	memcpy(&p, tr, offsetof(struct jit_tr, ins));
	memcpy(p.ins, tr->ins, ni * sizeof(p.ins[0]));
	memcpy(p.ins_off, tr->ins_off, ni * sizeof(p.ins_off[0]));
	memcpy(p.blk, tr->blk, nb * sizeof(p.blk[0]));
	memcpy(p.blk_at, tr->blk_at, sizeof(p.blk_at));
	p.blk[nb] = tr->blk[0];
	p.blk_at[tr->blk[0].off / 2] = (int8_t)nb;
	p.blk[0].first = (uint16_t)ni;
	unsigned f = tr->blk[0].first;
	memcpy(&p.ins[ni], &tr->ins[f], n * sizeof(p.ins[0]));
	memcpy(&p.ins_off[ni], &tr->ins_off[f], n * sizeof(p.ins_off[0]));
	memcpy(&t->wf[ni], &t->wf[f], n * sizeof(t->wf[0]));
	p.ninsns += n;
	p.nblocks++;
	for (unsigned k = 0; k < nb; k++) /* the jumps to the head go to the original */
		if (t->succ[k] & 1)
			t->succ[k] = (t->succ[k] & ~(bset)1) | BIT(nb);
	t->succ[nb] = t->succ[0];
	t->twin = nb;
	t->tr = &p;
}

/* Hoisting a base register's check. A loop's accesses off a register the
 * region never writes (sp, gp, a struct's base) hit the same bytes each
 * turn: the region then looks their span up in the TLB once, at its
 * entry, and its accesses off that register use the addend it left in
 * h->jit_hoist, with no check of their own. Nothing in the region can
 * make that addend stale: it writes no CSR (a write of mstatus may change
 * the data context), and TLB flushes, pages newly holding
 * code and interrupts all wait for it to leave. A span the TLB does not
 * hold (a miss, MMIO, another page, a store to a page with code) fails
 * the guard, and the translation that assumes nothing runs instead.
 * Chooses the (at most JIT_HOISTS) registers with the most accesses in
 * loops (integer loads and stores; FP ones keep their sites). */
static void choose_hoist(struct tx *t)
{
	const struct jit_tr *tr = t->tr;
	uint32_t wr = 0;
	for (unsigned i = 0; i < tr->ninsns; i++) {
		if (is_csr(tr->ins[i].op) && csr_writes(&tr->ins[i]))
			return;
		wr |= t->wf[i].wr;
	}
	int32_t lo[32] = {0}, hi[32] = {0};
	unsigned loops[32] = {0};
	uint32_t store = 0, seen = 0;
	for (unsigned k = 0; k < tr->nblocks; k++)
		for (unsigned i = tr->blk[k].first; i < tr->blk[k].first + tr->blk[k].n; i++) {
			const struct rv_insn *d = &tr->ins[i];
			unsigned r = d->rs1;
			if (d->op < OP_LB || d->op > OP_SD || !r || (wr >> r & 1))
				continue;
			int32_t a = (int32_t)d->imm, z = a + (int32_t)access_size(d->op);
			if (!(seen >> r & 1) || a < lo[r])
				lo[r] = a;
			if (!(seen >> r & 1) || z > hi[r])
				hi[r] = z;
			seen |= 1u << r;
			store |= (uint32_t)is_store(d->op) << r;
			loops[r] += t->cls[k] != 0;
		}
	while (t->nhoist < JIT_HOISTS) {
		unsigned best = 0;
		for (unsigned r = 1; r < 32; r++)
			if (loops[r] > loops[best] && hi[r] - lo[r] <= 4096)
				best = r;
		if (!loops[best])
			return;
		loops[best] = 0;
		t->hoist[t->nhoist].reg = (uint8_t)best;
		t->hoist[t->nhoist].store = (uint8_t)(store >> best & 1);
		t->hoist[t->nhoist].lo = lo[best];
		t->hoist[t->nhoist].len = hi[best] - lo[best];
		t->hoist_slot[best] = (uint8_t)++t->nhoist;
	}
}

struct jit_pcmap *jit_pcmap;

/* Notes where the code for page offset `off` starts (see jit_pcmap). */
static void pcmap_add(uint32_t at, unsigned off)
{
	if (jit_pcmap && jit_pcmap->n < JIT_PCMAP_MAX) {
		jit_pcmap->at[jit_pcmap->n] = at;
		jit_pcmap->off[jit_pcmap->n++] = (uint16_t)off;
	}
}

/* Emits the translation of `tr`; with `may_assume`, one that may assume
 * narrow values at the entry (see choose_narrow) and hoist checks to it
 * (choose_hoist), whose guards' jumps (returned in `guard`, with their
 * count) must go to a translation that does not. */
static unsigned emit_variant(const struct jit_tr *tr, struct xbuf *out, const struct jit_stubs *st,
			     int may_assume, uint32_t *guard)
{
	static struct tx t;
	memset(&t, 0, offsetof(struct tx, wf));
	t.b = out;
	t.st = st;
	t.tr = tr;
	for (unsigned i = 0; i < tr->ninsns; i++)
		w_fact(&tr->ins[i], &t.wf[i]);
	for (unsigned k = 0; k < tr->nblocks; k++) {
		int to, next;
		blk_succs(tr, k, &to, &next);
		t.succ[k] = (to >= 0 ? BIT(to) : 0) | (next >= 0 ? BIT(next) : 0);
	}
	peel_entry(&t);
	tr = t.tr;
	for (unsigned k = 0; k < tr->nblocks; k++)
		t.ifskip[k] = (uint8_t)if_skipped(tr, k);
	alloc_regs(&t);
	find_groups(&t);
	find_lazy_ext(&t);
	choose_narrow(&t, may_assume);
	place_blocks(&t);
	count_preds(&t);
	if (may_assume)
		choose_hoist(&t);
	if (t.assume) { /* the registers assumed narrow are (alloc_regs loaded them) */
		int r = RAX;
		for (uint32_t m = t.assume; m; m &= m - 1) {
			int v = rget(&t, (unsigned)__builtin_ctz(m), RCX);
			if (m == t.assume && !(m & (m - 1)))
				r = v; /* one: tested where it is */
			else if (m == t.assume)
				x_mov(out, RAX, v);
			else
				x_alu(out, ALU_OR, 1, RAX, v);
		}
		x_test_i(out, 1, r, -65536);
		t.guard[t.nguard++] = x_jcc(out, CC_NE);
	}
	for (unsigned h = 0; h < t.nhoist; h++) { /* see choose_hoist */
		int a = rget(&t, t.hoist[h].reg, RSI);
		t.guard[t.nguard++] =
		    emit_tlb_lookup(&t, a, t.hoist[h].lo, (unsigned)t.hoist[h].len,
				    t.hoist[h].store ? O_TAG_W : O_TAG_R);
		x_store64(out, RBX, O_HOIST(h), RAX);
	}
	reset_instret(out);
	for (unsigned p = 0; p < tr->nblocks; p++) {
		unsigned k = t.order[p];
		const struct jit_blk *bk = &tr->blk[k];
		if (!(t.reached >> k & 1))
			continue;
		use_alloc(&t, t.cls[k]);
		t.label[k] = out->len;
		t.flags_reg = -1;
		t.rax_reg = -1; /* other paths come in here */
		t.wv = t.wv_in[k];
		t.unext = t.unext_in[k];
		t.pend = t.pend_in[k];
		t.fs_dirty = 0;
		t.sink = find_sink(&t, k);
		if (t.narrow)
			memcpy(t.nw, t.nw_in[k], sizeof(t.nw));
		for (unsigned i = 0; i < bk->n; i++) {
			const struct rv_insn *d = &tr->ins[bk->first + i];
			unsigned off = tr->ins_off[bk->first + i];
			if ((int)(bk->first + i) == t.sink)
				continue; /* emit_compare's */
			pcmap_add(out->len, off);
			if (!rv_op_is_jump(d->op))
				t.flags_reg = -1; /* what this emits may change the flags */
			unsigned fused = emit_fused(&t, bk->first + i, bk->n - i);
			if (fused) {
				i += fused - 1;
				continue;
			}
			if (rv_op_is_jump(d->op)) {
				/* before: a link register is written before the edges */
				insn_step(&t, bk->first + i);
				emit_jump(&t, k, d, off, bk->n);
				continue;
			} else if (d->op >= OP_LB && d->op <= OP_LWU) {
				emit_load(&t, d, i, off);
			} else if (d->op >= OP_SB && d->op <= OP_SD) {
				emit_store(&t, d, i, off);
			} else if (d->op >= OP_FLW && d->op <= OP_FSD) {
				emit_faccess(&t, d, i, off);
			} else if (d->op == OP_FPU) {
				if (!emit_farith(&t, d, i, off))
					emit_fpu(&t, d, i, off);
			} else if (d->op >= OP_LR_W && d->op <= OP_AMOMAXU_D) {
				emit_amo(&t, d, i, off);
			} else if (is_csr(d->op)) { /* the last: it steps wv itself */
				emit_csr(&t, k, d, i, off, bk->n);
				continue;
			} else if (d->op == OP_FENCE) {
				x_mfence(out);
			} else if (d->op == OP_AUIPC) {
				if (d->rd) {
					emit_pc(out, RAX, rel(&t, off) + d->imm);
					rput(&t, d->rd, RAX);
				}
			} else if (d->rd) {
				emit_alu(&t, d);
			}
			insn_step(&t, bk->first + i);
		}
		if (!bk->jump)
			emit_edge(&t, k, bk->end_off, 1, bk->n);
	}
	pcmap_add(out->len, JIT_PCMAP_COLD);
	emit_stubs(&t);
	for (unsigned i = 0; i < t.nfix; i++)
		x_patch(out, t.fix[i].at, t.label[t.fix[i].blk]);
	for (unsigned i = 0; i < t.ncold; i++)
		emit_cold(&t, &t.cold[i]);
	for (unsigned i = 0; i < t.nfcold; i++)
		emit_fcold(&t, &t.fcold[i]);
	emit_tails(&t);
	if (t.ntrap) {
		uint32_t trap = out->len;
		x_load64(out, RAX, RBX, O_PC);
		x_patch(out, x_jmp(out), st->exit);
		for (unsigned i = 0; i < t.ntrap; i++)
			x_patch(out, t.trap_jmp[i], trap);
	}
	memcpy(guard, t.guard, t.nguard * sizeof(guard[0]));
	return t.nguard;
}

int jit_emit(const struct jit_tr *tr, struct xbuf *out, const struct jit_stubs *st)
{
	uint32_t guard[1 + JIT_HOISTS];
	unsigned n = emit_variant(tr, out, st, 1, guard);
	if (n) {
		for (unsigned i = 0; i < n; i++)
			x_patch(out, guard[i], out->len);
		emit_variant(tr, out, st, 0, guard);
	}
	return out->overflow ? -ENOSPC : 0;
}

void jit_emit_stubs(struct xbuf *out, struct jit_stubs *st)
{
	static const int saved[] = {RBX, RBP, R12, R13, R14, R15};
	st->fma = __builtin_cpu_supports("fma");
	st->enter = out->len;
	for (unsigned i = 0; i < 6; i++)
		x_push(out, saved[i]);
	x_alu_i(out, ALU_SUB, 1, RSP, 8); /* 16-byte aligned for helper calls */
	x_mov(out, RBX, RDI);
	x_store64(out, RBX, O_BASE, RDX);
	x_jmp_r(out, RSI);

	st->exit = out->len;
	x_alu_i(out, ALU_ADD, 1, RSP, 8);
	for (unsigned i = 6; i-- > 0;)
		x_pop(out, saved[i]);
	x_ret(out);

	/* lookup[k]: the slow paths' TLB look-up (see struct jit_stubs) */
	for (unsigned k = 0; k < 2; k++) {
		st->lookup[k] = out->len;
		emit_tlb_compare(out, k ? O_TAG_W : O_TAG_R);
		uint32_t miss = x_jcc(out, CC_NE);
		x_op_ms(out, 1, 0x8b, RAX, RDX, RAX, 3, O_ADDEND); /* keeps ZF */
		x_patch(out, miss, out->len);
		x_ret(out);
	}
}
