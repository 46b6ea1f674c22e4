/* virtscope profile: on-CPU sampling of a running daemon, written as folded
 * stacks. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../bpf/profile.h"
#include "../collectors/session.h"
#include "../collectors/symbolize.h"
#include "../flamegraph/folded.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "commands.h"
#include "common.h"

#define MAX_FREQ_HZ 50000

static const char usage[] =
	"Usage: virtscope profile (-p PID | --daemon NAME) [-F HZ] [-d SECONDS] [-t TID]\n"
	"                         [--children] [--unwind dwarf|fp] [-o FILE]\n"
	"\n"
	"Samples where a daemon's threads are on CPU and writes folded stacks,\n"
	"\"thread;root;...;leaf count\", with kernel frames suffixed _[k].\n"
	"\n"
	"  -p, --pid PID          the process to profile\n"
	"      --daemon NAME      the one process with this name\n"
	"  -F, --frequency HZ     samples per second per CPU (default 99)\n"
	"  -d, --duration SECS    stop after SECS (default: at Ctrl-C or SIGTERM)\n"
	"  -t, --tid TID          only this thread of the process\n"
	"      --children         also sample the processes it forks (until they exit)\n"
	"      --unwind MODE      how user stacks are walked: dwarf (default: from the\n"
	"                         binaries' CFI, complete without frame pointers) or fp\n"
	"  -o, --output FILE      write to FILE (created 0600) instead of stdout\n"
	"  -h, --help             show this help\n";

static const struct option long_opts[] = {
	VS_CLI_TARGET_LONGOPTS,
	{ "frequency", required_argument, NULL, 'F' },
	{ "tid", required_argument, NULL, 't' },
	{ "unwind", required_argument, NULL, 'U' },
	{ "children", no_argument, NULL, 'C' },
	{ 0 },
};

static int bad(char *err, size_t errlen, const char *fmt, const char *arg)
{
	snprintf(err, errlen, fmt, arg);
	return VS_EXIT_USAGE;
}

/* The options of profile's own. */
static int own_option(int opt, const char *arg, struct profile_args *args, char *err,
		      size_t errlen)
{
	uint64_t v;

	switch (opt) {
	case 'F':
		if (vs_parse_u64(arg, 1, MAX_FREQ_HZ, &v))
			return bad(err, errlen, "invalid frequency '%s': expected 1 to 50000 Hz", arg);
		args->freq_hz = (uint32_t)v;
		return 0;
	case 't':
		if (vs_parse_pid(arg, &args->tid))
			return bad(err, errlen, "invalid thread id '%s'", arg);
		return 0;
	case 'C':
		args->children = 1;
		return 0;
	case 'U':
		if (!strcmp(arg, "dwarf"))
			args->unwind = VS_UNWIND_DWARF;
		else if (!strcmp(arg, "fp"))
			args->unwind = VS_UNWIND_FP;
		else
			return bad(err, errlen, "invalid unwind mode '%s': expected dwarf or fp", arg);
		return 0;
	}
	return bad(err, errlen, "unknown option '%s'", "?");
}

int profile_parse_args(int argc, char **argv, struct profile_args *args, char *err,
		       size_t errlen)
{
	int opt, rc;

	memset(args, 0, sizeof(*args));
	args->freq_hz = 99;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":" VS_CLI_TARGET_SHORTOPTS "F:t:", long_opts,
				  NULL)) != -1) {
		rc = vs_cli_target_option(opt, optarg, argv, &args->t, err, errlen);
		if (rc == VS_CLI_OPT_OTHER)
			rc = own_option(opt, optarg, args, err, errlen);
		if (rc)
			return rc;
	}
	return vs_cli_target_done(argc, argv, &args->t, err, errlen);
}

/* -t must name a thread of the target. */
static int check_target(const struct vs_target *t, void *arg)
{
	const struct profile_args *a = arg;
	char path[64];

	if (!a->tid)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)t->pid, (int)a->tid);
	if (access(path, F_OK)) {
		pr_err("thread %d does not belong to process %d", (int)a->tid, (int)t->pid);
		return VS_EXIT_USAGE;
	}
	return 0;
}

static double percent(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* The stack layer's own cost, for -v and the benchmarks: medians of warm
 * stacks (every rule and name already cached), per stack on one core. */
static void report_stack_layer(const struct vs_session *s, const struct vs_folded *f)
{
	struct vs_unwind_stats u;
	struct vs_folded_stats n;
	uint64_t both;

	vs_unwinder_stats(s->unwinder, &u);
	vs_folded_stats(f, &n);
	both = u.warm_median_ns + n.warm_median_ns;
	pr_info("stack layer: unwound %llu stacks (%llu frames) in %.1f ms, warm median %llu ns; "
		"named %llu unique stacks in %.1f ms, warm median %llu ns; "
		"warm unwind+name %.0f stacks/s",
		(unsigned long long)u.stacks, (unsigned long long)u.frames, (double)u.ns / 1e6,
		(unsigned long long)u.warm_median_ns, (unsigned long long)n.stacks,
		(double)n.ns / 1e6, (unsigned long long)n.warm_median_ns,
		both ? 1e9 / (double)both : 0.0);
}

static void report_stats(const struct vs_session *s, const struct vs_folded *f)
{
	struct vs_collector_stats st;

	report_stack_layer(s, f);
	vs_session_stats(s, &st);
	fprintf(stderr,
		"virtscope: %llu samples; user stacks: %.1f%% reach the thread's root, "
		"%llu truncated, %llu unreadable; %llu samples lost\n",
		(unsigned long long)vs_folded_events(f),
		percent(st.stacks_complete, st.stacks_user),
		(unsigned long long)st.stacks_truncated, (unsigned long long)st.stacks_unreadable,
		(unsigned long long)st.lost);
}

static int run(void *arg, struct vs_target *target, FILE *out)
{
	const struct profile_args *args = arg;
	struct vs_config cfg = {
		.freq_hz = args->freq_hz,
		.tid = (uint32_t)args->tid,
		.unwind = (enum vs_unwind_mode)args->unwind,
		.children = args->children,
	};
	struct vs_symbolizer *sym = NULL;
	struct vs_folded *folded = NULL;
	struct vs_session s;
	char err[512];
	int rc, status = VS_EXIT_FAILURE;

	rc = vs_session_init(&s, target, &cfg);
	if (rc)
		goto cleanup;
	sym = vs_symbolizer_new(s.procs);
	folded = vs_folded_new(s.stacks, sym, VS_EV_SAMPLE, VS_FOLDED_COUNT);
	if (!sym || !folded) {
		rc = -ENOMEM;
		goto cleanup;
	}
	if ((rc = vs_session_add_collector(&s, "cpu")) ||
	    (rc = vs_session_add_consumer(&s, vs_folded_consumer(folded))))
		goto cleanup;
	vs_cli_handle_signals();
	rc = vs_session_start(&s, err, sizeof(err));
	if (rc) {
		pr_err("cannot start profiling pid %d: %s", (int)target->pid, err);
		status = vs_cli_start_status(rc);
		rc = 0;
		goto cleanup;
	}
	fprintf(stderr, "virtscope: profiling pid %d at %u Hz\n", (int)target->pid, cfg.freq_hz);
	rc = vs_session_run(&s, args->t.duration_ns);
	vs_session_stop(&s);
	if (rc && rc != -ESRCH) {
		pr_err("profiling failed: %s", strerror(-rc));
		goto cleanup;
	}
	status = rc == -ESRCH ? VS_EXIT_FAILURE : VS_EXIT_OK;
	if (rc == -ESRCH)
		pr_err("process %d exited during the profile; writing what was sampled",
		       (int)target->pid);
	rc = vs_folded_write(folded, out);
	if (rc) {
		pr_err("cannot write the profile: %s", strerror(-rc));
		status = VS_EXIT_FAILURE;
	}
	report_stats(&s, folded);
	rc = 0;
cleanup:
	if (rc)
		pr_err("profile: %s", strerror(-rc));
	vs_session_release(&s);
	vs_folded_free(folded);
	vs_symbolizer_free(sym);
	return status;
}

int cmd_profile(int argc, char **argv)
{
	struct profile_args a;
	char err[512];
	int status = profile_parse_args(argc, argv, &a, err, sizeof(err));
	struct vs_cli_observer o = {
		.command = "profile",
		.target = &a.t,
		.check = check_target,
		.run = run,
		.arg = &a,
		.usage = usage,
		.parse_status = status,
		.parse_error = err,
	};

	return vs_cli_observe(&o);
}
