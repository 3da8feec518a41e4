/* Guest userspace check: N threads (default: one per online CPU) each add
 * ROUNDS (default 20000) to a shared counter with an atomic add and with a
 * mutex; both sums must be exact. Prints one line; exits 0 only if both
 * are right. Usage: smp_atomics [THREADS [ROUNDS]] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static long rounds = 20000;
static long atomic_sum, locked_sum;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
	(void)arg;
	for (long i = 0; i < rounds; i++) {
		__atomic_fetch_add(&atomic_sum, 1, __ATOMIC_RELAXED);
		pthread_mutex_lock(&lock);
		locked_sum++;
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : sysconf(_SC_NPROCESSORS_ONLN);
	if (argc > 2)
		rounds = atol(argv[2]);
	if (n < 1 || n > 512 || rounds < 1) {
		fprintf(stderr, "smp_atomics: thread count %ld out of range\n", n);
		return 2;
	}
	pthread_t t[512];
	for (long i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, worker, NULL)) {
			fprintf(stderr, "smp_atomics: cannot create thread %ld\n", i);
			return 1;
		}
	for (long i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	int ok = atomic_sum == n * rounds && locked_sum == n * rounds;
	printf("atomics %ld threads atomic %ld locked %ld %s\n", n, atomic_sum, locked_sum,
	       ok ? "ok" : "WRONG");
	return ok ? 0 : 1;
}
