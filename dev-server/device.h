/** @file
 * The device model interface. Every device type is one file with one
 * `struct device_ops`; the event loop reaches a device only through it.
 * All callbacks run on the device process's single event-loop thread. */
#ifndef SHOAL_DEVICE_H
#define SHOAL_DEVICE_H

#include <stdint.h>

#include "../common/board.h"
#include "../common/shadow.h"

struct device;
struct io_uring_cqe;
struct iovec;

/** A device type: the only way the event loop reaches a device. Every hook
 * runs on the loop's thread; none may block. */
struct device_ops {
	const char *name; /* type name used by --type */
	/* Sets up the device; `args` is the device's option string (may be "").
	 * Returns 0 or a negative errno after logging why. */
	int (*init)(struct device *d, const char *args);
	/* A read of `size` bytes at offset `off` in the device's window. */
	uint64_t (*mmio_read)(struct device *d, uint64_t off, unsigned size);
	/* A posted write. */
	void (*mmio_write)(struct device *d, uint64_t off, unsigned size, uint64_t val);
	/* Completion of an io_uring request the device submitted with its own
	 * tag (see devloop_*), `res` as in the CQE. */
	void (*io_complete)(struct device *d, uint32_t tag, int32_t res);
	/* Called when the loop is idle, before sleeping (flush buffers). */
	void (*idle)(struct device *d);
	/* Called once at shutdown: finish pending output synchronously. */
	void (*stop)(struct device *d);
};

/** One device instance, owned by the event loop in dev-server/main.c. */
struct device {
	const struct device_ops *ops;
	struct shadow *shadow; /* may be NULL; writable by this device only */
	struct board *board;   /* may be NULL */
	uint8_t *ram;	       /* guest RAM at RAM_BASE (with --ram-nodes), or NULL */
	uint64_t ram_size;
	unsigned irq; /* PLIC source, 0 for none; drive with device_irq */
	struct devloop *loop;
	void *priv;
	char name[32];
};

/** Event-loop services for devices (dev-server/main.c). Tags are the device's
 * own; they come back in io_complete. Return 0 or a negative errno. */
int devloop_poll(struct devloop *l, int fd, unsigned events, uint32_t tag);
/** Queues a write of `len` bytes of `buf` (which must stay valid until its
 * completion) to `fd`; its completion comes back to io_complete with `tag`. */
int devloop_write(struct devloop *l, int fd, const void *buf, unsigned len, uint32_t tag);

/** Queues a vectored read (readv) of `fd` at `off` into `iov` (`n`
 * entries, valid until completion), completion to io_complete with `tag`. */
int devloop_readv(struct devloop *l, int fd, const struct iovec *iov, unsigned n, uint64_t off,
		  uint32_t tag);
/** Queues a vectored write (writev), as devloop_readv. */
int devloop_writev(struct devloop *l, int fd, const struct iovec *iov, unsigned n, uint64_t off,
		   uint32_t tag);
/** Queues an fsync of `fd` (fdatasync when `datasync`). */
int devloop_fsync(struct devloop *l, int fd, int datasync, uint32_t tag);

/** Sets the device's interrupt line (no-op without a board or an irq). */
static inline void device_irq(struct device *d, int level)
{
	if (d->board && d->irq)
		board_irq_line(d->board, d->irq, level);
}

extern const struct device_ops uart16550_ops;
extern const struct device_ops goldfish_rtc_ops;
extern const struct device_ops virtio_blk_ops;
extern const struct device_ops virtio_rng_ops;
extern const struct device_ops virtio_net_ops;
extern const struct device_ops virtio_console_ops;

#endif
