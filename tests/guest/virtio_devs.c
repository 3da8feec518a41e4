/* A bare-metal driver for shoal's other virtio devices, run with
 * --rng on --net user --vconsole on (slots 0, 1, 2): the virtio-rng fills a
 * buffer; the virtio-net sends an ARP request for the gateway 10.0.2.2 and
 * gets the user-mode network's ARP reply; the virtio-console takes a line
 * of output. Each device is set up as a driver would (features, queues,
 * DRIVER_OK). Failed checks exit with their own status. */
#include "guest.h"
#include "virtq.h"

#define SLOT(i) ((volatile uint32_t *)(0x10001000ul + 0x1000ul * (i)))

static struct virtq queues[3][2];

static void reg(volatile uint32_t *r, unsigned off, uint32_t v)
{
	r[off / 4] = v;
}

/* Brings slot `s` up with device features `feat0` (low word) accepted and
 * `nq` queues; returns 0 if the device is not `id`. */
static int setup(unsigned s, uint32_t id, uint32_t feat0, unsigned nq)
{
	volatile uint32_t *r = SLOT(s);
	if (r[0] != 0x74726976u || r[1] != 2 || r[2] != id)
		return 0;
	reg(r, 0x070, 0);
	reg(r, 0x070, 1 | 2);
	reg(r, 0x024, 1);
	reg(r, 0x020, 1); /* VERSION_1 */
	reg(r, 0x024, 0);
	reg(r, 0x020, feat0);
	reg(r, 0x070, 1 | 2 | 8);
	if (!(r[0x070 / 4] & 8))
		return 0;
	for (unsigned q = 0; q < nq; q++) {
		struct virtq *v = &queues[s][q];
		reg(r, 0x030, q);
		reg(r, 0x038, VQ_N);
		reg(r, 0x080, (uint32_t)(uint64_t)v->d);
		reg(r, 0x084, 0);
		reg(r, 0x090, (uint32_t)(uint64_t)&v->avail);
		reg(r, 0x094, 0);
		reg(r, 0x0a0, (uint32_t)(uint64_t)&v->used);
		reg(r, 0x0a4, 0);
		reg(r, 0x044, 1);
	}
	reg(r, 0x070, 1 | 2 | 4 | 8);
	return 1;
}

/* Offers descriptor `head` (already filled) on queue `q` of slot `s`. */
static void offer(unsigned s, unsigned q, uint16_t head, int notify)
{
	virtq_offer(&queues[s][q], head);
	if (notify)
		reg(SLOT(s), 0x050, q);
}

/* Waits (bounded) for the next used entry; returns its length and head, or
 * -1 when none came. */
static long take(unsigned s, unsigned q, uint16_t *head)
{
	return virtq_take(&queues[s][q], head, 200000000);
}

static uint8_t rng_buf[64];
static uint8_t rx[2][1600];
static uint8_t tx[12 + 42];
static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x57}; /* slot 1 */

int main(uint64_t hartid)
{
	if (hartid != 0)
		guest_park();

	/* virtio-rng: 64 random bytes */
	CHECK(setup(0, 4, 0, 1), 10);
	queues[0][0].d[0] = (struct vq_desc){(uint64_t)rng_buf, sizeof(rng_buf), VQ_F_WRITE, 0};
	offer(0, 0, 0, 1);
	CHECK(take(0, 0, 0) == sizeof(rng_buf), 11);
	int nonzero = 0;
	for (unsigned i = 0; i < sizeof(rng_buf); i++)
		nonzero += rng_buf[i] != 0;
	CHECK(nonzero > 32, 12);
	guest_puts("virtio: rng ok\n");

	/* virtio-net: the config space holds our MAC; ARP for 10.0.2.2 */
	CHECK(setup(1, 1, 1u << 5, 2), 20);
	volatile uint8_t *cfg = (volatile uint8_t *)SLOT(1) + 0x100;
	for (int i = 0; i < 6; i++)
		CHECK(cfg[i] == mac[i], 21);
	for (uint16_t i = 0; i < 2; i++) {
		queues[1][0].d[i] = (struct vq_desc){(uint64_t)rx[i], sizeof(rx[i]), VQ_F_WRITE, 0};
		offer(1, 0, i, i == 1);
	}
	uint8_t *f = tx + 12; /* after the 12-byte virtio-net header */
	static const uint8_t arp[42] = {
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x57, 0x08, 0x06,
	    0x00, 0x01, 0x08, 0x00, 6,	  4,    0x00, 0x01, /* request */
	    0x52, 0x54, 0x00, 0x12, 0x34, 0x57, 10,   0,    2,	  15, /* sender */
	    0,	  0,	0,    0,    0,	  0,	10,   0,    2,	  2}; /* target 10.0.2.2 */
	for (int i = 0; i < 42; i++)
		f[i] = arp[i];
	queues[1][1].d[0] = (struct vq_desc){(uint64_t)tx, sizeof(tx), 0, 0};
	offer(1, 1, 0, 1);
	CHECK(take(1, 1, 0) == 0, 22); /* transmitted */
	uint16_t head = 9;
	long len = take(1, 0, &head);
	CHECK(len >= 12 + 42 && head < 2, 23);
	const uint8_t *r = rx[head] + 12;
	CHECK(r[12] == 0x08 && r[13] == 0x06 && r[21] == 2, 24); /* an ARP reply */
	CHECK(r[28] == 10 && r[29] == 0 && r[30] == 2 && r[31] == 2, 25); /* from 10.0.2.2 */
	guest_puts("virtio: net ok (ARP reply from 10.0.2.2)\n");

	/* virtio-console: one line out (nobody listens: the relay drops it) */
	CHECK(setup(2, 3, 0, 2), 30);
	static const char line[] = "hello from the virtio-console\n";
	queues[2][1].d[0] = (struct vq_desc){(uint64_t)line, sizeof(line) - 1, 0, 0};
	offer(2, 1, 0, 1);
	CHECK(take(2, 1, 0) == 0, 31);
	guest_puts("virtio: console ok\n");
	return 0;
}
