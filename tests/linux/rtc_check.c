/* Checks the guest's RTC (goldfish) through /dev/rtc0: its time agrees with
 * the system clock (set from it at boot), a time set through it reads back,
 * and an alarm two seconds ahead interrupts a blocking read. Prints one
 * "rtc: ..." line; exits non-zero on any failure. */
#include <fcntl.h>
#include <linux/rtc.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* struct rtc_time's fields are struct tm's first nine, in order. */
#define RTC_FIELDS (9 * sizeof(int))
_Static_assert(sizeof(struct rtc_time) == RTC_FIELDS, "struct rtc_time layout");

static int fail(const char *what)
{
	printf("rtc: FAIL %s\n", what);
	return 1;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
	int fd = open("/dev/rtc0", O_RDONLY);
	if (fd < 0)
		return fail("open /dev/rtc0");
	struct rtc_time rt;
	if (ioctl(fd, RTC_RD_TIME, &rt) < 0)
		return fail("RTC_RD_TIME");
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	memcpy(&tm, &rt, RTC_FIELDS); /* struct rtc_time starts like struct tm */
	tm.tm_isdst = 0;
	time_t rtc = timegm(&tm), sys = time(NULL);
	if (rt.tm_year + 1900 < 2024)
		return fail("RTC year before 2024 (no host time?)");
	if (rtc - sys > 2 || sys - rtc > 2)
		return fail("RTC and system clock disagree");

	/* Set a time, read it back, put the right time back. */
	struct rtc_time set = rt;
	set.tm_year = 2031 - 1900;
	if (ioctl(fd, RTC_SET_TIME, &set) < 0)
		return fail("RTC_SET_TIME");
	struct rtc_time back;
	if (ioctl(fd, RTC_RD_TIME, &back) < 0 || back.tm_year != 2031 - 1900)
		return fail("a time set does not read back");
	time_t t = time(NULL);
	gmtime_r(&t, &tm);
	memset(&set, 0, sizeof(set));
	memcpy(&set, &tm, RTC_FIELDS);
	if (ioctl(fd, RTC_SET_TIME, &set) < 0)
		return fail("RTC_SET_TIME (restore)");

	/* An alarm two seconds ahead wakes a blocking read. */
	t = time(NULL) + 2;
	gmtime_r(&t, &tm);
	struct rtc_time alm = {.tm_sec = tm.tm_sec, .tm_min = tm.tm_min, .tm_hour = tm.tm_hour};
	if (ioctl(fd, RTC_ALM_SET, &alm) < 0)
		return fail("RTC_ALM_SET");
	if (ioctl(fd, RTC_AIE_ON, 0) < 0)
		return fail("RTC_AIE_ON");
	double t0 = now_s();
	unsigned long data;
	if (read(fd, &data, sizeof(data)) != (ssize_t)sizeof(data))
		return fail("read after the alarm");
	double waited = now_s() - t0;
	ioctl(fd, RTC_AIE_OFF, 0);
	if (!(data & RTC_AF))
		return fail("the read did not report an alarm");
	if (waited < 0.5 || waited > 5)
		return fail("the alarm fired at the wrong time");
	printf("rtc: time ok, set ok, alarm after %.1f s\n", waited);
	close(fd);
	return 0;
}
