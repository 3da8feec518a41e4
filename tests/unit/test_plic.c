/* The PLIC over a board page in plain memory: priorities, thresholds,
 * enables, claim/complete, level re-pending, and that racing claims never
 * hand one interrupt to two harts. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../cpu-worker/hart.h"

#define ENABLE(ctx) (0x2000u + 0x80u * (ctx))
#define THRESHOLD(ctx) (0x200000u + 0x1000u * (ctx))
#define CLAIM(ctx) (THRESHOLD(ctx) + 4)

/* The PLIC alone: no device windows, so nothing to settle. */
void bus_settle_line(struct hart *h, unsigned src)
{
	(void)h;
	(void)src;
}

static struct board *new_board(uint32_t nharts)
{
	struct board *b = calloc(1, board_size(nharts));
	assert_non_null(b);
	b->nharts = nharts;
	return b;
}

static uint64_t rd(struct hart *h, uint64_t off)
{
	uint64_t v = ~0ull;
	assert_int_equal(plic_load(h, off, 4, &v), 0);
	return v;
}

static void wr(struct hart *h, uint64_t off, uint32_t v)
{
	assert_int_equal(plic_store(h, off, 4, v), 0);
}

static void test_claim_complete(void **state)
{
	(void)state;
	struct board *b = new_board(2);
	static struct hart h0;
	memset(&h0, 0, sizeof(h0));
	h0.board = b;
	h0.hartid = 0;
	wr(&h0, 4 * 10, 1);			     /* priority of source 10 */
	wr(&h0, 4 * 11, 3);			     /* source 11 outranks it */
	wr(&h0, ENABLE(1), (1u << 10) | (1u << 11)); /* hart 0, S-mode */
	assert_int_equal(plic_eip(&h0), 0);
	board_irq_line(b, 10, 1);
	board_irq_line(b, 11, 1);
	assert_int_equal(plic_eip(&h0), IRQ_SEIP);
	assert_int_equal(rd(&h0, 0x1000), (1u << 10) | (1u << 11));
	assert_int_equal(rd(&h0, CLAIM(1)), 11);
	assert_int_equal(rd(&h0, CLAIM(1)), 10);
	assert_int_equal(rd(&h0, CLAIM(1)), 0);
	/* Source 11's line dropped: completion does not re-pend it. */
	board_irq_line(b, 11, 0);
	wr(&h0, CLAIM(1), 11);
	/* Source 10's line is still up: completion re-pends it. */
	wr(&h0, CLAIM(1), 10);
	assert_int_equal(rd(&h0, 0x1000), 1u << 10);
	/* A threshold at its priority masks it. */
	wr(&h0, THRESHOLD(1), 1);
	assert_int_equal(plic_eip(&h0), 0);
	assert_int_equal(rd(&h0, CLAIM(1)), 0);
	wr(&h0, THRESHOLD(1), 0);
	assert_int_equal(plic_eip(&h0), IRQ_SEIP);
	/* Bad accesses. */
	uint64_t v;
	assert_int_equal(plic_load(&h0, 0x1000, 8, &v), EXC_LOAD_ACCESS);
	assert_int_equal(plic_store(&h0, 2, 4, 0), EXC_STORE_ACCESS);
	free(b);
}

struct racer {
	struct hart h;
	int wins;
};

static volatile int go;
static int holders, violations;

static void *race(void *arg)
{
	struct racer *r = arg;
	while (!go)
		;
	for (int i = 0; i < 20000; i++) {
		uint64_t v = 0;
		plic_load(&r->h, CLAIM(2 * r->h.hartid + 1), 4, &v);
		if (v == 5) {
			/* Nobody else may hold the interrupt while we do. */
			if (__atomic_add_fetch(&holders, 1, __ATOMIC_SEQ_CST) != 1)
				__atomic_add_fetch(&violations, 1, __ATOMIC_SEQ_CST);
			r->wins++;
			__atomic_sub_fetch(&holders, 1, __ATOMIC_SEQ_CST);
			/* The line stays up, so completion re-pends it. */
			plic_store(&r->h, CLAIM(2 * r->h.hartid + 1), 4, 5);
		}
	}
	return NULL;
}

static void test_racing_claims(void **state)
{
	(void)state;
	struct board *b = new_board(4);
	static struct racer r[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].h.board = b;
		r[i].h.hartid = (uint32_t)i;
		b->plic.enable[2 * i + 1][0] = 1u << 5;
	}
	b->plic.priority[5] = 1;
	board_irq_line(b, 5, 1);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
	go = 1;
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	int total = r[0].wins + r[1].wins + r[2].wins + r[3].wins;
	assert_true(total > 100);
	assert_int_equal(violations, 0);
	assert_int_equal(b->plic.claimed[0] & (1u << 5), 0);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_claim_complete),
	    cmocka_unit_test(test_racing_claims),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
