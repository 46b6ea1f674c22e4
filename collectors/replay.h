/* Replay of a recording: the source that feeds a recorded event stream to
 * the same consumers a live session feeds (ops, lock, off-CPU and fork
 * reports, folded stacks, the timeline), with a stack table and a
 * symbolizer rebuilt from the file, so that another machine names the
 * stacks without the binaries.
 *
 * A damaged file is read as far as it goes: every intact chunk is replayed,
 * and the first problem is kept for the caller to report. */
#ifndef VS_REPLAY_H
#define VS_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "../bpf/probes.h"
#include "offcpu.h"
#include "recevent.h"
#include "recfile.h"
#include "session.h"
#include "stacks.h"
#include "symbolize.h"

struct vs_replay_lock_stats {
	uint64_t addr;
	struct vs_lock_stats st;
};

struct vs_replay {
	struct vs_rec_meta meta;
	int have_meta;
	struct vs_rec_end end;
	int have_end;
	struct vs_stacks *stacks;
	struct vs_symbolizer *sym;   /* names from the file only */
	struct vs_replay_lock_stats *locks;
	size_t nr_locks;
	struct vs_offcpu_totals *threads;
	size_t nr_threads;
	uint64_t events;             /* events replayed */
	uint64_t first_ts, last_ts;  /* the span of the events' times */
	uint64_t mappings;
	/* internals */
	struct vs_consumer *consumers[VS_SESSION_MAX_CONSUMERS];
	size_t nr_consumers;
	vs_stack_id *id_map;         /* recorded id -> id here */
	size_t id_map_len;
	uint8_t *data;
	size_t size;
	int owns_data;
	struct vs_rec_reader reader;
};

/* Reads the file and checks its header. 0, or -errno/-EINVAL with a
 * one-line reason in err (the file cannot be read, is empty, is not a
 * recording, is of a newer version). */
int vs_replay_open(struct vs_replay *rp, const char *path, char *err, size_t errlen);
/* The same over a memory image (fuzzing, tests); data must outlive rp. */
int vs_replay_open_mem(struct vs_replay *rp, const void *data, size_t size, char *err,
		       size_t errlen);

int vs_replay_add_consumer(struct vs_replay *rp, struct vs_consumer *c);

/* Feeds every intact chunk's events to the consumers, in recorded order.
 * 0 when the file was whole, 1 when damage was skipped or the recording did
 * not end cleanly (err says what, in one line), -ENOMEM. */
int vs_replay_run(struct vs_replay *rp, char *err, size_t errlen);

/* The duration the recording covers: its end minus its start, or, for a
 * recording that did not end, up to its last event. */
uint64_t vs_replay_interval(const struct vs_replay *rp);

void vs_replay_release(struct vs_replay *rp);

/* Does the file start with a recording's magic? (flame's input detection) */
int vs_replay_is_recording(const void *data, size_t size);

#endif
