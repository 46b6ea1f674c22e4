/* virtscope ops: what the daemon is asked and what it waits on. RPC latency
 * per procedure, client and domain (queue wait and service apart), the
 * worker pool's occupancy, D-Bus method calls with their timeouts and the
 * locks held across them, QEMU monitor commands, and keepalives. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../collectors/ops_report.h"
#include "../collectors/probes.h"
#include "../collectors/session.h"
#include "../collectors/symbolize.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "commands.h"
#include "common.h"

static const char usage[] =
	"Usage: virtscope ops (-p PID | --daemon NAME) [-d SECONDS] [-n ROWS]\n"
	"                     [--profile NAME|FILE] [-o FILE]\n"
	"\n"
	"Times every RPC call (queue wait, service, total), D-Bus method call, QEMU\n"
	"monitor command and keepalive of the daemon, through its profile, and prints\n"
	"them per procedure, client, domain, method and command, with p50, p99 and max.\n"
	"Locks that other threads waited for while their holder was in a D-Bus call\n"
	"are shown with the call.\n"
	"\n"
	"  -p, --pid PID          the process\n"
	"      --daemon NAME      the one process with this name\n"
	"  -d, --duration SECS    stop after SECS (default: at Ctrl-C or SIGTERM)\n"
	"  -n, --rows N           rows per table (default 20)\n"
	"      --profile NAME     the daemon profile, built-in or a file\n"
	"  -o, --output FILE      write to FILE (created 0600) instead of stdout\n"
	"  -h, --help             show this help\n";

static const struct option long_opts[] = {
	VS_CLI_TARGET_LONGOPTS,
	{ "rows", required_argument, NULL, 'n' },
	{ "profile", required_argument, NULL, 'P' },
	{ 0 },
};

struct ops_args {
	struct vs_cli_target_opts t;
	uint64_t rows;
	const char *profile;
};

static int parse_args(int argc, char **argv, struct ops_args *a, char *err, size_t errlen)
{
	int opt, rc;

	memset(a, 0, sizeof(*a));
	a->rows = 20;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":" VS_CLI_TARGET_SHORTOPTS "n:", long_opts, NULL)) !=
	       -1) {
		rc = vs_cli_target_option(opt, optarg, argv, &a->t, err, errlen);
		if (rc != VS_CLI_OPT_OTHER) {
			if (rc)
				return rc;
			continue;
		}
		if (opt == 'n' && vs_parse_u64(optarg, 1, 100000, &a->rows)) {
			snprintf(err, errlen, "invalid row count '%s'", optarg);
			return VS_EXIT_USAGE;
		}
		if (opt == 'P')
			a->profile = optarg;
	}
	return vs_cli_target_done(argc, argv, &a->t, err, errlen);
}

/* The probe kinds ops needs; the rest of the profile stays detached. */
#define OPS_KINDS                                                                          \
	((1u << VS_PK_RPC_RECEIVE) | (1u << VS_PK_RPC_DISPATCH) | (1u << VS_PK_RPC_REPLY) |     \
	 (1u << VS_PK_THREAD_OBJECT) | (1u << VS_PK_SPAN_BEGIN) | (1u << VS_PK_SPAN_END) |      \
	 (1u << VS_PK_KEEPALIVE_SENT) | (1u << VS_PK_KEEPALIVE_RECV) |                         \
	 (1u << VS_PK_KEEPALIVE_TIMEOUT))

/* The daemon's profile, else, for a daemon no profile knows, the D-Bus
 * client libraries any process may call through. */
static const char *choose_profile(const struct vs_target *target, const char *name)
{
	struct vs_profile p;
	char why[256];
	int rc = vs_profile_load_for(target, name, &p, why, sizeof(why));

	if (!rc)
		vs_profile_release(&p);
	if (rc == -ENOENT && !name) {
		pr_info("no profile knows process %d: timing its D-Bus calls (profile 'dbus-clients')",
			(int)target->pid);
		return "dbus-clients";
	}
	return name;
}

static int run(void *arg, struct vs_target *target, FILE *out)
{
	const struct ops_args *a = arg;
	struct vs_config cfg = { .profile = choose_profile(target, a->profile),
				 .probe_kinds = OPS_KINDS };
	const struct vs_profile *profile;
	struct vs_ops_report *report = NULL;
	struct vs_symbolizer *sym = NULL;
	struct vs_profile roles; /* the profile's thread roles, kept past detaching */
	struct vs_session s;
	uint64_t start, elapsed;
	char err[512];
	int rc, status = VS_EXIT_FAILURE, exited = 0;

	rc = vs_session_init(&s, target, &cfg);
	if (rc)
		goto cleanup;
	report = vs_ops_report_new();
	sym = vs_symbolizer_new(s.procs);
	if (!report || !sym) {
		rc = -ENOMEM;
		goto cleanup;
	}
	if ((rc = vs_session_add_collector(&s, "probes")) ||
	    (rc = vs_session_add_collector(&s, "contention")) ||
	    (rc = vs_session_add_consumer(&s, vs_ops_report_consumer(report))))
		goto cleanup;
	vs_cli_handle_signals();
	rc = vs_session_start(&s, err, sizeof(err));
	if (rc) {
		pr_err("cannot trace the operations of pid %d: %s", (int)target->pid, err);
		status = vs_cli_start_status(rc);
		rc = 0;
		goto cleanup;
	}
	profile = vs_probes_profile(&s.collectors[0]);
	if (!profile || !vs_probes_nr_attached(&s.collectors[0])) {
		/* Locks alone are the locks command's: ops would print empty tables. */
		pr_err("process %d ('%s') makes no call ops can time: %s", (int)target->pid,
		       target->comm,
		       profile ? "it maps none of the libraries its profile probes"
			       : "no profile knows it; name one with --profile");
		status = VS_EXIT_USAGE;
		goto cleanup;
	}
	fprintf(stderr, "virtscope: timing the operations of pid %d, profile '%s'\n",
		(int)target->pid, profile->name);
	start = vs_now_ns();
	rc = vs_session_run(&s, a->t.duration_ns);
	elapsed = vs_now_ns() - start;
	if (rc == -ESRCH) {
		pr_err("process %d exited; reporting what was seen", (int)target->pid);
		exited = 1;
	} else if (rc) {
		pr_err("tracing failed: %s", strerror(-rc));
		rc = 0;
		goto cleanup;
	}
	rc = 0;
	roles = *profile;
	roles.probes = NULL;
	roles.nr_probes = 0;
	roles.procedures = NULL;
	roles.nr_procedures = 0;
	vs_session_stop(&s);
	fprintf(out, "Over %.1f s:\n", (double)elapsed / 1e9);
	vs_ops_report_write(report, out, s.stacks, sym, &roles, elapsed, (unsigned int)a->rows);
	status = exited ? VS_EXIT_FAILURE : VS_EXIT_OK;
cleanup:
	if (rc)
		pr_err("ops: %s", strerror(rc < 0 ? -rc : rc));
	vs_session_release(&s);
	vs_symbolizer_free(sym);
	vs_ops_report_free(report);
	return rc ? VS_EXIT_FAILURE : status;
}

int cmd_ops(int argc, char **argv)
{
	struct ops_args a;
	char err[512];
	int status = parse_args(argc, argv, &a, err, sizeof(err));
	struct vs_cli_observer o = {
		.command = "ops",
		.target = &a.t,
		.run = run,
		.arg = &a,
		.usage = usage,
		.parse_status = status,
		.parse_error = err,
	};

	return vs_cli_observe(&o);
}
