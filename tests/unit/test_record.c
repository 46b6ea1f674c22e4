/* Recordings: every kind of event, its stacks and their names survive a
 * round trip through the recorder and the replay; and damaged files (torn,
 * a flipped byte, a newer version, empty, not a recording) are refused or
 * salvaged chunk by chunk, as the format promises. The recorder is driven
 * by hand, on a session that has a stack table and this process's modules
 * but no collector. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../collectors/rec_writer.h"
#include "../../collectors/recorder.h"
#include "../../collectors/replay.h"
#include "../../collectors/symbolize.h"
#include "../../collectors/timeline.h"
#include "../../lib/util.h"
#include "unit.h"

__attribute__((noinline)) void vs_unit_rec_fn(void)
{
	static volatile int x;

	x += 7;
	x *= 3;
}

#define NR_EVENTS 26 /* two of each kind below, across several chunks */

static void make_events(struct vs_event *evs, vs_stack_id stack)
{
	static const enum vs_event_kind kinds[] = {
		VS_EV_SAMPLE, VS_EV_SPAN_BEGIN, VS_EV_SPAN_END, VS_EV_LOCK, VS_EV_FORK, VS_EV_EXEC,
		VS_EV_EXIT, VS_EV_OFFCPU, VS_EV_LOST, VS_EV_KEEPALIVE, VS_EV_DISPATCH, VS_EV_THREAD_JOB,
		VS_EV_TARGET,
	};

	memset(evs, 0, NR_EVENTS * sizeof(*evs));
	for (int i = 0; i < NR_EVENTS; i++) {
		struct vs_event *e = &evs[i];

		e->kind = kinds[i % 13];
		e->pid = 100;
		e->tid = 101 + (uint32_t)i;
		/* not in order: deltas go both ways */
		e->ts_ns = 1000000000ULL + (uint64_t)((i * 7919) % 50) * 1000;
		e->dur_ns = (uint64_t)i * 1000003;
		snprintf(e->comm, sizeof(e->comm), "rpc-%d", i);
		e->stack = i % 2 ? stack : 0;
		switch (e->kind) {
		case VS_EV_SAMPLE: e->sample.period_ns = 10101010; e->sample.cpu = 1; break;
		case VS_EV_SPAN_BEGIN:
		case VS_EV_SPAN_END:
			e->span.kind = VS_SPAN_DBUS;
			e->span.id = 77;
			e->span.name = "TerminateMachine";
			e->span.object = i > 12 ? NULL : "vm1";
			e->span.iface = "org.freedesktop.machine1.Manager";
			e->span.peer = "";
			e->span.timeout_ms = 30000;
			e->span.result = -5;
			e->span.client = 0xdeadbeef;
			e->span.prog = 0x20008086;
			e->span.proc = 234;
			e->span.queue_ns = 42;
			break;
		case VS_EV_LOCK:
			e->lock.phase = VS_LOCK_WAIT;
			e->lock.addr = 0x55aa00001018ULL;
			e->lock.holder_tid = 7;
			e->lock.holder_waits = 0x1234;
			e->lock.kind = "virDomainObj";
			e->lock.object = "vm1";
			e->lock.job = NULL;
			e->lock.holder_comm = "rpc-libvirtd";
			e->lock.holder_job = "remoteDispatchDomainDestroyFlags";
			e->lock.holder_seen = 1;
			e->lock.holder_call = "ppoll";
			e->lock.holder_stack = stack;
			break;
		case VS_EV_FORK: e->fork.child_pid = 999; e->fork.reason = "caps"; e->fork.via = "fork";
			e->fork.created_ns = 5; break;
		case VS_EV_EXEC: e->exec.filename = "/usr/bin/qemu"; e->exec.ppid = 100; e->exec.root = 999; break;
		case VS_EV_EXIT: e->exit.status = -9; e->exit.ppid = 1; e->exit.root = 2; e->exit.execed = 1; break;
		case VS_EV_OFFCPU:
			e->offcpu.state = 1; e->offcpu.reason = 3; e->offcpu.waker_tid = 8;
			e->offcpu.waker_pid = 100; e->offcpu.waker_comm = "gmain";
			e->offcpu.waker_stack = stack; e->offcpu.syscall = -1;
			e->offcpu.lock_addr = 0x99; e->offcpu.lock_holder = 7;
			e->offcpu.lock_kind = "virDomainObj"; e->offcpu.lock_object = "vm2";
			break;
		case VS_EV_LOST: e->lost.what = VS_EV_OFFCPU; e->lost.count = 3; e->lost.collector = "offcpu"; break;
		case VS_EV_KEEPALIVE: e->keepalive.phase = VS_KEEPALIVE_TIMEOUT; e->keepalive.client = 5;
			e->keepalive.proc = 1; e->keepalive.count = -4; e->keepalive.idle_s = 30; break;
		case VS_EV_DISPATCH: e->dispatch.source = "client"; e->dispatch.fd = -1; break;
		case VS_EV_THREAD_JOB: e->job.name = i > 13 ? "" : "remoteDispatchDomainCreate"; break;
		case VS_EV_TARGET: e->target.old_pid = 99; e->target.new_pid = i > 13 ? 0 : 100; break;
		default: break;
		}
	}
}

static int streq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* The fields each kind carries, compared; stacks compared by content. */
static int same_event(const struct vs_event *a, const struct vs_event *b)
{
	if (a->kind != b->kind || a->pid != b->pid || a->tid != b->tid || a->ts_ns != b->ts_ns ||
	    a->dur_ns != b->dur_ns || strncmp(a->comm, b->comm, VS_COMM_LEN) || !a->stack != !b->stack)
		return 0;
	switch (a->kind) {
	case VS_EV_SAMPLE: return a->sample.period_ns == b->sample.period_ns && a->sample.cpu == b->sample.cpu;
	case VS_EV_SPAN_BEGIN:
	case VS_EV_SPAN_END:
		return a->span.kind == b->span.kind && a->span.id == b->span.id &&
		       streq(a->span.name, b->span.name) && streq(a->span.object, b->span.object) &&
		       streq(a->span.iface, b->span.iface) && streq(a->span.peer, b->span.peer) &&
		       a->span.timeout_ms == b->span.timeout_ms && a->span.result == b->span.result &&
		       a->span.client == b->span.client && a->span.prog == b->span.prog &&
		       a->span.proc == b->span.proc && a->span.queue_ns == b->span.queue_ns;
	case VS_EV_LOCK:
		return a->lock.phase == b->lock.phase && a->lock.addr == b->lock.addr &&
		       a->lock.holder_tid == b->lock.holder_tid && a->lock.holder_waits == b->lock.holder_waits &&
		       streq(a->lock.kind, b->lock.kind) && streq(a->lock.object, b->lock.object) &&
		       streq(a->lock.job, b->lock.job) && streq(a->lock.holder_comm, b->lock.holder_comm) &&
		       streq(a->lock.holder_job, b->lock.holder_job) && a->lock.holder_seen == b->lock.holder_seen &&
		       streq(a->lock.holder_call, b->lock.holder_call) && !a->lock.holder_stack == !b->lock.holder_stack;
	case VS_EV_FORK:
		return a->fork.child_pid == b->fork.child_pid && streq(a->fork.reason, b->fork.reason) &&
		       streq(a->fork.via, b->fork.via) && a->fork.created_ns == b->fork.created_ns;
	case VS_EV_EXEC:
		return streq(a->exec.filename, b->exec.filename) && a->exec.ppid == b->exec.ppid && a->exec.root == b->exec.root;
	case VS_EV_EXIT:
		return a->exit.status == b->exit.status && a->exit.ppid == b->exit.ppid &&
		       a->exit.root == b->exit.root && a->exit.execed == b->exit.execed;
	case VS_EV_OFFCPU:
		return a->offcpu.state == b->offcpu.state && a->offcpu.reason == b->offcpu.reason &&
		       a->offcpu.waker_tid == b->offcpu.waker_tid && a->offcpu.waker_pid == b->offcpu.waker_pid &&
		       streq(a->offcpu.waker_comm, b->offcpu.waker_comm) && !a->offcpu.waker_stack == !b->offcpu.waker_stack &&
		       a->offcpu.syscall == b->offcpu.syscall && a->offcpu.lock_addr == b->offcpu.lock_addr &&
		       a->offcpu.lock_holder == b->offcpu.lock_holder && streq(a->offcpu.lock_kind, b->offcpu.lock_kind) &&
		       streq(a->offcpu.lock_object, b->offcpu.lock_object);
	case VS_EV_LOST:
		return a->lost.what == b->lost.what && a->lost.count == b->lost.count && streq(a->lost.collector, b->lost.collector);
	case VS_EV_KEEPALIVE:
		return a->keepalive.phase == b->keepalive.phase && a->keepalive.client == b->keepalive.client &&
		       a->keepalive.proc == b->keepalive.proc && a->keepalive.count == b->keepalive.count &&
		       a->keepalive.idle_s == b->keepalive.idle_s;
	case VS_EV_DISPATCH: return streq(a->dispatch.source, b->dispatch.source) && a->dispatch.fd == b->dispatch.fd;
	case VS_EV_THREAD_JOB: return streq(a->job.name, b->job.name);
	case VS_EV_TARGET: return a->target.old_pid == b->target.old_pid && a->target.new_pid == b->target.new_pid;
	default: return 0;
	}
}

struct fixture {
	char path[64];
	struct vs_session s;
	struct vs_event evs[NR_EVENTS];
	char user_name[256];  /* what the live symbolizer called the user frame */
	uint64_t user_ip;
};

/* Records NR_EVENTS events, 3 per chunk, plus totals. 0 or -1. */
static int record(struct fixture *f)
{
	struct vs_recorder_opts o = { .path = f->path, .flush_events = 3, .no_sync = 1 };
	struct vs_rec_meta meta = { .pid = 100, .start_ns = 999000000ULL };
	struct vs_lock_stats ls = { .contended = 4, .wait_ns = 1234, .first_site = 0 };
	struct vs_offcpu_totals tt = { .tid = 101, .wall_ns = 5, .on_ns = 2, .off_ns = { 1, 2, 3 } };
	uint64_t kips[2] = { 0xffffffff81000010ULL, 0xffffffff81000020ULL }, uips[2];
	struct vs_symbolizer *sym;
	struct vs_recorder *r;
	char err[256];
	vs_stack_id id;

	snprintf(f->path, sizeof(f->path), "/tmp/vs-unit-rec-%d.vsr", (int)getpid());
	unlink(f->path);
	memset(&f->s, 0, sizeof(f->s));
	f->s.target.pid = getpid();
	f->s.stacks = vs_stacks_new();
	f->s.procs = vs_procs_new();
	f->user_ip = (uint64_t)(uintptr_t)vs_unit_rec_fn + 2;
	uips[0] = f->user_ip;
	uips[1] = f->user_ip + 1; /* looked up one byte back: the same function */
	id = vs_stacks_intern(f->s.stacks, (uint32_t)getpid(), kips, 2, uips, 2, 0);
	sym = vs_symbolizer_new(f->s.procs);
	snprintf(f->user_name, sizeof(f->user_name), "%s",
		 vs_symbolize_user(sym, (uint32_t)getpid(), f->user_ip));
	vs_symbolizer_free(sym);
	make_events(f->evs, id);
	strcpy(meta.comm, "libvirtd");
	r = vs_recorder_new(&f->s, &meta, &o, err, sizeof(err));
	if (!r)
		return -1;
	for (int i = 0; i < NR_EVENTS; i++)
		vs_recorder_consumer(r)->event(vs_recorder_consumer(r), &f->evs[i]);
	if (vs_recorder_add_lock_stats(r, 0x42, &ls) || vs_recorder_add_thread(r, &tt) ||
	    vs_recorder_close(r, 2000000000ULL)) {
		vs_recorder_free(r);
		return -1;
	}
	vs_recorder_free(r);
	return 0;
}

static void release(struct fixture *f)
{
	unlink(f->path);
	vs_stacks_free(f->s.stacks);
	vs_procs_free(f->s.procs);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

/* Replays an image into a timeline. The replay's result (0, 1) or -1 when
 * it could not even open; err says why. */
static int replay(const void *buf, size_t len, struct vs_timeline *t, char *err, size_t errlen,
		  struct vs_replay *rp)
{
	int rc;

	vs_timeline_init(t);
	if (vs_replay_open_mem(rp, buf, len, err, errlen))
		return -1;
	vs_replay_add_consumer(rp, vs_timeline_consumer(t));
	rc = vs_replay_run(rp, err, errlen);
	return rc;
}

static void test_round_trip(void)
{
	struct fixture f;
	struct vs_timeline t;
	struct vs_replay rp;
	const struct vs_stack *st;
	struct stat sb;
	char err[256];
	size_t len;
	char *buf;
	int ok = 1;

	CHECK(record(&f) == 0);
	CHECK(stat(f.path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	buf = slurp(f.path, &len);
	CHECK(buf);
	CHECK(replay(buf, len, &t, err, sizeof(err), &rp) == 0);
	CHECK(t.nr == NR_EVENTS);
	for (int i = 0; i < NR_EVENTS; i++)
		ok &= same_event(&f.evs[i], &t.events[i]);
	CHECK(ok);
	CHECK(rp.have_meta && rp.meta.pid == 100 && !strcmp(rp.meta.comm, "libvirtd"));
	CHECK(rp.have_end && rp.end.events == NR_EVENTS);
	CHECK(vs_replay_interval(&rp) == 2000000000ULL - 999000000ULL);
	CHECK(rp.nr_locks == 1 && rp.locks[0].addr == 0x42 && rp.locks[0].st.contended == 4);
	CHECK(rp.nr_threads == 1 && rp.threads[0].off_ns[2] == 3);
	/* The stack and its names, without this process's binaries. */
	st = vs_stacks_get(rp.stacks, t.events[1].stack);
	CHECK(st && st->nr_kernel == 2 && st->nr_user == 2 && st->ips[2] == f.user_ip);
	CHECK_STREQ(vs_symbolize_user(rp.sym, (uint32_t)getpid(), f.user_ip), f.user_name);
	CHECK(strstr(f.user_name, "vs_unit_rec_fn"));
	CHECK(rp.mappings > 0);
	vs_timeline_release(&t);
	vs_replay_release(&rp);
	free(buf);
	release(&f);
}

static void test_refuses_existing_and_symlinks(void)
{
	struct fixture f;
	struct vs_recorder_opts o = { .no_sync = 1 };
	struct vs_rec_meta meta = { 0 };
	char link[80], err[256];

	CHECK(record(&f) == 0);
	o.path = f.path; /* exists now */
	CHECK(!vs_recorder_new(&f.s, &meta, &o, err, sizeof(err)));
	CHECK(strstr(err, "File exists"));
	snprintf(link, sizeof(link), "%s.link", f.path);
	unlink(link);
	CHECK(symlink("/tmp/vs-unit-nowhere", link) == 0);
	o.path = link;
	CHECK(!vs_recorder_new(&f.s, &meta, &o, err, sizeof(err)));
	CHECK(access("/tmp/vs-unit-nowhere", F_OK) != 0);
	unlink(link);
	release(&f);
}

static void test_truncated_salvages_chunks(void)
{
	struct fixture f;
	size_t len, last_events = 0;
	char *buf, err[256];

	CHECK(record(&f) == 0);
	buf = slurp(f.path, &len);
	CHECK(buf);
	/* Cut anywhere: what was whole before the cut comes back, in order. */
	for (size_t cut = 17; cut < len; cut += 7) {
		struct vs_timeline t;
		struct vs_replay rp;
		int rc = replay(buf, cut, &t, err, sizeof(err), &rp);

		CHECK(rc == 1);
		CHECK(strstr(err, "truncated") || strstr(err, "did not end"));
		CHECK(t.nr >= last_events && t.nr <= NR_EVENTS);
		for (size_t i = 0; i < t.nr; i++)
			CHECK(same_event(&f.evs[i], &t.events[i]));
		last_events = t.nr;
		vs_timeline_release(&t);
		vs_replay_release(&rp);
	}
	CHECK(last_events == NR_EVENTS);
	free(buf);
	release(&f);
}

static void test_flipped_byte_skips_one_chunk(void)
{
	struct fixture f;
	size_t len, worst = NR_EVENTS;
	char *buf, err[256];

	CHECK(record(&f) == 0);
	buf = slurp(f.path, &len);
	CHECK(buf);
	for (size_t at = 16; at < len; at += 5) {
		struct vs_timeline t;
		struct vs_replay rp;
		int rc;

		buf[at] ^= 0x20;
		rc = replay(buf, len, &t, err, sizeof(err), &rp);
		buf[at] ^= 0x20;
		CHECK(rc == 1);
		/* a length hit in the last chunk reads as a torn end */
		CHECK(strstr(err, "damaged") || strstr(err, "truncated"));
		/* At most one events chunk (3 events) is lost; the dictionary
		 * chunk before it goes with its names, not its events. */
		CHECK(t.nr + 3 >= NR_EVENTS || t.nr + 3 >= worst);
		if (t.nr < worst)
			worst = t.nr;
		vs_timeline_release(&t);
		vs_replay_release(&rp);
	}
	CHECK(worst >= NR_EVENTS - 3);
	free(buf);
	release(&f);
}

static void test_bad_files_are_named(void)
{
	static const char text[] = "rpc-libvirtd;start_thread;main 12\n";
	struct fixture f;
	struct vs_replay rp;
	size_t len;
	char *buf, err[256];

	CHECK(vs_replay_open_mem(&rp, "", 0, err, sizeof(err)) < 0);
	CHECK_STREQ(err, "the file is empty");
	vs_replay_release(&rp);
	CHECK(vs_replay_open_mem(&rp, text, sizeof(text) - 1, err, sizeof(err)) < 0);
	CHECK_STREQ(err, "not a virtscope recording");
	vs_replay_release(&rp);
	CHECK(record(&f) == 0);
	buf = slurp(f.path, &len);
	CHECK(buf);
	buf[8] = VS_REC_VERSION + 1;
	CHECK(vs_replay_open_mem(&rp, buf, len, err, sizeof(err)) < 0);
	CHECK(strstr(err, "newer"));
	vs_replay_release(&rp);
	CHECK(vs_replay_open_mem(&rp, buf, 5, err, sizeof(err)) < 0);
	CHECK(strstr(err, "truncated"));
	vs_replay_release(&rp);
	free(buf);
	release(&f);
}

static void test_trigger_parse(void)
{
	struct vs_trigger t;

	CHECK(vs_trigger_parse("rpc:2500", &t) == 0 && t.kind == VS_TRIGGER_RPC &&
	      t.threshold_ns == 2500000000ULL);
	CHECK(vs_trigger_parse("stall:0.5", &t) == 0 && t.threshold_ns == 500000);
	CHECK(vs_trigger_parse("dbus-timeout", &t) == 0 && t.kind == VS_TRIGGER_DBUS_TIMEOUT);
	/* a whole D-Bus timeout, and up to an hour */
	CHECK(vs_trigger_parse("rpc:30000", &t) == 0 && t.threshold_ns == 30000000000ULL);
	CHECK(vs_trigger_parse("lock:3600000", &t) == 0 && t.threshold_ns == 3600000000000ULL);
	CHECK(vs_trigger_parse("lock:3600001", &t) == -EINVAL);
	CHECK(vs_trigger_parse("lock:x", &t) == -EINVAL);
	CHECK(vs_trigger_parse("cpu:10", &t) == -EINVAL);
	CHECK(vs_trigger_parse("rpc", &t) == -EINVAL);
}

/* One flight recorder per trigger: the events just under its threshold, or
 * of another kind, leave it armed; its own event fires it, the recording
 * holds the ring's events, and its meta says what fired. */
static void fire_one(const char *cond, const struct vs_event *under, const struct vs_event *over,
		     const char *says)
{
	struct vs_recorder_opts o = { .flush_events = 1, .no_sync = 1, .ring_bytes = 1 << 20,
				      .nr_triggers = 1, .before_ns = 60 * VS_NSEC_PER_SEC };
	struct vs_rec_meta meta = { .pid = 100, .start_ns = 999000000ULL };
	struct vs_session s = { 0 };
	struct vs_recorder *r = NULL;
	struct vs_timeline t;
	struct vs_replay rp;
	char path[64], err[256] = "";
	size_t len = 0;
	char *buf = NULL;

	snprintf(path, sizeof(path), "/tmp/vs-unit-trig-%d.vsr", (int)getpid());
	unlink(path);
	o.path = path;
	s.target.pid = getpid();
	s.stacks = vs_stacks_new();
	s.procs = vs_procs_new();
	CHECK(vs_trigger_parse(cond, &o.triggers[0]) == 0);
	r = vs_recorder_new(&s, &meta, &o, err, sizeof(err));
	CHECK(r != NULL);
	if (!r)
		goto cleanup;
	vs_recorder_consumer(r)->event(vs_recorder_consumer(r), under);
	CHECK(!vs_recorder_fired(r) && !vs_recorder_trigger(r)[0]);
	vs_recorder_consumer(r)->event(vs_recorder_consumer(r), over);
	CHECK(vs_recorder_fired(r));
	if (!strstr(vs_recorder_trigger(r), says)) {
		fprintf(stderr, "  %s: '%s' lacks '%s'\n", cond, vs_recorder_trigger(r), says);
		CHECK(0);
	}
	CHECK(vs_recorder_tick(r) == 0 && vs_recorder_done(r)); /* no after-window */
	CHECK(vs_recorder_close(r, 2000000000ULL) == 0);
	buf = slurp(path, &len);
	CHECK(buf != NULL);
	if (!buf)
		goto cleanup;
	CHECK(replay(buf, len, &t, err, sizeof(err), &rp) == 0);
	CHECK(rp.have_meta && !strcmp(rp.meta.trigger, vs_recorder_trigger(r)));
	CHECK(t.nr == 2);
	vs_timeline_release(&t);
	vs_replay_release(&rp);
cleanup:
	free(buf);
	vs_recorder_free(r);
	unlink(path);
	vs_stacks_free(s.stacks);
	vs_procs_free(s.procs);
}

static void test_triggers_fire(void)
{
	struct vs_event under = { .kind = VS_EV_SPAN_END, .pid = 100, .tid = 101,
				  .ts_ns = 1000000000ULL, .comm = "libvirtd" };
	struct vs_event over;

	/* a main-loop iteration of 499.999 ms, then of 500 ms */
	under.span.kind = VS_SPAN_LOOP_ITERATION;
	under.dur_ns = 499999999;
	over = under;
	over.dur_ns = 500000000;
	fire_one("stall:500", &under, &over, "main-loop stall of 500.000 ms (main loop) in libvirtd[101]");

	/* an RPC of 3.5 s does not fire a stall trigger; one of 3.5 s fires rpc:3500 */
	under.span.kind = VS_SPAN_RPC;
	under.span.name = "DOMAIN_DESTROY_FLAGS";
	under.span.object = "vm3";
	under.dur_ns = 3499000000ULL;
	over = under;
	over.dur_ns = 3500000000ULL;
	fire_one("rpc:3500", &under, &over, "RPC of 3500.000 ms (DOMAIN_DESTROY_FLAGS vm3)");

	/* a lock hold of an hour is not a wait; a wait of 1 s is */
	memset(&under.span, 0, sizeof(under.span));
	under.kind = VS_EV_LOCK;
	under.lock.phase = VS_LOCK_HOLD;
	under.lock.kind = "virDomainObj";
	under.lock.object = "vm7";
	under.dur_ns = 3600 * VS_NSEC_PER_SEC;
	over = under;
	over.lock.phase = VS_LOCK_WAIT;
	over.dur_ns = VS_NSEC_PER_SEC;
	fire_one("lock:1000", &under, &over, "lock wait of 1000.000 ms (virDomainObj vm7)");

	/* a D-Bus call of 20 s against a 30 s timeout, then one that timed out */
	memset(&under.lock, 0, sizeof(under.lock));
	under.kind = VS_EV_SPAN_END;
	under.span.kind = VS_SPAN_DBUS;
	under.span.name = "TerminateMachine";
	under.span.timeout_ms = 30000;
	under.dur_ns = 20 * VS_NSEC_PER_SEC;
	over = under;
	over.dur_ns = 30001 * VS_NSEC_PER_MSEC;
	fire_one("dbus-timeout", &under, &over, "D-Bus timeout of 30001.000 ms (TerminateMachine)");
}


/* Inputs the fuzzer crashed the reader with once (tests/fuzz/crashes), and
 * its seeds, replay without a crash (the sanitized run checks memory). */
static void replay_dir(const char *dir, int *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[512], err[256];
		struct vs_timeline t;
		struct vs_replay rp;
		size_t len;
		char *buf;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		buf = slurp(path, &len);
		if (!buf)
			continue;
		replay(buf, len, &t, err, sizeof(err), &rp);
		vs_timeline_release(&t);
		vs_replay_release(&rp);
		free(buf);
		(*count)++;
	}
	closedir(d);
}

static void test_fuzz_regressions(void)
{
	int n = 0;

	replay_dir("tests/fuzz/crashes", &n);
	replay_dir("tests/fuzz/seeds", &n);
	CHECK(n >= 2);
}

/* The writer thread keeps the order chunks were queued in, and a write
 * error is sticky: said by every later call, and nothing written after it. */
static void test_writer_order_and_errors(void)
{
	char path[] = "/tmp/vs-unit-writer.XXXXXX", err[256];
	struct vs_rec_writer *w;
	struct vs_rec_reader rd;
	struct vs_rec_buf raw = { 0 };
	const uint8_t *payload;
	uint32_t type, n = 0;
	size_t len, size;
	char *buf;
	int fd = mkstemp(path), ok = 1;

	CHECK(fd >= 0);
	unlink(path);
	CHECK(vs_rec_write_header(fd) == 0);
	w = vs_rec_writer_new(fd, 1, err, sizeof(err));
	CHECK(w);
	for (uint32_t i = 0; i < 300; i++) {
		for (uint32_t j = 0; j <= i; j++)
			vs_rec_buf_uv(&raw, i);
		CHECK(vs_rec_writer_put(w, VS_REC_CHUNK_EVENTS, i, &raw) == 0);
		CHECK(!raw.data && !raw.len);
		if (i == 150)
			CHECK(vs_rec_writer_drain(w) == 0);
	}
	CHECK(vs_rec_writer_free(w) == 0);
	size = (size_t)lseek(fd, 0, SEEK_END);
	buf = malloc(size);
	CHECK(buf && pread(fd, buf, size, 0) == (ssize_t)size);
	close(fd);
	CHECK(vs_rec_reader_init(&rd, buf, size) == VS_REC_OK);
	while (vs_rec_next_chunk(&rd, &type, &payload, &len)) {
		/* chunk i holds i + 1 varints of i (one byte each below 128) */
		ok &= type == VS_REC_CHUNK_EVENTS && (n >= 128 || len == n + 1u) &&
		      (n >= 128 || payload[0] == n);
		n++;
	}
	vs_rec_reader_release(&rd);
	free(buf);
	CHECK(ok && n == 300);

	fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	w = vs_rec_writer_new(fd, 0, err, sizeof(err));
	CHECK(w);
	vs_rec_buf_uv(&raw, 1);
	CHECK(vs_rec_writer_put(w, VS_REC_CHUNK_EVENTS, 0, &raw) == 0);
	CHECK(vs_rec_writer_drain(w) == -ENOSPC);
	vs_rec_buf_uv(&raw, 2);
	CHECK(vs_rec_writer_put(w, VS_REC_CHUNK_EVENTS, 1, &raw) == -ENOSPC);
	CHECK(!raw.data); /* taken even when refused */
	CHECK(vs_rec_writer_free(w) == -ENOSPC);
	close(fd);
}

UNIT_SUITE(record, UNIT_TEST(test_round_trip), UNIT_TEST(test_refuses_existing_and_symlinks),
	   UNIT_TEST(test_truncated_salvages_chunks), UNIT_TEST(test_flipped_byte_skips_one_chunk),
	   UNIT_TEST(test_bad_files_are_named), UNIT_TEST(test_trigger_parse),
	   UNIT_TEST(test_triggers_fire), UNIT_TEST(test_writer_order_and_errors),
	   UNIT_TEST(test_fuzz_regressions));
