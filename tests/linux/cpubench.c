/* In-guest CPU benchmark: THREADS threads each run ROUNDS rounds of an
 * integer and memory mix over a private 64 KiB array; prints the wall time
 * the guest measured (its clock is the board's mtime in every emulator) and
 * a checksum, so a wrong result cannot look fast:
 *   cpubench threads=N ms=T mops=M checksum=C */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define WORDS 16384 /* 64 KiB of uint32_t */

static long rounds = 40;
static uint64_t sums[64];

static void *work(void *arg)
{
	long id = (long)arg;
	uint32_t *a = malloc(WORDS * sizeof(*a));
	if (!a)
		return NULL;
	uint32_t x = (uint32_t)id * 2654435761u + 1;
	for (int i = 0; i < WORDS; i++)
		a[i] = x = x * 1664525u + 1013904223u;
	uint64_t s = 0;
	for (long r = 0; r < rounds; r++)
		for (int i = 0; i < WORDS; i++) {
			uint32_t v = a[i] ^ (a[(i * 7 + r) & (WORDS - 1)] >> 3);
			v = v * 2246822519u + (uint32_t)r;
			a[i] = v;
			s += v >> 7;
		}
	sums[id] = s;
	free(a);
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1;
	if (argc > 2)
		rounds = atol(argv[2]);
	if (n < 1 || n > 64 || rounds < 1) {
		fprintf(stderr, "usage: cpubench [THREADS 1-64] [ROUNDS]\n");
		return 2;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_t t[64];
	for (long i = 0; i < n; i++)
		pthread_create(&t[i], NULL, work, (void *)i);
	uint64_t sum = 0;
	for (long i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		sum += sums[i];
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	double mops = (double)n * (double)rounds * WORDS / (ms * 1e3);
	printf("cpubench threads=%ld ms=%.1f mops=%.2f checksum=%llu\n", n, ms, mops,
	       (unsigned long long)sum);
	return 0;
}
