/** @file
 * ZeroMQ helpers for shoal channels. Only DEALER/ROUTER sockets are used
 * (REQ/REP deadlocks when a peer dies mid-request). Every frame carries one
 * proto message. */
#ifndef SHOAL_ZMSG_H
#define SHOAL_ZMSG_H

#include "proto.h"

/** Creates a ROUTER bound to `endpoint`, or a DEALER connected to it. Returns
 * the socket or NULL (errno set). Linger is bounded so a dead peer never
 * blocks shutdown for long. */
void *zmsg_router(void *ctx, const char *endpoint);
/** Creates a DEALER connected to `endpoint`; as zmsg_router otherwise. */
void *zmsg_dealer(void *ctx, const char *endpoint);

/** A PULL bound to `endpoint` (shoal-jit's compile requests). */
void *zmsg_pull(void *ctx, const char *endpoint);
/** A PUSH connected to `endpoint` that never blocks and never queues for a
 * peer that is not there (ZMQ_IMMEDIATE): sends to a dead service fail
 * with EAGAIN when sent with ZMQ_DONTWAIT (zmsg_send would block). */
void *zmsg_push(void *ctx, const char *endpoint);

/** Encodes and sends `m`, as one frame (DEALER) or as [identity, frame]
 * (ROUTER, when `ident` is not NULL). Returns 0 or a negative errno. */
int zmsg_send(void *sock, const void *ident, size_t ident_len, const struct proto_msg *m);

/** Receives one message. For a ROUTER pass `ident` (capacity 256) and get its
 * length in `*ident_len`. `flags` is 0 or ZMQ_DONTWAIT. Returns 0, -EAGAIN,
 * -EPROTO for a malformed message (reason in `why`, identity still valid),
 * or another negative errno. */
int zmsg_recv(void *sock, void *ident, size_t *ident_len, struct proto_msg *m, int flags, char *why,
	      size_t why_len);

#endif
