/** @file
 * Firmware boot of the virt machine: the boot ROM every hart starts in, the
 * Linux Image header check, and the device tree generated from the
 * configuration. Pure functions over caller-owned buffers, so they are unit
 * tested without a VM. */
#ifndef SHOAL_BOOT_H
#define SHOAL_BOOT_H

#include <stddef.h>
#include <stdint.h>

#define BOOT_ROM_BASE 0x1000ull
#define BOOT_ROM_SIZE 0x1000ull
#define BOOT_KERNEL_OFFSET 0x200000ull /* Image load address from the start of RAM */
#define BOOT_MAX_NODES 16

/** One guest NUMA node: a RAM range and the harts in it. */
struct boot_node {
	uint64_t base, size;
	uint32_t first_cpu, ncpus;
};

/** A simple MMIO device node under /soc: one register window and at most
 * one PLIC interrupt. */
struct boot_dev {
	const char *node;	/* node name without the unit address */
	const char *compatible; /* one compatible string */
	uint64_t base, size;
	uint32_t irq; /* PLIC source, 0 for none */
};

#define BOOT_MAX_DEVS 32

/** What the device tree describes. Strings are the caller's. */
struct boot_config {
	uint32_t nharts;
	uint32_t nnodes; /* 1 without --numa: no numa-node-id properties */
	int numa;	 /* emit numa-node-id and distance-map */
	struct boot_node node[BOOT_MAX_NODES];
	const char *bootargs;		   /* may be NULL */
	uint64_t initrd_start, initrd_end; /* both 0 without an initrd */
	const char *isa;		   /* riscv,isa string of every hart */
	uint32_t ndevs;
	struct boot_dev dev[BOOT_MAX_DEVS]; /* besides CLINT, PLIC, UART, syscon */
};

/** Writes the boot ROM into `rom` (BOOT_ROM_SIZE bytes): each hart starts at
 * BOOT_ROM_BASE with a0 = mhartid, a1 = `dtb`, a2 = an OpenSBI fw_dynamic
 * info record (version 2, boot hart 0) that names `next` as the S-mode
 * entry, and jumps to `firmware`. */
void boot_rom_build(uint8_t *rom, uint64_t firmware, uint64_t dtb, uint64_t next);

/** Checks that `data` (`len` bytes) is a RISC-V Linux Image that fits in
 * `room` bytes. Returns 0, or -EINVAL with a reason in `why`. */
int boot_image_check(const uint8_t *data, size_t len, uint64_t room, char *why, size_t why_len);

/** Builds the device tree for `cfg` into `buf` (`cap` bytes). Returns 0 or a
 * negative errno with a reason in `why`. */
int boot_fdt_build(void *buf, size_t cap, const struct boot_config *cfg, char *why, size_t why_len);

#endif
