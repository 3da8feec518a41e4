/* Right shifts of negative values are arithmetic in GCC and clang (both
 * document it); the code relies on that.
 *
 * RV64 integer semantics that have edge cases (division by zero and
 * overflow, high multiplies, shift amounts, W-op sign extension). Shared by
 * the interpreter and the unit tests; pure functions. */
#ifndef SHOAL_ALU_H
#define SHOAL_ALU_H

#include <stdint.h>

static inline uint64_t sx32(uint64_t v)
{
	return (uint64_t)(int64_t)(int32_t)(uint32_t)v;
}

static inline uint64_t alu_mulh(uint64_t a, uint64_t b)
{
	return (uint64_t)(((__int128)(int64_t)a * (__int128)(int64_t)b) >> 64);
}
static inline uint64_t alu_mulhsu(uint64_t a, uint64_t b)
{
	return (uint64_t)(((__int128)(int64_t)a * (__int128)b) >> 64);
}
static inline uint64_t alu_mulhu(uint64_t a, uint64_t b)
{
	return (uint64_t)(((unsigned __int128)a * b) >> 64);
}
static inline uint64_t alu_div(uint64_t a, uint64_t b)
{
	int64_t n = (int64_t)a, d = (int64_t)b;
	if (d == 0)
		return ~0ull;
	if (n == INT64_MIN && d == -1)
		return a;
	return (uint64_t)(n / d);
}
static inline uint64_t alu_divu(uint64_t a, uint64_t b)
{
	return b ? a / b : ~0ull;
}
static inline uint64_t alu_rem(uint64_t a, uint64_t b)
{
	int64_t n = (int64_t)a, d = (int64_t)b;
	if (d == 0)
		return a;
	if (n == INT64_MIN && d == -1)
		return 0;
	return (uint64_t)(n % d);
}
static inline uint64_t alu_remu(uint64_t a, uint64_t b)
{
	return b ? a % b : a;
}
static inline uint64_t alu_divw(uint64_t a, uint64_t b)
{
	int32_t n = (int32_t)a, d = (int32_t)b;
	if (d == 0)
		return ~0ull;
	if (n == INT32_MIN && d == -1)
		return sx32((uint32_t)n);
	return sx32((uint32_t)(n / d));
}
static inline uint64_t alu_divuw(uint64_t a, uint64_t b)
{
	uint32_t n = (uint32_t)a, d = (uint32_t)b;
	return sx32(d ? n / d : ~0u);
}
static inline uint64_t alu_remw(uint64_t a, uint64_t b)
{
	int32_t n = (int32_t)a, d = (int32_t)b;
	if (d == 0)
		return sx32((uint32_t)n);
	if (n == INT32_MIN && d == -1)
		return 0;
	return sx32((uint32_t)(n % d));
}
static inline uint64_t alu_remuw(uint64_t a, uint64_t b)
{
	uint32_t n = (uint32_t)a, d = (uint32_t)b;
	return sx32(d ? n % d : n);
}
static inline uint64_t alu_sll(uint64_t a, uint64_t b)
{
	return a << (b & 63);
}
static inline uint64_t alu_srl(uint64_t a, uint64_t b)
{
	return a >> (b & 63);
}
static inline uint64_t alu_sra(uint64_t a, uint64_t b)
{
	return (uint64_t)((int64_t)a >> (b & 63));
}
static inline uint64_t alu_sllw(uint64_t a, uint64_t b)
{
	return sx32((uint32_t)a << (b & 31));
}
static inline uint64_t alu_srlw(uint64_t a, uint64_t b)
{
	return sx32((uint32_t)a >> (b & 31));
}
static inline uint64_t alu_sraw(uint64_t a, uint64_t b)
{
	return (uint64_t)(int64_t)((int32_t)a >> (b & 31));
}

#endif
