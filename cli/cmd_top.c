/* virtscope top: the daemon live, as top, htop and virt-top show a host.
 * Attaches the default collectors, feeds the live model (ui/top_model.h)
 * with their events and, once per refresh, with /proc and the collectors'
 * maps, and draws it: on the terminal (ncurses), as plain-text frames (-b)
 * or as one JSON object per interval (--json). When the daemon exits, it
 * waits for the same daemon to start again and re-attaches. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../collectors/contention.h"
#include "../collectors/lock_sampler.h"
#include "../collectors/offcpu.h"
#include "../collectors/probes.h"
#include "../collectors/proc_tasks.h"
#include "../collectors/session.h"
#include "../collectors/symbolize.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "../ui/top_ui.h"
#include "commands.h"
#include "common.h"
#include "top_flame.h"
#include "top_target.h"

static const char usage[] =
	"Usage: virtscope top [-p PID | --daemon NAME] [-d SECONDS] [-b [-n COUNT] | --json [-n COUNT]]\n"
	"                     [--rows N] [--profile NAME|FILE] [--no-holds]\n"
	"\n"
	"Shows the daemon live: its threads and what each is doing now, its domains,\n"
	"locks, RPC procedures, D-Bus methods, forks and main-loop stalls, refreshed\n"
	"every SECONDS. Without a target, it finds the one virtualization daemon\n"
	"running (libvirtd, virtqemud, ...). Press h for the keys.\n"
	"\n"
	"  -p, --pid PID          the process\n"
	"      --daemon NAME      the one process with this name\n"
	"  -d, --delay SECS       refresh every SECS (default 1)\n"
	"  -b, --batch            plain-text frames on stdout, as top -b\n"
	"      --json             one JSON object per interval on stdout\n"
	"  -n, --iterations N     with -b or --json: stop after N frames\n"
	"      --rows N           with -b or --json: rows per table (default: all)\n"
	"      --profile NAME     the daemon profile, built-in or a file\n"
	"      --no-holds         do not read who holds the domains' locks (100 times\n"
	"                         a second each, read-only: it costs top some CPU\n"
	"                         when many domains are busy)\n"
	"  -h, --help             show this help\n";

static const struct option long_opts[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "daemon", required_argument, NULL, 'D' },
	{ "delay", required_argument, NULL, 'd' },
	{ "batch", no_argument, NULL, 'b' },
	{ "json", no_argument, NULL, 'J' },
	{ "iterations", required_argument, NULL, 'n' },
	{ "rows", required_argument, NULL, 'r' },
	{ "profile", required_argument, NULL, 'P' },
	{ "no-holds", no_argument, NULL, 'H' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

enum top_mode { MODE_SCREEN, MODE_BATCH, MODE_JSON };

struct top_args {
	pid_t pid;
	const char *daemon;
	uint64_t delay_ns;
	enum top_mode mode;
	uint64_t count, rows;
	const char *profile;
	int no_holds;
	int help;
};

static int bad(char *err, size_t errlen, const char *fmt, const char *arg)
{
	snprintf(err, errlen, fmt, arg);
	return VS_EXIT_USAGE;
}

static int parse_args(int argc, char **argv, struct top_args *a, char *err, size_t errlen)
{
	int opt;

	memset(a, 0, sizeof(*a));
	a->delay_ns = VS_NSEC_PER_SEC;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":p:d:bn:h", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (vs_parse_pid(optarg, &a->pid))
				return bad(err, errlen, "invalid pid '%s'", optarg);
			break;
		case 'D':
			if (!*optarg)
				return bad(err, errlen, "empty daemon name%s", "");
			a->daemon = optarg;
			break;
		case 'd':
			if (vs_parse_seconds(optarg, 100 * VS_NSEC_PER_MSEC, 3600 * VS_NSEC_PER_SEC,
					     &a->delay_ns))
				return bad(err, errlen,
					   "invalid delay '%s': expected 0.1 to 3600 seconds", optarg);
			break;
		case 'b': a->mode = MODE_BATCH; break;
		case 'J': a->mode = MODE_JSON; break;
		case 'H': a->no_holds = 1; break;
		case 'n':
			if (vs_parse_u64(optarg, 1, 1000000000, &a->count))
				return bad(err, errlen, "invalid frame count '%s'", optarg);
			break;
		case 'r':
			if (vs_parse_u64(optarg, 1, 1000000, &a->rows))
				return bad(err, errlen, "invalid row count '%s'", optarg);
			break;
		case 'P': a->profile = optarg; break;
		case 'h': a->help = 1; break;
		case ':': return bad(err, errlen, "option '%s' needs a value", argv[optind - 1]);
		default: return bad(err, errlen, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad(err, errlen, "unexpected argument '%s'", argv[optind]);
	if (a->pid && a->daemon)
		return bad(err, errlen, "name the target with -p PID or --daemon NAME, not both%s", "");
	if (a->count && a->mode == MODE_SCREEN)
		return bad(err, errlen, "-n needs -b or --json%s", "");
	return 0;
}

/* ---- attaching ---- */

/* The probe kinds top needs: RPCs, what each thread does, D-Bus, QMP and
 * keepalives. Lock holds (every virMutexLock) would cost the daemon too much
 * to watch live: waits come from the contention collector. */
#define TOP_KINDS                                                                          \
	((1u << VS_PK_RPC_RECEIVE) | (1u << VS_PK_RPC_DISPATCH) | (1u << VS_PK_RPC_REPLY) |     \
	 (1u << VS_PK_THREAD_OBJECT) | (1u << VS_PK_THREAD_JOB) | (1u << VS_PK_SPAN_BEGIN) |    \
	 (1u << VS_PK_SPAN_END) | (1u << VS_PK_KEEPALIVE_SENT) | (1u << VS_PK_KEEPALIVE_RECV) | \
	 (1u << VS_PK_KEEPALIVE_TIMEOUT))

enum { C_PROBES, C_CONTENTION, C_OFFCPU, C_FORKS, NR_COLLECTORS };

#define TOP_FLAME_HZ 49           /* off the beat of periodic work */
#define TOP_FLAME_ENTRIES (1u << 17) /* 30 s of both CPUs at 49 Hz, and blocks */
static const char *const collectors[NR_COLLECTORS] = { "probes", "contention", "offcpu", "forks" };

struct top {
	const struct top_args *a;
	struct vs_session s;
	int attached;
	struct vs_symbolizer *sym;
	struct vs_top_model model;
	struct vs_top_ui ui;
	struct vs_target was; /* the daemon's identity, to find it again (its
				 pidfd is the session's, never closed here) */
	FILE *out;
	int screen;
	struct vs_top_flame *flame; /* the screen's recent stacks, for F */
	uint64_t next_sweep;        /* the epoch of the next forget_old_stacks() sweep */
	struct vs_lock_sampler *holds; /* who holds the objects' locks */
	uint64_t next_hold_sample;
	uint32_t *tids;             /* the target's threads at the last refresh */
	size_t ntids, tids_cap;
};

/* Holds are sampled 100 times a second: a domain's lock held across a
 * D-Bus call or a monitor command (hundreds of ms, up to 30 s) shows, and
 * the reads cost the daemon nothing. A free lock whose object no thread
 * took up in the last 5 s is no longer read (it may be gone, and reads cost
 * top a page lookup each). */
#define HOLD_SAMPLE_NS (10 * VS_NSEC_PER_MSEC)
#define HOLD_FORGET_NS (5 * VS_NSEC_PER_SEC)

static void detach(struct top *t)
{
	if (!t->attached)
		return;
	vs_symbolizer_free(t->sym);
	t->sym = NULL;
	vs_lock_sampler_free(t->holds);
	t->holds = NULL;
	if (t->flame)
		vs_top_flame_clear(t->flame); /* its stack ids were the session's */
	vs_session_release(&t->s);
	t->attached = 0;
}

/* Attaches to pid: 0, or -errno with a one-line reason in err. */
static int attach(struct top *t, pid_t pid, char *err, size_t errlen)
{
	struct vs_config cfg = {
		.profile = t->a->profile,
		.probe_kinds = TOP_KINDS,
		.offcpu_min_ns = 5 * VS_NSEC_PER_MSEC,
		.stall_ns = 10 * VS_NSEC_PER_MSEC,
		.freq_hz = TOP_FLAME_HZ,
		/* a restarted daemon is attached to again */
		.keep_privileges = 1,
	};
	struct vs_target target;
	int rc;

	rc = vs_target_open(&target, pid, err, errlen);
	if (rc)
		return rc;
	rc = vs_session_init(&t->s, &target, &cfg);
	t->attached = 1;
	for (int i = 0; !rc && i < NR_COLLECTORS; i++)
		rc = vs_session_add_collector(&t->s, collectors[i]);
	/* On a screen, F can ask for on-CPU stacks of the last seconds: they
	 * are sampled all along, at a rate that costs the daemon next to
	 * nothing and still fills a graph in 30 s. */
	if (!rc && t->flame)
		rc = vs_session_add_collector(&t->s, "cpu");
	if (!rc)
		rc = vs_session_add_consumer(&t->s, vs_top_model_consumer(&t->model));
	if (!rc && t->flame)
		rc = vs_session_add_consumer(&t->s, vs_top_flame_consumer(t->flame));
	if (rc) {
		snprintf(err, errlen, "%s", strerror(-rc));
		goto fail;
	}
	rc = vs_session_start(&t->s, err, errlen);
	if (rc)
		goto fail;
	t->sym = vs_symbolizer_new(t->s.procs);
	t->holds = t->a->no_holds ? NULL : vs_lock_sampler_new(pid);
	if (!t->holds && !t->a->no_holds) {
		rc = -ENOMEM;
		snprintf(err, errlen, "%s", strerror(-rc));
		goto fail;
	}
	t->was = t->s.target;
	vs_top_model_attach(&t->model, (uint32_t)pid, t->s.target.comm,
			    vs_probes_profile(&t->s.collectors[C_PROBES]), vs_now_ns());
	return 0;
fail:
	detach(t);
	return rc;
}

/* ---- one refresh ---- */

static int on_task(const struct vs_proc_task *pt, void *arg)
{
	struct top *t = arg;

	vs_top_model_task(&t->model, pt);
	if (t->ntids == t->tids_cap) {
		size_t cap = t->tids_cap ? t->tids_cap * 2 : 64;
		uint32_t *p = realloc(t->tids, cap * sizeof(*p));

		if (!p)
			return 0; /* holds by the threads beyond go unseen */
		t->tids = p;
		t->tids_cap = cap;
	}
	t->tids[t->ntids++] = pt->tid;
	return 0;
}

static int on_object(const struct vs_probe_object *o, void *arg)
{
	struct top *t = arg;

	vs_lock_sampler_watch(t->holds, o->lock, o->name, o->seen_ns);
	return 0;
}

static int on_hold(const struct vs_lock_hold *h, void *arg)
{
	vs_top_model_hold(arg, h);
	return 0;
}

/* The holds sampled since the last refresh, then the objects to read next:
 * those the threads worked on lately, among the threads there are now. */
static void read_holds(struct top *t, uint64_t now_ns)
{
	uint64_t since = now_ns > HOLD_FORGET_NS ? now_ns - HOLD_FORGET_NS : 0;

	if (!t->holds)
		return;
	vs_lock_sampler_take(t->holds, since, on_hold, &t->model);
	vs_probes_objects(&t->s.collectors[C_PROBES], since, on_object, t);
	vs_lock_sampler_set_threads(t->holds, t->tids, t->ntids);
}

static int on_totals(const struct vs_offcpu_totals *ot, void *arg)
{
	vs_top_model_offcpu(arg, ot);
	return 0;
}

static int on_lock(uint64_t addr, const struct vs_lock_stats *st, void *arg)
{
	vs_top_model_lock(arg, addr, st);
	return 0;
}

static int on_wait(const struct vs_lock_wait_now *w, void *arg)
{
	vs_top_model_wait_now(arg, w);
	return 0;
}

static void read_sources(struct top *t)
{
	struct vs_top_model *m = &t->model;
	uint64_t ticks = 0, start = 0, self = 0, self_start, self_rss = 0;
	struct vs_collector_stats st;
	struct vs_offcpu_info info = { 0 };
	pid_t pid = t->s.target.pid;

	vs_top_model_begin_refresh(m);
	t->ntids = 0;
	vs_proc_tasks(pid, on_task, t);
	vs_offcpu_totals(&t->s.collectors[C_OFFCPU], on_totals, m);
	vs_contention_lock_stats(&t->s.collectors[C_CONTENTION], on_lock, m);
	vs_contention_waits_now(&t->s.collectors[C_CONTENTION], on_wait, m);
	read_holds(t, vs_now_ns());
	vs_offcpu_info(&t->s.collectors[C_OFFCPU], &info);
	vs_proc_times(pid, &ticks, &start);
	vs_proc_times(getpid(), &self, &self_start);
	vs_session_stats(&t->s, &st);
	vs_top_model_process(m, ticks, start, self, info.loop.busy_max_ns, st.events);
	if (!vs_proc_rss_kib(getpid(), &self_rss))
		vs_top_model_self_rss(m, self_rss);
}

/* Stacks and names nothing shows any more are forgotten: top runs for days,
 * and a stack met once (an off-CPU block, a sample on a new address) would
 * otherwise be kept for good. Kept: what the tables, the stories and F's
 * window refer to, and anything used in the last TOP_KEEP_S, since
 * collectors hold some ids for a while (a call's stack until its end). */
#define TOP_KEEP_S 60
#define TOP_SWEEP_S 20

static void forget_old_stacks(struct top *t, uint64_t now_ns)
{
	uint64_t epoch = now_ns / VS_NSEC_PER_SEC + 1; /* never 0: 0 is "never set" */

	vs_stacks_set_epoch(t->s.stacks, epoch);
	if (t->sym)
		vs_symbolizer_set_epoch(t->sym, epoch);
	if (epoch < t->next_sweep)
		return;
	t->next_sweep = epoch + TOP_SWEEP_S;
	vs_top_model_touch_stacks(&t->model, t->s.stacks);
	if (t->flame)
		vs_top_flame_touch(t->flame, t->s.stacks, now_ns);
	if (epoch > TOP_KEEP_S) {
		vs_stacks_forget_before(t->s.stacks, epoch - TOP_KEEP_S);
		if (t->sym)
			vs_symbolizer_forget_before(t->sym, epoch - TOP_KEEP_S);
		vs_release_free_memory();
	}
}

static void show(struct top *t)
{
	if (t->a->mode == MODE_BATCH)
		vs_top_write_text(t->out, &t->model, t->a->rows);
	else if (t->a->mode == MODE_JSON)
		vs_top_write_json(t->out, &t->model, t->a->rows);
	else if (!vs_top_ui_build(&t->ui, &t->model))
		vs_top_screen_draw(&t->ui, &t->model);
}

/* ---- details and flame graphs ---- */

static void add_detail(struct vs_top_ui *ui, const char *s)
{
	if (ui->nr_detail < VS_TOP_MAX_DETAIL_LINES)
		snprintf(ui->detail[ui->nr_detail++], sizeof(ui->detail[0]), "%.159s", s);
}

static void fill_details(struct top *t)
{
	struct vs_top_ui *ui = &t->ui;
	const struct vs_top_table *tb = &ui->table;
	const struct vs_top_row *r;
	const struct vs_stack *st;
	char buf[200];

	ui->nr_detail = 0;
	ui->details = 1;
	if (ui->selected >= tb->nr)
		return;
	r = &tb->rows[ui->selected];
	for (int c = 0; c < tb->ncols; c++) {
		snprintf(buf, sizeof(buf), "%-10s %s", tb->cols[c].title, r->cells[c].text);
		add_detail(ui, buf);
	}
	add_detail(ui, "");
	st = t->attached && r->stack ? vs_stacks_get(t->s.stacks, r->stack) : NULL;
	if (!st || !t->sym) {
		add_detail(ui, "(no stack seen for this row yet: stacks come with long blocks and waits)");
		return;
	}
	add_detail(ui, "Its latest long block or wait, leaf first:");
	for (unsigned int i = 0; i < st->nr_kernel; i++) {
		snprintf(buf, sizeof(buf), "  %s_[k]",
			 vs_symbolize_kernel(t->sym, vs_stack_lookup_ip(st->ips, i)));
		add_detail(ui, buf);
	}
	for (unsigned int i = 0; i < st->nr_user; i++) {
		snprintf(buf, sizeof(buf), "  %s",
			 vs_symbolize_user(t->sym, st->pid,
					   vs_stack_lookup_ip(st->ips + st->nr_kernel, i)));
		add_detail(ui, buf);
	}
	add_detail(ui, "");
	add_detail(ui, "Any key returns to the view.");
}

/* F: virtscope-top-KIND-PID-TIME.svg in the working directory. */
static void write_flame(struct top *t)
{
	int offcpu = !strcmp(t->ui.flame_kind, "off");
	struct vs_top_flame_result res;
	char path[64], title[160], when[32], span[24], err[128];
	time_t now = time(NULL);
	struct tm tm;

	if (!t->attached) {
		snprintf(t->ui.message, sizeof(t->ui.message), "no flame graph: not attached");
		return;
	}
	localtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y%m%d-%H%M%S", &tm);
	snprintf(path, sizeof(path), "virtscope-top-%s-%d-%s.svg", offcpu ? "offcpu" : "cpu",
		 (int)t->s.target.pid, when);
	snprintf(title, sizeof(title), "%s of %s[%d], the last %llu s", offcpu ? "Off-CPU time" : "On-CPU",
		 t->s.target.comm, (int)t->s.target.pid,
		 (unsigned long long)(VS_TOP_FLAME_WINDOW_NS / VS_NSEC_PER_SEC));
	if (vs_top_flame_write(t->flame, offcpu, t->s.stacks, t->sym, vs_now_ns(), title, path,
			       &res, err, sizeof(err))) {
		snprintf(t->ui.message, sizeof(t->ui.message), "no flame graph: %s", err);
		return;
	}
	vs_fmt_ns(span, sizeof(span), res.span_ns);
	snprintf(t->ui.message, sizeof(t->ui.message), "wrote %s: %llu %s over %s", path,
		 (unsigned long long)res.events, offcpu ? "blocks" : "samples", span);
}

/* ---- the loop ---- */

static int handle_keys(struct top *t, int *refresh_now)
{
	int key, flags = 0;

	while ((key = vs_top_screen_key()) != -1) {
		int f = vs_top_ui_key(&t->ui, key);

		if (f & VS_TOP_QUIT)
			return 1;
		if (f & VS_TOP_RESET)
			vs_top_model_reset(&t->model);
		if (f & VS_TOP_DETAILS)
			fill_details(t);
		if (f & VS_TOP_FLAME)
			write_flame(t);
		flags |= f;
	}
	if (flags & VS_TOP_REFRESH)
		*refresh_now = 1;
	if (flags & (VS_TOP_REDRAW | VS_TOP_REFRESH)) {
		if (!vs_top_ui_build(&t->ui, &t->model))
			vs_top_screen_draw(&t->ui, &t->model);
	}
	return 0;
}

/* The target exited: wait for a process of the same name, and attach. */
static void reattach(struct top *t, pid_t old)
{
	char err[512];
	pid_t pid;

	if (vs_target_find_restart(&t->was, &pid)) {
		vs_top_model_status(&t->model, "pid %d exited; waiting for %s to start again",
				    (int)old, t->was.comm);
		return;
	}
	if (attach(t, pid, err, sizeof(err))) {
		vs_top_model_status(&t->model, "%s restarted as pid %d; cannot attach: %s", t->was.comm,
				    (int)pid, err);
		return;
	}
	vs_top_model_status(&t->model, "target restarted, re-attached to pid %d (was %d)", (int)pid,
			    (int)old);
}

static int run_loop(struct top *t)
{
	uint64_t next = vs_now_ns() + t->a->delay_ns, frames = 0;
	pid_t last_pid = t->s.target.pid;
	int status = VS_EXIT_OK;

	while (!vs_session_interrupted()) {
		uint64_t now = vs_now_ns(), slice = next > now ? next - now : 0;
		int refresh_now = 0, rc = 0;

		/* On a screen, keys are read every 50 ms. */
		if (t->screen && slice > 50 * VS_NSEC_PER_MSEC)
			slice = 50 * VS_NSEC_PER_MSEC;
		if (t->attached && t->holds && vs_lock_sampler_count(t->holds)) {
			if (now >= t->next_hold_sample) {
				/* a read that fails (the target exiting) is
				 * the session's to find out */
				vs_lock_sampler_sample(t->holds, now);
				t->next_hold_sample = now + HOLD_SAMPLE_NS;
			}
			if (slice > t->next_hold_sample - now)
				slice = t->next_hold_sample - now;
		}
		if (t->attached) {
			rc = slice ? vs_session_run(&t->s, slice) : 0;
		} else {
			usleep((useconds_t)(slice / 1000));
		}
		if (rc == -ESRCH) {
			/* A frame that says so at once: detaching takes the
			 * kernel a while (an RCU grace period per uprobe). */
			last_pid = t->s.target.pid;
			vs_top_model_status(&t->model, "pid %d exited; waiting for %s to start again",
					    (int)last_pid, t->was.comm);
			show(t);
			detach(t);
			if (t->a->count && ++frames >= t->a->count)
				break;
			next = vs_now_ns() + (uint64_t)(t->ui.delay_s * 1e9);
			continue;
		} else if (rc) {
			pr_err("top: tracing failed: %s", strerror(-rc));
			status = VS_EXIT_FAILURE;
			break;
		}
		if (t->screen && handle_keys(t, &refresh_now))
			break;
		now = vs_now_ns();
		if (now < next && !refresh_now)
			continue;
		if (!t->attached)
			reattach(t, last_pid);
		if (t->attached && !(t->screen && t->ui.paused)) {
			read_sources(t);
			vs_top_model_tick(&t->model, now);
			forget_old_stacks(t, now);
		}
		if (!(t->screen && t->ui.paused))
			show(t);
		if (t->a->count && ++frames >= t->a->count)
			break;
		next = vs_now_ns() + (uint64_t)(t->ui.delay_s * 1e9);
	}
	return status;
}

static int run(const struct top_args *a, pid_t pid)
{
	struct top t = { .a = a, .out = stdout };
	char err[512];
	int status = VS_EXIT_FAILURE, rc;

	if (vs_top_model_init(&t.model)) {
		pr_err("top: out of memory");
		goto cleanup;
	}
	vs_top_ui_init(&t.ui, (double)a->delay_ns / 1e9, 0);
	if (a->mode == MODE_SCREEN && !(t.flame = vs_top_flame_new(TOP_FLAME_ENTRIES))) {
		pr_err("top: out of memory");
		goto cleanup;
	}
	vs_cli_handle_signals();
	rc = attach(&t, pid, err, sizeof(err));
	if (rc) {
		pr_err("cannot watch pid %d: %s", (int)pid, err);
		status = vs_cli_start_status(rc);
		goto cleanup;
	}
	if (!vs_probes_profile(&t.s.collectors[C_PROBES]))
		pr_warn("no profile knows pid %d: only threads, locks, off-CPU time and forks are shown",
			(int)pid);
	if (a->mode == MODE_SCREEN) {
		vs_log_hold(); /* warnings wait until the screen is closed */
		if (vs_top_screen_open()) {
			vs_log_release();
			pr_err("top: cannot open the terminal");
			goto cleanup;
		}
		t.screen = 1;
		/* Useful in the first second: the threads and /proc at once. */
		read_sources(&t);
		vs_top_model_tick(&t.model, vs_now_ns());
		show(&t);
	}
	status = run_loop(&t);
cleanup:
	if (t.screen) {
		vs_top_screen_close();
		vs_log_release();
	}
	detach(&t);
	vs_top_ui_release(&t.ui);
	vs_top_model_release(&t.model);
	vs_top_flame_free(t.flame);
	free(t.tids);
	return status;
}

int cmd_top(int argc, char **argv)
{
	struct top_args a;
	struct vs_target target;
	char err[512];
	int status = parse_args(argc, argv, &a, err, sizeof(err));
	pid_t pid = a.pid;

	if (status) {
		pr_err("top: %s", err);
		return status;
	}
	if (a.help) {
		fputs(usage, stdout);
		return VS_EXIT_OK;
	}
	if (!pid && a.daemon && vs_target_find(a.daemon, &pid, err, sizeof(err))) {
		pr_err("%s", err);
		return VS_EXIT_USAGE;
	}
	if (!pid && !a.daemon && vs_top_find_daemon(&pid, err, sizeof(err))) {
		pr_err("top: %s", err);
		return VS_EXIT_USAGE;
	}
	/* Checked here, as every command does, so that a pid that is no daemon
	 * is a bad argument; attach() opens it again, as it does on a restart. */
	status = vs_cli_open_target(pid, NULL, &target);
	if (status)
		return status;
	vs_target_close(&target);
	if (a.mode == MODE_SCREEN && (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))) {
		pr_err("top: not a terminal: use -b or --json");
		return VS_EXIT_USAGE;
	}
	status = vs_cli_check_privileges("top");
	if (status)
		return status;
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	return run(&a, pid);
}
