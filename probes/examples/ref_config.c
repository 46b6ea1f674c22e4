/* refdaemon's options (see ref_config.h). */
#include "ref_config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "ref_util.h"

enum {
	OPT_BUS = 256, OPT_NO_DBUS, OPT_DBUS_HANG, OPT_DBUS_TIMEOUT, OPT_HELPER,
	OPT_CAPS_BINARY, OPT_KA_INTERVAL, OPT_KA_COUNT, OPT_READY_FD, OPT_EXIT_WHEN_TRACED,
};

static const struct option long_options[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "workers", required_argument, NULL, 'w' },
	{ "objects", required_argument, NULL, 'o' },
	{ "bus", required_argument, NULL, OPT_BUS },
	{ "no-dbus", no_argument, NULL, OPT_NO_DBUS },
	{ "dbus-hang", no_argument, NULL, OPT_DBUS_HANG },
	{ "dbus-timeout", required_argument, NULL, OPT_DBUS_TIMEOUT },
	{ "helper", required_argument, NULL, OPT_HELPER },
	{ "caps-binary", required_argument, NULL, OPT_CAPS_BINARY },
	{ "keepalive-interval", required_argument, NULL, OPT_KA_INTERVAL },
	{ "keepalive-count", required_argument, NULL, OPT_KA_COUNT },
	{ "ready-fd", required_argument, NULL, OPT_READY_FD },
	{ "exit-when-traced", no_argument, NULL, OPT_EXIT_WHEN_TRACED },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: refdaemon --socket PATH [options]\n"
		"  -s, --socket PATH           listen on this UNIX socket (required)\n"
		"  -w, --workers N             RPC worker threads (4)\n"
		"  -o, --objects K             lockable objects obj1..objK (8)\n"
		"      --bus ADDRESS           use this bus instead of a private dbus-daemon\n"
		"      --no-dbus               no bus and no peer: dbus requests fail\n"
		"      --dbus-hang             the peer never answers Sleep\n"
		"      --dbus-timeout MS       D-Bus call timeout when a request gives none (30000)\n"
		"      --helper PATH           what forks exec (/bin/true)\n"
		"      --caps-binary PATH      what caps looks up (the helper)\n"
		"      --keepalive-interval S  seconds of client silence per keepalive step, 0 off (5)\n"
		"      --keepalive-count N     steps before a silent client is dropped (5)\n"
		"      --ready-fd N            also write the ready line to fd N, then close it\n"
		"      --exit-when-traced      exit as soon as a tracer enables any probe\n"
		"  -v, --verbose               say more on stderr\n"
		"Prints \"ready pid=PID socket=PATH\" on stdout once listening; SIGTERM or\n"
		"SIGINT stops it cleanly.\n");
}

static int parse_opt_num(const char *name, const char *arg, uint64_t min, uint64_t max,
			 uint64_t *out)
{
	if (!ref_parse_u64(arg, min, max, out))
		return 0;
	ref_warn("bad %s '%s': expected %llu..%llu", name, arg, (unsigned long long)min,
		 (unsigned long long)max);
	return -EINVAL;
}

static int parse_one(struct ref_config *cfg, int opt, const char *arg)
{
	uint64_t fd;

	switch (opt) {
	case 's': cfg->socket_path = arg; return 0;
	case 'w': return parse_opt_num("--workers", arg, 1, 256, &cfg->workers);
	case 'o': return parse_opt_num("--objects", arg, 1, 100000, &cfg->objects);
	case OPT_BUS: cfg->bus_address = arg; return 0;
	case OPT_NO_DBUS: cfg->dbus = false; return 0;
	case OPT_DBUS_HANG: cfg->dbus_hang = true; return 0;
	case OPT_DBUS_TIMEOUT:
		return parse_opt_num("--dbus-timeout", arg, 1, 3600000, &cfg->dbus_timeout_ms);
	case OPT_HELPER: cfg->helper = arg; return 0;
	case OPT_CAPS_BINARY: cfg->caps_binary = arg; return 0;
	case OPT_KA_INTERVAL:
		return parse_opt_num("--keepalive-interval", arg, 0, 3600,
				     &cfg->keepalive_interval_s);
	case OPT_KA_COUNT:
		return parse_opt_num("--keepalive-count", arg, 0, 1000, &cfg->keepalive_count);
	case OPT_READY_FD:
		if (parse_opt_num("--ready-fd", arg, 0, 65535, &fd))
			return -EINVAL;
		cfg->ready_fd = (int)fd;
		return 0;
	case OPT_EXIT_WHEN_TRACED: cfg->exit_when_traced = true; return 0;
	case 'v': cfg->verbose = true; return 0;
	default: usage(stderr); return -EINVAL;
	}
}

int ref_config_parse(struct ref_config *cfg, int argc, char **argv)
{
	int opt;

	*cfg = (struct ref_config){
		.workers = 4,
		.objects = 8,
		.dbus = true,
		.dbus_timeout_ms = 30000,       /* libvirt's fixed D-Bus timeout */
		.helper = "/bin/true",
		.keepalive_interval_s = 5,      /* libvirt's defaults */
		.keepalive_count = 5,
		.ready_fd = -1,
	};
	while ((opt = getopt_long(argc, argv, "s:w:o:vh", long_options, NULL)) != -1) {
		if (opt == 'h') {
			usage(stdout);
			return 1;
		}
		if (parse_one(cfg, opt, optarg))
			return -EINVAL;
	}
	if (optind < argc) {
		ref_warn("unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (!cfg->socket_path) {
		ref_warn("--socket PATH is required");
		return -EINVAL;
	}
	if (!cfg->caps_binary)
		cfg->caps_binary = cfg->helper;
	return 0;
}
