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
	tm.tm_year = rt.tm_year;
	tm.tm_mon = rt.tm_mon;
	tm.tm_mday = rt.tm_mday;
	tm.tm_hour = rt.tm_hour;
	tm.tm_min = rt.tm_min;
	tm.tm_sec = rt.tm_sec;
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
	set.tm_year = tm.tm_year;
	set.tm_mon = tm.tm_mon;
	set.tm_mday = tm.tm_mday;
	set.tm_hour = tm.tm_hour;
	set.tm_min = tm.tm_min;
	set.tm_sec = tm.tm_sec;
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
