/*
 * The daemon's private message bus: a real `dbus-daemon --session` of its
 * own, so that D-Bus calls cross a real broker without touching the host's
 * buses. It dies with the daemon (PR_SET_PDEATHSIG) even on a crash.
 */
#ifndef REF_BUS_H
#define REF_BUS_H

#include <stdbool.h>
#include <sys/types.h>

struct ref_bus {
	pid_t pid;              /* 0 when not running */
	char *address;          /* what clients connect to */
};

/* Starts dbus-daemon and reads its address: 0 or -errno. Its stderr goes to
 * ours only when VERBOSE: it warns about fd limits that do not matter here.
 * Call it from the thread that lives longest (the death signal follows the
 * forking thread). */
int ref_bus_start(struct ref_bus *bus, bool verbose);

/* Stops dbus-daemon (SIGTERM, then SIGKILL after 2 s) and frees the address.
 * Accepts a bus that never started. */
void ref_bus_stop(struct ref_bus *bus);

#endif /* REF_BUS_H */
