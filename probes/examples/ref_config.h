/* refdaemon's command line (probes/examples/README.md lists the options). */
#ifndef REF_CONFIG_H
#define REF_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

struct ref_config {
	const char *socket_path;
	uint64_t workers;
	uint64_t objects;
	const char *bus_address;        /* --bus: NULL starts a private bus */
	bool dbus;                      /* false with --no-dbus */
	bool dbus_hang;
	uint64_t dbus_timeout_ms;
	const char *helper;
	const char *caps_binary;
	uint64_t keepalive_interval_s;  /* 0: off */
	uint64_t keepalive_count;
	int ready_fd;                   /* -1: stdout only */
	bool verbose;
	bool exit_when_traced;          /* a daemon that dies under an attaching tracer */
};

/* Fills CFG from ARGV: 0, 1 when --help was printed, or -EINVAL after saying
 * why on stderr. */
int ref_config_parse(struct ref_config *cfg, int argc, char **argv);

#endif /* REF_CONFIG_H */
