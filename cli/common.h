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

/* The options every subcommand that observes a process takes. */
struct vs_cli_target_opts {
	pid_t pid;            /* 0 when daemon names the target */
	const char *daemon;
	uint64_t duration_ns; /* 0: until interrupted */
	const char *output;   /* NULL: stdout */
	int help;
};

/* The short options and long options those are, for a command's tables. */
#define VS_CLI_TARGET_SHORTOPTS "p:d:o:h"
#define VS_CLI_TARGET_LONGOPTS                                   \
	{ "pid", required_argument, NULL, 'p' },                 \
	{ "daemon", required_argument, NULL, 'D' },              \
	{ "duration", required_argument, NULL, 'd' },            \
	{ "output", required_argument, NULL, 'o' },              \
	{ "help", no_argument, NULL, 'h' }

enum { VS_CLI_OPT_TAKEN = 0, VS_CLI_OPT_OTHER = 1 };

/* Takes getopt's opt when it is one of those (or a missing value or an
 * unknown option): VS_CLI_OPT_TAKEN, VS_CLI_OPT_OTHER when the command must
 * handle it, or VS_EXIT_USAGE with a one-line reason in err. */
int vs_cli_target_option(int opt, const char *arg, char **argv, struct vs_cli_target_opts *t,
			 char *err, size_t errlen);

/* After the options: no leftover argument, and exactly one of -p and
 * --daemon unless help was asked for. 0 or VS_EXIT_USAGE. */
int vs_cli_target_done(int argc, char **argv, const struct vs_cli_target_opts *t, char *err,
		       size_t errlen);

/* Parses milliseconds (fractions allowed, up to max_ms) into ns, at least
 * 1 ns so that 0 still means "every one". 0 or -EINVAL/-ERANGE. */
int vs_parse_ms(const char *s, uint64_t max_ms, uint64_t *out_ns);

/* Parses -p's value (a positive pid) into *pid; 0 or -EINVAL/-ERANGE. */
int vs_parse_pid(const char *s, pid_t *pid);

/* Opens the target named by pid, or by daemon name when pid is 0, printing a
 * one-line error on failure. 0 or VS_EXIT_USAGE. */
int vs_cli_open_target(pid_t pid, const char *daemon, struct vs_target *t);

/* Checks the effective capabilities that attaching BPF programs needs, and
 * prints which one is missing. 0 or VS_EXIT_FAILURE. */
int vs_cli_check_privileges(const char *command);

/* The exit status for a session that would not start with rc: a target
 * that went away while being attached to, or that nothing knows how to
 * observe (no profile, none of the symbols a profile names), is a bad
 * argument (VS_EXIT_USAGE); anything else is a failure. */
int vs_cli_start_status(int rc);

/* Makes SIGINT and SIGTERM stop the session (without SA_RESTART, so a
 * blocking wait returns at once). */
void vs_cli_handle_signals(void);

/* Says on stderr how many events the session lost, if any: the figures
 * printed from it are partial. */
struct vs_session;
void vs_cli_warn_lost(struct vs_session *s);

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
	const struct vs_cli_target_opts *target;
	int line_buffered;   /* flush the output at each line (live streams) */
	int (*check)(const struct vs_target *t, void *arg);
	int (*run)(void *arg, struct vs_target *t, FILE *out);
	void *arg;
	const char *usage;       /* printed for --help */
	int parse_status;        /* the option parser's result */
	const char *parse_error; /* its reason, when parse_status is not 0 */
};

/* Reports a parse error, or prints the usage for --help, or observes. */
int vs_cli_observe(const struct vs_cli_observer *o);

#endif
