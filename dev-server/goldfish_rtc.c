/* The goldfish real-time clock (the QEMU virt board's RTC at 0x101000): the
 * guest's wall clock in nanoseconds since the epoch, and one alarm.
 *
 * Guest time is the host's CLOCK_REALTIME plus an offset that a guest write
 * of the time sets; the host clock is never changed. The alarm is a timerfd
 * on CLOCK_REALTIME (absolute, so host clock steps move it as they move the
 * guest's clock), polled through the device loop. The interrupt line is high
 * while a fired alarm is unacknowledged and interrupts are enabled.
 *
 * Registers (32-bit): 0x00 TIME_LOW (reading it latches TIME_HIGH; writing
 * it sets the time from it and the TIME_HIGH written before), 0x04
 * TIME_HIGH, 0x08 ALARM_LOW (writing arms the alarm), 0x0c ALARM_HIGH, 0x10
 * IRQ_ENABLED, 0x14 CLEAR_ALARM, 0x18 ALARM_STATUS (1 while armed), 0x1c
 * CLEAR_INTERRUPT. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "../common/log.h"
#include "device.h"

enum {
	RTC_TIME_LOW = 0x00,
	RTC_TIME_HIGH = 0x04,
	RTC_ALARM_LOW = 0x08,
	RTC_ALARM_HIGH = 0x0c,
	RTC_IRQ_ENABLED = 0x10,
	RTC_CLEAR_ALARM = 0x14,
	RTC_ALARM_STATUS = 0x18,
	RTC_CLEAR_INTERRUPT = 0x1c,
};

struct rtc {
	int64_t offset_ns;   /* guest time - host CLOCK_REALTIME */
	uint32_t time_high;  /* latched by a TIME_LOW read or set by a write */
	uint32_t alarm_high; /* written before ALARM_LOW */
	uint64_t alarm_ns;   /* guest time of the armed alarm */
	int armed, fired, irq_enabled;
	int tfd;
	int polling; /* a poll on tfd is in flight */
};

static uint64_t host_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void rtc_update_irq(struct device *d)
{
	struct rtc *r = d->priv;
	device_irq(d, r->fired && r->irq_enabled);
}

static void rtc_fire(struct device *d)
{
	struct rtc *r = d->priv;
	r->armed = 0;
	r->fired = 1;
	rtc_update_irq(d);
}

/* Programs the timerfd for the armed alarm (or disarms it). */
static void rtc_program(struct device *d)
{
	struct rtc *r = d->priv;
	struct itimerspec its = {0};
	if (r->armed) {
		uint64_t host_at = r->alarm_ns - (uint64_t)r->offset_ns;
		if (host_at <= host_ns()) {
			rtc_fire(d);
		} else {
			its.it_value.tv_sec = (time_t)(host_at / 1000000000ull);
			its.it_value.tv_nsec = (long)(host_at % 1000000000ull);
		}
	}
	if (timerfd_settime(r->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		log_err("timerfd_settime: %s", strerror(errno));
	if (r->armed && !r->polling && devloop_poll(d->loop, r->tfd, POLLIN, 0) == 0)
		r->polling = 1;
}

static int rtc_init(struct device *d, const char *args)
{
	(void)args;
	struct rtc *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->tfd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (r->tfd < 0) {
		log_err("timerfd_create: %s", strerror(errno));
		free(r);
		return -errno;
	}
	d->priv = r;
	return 0;
}

static uint64_t rtc_read(struct device *d, uint64_t off, unsigned size)
{
	(void)size;
	struct rtc *r = d->priv;
	switch (off) {
	case RTC_TIME_LOW: {
		uint64_t t = host_ns() + (uint64_t)r->offset_ns;
		r->time_high = (uint32_t)(t >> 32);
		return (uint32_t)t;
	}
	case RTC_TIME_HIGH: return r->time_high;
	case RTC_ALARM_LOW: return (uint32_t)r->alarm_ns;
	case RTC_ALARM_HIGH: return (uint32_t)(r->alarm_ns >> 32);
	case RTC_IRQ_ENABLED: return (uint32_t)r->irq_enabled;
	case RTC_ALARM_STATUS: return (uint32_t)r->armed;
	default: return 0;
	}
}

static void rtc_write(struct device *d, uint64_t off, unsigned size, uint64_t val)
{
	(void)size;
	struct rtc *r = d->priv;
	uint32_t v = (uint32_t)val;
	switch (off) {
	case RTC_TIME_LOW: {
		uint64_t t = ((uint64_t)r->time_high << 32) | v;
		r->offset_ns = (int64_t)(t - host_ns());
		rtc_program(d); /* the alarm is in guest time: it moved */
		break;
	}
	case RTC_TIME_HIGH: r->time_high = v; break;
	case RTC_ALARM_HIGH: r->alarm_high = v; break;
	case RTC_ALARM_LOW:
		r->alarm_ns = ((uint64_t)r->alarm_high << 32) | v;
		r->armed = 1;
		rtc_program(d);
		break;
	case RTC_IRQ_ENABLED:
		r->irq_enabled = v & 1;
		rtc_update_irq(d);
		break;
	case RTC_CLEAR_ALARM:
		r->armed = 0;
		rtc_program(d);
		break;
	case RTC_CLEAR_INTERRUPT:
		r->fired = 0;
		rtc_update_irq(d);
		break;
	}
}

static void rtc_io_complete(struct device *d, uint32_t tag, int32_t res)
{
	(void)tag;
	(void)res;
	struct rtc *r = d->priv;
	r->polling = 0;
	uint64_t expirations;
	if (read(r->tfd, &expirations, sizeof(expirations)) == (ssize_t)sizeof(expirations) &&
	    r->armed)
		rtc_fire(d);
	else
		rtc_program(d); /* woken early (clock step) or re-armed: poll again */
}

static void rtc_stop(struct device *d)
{
	struct rtc *r = d->priv;
	close(r->tfd);
	free(r);
	d->priv = NULL;
}

const struct device_ops goldfish_rtc_ops = {
    .name = "goldfish-rtc",
    .init = rtc_init,
    .mmio_read = rtc_read,
    .mmio_write = rtc_write,
    .io_complete = rtc_io_complete,
    .stop = rtc_stop,
};
