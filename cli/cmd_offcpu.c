/* virtscope offcpu: where the daemon's threads spend the time they are not
 * on a CPU, and why (lock, poll, I/O, sleep, child, D-Bus...); the longest
 * blocked stacks with who woke them; and the stalls of the event loop with
 * what it was waiting for. Or folded stacks weighted by off-CPU time. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../collectors/offcpu.h"
#include "../collectors/offcpu_report.h"
#include "../collectors/probes.h"
#include "../collectors/session.h"
#include "../collectors/symbolize.h"
#include "../collectors/thread_job.h"
#include "../flamegraph/folded.h"
#include "../lib/htab.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "commands.h"
#include "common.h"

static const char usage[] =
	"Usage: virtscope offcpu (-p PID | --daemon NAME) [-d SECONDS] [--min-block MS]\n"
	"                        [--stall MS] [-n ROWS] [-f [--wakers]] [--profile NAME|FILE]\n"
	"                        [-o FILE]\n"
	"\n"
	"Reports, per thread, the time spent on and off CPU and why it was off (lock,\n"
	"futex, poll, io, sleep, child, signal, disk, dbus, runqueue, other); the blocked\n"
	"stacks that cost most, with the lock's holder and who woke them; and the turns\n"
	"of the event loop longer than --stall, with what the loop was waiting for and\n"
	"the clients' keepalives it handled late because of it.\n"
	"\n"
	"  -p, --pid PID          the process\n"
	"      --daemon NAME      the one process with this name\n"
	"  -d, --duration SECS    stop after SECS (default: at Ctrl-C or SIGTERM)\n"
	"      --min-block MS     blocks carry stacks from this long (default 1);\n"
	"                         shorter ones are only counted\n"
	"      --stall MS         an event-loop turn this long is a stall (default 100)\n"
	"  -n, --rows N           stacks, lock waits and stalls shown (default 20)\n"
	"  -f, --folded           folded stacks weighted by off-CPU time in us instead\n"
	"      --wakers           with -f: blocked stack, '--', then the waker's stack\n"
	"      --profile NAME     the daemon profile, built-in or a file\n"
	"  -o, --output FILE      write to FILE (created 0600) instead of stdout\n"
	"  -h, --help             show this help\n";

static const struct option long_opts[] = {
	VS_CLI_TARGET_LONGOPTS,
	{ "min-block", required_argument, NULL, 'm' },
	{ "stall", required_argument, NULL, 'S' },
	{ "rows", required_argument, NULL, 'n' },
	{ "folded", no_argument, NULL, 'f' },
	{ "wakers", no_argument, NULL, 'W' },
	{ "profile", required_argument, NULL, 'P' },
	{ 0 },
};

struct offcpu_args {
	struct vs_cli_target_opts t;
	uint64_t min_block_ns, stall_ns, rows;
	int folded, wakers;
	const char *profile;
};

static int usage_error(char *err, size_t errlen, const char *fmt, const char *arg)
{
	snprintf(err, errlen, fmt, arg);
	return VS_EXIT_USAGE;
}

static int own_option(int opt, const char *arg, struct offcpu_args *a, char *err, size_t errlen)
{
	switch (opt) {
	case 'm':
		if (vs_parse_ms(arg, 3600 * 1000, &a->min_block_ns))
			return usage_error(err, errlen, "invalid --min-block '%s': expected milliseconds",
					   arg);
		break;
	case 'S':
		if (vs_parse_ms(arg, 3600 * 1000, &a->stall_ns))
			return usage_error(err, errlen, "invalid --stall '%s': expected milliseconds", arg);
		break;
	case 'n':
		if (vs_parse_u64(arg, 1, 100000, &a->rows))
			return usage_error(err, errlen, "invalid row count '%s'", arg);
		break;
	case 'f': a->folded = 1; break;
	case 'W': a->wakers = 1; break;
	case 'P': a->profile = arg; break;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct offcpu_args *a, char *err, size_t errlen)
{
	int opt, rc;

	memset(a, 0, sizeof(*a));
	a->min_block_ns = VS_NSEC_PER_MSEC;
	a->stall_ns = 100 * VS_NSEC_PER_MSEC;
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
	if (a->wakers && !a->folded)
		return usage_error(err, errlen, "%s", "--wakers goes with -f");
	return 0;
}

/* Up to max user frames of a stack, leaf first, on one line; with no user
 * frame, the kernel's. */
static void print_frames(FILE *out, struct vs_session *s, struct vs_symbolizer *sym,
			 vs_stack_id id, unsigned int max)
{
	const struct vs_stack *st = vs_stacks_get(s->stacks, id);

	if (!st || (!st->nr_user && !st->nr_kernel)) {
		fputs("(no stack)", out);
		return;
	}
	if (!st->nr_user) {
		for (unsigned int i = 0; i < st->nr_kernel && i < max; i++)
			fprintf(out, "%s%s_[k]", i ? " <- " : "",
				vs_symbolize_kernel(sym, vs_stack_lookup_ip(st->ips, i)));
		return;
	}
	for (unsigned int i = 0; i < st->nr_user && i < max; i++)
		fprintf(out, "%s%s", i ? " <- " : "",
			vs_symbolize_user(sym, st->pid, vs_stack_lookup_ip(st->ips + st->nr_kernel, i)));
	if (st->nr_user > max)
		fputs(" <- ...", out);
}

/* "name[tid] (role)" */
static void fmt_thread(char *buf, size_t len, const char *comm, uint32_t tid,
		       const struct vs_profile *p)
{
	const char *role = p ? vs_profile_role_of(p, comm) : NULL;

	snprintf(buf, len, "%s[%u]%s%s%s", comm[0] ? comm : "?", tid, role ? " (" : "",
		 role ? role : "", role ? ")" : "");
}

static void print_threads(FILE *out, const struct vs_offcpu_report *r, const struct vs_profile *p)
{
	const struct vs_offcpu_thread_row *rows;
	size_t n = vs_offcpu_report_threads(r, &rows);
	char who[64];

	fprintf(out, "%-36s %10s %10s %10s  %s\n", "THREAD", "WALL ms", "ON ms", "OFF ms",
		"OFF CPU BY REASON (ms)");
	for (size_t i = 0; i < n; i++) {
		fmt_thread(who, sizeof(who), rows[i].t.comm, rows[i].t.tid, p);
		fprintf(out, "%-36s %10.1f %10.1f %10.1f ", who, rows[i].t.wall_ns / 1e6,
			rows[i].t.on_ns / 1e6, rows[i].off_total_ns / 1e6);
		for (int k = 0; k < VS_OFFCPU_NR_REASONS; k++)
			if (rows[i].t.off_ns[k] >= VS_NSEC_PER_MSEC / 10)
				fprintf(out, " %s=%.1f", vs_offcpu_reason_name(k),
					rows[i].t.off_ns[k] / 1e6);
		fputc('\n', out);
	}
	fprintf(out, "(%zu threads)\n", n);
}

static void print_block_detail(FILE *out, struct vs_session *s, struct vs_symbolizer *sym,
			       const struct vs_offcpu_block *b, const struct vs_profile *p,
			       const char *indent)
{
	char who[64], hcomm[VS_COMM_LEN];

	if (b->lock[0]) {
		fprintf(out, "%slock %s", indent, b->lock);
		if (b->holder) {
			snprintf(hcomm, sizeof(hcomm), "%s", b->holder_comm);
			if (!hcomm[0])
				vs_read_comm(s->target.pid, (pid_t)b->holder, hcomm, sizeof(hcomm));
			fmt_thread(who, sizeof(who), hcomm, b->holder, p);
			fprintf(out, " held by %s", who);
			if (b->holder_job[0])
				fprintf(out, " in %s", b->holder_job);
		} else {
			fputs(" (holder unknown)", out);
		}
		fputc('\n', out);
	}
	fprintf(out, "%sblocked: ", indent);
	print_frames(out, s, sym, b->stack, 10);
	fputc('\n', out);
	if (b->waker_comm[0]) {
		fmt_thread(who, sizeof(who), b->waker_comm, b->waker_tid,
			   b->waker_pid == (uint32_t)s->target.pid ? p : NULL);
		fprintf(out, "%swoken by %s%s: ", indent, who,
			b->waker_pid == (uint32_t)s->target.pid ? "" : " (another process)");
		print_frames(out, s, sym, b->waker_stack, 8);
		fputc('\n', out);
	}
}

static void print_tops(FILE *out, struct vs_session *s, struct vs_symbolizer *sym,
		       const struct vs_offcpu_report *r, const struct offcpu_args *a,
		       const struct vs_profile *p)
{
	const struct vs_offcpu_top *t;
	size_t n = vs_offcpu_report_tops(r, &t);
	char tot[24], max[24];

	fprintf(out, "\nBlocked stacks of at least %.1f ms, by total time (%zu):\n",
		a->min_block_ns / 1e6, n);
	for (size_t i = 0; i < n && i < a->rows; i++) {
		vs_fmt_ns(tot, sizeof(tot), t[i].total_ns);
		vs_fmt_ns(max, sizeof(max), t[i].max_ns);
		fprintf(out, "  %s  %s %s, %" PRIu64 " blocks, longest %s\n", tot, t[i].comm,
			vs_offcpu_reason_name(t[i].reason), t[i].count, max);
		if (t[i].longest)
			print_block_detail(out, s, sym, t[i].longest, p, "      ");
	}
}

static void print_lock_waits(FILE *out, struct vs_session *s, const struct vs_offcpu_report *r,
			     const struct offcpu_args *a, const struct vs_profile *p)
{
	const struct vs_offcpu_block *b;
	size_t n = vs_offcpu_report_blocks(r, &b), shown = 0;
	char d[24], who[64], hwho[64], hcomm[VS_COMM_LEN];

	fputs("\nLock waits, longest first:\n", out);
	for (size_t i = 0; i < n && shown < a->rows; i++) {
		if (!b[i].lock[0])
			continue;
		shown++;
		vs_fmt_ns(d, sizeof(d), b[i].dur_ns);
		fmt_thread(who, sizeof(who), b[i].comm, b[i].tid, p);
		fprintf(out, "  %s  %s waited for %s", d, who, b[i].lock);
		if (b[i].holder) {
			snprintf(hcomm, sizeof(hcomm), "%s", b[i].holder_comm);
			if (!hcomm[0])
				vs_read_comm(s->target.pid, (pid_t)b[i].holder, hcomm, sizeof(hcomm));
			fmt_thread(hwho, sizeof(hwho), hcomm, b[i].holder, p);
			fprintf(out, " held by %s%s%s", hwho, b[i].holder_job[0] ? " in " : "",
				b[i].holder_job);
		}
		fputc('\n', out);
	}
}

static void print_late_keepalives(FILE *out, const struct vs_offcpu_stall_row *st)
{
	char late[24];

	for (size_t k = 0; k < st->nr_late; k++) {
		const struct vs_offcpu_late_keepalive *l = &st->late[k];

		vs_fmt_ns(late, sizeof(late), l->late_ns);
		if (l->phase == VS_KEEPALIVE_TIMEOUT)
			fprintf(out, "      late keepalive: client 0x%" PRIx64 " timed out (count %" PRId64
				", idle %" PRId64 " s), handled up to %s late\n", l->client, l->count,
				l->idle_s, late);
		else
			fprintf(out, "      late keepalive: PING from client 0x%" PRIx64
				" read up to %s late\n", l->client, late);
	}
}

static void print_loop(FILE *out, struct vs_session *s, struct vs_symbolizer *sym,
		       const struct vs_offcpu_report *r, const struct vs_offcpu_info *info,
		       const struct offcpu_args *a, const struct vs_profile *p)
{
	const struct vs_offcpu_stall_row *st;
	size_t n = vs_offcpu_report_stalls(r, &st);
	const struct vs_offcpu_loop *l = &info->loop;
	char who[64], d[24], bl[24];

	if (!info->loop_tid)
		return;
	fmt_thread(who, sizeof(who), info->loop_comm, info->loop_tid, p);
	fprintf(out, "\nEvent loop %s: %" PRIu64 " turns, busy %.1f ms (longest turn %.1f ms), "
		"%.1f ms waiting in poll\n", who, (uint64_t)l->turns, l->busy_ns / 1e6, l->busy_max_ns / 1e6,
		l->poll_ns / 1e6);
	fprintf(out, "Stalls of at least %.1f ms (%zu):\n", a->stall_ns / 1e6, n);
	for (size_t i = 0; i < n && i < a->rows; i++) {
		vs_fmt_ns(d, sizeof(d), st[i].dur_ns);
		fprintf(out, "  stall %s at +%.3f s", d,
			st[i].ts_ns > info->start_ns ? (st[i].ts_ns - info->start_ns) / 1e9 : 0.0);
		if (!st[i].cause) {
			fputs(": on CPU, or in blocks shorter than --min-block\n", out);
			print_late_keepalives(out, &st[i]);
			continue;
		}
		vs_fmt_ns(bl, sizeof(bl), st[i].cause->dur_ns);
		fprintf(out, ": blocked %s in %s", bl, vs_offcpu_reason_name(st[i].cause->reason));
		if (st[i].cause->syscall >= 0)
			fprintf(out, " (syscall %d)", st[i].cause->syscall);
		fputc('\n', out);
		print_block_detail(out, s, sym, st[i].cause, p, "      ");
		print_late_keepalives(out, &st[i]);
	}
}

/* Appends a stack's frames: root to leaf (user, then kernel), or with
 * reverse, leaf to root (kernel, then user), as the waker's half of an
 * off-wake line goes. */
static int add_stack(struct vs_strbuf *sb, const struct vs_stacks *stacks,
		     struct vs_symbolizer *sym, vs_stack_id id, int reverse)
{
	const struct vs_stack *st = vs_stacks_get(stacks, id);
	int rc = 0;

	if (!st)
		return 0;
	const uint64_t *k = st->ips, *u = st->ips + st->nr_kernel;

	if (!reverse) {
		for (unsigned int i = st->nr_user; i-- > 0 && !rc;)
			rc = vs_folded_add_frame(sb, vs_symbolize_user(sym, st->pid,
								    vs_stack_lookup_ip(u, i)), NULL);
		for (unsigned int i = st->nr_kernel; i-- > 0 && !rc;)
			rc = vs_folded_add_frame(sb, vs_symbolize_kernel(sym, vs_stack_lookup_ip(k, i)),
						 "_[k]");
		return rc;
	}
	for (unsigned int i = 0; i < st->nr_kernel && !rc; i++)
		rc = vs_folded_add_frame(sb, vs_symbolize_kernel(sym, vs_stack_lookup_ip(k, i)), "_[k]");
	for (unsigned int i = 0; i < st->nr_user && !rc; i++)
		rc = vs_folded_add_frame(sb, vs_symbolize_user(sym, st->pid, vs_stack_lookup_ip(u, i)),
					 NULL);
	return rc;
}

struct fline {
	uint64_t weight;
	char text[];
};

static int fline_cmp(const void *a, const void *b)
{
	return strcmp((*(struct fline *const *)a)->text, (*(struct fline *const *)b)->text);
}

static int write_folded(FILE *out, const struct vs_offcpu_report *r, struct vs_session *s,
			struct vs_symbolizer *sym, int wakers)
{
	const struct vs_offcpu_block *b;
	size_t n = vs_offcpu_report_blocks(r, &b), pos = 0, nl = 0;
	struct vs_htab *lines = vs_htab_new();
	struct vs_strbuf sb = { 0 };
	struct fline **v = NULL;
	void *val;
	int rc = lines ? 0 : -ENOMEM;

	for (size_t i = 0; i < n && !rc; i++) {
		struct fline *l;

		vs_strbuf_reset(&sb);
		rc = vs_folded_add_frame(&sb, b[i].comm[0] ? b[i].comm : "[unknown]", NULL);
		if (!rc)
			rc = add_stack(&sb, s->stacks, sym, b[i].stack, 0);
		if (!rc && wakers && b[i].waker_comm[0]) {
			rc = vs_folded_add_frame(&sb, "--", NULL);
			if (!rc)
				rc = add_stack(&sb, s->stacks, sym, b[i].waker_stack, 1);
			if (!rc)
				rc = vs_folded_add_frame(&sb, b[i].waker_comm, NULL);
		}
		if (rc)
			break;
		l = vs_htab_get(lines, sb.buf, sb.len);
		if (!l) {
			l = malloc(sizeof(*l) + sb.len + 1);
			if (!l || vs_htab_put(lines, l->text, sb.len, l, NULL)) {
				free(l);
				rc = -ENOMEM;
				break;
			}
			l->weight = 0;
			memcpy(l->text, sb.buf, sb.len + 1);
		}
		l->weight += b[i].dur_ns / 1000;
	}
	if (!rc && !(v = calloc(vs_htab_count(lines) + 1, sizeof(*v))))
		rc = -ENOMEM;
	while (!rc && vs_htab_next(lines, &pos, NULL, NULL, &val))
		v[nl++] = val;
	if (!rc) {
		qsort(v, nl, sizeof(*v), fline_cmp);
		for (size_t i = 0; i < nl; i++)
			fprintf(out, "%s %" PRIu64 "\n", v[i]->text, v[i]->weight);
		rc = fflush(out) || ferror(out) ? -EIO : 0;
	}
	free(v);
	vs_htab_free(lines, free);
	vs_strbuf_release(&sb);
	return rc;
}

static uint64_t total_switches(const struct vs_offcpu_report *r)
{
	const struct vs_offcpu_thread_row *rows;
	size_t n = vs_offcpu_report_threads(r, &rows);
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < VS_OFFCPU_NR_REASONS; k++)
			sum += rows[i].t.blocks[k];
	return sum;
}

static int add_thread(const struct vs_offcpu_totals *t, void *arg)
{
	return vs_offcpu_report_add_thread(arg, t);
}

/* Whether the off-CPU tracer can read a lock holder's job from its memory,
 * which makes probing every job change (two uprobe hits per RPC)
 * unnecessary. */
static int jobs_in_memory(const struct vs_target *target, const char *profile)
{
	struct vs_profile p;
	struct vs_job_loc loc;
	char why[256];
	int ok;

	if (vs_profile_load_for(target, profile, &p, why, sizeof(why)))
		return 0;
	ok = !vs_thread_job_locate(target->pid, &p, &loc, why, sizeof(why));
	if (!ok)
		pr_debug("offcpu: jobs from probes: %s", why);
	vs_profile_release(&p);
	return ok;
}

static int run(void *arg, struct vs_target *target, FILE *out)
{
	const struct offcpu_args *a = arg;
	struct vs_config cfg = {
		.profile = a->profile,
		.offcpu_min_ns = a->min_block_ns,
		.stall_ns = a->stall_ns,
		/* D-Bus calls, the keepalives a stall holds up, and what workers
		 * are doing (lock holders) where it cannot be read from memory */
		.probe_kinds = 1u << VS_PK_SPAN_BEGIN | 1u << VS_PK_SPAN_END |
			       1u << VS_PK_KEEPALIVE_SENT | 1u << VS_PK_KEEPALIVE_RECV |
			       1u << VS_PK_KEEPALIVE_TIMEOUT |
			       (jobs_in_memory(target, a->profile) ? 0 : 1u << VS_PK_THREAD_JOB),
		/* of the spans, only D-Bus calls refine reasons: no uprobe on QMP
		 * commands or lookups */
		.span_kinds = 1u << VS_SPAN_DBUS,
	};
	const struct vs_profile *profile;
	struct vs_offcpu_report *report = NULL;
	struct vs_symbolizer *sym = NULL;
	struct vs_collector_stats st;
	struct vs_offcpu_info info;
	struct vs_profile roles; /* the profile's thread roles, kept past detaching */
	struct vs_session s;
	char err[512];
	int rc, status = VS_EXIT_FAILURE, exited = 0;

	rc = vs_session_init(&s, target, &cfg);
	if (rc)
		goto cleanup;
	report = vs_offcpu_report_new();
	sym = vs_symbolizer_new(s.procs);
	if (!report || !sym) {
		rc = -ENOMEM;
		goto cleanup;
	}
	if ((rc = vs_session_add_collector(&s, "offcpu")) ||
	    (rc = vs_session_add_collector(&s, "probes")) ||
	    (rc = vs_session_add_consumer(&s, vs_offcpu_report_consumer(report))))
		goto cleanup;
	vs_cli_handle_signals();
	rc = vs_session_start(&s, err, sizeof(err));
	if (rc) {
		pr_err("cannot trace the off-CPU time of pid %d: %s", (int)target->pid, err);
		status = vs_cli_start_status(rc);
		rc = 0;
		goto cleanup;
	}
	profile = vs_probes_profile(&s.collectors[1]);
	fprintf(stderr, "virtscope: watching off-CPU time of pid %d, profile %s%s%s\n",
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
	/* The totals live in BPF maps: read them before detaching. */
	rc = vs_offcpu_totals(&s.collectors[0], add_thread, report);
	if (!rc)
		rc = vs_offcpu_info(&s.collectors[0], &info);
	memset(&roles, 0, sizeof(roles));
	if (profile)
		roles = *profile;
	roles.probes = NULL;
	roles.nr_probes = 0;
	vs_session_stop(&s);
	if (rc || (rc = vs_offcpu_report_finish(report, s.stacks, sym)))
		goto cleanup;
	if (a->folded) {
		rc = write_folded(out, report, &s, sym, a->wakers);
	} else {
		print_threads(out, report, &roles);
		print_tops(out, &s, sym, report, a, &roles);
		print_lock_waits(out, &s, report, a, &roles);
		print_loop(out, &s, sym, report, &info, a, &roles);
	}
	pr_info("%" PRIu64 " switches counted in %.1f s, %" PRIu64 " long blocks sent, %llu lost",
		total_switches(report), a->t.duration_ns / 1e9,
		info.rseq_emits + info.late_emits + info.switch_emits + info.same_emits,
		(unsigned long long)(vs_session_stats(&s, &st), st.lost));
	pr_info("long blocks: %" PRIu64 " with user stacks from rseq_update, %" PRIu64
		" taken when blocking again, %" PRIu64 " without user stack, %" PRIu64
		" where the thread's last stacks were; %" PRIu64 " wakers at their last stacks; %" PRIu64
		" stacks not found again; %" PRIu64 " unpaired switches",
		info.rseq_emits, info.late_emits, info.switch_emits, info.same_emits, info.same_wakes,
		info.same_missed, info.unpaired);
	vs_cli_warn_lost(&s);
	status = exited ? VS_EXIT_FAILURE : VS_EXIT_OK;
cleanup:
	if (rc)
		pr_err("offcpu: %s", strerror(rc < 0 ? -rc : rc));
	vs_session_release(&s);
	vs_symbolizer_free(sym);
	vs_offcpu_report_free(report);
	return rc ? VS_EXIT_FAILURE : status;
}

int cmd_offcpu(int argc, char **argv)
{
	struct offcpu_args a;
	char err[512];
	int status = parse_args(argc, argv, &a, err, sizeof(err));
	struct vs_cli_observer o = {
		.command = "offcpu",
		.target = &a.t,
		.run = run,
		.arg = &a,
		.usage = usage,
		.parse_status = status,
		.parse_error = err,
	};

	return vs_cli_observe(&o);
}
