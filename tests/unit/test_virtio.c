/* virtio-mmio transport and split virtqueues over plain memory: descriptor
 * chains a hostile guest can write, feature negotiation, queue set-up
 * checks, and recovery from every point a device can die between taking a
 * request from the avail ring and publishing it in the used ring. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../common/memclient.h"
#include "../../dev-server/virtio.h"

#define RAM_SIZE (1u << 20)
#define QNUM 8
#define DESC (RAM_BASE + 0x1000)
#define AVAIL (RAM_BASE + 0x2000)
#define USED (RAM_BASE + 0x3000)
#define BUF (RAM_BASE + 0x10000)

#define F_NEXT 1
#define F_WRITE 2
#define F_INDIRECT 4

struct fixture {
	struct device dev;
	struct virtio_dev v;
	uint8_t *ram;
	unsigned notified, resubmitted;
	uint16_t resubmit_order[QNUM];
};

static struct fixture *fx; /* the ops callbacks reach the fixture here */

static void fake_notify(struct virtio_dev *v, unsigned q)
{
	(void)v;
	(void)q;
	fx->notified++;
}

static void fake_resubmit(struct virtio_dev *v, unsigned q, uint16_t head)
{
	(void)v;
	(void)q;
	fx->resubmit_order[fx->resubmitted++] = head;
}

static unsigned fake_config(struct virtio_dev *v, uint8_t *cfg, unsigned cap)
{
	(void)v;
	(void)cap;
	memcpy(cfg, "\x11\x22\x33\x44", 4);
	return 4;
}

static const struct virtio_ops fake_ops = {
    .device_id = 42,
    .nqueues = 1,
    .features = 1ull << 3,
    .config = fake_config,
    .notify = fake_notify,
    .resubmit = fake_resubmit,
};

static void *g(uint64_t gpa)
{
	return fx->ram + (gpa - RAM_BASE);
}

static void wr32(uint64_t off, uint32_t v)
{
	virtio_mmio_write(&fx->v, off, 4, v);
}

static uint32_t rd32(uint64_t off)
{
	return (uint32_t)virtio_mmio_read(&fx->v, off, 4);
}

/* Brings the device up as a driver would: features, one queue of QNUM. */
static void driver_setup(void)
{
	wr32(0x070, 1 | 2);
	wr32(0x024, 1);
	wr32(0x020, 1); /* VERSION_1 */
	wr32(0x024, 0);
	wr32(0x020, 1u << 3);
	wr32(0x070, 1 | 2 | 8);
	assert_true(rd32(0x070) & 8);
	wr32(0x030, 0);
	wr32(0x038, QNUM);
	wr32(0x080, (uint32_t)DESC);
	wr32(0x084, (uint32_t)(DESC >> 32));
	wr32(0x090, (uint32_t)AVAIL);
	wr32(0x094, 0);
	wr32(0x0a0, (uint32_t)USED);
	wr32(0x0a4, 0);
	wr32(0x044, 1);
	assert_int_equal(rd32(0x044), 1);
	wr32(0x070, 1 | 2 | 4 | 8);
}

static int setup(void **state)
{
	fx = calloc(1, sizeof(*fx));
	fx->ram = calloc(1, RAM_SIZE);
	fx->dev.shadow = calloc(1, SHADOW_SIZE);
	fx->dev.board = calloc(1, board_size(1));
	fx->dev.board->nharts = 1;
	fx->dev.irq = 3;
	fx->dev.ram = fx->ram;
	fx->dev.ram_size = RAM_SIZE;
	snprintf(fx->dev.name, sizeof(fx->dev.name), "test");
	assert_int_equal(virtio_init(&fx->v, &fx->dev, &fake_ops), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(fx->ram);
	free(fx->dev.shadow);
	free(fx->dev.board);
	free(fx);
	return 0;
}

static void desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = g(DESC + 16ull * i);
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

/* Puts `head` in the avail ring and bumps its index. */
static void offer(uint16_t head)
{
	uint16_t *idx = g(AVAIL + 2);
	uint16_t *ring = g(AVAIL + 4);
	ring[*idx % QNUM] = head;
	(*idx)++;
}

static uint16_t used_idx(void)
{
	return *(uint16_t *)g(USED + 2);
}

static void test_identity_in_shadow(void **state)
{
	(void)state;
	struct shadow *s = fx->dev.shadow;
	assert_true(shadow_readable(s, 0x000, 4));
	assert_true(shadow_readable(s, 0x060, 4));  /* interrupt status */
	assert_true(shadow_readable(s, 0x100, 4));  /* config space */
	assert_false(shadow_readable(s, 0x070, 4)); /* status: a round trip */
	assert_memory_equal(&s->regs[0x100], "\x11\x22\x33\x44", 4);
	assert_int_equal(rd32(0x000), 0x74726976u);
	assert_int_equal(rd32(0x004), 2);
	assert_int_equal(rd32(0x008), 42);
	assert_int_equal(s->ack_off, 0x064);
}

static void test_features(void **state)
{
	(void)state;
	wr32(0x014, 1);
	assert_int_equal(rd32(0x010), 1); /* VERSION_1 is bit 32 */
	wr32(0x014, 0);
	assert_int_equal(rd32(0x010), 1u << 3);
	/* A feature not offered: FEATURES_OK does not stick. */
	wr32(0x024, 1);
	wr32(0x020, 1);
	wr32(0x024, 0);
	wr32(0x020, (1u << 3) | (1u << 5));
	wr32(0x070, 1 | 2 | 8);
	assert_false(rd32(0x070) & 8);
	/* A legacy driver (no VERSION_1) is refused too. */
	wr32(0x070, 0);
	wr32(0x024, 0);
	wr32(0x020, 1u << 3);
	wr32(0x070, 1 | 2 | 8);
	assert_false(rd32(0x070) & 8);
	wr32(0x070, 0);
	driver_setup();
}

static void test_queue_checks(void **state)
{
	(void)state;
	wr32(0x070, 1 | 2);
	wr32(0x030, 0);
	assert_int_equal(rd32(0x034), VQ_MAX_SIZE);
	wr32(0x030, 1); /* no such queue */
	assert_int_equal(rd32(0x034), 0);
	wr32(0x030, 0);
	wr32(0x038, 6); /* not a power of two */
	wr32(0x080, (uint32_t)DESC);
	wr32(0x090, (uint32_t)AVAIL);
	wr32(0x0a0, (uint32_t)USED);
	wr32(0x044, 1);
	assert_int_equal(rd32(0x044), 0);
	wr32(0x038, 2 * VQ_MAX_SIZE); /* too big */
	wr32(0x044, 1);
	assert_int_equal(rd32(0x044), 0);
	wr32(0x038, QNUM);
	wr32(0x0a0, (uint32_t)(RAM_BASE + RAM_SIZE - 8)); /* used ring past RAM */
	wr32(0x044, 1);
	assert_int_equal(rd32(0x044), 0);
	wr32(0x0a0, (uint32_t)USED + 2); /* misaligned */
	wr32(0x044, 1);
	assert_int_equal(rd32(0x044), 0);
	wr32(0x0a0, (uint32_t)USED);
	wr32(0x044, 1);
	assert_int_equal(rd32(0x044), 1);
}

static void test_good_chain(void **state)
{
	(void)state;
	driver_setup();
	desc(0, BUF, 16, F_NEXT, 3);
	desc(3, BUF + 0x100, 512, F_NEXT | F_WRITE, 5);
	desc(5, BUF + 0x400, 1, F_WRITE, 0);
	offer(0);
	uint16_t head = 99;
	assert_int_equal(vq_pop(&fx->v, 0, &head), 1);
	assert_int_equal(head, 0);
	struct vq_elem e;
	vq_parse_chain(&fx->v, 0, head, &e);
	assert_false(e.bad);
	assert_int_equal(e.nout, 1);
	assert_int_equal(e.nin, 2);
	assert_int_equal(e.out_len, 16);
	assert_int_equal(e.in_len, 513);
	assert_ptr_equal(e.status, g(BUF + 0x400));
	assert_int_equal(vq_pop(&fx->v, 0, &head), 0); /* empty now */
	vq_push(&fx->v, 0, 0, 513);
	vq_flush(&fx->v, 0);
	assert_int_equal(used_idx(), 1);
	assert_int_equal(((uint32_t *)g(USED + 4))[0], 0);
	assert_int_equal(((uint32_t *)g(USED + 4))[1], 513);
	/* The interrupt: status bit 0 and the PLIC line. */
	assert_int_equal(*shadow_isr(fx->dev.shadow), 1);
	assert_true(fx->dev.board->plic.level[0] & (1u << 3));
	shadow_isr_ack(fx->dev.shadow, fx->dev.board, 1);
	assert_false(fx->dev.board->plic.level[0] & (1u << 3));
}

/* Parses a chain at head 0 after the set-up `build` wrote it. */
static struct vq_elem parse0(void)
{
	struct vq_elem e;
	vq_parse_chain(&fx->v, 0, 0, &e);
	return e;
}

static void test_hostile_chains(void **state)
{
	(void)state;
	driver_setup();
	struct vq_elem e;
	/* A loop: 0 -> 1 -> 0. No final descriptor, so no status byte. */
	desc(0, BUF, 16, F_NEXT, 1);
	desc(1, BUF + 16, 16, F_NEXT, 0);
	e = parse0();
	assert_true(e.bad);
	assert_null(e.status);
	/* A length past the end of RAM; the status byte is still found. */
	desc(0, BUF, 16, F_NEXT, 1);
	desc(1, RAM_BASE + RAM_SIZE - 8, 64, F_NEXT | F_WRITE, 2);
	desc(2, BUF + 0x400, 1, F_WRITE, 0);
	e = parse0();
	assert_true(e.bad);
	assert_ptr_equal(e.status, g(BUF + 0x400));
	/* An address below RAM, and one that wraps around. */
	desc(1, 0x1000, 64, F_NEXT | F_WRITE, 2);
	e = parse0();
	assert_true(e.bad);
	desc(1, ~0ull - 8, 64, F_NEXT | F_WRITE, 2);
	e = parse0();
	assert_true(e.bad);
	/* A next index beyond the queue. */
	desc(1, BUF, 64, F_NEXT | F_WRITE, QNUM + 5);
	e = parse0();
	assert_true(e.bad);
	/* Readable after writable. */
	desc(0, BUF, 16, F_NEXT | F_WRITE, 1);
	desc(1, BUF + 16, 16, F_NEXT, 2);
	desc(2, BUF + 0x400, 1, F_WRITE, 0);
	e = parse0();
	assert_true(e.bad);
	/* Indirect without the feature. */
	desc(0, BUF, 16, F_NEXT | F_INDIRECT, 2);
	e = parse0();
	assert_true(e.bad);
	/* More descriptors than the queue holds (a long cycle through all). */
	for (unsigned i = 0; i < QNUM; i++)
		desc(i, BUF, 16, F_NEXT, (uint16_t)((i + 1) % QNUM));
	e = parse0();
	assert_true(e.bad);
	/* A head out of range in the avail ring is skipped, not taken. */
	uint16_t head;
	offer(QNUM + 1);
	assert_int_equal(vq_pop(&fx->v, 0, &head), 0);
	/* A head offered twice while in flight: the second is skipped. */
	desc(0, BUF, 16, 0, 0);
	offer(0);
	offer(0);
	assert_int_equal(vq_pop(&fx->v, 0, &head), 1);
	assert_int_equal(vq_pop(&fx->v, 0, &head), 0);
}

static struct vq_state *q0(void)
{
	return &fx->v.st->q[0];
}

/* Runs recovery as a restarted device would and returns redone heads. */
static unsigned recover(void)
{
	fx->resubmitted = 0;
	virtio_recover(&fx->v);
	return fx->resubmitted;
}

/* Crash points of a pop: after marking busy (last_avail not advanced),
 * after advancing. Either way the request is redone once, and the avail
 * entry is not taken a second time. */
static void test_recover_pop(void **state)
{
	(void)state;
	driver_setup();
	desc(2, BUF, 16, 0, 0);
	offer(2);
	/* The state a crash between "busy" and "last_avail++" leaves. */
	q0()->inflight[2].avail_idx = q0()->last_avail;
	q0()->inflight[2].busy = 1;
	assert_int_equal(recover(), 1);
	assert_int_equal(fx->resubmit_order[0], 2);
	assert_int_equal(q0()->last_avail, 1);
	uint16_t head;
	assert_int_equal(vq_pop(&fx->v, 0, &head), 0);
	/* After "last_avail++": in flight, redone again on another restart. */
	assert_int_equal(recover(), 1);
	assert_int_equal(q0()->last_avail, 1);
	vq_push(&fx->v, 0, 2, 1);
	vq_flush(&fx->v, 0);
	assert_int_equal(used_idx(), 1);
	assert_int_equal(recover(), 0);
}

/* Crash points of a push: after "completing" (used entry not yet written,
 * or written but used_idx not advanced): redone, and the redo fills the
 * same used slot; after used_idx advanced: not redone, and the entry is
 * published by recovery even if the crash came before the flush. */
static void test_recover_push(void **state)
{
	(void)state;
	driver_setup();
	desc(4, BUF, 16, 0, 0);
	offer(4);
	uint16_t head;
	assert_int_equal(vq_pop(&fx->v, 0, &head), 1);
	/* Completing, used slot 0 recorded, used_idx still 0. */
	q0()->inflight[4].busy = 2;
	q0()->inflight[4].avail_idx = 0;
	assert_int_equal(recover(), 1);
	assert_int_equal(q0()->inflight[4].busy, 1);
	/* Completing with used_idx advanced: done, published by recovery. */
	q0()->inflight[4].busy = 2;
	q0()->inflight[4].avail_idx = 0;
	((uint32_t *)g(USED + 4))[0] = 4;
	q0()->used_idx = 1;
	assert_int_equal(used_idx(), 0);
	assert_int_equal(recover(), 0);
	assert_int_equal(q0()->inflight[4].busy, 0);
	assert_int_equal(used_idx(), 1);
	assert_true(*shadow_isr(fx->dev.shadow) & 1);
}

/* Several requests in flight are redone oldest first, across the 16-bit
 * wrap of the ring indices. */
static void test_recover_order(void **state)
{
	(void)state;
	driver_setup();
	*(uint16_t *)g(AVAIL + 2) = 65534;
	q0()->last_avail = 65534;
	q0()->used_idx = 65534;
	*(uint16_t *)g(USED + 2) = 65534;
	const uint16_t heads[4] = {6, 1, 7, 3};
	for (unsigned i = 0; i < 4; i++) {
		desc(heads[i], BUF, 16, 0, 0);
		offer(heads[i]);
	}
	uint16_t head;
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(vq_pop(&fx->v, 0, &head), 1);
		assert_int_equal(head, heads[i]);
	}
	vq_push(&fx->v, 0, 1, 1); /* the second one finished */
	assert_int_equal(recover(), 3);
	assert_int_equal(fx->resubmit_order[0], 6);
	assert_int_equal(fx->resubmit_order[1], 7);
	assert_int_equal(fx->resubmit_order[2], 3);
	assert_int_equal(used_idx(), 65535);
}

/* A restarted device finds its state in the shadow page. */
static void test_restart_finds_state(void **state)
{
	(void)state;
	driver_setup();
	struct virtio_dev again;
	memset(&again, 0, sizeof(again));
	assert_int_equal(virtio_init(&again, &fx->dev, &fake_ops), 1);
	assert_int_equal(again.st->q[0].num, QNUM);
	/* Another device type's page is not taken for ours. */
	struct virtio_ops other = fake_ops;
	other.device_id = 7;
	assert_int_equal(virtio_init(&again, &fx->dev, &other), 0);
	assert_int_equal(again.st->q[0].num, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_identity_in_shadow, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_features, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_checks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_good_chain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_chains, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recover_pop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recover_push, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recover_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restart_finds_state, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
