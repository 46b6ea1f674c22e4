/* The recording's writer thread; see rec_writer.h. */
#include "rec_writer.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Raw bytes queued before a producer waits: about two minutes of the
 * busiest recording measured (bench/95-scale.sh, 0.5 MB/s raw), so only a
 * disk that stopped answering throttles it. */
#define QUEUE_BOUND (64u << 20)

struct pending {
	struct pending *next;
	uint32_t type, seq;
	struct vs_rec_buf raw;
};

struct vs_rec_writer {
	int fd, sync;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t more; /* something queued, or stop */
	pthread_cond_t room; /* a batch done: room in the queue, maybe drained */
	struct pending *head, **tail;
	size_t queued;       /* raw bytes queued or being written */
	int busy;            /* a batch is being written */
	int stop;
	int error;           /* the first one; nothing is written after it */
};

static void free_pending(struct pending *p)
{
	vs_rec_buf_release(&p->raw);
	free(p);
}

/* One batch: every chunk queued when the writer woke, then one sync. */
static int write_batch(struct vs_rec_writer *w, struct pending *batch, int error, size_t *bytes)
{
	int wrote = 0;

	*bytes = 0;
	while (batch) {
		struct pending *next = batch->next;

		if (!error) {
			error = vs_rec_write_chunk(w->fd, batch->type, batch->seq, batch->raw.data,
						   batch->raw.len, 0);
			wrote = 1;
		}
		*bytes += batch->raw.len;
		free_pending(batch);
		batch = next;
	}
	if (!error && wrote && w->sync && fdatasync(w->fd))
		error = -errno;
	return error;
}

static void *writer_main(void *arg)
{
	struct vs_rec_writer *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct pending *batch;
		size_t bytes;
		int rc;

		while (!w->head && !w->stop)
			pthread_cond_wait(&w->more, &w->lock);
		if (!w->head)
			break; /* stopped, and everything written */
		batch = w->head;
		w->head = NULL;
		w->tail = &w->head;
		w->busy = 1;
		rc = w->error;
		pthread_mutex_unlock(&w->lock);

		rc = write_batch(w, batch, rc, &bytes);

		pthread_mutex_lock(&w->lock);
		if (rc && !w->error)
			w->error = rc;
		w->queued -= bytes;
		w->busy = 0;
		pthread_cond_broadcast(&w->room);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct vs_rec_writer *vs_rec_writer_new(int fd, int sync, char *err, size_t errlen)
{
	struct vs_rec_writer *w = calloc(1, sizeof(*w));
	sigset_t all, old;
	int rc;

	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->fd = fd;
	w->sync = sync;
	w->tail = &w->head;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->more, NULL);
	pthread_cond_init(&w->room, NULL);
	/* Signals are the session's: Ctrl-C must interrupt its epoll_wait, not
	 * land on this thread. The thread starts with the mask it is made
	 * under. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&w->thread, NULL, writer_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		snprintf(err, errlen, "cannot start the writer thread: %s", strerror(rc));
		pthread_cond_destroy(&w->room);
		pthread_cond_destroy(&w->more);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return NULL;
	}
	return w;
}

int vs_rec_writer_put(struct vs_rec_writer *w, uint32_t type, uint32_t seq, struct vs_rec_buf *raw)
{
	struct pending *p = malloc(sizeof(*p));
	int rc;

	if (!p) {
		vs_rec_buf_release(raw);
		return -ENOMEM;
	}
	p->next = NULL;
	p->type = type;
	p->seq = seq;
	p->raw = *raw;
	memset(raw, 0, sizeof(*raw));

	pthread_mutex_lock(&w->lock);
	while (w->queued >= QUEUE_BOUND && !w->error)
		pthread_cond_wait(&w->room, &w->lock);
	rc = w->error;
	if (!rc) {
		*w->tail = p;
		w->tail = &p->next;
		w->queued += p->raw.len;
		pthread_cond_signal(&w->more);
	}
	pthread_mutex_unlock(&w->lock);
	if (rc)
		free_pending(p);
	return rc;
}

int vs_rec_writer_drain(struct vs_rec_writer *w)
{
	int rc;

	pthread_mutex_lock(&w->lock);
	while (w->head || w->busy)
		pthread_cond_wait(&w->room, &w->lock);
	rc = w->error;
	pthread_mutex_unlock(&w->lock);
	return rc;
}

int vs_rec_writer_free(struct vs_rec_writer *w)
{
	int rc;

	if (!w)
		return 0;
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_signal(&w->more);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL); /* it writes what is queued first */
	rc = w->error;
	pthread_cond_destroy(&w->room);
	pthread_cond_destroy(&w->more);
	pthread_mutex_destroy(&w->lock);
	free(w);
	return rc;
}
