/** @file
 * Futex wait/wake on words in shared memory (not FUTEX_PRIVATE: the waiter
 * and the waker are different processes). */
#ifndef SHOAL_FUTEX_H
#define SHOAL_FUTEX_H

#include <errno.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/** Sleeps while *word == expected, at most `timeout` (NULL: no limit, relative
 * time). Returns 0 when woken or when *word already differed, -ETIMEDOUT or
 * -EINTR otherwise. */
static inline int futex_wait(uint32_t *word, uint32_t expected, const struct timespec *timeout)
{
	long r = syscall(SYS_futex, word, FUTEX_WAIT, expected, timeout, NULL, 0);
	if (r == 0 || errno == EAGAIN)
		return 0;
	return -errno;
}

/** Wakes up to `n` waiters on `word`. */
static inline void futex_wake(uint32_t *word, int n)
{
	syscall(SYS_futex, word, FUTEX_WAKE, n, NULL, NULL, 0);
}

#endif
