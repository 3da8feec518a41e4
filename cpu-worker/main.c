/* shoal-cpu: one process per hart. Maps guest RAM and the board page from
 * shoal-mem, connects a DEALER to every device, and runs the interpreter.
 *
 * Usage (spawned by shoal):
 *   shoal-cpu --hart I --mem-sock PATH --ram-nodes K --entry ADDR
 *             [--tohost ADDR] [--dtb ADDR] [--rom FILE]
 *             [--dev NAME,BASE,SIZE,ENDPOINT,SHADOW,IRQ]...
 *             [--jit RUNDIR --jit-threshold N [--jit-sync 0|1]]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zmq.h>

#include "../common/log.h"
#include "../common/memclient.h"
#include "../common/util.h"

#define ROM_BASE 0x1000ull /* the boot ROM: every hart starts here with firmware */
#define ROM_SIZE 0x1000ull
#include "../common/zmsg.h"
#include "hart.h"

static struct hart the_hart;

static void fail(const char *arg, const char *what)
{
	log_err("%s: %s", arg, what);
	exit(2);
}

/* NAME,BASE,SIZE,ENDPOINT,SHADOW (SHADOW is a shadow index or -) */
static void parse_dev(struct hart *h, const char *spec, void *zctx, int memsock)
{
	if (h->ndev == HART_MAX_DEVS)
		fail(spec, "too many devices");
	char buf[512], *f[6], *save = NULL;
	snprintf(buf, sizeof(buf), "%s", spec);
	int n = 0;
	for (char *t = strtok_r(buf, ",", &save); t && n < 6; t = strtok_r(NULL, ",", &save))
		f[n++] = t;
	if (n != 6)
		fail(spec, "expected NAME,BASE,SIZE,ENDPOINT,SHADOW,IRQ");
	struct dev_window *d = &h->dev[h->ndev];
	snprintf(d->name, sizeof(d->name), "%s", f[0]);
	if (util_parse_u64(f[1], 0, ~0ull, &d->base) ||
	    util_parse_u64(f[2], 1, 1ull << 32, &d->size))
		fail(spec, "bad device base or size");
	d->sock = zmsg_dealer(zctx, f[3]);
	if (!d->sock)
		fail(f[3], zmq_strerror(errno));
	uint64_t irq;
	if (util_parse_u64(f[5], 0, PLIC_SOURCES - 1, &irq))
		fail(spec, "bad PLIC source");
	d->irq = (uint32_t)irq;
	if (strcmp(f[4], "-") != 0) {
		uint64_t idx, sz;
		char why[256];
		if (util_parse_u64(f[4], 0, 63, &idx))
			fail(spec, "bad shadow index");
		d->shadow = memclient_map_region(memsock, REGION_SHADOW, (uint32_t)idx, &sz, why,
						 sizeof(why));
		if (!d->shadow)
			fail(d->name, why);
	}
	h->ndev++;
}

/* Reads the boot ROM image shoal wrote; the copy is private and the guest
 * cannot write it (the TLB never gives ROM pages a write tag). */
static int load_rom(struct hart *h, const char *path)
{
	static uint8_t rom[ROM_SIZE];
	FILE *f = fopen(path, "rb");
	size_t n = f ? fread(rom, 1, sizeof(rom), f) : 0;
	if (f)
		fclose(f);
	if (n != sizeof(rom)) {
		log_err("cannot read the boot ROM %s", path);
		return -1;
	}
	h->rom = rom;
	h->rom_base = ROM_BASE;
	h->rom_size = ROM_SIZE;
	return 0;
}

int main(int argc, char **argv)
{
	struct hart *h = &the_hart;
	uint64_t hartid = 0, nodes = 1, entry = RAM_BASE, tohost = 1, dtb = 0;
	const char *memsock_path = NULL, *rom_path = NULL, *jit_dir = NULL;
	uint64_t jit_threshold = 0, jit_sync = 0;
	const char *devs[HART_MAX_DEVS];
	unsigned ndevs = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			fail(a, "missing value");
		i++;
		int r = 0;
		if (strcmp(a, "--hart") == 0)
			r = util_parse_u64(v, 0, BOARD_MAX_HARTS - 1, &hartid);
		else if (strcmp(a, "--ram-nodes") == 0)
			r = util_parse_u64(v, 1, MEM_MAX_NODES, &nodes);
		else if (strcmp(a, "--entry") == 0)
			r = util_parse_u64(v, 0, ~0ull, &entry);
		else if (strcmp(a, "--tohost") == 0)
			r = util_parse_u64(v, 0, ~0ull, &tohost);
		else if (strcmp(a, "--dtb") == 0)
			r = util_parse_u64(v, 0, ~0ull, &dtb);
		else if (strcmp(a, "--mem-sock") == 0)
			memsock_path = v;
		else if (strcmp(a, "--rom") == 0)
			rom_path = v;
		else if (strcmp(a, "--jit") == 0)
			jit_dir = v;
		else if (strcmp(a, "--jit-sync") == 0)
			r = util_parse_u64(v, 0, 1, &jit_sync);
		else if (strcmp(a, "--jit-threshold") == 0)
			r = util_parse_u64(v, 1, UINT32_MAX, &jit_threshold);
		else if (strcmp(a, "--dev") == 0 && ndevs < HART_MAX_DEVS)
			devs[ndevs++] = v;
		else
			fail(a, "unknown option (shoal-cpu is started by shoal)");
		if (r)
			fail(v, "bad number");
	}
	char name[32];
	snprintf(name, sizeof(name), "shoal-cpu[%llu]", (unsigned long long)hartid);
	log_init(name);
	if (!memsock_path)
		fail("shoal-cpu", "needs --mem-sock (it is started by shoal)");

	int ms = memclient_connect(memsock_path);
	if (ms < 0) {
		log_err("cannot reach shoal-mem at %s: %s", memsock_path, strerror(-ms));
		return 1;
	}
	char why[256];
	struct guest_ram ram;
	if (memclient_map_ram(ms, (uint32_t)nodes, &ram, why, sizeof(why))) {
		log_err("%s", why);
		return 1;
	}
	uint64_t bsz;
	struct board *board = memclient_map_region(ms, REGION_BOARD, 0, &bsz, why, sizeof(why));
	if (!board) {
		log_err("%s", why);
		return 1;
	}
	if (hartid >= board->nharts || bsz < board_size(board->nharts)) {
		log_err("hart %llu does not exist on a board of %u harts",
			(unsigned long long)hartid, board->nharts);
		return 1;
	}
	void *zctx = zmq_ctx_new();
	for (unsigned i = 0; i < ndevs; i++)
		parse_dev(h, devs[i], zctx, ms);
	close(ms);

	hart_reset(h, (uint32_t)hartid);
	h->ram = ram.host;
	h->ram_size = ram.size;
	h->board = board;
	h->bh = &board->hart[hartid];
	h->tohost = tohost & ~7ull;
	if (tohost == 1)
		h->tohost = 1;
	if (jit_dir)
		jit_init(h, jit_dir, (uint32_t)jit_threshold, (int)jit_sync);
	board_wait_images(board); /* shoal copies them while the vCPUs start */
	if (rom_path && load_rom(h, rom_path))
		return 1;
	h->pc = entry;
	h->x[10] = hartid;
	h->x[11] = dtb;
	__atomic_store_n(&h->bh->running, 1, __ATOMIC_RELEASE);
	hart_run(h);
}
