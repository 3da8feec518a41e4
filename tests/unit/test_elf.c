/* ELF checks on hostile input, on synthetic images built here. */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../deploy/elf.h"

#define RAM 0x80000000ull
#define RAMSZ (1ull << 20)

struct img {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	uint8_t code[64];
};

static void make(struct img *m)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->eh.e_ident, ELFMAG, SELFMAG);
	m->eh.e_ident[EI_CLASS] = ELFCLASS64;
	m->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	m->eh.e_type = ET_EXEC;
	m->eh.e_machine = EM_RISCV;
	m->eh.e_entry = RAM;
	m->eh.e_phoff = offsetof(struct img, ph);
	m->eh.e_phentsize = sizeof(Elf64_Phdr);
	m->eh.e_phnum = 1;
	m->ph[0].p_type = PT_LOAD;
	m->ph[0].p_offset = offsetof(struct img, code);
	m->ph[0].p_paddr = RAM;
	m->ph[0].p_filesz = sizeof(m->code);
	m->ph[0].p_memsz = 4096;
	memset(m->code, 0x13, sizeof(m->code));
}

static int parse(struct img *m, size_t size, char *why)
{
	struct elf_image e;
	return elf_parse((const uint8_t *)m, size, RAM, RAMSZ, &e, why, 128);
}

static void expect(struct img *m, size_t size, const char *reason)
{
	char why[128] = "";
	assert_int_equal(parse(m, size, why), -ENOEXEC);
	if (!strstr(why, reason))
		fail_msg("reason '%s' lacks '%s'", why, reason);
}

static void test_good_and_load(void **state)
{
	(void)state;
	struct img m;
	make(&m);
	struct elf_image e;
	char why[128];
	assert_int_equal(
	    elf_parse((const uint8_t *)&m, sizeof(m), RAM, RAMSZ, &e, why, sizeof(why)), 0);
	assert_int_equal(e.entry, RAM);
	assert_int_equal(e.nseg, 1);
	assert_int_equal(e.tohost, 0);
	static uint8_t ram[8192];
	memset(ram, 0xff, sizeof(ram));
	elf_load(&e, ram, RAM);
	assert_int_equal(ram[0], 0x13);
	assert_int_equal(ram[64], 0); /* bss part zeroed */
	assert_int_equal(ram[4096], 0xff);
}

static void test_hostile(void **state)
{
	(void)state;
	struct img m;
	make(&m);
	expect(&m, 10, "not an ELF");
	make(&m);
	m.eh.e_ident[EI_CLASS] = ELFCLASS32;
	expect(&m, sizeof(m), "64-bit");
	make(&m);
	m.eh.e_machine = EM_X86_64;
	expect(&m, sizeof(m), "not RISC-V");
	make(&m);
	m.eh.e_type = ET_DYN;
	expect(&m, sizeof(m), "not an executable");
	make(&m);
	m.eh.e_phnum = 60000;
	expect(&m, sizeof(m), "program header");
	make(&m);
	m.eh.e_phoff = ~0ull - 8;
	expect(&m, sizeof(m), "program header");
	make(&m);
	m.ph[0].p_filesz = 1ull << 40;
	m.ph[0].p_memsz = 1ull << 40;
	expect(&m, sizeof(m), "outside the file");
	make(&m);
	m.ph[0].p_offset = ~0ull;
	expect(&m, sizeof(m), "outside the file");
	make(&m);
	m.ph[0].p_paddr = 0x1000;
	expect(&m, sizeof(m), "outside RAM");
	make(&m);
	m.ph[0].p_paddr = RAM + RAMSZ - 16;
	expect(&m, sizeof(m), "outside RAM");
	make(&m);
	m.ph[0].p_paddr = ~0ull - 4;
	expect(&m, sizeof(m), "outside RAM");
	make(&m);
	m.ph[0].p_memsz = 8; /* filesz > memsz */
	expect(&m, sizeof(m), "outside the file");
	make(&m);
	m.ph[0].p_type = PT_NOTE;
	expect(&m, sizeof(m), "no loadable segment");
	make(&m);
	m.eh.e_entry = 0x1000;
	expect(&m, sizeof(m), "entry point");
}

static void test_open_errors(void **state)
{
	(void)state;
	struct elf_image e;
	char why[128];
	assert_int_equal(elf_open("/nonexistent/x.elf", RAM, RAMSZ, &e, why, sizeof(why)), -ENOENT);
	assert_int_equal(elf_open("/", RAM, RAMSZ, &e, why, sizeof(why)), -EINVAL);
	assert_int_equal(elf_open("/proc/self/exe", RAM, RAMSZ, &e, why, sizeof(why)), -ENOEXEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_good_and_load),
					   cmocka_unit_test(test_hostile),
					   cmocka_unit_test(test_open_errors)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
