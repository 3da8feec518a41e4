/* shoalmark natively on the host, the physical limit the emulators are
 * compared with (perf/run.sh). Prints the same line as the guest build:
 *   shoalmark iters N us T crc C */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mark.h"

int main(int argc, char **argv)
{
	uint32_t iters = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 2000;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint16_t crc = mark_run(iters);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long long us = (t1.tv_sec - t0.tv_sec) * 1000000ll + (t1.tv_nsec - t0.tv_nsec) / 1000;
	printf("shoalmark iters %u us %lld crc %u\n", iters, us, crc);
	return 0;
}
