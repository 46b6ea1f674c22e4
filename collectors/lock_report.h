/* The lock report: per-lock figures (counted in BPF) joined with the long
 * waits and holds that came as events, into a table and into wait chains:
 * who waited, for which lock, held by whom, doing what (the job it had
 * announced, and its stack), and whether that holder was itself waiting.
 * The same code serves `virtscope locks`, the live view and replays. */
#ifndef VS_LOCK_REPORT_H
#define VS_LOCK_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "../bpf/probes.h"
#include "event.h"
#include "session.h"

struct vs_lock_row {
	uint64_t addr;
	char name[80]; /* "virDomainObj vm1", "refObject obj2", or the address */
	struct vs_lock_stats st;
	vs_stack_id top_waiter; /* the stack that waited longest in total, 0 if none */
	uint64_t top_waiter_ns;
	vs_stack_id top_holder;
	uint64_t top_holder_ns;
};

struct vs_lock_chain {
	uint64_t ts_ns, dur_ns;
	uint32_t waiter;
	char waiter_comm[VS_COMM_LEN];
	vs_stack_id waiter_stack;
	uint64_t addr;
	char lock[80];
	char waiter_job[64];     /* what the waiter was doing ("" unknown or none) */
	uint32_t holder;
	char holder_comm[VS_COMM_LEN];
	char holder_job[64];     /* what the holder was doing ("" unknown) */
	char holder_call[32];    /* the system call it was blocked in ("" if not or unknown) */
	int holder_running;      /* it was seen running (or runnable) as the wait began */
	char holder_in[96];      /* a call the holder was in during the wait ("D-Bus ...") */
	uint64_t holder_in_ns;   /* that call's length */
	vs_stack_id holder_stack; /* the holder's stack while the waiter waited
				     (taken where it was blocked) */
	vs_stack_id holder_took_stack; /* where the holder took the lock (the hold's
					  stack: its acquisition, with --all) */
	uint64_t holder_hold_ns;  /* how long that hold lasted, 0 if unknown */
	uint64_t holder_waits;    /* the lock the holder was itself waiting for */
	char holder_waits_name[80];
};

enum vs_lock_sort { VS_LOCK_SORT_WAIT, VS_LOCK_SORT_HOLD, VS_LOCK_SORT_COUNT };

struct vs_lock_report;

struct vs_lock_report *vs_lock_report_new(void);
void vs_lock_report_free(struct vs_lock_report *r); /* NULL ok */

/* The consumer that collects long waits, holds and thread jobs. */
struct vs_consumer *vs_lock_report_consumer(struct vs_lock_report *r);

/* Adds one lock's counted figures (from vs_probes_lock_stats()). */
int vs_lock_report_add_stats(struct vs_lock_report *r, uint64_t addr,
			     const struct vs_lock_stats *st);

/* Builds the table and the chains; call once, after the last event. The
 * results stay valid until the report is freed. */
int vs_lock_report_finish(struct vs_lock_report *r, enum vs_lock_sort sort);
size_t vs_lock_report_rows(const struct vs_lock_report *r, const struct vs_lock_row **rows);
/* Chains, longest wait first. */
size_t vs_lock_report_chains(const struct vs_lock_report *r, const struct vs_lock_chain **chains);

/* The long wait of thread tid that was going on at ts, or NULL: how a
 * chain is followed when its holder was itself waiting. */
const struct vs_lock_chain *vs_lock_report_wait_of(const struct vs_lock_report *r, uint32_t tid,
						   uint64_t ts);

/* A lock's display name from its names, or its address. */
void vs_lock_name(char *buf, size_t len, uint64_t addr, const char *kind, const char *object);

#endif
