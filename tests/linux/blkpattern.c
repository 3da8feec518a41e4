/* Writes a known pattern to a block device with O_DIRECT, then reads it
 * back and compares, so every byte crosses the virtio-blk device (not the
 * page cache). Used by the device-crash test while the device process is
 * killed again and again. Prints "blkpattern: ..." lines; exits non-zero
 * on any I/O error or mismatch.
 *
 *   blkpattern DEVICE OFFSET_MIB MIB CHUNK_KIB SEED [verify]
 *
 * Covers [OFFSET_MIB, OFFSET_MIB + MIB) MiB of DEVICE. Word i (8 bytes,
 * little-endian, counted from the start of DEVICE) is mix(SEED, i), so
 * instances on disjoint ranges make one pattern. With
 * "verify" it only reads (buffered) and compares: the host build of this
 * file checks the image that way (tests/e2e/blkcrash.sh). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t mix(uint64_t seed, uint64_t i)
{
	uint64_t z = seed * 0x9e3779b97f4a7c15ull + i;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void fill(uint64_t *buf, size_t words, uint64_t seed, uint64_t first)
{
	for (size_t k = 0; k < words; k++)
		buf[k] = mix(seed, first + k);
}

int main(int argc, char **argv)
{
	if (argc != 6 && !(argc == 7 && strcmp(argv[6], "verify") == 0)) {
		fprintf(stderr,
			"usage: blkpattern DEVICE OFFSET_MIB MIB CHUNK_KIB SEED [verify]\n");
		return 2;
	}
	uint64_t start = strtoull(argv[2], NULL, 0) << 20;
	uint64_t total = strtoull(argv[3], NULL, 0) << 20, chunk = strtoull(argv[4], NULL, 0) << 10;
	uint64_t seed = strtoull(argv[5], NULL, 0);
	int verify_only = argc == 7;
	int fd = open(argv[1], verify_only ? O_RDONLY : O_RDWR | O_DIRECT);
	if (fd < 0 || chunk == 0 || total % chunk) {
		printf("blkpattern: FAIL cannot open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	uint64_t *buf, *want;
	if (posix_memalign((void **)&buf, 4096, chunk) ||
	    posix_memalign((void **)&want, 4096, chunk))
		return 1;
	if (!verify_only) {
		printf("blkpattern: writing %llu MiB\n", (unsigned long long)(total >> 20));
		fflush(stdout);
	}
	for (uint64_t off = start; off < start + total && !verify_only; off += chunk) {
		fill(buf, chunk / 8, seed, off / 8);
		if (pwrite(fd, buf, chunk, (off_t)off) != (ssize_t)chunk) {
			printf("blkpattern: FAIL write at %llu: %s\n", (unsigned long long)off,
			       strerror(errno));
			return 1;
		}
		if ((off + chunk) % (1 << 20) == 0 && fsync(fd)) {
			printf("blkpattern: FAIL fsync: %s\n", strerror(errno));
			return 1;
		}
	}
	if (!verify_only && fsync(fd)) {
		printf("blkpattern: FAIL fsync: %s\n", strerror(errno));
		return 1;
	}
	printf("blkpattern: reading back\n");
	fflush(stdout);
	uint64_t bad = 0;
	for (uint64_t off = start; off < start + total; off += chunk) {
		if (pread(fd, buf, chunk, (off_t)off) != (ssize_t)chunk) {
			printf("blkpattern: FAIL read at %llu: %s\n", (unsigned long long)off,
			       strerror(errno));
			return 1;
		}
		fill(want, chunk / 8, seed, off / 8);
		if (memcmp(buf, want, chunk))
			for (size_t k = 0; k < chunk / 8; k++)
				bad += buf[k] != want[k];
	}
	printf("blkpattern: %llu MiB written and read back, %llu mismatched words\n",
	       (unsigned long long)(total >> 20), (unsigned long long)bad);
	return bad ? 1 : 0;
}
