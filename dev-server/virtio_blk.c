/* virtio-blk over a raw image file: read, write, flush, get-id, discard; every
 * request an io_uring readv/writev/fsync straight between the file and
 * guest RAM (O_DIRECT when the file system allows it and the request is
 * aligned), as many in flight as the queue holds.
 *
 * --args: "ro=0|1,serial=TEXT,direct=0|1,file=PATH" (file last: the path
 * may contain commas). direct=1 (--drive cache=none) reads and writes
 * aligned requests with O_DIRECT when the file system allows it. A request the guest malformed
 * fails with VIRTIO_BLK_S_IOERR (or UNSUPP for an unknown type) and nothing else is affected. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/log.h"
#include "virtio.h"

#define VIRTIO_ID_BLOCK 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_DISCARD 13
#define DISCARD_MAX_SECTORS (1u << 22) /* 2 GiB per segment */
#define DISCARD_MAX_SEG 16
#define BLK_SEG_MAX 128

enum { T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8, T_DISCARD = 11 };
enum { S_OK = 0, S_IOERR = 1, S_UNSUPP = 2 };

/* One request in flight, indexed by its head descriptor. */
struct blk_req {
	struct vq_elem e;
	struct iovec *iov; /* the data segments (inside e.iov) */
	unsigned niov;
	uint64_t off;	/* file offset of the next byte */
	uint32_t done;	/* data bytes transferred so far */
	uint32_t total; /* data bytes asked for */
	uint16_t gen;	/* the transport generation it belongs to */
	uint8_t type, busy;
};

struct blk {
	struct virtio_dev v;
	int fd, ro;
	int dfd;       /* the image opened O_DIRECT, -1 when the file system refuses */
	int regular;   /* a regular file (discard punches holes) */
	int restarted; /* until the first completion after a restart */
	uint64_t sectors;
	char serial[21];
	struct blk_req req[VQ_MAX_SIZE];
};

static uint32_t le32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
	return v;
}

static unsigned blk_config(struct virtio_dev *v, uint8_t *cfg, unsigned cap)
{
	struct blk *b = v->priv;
	if (cap < 60)
		return 0;
	memset(cfg, 0, 60);
	memcpy(cfg, &b->sectors, 8); /* capacity in 512-byte sectors */
	le32(cfg + 12, BLK_SEG_MAX); /* seg_max */
	le32(cfg + 20, 512);	     /* blk_size */
	le32(cfg + 36, DISCARD_MAX_SECTORS);
	le32(cfg + 40, DISCARD_MAX_SEG);
	le32(cfg + 44, 8); /* discard_sector_alignment: 4 KiB */
	return 60;
}

/* Copies up to `n` bytes from the start of the request's readable
 * segments; returns how many were there. */
static size_t iov_read(const struct vq_elem *e, void *dst, size_t n)
{
	size_t got = 0;
	for (unsigned i = 0; i < e->nout && got < n; i++) {
		size_t k = e->iov[i].iov_len < n - got ? e->iov[i].iov_len : n - got;
		memcpy((uint8_t *)dst + got, e->iov[i].iov_base, k);
		got += k;
	}
	return got;
}

static void blk_finish(struct blk *b, unsigned q, uint16_t head, uint8_t status, uint32_t len)
{
	struct blk_req *r = &b->req[head];
	if (b->restarted) {
		/* For the recovery benchmark: CLOCK_MONOTONIC, comparable with
		 * the time the old process was killed. */
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		log_info("%s: first request after the restart completed at monotonic %lld.%09ld",
			 b->v.dev->name, (long long)ts.tv_sec, ts.tv_nsec);
		b->restarted = 0;
	}
	if (r->e.status)
		*r->e.status = status;
	r->busy = 0;
	vq_push(&b->v, q, head, len + (r->e.status ? 1 : 0));
}

/* Whether the transfer can bypass the page cache: O_DIRECT wants the file
 * offset and every segment's address and length 512-byte aligned (Linux's
 * block layer nearly always sends such requests). */
static int direct_ok(const struct blk *b, const struct blk_req *r)
{
	if (b->dfd < 0 || (r->off & 511))
		return 0;
	for (unsigned i = 0; i < r->niov; i++)
		if (((uintptr_t)r->iov[i].iov_base | r->iov[i].iov_len) & 511)
			return 0;
	return 1;
}

/* Issues (or continues) the transfer of request `head`. Buffered and direct
 * transfers mix safely: the kernel writes back cached pages before a direct
 * read of them and drops them after a direct write. */
static void blk_submit_io(struct blk *b, uint16_t head)
{
	struct blk_req *r = &b->req[head];
	uint32_t tag = ((uint32_t)r->gen << 16) | head;
	int fd = direct_ok(b, r) ? b->dfd : b->fd;
	int e = r->type == T_IN ? devloop_readv(b->v.dev->loop, fd, r->iov, r->niov, r->off, tag)
				: devloop_writev(b->v.dev->loop, fd, r->iov, r->niov, r->off, tag);
	if (e)
		blk_finish(b, 0, head, S_IOERR, 0);
}

/* A discard: its readable data after the header is segments of {sector,
 * sector count, flags}; each range must lie on the disk. On a regular file
 * the ranges become holes (reads return zeros, space is freed); elsewhere
 * a discard is a hint and does nothing. Synchronous: punching a hole is a
 * metadata operation. Returns the request's status. */
static uint8_t blk_discard(struct blk *b, const struct vq_elem *e)
{
	uint8_t buf[16 + 16 * DISCARD_MAX_SEG];
	size_t n = iov_read(e, buf, sizeof(buf));
	if (b->ro || e->in_len != 1 || n < 32 || (n - 16) % 16 || e->out_len != n)
		return S_IOERR;
	for (size_t k = 16; k < n; k += 16) {
		uint64_t sector;
		uint32_t count;
		memcpy(&sector, buf + k, 8);
		memcpy(&count, buf + k + 8, 4);
		if (count > DISCARD_MAX_SECTORS || sector > b->sectors ||
		    count > b->sectors - sector)
			return S_IOERR;
		if (b->regular &&
		    fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)(sector * 512), (off_t)count * 512) < 0 &&
		    errno != EOPNOTSUPP)
			return S_IOERR;
	}
	return S_OK;
}

/* Starts request `head` of queue `q` (already popped or recovered). */
static void blk_start(struct blk *b, unsigned q, uint16_t head)
{
	struct blk_req *r = &b->req[head];
	struct vq_elem *e = &r->e;
	vq_parse_chain(&b->v, q, head, e);
	r->busy = 1;
	r->gen = (uint16_t)b->v.generation;
	r->done = 0;
	uint8_t hdr[16];
	if (e->bad || iov_read(e, hdr, 16) < 16) {
		blk_finish(b, q, head, S_IOERR, 0);
		return;
	}
	uint32_t type;
	uint64_t sector;
	memcpy(&type, hdr, 4);
	memcpy(&sector, hdr + 8, 8);
	r->type = (uint8_t)type;
	/* Data segments: readable ones after the 16-byte header (writes), or
	 * writable ones before the status byte (reads). */
	if (type == T_IN || type == T_GET_ID) {
		if (e->out_len != 16 || e->nin == 0) {
			blk_finish(b, q, head, S_IOERR, 0);
			return;
		}
		r->iov = &e->iov[e->nout];
		r->niov = e->nin;
		r->iov[r->niov - 1].iov_len--; /* the status byte */
		if (r->iov[r->niov - 1].iov_len == 0)
			r->niov--;
		r->total = e->in_len - 1;
	} else if (type == T_OUT) {
		if (e->in_len != 1 || e->iov[0].iov_len != 16) {
			blk_finish(b, q, head, S_IOERR, 0);
			return;
		}
		r->iov = &e->iov[1];
		r->niov = e->nout - 1;
		r->total = e->out_len - 16;
	} else if (type == T_DISCARD) {
		blk_finish(b, q, head, blk_discard(b, e), 0);
		return;
	} else if (type == T_FLUSH) {
		if (devloop_fsync(b->v.dev->loop, b->fd, 0, ((uint32_t)r->gen << 16) | head))
			blk_finish(b, q, head, S_IOERR, 0);
		return;
	} else {
		blk_finish(b, q, head, S_UNSUPP, 0);
		return;
	}
	if (type == T_GET_ID) {
		size_t left = r->total < 20 ? r->total : 20, k = 0;
		for (unsigned i = 0; i < r->niov && k < left; i++) {
			size_t n = r->iov[i].iov_len < left - k ? r->iov[i].iov_len : left - k;
			memcpy(r->iov[i].iov_base, b->serial + k, n);
			k += n;
		}
		blk_finish(b, q, head, S_OK, (uint32_t)k);
		return;
	}
	uint64_t nsec = r->total / 512;
	if ((r->total % 512) || sector > b->sectors || nsec > b->sectors - sector ||
	    (type == T_OUT && b->ro) || r->niov == 0) {
		blk_finish(b, q, head, S_IOERR, 0);
		return;
	}
	r->off = sector * 512;
	blk_submit_io(b, head);
}

static void blk_notify(struct virtio_dev *v, unsigned q)
{
	struct blk *b = v->priv;
	uint16_t head;
	while (vq_pop(v, q, &head))
		blk_start(b, q, head);
}

static void blk_resubmit(struct virtio_dev *v, unsigned q, uint16_t head)
{
	blk_start(v->priv, q, head);
}

static void blk_reset(struct virtio_dev *v)
{
	struct blk *b = v->priv;
	for (unsigned i = 0; i < VQ_MAX_SIZE; i++)
		b->req[i].busy = 0;
}

static const struct virtio_ops blk_vops = {
    .device_id = VIRTIO_ID_BLOCK,
    .nqueues = 1,
    .features = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
		(1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_DISCARD),
    .config = blk_config,
    .notify = blk_notify,
    .reset = blk_reset,
    .resubmit = blk_resubmit,
};

static int blk_init(struct device *d, const char *args)
{
	struct blk *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	const char *file = strstr(args, "file=");
	if (!file) {
		log_err("%s: no file= in the device arguments", d->name);
		free(b);
		return -EINVAL;
	}
	file += 5;
	b->ro = strncmp(args, "ro=1,", 5) == 0;
	const char *ser = strstr(args, "serial=");
	if (ser) {
		size_t n = strcspn(ser + 7, ",");
		snprintf(b->serial, sizeof(b->serial), "%.*s", (int)(n > 20 ? 20 : n), ser + 7);
	}
	b->fd = open(file, (b->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (b->fd < 0) {
		int e = errno;
		log_err("%s: %s: %s", d->name, file, strerror(e));
		free(b);
		return -e;
	}
	b->dfd = -1;
	if (strstr(args, ",direct=1,")) {
		b->dfd = open(file, (b->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_DIRECT);
		if (b->dfd < 0)
			log_info("%s: %s: no O_DIRECT here (%s); using the page cache", d->name,
				 file, strerror(errno));
	}
	struct stat sb;
	uint64_t bytes = 0;
	if (fstat(b->fd, &sb) == 0)
		bytes = (uint64_t)sb.st_size;
	b->regular = S_ISREG(sb.st_mode);
	if (S_ISBLK(sb.st_mode) && ioctl(b->fd, BLKGETSIZE64, &bytes) < 0)
		bytes = 0;
	b->sectors = bytes / 512;
	b->v.priv = b;
	d->priv = b;
	struct virtio_ops *ops = malloc(sizeof(*ops));
	if (!ops)
		return -ENOMEM;
	*ops = blk_vops;
	if (b->ro)
		ops->features |= 1ull << VIRTIO_BLK_F_RO;
	int r = virtio_init(&b->v, d, ops);
	if (r < 0)
		return r;
	if (r == 1) {
		b->restarted = 1;
		virtio_recover(&b->v);
	}
	return 0;
}

static void blk_io_complete(struct device *d, uint32_t tag, int32_t res)
{
	struct blk *b = d->priv;
	uint16_t head = tag & 0xffff;
	struct blk_req *r = &b->req[head % VQ_MAX_SIZE];
	if (!r->busy || r->gen != (uint16_t)(tag >> 16))
		return; /* the driver reset the device since */
	if (r->type == T_FLUSH) {
		blk_finish(b, 0, head, res < 0 ? S_IOERR : S_OK, 0);
		return;
	}
	if (res <= 0) {
		if (res < 0)
			log_err("%s: %s at byte %llu: %s", d->name,
				r->type == T_IN ? "read" : "write", (unsigned long long)r->off,
				strerror(-res));
		blk_finish(b, 0, head, S_IOERR, r->done);
		return;
	}
	r->done += (uint32_t)res;
	r->off += (uint64_t)res;
	if (r->done >= r->total) {
		blk_finish(b, 0, head, S_OK, r->type == T_IN ? r->total : 0);
		return;
	}
	/* A short transfer: skip what was done and go on. */
	size_t skip = (size_t)res;
	while (r->niov && skip >= r->iov[0].iov_len) {
		skip -= r->iov[0].iov_len;
		r->iov++;
		r->niov--;
	}
	if (r->niov) {
		r->iov[0].iov_base = (uint8_t *)r->iov[0].iov_base + skip;
		r->iov[0].iov_len -= skip;
	}
	blk_submit_io(b, head);
}

static void blk_stop(struct device *d)
{
	struct blk *b = d->priv;
	vq_flush(&b->v, 0);
	fsync(b->fd);
	close(b->fd);
	if (b->dfd >= 0)
		close(b->dfd);
}

const struct device_ops virtio_blk_ops = {
    .name = "virtio-blk",
    .init = blk_init,
    .mmio_read = virtio_dev_mmio_read,
    .mmio_write = virtio_dev_mmio_write,
    .io_complete = blk_io_complete,
    .idle = virtio_dev_idle,
    .stop = blk_stop,
};
