/* --numa parsing and topology checks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../deploy/numa.h"

static void expect_parse_error(const char *spec, const char *reason)
{
	struct numa_node n;
	char why[256] = "";
	assert_int_equal(numa_parse(spec, &n, why, sizeof(why)), -EINVAL);
	if (!strstr(why, reason))
		fail_msg("'%s': reason '%s' lacks '%s'", spec, why, reason);
}

static void test_parse(void **state)
{
	(void)state;
	struct numa_node n;
	char why[256];
	assert_int_equal(numa_parse("node,cpus=2-5,mem=256M", &n, why, sizeof(why)), 0);
	assert_int_equal(n.first_cpu, 2);
	assert_int_equal(n.ncpus, 4);
	assert_int_equal(n.mem, 256u << 20);
	assert_int_equal(n.host_node, -1);
	assert_int_equal(numa_parse("node,mem=1G,cpus=7,hostnode=1", &n, why, sizeof(why)), 0);
	assert_int_equal(n.first_cpu, 7);
	assert_int_equal(n.ncpus, 1);
	assert_int_equal(n.host_node, 1);
	expect_parse_error("cpus=0-1,mem=1G", "expected 'node,");
	expect_parse_error("node,cpus=0-1", "needs both");
	expect_parse_error("node,cpus=3-1,mem=1G", "cpus=3-1");
	expect_parse_error("node,cpus=-1,mem=1G", "cpus=-1");
	expect_parse_error("node,cpus=0-600,mem=1G", "cpus=0-600");
	expect_parse_error("node,cpus=0,mem=3X", "mem=3X");
	expect_parse_error("node,cpus=0,mem=1G,color=red", "unknown key 'color'");
	expect_parse_error("node,cpus", "expected key=value");
}

static void test_check(void **state)
{
	(void)state;
	struct numa_node n[2] = {{0, 2, 64 << 20, -1}, {2, 2, 64 << 20, -1}};
	char why[256];
	assert_int_equal(numa_check(n, 2, 4, 0, why, sizeof(why)), 0);
	assert_int_equal(numa_check(n, 2, 4, 128 << 20, why, sizeof(why)), 0);
	assert_int_equal(numa_check(n, 2, 4, 256 << 20, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "--mem"));
	assert_int_equal(numa_check(n, 2, 5, 0, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "cpu 4 is in no node"));
	assert_int_equal(numa_check(n, 2, 3, 0, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "does not exist"));
	n[1].first_cpu = 1;
	assert_int_equal(numa_check(n, 2, 4, 0, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "both claim cpu 1"));
	n[1] = (struct numa_node){2, 2, 4096, -1};
	assert_int_equal(numa_check(n, 2, 4, 0, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "at least 2M"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
