/** @file
 * The host end of a virtio-console: shoal relays between whoever connects
 * to a UNIX socket in the run directory and the device process's two
 * streams, and drops bytes a restarted device sends again (they carry
 * their stream offset), so the host sees the guest's stream exactly once.
 * All of it runs in shoal's supervise loop; nothing blocks. */
#ifndef SHOAL_VCON_H
#define SHOAL_VCON_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

/** One console relay. Fields are private to vcon.c. */
struct vcon_relay {
	int listen_fd, client;
	int from_dev; /* SOCK_SEQPACKET: [u64 offset][bytes] from the device */
	int to_dev;   /* SOCK_STREAM: bytes to the device */
	uint64_t delivered;
	uint8_t out[65536 + 8];
	size_t out_len, out_off;
	uint8_t in[4096];
	size_t in_len, in_off;
	int slot; /* index of its first pollfd in the last vcon_relay_fill */
};

/** Listens on `path` and makes the device's streams. Returns 0 with the
 * device's ends in dev_fds[0] (output, its fd 3) and dev_fds[1] (input,
 * its fd 4), or a negative errno. */
int vcon_relay_open(struct vcon_relay *r, const char *path, int dev_fds[2]);

/** Appends the relay's pollfds at pfd[*n] (room for 4), advancing *n. */
void vcon_relay_fill(struct vcon_relay *r, struct pollfd *pfd, int *n);

/** Does whatever the pollfds vcon_relay_fill added report ready. */
void vcon_relay_service(struct vcon_relay *r, const struct pollfd *pfd);

#endif
