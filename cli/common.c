/* Target selection, privilege checks, signals and output files for the
 * subcommands. These print: they are the CLI layer. */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/capability.h>
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

FILE *vs_cli_open_output(const char *path)
{
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
	int status = vs_cli_open_target(o->pid, o->daemon, &target);

	if (status)
		return status;
	if ((o->check && (status = o->check(&target, o->arg))) ||
	    (status = vs_cli_check_privileges(o->command)))
		goto cleanup;
	out = vs_cli_open_output(o->output);
	if (!out) {
		status = VS_EXIT_FAILURE;
		goto cleanup;
	}
	if (o->line_buffered)
		setvbuf(out, NULL, _IOLBF, 0);
	status = o->run(o->arg, &target, out);
	if (vs_cli_close_output(out)) {
		pr_err("%s: cannot write '%s'", o->command, o->output ? o->output : "stdout");
		status = VS_EXIT_FAILURE;
	}
	return status;
cleanup:
	vs_target_close(&target);
	return status;
}
