/* virtscope locks: who waits for which lock, who holds it, for how long,
 * and what the holder is doing; per-lock figures and the longest wait
 * chains, or folded stacks weighted by wait (or hold) time. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../collectors/contention.h"
#include "../collectors/thread_job.h"
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

		vs_fmt_ns(wt, sizeof(wt), row->st.wait_ns);
		vs_fmt_ns(wm, sizeof(wm), row->st.wait_max_ns);
		/* Acquisitions and holds are only seen with --all. */
		if (a->all) {
			snprintf(acq, sizeof(acq), "%llu", (unsigned long long)row->st.acquisitions);
			vs_fmt_ns(ht, sizeof(ht), row->st.hold_ns);
			vs_fmt_ns(hm, sizeof(hm), row->st.hold_max_ns);
		} else {
			snprintf(ht, sizeof(ht), "-");
			snprintf(hm, sizeof(hm), "-");
		}
		fprintf(out, "%-32.32s %9s %8llu %12s %12s %12s %12s\n", row->name, acq,
			(unsigned long long)row->st.contended, wt, wm, ht, hm);
		/* A lock without a name is known by where it was first taken. */
		if (!row->st.kind[0] && row->st.first_site)
			fprintf(out, "    first taken at: %s\n",
				vs_symbolize_user(sym, s->target.pid, row->st.first_site));
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

#define MAX_CHAIN_DEPTH 4

/* "name[tid] (role)" of a thread, asking the system its name if need be. */
static void describe_thread(char *buf, size_t len, struct vs_session *s,
			    const struct vs_profile *p, const char *comm, uint32_t tid)
{
	char name[VS_COMM_LEN];
	const char *role;

	snprintf(name, sizeof(name), "%s", comm);
	if (!name[0] && tid)
		vs_read_comm(s->target.pid, (pid_t)tid, name, sizeof(name));
	role = p ? vs_profile_role_of(p, name) : NULL;
	snprintf(buf, len, "%s[%u]%s%s%s", name[0] ? name : "?", tid, role ? " (" : "",
		 role ? role : "", role ? ")" : "");
}

/* The holder of c's lock, what it was doing, and, when it was itself
 * waiting, that wait's holder in turn. */
static void print_holder(FILE *out, const struct vs_lock_report *r,
			 const struct vs_lock_chain *c, struct vs_session *s,
			 struct vs_symbolizer *sym, const struct vs_profile *p, int depth)
{
	const struct vs_lock_chain *next;
	char who[64], h[24];

	if (!c->holder) {
		fprintf(out, "%*s(the holder is unknown: it took the lock before tracing began)\n",
			6 + 4 * depth, "");
		return;
	}
	describe_thread(who, sizeof(who), s, p, c->holder_comm, c->holder);
	fprintf(out, "%*sheld by %s", 6 + 4 * depth, "", who);
	if (c->holder_job[0])
		fprintf(out, " in %s", c->holder_job);
	if (c->holder_call[0])
		fprintf(out, ", blocked in %s()", c->holder_call);
	else if (c->holder_running)
		fputs(", running", out);
	if (c->holder_hold_ns) {
		vs_fmt_ns(h, sizeof(h), c->holder_hold_ns);
		fprintf(out, ", for %s", h);
	}
	if (c->holder_in[0]) {
		vs_fmt_ns(h, sizeof(h), c->holder_in_ns);
		fprintf(out, ", in %s for %s", c->holder_in, c->holder_in_ns ? h : "?");
	}
	fputc('\n', out);
	if (c->holder_took_stack) {
		fprintf(out, "%*stook it at: ", 6 + 4 * depth, "");
		print_frames(out, s, sym, c->holder_took_stack, 8);
		fputc('\n', out);
	}
	if (c->holder_stack) {
		fprintf(out, "%*sholder's stack: ", 6 + 4 * depth, "");
		print_frames(out, s, sym, c->holder_stack, 8);
		fputc('\n', out);
	}
	if (!c->holder_waits)
		return;
	next = vs_lock_report_wait_of(r, c->holder, c->ts_ns);
	fprintf(out, "%*swhich was itself waiting for %s\n", 6 + 4 * depth, "",
		next ? next->lock : c->holder_waits_name);
	if (next && depth + 1 < MAX_CHAIN_DEPTH && next != c)
		print_holder(out, r, next, s, sym, p, depth + 1);
}

static void print_chains(FILE *out, const struct vs_lock_report *r, const struct locks_args *a,
			 struct vs_session *s, struct vs_symbolizer *sym, const struct vs_profile *p)
{
	const struct vs_lock_chain *c;
	size_t n = vs_lock_report_chains(r, &c);
	char d[24], who[64];

	fprintf(out, "\nWaits of at least %.1f ms, longest first (%zu):\n",
		(double)a->min_wait_ns / 1e6, n);
	for (size_t i = 0; i < n && i < a->rows; i++) {
		vs_fmt_ns(d, sizeof(d), c[i].dur_ns);
		describe_thread(who, sizeof(who), s, p, c[i].waiter_comm, c[i].waiter);
		fprintf(out, "  %s  %s%s%s waited for %s\n", d, who,
			c[i].waiter_job[0] ? " in " : "", c[i].waiter_job, c[i].lock);
		print_holder(out, r, &c[i], s, sym, p, 0);
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

/* Calls a holder may be blocked in (D-Bus above all), from the profile's
 * spans: they fire only when such a call is made. */
#define LOCKS_SPANS ((1u << VS_PK_SPAN_BEGIN) | (1u << VS_PK_SPAN_END))

/* Of those, the calls into another process and the daemon's own
 * operations. Capability lookups and the functions that fork are left to
 * `virtscope forks`: under a load of RPCs, a probe on the capability lookup
 * (hit on every version query) cost the daemon 5-7 % of its calls, more
 * than the rest of lock tracing. */
#define LOCKS_SPAN_TYPES \
	((1u << VS_SPAN_DBUS) | (1u << VS_SPAN_QMP) | (1u << VS_SPAN_OPERATION))

/* The profile to use, and whether the contention tracer can read what a
 * holder is doing from its memory, which makes probing every job change
 * unnecessary. Counting every lock of a daemon without a profile goes
 * through the C library's lock functions. */
static const char *choose_profile(const struct vs_target *target, const struct locks_args *a,
				  int *jobs_in_memory)
{
	struct vs_profile p;
	struct vs_job_loc loc;
	char why[256];
	int rc;

	*jobs_in_memory = 0;
	rc = vs_profile_load_for(target, a->profile, &p, why, sizeof(why));
	if (rc == -ENOENT && !a->profile && a->all) {
		pr_info("no profile knows process %d: counting its POSIX locks (profile 'pthread')",
			(int)target->pid);
		return "pthread";
	}
	if (rc)
		return a->profile;
	*jobs_in_memory = !vs_thread_job_locate(target->pid, &p, &loc, why, sizeof(why));
	if (!*jobs_in_memory)
		pr_debug("locks: jobs from probes: %s", why);
	vs_profile_release(&p);
	return a->profile;
}

static int run(void *arg, struct vs_target *target, FILE *out)
{
	const struct locks_args *a = arg;
	int jobs_in_memory;
	struct vs_config cfg = {
		.profile = choose_profile(target, a, &jobs_in_memory),
		.lock_min_ns = a->min_wait_ns,
		/* Without --all, the profile only says what each thread is
		 * doing, and not even that where jobs can be read from memory. */
		.probe_kinds = a->all		 ? 0
			       : jobs_in_memory ? LOCKS_SPANS
						: LOCKS_SPANS | 1u << VS_PK_THREAD_JOB,
		.span_kinds = LOCKS_SPAN_TYPES,
	};
	const struct vs_profile *profile;
	struct vs_lock_report *report = NULL;
	struct vs_symbolizer *sym = NULL;
	struct vs_folded *folded = NULL;
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
		status = vs_cli_start_status(rc);
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
	vs_cli_warn_lost(&s);
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
