/* Boot ROM, Image header check and device tree for the virt machine. */
#include "boot.h"

#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#define FW_DYNAMIC_MAGIC 0x4942534full /* "OSBI" */
#define FW_DYNAMIC_VERSION 2
#define FW_NEXT_MODE_S 1

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* I-type instruction: imm[11:0] rs1 funct3 rd opcode. */
static uint32_t itype(uint32_t imm, uint32_t rs1, uint32_t f3, uint32_t rd, uint32_t opc)
{
	return (imm & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc;
}

static uint32_t btype(int32_t off, unsigned rs1, unsigned rs2, unsigned f3)
{
	uint32_t o = (uint32_t)off;
	return (((o >> 12) & 1) << 31) | (((o >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) |
	       (f3 << 12) | (((o >> 1) & 0xf) << 8) | (((o >> 11) & 1) << 7) | 0x63;
}

void boot_rom_build(uint8_t *rom, uint64_t firmware, uint64_t dtb, uint64_t next)
{
	enum { T0 = 5, T1 = 6, T2 = 7, A0 = 10, A1 = 11, A2 = 12 };
	enum { ENTRY_OFF = 64, DTB_OFF = 72, INFO_OFF = 80 };
	memset(rom, 0, BOOT_ROM_SIZE);
	/* Hart 0 enters the firmware at once. The others sleep here until an
	 * IPI: OpenSBI 1.1 picks its cold-boot hart by a lottery among the
	 * harts that reach it, and Linux numbers CPUs from that hart, so an
	 * early arrival would rotate the CPU numbering; harts arriving after
	 * cold boot take OpenSBI's warm path, released by the IPI its HSM
	 * hart_start sends (the pending MSIP is left for OpenSBI). */
	const uint32_t code[] = {
	    0x00000297,						    /* 0: auipc t0, 0 */
	    itype(0xf14, 0, 2, A0, 0x73),			    /* 4: csrr a0, mhartid */
	    btype(32, A0, 0, 0),				    /* 8: beqz a0, 40 */
	    itype(8, 0, 0, T1, 0x13),				    /* 12: li t1, MIP_MSIP */
	    itype(0x304, T1, 2, 0, 0x73),			    /* 16: csrs mie, t1 */
	    0x10500073,						    /* 20: wfi */
	    itype(0x344, 0, 2, T2, 0x73),			    /* 24: csrr t2, mip */
	    (T1 << 20) | (T2 << 15) | (7 << 12) | (T2 << 7) | 0x33, /* 28: and t2, t2, t1 */
	    btype(-12, T2, 0, 0),				    /* 32: beqz t2, 20 */
	    itype(0x304, T1, 3, 0, 0x73),			    /* 36: csrc mie, t1 */
	    itype(INFO_OFF, T0, 0, A2, 0x13),			    /* 40: addi a2, t0, INFO_OFF */
	    itype(DTB_OFF, T0, 3, A1, 0x03),			    /* 44: ld a1, DTB_OFF(t0) */
	    itype(ENTRY_OFF, T0, 3, T0, 0x03),			    /* 48: ld t0, ENTRY_OFF(t0) */
	    itype(0, T0, 0, 0, 0x67),				    /* 52: jr t0 */
	};
	_Static_assert(sizeof(code) <= ENTRY_OFF, "boot ROM code overlaps its data");
	for (size_t i = 0; i < sizeof(code) / sizeof(code[0]); i++)
		put32(rom + 4 * i, code[i]);
	put64(rom + ENTRY_OFF, firmware);
	put64(rom + DTB_OFF, dtb);
	/* struct fw_dynamic_info: magic, version, next_addr, next_mode,
	 * options, boot_hart (hart 0: OpenSBI relocates from it). */
	const uint64_t info[] = {FW_DYNAMIC_MAGIC, FW_DYNAMIC_VERSION, next, FW_NEXT_MODE_S, 0, 0};
	for (size_t i = 0; i < sizeof(info) / sizeof(info[0]); i++)
		put64(rom + INFO_OFF + 8 * i, info[i]);
}

int boot_image_check(const uint8_t *data, size_t len, uint64_t room, char *why, size_t why_len)
{
	/* The header: code0, code1, text_offset, image_size, flags, version,
	 * res1, res2, magic "RISCV\0\0\0" (deprecated), magic2 "RSC\x05", res3. */
	if (len < 64 || memcmp(data + 56, "RSC\x05", 4) != 0) {
		snprintf(why, why_len,
			 "not a RISC-V Linux Image (no 'RSC\\x05' magic at offset 56)");
		return -EINVAL;
	}
	uint64_t image_size = 0;
	for (int i = 0; i < 8; i++)
		image_size |= (uint64_t)data[16 + i] << (8 * i);
	if (image_size < len)
		image_size = len;
	if (image_size > room) {
		snprintf(why, why_len,
			 "the kernel needs %llu bytes from its load address but RAM leaves %llu",
			 (unsigned long long)image_size, (unsigned long long)room);
		return -EINVAL;
	}
	return 0;
}

/* libfdt's sequential writer; every call's error is folded into `err`. */
struct fdtw {
	void *buf;
	int err;
};

static void fw_check(struct fdtw *w, int r)
{
	if (r < 0 && !w->err)
		w->err = r;
}

static void begin(struct fdtw *w, const char *name)
{
	fw_check(w, fdt_begin_node(w->buf, name));
}
static void end(struct fdtw *w)
{
	fw_check(w, fdt_end_node(w->buf));
}
static void prop_u32(struct fdtw *w, const char *name, uint32_t v)
{
	fw_check(w, fdt_property_u32(w->buf, name, v));
}
static void prop_str(struct fdtw *w, const char *name, const char *v)
{
	fw_check(w, fdt_property_string(w->buf, name, v));
}
static void prop_empty(struct fdtw *w, const char *name)
{
	fw_check(w, fdt_property(w->buf, name, NULL, 0));
}
/* A property of big-endian cells. */
static void prop_cells(struct fdtw *w, const char *name, const uint32_t *cells, unsigned n)
{
	fdt32_t be[2048];
	if (n > sizeof(be) / sizeof(be[0])) {
		fw_check(w, -FDT_ERR_NOSPACE);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		be[i] = cpu_to_fdt32(cells[i]);
	fw_check(w, fdt_property(w->buf, name, be, (int)(n * sizeof(fdt32_t))));
}
/* reg = <addr size> with two cells each. */
static void prop_reg(struct fdtw *w, uint64_t addr, uint64_t size)
{
	const uint32_t c[4] = {(uint32_t)(addr >> 32), (uint32_t)addr, (uint32_t)(size >> 32),
			       (uint32_t)size};
	prop_cells(w, "reg", c, 4);
}
/* Stringlists are NUL-separated. */
static void prop_strs(struct fdtw *w, const char *name, const char *list, int len)
{
	fw_check(w, fdt_property(w->buf, name, list, len));
}

/* interrupts-extended = <intc(h) a, intc(h) b> for every hart h. */
static void prop_hart_irqs(struct fdtw *w, uint32_t nharts, uint32_t intc_phandle0, uint32_t a,
			   uint32_t b)
{
	uint32_t ie[4 * 512];
	unsigned k = 0;
	for (uint32_t h = 0; h < nharts && k + 4 <= 4 * 512; h++) {
		ie[k++] = intc_phandle0 + h;
		ie[k++] = a;
		ie[k++] = intc_phandle0 + h;
		ie[k++] = b;
	}
	prop_cells(w, "interrupts-extended", ie, k);
}

static uint32_t cpu_node_of(const struct boot_config *cfg, uint32_t hart)
{
	for (uint32_t n = 0; n < cfg->nnodes; n++)
		if (hart >= cfg->node[n].first_cpu &&
		    hart < cfg->node[n].first_cpu + cfg->node[n].ncpus)
			return n;
	return 0;
}

int boot_fdt_build(void *buf, size_t cap, const struct boot_config *cfg, char *why, size_t why_len)
{
	struct fdtw w = {.buf = buf};
	char name[64];
	const uint32_t intc_phandle0 = 1; /* cpu N's interrupt controller: 1 + N */
	const uint32_t test_phandle = cfg->nharts + 1, plic_phandle = cfg->nharts + 2;

	fw_check(&w, fdt_create(buf, (int)cap));
	fw_check(&w, fdt_finish_reservemap(buf));
	begin(&w, "");
	prop_u32(&w, "#address-cells", 2);
	prop_u32(&w, "#size-cells", 2);
	prop_strs(&w, "compatible", "shoal,virt\0riscv-virtio", sizeof("shoal,virt\0riscv-virtio"));
	prop_str(&w, "model", "shoal virt (QEMU virt compatible)");

	begin(&w, "chosen");
	if (cfg->bootargs)
		prop_str(&w, "bootargs", cfg->bootargs);
	prop_str(&w, "stdout-path", "/soc/serial@10000000");
	if (cfg->initrd_end > cfg->initrd_start) {
		const uint32_t s[2] = {(uint32_t)(cfg->initrd_start >> 32),
				       (uint32_t)cfg->initrd_start};
		const uint32_t e[2] = {(uint32_t)(cfg->initrd_end >> 32),
				       (uint32_t)cfg->initrd_end};
		prop_cells(&w, "linux,initrd-start", s, 2);
		prop_cells(&w, "linux,initrd-end", e, 2);
	}
	end(&w);

	for (uint32_t n = 0; n < cfg->nnodes; n++) {
		snprintf(name, sizeof(name), "memory@%llx", (unsigned long long)cfg->node[n].base);
		begin(&w, name);
		prop_str(&w, "device_type", "memory");
		prop_reg(&w, cfg->node[n].base, cfg->node[n].size);
		if (cfg->numa)
			prop_u32(&w, "numa-node-id", n);
		end(&w);
	}

	begin(&w, "cpus");
	prop_u32(&w, "#address-cells", 1);
	prop_u32(&w, "#size-cells", 0);
	prop_u32(&w, "timebase-frequency", 10000000);
	for (uint32_t h = 0; h < cfg->nharts; h++) {
		snprintf(name, sizeof(name), "cpu@%u", h);
		begin(&w, name);
		prop_str(&w, "device_type", "cpu");
		prop_u32(&w, "reg", h);
		prop_str(&w, "status", "okay");
		prop_str(&w, "compatible", "riscv");
		prop_str(&w, "riscv,isa", cfg->isa);
		prop_str(&w, "mmu-type", "riscv,sv48");
		if (cfg->numa)
			prop_u32(&w, "numa-node-id", cpu_node_of(cfg, h));
		begin(&w, "interrupt-controller");
		prop_u32(&w, "#interrupt-cells", 1);
		prop_empty(&w, "interrupt-controller");
		prop_str(&w, "compatible", "riscv,cpu-intc");
		prop_u32(&w, "phandle", intc_phandle0 + h);
		end(&w);
		end(&w);
	}
	end(&w);

	if (cfg->numa && cfg->nnodes > 1) {
		begin(&w, "distance-map");
		prop_str(&w, "compatible", "numa-distance-map-v1");
		uint32_t m[3 * BOOT_MAX_NODES * BOOT_MAX_NODES];
		unsigned k = 0;
		for (uint32_t a = 0; a < cfg->nnodes; a++)
			for (uint32_t b = 0; b < cfg->nnodes; b++) {
				m[k++] = a;
				m[k++] = b;
				m[k++] = a == b ? 10 : 20;
			}
		prop_cells(&w, "distance-matrix", m, k);
		end(&w);
	}

	begin(&w, "soc");
	prop_u32(&w, "#address-cells", 2);
	prop_u32(&w, "#size-cells", 2);
	prop_str(&w, "compatible", "simple-bus");
	prop_empty(&w, "ranges");

	begin(&w, "clint@2000000");
	prop_strs(&w, "compatible", "sifive,clint0\0riscv,clint0",
		  sizeof("sifive,clint0\0riscv,clint0"));
	prop_reg(&w, 0x2000000, 0x10000);
	prop_hart_irqs(&w, cfg->nharts, intc_phandle0, 3, 7); /* M software, M timer */
	end(&w);

	begin(&w, "plic@c000000");
	prop_strs(&w, "compatible", "sifive,plic-1.0.0\0riscv,plic0",
		  sizeof("sifive,plic-1.0.0\0riscv,plic0"));
	prop_reg(&w, 0xc000000, 0x4000000);
	prop_u32(&w, "#address-cells", 0);
	prop_u32(&w, "#interrupt-cells", 1);
	prop_empty(&w, "interrupt-controller");
	prop_u32(&w, "riscv,ndev", 95);
	prop_u32(&w, "phandle", plic_phandle);
	prop_hart_irqs(&w, cfg->nharts, intc_phandle0, 11, 9); /* M and S external */
	end(&w);

	begin(&w, "serial@10000000");
	prop_str(&w, "compatible", "ns16550a");
	prop_reg(&w, 0x10000000, 0x100);
	prop_u32(&w, "clock-frequency", 3686400);
	prop_u32(&w, "interrupts", 10);
	prop_u32(&w, "interrupt-parent", plic_phandle);
	end(&w);

	for (uint32_t i = 0; i < cfg->ndevs; i++) {
		const struct boot_dev *d = &cfg->dev[i];
		snprintf(name, sizeof(name), "%s@%llx", d->node, (unsigned long long)d->base);
		begin(&w, name);
		prop_str(&w, "compatible", d->compatible);
		prop_reg(&w, d->base, d->size);
		if (d->irq) {
			prop_u32(&w, "interrupts", d->irq);
			prop_u32(&w, "interrupt-parent", plic_phandle);
		}
		end(&w);
	}

	begin(&w, "test@100000");
	prop_strs(&w, "compatible", "sifive,test1\0sifive,test0\0syscon",
		  sizeof("sifive,test1\0sifive,test0\0syscon"));
	prop_reg(&w, 0x100000, 0x1000);
	prop_u32(&w, "phandle", test_phandle);
	end(&w);
	begin(&w, "poweroff");
	prop_str(&w, "compatible", "syscon-poweroff");
	prop_u32(&w, "regmap", test_phandle);
	prop_u32(&w, "offset", 0);
	prop_u32(&w, "value", 0x5555);
	end(&w);
	begin(&w, "reboot");
	prop_str(&w, "compatible", "syscon-reboot");
	prop_u32(&w, "regmap", test_phandle);
	prop_u32(&w, "offset", 0);
	prop_u32(&w, "value", 0x7777);
	end(&w);

	end(&w); /* soc */
	end(&w); /* root */
	fw_check(&w, fdt_finish(buf));
	if (w.err) {
		snprintf(why, why_len, "cannot build the device tree: %s", fdt_strerror(w.err));
		return -ENOSPC;
	}
	return 0;
}
