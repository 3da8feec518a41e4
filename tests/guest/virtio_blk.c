/* A hostile driver for the virtio-blk device at 0x10001000 (run with
 * --drive on an image whose sector 0 starts with "shoal-disk"): after a
 * proper set-up and good requests, it posts malformed chains - a loop, a
 * buffer past the end of RAM, an address outside RAM, more descriptors than
 * the queue holds, a device-readable buffer for a read, an unknown type -
 * and checks each fails alone (IOERR/UNSUPP status, or a used entry with
 * nothing written when there is no status byte) while good requests keep
 * working. The interrupt status is read and acknowledged through the
 * shadow page. Failed checks exit with their own status. */
#include "guest.h"
#include "virtq.h"

#define VIO ((volatile uint32_t *)0x10001000ul)
#define R(off) VIO[(off) / 4]
#define RAM_END 0x88000000ul /* 128 MiB of RAM */

static struct virtq q;

static struct {
	uint32_t type, reserved;
	uint64_t sector;
} hdr;
static uint8_t data[512] __attribute__((aligned(512)));
static volatile uint8_t status;

static void d(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	q.d[i] = (struct vq_desc){.addr = addr, .len = len, .flags = flags, .next = next};
}

/* Offers head 0, notifies, waits (bounded) for the used entry; returns its
 * length, or -1 if the device never answered. */
static long run(void)
{
	status = 0xee;
	virtq_offer(&q, 0);
	R(0x050) = 0;
	return virtq_take(&q, 0, 50000000);
}

/* A well-formed request: header, data (512 bytes), status. */
static long request(uint32_t type, uint64_t sector, int data_writable)
{
	hdr.type = type;
	hdr.sector = sector;
	d(0, (uint64_t)&hdr, 16, VQ_F_NEXT, 1);
	d(1, (uint64_t)data, 512, VQ_F_NEXT | (data_writable ? VQ_F_WRITE : 0), 2);
	d(2, (uint64_t)&status, 1, VQ_F_WRITE, 0);
	return run();
}

int main(uint64_t hartid)
{
	if (hartid != 0)
		guest_park();
	CHECK(R(0x000) == 0x74726976u && R(0x004) == 2 && R(0x008) == 2, 10);
	R(0x070) = 0;
	R(0x070) = 1 | 2;
	R(0x014) = 1;
	CHECK(R(0x010) & 1, 11); /* VERSION_1 offered */
	R(0x024) = 1;
	R(0x020) = 1;
	R(0x024) = 0;
	R(0x020) = 0;
	R(0x070) = 1 | 2 | 8;
	CHECK(R(0x070) & 8, 12);
	R(0x030) = 0;
	CHECK(R(0x034) >= VQ_N, 13);
	R(0x038) = VQ_N;
	R(0x080) = (uint32_t)(uint64_t)q.d;
	R(0x084) = 0;
	R(0x090) = (uint32_t)(uint64_t)&q.avail;
	R(0x094) = 0;
	R(0x0a0) = (uint32_t)(uint64_t)&q.used;
	R(0x0a4) = 0;
	R(0x044) = 1;
	CHECK(R(0x044) == 1, 14);
	R(0x070) = 1 | 2 | 4 | 8;

	/* 1: a read of sector 0, the interrupt status and its ack */
	CHECK(request(0, 0, 1) == 513 && status == 0, 20);
	CHECK(data[0] == 's' && data[6] == 'd' && data[9] == 'k', 21);
	CHECK(R(0x060) & 1, 22);
	R(0x064) = 1;
	CHECK((R(0x060) & 1) == 0, 23);
	/* 2: a write of sector 1, read back */
	for (int i = 0; i < 512; i++)
		data[i] = (uint8_t)(i * 7);
	CHECK(request(1, 1, 0) == 1 && status == 0, 24);
	for (int i = 0; i < 512; i++)
		data[i] = 0;
	CHECK(request(0, 1, 1) == 513 && status == 0 && data[3] == 21 && data[511] == (uint8_t)(511 * 7),
	      25);

	/* 3: a loop (0 -> 1 -> 0): no last descriptor, so no status byte;
	 * the request still completes, with nothing written */
	hdr.type = 0;
	hdr.sector = 0;
	d(0, (uint64_t)&hdr, 16, VQ_F_NEXT, 1);
	d(1, (uint64_t)data, 512, VQ_F_NEXT | VQ_F_WRITE, 0);
	CHECK(run() == 0 && status == 0xee, 30);
	/* 4: a buffer running past the end of RAM */
	d(0, (uint64_t)&hdr, 16, VQ_F_NEXT, 1);
	d(1, RAM_END - 256, 512, VQ_F_NEXT | VQ_F_WRITE, 2);
	d(2, (uint64_t)&status, 1, VQ_F_WRITE, 0);
	CHECK(run() == 1 && status == 1, 31);
	/* 5: an address outside RAM (the boot ROM) */
	d(1, 0x1000, 512, VQ_F_NEXT | VQ_F_WRITE, 2);
	CHECK(run() == 1 && status == 1, 32);
	/* 6: more descriptors than the queue holds (all VQ_N in a cycle) */
	for (unsigned i = 0; i < VQ_N; i++)
		d(i, (uint64_t)&hdr, 16, VQ_F_NEXT, (uint16_t)((i + 1) % VQ_N));
	CHECK(run() == 0 && status == 0xee, 33);
	/* 7: a read into a buffer the device may only read */
	CHECK(request(0, 0, 0) == 1 && status == 1, 34);
	/* 8: an unknown request type */
	CHECK(request(99, 0, 1) == 1 && status == 2, 35);
	/* 9: a read past the end of the disk */
	CHECK(request(0, 1u << 30, 1) == 1 && status == 1, 36);

	/* The device is still there and serving: a read, and get-id. */
	CHECK(request(0, 1, 1) == 513 && status == 0 && data[3] == 21, 40);
	CHECK(request(8, 0, 1) >= 1 && status == 0 && data[0] == 'h' && data[1] == 'o', 41);
	guest_puts("virtio-blk: hostile chains failed alone; the device kept serving\n");
	return 0;
}
