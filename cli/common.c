/* Target selection, privilege checks, signals and output files for the
 * subcommands. These print: they are the CLI layer. */
#include "common.h"

#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../collectors/session.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "commands.h"

int vs_parse_pid(const char *s, pid_t *pid)
{
	uint64_t v;
	int rc = vs_parse_u64(s, 1, INT_MAX, &v);

	if (!rc)
		*pid = (pid_t)v;
	return rc;
}

int vs_cli_target_option(int opt, const char *arg, char **argv, struct vs_cli_target_opts *t,
			 char *err, size_t errlen)
{
	switch (opt) {
	case 'p':
		if (vs_parse_pid(arg, &t->pid))
			break;
		return VS_CLI_OPT_TAKEN;
	case 'D':
		if (!*arg) {
			snprintf(err, errlen, "empty daemon name");
			return VS_EXIT_USAGE;
		}
		t->daemon = arg;
		return VS_CLI_OPT_TAKEN;
	case 'd':
		if (vs_parse_seconds(arg, 1000000, VS_MAX_DURATION_NS, &t->duration_ns)) {
			snprintf(err, errlen, "invalid duration '%s': expected 0.001 to 604800 seconds",
				 arg);
			return VS_EXIT_USAGE;
		}
		return VS_CLI_OPT_TAKEN;
	case 'o':
		t->output = arg;
		return VS_CLI_OPT_TAKEN;
	case 'h':
		t->help = 1;
		return VS_CLI_OPT_TAKEN;
	case ':':
		snprintf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
		return VS_EXIT_USAGE;
	case '?':
		snprintf(err, errlen, "unknown option '%s'", argv[optind - 1]);
		return VS_EXIT_USAGE;
	default:
		return VS_CLI_OPT_OTHER;
	}
	snprintf(err, errlen, "invalid pid '%s'", arg);
	return VS_EXIT_USAGE;
}

int vs_cli_target_done(int argc, char **argv, const struct vs_cli_target_opts *t, char *err,
		       size_t errlen)
{
	if (t->help)
		return 0;
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		return VS_EXIT_USAGE;
	}
	if (!t->pid == !t->daemon) {
		snprintf(err, errlen, "name the target with either -p PID or --daemon NAME");
		return VS_EXIT_USAGE;
	}
	return 0;
}

int vs_parse_ms(const char *s, uint64_t max_ms, uint64_t *out_ns)
{
	uint64_t v;
	/* Parsed as seconds, then scaled: the same rules for fractions. */
	int rc = vs_parse_seconds(s, 0, max_ms * VS_NSEC_PER_SEC, &v);

	if (!rc)
		*out_ns = v / 1000 ? v / 1000 : 1;
	return rc;
}

int vs_cli_open_target(pid_t pid, const char *daemon, struct vs_target *t)
{
	char err[512];

	if (!pid && vs_target_find(daemon, &pid, err, sizeof(err))) {
		pr_err("%s", err);
		return VS_EXIT_USAGE;
	}
	if (vs_target_open(t, pid, err, sizeof(err))) {
		pr_err("%s", err);
		return VS_EXIT_USAGE;
	}
	return 0;
}

static const struct {
	cap_value_t cap;
	const char *name;
	const char *why;
} needed_caps[] = {
	{ CAP_BPF, "CAP_BPF", "to load BPF programs" },
	{ CAP_PERFMON, "CAP_PERFMON", "to open perf events and attach probes" },
	{ CAP_SYS_PTRACE, "CAP_SYS_PTRACE", "to read the target's mappings" },
};

int vs_cli_check_privileges(const char *command)
{
	cap_t caps = cap_get_proc();
	int rc = 0;

	if (!caps) {
		pr_err("%s: cannot read this process's capabilities: %s", command,
		       strerror(errno));
		return VS_EXIT_FAILURE;
	}
	for (size_t i = 0; i < VS_ARRAY_SIZE(needed_caps); i++) {
		cap_flag_value_t v = CAP_CLEAR;

		if (cap_get_flag(caps, needed_caps[i].cap, CAP_EFFECTIVE, &v) || v != CAP_SET) {
			pr_err("%s needs %s %s: run it as root", command, needed_caps[i].name,
			       needed_caps[i].why);
			rc = VS_EXIT_FAILURE;
			break;
		}
	}
	cap_free(caps);
	return rc;
}

static void on_signal(int sig)
{
	(void)sig;
	vs_session_interrupt();
}

void vs_cli_handle_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A closed pipe on stdout shows up as a write error instead. */
	signal(SIGPIPE, SIG_IGN);
}

void vs_cli_warn_lost(struct vs_session *s)
{
	struct vs_collector_stats st;

	vs_session_stats(s, &st);
	if (st.lost)
		pr_warn("%llu events were lost: the figures above are partial",
			(unsigned long long)st.lost);
}

FILE *vs_cli_open_output(const char *path)
{
	struct stat st;
	FILE *f;
	int fd;

	if (!path || !strcmp(path, "-"))
		return stdout;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		pr_err("cannot create '%s': %s", path,
		       errno == ELOOP ? "it is a symbolic link" : strerror(errno));
		return NULL;
	}
	/* O_CREAT's mode only applies to a new file: an old one being overwritten
	 * would keep whatever mode it had. A device or FIFO (/dev/null, a pipe
	 * to another tool) is not ours to change. */
	if (fstat(fd, &st) || (S_ISREG(st.st_mode) && (st.st_mode & 07777) != 0600 &&
			       fchmod(fd, 0600))) {
		pr_err("cannot make '%s' private (mode 0600): %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	f = fdopen(fd, "w");
	if (!f) {
		pr_err("cannot open '%s': %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

int vs_cli_close_output(FILE *f)
{
	int rc;

	if (!f)
		return 0;
	if (f == stdout)
		return fflush(f) || ferror(f) ? -EIO : 0;
	rc = ferror(f) ? -EIO : 0;
	if (fclose(f))
		rc = -EIO;
	return rc;
}

int vs_cli_observe(const struct vs_cli_observer *o)
{
	struct vs_target target;
	FILE *out;
	int status;

	if (o->parse_status) {
		pr_err("%s: %s", o->command, o->parse_error);
		return o->parse_status;
	}
	if (o->target->help) {
		fputs(o->usage, stdout);
		return VS_EXIT_OK;
	}
	status = vs_cli_open_target(o->target->pid, o->target->daemon, &target);
	if (status)
		return status;
	if ((o->check && (status = o->check(&target, o->arg))) ||
	    (status = vs_cli_check_privileges(o->command)))
		goto cleanup;
	out = vs_cli_open_output(o->target->output);
	if (!out) {
		status = VS_EXIT_FAILURE;
		goto cleanup;
	}
	if (o->line_buffered)
		setvbuf(out, NULL, _IOLBF, 0);
	status = o->run(o->arg, &target, out);
	if (vs_cli_close_output(out)) {
		pr_err("%s: cannot write '%s'", o->command,
		       o->target->output ? o->target->output : "stdout");
		status = VS_EXIT_FAILURE;
	}
	return status;
cleanup:
	vs_target_close(&target);
	return status;
}

int vs_cli_start_status(int rc)
{
	return rc == -ESRCH || rc == -ENOENT ? VS_EXIT_USAGE : VS_EXIT_FAILURE;
}
