/* Boot ROM, Image header check and the generated device tree. */
#include <errno.h>
#include <libfdt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../deploy/boot.h"

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void test_rom(void **state)
{
	(void)state;
	static uint8_t rom[BOOT_ROM_SIZE];
	boot_rom_build(rom, 0x80000000, 0x87f00000, 0x80200000);
	assert_int_equal(get64(rom) & 0xffffffff, 0x00000297); /* auipc t0, 0 */
	/* Harts other than 0 wait for an IPI in WFI before the firmware. */
	assert_int_equal(get64(rom + 8) & 0x7f, 0x63);		    /* a branch on mhartid */
	assert_int_equal(get64(rom + 20) & 0xffffffff, 0x10500073); /* wfi */
	/* The code's loads and addi name the data it expects. */
	uint32_t addi = (uint32_t)(get64(rom + 40) & 0xffffffff);
	uint32_t info_off = addi >> 20;
	uint32_t dtb_off = (uint32_t)(get64(rom + 44) & 0xffffffff) >> 20;
	uint32_t entry_off = (uint32_t)(get64(rom + 48) & 0xffffffff) >> 20;
	assert_int_equal(get64(rom + entry_off), 0x80000000);
	assert_int_equal(get64(rom + dtb_off), 0x87f00000);
	assert_int_equal(get64(rom + info_off), 0x4942534f); /* "OSBI" */
	assert_int_equal(get64(rom + info_off + 8), 2);
	assert_int_equal(get64(rom + info_off + 16), 0x80200000);
	assert_int_equal(get64(rom + info_off + 24), 1); /* next mode S */
	assert_int_equal(get64(rom + info_off + 40), 0); /* boot hart 0 */
}

static void test_image_check(void **state)
{
	(void)state;
	uint8_t img[128] = {0};
	char why[256];
	assert_int_equal(boot_image_check(img, sizeof(img), 1 << 20, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "not a RISC-V Linux Image"));
	memcpy(img + 56, "RSC\x05", 4);
	assert_int_equal(boot_image_check(img, 32, 1 << 20, why, sizeof(why)), -EINVAL);
	assert_int_equal(boot_image_check(img, sizeof(img), 1 << 20, why, sizeof(why)), 0);
	img[16 + 2] = 0x20; /* image_size 2 MiB */
	assert_int_equal(boot_image_check(img, sizeof(img), 1 << 20, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "needs 2097152 bytes"));
}

static uint32_t prop_u32(const void *fdt, const char *path, const char *name)
{
	int off = fdt_path_offset(fdt, path);
	if (off < 0)
		fail_msg("no node %s", path);
	int len;
	const fdt32_t *p = fdt_getprop(fdt, off, name, &len);
	if (!p || len < 4)
		fail_msg("no property %s in %s", name, path);
	return fdt32_to_cpu(*p);
}

static void test_fdt_numa(void **state)
{
	(void)state;
	static uint8_t buf[1 << 16];
	struct boot_config c = {.nharts = 4,
				.nnodes = 2,
				.numa = 1,
				.bootargs = "console=ttyS0 quiet",
				.initrd_start = 0x84000000,
				.initrd_end = 0x84001000,
				.isa = "rv64imafdc"};
	c.node[0] = (struct boot_node){0x80000000, 64 << 20, 0, 2};
	c.node[1] = (struct boot_node){0x84000000, 64 << 20, 2, 2};
	char why[256];
	assert_int_equal(boot_fdt_build(buf, sizeof(buf), &c, why, sizeof(why)), 0);
	assert_int_equal(fdt_check_header(buf), 0);
	assert_int_equal(prop_u32(buf, "/cpus/cpu@1", "numa-node-id"), 0);
	assert_int_equal(prop_u32(buf, "/cpus/cpu@3", "numa-node-id"), 1);
	assert_int_equal(prop_u32(buf, "/memory@84000000", "numa-node-id"), 1);
	assert_int_equal(prop_u32(buf, "/cpus", "timebase-frequency"), 10000000);
	int d = fdt_path_offset(buf, "/distance-map");
	int len;
	const fdt32_t *m = fdt_getprop(buf, d, "distance-matrix", &len);
	assert_non_null(m);
	assert_int_equal(len, 4 * 3 * 4);
	assert_int_equal(fdt32_to_cpu(m[5]), 20); /* 0 -> 1 */
	int ch = fdt_path_offset(buf, "/chosen");
	assert_string_equal(fdt_getprop(buf, ch, "bootargs", NULL), "console=ttyS0 quiet");
	assert_string_equal(fdt_getprop(buf, ch, "stdout-path", NULL), "/soc/serial@10000000");
	const fdt32_t *is = fdt_getprop(buf, ch, "linux,initrd-start", &len);
	assert_int_equal(len, 8);
	assert_int_equal(fdt32_to_cpu(is[1]), 0x84000000);
	/* Each hart's timer and software interrupts reach its own intc. */
	int cl = fdt_path_offset(buf, "/soc/clint@2000000");
	const fdt32_t *ie = fdt_getprop(buf, cl, "interrupts-extended", &len);
	assert_int_equal(len, 4 * 4 * 4);
	assert_int_equal(fdt32_to_cpu(ie[12]),
			 prop_u32(buf, "/cpus/cpu@3/interrupt-controller", "phandle"));
}

static void test_fdt_no_numa_and_no_room(void **state)
{
	(void)state;
	static uint8_t buf[1 << 16];
	struct boot_config c = {.nharts = 1, .nnodes = 1, .isa = "rv64imac"};
	c.node[0] = (struct boot_node){0x80000000, 128 << 20, 0, 1};
	char why[256];
	assert_int_equal(boot_fdt_build(buf, sizeof(buf), &c, why, sizeof(why)), 0);
	int cpu = fdt_path_offset(buf, "/cpus/cpu@0");
	assert_null(fdt_getprop(buf, cpu, "numa-node-id", NULL));
	assert_true(fdt_path_offset(buf, "/distance-map") < 0);
	assert_true(boot_fdt_build(buf, 256, &c, why, sizeof(why)) < 0);
	assert_non_null(strstr(why, "device tree"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rom),
	    cmocka_unit_test(test_image_check),
	    cmocka_unit_test(test_fdt_numa),
	    cmocka_unit_test(test_fdt_no_numa_and_no_room),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
