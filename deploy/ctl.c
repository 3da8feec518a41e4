/* shoal ctl: a DEALER to the VM's control ROUTER (ipc://RUNDIR/ctl.sock),
 * one request, replies until ctl_done or an error. */
#include "ctl.h"

#define CTL_MAX_STATS 32

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <zmq.h>

#include "../common/log.h"
#include "../common/zmsg.h"

int ctl_run_base(char *buf, size_t len, int create)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n = xdg && *xdg ? snprintf(buf, len, "%s/shoal", xdg)
			    : snprintf(buf, len, "/tmp/shoal-%u", (unsigned)getuid());
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	if (create && mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	struct stat st;
	if (lstat(buf, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077)) {
		log_err("%s is not a private directory of ours; refusing to use it", buf);
		return -EPERM;
	}
	return 0;
}

uint64_t ctl_proc_rss(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	uint64_t kb = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %lu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb * 1024;
}

int ctl_proc_node(pid_t pid)
{
	char path[64], line[4096];
	snprintf(path, sizeof(path), "/proc/%d/numa_maps", (int)pid);
	FILE *f = fopen(path, "r");
	uint64_t pages[64] = {0};
	while (f && fgets(line, sizeof(line), f)) {
		for (char *p = strstr(line, " N"); p; p = strstr(p + 1, " N")) {
			unsigned node;
			unsigned long n;
			if (sscanf(p, " N%u=%lu", &node, &n) == 2 && node < 64)
				pages[node] += n;
		}
	}
	if (f)
		fclose(f);
	int best = -1;
	for (int i = 0; i < 64; i++)
		if (pages[i] && (best < 0 || pages[i] > pages[best]))
			best = i;
	return best;
}

int ctl_ram_node(const void *addr, uint64_t len)
{
	enum { SAMPLES = 64 };
	void *pages[SAMPLES];
	int status[SAMPLES];
	uint64_t npages = len / 4096, n = npages < SAMPLES ? npages : SAMPLES;
	if (n == 0)
		return -1;
	for (uint64_t i = 0; i < n; i++) {
		pages[i] = (char *)addr + (i * (npages / n)) * 4096;
		/* Map it here (it is resident already): move_pages reports
		 * only pages in this process's page tables. */
		(void)*(volatile const char *)pages[i];
	}
	if (syscall(SYS_move_pages, 0, (unsigned long)n, pages, NULL, status, 0) < 0)
		return -1;
	for (uint64_t i = 1; i < n; i++)
		if (status[i] != status[0])
			return -1;
	return status[0] < 0 ? -1 : status[0];
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shoal ctl VM status [--json]\n"
		"       shoal ctl VM kill-device NAME\n"
		"       shoal ctl VM pause | resume\n"
		"  VM is the --name given to shoal run (see the run directory, e.g. %s)\n",
		getenv("XDG_RUNTIME_DIR") ? "$XDG_RUNTIME_DIR/shoal" : "/tmp/shoal-UID");
}

static void human_size(uint64_t b, char *out, size_t len)
{
	const char *unit = "KMGT";
	double v = (double)b / 1024;
	int u = 0;
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	snprintf(out, len, "%.1f%c", v, unit[u]);
}

/* JSON string body: the names here are ours, but quote what needs it. */
static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

int ctl_main(int argc, char **argv)
{
	log_init("shoal ctl");
	if (argc < 4) {
		usage(stderr);
		return 2;
	}
	const char *vmname = argv[2], *cmd = argv[3], *arg = NULL;
	int json = 0;
	if (strcmp(cmd, "status") == 0) {
		for (int i = 4; i < argc; i++) {
			if (strcmp(argv[i], "--json") == 0) {
				json = 1;
			} else {
				log_err("%s: unknown option for status (expected --json)", argv[i]);
				return 2;
			}
		}
	} else if (strcmp(cmd, "kill-device") == 0) {
		if (argc != 5) {
			log_err("kill-device: needs the device's NAME (see 'status')");
			return 2;
		}
		arg = argv[4];
	} else if (strcmp(cmd, "pause") == 0 || strcmp(cmd, "resume") == 0) {
		if (argc != 4) {
			log_err("%s: takes no arguments", cmd);
			return 2;
		}
	} else {
		log_err("%s: unknown command", cmd);
		usage(stderr);
		return 2;
	}
	char base[4096], sock_path[4200], endpoint[4300];
	if (ctl_run_base(base, sizeof(base), 0) < 0 || strchr(vmname, '/')) {
		log_err("%s: no such VM", vmname);
		return 2;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/%s/ctl.sock", base, vmname);
	if (access(sock_path, F_OK) < 0) {
		log_err("%s: no such VM (no control socket at %s)", vmname, sock_path);
		return 2;
	}
	snprintf(endpoint, sizeof(endpoint), "ipc://%s", sock_path);
	void *zctx = zmq_ctx_new();
	void *sock = zmsg_dealer(zctx, endpoint);
	if (!sock) {
		log_err("%s: %s", endpoint, zmq_strerror(errno));
		return 2;
	}
	struct proto_msg req = {.op = OP_CTL, .id = (uint64_t)getpid()};
	snprintf(req.cmd, sizeof(req.cmd), "%s", cmd);
	if (arg) {
		snprintf(req.name, sizeof(req.name), "%s", arg);
		req.present |= PF_NAME;
	}
	zmsg_send(sock, NULL, 0, &req);
	int status = 1, first = 1;
	char stat_name[CTL_MAX_STATS][PROTO_STR_MAX];
	uint64_t stat_val[CTL_MAX_STATS];
	unsigned nstat = 0;
	if (json)
		printf("{\"vm\": ");
	if (json)
		json_str(vmname);
	else if (strcmp(cmd, "status") == 0)
		printf("%-22s %-4s %8s %8s %9s %5s\n", "NAME", "ROLE", "PID", "RESTARTS", "RSS",
		       "NODE");
	if (json)
		printf(", \"processes\": [");
	for (;;) {
		zmq_pollitem_t pi = {.socket = sock, .events = ZMQ_POLLIN};
		if (zmq_poll(&pi, 1, 5000) <= 0) {
			log_err("%s: the VM did not answer within 5 s", vmname);
			status = 1;
			break;
		}
		struct proto_msg m;
		char why[128];
		if (zmsg_recv(sock, NULL, NULL, &m, 0, why, sizeof(why))) {
			log_err("%s: bad reply: %s", vmname, why);
			break;
		}
		if (m.op == OP_ERROR) {
			if (json)
				printf("]}\n");
			log_err("%s: %s", vmname, m.error);
			break;
		}
		if (m.op == OP_CTL_PROC) {
			if (json) {
				printf("%s{\"name\": ", first ? "" : ", ");
				json_str(m.name);
				printf(", \"role\": ");
				json_str(m.kind);
				printf(", \"pid\": %llu, \"restarts\": %llu, \"rss_bytes\": %llu, "
				       "\"numa_node\": %lld}",
				       (unsigned long long)m.value, (unsigned long long)m.index,
				       (unsigned long long)m.size, (long long)m.node);
			} else {
				char rss[32], node[16];
				human_size(m.size, rss, sizeof(rss));
				snprintf(node, sizeof(node), "%lld", (long long)m.node);
				printf("%-22s %-4s %8llu %8llu %9s %5s\n", m.name, m.kind,
				       (unsigned long long)m.value, (unsigned long long)m.index,
				       rss, m.node < 0 ? "mixed" : node);
			}
			first = 0;
			continue;
		}
		if (m.op == OP_CTL_STAT) { /* printed after the processes */
			if (nstat < CTL_MAX_STATS) {
				snprintf(stat_name[nstat], sizeof(stat_name[nstat]), "%s", m.name);
				stat_val[nstat++] = m.value;
			}
			continue;
		}
		if (m.op == OP_CTL_DONE) {
			if (json) {
				printf("], \"stats\": {");
				for (unsigned i = 0; i < nstat; i++) {
					printf("%s", i ? ", " : "");
					json_str(stat_name[i]);
					printf(": %llu", (unsigned long long)stat_val[i]);
				}
				printf("}, \"state\": \"%s\"}\n", m.kind);
			} else if (strcmp(cmd, "status") == 0) {
				for (unsigned i = 0; i < nstat; i++)
					printf("%s %llu\n", stat_name[i],
					       (unsigned long long)stat_val[i]);
				printf("VM %s is %s\n", vmname, m.kind);
			} else {
				printf("%s: %s done; the VM is %s\n", vmname, cmd, m.kind);
			}
			status = 0;
			break;
		}
	}
	zmq_close(sock);
	zmq_ctx_term(zctx);
	return status;
}
