/* virtio-rng: fills every buffer the guest offers with bytes from the
 * host's getrandom(). Requests are idempotent, so recovery just redoes
 * them. A malformed chain completes with nothing written. */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "../common/log.h"
#include "virtio.h"

#define VIRTIO_ID_RNG 4

struct rng {
	struct virtio_dev v;
	struct vq_elem e;
};

static void rng_fill(struct rng *r, uint16_t head)
{
	struct vq_elem *e = &r->e;
	vq_parse_chain(&r->v, 0, head, e);
	uint32_t done = 0;
	for (unsigned i = e->nout; !e->bad && i < e->nout + e->nin; i++) {
		uint8_t *p = e->iov[i].iov_base;
		size_t left = e->iov[i].iov_len;
		while (left) {
			ssize_t n = getrandom(p, left, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			p += n;
			left -= (size_t)n;
			done += (uint32_t)n;
		}
	}
	vq_push(&r->v, 0, head, done);
}

static void rng_notify(struct virtio_dev *v, unsigned q)
{
	uint16_t head;
	while (vq_pop(v, q, &head))
		rng_fill(v->priv, head);
}

static void rng_resubmit(struct virtio_dev *v, unsigned q, uint16_t head)
{
	(void)q;
	rng_fill(v->priv, head);
}

static const struct virtio_ops rng_vops = {
    .device_id = VIRTIO_ID_RNG,
    .nqueues = 1,
    .notify = rng_notify,
    .resubmit = rng_resubmit,
};

static int rng_init(struct device *d, const char *args)
{
	(void)args;
	struct rng *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->v.priv = r;
	d->priv = r;
	int e = virtio_init(&r->v, d, &rng_vops);
	if (e < 0)
		return e;
	if (e == 1)
		virtio_recover(&r->v);
	return 0;
}

const struct device_ops virtio_rng_ops = {
    .name = "virtio-rng",
    .init = rng_init,
    .mmio_read = virtio_dev_mmio_read,
    .mmio_write = virtio_dev_mmio_write,
    .idle = virtio_dev_idle,
};
