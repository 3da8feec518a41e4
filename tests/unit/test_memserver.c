/* shoal-mem as a black box: spawned on a listening socket, driven through
 * memclient and raw messages. Checks region sizes, host-node placement with
 * move_pages, header generations, and that malformed requests get an error
 * reply while the server keeps serving. Needs SHOAL_BIN (the bin folder). */
#include <errno.h>
#include <fcntl.h>
#include <numa.h>
#include <numaif.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../common/fdpass.h"
#include "../../common/memclient.h"
#include "../../common/proto.h"

struct server {
	pid_t pid;
	int sock;
	char dir[64];
	char path[96];
};

/* Forks shoal-mem with `args` (NULL-terminated) after `pre` (NULL or
 * NULL-terminated), listening socket `l` as fd 3; stderr to /dev/null if
 * `quiet`. The child dies with the test. Returns its pid. */
static pid_t spawn_mem(const char *const *pre, const char *const *args, int l, int quiet)
{
	const char *bin = getenv("SHOAL_BIN");
	if (!bin)
		fail_msg("SHOAL_BIN is not set");
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char exe[512];
		const char *argv[24] = {exe};
		int n = 1;
		for (int i = 0; pre && pre[i] && n < 23; i++)
			argv[n++] = pre[i];
		for (int i = 0; args[i] && n < 23; i++)
			argv[n++] = args[i];
		argv[n] = NULL;
		snprintf(exe, sizeof(exe), "%s/shoal-mem", bin);
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* no orphan when an assertion fails */
		if (quiet) {
			int devnull = open("/dev/null", O_WRONLY);
			dup2(devnull, 2);
		}
		/* dup2 onto itself would keep close-on-exec. */
		if (l == 3)
			fcntl(l, F_SETFD, 0);
		else
			dup2(l, 3);
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* Starts shoal-mem with `args` after --listen-fd 3 and connects to it. */
static void server_start(struct server *s, const char *const *args)
{
	snprintf(s->dir, sizeof(s->dir), "/tmp/shoal-memtest-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/mem.sock", s->dir);
	int l = fdpass_listen(s->path);
	assert_true(l >= 0);
	s->pid = spawn_mem((const char *const[]){"--listen-fd", "3", NULL}, args, l, 0);
	close(l);
	s->sock = memclient_connect(s->path);
	assert_true(s->sock >= 0);
}

static void server_stop(struct server *s)
{
	close(s->sock);
	kill(s->pid, SIGTERM);
	int st;
	assert_int_equal(waitpid(s->pid, &st, 0), s->pid);
	unlink(s->path);
	rmdir(s->dir);
}

/* Runs shoal-mem with bad arguments (a listening socket as fd 3); returns
 * its exit status. */
static int run_bad(const char *const *args)
{
	char dir[64] = "/tmp/shoal-memtest-XXXXXX", path[96];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/mem.sock", dir);
	int l = fdpass_listen(path);
	assert_true(l >= 0);
	pid_t pid = spawn_mem(NULL, args, l, 1);
	close(l);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	unlink(path);
	rmdir(dir);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void test_regions_served(void **state)
{
	(void)state;
	struct server s = {0};
	server_start(&s, (const char *const[]){"--harts", "3", "--ram", "8M@0", "--ram", "4M",
					       "--shadows", "2", NULL});
	struct guest_ram ram;
	char why[256] = "";
	assert_int_equal(memclient_map_ram(s.sock, 2, &ram, why, sizeof(why)), 0);
	assert_int_equal(ram.size, 12u << 20);
	assert_int_equal(ram.node[0].host_node, 0);
	assert_int_equal(ram.node[1].host_node, -1);
	/* Placement as the kernel sees it: node 0's pages are on host node 0.
	 * move_pages reports pages mapped in this process, so touch them. */
	void *pages[2] = {ram.host, ram.host + (8u << 20) - 4096};
	assert_int_equal(*(volatile uint8_t *)pages[0] + *(volatile uint8_t *)pages[1], 0);
	int where[2] = {-1, -1};
	assert_int_equal(move_pages(0, 2, pages, NULL, where, 0), 0);
	assert_int_equal(where[0], 0);
	assert_int_equal(where[1], 0);
	/* Shared: a write through one mapping is seen through another. */
	ram.host[100] = 0x5a;
	void *again = mmap(NULL, 4096, PROT_READ, MAP_SHARED, ram.node[0].fd, 0);
	assert_true(again != MAP_FAILED);
	assert_int_equal(((uint8_t *)again)[100], 0x5a);
	munmap(again, 4096);

	uint64_t size;
	struct board *b = memclient_map_region(s.sock, REGION_BOARD, 0, &size, why, sizeof(why));
	if (!b)
		fail_msg("board: %s", why);
	assert_int_equal(b->nharts, 3);
	void *sh = memclient_map_region(s.sock, REGION_SHADOW, 1, &size, why, sizeof(why));
	if (!sh)
		fail_msg("shadow 1: %s", why);
	assert_null(memclient_map_region(s.sock, REGION_SHADOW, 2, &size, why, sizeof(why)));
	assert_non_null(strstr(why, "no region"));
	server_stop(&s);
}

/* Sends raw bytes, returns the decoded reply. */
static void raw_request(int sock, const void *buf, size_t len, const int *fds, int nfd,
			struct proto_msg *rep)
{
	assert_int_equal(fdpass_send(sock, buf, len, fds, nfd), 0);
	char in[PROTO_MAX_BYTES];
	int got_fds[FDPASS_MAX_FDS], ngot = 0;
	int n = fdpass_recv(sock, in, sizeof(in), got_fds, FDPASS_MAX_FDS, &ngot);
	assert_true(n > 0);
	for (int i = 0; i < ngot; i++)
		close(got_fds[i]);
	char why[128];
	assert_int_equal(proto_decode(in, (size_t)n, rep, why, sizeof(why)), 0);
}

static void test_bad_requests(void **state)
{
	(void)state;
	struct server s = {0};
	server_start(&s, (const char *const[]){"--harts", "1", "--ram", "1M", NULL});
	struct proto_msg rep;
	/* Not msgpack at all, with an fd attached that the server must drop. */
	int fd = open("/dev/null", O_RDONLY);
	raw_request(s.sock, "\xc1garbage", 8, &fd, 1, &rep);
	close(fd);
	assert_int_equal(rep.op, OP_ERROR);
	assert_non_null(strstr(rep.error, "bad request"));
	/* A valid message with the wrong op. */
	char buf[256];
	struct proto_msg m = {.op = OP_SYNC};
	int n = proto_encode(&m, buf, sizeof(buf));
	assert_true(n > 0);
	raw_request(s.sock, buf, (size_t)n, NULL, 0, &rep);
	assert_int_equal(rep.op, OP_ERROR);
	assert_non_null(strstr(rep.error, "unexpected op"));
	/* An unknown region kind and an index past the end. */
	struct region_info ri;
	char why[256];
	assert_true(memclient_get(s.sock, REGION_RAM, 1, &ri, why, sizeof(why)) < 0);
	assert_non_null(strstr(why, "no region 'ram' number 1"));
	m = (struct proto_msg){.op = OP_REGION_GET, .index = 0};
	snprintf(m.kind, sizeof(m.kind), "rom");
	n = proto_encode(&m, buf, sizeof(buf));
	raw_request(s.sock, buf, (size_t)n, NULL, 0, &rep);
	assert_int_equal(rep.op, OP_ERROR);
	/* Still serving. */
	assert_int_equal(memclient_get(s.sock, REGION_RAM, 0, &ri, why, sizeof(why)), 0);
	assert_int_equal(ri.size, 1u << 20);
	close(ri.fd);
	server_stop(&s);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	assert_int_equal(run_bad((const char *const[]){"--harts", NULL}), 2);
	assert_int_equal(run_bad((const char *const[]){"--listen-fd", "x", NULL}), 2);
	assert_int_equal(run_bad((const char *const[]){"--harts", "0", NULL}), 2);
	assert_int_equal(run_bad((const char *const[]){"--shadows", "-1", NULL}), 2);
	assert_int_equal(run_bad((const char *const[]){"--ram", "5000", NULL}), 2);
	assert_int_equal(run_bad((const char *const[]){"--ram", "4M@x", NULL}), 2);
	assert_int_equal(run_bad((const char *const[]){"--frob", "1", NULL}), 2);
	assert_int_equal(run_bad((const char *const[]){"--listen-fd", "0", "--ram", "1M", NULL}),
			 2);
	assert_int_equal(run_bad((const char *const[]){NULL}), 2);
	/* A host node that does not exist fails the start, naming the node. */
	assert_int_equal(run_bad((const char *const[]){"--listen-fd", "3", "--harts", "1", "--ram",
						       "1M@1000", NULL}),
			 1);
}

int main(void)
{
	if (numa_available() < 0)
		fprintf(stderr, "note: libnuma unavailable; placement checks may fail\n");
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_regions_served),
	    cmocka_unit_test(test_bad_requests),
	    cmocka_unit_test(test_bad_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
