/** @file
 * virtio-mmio (version 2) transport and split virtqueues, shared by every
 * virtio device type. The transport state and each queue's progress live in
 * the device's shadow page (struct virtio_state in shadow->priv), which
 * shoal-mem owns: a restarted device process finds them there and recovers.
 *
 * Guest-facing registers: Magic, Version, DeviceID, VendorID,
 * ConfigGeneration, InterruptStatus and the config space are published in
 * the shadow page (no round trip); InterruptACK is handled by the vCPUs
 * (common/shadow.h); everything else is a message, all of them rare except
 * QueueNotify, which is posted. */
#ifndef SHOAL_VIRTIO_H
#define SHOAL_VIRTIO_H

#include <stdint.h>
#include <sys/uio.h>

#include "device.h"

#define VIRTIO_MAX_QUEUES 2
#define VQ_MAX_SIZE 256
#define VQ_MAX_SEGS 260 /* segments a chain may have (VQ_MAX_SIZE + slack) */

#define VIRTIO_F_VERSION_1 32
#define VIRTIO_STATUS_ACK 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

#define VIRTIO_STATE_MAGIC 0x56495254u /* "VIRT" */

/** One request the device took from the avail ring and has not yet put in
 * the used ring (indexed by its head descriptor). */
struct vq_inflight {
	uint16_t avail_idx; /* the avail index it was popped at: resubmission order */
	uint8_t busy;
	uint8_t pad;
};

/** A virtqueue's configuration and progress (in the shadow page). */
struct vq_state {
	uint32_t num, ready;
	uint64_t desc, avail, used; /* guest physical addresses */
	uint16_t last_avail;	    /* next avail ring entry to take */
	uint16_t used_idx;	    /* next used ring entry to fill */
	uint32_t ninflight;
	struct vq_inflight inflight[VQ_MAX_SIZE];
};

/** The transport's state, in shadow->priv so it survives a restart. */
struct virtio_state {
	uint32_t magic;	    /* VIRTIO_STATE_MAGIC once set up */
	uint32_t device_id; /* refuses a page left by another device type */
	uint32_t status;
	uint32_t dev_features_sel, drv_features_sel, queue_sel;
	uint64_t driver_features;
	uint32_t config_generation;
	uint32_t pad;
	struct vq_state q[VIRTIO_MAX_QUEUES];
};

/** A request taken from a queue: its head, its segments (device-readable
 * ones first) as host pointers into guest RAM. `bad` is set when the chain
 * broke a rule (loop, out-of-RAM address, too long, readable after
 * writable, indirect): the request must fail; `status` then points at the
 * chain's last writable byte if there is a usable one (else NULL). */
struct vq_elem {
	uint16_t head;
	unsigned nout, nin; /* readable, then writable segments in iov */
	uint32_t out_len, in_len;
	struct iovec iov[VQ_MAX_SEGS];
	uint8_t *status;
	int bad;
};

struct virtio_dev;

/** What a virtio device type adds to the transport. */
struct virtio_ops {
	uint32_t device_id;
	unsigned nqueues;
	/* Device feature bits (VERSION_1 is added by the transport). */
	uint64_t features;
	/* Writes the config space into `cfg` (up to `cap` bytes); returns its
	 * length. Called at set-up; the bytes are published in the shadow. */
	unsigned (*config)(struct virtio_dev *v, uint8_t *cfg, unsigned cap);
	/* The driver notified queue `q` (or recovery asks for a look). */
	void (*notify)(struct virtio_dev *v, unsigned q);
	/* The driver reset the device: drop requests in flight. */
	void (*reset)(struct virtio_dev *v);
	/* Re-issue request `head` of queue `q`, found in flight after a
	 * restart (already recorded as in flight: do not vq_pop it). */
	void (*resubmit)(struct virtio_dev *v, unsigned q, uint16_t head);
};

/** A virtio device instance: the generic device plus the transport. */
struct virtio_dev {
	struct device *dev;
	const struct virtio_ops *ops;
	struct virtio_state *st; /* in dev->shadow->priv */
	uint8_t *ram;		 /* guest RAM at RAM_BASE */
	uint64_t ram_size;
	uint32_t generation; /* bumped by every reset: stale completions are dropped */
	uint32_t dirty;	     /* queues with completions to publish (bit per queue) */
	void *priv;	     /* the device type's own state */
};

/** Sets up the transport for `d` (which must have a shadow page and guest
 * RAM): publishes the fixed registers and the config space, and, if the
 * shadow already holds this device's state (a restart), recovers every
 * queue (virtio_recover). Returns 0 or a negative errno. */
int virtio_init(struct virtio_dev *v, struct device *d, const struct virtio_ops *ops);

/** Transport register access. */
uint64_t virtio_mmio_read(struct virtio_dev *v, uint64_t off, unsigned size);
void virtio_mmio_write(struct virtio_dev *v, uint64_t off, unsigned size, uint64_t val);

/** device_ops hooks shared by every virtio type: the device's priv must
 * point at a struct whose first member is its struct virtio_dev. The idle
 * hook publishes the completions of every queue vq_push marked dirty. */
uint64_t virtio_dev_mmio_read(struct device *d, uint64_t off, unsigned size);
void virtio_dev_mmio_write(struct device *d, uint64_t off, unsigned size, uint64_t val);
void virtio_dev_idle(struct device *d);

/** Publishes the completions of every queue marked dirty (vq_flush each). */
void virtio_flush(struct virtio_dev *v);

/** Takes the next request from queue `q`: returns 1 with its head in
 * `*head` (parse it with vq_parse_chain), 0 when the queue is empty or not
 * ready. The request is recorded as in flight until vq_push. */
int vq_pop(struct virtio_dev *v, unsigned q, uint16_t *head);

/** Completes request `head` of queue `q` with `len` bytes written to its
 * writable segments; the guest sees it at the next vq_flush (the queue is
 * marked dirty for virtio_flush). */
void vq_push(struct virtio_dev *v, unsigned q, uint16_t head, uint32_t len);

/** Publishes the used index and interrupts the guest unless it asked not
 * to be (VRING_AVAIL_F_NO_INTERRUPT). */
void vq_flush(struct virtio_dev *v, unsigned q);

/** Parses the chain starting at `head` (no state change): the building
 * block of vq_pop and of recovery; public for the unit tests. */
void vq_parse_chain(const struct virtio_dev *v, unsigned q, uint16_t head, struct vq_elem *e);

/** Whether request `head` of queue `q` is still owed to the guest: taken
 * and not completed, or completing but not yet counted in the used ring
 * (recovery redoes exactly these). */
int vq_in_flight(const struct virtio_dev *v, unsigned q, uint16_t head);

/** After a restart: reconciles the in-flight records with the used ring
 * (a completion published just before the crash is not redone), then hands
 * every request still in flight to ops->resubmit in avail order, and
 * raises an interrupt. */
void virtio_recover(struct virtio_dev *v);

#endif
