/* Device list construction and command-line checks for device options. */
#include "devices.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define UART_BASE 0x10000000ull
#define RTC_BASE 0x101000ull

void devices_init(struct dev_list *l)
{
	memset(l, 0, sizeof(*l));
	l->dev[l->n++] = (struct dev_spec){.name = "uart0",
					   .type = "uart16550",
					   .base = UART_BASE,
					   .size = 0x1000,
					   .irq = 10,
					   .shadow = 0,
					   .console = 1};
	l->dev[l->n++] = (struct dev_spec){.name = "rtc0",
					   .type = "goldfish-rtc",
					   .node = "rtc",
					   .compatible = "google,goldfish-rtc",
					   .base = RTC_BASE,
					   .size = 0x1000,
					   .irq = 11,
					   .shadow = -1};
	l->nshadow = 1;
}

/* Takes a virtio-mmio slot for a device of `type` named `name`. */
static struct dev_spec *add_virtio(struct dev_list *l, const char *type, const char *name,
				   char *why, size_t why_len)
{
	if (l->nvirtio == VIRTIO_MMIO_SLOTS || l->n == DEV_MAX) {
		snprintf(why, why_len, "at most %d virtio devices", VIRTIO_MMIO_SLOTS);
		return NULL;
	}
	for (unsigned i = 0; i < l->n; i++)
		if (strcmp(l->dev[i].name, name) == 0) {
			snprintf(why, why_len, "a device named '%s' already exists", name);
			return NULL;
		}
	struct dev_spec *d = &l->dev[l->n++];
	unsigned slot = l->nvirtio++;
	*d = (struct dev_spec){.type = type,
			       .node = "virtio_mmio",
			       .compatible = "virtio,mmio",
			       .base = VIRTIO_MMIO_BASE + 0x1000ull * slot,
			       .size = 0x1000,
			       .irq = 1 + slot,
			       .shadow = (int)l->nshadow++,
			       .needs_ram = 1};
	snprintf(d->name, sizeof(d->name), "%s", name);
	return d;
}

/* Splits the next "key=value" item off `*p` (",," is a literal comma in
 * values). Returns 0 at the end, 1 with key and value, -1 if malformed. */
static int next_kv(const char **p, char *key, size_t klen, char *val, size_t vlen)
{
	const char *s = *p;
	if (!*s)
		return 0;
	const char *eq = strchr(s, '=');
	if (!eq || (size_t)(eq - s) >= klen || eq == s)
		return -1;
	memcpy(key, s, (size_t)(eq - s));
	key[eq - s] = 0;
	size_t n = 0;
	for (s = eq + 1; *s; s++) {
		if (*s == ',') {
			if (s[1] != ',')
				break;
			s++;
		}
		if (n + 1 >= vlen)
			return -1;
		val[n++] = *s;
	}
	val[n] = 0;
	*p = *s ? s + 1 : s;
	return 1;
}

int devices_add_drive(struct dev_list *l, const char *spec, char *why, size_t why_len)
{
	char key[32], val[PATH_MAX], file[PATH_MAX] = "", id[32] = "";
	int ro = 0, direct = 0, r;
	const char *p = spec;
	while ((r = next_kv(&p, key, sizeof(key), val, sizeof(val))) == 1) {
		if (strcmp(key, "file") == 0) {
			snprintf(file, sizeof(file), "%s", val);
		} else if (strcmp(key, "readonly") == 0) {
			if (strcmp(val, "on") && strcmp(val, "off")) {
				snprintf(why, why_len, "readonly=%s: expected on or off", val);
				return -EINVAL;
			}
			ro = strcmp(val, "on") == 0;
		} else if (strcmp(key, "cache") == 0) {
			if (strcmp(val, "none") && strcmp(val, "writeback")) {
				snprintf(why, why_len, "cache=%s: expected none or writeback", val);
				return -EINVAL;
			}
			direct = strcmp(val, "none") == 0;
		} else if (strcmp(key, "id") == 0) {
			if (!*val || strlen(val) > 20 || strpbrk(val, "/ ,=")) {
				snprintf(why, why_len, "id=%s: expected a short name", val);
				return -EINVAL;
			}
			memcpy(id, val, strlen(val) + 1); /* at most 20 bytes: checked */
		} else {
			snprintf(why, why_len, "unknown key '%s' (expected file, readonly, id)",
				 key);
			return -EINVAL;
		}
	}
	if (r < 0) {
		snprintf(why, why_len, "expected file=PATH[,readonly=on][,id=NAME]");
		return -EINVAL;
	}
	if (!*file) {
		snprintf(why, why_len, "needs file=PATH");
		return -EINVAL;
	}
	struct stat st;
	int fd = open(file, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(why, why_len, "%s: %s%s", file, strerror(e),
			 !ro && (e == EACCES || e == EROFS || e == EPERM)
			     ? " (add readonly=on to use it read-only)"
			     : "");
		return -EINVAL;
	}
	int ok = fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode));
	close(fd);
	if (!ok) {
		snprintf(why, why_len, "%s: not a regular file or block device", file);
		return -EINVAL;
	}
	if (!*id)
		snprintf(id, sizeof(id), "vd%c", 'a' + (l->nvirtio < 26 ? l->nvirtio : 25));
	struct dev_spec *d = add_virtio(l, "virtio-blk", id, why, why_len);
	if (!d)
		return -EINVAL;
	snprintf(d->args, sizeof(d->args), "ro=%d,serial=%s,direct=%d,file=%s", ro, id, direct,
		 file);
	return 0;
}

int devices_add_rng(struct dev_list *l, char *why, size_t why_len)
{
	return add_virtio(l, "virtio-rng", "rng0", why, why_len) ? 0 : -EINVAL;
}

/* Checks a hostfwd rule's shape: tcp|udp:[ADDR]:PORT-[ADDR]:PORT. */
static int hostfwd_ok(const char *r)
{
	const char *p = strncmp(r, "tcp:", 4) == 0 || strncmp(r, "udp:", 4) == 0 ? r + 4 : NULL;
	for (int side = 0; p && side < 2; side++) {
		struct in_addr a;
		char addr[64];
		const char *colon = strchr(p, ':');
		if (!colon || (size_t)(colon - p) >= sizeof(addr))
			return 0;
		memcpy(addr, p, (size_t)(colon - p));
		addr[colon - p] = 0;
		if (*addr && inet_pton(AF_INET, addr, &a) != 1)
			return 0;
		p = colon + 1;
		char *end;
		long port = strtol(p, &end, 10);
		if (end == p || port < 1 || port > 65535)
			return 0;
		if (side == 0 && *end != '-')
			return 0;
		if (side == 1 && *end)
			return 0;
		p = end + 1;
	}
	return p != NULL;
}

int devices_add_net(struct dev_list *l, const char *spec, char *why, size_t why_len)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", spec);
	char *save = NULL, *backend = strtok_r(buf, ",", &save);
	int user = backend && strcmp(backend, "user") == 0,
	    tap = backend && strcmp(backend, "tap") == 0;
	if (!user && !tap) {
		snprintf(why, why_len, "%s: unknown backend (expected user or tap)",
			 backend ? backend : "");
		return -EINVAL;
	}
	char name[16];
	snprintf(name, sizeof(name), "net%u", l->nvirtio);
	struct dev_spec d = {.net = user ? NET_USER : NET_TAP};
	for (char *kv = strtok_r(NULL, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		if (user && strncmp(kv, "hostfwd=", 8) == 0) {
			if (!hostfwd_ok(kv + 8) || d.nhostfwd == 8 ||
			    strlen(kv + 8) >= sizeof(d.hostfwd[0])) {
				snprintf(why, why_len,
					 "%s: expected hostfwd=tcp|udp:[HOSTADDR]:HOSTPORT-"
					 "[GUESTADDR]:GUESTPORT (at most 8)",
					 kv);
				return -EINVAL;
			}
			memcpy(d.hostfwd[d.nhostfwd++], kv + 8, strlen(kv + 8) + 1);
		} else if (tap && strncmp(kv, "ifname=", 7) == 0) {
			if (!kv[7] || strlen(kv + 7) >= sizeof(d.ifname)) {
				snprintf(why, why_len, "%s: expected an interface name", kv);
				return -EINVAL;
			}
			memcpy(d.ifname, kv + 7, strlen(kv + 7) + 1);
		} else {
			snprintf(why, why_len, "%s: unknown option for the %s backend", kv,
				 backend);
			return -EINVAL;
		}
	}
	if (tap && !d.ifname[0]) {
		snprintf(why, why_len, "tap needs ifname=NAME");
		return -EINVAL;
	}
	struct dev_spec *v = add_virtio(l, "virtio-net", name, why, why_len);
	if (!v)
		return -EINVAL;
	unsigned idx = l->nvirtio - 1;
	d.type = v->type;
	d.node = v->node;
	d.compatible = v->compatible;
	d.base = v->base;
	d.size = v->size;
	d.irq = v->irq;
	d.shadow = v->shadow;
	d.needs_ram = 1;
	memcpy(d.name, v->name, sizeof(d.name));
	snprintf(d.args, sizeof(d.args), "mac=52:54:00:12:34:%02x", 0x56 + idx);
	*v = d;
	return 0;
}

int devices_add_vconsole(struct dev_list *l, char *why, size_t why_len)
{
	struct dev_spec *d = add_virtio(l, "virtio-console", "vcon0", why, why_len);
	if (!d)
		return -EINVAL;
	d->vcon = 1;
	return 0;
}
