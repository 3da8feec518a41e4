/** @file
 * Passing file descriptors between shoal processes over a UNIX socket with
 * SCM_RIGHTS (ZeroMQ cannot carry fds). Every accepted peer is checked with
 * SO_PEERCRED: only processes of the same user are served. */
#ifndef SHOAL_FDPASS_H
#define SHOAL_FDPASS_H

#include <stddef.h>

#define FDPASS_MAX_FDS 4

/** Sends `len` bytes and up to FDPASS_MAX_FDS descriptors (nfd may be 0) as one
 * SOCK_SEQPACKET message. Returns 0 or a negative errno. The caller keeps its
 * descriptors. */
int fdpass_send(int sock, const void *buf, size_t len, const int *fds, int nfd);

/** Receives one message into `buf` (capacity `cap`) and up to `max_fd`
 * descriptors into `fds`, which the caller then owns. Returns the byte length,
 * 0 at end of stream, or a negative errno (-EMSGSIZE if the message or its fds
 * were truncated; any fds received are closed then). `*nfd` gets the count. */
int fdpass_recv(int sock, void *buf, size_t cap, int *fds, int max_fd, int *nfd);

/** Returns 0 if the peer of a connected UNIX socket runs as our user, -EPERM
 * otherwise (or a negative errno if the check failed). */
int fdpass_peer_check(int sock);

/** Creates a listening SOCK_SEQPACKET socket at `path` (mode 0600). Returns the
 * fd or a negative errno. */
int fdpass_listen(const char *path);

/** Connects to `path`. Returns the fd or a negative errno. */
int fdpass_connect(const char *path);

#endif
