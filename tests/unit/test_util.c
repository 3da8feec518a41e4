/* Command-line number and size parsing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../common/util.h"

static void test_sizes(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(util_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(util_parse_size("128M", &v), 0);
	assert_int_equal(v, 128ull << 20);
	assert_int_equal(util_parse_size("4G", &v), 0);
	assert_int_equal(v, 4ull << 30);
	assert_int_equal(util_parse_size("2GiB", &v), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(util_parse_size("512k", &v), 0);
	assert_int_equal(v, 512ull << 10);
	assert_int_equal(util_parse_size("3X", &v), -EINVAL);
	assert_int_equal(util_parse_size("", &v), -EINVAL);
	assert_int_equal(util_parse_size("-1M", &v), -EINVAL);
	assert_int_equal(util_parse_size("M", &v), -EINVAL);
	assert_int_equal(util_parse_size("1MM", &v), -EINVAL);
	assert_int_equal(util_parse_size("99999999999999999999", &v), -EINVAL);
	assert_int_equal(util_parse_size("17179869184T", &v), -EINVAL);
}

static void test_numbers(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(util_parse_u64("4", 1, 512, &v), 0);
	assert_int_equal(v, 4);
	assert_int_equal(util_parse_u64("0x80000000", 0, ~0ull, &v), 0);
	assert_int_equal(v, 0x80000000ull);
	assert_int_equal(util_parse_u64("0", 1, 512, &v), -ERANGE);
	assert_int_equal(util_parse_u64("100000", 1, 512, &v), -ERANGE);
	assert_int_equal(util_parse_u64("4x", 1, 512, &v), -EINVAL);
	assert_int_equal(util_parse_u64("-4", 0, 512, &v), -EINVAL);
	assert_int_equal(util_parse_u64("", 0, 512, &v), -EINVAL);
	assert_int_equal(util_parse_u64(NULL, 0, 512, &v), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_sizes),
					   cmocka_unit_test(test_numbers)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
