#include "proto.h"
#include "util.h"

#include <errno.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct op_desc {
	const char *name;
	uint32_t fields;   /* fields the op carries */
	uint32_t required; /* fields it must carry */
};

static const struct op_desc ops[OP_COUNT] = {
    [OP_MMIO_READ] = {"mmio_read", PF_ID | PF_ADDR | PF_SIZE, PF_ID | PF_ADDR | PF_SIZE},
    [OP_MMIO_WRITE] = {"mmio_write", PF_ADDR | PF_SIZE | PF_VALUE, PF_ADDR | PF_SIZE | PF_VALUE},
    [OP_MMIO_REPLY] = {"mmio_reply", PF_ID | PF_VALUE, PF_ID | PF_VALUE},
    [OP_SYNC] = {"sync", PF_ID, PF_ID},
    [OP_SYNC_REPLY] = {"sync_reply", PF_ID, PF_ID},
    [OP_KICK] = {"kick", 0, 0},
    [OP_REGION_GET] = {"region_get", PF_KIND | PF_INDEX, PF_KIND | PF_INDEX},
    [OP_REGION] = {"region", PF_KIND | PF_INDEX | PF_SIZE | PF_NODE | PF_GENERATION,
		   PF_KIND | PF_INDEX | PF_SIZE | PF_NODE | PF_GENERATION},
    [OP_ERROR] = {"error", PF_ID | PF_ERROR, PF_ERROR},
    [OP_CTL] = {"ctl", PF_ID | PF_CMD | PF_NAME, PF_ID | PF_CMD},
    [OP_CTL_PROC] = {"ctl_proc",
		     PF_ID | PF_NAME | PF_KIND | PF_VALUE | PF_INDEX | PF_SIZE | PF_NODE,
		     PF_ID | PF_NAME | PF_KIND | PF_VALUE | PF_INDEX | PF_SIZE | PF_NODE},
    [OP_CTL_DONE] = {"ctl_done", PF_ID | PF_VALUE | PF_KIND, PF_ID | PF_VALUE | PF_KIND},
    [OP_CTL_STAT] = {"ctl_stat", PF_ID | PF_NAME | PF_VALUE, PF_ID | PF_NAME | PF_VALUE},
    [OP_JIT_COMPILE] = {"jit_compile", PF_ADDR | PF_INDEX | PF_GENERATION,
			PF_ADDR | PF_INDEX | PF_GENERATION},
};

struct field_desc {
	const char *name;
	uint32_t bit;
	enum { F_U64, F_I64, F_STR } type;
	size_t off;
};

static const struct field_desc fields[] = {
    {"id", PF_ID, F_U64, offsetof(struct proto_msg, id)},
    {"addr", PF_ADDR, F_U64, offsetof(struct proto_msg, addr)},
    {"size", PF_SIZE, F_U64, offsetof(struct proto_msg, size)},
    {"value", PF_VALUE, F_U64, offsetof(struct proto_msg, value)},
    {"index", PF_INDEX, F_U64, offsetof(struct proto_msg, index)},
    {"node", PF_NODE, F_I64, offsetof(struct proto_msg, node)},
    {"generation", PF_GENERATION, F_U64, offsetof(struct proto_msg, generation)},
    {"kind", PF_KIND, F_STR, offsetof(struct proto_msg, kind)},
    {"error", PF_ERROR, F_STR, offsetof(struct proto_msg, error)},
    {"name", PF_NAME, F_STR, offsetof(struct proto_msg, name)},
    {"cmd", PF_CMD, F_STR, offsetof(struct proto_msg, cmd)},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

const char *proto_op_name(enum proto_op op)
{
	if (op <= OP_NONE || op >= OP_COUNT)
		return NULL;
	return ops[op].name;
}

uint32_t proto_required(enum proto_op op)
{
	if (op <= OP_NONE || op >= OP_COUNT)
		return 0;
	return ops[op].required;
}

/* A packer writing into a fixed buffer; overflow is remembered, not fatal. */
struct fixbuf {
	char *p;
	size_t len, cap;
	int overflow;
};

static int fixbuf_write(void *data, const char *buf, size_t len)
{
	struct fixbuf *fb = data;
	if (fb->len + len > fb->cap) {
		fb->overflow = 1;
		return -1;
	}
	memcpy(fb->p + fb->len, buf, len);
	fb->len += len;
	return 0;
}

static void pack_cstr(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

int proto_encode(const struct proto_msg *m, void *buf, size_t cap)
{
	if (m->op <= OP_NONE || m->op >= OP_COUNT)
		return -EINVAL;
	uint32_t f = ops[m->op].fields;
	/* Optional fields are written only when marked present. */
	f &= ops[m->op].required | m->present;
	struct fixbuf fb = {buf, 0, cap, 0};
	msgpack_packer pk;
	msgpack_packer_init(&pk, &fb, fixbuf_write);
	msgpack_pack_map(&pk, 2 + (size_t)__builtin_popcount(f));
	pack_cstr(&pk, "op");
	pack_cstr(&pk, ops[m->op].name);
	pack_cstr(&pk, "version");
	msgpack_pack_uint32(&pk, PROTO_VERSION);
	for (size_t i = 0; i < NFIELDS; i++) {
		if (!(f & fields[i].bit))
			continue;
		const char *base = (const char *)m + fields[i].off;
		pack_cstr(&pk, fields[i].name);
		switch (fields[i].type) {
		case F_U64: msgpack_pack_uint64(&pk, *(const uint64_t *)base); break;
		case F_I64: msgpack_pack_int64(&pk, *(const int64_t *)base); break;
		case F_STR: pack_cstr(&pk, base); break;
		}
	}
	return fb.overflow ? -ENOSPC : (int)fb.len;
}

#define fail(why, len, ...) util_reason(why, len, -EPROTO, __VA_ARGS__)

static int key_is(const msgpack_object *k, const char *name)
{
	size_t n = strlen(name);
	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
	       memcmp(k->via.str.ptr, name, n) == 0;
}

static int decode_field(const struct field_desc *fd, const msgpack_object *v, struct proto_msg *m,
			char *why, size_t why_len)
{
	char *base = (char *)m + fd->off;
	switch (fd->type) {
	case F_U64:
		if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
			return fail(why, why_len, "field '%s' must be an unsigned integer",
				    fd->name);
		*(uint64_t *)base = v->via.u64;
		return 0;
	case F_I64:
		if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 <= INT64_MAX)
			*(int64_t *)base = (int64_t)v->via.u64;
		else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
			*(int64_t *)base = v->via.i64;
		else
			return fail(why, why_len, "field '%s' must be an integer", fd->name);
		return 0;
	case F_STR:
		if (v->type != MSGPACK_OBJECT_STR)
			return fail(why, why_len, "field '%s' must be a string", fd->name);
		if (v->via.str.size >= PROTO_STR_MAX)
			return fail(why, why_len, "field '%s' is longer than %d bytes", fd->name,
				    PROTO_STR_MAX - 1);
		memcpy(base, v->via.str.ptr, v->via.str.size);
		base[v->via.str.size] = 0;
		if (memchr(base, 0, v->via.str.size))
			return fail(why, why_len, "field '%s' holds a NUL byte", fd->name);
		return 0;
	}
	return fail(why, why_len, "internal: bad field type");
}

static int decode_map(const msgpack_object *o, struct proto_msg *m, char *why, size_t why_len)
{
	if (o->type != MSGPACK_OBJECT_MAP)
		return fail(why, why_len, "message is not a map");
	int have_version = 0;
	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object *k = &o->via.map.ptr[i].key;
		const msgpack_object *v = &o->via.map.ptr[i].val;
		if (key_is(k, "op")) {
			if (v->type != MSGPACK_OBJECT_STR)
				return fail(why, why_len, "field 'op' must be a string");
			for (int op = OP_NONE + 1; op < OP_COUNT; op++) {
				size_t n = strlen(ops[op].name);
				if (v->via.str.size == n &&
				    memcmp(v->via.str.ptr, ops[op].name, n) == 0)
					m->op = (enum proto_op)op;
			}
			if (m->op == OP_NONE)
				return fail(why, why_len, "unknown op '%.*s'",
					    (int)(v->via.str.size > 32 ? 32 : v->via.str.size),
					    v->via.str.ptr);
			continue;
		}
		if (key_is(k, "version")) {
			if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 > UINT32_MAX)
				return fail(why, why_len,
					    "field 'version' must be an unsigned integer");
			m->version = (uint32_t)v->via.u64;
			have_version = 1;
			continue;
		}
		for (size_t f = 0; f < NFIELDS; f++) {
			if (!key_is(k, fields[f].name))
				continue;
			int r = decode_field(&fields[f], v, m, why, why_len);
			if (r)
				return r;
			m->present |= fields[f].bit;
		}
	}
	if (m->op == OP_NONE)
		return fail(why, why_len, "message has no 'op'");
	if (!have_version)
		return fail(why, why_len, "message '%s' has no 'version'", ops[m->op].name);
	if (m->version != PROTO_VERSION)
		return fail(why, why_len, "message '%s' has version %u, expected %d",
			    ops[m->op].name, m->version, PROTO_VERSION);
	uint32_t missing = ops[m->op].required & ~m->present;
	if (missing) {
		for (size_t f = 0; f < NFIELDS; f++)
			if (missing & fields[f].bit)
				return fail(why, why_len, "message '%s' lacks field '%s'",
					    ops[m->op].name, fields[f].name);
	}
	return 0;
}

int proto_decode(const void *buf, size_t len, struct proto_msg *m, char *why, size_t why_len)
{
	memset(m, 0, sizeof(*m));
	m->node = -1;
	if (len == 0)
		return fail(why, why_len, "empty message");
	if (len > PROTO_MAX_BYTES)
		return fail(why, why_len, "message of %zu bytes exceeds the %d-byte limit", len,
			    PROTO_MAX_BYTES);
	msgpack_unpacked u;
	msgpack_unpacked_init(&u);
	size_t off = 0;
	int r;
	msgpack_unpack_return ur = msgpack_unpack_next(&u, buf, len, &off);
	if (ur != MSGPACK_UNPACK_SUCCESS)
		r = fail(why, why_len,
			 ur == MSGPACK_UNPACK_CONTINUE ? "truncated message" : "malformed msgpack");
	else if (off != len)
		r = fail(why, why_len, "%zu trailing bytes after the message", len - off);
	else
		r = decode_map(&u.data, m, why, why_len);
	msgpack_unpacked_destroy(&u);
	return r;
}
