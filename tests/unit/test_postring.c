/* The posted-write ring (common/postring.h): order, fullness, tickets, and
 * the sleep/kick protocol with several producer threads. */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../common/postring.h"

static struct post_ring *new_ring(void)
{
	struct post_ring *r = aligned_alloc(64, post_ring_size(POST_RING_SLOTS));
	assert_non_null(r);
	memset(r, 0, post_ring_size(POST_RING_SLOTS));
	return r;
}

static void test_order_and_full(void **state)
{
	(void)state;
	struct post_ring *r = new_ring();
	assert_null(post_ring_peek(r));
	/* Several laps, filling the ring each time. */
	for (uint64_t lap = 0; lap < 5; lap++) {
		uint64_t first = 0, last = 0;
		for (uint32_t i = 0; i < POST_RING_SLOTS; i++) {
			uint64_t t = post_ring_push(r, i, 4, lap * 1000 + i);
			assert_int_equal(t, lap * POST_RING_SLOTS + i + 1);
			if (!first)
				first = t;
			last = t;
		}
		assert_int_equal(post_ring_push(r, 0, 1, 0), 0); /* full: nothing written */
		assert_false(post_ring_done(r, first));
		for (uint32_t i = 0; i < POST_RING_SLOTS; i++) {
			const struct post_slot *s = post_ring_peek(r);
			assert_non_null(s);
			assert_int_equal(s->off, i);
			assert_int_equal(s->size, 4);
			assert_int_equal(s->value, lap * 1000 + i);
			post_ring_pop(r);
			assert_true(post_ring_done(r, first + i));
			assert_false(post_ring_done(r, first + i + 1));
		}
		assert_null(post_ring_peek(r));
		assert_true(post_ring_done(r, last));
	}
	free(r);
}

/* A reserved slot that is not yet published stops the consumer, even when
 * a later one is published. */
static void test_unpublished_slot_blocks(void **state)
{
	(void)state;
	struct post_ring *r = new_ring();
	r->tail = 1; /* slot 0 reserved by a producer that has not published */
	assert_int_equal(post_ring_push(r, 7, 1, 42), 2);
	assert_null(post_ring_peek(r));
	r->slot[0].off = 6;
	r->slot[0].size = 1;
	__atomic_store_n(&r->slot[0].seq, 1, __ATOMIC_RELEASE);
	assert_int_equal(post_ring_peek(r)->off, 6);
	post_ring_pop(r);
	assert_int_equal(post_ring_peek(r)->off, 7);
	free(r);
}

static void test_sleep_and_kick(void **state)
{
	(void)state;
	struct post_ring *r = new_ring();
	assert_int_equal(post_ring_needs_kick(r), 0); /* awake: no kick */
	assert_int_equal(post_ring_sleep(r), 0);      /* empty: may sleep */
	assert_int_equal(post_ring_push(r, 0, 1, 'a'), 1);
	assert_int_equal(post_ring_needs_kick(r), 1); /* asleep: one kick */
	assert_int_equal(post_ring_needs_kick(r), 0); /* and only one */
	/* A write already waiting: the consumer must not sleep. */
	assert_int_equal(post_ring_sleep(r), 1);
	assert_int_equal(post_ring_needs_kick(r), 0);
	post_ring_pop(r);
	assert_int_equal(post_ring_sleep(r), 0);
	post_ring_awake(r);
	assert_int_equal(post_ring_push(r, 0, 1, 'b'), 2);
	assert_int_equal(post_ring_needs_kick(r), 0);
	free(r);
}

#define PRODUCERS 3
#define PER_PRODUCER 200000

struct shared {
	struct post_ring *r;
	int kick[2]; /* a pipe: the kick message */
	uint32_t id;
};

static void *producer(void *arg)
{
	struct shared *s = arg;
	uint32_t id = __atomic_fetch_add(&s->id, 1, __ATOMIC_RELAXED);
	for (uint64_t i = 0; i < PER_PRODUCER; i++) {
		while (!post_ring_push(s->r, id, 8, i)) {
			if (post_ring_needs_kick(s->r) && write(s->kick[1], "k", 1) != 1)
				abort();
			sched_yield();
		}
		if (post_ring_needs_kick(s->r) && write(s->kick[1], "k", 1) != 1)
			abort();
	}
	return NULL;
}

/* Three producers, one consumer that sleeps whenever the ring is empty: every
 * write arrives once, each producer's in its order, and no kick is lost (a
 * lost one leaves the consumer asleep with writes waiting: the test fails
 * after 10 s instead of hanging). */
static void test_producers_and_sleeping_consumer(void **state)
{
	(void)state;
	struct shared s = {.r = new_ring()};
	assert_int_equal(pipe(s.kick), 0);
	pthread_t t[PRODUCERS];
	for (int i = 0; i < PRODUCERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, producer, &s), 0);
	uint64_t next[PRODUCERS] = {0}, got = 0, sleeps = 0;
	while (got < (uint64_t)PRODUCERS * PER_PRODUCER) {
		const struct post_slot *p = post_ring_peek(s.r);
		if (p) {
			assert_true(p->off < PRODUCERS);
			assert_int_equal(p->value, next[p->off]);
			next[p->off]++;
			got++;
			post_ring_pop(s.r);
			continue;
		}
		if (post_ring_sleep(s.r))
			continue;
		sleeps++;
		struct pollfd pf = {.fd = s.kick[0], .events = POLLIN};
		if (poll(&pf, 1, 10000) != 1)
			fail_msg("consumer asleep for 10 s with %llu of %d writes handled",
				 (unsigned long long)got, PRODUCERS * PER_PRODUCER);
		char c;
		assert_int_equal(read(s.kick[0], &c, 1), 1);
		post_ring_awake(s.r);
	}
	for (int i = 0; i < PRODUCERS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(next[i], PER_PRODUCER);
	}
	assert_null(post_ring_peek(s.r));
	print_message("consumer slept %llu times\n", (unsigned long long)sleeps);
	close(s.kick[0]);
	close(s.kick[1]);
	free(s.r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order_and_full),
	    cmocka_unit_test(test_unpublished_slot_blocks),
	    cmocka_unit_test(test_sleep_and_kick),
	    cmocka_unit_test(test_producers_and_sleeping_consumer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
