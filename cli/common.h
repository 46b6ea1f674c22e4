/* What the subcommands share: choosing the target, checking privileges,
 * signals, and opening output files safely. */
#ifndef VS_CLI_COMMON_H
#define VS_CLI_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "../collectors/target.h"

/* Longest accepted -d: a week. Longer runs are surely a typo. */
#define VS_MAX_DURATION_NS (7ULL * 24 * 3600 * 1000000000ULL)

/* Parses -p's value (a positive pid) into *pid; 0 or -EINVAL/-ERANGE. */
int vs_parse_pid(const char *s, pid_t *pid);

/* Opens the target named by pid, or by daemon name when pid is 0, printing a
 * one-line error on failure. 0 or VS_EXIT_USAGE. */
int vs_cli_open_target(pid_t pid, const char *daemon, struct vs_target *t);

/* Checks the effective capabilities that attaching BPF programs needs, and
 * prints which one is missing. 0 or VS_EXIT_FAILURE. */
int vs_cli_check_privileges(const char *command);

/* Makes SIGINT and SIGTERM stop the session (without SA_RESTART, so a
 * blocking wait returns at once). */
void vs_cli_handle_signals(void);

/* Opens an output file for writing: created with mode 0600, never through a
 * symlink. "-" or NULL is stdout. NULL with an error printed on failure. */
FILE *vs_cli_open_output(const char *path);

/* Closes what vs_cli_open_output() opened; 0 or -EIO when the data did not
 * reach the file. */
int vs_cli_close_output(FILE *f);

/* The shape every subcommand that observes one process shares: open the
 * target (by pid, or by daemon name when pid is 0), run the optional check,
 * check privileges, open the output, hand both to run() (which owns the
 * target from then on), and close the output. Returns the exit status. */
struct vs_cli_observer {
	const char *command; /* for messages: "profile" */
	pid_t pid;
	const char *daemon;
	const char *output;  /* NULL: stdout */
	int line_buffered;   /* flush the output at each line (live streams) */
	int (*check)(const struct vs_target *t, void *arg);
	int (*run)(void *arg, struct vs_target *t, FILE *out);
	void *arg;
};

int vs_cli_observe(const struct vs_cli_observer *o);

#endif
