/* virtscope forks: how many processes each operation of a daemon creates,
 * what that costs the daemon, which code path makes them, and what became
 * of each child; or folded stacks weighted by time spent forking. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../bpf/probes.h"
#include "../collectors/fork_report.h"
#include "../collectors/probes.h"
#include "../collectors/session.h"
#include "../collectors/symbolize.h"
#include "../flamegraph/folded.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "commands.h"
#include "common.h"

static const char usage[] =
	"Usage: virtscope forks (-p PID | --daemon NAME) [-d SECONDS] [-f] [-n ROWS]\n"
	"                       [--syscalls] [--profile NAME|FILE] [-o FILE]\n"
	"\n"
	"Reports every process the daemon creates (fork, vfork, posix_spawn, clone of a\n"
	"process): forks per operation and their cost in the daemon, forks by call path,\n"
	"the programs its children exec'd and how long that took, and the children that\n"
	"never exec'd. Operations come from the daemon's profile (libvirtd: the RPC each\n"
	"worker runs, capability lookups, virCommandRun and other forking functions).\n"
	"A fork made by a raw system call, outside libc's wrappers (as Go makes them),\n"
	"is seen and attributed, but timed only with --syscalls.\n"
	"\n"
	"  -p, --pid PID          the process\n"
	"      --daemon NAME      the one process with this name\n"
	"  -d, --duration SECS    stop after SECS (default: at Ctrl-C or SIGTERM)\n"
	"  -f, --folded           folded stacks weighted by the parent's time in fork\n"
	"                         calls, in us, instead of the report\n"
	"  -n, --rows N           paths, programs and children shown (default 20)\n"
	"      --syscalls         also time forks made by raw fork, vfork, clone and\n"
	"                         clone3 system calls; while attached, every system call\n"
	"                         on the machine costs about 90 ns more (the kernel's\n"
	"                         traced path)\n"
	"      --profile NAME     the daemon profile, built-in or a file\n"
	"  -o, --output FILE      write to FILE (created 0600) instead of stdout\n"
	"  -h, --help             show this help\n";

static const struct option long_opts[] = {
	VS_CLI_TARGET_LONGOPTS,
	{ "folded", no_argument, NULL, 'f' },
	{ "rows", required_argument, NULL, 'n' },
	{ "profile", required_argument, NULL, 'P' },
	{ "syscalls", no_argument, NULL, 'S' },
	{ 0 },
};

struct forks_args {
	struct vs_cli_target_opts t;
	uint64_t rows;
	int folded;
	int syscalls;
	const char *profile;
};

#define PATH_FRAMES 12 /* frames of a call path printed */

static int parse_args(int argc, char **argv, struct forks_args *a, char *err, size_t errlen)
{
	int opt, rc;

	memset(a, 0, sizeof(*a));
	a->rows = 20;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":" VS_CLI_TARGET_SHORTOPTS "n:f", long_opts,
				  NULL)) != -1) {
		rc = vs_cli_target_option(opt, optarg, argv, &a->t, err, errlen);
		if (rc != VS_CLI_OPT_OTHER) {
			if (rc)
				return rc;
			continue;
		}
		switch (opt) {
		case 'f': a->folded = 1; break;
		case 'P': a->profile = optarg; break;
		case 'S': a->syscalls = 1; break;
		case 'n':
			if (vs_parse_u64(optarg, 1, 100000, &a->rows)) {
				snprintf(err, errlen, "invalid row count '%s'", optarg);
				return VS_EXIT_USAGE;
			}
			break;
		}
	}
	return vs_cli_target_done(argc, argv, &a->t, err, errlen);
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static double per(uint64_t n, uint64_t d)
{
	return d ? (double)n / (double)d : 0;
}

struct namer {
	struct vs_session *s;
	struct vs_symbolizer *sym;
};

/* A call path: the user frames, leaf first. */
static char *name_path(vs_stack_id id, void *arg)
{
	struct namer *n = arg;
	const struct vs_stack *st = vs_stacks_get(n->s->stacks, id);
	struct vs_strbuf sb = { 0 };

	if (!st || !st->nr_user)
		return NULL;
	for (unsigned int i = 0; i < st->nr_user; i++)
		if (vs_strbuf_addf(&sb, "%s%s", i ? " <- " : "",
				   vs_symbolize_user(n->sym, st->pid,
						     vs_stack_lookup_ip(st->ips + st->nr_kernel, i)))) {
			vs_strbuf_release(&sb);
			return NULL;
		}
	return sb.buf;
}

/* The first PATH_FRAMES frames of a path. */
static void print_path(FILE *out, const char *path)
{
	const char *p = path;

	for (int i = 0; i < PATH_FRAMES && p; i++) {
		p = strstr(p, " <- ");
		if (p)
			p += 4;
	}
	if (!p)
		fprintf(out, "      %s\n", path);
	else
		fprintf(out, "      %.*s ...\n", (int)(p - 4 - path), path);
}

static void print_ops(FILE *out, const struct vs_fork_report *r)
{
	const struct vs_fork_op_row *o;
	size_t n = vs_fork_report_ops(r, &o);

	fputs("Forks per operation:\n", out);
	for (size_t i = 0; i < n; i++) {
		uint64_t runs = o[i].ops ? o[i].ops : 1;

		fprintf(out, "  %s: %.2f forks/op, %.3f ms/op in fork, %.2f caps lookups/op\n",
			o[i].name, per(o[i].forks, runs), ms(o[i].fork_ns) / (double)runs,
			per(o[i].caps, runs));
		fprintf(out, "      runs=%llu forks=%llu timed=%llu fork_ms=%.3f execs=%llu "
			     "to_exec_ms_avg=%.3f caps=%llu caps_ms=%.3f caps_forks=%llu\n",
			(unsigned long long)o[i].ops, (unsigned long long)o[i].forks,
			(unsigned long long)o[i].forks_timed, ms(o[i].fork_ns),
			(unsigned long long)o[i].execs,
			o[i].execs ? ms(o[i].to_exec_ns) / (double)o[i].execs : 0,
			(unsigned long long)o[i].caps, ms(o[i].caps_ns),
			(unsigned long long)o[i].caps_forks);
	}
	if (!n)
		fputs("  (no operation seen)\n", out);
}

static void print_paths(FILE *out, const struct vs_fork_report *r, uint64_t rows)
{
	const struct vs_fork_path_row *p;
	size_t n = vs_fork_report_paths(r, &p);

	fprintf(out, "\nForks by call path (%zu paths):\n", n);
	for (size_t i = 0; i < n && i < rows; i++) {
		fprintf(out, "  %llu forks, %.3f ms in fork (max %.3f ms), by %s",
			(unsigned long long)p[i].forks, ms(p[i].fork_ns), ms(p[i].fork_max_ns),
			p[i].op ? p[i].op : VS_FORK_NO_OP);
		if (p[i].func)
			fprintf(out, " in %s", p[i].func);
		if (p[i].program)
			fprintf(out, ", exec'd %s", p[i].program);
		fputc('\n', out);
		print_path(out, p[i].path);
	}
}

static void print_programs(FILE *out, const struct vs_fork_report *r, uint64_t rows)
{
	const struct vs_fork_exec_row *e;
	size_t n = vs_fork_report_execs(r, &e);

	fprintf(out, "\nExec'd programs (%zu):\n", n);
	for (size_t i = 0; i < n && i < rows; i++) {
		fprintf(out, "  %s: %llu execs, %.3f ms to exec on average (max %.3f ms)",
			e[i].program, (unsigned long long)e[i].count,
			ms(e[i].to_exec_ns) / (double)e[i].count, ms(e[i].to_exec_max_ns));
		if (e[i].op)
			fprintf(out, ", forked by %s", e[i].op);
		if (e[i].func)
			fprintf(out, " in %s", e[i].func);
		fputc('\n', out);
	}
}

static void print_status(FILE *out, int32_t status)
{
	if (WIFSIGNALED(status))
		fprintf(out, "killed by signal %d", WTERMSIG(status));
	else
		fprintf(out, "exited %d", WEXITSTATUS(status));
}

static void print_orphans(FILE *out, const struct vs_fork_report *r, uint64_t rows)
{
	const struct vs_fork_orphan *o;
	size_t n = vs_fork_report_orphans(r, &o);

	fprintf(out, "\nChildren that never exec'd (%zu):\n", n);
	for (size_t i = 0; i < n && i < rows; i++) {
		fprintf(out, "  pid %u forked by %s[%u] in %s", o[i].pid, o[i].comm, o[i].tid,
			o[i].op ? o[i].op : VS_FORK_NO_OP);
		if (o[i].func)
			fprintf(out, " via %s", o[i].func);
		fputs(": ", out);
		if (o[i].exited) {
			print_status(out, o[i].status);
			fprintf(out, " after %.3f ms\n", ms(o[i].lifetime_ns));
		} else {
			fputs("still running\n", out);
		}
	}
}

static void print_report(FILE *out, const struct vs_fork_report *r, const struct forks_args *a,
			 pid_t pid)
{
	struct vs_fork_totals t;

	vs_fork_report_totals(r, &t);
	fprintf(out, "pid %d: %llu forks (%llu timed, %.3f ms in fork), %llu failed, %llu exec'd, "
		     "%llu caps lookups (%.3f ms, %llu forks inside)\n\n",
		(int)pid, (unsigned long long)t.forks, (unsigned long long)t.forks_timed,
		ms(t.fork_ns), (unsigned long long)t.failed, (unsigned long long)t.execs,
		(unsigned long long)t.caps, ms(t.caps_ns), (unsigned long long)t.caps_forks);
	print_ops(out, r);
	print_paths(out, r, a->rows);
	print_programs(out, r, a->rows);
	print_orphans(out, r, a->rows);
}

static int start(struct vs_session *s, const struct forks_args *a, struct vs_fork_report *report,
		 struct vs_folded *folded)
{
	char err[512];
	int rc;

	if ((rc = vs_session_add_collector(s, "probes")) ||
	    (rc = vs_session_add_collector(s, "forks")) ||
	    (rc = vs_session_add_consumer(s, vs_fork_report_consumer(report))) ||
	    (a->folded && (rc = vs_session_add_consumer(s, vs_folded_consumer(folded)))))
		return rc;
	vs_cli_handle_signals();
	rc = vs_session_start(s, err, sizeof(err));
	if (rc)
		pr_err("cannot trace the forks of pid %d: %s", (int)s->target.pid, err);
	return rc;
}

static int run(void *arg, struct vs_target *target, FILE *out)
{
	const struct forks_args *a = arg;
	/* Only what says which operation a fork belongs to. */
	struct vs_config cfg = {
		.profile = a->profile,
		.probe_kinds = 1u << VS_PK_THREAD_JOB | 1u << VS_PK_SPAN_BEGIN |
			       1u << VS_PK_SPAN_END,
		.fork_syscalls = a->syscalls,
	};
	const struct vs_profile *profile;
	struct vs_fork_report *report = NULL;
	struct vs_symbolizer *sym = NULL;
	struct vs_folded *folded = NULL;
	struct vs_session s;
	struct namer namer;
	int rc, status = VS_EXIT_FAILURE, exited = 0;

	rc = vs_session_init(&s, target, &cfg);
	if (rc)
		goto cleanup;
	report = vs_fork_report_new();
	sym = vs_symbolizer_new(s.procs);
	folded = vs_folded_new(s.stacks, sym, VS_EV_FORK, VS_FOLDED_DURATION);
	if (!report || !sym || !folded) {
		rc = -ENOMEM;
		goto cleanup;
	}
	if ((rc = start(&s, a, report, folded))) {
		status = vs_cli_start_status(rc);
		rc = 0;
		goto cleanup;
	}
	profile = vs_probes_profile(&s.collectors[0]);
	fprintf(stderr, "virtscope: tracing forks of pid %d, profile %s%s%s\n", (int)target->pid,
		profile ? "'" : "", profile ? profile->name : "none", profile ? "'" : "");
	rc = vs_session_run(&s, a->t.duration_ns);
	if (rc == -ESRCH) {
		pr_err("process %d exited; reporting what was seen", (int)target->pid);
		exited = 1;
	} else if (rc) {
		pr_err("tracing failed: %s", strerror(-rc));
		rc = 0;
		goto cleanup;
	}
	vs_session_stop(&s);
	namer.s = &s;
	namer.sym = sym;
	rc = vs_fork_report_finish(report, name_path, &namer);
	if (rc)
		goto cleanup;
	if (a->folded)
		rc = vs_folded_write(folded, out);
	else
		print_report(out, report, a, target->pid);
	vs_cli_warn_lost(&s);
	status = exited ? VS_EXIT_FAILURE : VS_EXIT_OK;
cleanup:
	if (rc)
		pr_err("forks: %s", strerror(rc < 0 ? -rc : rc));
	vs_session_release(&s);
	vs_folded_free(folded);
	vs_symbolizer_free(sym);
	vs_fork_report_free(report);
	return rc ? VS_EXIT_FAILURE : status;
}

int cmd_forks(int argc, char **argv)
{
	struct forks_args a;
	char err[512];
	int status = parse_args(argc, argv, &a, err, sizeof(err));
	struct vs_cli_observer o = {
		.command = "forks",
		.target = &a.t,
		.run = run,
		.arg = &a,
		.usage = usage,
		.parse_status = status,
		.parse_error = err,
	};

	return vs_cli_observe(&o);
}
