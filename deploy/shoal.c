/* shoal: the VM. Parses the command line, checks the guest program, starts
 * shoal-mem, the device processes and one shoal-cpu per hart, supervises
 * them through pidfds, and exits with the guest's exit status.
 *
 * Exit status: the guest's (HTIF / test finisher / poweroff), 2 for bad
 * input, 1 when a part of the VM failed, 128+signal when stopped by a signal.
 * Every exit path removes the run directory and stops every child. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "../common/board.h"
#include "../common/fdpass.h"
#include "../common/log.h"
#include "../common/memclient.h"
#include "../common/util.h"
#include "../common/zmsg.h"
#include "boot.h"
#include "ctl.h"
#include "devices.h"
#include "elf.h"
#include "jitstats.h"
#include "numa.h"
#include "vcon.h"

#define DEFAULT_BIOS "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"
#define DTB_MAX (1u << 20) /* the device tree's room at the top of RAM */
#define UART_BASE 0x10000000ull
#define UART_SIZE 0x1000ull

#define MAX_CHILDREN (BOARD_MAX_HARTS + 16)

#define JIT_DEFAULT_THRESHOLD "32"
#define DEV_RESTART_WINDOW_S 10 /* a device restarted more often than */
#define DEV_RESTART_MAX 50	/* this in that window is given up on */

struct child {
	char name[40];
	const char *role; /* "cpu", "dev", "mem" */
	pid_t pid;
	int pidfd;
	int done;
	/* Devices: how to start it again, and its restart history. */
	char **argv; /* a private copy, NULL-terminated */
	int stdin_fd, keep_fd, keep_fd2;
	unsigned restarts;
	struct timespec window_start;
	unsigned window_restarts;
};

struct vm {
	char name[64];
	char rundir[PATH_MAX];
	char memsock[PATH_MAX + 16];
	char bindir[PATH_MAX];
	uint64_t mem;
	uint32_t smp;
	const char *kernel;
	const char *bios;
	const char *initrd;
	const char *append;
	struct dev_list devs;
	void *zctx, *ctl; /* the control socket (ROUTER), NULL until bound */
	int paused;
	pid_t mem_pid;
	int rng;      /* --rng on */
	int prealloc; /* --mem-prealloc on */
	int jit;      /* --jit on (the default) */
	int stats;    /* --stats: print counters at exit */
	int jit_sync; /* --jit-sync on: harts wait for translations (testing) */
	char jit_threshold[16];
	int vcon_on; /* --vconsole on: vcon relays it once the devices start */
	struct vcon_relay vcon;
	int mem_given;
	unsigned nnodes; /* 0 without --numa */
	struct numa_node node[NUMA_MAX_NODES];
	struct child child[MAX_CHILDREN];
	int nchild;
	struct board *board;
};

static struct vm vm;

/* The console when stdin is a terminal: shoal puts it in raw mode, reads it,
 * handles the Ctrl-A escape (as QEMU's -nographic does) and forwards the
 * rest to the UART device through a pipe. The terminal is restored on every
 * exit path that runs (normal exit, errors, signals via the signalfd). */
static struct {
	int active;
	int to_dev; /* write end of the UART's stdin pipe */
	int dev_in; /* read end, the UART device's stdin */
	int escape;
	struct termios saved;
} con = {.to_dev = -1, .dev_in = -1};

static void console_restore(void)
{
	if (con.active) {
		tcsetattr(0, TCSADRAIN, &con.saved);
		con.active = 0;
	}
}

static void console_start(void)
{
	int p[2];
	if (!isatty(0) || tcgetattr(0, &con.saved) < 0 || pipe2(p, O_CLOEXEC) < 0)
		return;
	struct termios raw = con.saved;
	cfmakeraw(&raw);
	raw.c_oflag |= OPOST | ONLCR; /* guests that print bare \n still look right */
	if (tcsetattr(0, TCSANOW, &raw) < 0) {
		close(p[0]);
		close(p[1]);
		return;
	}
	con.active = 1;
	con.dev_in = p[0];
	con.to_dev = p[1];
	atexit(console_restore);
}

static __attribute__((noreturn)) void die_cleanly(int status);

/* Reads the terminal: Ctrl-A x quits, Ctrl-A h helps, Ctrl-A Ctrl-A sends
 * one Ctrl-A; everything else goes to the guest's UART. */
static void console_input(void)
{
	char in[256], out[256];
	ssize_t n = read(0, in, sizeof(in));
	if (n <= 0) {
		con.to_dev = -1; /* EOF: stop reading; the pipe stays open */
		return;
	}
	size_t k = 0;
	for (ssize_t i = 0; i < n; i++) {
		char c = in[i];
		if (con.escape) {
			con.escape = 0;
			if (c == 'x') {
				console_restore();
				fprintf(stderr, "\r\nshoal: terminated by Ctrl-A x\n");
				die_cleanly(0);
			} else if (c == 'h') {
				fprintf(stderr, "\r\nCtrl-A x  quit\r\nCtrl-A h  this help\r\n"
						"Ctrl-A Ctrl-A  send Ctrl-A\r\n");
			} else if (c == 1) {
				out[k++] = c;
			}
		} else if (c == 1) {
			con.escape = 1;
		} else {
			out[k++] = c;
		}
	}
	if (k && write(con.to_dev, out, k) < 0 && errno != EAGAIN)
		log_err("console: cannot forward input: %s", strerror(errno));
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: shoal run [--bios PATH|none] --kernel FILE [--initrd FILE] [--append STR]\n"
	    "                 [--smp N] [--mem SIZE] [--name NAME] [--rng on] [--net ...]\n"
	    "                 [--drive file=PATH,...]...\n"
	    "  --bios PATH     M-mode firmware loaded at 0x80000000 (default: Debian's OpenSBI\n"
	    "                  " DEFAULT_BIOS ")\n"
	    "  --bios none     no firmware: FILE is a bare-metal RV64 ELF run in M-mode\n"
	    "  --kernel FILE   a RISC-V Linux Image (with firmware), or the ELF (--bios none)\n"
	    "  --initrd FILE   initramfs for the kernel, placed below the device tree\n"
	    "  --append STR    kernel command line (chosen/bootargs)\n"
	    "  --smp N         harts, 1 to %d (default 1); each is a shoal-cpu process\n"
	    "  --mem SIZE      guest RAM, e.g. 128M or 2G (default 128M)\n"
	    "  --mem-prealloc on|off  fault all guest RAM in at start, in the background\n"
	    "                  (default off: each page on first touch)\n"
	    "  --name NAME     VM name, used for the run directory (default vm<pid>)\n"
	    "  --rng on|off    a virtio-rng fed by the host's getrandom() (default off)\n"
	    "  --jit on|off    compile hot guest code with shoal-jit (default on)\n"
	    "  --jit-threshold N  visits before a block is compiled (default " JIT_DEFAULT_THRESHOLD
	    ")\n"
	    "  --jit-sync on|off  harts wait for each translation they ask for, so code\n"
	    "                  runs translated from its first visit (testing; default off)\n"
	    "  --stats         print the JIT's counters when the VM stops\n"
	    "  --vconsole on|off  a virtio-console (/dev/hvc0) relayed to RUNDIR/vcon0.sock\n"
	    "  --net user[,hostfwd=tcp:[ADDR]:PORT-[ADDR]:PORT]... | tap,ifname=NAME\n"
	    "                  a virtio-net on user-mode networking (10.0.2.15/24, gateway\n"
	    "                  10.0.2.2, DNS 10.0.2.3) or on a TAP interface\n"
	    "  --drive file=PATH[,readonly=on][,id=NAME]\n"
	    "                  a virtio-blk disk on a raw image (repeatable, up to 8 virtio "
	    "devices)\n",
	    BOARD_MAX_HARTS);
}

static __attribute__((noreturn)) void bad_input(const char *arg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void bad_input(const char *arg, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_err("%s: %s", arg, msg);
	exit(2);
}

/* The value of on|off option `a`: 1 or 0; anything else is bad input. */
static int parse_on_off(const char *a, const char *v)
{
	if (strcmp(v, "on") && strcmp(v, "off"))
		bad_input(a, "%s: expected on or off", v);
	return strcmp(v, "on") == 0;
}

/* Host NUMA nodes (from sysfs "online", e.g. "0" or "0-3"); 1 if unknown. */
static int host_node_count(void)
{
	FILE *f = fopen("/sys/devices/system/node/online", "r");
	char line[64] = "";
	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = 0;
		fclose(f);
	}
	const char *last = strrchr(line, '-') ? strrchr(line, '-') + 1 : line;
	int n = atoi(last) + 1;
	return n > 0 && n <= 1024 ? n : 1;
}

static void parse_args(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		exit(argc < 2 ? 2 : 0);
	}
	if (strcmp(argv[1], "ctl") == 0)
		exit(ctl_main(argc, argv));
	if (strcmp(argv[1], "run") != 0)
		bad_input(argv[1], "unknown command (try 'shoal run --help' or 'shoal ctl')");
	vm.mem = 128ull << 20;
	vm.smp = 1;
	vm.jit = 1;
	snprintf(vm.jit_threshold, sizeof(vm.jit_threshold), "%s", JIT_DEFAULT_THRESHOLD);
	devices_init(&vm.devs);
	snprintf(vm.name, sizeof(vm.name), "vm%d", (int)getpid());
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0) {
			usage(stdout);
			exit(0);
		}
		if (strcmp(a, "--stats") == 0) { /* the one option without a value */
			vm.stats = 1;
			continue;
		}
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			bad_input(a, "needs a value");
		i++;
		uint64_t x;
		if (strcmp(a, "--smp") == 0) {
			if (util_parse_u64(v, 1, BOARD_MAX_HARTS, &x))
				bad_input("--smp", "%s: expected a hart count from 1 to %d", v,
					  BOARD_MAX_HARTS);
			vm.smp = (uint32_t)x;
		} else if (strcmp(a, "--mem") == 0) {
			if (util_parse_size(v, &x))
				bad_input("--mem", "%s: expected a size like 512M or 4G", v);
			if (x < (1ull << 20) || x > (1ull << 40) || x % 4096)
				bad_input("--mem", "%s: expected a multiple of 4K from 1M to 1T",
					  v);
			vm.mem = x;
			vm.mem_given = 1;
		} else if (strcmp(a, "--numa") == 0) {
			char why[256];
			if (vm.nnodes == NUMA_MAX_NODES)
				bad_input("--numa", "at most %d nodes", NUMA_MAX_NODES);
			if (numa_parse(v, &vm.node[vm.nnodes], why, sizeof(why)))
				bad_input("--numa", "%s: %s", v, why);
			vm.nnodes++;
		} else if (strcmp(a, "--kernel") == 0) {
			vm.kernel = v;
		} else if (strcmp(a, "--bios") == 0) {
			vm.bios = v;
		} else if (strcmp(a, "--initrd") == 0) {
			vm.initrd = v;
		} else if (strcmp(a, "--append") == 0) {
			vm.append = v;
		} else if (strcmp(a, "--drive") == 0) {
			char why[PATH_MAX + 128];
			if (devices_add_drive(&vm.devs, v, why, sizeof(why)))
				bad_input("--drive", "%s", why);
		} else if (strcmp(a, "--net") == 0) {
			char why[256];
			if (devices_add_net(&vm.devs, v, why, sizeof(why)))
				bad_input("--net", "%s", why);
		} else if (strcmp(a, "--vconsole") == 0 || strcmp(a, "--rng") == 0) {
			/* on|off switches for devices that need no settings */
			int vcon = strcmp(a, "--vconsole") == 0, *on = vcon ? &vm.vcon_on : &vm.rng;
			char why[128];
			int want = parse_on_off(a, v);
			if (want && !*on &&
			    (vcon ? devices_add_vconsole : devices_add_rng)(&vm.devs, why,
									    sizeof(why)))
				bad_input(a, "%s", why);
			*on |= want;
		} else if (strcmp(a, "--mem-prealloc") == 0) {
			vm.prealloc = parse_on_off(a, v);
		} else if (strcmp(a, "--jit") == 0) {
			vm.jit = parse_on_off(a, v);
		} else if (strcmp(a, "--jit-sync") == 0) {
			vm.jit_sync = parse_on_off(a, v);
		} else if (strcmp(a, "--jit-threshold") == 0) {
			uint64_t t;
			if (util_parse_u64(v, 1, 1000000000, &t))
				bad_input(a, "%s: expected a count from 1 to 1000000000", v);
			snprintf(vm.jit_threshold, sizeof(vm.jit_threshold), "%llu",
				 (unsigned long long)t);
		} else if (strcmp(a, "--name") == 0) {
			if (!*v || strlen(v) >= sizeof(vm.name) || strchr(v, '/') || v[0] == '.')
				bad_input("--name", "%s: expected a short name without '/'", v);
			snprintf(vm.name, sizeof(vm.name), "%s", v);
		} else {
			bad_input(a, "unknown option (try 'shoal run --help')");
		}
	}
	if (!vm.kernel)
		bad_input("shoal run", "needs --kernel PROGRAM");
	if (vm.nnodes) {
		char why[256];
		if (numa_check(vm.node, vm.nnodes, vm.smp, vm.mem_given ? vm.mem : 0, why,
			       sizeof(why)))
			bad_input("--numa", "%s", why);
		vm.mem = 0;
		int hosts = host_node_count();
		for (unsigned i = 0; i < vm.nnodes; i++) {
			vm.mem += vm.node[i].mem;
			if (vm.node[i].host_node < 0)
				vm.node[i].host_node = (int)i % hosts;
			else if (vm.node[i].host_node >= hosts)
				bad_input("--numa", "hostnode=%d: this host has NUMA nodes 0 to %d",
					  vm.node[i].host_node, hosts - 1);
		}
		if (vm.mem > (1ull << 40))
			bad_input("--numa", "the nodes' mem adds up to more than 1T");
	} else {
		vm.node[0] = (struct numa_node){.ncpus = vm.smp, .mem = vm.mem, .host_node = -1};
	}
	if (!vm.bios)
		vm.bios = DEFAULT_BIOS;
	if (strcmp(vm.bios, "none") == 0 && (vm.initrd || vm.append))
		bad_input(vm.initrd ? "--initrd" : "--append",
			  "needs firmware and a Linux Image (not --bios none)");
}

/* Reads all of `path` (at most `max` bytes) into a new buffer. Exits with
 * status 2 naming `what` and the file on failure. */
static uint8_t *read_input(const char *what, const char *path, uint64_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		bad_input(what, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		bad_input(what, "%s: not a regular file", path);
	if ((uint64_t)st.st_size > max)
		bad_input(what, "%s: %llu bytes do not fit in the %llu bytes of RAM left for it",
			  path, (unsigned long long)st.st_size, (unsigned long long)max);
	/* Populated up front: page faults one at a time cost more than the
	 * copy (7 ms for a 4.6 MB kernel on a nested-virtualisation host). */
	uint8_t *buf = mmap(NULL, (size_t)st.st_size + 1, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (buf == MAP_FAILED)
		bad_input(what, "%s: out of memory", path);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0)
			bad_input(what, "%s: read failed: %s", path,
				  n ? strerror(errno) : "short file");
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return buf;
}

/* The firmware boot's images, checked before anything starts. */
struct fw_boot {
	uint8_t *fw, *kernel, *initrd;
	size_t fw_len, kernel_len, initrd_len;
	uint64_t initrd_addr, dtb_addr;
	uint8_t dtb[DTB_MAX];
	uint8_t rom[BOOT_ROM_SIZE];
};

static void fw_boot_prepare(struct fw_boot *b)
{
	uint64_t ram_end = RAM_BASE + vm.mem;
	if (vm.mem < BOOT_KERNEL_OFFSET + DTB_MAX + (4ull << 20))
		bad_input("--mem", "%llu bytes: a firmware boot needs at least 8M",
			  (unsigned long long)vm.mem);
	b->fw = read_input("--bios", vm.bios, BOOT_KERNEL_OFFSET, &b->fw_len);
	b->kernel = read_input("--kernel", vm.kernel, vm.mem - BOOT_KERNEL_OFFSET - DTB_MAX,
			       &b->kernel_len);
	char why[256];
	if (boot_image_check(b->kernel, b->kernel_len, vm.mem - BOOT_KERNEL_OFFSET - DTB_MAX, why,
			     sizeof(why)))
		bad_input("--kernel", "%s: %s", vm.kernel, why);
	b->dtb_addr = ram_end - DTB_MAX;
	uint64_t kernel_end = RAM_BASE + BOOT_KERNEL_OFFSET + b->kernel_len;
	if (vm.initrd) {
		b->initrd =
		    read_input("--initrd", vm.initrd, b->dtb_addr - kernel_end, &b->initrd_len);
		b->initrd_addr = (b->dtb_addr - b->initrd_len) & ~0xfffull;
		if (b->initrd_addr < kernel_end)
			bad_input("--initrd",
				  "%s: %zu bytes do not fit between the kernel and the "
				  "device tree (try a larger --mem)",
				  vm.initrd, b->initrd_len);
	}
	struct boot_config cfg = {.nharts = vm.smp,
				  .nnodes = 1,
				  .bootargs = vm.append ? vm.append : "console=ttyS0",
				  .isa = "rv64imafdc_zicsr_zifencei_zihintpause_sstc"};
	uint64_t base = RAM_BASE;
	cfg.nnodes = vm.nnodes ? vm.nnodes : 1;
	cfg.numa = vm.nnodes > 0;
	for (unsigned i = 0; i < cfg.nnodes; i++) {
		cfg.node[i] = (struct boot_node){.base = base,
						 .size = vm.node[i].mem,
						 .first_cpu = vm.node[i].first_cpu,
						 .ncpus = vm.node[i].ncpus};
		base += vm.node[i].mem;
	}
	for (size_t i = 0; i < vm.devs.n; i++) {
		const struct dev_spec *d = &vm.devs.dev[i];
		if (d->node)
			cfg.dev[cfg.ndevs++] = (struct boot_dev){.node = d->node,
								 .compatible = d->compatible,
								 .base = d->base,
								 .size = d->size,
								 .irq = d->irq};
	}
	if (b->initrd) {
		cfg.initrd_start = b->initrd_addr;
		cfg.initrd_end = b->initrd_addr + b->initrd_len;
	}
	if (boot_fdt_build(b->dtb, sizeof(b->dtb), &cfg, why, sizeof(why)))
		bad_input("shoal run", "%s", why);
	boot_rom_build(b->rom, RAM_BASE, b->dtb_addr, RAM_BASE + BOOT_KERNEL_OFFSET);
}

/* Copies `len` bytes to guest RAM at offset `off` with pwrite() on the
 * nodes' memfds: the kernel allocates the pages as it copies, where a
 * memcpy through the mapping takes one page fault per page (~4 us each on
 * a nested-virtualisation host: 7 vs 4 ms for a 6 MB kernel and initrd).
 * Falls back to the mapping when a write fails. */
static void ram_put(const struct guest_ram *ram, uint64_t off, const void *src, uint64_t len)
{
	const uint8_t *p = src;
	uint64_t base = 0;
	for (uint32_t i = 0; i < ram->nnodes && len; i++) {
		uint64_t size = ram->node[i].size;
		while (len && off < base + size) {
			uint64_t n = base + size - off < len ? base + size - off : len;
			ssize_t w = pwrite(ram->node[i].fd, p, n, (off_t)(off - base));
			if (w <= 0) {
				memcpy(ram->host + off, p, len);
				return;
			}
			p += w;
			off += (uint64_t)w;
			len -= (uint64_t)w;
		}
		base += size;
	}
}

static void fw_boot_load(const struct fw_boot *b, const struct guest_ram *ram)
{
	ram_put(ram, 0, b->fw, b->fw_len);
	ram_put(ram, BOOT_KERNEL_OFFSET, b->kernel, b->kernel_len);
	if (b->initrd)
		ram_put(ram, b->initrd_addr - RAM_BASE, b->initrd, b->initrd_len);
	ram_put(ram, b->dtb_addr - RAM_BASE, b->dtb, sizeof(b->dtb));
}

/* Writes the boot ROM where the vCPUs read it (the run directory). */
static int write_rom(const struct fw_boot *b, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, b->rom, sizeof(b->rom));
	close(fd);
	return n == (ssize_t)sizeof(b->rom) ? 0 : -EIO;
}

static int make_rundir(void)
{
	char base[PATH_MAX];
	int r = ctl_run_base(base, sizeof(base), 1);
	if (r < 0)
		return r;
	int n = snprintf(vm.rundir, sizeof(vm.rundir), "%s/%s", base, vm.name);
	if (n < 0 || (size_t)n >= sizeof(vm.rundir) - 32)
		return -ENAMETOOLONG;
	if (mkdir(vm.rundir, 0700) < 0) {
		if (errno == EEXIST)
			log_err("--name %s: a VM of that name is running (or left %s behind)",
				vm.name, vm.rundir);
		return -errno;
	}
	snprintf(vm.memsock, sizeof(vm.memsock), "%s/mem.sock", vm.rundir);
	return 0;
}

static void remove_rundir(void)
{
	if (!vm.rundir[0])
		return;
	/* Everything in it is ours: sockets, the boot ROM. */
	DIR *dir = opendir(vm.rundir);
	for (struct dirent *e; dir && (e = readdir(dir));) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(dir), e->d_name, 0) < 0)
			log_err("cannot remove %s/%s: %s", vm.rundir, e->d_name, strerror(errno));
	}
	if (dir)
		closedir(dir);
	if (rmdir(vm.rundir) < 0 && errno != ENOENT)
		log_err("cannot remove %s: %s", vm.rundir, strerror(errno));
}

/* Starts `argv` (argv[0] a binary next to ours). `keep_fd`, if >= 0, is
 * inherited as fd 3. Returns the child slot or NULL. */
/* Forks and runs `argv` (argv[0] a binary next to ours) with `keep_fd` as
 * fd 3, `keep_fd2` as fd 4 and `stdin_fd` as stdin (each if >= 0). Returns
 * the pid or -1. */
static pid_t fork_exec(char **argv, int keep_fd, int keep_fd2, int stdin_fd)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", vm.bindir, argv[0]);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Move both out of the way first: either may already be 3 or 4. */
	int k1 = keep_fd >= 0 ? fcntl(keep_fd, F_DUPFD_CLOEXEC, 10) : -1;
	int k2 = keep_fd2 >= 0 ? fcntl(keep_fd2, F_DUPFD_CLOEXEC, 10) : -1;
	if ((keep_fd >= 0 && (k1 < 0 || dup2(k1, 3) < 0)) ||
	    (keep_fd2 >= 0 && (k2 < 0 || dup2(k2, 4) < 0)))
		_exit(127);
	if (stdin_fd >= 0 && dup2(stdin_fd, 0) < 0)
		_exit(127);
	execv(path, argv);
	fprintf(stderr, "shoal: cannot start %s: %s\n", path, strerror(errno));
	_exit(127);
}

static struct child *spawn2(const char *role, const char *name, char **argv, int keep_fd,
			    int keep_fd2, int stdin_fd)
{
	struct child *c = NULL;
	for (int i = 0; i < vm.nchild && !c; i++)
		if (vm.child[i].done && !vm.child[i].argv)
			c = &vm.child[i]; /* a finished process's slot (reboots) */
	if (!c && vm.nchild == MAX_CHILDREN)
		return NULL;
	pid_t pid = fork_exec(argv, keep_fd, keep_fd2, stdin_fd);
	if (pid < 0)
		return NULL;
	if (!c) {
		c = &vm.child[vm.nchild++];
		memset(c, 0, sizeof(*c));
	}
	if ((strcmp(role, "dev") == 0 || strcmp(role, "jit") == 0) && !c->argv) {
		int n = 0;
		while (argv[n])
			n++;
		c->argv = calloc((size_t)n + 1, sizeof(char *));
		for (int i = 0; c->argv && i < n; i++)
			c->argv[i] = strdup(argv[i]);
		c->stdin_fd = stdin_fd;
		c->keep_fd = keep_fd;
		c->keep_fd2 = keep_fd2;
	}
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->role = role;
	c->pid = pid;
	c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	c->done = 0;
	return c;
}

static struct child *spawn(const char *role, const char *name, char **argv, int keep_fd,
			   int stdin_fd)
{
	return spawn2(role, name, argv, keep_fd, -1, stdin_fd);
}

static void describe_exit(const struct child *c, int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "%s (pid %d) was killed by signal %d (%s)", c->name, (int)c->pid,
			 WTERMSIG(status),
			 sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?");
	else
		snprintf(buf, len, "%s (pid %d) exited with status %d", c->name, (int)c->pid,
			 WEXITSTATUS(status));
}

/* Starts dead child `c` (a device or shoal-jit) again with the same
 * arguments, unless it died DEV_RESTART_MAX times within
 * DEV_RESTART_WINDOW_S seconds. Returns 0, or -1 when it is given up on. */
static int restart_child(struct child *c)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (c->window_restarts == 0 ||
	    now.tv_sec - c->window_start.tv_sec >= DEV_RESTART_WINDOW_S) {
		c->window_start = now;
		c->window_restarts = 0;
	}
	if (++c->window_restarts > DEV_RESTART_MAX || !c->argv)
		return -1;
	c->restarts++;
	pid_t pid = fork_exec(c->argv, c->keep_fd, c->keep_fd2, c->stdin_fd);
	if (pid < 0)
		return -1;
	c->pid = pid;
	c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	c->done = 0;
	return 0;
}

/* Stops children of `role` (NULL: all): SIGTERM (or `sig`), then SIGKILL after
 * `grace_ms`. Reaps them. */
static void stop_children(const char *role, int sig, int grace_ms)
{
	for (int i = 0; i < vm.nchild; i++) {
		struct child *c = &vm.child[i];
		if (!c->done && (!role || strcmp(c->role, role) == 0))
			kill(c->pid, sig);
	}
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < vm.nchild; i++) {
		struct child *c = &vm.child[i];
		if (c->done || (role && strcmp(c->role, role) != 0))
			continue;
		for (;;) {
			struct timespec t;
			clock_gettime(CLOCK_MONOTONIC, &t);
			long el =
			    (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
			struct pollfd p = {.fd = c->pidfd, .events = POLLIN};
			if (c->pidfd < 0 ||
			    poll(&p, 1, el >= grace_ms ? 0 : (int)(grace_ms - el)) != 0)
				break;
			kill(c->pid, SIGKILL);
			break;
		}
		waitpid(c->pid, NULL, 0);
		if (c->pidfd >= 0)
			close(c->pidfd);
		c->pidfd = -1;
		c->done = 1;
	}
}

static void teardown(void)
{
	if (vm.ctl)
		zmq_close(vm.ctl);
	if (vm.zctx)
		zmq_ctx_term(vm.zctx);
	vm.ctl = vm.zctx = NULL;
	stop_children("cpu", SIGKILL, 1000);
	stop_children("dev", SIGTERM, 2000);
	stop_children(NULL, SIGTERM, 2000);
	remove_rundir();
}

static __attribute__((noreturn)) void die_cleanly(int status)
{
	struct jitstats js;
	if (vm.stats && vm.jit && jitstats_read(vm.rundir, vm.smp, &js) == 0)
		jitstats_print(stderr, &js);
	teardown();
	console_restore();
	exit(status);
}

static void ensure_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			int n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
			if (n >= 0 && n != fd) {
				dup2(n, fd);
				close(n);
			}
		}
}

static void ctl_reply_error(const void *ident, size_t il, uint64_t id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void ctl_reply_error(const void *ident, size_t il, uint64_t id, const char *fmt, ...)
{
	struct proto_msg e = {.op = OP_ERROR, .id = id};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e.error, sizeof(e.error), fmt, ap);
	va_end(ap);
	zmsg_send(vm.ctl, ident, il, &e);
}

static void ctl_status(const void *ident, size_t il, uint64_t id);

/* Serves every request waiting on the control socket (shoal ctl). */
static void ctl_serve(void)
{
	for (;;) {
		int ev = 0;
		size_t evl = sizeof(ev);
		if (!vm.ctl || zmq_getsockopt(vm.ctl, ZMQ_EVENTS, &ev, &evl) || !(ev & ZMQ_POLLIN))
			return;
		char ident[256], why[128];
		size_t il = 0;
		struct proto_msg m;
		int r = zmsg_recv(vm.ctl, ident, &il, &m, ZMQ_DONTWAIT, why, sizeof(why));
		if (r == -EPROTO) {
			ctl_reply_error(ident, il, 0, "%s", why);
			continue;
		}
		if (r)
			return;
		if (m.op != OP_CTL) {
			ctl_reply_error(ident, il, m.id, "op '%s' is not a control request",
					proto_op_name(m.op));
			continue;
		}
		if (strcmp(m.cmd, "status") == 0) {
			ctl_status(ident, il, m.id);
			continue;
		}
		if (strcmp(m.cmd, "kill-device") == 0) {
			char want[64 + PROTO_STR_MAX];
			snprintf(want, sizeof(want), "shoal-dev[%s]", m.name);
			struct child *c = NULL;
			for (int i = 0; i < vm.nchild; i++)
				if (!vm.child[i].done && strcmp(vm.child[i].name, want) == 0)
					c = &vm.child[i];
			if (!c) {
				ctl_reply_error(ident, il, m.id,
						"no device named '%s' (see 'status')", m.name);
				continue;
			}
			log_info("shoal ctl: killing %s (pid %d)", c->name, (int)c->pid);
			kill(c->pid, SIGKILL);
		} else if (strcmp(m.cmd, "pause") == 0 || strcmp(m.cmd, "resume") == 0) {
			vm.paused = strcmp(m.cmd, "pause") == 0;
			for (int i = 0; i < vm.nchild; i++)
				if (!vm.child[i].done && strcmp(vm.child[i].role, "cpu") == 0)
					kill(vm.child[i].pid, vm.paused ? SIGSTOP : SIGCONT);
		} else {
			ctl_reply_error(ident, il, m.id,
					"unknown command '%s' (status, kill-device, pause, resume)",
					m.cmd);
			continue;
		}
		struct proto_msg done = {.op = OP_CTL_DONE, .id = m.id};
		snprintf(done.kind, sizeof(done.kind), "%s", vm.paused ? "paused" : "running");
		zmsg_send(vm.ctl, ident, il, &done);
	}
}

/* Opens TAP interface `ifname` (created if missing; needs CAP_NET_ADMIN
 * unless it exists and belongs to us). Returns the fd or -1 with a reason. */
static int tap_open(const char *ifname, char *why, size_t why_len)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, why_len, "/dev/net/tun: %s", strerror(errno));
		return -1;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		snprintf(why, why_len, "tap %s: %s", ifname, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Sets up device `d`'s backend: for user networking a shoal-net process on
 * one end of a SOCK_SEQPACKET pair, for TAP the interface. Returns the fd
 * the device inherits as fd 3 (shoal keeps it for restarts), or -1 when it
 * needs none. Exits with status 2 if the backend cannot be had. */
static int net_backend(const struct dev_spec *d)
{
	if (d->net == NET_TAP) {
		char why[256];
		int fd = tap_open(d->ifname, why, sizeof(why));
		if (fd < 0) {
			log_err("--net: %s", why);
			die_cleanly(2);
		}
		return fd;
	}
	if (d->net != NET_USER)
		return -1;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_err("socketpair: %s", strerror(errno));
		die_cleanly(1);
	}
	char *argv[4 + 2 * 8] = {"shoal-net", "--name", (char *)d->name};
	int na = 3;
	for (unsigned i = 0; i < d->nhostfwd; i++) {
		argv[na++] = "--hostfwd";
		argv[na++] = (char *)d->hostfwd[i];
	}
	argv[na] = NULL;
	char cname[64];
	snprintf(cname, sizeof(cname), "shoal-net[%s]", d->name);
	if (!spawn("dev", cname, argv, sv[1], -1)) {
		log_err("cannot start %s", cname);
		die_cleanly(1);
	}
	return sv[0];
}

/* What starting (and restarting, at a guest reboot) the harts needs. */
static struct {
	int firmware; /* OpenSBI + Linux Image, or a bare-metal ELF */
	struct fw_boot fwb;
	struct elf_image img;
	struct guest_ram ram;
	char rompath[PATH_MAX + 32];
	char entry[32], tohost[32], nodes[16];
	char devspec[DEV_MAX][PATH_MAX + 128];
} boot;

/* status: one ctl_proc per live process and per guest RAM node (placement
 * checked with move_pages on shoal's own mapping), then ctl_done. */
static void ctl_status(const void *ident, size_t il, uint64_t id)
{
	uint64_t sent = 0;
	for (int i = 0; i < vm.nchild; i++) {
		const struct child *c = &vm.child[i];
		if (c->done)
			continue;
		struct proto_msg p = {.op = OP_CTL_PROC,
				      .id = id,
				      .value = (uint64_t)c->pid,
				      .index = c->restarts,
				      .size = ctl_proc_rss(c->pid),
				      .node = ctl_proc_node(c->pid)};
		snprintf(p.name, sizeof(p.name), "%s", c->name);
		snprintf(p.kind, sizeof(p.kind), "%s", c->role);
		zmsg_send(vm.ctl, ident, il, &p);
		sent++;
	}
	uint64_t off = 0;
	unsigned nodes = vm.nnodes ? vm.nnodes : 1;
	for (unsigned n = 0; n < nodes && boot.ram.host; n++) {
		struct proto_msg p = {.op = OP_CTL_PROC,
				      .id = id,
				      .value = (uint64_t)vm.mem_pid,
				      .size = vm.node[n].mem,
				      .node = ctl_ram_node(boot.ram.host + off, vm.node[n].mem)};
		snprintf(p.name, sizeof(p.name), "guest RAM node %u", n);
		snprintf(p.kind, sizeof(p.kind), "ram");
		zmsg_send(vm.ctl, ident, il, &p);
		off += vm.node[n].mem;
		sent++;
	}
	struct jitstats js;
	if (vm.jit && jitstats_read(vm.rundir, vm.smp, &js) == 0) {
		const struct {
			const char *name;
			uint64_t v;
		} st[] = {
		    {"jit.generation", js.generation},
		    {"jit.compiled", js.stats.compiled},
		    {"jit.recompiled", js.stats.recompiled},
		    {"jit.refused", js.stats.refused},
		    {"jit.guest_insns", js.stats.guest_insns},
		    {"jit.cache_bytes", js.code_bytes},
		    {"jit.requests", js.stats.requests},
		    {"jit.put_off", js.stats.put_off},
		    {"jit.lookups", js.lookups},
		    {"jit.hits", js.hits},
		    {"jit.bound", js.installs},
		    {"jit.stale", js.stale},
		    {"jit.instret", js.instret},
		    {"jit.interp_insns", js.interp},
		    {"jit.compile_p50_ns", js.p50_ns},
		    {"jit.compile_p99_ns", js.p99_ns},
		    {"jit.compile_block_p50_ns", js.blk_p50_ns},
		    {"jit.compile_block_p99_ns", js.blk_p99_ns},
		};
		for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
			struct proto_msg p = {.op = OP_CTL_STAT, .id = id, .value = st[i].v};
			snprintf(p.name, sizeof(p.name), "%s", st[i].name);
			zmsg_send(vm.ctl, ident, il, &p);
		}
	}
	struct proto_msg done = {.op = OP_CTL_DONE, .id = id, .value = sent};
	snprintf(done.kind, sizeof(done.kind), "%s", vm.paused ? "paused" : "running");
	zmsg_send(vm.ctl, ident, il, &done);
}

/* Puts the guest's images in RAM: firmware, kernel, initrd and device tree,
 * or the ELF's segments. */
static void load_images(void)
{
	if (boot.firmware)
		fw_boot_load(&boot.fwb, &boot.ram);
	else
		elf_load(&boot.img, boot.ram.host, RAM_BASE);
}

/* Starts one shoal-cpu per hart. */
static void spawn_cpus(void)
{
	for (uint32_t h = 0; h < vm.smp; h++) {
		char hid[16], name[40];
		snprintf(hid, sizeof(hid), "%u", h);
		snprintf(name, sizeof(name), "shoal-cpu[%u]", h);
		char *cpuargv[20 + 2 * DEV_MAX] = {
		    "shoal-cpu", "--hart",  hid,	"--mem-sock", vm.memsock, "--ram-nodes",
		    boot.nodes,	 "--entry", boot.entry, "--tohost",   boot.tohost};
		int na = 11;
		for (size_t i = 0; i < vm.devs.n; i++) {
			cpuargv[na++] = "--dev";
			cpuargv[na++] = boot.devspec[i];
		}
		if (boot.firmware) {
			cpuargv[na++] = "--rom";
			cpuargv[na++] = boot.rompath;
		}
		if (vm.jit) {
			cpuargv[na++] = "--jit";
			cpuargv[na++] = vm.rundir;
			cpuargv[na++] = "--jit-threshold";
			cpuargv[na++] = vm.jit_threshold;
			cpuargv[na++] = "--jit-sync";
			cpuargv[na++] = vm.jit_sync ? "1" : "0";
		}
		cpuargv[na] = NULL;
		if (!spawn("cpu", name, cpuargv, -1, -1)) {
			log_err("cannot start %s", name);
			die_cleanly(1);
		}
	}
}

/* The guest asked for a reset (syscon 0x7777): stop every hart, put the
 * board and the images back as at power-on and start the harts again.
 * Device processes keep running (a reset re-initialises them through their
 * registers; the RTC keeps its time, as a real one would). */
static void reboot_vm(void)
{
	stop_children("cpu", SIGKILL, 1000);
	board_reset(vm.board);
	load_images();
	log_debug("guest reboot");
	spawn_cpus();
}

int main(int argc, char **argv)
{
	log_init("shoal");
	ensure_std_fds();
	parse_args(argc, argv);

	char why[512];
	int r;
	boot.firmware = strcmp(vm.bios, "none") != 0;
	if (boot.firmware) {
		fw_boot_prepare(&boot.fwb);
	} else {
		r = elf_open(vm.kernel, RAM_BASE, vm.mem, &boot.img, why, sizeof(why));
		if (r)
			bad_input(vm.kernel, "%s", why);
	}

	ssize_t bl = readlink("/proc/self/exe", vm.bindir, sizeof(vm.bindir) - 1);
	if (bl <= 0) {
		log_err("cannot find my own binary: %s", strerror(errno));
		return 1;
	}
	vm.bindir[bl] = 0;
	*strrchr(vm.bindir, '/') = 0;

	/* From here on, signals are read from a signalfd and every exit path
	 * tears the VM down. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigdelset(&set, SIGCHLD);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	signal(SIGPIPE, SIG_IGN);

	r = make_rundir();
	if (!r)
		console_start();
	if (r) {
		if (r != -EEXIST)
			log_err("cannot create the run directory: %s", strerror(-r));
		return 1;
	}
	char ctl_endpoint[PATH_MAX + 32];
	snprintf(ctl_endpoint, sizeof(ctl_endpoint), "ipc://%s/ctl.sock", vm.rundir);
	vm.zctx = zmq_ctx_new();
	vm.ctl = vm.zctx ? zmsg_router(vm.zctx, ctl_endpoint) : NULL;
	if (!vm.ctl) {
		log_err("cannot bind the control socket %s: %s", ctl_endpoint, zmq_strerror(errno));
		die_cleanly(1);
	}
	int ctl_fd = -1;
	size_t ctl_fd_len = sizeof(ctl_fd);
	zmq_getsockopt(vm.ctl, ZMQ_FD, &ctl_fd, &ctl_fd_len);

	int lfd = fdpass_listen(vm.memsock);
	if (lfd < 0) {
		log_err("cannot listen on %s: %s", vm.memsock, strerror(-lfd));
		die_cleanly(1);
	}
	char harts[16], ramarg[NUMA_MAX_NODES][48], nshadow[16];
	unsigned nodes = vm.nnodes ? vm.nnodes : 1;
	snprintf(harts, sizeof(harts), "%u", vm.smp);
	char *memargv[10 + 2 * NUMA_MAX_NODES] = {
	    "shoal-mem",  "--listen-fd",	  "3", "--harts", harts, "--shadows", nshadow,
	    "--prealloc", vm.prealloc ? "1" : "0"};
	snprintf(nshadow, sizeof(nshadow), "%u", vm.devs.nshadow);
	int na = 9;
	for (unsigned i = 0; i < nodes; i++) {
		if (vm.node[i].host_node >= 0)
			snprintf(ramarg[i], sizeof(ramarg[i]), "%llu@%d",
				 (unsigned long long)vm.node[i].mem, vm.node[i].host_node);
		else
			snprintf(ramarg[i], sizeof(ramarg[i]), "%llu",
				 (unsigned long long)vm.node[i].mem);
		memargv[na++] = "--ram";
		memargv[na++] = ramarg[i];
	}
	memargv[na] = NULL;
	struct child *memchild = spawn("mem", "shoal-mem", memargv, lfd, -1);
	if (memchild)
		vm.mem_pid = memchild->pid;
	if (!memchild) {
		log_err("cannot start shoal-mem");
		die_cleanly(1);
	}
	close(lfd);

	int ms = memclient_connect(vm.memsock);
	struct guest_ram ram;
	uint64_t bsz;
	if (ms < 0 || memclient_map_ram(ms, nodes, &ram, why, sizeof(why)) ||
	    !(vm.board = memclient_map_region(ms, REGION_BOARD, 0, &bsz, why, sizeof(why)))) {
		log_err("cannot set up guest memory: %s", ms < 0 ? strerror(-ms) : why);
		die_cleanly(1);
	}
	close(ms);
	boot.ram = ram;

	snprintf(boot.nodes, sizeof(boot.nodes), "%u", nodes);
	for (size_t i = 0; i < vm.devs.n; i++) {
		const struct dev_spec *d = &vm.devs.dev[i];
		char endpoint[PATH_MAX + 64], irq[16], shadow[16], cname[64];
		snprintf(endpoint, sizeof(endpoint), "ipc://%s/dev-%s.sock", vm.rundir, d->name);
		snprintf(irq, sizeof(irq), "%u", d->irq);
		snprintf(shadow, sizeof(shadow), "%d", d->shadow);
		snprintf(cname, sizeof(cname), "shoal-dev[%s]", d->name);
		char *devargv[20] = {
		    "shoal-dev",  "--type", (char *)d->type, "--name",	 (char *)d->name,
		    "--endpoint", endpoint, "--mem-sock",    vm.memsock, "--irq",
		    irq,	  NULL};
		int na = 11;
		if (d->shadow >= 0) {
			devargv[na++] = "--shadow";
			devargv[na++] = shadow;
		}
		if (d->needs_ram) {
			devargv[na++] = "--ram-nodes";
			devargv[na++] = boot.nodes;
		}
		if (d->args[0]) {
			devargv[na++] = "--args";
			devargv[na++] = (char *)d->args;
		}
		devargv[na] = NULL;
		int fds[2] = {net_backend(d), -1};
		if (d->vcon) {
			char path[PATH_MAX + 64];
			snprintf(path, sizeof(path), "%s/%s.sock", vm.rundir, d->name);
			int e = vcon_relay_open(&vm.vcon, path, fds);
			if (e < 0) {
				log_err("cannot make the virtio-console socket %s: %s", path,
					strerror(-e));
				die_cleanly(1);
			}
		}
		if (!spawn2("dev", cname, devargv, fds[0], fds[1], d->console ? con.dev_in : -1)) {
			log_err("cannot start the %s device", d->name);
			die_cleanly(1);
		}
		snprintf(boot.devspec[i], sizeof(boot.devspec[i]), "%s,0x%llx,0x%llx,%s,%s,%u",
			 d->name, (unsigned long long)d->base, (unsigned long long)d->size,
			 endpoint, d->shadow >= 0 ? shadow : "-", d->irq);
	}
	if (vm.jit) {
		char *jitargv[] = {"shoal-jit", "--mem-sock", vm.memsock, "--ram-nodes",
				   boot.nodes,	"--dir",      vm.rundir,  NULL};
		if (!spawn("jit", "shoal-jit", jitargv, -1, -1)) {
			log_err("cannot start shoal-jit");
			die_cleanly(1);
		}
	}
	snprintf(boot.entry, sizeof(boot.entry), "0x%llx",
		 (unsigned long long)(boot.firmware ? BOOT_ROM_BASE : boot.img.entry));
	snprintf(boot.tohost, sizeof(boot.tohost), "0x%llx",
		 (unsigned long long)(boot.img.tohost ? boot.img.tohost : 1));
	if (boot.firmware)
		snprintf(boot.rompath, sizeof(boot.rompath), "%s/bootrom.bin", vm.rundir);
	spawn_cpus();
	/* The images go in while the devices, shoal-jit and the vCPUs start
	 * up; the vCPUs wait for them before their first instruction. */
	load_images();
	if (boot.firmware) {
		r = write_rom(&boot.fwb, boot.rompath);
		if (r) {
			log_err("cannot write the boot ROM in %s: %s", vm.rundir, strerror(-r));
			die_cleanly(1);
		}
	}
	board_images_ready(vm.board);

	/* Supervise. */
	for (;;) {
		struct pollfd pfd[MAX_CHILDREN + 8];
		int idx[MAX_CHILDREN + 8], n = 0;
		pfd[n] = (struct pollfd){.fd = sfd, .events = POLLIN};
		idx[n++] = -1;
		int con_slot = -1;
		if (con.active && con.to_dev >= 0) {
			con_slot = n;
			pfd[n] = (struct pollfd){.fd = 0, .events = POLLIN};
			idx[n++] = -1;
		}
		/* ZMQ_FD only signals that ZMQ_EVENTS may have changed: serve
		 * before sleeping and after every wake-up. */
		ctl_serve();
		pfd[n] = (struct pollfd){.fd = ctl_fd, .events = POLLIN};
		idx[n++] = -1;
		if (vm.vcon_on) {
			int first = n;
			vcon_relay_fill(&vm.vcon, pfd, &n);
			for (int k = first; k < n; k++)
				idx[k] = -1;
		}
		for (int i = 0; i < vm.nchild; i++)
			if (!vm.child[i].done) {
				pfd[n] = (struct pollfd){.fd = vm.child[i].pidfd, .events = POLLIN};
				idx[n++] = i;
			}
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err("poll: %s", strerror(errno));
			die_cleanly(1);
		}
		if (pfd[0].revents) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				log_err("stopped by signal %u (%s)", si.ssi_signo,
					sigabbrev_np((int)si.ssi_signo));
				die_cleanly(128 + (int)si.ssi_signo);
			}
		}
		if (con_slot > 0 && pfd[con_slot].revents)
			console_input();
		ctl_serve();
		if (vm.vcon_on)
			vcon_relay_service(&vm.vcon, pfd);
		for (int k = 1; k < n; k++) {
			if (!pfd[k].revents || idx[k] < 0)
				continue;
			struct child *c = &vm.child[idx[k]];
			int status = 0;
			if (waitpid(c->pid, &status, WNOHANG) <= 0)
				continue;
			c->done = 1;
			close(c->pidfd);
			c->pidfd = -1;
			uint32_t state = __atomic_load_n(&vm.board->state, __ATOMIC_ACQUIRE);
			int clean = strcmp(c->role, "cpu") == 0 && WIFEXITED(status) &&
				    WEXITSTATUS(status) == 0;
			if (clean && state == BOARD_SHUTDOWN)
				die_cleanly(vm.board->exit_code);
			if (clean && state == BOARD_REBOOT) {
				reboot_vm();
				break; /* the poll set changed */
			}
			char what[256];
			describe_exit(c, status, what, sizeof(what));
			if (strcmp(c->role, "jit") == 0) {
				/* Never a failure of the VM. While it powers off there
				 * is no point in a new one; otherwise the harts drop
				 * its cache and interpret until the new one answers. */
				if (state != BOARD_RUNNING && state != BOARD_REBOOT)
					continue;
				__atomic_fetch_add(&vm.board->jit_epoch, 1, __ATOMIC_ACQ_REL);
				if (restart_child(c) == 0) {
					log_info("%s; restarted it as pid %d with an empty cache",
						 what, (int)c->pid);
					break;
				}
				log_err("%s; it died %d times in %d s: interpreting from now on",
					what, DEV_RESTART_MAX, DEV_RESTART_WINDOW_S);
				continue;
			}
			if (strcmp(c->role, "dev") == 0 && state == BOARD_SHUTDOWN) {
				/* The guest is powering off: the vCPUs' clean exit
				 * ends the VM with its status, which a device dying
				 * now must not turn into a failure. */
				log_info("%s while the guest powers off", what);
				continue;
			}
			/* While the guest reboots (its harts on their way out, then
			 * new ones) a device comes back as while it runs: the
			 * reboot keeps the devices. */
			if (strcmp(c->role, "dev") == 0 &&
			    (state == BOARD_RUNNING || state == BOARD_REBOOT)) {
				if (restart_child(c) == 0) {
					log_info("%s; restarted it as pid %d (restart %u)", what,
						 (int)c->pid, c->restarts);
					break; /* the poll set changed */
				}
				log_err("%s; it died %d times in %d s: stopping the VM", what,
					DEV_RESTART_MAX, DEV_RESTART_WINDOW_S);
				die_cleanly(1);
			}
			log_err("%s; stopping the VM", what);
			die_cleanly(1);
		}
	}
}
