/* Exports of a recording to other tools' formats, from its timeline (every
 * event, in time order), its stack table and its names:
 *  - Chrome's trace-event JSON, which Perfetto UI and chrome://tracing open:
 *    a track per thread with RPC, D-Bus, QEMU monitor, lock-wait, lock-hold,
 *    fork, off-CPU and stall slices, properly nested, and flows from each
 *    waiter to the holder whose release ended its wait;
 *  - speedscope's JSON: sampled profiles of on-CPU, off-CPU and lock-wait
 *    time (https://www.speedscope.app/file-format-schema.json);
 *  - pprof (profile.proto, gzipped): one sample per on-CPU sample, off-CPU
 *    block and lock wait, with four values (samples, cpu, off-cpu and
 *    lock-wait nanoseconds) and the thread as a label. */
#ifndef VS_EXPORT_H
#define VS_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "../collectors/stacks.h"
#include "../collectors/symbolize.h"
#include "../collectors/timeline.h"

struct vs_export_input {
	const struct vs_timeline *timeline; /* sorted by time */
	const struct vs_stacks *stacks;
	struct vs_symbolizer *sym;
	uint32_t pid;
	const char *comm;       /* the process's name */
	uint64_t start_ns;      /* time zero of the trace */
	uint64_t duration_ns;
};

/* Each returns 0, -ENOMEM or -EIO. */
int vs_export_chrome(const struct vs_export_input *in, FILE *out);
int vs_export_speedscope(const struct vs_export_input *in, FILE *out);
int vs_export_pprof(const struct vs_export_input *in, FILE *out);

/* Shared by the writers: s as a JSON string, quotes included. */
void vs_json_string(FILE *out, const char *s);
/* The names of a stack's frames, root first: user frames then kernel
 * frames ("_[k]" appended); calls fn for each. */
void vs_export_frames(const struct vs_export_input *in, vs_stack_id id,
		      void (*fn)(void *arg, const char *name, int kernel), void *arg);

#endif
