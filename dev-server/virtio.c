/* virtio-mmio version 2 and split virtqueues (virtio 1.1, sections 2.6 and
 * 4.2). Everything the guest wrote (ring indices, descriptors, addresses,
 * lengths) is hostile input: it is bounded and checked before use, and a bad
 * request fails alone.
 *
 * Crash consistency: a request's life in struct vq_inflight (shadow page) is
 * free -> busy (popped; last_avail advanced after) -> completing (its used
 * slot recorded before the used entry is written; used_idx advanced after)
 * -> free. virtio_recover reads those states to finish or redo each
 * request exactly as the crash left it. */
#include "virtio.h"

#include <errno.h>
#include <string.h>

#include "../common/log.h"
#include "../common/memclient.h"

enum {
	VM_MAGIC = 0x000,
	VM_VERSION = 0x004,
	VM_DEVICE_ID = 0x008,
	VM_VENDOR_ID = 0x00c,
	VM_DEVICE_FEATURES = 0x010,
	VM_DEVICE_FEATURES_SEL = 0x014,
	VM_DRIVER_FEATURES = 0x020,
	VM_DRIVER_FEATURES_SEL = 0x024,
	VM_QUEUE_SEL = 0x030,
	VM_QUEUE_NUM_MAX = 0x034,
	VM_QUEUE_NUM = 0x038,
	VM_QUEUE_READY = 0x044,
	VM_QUEUE_NOTIFY = 0x050,
	VM_INTERRUPT_STATUS = 0x060,
	VM_INTERRUPT_ACK = 0x064,
	VM_STATUS = 0x070,
	VM_QUEUE_DESC_LOW = 0x080,
	VM_QUEUE_DESC_HIGH = 0x084,
	VM_QUEUE_DRIVER_LOW = 0x090,
	VM_QUEUE_DRIVER_HIGH = 0x094,
	VM_QUEUE_DEVICE_LOW = 0x0a0,
	VM_QUEUE_DEVICE_HIGH = 0x0a4,
	VM_CONFIG_GENERATION = 0x0fc,
	VM_CONFIG = 0x100,
};

#define VIRTIO_VENDOR 0x4c414f53u /* "SOAL" */
#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_DESC_F_INDIRECT 4
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define ISR_USED 1u
#define ISR_CONFIG 2u

enum { INF_FREE = 0, INF_BUSY = 1, INF_COMPLETING = 2 };

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

/* Host address of guest-physical [gpa, gpa + len), or NULL if any of it is
 * outside RAM. */
static void *gpa_ptr(const struct virtio_dev *v, uint64_t gpa, uint64_t len)
{
	uint64_t off = gpa - RAM_BASE;
	if (gpa < RAM_BASE || off > v->ram_size || len > v->ram_size - off)
		return NULL;
	return v->ram + off;
}

static volatile uint16_t *avail_idx_ptr(const struct virtio_dev *v, const struct vq_state *q)
{
	return (volatile uint16_t *)gpa_ptr(v, q->avail + 2, 2);
}

static uint64_t device_features(const struct virtio_dev *v)
{
	return v->ops->features | (1ull << VIRTIO_F_VERSION_1);
}

/* Publishes what vCPUs read without asking: identity, interrupt status,
 * config generation and the config space. */
static void publish(struct virtio_dev *v)
{
	struct shadow *s = v->dev->shadow;
	shadow_publish32(s, VM_MAGIC, 0x74726976u);
	shadow_publish32(s, VM_VERSION, 2);
	shadow_publish32(s, VM_DEVICE_ID, v->ops->device_id);
	shadow_publish32(s, VM_VENDOR_ID, VIRTIO_VENDOR);
	shadow_publish32(s, VM_CONFIG_GENERATION, v->st->config_generation);
	uint8_t cfg[SHADOW_REGS - VM_CONFIG];
	unsigned n = v->ops->config ? v->ops->config(v, cfg, sizeof(cfg)) : 0;
	for (unsigned i = 0; i < n; i++)
		shadow_publish8(s, VM_CONFIG + i, cfg[i]);
	s->isr_off = VM_INTERRUPT_STATUS;
	s->ack_off = VM_INTERRUPT_ACK;
	s->isr_irq = v->dev->irq;
	/* The status register's bytes are live (the device sets bits, vCPUs
	 * clear them): mark them readable, never overwrite them. */
	shadow_mark_valid(s, VM_INTERRUPT_STATUS, 4);
}

static void transport_reset(struct virtio_dev *v)
{
	struct virtio_state *st = v->st;
	v->generation++;
	if (v->ops->reset)
		v->ops->reset(v);
	st->status = 0;
	st->dev_features_sel = st->drv_features_sel = st->queue_sel = 0;
	st->driver_features = 0;
	memset(st->q, 0, sizeof(st->q));
	shadow_isr_ack(v->dev->shadow, v->dev->board, ~0u);
}

int virtio_init(struct virtio_dev *v, struct device *d, const struct virtio_ops *ops)
{
	_Static_assert(sizeof(struct virtio_state) <= SHADOW_PRIV_SIZE, "shadow page too small");
	if (!d->shadow || !d->ram) {
		log_err("%s: a virtio device needs a shadow page and guest RAM", d->name);
		return -EINVAL;
	}
	v->dev = d;
	v->ops = ops;
	v->st = (struct virtio_state *)(void *)d->shadow->priv;
	v->ram = d->ram;
	v->ram_size = d->ram_size;
	int restart = v->st->magic == VIRTIO_STATE_MAGIC && v->st->device_id == ops->device_id;
	if (!restart) {
		memset(v->st, 0, sizeof(*v->st));
		v->st->device_id = ops->device_id;
		__atomic_store_n(&v->st->magic, VIRTIO_STATE_MAGIC, __ATOMIC_RELEASE);
	}
	publish(v);
	if (restart)
		log_info("%s: restarted; recovering queue state", d->name);
	return restart;
}

static int queue_valid(const struct virtio_dev *v, const struct vq_state *q)
{
	unsigned n = q->num;
	if (n == 0 || n > VQ_MAX_SIZE || (n & (n - 1)))
		return 0;
	return (q->desc & 15) == 0 && (q->avail & 1) == 0 && (q->used & 3) == 0 &&
	       gpa_ptr(v, q->desc, 16ull * n) && gpa_ptr(v, q->avail, 6 + 2ull * n) &&
	       gpa_ptr(v, q->used, 6 + 8ull * n);
}

uint64_t virtio_mmio_read(struct virtio_dev *v, uint64_t off, unsigned size)
{
	struct virtio_state *st = v->st;
	struct vq_state *q = st->queue_sel < v->ops->nqueues ? &st->q[st->queue_sel] : NULL;
	if (off >= VM_CONFIG) {
		const struct shadow *s = v->dev->shadow;
		uint64_t r = 0;
		if (off + size <= SHADOW_REGS && shadow_readable(s, off, size))
			memcpy(&r, &s->regs[off], size);
		return r;
	}
	if (size != 4)
		return 0;
	switch (off) {
	case VM_MAGIC: return 0x74726976u;
	case VM_VERSION: return 2;
	case VM_DEVICE_ID: return v->ops->device_id;
	case VM_VENDOR_ID: return VIRTIO_VENDOR;
	case VM_DEVICE_FEATURES:
		return st->dev_features_sel < 2
			   ? (uint32_t)(device_features(v) >> (32 * st->dev_features_sel))
			   : 0;
	case VM_QUEUE_NUM_MAX: return q ? VQ_MAX_SIZE : 0;
	case VM_QUEUE_READY: return q ? q->ready : 0;
	case VM_INTERRUPT_STATUS:
		return __atomic_load_n(shadow_isr(v->dev->shadow), __ATOMIC_ACQUIRE);
	case VM_STATUS: return st->status;
	case VM_CONFIG_GENERATION: return st->config_generation;
	default: return 0;
	}
}

static void set_addr(uint64_t *a, int high, uint32_t val)
{
	*a = high ? (*a & 0xffffffffull) | ((uint64_t)val << 32) : (*a & ~0xffffffffull) | val;
}

void virtio_mmio_write(struct virtio_dev *v, uint64_t off, unsigned size, uint64_t val)
{
	struct virtio_state *st = v->st;
	struct vq_state *q = st->queue_sel < v->ops->nqueues ? &st->q[st->queue_sel] : NULL;
	uint32_t w = (uint32_t)val;
	if (off >= VM_CONFIG || size != 4)
		return; /* config space is read-only here */
	switch (off) {
	case VM_DEVICE_FEATURES_SEL: st->dev_features_sel = w; break;
	case VM_DRIVER_FEATURES_SEL: st->drv_features_sel = w; break;
	case VM_DRIVER_FEATURES:
		if (st->drv_features_sel < 2 && !(st->status & VIRTIO_STATUS_FEATURES_OK)) {
			unsigned sh = 32 * st->drv_features_sel;
			st->driver_features =
			    (st->driver_features & ~(0xffffffffull << sh)) | ((uint64_t)w << sh);
		}
		break;
	case VM_QUEUE_SEL: st->queue_sel = w; break;
	case VM_QUEUE_NUM:
		if (q && !q->ready)
			q->num = w;
		break;
	case VM_QUEUE_READY:
		if (!q)
			break;
		if ((w & 1) && !queue_valid(v, q)) {
			log_err("%s: queue %u: size %u or ring addresses rejected", v->dev->name,
				st->queue_sel, q->num);
			break;
		}
		q->ready = w & 1;
		break;
	case VM_QUEUE_NOTIFY:
		if (w < v->ops->nqueues && st->q[w].ready && (st->status & VIRTIO_STATUS_DRIVER_OK))
			v->ops->notify(v, w);
		break;
	case VM_INTERRUPT_ACK: shadow_isr_ack(v->dev->shadow, v->dev->board, w); break;
	case VM_STATUS:
		if (w == 0) {
			transport_reset(v);
			break;
		}
		if ((w & VIRTIO_STATUS_FEATURES_OK) && !(st->status & VIRTIO_STATUS_FEATURES_OK)) {
			/* Accept only what was offered, and only modern drivers. */
			uint64_t f = st->driver_features;
			if ((f & ~device_features(v)) || !(f & (1ull << VIRTIO_F_VERSION_1)))
				w &= ~(uint32_t)VIRTIO_STATUS_FEATURES_OK;
		}
		st->status = w;
		break;
	case VM_QUEUE_DESC_LOW:
	case VM_QUEUE_DESC_HIGH:
		if (q && !q->ready)
			set_addr(&q->desc, off == VM_QUEUE_DESC_HIGH, w);
		break;
	case VM_QUEUE_DRIVER_LOW:
	case VM_QUEUE_DRIVER_HIGH:
		if (q && !q->ready)
			set_addr(&q->avail, off == VM_QUEUE_DRIVER_HIGH, w);
		break;
	case VM_QUEUE_DEVICE_LOW:
	case VM_QUEUE_DEVICE_HIGH:
		if (q && !q->ready)
			set_addr(&q->used, off == VM_QUEUE_DEVICE_HIGH, w);
		break;
	}
}

void vq_parse_chain(const struct virtio_dev *v, unsigned qi, uint16_t head, struct vq_elem *e)
{
	const struct vq_state *q = &v->st->q[qi];
	const struct vring_desc *table = gpa_ptr(v, q->desc, 16ull * q->num);
	e->head = head;
	e->nout = e->nin = 0;
	e->out_len = e->in_len = 0;
	e->status = NULL;
	e->bad = 0;
	uint64_t out = 0, in = 0;
	unsigned idx = head;
	for (unsigned count = 0;; count++) {
		if (!table || idx >= q->num || count >= q->num) {
			e->bad = 1; /* a loop, a chain longer than the queue, a bad index */
			break;
		}
		struct vring_desc d;
		memcpy(&d, &table[idx], sizeof(d)); /* one snapshot: the guest may change it */
		int last = !(d.flags & VRING_DESC_F_NEXT), wr = (d.flags & VRING_DESC_F_WRITE) != 0;
		uint8_t *host = gpa_ptr(v, d.addr, d.len);
		if (!host || (d.flags & VRING_DESC_F_INDIRECT) || (!wr && e->nin) ||
		    e->nout + e->nin == VQ_MAX_SEGS) {
			e->bad = 1;
		} else if (d.len) {
			e->iov[e->nout + e->nin] =
			    (struct iovec){.iov_base = host, .iov_len = d.len};
			if (wr) {
				e->nin++;
				in += d.len;
			} else {
				e->nout++;
				out += d.len;
			}
		}
		if (last) {
			if (wr && host && d.len)
				e->status = host + d.len - 1;
			break;
		}
		idx = d.next;
	}
	e->out_len = out > UINT32_MAX ? UINT32_MAX : (uint32_t)out;
	e->in_len = in > UINT32_MAX ? UINT32_MAX : (uint32_t)in;
	if (e->bad)
		return;
	if (e->nin && !e->status)
		e->bad = 1;
}

int vq_pop(struct virtio_dev *v, unsigned qi, uint16_t *headp)
{
	struct vq_state *q = &v->st->q[qi];
	if (!q->ready || !(v->st->status & VIRTIO_STATUS_DRIVER_OK))
		return 0;
	volatile uint16_t *aidx = avail_idx_ptr(v, q);
	for (;;) {
		uint16_t avail = __atomic_load_n(aidx, __ATOMIC_ACQUIRE);
		if (avail == q->last_avail)
			return 0;
		const volatile uint16_t *ring = gpa_ptr(v, q->avail + 4, 2ull * q->num);
		uint16_t head = ring[q->last_avail % q->num];
		if (head >= q->num || q->inflight[head].busy) {
			/* A head out of range or one already in flight: skip it. */
			log_err("%s: queue %u: avail entry %u names head %u (%s); skipped",
				v->dev->name, qi, q->last_avail, head,
				head >= q->num ? "out of range" : "already in flight");
			q->last_avail++;
			continue;
		}
		struct vq_inflight *f = &q->inflight[head];
		f->avail_idx = q->last_avail;
		__atomic_store_n(&f->busy, INF_BUSY, __ATOMIC_RELEASE);
		q->ninflight++;
		__atomic_store_n(&q->last_avail, (uint16_t)(q->last_avail + 1), __ATOMIC_RELEASE);
		*headp = head;
		return 1;
	}
}

void vq_push(struct virtio_dev *v, unsigned qi, uint16_t head, uint32_t len)
{
	struct vq_state *q = &v->st->q[qi];
	if (!q->ready || head >= q->num || !q->inflight[head].busy)
		return; /* reset meanwhile, or not ours */
	struct vq_inflight *f = &q->inflight[head];
	f->avail_idx = q->used_idx; /* now: the used slot it completes in */
	__atomic_store_n(&f->busy, INF_COMPLETING, __ATOMIC_RELEASE);
	volatile uint32_t *slot = gpa_ptr(v, q->used + 4 + 8ull * (q->used_idx % q->num), 8);
	slot[0] = head;
	slot[1] = len;
	__atomic_store_n(&q->used_idx, (uint16_t)(q->used_idx + 1), __ATOMIC_RELEASE);
	__atomic_store_n(&f->busy, INF_FREE, __ATOMIC_RELEASE);
	q->ninflight--;
	v->dirty |= 1u << qi;
}

void virtio_flush(struct virtio_dev *v)
{
	for (unsigned q = 0; v->dirty && q < v->ops->nqueues; q++)
		if (v->dirty & (1u << q)) {
			v->dirty &= ~(1u << q);
			vq_flush(v, q);
		}
}

uint64_t virtio_dev_mmio_read(struct device *d, uint64_t off, unsigned size)
{
	return virtio_mmio_read(d->priv, off, size);
}

void virtio_dev_mmio_write(struct device *d, uint64_t off, unsigned size, uint64_t val)
{
	virtio_mmio_write(d->priv, off, size, val);
}

void virtio_dev_idle(struct device *d)
{
	virtio_flush(d->priv);
}

void vq_flush(struct virtio_dev *v, unsigned qi)
{
	struct vq_state *q = &v->st->q[qi];
	if (!q->ready)
		return;
	volatile uint16_t *uidx = gpa_ptr(v, q->used + 2, 2);
	if (*uidx == q->used_idx)
		return;
	__atomic_store_n(uidx, q->used_idx, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	const volatile uint16_t *aflags = gpa_ptr(v, q->avail, 2);
	if (!(*aflags & VRING_AVAIL_F_NO_INTERRUPT))
		shadow_isr_raise(v->dev->shadow, v->dev->board, ISR_USED);
}

int vq_in_flight(const struct virtio_dev *v, unsigned qi, uint16_t head)
{
	const struct vq_state *q = &v->st->q[qi];
	if (head >= VQ_MAX_SIZE)
		return 0;
	const struct vq_inflight *f = &q->inflight[head];
	return f->busy == INF_BUSY ||
	       (f->busy == INF_COMPLETING && (int16_t)(q->used_idx - f->avail_idx) <= 0);
}

void virtio_recover(struct virtio_dev *v)
{
	for (unsigned qi = 0; qi < v->ops->nqueues; qi++) {
		struct vq_state *q = &v->st->q[qi];
		if (!q->ready)
			continue;
		if (!queue_valid(v, q)) {
			q->ready = 0;
			continue;
		}
		/* Finish what the crash interrupted: a pop whose last_avail
		 * increment was lost, completions whose used slot was filled. */
		unsigned order[VQ_MAX_SIZE], n = 0;
		for (unsigned h = 0; h < q->num; h++) {
			struct vq_inflight *f = &q->inflight[h];
			if (f->busy == INF_COMPLETING) {
				if ((int16_t)(q->used_idx - f->avail_idx) > 0)
					f->busy = INF_FREE; /* its used entry was counted */
				else
					f->busy = INF_BUSY; /* redo it */
			}
			if (f->busy == INF_BUSY && f->avail_idx == q->last_avail)
				q->last_avail++;
		}
		q->ninflight = 0;
		for (unsigned h = 0; h < q->num; h++)
			if (q->inflight[h].busy == INF_BUSY)
				order[n++] = h;
		q->ninflight = n;
		/* Oldest first: by distance behind last_avail. */
		for (unsigned i = 1; i < n; i++)
			for (unsigned j = i; j > 0; j--) {
				uint16_t a =
				    (uint16_t)(q->last_avail - q->inflight[order[j - 1]].avail_idx);
				uint16_t b =
				    (uint16_t)(q->last_avail - q->inflight[order[j]].avail_idx);
				if (a >= b)
					break;
				unsigned t = order[j];
				order[j] = order[j - 1];
				order[j - 1] = t;
			}
		log_info("%s: queue %u: %u requests to redo, last_avail %u, used %u", v->dev->name,
			 qi, n, q->last_avail, q->used_idx);
		for (unsigned i = 0; i < n; i++)
			v->ops->resubmit(v, qi, (uint16_t)order[i]);
		vq_flush(v, qi);
		if (v->st->status & VIRTIO_STATUS_DRIVER_OK)
			v->ops->notify(v, qi);
	}
	/* Completions published before the crash whose interrupt was lost. */
	shadow_isr_raise(v->dev->shadow, v->dev->board, ISR_USED);
}
