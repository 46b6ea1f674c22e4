/* The subcommands, one file each (cmd_<name>.c), dispatched from main.c.
 * Each takes the arguments after its own name (argv[0] is the name) and
 * returns the process exit status: 0 success, 1 failure at run time, 2 bad
 * usage or bad input. */
#ifndef VS_COMMANDS_H
#define VS_COMMANDS_H

#include <stdint.h>
#include <sys/types.h>

enum {
	VS_EXIT_OK = 0,
	VS_EXIT_FAILURE = 1,
	VS_EXIT_USAGE = 2,
};

int cmd_profile(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_locks(int argc, char **argv);
int cmd_flame(int argc, char **argv);

/* `profile`'s options, parsed apart from running so that tests can check
 * the parsing alone. */
struct profile_args {
	pid_t pid;           /* 0 when --daemon names the target */
	const char *daemon;
	uint32_t freq_hz;
	uint64_t duration_ns; /* 0: until interrupted */
	pid_t tid;
	const char *output;  /* NULL: stdout */
	int unwind;          /* enum vs_unwind_mode */
	int children;
	int help;
};

/* 0, or VS_EXIT_USAGE with a one-line reason in err. */
int profile_parse_args(int argc, char **argv, struct profile_args *args, char *err,
		       size_t errlen);

#endif
