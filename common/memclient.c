#include "memclient.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "fdpass.h"
#include "proto.h"

int memclient_get(int sock, enum region_kind kind, uint32_t index, struct region_info *out,
		  char *why, size_t why_len)
{
	struct proto_msg m = {.op = OP_REGION_GET, .index = index};
	snprintf(m.kind, sizeof(m.kind), "%s", region_kind_name(kind));
	char buf[512];
	int n = proto_encode(&m, buf, sizeof(buf));
	if (n < 0)
		return n;
	int r = fdpass_send(sock, buf, (size_t)n, NULL, 0);
	if (r) {
		snprintf(why, why_len, "cannot ask shoal-mem for %s %u: %s", m.kind, index,
			 strerror(-r));
		return r;
	}
	int fd = -1, nfd = 0;
	n = fdpass_recv(sock, buf, sizeof(buf), &fd, 1, &nfd);
	if (n <= 0) {
		snprintf(why, why_len, "no answer from shoal-mem for %s %u: %s", m.kind, index,
			 n == 0 ? "connection closed" : strerror(-n));
		return n == 0 ? -ECONNRESET : n;
	}
	struct proto_msg rep;
	char reason[128];
	r = proto_decode(buf, (size_t)n, &rep, reason, sizeof(reason));
	if (r == 0 && rep.op == OP_ERROR) {
		snprintf(why, why_len, "shoal-mem refused %s %u: %s", m.kind, index, rep.error);
		r = -ENOENT;
	} else if (r == 0 && (rep.op != OP_REGION || nfd != 1)) {
		snprintf(why, why_len, "shoal-mem sent '%s' with %d fds for %s %u",
			 proto_op_name(rep.op), nfd, m.kind, index);
		r = -EPROTO;
	} else if (r) {
		snprintf(why, why_len, "bad reply from shoal-mem: %s", reason);
	}
	if (r) {
		if (nfd)
			close(fd);
		return r;
	}
	out->fd = fd;
	out->size = rep.size;
	out->host_node = rep.node;
	out->generation = rep.generation;
	return 0;
}

int memclient_map_ram(int sock, uint32_t nnodes, struct guest_ram *ram, char *why, size_t why_len)
{
	memset(ram, 0, sizeof(*ram));
	if (nnodes == 0 || nnodes > MEM_MAX_NODES) {
		snprintf(why, why_len, "%u RAM nodes (1 to %d allowed)", nnodes, MEM_MAX_NODES);
		return -EINVAL;
	}
	uint64_t total = 0;
	for (uint32_t i = 0; i < nnodes; i++) {
		int r = memclient_get(sock, REGION_RAM, i, &ram->node[i], why, why_len);
		if (r) {
			for (uint32_t j = 0; j < i; j++)
				close(ram->node[j].fd);
			return r;
		}
		total += ram->node[i].size;
	}
	ram->nnodes = nnodes;
	/* Reserve the whole range, then place each node's memfd inside it. */
	uint8_t *base =
	    mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED) {
		int e = errno;
		snprintf(why, why_len, "cannot reserve %llu bytes for guest RAM: %s",
			 (unsigned long long)total, strerror(e));
		return -e;
	}
	uint64_t off = 0;
	for (uint32_t i = 0; i < nnodes; i++) {
		void *p = mmap(base + off, ram->node[i].size, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_FIXED, ram->node[i].fd, 0);
		if (p == MAP_FAILED) {
			int e = errno;
			snprintf(why, why_len, "cannot map RAM node %u: %s", i, strerror(e));
			munmap(base, total);
			return -e;
		}
		off += ram->node[i].size;
	}
	ram->host = base;
	ram->size = total;
	return 0;
}

void *memclient_map_region(int sock, enum region_kind kind, uint32_t index, uint64_t *size,
			   char *why, size_t why_len)
{
	struct region_info ri;
	if (memclient_get(sock, kind, index, &ri, why, why_len))
		return NULL;
	void *p = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, ri.fd, 0);
	int e = errno;
	close(ri.fd);
	if (p == MAP_FAILED) {
		snprintf(why, why_len, "cannot map %s %u: %s", region_kind_name(kind), index,
			 strerror(e));
		return NULL;
	}
	char reason[128];
	if (region_hdr_check(p, kind, ri.size, reason, sizeof(reason))) {
		snprintf(why, why_len, "%s %u refused: %s", region_kind_name(kind), index, reason);
		munmap(p, ri.size);
		return NULL;
	}
	*size = ri.size;
	return p;
}

int memclient_connect(const char *path)
{
	for (int i = 0;; i++) {
		int s = fdpass_connect(path);
		if (s >= 0 || i >= 200 || (s != -ENOENT && s != -ECONNREFUSED))
			return s;
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}
