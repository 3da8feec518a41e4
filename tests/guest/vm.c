/* Sv39/Sv48 paging from S- and U-mode. M-mode builds the tables, takes every
 * trap (nothing is delegated) and records its cause and tval; a faulting
 * probe resumes after the faulting instruction. S-mode runs the checks; U
 * code runs through an ecall "service" of the M handler. Each failed check
 * exits with its own status (HTIF), so the status names the check. Built
 * with -DNO_UART (no console on spike) it also passes on qemu-system-riscv64
 * -machine spike, which is how the expectations were cross-checked; except
 * check 47: QEMU 7.2 sets A in a table the PMP makes read-only for S, while
 * the privileged spec (PMP applies to all page-table accesses, effective
 * privilege S) and Spike's walker refuse the write with an access fault. */
#include "guest.h"

#define PTE_V 0x1ul
#define PTE_R 0x2ul
#define PTE_W 0x4ul
#define PTE_X 0x8ul
#define PTE_U 0x10ul
#define PTE_A 0x40ul
#define PTE_D 0x80ul
#define TEST_VA 0x40000000ul
#define SUPER_VA 0x40200000ul
#define MISALIGNED_SUPER_VA 0x40400000ul
#define HIDDEN_VA 0x40600000ul	 /* mapped through l0_hidden */
#define RO_TABLE_VA 0x40800000ul /* mapped through l0_ro */
#define PTE(pa, flags) ((((uint64_t)(pa)) >> 12) << 10 | (flags))
#define SATP(mode, root) (((uint64_t)(mode) << 60) | ((uint64_t)(root) >> 12))

static uint64_t root39[512] __attribute__((aligned(4096)));
static uint64_t root48[512] __attribute__((aligned(4096)));
static uint64_t l1[512] __attribute__((aligned(4096)));
static uint64_t l0[512] __attribute__((aligned(4096)));
static uint64_t l0_hidden[512] __attribute__((aligned(4096))); /* PMP: no S access */
static uint64_t l0_ro[512] __attribute__((aligned(4096)));     /* PMP: read-only for S */
static uint8_t pages[16][4096] __attribute__((aligned(4096)));
static uint8_t xpages[3][4096] __attribute__((aligned(4096))); /* code written at run time */
static uint8_t superpage[2u << 20] __attribute__((aligned(2u << 20)));
static uint8_t mstack[4096] __attribute__((aligned(16)));

static volatile uint64_t last_cause, last_tval, s_resume;

struct frame {
	uint64_t x[32];
};

/* U-mode code: loads the doubleword at a0 and hands it back (ecall). */
__attribute__((section(".text.user"), aligned(4096), naked)) void user_load(void)
{
	__asm__ volatile("ld a0, 0(a0)\n\tecall\n");
}

/* U-mode code on another page: hands back a constant (ecall). The test
 * maps it where user_load was, to see that a fenced page runs its new code. */
__attribute__((section(".text.user"), aligned(4096), naked)) void user_const(void)
{
	__asm__ volatile("li a0, 0x77\n\tecall\n");
}

/* Called by the M trap entry with the saved registers; returns the pc to
 * resume at. */
uint64_t mtrap(struct frame *f, uint64_t cause, uint64_t tval, uint64_t epc)
{
	uint64_t mstatus;
	__asm__ volatile("csrr %0, mstatus" : "=r"(mstatus));
	unsigned from = (unsigned)((mstatus >> 11) & 3);
	if (cause == 9) { /* S asks to run U code at a0 with argument a1 */
		s_resume = epc + 4;
		mstatus &= ~(3ul << 11); /* MPP = U */
		__asm__ volatile("csrw mstatus, %0" ::"r"(mstatus));
		f->x[10] = f->x[11];
		return f->x[10 + 2]; /* a2: the U entry point */
	}
	uint64_t back_to_s = 0;
	if (cause == 8) { /* U is done: result in a0 */
		back_to_s = 1;
	} else {
		last_cause = cause;
		last_tval = tval;
		if (from == 0) {
			f->x[10] = ~0ul;
			back_to_s = 1;
		} else if (cause == 12 || cause == 1) {
			return f->x[1]; /* a fetch fault: return to the caller (ra) */
		} else {
			return epc + 4; /* probes are 4-byte instructions */
		}
	}
	if (back_to_s) {
		mstatus = (mstatus & ~(3ul << 11)) | (1ul << 11);
		__asm__ volatile("csrw mstatus, %0" ::"r"(mstatus));
		return s_resume;
	}
	return epc;
}

__attribute__((naked, aligned(4))) static void mtrap_entry(void)
{
	__asm__ volatile("csrrw sp, mscratch, sp\n\t"
			 "addi sp, sp, -256\n\t"
			 ".irp "
			 "r,1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,"
			 "28,29,30,31\n\t"
			 "sd x\\r, \\r*8(sp)\n\t"
			 ".endr\n\t"
			 "csrr t0, mscratch\n\t"
			 "sd t0, 16(sp)\n\t"
			 "mv a0, sp\n\t"
			 "csrr a1, mcause\n\t"
			 "csrr a2, mtval\n\t"
			 "csrr a3, mepc\n\t"
			 "call mtrap\n\t"
			 "csrw mepc, a0\n\t"
			 ".irp "
			 "r,1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,"
			 "28,29,30,31\n\t"
			 "ld x\\r, \\r*8(sp)\n\t"
			 ".endr\n\t"
			 "addi sp, sp, 256\n\t"
			 "csrrw sp, mscratch, sp\n\t"
			 "mret\n");
}

/* Probes: 4-byte instructions, so the handler can skip them. */
static uint64_t probe_ld(uint64_t va)
{
	uint64_t v = 0;
	last_cause = ~0ul;
	__asm__ volatile(".option push\n\t.option norvc\n\tld %0, 0(%1)\n\t.option pop"
			 : "+r"(v)
			 : "r"(va)
			 : "memory");
	return v;
}

/* The same load in a loop: translated code keeps the page it hit per
 * access, which every change below must drop. A faulting load adds 0. */
static __attribute__((noinline)) uint64_t loop_ld(uint64_t va, unsigned n)
{
	uint64_t sum = 0;
	last_cause = ~0ul;
	for (unsigned i = 0; i < n; i++) {
		uint64_t v = 0;
		__asm__ volatile(".option push\n\t.option norvc\n\tld %0, 0(%1)\n\t.option pop"
				 : "+r"(v)
				 : "r"(va)
				 : "memory");
		sum += v;
	}
	return sum;
}

/* Two loads off one base register in one block, which translated code
 * checks with one TLB look-up for both: va - 8 to *lo, va to *hi. */
static __attribute__((noinline)) void group_ld2(uint64_t va, uint64_t *lo, uint64_t *hi)
{
	uint64_t a = 0, b = 0;
	last_cause = ~0ul;
	__asm__ volatile(".option push\n\t.option norvc\n\t"
			 "ld %0, -8(%2)\n\tld %1, 0(%2)\n\t.option pop"
			 : "+&r"(a), "+&r"(b)
			 : "r"(va)
			 : "memory");
	*lo = a;
	*hi = b;
}

/* A load, then a store 8 bytes on, off one base register in one block:
 * the one look-up for both must be a store's. */
static __attribute__((noinline)) void group_ld_sd(uint64_t va, uint64_t v)
{
	uint64_t a = 0;
	last_cause = ~0ul;
	__asm__ volatile(".option push\n\t.option norvc\n\t"
			 "ld %0, 0(%1)\n\tsd %2, 8(%1)\n\t.option pop"
			 : "+&r"(a)
			 : "r"(va), "r"(v)
			 : "memory");
}

static void probe_sd(uint64_t va, uint64_t v)
{
	last_cause = ~0ul;
	__asm__ volatile(".option push\n\t.option norvc\n\tsd %0, 0(%1)\n\t.option pop" ::"r"(v),
			 "r"(va)
			 : "memory");
}

static uint64_t run_user(uint64_t entry, uint64_t arg)
{
	register uint64_t a0 __asm__("a0") = 0;
	register uint64_t a1 __asm__("a1") = arg;
	register uint64_t a2 __asm__("a2") = entry;
	last_cause = ~0ul;
	__asm__ volatile("ecall"
			 : "+r"(a0), "+r"(a1), "+r"(a2)
			 :
			 : "memory", "a3", "a4", "a5", "a6", "a7", "t0", "t1", "t2", "t3", "t4",
			   "t5", "t6", "ra");
	return a0;
}

static void csr_set_sstatus(uint64_t bits)
{
	__asm__ volatile("csrs sstatus, %0" ::"r"(bits));
}
static void csr_clear_sstatus(uint64_t bits)
{
	__asm__ volatile("csrc sstatus, %0" ::"r"(bits));
}

#define VA(k) (TEST_VA + 4096ul * (k))
#define VAL(k) (0x1000ul * (k) + 0x11)
#define EXPECT_FAULT(cause, va, code) CHECK(last_cause == (cause) && last_tval == (va), code)
#define EXPECT_OK(code) CHECK(last_cause == ~0ul, code)

static void s_main(void)
{
	/* 1: read-only page */
	CHECK(probe_ld(VA(0)) == VAL(0), 10);
	EXPECT_OK(11);
	probe_sd(VA(0), 1);
	EXPECT_FAULT(15, VA(0), 12);
	/* 2: a write sets A and D */
	probe_sd(VA(1), 0x55);
	EXPECT_OK(13);
	CHECK((l0[1] & (PTE_A | PTE_D)) == (PTE_A | PTE_D), 14);
	CHECK(*(volatile uint64_t *)pages[1] == 0x55, 15);
	/* 3: a read sets A only */
	CHECK(probe_ld(VA(7)) == VAL(7), 16);
	CHECK((l0[7] & (PTE_A | PTE_D)) == PTE_A, 17);
	/* 4: execute-only page: fault, then readable with MXR */
	probe_ld(VA(2));
	EXPECT_FAULT(13, VA(2), 18);
	csr_set_sstatus(1ul << 19);
	CHECK(probe_ld(VA(2)) == VAL(2), 19);
	EXPECT_OK(20);
	csr_clear_sstatus(1ul << 19);
	probe_ld(VA(2));
	EXPECT_FAULT(13, VA(2), 21);
	/* 5: a user page from S: fault without SUM, fine with it */
	probe_ld(VA(3));
	EXPECT_FAULT(13, VA(3), 22);
	csr_set_sstatus(1ul << 18);
	CHECK(probe_ld(VA(3)) == VAL(3), 23);
	csr_clear_sstatus(1ul << 18);
	/* 6: invalid and write-only (reserved) PTEs */
	probe_ld(VA(4));
	EXPECT_FAULT(13, VA(4), 24);
	probe_sd(VA(4), 0);
	EXPECT_FAULT(15, VA(4), 25);
	probe_ld(VA(5));
	EXPECT_FAULT(13, VA(5), 26);
	/* 7: fetch faults: a non-executable page, and S executing a U page */
	((void (*)(void))VA(0))();
	EXPECT_FAULT(12, VA(0), 27);
	((void (*)(void))VA(6))();
	EXPECT_FAULT(12, VA(6), 28);
	/* 8: U mode: its own page loads; a supervisor page faults */
	CHECK(run_user(VA(6), VA(3)) == VAL(3), 29);
	EXPECT_OK(30);
	CHECK(run_user(VA(6), VA(0)) == ~0ul, 31);
	EXPECT_FAULT(13, VA(0), 32);
	/* 9: superpages, and a misaligned one */
	CHECK(probe_ld(SUPER_VA + 0x12340) == 0x5e, 33);
	probe_ld(MISALIGNED_SUPER_VA + 8);
	EXPECT_FAULT(13, MISALIGNED_SUPER_VA + 8, 34);
	/* 10: remap + sfence.vma of that page */
	l0[0] = PTE((uint64_t)pages[8], PTE_V | PTE_R | PTE_A);
	__asm__ volatile("sfence.vma %0, zero" ::"r"(VA(0)) : "memory");
	CHECK(probe_ld(VA(0)) == VAL(8), 35);
	/* 16: the same in a loop (its page remembered per access) across a
	 * remap, SUM and MXR changes; called through a pointer so that every
	 * call runs the loop's own translation, not a copy in the caller's */
	uint64_t (*volatile loop_ld_p)(uint64_t, unsigned) = loop_ld;
#define loop_ld loop_ld_p
	CHECK(loop_ld(VA(0), 50) == 50 * VAL(8), 49);
	l0[0] = PTE((uint64_t)pages[7], PTE_V | PTE_R | PTE_A);
	__asm__ volatile("sfence.vma %0, zero" ::"r"(VA(0)) : "memory");
	CHECK(loop_ld(VA(0), 50) == 50 * VAL(7), 50);
	csr_set_sstatus(1ul << 18);
	CHECK(loop_ld(VA(3), 50) == 50 * VAL(3), 51);
	csr_clear_sstatus(1ul << 18);
	CHECK(loop_ld(VA(3), 50) == 0, 52);
	EXPECT_FAULT(13, VA(3), 53);
	csr_set_sstatus(1ul << 19);
	CHECK(loop_ld(VA(2), 50) == 50 * VAL(2), 54);
	csr_clear_sstatus(1ul << 19);
	CHECK(loop_ld(VA(2), 50) == 0, 55);
	EXPECT_FAULT(13, VA(2), 56);
#undef loop_ld
	/* 17: code: the user page runs often (translated), is remapped to
	 * other code, and only that page is fenced: the new code runs */
	for (int k = 0; k < 100; k++)
		CHECK(run_user(VA(6), VA(3)) == VAL(3), 57);
	l0[6] = PTE((uint64_t)user_const, PTE_V | PTE_R | PTE_X | PTE_U | PTE_A);
	__asm__ volatile("sfence.vma %0, zero" ::"r"(VA(6)) : "memory");
	CHECK(run_user(VA(6), VA(3)) == 0x77, 58);
	l0[6] = PTE((uint64_t)user_load, PTE_V | PTE_R | PTE_X | PTE_U | PTE_A);
	__asm__ volatile("sfence.vma %0, zero" ::"r"(VA(6)) : "memory");
	CHECK(run_user(VA(6), VA(3)) == VAL(3), 59);
	/* 18: accesses off one base register sharing one TLB check: across
	 * two pages mapped in reverse order (the second access must not use
	 * the first page's translation), into an unmapped page (a precise
	 * fault on the second), and a store after a load on a read-only page;
	 * twice each, the second time with the TLB warm where no trap came
	 * between */
	for (int k = 0; k < 2; k++) {
		uint64_t lo = 0, hi = 0;
		group_ld2(VA(11), &lo, &hi);
		CHECK(lo == 0x1234 && hi == VAL(13), 60);
		EXPECT_OK(61);
		hi = 0;
		group_ld2(VA(12), &lo, &hi);
		CHECK(lo == 0x5678 && hi == 0, 62);
		EXPECT_FAULT(13, VA(12), 63);
		CHECK(probe_ld(VA(0)) == VAL(7), 66); /* no trap: the TLB stays warm */
		group_ld_sd(VA(0), 1);
		EXPECT_FAULT(15, VA(0) + 8, 64);
		CHECK(((volatile uint64_t *)pages[7])[1] == 0, 65);
	}
	/* 19: a 4-byte instruction across two pages (addi a0, a0, 1 at
	 * VA(13) + 0xffe, then ret); remapping only the second page, to one
	 * holding the upper half of addi a0, a0, 2, and fencing only that
	 * page must run the new instruction */
	xpages[0][4094] = 0x13;
	xpages[0][4095] = 0x05; /* 0x0513: addi a0, a0, imm (low half) */
	xpages[1][0] = 0x15;
	xpages[1][1] = 0x00; /* imm 1 */
	xpages[2][0] = 0x25;
	xpages[2][1] = 0x00; /* imm 2 */
	for (int k = 1; k <= 2; k++) {
		xpages[k][2] = 0x82;
		xpages[k][3] = 0x80; /* c.jr ra */
	}
	__asm__ volatile("fence.i" ::: "memory");
	l0[13] = PTE((uint64_t)xpages[0], PTE_V | PTE_R | PTE_X | PTE_A);
	l0[14] = PTE((uint64_t)xpages[1], PTE_V | PTE_R | PTE_X | PTE_A);
	__asm__ volatile("sfence.vma" ::: "memory");
	uint64_t (*cross)(uint64_t) = (uint64_t(*)(uint64_t))(VA(13) + 4094);
	for (int k = 0; k < 50; k++)
		CHECK(cross(10) == 11, 68);
	l0[14] = PTE((uint64_t)xpages[2], PTE_V | PTE_R | PTE_X | PTE_A);
	__asm__ volatile("sfence.vma %0, zero" ::"r"(VA(14)) : "memory");
	CHECK(cross(10) == 12, 69);
	/* 20: a superpage's PTE goes away and one address in it is fenced:
	 * every granule goes with it (each came from that one leaf PTE) */
	CHECK(probe_ld(SUPER_VA + 0x12340) == 0x5e, 70);
	CHECK(probe_ld(SUPER_VA + 8) == 0, 71);
	l1[1] = 0;
	__asm__ volatile("sfence.vma %0, zero" ::"r"(SUPER_VA) : "memory");
	probe_ld(SUPER_VA + 0x12340);
	EXPECT_FAULT(13, SUPER_VA + 0x12340, 72);
	l1[1] = PTE((uint64_t)superpage, PTE_V | PTE_R | PTE_A);
	__asm__ volatile("sfence.vma %0, zero" ::"r"(SUPER_VA + 0x12000) : "memory");
	CHECK(probe_ld(SUPER_VA + 0x12340) == 0x5e, 73);
	/* 11: a non-canonical address */
	probe_ld(1ul << 38);
	EXPECT_FAULT(13, 1ul << 38, 36);
	/* 12: Sv48: the same tables one level down; bit 38 is now canonical
	 * (and unmapped), bit 47 is not */
	__asm__ volatile("csrw satp, %0\n\tsfence.vma" ::"r"(SATP(9, root48)) : "memory");
	CHECK(probe_ld(VA(3)) == 0, 37); /* SUM is off again: a fault */
	EXPECT_FAULT(13, VA(3), 38);
	CHECK(probe_ld(VA(7)) == VAL(7), 39);
	probe_ld(1ul << 39);
	EXPECT_FAULT(13, 1ul << 39, 40);
	probe_ld(1ul << 47);
	EXPECT_FAULT(13, 1ul << 47, 41);
	/* 13: PMP: a read-only page for S takes loads and refuses stores with
	 * an access fault (not a page fault: the page table allows it) */
	CHECK(probe_ld((uint64_t)pages[9]) == VAL(9), 43);
	probe_sd((uint64_t)pages[9], 1);
	EXPECT_FAULT(7, (uint64_t)pages[9], 44);
	probe_sd((uint64_t)pages[10], VAL(10));
	EXPECT_OK(45);
	/* 15: page-table reads and A/D updates are S-mode accesses for the
	 * PMP: a table S may not read gives an access fault, and so does
	 * setting A in a table S may only read; a leaf with A set there works */
	__asm__ volatile("csrw satp, %0\n\tsfence.vma" ::"r"(SATP(8, root39)) : "memory");
	probe_ld(HIDDEN_VA);
	EXPECT_FAULT(5, HIDDEN_VA, 46);
	probe_ld(RO_TABLE_VA);
	EXPECT_FAULT(5, RO_TABLE_VA, 47);
	CHECK(probe_ld(RO_TABLE_VA + 4096) == VAL(12), 48);
	__asm__ volatile("csrw satp, %0\n\tsfence.vma" ::"r"(SATP(9, root48)) : "memory");
	/* 14: an unsupported mode leaves satp alone */
	uint64_t before, after;
	__asm__ volatile("csrr %0, satp" : "=r"(before));
	__asm__ volatile("csrw satp, %0" ::"r"(SATP(5, root39)));
	__asm__ volatile("csrr %0, satp" : "=r"(after));
	CHECK(before == after && (after >> 60) == 9, 42);
#ifndef NO_UART
	guest_puts("vm: all paging checks passed\n");
#endif
	guest_exit(0);
}

/* Aligned: after the page-aligned user code, main once began at 0x...ffe
 * with an instruction crossing a page, and QEMU 7.2 (the cross-check
 * above) aborts on that (translator_access: phys_page != -1). */
__attribute__((aligned(8))) int main(uint64_t hartid)
{
	if (hartid != 0)
		guest_park();
	for (int k = 0; k < 16; k++)
		*(uint64_t *)pages[k] = VAL(k);
	superpage[0x12340] = 0x5e;
	((uint64_t *)pages[14])[511] = 0x1234;
	((uint64_t *)pages[13])[511] = 0x5678;
	/* Low 1 GiB (devices) and RAM identity-mapped as gigapages, not U. */
	root39[0] = PTE(0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
	root39[2] = PTE(0x80000000ul, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D);
	root39[1] = PTE((uint64_t)l1, PTE_V);
	root48[0] = PTE((uint64_t)root39, PTE_V);
	l1[0] = PTE((uint64_t)l0, PTE_V);
	l1[1] = PTE((uint64_t)superpage, PTE_V | PTE_R | PTE_A);
	l1[2] = PTE((uint64_t)superpage + 4096, PTE_V | PTE_R | PTE_A);
	l0[0] = PTE((uint64_t)pages[0], PTE_V | PTE_R | PTE_A);
	l0[1] = PTE((uint64_t)pages[1], PTE_V | PTE_R | PTE_W);
	l0[2] = PTE((uint64_t)pages[2], PTE_V | PTE_X | PTE_A);
	l0[3] = PTE((uint64_t)pages[3], PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D);
	l0[4] = PTE((uint64_t)pages[4], PTE_R | PTE_W);
	l0[5] = PTE((uint64_t)pages[5], PTE_V | PTE_W | PTE_A | PTE_D);
	l0[6] = PTE((uint64_t)user_load, PTE_V | PTE_R | PTE_X | PTE_U | PTE_A);
	l0[7] = PTE((uint64_t)pages[7], PTE_V | PTE_R | PTE_W);
	l0[10] = PTE((uint64_t)pages[14], PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
	l0[11] = PTE((uint64_t)pages[13], PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
	l1[3] = PTE((uint64_t)l0_hidden, PTE_V);
	l0_hidden[0] = PTE((uint64_t)pages[11], PTE_V | PTE_R | PTE_A);
	l1[4] = PTE((uint64_t)l0_ro, PTE_V);
	l0_ro[0] = PTE((uint64_t)pages[12], PTE_V | PTE_R);	    /* A must be set */
	l0_ro[1] = PTE((uint64_t)pages[12], PTE_V | PTE_R | PTE_A); /* nothing to set */

	/* PMP (NAPOT, 4 KiB each): entry 0 makes pages[9] read-only for S and
	 * U, entry 1 hides l0_hidden from them, entry 2 makes l0_ro read-only;
	 * entry 3 lets them reach everything else. */
	uint64_t napot9 = ((uint64_t)pages[9] >> 2) | 0x1ff;
	uint64_t napot_hidden = ((uint64_t)l0_hidden >> 2) | 0x1ff;
	uint64_t napot_ro = ((uint64_t)l0_ro >> 2) | 0x1ff;
	__asm__ volatile("csrw pmpaddr0, %0\n\tcsrw pmpaddr1, %1\n\tcsrw pmpaddr2, %2\n\t"
			 "csrw pmpaddr3, %3\n\tcsrw pmpcfg0, %4" ::"r"(napot9),
			 "r"(napot_hidden), "r"(napot_ro), "r"(~0ul >> 10), "r"(0x1f191819ul));
	__asm__ volatile("csrw mscratch, %0" ::"r"(mstack + sizeof(mstack)));
	__asm__ volatile("csrw mtvec, %0" ::"r"(mtrap_entry));
	__asm__ volatile("csrw satp, %0\n\tsfence.vma" ::"r"(SATP(8, root39)) : "memory");
	uint64_t mstatus;
	__asm__ volatile("csrr %0, mstatus" : "=r"(mstatus));
	mstatus = (mstatus & ~(3ul << 11)) | (1ul << 11); /* MPP = S */
	__asm__ volatile("csrw mstatus, %0\n\tcsrw mepc, %1\n\tmret" ::"r"(mstatus), "r"(s_main));
	return 99;
}
