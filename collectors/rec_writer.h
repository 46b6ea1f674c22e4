/* A recording's writer thread: chunks are compressed, written and made
 * durable off the thread that drains the ring buffers. On that thread, an
 * fdatasync took up to 192 ms under bench/95-scale.sh, and zlib more than a
 * quarter of its CPU; every millisecond there is one the rings fill without
 * a reader. */
#ifndef VS_REC_WRITER_H
#define VS_REC_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "recfile.h"

struct vs_rec_writer;

/* Starts the thread, which writes to fd (left open: the caller closes it)
 * and, with sync, fdatasyncs after each batch of chunks it writes. NULL with
 * err filled on failure. */
struct vs_rec_writer *vs_rec_writer_new(int fd, int sync, char *err, size_t errlen);

/* Queues a chunk, taking raw's bytes (raw is left empty, its memory the
 * writer's). When the queued bytes reach the writer's bound, it waits for
 * room: a recording slower than the disk is throttled, not lost. 0, or the
 * writer's first error (sticky: nothing more is written after it). */
int vs_rec_writer_put(struct vs_rec_writer *w, uint32_t type, uint32_t seq, struct vs_rec_buf *raw);

/* Waits until every chunk queued so far is written (and synced, with sync).
 * 0 or the first error. */
int vs_rec_writer_drain(struct vs_rec_writer *w);

/* Drains, stops the thread and frees it; NULL is accepted. 0 or the first
 * error. */
int vs_rec_writer_free(struct vs_rec_writer *w);

#endif
