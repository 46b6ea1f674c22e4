/* The off-CPU report: per-thread time by reason (counted in BPF, added at
 * the end), the long blocks that came as events with their stacks, locks
 * and wakers, and the event loop's stalls with what the loop was doing.
 * It consumes events only (plus the totals), so `virtscope offcpu`, the
 * live view and replays of recordings share it. */
#ifndef VS_OFFCPU_REPORT_H
#define VS_OFFCPU_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "offcpu.h"
#include "session.h"
#include "symbolize.h"

struct vs_offcpu_thread_row {
	struct vs_offcpu_totals t;   /* D-Bus time moved out of its system call's reason */
	uint64_t off_total_ns;       /* every reason, the run queue included */
};

/* One long block, as kept. */
struct vs_offcpu_block {
	uint64_t ts_ns, dur_ns;
	uint32_t tid;
	char comm[VS_COMM_LEN];
	uint32_t reason;   /* refined: a block inside a D-Bus call is VS_OFFCPU_DBUS */
	uint32_t state;
	int32_t syscall;
	vs_stack_id stack;
	uint32_t waker_tid, waker_pid;
	char waker_comm[VS_COMM_LEN];
	vs_stack_id waker_stack;
	uint64_t lock_addr;
	char lock[80];     /* "virDomainObj vm1", or the address; "" for no lock */
	uint32_t holder;
	char holder_comm[VS_COMM_LEN];
	char holder_job[64];
};

/* Long blocks summed per (thread name, reason, stack). */
struct vs_offcpu_top {
	char comm[VS_COMM_LEN];
	uint32_t reason;
	vs_stack_id stack;
	uint64_t total_ns, max_ns;
	uint64_t count;
	const struct vs_offcpu_block *longest;
};

/* A keepalive the event loop handled late because of a stall: a PING read
 * during the stall or just after it (it sat unread meanwhile), or a
 * keepalive timeout whose timer was due meanwhile. */
struct vs_offcpu_late_keepalive {
	uint64_t ts_ns;      /* when the loop handled it */
	uint64_t late_ns;    /* at most this late: from the stall's start */
	uint64_t client;
	enum vs_keepalive_phase phase; /* VS_KEEPALIVE_RECEIVED (a PING) or _TIMEOUT */
	int64_t count, idle_s;         /* a timeout's countToDeath and idle seconds */
};

/* Keepalives handled this long after a stall ended still count as held up
 * by it: the loop reads what waited in the turns right after. */
#define VS_OFFCPU_LATE_WINDOW_NS (100 * 1000 * 1000ull)

/* A turn of the event loop of at least the stall threshold. */
struct vs_offcpu_stall_row {
	uint64_t ts_ns, dur_ns;
	uint32_t tid;
	char comm[VS_COMM_LEN];
	uint64_t blocked_ns;                 /* in long blocks */
	const struct vs_offcpu_block *cause; /* the longest of them, or NULL: on CPU */
	const struct vs_offcpu_late_keepalive *late; /* in time order */
	size_t nr_late;
};

struct vs_offcpu_report;

struct vs_offcpu_report *vs_offcpu_report_new(void);
void vs_offcpu_report_free(struct vs_offcpu_report *r); /* NULL ok */

/* The consumer that keeps long blocks, stalls, D-Bus spans and jobs. */
struct vs_consumer *vs_offcpu_report_consumer(struct vs_offcpu_report *r);

/* Adds one thread's totals (from vs_offcpu_totals()). 0 or -ENOMEM. */
int vs_offcpu_report_add_thread(struct vs_offcpu_report *r, const struct vs_offcpu_totals *t);

/* Refines reasons (a block with a D-Bus call on its stack, or inside a D-Bus
 * span of its thread, is "dbus"; its time moves there in the thread's
 * totals), then builds the tables. Call once, after the last event; sym
 * names the stacks of stacks. 0 or -ENOMEM. */
int vs_offcpu_report_finish(struct vs_offcpu_report *r, const struct vs_stacks *stacks,
			    struct vs_symbolizer *sym);

/* Threads by off-CPU time, most first. */
size_t vs_offcpu_report_threads(const struct vs_offcpu_report *r,
				const struct vs_offcpu_thread_row **rows);
/* Blocked stacks by total time, most first. */
size_t vs_offcpu_report_tops(const struct vs_offcpu_report *r, const struct vs_offcpu_top **tops);
/* Long blocks, longest first. */
size_t vs_offcpu_report_blocks(const struct vs_offcpu_report *r,
			       const struct vs_offcpu_block **blocks);
/* Stalls in time order. */
size_t vs_offcpu_report_stalls(const struct vs_offcpu_report *r,
			       const struct vs_offcpu_stall_row **stalls);

#endif
