#include "fdpass.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int fdpass_send(int sock, const void *buf, size_t len, const int *fds, int nfd)
{
	if (nfd < 0 || nfd > FDPASS_MAX_FDS)
		return -EINVAL;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	union {
		char buf[CMSG_SPACE(sizeof(int) * FDPASS_MAX_FDS)];
		struct cmsghdr align;
	} c;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	if (nfd > 0) {
		memset(&c, 0, sizeof(c));
		msg.msg_control = c.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfd);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfd);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfd);
	}
	ssize_t n;
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int fdpass_recv(int sock, void *buf, size_t cap, int *fds, int max_fd, int *nfd)
{
	struct iovec iov = {.iov_base = buf, .iov_len = cap};
	union {
		char buf[CMSG_SPACE(sizeof(int) * FDPASS_MAX_FDS)];
		struct cmsghdr align;
	} c;
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = c.buf,
			     .msg_controllen = sizeof(c.buf)};
	*nfd = 0;
	ssize_t n;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	int got = 0, tmp[FDPASS_MAX_FDS];
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		int k = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (int i = 0; i < k && got < FDPASS_MAX_FDS; i++)
			memcpy(&tmp[got++], CMSG_DATA(cm) + sizeof(int) * (size_t)i, sizeof(int));
	}
	if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || got > max_fd) {
		for (int i = 0; i < got; i++)
			close(tmp[i]);
		return -EMSGSIZE;
	}
	memcpy(fds, tmp, sizeof(int) * (size_t)got);
	*nfd = got;
	return (int)n;
}

int fdpass_peer_check(int sock)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return -errno;
	return cr.uid == getuid() ? 0 : -EPERM;
}

/* Creates a SOCK_SEQPACKET socket and fills `a` for `path`. Returns the
 * socket or a negative errno. */
static int unix_socket(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a->sun_path))
		return -ENAMETOOLONG;
	strcpy(a->sun_path, path);
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	return s < 0 ? -errno : s;
}

int fdpass_listen(const char *path)
{
	struct sockaddr_un a;
	int s = unix_socket(&a, path);
	if (s < 0)
		return s;
	mode_t old = umask(0177);
	int r = bind(s, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (r < 0 || listen(s, 64) < 0) {
		r = -errno;
		close(s);
		return r;
	}
	return s;
}

int fdpass_connect(const char *path)
{
	struct sockaddr_un a;
	int s = unix_socket(&a, path);
	if (s < 0)
		return s;
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int r = -errno;
		close(s);
		return r;
	}
	return s;
}
