/* Tier 1 in-process: guest code is translated into an RX buffer and run on
 * a hart in plain memory (its TLB pointing at a host buffer, its helpers
 * recording calls), so the translated code's contract is checked directly:
 * registers, memory, instret, leaving pc, the slow path's arguments and a
 * trap in the middle of a region. Also a few emitter encodings, and the
 * translation rate (printed, never asserted). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <cmocka.h>

#include "../../common/jitcache.h"
#include "../../cpu-worker/hart.h"
#include "../../jit-service/cover.h"
#include "../../jit-service/translate.h"

#define CODE_SIZE (1u << 20)
#define VPC 0x80001000ull     /* guest virtual pc of the page under test */
#define DATA_VA 0x40000000ull /* guest data page mapped by the TLB */

static uint8_t *code; /* the RX buffer (RW while emitting) */
static struct jit_stubs stubs;
static struct hart *h;
static uint8_t data[4096] __attribute__((aligned(4096)));

/* What the slow-path helpers saw. */
static unsigned slow_loads, slow_stores;
static uint64_t last_addr, last_info, last_x5;
static int fault_next;

static uint64_t t_load(struct hart *hh, uint64_t a, uint64_t info)
{
	slow_loads++;
	last_addr = a;
	last_info = info;
	last_x5 = hh->x[5];
	if (fault_next) {
		hh->instret += JH_INFO_INDEX(info);
		hh->pc = 0x1230;
		hh->jit_trap = 1;
		return 0;
	}
	return 0x1122334455667788ull;
}

static void t_store(struct hart *hh, uint64_t a, uint64_t v, uint64_t info)
{
	(void)hh;
	(void)v;
	slow_stores++;
	last_addr = a;
	last_info = info;
}

/* ---- guest instruction encoders ---- */
static uint32_t i_type(unsigned op, unsigned f3, unsigned rd, unsigned rs1, int imm)
{
	return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}
static uint32_t r_type(unsigned f7, unsigned f3, unsigned rd, unsigned rs1, unsigned rs2)
{
	return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | 0x33;
}
static uint32_t s_type(unsigned f3, unsigned rs1, unsigned rs2, int imm)
{
	uint32_t u = (uint32_t)imm;
	return ((u >> 5) & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (u & 0x1f) << 7 | 0x23;
}
static uint32_t b_type(unsigned f3, unsigned rs1, unsigned rs2, int off)
{
	uint32_t o = (uint32_t)off;
	return ((o >> 12) & 1) << 31 | ((o >> 5) & 0x3f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 |
	       ((o >> 1) & 0xf) << 8 | ((o >> 11) & 1) << 7 | 0x63;
}
#define ADDI(rd, rs, imm) i_type(0x13, 0, rd, rs, imm)
#define ADD(rd, a, b) r_type(0, 0, rd, a, b)
#define SUB(rd, a, b) r_type(0x20, 0, rd, a, b)
#define MUL(rd, a, b) r_type(1, 0, rd, a, b)
#define DIV(rd, a, b) r_type(1, 4, rd, a, b)
#define DIVU(rd, a, b) r_type(1, 5, rd, a, b)
#define REM(rd, a, b) r_type(1, 6, rd, a, b)
#define OP32 (0x33 ^ 0x3b) /* turns an OP encoding into its OP-32 (W) form */
#define REMUW(rd, a, b) (r_type(1, 7, rd, a, b) ^ OP32)
#define DIVUW(rd, a, b) (r_type(1, 5, rd, a, b) ^ OP32)
#define SLTU(rd, a, b) r_type(0, 3, rd, a, b)
#define SRAI(rd, rs, sh) i_type(0x13, 5, rd, rs, 0x400 | (sh))
#define LW(rd, rs, imm) i_type(0x03, 2, rd, rs, imm)
#define LD(rd, rs, imm) i_type(0x03, 3, rd, rs, imm)
#define SW(rs1, rs2, imm) s_type(2, rs1, rs2, imm)
#define BNE(a, b, off) b_type(1, a, b, off)
#define BEQ(a, b, off) b_type(0, a, b, off)
#define SLLI(rd, rs, sh) i_type(0x13, 1, rd, rs, sh)
#define JALR(rd, rs, imm) i_type(0x67, 0, rd, rs, imm)

static int setup(void **state)
{
	(void)state;
	code = mmap(NULL, CODE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(code != MAP_FAILED);
	struct xbuf b = {.p = code, .len = 16, .cap = CODE_SIZE};
	jit_emit_stubs(&b, &stubs);
	h = calloc(1, sizeof(*h));
	assert_non_null(h);
	for (unsigned c = 0; c < MMU_CTX_COUNT; c++)
		memset(&h->tlb[c], 0xff, sizeof(h->tlb[c]));
	h->jit_sites_used = 1;
	jit_sites_flush(h);
	h->dtlb = h->tlb[MMU_M].e;
	struct tlb_entry *e = &h->dtlb[tlb_index(DATA_VA)];
	e->tag_r = e->tag_w = DATA_VA;
	e->tag_x = TLB_INVALID;
	e->addend = (uintptr_t)data - DATA_VA;
	h->jit_helper[JH_LOAD] = (const void *)t_load;
	h->jit_helper[JH_STORE] = (const void *)t_store;
	for (unsigned j = 0; j < 1u << JJ_BITS; j++) /* empty: every exit leaves to C */
		h->jit_jc[MMU_M][j].pc = 1;
	h->jit_jcur = h->jit_jc[MMU_M];
	return 0;
}

/* Translates `n` instructions placed at page offset 0 into the code at
 * offset `at`. */
static void translate_at(const uint32_t *insns, unsigned n, uint32_t at)
{
	static uint8_t page[4096];
	memset(page, 0, sizeof(page));
	memcpy(page, insns, n * 4);
	static struct jit_tr tr;
	assert_int_equal(jit_decode(page, 0, &tr), 0);
	assert_int_equal(mprotect(code, CODE_SIZE, PROT_READ | PROT_WRITE), 0);
	struct xbuf b = {.p = code, .len = at, .cap = CODE_SIZE};
	assert_int_equal(jit_emit(&tr, &b, &stubs), 0);
	assert_int_equal(mprotect(code, CODE_SIZE, PROT_READ | PROT_EXEC), 0);
}

/* Runs the code at offset `at` as virtual pc `vpc`; returns the pc the
 * code leaves with. */
static uint64_t enter_at(uint32_t at, uint64_t vpc)
{
	uint64_t (*enter)(struct hart *, const void *, uint64_t) =
	    (uint64_t(*)(struct hart *, const void *, uint64_t))(code + stubs.enter);
	h->jit_trap = 0;
	h->poll_count = 1000;
	return enter(h, code + at, vpc);
}

/* Translates `n` instructions placed at page offset 0 and runs them from
 * there; returns the pc the code leaves with. */
static uint64_t run(const uint32_t *insns, unsigned n)
{
	translate_at(insns, n, 4096);
	return enter_at(4096, VPC);
}

/* Clears the hart's registers and count; the code returns to `ra`. */
static void fresh_hart(uint64_t ra)
{
	memset(h->x, 0, sizeof(h->x));
	h->instret = 0;
	h->x[1] = ra;
}

static void test_alu(void **state)
{
	(void)state;
	fresh_hart(0x80004000);
	const uint32_t p[] = {
	    ADDI(5, 0, 7),  ADDI(6, 0, -3), ADD(7, 5, 6), SUB(8, 5, 6),	  MUL(9, 5, 6),
	    SLTU(10, 5, 6), SRAI(11, 6, 1), ADD(5, 5, 5), DIVU(12, 7, 5), JALR(0, 1, 0),
	};
	assert_int_equal(run(p, 10), 0x80004000);
	assert_int_equal(h->x[7], 4);
	assert_int_equal(h->x[8], 10);
	assert_int_equal((int64_t)h->x[9], -21);
	assert_int_equal(h->x[10], 1);
	assert_int_equal((int64_t)h->x[11], -2);
	assert_int_equal(h->x[5], 14);
	assert_int_equal(h->x[12], 0);
	assert_int_equal(h->instret, 10);
	assert_int_equal(h->x[0], 0);
}

/* Division inline, with RISC-V's results where x86 would fault. */
static void test_divide(void **state)
{
	(void)state;
	memset(h->x, 0, sizeof(h->x));
	h->x[1] = 0x80005000;
	h->x[5] = 0x8000000000000000ull; /* the most negative */
	h->x[6] = ~0ull;		 /* -1 */
	h->x[7] = 1234567;
	h->x[8] = 0x100000000ull; /* 0 in its low half */
	const uint32_t p[] = {
	    DIV(10, 5, 6), REM(11, 5, 6),   DIV(12, 7, 0), REM(13, 7, 0), DIVU(14, 7, 0),
	    DIV(15, 7, 6), REMUW(16, 7, 8), REM(17, 7, 5), JALR(0, 1, 0),
	};
	assert_int_equal(run(p, 9), 0x80005000);
	assert_int_equal(h->x[10], 0x8000000000000000ull);
	assert_int_equal(h->x[11], 0);
	assert_int_equal(h->x[12], ~0ull);
	assert_int_equal(h->x[13], 1234567);
	assert_int_equal(h->x[14], ~0ull);
	assert_int_equal((int64_t)h->x[15], -1234567);
	assert_int_equal(h->x[16], 1234567); /* by a zero low half: the dividend */
	assert_int_equal(h->x[17], 1234567);
}

/* DIVUW and REMUW in a loop multiply by the divisor's reciprocal: right
 * for every 32-bit dividend as the divisor changes, including 1 and 0,
 * with garbage in the operands' upper halves. */
static void test_divide_in_loop(void **state)
{
	(void)state;
	fresh_hart(0x80009000);
	h->x[5] = 48;
	h->x[8] = 0x12345678fffff000ull;
	const uint32_t p[] = {
	    SRAI(7, 5, 3),    DIVUW(9, 8, 7), REMUW(10, 8, 7), ADD(11, 11, 9), ADD(12, 12, 10),
	    ADDI(8, 8, 1999), ADDI(5, 5, -1), BNE(5, 0, -28),  JALR(0, 1, 0),
	};
	uint64_t sq = 0, sr = 0, x = h->x[8];
	for (int i = 48; i > 0; i--, x += 1999) {
		uint32_t a = (uint32_t)x, d = (uint32_t)(i >> 3);
		sq += (uint64_t)(int64_t)(int32_t)(d ? a / d : ~0u);
		sr += (uint64_t)(int64_t)(int32_t)(d ? a % d : a);
	}
	assert_int_equal(run(p, 9), 0x80009000);
	assert_int_equal(h->x[11], sq);
	assert_int_equal(h->x[12], sr);
	assert_int_equal(h->instret, 8 * 48 + 1);
}

/* A counted loop stays inside the region: exact sum and instret. */
/* The blocks a translation holds besides its entry: a request for one is
 * put off once, only while the page holds the bytes it was made from, and
 * never for the entry or in another mode. */
static void test_cover(void **state)
{
	(void)state;
	static uint8_t page[4096];
	const uint32_t p[] = {ADDI(5, 0, 3), BNE(5, 0, 8), ADDI(6, 0, 1), ADDI(7, 0, 2),
			      JALR(0, 1, 0)};
	memcpy(page, p, sizeof(p));
	static struct jit_tr tr;
	assert_int_equal(jit_decode(page, 0, &tr), 0);
	assert_int_equal(tr.nblocks, 3); /* the entry, its fall-through at 8, its target at 12 */
	struct jit_cover c;
	assert_int_equal(jit_cover_init(&c), 0);
	const uint64_t pa = 0x80001000;
	assert_int_equal(jit_cover_put_off(&c, jit_key(pa + 8, 1), 5), 0); /* nothing noted yet */
	jit_cover_note(&c, &tr, pa, 1, 5);
	assert_int_equal(jit_cover_put_off(&c, jit_key(pa + 8, 1), 5), 1);
	assert_int_equal(jit_cover_put_off(&c, jit_key(pa + 8, 1), 5), 0);  /* only once */
	assert_int_equal(jit_cover_put_off(&c, jit_key(pa + 12, 1), 6), 0); /* bytes changed */
	assert_int_equal(jit_cover_put_off(&c, jit_key(pa + 12, 0), 5), 0); /* another mode */
	assert_int_equal(jit_cover_put_off(&c, jit_key(pa, 1), 5), 0);	    /* its own entry */
	assert_int_equal(jit_cover_put_off(&c, jit_key(pa + 12, 1), 5), 1);
	jit_cover_note(&c, &tr, pa, 1, 7); /* made again from new bytes: put off once more */
	assert_int_equal(jit_cover_put_off(&c, jit_key(pa + 12, 1), 7), 1);
	free(c.slot);
}

static void test_loop(void **state)
{
	(void)state;
	fresh_hart(0x80009000);
	const uint32_t p[] = {
	    ADDI(5, 0, 1000), ADDI(6, 0, 0), ADD(6, 6, 5),
	    ADDI(5, 5, -1),   BNE(5, 0, -8), JALR(0, 1, 0),
	};
	assert_int_equal(run(p, 6), 0x80009000);
	assert_int_equal(h->x[6], 500500);
	assert_int_equal(h->instret, 2 + 3 * 1000 + 1);
}

/* Two loops with eight registers each: each keeps its own in host
 * registers, so going from the first to the second moves them all. */
static void test_two_loops(void **state)
{
	(void)state;
	fresh_hart(0x8000a000);
	const uint32_t p[] = {
	    ADDI(5, 0, 10),  ADDI(6, 0, 0),   ADDI(7, 0, 1),	ADDI(8, 0, 2),	 ADDI(9, 0, 3),
	    ADDI(10, 0, 4),  ADDI(11, 0, 5),  ADDI(12, 0, 6),	ADD(6, 6, 7),	 ADD(7, 7, 8),
	    ADD(8, 8, 9),    ADD(9, 9, 10),   ADD(10, 10, 11),	ADD(11, 11, 12), ADDI(12, 12, 1),
	    ADDI(5, 5, -1),  BNE(5, 0, -32),  ADDI(13, 0, 7),	ADDI(14, 0, 0),	 ADDI(15, 0, 1),
	    ADDI(16, 0, 2),  ADDI(17, 0, 3),  ADDI(18, 0, 4),	ADDI(19, 0, 5),	 ADDI(20, 0, 6),
	    ADD(14, 14, 15), ADD(15, 15, 16), ADD(16, 16, 17),	ADD(17, 17, 18), ADD(18, 18, 19),
	    ADD(19, 19, 20), ADD(20, 20, 6),  ADDI(13, 13, -1), BNE(13, 0, -32), JALR(0, 1, 0),
	};
	/* The same computation in C. */
	uint64_t r[32] = {0};
	r[5] = 10, r[7] = 1, r[8] = 2, r[9] = 3, r[10] = 4, r[11] = 5, r[12] = 6;
	do {
		for (int k = 6; k <= 11; k++)
			r[k] += r[k + 1];
		r[12]++;
	} while (--r[5]);
	r[13] = 7, r[15] = 1, r[16] = 2, r[17] = 3, r[18] = 4, r[19] = 5, r[20] = 6;
	do {
		for (int k = 14; k <= 19; k++)
			r[k] += r[k + 1];
		r[20] += r[6];
	} while (--r[13]);
	assert_int_equal(run(p, 35), 0x8000a000);
	for (int k = 5; k <= 20; k++)
		assert_int_equal(h->x[k], r[k]);
	assert_int_equal(h->instret, 8 + 10 * 9 + 8 + 7 * 9 + 1);
}

/* A branch over two ALU instructions on one register becomes a cmov:
 * both outcomes keep the right value and instret. */
static void test_if_converted(void **state)
{
	(void)state;
	for (int taken = 0; taken < 2; taken++) {
		fresh_hart(0x80003000);
		const uint32_t p[] = {ADDI(5, 0, taken ? 0 : 3),
				      ADDI(6, 0, 10),
				      BEQ(5, 0, 12),
				      ADDI(6, 6, 5),
				      SLLI(6, 6, 1),
				      JALR(0, 1, 0)};
		assert_int_equal(run(p, 6), 0x80003000);
		assert_int_equal(h->x[6], taken ? 10 : 30);
		assert_int_equal(h->instret, taken ? 4 : 6);
	}
}

/* Loads and stores through the TLB fast path touch the host page. */
static void test_memory_fast(void **state)
{
	(void)state;
	memset(h->x, 0, sizeof(h->x));
	memset(data, 0, sizeof(data));
	slow_loads = slow_stores = 0;
	h->x[1] = 0x80002000;
	h->x[10] = DATA_VA + 0x100;
	h->x[11] = 0xdeadbeef;
	const uint32_t p[] = {SW(10, 11, 8), LW(12, 10, 8), LD(13, 10, 8), JALR(0, 1, 0)};
	assert_int_equal(run(p, 4), 0x80002000);
	uint32_t w;
	memcpy(&w, data + 0x108, 4);
	assert_int_equal(w, 0xdeadbeef);
	assert_int_equal(h->x[12], 0xffffffffdeadbeefull); /* lw sign-extends */
	assert_int_equal(h->x[13], 0xdeadbeefull);
	assert_int_equal(slow_loads + slow_stores, 0);
}

/* A TLB miss calls the helper with h->x exact, the right address, the
 * pc offset and the index; a fault leaves at the vector with instret of
 * the instructions before it. */
static void test_slow_and_trap(void **state)
{
	(void)state;
	memset(h->x, 0, sizeof(h->x));
	h->instret = 0;
	slow_loads = 0;
	h->x[1] = 0x80002000;
	h->x[10] = 0x50000000; /* not in the TLB */
	const uint32_t p[] = {ADDI(5, 0, 42), ADDI(5, 5, 1), LD(6, 10, 16), ADDI(7, 6, 1),
			      JALR(0, 1, 0)};
	fault_next = 0;
	assert_int_equal(run(p, 5), 0x80002000);
	assert_int_equal(slow_loads, 1);
	assert_int_equal(last_addr, 0x50000010);
	assert_int_equal(last_info & 15, 8);
	assert_int_equal(JH_INFO_INDEX(last_info), 2);	/* two instructions before it */
	assert_int_equal(JH_INFO_PC_OFF(last_info), 8); /* at VPC + 8 */
	assert_int_equal(last_x5, 43);			/* written back before the call */
	assert_int_equal(h->x[7], 0x1122334455667789ull);
	assert_int_equal(h->instret, 5);

	h->instret = 0;
	h->x[7] = 0;
	fault_next = 1;
	assert_int_equal(run(p, 5), 0x1230);
	assert_int_equal(h->jit_trap, 1);
	assert_int_equal(h->instret, 2);
	assert_int_equal(h->x[5], 43);
	assert_int_equal(h->x[7], 0); /* nothing after the fault ran */
	fault_next = 0;
}

/* The chain: a region's exit goes straight on to the translation the
 * jump cache entry for its target names, only while the entry's block
 * epoch is the hart's, and counts the step against the poll budget. */
static void test_chain(void **state)
{
	(void)state;
	const uint64_t vpc2 = VPC + 0x2000;
	const uint32_t a[] = {JALR(0, 6, 0)};		      /* to x6 */
	const uint32_t b[] = {ADDI(5, 0, 42), JALR(0, 1, 0)}; /* x5 = 42, back to ra */
	translate_at(b, 2, 8192);
	translate_at(a, 1, 4096);
	h->jit_rx = code;
	struct jit_jc *e = &h->jit_jcur[(vpc2 >> 1) & ((1u << JJ_BITS) - 1)];
	*e = (struct jit_jc){.pc = vpc2, .epoch = h->block_epoch, .code = 8192};
	fresh_hart(0x80004000);
	h->x[6] = vpc2;
	assert_int_equal(enter_at(4096, VPC), 0x80004000);
	assert_int_equal(h->x[5], 42);
	assert_int_equal(h->instret, 3);
	assert_int_equal(h->poll_count, 1000 - 2); /* both exits counted */

	h->block_epoch++; /* the entry is stale: the exit leaves to C */
	fresh_hart(0x80004000);
	h->x[6] = vpc2;
	assert_int_equal(enter_at(4096, VPC), vpc2);
	assert_int_equal(h->x[5], 0);
	assert_int_equal(h->instret, 1);

	e->epoch = h->block_epoch;
	e->pc = vpc2 + 2; /* another pc in the same slot */
	fresh_hart(0x80004000);
	h->x[6] = vpc2;
	assert_int_equal(enter_at(4096, VPC), vpc2);
	assert_int_equal(h->x[5], 0);
	e->pc = 1;

	/* A slot never written is all zero: a jump to pc 0 must not take it
	 * for a translation at code offset 0 (the block epoch is never 0). */
	struct jit_jc *z = &h->jit_jcur[0];
	*z = (struct jit_jc){0};
	h->block_epoch = 1;
	fresh_hart(0x80004000);
	h->x[6] = 0;
	assert_int_equal(enter_at(4096, VPC), 0);
	assert_int_equal(h->instret, 1);
	z->pc = 1;
	h->jit_rx = NULL;
}

/* A few encodings, checked against the architecture manual. */
static void test_encodings(void **state)
{
	(void)state;
	uint8_t buf[64];
	struct xbuf b = {.p = buf, .cap = sizeof(buf)};
	x_mov_imm(&b, R9, 5); /* mov r9d, 5 */
	const uint8_t e1[] = {0x41, 0xb9, 5, 0, 0, 0};
	assert_memory_equal(buf, e1, sizeof(e1));
	b.len = 0;
	x_load_idx(&b, RAX, RAX, RSI, 0, 2, 1); /* movsx rax, word [rax+rsi] */
	const uint8_t e2[] = {0x48, 0x0f, 0xbf, 0x04, 0x30};
	assert_memory_equal(buf, e2, sizeof(e2));
	b.len = 0;
	x_store_idx(&b, RSI, RAX, RCX, 0, 1); /* mov [rax+rcx], sil: needs REX */
	const uint8_t e3[] = {0x40, 0x88, 0x34, 0x08};
	assert_memory_equal(buf, e3, sizeof(e3));
	b.len = 0;
	x_load_idx(&b, R13, RAX, RBP, 0x640, 4, 1); /* movsxd r13, [rax+rbp+0x640] */
	const uint8_t e5[] = {0x4c, 0x63, 0xac, 0x28, 0x40, 0x06, 0, 0};
	assert_memory_equal(buf, e5, sizeof(e5));
	b.len = 0;
	x_store_idx(&b, R8, RAX, R14, -4, 4); /* mov [rax+r14-4], r8d */
	const uint8_t e6[] = {0x46, 0x89, 0x44, 0x30, 0xfc};
	assert_memory_equal(buf, e6, sizeof(e6));
	b.len = 0;
	x_extend(&b, RAX, RSI, 8, 0); /* movzx eax, sil: needs REX */
	const uint8_t e7[] = {0x40, 0x0f, 0xb6, 0xc6};
	assert_memory_equal(buf, e7, sizeof(e7));
	b.len = 0;
	x_extend(&b, R13, RBP, 16, 1); /* movsx r13, bp */
	const uint8_t e8[] = {0x4c, 0x0f, 0xbf, 0xed};
	assert_memory_equal(buf, e8, sizeof(e8));
	b.len = 0;
	x_extend(&b, R9, R9, 32, 0); /* mov r9d, r9d */
	const uint8_t e9[] = {0x45, 0x8b, 0xc9};
	assert_memory_equal(buf, e9, sizeof(e9));
	b.len = 0;
	x_alu16(&b, ALU_XOR, RDX, R8); /* xor dx, r8w */
	const uint8_t e10[] = {0x66, 0x44, 0x31, 0xc2};
	assert_memory_equal(buf, e10, sizeof(e10));
	b.len = 0;
	x_alu16_i(&b, ALU_XOR, R9, -24575); /* xor r9w, 0xa001 */
	const uint8_t e11[] = {0x66, 0x41, 0x81, 0xf1, 0x01, 0xa0};
	assert_memory_equal(buf, e11, sizeof(e11));
	b.len = 0;
	x_alu16_i(&b, ALU_AND, RBP, -2); /* and bp, -2 */
	const uint8_t e12[] = {0x66, 0x83, 0xe5, 0xfe};
	assert_memory_equal(buf, e12, sizeof(e12));
	b.len = 0;
	x_test_i(&b, 1, RAX, -65536); /* test rax, 0xffffffffffff0000 */
	const uint8_t e13[] = {0x48, 0xf7, 0xc0, 0x00, 0x00, 0xff, 0xff};
	assert_memory_equal(buf, e13, sizeof(e13));
	b.len = 0;
	x_lea(&b, RAX, R13, 0); /* lea rax, [r13+0]: r13 needs a displacement */
	const uint8_t e4[] = {0x49, 0x8d, 0x45, 0x00};
	assert_memory_equal(buf, e4, sizeof(e4));
	b.len = 0;
	b.cap = 3;
	x_mov_imm(&b, RAX, 1ull << 40); /* too long for the buffer */
	assert_true(b.overflow);
}

/* The translation rate of a 128-instruction region (informational). */
static void test_rate(void **state)
{
	(void)state;
	static uint8_t page[4096];
	for (unsigned i = 0; i < 1024; i++) {
		uint32_t w = (i % 16 == 15) ? BNE(5, 6, 8)
			     : (i % 5 == 0) ? LW(7, 10, 4 * (int)i)
					    : ADD(5, 6, 7);
		memcpy(page + 4 * i, &w, 4);
	}
	assert_int_equal(mprotect(code, CODE_SIZE, PROT_READ | PROT_WRITE), 0);
	static struct jit_tr tr;
	struct timespec t0, t1;
	unsigned insns = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int r = 0; r < 200; r++) {
		assert_int_equal(jit_decode(page, 0, &tr), 0);
		struct xbuf b = {.p = code, .len = 4096, .cap = CODE_SIZE};
		assert_int_equal(jit_emit(&tr, &b, &stubs), 0);
		insns += tr.ninsns;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double us =
	    ((double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3);
	printf("# tier 1: %.1f us per region of %u instructions (%.0f ns each)\n", us / 200,
	       insns / 200, us * 1000 / insns);
}

/* The index: a page's keys share a 64-slot group, pages spread over the
 * index, a key found after collisions, and a missing key not found. */
/* The compile request ring lies inside the part every vCPU maps
 * read+write, clear of the counters before it and of the index after it,
 * and a request comes out as it went in. */
static void test_request_ring(void **state)
{
	(void)state;
	struct jit_cache c;
	memset(&c, 0, sizeof(c));
	jit_cache_layout(&c, 0x80000000ull, 32768);
	assert_true(c.req_ring_off >= c.code_epoch_off + sizeof(uint64_t));
	assert_int_equal(c.req_ring_off % 64, 0);
	assert_true(c.req_ring_off + post_ring_size(JIT_REQ_SLOTS) <= c.pages_off + c.pages_size);
	assert_int_equal(c.index_off, c.pages_off + c.pages_size);
	struct post_ring *r = aligned_alloc(64, post_ring_size(JIT_REQ_SLOTS));
	assert_non_null(r);
	memset(r, 0, post_ring_size(JIT_REQ_SLOTS));
	r->slots = JIT_REQ_SLOTS;
	for (uint32_t i = 0; i < JIT_REQ_SLOTS; i++) /* the whole capacity, then full */
		assert_int_equal(jit_req_push(r, 0x80201234ull + 2 * i, 5, 77), i + 1);
	assert_int_equal(jit_req_push(r, 0x80200000ull, 5, 77), 0);
	const struct post_slot *s = post_ring_peek(r);
	assert_non_null(s);
	assert_int_equal(s->value, 0x80201234ull);
	assert_int_equal(s->off, 5);
	assert_int_equal(s->size, 77);
	post_ring_pop(r); /* one slot free again, the next request in line */
	assert_int_equal(post_ring_peek(r)->value, 0x80201236ull);
	assert_int_equal(jit_req_push(r, 0x80200000ull, 5, 77), JIT_REQ_SLOTS + 1);
	free(r);
}

static void test_index(void **state)
{
	(void)state;
	const uint64_t base = 0x80200000ull;
	uint32_t g0 = jit_index_home(jit_key(base, 1)) >> JIT_GROUP_BITS;
	unsigned other_groups = 0;
	for (uint64_t off = 0; off < 4096; off += 2)
		for (unsigned mode = 0; mode < 8; mode++) {
			uint32_t h = jit_index_home(jit_key(base + off, mode));
			assert_true(h < JIT_INDEX_ENTRIES);
			assert_int_equal(h >> JIT_GROUP_BITS, g0);
		}
	for (uint64_t p = 1; p <= 64; p++)
		other_groups +=
		    (jit_index_home(jit_key(base + (p << 12), 1)) >> JIT_GROUP_BITS) != g0;
	assert_true(other_groups >= 63);

	size_t size = JIT_INDEX_ENTRIES * sizeof(struct jit_index_entry);
	struct jit_index_entry *index = calloc(1, size);
	assert_non_null(index);
	/* Keys of one page whose homes collide take the next free slots. */
	uint64_t keys[8];
	unsigned n = 0;
	uint32_t want = jit_index_home(jit_key(base, 3));
	for (uint64_t off = 0; off < 4096 && n < 8; off += 2)
		if (jit_index_home(jit_key(base + off, 3)) == want)
			keys[n++] = jit_key(base + off, 3);
	assert_true(n >= 2);
	for (unsigned i = 0; i < n; i++) {
		uint32_t s = want;
		while (index[s & (JIT_INDEX_ENTRIES - 1)].key)
			s++;
		index[s & (JIT_INDEX_ENTRIES - 1)].key = keys[i];
		index[s & (JIT_INDEX_ENTRIES - 1)].val = 100 + i;
	}
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(jit_index_find(index, keys[i]), 100 + i);
	assert_int_equal(jit_index_find(index, jit_key(base + 8192, 3)), 0);

	/* A page with far more keys than its group holds (every block of a
	 * page, as with --jit-threshold 1): published the way shoal-jit does,
	 * every key is found. */
	memset(index, 0, size);
	const uint64_t dense = 0x80400000ull;
	unsigned placed = 0;
	for (uint64_t off = 0; off < 4096; off += 8) {
		uint64_t key = jit_key(dense + off, 1);
		for (unsigned i = 0; i < 2 * JIT_INDEX_PROBES; i++) {
			struct jit_index_entry *e = &index[jit_index_slot(key, i)];
			if (!e->key) {
				e->key = key;
				e->val = off + 16;
				placed++;
				break;
			}
		}
	}
	assert_int_equal(placed, 512);
	for (uint64_t off = 0; off < 4096; off += 8)
		assert_int_equal(jit_index_find(index, jit_key(dense + off, 1)), off + 16);
	free(index);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alu),		  cmocka_unit_test(test_divide),
	    cmocka_unit_test(test_loop),	  cmocka_unit_test(test_two_loops),
	    cmocka_unit_test(test_if_converted),  cmocka_unit_test(test_memory_fast),
	    cmocka_unit_test(test_slow_and_trap), cmocka_unit_test(test_encodings),
	    cmocka_unit_test(test_rate),	  cmocka_unit_test(test_index),
	    cmocka_unit_test(test_chain),	  cmocka_unit_test(test_divide_in_loop),
	    cmocka_unit_test(test_request_ring),  cmocka_unit_test(test_cover),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
