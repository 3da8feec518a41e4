/* F and D arithmetic for one hart, on the host's IEEE 754 unit: the guest's
 * rounding mode is loaded into the host's before each operation and the
 * host's exception flags are folded into fflags after it. RISC-V specifics
 * are done here: NaN boxing of singles, the canonical NaN for every NaN
 * result, min/max and compare signalling rules, saturating conversions.
 * Compiled with -frounding-math -fsignaling-nans so the compiler keeps the
 * order of operations and flag tests.
 *
 * RMM (ties to max magnitude) has no host mode: the operation runs in
 * ties-to-even, and when the exact result was a tie that went to the
 * neighbour nearer zero it is moved one step away (see rmm_*). */
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "hart.h"

#define FFLAG_NX 1u
#define FFLAG_UF 2u
#define FFLAG_OF 4u
#define FFLAG_DZ 8u
#define FFLAG_NV 16u

#define CANON_NAN_S 0x7fc00000u
#define CANON_NAN_D 0x7ff8000000000000ull
#define BOX 0xffffffff00000000ull

static float s_of(uint64_t r)
{
	uint32_t b = (r & BOX) == BOX ? (uint32_t)r : CANON_NAN_S;
	float f;
	memcpy(&f, &b, 4);
	return f;
}

static uint64_t box_s(float f)
{
	uint32_t b;
	memcpy(&b, &f, 4);
	if (isnan(f))
		b = CANON_NAN_S;
	return BOX | b;
}

static double d_of(uint64_t r)
{
	double d;
	memcpy(&d, &r, 8);
	return d;
}

static uint64_t bits_d(double d)
{
	uint64_t b;
	memcpy(&b, &d, 8);
	return isnan(d) ? CANON_NAN_D : b;
}

static int is_snan_s(uint64_t r)
{
	uint32_t b = (r & BOX) == BOX ? (uint32_t)r : CANON_NAN_S;
	return (b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffffu) && !(b & 0x400000u);
}

static int is_snan_d(uint64_t b)
{
	return (b & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (b & 0xfffffffffffffull) &&
	       !(b & 0x8000000000000ull);
}

#if defined(__x86_64__)
/* The host's rounding and flags are the SSE unit's MXCSR (x86-64 does
 * scalar float and double there): bits 0-5 are the sticky flags IE DE ZE
 * OE UE PE, bits 13-14 the rounding (nearest, down, up, zero). Reading
 * and writing it takes a few cycles; the <fenv.h> calls also store and
 * load the x87 environment, which took three quarters of the time of an
 * FP instruction. Opaque to the compiler (noipa), as those library calls
 * are, so it keeps FP operations on their side of them: with noinline
 * alone GCC moved a conversion past the flag read. */
#if defined(__clang__) /* -ffp-model=strict orders FP operations with calls */
#define FP_OPAQUE __attribute__((noinline))
#else
#define FP_OPAQUE __attribute__((noipa))
#endif
#define MXCSR_FLAGS 0x3fu
#define MXCSR_ROUND 0x6000u
static FP_OPAQUE unsigned mxcsr_read(void)
{
	unsigned m;
	__asm__ volatile("stmxcsr %0" : "=m"(m));
	return m;
}

static FP_OPAQUE void mxcsr_write(unsigned m)
{
	__asm__ volatile("ldmxcsr %0" : : "m"(m));
}

/* The host rounds other than to nearest even (host_start changed it). */
static int host_rounding;

/* Clears the flags and rounds by `rm` (RMM: ties-to-even, see rmm_*). */
static void host_start(unsigned rm)
{
	static const unsigned rc[5] = {0, 3, 1, 2, 0};
	mxcsr_write((mxcsr_read() & ~(MXCSR_FLAGS | MXCSR_ROUND)) | rc[rm] << 13);
	host_rounding = rc[rm] != 0;
}

/* Back to rounding to nearest even, which fast_arith relies on. */
static void host_end(void)
{
	if (host_rounding)
		mxcsr_write(mxcsr_read() & ~MXCSR_ROUND);
	host_rounding = 0;
}

static unsigned host_flags(void)
{
	unsigned m = mxcsr_read();
	return ((m & 32) ? FFLAG_NX : 0) | ((m & 16) ? FFLAG_UF : 0) | ((m & 8) ? FFLAG_OF : 0) |
	       ((m & 4) ? FFLAG_DZ : 0) | ((m & 1) ? FFLAG_NV : 0);
}

static void host_clear_inexact(void)
{
	mxcsr_write(mxcsr_read() & ~32u);
}

static int host_inexact(void)
{
	return (mxcsr_read() & 32) != 0;
}
#else
static void host_start(unsigned rm)
{
	static const int mode[5] = {FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD,
				    FE_TONEAREST};
	feclearexcept(FE_ALL_EXCEPT);
	fesetround(mode[rm]);
}

static void host_end(void)
{
	fesetround(FE_TONEAREST);
}

static unsigned host_flags(void)
{
	int e = fetestexcept(FE_ALL_EXCEPT);
	return ((e & FE_INEXACT) ? FFLAG_NX : 0) | ((e & FE_UNDERFLOW) ? FFLAG_UF : 0) |
	       ((e & FE_OVERFLOW) ? FFLAG_OF : 0) | ((e & FE_DIVBYZERO) ? FFLAG_DZ : 0) |
	       ((e & FE_INVALID) ? FFLAG_NV : 0);
}

static void host_clear_inexact(void)
{
	feclearexcept(FE_INEXACT);
}

static int host_inexact(void)
{
	return fetestexcept(FE_INEXACT) != 0;
}
#endif

/* Is the exact sum of t[0..n) zero? Shewchuk's grow-expansion with zero
 * elimination: exact in round-to-nearest as long as nothing overflows. */
static int sum_is_zero(const double *t, int n)
{
	double e[8];
	int m = 0;
	for (int i = 0; i < n; i++) {
		double q = t[i];
		int k = 0;
		for (int j = 0; j < m; j++) {
			double sum = q + e[j], bv = sum - q, av = sum - bv;
			double err = (q - av) + (e[j] - bv);
			if (err != 0)
				e[k++] = err;
			q = sum;
		}
		if (q != 0)
			e[k++] = q;
		m = k;
	}
	return m == 0;
}

/* RMM for a double: `r` is the ties-to-even result and the exact result
 * minus r is the exact sum of t[0..n) (n <= 6). If that difference is
 * exactly half the step from r away from zero, the exact result was a tie
 * that went toward zero: RMM takes the step. */
static double rmm_d(double r, const double *t, int n)
{
	if (r == 0 || !isfinite(r))
		return r;
	double away = nextafter(r, copysign(INFINITY, r)), half = (away - r) / 2, u[7];
	if (half == 0 || !isfinite(away))
		return r;
	memcpy(u, t, sizeof(double) * (size_t)n);
	u[n] = -half;
	return sum_is_zero(u, n + 1) ? away : r;
}

/* RMM for a single whose exact result `v` a double holds exactly. */
static float rmm_s(float r, double v)
{
	if (r == 0 || !isfinite(r))
		return r;
	float away = nextafterf(r, copysignf(INFINITY, r));
	if (!isfinite(away))
		return r;
	double half = ((double)away - (double)r) / 2;
	return v - (double)r == half ? away : r;
}

/* RMM for an integer `x` converted to a double or a single `r`. */
static double rmm_int(double r, __int128 x, int single)
{
	if (r == 0)
		return r;
	double away = single ? (double)nextafterf((float)r, copysignf(INFINITY, (float)r))
			     : nextafter(r, copysign(INFINITY, r));
	__int128 step = (__int128)away - (__int128)r;
	return step % 2 == 0 && x - (__int128)r == step / 2 ? away : r;
}

/* Single-precision arithmetic done in double to see whether it was exact
 * (a single's tie is 25 bits: a double holds it exactly). Returns 1 with
 * the exact result in `*v`, 0 when the double result was rounded. */
static int exact_in_d(double *v, double x, double y, double z, unsigned op)
{
	host_clear_inexact();
	switch (op) {
	case 0: *v = x + y; break;
	case 1: *v = x - y; break;
	case 2: *v = x * y; break;
	case 3: *v = x / y; break;
	default: *v = fma(x, y, z); break;
	}
	return !host_inexact();
}

/* fclass: one bit of ten. */
static uint64_t fclass(int neg, int inf, int zero, int sub, int nan, int snan)
{
	if (nan)
		return snan ? 1u << 8 : 1u << 9;
	if (inf)
		return neg ? 1u << 0 : 1u << 7;
	if (zero)
		return neg ? 1u << 3 : 1u << 4;
	if (sub)
		return neg ? 1u << 2 : 1u << 5;
	return neg ? 1u << 1 : 1u << 6;
}

/* Rounds `v` to an integer per `rm` (RMM: ties away from zero). */
static double round_rm(double v, unsigned rm)
{
	switch (rm) {
	case 1: return trunc(v);
	case 2: return floor(v);
	case 3: return ceil(v);
	case 4: return round(v);
	default: return nearbyint(v); /* the host is in ties-to-even here */
	}
}

/* Converts to an integer type of `bits` (signed or not) with saturation:
 * NaN gives the largest value; out of range the nearest bound; both NV. */
static uint64_t to_int(double v, unsigned rm, int is_signed, unsigned bits, unsigned *fl)
{
	if (isnan(v)) {
		*fl |= FFLAG_NV;
		return is_signed ? (bits == 32 ? 0x7fffffffull : 0x7fffffffffffffffull)
				 : (bits == 32 ? 0xffffffffull : ~0ull);
	}
	double r = round_rm(v, rm);
	double lo = is_signed ? -ldexp(1, (int)bits - 1) : 0;
	double hi = is_signed ? ldexp(1, (int)bits - 1) : ldexp(1, (int)bits); /* exclusive */
	if (r < lo || r >= hi) {
		*fl |= FFLAG_NV;
		if (r < lo)
			return is_signed ? (uint64_t)(bits == 32 ? (int64_t)INT32_MIN : INT64_MIN)
					 : 0;
		return is_signed ? (bits == 32 ? 0x7fffffffull : 0x7fffffffffffffffull)
				 : (bits == 32 ? 0xffffffffull : ~0ull);
	}
	if (r != v)
		*fl |= FFLAG_NX;
	if (is_signed) {
		int64_t x = (int64_t)r;
		return bits == 32 ? (uint64_t)(int64_t)(int32_t)x : (uint64_t)x;
	}
	uint64_t x = r >= 9223372036854775808.0
			 ? (uint64_t)(r - 9223372036854775808.0) + (1ull << 63)
			 : (uint64_t)r;
	return bits == 32 ? (uint64_t)(int64_t)(int32_t)(uint32_t)x : x;
}

/* Conversions to integer need exact doubles; singles widen exactly. */
static double to_double(uint64_t r, int dbl)
{
	return dbl ? d_of(r) : (double)s_of(r);
}

static uint64_t fminmax(uint64_t a, uint64_t b, int dbl, int want_max, unsigned *fl)
{
	double x = to_double(a, dbl), y = to_double(b, dbl);
	int sa = dbl ? is_snan_d(a) : is_snan_s(a), sb = dbl ? is_snan_d(b) : is_snan_s(b);
	if (sa || sb)
		*fl |= FFLAG_NV;
	uint64_t canon = dbl ? CANON_NAN_D : (BOX | CANON_NAN_S);
	uint64_t ra = dbl ? a : ((a & BOX) == BOX ? a : canon);
	uint64_t rb = dbl ? b : ((b & BOX) == BOX ? b : canon);
	if (isnan(x) && isnan(y))
		return canon;
	if (isnan(x))
		return rb;
	if (isnan(y))
		return ra;
	if (x == y) { /* -0 < +0 */
		int nx = signbit(x) != 0;
		return (want_max ? !nx : nx) ? ra : rb;
	}
	return (want_max ? x > y : x < y) ? ra : rb;
}

/* The magnitude bits of a double, and of a single (an unboxed one is the
 * canonical NaN); compared as integers they order as the values do. The
 * classification macros would be library calls with -fsignaling-nans. */
#define MAG_D(v) ((v)&0x7fffffffffffffffull)
#define MIN_D 0x0010000000000000ull /* DBL_MIN */
#define INF_D 0x7ff0000000000000ull
#define MIN_S 0x00800000u
#define INF_S 0x7f800000u

static uint32_t bits_s(uint64_t r)
{
	return (r & BOX) == BOX ? (uint32_t)r : CANON_NAN_S;
}

/* Arithmetic without the host's flags, for the common case: rounding to
 * nearest even (the host's mode outside fpu_op), fflags.NX already set (an
 * inexact result adds nothing then), operands normal or zero, and a result
 * that cannot have raised another flag: finite, and not tiny unless exact
 * (a sum is exact when tiny; a product or quotient of non-zeros, or a
 * fused result, is not known to be, and goes the long way). Reading the
 * flags waits for the operation to finish and costs more than it does.
 * Returns 1 with the result in *out, or 0. */
static int fast_arith(unsigned opc, unsigned f5, unsigned rs2, int dbl, uint64_t a, uint64_t b,
		      uint64_t c, uint64_t *out)
{
	int fused = opc != 0x53;
	int neg_prod = opc == 0x4b || opc == 0x4f, neg_add = opc == 0x47 || opc == 0x4f;
	/* normalised operands: magnitudes, and the limits a result must keep */
	uint64_t ma, mb, mc, min, inf;
	if (dbl) {
		ma = MAG_D(a), mb = MAG_D(b), mc = MAG_D(c), min = MIN_D, inf = INF_D;
	} else {
		ma = bits_s(a) & 0x7fffffffu, mb = bits_s(b) & 0x7fffffffu;
		mc = bits_s(c) & 0x7fffffffu, min = MIN_S, inf = INF_S;
	}
	int sqrt_op = !fused && f5 == 0x0b;
	if ((ma && (ma < min || ma >= inf)) || (!sqrt_op && mb && (mb < min || mb >= inf)) ||
	    (fused && mc && (mc < min || mc >= inf)))
		return 0;
	if (sqrt_op && (rs2 || (ma && (dbl ? a >> 63 : (a >> 31) & 1))))
		return 0;
	if (!fused && f5 == 3 && !mb)
		return 0;
	uint64_t mr;
	if (dbl) {
		double x = d_of(a), y = d_of(b), z = d_of(c), r;
		if (fused)
			r = fma(neg_prod ? -x : x, y, neg_add ? -z : z);
		else
			r = f5 == 0   ? x + y
			    : f5 == 1 ? x - y
			    : f5 == 2 ? x * y
			    : f5 == 3 ? x / y
				      : sqrt(x);
		memcpy(out, &r, 8);
		mr = MAG_D(*out);
	} else {
		float x, y, z, r;
		uint32_t bx = bits_s(a), by = bits_s(b), bz = bits_s(c), br;
		memcpy(&x, &bx, 4);
		memcpy(&y, &by, 4);
		memcpy(&z, &bz, 4);
		if (fused)
			r = fmaf(neg_prod ? -x : x, y, neg_add ? -z : z);
		else
			r = f5 == 0   ? x + y
			    : f5 == 1 ? x - y
			    : f5 == 2 ? x * y
			    : f5 == 3 ? x / y
				      : sqrtf(x);
		memcpy(&br, &r, 4);
		*out = BOX | br;
		mr = br & 0x7fffffffu;
	}
	if (mr >= inf) /* overflow (operands are finite: no NaN but 0/0, sent away above) */
		return 0;
	/* tiny: exact for a sum; else fine only when an operand was zero */
	if (mr <= min && (fused || (f5 == 2 && ma && mb) || (f5 == 3 && ma)))
		return 0;
	return 1;
}

static int fpu_op(struct hart *h, uint32_t w)
{
	unsigned opc = w & 0x7f, rd = (w >> 7) & 31, rs1 = (w >> 15) & 31, rs2 = (w >> 20) & 31;
	unsigned rs3 = w >> 27, fmt = (w >> 25) & 3, f5 = w >> 27, rm = (w >> 12) & 7;
	if (fmt > 1)
		return EXC_ILLEGAL;
	int dbl = fmt == 1;
	if (rm == 7)
		rm = (unsigned)(h->fcsr >> 5) & 7;
	uint64_t a = h->f[rs1], b = h->f[rs2], c = h->f[rs3];
	uint64_t out = 0;
	int to_x = 0;
	unsigned fl = 0;
	/* Operations whose rm field is a rounding mode must have a valid one. */
	int uses_rm = opc != 0x53 || (f5 != 0x04 && f5 != 0x05 && f5 != 0x14 && f5 != 0x1c);
	if (uses_rm && rm > 4)
		return EXC_ILLEGAL;
	if (rm == 0 && (h->fcsr & FFLAG_NX) && (opc != 0x53 || f5 <= 3 || f5 == 0x0b) &&
	    fast_arith(opc, f5, rs2, dbl, a, b, c, &out)) {
		h->f[rd] = out;
		h->mstatus |= MSTATUS_FS;
		return 0;
	}
	/* Sign injection, min/max, compares, moves and fclass work out their
	 * flags themselves and do not round: the host's state is not needed */
	if (opc != 0x53 || (uses_rm && f5 != 0x1e))
		host_start(uses_rm ? rm : 0);
	if (opc != 0x53) { /* fused multiply-add family: 0x43 0x47 0x4b 0x4f */
		int neg_prod = opc == 0x4b || opc == 0x4f, neg_add = opc == 0x47 || opc == 0x4f;
		if (dbl) {
			double x = d_of(a), y = d_of(b), z = d_of(c);
			x = neg_prod ? -x : x;
			z = neg_add ? -z : z;
			double r = fma(x, y, z);
			fl = host_flags();
			if (rm == 4) {
				double p = x * y, t[4] = {p, fma(x, y, -p), z, -r};
				r = rmm_d(r, t, 4);
			}
			out = bits_d(r);
		} else {
			float x = s_of(a), y = s_of(b), z = s_of(c);
			x = neg_prod ? -x : x;
			z = neg_add ? -z : z;
			float r = fmaf(x, y, z);
			fl = host_flags();
			double v;
			if (rm == 4 && exact_in_d(&v, x, y, z, 4))
				r = rmm_s(r, v);
			out = box_s(r);
		}
		goto done;
	}
	switch (f5) {
	case 0x00:
	case 0x01:
	case 0x02:
	case 0x03:
		if (dbl) {
			double x = d_of(a), y = d_of(b), r;
			r = f5 == 0 ? x + y : f5 == 1 ? x - y : f5 == 2 ? x * y : x / y;
			fl = host_flags();
			if (rm == 4 && f5 < 2) {
				double t[3] = {x, f5 ? -y : y, -r};
				r = rmm_d(r, t, 3);
			} else if (rm == 4 && f5 == 2) {
				double t[1] = {fma(x, y, -r)};
				r = rmm_d(r, t, 1);
			}
			/* A quotient is never exactly halfway between two doubles
			 * (nor is a square root): nothing to do for them. */
			out = bits_d(r);
		} else {
			float x = s_of(a), y = s_of(b), r;
			r = f5 == 0 ? x + y : f5 == 1 ? x - y : f5 == 2 ? x * y : x / y;
			fl = host_flags();
			double v;
			if (rm == 4 && exact_in_d(&v, x, y, 0, f5))
				r = rmm_s(r, v);
			out = box_s(r);
		}
		break;
	case 0x0b: /* fsqrt */
		if (rs2)
			return EXC_ILLEGAL;
		out = dbl ? bits_d(sqrt(d_of(a))) : box_s(sqrtf(s_of(a)));
		fl = host_flags();
		break;
	case 0x04: { /* fsgnj, fsgnjn, fsgnjx */
		if (rm > 2)
			return EXC_ILLEGAL;
		uint64_t sign = dbl ? 1ull << 63 : 1ull << 31;
		uint64_t xa = dbl ? a : ((a & BOX) == BOX ? a : BOX | CANON_NAN_S);
		uint64_t xb = dbl ? b : ((b & BOX) == BOX ? b : BOX | CANON_NAN_S);
		uint64_t s = rm == 0 ? (xb & sign) : rm == 1 ? (~xb & sign) : ((xa ^ xb) & sign);
		out = (xa & ~sign) | s;
		break;
	}
	case 0x05: /* fmin, fmax */
		if (rm > 1)
			return EXC_ILLEGAL;
		out = fminmax(a, b, dbl, rm == 1, &fl);
		break;
	case 0x08: /* fcvt.s.d, fcvt.d.s */
		if (dbl && rs2 == 0) {
			out = bits_d((double)s_of(a));
		} else if (!dbl && rs2 == 1) {
			float r = (float)d_of(a);
			fl = host_flags();
			out = box_s(rm == 4 ? rmm_s(r, d_of(a)) : r);
			break;
		} else {
			return EXC_ILLEGAL;
		}
		fl = host_flags();
		break;
	case 0x14: { /* feq, flt, fle */
		double x = to_double(a, dbl), y = to_double(b, dbl);
		int snan = dbl ? (is_snan_d(a) || is_snan_d(b)) : (is_snan_s(a) || is_snan_s(b));
		if (rm == 2) {
			if (snan)
				fl |= FFLAG_NV;
			out = x == y;
		} else if (rm <= 1) {
			if (isnan(x) || isnan(y))
				fl |= FFLAG_NV;
			out = rm == 0 ? x <= y : x < y;
			if (isnan(x) || isnan(y))
				out = 0;
		} else {
			return EXC_ILLEGAL;
		}
		to_x = 1;
		break;
	}
	case 0x18: /* fcvt.{w,wu,l,lu}.{s,d} */
		if (rs2 > 3)
			return EXC_ILLEGAL;
		out = to_int(to_double(a, dbl), rm, !(rs2 & 1), rs2 & 2 ? 64 : 32, &fl);
		to_x = 1;
		break;
	case 0x1a: { /* fcvt.{s,d}.{w,wu,l,lu} */
		uint64_t x = h->x[rs1];
		if (rs2 > 3)
			return EXC_ILLEGAL;
		__int128 xi = rs2 == 0	 ? (__int128)(int32_t)x
			      : rs2 == 1 ? (__int128)(uint32_t)x
			      : rs2 == 2 ? (__int128)(int64_t)x
					 : (__int128)x;
		if (dbl) {
			double r = rs2 == 0   ? (double)(int32_t)x
				   : rs2 == 1 ? (double)(uint32_t)x
				   : rs2 == 2 ? (double)(int64_t)x
					      : (double)x;
			fl = host_flags();
			out = bits_d(rm == 4 ? rmm_int(r, xi, 0) : r);
		} else {
			float r = rs2 == 0   ? (float)(int32_t)x
				  : rs2 == 1 ? (float)(uint32_t)x
				  : rs2 == 2 ? (float)(int64_t)x
					     : (float)x;
			fl = host_flags();
			out = box_s(rm == 4 ? (float)rmm_int(r, xi, 1) : r);
		}
		break;
	}
	case 0x1c: /* fmv.x.{w,d}, fclass */
		if (rs2 != 0)
			return EXC_ILLEGAL;
		if (rm == 0) {
			out = dbl ? a : (uint64_t)(int64_t)(int32_t)(uint32_t)a;
		} else if (rm == 1) {
			if (dbl) {
				double x = d_of(a);
				out = fclass(signbit(x) != 0, isinf(x), x == 0,
					     fpclassify(x) == FP_SUBNORMAL, isnan(x), is_snan_d(a));
			} else {
				float x = s_of(a);
				out = fclass(signbit(x) != 0, isinf(x), x == 0,
					     fpclassify(x) == FP_SUBNORMAL, isnan(x), is_snan_s(a));
			}
		} else {
			return EXC_ILLEGAL;
		}
		to_x = 1;
		break;
	case 0x1e: /* fmv.{w,d}.x */
		if (rs2 != 0 || rm != 0)
			return EXC_ILLEGAL;
		out = dbl ? h->x[rs1] : (BOX | (uint32_t)h->x[rs1]);
		break;
	default: return EXC_ILLEGAL;
	}
done:
	if (to_x) {
		if (rd)
			h->x[rd] = out;
	} else {
		h->f[rd] = out;
	}
	h->fcsr |= fl;
	h->mstatus |= MSTATUS_FS;
	return 0;
}

int fpu_exec(struct hart *h, uint32_t w)
{
	int e = fpu_op(h, w);
	host_end();
	return e;
}
