/* virtscope locks: who waits for which lock, who holds it, for how long,
 * and what the holder is doing; per-lock figures and the longest wait
 * chains, or folded stacks weighted by wait (or hold) time. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../collectors/contention.h"
#include "../collectors/lock_report.h"
#include "../collectors/probes.h"
#include "../collectors/session.h"
#include "../collectors/symbolize.h"
#include "../flamegraph/folded.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "commands.h"
#include "common.h"

static const char usage[] =
	"Usage: virtscope locks (-p PID | --daemon NAME) [-d SECONDS] [--all] [--min-wait MS]\n"
	"                       [--sort wait|hold|count] [-n ROWS] [--hist] [-f [--hold]]\n"
	"                       [--profile NAME|FILE] [-o FILE]\n"
	"\n"
	"Reports per lock how often and how long threads waited for it, and the waits\n"
	"of at least --min-wait as chains: waiter, lock, holder, and what the holder was\n"
	"doing. By default only contended locks are seen (from futex waits, at no cost to\n"
	"free locks, for any daemon); --all counts every acquisition and hold through the\n"
	"daemon's profile (uprobes on its lock functions), which costs the daemon more.\n"
	"\n"
	"  -p, --pid PID          the process\n"
	"      --daemon NAME      the one process with this name\n"
	"  -d, --duration SECS    stop after SECS (default: at Ctrl-C or SIGTERM)\n"
	"      --all              every acquisition and hold, not only contended waits\n"
	"      --min-wait MS      waits and holds reported one by one, with stacks,\n"
	"                         from this long (default 10)\n"
	"      --sort KEY         order locks by total wait (default), hold, or count\n"
	"  -n, --rows N           locks and chains shown (default 20)\n"
	"      --hist             log2 histograms of wait and hold times per lock\n"
	"  -f, --folded           folded stacks weighted by wait time in us instead\n"
	"      --hold             with -f: weighted by hold time\n"
	"      --profile NAME     the daemon profile, built-in or a file\n"
	"  -o, --output FILE      write to FILE (created 0600) instead of stdout\n"
	"  -h, --help             show this help\n";

static const struct option long_opts[] = {
	VS_CLI_TARGET_LONGOPTS,
	{ "min-wait", required_argument, NULL, 'm' },
	{ "sort", required_argument, NULL, 's' },
	{ "rows", required_argument, NULL, 'n' },
	{ "hist", no_argument, NULL, 'H' },
	{ "folded", no_argument, NULL, 'f' },
	{ "hold", no_argument, NULL, 'O' },
	{ "all", no_argument, NULL, 'A' },
	{ "profile", required_argument, NULL, 'P' },
	{ 0 },
};

struct locks_args {
	struct vs_cli_target_opts t;
	uint64_t min_wait_ns;
	enum vs_lock_sort sort;
	uint64_t rows;
	int hist, folded, hold, all;
	const char *profile;
};

static int usage_error(char *err, size_t errlen, const char *fmt, const char *arg)
{
	snprintf(err, errlen, fmt, arg);
	return VS_EXIT_USAGE;
}

static int own_option(int opt, const char *arg, struct locks_args *a, char *err, size_t errlen)
{
	switch (opt) {
	case 'm':
		if (vs_parse_ms(arg, 3600 * 1000, &a->min_wait_ns))
			return usage_error(err, errlen, "invalid --min-wait '%s': expected milliseconds", arg);
		break;
	case 's':
		if (!strcmp(arg, "wait"))
			a->sort = VS_LOCK_SORT_WAIT;
		else if (!strcmp(arg, "hold"))
			a->sort = VS_LOCK_SORT_HOLD;
		else if (!strcmp(arg, "count"))
			a->sort = VS_LOCK_SORT_COUNT;
		else
			return usage_error(err, errlen, "invalid --sort '%s': expected wait, hold or count",
					   arg);
		break;
	case 'n':
		if (vs_parse_u64(arg, 1, 100000, &a->rows))
			return usage_error(err, errlen, "invalid row count '%s'", arg);
		break;
	case 'H': a->hist = 1; break;
	case 'f': a->folded = 1; break;
	case 'O': a->hold = 1; break;
	case 'A': a->all = 1; break;
	case 'P': a->profile = arg; break;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct locks_args *a, char *err, size_t errlen)
{
	int opt, rc;

	memset(a, 0, sizeof(*a));
	a->min_wait_ns = 10 * VS_NSEC_PER_MSEC;
	a->rows = 20;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":" VS_CLI_TARGET_SHORTOPTS "n:f", long_opts,
				  NULL)) != -1) {
		rc = vs_cli_target_option(opt, optarg, argv, &a->t, err, errlen);
		if (rc == VS_CLI_OPT_OTHER)
			rc = own_option(opt, optarg, a, err, errlen);
		if (rc)
			return rc;
	}
	rc = vs_cli_target_done(argc, argv, &a->t, err, errlen);
	if (rc)
		return rc;
	if (a->hold && !a->folded)
		return usage_error(err, errlen, "%s", "--hold goes with -f");
	if (a->hold && !a->all)
		return usage_error(err, errlen, "%s", "hold times need --all");
	return 0;
}

static void fmt_ns(char *buf, size_t len, uint64_t ns)
{
	if (ns >= VS_NSEC_PER_SEC)
		snprintf(buf, len, "%.3f s", (double)ns / 1e9);
	else if (ns >= VS_NSEC_PER_MSEC)
		snprintf(buf, len, "%.3f ms", (double)ns / 1e6);
	else
		snprintf(buf, len, "%.1f us", (double)ns / 1e3);
}

static void print_hist(FILE *out, const char *what, const __u32 *hist)
{
	uint32_t max = 0;
	int last = -1;

	for (int i = 0; i < VS_LOCK_HIST; i++) {
		if (hist[i] > max)
			max = hist[i];
		if (hist[i])
			last = i;
	}
	if (last < 0)
		return;
	fprintf(out, "    %s (ns)\n", what);
	for (int i = 0; i <= last; i++) {
		int bar = max ? (int)((uint64_t)hist[i] * 40 / max) : 0;

		fprintf(out, "    %12llu -> %-12llu : %-8u |%-40.*s|\n",
			i ? 1ULL << i : 0ULL, (1ULL << (i + 1)) - 1, hist[i], bar,
			"****************************************");
	}
}

/* Up to max user frames of a stack, leaf first, on one line. */
static void print_frames(FILE *out, struct vs_session *s, struct vs_symbolizer *sym,
			 vs_stack_id id, unsigned int max)
{
	const struct vs_stack *st = vs_stacks_get(s->stacks, id);

	if (!st || !st->nr_user) {
		fputs("(no stack)", out);
		return;
	}
	for (unsigned int i = 0; i < st->nr_user && i < max; i++)
		fprintf(out, "%s%s", i ? " <- " : "",
			vs_symbolize_user(sym, st->pid, vs_stack_lookup_ip(st->ips + st->nr_kernel, i)));
	if (st->nr_user > max)
		fputs(" <- ...", out);
}

static void print_table(FILE *out, const struct vs_lock_report *r, const struct locks_args *a,
			struct vs_session *s, struct vs_symbolizer *sym)
{
	const struct vs_lock_row *rows;
	size_t n = vs_lock_report_rows(r, &rows);
	char wt[24], wm[24], ht[24], hm[24];

	fprintf(out, "%-32s %9s %8s %12s %12s %12s %12s\n", "LOCK", "ACQUIRED", "CONTENDED",
		"WAIT TOTAL", "WAIT MAX", "HOLD TOTAL", "HOLD MAX");
	for (size_t i = 0; i < n && i < a->rows; i++) {
		const struct vs_lock_row *row = &rows[i];

		char acq[24] = "-";

		fmt_ns(wt, sizeof(wt), row->st.wait_ns);
		fmt_ns(wm, sizeof(wm), row->st.wait_max_ns);
		/* Acquisitions and holds are only seen with --all. */
		if (a->all) {
			snprintf(acq, sizeof(acq), "%llu", (unsigned long long)row->st.acquisitions);
			fmt_ns(ht, sizeof(ht), row->st.hold_ns);
			fmt_ns(hm, sizeof(hm), row->st.hold_max_ns);
		} else {
			snprintf(ht, sizeof(ht), "-");
			snprintf(hm, sizeof(hm), "-");
		}
		fprintf(out, "%-32.32s %9s %8llu %12s %12s %12s %12s\n", row->name, acq,
			(unsigned long long)row->st.contended, wt, wm, ht, hm);
		if (row->top_waiter) {
			fputs("    top waiter: ", out);
			print_frames(out, s, sym, row->top_waiter, 6);
			fputc('\n', out);
		}
		if (row->top_holder) {
			fputs("    top holder: ", out);
			print_frames(out, s, sym, row->top_holder, 6);
			fputc('\n', out);
		}
		if (a->hist) {
			print_hist(out, "wait", row->st.wait_hist);
			print_hist(out, "hold", row->st.hold_hist);
		}
	}
	fprintf(out, "(%zu locks)\n", n);
}

static void print_chains(FILE *out, const struct vs_lock_report *r, const struct locks_args *a,
			 struct vs_session *s, struct vs_symbolizer *sym, const struct vs_profile *p)
{
	const struct vs_lock_chain *c;
	size_t n = vs_lock_report_chains(r, &c);
	char d[24], h[24];

	fprintf(out, "\nWaits of at least %.1f ms, longest first (%zu):\n",
		(double)a->min_wait_ns / 1e6, n);
	for (size_t i = 0; i < n && i < a->rows; i++) {
		char hcomm[VS_COMM_LEN];
		const char *wrole = p ? vs_profile_role_of(p, c[i].waiter_comm) : NULL, *hrole;

		/* Without jobs or holds of the holder, ask the system its name. */
		snprintf(hcomm, sizeof(hcomm), "%s", c[i].holder_comm);
		if (!hcomm[0] && c[i].holder)
			vs_read_comm(s->target.pid, (pid_t)c[i].holder, hcomm, sizeof(hcomm));
		hrole = p ? vs_profile_role_of(p, hcomm) : NULL;

		fmt_ns(d, sizeof(d), c[i].dur_ns);
		fprintf(out, "  %s  %s[%u]%s%s%s waited for %s\n", d, c[i].waiter_comm, c[i].waiter,
			wrole ? " (" : "", wrole ? wrole : "", wrole ? ")" : "", c[i].lock);
		if (c[i].holder) {
			fprintf(out, "      held by %s[%u]%s%s%s", hcomm[0] ? hcomm : "?",
				c[i].holder, hrole ? " (" : "", hrole ? hrole : "", hrole ? ")" : "");
			if (c[i].holder_job[0])
				fprintf(out, " in %s", c[i].holder_job);
			if (c[i].holder_hold_ns) {
				fmt_ns(h, sizeof(h), c[i].holder_hold_ns);
				fprintf(out, ", for %s", h);
			}
			fputc('\n', out);
			if (c[i].holder_stack) {
				fputs("      holder's stack: ", out);
				print_frames(out, s, sym, c[i].holder_stack, 8);
				fputc('\n', out);
			}
			if (c[i].holder_waits)
				fprintf(out, "      the holder was itself waiting for %s\n",
					c[i].holder_waits_name);
		} else {
			fputs("      (the holder is unknown: it took the lock before tracing began)\n", out);
		}
		if (c[i].waiter_stack) {
			fputs("      waiter's stack: ", out);
			print_frames(out, s, sym, c[i].waiter_stack, 8);
			fputc('\n', out);
		}
	}
}

static int add_stats(uint64_t addr, const struct vs_lock_stats *st, void *arg)
{
	return vs_lock_report_add_stats(arg, addr, st);
}

static int accept_wait(const struct vs_event *ev)
{
	return ev->lock.phase == VS_LOCK_WAIT;
}

static int accept_hold(const struct vs_event *ev)
{
	return ev->lock.phase == VS_LOCK_HOLD;
}

static int run(void *arg, struct vs_target *target, FILE *out)
{
	const struct locks_args *a = arg;
	struct vs_config cfg = {
		.profile = a->profile,
		.lock_min_ns = a->min_wait_ns,
		/* Without --all, the profile only says what each thread is doing. */
		.probe_kinds = a->all ? 0 : 1u << VS_PK_THREAD_JOB,
	};
	const struct vs_profile *profile;
	struct vs_lock_report *report = NULL;
	struct vs_symbolizer *sym = NULL;
	struct vs_folded *folded = NULL;
	struct vs_collector_stats st;
	struct vs_profile roles; /* the profile's thread roles, kept past detaching */
	struct vs_session s;
	char err[512];
	int rc, status = VS_EXIT_FAILURE, exited = 0;

	rc = vs_session_init(&s, target, &cfg);
	if (rc)
		goto cleanup;
	report = vs_lock_report_new();
	sym = vs_symbolizer_new(s.procs);
	folded = vs_folded_new(s.stacks, sym, VS_EV_LOCK, VS_FOLDED_DURATION);
	if (!report || !sym || !folded) {
		rc = -ENOMEM;
		goto cleanup;
	}
	vs_folded_set_filter(folded, a->hold ? accept_hold : accept_wait);
	if ((rc = vs_session_add_collector(&s, "probes")) ||
	    (!a->all && (rc = vs_session_add_collector(&s, "contention"))) ||
	    (rc = vs_session_add_consumer(&s, vs_lock_report_consumer(report))) ||
	    (rc = vs_session_add_consumer(&s, vs_folded_consumer(folded))))
		goto cleanup;
	vs_cli_handle_signals();
	rc = vs_session_start(&s, err, sizeof(err));
	if (rc) {
		pr_err("cannot trace the locks of pid %d: %s", (int)target->pid, err);
		rc = 0;
		goto cleanup;
	}
	profile = vs_probes_profile(&s.collectors[0]);
	fprintf(stderr, "virtscope: %s of pid %d, profile %s%s%s\n",
		a->all ? "counting every lock acquisition" : "watching contended locks",
		(int)target->pid, profile ? "'" : "", profile ? profile->name : "none",
		profile ? "'" : "");
	rc = vs_session_run(&s, a->t.duration_ns);
	if (rc == -ESRCH) {
		pr_err("process %d exited; reporting what was seen", (int)target->pid);
		exited = 1;
	} else if (rc) {
		pr_err("tracing failed: %s", strerror(-rc));
		rc = 0;
		goto cleanup;
	}
	/* The per-lock figures live in BPF maps: read them before detaching. */
	rc = a->all ? vs_probes_lock_stats(&s.collectors[0], add_stats, report)
		    : vs_contention_lock_stats(&s.collectors[1], add_stats, report);
	memset(&roles, 0, sizeof(roles));
	if (profile)
		roles = *profile;
	roles.probes = NULL;
	roles.nr_probes = 0;
	vs_session_stop(&s);
	if (rc || (rc = vs_lock_report_finish(report, a->sort)))
		goto cleanup;
	if (a->folded) {
		rc = vs_folded_write(folded, out);
	} else {
		print_table(out, report, a, &s, sym);
		print_chains(out, report, a, &s, sym, &roles);
	}
	vs_session_stats(&s, &st);
	if (st.lost)
		pr_warn("%llu events were lost: the figures above are partial",
			(unsigned long long)st.lost);
	status = exited ? VS_EXIT_FAILURE : VS_EXIT_OK;
cleanup:
	if (rc)
		pr_err("locks: %s", strerror(rc < 0 ? -rc : rc));
	vs_session_release(&s);
	vs_folded_free(folded);
	vs_symbolizer_free(sym);
	vs_lock_report_free(report);
	return rc ? VS_EXIT_FAILURE : status;
}

int cmd_locks(int argc, char **argv)
{
	struct locks_args a;
	char err[512];
	int status = parse_args(argc, argv, &a, err, sizeof(err));
	struct vs_cli_observer o = {
		.command = "locks",
		.target = &a.t,
		.run = run,
		.arg = &a,
		.usage = usage,
		.parse_status = status,
		.parse_error = err,
	};

	return vs_cli_observe(&o);
}
