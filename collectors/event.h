/* The event model: what every source becomes.
 *
 * Whatever the mechanism (perf sample, tracepoint, uprobe, USDT), a collector
 * turns what it sees into struct vs_event and hands it to the session, which
 * passes it to every consumer in order. Live views, recordings and replays of
 * recordings are consumers of the same stream, so they share one aggregation
 * code path and cannot disagree.
 *
 * Conventions:
 * - Times are CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_ns()).
 * - An interval is reported once it is complete, as one event whose ts_ns is
 *   its start and dur_ns its length. Intervals that matter while they are
 *   still open (an RPC in flight, a D-Bus call in progress) are also
 *   announced by a VS_EV_SPAN_BEGIN carrying the same span id.
 * - Strings and stacks are only valid during the consumer callback; a
 *   consumer that keeps one copies it, or keeps the stack id (stack ids are
 *   valid for the session's lifetime).
 */
#ifndef VS_EVENT_H
#define VS_EVENT_H

#include <stdint.h>

#define VS_COMM_LEN 16

/* An interned stack (see stacks.h); 0 means "no stack". */
typedef uint32_t vs_stack_id;

enum vs_event_kind {
	VS_EV_SAMPLE = 1, /* an on-CPU sample */
	VS_EV_SPAN_BEGIN, /* an operation started: RPC, D-Bus call, capability lookup... */
	VS_EV_SPAN_END,   /* that operation ended: ts_ns is its start, dur_ns its length */
	VS_EV_LOCK,       /* a lock wait or hold, complete */
	VS_EV_FORK,       /* the target created a process (not a thread) */
	VS_EV_EXEC,       /* a process of the target exec'd */
	VS_EV_EXIT,       /* a process of the target exited */
	VS_EV_OFFCPU,     /* a thread was blocked for dur_ns */
	VS_EV_LOST,       /* a collector lost events; never dropped silently */
	VS_EV_KEEPALIVE,  /* a keepalive was sent, received, or timed out */
	VS_EV_DISPATCH,   /* the event loop dispatched one source */
	VS_EV_THREAD_JOB, /* a thread started (or, with an empty name, ended) a job */
	VS_EV_TARGET,     /* the target exited, and was (or was not) attached again */
	VS_EV_KIND_MAX,
};

enum vs_span_kind {
	VS_SPAN_RPC = 1,
	VS_SPAN_DBUS,
	VS_SPAN_CAPS_LOOKUP,
	VS_SPAN_QMP,
	VS_SPAN_LOOP_ITERATION,
	VS_SPAN_OPERATION, /* a daemon-defined operation (USDT op_begin/op_end) */
	VS_SPAN_FUNCTION,  /* a call of a named function (name): virCommandRun... */
	VS_SPAN_KIND_MAX,
};

enum vs_keepalive_phase {
	VS_KEEPALIVE_SENT = 1,
	VS_KEEPALIVE_RECEIVED,
	VS_KEEPALIVE_TIMEOUT,
};

enum vs_lock_phase {
	VS_LOCK_WAIT = 1, /* from the request to the acquisition */
	VS_LOCK_HOLD,     /* from the acquisition to the release */
};

struct vs_event {
	enum vs_event_kind kind;
	uint32_t pid; /* process (tgid) */
	uint32_t tid; /* thread */
	uint64_t ts_ns;
	uint64_t dur_ns;
	char comm[VS_COMM_LEN]; /* thread name when the event happened */
	vs_stack_id stack;
	union {
		struct {
			uint64_t period_ns; /* the time one sample stands for */
			uint32_t cpu;
		} sample;
		struct {
			enum vs_span_kind kind;
			uint64_t id;        /* pairs BEGIN with END */
			const char *name;   /* "DOMAIN_DESTROY_FLAGS", "TerminateMachine" */
			const char *object; /* the domain or object it concerns, or NULL */
			const char *iface;  /* D-Bus: the interface */
			const char *peer;   /* D-Bus: the bus name called */
			uint64_t timeout_ms; /* D-Bus: the timeout the call waits for */
			int64_t result;     /* 0 ok, negative errno-like failure */
			/* RPC: the client, the procedure, and the time from the
			 * request being read to a worker picking it up (0 when
			 * not seen). An RPC's END comes from the worker's thread. */
			uint64_t client;
			uint32_t prog, proc;
			uint64_t queue_ns;
		} span;
		struct {
			enum vs_lock_phase phase;
			uint64_t addr;
			uint32_t holder_tid; /* for a wait: who held it, 0 if unknown */
			uint64_t holder_waits; /* for a wait: the lock its holder was
						  itself waiting for then, 0 if none */
			const char *kind;    /* "virDomainObj", or NULL */
			const char *object;  /* "vm1", or NULL */
			/* For a wait, what both threads were doing as it began,
			 * where known (NULL or 0 otherwise): */
			const char *job;          /* the waiter's job */
			const char *holder_comm;  /* the holder's thread name */
			const char *holder_job;   /* the holder's job */
			int holder_seen;          /* the holder's state was read: it
						     was running unless holder_call */
			const char *holder_call;  /* the system call the holder was
						     blocked in, or NULL */
			vs_stack_id holder_stack; /* the holder's stack, when blocked */
		} lock;
		/* A fork's ts_ns is the call's entry and dur_ns the parent's
		 * time in the call, until it returned (0 when unknown). */
		struct {
			uint32_t child_pid; /* 0 when the fork failed */
			const char *reason; /* what the daemon forked for, or NULL */
			const char *via;    /* the libc entry point ("fork"), or NULL */
			uint64_t created_ns; /* when the child was created, 0 if unknown */
		} fork;
		/* From the forks collector, an exec or an exit is an interval
		 * from the process's creation (ts_ns) to the exec or the exit. */
		struct {
			const char *filename;
			uint32_t ppid;  /* its parent, 0 if unknown */
			uint32_t root;  /* the target's child it descends from, 0 if unknown */
		} exec;
		struct {
			int32_t status; /* a wait status: exit code << 8, or the signal */
			uint32_t ppid;
			uint32_t root;
			int execed;     /* it exec'd before it exited */
		} exit;
		struct {
			enum vs_event_kind what; /* the kind of event that was lost */
			uint64_t count;
			const char *collector;
		} lost;
		struct {
			enum vs_keepalive_phase phase;
			uint64_t client;
			int64_t proc;      /* 1 PING, 2 PONG */
			int64_t count;     /* timeout: expiries left before the client is dropped */
			int64_t idle_s;    /* timeout: seconds without traffic */
		} keepalive;
		struct {
			const char *source;
			int64_t fd;
		} dispatch;
		struct {
			const char *name;  /* "" when the job ended */
		} job;
		/* A restart: ts_ns is when the exit was seen, dur_ns the gap until
		 * the new process was attached (pid), or until observation ended. */
		struct {
			uint32_t old_pid;
			uint32_t new_pid; /* 0: it had not come back */
		} target;
		struct {
			uint32_t state;  /* the task state it blocked in */
			uint32_t reason; /* a reason class, see the off-CPU collector */
			uint32_t waker_tid;
			uint32_t waker_pid;      /* 0: the idle task, or unknown */
			const char *waker_comm;  /* NULL when nobody was seen waking it */
			vs_stack_id waker_stack; /* the waker's stack as it woke it */
			int32_t syscall;         /* the call it blocked in, -1 none */
			uint64_t lock_addr;      /* a mutex wait: the lock, else 0 */
			uint32_t lock_holder;    /* ... its owner then, 0 unknown */
			const char *lock_kind;   /* ... its names, or NULL */
			const char *lock_object;
			const char *lock_holder_job; /* ... its owner's job then, NULL unknown */
		} offcpu;
	};
};

const char *vs_event_kind_name(enum vs_event_kind kind);

#endif
