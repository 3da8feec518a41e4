#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char log_name[64] = "shoal";
static int log_debug_on = -1;

void log_init(const char *name)
{
	snprintf(log_name, sizeof(log_name), "%s", name);
}

static void log_vprint(const char *fmt, va_list ap)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "%s: ", log_name);
	if (n < 0)
		return;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	/* One write per line so lines from several processes do not interleave. */
	size_t len = strlen(line);
	if (len < sizeof(line) - 1)
		line[len++] = '\n';
	fwrite(line, 1, len, stderr);
	fflush(stderr);
}

void log_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vprint(fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vprint(fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	if (log_debug_on < 0)
		log_debug_on = getenv("SHOAL_DEBUG") != NULL;
	if (!log_debug_on)
		return;
	va_list ap;
	va_start(ap, fmt);
	log_vprint(fmt, ap);
	va_end(ap);
}
