/* The subcommands, one file each (cmd_<name>.c), dispatched from main.c.
 * Each takes the arguments after its own name (argv[0] is the name) and
 * returns the process exit status: 0 success, 1 failure at run time, 2 bad
 * usage or bad input. */
#ifndef VS_COMMANDS_H
#define VS_COMMANDS_H

#include <stdint.h>
#include <sys/types.h>

#include "common.h"

enum {
	VS_EXIT_OK = 0,
	VS_EXIT_FAILURE = 1,
	VS_EXIT_USAGE = 2,
};

int cmd_profile(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_locks(int argc, char **argv);
int cmd_ops(int argc, char **argv);
int cmd_flame(int argc, char **argv);
int cmd_offcpu(int argc, char **argv);
int cmd_forks(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_export(int argc, char **argv);

/* `profile`'s options, parsed apart from running so that tests can check
 * the parsing alone. */
struct profile_args {
	struct vs_cli_target_opts t;
	uint32_t freq_hz;
	pid_t tid;
	int unwind;          /* enum vs_unwind_mode */
	int children;
};

/* 0, or VS_EXIT_USAGE with a one-line reason in err. */
int profile_parse_args(int argc, char **argv, struct profile_args *args, char *err,
		       size_t errlen);

#endif
