/* virtscope trace: every event of a daemon's profile, one line each, as
 * they happen (perf script's shape): locks waited for and held, operations,
 * D-Bus calls, forks and execs, loop iterations, keepalives. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../collectors/probes.h"
#include "../collectors/session.h"
#include "../collectors/symbolize.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "commands.h"
#include "common.h"

static const char usage[] =
	"Usage: virtscope trace (-p PID | --daemon NAME) [-d SECONDS] [--profile NAME|FILE]\n"
	"                       [--lock-min MS] [--stacks] [--buffer KB] [-o FILE]\n"
	"\n"
	"Prints each event of the daemon's profile as it happens: lock waits and holds,\n"
	"operations, D-Bus calls, forks and execs, loop iterations, keepalives.\n"
	"\n"
	"  -p, --pid PID          the process to trace\n"
	"      --daemon NAME      the one process with this name\n"
	"  -d, --duration SECS    stop after SECS (default: at Ctrl-C or SIGTERM)\n"
	"      --profile NAME     the daemon profile, built-in or a file (default: the\n"
	"                         one matching the process; USDT first)\n"
	"      --lock-min MS      lock waits and holds shorter than this are only counted\n"
	"                         (default 1; 0 prints every one)\n"
	"      --stacks           print the user stack under events that carry one\n"
	"      --buffer KB        the ring buffer BPF hands events over in (default\n"
	"                         8192); when it overflows, what was lost is printed\n"
	"  -o, --output FILE      write to FILE (created 0600) instead of stdout\n"
	"  -h, --help             show this help\n";

static const struct option long_opts[] = {
	VS_CLI_TARGET_LONGOPTS,
	{ "profile", required_argument, NULL, 'P' },
	{ "stacks", no_argument, NULL, 'S' },
	{ "lock-min", required_argument, NULL, 'L' },
	{ "buffer", required_argument, NULL, 'B' },
	{ 0 },
};

struct trace_args {
	struct vs_cli_target_opts t;
	const char *profile;
	int stacks;
	uint64_t lock_min_ns;
	uint64_t buffer_kb;
};

struct printer {
	struct vs_consumer consumer;
	FILE *out;
	struct vs_session *session;
	struct vs_symbolizer *sym;
	uint64_t t0;
	int stacks;
};

static int parse_args(int argc, char **argv, struct trace_args *a, char *err, size_t errlen)
{
	int opt, rc;

	memset(a, 0, sizeof(*a));
	a->lock_min_ns = VS_NSEC_PER_MSEC;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":" VS_CLI_TARGET_SHORTOPTS, long_opts, NULL)) != -1) {
		rc = vs_cli_target_option(opt, optarg, argv, &a->t, err, errlen);
		if (rc != VS_CLI_OPT_OTHER) {
			if (rc)
				return rc;
			continue;
		}
		switch (opt) {
		case 'P': a->profile = optarg; break;
		case 'S': a->stacks = 1; break;
		case 'B':
			/* a power of two of pages, as BPF ring buffers are */
			if (vs_parse_u64(optarg, 4, 1u << 20, &a->buffer_kb) ||
			    (a->buffer_kb & (a->buffer_kb - 1))) {
				snprintf(err, errlen,
					 "invalid --buffer '%s': expected a power of two from 4 to 1048576 KiB",
					 optarg);
				return VS_EXIT_USAGE;
			}
			break;
		case 'L':
			if (vs_parse_ms(optarg, 3600 * 1000, &a->lock_min_ns)) {
				snprintf(err, errlen, "invalid --lock-min '%s': expected milliseconds", optarg);
				return VS_EXIT_USAGE;
			}
			break;
		}
	}
	return vs_cli_target_done(argc, argv, &a->t, err, errlen);
}

static const char *span_name(enum vs_span_kind k)
{
	switch (k) {
	case VS_SPAN_RPC: return "rpc";
	case VS_SPAN_DBUS: return "dbus";
	case VS_SPAN_CAPS_LOOKUP: return "caps";
	case VS_SPAN_QMP: return "qmp";
	case VS_SPAN_LOOP_ITERATION: return "loop";
	case VS_SPAN_OPERATION: return "op";
	case VS_SPAN_FUNCTION: return "func";
	default: return "span";
	}
}

static void print_str(FILE *out, const char *key, const char *v)
{
	if (v && *v)
		fprintf(out, " %s=%s", key, v);
}

static void print_span(FILE *out, const struct vs_event *ev)
{
	fprintf(out, "%s.%s", ev->kind == VS_EV_SPAN_BEGIN ? "begin" : "span",
		span_name(ev->span.kind));
	print_str(out, "name", ev->span.name);
	print_str(out, "object", ev->span.object);
	print_str(out, "iface", ev->span.iface);
	print_str(out, "peer", ev->span.peer);
	fprintf(out, " id=%llu", (unsigned long long)ev->span.id);
	if (ev->span.timeout_ms)
		fprintf(out, " timeout_ms=%llu", (unsigned long long)ev->span.timeout_ms);
	if (ev->kind == VS_EV_SPAN_END)
		fprintf(out, " dur_us=%.1f result=%lld", (double)ev->dur_ns / 1e3,
			(long long)ev->span.result);
}

static void print_lock(FILE *out, const struct vs_event *ev, pid_t pid)
{
	char holder[16] = "";

	fprintf(out, "lock.%s lock=0x%llx", ev->lock.phase == VS_LOCK_WAIT ? "wait" : "hold",
		(unsigned long long)ev->lock.addr);
	print_str(out, "kind", ev->lock.kind);
	print_str(out, "object", ev->lock.object);
	fprintf(out, " dur_us=%.1f", (double)ev->dur_ns / 1e3);
	if (ev->lock.phase == VS_LOCK_WAIT && ev->lock.holder_tid) {
		vs_read_comm(pid, (pid_t)ev->lock.holder_tid, holder, sizeof(holder));
		fprintf(out, " holder=%u", ev->lock.holder_tid);
		print_str(out, "holder_comm", holder);
	}
}

static void print_body(struct printer *pr, const struct vs_event *ev)
{
	FILE *out = pr->out;

	switch (ev->kind) {
	case VS_EV_SPAN_BEGIN:
	case VS_EV_SPAN_END:
		print_span(out, ev);
		break;
	case VS_EV_LOCK:
		print_lock(out, ev, pr->session->target.pid);
		break;
	case VS_EV_FORK:
		fprintf(out, "fork child=%u dur_us=%.1f", ev->fork.child_pid, (double)ev->dur_ns / 1e3);
		print_str(out, "reason", ev->fork.reason);
		break;
	case VS_EV_EXEC:
		fprintf(out, "exec");
		print_str(out, "file", ev->exec.filename);
		break;
	case VS_EV_KEEPALIVE:
		fprintf(out, "keepalive.%s client=0x%llx",
			ev->keepalive.phase == VS_KEEPALIVE_SENT     ? "sent"
			: ev->keepalive.phase == VS_KEEPALIVE_RECEIVED ? "received"
								       : "timeout",
			(unsigned long long)ev->keepalive.client);
		if (ev->keepalive.phase == VS_KEEPALIVE_TIMEOUT)
			fprintf(out, " count=%lld idle_s=%lld", (long long)ev->keepalive.count,
				(long long)ev->keepalive.idle_s);
		else
			fprintf(out, " proc=%lld", (long long)ev->keepalive.proc);
		break;
	case VS_EV_DISPATCH:
		fprintf(out, "dispatch");
		print_str(out, "source", ev->dispatch.source);
		fprintf(out, " fd=%lld", (long long)ev->dispatch.fd);
		break;
	case VS_EV_THREAD_JOB:
		fprintf(out, "job name=%s", ev->job.name[0] ? ev->job.name : "-");
		break;
	case VS_EV_LOST:
		fprintf(out, "lost count=%llu collector=%s", (unsigned long long)ev->lost.count,
			ev->lost.collector);
		break;
	default:
		fprintf(out, "%s", vs_event_kind_name(ev->kind));
		break;
	}
}

static void print_stack(struct printer *pr, const struct vs_event *ev)
{
	const struct vs_stack *st = vs_stacks_get(pr->session->stacks, ev->stack);

	if (!st)
		return;
	for (unsigned int i = 0; i < st->nr_user; i++)
		fprintf(pr->out, "\t%s\n",
			vs_symbolize_user(pr->sym, st->pid,
					  vs_stack_lookup_ip(st->ips + st->nr_kernel, i)));
}

static void on_event(struct vs_consumer *self, const struct vs_event *ev)
{
	struct printer *pr = (struct printer *)self;
	/* Events are stamped when they started; a completed span is printed
	 * when it ends, so lines are in order of completion. */
	uint64_t ts = ev->ts_ns > pr->t0 ? ev->ts_ns - pr->t0 : 0;

	if (ev->kind == VS_EV_SAMPLE)
		return;
	fprintf(pr->out, "%12.6f %u/%u %s ", (double)ts / 1e9, ev->pid, ev->tid, ev->comm);
	print_body(pr, ev);
	fputc('\n', pr->out);
	if (pr->stacks && ev->stack)
		print_stack(pr, ev);
}

static int run(void *arg, struct vs_target *target, FILE *out)
{
	const struct trace_args *a = arg;
	struct vs_config cfg = { .profile = a->profile,
				 .lock_min_ns = a->lock_min_ns,
				 .ringbuf_size = (uint32_t)(a->buffer_kb * 1024) };
	struct printer pr = { .consumer.event = on_event, .out = out, .stacks = a->stacks };
	const struct vs_profile *profile;
	struct vs_session s;
	char err[512];
	int rc, status = VS_EXIT_FAILURE;

	rc = vs_session_init(&s, target, &cfg);
	if (rc)
		goto cleanup;
	pr.session = &s;
	pr.sym = vs_symbolizer_new(s.procs);
	if (!pr.sym) {
		rc = -ENOMEM;
		goto cleanup;
	}
	if ((rc = vs_session_add_collector(&s, "probes")) ||
	    (rc = vs_session_add_consumer(&s, &pr.consumer)))
		goto cleanup;
	vs_cli_handle_signals();
	rc = vs_session_start(&s, err, sizeof(err));
	if (rc) {
		pr_err("cannot trace pid %d: %s", (int)target->pid, err);
		status = vs_cli_start_status(rc);
		rc = 0;
		goto cleanup;
	}
	profile = vs_probes_profile(&s.collectors[0]);
	fprintf(stderr, "virtscope: tracing pid %d with profile '%s' (%zu probes)\n",
		(int)target->pid, profile ? profile->name : "?", profile ? profile->nr_probes : 0);
	pr.t0 = vs_now_ns();
	rc = vs_session_run(&s, a->t.duration_ns);
	vs_session_stop(&s);
	if (rc == -ESRCH) {
		pr_err("process %d exited during the trace", (int)target->pid);
		rc = 0;
		goto cleanup;
	}
	if (rc) {
		pr_err("tracing failed: %s", strerror(-rc));
		rc = 0;
		goto cleanup;
	}
	status = VS_EXIT_OK;
cleanup:
	if (rc)
		pr_err("trace: %s", strerror(-rc));
	vs_session_release(&s);
	vs_symbolizer_free(pr.sym);
	return status;
}

int cmd_trace(int argc, char **argv)
{
	struct trace_args a;
	char err[512];
	int status = parse_args(argc, argv, &a, err, sizeof(err));
	struct vs_cli_observer o = {
		.command = "trace",
		.target = &a.t,
		.line_buffered = 1,
		.run = run,
		.arg = &a,
		.usage = usage,
		.parse_status = status,
		.parse_error = err,
	};

	return vs_cli_observe(&o);
}
