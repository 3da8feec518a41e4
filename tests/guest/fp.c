/* F and D: rounding modes (static and dynamic), exception flags, NaN boxing
 * and the canonical NaN, fused multiply-add without double rounding,
 * saturating conversions, min/max and compare signalling, fclass, FS
 * tracking, RMM on exact ties. Each failed check exits with its own status through HTIF; the
 * same binary passes on qemu-system-riscv64 -machine spike (run with
 * -DNO_UART, which has no UART). */
#include "guest.h"

#define NX 1u
#define UF 2u
#define OF 4u
#define DZ 8u
#define NV 16u

static uint64_t dbits(double d)
{
	uint64_t b;
	__builtin_memcpy(&b, &d, 8);
	return b;
}

static double dval(uint64_t b)
{
	double d;
	__builtin_memcpy(&d, &b, 8);
	return d;
}

static unsigned flags_take(void)
{
	unsigned f;
	__asm__ volatile("csrrw %0, fflags, zero" : "=r"(f));
	return f;
}

/* r = a OP b with rounding mode RM (a literal), as raw bits. */
#define DOP(op, rm, a, b)                                                                   \
	({                                                                                  \
		double r_;                                                                  \
		__asm__ volatile(op " %0, %1, %2, " rm : "=f"(r_) : "f"(a), "f"(b));        \
		dbits(r_);                                                                  \
	})
#define SOP_BITS(op, rm, a, b)                                                              \
	({                                                                                  \
		float r_;                                                                   \
		uint32_t u_;                                                                \
		__asm__ volatile(op " %0, %1, %2, " rm : "=f"(r_) : "f"(a), "f"(b));        \
		__builtin_memcpy(&u_, &r_, 4);                                              \
		u_;                                                                         \
	})
#define CVT_X(op, rm, a)                                                                    \
	({                                                                                  \
		int64_t r_;                                                                 \
		__asm__ volatile(op " %0, %1, " rm : "=r"(r_) : "f"(a));                    \
		r_;                                                                         \
	})

static volatile int illegal_seen;

int main(uint64_t hartid)
{
	if (hartid != 0)
		guest_park();
	uint64_t ms;
	flags_take();

	/* 1: rounding modes on 1 + 2^-53 */
	double one = 1.0, tiny = dval(0x3ca0000000000000ul); /* 2^-53 */
	CHECK(DOP("fadd.d", "rne", one, tiny) == 0x3ff0000000000000ul, 10);
	CHECK(flags_take() == NX, 11);
	CHECK(DOP("fadd.d", "rup", one, tiny) == 0x3ff0000000000001ul, 12);
	CHECK(DOP("fadd.d", "rdn", one, tiny) == 0x3ff0000000000000ul, 13);
	CHECK(DOP("fadd.d", "rtz", -one, -tiny) == 0xbff0000000000000ul, 14);
	CHECK(DOP("fadd.d", "rdn", -one, -tiny) == 0xbff0000000000001ul, 15);
	flags_take();
	/* 2: single division in two modes */
	float onef = 1.0f, threef = 3.0f;
	CHECK(SOP_BITS("fdiv.s", "rne", onef, threef) == 0x3eaaaaabu, 16);
	CHECK(SOP_BITS("fdiv.s", "rtz", onef, threef) == 0x3eaaaaaau, 17);
	CHECK(flags_take() == NX, 18);
	/* 3: divide by zero, invalid sqrt */
	double zero = 0.0, mone = -1.0;
	CHECK(DOP("fdiv.d", "rne", one, zero) == 0x7ff0000000000000ul, 19);
	CHECK(flags_take() == DZ, 20);
	double r;
	__asm__ volatile("fsqrt.d %0, %1" : "=f"(r) : "f"(mone));
	CHECK(dbits(r) == 0x7ff8000000000000ul, 21);
	CHECK(flags_take() == NV, 22);
	/* 4: an unboxed single is the canonical NaN */
	float fr;
	uint32_t u;
	__asm__ volatile("fmv.d.x ft0, %1\n\tfadd.s %0, ft0, ft0" : "=f"(fr) : "r"(0x3f800000ul) : "ft0");
	__builtin_memcpy(&u, &fr, 4);
	CHECK(u == 0x7fc00000u, 23);
	__asm__ volatile("fmv.x.d %0, %1" : "=r"(ms) : "f"(fr));
	CHECK(ms == 0xffffffff7fc00000ul, 24);
	flags_take();
	/* 5: saturating conversions */
	double nan = dval(0x7ff8000000000000ul), big = 3e10, m25 = -2.5;
	CHECK(CVT_X("fcvt.w.d", "rtz", nan) == 0x7fffffff, 25);
	CHECK(flags_take() == NV, 26);
	CHECK(CVT_X("fcvt.w.d", "rtz", big) == 0x7fffffff, 27);
	CHECK(CVT_X("fcvt.wu.d", "rtz", mone) == 0, 28);
	CHECK(flags_take() == NV, 29);
	CHECK(CVT_X("fcvt.l.d", "rmm", m25) == -3, 30);
	CHECK(CVT_X("fcvt.l.d", "rne", m25) == -2, 31);
	CHECK(flags_take() == NX, 32);
	float f25 = 2.5f;
	CHECK(CVT_X("fcvt.w.s", "rmm", f25) == 3, 33);
	CHECK(CVT_X("fcvt.wu.s", "rdn", f25) == 2, 34);
	flags_take();
	/* 6: min/max with signed zeros, NaNs and a signalling NaN */
	double nzero = -0.0, snan = dval(0x7ff4000000000000ul);
	__asm__ volatile("fmin.d %0, %1, %2" : "=f"(r) : "f"(zero), "f"(nzero));
	CHECK(dbits(r) == 0x8000000000000000ul, 35);
	__asm__ volatile("fmax.d %0, %1, %2" : "=f"(r) : "f"(nan), "f"(one));
	CHECK(r == 1.0 && flags_take() == 0, 36);
	__asm__ volatile("fmin.d %0, %1, %2" : "=f"(r) : "f"(snan), "f"(one));
	CHECK(r == 1.0 && flags_take() == NV, 37);
	/* 7: quiet compares do not signal on a quiet NaN; ordered ones do */
	__asm__ volatile("feq.d %0, %1, %2" : "=r"(ms) : "f"(nan), "f"(one));
	CHECK(ms == 0 && flags_take() == 0, 38);
	__asm__ volatile("flt.d %0, %1, %2" : "=r"(ms) : "f"(nan), "f"(one));
	CHECK(ms == 0 && flags_take() == NV, 39);
	/* 8: fused multiply-add rounds once */
	double a = dval(0x3ff0000000000001ul), b = dval(0x3feffffffffffffful);
	__asm__ volatile("fmadd.d %0, %1, %2, %3, rne" : "=f"(r) : "f"(a), "f"(b), "f"(mone));
	CHECK(dbits(r) == 0x3c9ffffffffffffeul, 40); /* 2^-53 - 2^-105; unfused: 0 */
	flags_take();
	/* 9: fclass */
	double ninf = dval(0xfff0000000000000ul), sub = dval(1);
	__asm__ volatile("fclass.d %0, %1" : "=r"(ms) : "f"(ninf));
	CHECK(ms == 1, 41);
	__asm__ volatile("fclass.d %0, %1" : "=r"(ms) : "f"(sub));
	CHECK(ms == 1u << 5, 42);
	__asm__ volatile("fclass.d %0, %1" : "=r"(ms) : "f"(snan));
	CHECK(ms == 1u << 8, 43);
	/* 10: narrowing overflow, dynamic rounding through frm */
	double huge = 1e300;
	__asm__ volatile("fcvt.s.d %0, %1" : "=f"(fr) : "f"(huge));
	__builtin_memcpy(&u, &fr, 4);
	CHECK(u == 0x7f800000u && flags_take() == (OF | NX), 44);
	__asm__ volatile("fsrmi 3"); /* RUP */
	CHECK(DOP("fadd.d", "dyn", one, tiny) == 0x3ff0000000000001ul, 45);
	__asm__ volatile("fsrmi 0");
	/* 11: SD follows a dirty FS */
	__asm__ volatile("csrr %0, mstatus" : "=r"(ms));
	CHECK((ms >> 63) == 1 && ((ms >> 13) & 3) == 3, 46);
	/* 12: RMM on exact ties goes away from zero (RNE goes to even) */
	CHECK(DOP("fadd.d", "rmm", one, tiny) == 0x3ff0000000000001ul, 47);
	CHECK(DOP("fadd.d", "rmm", -one, -tiny) == 0xbff0000000000001ul, 48);
	double tiny54 = dval(0x3c90000000000000ul); /* 2^-54: below half, not a tie */
	CHECK(DOP("fadd.d", "rmm", one, tiny54) == 0x3ff0000000000000ul, 49);
	double x3 = dval(0x3ff0000000000003ul), y15 = 1.5; /* product 1.5 + 4.5 ulp */
	CHECK(DOP("fmul.d", "rne", x3, y15) == 0x3ff8000000000004ul, 50);
	CHECK(DOP("fmul.d", "rmm", x3, y15) == 0x3ff8000000000005ul, 51);
	__asm__ volatile("fmadd.d %0, %1, %2, %3, rmm" : "=f"(r) : "f"(x3), "f"(y15), "f"(zero));
	CHECK(dbits(r) == 0x3ff8000000000005ul, 52);
	float tinyf;
	u = 0x33800000u; /* 2^-24 */
	__builtin_memcpy(&tinyf, &u, 4);
	CHECK(SOP_BITS("fadd.s", "rmm", onef, tinyf) == 0x3f800001u, 53);
	CHECK(SOP_BITS("fadd.s", "rne", onef, tinyf) == 0x3f800000u, 54);
	double d24 = dval(0x3ff0000010000000ul); /* 1 + 2^-24 */
	__asm__ volatile("fcvt.s.d %0, %1, rmm" : "=f"(fr) : "f"(d24));
	__builtin_memcpy(&u, &fr, 4);
	CHECK(u == 0x3f800001u, 55);
	int64_t i53 = (1l << 53) + 1;
	__asm__ volatile("fcvt.d.l %0, %1, rmm" : "=f"(r) : "r"(i53));
	CHECK(dbits(r) == 0x4340000000000001ul, 56);
	__asm__ volatile("fcvt.d.l %0, %1, rne" : "=f"(r) : "r"(i53));
	CHECK(dbits(r) == 0x4340000000000000ul, 57);
	int64_t i24 = (1l << 24) + 1;
	__asm__ volatile("fcvt.s.w %0, %1, rmm" : "=f"(fr) : "r"(i24));
	__builtin_memcpy(&u, &fr, 4);
	CHECK(u == 0x4b800001u, 58);
	flags_take();
	/* 13: the other flags still come when NX is set already (an emulator
	 * may skip reading the host's flags then, but not for these) */
	double dmin = dval(0x0010000000000000ul), huge2 = dval(0x7fe0000000000000ul);
#define NX_THEN(expr, want, status)                            \
	do {                                                     \
		__asm__ volatile("csrw fflags, %0" : : "r"(NX)); \
		uint64_t got_ = (expr);                          \
		(void)got_;                                      \
		CHECK(flags_take() == (want), status);           \
	} while (0)
	NX_THEN(DOP("fmul.d", "rne", dmin, dmin), NX | UF, 59);	 /* underflow to 0 */
	NX_THEN(DOP("fmul.d", "rne", dmin, dval(0x3fd5555555555555ul)), NX | UF, 60); /* inexact subnormal */
	NX_THEN(DOP("fmul.d", "rne", huge2, 4.0), NX | OF, 61);	 /* overflow */
	NX_THEN(DOP("fdiv.d", "rne", one, zero), NX | DZ, 62);
	NX_THEN(DOP("fdiv.d", "rne", zero, zero), NX | NV, 63);
	NX_THEN(DOP("fdiv.d", "rne", dmin, 3.0), NX | UF, 64);
	NX_THEN(DOP("fadd.d", "rne", huge2, huge2), NX | OF, 65);
	NX_THEN(DOP("fsub.d", "rne", 1.5 * dmin, dmin), NX, 66); /* tiny but exact */
	NX_THEN(DOP("fadd.d", "rne", one, one), NX, 67);
	__asm__ volatile("csrw fflags, %0" : : "r"(NX));
	__asm__ volatile("fsqrt.d %0, %1" : "=f"(r) : "f"(-one));
	CHECK(flags_take() == (NX | NV) && dbits(r) == 0x7ff8000000000000ul, 68);
	__asm__ volatile("csrw fflags, %0" : : "r"(NX));
	__asm__ volatile("fmadd.d %0, %1, %2, %3" : "=f"(r) : "f"(dmin), "f"(dmin), "f"(zero));
	CHECK(flags_take() == (NX | UF), 69);
	float fmin_ = 0, fhuge = 0;
	u = 0x00800000u; /* FLT_MIN */
	__builtin_memcpy(&fmin_, &u, 4);
	u = 0x7f000000u; /* 2^127 */
	__builtin_memcpy(&fhuge, &u, 4);
	NX_THEN(SOP_BITS("fmul.s", "rne", fmin_, fmin_), NX | UF, 70);
	NX_THEN(SOP_BITS("fmul.s", "rne", fhuge, fhuge), NX | OF, 71);
	NX_THEN(SOP_BITS("fdiv.s", "rne", onef, (float)zero), NX | DZ, 72);
	/* 14: conversions to integers round as their mode says (NX set: a
	 * translator may take a shortcut then) */
	float f075 = 0.75f;
	__asm__ volatile("csrw fflags, %0" : : "r"(NX));
	CHECK(CVT_X("fcvt.w.s", "rne", f075) == 1 && CVT_X("fcvt.w.s", "rtz", f075) == 0 &&
		  CVT_X("fcvt.l.s", "rne", -f075) == -1 && CVT_X("fcvt.w.d", "rne", 0.75) == 1 &&
		  CVT_X("fcvt.l.d", "rtz", -0.75) == 0,
	      73);
	CHECK(flags_take() == NX, 74);
#ifndef NO_UART
	guest_puts("fp: all checks passed\n");
#endif
	return 0;
}
