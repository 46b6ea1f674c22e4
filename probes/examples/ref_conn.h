/*
 * One client connection. The main loop owns its reading side (line buffer,
 * keepalive state, list link); workers only ever send a reply through it.
 * Each queued request holds a reference, so a client that hangs up while a
 * worker still runs its request stays valid until the reply is dropped.
 */
#ifndef REF_CONN_H
#define REF_CONN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "ref_keepalive.h"

/* The longest request line, newline included. */
#define REF_LINE_MAX 1024

struct ref_conn {
	int fd;
	atomic_int refs;
	pthread_mutex_t wlock;          /* one line at a time, and `closed` */
	bool closed;
	/* Main loop only: */
	char buf[REF_LINE_MAX];
	size_t len;
	struct ref_keepalive ka;
	bool dead;                      /* to be dropped at the end of the iteration */
	struct ref_conn *next;
};

/* A connection on FD (taken over, closed on the last unref), or NULL. */
struct ref_conn *ref_conn_new(int fd);
struct ref_conn *ref_conn_ref(struct ref_conn *conn);
/* Accepts NULL. */
void ref_conn_unref(struct ref_conn *conn);

/* Stops every later send; the main loop calls it when it drops the client. */
void ref_conn_close(struct ref_conn *conn);

/*
 * Sends one formatted line: 0 or -errno (-EPIPE once closed). NONBLOCK is for
 * the main loop, which must never wait on a client that does not read; a
 * worker waits, within the socket's send timeout.
 */
int ref_conn_send_line(struct ref_conn *conn, bool nonblock, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Reads what is there into the buffer: 0, -ECONNRESET at end of file, or
 * -errno. */
int ref_conn_fill(struct ref_conn *conn);

/*
 * Takes the next complete line out of the buffer, without its newline, into
 * LINE (REF_LINE_MAX bytes): 1 if there was one, 0 if not yet, -EMSGSIZE if
 * the buffer is full with no newline in it.
 */
int ref_conn_next_line(struct ref_conn *conn, char *line);

#endif /* REF_CONN_H */
