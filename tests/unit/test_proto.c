/* The msgpack message codec: round trips, and rejection of truncated,
 * malformed, unknown-op, wrong-type, wrong-version and incomplete messages. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <msgpack.h>

#include "../../common/proto.h"

static void test_round_trip(void **state)
{
	(void)state;
	struct proto_msg m = {
	    .op = OP_MMIO_WRITE, .addr = 0x10, .size = 4, .value = 0xdeadbeefcafe};
	char buf[256];
	int n = proto_encode(&m, buf, sizeof(buf));
	assert_true(n > 0);
	struct proto_msg d;
	char why[128];
	assert_int_equal(proto_decode(buf, (size_t)n, &d, why, sizeof(why)), 0);
	assert_int_equal(d.op, OP_MMIO_WRITE);
	assert_int_equal(d.version, PROTO_VERSION);
	assert_int_equal(d.addr, 0x10);
	assert_int_equal(d.size, 4);
	assert_int_equal(d.value, 0xdeadbeefcafe);

	struct proto_msg r = {
	    .op = OP_REGION, .index = 3, .size = 1 << 20, .node = -1, .generation = 9};
	strcpy(r.kind, "ram");
	n = proto_encode(&r, buf, sizeof(buf));
	assert_int_equal(proto_decode(buf, (size_t)n, &d, why, sizeof(why)), 0);
	assert_int_equal(d.op, OP_REGION);
	assert_int_equal(d.node, -1);
	assert_string_equal(d.kind, "ram");
	assert_int_equal(d.generation, 9);

	struct proto_msg e = {.op = OP_ERROR};
	strcpy(e.error, "no such thing");
	n = proto_encode(&e, buf, sizeof(buf));
	assert_int_equal(proto_decode(buf, (size_t)n, &d, why, sizeof(why)), 0);
	assert_string_equal(d.error, "no such thing");
	assert_false(d.present & PF_ID); /* optional field not sent */
}

static void test_encode_limits(void **state)
{
	(void)state;
	struct proto_msg m = {.op = OP_MMIO_READ, .id = 1, .addr = 2, .size = 4};
	char buf[8];
	assert_int_equal(proto_encode(&m, buf, sizeof(buf)), -ENOSPC);
	m.op = OP_COUNT;
	char big[256];
	assert_int_equal(proto_encode(&m, big, sizeof(big)), -EINVAL);
}

static void test_truncated(void **state)
{
	(void)state;
	struct proto_msg m = {.op = OP_MMIO_READ, .id = 1, .addr = 2, .size = 4};
	char buf[256], why[128];
	int n = proto_encode(&m, buf, sizeof(buf));
	struct proto_msg d;
	for (int cut = 0; cut < n; cut++)
		assert_int_equal(proto_decode(buf, (size_t)cut, &d, why, sizeof(why)), -EPROTO);
	/* trailing garbage */
	buf[n] = 0;
	assert_int_equal(proto_decode(buf, (size_t)n + 1, &d, why, sizeof(why)), -EPROTO);
	assert_non_null(strstr(why, "trailing"));
}

/* Packs a map from alternating key / value specs: 'u' uint, 's' string, 'i'
 * negative int, 'a' an array. */
static size_t pack(char *out, size_t cap, int pairs, const char *spec, ...)
{
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	msgpack_packer pk;
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, (size_t)pairs);
	va_list ap;
	va_start(ap, spec);
	for (int i = 0; i < pairs; i++) {
		const char *k = va_arg(ap, const char *);
		msgpack_pack_str(&pk, strlen(k));
		msgpack_pack_str_body(&pk, k, strlen(k));
		switch (spec[i]) {
		case 'u': msgpack_pack_uint64(&pk, va_arg(ap, uint64_t)); break;
		case 'i': msgpack_pack_int64(&pk, va_arg(ap, int64_t)); break;
		case 'a':
			msgpack_pack_array(&pk, 0);
			(void)va_arg(ap, int);
			break;
		default: {
			const char *s = va_arg(ap, const char *);
			msgpack_pack_str(&pk, strlen(s));
			msgpack_pack_str_body(&pk, s, strlen(s));
		}
		}
	}
	va_end(ap);
	size_t n = sb.size < cap ? sb.size : cap;
	memcpy(out, sb.data, n);
	msgpack_sbuffer_destroy(&sb);
	return n;
}

static void expect_reject(const char *buf, size_t n, const char *reason)
{
	struct proto_msg d;
	char why[128] = "";
	assert_int_equal(proto_decode(buf, n, &d, why, sizeof(why)), -EPROTO);
	if (!strstr(why, reason))
		fail_msg("reason '%s' lacks '%s'", why, reason);
}

static void test_rejects(void **state)
{
	(void)state;
	char b[512];
	size_t n;
	n = pack(b, sizeof(b), 2, "su", "op", "reboot_planet", "version", (uint64_t)1);
	expect_reject(b, n, "unknown op");
	n = pack(b, sizeof(b), 1, "u", "version", (uint64_t)1);
	expect_reject(b, n, "no 'op'");
	n = pack(b, sizeof(b), 2, "uu", "op", (uint64_t)1, "version", (uint64_t)1);
	expect_reject(b, n, "'op' must be a string");
	n = pack(b, sizeof(b), 4, "suus", "op", "sync", "version", (uint64_t)1, "id", (uint64_t)1,
		 "addr", "zero");
	expect_reject(b, n, "'addr' must be an unsigned");
	n = pack(b, sizeof(b), 3, "sua", "op", "sync", "version", (uint64_t)1, "id", 0);
	expect_reject(b, n, "'id' must be an unsigned");
	n = pack(b, sizeof(b), 3, "sui", "op", "sync", "version", (uint64_t)1, "id", (int64_t)-5);
	expect_reject(b, n, "'id' must be an unsigned");
	n = pack(b, sizeof(b), 2, "su", "op", "sync", "version", (uint64_t)2);
	expect_reject(b, n, "version 2");
	n = pack(b, sizeof(b), 2, "ss", "op", "sync", "id", "x");
	expect_reject(b, n, "must be an unsigned");
	n = pack(b, sizeof(b), 2, "su", "op", "sync", "id", (uint64_t)1);
	expect_reject(b, n, "no 'version'");
	n = pack(b, sizeof(b), 2, "su", "op", "mmio_read", "version", (uint64_t)1);
	expect_reject(b, n, "lacks field");
	char longstr[200];
	memset(longstr, 'x', sizeof(longstr) - 1);
	longstr[sizeof(longstr) - 1] = 0;
	n = pack(b, sizeof(b), 3, "sus", "op", "error", "version", (uint64_t)1, "error", longstr);
	expect_reject(b, n, "longer than");
	/* not a map at all */
	b[0] = (char)0x93; /* fixarray of 3 */
	b[1] = 1;
	b[2] = 2;
	b[3] = 3;
	expect_reject(b, 4, "not a map");
	expect_reject(b, 0, "empty");
	static char huge[PROTO_MAX_BYTES + 1];
	expect_reject(huge, sizeof(huge), "exceeds");
}

static void test_unknown_fields_ignored(void **state)
{
	(void)state;
	char b[512];
	size_t n = pack(b, sizeof(b), 4, "suuu", "op", "sync", "version", (uint64_t)1, "id",
			(uint64_t)7, "future_field", (uint64_t)3);
	struct proto_msg d;
	char why[128];
	assert_int_equal(proto_decode(b, n, &d, why, sizeof(why)), 0);
	assert_int_equal(d.id, 7);
	assert_string_equal(proto_op_name(OP_SYNC), "sync");
	assert_null(proto_op_name(OP_COUNT));
	assert_int_equal(proto_required(OP_NONE), 0);
}

/* The control protocol (shoal ctl): a request with and without a device
 * name, per-process status entries, the final reply, and requests a
 * broken or hostile client could send. */
static void test_control(void **state)
{
	(void)state;
	char buf[512], why[128];
	struct proto_msg d;
	struct proto_msg req = {.op = OP_CTL, .id = 7, .present = PF_NAME};
	strcpy(req.cmd, "kill-device");
	strcpy(req.name, "vda");
	int n = proto_encode(&req, buf, sizeof(buf));
	assert_int_equal(proto_decode(buf, (size_t)n, &d, why, sizeof(why)), 0);
	assert_int_equal(d.op, OP_CTL);
	assert_string_equal(d.cmd, "kill-device");
	assert_string_equal(d.name, "vda");
	struct proto_msg st = {.op = OP_CTL, .id = 8};
	strcpy(st.cmd, "status");
	strcpy(st.name, "not sent");
	n = proto_encode(&st, buf, sizeof(buf));
	assert_int_equal(proto_decode(buf, (size_t)n, &d, why, sizeof(why)), 0);
	assert_false(d.present & PF_NAME);
	assert_string_equal(d.name, "");

	struct proto_msg p = {
	    .op = OP_CTL_PROC, .id = 8, .value = 1234, .index = 3, .size = 7u << 20, .node = -1};
	strcpy(p.name, "shoal-dev[vda]");
	strcpy(p.kind, "dev");
	n = proto_encode(&p, buf, sizeof(buf));
	assert_int_equal(proto_decode(buf, (size_t)n, &d, why, sizeof(why)), 0);
	assert_string_equal(d.name, "shoal-dev[vda]");
	assert_string_equal(d.kind, "dev");
	assert_int_equal(d.value, 1234);
	assert_int_equal(d.index, 3);
	assert_int_equal(d.size, 7u << 20);
	assert_int_equal(d.node, -1);

	struct proto_msg done = {.op = OP_CTL_DONE, .id = 8, .value = 9};
	strcpy(done.kind, "paused");
	n = proto_encode(&done, buf, sizeof(buf));
	assert_int_equal(proto_decode(buf, (size_t)n, &d, why, sizeof(why)), 0);
	assert_string_equal(d.kind, "paused");
	assert_int_equal(d.value, 9);

	/* No command; a command that is not a string; a name too long; a
	 * status entry whose name is not a string. */
	size_t m = pack(buf, sizeof(buf), 3, "suu", "op", "ctl", "version", (uint64_t)1, "id",
			(uint64_t)1);
	expect_reject(buf, m, "lacks field 'cmd'");
	m = pack(buf, sizeof(buf), 4, "suuu", "op", "ctl", "version", (uint64_t)1, "id",
		 (uint64_t)1, "cmd", (uint64_t)5);
	expect_reject(buf, m, "'cmd' must be a string");
	char longname[300];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	m = pack(buf, sizeof(buf), 5, "suuss", "op", "ctl", "version", (uint64_t)1, "id",
		 (uint64_t)1, "cmd", "kill-device", "name", longname);
	expect_reject(buf, m, "'name' is longer");
	m = pack(buf, sizeof(buf), 8, "suusuuuu", "op", "ctl_proc", "version", (uint64_t)1, "id",
		 (uint64_t)1, "kind", "dev", "index", (uint64_t)0, "size", (uint64_t)0, "node",
		 (uint64_t)0, "name", (uint64_t)0);
	expect_reject(buf, m, "'name' must be a string");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_encode_limits),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_rejects),
	    cmocka_unit_test(test_unknown_fields_ignored),
	    cmocka_unit_test(test_control),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
