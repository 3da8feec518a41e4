/* In-guest block benchmark (perf/run.sh), O_DIRECT so every byte crosses
 * the virtio-blk device:
 *   blkbench randread DEV SECONDS THREADS   4 KiB random reads, THREADS in
 *                                           parallel; prints "randread_iops N"
 *   blkbench seqwrite DEV MIB               1 MiB sequential writes then an
 *                                           fsync; prints "seqwrite_mbps N"
 * Times are the guest's clock. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <time.h>
#include <unistd.h>

static const char *dev;
static double seconds;
static uint64_t dev_bytes;
static int stop; /* set by the main thread when the time is up */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *reader(void *arg)
{
	uint64_t *count = arg, x = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ull;
	int fd = open(dev, O_RDONLY | O_DIRECT);
	void *buf;
	if (fd < 0 || posix_memalign(&buf, 4096, 4096))
		return NULL;
	uint64_t blocks = dev_bytes / 4096;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (pread(fd, buf, 4096, (off_t)((x % blocks) * 4096)) != 4096) {
			perror("pread");
			exit(1);
		}
		(*count)++;
	}
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr,
			"usage: blkbench randread DEV SECONDS THREADS | seqwrite DEV MIB\n");
		return 2;
	}
	dev = argv[2];
	int fd = open(dev, O_RDWR | O_DIRECT);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &dev_bytes) < 0) {
		perror(dev);
		return 1;
	}
	if (strcmp(argv[1], "randread") == 0 && argc == 5) {
		seconds = atof(argv[3]);
		int n = atoi(argv[4]);
		if (n < 1 || n > 64)
			return 2;
		pthread_t t[64];
		uint64_t counts[64][8] = {{0}}; /* a cache line each */
		/* Small stacks: 8 default 8 MiB stacks do not fit a 128 MiB guest. */
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 256 << 10);
		double t0 = now();
		for (int i = 0; i < n; i++)
			if (pthread_create(&t[i], &attr, reader, counts[i])) {
				fprintf(stderr, "blkbench: cannot start thread %d\n", i);
				return 1;
			}
		/* Only the main thread reads the clock (QEMU 7.2 guests crashed
		 * in the vDSO's clock_gettime on the reader threads). */
		struct timespec ts = {(time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9)};
		nanosleep(&ts, NULL);
		__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
		uint64_t total = 0;
		for (int i = 0; i < n; i++) {
			pthread_join(t[i], NULL);
			total += counts[i][0];
		}
		printf("randread_iops %.0f threads %d\n", (double)total / (now() - t0), n);
		return 0;
	}
	if (strcmp(argv[1], "seqwrite") == 0) {
		uint64_t total = strtoull(argv[3], NULL, 0) << 20;
		void *buf;
		if (total > dev_bytes || posix_memalign(&buf, 4096, 1 << 20))
			return 2;
		memset(buf, 0x5a, 1 << 20);
		double t0 = now();
		for (uint64_t off = 0; off < total; off += 1 << 20)
			if (pwrite(fd, buf, 1 << 20, (off_t)off) != 1 << 20) {
				perror("pwrite");
				return 1;
			}
		fsync(fd);
		printf("seqwrite_mbps %.1f\n", (double)total / 1e6 / (now() - t0));
		return 0;
	}
	return 2;
}
