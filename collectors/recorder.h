/* The recorder: a consumer of a session's event stream that writes every
 * event to a recording (recfile.h), with what naming its stacks on another
 * machine needs: each stack once, the name of each address its frames look
 * up (symbolized here, while the binaries are at hand), and each process's
 * mappings with their build-ids. Replaying the file (replay.h) feeds the
 * same consumers the live commands use.
 *
 * Events are buffered and written as one chunk every flush_events events or
 * whenever vs_recorder_tick() finds a second has passed, and each chunk is
 * synced: a recorder killed at any moment loses at most the chunk it was
 * filling.
 *
 * As a flight recorder (ring_bytes set), chunks stay in memory and the
 * oldest are dropped past ring_bytes; nothing but the header reaches the
 * file until a trigger fires. The recorder then keeps recording after_ns
 * more, and writes the stacks and names, and the chunks from before_ns
 * before the triggering operation began to the end, and stops recording. */
#ifndef VS_RECORDER_H
#define VS_RECORDER_H

#include <stddef.h>
#include <stdint.h>

#include "../bpf/probes.h"
#include "offcpu.h"
#include "recevent.h"
#include "session.h"

enum vs_trigger_kind {
	VS_TRIGGER_STALL = 1, /* an event-loop turn over the threshold */
	VS_TRIGGER_RPC,       /* an RPC over the threshold */
	VS_TRIGGER_LOCK,      /* a lock wait over the threshold */
	VS_TRIGGER_DBUS_TIMEOUT, /* a D-Bus call that ran into its timeout */
};

#define VS_RECORDER_MAX_TRIGGERS 8

struct vs_trigger {
	enum vs_trigger_kind kind;
	uint64_t threshold_ns;
};

struct vs_recorder_opts {
	const char *path;
	uint64_t flush_events; /* 0: 4096 */
	uint64_t flush_ns;     /* 0: one second */
	int no_sync;           /* do not fdatasync chunks (benchmarks) */
	uint64_t ring_bytes;   /* 0: write everything */
	struct vs_trigger triggers[VS_RECORDER_MAX_TRIGGERS];
	size_t nr_triggers;
	uint64_t before_ns, after_ns;
};

struct vs_recorder;

/* Creates path (0600, O_EXCL, never through a symlink) and writes the
 * header (and, unless a flight recorder, the meta chunk). NULL with a
 * one-line reason in err. The session must outlive the recorder. */
struct vs_recorder *vs_recorder_new(struct vs_session *s, const struct vs_rec_meta *meta,
				    const struct vs_recorder_opts *opts, char *err, size_t errlen);
struct vs_consumer *vs_recorder_consumer(struct vs_recorder *r);

/* Call between polls: writes a chunk when a second has passed, and dumps a
 * flight recording once its after-window has passed. 0 or -errno. */
int vs_recorder_tick(struct vs_recorder *r);
/* A flight recording has been written: there is nothing more to record. */
int vs_recorder_done(const struct vs_recorder *r);
/* A flight recorder that never fired writes nothing. */
int vs_recorder_fired(const struct vs_recorder *r);
/* The recording's first write error (sticky), which closing it reports with
 * the file's name; 0 while none. */
int vs_recorder_error(const struct vs_recorder *r);
/* What fired it, in words ("RPC of 3612.345 ms (DOMAIN_DESTROY_FLAGS) by
 * thread 4321 at ..."), or "" before a trigger fired. */
const char *vs_recorder_trigger(const struct vs_recorder *r);

/* The figures counted in BPF, read at the end (before the session stops). */
int vs_recorder_add_lock_stats(struct vs_recorder *r, uint64_t addr,
			       const struct vs_lock_stats *st);
int vs_recorder_add_thread(struct vs_recorder *r, const struct vs_offcpu_totals *t);

/* Writes what is buffered, the totals and the end chunk, and closes the
 * file. 0 or -errno. */
int vs_recorder_close(struct vs_recorder *r, uint64_t end_ns);

struct vs_recorder_stats {
	uint64_t events, chunks, bytes, stacks, symbols;
	uint64_t dropped_chunks; /* flight recorder: chunks that fell off the ring */
};
void vs_recorder_stats(const struct vs_recorder *r, struct vs_recorder_stats *st);

void vs_recorder_free(struct vs_recorder *r); /* NULL ok; closes without the end */

/* Parses "stall:MS", "rpc:MS", "lock:MS" or "dbus-timeout". 0 or -EINVAL. */
int vs_trigger_parse(const char *s, struct vs_trigger *t);

#endif
