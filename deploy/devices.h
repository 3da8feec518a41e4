/** @file
 * The VM's device processes: the fixed board devices (UART, RTC) and the
 * virtio-mmio devices the command line asks for, each with its window,
 * interrupt, shadow page and shoal-dev arguments. */
#ifndef SHOAL_DEVICES_H
#define SHOAL_DEVICES_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define DEV_MAX 16
#define VIRTIO_MMIO_BASE 0x10001000ull /* slot i at BASE + i * 0x1000, PLIC source 1 + i */
#define VIRTIO_MMIO_SLOTS 8

/** One device process and what the vCPUs and the device tree know of it. */
struct dev_spec {
	char name[32];
	const char *type;	       /* shoal-dev --type */
	const char *node, *compatible; /* device-tree node, or NULL (boot.c writes it) */
	uint64_t base, size;
	uint32_t irq;
	int shadow;    /* shadow page index, -1 for none */
	int console;   /* stdin is the console pipe */
	int needs_ram; /* maps guest RAM (virtqueues) */
	char args[PATH_MAX + 64];
	/* virtio-net: its backend, set up by shoal and inherited as fd 3. */
	enum { NET_NONE, NET_USER, NET_TAP } net;
	char ifname[16];     /* NET_TAP */
	char hostfwd[8][64]; /* NET_USER: rules for shoal-net */
	unsigned nhostfwd;
	int vcon; /* virtio-console: shoal relays RUNDIR/NAME.sock (deploy/vcon.h) */
};

/** The VM's devices, in window order. */
struct dev_list {
	struct dev_spec dev[DEV_MAX];
	unsigned n;
	unsigned nshadow; /* shadow pages to ask shoal-mem for */
	unsigned nvirtio; /* virtio-mmio slots used */
};

/** Fills `l` with the board's fixed devices (UART with shadow 0, RTC). */
void devices_init(struct dev_list *l);

/** Adds a virtio-blk disk from a --drive value
 * ("file=PATH[,readonly=on|off][,cache=writeback|none][,id=NAME]"; ",," is
 * a literal comma in PATH; cache=none asks for O_DIRECT). Checks that the image exists and opens in
 * the wanted mode. Returns 0, or -EINVAL with a one-line reason in `why`. */
int devices_add_drive(struct dev_list *l, const char *spec, char *why, size_t why_len);

/** Adds a virtio-net from a --net value: "user[,hostfwd=RULE]..." (RULE as
 * QEMU's: tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT) or
 * "tap,ifname=NAME". Returns 0, or -EINVAL with a one-line reason. */
int devices_add_net(struct dev_list *l, const char *spec, char *why, size_t why_len);

/** Adds a virtio-console ("vcon0") relayed to RUNDIR/vcon0.sock. Returns
 * 0, or -EINVAL with a reason (no slot left). */
int devices_add_vconsole(struct dev_list *l, char *why, size_t why_len);

/** Adds a virtio-rng fed by the host's getrandom(). Returns 0, or -EINVAL
 * with a reason (no slot left). */
int devices_add_rng(struct dev_list *l, char *why, size_t why_len);

#endif
