/* virtscope: observability for virtualization daemons. This file only parses
 * the global options and dispatches to a subcommand (cmd_<name>.c). */
#include <stdio.h>
#include <string.h>

#include "../collectors/collector.h"
#include "../lib/log.h"
#include "commands.h"

#ifndef VS_VERSION
#define VS_VERSION "0.1"
#endif

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const struct command commands[] = {
	{ "profile", cmd_profile, "sample on-CPU stacks of a daemon as folded stacks" },
	{ "flame", cmd_flame, "draw folded stacks as an interactive flame graph (SVG)" },
	{ "trace", cmd_trace, "print each lock, operation, D-Bus call, fork... of a daemon" },
	{ "locks", cmd_locks, "lock waits and holds per lock, and who waited for whom" },
	{ "ops", cmd_ops, "RPC, D-Bus, QEMU monitor and keepalive latency of a daemon" },
	{ "offcpu", cmd_offcpu, "off-CPU time per thread and reason, wakers, main-loop stalls" },
	{ "forks", cmd_forks, "forks per operation, their cost, call paths, and each child's fate" },
	{ "top", cmd_top, "the daemon live: threads, domains, locks, RPCs, D-Bus, forks, stalls" },
	{ "record", cmd_record, "record every event of a daemon to a file, or the last ones (--ring)" },
	{ "report", cmd_report, "the post-mortem of a recording: slowest operations, stalls, chains" },
	{ "export", cmd_export, "a recording as Perfetto/Chrome trace, speedscope or pprof" },
	{ "help", cmd_help, "show this help" },
	{ "version", cmd_version, "show the version" },
};

static void print_usage(FILE *f)
{
	fputs("Usage: virtscope [-v]... COMMAND [ARGS]\n\nCommands:\n", f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\nCollectors:\n", f);
	for (size_t i = 0; vs_collector_at(i); i++)
		fprintf(f, "  %-10s %s\n", vs_collector_at(i)->name, vs_collector_at(i)->summary);
	fputs("\nRun 'virtscope COMMAND --help' for a command's options.\n", f);
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	print_usage(stdout);
	return VS_EXIT_OK;
}

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("virtscope %s\n", VS_VERSION);
	return VS_EXIT_OK;
}

int main(int argc, char **argv)
{
	int level = VS_LOG_WARN, i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return cmd_help(0, NULL);
		if (!strcmp(a, "--version"))
			return cmd_version(0, NULL);
		if (!strcmp(a, "--verbose")) {
			level++;
			continue;
		}
		if (a[1] == 'v' && strspn(a + 1, "v") == strlen(a + 1)) {
			level += (int)strlen(a + 1);
			continue;
		}
		pr_err("unknown option '%s' (see 'virtscope help')", a);
		return VS_EXIT_USAGE;
	}
	if (level > VS_LOG_TRACE)
		level = VS_LOG_TRACE;
	vs_log_set_level((enum vs_log_level)level);
	vs_log_route_libbpf();
	if (i == argc) {
		print_usage(stderr);
		return VS_EXIT_USAGE;
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(argv[i], commands[c].name))
			return commands[c].run(argc - i, argv + i);
	pr_err("unknown command '%s' (see 'virtscope help')", argv[i]);
	return VS_EXIT_USAGE;
}
