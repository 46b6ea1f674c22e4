/* The live view's model: what `virtscope top` knows about the daemon now,
 * per thread, per domain, and per interval and since start, as tables of
 * figures. It is filled by the session's events (it is a consumer) and by
 * what the command reads once per refresh (/proc, the collectors' maps); it
 * never reads a source itself. The screen, the batch text and the JSON are
 * all drawn from it (through top_views.h), so they carry the same numbers.
 *
 * Every figure is kept three ways: `cur` accumulates the interval being
 * measured, `last` is the last complete interval (what is shown), and `cum`
 * everything since the start (or the last reset). vs_top_model_tick()
 * closes an interval. */
#ifndef VS_TOP_MODEL_H
#define VS_TOP_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "../collectors/contention.h"
#include "../collectors/lock_sampler.h"
#include "../collectors/event.h"
#include "../collectors/offcpu.h"
#include "../collectors/proc_tasks.h"
#include "../collectors/profile.h"
#include "../collectors/session.h"

struct vs_htab;

#define VS_TOP_NAME_LEN 80
#define VS_TOP_MAX_STORIES 64

/* Counts and times of one kind of thing. */
struct vs_top_stat {
	uint64_t count, sum_ns, max_ns;
	uint64_t queue_ns; /* RPCs: time queued before a worker took them */
	uint64_t errors;
};

struct vs_top_figure {
	struct vs_top_stat cur, last, cum;
};

/* A row of the RPC, D-Bus, QMP and fork tables. */
struct vs_top_entry {
	char name[VS_TOP_NAME_LEN]; /* key */
	struct vs_top_figure f;
	uint32_t inflight;    /* calls begun and not ended, now */
	uint64_t oldest_ns;   /* the oldest of them began then */
	vs_stack_id stack;    /* a stack of its latest long call, 0 none */
};

struct vs_top_thread {
	uint32_t tid; /* key */
	char comm[VS_COMM_LEN];
	const char *role;    /* from the profile, or NULL */
	char state;
	uint64_t ticks, prev_ticks;
	int have_ticks;
	double cpu_pct;      /* over the last interval */
	/* Off-CPU time over the last interval, per reason. */
	uint64_t off_prev[VS_OFFCPU_NR_REASONS], off_last[VS_OFFCPU_NR_REASONS];
	int have_off;
	/* What it is doing now: */
	char job[64];        /* its job (an RPC's procedure), "" none */
	uint64_t job_since;
	char domain[64];     /* the domain its job concerns, "" unknown */
	char dbus[96];       /* a D-Bus call in progress, "" none */
	uint64_t dbus_since;
	char qmp[64];        /* a monitor command in progress, "" none */
	uint64_t qmp_since;
	/* A lock it waits for now (refreshed every tick): */
	char wait_lock[VS_TOP_NAME_LEN];
	uint64_t wait_since;
	uint32_t wait_owner;
	char wait_owner_job[64];
	vs_stack_id last_stack; /* its latest long block's or wait's stack */
	uint64_t seen;          /* the tick it was last listed in /proc */
};

/* A lock, from the contention collector's counts. */
struct vs_top_lock {
	uint64_t addr; /* key */
	char name[VS_TOP_NAME_LEN];
	char domain[64];     /* a virDomainObj's domain, else "" */
	uint64_t seen;           /* the refresh it last had a wait in */
	struct vs_top_figure f;
	uint64_t max_wait_ns;    /* the longest wait ever */
	uint32_t waiters_now;
	uint64_t oldest_wait;    /* the oldest wait now began then */
	uint32_t holder_now;     /* the owner the waiters now saw */
	vs_stack_id stack;       /* a long wait's stack */
};

struct vs_top_domain {
	char name[64]; /* key */
	struct vs_top_figure lock_wait; /* waits for its lock */
	struct vs_top_figure rpcs;      /* RPCs on it that ended */
	struct vs_top_figure qmp;       /* monitor commands */
	uint64_t last_op_ns;            /* the latest RPC's latency */
	char last_op[48];
	uint64_t last_qmp_ns;
	char last_qmp[48];
	/* Now: threads working on it (its lock's holder, RPCs known to concern
	 * it) and waiting for its lock. */
	uint32_t busy_now, waiting_now;
	uint64_t oldest_rpc;            /* the oldest RPC on it now began then */
	uint32_t holder_now;
	/* Its lock's holds, sampled (collectors/lock_sampler.h): reads in the
	 * last interval and how many found it held; the hold in progress; the
	 * longest seen. */
	uint64_t hold_samples, hold_held;
	uint32_t hold_owner;
	uint64_t held_since_ns;
	uint64_t hold_longest_ns;
	uint64_t seen;
};

enum vs_top_story_kind { VS_TOP_STALL = 1, VS_TOP_CHAIN };

/* A main-loop stall or a long lock wait, with its explanation. */
struct vs_top_story {
	enum vs_top_story_kind kind;
	uint64_t ts_ns, dur_ns;
	uint32_t tid;
	char comm[VS_COMM_LEN];
	char what[200];
	vs_stack_id stack;
};

/* The header's figures. */
struct vs_top_header {
	char daemon[VS_COMM_LEN];
	uint32_t pid;
	uint64_t uptime_s;
	uint32_t threads;
	double cpu_pct;          /* the daemon, last interval, % of one CPU */
	double self_cpu_pct;     /* virtscope itself */
	uint64_t self_rss_kib;   /* and its resident memory */
	double interval_s;       /* the last interval's length */
	struct vs_top_figure rpcs, forks, dbus, keepalive_timeouts, lost, stalls;
	uint64_t stall_max_ever_ns; /* from the loop's own counts */
	uint64_t events;
	char status[160];        /* "target restarted, re-attached to PID 123" */
};

struct vs_top_model {
	struct vs_consumer consumer;
	struct vs_profile roles;       /* thread roles only */
	int have_roles;
	uint64_t tick, started_ns, last_tick_ns, interval_ns;
	uint64_t proc_ticks_prev, self_ticks_prev;
	int have_proc_ticks;
	struct vs_top_header hdr;
	struct vs_htab *threads;   /* tid -> struct vs_top_thread */
	struct vs_htab *domains;   /* name -> struct vs_top_domain */
	struct vs_htab *locks;     /* addr -> struct vs_top_lock */
	struct vs_htab *lock_totals; /* addr -> its counts as last read (top_model.c) */
	struct vs_htab *rpc;       /* procedure -> struct vs_top_entry */
	struct vs_htab *dbus;      /* method -> struct vs_top_entry */
	struct vs_htab *qmp;       /* command -> struct vs_top_entry */
	struct vs_htab *forks;     /* operation -> struct vs_top_entry */
	struct vs_htab *open;      /* span id -> struct open_call: calls in progress */
	struct vs_top_story stories[VS_TOP_MAX_STORIES]; /* a ring, newest at stories_next - 1 */
	size_t stories_next, nr_stories;
	/* The loop thread's recent long blocks, to explain its stalls. */
	struct vs_top_block { uint64_t ts, dur; uint32_t reason; char what[160]; vs_stack_id stack; }
		loop_blocks[128];
	size_t loop_next;
	uint32_t loop_tid;
	uint64_t chain_min_ns;     /* lock waits kept as stories from this long */
};

/* 0 or -ENOMEM. */
int vs_top_model_init(struct vs_top_model *m);
void vs_top_model_release(struct vs_top_model *m);

/* A new target (first attach, or a restarted daemon): per-thread state is
 * dropped, tables keep their cumulative figures. roles may be NULL. */
void vs_top_model_attach(struct vs_top_model *m, uint32_t pid, const char *comm,
			 const struct vs_profile *roles, uint64_t now_ns);

struct vs_consumer *vs_top_model_consumer(struct vs_top_model *m);

/* What the command reads each refresh, before vs_top_model_tick(). */
void vs_top_model_task(struct vs_top_model *m, const struct vs_proc_task *t);
void vs_top_model_offcpu(struct vs_top_model *m, const struct vs_offcpu_totals *t);
void vs_top_model_lock(struct vs_top_model *m, uint64_t addr, const struct vs_lock_stats *st);
void vs_top_model_wait_now(struct vs_top_model *m, const struct vs_lock_wait_now *w);
/* A sampled lock's figures since the last refresh: the domain named after it
 * gets them (a lock never found held adds no domain). */
void vs_top_model_hold(struct vs_top_model *m, const struct vs_lock_hold *h);
void vs_top_model_process(struct vs_top_model *m, uint64_t cpu_ticks, uint64_t start_ticks,
			  uint64_t self_ticks, uint64_t stall_max_ever_ns, uint64_t events);
/* virtscope's own resident memory, shown beside its CPU. */
void vs_top_model_self_rss(struct vs_top_model *m, uint64_t rss_kib);
/* Clears what is "now" before the readings of a new refresh. */
void vs_top_model_begin_refresh(struct vs_top_model *m);

/* Closes the interval at now_ns: the last interval's figures become those
 * shown. */
void vs_top_model_tick(struct vs_top_model *m, uint64_t now_ns);

/* Keeps every stack the model shows from being forgotten
 * (vs_stacks_forget_before). */
void vs_top_model_touch_stacks(const struct vs_top_model *m, struct vs_stacks *stacks);

/* Forgets every cumulative figure and story (the `r` key). */
void vs_top_model_reset(struct vs_top_model *m);

/* Sets the status line (printf-like). */
void vs_top_model_status(struct vs_top_model *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Stories, newest first: i = 0 is the newest; NULL past the end. */
const struct vs_top_story *vs_top_model_story(const struct vs_top_model *m, size_t i);

#endif
