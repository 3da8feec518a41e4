/** @file
 * Loading RISC-V ELF programs into guest RAM. The file is hostile input:
 * every offset, size and count is checked before use. */
#ifndef SHOAL_ELF_H
#define SHOAL_ELF_H

#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGS 32
#define ELF_MAX_FILE (1ull << 31)

/** One PT_LOAD segment, checked to lie in the file and in RAM. */
struct elf_seg {
	uint64_t paddr, filesz, memsz, offset;
};

/** An ELF file read and validated by elf_open; owns the file bytes. */
struct elf_image {
	uint8_t *data; /* the whole file, owned */
	size_t size;
	uint64_t entry;
	uint64_t tohost; /* 0 when the program has no `tohost` symbol */
	unsigned nseg;
	struct elf_seg seg[ELF_MAX_SEGS];
};

/** Reads and checks `path`: ELF64 little-endian RISC-V executable whose
 * loadable segments lie inside [ram_base, ram_base + ram_size). Returns 0, or
 * -errno / -ENOEXEC with a one-line reason in `why`. */
int elf_open(const char *path, uint64_t ram_base, uint64_t ram_size, struct elf_image *img,
	     char *why, size_t why_len);

/** Same checks on a buffer the caller owns (`img->data` then points into it
 * and must not be freed by elf_close). */
int elf_parse(const uint8_t *data, size_t size, uint64_t ram_base, uint64_t ram_size,
	      struct elf_image *img, char *why, size_t why_len);

/** Copies the segments into guest RAM mapped at `ram` (guest ram_base). */
void elf_load(const struct elf_image *img, uint8_t *ram, uint64_t ram_base);

/** Frees what elf_open allocated; safe on a zeroed image. */
void elf_close(struct elf_image *img);

#endif
