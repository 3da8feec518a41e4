/** @file
 * Client side of shoal-mem: fetches region fds over the UNIX socket and maps
 * them. Used by shoal, shoal-cpu and shoal-dev. */
#ifndef SHOAL_MEMCLIENT_H
#define SHOAL_MEMCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "region.h"
#include "shadow.h"

#define RAM_BASE 0x80000000ull
#define MEM_MAX_NODES 16

/** A region as shoal-mem described it in its `region` reply. */
struct region_info {
	int fd; /* owned by the caller */
	uint64_t size;
	int64_t host_node; /* -1 when not bound */
	uint64_t generation;
};

/** Asks shoal-mem (connected socket `sock`) for region `kind` number `index`.
 * Returns 0, or a negative errno with a reason in `why`. */
int memclient_get(int sock, enum region_kind kind, uint32_t index, struct region_info *out,
		  char *why, size_t why_len);

/** Guest RAM mapped as one contiguous host range: node i follows node i-1. */
struct guest_ram {
	uint8_t *host; /* host address of guest physical RAM_BASE */
	uint64_t size; /* total bytes */
	uint32_t nnodes;
	struct region_info node[MEM_MAX_NODES];
};

/** Fetches and maps `nnodes` RAM regions read+write, shared. Returns 0 or a
 * negative errno with a reason. The fds are kept open in `ram` (shoal keeps
 * them as duplicates so shoal-mem can be restarted). */
int memclient_map_ram(int sock, uint32_t nnodes, struct guest_ram *ram, char *why, size_t why_len);

/** Fetches and maps a region with a region_hdr (board, shadow), checks its
 * header. Returns the mapping or NULL with a reason. The fd is closed. */
void *memclient_map_region(int sock, enum region_kind kind, uint32_t index, uint64_t *size,
			   char *why, size_t why_len);

/** Connects to shoal-mem at `path`, retrying for up to two seconds while the
 * server starts. Returns the socket or a negative errno. */
int memclient_connect(const char *path);

#endif
