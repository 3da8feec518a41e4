/* CSRs, traps, interrupts and WFI for one hart. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "../common/futex.h"
#include "hart.h"

#define MSTATUS_WMASK                                                                          \
	(MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_MPP | \
	 MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR |   \
	 MSTATUS_FS)
#define SSTATUS_MASK                                                                          \
	(MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_UXL | \
	 MSTATUS_FS | MSTATUS_SD)
#define MIE_MASK 0xaaaull /* SSIE MSIE STIE MTIE SEIE MEIE */
#define MIDELEG_MASK 0x222ull
#define MEDELEG_MASK 0xb3ffull /* all synchronous causes except ecall from M and reserved */
#define MIP_SW_MASK 0x222ull   /* SSIP STIP SEIP, writable by M-mode */

void hart_reset(struct hart *h, uint32_t hartid)
{
	h->hartid = hartid;
	h->priv = PRV_M;
	h->misa = (2ull << 62) | (1u << 0) | (1u << 2) | (1u << 3) | (1u << 5) | (1u << 8) |
		  (1u << 12) | (1u << 18) | (1u << 20); /* RV64 A C D F I M S U */
	h->mstatus = MSTATUS_UXL | MSTATUS_SXL;
	h->mtip = 0;
	h->stimecmp = ~0ull;
	h->poll_count = 0;
}

/* mip as the hart sees it: lines other processes raise, the timers, the
 * software-written bits (STIP is the timer's alone under Sstc) and the PLIC. */
static uint64_t mip_now(struct hart *h)
{
	uint64_t sw = h->mip_sw;
	if (h->menvcfg & MENVCFG_STCE)
		sw &= ~IRQ_STIP_BIT;
	return __atomic_load_n(&h->bh->ip, __ATOMIC_ACQUIRE) | h->mtip | h->stip | sw | plic_eip(h);
}

void hart_poll_timer(struct hart *h)
{
	uint64_t cmp = __atomic_load_n(&h->bh->mtimecmp, __ATOMIC_RELAXED);
	uint64_t now = board_mtime(h->board);
	h->mtip = now >= cmp ? IRQ_MTIP : 0;
	h->stip = (h->menvcfg & MENVCFG_STCE) && now >= h->stimecmp ? IRQ_STIP_BIT : 0;
}

/* The mtime at which the next enabled timer interrupt fires, ~0 for none. */
static uint64_t next_timer_deadline(struct hart *h)
{
	uint64_t t = ~0ull;
	if (h->mie & IRQ_MTIP)
		t = __atomic_load_n(&h->bh->mtimecmp, __ATOMIC_RELAXED);
	if ((h->mie & IRQ_STIP_BIT) && (h->menvcfg & MENVCFG_STCE) && h->stimecmp < t)
		t = h->stimecmp;
	return t;
}

int hart_pending_irq(struct hart *h)
{
	uint64_t pend = mip_now(h) & h->mie;
	if (!pend)
		return -1;
	uint64_t m = pend & ~h->mideleg;
	uint64_t s = pend & h->mideleg;
	uint64_t take = 0;
	if (m && (h->priv < PRV_M || (h->mstatus & MSTATUS_MIE)))
		take = m;
	else if (s && (h->priv < PRV_S || (h->priv == PRV_S && (h->mstatus & MSTATUS_SIE))))
		take = s;
	if (!take)
		return -1;
	static const int order[] = {11, 3, 7, 9, 1, 5};
	for (unsigned i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (take & (1ull << order[i]))
			return order[i];
	return -1;
}

void hart_trap(struct hart *h, uint64_t cause, uint64_t tval)
{
	int irq = (int64_t)cause < 0;
	unsigned code = (unsigned)(cause & 63);
	uint64_t deleg = irq ? h->mideleg : h->medeleg;
	h->resv_valid = 0;
	if (h->priv <= PRV_S && ((deleg >> code) & 1)) {
		h->scause = cause;
		h->sepc = h->pc;
		h->stval = tval;
		uint64_t s = h->mstatus;
		s = (s & ~MSTATUS_SPIE) | ((s & MSTATUS_SIE) ? MSTATUS_SPIE : 0);
		s = (s & ~MSTATUS_SPP) | (h->priv == PRV_S ? MSTATUS_SPP : 0);
		s &= ~MSTATUS_SIE;
		h->mstatus = s;
		h->priv = PRV_S;
		h->pc = (h->stvec & ~3ull) + ((irq && (h->stvec & 1)) ? 4ull * code : 0);
		mmu_update_ctx(h);
		return;
	}
	h->mcause = cause;
	h->mepc = h->pc;
	h->mtval = tval;
	uint64_t s = h->mstatus;
	s = (s & ~MSTATUS_MPIE) | ((s & MSTATUS_MIE) ? MSTATUS_MPIE : 0);
	s = (s & ~MSTATUS_MPP) | ((uint64_t)h->priv << 11);
	s &= ~MSTATUS_MIE;
	h->mstatus = s;
	h->priv = PRV_M;
	h->pc = (h->mtvec & ~3ull) + ((irq && (h->mtvec & 1)) ? 4ull * code : 0);
	mmu_update_ctx(h);
}

void hart_mret(struct hart *h)
{
	uint64_t s = h->mstatus;
	uint32_t mpp = (uint32_t)((s & MSTATUS_MPP) >> 11);
	s = (s & ~MSTATUS_MIE) | ((s & MSTATUS_MPIE) ? MSTATUS_MIE : 0);
	s |= MSTATUS_MPIE;
	s &= ~MSTATUS_MPP;
	if (mpp != PRV_M)
		s &= ~MSTATUS_MPRV;
	h->mstatus = s;
	h->priv = mpp;
	h->pc = h->mepc;
	h->resv_valid = 0;
	mmu_update_ctx(h);
}

int hart_sret(struct hart *h)
{
	if (h->priv < PRV_S || (h->priv == PRV_S && (h->mstatus & MSTATUS_TSR)))
		return EXC_ILLEGAL;
	uint64_t s = h->mstatus;
	uint32_t spp = (s & MSTATUS_SPP) ? PRV_S : PRV_U;
	s = (s & ~MSTATUS_SIE) | ((s & MSTATUS_SPIE) ? MSTATUS_SIE : 0);
	s |= MSTATUS_SPIE;
	s &= ~MSTATUS_SPP;
	s &= ~MSTATUS_MPRV;
	h->mstatus = s;
	h->priv = spp;
	h->pc = h->sepc;
	h->resv_valid = 0;
	mmu_update_ctx(h);
	return 0;
}

void hart_wfi(struct hart *h)
{
	for (;;) {
		uint32_t seq = __atomic_load_n(&h->bh->wake_seq, __ATOMIC_ACQUIRE);
		hart_poll_timer(h);
		if (mip_now(h) & h->mie)
			return;
		struct timespec ts, *tp = NULL;
		uint64_t cmp = next_timer_deadline(h);
		if (cmp != ~0ull) {
			uint64_t now = board_mtime(h->board);
			uint64_t ticks = cmp > now ? cmp - now : 0;
			uint64_t ns = ticks * (1000000000ull / BOARD_TIMEBASE_HZ);
			ts.tv_sec = (time_t)(ns / 1000000000ull);
			ts.tv_nsec = (long)(ns % 1000000000ull);
			tp = &ts;
		}
		futex_wait(&h->bh->wake_seq, seq, tp);
	}
}

/* PMP CSRs: locked entries ignore writes (and a locked TOR entry locks the
 * address below it); W without R is reserved and reads back as no access.
 * Every change drops all cached translations, M-mode's included. */
static int pmp_write(struct hart *h, unsigned csr, uint64_t nv)
{
	if (csr == 0x3a0 || csr == 0x3a2) {
		unsigned base = csr == 0x3a0 ? 0 : 8;
		uint64_t old = h->pmpcfg[base / 8], out = 0;
		for (unsigned k = 0; k < 8; k++) {
			unsigned o = (unsigned)(old >> (8 * k)) & 0xff,
				 n = (unsigned)(nv >> (8 * k)) & 0xff;
			if (o & 0x80)
				n = o;
			else if ((n & 3) == 2)
				n &= ~3u;
			out |= (uint64_t)(n & 0x9f) << (8 * k);
		}
		h->pmpcfg[base / 8] = out;
	} else {
		unsigned i = csr - 0x3b0;
		unsigned cfg = (unsigned)(h->pmpcfg[i / 8] >> (8 * (i % 8))) & 0xff;
		unsigned next =
		    i < 15 ? (unsigned)(h->pmpcfg[(i + 1) / 8] >> (8 * ((i + 1) % 8))) & 0xff : 0;
		if ((cfg & 0x80) || ((next & 0x80) && ((next >> 3) & 3) == 1))
			return 0;
		h->pmpaddr[i] = nv & ((1ull << 54) - 1);
	}
	mmu_flush_all(h);
	return 0;
}

/* mstatus as read: SD summarises a dirty FS. */
static uint64_t status_read(const struct hart *h)
{
	uint64_t s = h->mstatus & ~MSTATUS_SD;
	return (s & MSTATUS_FS) == MSTATUS_FS ? s | MSTATUS_SD : s;
}

/* Writes mstatus; translation contexts follow MPRV, MPP and SUM, and the
 * cached S/U translations depend on MXR. */
static void status_write(struct hart *h, uint64_t nv)
{
	if ((nv ^ h->mstatus) & MSTATUS_MXR)
		mmu_flush(h);
	h->mstatus = nv;
	mmu_update_ctx(h);
}

static int counter_allowed(struct hart *h, unsigned csr)
{
	unsigned bit = csr & 31;
	if (h->priv < PRV_M && !((h->mcounteren >> bit) & 1))
		return 0;
	if (h->priv < PRV_S && !((h->scounteren >> bit) & 1))
		return 0;
	return 1;
}

int csr_op(struct hart *h, unsigned op, unsigned csr, uint64_t src, int do_write, int do_read,
	   uint64_t *old, uint64_t instret_now)
{
	(void)do_read;
	if (((csr >> 8) & 3) > h->priv)
		return EXC_ILLEGAL;
	if (do_write && ((csr >> 10) & 3) == 3)
		return EXC_ILLEGAL;
	uint64_t v = 0, *reg = NULL, wmask = ~0ull;
	switch (csr) {
	case 0xc00:
	case 0xc02: /* cycle, instret */
		if (!counter_allowed(h, csr))
			return EXC_ILLEGAL;
		v = instret_now + (csr == 0xc00 ? h->cycle_off : 0);
		break;
	case 0xc01: /* time */
		if (!counter_allowed(h, csr))
			return EXC_ILLEGAL;
		v = board_mtime(h->board);
		break;
	case 0xb00: v = instret_now + h->cycle_off; break;
	case 0xb02: v = instret_now; break;
	case 0xf11:
	case 0xf12:
	case 0xf13:
	case 0xf15: v = 0; break;
	case 0xf14: v = h->hartid; break;
	case 0x001:
	case 0x002:
	case 0x003:
		if (!(h->mstatus & MSTATUS_FS))
			return EXC_ILLEGAL;
		v = csr == 0x001   ? h->fcsr & 0x1f
		    : csr == 0x002 ? (h->fcsr >> 5) & 7
				   : h->fcsr & 0xff;
		break;
	case 0x300: v = status_read(h); break;
	case 0x301:
		v = h->misa;
		wmask = 0;
		reg = &h->misa;
		break;
	case 0x302:
		reg = &h->medeleg;
		wmask = MEDELEG_MASK;
		break;
	case 0x303:
		reg = &h->mideleg;
		wmask = MIDELEG_MASK;
		break;
	case 0x304:
		reg = &h->mie;
		wmask = MIE_MASK;
		break;
	case 0x305:
		reg = &h->mtvec;
		wmask = ~2ull;
		break;
	case 0x306:
		reg = &h->mcounteren;
		wmask = 0xffffffffull;
		break;
	case 0x30a:
		reg = &h->menvcfg;
		wmask = MENVCFG_FIOM | MENVCFG_STCE;
		break;
	case 0x320:
		reg = &h->mcountinhibit;
		wmask = 0;
		break;
	case 0x340: reg = &h->mscratch; break;
	case 0x341:
		reg = &h->mepc;
		wmask = ~1ull;
		break;
	case 0x342: reg = &h->mcause; break;
	case 0x343: reg = &h->mtval; break;
	case 0x344: v = mip_now(h); break;
	case 0x3a0: reg = &h->pmpcfg[0]; break;
	case 0x3a2: reg = &h->pmpcfg[1]; break;
	case 0x100: v = status_read(h) & SSTATUS_MASK; break;
	case 0x104: v = h->mie & h->mideleg; break;
	case 0x105:
		reg = &h->stvec;
		wmask = ~2ull;
		break;
	case 0x106:
		reg = &h->scounteren;
		wmask = 0xffffffffull;
		break;
	case 0x10a:
		reg = &h->senvcfg;
		wmask = MENVCFG_FIOM;
		break;
	case 0x14d: /* stimecmp (Sstc) */
		if (h->priv == PRV_S && (!(h->mcounteren & 2) || !(h->menvcfg & MENVCFG_STCE)))
			return EXC_ILLEGAL;
		reg = &h->stimecmp;
		break;
	case 0x7a0:
	case 0x7a1:
	case 0x7a2:
	case 0x7a3:
		/* tselect and tdata1-3: no triggers. tselect reads 0 whatever
		 * is written, which is how software finds there are none. */
		v = 0;
		wmask = 0;
		break;
	case 0x140: reg = &h->sscratch; break;
	case 0x141:
		reg = &h->sepc;
		wmask = ~1ull;
		break;
	case 0x142: reg = &h->scause; break;
	case 0x143: reg = &h->stval; break;
	case 0x144: v = mip_now(h) & h->mideleg; break;
	case 0x180:
		if (h->priv == PRV_S && (h->mstatus & MSTATUS_TVM))
			return EXC_ILLEGAL;
		reg = &h->satp;
		break;
	default:
		if (csr >= 0x3b0 && csr <= 0x3bf) {
			reg = &h->pmpaddr[csr - 0x3b0];
			wmask = (1ull << 54) - 1;
		} else if ((csr >= 0xb03 && csr <= 0xb1f) || (csr >= 0x323 && csr <= 0x33f)) {
			v = 0; /* hpm counters and events: hardwired zero */
			wmask = 0;
		} else if (csr >= 0xc03 && csr <= 0xc1f) {
			if (!counter_allowed(h, csr))
				return EXC_ILLEGAL;
			v = 0;
		} else {
			return EXC_ILLEGAL;
		}
	}
	if (reg)
		v = *reg;
	*old = v;
	if (!do_write)
		return 0;
	/* mip reads OR in the lines (CLINT, PLIC, timer), but a set or clear
	 * modifies only the software-writable bits: the lines must never be
	 * latched into mip_sw (a latched SEIP is an interrupt storm). */
	uint64_t base = (csr == 0x344 || csr == 0x144) ? h->mip_sw : v;
	uint64_t nv;
	switch (op) {
	case OP_CSRRW:
	case OP_CSRRWI: nv = src; break;
	case OP_CSRRS:
	case OP_CSRRSI: nv = base | src; break;
	default: nv = base & ~src; break;
	}
	switch (csr) {
	case 0x001:
	case 0x002:
	case 0x003:
		if (csr == 0x001)
			h->fcsr = (h->fcsr & ~0x1full) | (nv & 0x1f);
		else if (csr == 0x002)
			h->fcsr = (h->fcsr & 0x1f) | ((nv & 7) << 5);
		else
			h->fcsr = nv & 0xff;
		h->mstatus |= MSTATUS_FS;
		return 0;
	case 0x300: {
		uint64_t mpp = (nv & MSTATUS_MPP) >> 11;
		if (mpp == 2)
			nv = (nv & ~MSTATUS_MPP) | (h->mstatus & MSTATUS_MPP);
		status_write(h, (h->mstatus & ~MSTATUS_WMASK) | (nv & MSTATUS_WMASK));
		return 0;
	}
	case 0x100:
		status_write(h, (h->mstatus & ~(SSTATUS_MASK & ~MSTATUS_UXL)) |
				    (nv & SSTATUS_MASK & ~MSTATUS_UXL));
		return 0;
	case 0x104: h->mie = (h->mie & ~h->mideleg) | (nv & h->mideleg & MIE_MASK); return 0;
	case 0x144:
		h->mip_sw =
		    (h->mip_sw & ~(h->mideleg & IRQ_SSIP_BIT)) | (nv & h->mideleg & IRQ_SSIP_BIT);
		return 0;
	case 0x344: {
		uint64_t m = MIP_SW_MASK & ((h->menvcfg & MENVCFG_STCE) ? ~IRQ_STIP_BIT : ~0ull);
		h->mip_sw = (h->mip_sw & ~m) | (nv & m);
		return 0;
	}
	/* A counter write is what the next instruction reads: this
	 * instruction's own increment is suppressed. */
	case 0xb00: h->cycle_off = nv - instret_now - 1; return 0;
	case 0xb02: h->instret = nv - (instret_now - h->instret) - 1; return 0;
	case 0x180: {
		/* Bare, Sv39 and Sv48; another MODE leaves satp unchanged (WARL).
		 * The TLB is not ASID-tagged, so every write flushes it. */
		uint64_t mode = nv >> 60;
		if (mode != 0 && mode != 8 && mode != 9)
			return 0;
		h->satp = mode == 0 ? 0 : (nv & ((1ull << 60) - 1)) | (mode << 60);
		mmu_flush(h);
		mmu_update_ctx(h);
		return 0;
	}
	case 0x305:
	case 0x105:
		if ((nv & 3) > 1)
			nv &= ~3ull;
		break;
	}
	if (csr == 0x3a0 || csr == 0x3a2 || (csr >= 0x3b0 && csr <= 0x3bf))
		return pmp_write(h, csr, nv);
	if (reg)
		*reg = (*reg & ~wmask) | (nv & wmask);
	if (csr == 0x14d || csr == 0x30a)
		hart_poll_timer(h);
	return 0;
}
