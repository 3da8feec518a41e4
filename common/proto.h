/** @file
 * The message definitions every shoal channel uses: msgpack maps with an "op"
 * string and a protocol "version". Both ends of every channel use these
 * functions; nothing else encodes or decodes messages.
 *
 * Decoding is strict: a message that is not a map, is larger than
 * PROTO_MAX_BYTES, has an unknown op, a wrong version, a field of the wrong
 * type, or lacks a field its op requires is rejected with a reason. Unknown
 * extra fields are ignored so that newer peers can add optional fields. */
#ifndef SHOAL_PROTO_H
#define SHOAL_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION 1
#define PROTO_MAX_BYTES 65536
#define PROTO_STR_MAX 128

/** Message kinds; each has the required fields proto_required() names. */
enum proto_op {
	OP_NONE = 0,
	OP_MMIO_READ,	/* vCPU -> device: id, addr (offset in the device), size */
	OP_MMIO_WRITE,	/* vCPU -> device, posted: addr, size, value */
	OP_MMIO_REPLY,	/* device -> vCPU: id, value */
	OP_SYNC,	/* any -> device: id; replied once all earlier messages are done */
	OP_SYNC_REPLY,	/* device -> any: id */
	OP_KICK,	/* vCPU -> device, posted: its posted-write ring has writes
			 * (shoal-jit is kicked through an eventfd) */
	OP_REGION_GET,	/* client -> shoal-mem: kind, index */
	OP_REGION,	/* shoal-mem -> client: kind, index, size, node, generation; one fd */
	OP_ERROR,	/* any reply: error (a one-line reason), id when known */
	OP_CTL,		/* client -> shoal: id, cmd ("status", "kill-device", "pause",
			 * "resume"), name (the device, for kill-device) */
	OP_CTL_PROC,	/* shoal -> client, one per process or RAM node for "status":
			 * id, name, kind (role), value (pid), index (restarts), size
			 * (resident bytes), node (host NUMA node of its memory, -1 mixed) */
	OP_CTL_DONE,	/* shoal -> client, ends a reply: id, value (ctl_proc messages
			 * sent), kind (the VM's state: "running" or "paused") */
	OP_CTL_STAT,	/* shoal -> client, for "status": id, name (a counter such as
			 * "jit.compiled"), value */
	OP_JIT_COMPILE, /* vCPU -> shoal-jit, asynchronous: addr (guest physical pc),
			 * index (mode key), generation (the page's generation) */
	OP_COUNT
};

/** Field presence bits. */
enum proto_field {
	PF_ID = 1u << 0,
	PF_ADDR = 1u << 1,
	PF_SIZE = 1u << 2,
	PF_VALUE = 1u << 3,
	PF_INDEX = 1u << 4,
	PF_NODE = 1u << 5,
	PF_GENERATION = 1u << 6,
	PF_KIND = 1u << 7,
	PF_ERROR = 1u << 8,
	PF_NAME = 1u << 9,
	PF_CMD = 1u << 10,
};

/** A decoded message. Only the fields the op uses are meaningful; `present`
 * says which ones the peer sent. Strings are NUL-terminated and truncated to
 * PROTO_STR_MAX - 1 bytes at decode. */
struct proto_msg {
	enum proto_op op;
	uint32_t version;
	uint32_t present; /* enum proto_field bits, filled by proto_decode */
	uint64_t id;
	uint64_t addr;
	uint64_t size;
	uint64_t value;
	uint64_t index;
	int64_t node; /* host NUMA node, -1 when unbound */
	uint64_t generation;
	char kind[PROTO_STR_MAX];
	char error[PROTO_STR_MAX];
	char name[PROTO_STR_MAX];
	char cmd[PROTO_STR_MAX];
};

/** Name of an op as it appears on the wire, or NULL. */
const char *proto_op_name(enum proto_op op);

/** Fields an op requires (enum proto_field bits). */
uint32_t proto_required(enum proto_op op);

/** Encodes `m` (version is forced to PROTO_VERSION; only the fields its op
 * uses are written) into `buf`. Returns the length, or -ENOSPC if `cap` is too
 * small, or -EINVAL for an unknown op. */
int proto_encode(const struct proto_msg *m, void *buf, size_t cap);

/** Decodes one message. Returns 0, or -EPROTO with a one-line reason in `why`. */
int proto_decode(const void *buf, size_t len, struct proto_msg *m, char *why, size_t why_len);

#endif
