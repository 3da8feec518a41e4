#include "jitcache.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdpass.h"
#include "proto.h"
#include "util.h"

int jitcache_fetch(const char *fdsock, struct jit_cache *hdr, int *kick, char *why, size_t why_len)
{
	int s = fdpass_connect(fdsock);
	if (s < 0)
		return util_reason(why, why_len, s, "%s: no shoal-jit there", fdsock);
	char buf[512];
	int fds[FDPASS_MAX_FDS], nfd = 0;
	int n = fdpass_recv(s, buf, sizeof(buf), fds, FDPASS_MAX_FDS, &nfd);
	close(s);
	struct proto_msg m;
	struct stat st;
	int r = -EPROTO;
	if (n <= 0 || nfd != 2 || proto_decode(buf, (size_t)n, &m, why, why_len) ||
	    m.op != OP_REGION)
		util_reason(why, why_len, 0, "%s: not a code cache reply", fdsock);
	else if (fstat(fds[0], &st) < 0 || (uint64_t)st.st_size < sizeof(*hdr) ||
		 pread(fds[0], hdr, sizeof(*hdr), 0) != (ssize_t)sizeof(*hdr))
		util_reason(why, why_len, 0, "%s: unreadable code cache", fdsock);
	else if ((r = region_hdr_check(&hdr->hdr, REGION_JIT, (uint64_t)st.st_size, why,
				       why_len)) == 0)
		r = fds[0];
	if (r >= 0 && kick)
		*kick = fds[1];
	for (int i = 0; i < nfd; i++)
		if (fds[i] != r && !(r >= 0 && kick && i == 1))
			close(fds[i]);
	return r;
}
