/* The off-CPU report's joins: D-Bus waits moved out of their system call's
 * reason, the cause of an event-loop stall, keepalives a stall held up,
 * thread totals and blocked-stack sums. */
#include <string.h>

#include "../../collectors/offcpu_report.h"
#include "unit.h"

#define MS 1000000ULL

static void feed(struct vs_offcpu_report *r, struct vs_event ev)
{
	struct vs_consumer *c = vs_offcpu_report_consumer(r);

	c->event(c, &ev);
}

static void block(struct vs_offcpu_report *r, uint32_t tid, const char *comm, uint32_t reason,
		  uint64_t ts, uint64_t dur)
{
	struct vs_event ev = { .kind = VS_EV_OFFCPU, .pid = 100, .tid = tid, .ts_ns = ts,
			       .dur_ns = dur, .offcpu.reason = reason, .offcpu.syscall = 202 };

	strncpy(ev.comm, comm, sizeof(ev.comm) - 1);
	feed(r, ev);
}

static void stall(struct vs_offcpu_report *r, uint32_t tid, uint64_t ts, uint64_t dur)
{
	feed(r, (struct vs_event){ .kind = VS_EV_SPAN_END, .tid = tid, .ts_ns = ts, .dur_ns = dur,
				   .span.kind = VS_SPAN_LOOP_ITERATION, .span.name = "stall" });
}

static void keepalive(struct vs_offcpu_report *r, uint64_t ts, uint64_t client,
		      enum vs_keepalive_phase phase, int64_t proc)
{
	feed(r, (struct vs_event){ .kind = VS_EV_KEEPALIVE, .tid = 1, .ts_ns = ts,
				   .keepalive.phase = phase, .keepalive.client = client,
				   .keepalive.proc = proc, .keepalive.count = 4,
				   .keepalive.idle_s = 6 });
}

static void thread(struct vs_offcpu_report *r, uint32_t tid, const char *comm, uint32_t reason,
		   uint64_t off, uint32_t blocks)
{
	struct vs_offcpu_totals t = { .tid = tid, .wall_ns = 10000 * MS };

	strncpy(t.comm, comm, sizeof(t.comm) - 1);
	t.off_ns[reason] = off;
	t.blocks[reason] = blocks;
	t.on_ns = t.wall_ns - off;
	vs_offcpu_report_add_thread(r, &t);
}

static const struct vs_offcpu_thread_row *row_of(const struct vs_offcpu_report *r, uint32_t tid)
{
	const struct vs_offcpu_thread_row *rows;
	size_t n = vs_offcpu_report_threads(r, &rows);

	for (size_t i = 0; i < n; i++)
		if (rows[i].t.tid == tid)
			return &rows[i];
	return NULL;
}

/* A futex or poll wait inside a D-Bus span of its thread is a D-Bus wait,
 * and its time moves there; a lock wait stays a lock wait. */
static void dbus_waits_move_out_of_futex(void)
{
	struct vs_offcpu_report *r = vs_offcpu_report_new();
	const struct vs_offcpu_thread_row *row;
	const struct vs_offcpu_block *b;

	CHECK(r);
	thread(r, 7, "rpc-worker", VS_OFFCPU_FUTEX, 500 * MS, 3);
	feed(r, (struct vs_event){ .kind = VS_EV_SPAN_END, .tid = 7, .ts_ns = 1000 * MS,
				   .dur_ns = 300 * MS, .span.kind = VS_SPAN_DBUS, .span.name = "Sleep" });
	block(r, 7, "rpc-worker", VS_OFFCPU_FUTEX, 1010 * MS, 280 * MS);  /* inside */
	block(r, 7, "rpc-worker", VS_OFFCPU_LOCK, 1000 * MS, 5 * MS);     /* a lock stays */
	block(r, 7, "rpc-worker", VS_OFFCPU_FUTEX, 2000 * MS, 100 * MS);  /* outside */
	block(r, 8, "rpc-worker", VS_OFFCPU_FUTEX, 1010 * MS, 200 * MS);  /* another thread */
	CHECK(vs_offcpu_report_finish(r, NULL, NULL) == 0);
	CHECK(vs_offcpu_report_blocks(r, &b) == 4);
	/* longest first */
	CHECK(b[0].dur_ns == 280 * MS && b[0].reason == VS_OFFCPU_DBUS);
	CHECK(b[1].dur_ns == 200 * MS && b[1].reason == VS_OFFCPU_FUTEX);
	CHECK(b[2].dur_ns == 100 * MS && b[2].reason == VS_OFFCPU_FUTEX);
	CHECK(b[3].dur_ns == 5 * MS && b[3].reason == VS_OFFCPU_LOCK);
	row = row_of(r, 7);
	CHECK(row);
	CHECK(row->t.off_ns[VS_OFFCPU_FUTEX] == 220 * MS && row->t.blocks[VS_OFFCPU_FUTEX] == 2);
	CHECK(row->t.off_ns[VS_OFFCPU_DBUS] == 280 * MS && row->t.blocks[VS_OFFCPU_DBUS] == 1);
	CHECK(row->off_total_ns == 500 * MS);
	vs_offcpu_report_free(r);
}

/* A stall's cause is the loop thread's longest block inside it; other
 * threads' blocks do not count, and overlaps are clipped to the stall. */
static void stall_cause_is_the_loops_longest_block(void)
{
	struct vs_offcpu_report *r = vs_offcpu_report_new();
	const struct vs_offcpu_stall_row *s;

	CHECK(r);
	stall(r, 1, 1000 * MS, 500 * MS);
	stall(r, 1, 100 * MS, 150 * MS); /* arrives out of order */
	block(r, 1, "libvirtd", VS_OFFCPU_IO, 1050 * MS, 100 * MS);
	block(r, 1, "libvirtd", VS_OFFCPU_SLEEP, 1200 * MS, 250 * MS);
	block(r, 1, "libvirtd", VS_OFFCPU_POLL, 900 * MS, 120 * MS);  /* 20 ms inside */
	block(r, 2, "rpc-libvirtd", VS_OFFCPU_LOCK, 1000 * MS, 490 * MS);
	CHECK(vs_offcpu_report_finish(r, NULL, NULL) == 0);
	CHECK(vs_offcpu_report_stalls(r, &s) == 2);
	CHECK(s[0].ts_ns == 100 * MS && !s[0].cause && s[0].blocked_ns == 0);
	CHECK(s[1].ts_ns == 1000 * MS && s[1].cause);
	CHECK(s[1].cause->reason == VS_OFFCPU_SLEEP && s[1].cause->dur_ns == 250 * MS);
	CHECK(s[1].blocked_ns == (100 + 250 + 20) * MS);
	vs_offcpu_report_free(r);
}

/* PINGs read during a stall or just after it, and keepalive timeouts
 * handled then, go under the last stall that began before them, late by up
 * to their distance from its start; PONGs, our own PINGs and what comes
 * past the window do not. */
static void stalls_collect_late_keepalives(void)
{
	struct vs_offcpu_report *r = vs_offcpu_report_new();
	const struct vs_offcpu_stall_row *s;

	CHECK(r);
	stall(r, 1, 1000 * MS, 2000 * MS);
	stall(r, 1, 5000 * MS, 200 * MS);
	keepalive(r, 500 * MS, 0xa, VS_KEEPALIVE_RECEIVED, 1);               /* before any */
	keepalive(r, 3001 * MS, 0xb, VS_KEEPALIVE_RECEIVED, 1);              /* just after */
	keepalive(r, 3000 * MS, 0xc, VS_KEEPALIVE_TIMEOUT, 0);               /* at its end */
	keepalive(r, 3002 * MS, 0xd, VS_KEEPALIVE_RECEIVED, 2);              /* a PONG */
	keepalive(r, 3003 * MS, 0xe, VS_KEEPALIVE_SENT, 1);                  /* our PING */
	keepalive(r, 3000 * MS + VS_OFFCPU_LATE_WINDOW_NS + 1, 0xf, VS_KEEPALIVE_RECEIVED, 1);
	keepalive(r, 5100 * MS, 0x10, VS_KEEPALIVE_RECEIVED, 1);             /* inside the 2nd */
	CHECK(vs_offcpu_report_finish(r, NULL, NULL) == 0);
	CHECK(vs_offcpu_report_stalls(r, &s) == 2);
	CHECK(s[0].nr_late == 2 && s[0].late);
	CHECK(s[0].late[0].client == 0xc && s[0].late[0].phase == VS_KEEPALIVE_TIMEOUT);
	CHECK(s[0].late[0].late_ns == 2000 * MS);
	CHECK(s[0].late[0].count == 4 && s[0].late[0].idle_s == 6);
	CHECK(s[0].late[1].client == 0xb && s[0].late[1].phase == VS_KEEPALIVE_RECEIVED);
	CHECK(s[0].late[1].late_ns == 2001 * MS);
	CHECK(s[1].nr_late == 1 && s[1].late[0].client == 0x10 && s[1].late[0].late_ns == 100 * MS);
	vs_offcpu_report_free(r);
}

/* Threads by total off-CPU time; blocked stacks summed per thread name,
 * reason and stack, with the longest kept. */
static void totals_and_tops(void)
{
	struct vs_offcpu_report *r = vs_offcpu_report_new();
	const struct vs_offcpu_thread_row *rows;
	const struct vs_offcpu_top *t;

	CHECK(r);
	thread(r, 3, "gmain", VS_OFFCPU_POLL, 100 * MS, 1);
	thread(r, 4, "rpc-libvirtd", VS_OFFCPU_FUTEX, 900 * MS, 9);
	thread(r, 5, "rpc-libvirtd", VS_OFFCPU_LOCK, 400 * MS, 2);
	block(r, 4, "rpc-libvirtd", VS_OFFCPU_FUTEX, 0, 30 * MS);
	block(r, 6, "rpc-libvirtd", VS_OFFCPU_FUTEX, 0, 50 * MS);
	block(r, 4, "rpc-libvirtd", VS_OFFCPU_FUTEX, 100 * MS, 20 * MS);
	block(r, 5, "rpc-libvirtd", VS_OFFCPU_LOCK, 0, 10 * MS);
	CHECK(vs_offcpu_report_finish(r, NULL, NULL) == 0);
	CHECK(vs_offcpu_report_threads(r, &rows) == 3);
	CHECK(rows[0].t.tid == 4 && rows[1].t.tid == 5 && rows[2].t.tid == 3);
	CHECK(rows[0].off_total_ns == 900 * MS);
	CHECK(vs_offcpu_report_tops(r, &t) == 2);
	CHECK(t[0].reason == VS_OFFCPU_FUTEX && t[0].count == 3 && t[0].total_ns == 100 * MS);
	CHECK(t[0].max_ns == 50 * MS && t[0].longest && t[0].longest->tid == 6);
	CHECK(t[1].reason == VS_OFFCPU_LOCK && t[1].count == 1);
	vs_offcpu_report_free(r);
}

static void empty_report(void)
{
	struct vs_offcpu_report *r = vs_offcpu_report_new();
	const struct vs_offcpu_stall_row *s;

	CHECK(r);
	CHECK(vs_offcpu_report_finish(r, NULL, NULL) == 0);
	CHECK(vs_offcpu_report_stalls(r, &s) == 0);
	vs_offcpu_report_free(r);
	vs_offcpu_report_free(NULL);
}

UNIT_SUITE(offcpu_report, UNIT_TEST(dbus_waits_move_out_of_futex),
	   UNIT_TEST(stall_cause_is_the_loops_longest_block),
	   UNIT_TEST(stalls_collect_late_keepalives), UNIT_TEST(totals_and_tops),
	   UNIT_TEST(empty_report));
