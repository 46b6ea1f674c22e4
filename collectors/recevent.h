/* The records of a recording: how each piece of the event model, and what
 * naming its stacks elsewhere needs, is encoded into a chunk's payload. The
 * writer (recorder.c) and the reader (replay.c) share these, so the format
 * is defined once. Every record starts with its type (a byte). Within an
 * events chunk, timestamps are deltas from the previous event of the same
 * chunk, so chunks stay independent of each other. */
#ifndef VS_RECEVENT_H
#define VS_RECEVENT_H

#include <stdint.h>

#include "../bpf/probes.h"
#include "event.h"
#include "offcpu.h"
#include "profile.h"
#include "recfile.h"
#include "stacks.h"

enum vs_rec_record {
	/* DICT chunks */
	VS_REC_STACK = 1,   /* id, pid, counts, flags, addresses */
	VS_REC_SYMBOL,      /* pid (0: kernel), address as looked up, name */
	VS_REC_MAPPING,     /* pid, start, end, file offset, path, build-id */
	/* EVENTS chunks */
	VS_REC_EVENT = 16,
	/* TOTALS chunks */
	VS_REC_LOCK_STATS = 32, /* one lock's figures counted in BPF */
	VS_REC_THREAD_TOTALS,   /* one thread's off-CPU totals */
};

/* What a recording says about itself (the META chunk). */
struct vs_rec_meta {
	uint32_t pid;
	char comm[VS_COMM_LEN];
	char host[64];
	char kernel[64];
	char collectors[128];  /* "probes,contention,offcpu,forks,cpu" */
	uint64_t start_ns;     /* CLOCK_MONOTONIC when recording began */
	uint64_t start_realtime_ns;
	uint32_t freq_hz;
	uint64_t lock_min_ns, offcpu_min_ns, stall_ns;
	uint64_t ring_bytes;   /* a flight recording: its ring's size, else 0 */
	char trigger[128];     /* what fired it, "" for a plain recording */
	struct vs_profile roles; /* name and thread roles only (no probes) */
};

/* The END chunk. */
struct vs_rec_end {
	uint64_t end_ns;
	uint64_t events;
	uint64_t lost;
};

struct vs_rec_mapping {
	uint32_t pid;
	uint64_t start, end, offset;
	const char *path;
	const char *build_id; /* hex, or NULL */
};

void vs_rec_put_meta(struct vs_rec_buf *b, const struct vs_rec_meta *m);
int vs_rec_get_meta(struct vs_rec_cur *c, struct vs_rec_meta *m);
void vs_rec_put_end(struct vs_rec_buf *b, const struct vs_rec_end *e);
int vs_rec_get_end(struct vs_rec_cur *c, struct vs_rec_end *e);

void vs_rec_put_event(struct vs_rec_buf *b, const struct vs_event *ev, uint64_t *prev_ts);
/* Decodes the body of an event record (its type byte already read); strings
 * point into c's scratch. 0 or -EINVAL. */
int vs_rec_get_event(struct vs_rec_cur *c, struct vs_event *ev, uint64_t *prev_ts);

void vs_rec_put_stack(struct vs_rec_buf *b, vs_stack_id id, const struct vs_stack *st);
/* ips must hold 2 * 65535 addresses. */
int vs_rec_get_stack(struct vs_rec_cur *c, vs_stack_id *id, uint32_t *pid, uint32_t *nr_kernel,
		     uint32_t *nr_user, uint32_t *flags, uint64_t *ips);

void vs_rec_put_symbol(struct vs_rec_buf *b, uint32_t pid, uint64_t ip, const char *name);
int vs_rec_get_symbol(struct vs_rec_cur *c, uint32_t *pid, uint64_t *ip, const char **name);

void vs_rec_put_mapping(struct vs_rec_buf *b, const struct vs_rec_mapping *m);
int vs_rec_get_mapping(struct vs_rec_cur *c, struct vs_rec_mapping *m);

void vs_rec_put_lock_stats(struct vs_rec_buf *b, uint64_t addr, const struct vs_lock_stats *st);
int vs_rec_get_lock_stats(struct vs_rec_cur *c, uint64_t *addr, struct vs_lock_stats *st);

void vs_rec_put_thread_totals(struct vs_rec_buf *b, const struct vs_offcpu_totals *t);
int vs_rec_get_thread_totals(struct vs_rec_cur *c, struct vs_offcpu_totals *t);

#endif
