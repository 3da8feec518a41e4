/* Region header validation and fd passing with peer checks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../common/board.h"
#include "../../common/fdpass.h"
#include "../../common/region.h"

static void test_header_ok(void **state)
{
	(void)state;
	struct region_hdr h;
	region_hdr_init(&h, REGION_BOARD, 8192, 5);
	char why[128];
	assert_int_equal(region_hdr_check(&h, REGION_BOARD, 8192, why, sizeof(why)), 0);
}

static void expect_bad(const struct region_hdr *h, int kind, uint64_t size, const char *reason)
{
	char why[128] = "";
	assert_int_equal(region_hdr_check(h, kind, size, why, sizeof(why)), -EINVAL);
	if (!strstr(why, reason))
		fail_msg("reason '%s' lacks '%s'", why, reason);
}

static void test_header_refused(void **state)
{
	(void)state;
	struct region_hdr h;
	region_hdr_init(&h, REGION_SHADOW, 4096, 1);
	expect_bad(&h, REGION_BOARD, 4096, "expected board");
	expect_bad(&h, REGION_SHADOW, 8192, "are mapped");
	expect_bad(&h, REGION_SHADOW, 8, "smaller than its header");
	struct region_hdr bad = h;
	bad.magic ^= 1;
	expect_bad(&bad, REGION_SHADOW, 4096, "bad magic");
	bad = h;
	bad.layout_version = 99;
	expect_bad(&bad, REGION_SHADOW, 4096, "layout version 99");
	assert_int_equal(region_kind_parse("ram"), REGION_RAM);
	assert_int_equal(region_kind_parse("nope"), -EINVAL);
	assert_null(region_kind_name(0));
	assert_null(region_kind_name(99));
}

static void test_board_layout(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct board_hart), 64);
	assert_int_equal(offsetof(struct board, hart) % 64, 0);
	assert_int_equal(board_size(1) % 4096, 0);
	assert_true(board_size(BOARD_MAX_HARTS) >= BOARD_MAX_HARTS * 64);
}

static void test_fdpass(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(fdpass_peer_check(sv[0]), 0);
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(fdpass_send(sv[0], "hi", 2, &p[1], 1), 0);
	char buf[16];
	int fd = -1, nfd = 0;
	assert_int_equal(fdpass_recv(sv[1], buf, sizeof(buf), &fd, 1, &nfd), 2);
	assert_int_equal(nfd, 1);
	assert_int_equal(write(fd, "x", 1), 1); /* the passed fd is the pipe's write end */
	char c;
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'x');
	close(fd);
	/* more fds than the receiver accepts: refused, and none leak */
	int two[2] = {p[0], p[1]};
	assert_int_equal(fdpass_send(sv[0], "x", 1, two, 2), 0);
	assert_int_equal(fdpass_recv(sv[1], buf, sizeof(buf), &fd, 1, &nfd), -EMSGSIZE);
	assert_int_equal(fdpass_send(sv[0], "x", 1, two, FDPASS_MAX_FDS + 1), -EINVAL);
	close(sv[0]);
	assert_int_equal(fdpass_recv(sv[1], buf, sizeof(buf), &fd, 1, &nfd), 0);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header_ok),
	    cmocka_unit_test(test_header_refused),
	    cmocka_unit_test(test_board_layout),
	    cmocka_unit_test(test_fdpass),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
