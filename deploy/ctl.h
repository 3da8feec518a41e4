/** @file
 * `shoal ctl`: the client of a running VM's control socket, and the facts
 * the control server reports about processes and memory. */
#ifndef SHOAL_CTL_H
#define SHOAL_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/** Runs `shoal ctl VM status [--json] | kill-device NAME | pause | resume`
 * (argv[0] is "shoal", argv[1] "ctl"). Returns the exit status: 0 done, 1
 * the VM refused or failed, 2 bad usage or no such VM. */
int ctl_main(int argc, char **argv);

/** The directory holding every VM's run directory (created if missing,
 * checked to be private): $XDG_RUNTIME_DIR/shoal or /tmp/shoal-UID.
 * Returns 0 or a negative errno. */
int ctl_run_base(char *buf, size_t len, int create);

/** Resident bytes of process `pid` (VmRSS), 0 if unknown. */
uint64_t ctl_proc_rss(pid_t pid);

/** The host NUMA node holding most of process `pid`'s resident pages (from
 * /proc/PID/numa_maps), or -1 if unknown. */
int ctl_proc_node(pid_t pid);

/** The host NUMA node of [addr, addr + len) in this process, checked with
 * move_pages on up to 64 pages spread over it: the node, or -1 if the
 * pages are on different nodes or cannot be queried. */
int ctl_ram_node(const void *addr, uint64_t len);

#endif
