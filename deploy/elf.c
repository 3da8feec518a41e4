#include "elf.h"

#include "../common/util.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define bad(why, len, ...) util_reason(why, len, -ENOEXEC, __VA_ARGS__)

/* 1 if [off, off+len) lies inside a buffer of `size` bytes. */
static int in_file(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

static void find_tohost(const uint8_t *d, size_t size, const Elf64_Ehdr *eh, struct elf_image *img)
{
	if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shnum == 0 || eh->e_shnum > 4096 ||
	    !in_file(eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr), size))
		return;
	for (unsigned s = 0; s < eh->e_shnum; s++) {
		Elf64_Shdr sh;
		memcpy(&sh, d + eh->e_shoff + s * sizeof(Elf64_Shdr), sizeof(sh));
		if (sh.sh_type != SHT_SYMTAB || sh.sh_entsize != sizeof(Elf64_Sym) ||
		    sh.sh_link >= eh->e_shnum || !in_file(sh.sh_offset, sh.sh_size, size))
			continue;
		Elf64_Shdr st;
		memcpy(&st, d + eh->e_shoff + sh.sh_link * sizeof(Elf64_Shdr), sizeof(st));
		if (!in_file(st.sh_offset, st.sh_size, size))
			continue;
		for (uint64_t k = 0; k < sh.sh_size / sizeof(Elf64_Sym); k++) {
			Elf64_Sym sym;
			memcpy(&sym, d + sh.sh_offset + k * sizeof(Elf64_Sym), sizeof(sym));
			if (sym.st_name >= st.sh_size || st.sh_size - sym.st_name < 7)
				continue;
			if (memcmp(d + st.sh_offset + sym.st_name, "tohost", 7) == 0) {
				img->tohost = sym.st_value;
				return;
			}
		}
	}
}

int elf_parse(const uint8_t *d, size_t size, uint64_t ram_base, uint64_t ram_size,
	      struct elf_image *img, char *why, size_t why_len)
{
	memset(img, 0, sizeof(*img));
	Elf64_Ehdr eh;
	if (size < sizeof(eh) || memcmp(d, ELFMAG, SELFMAG) != 0)
		return bad(why, why_len, "not an ELF file");
	memcpy(&eh, d, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return bad(why, why_len, "not a 64-bit little-endian ELF (RV64 needs one)");
	if (eh.e_machine != EM_RISCV)
		return bad(why, why_len, "ELF for machine %u, not RISC-V (%u)", eh.e_machine,
			   EM_RISCV);
	if (eh.e_type != ET_EXEC)
		return bad(why, why_len,
			   "ELF type %u is not an executable (link with -static -no-pie)",
			   eh.e_type);
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 256 ||
	    !in_file(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr), size))
		return bad(why, why_len, "bad program header table");
	for (unsigned p = 0; p < eh.e_phnum; p++) {
		Elf64_Phdr ph;
		memcpy(&ph, d + eh.e_phoff + p * sizeof(Elf64_Phdr), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (img->nseg == ELF_MAX_SEGS)
			return bad(why, why_len, "more than %d loadable segments", ELF_MAX_SEGS);
		if (ph.p_filesz > ph.p_memsz || !in_file(ph.p_offset, ph.p_filesz, size))
			return bad(why, why_len, "segment %u lies outside the file", p);
		if (ph.p_paddr < ram_base || ph.p_paddr - ram_base > ram_size ||
		    ph.p_memsz > ram_size - (ph.p_paddr - ram_base))
			return bad(why, why_len,
				   "segment %u at 0x%llx-0x%llx is outside RAM 0x%llx-0x%llx", p,
				   (unsigned long long)ph.p_paddr,
				   (unsigned long long)(ph.p_paddr + ph.p_memsz),
				   (unsigned long long)ram_base,
				   (unsigned long long)(ram_base + ram_size));
		img->seg[img->nseg++] =
		    (struct elf_seg){ph.p_paddr, ph.p_filesz, ph.p_memsz, ph.p_offset};
	}
	if (img->nseg == 0)
		return bad(why, why_len, "no loadable segment");
	if (eh.e_entry < ram_base || eh.e_entry - ram_base >= ram_size)
		return bad(why, why_len, "entry point 0x%llx is outside RAM",
			   (unsigned long long)eh.e_entry);
	img->entry = eh.e_entry;
	img->data = (uint8_t *)d;
	img->size = size;
	find_tohost(d, size, &eh, img);
	if (img->tohost && (img->tohost < ram_base || img->tohost - ram_base + 8 > ram_size))
		img->tohost = 0;
	return 0;
}

int elf_open(const char *path, uint64_t ram_base, uint64_t ram_size, struct elf_image *img,
	     char *why, size_t why_len)
{
	memset(img, 0, sizeof(*img));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(why, why_len, "%s", strerror(e));
		return -e;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(why, why_len, "not a regular file");
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > ELF_MAX_FILE) {
		close(fd);
		snprintf(why, why_len, "file of %lld bytes is too large", (long long)st.st_size);
		return -EFBIG;
	}
	size_t size = (size_t)st.st_size;
	uint8_t *d = malloc(size ? size : 1);
	size_t got = 0;
	while (d && got < size) {
		ssize_t n = read(fd, d + got, size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!d || got != size) {
		free(d);
		snprintf(why, why_len, "cannot read the file");
		return -EIO;
	}
	int r = elf_parse(d, size, ram_base, ram_size, img, why, why_len);
	if (r) {
		free(d);
		return r;
	}
	return 0;
}

void elf_load(const struct elf_image *img, uint8_t *ram, uint64_t ram_base)
{
	for (unsigned s = 0; s < img->nseg; s++) {
		const struct elf_seg *g = &img->seg[s];
		memcpy(ram + (g->paddr - ram_base), img->data + g->offset, g->filesz);
		memset(ram + (g->paddr - ram_base) + g->filesz, 0, g->memsz - g->filesz);
	}
}

void elf_close(struct elf_image *img)
{
	free(img->data);
	img->data = NULL;
}
