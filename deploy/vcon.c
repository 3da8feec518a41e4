/* virtio-console relay (see vcon.h). While nobody is connected, the
 * guest's output is read and dropped, as on a serial line nobody listens
 * to; input waits in the socket. */
#include "vcon.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../common/log.h"

int vcon_relay_open(struct vcon_relay *r, const char *path, int dev_fds[2])
{
	memset(r, 0, sizeof(*r));
	r->client = -1;
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	int out[2], in[2];
	r->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (r->listen_fd < 0 || bind(r->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(r->listen_fd, 1) < 0)
		return -errno;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, out) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0)
		return -errno;
	r->from_dev = out[0];
	r->to_dev = in[0];
	fcntl(r->from_dev, F_SETFL, O_NONBLOCK);
	fcntl(r->to_dev, F_SETFL, O_NONBLOCK);
	dev_fds[0] = out[1];
	dev_fds[1] = in[1];
	return 0;
}

void vcon_relay_fill(struct vcon_relay *r, struct pollfd *pfd, int *n)
{
	r->slot = *n;
	pfd[(*n)++] = (struct pollfd){.fd = r->listen_fd, .events = POLLIN};
	short cev = 0;
	if (r->client >= 0) {
		if (r->in_len == r->in_off)
			cev |= POLLIN;
		if (r->out_off < r->out_len)
			cev |= POLLOUT;
	}
	pfd[(*n)++] = (struct pollfd){.fd = r->client >= 0 ? r->client : -1, .events = cev};
	pfd[(*n)++] =
	    (struct pollfd){.fd = r->from_dev, .events = r->out_off == r->out_len ? POLLIN : 0};
	pfd[(*n)++] =
	    (struct pollfd){.fd = r->to_dev, .events = r->in_off < r->in_len ? POLLOUT : 0};
}

static void drop_client(struct vcon_relay *r)
{
	if (r->client >= 0)
		close(r->client);
	r->client = -1;
	r->in_len = r->in_off = 0;
}

/* Writes what is pending to the client. */
static void flush_out(struct vcon_relay *r)
{
	while (r->client >= 0 && r->out_off < r->out_len) {
		ssize_t n = send(r->client, r->out + r->out_off, r->out_len - r->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN)
				drop_client(r);
			return;
		}
		r->out_off += (size_t)n;
	}
	if (r->client < 0)
		r->out_off = r->out_len; /* nobody listens: dropped */
}

/* Takes the device's messages while the client can take the bytes. */
static void from_device(struct vcon_relay *r)
{
	while (r->out_off == r->out_len) {
		ssize_t n = recv(r->from_dev, r->out, sizeof(r->out), MSG_DONTWAIT);
		if (n < 8)
			return;
		uint64_t off;
		memcpy(&off, r->out, 8);
		size_t len = (size_t)n - 8, skip = 0;
		if (off + len <= r->delivered)
			continue; /* all of it was delivered before the device restarted */
		if (off < r->delivered)
			skip = (size_t)(r->delivered - off);
		else if (off > r->delivered)
			log_err("virtio-console: %llu bytes of the guest's output are missing",
				(unsigned long long)(off - r->delivered));
		r->delivered = off + len;
		r->out_off = 8 + skip;
		r->out_len = (size_t)n;
		flush_out(r);
	}
}

static void to_device(struct vcon_relay *r)
{
	while (r->in_off < r->in_len) {
		ssize_t n = send(r->to_dev, r->in + r->in_off, r->in_len - r->in_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n <= 0)
			return;
		r->in_off += (size_t)n;
	}
}

void vcon_relay_service(struct vcon_relay *r, const struct pollfd *pfd)
{
	const struct pollfd *p = pfd + r->slot;
	if (p[0].revents & POLLIN) {
		int c = accept4(r->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (c >= 0) {
			drop_client(r); /* the newest connection wins */
			r->client = c;
		}
	}
	if (r->client >= 0 && p[1].fd == r->client &&
	    (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
		ssize_t n = recv(r->client, r->in, sizeof(r->in), MSG_DONTWAIT);
		if (n > 0) {
			r->in_len = (size_t)n;
			r->in_off = 0;
		} else if (n == 0 || errno != EAGAIN) {
			drop_client(r);
		}
	}
	flush_out(r);
	from_device(r);
	to_device(r);
}
