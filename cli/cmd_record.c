/* virtscope record: every event of the daemon, from the collectors the live
 * commands use, written to one file that `report`, `flame` and `export`
 * read later, on any machine. With --ring it is a flight recorder that
 * keeps the last SIZE of events in memory and writes them out when a
 * trigger fires. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libgen.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "../collectors/contention.h"
#include "../collectors/offcpu.h"
#include "../collectors/postmortem.h"
#include "../collectors/probes.h"
#include "../collectors/recorder.h"
#include "../collectors/session.h"
#include "../collectors/symbolize.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "commands.h"
#include "common.h"

static const char usage[] =
	"Usage: virtscope record (-p PID | --daemon NAME) -o FILE [-d SECONDS] [-F HZ]\n"
	"                        [--ring SIZE --trigger COND... [--before S] [--after S]]\n"
	"                        [--profile NAME|FILE]\n"
	"\n"
	"Records every event of the daemon (RPCs, D-Bus calls, QEMU monitor commands,\n"
	"keepalives, lock waits with their holders, off-CPU blocks and stalls, forks,\n"
	"on-CPU samples, all with stacks) to FILE, with the symbol names, mappings and\n"
	"build-ids that reading it elsewhere needs. FILE is created (mode 0600; never an\n"
	"existing file or a symlink) and written in checksummed chunks, one a second:\n"
	"if the recorder is killed, at most the last second is lost. When the daemon\n"
	"exits, record waits for it to start again (the same command in the same mount\n"
	"namespace), marks the gap and records the new process.\n"
	"Read it with 'virtscope report', 'virtscope flame' or 'virtscope export'.\n"
	"\n"
	"  -p, --pid PID          the process\n"
	"      --daemon NAME      the one process with this name\n"
	"  -o, --output FILE      the recording (required)\n"
	"  -d, --duration SECS    stop after SECS (default: at Ctrl-C or SIGTERM)\n"
	"  -F, --freq HZ          on-CPU sampling frequency (default 49)\n"
	"      --ring SIZE        flight recorder: keep only the last SIZE (bytes, K, M\n"
	"                         or G) of events in memory, and write them out when\n"
	"                         a --trigger fires; then stop\n"
	"      --trigger COND     stall:MS (a main-loop stall), rpc:MS, lock:MS (a lock\n"
	"                         wait), or dbus-timeout; may be repeated\n"
	"      --before SECS      keep this much before the trigger (default 10)\n"
	"      --after SECS       and this much after it (default 5)\n"
	"      --profile NAME     the daemon profile, built-in or a file\n"
	"  -h, --help             show this help\n";

static const struct option long_opts[] = {
	VS_CLI_TARGET_LONGOPTS,
	{ "freq", required_argument, NULL, 'F' },
	{ "ring", required_argument, NULL, 'R' },
	{ "trigger", required_argument, NULL, 'T' },
	{ "before", required_argument, NULL, 'B' },
	{ "after", required_argument, NULL, 'A' },
	{ "profile", required_argument, NULL, 'P' },
	/* For tests and benchmarks: */
	{ "live-report", required_argument, NULL, 'L' }, /* the report of the live events */
	{ "no-sync", no_argument, NULL, 'N' },
	{ "flush-events", required_argument, NULL, 'E' },
	{ 0 },
};

struct record_args {
	struct vs_cli_target_opts t;
	uint64_t freq_hz;
	const char *profile;
	const char *live_report;
	struct vs_recorder_opts ro;
};

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'K': case 'k': mult = 1ULL << 10; end++; break;
	case 'M': case 'm': mult = 1ULL << 20; end++; break;
	case 'G': case 'g': mult = 1ULL << 30; end++; break;
	}
	if (*end || !v || v > (64ULL << 30) / mult)
		return -EINVAL;
	*out = v * mult;
	return 0;
}

static int own_option(int opt, const char *arg, struct record_args *a, char *err, size_t errlen)
{
	uint64_t v;

	switch (opt) {
	case 'F':
		if (vs_parse_u64(arg, 1, 10000, &a->freq_hz))
			goto bad;
		return 0;
	case 'R':
		if (parse_size(arg, &a->ro.ring_bytes))
			goto bad;
		return 0;
	case 'T':
		if (a->ro.nr_triggers == VS_RECORDER_MAX_TRIGGERS ||
		    vs_trigger_parse(arg, &a->ro.triggers[a->ro.nr_triggers]))
			goto bad;
		a->ro.nr_triggers++;
		return 0;
	case 'B':
	case 'A':
		if (vs_parse_seconds(arg, 0, 3600 * VS_NSEC_PER_SEC, &v))
			goto bad;
		*(opt == 'B' ? &a->ro.before_ns : &a->ro.after_ns) = v;
		return 0;
	case 'P': a->profile = arg; return 0;
	case 'L': a->live_report = arg; return 0;
	case 'N': a->ro.no_sync = 1; return 0;
	case 'E':
		if (vs_parse_u64(arg, 1, 1 << 20, &a->ro.flush_events))
			goto bad;
		return 0;
	}
	return 0;
bad:
	snprintf(err, errlen, "invalid value '%s' for %s", arg,
		 opt == 'F' ? "-F" : opt == 'R' ? "--ring" : opt == 'T' ? "--trigger"
			 : opt == 'B' ? "--before" : opt == 'A' ? "--after" : "--flush-events");
	return VS_EXIT_USAGE;
}

static int parse_args(int argc, char **argv, struct record_args *a, char *err, size_t errlen)
{
	int opt, rc;

	memset(a, 0, sizeof(*a));
	a->freq_hz = 49;
	a->ro.before_ns = 10 * VS_NSEC_PER_SEC;
	a->ro.after_ns = 5 * VS_NSEC_PER_SEC;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":" VS_CLI_TARGET_SHORTOPTS "F:", long_opts, NULL)) !=
	       -1) {
		rc = vs_cli_target_option(opt, optarg, argv, &a->t, err, errlen);
		if (rc == VS_CLI_OPT_OTHER)
			rc = own_option(opt, optarg, a, err, errlen);
		if (rc)
			return rc;
	}
	rc = vs_cli_target_done(argc, argv, &a->t, err, errlen);
	if (rc || a->t.help)
		return rc;
	if (!a->t.output || !strcmp(a->t.output, "-")) {
		snprintf(err, errlen, "name the recording with -o FILE");
		return VS_EXIT_USAGE;
	}
	if (!a->ro.ring_bytes != !a->ro.nr_triggers) {
		snprintf(err, errlen, "--ring and --trigger go together");
		return VS_EXIT_USAGE;
	}
	a->ro.path = a->t.output;
	return 0;
}

/* What every live command needs: the RPC, D-Bus, QEMU monitor, keepalive and
 * job probes of the profile (ops, offcpu, forks), contended locks (locks),
 * off-CPU time (offcpu), forks (forks) and on-CPU samples (profile, flame). */
#define RECORD_KINDS                                                                       \
	((1u << VS_PK_RPC_RECEIVE) | (1u << VS_PK_RPC_DISPATCH) | (1u << VS_PK_RPC_REPLY) |     \
	 (1u << VS_PK_THREAD_OBJECT) | (1u << VS_PK_THREAD_JOB) | (1u << VS_PK_SPAN_BEGIN) |    \
	 (1u << VS_PK_SPAN_END) | (1u << VS_PK_KEEPALIVE_SENT) |                               \
	 (1u << VS_PK_KEEPALIVE_RECV) | (1u << VS_PK_KEEPALIVE_TIMEOUT))

static const char *const collectors[] = { "probes", "contention", "offcpu", "forks", "cpu" };
enum { C_PROBES, C_CONTENTION, C_OFFCPU };

struct totals_sink {
	struct vs_recorder *rec;
	struct vs_postmortem *pm; /* the live report, or NULL */
};

static int add_lock(uint64_t addr, const struct vs_lock_stats *st, void *arg)
{
	struct totals_sink *k = arg;
	int rc = vs_recorder_add_lock_stats(k->rec, addr, st);

	return rc ? rc : k->pm ? vs_postmortem_add_lock_stats(k->pm, addr, st) : 0;
}

static int add_thread(const struct vs_offcpu_totals *t, void *arg)
{
	struct totals_sink *k = arg;
	int rc = vs_recorder_add_thread(k->rec, t);

	return rc ? rc : k->pm ? vs_postmortem_add_thread(k->pm, t) : 0;
}

static void fill_meta(struct vs_rec_meta *m, const struct vs_session *s,
		      const struct vs_profile *profile)
{
	struct utsname u;
	struct timespec ts;

	memset(m, 0, sizeof(*m));
	m->pid = (uint32_t)s->target.pid;
	vs_read_comm(s->target.pid, s->target.pid, m->comm, sizeof(m->comm));
	if (!uname(&u)) {
		snprintf(m->host, sizeof(m->host), "%.63s", u.nodename);
		snprintf(m->kernel, sizeof(m->kernel), "%.63s", u.release);
	}
	for (size_t i = 0; i < VS_ARRAY_SIZE(collectors); i++)
		snprintf(m->collectors + strlen(m->collectors),
			 sizeof(m->collectors) - strlen(m->collectors), "%s%s", i ? "," : "",
			 collectors[i]);
	m->start_ns = vs_now_ns();
	clock_gettime(CLOCK_REALTIME, &ts);
	m->start_realtime_ns = (uint64_t)ts.tv_sec * VS_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
	m->freq_hz = s->config.freq_hz;
	m->lock_min_ns = s->config.lock_min_ns;
	m->offcpu_min_ns = s->config.offcpu_min_ns;
	m->stall_ns = s->config.stall_ns;
	if (profile)
		m->roles = *profile;
}

static int add_to_session(void *owner, struct vs_consumer *c)
{
	return vs_session_add_consumer(owner, c);
}

/* Runs in slices of at most a second, so that a quiet daemon's events are
 * still written within a second, and a flight recording as soon as due,
 * until deadline (0: none). */
static int run_slices(struct vs_session *s, struct vs_recorder *rec, uint64_t deadline)
{
	int rc = 0, announced = vs_recorder_fired(rec);

	while (!vs_session_interrupted() && !vs_recorder_done(rec)) {
		uint64_t slice = VS_NSEC_PER_SEC, now = vs_now_ns();

		if (deadline) {
			if (now >= deadline)
				break;
			if (deadline - now < slice)
				slice = deadline - now;
		}
		rc = vs_session_run(s, slice);
		if (rc)
			break;
		if (!announced && vs_recorder_fired(rec)) {
			fprintf(stderr, "virtscope: a trigger fired: %s\n", vs_recorder_trigger(rec));
			announced = 1;
		}
		rc = vs_recorder_tick(rec);
		if (rc)
			break;
	}
	return rc;
}

static int write_live_report(const char *path, struct vs_postmortem *pm, struct vs_session *s,
			     const struct vs_profile *roles, uint64_t interval_ns)
{
	struct vs_symbolizer *sym = vs_symbolizer_new(s->procs);
	struct vs_postmortem_view v = { s->stacks, sym, roles, interval_ns, 20, 10, NULL };
	FILE *out = vs_cli_open_output(path);
	int rc = -ENOMEM;

	if (out && sym)
		rc = vs_postmortem_write(pm, out, &v);
	if (out && vs_cli_close_output(out) && !rc)
		rc = -EIO;
	vs_symbolizer_free(sym);
	return out ? rc : -EIO;
}

struct run_state {
	struct vs_session s;
	struct vs_recorder *rec;
	struct vs_postmortem pm;
	int have_pm;
	struct vs_profile roles;
	uint64_t start_ns; /* the recording's own start, which a replay's interval begins at */
};

/* 0, -errno, or the exit status when the session would not start. */
static int start(struct run_state *st, const struct record_args *a, struct vs_target *target)
{
	struct vs_config cfg = {
		.profile = a->profile,
		.probe_kinds = RECORD_KINDS,
		.freq_hz = (uint32_t)a->freq_hz,
		/* a restarted daemon is recorded again */
		.keep_privileges = 1,
	};
	const struct vs_profile *profile;
	struct vs_rec_meta meta;
	char err[512];
	int rc;

	rc = vs_session_init(&st->s, target, &cfg);
	for (size_t i = 0; !rc && i < VS_ARRAY_SIZE(collectors); i++)
		rc = vs_session_add_collector(&st->s, collectors[i]);
	if (rc)
		return rc;
	vs_cli_handle_signals();
	rc = vs_session_start(&st->s, err, sizeof(err));
	if (rc) {
		pr_err("cannot record pid %d: %s", (int)target->pid, err);
		return vs_cli_start_status(rc);
	}
	profile = vs_probes_profile(&st->s.collectors[C_PROBES]);
	memset(&st->roles, 0, sizeof(st->roles));
	if (profile)
		st->roles = *profile;
	st->roles.probes = NULL;
	st->roles.nr_probes = 0;
	st->roles.procedures = NULL;
	st->roles.nr_procedures = 0;
	fill_meta(&meta, &st->s, &st->roles);
	st->start_ns = meta.start_ns;
	st->rec = vs_recorder_new(&st->s, &meta, &a->ro, err, sizeof(err));
	if (!st->rec) {
		pr_err("record: %s", err);
		return 1;
	}
	rc = vs_session_add_consumer(&st->s, vs_recorder_consumer(st->rec));
	if (!rc && a->live_report) {
		rc = vs_postmortem_init(&st->pm);
		st->have_pm = 1;
		if (!rc)
			rc = vs_postmortem_consumers(&st->pm, add_to_session, &st->s);
	}
	if (!rc)
		fprintf(stderr, "virtscope: recording pid %d to '%s'%s, profile %s%s%s\n",
			(int)target->pid, a->ro.path, a->ro.ring_bytes ? " (flight recorder)" : "",
			profile ? "'" : "", profile ? profile->name : "none", profile ? "'" : "");
	return rc;
}

/* The totals the collectors counted in BPF maps (per lock, per thread), into
 * the recording and the live report: read before the collectors detach, at
 * the end and before each re-attach. */
static int harvest_totals(struct run_state *st)
{
	struct totals_sink sink = { st->rec, st->have_pm ? &st->pm : NULL };
	int rc;

	rc = vs_contention_lock_stats(&st->s.collectors[C_CONTENTION], add_lock, &sink);
	if (!rc)
		rc = vs_offcpu_totals(&st->s.collectors[C_OFFCPU], add_thread, &sink);
	return rc;
}

/* The daemon exited: says so at once, and waits for a process of the same
 * name until the recording's end. 0 once attached to it (the recording marks
 * the gap), -ESRCH when it did not come back, other -errno when attaching
 * to it failed. */
static int follow_restart(struct run_state *st, uint64_t deadline)
{
	struct vs_target was = st->s.target, next;
	uint64_t exited_ns = vs_now_ns();
	char err[512];
	pid_t pid = 0;
	int rc, found;

	fprintf(stderr, "virtscope: pid %d exited; waiting for %s to start again\n", (int)was.pid,
		was.comm);
	rc = harvest_totals(st);
	if (rc)
		return rc;
	for (;;) {
		if (vs_session_interrupted() || (deadline && vs_now_ns() >= deadline)) {
			found = 0;
			break;
		}
		rc = vs_recorder_tick(st->rec);
		if (rc)
			return rc;
		found = !vs_target_find_restart(&was, &pid);
		if (found) {
			rc = vs_target_open(&next, pid, err, sizeof(err));
			if (!rc)
				rc = vs_session_retarget(&st->s, &next, exited_ns, err, sizeof(err));
			/* Gone while attaching: a daemonizing parent, which
			 * exits once its child runs, or a start that failed.
			 * The next one found is tried (the gap is marked). */
			if (rc != -ESRCH)
				break;
			pr_debug("%s as pid %d exited while attaching; looking again", was.comm,
				 (int)pid);
		}
		usleep(50 * 1000);
	}
	if (!found) {
		vs_session_target_gone(&st->s, exited_ns);
		return -ESRCH;
	}
	if (rc) {
		pr_err("%s restarted as pid %d, but attaching to it failed: %s", was.comm, (int)pid,
		       err);
		return rc;
	}
	fprintf(stderr, "virtscope: %s restarted as pid %d; recording it again after a %.1f s gap\n",
		was.comm, (int)pid, (double)(vs_now_ns() - exited_ns) / 1e9);
	return 0;
}

static int finish(struct run_state *st, const struct record_args *a, int attached)
{
	struct vs_recorder_stats rs;
	uint64_t end_ns;
	int rc = 0;

	if (attached)
		rc = harvest_totals(st);
	vs_session_stop(&st->s);
	end_ns = vs_now_ns();
	if (rc)
		return rc;
	if (a->ro.ring_bytes && !vs_recorder_fired(st->rec))
		fprintf(stderr, "virtscope: no trigger fired; '%s' holds no events\n", a->ro.path);
	rc = vs_recorder_close(st->rec, end_ns);
	if (rc) {
		pr_err("record: cannot write '%s': %s", a->ro.path, strerror(-rc));
		return 1;
	}
	vs_recorder_stats(st->rec, &rs);
	fprintf(stderr, "virtscope: %llu events, %llu stacks, %llu names in %llu chunks, %llu bytes "
			"(%.1f bytes/event) over %.1f s\n",
		(unsigned long long)rs.events, (unsigned long long)rs.stacks,
		(unsigned long long)rs.symbols, (unsigned long long)rs.chunks,
		(unsigned long long)rs.bytes, rs.events ? (double)rs.bytes / (double)rs.events : 0,
		(double)(end_ns - st->start_ns) / 1e9);
	if (st->have_pm) {
		rc = write_live_report(a->live_report, &st->pm, &st->s, &st->roles,
				       end_ns - st->start_ns);
		if (rc)
			pr_err("record: cannot write the live report: %s", strerror(-rc));
	}
	return rc ? 1 : 0;
}

static int run(void *arg, struct vs_target *target, FILE *out)
{
	const struct record_args *a = arg;
	struct run_state st;
	uint64_t deadline;
	int rc, exited = 0;

	(void)out;
	memset(&st, 0, sizeof(st));
	rc = start(&st, a, target);
	if (rc)
		goto cleanup;
	deadline = a->t.duration_ns ? vs_now_ns() + a->t.duration_ns : 0;
	rc = run_slices(&st.s, st.rec, deadline);
	while (rc == -ESRCH) {
		rc = follow_restart(&st, deadline);
		if (rc == -ESRCH) {
			pr_err("process %d exited; keeping what was recorded", (int)st.s.target.pid);
			exited = 1;
			break;
		}
		if (!rc)
			rc = run_slices(&st.s, st.rec, deadline);
	}
	/* A write error is said once, with the file's name, by finish(). */
	if (rc && !exited && rc != vs_recorder_error(st.rec))
		pr_err("recording failed: %s", strerror(-rc));
	rc = finish(&st, a, !exited && rc != -ESRCH && st.s.started) || (rc && !exited);
cleanup:
	if (rc < 0)
		pr_err("record: %s", strerror(-rc));
	vs_session_release(&st.s);
	vs_recorder_free(st.rec);
	if (st.have_pm)
		vs_postmortem_release(&st.pm);
	if (rc == VS_EXIT_USAGE) /* start()'s verdict on the target */
		return VS_EXIT_USAGE;
	return rc ? VS_EXIT_FAILURE : exited ? VS_EXIT_FAILURE : VS_EXIT_OK;
}

/* The recorder creates its file only once attached, exclusively; a name it
 * could never create is a bad argument, said before anything is attached. */
static int check_output(const struct vs_target *t, void *arg)
{
	const struct record_args *a = arg;
	char dir[PATH_MAX];
	struct stat st;

	(void)t;
	if (!lstat(a->ro.path, &st)) {
		pr_err("record: '%s' exists: a recording is never written over", a->ro.path);
		return VS_EXIT_USAGE;
	}
	snprintf(dir, sizeof(dir), "%s", a->ro.path);
	if (access(dirname(dir), W_OK | X_OK)) {
		pr_err("record: cannot create '%s': %s", a->ro.path, strerror(errno));
		return VS_EXIT_USAGE;
	}
	return 0;
}

int cmd_record(int argc, char **argv)
{
	struct record_args a;
	char err[512];
	int status = parse_args(argc, argv, &a, err, sizeof(err));
	struct vs_cli_target_opts t;
	struct vs_cli_observer o = {
		.command = "record",
		.target = &t,
		.check = check_output,
		.run = run,
		.arg = &a,
		.usage = usage,
		.parse_status = status,
		.parse_error = err,
	};

	/* The recording is not the observer's output: the recorder creates it
	 * itself, exclusively. */
	t = a.t;
	t.output = NULL;
	return vs_cli_observe(&o);
}
