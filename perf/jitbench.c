/* Tier 1's speed on its own: translates every basic-block start of the
 * first PAGES pages of a kernel image (the raw RISC-V Linux Image, whose
 * text begins at offset 0) as shoal-jit would translate a request for it,
 * PASSES times, with nothing else around (no sockets, no guest, no other
 * process), and prints the best pass:
 *   jitbench regions R insns I ns_per_region N ns_per_insn M bytes_per_insn B hash H
 * H covers every byte emitted (hashed in one more pass, not timed): a
 * change that must leave the code as it is can be checked with it.
 * perf/run.sh records ns_per_insn. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../jit-service/translate.h"

#define CODE_CAP (1u << 20) /* far more than one region's code */

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* The block starts of `page` (its entry, what follows each jump or
 * branch, the targets of those inside it) into `at`; returns how many. */
static unsigned block_starts(const uint8_t *page, uint16_t *at)
{
	static uint8_t start[2048];
	memset(start, 0, sizeof(start));
	start[0] = 1;
	for (unsigned off = 0; off + 2 <= 4096;) {
		uint16_t lo;
		memcpy(&lo, page + off, 2);
		uint32_t w = lo;
		if ((lo & 3) == 3) {
			if (off + 4 > 4096)
				break;
			memcpy(&w, page + off, 4);
		}
		struct rv_insn d;
		rv_decode(w, &d);
		if (rv_op_is_jump(d.op)) {
			if (off + d.len < 4096)
				start[(off + d.len) / 2] = 1;
			int64_t t = (int64_t)off + d.imm;
			if (d.op != OP_JALR && t >= 0 && t < 4096)
				start[t / 2] = 1;
		}
		off += d.len;
	}
	unsigned n = 0;
	for (unsigned i = 0; i < 2048; i++)
		if (start[i])
			at[n++] = (uint16_t)(2 * i);
	return n;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: jitbench IMAGE [PAGES] [PASSES]\n");
		return 2;
	}
	unsigned pages = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 128;
	unsigned passes = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 3;
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		fprintf(stderr, "jitbench: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	uint8_t *img = calloc(pages, 4096);
	size_t got = img ? fread(img, 1, (size_t)pages * 4096, f) : 0;
	fclose(f);
	if (!img || got < 4096 || pages == 0 || passes == 0) {
		fprintf(stderr, "jitbench: %s: not a kernel image of at least one page\n", argv[1]);
		free(img);
		return 1;
	}
	pages = (unsigned)(got / 4096);
	uint8_t *code = malloc(CODE_CAP);
	static struct jit_tr tr;
	static uint16_t at[2048];
	if (!code) {
		free(img);
		return 1;
	}
	struct xbuf b = {.p = code, .len = 16, .cap = CODE_CAP};
	struct jit_stubs st;
	jit_emit_stubs(&b, &st);
	uint64_t best = UINT64_MAX, regions = 0, insns = 0, bytes = 0, hash = 0;
	/* The passes are timed; one more, untimed, hashes the output (hashing
	 * in the timed passes was a quarter of their time). */
	for (unsigned pass = 0; pass <= passes; pass++) {
		int hashing = pass == passes;
		regions = insns = bytes = 0;
		hash = 1469598103934665603ull;
		uint64_t t0 = now_ns();
		for (unsigned p = 0; p < pages; p++) {
			const uint8_t *page = img + (size_t)p * 4096;
			unsigned n = block_starts(page, at);
			for (unsigned i = 0; i < n; i++) {
				if (jit_decode(page, at[i], &tr))
					continue; /* tier 1 cannot start there */
				tr.site_seed = p * 2048 + i;
				b.len = 4096;
				if (jit_emit(&tr, &b, &st)) {
					fprintf(stderr, "jitbench: a region overflowed %u bytes\n",
						CODE_CAP);
					free(code);
					free(img);
					return 1;
				}
				regions++;
				insns += tr.ninsns;
				bytes += b.len - 4096;
				for (uint32_t k = 4096; hashing && k < b.len; k++)
					hash = (hash ^ code[k]) * 1099511628211ull;
			}
		}
		uint64_t t = now_ns() - t0;
		if (!hashing && t < best)
			best = t;
	}
	free(code);
	free(img);
	if (!regions) {
		fprintf(stderr, "jitbench: %s: no region to translate\n", argv[1]);
		return 1;
	}
	printf("jitbench regions %llu insns %llu ns_per_region %.0f ns_per_insn %.1f "
	       "bytes_per_insn %.1f hash %016llx\n",
	       (unsigned long long)regions, (unsigned long long)insns, (double)best / regions,
	       (double)best / insns, (double)bytes / insns, (unsigned long long)hash);
	return 0;
}
