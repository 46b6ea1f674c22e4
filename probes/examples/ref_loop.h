/*
 * The main event loop, shaped like libvirtd's: one thread polls the
 * listening socket, the signal fd and every client, reads request lines,
 * answers keepalives, runs `block` itself and hands everything else to the
 * worker pool. An iteration is the work done after poll() returns, so an
 * idle loop shows no long iterations but a blocked one does:
 * loop_iteration_begin/end around it, loop_dispatch before each source.
 */
#ifndef REF_LOOP_H
#define REF_LOOP_H

#include "ref_probes.h"

#include <poll.h>
#include <stdbool.h>

#include "ref_conn.h"
#include "ref_keepalive.h"
#include "ref_object.h"
#include "ref_ops.h"
#include "ref_pool.h"

struct ref_loop {
	int listen_fd;
	int signal_fd;                  /* not owned */
	char *socket_path;
	struct ref_conn *conns;
	size_t nconns;
	struct pollfd *pfds;            /* signal, listen, then one per client */
	struct ref_conn **pconns;       /* the client of each pfd, or NULL */
	size_t npfds, cap;
	uint64_t iteration;
	uint64_t next_id;
	bool stop;
	struct ref_keepalive_cfg ka;
	const struct ref_objects *objects;
	const struct ref_ops *ops;
	struct ref_pool *pool;
};

/*
 * Listens on SOCKET_PATH (a stale socket file there is replaced) and takes
 * SIGNAL_FD, a signalfd whose signals stop the loop. 0 or -errno; release
 * accepts a loop whose init failed.
 */
int ref_loop_init(struct ref_loop *loop, const char *socket_path, int signal_fd);

/* Runs until a signal: 0 or -errno. */
int ref_loop_run(struct ref_loop *loop);

/* Drops the clients, closes the socket and removes its file. */
void ref_loop_release(struct ref_loop *loop);

/* One iteration: loop_iteration_begin(iteration) at entry,
 * loop_iteration_end(iteration) at return. */
REF_PROBE_SITE void ref_loop_iteration(uint64_t iteration, struct ref_loop *loop);

/* One ready source, with loop_dispatch(source, fd) at entry. SOURCE is
 * "signal", "listen", "client" or "keepalive" (a client's timer; fd is the
 * client's). */
REF_PROBE_SITE void ref_loop_dispatch(const char *source, int64_t fd, struct ref_loop *loop,
				      struct ref_conn *conn);

#endif /* REF_LOOP_H */
