/* The main event loop (see ref_loop.h). */
#include "ref_loop.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ref_request.h"
#include "ref_util.h"

static int listen_unix(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, err;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	/* A socket file left by a daemon that died; anything else stays. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 128) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int ref_loop_init(struct ref_loop *loop, const char *socket_path, int signal_fd)
{
	int fd;

	memset(loop, 0, sizeof(*loop));
	loop->listen_fd = -1;
	loop->signal_fd = signal_fd;
	fd = listen_unix(socket_path);
	if (fd < 0) {
		ref_warn("cannot listen on '%s': %s", socket_path, strerror(-fd));
		return fd;
	}
	loop->listen_fd = fd;
	loop->socket_path = strdup(socket_path);
	if (!loop->socket_path) {
		unlink(socket_path);
		return -ENOMEM;
	}
	return 0;
}

static void loop_add_client(struct ref_loop *loop, int fd)
{
	struct ref_conn *conn = ref_conn_new(fd);

	if (!conn) {
		ref_warn("out of memory for a client: dropping it");
		close(fd);
		return;
	}
	ref_keepalive_reset(&conn->ka, &loop->ka, ref_now_ms());
	conn->next = loop->conns;
	loop->conns = conn;
	loop->nconns++;
	ref_debug("client %p on fd %d", (void *)conn, fd);
}

static void loop_accept(struct ref_loop *loop)
{
	int fd;

	/* The socket is non-blocking: take every pending client. */
	while ((fd = accept4(loop->listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		loop_add_client(loop, fd);
	if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
		ref_warn("accept on '%s' failed: %s", loop->socket_path, strerror(errno));
}

/* Answers the requests the loop runs itself. */
static void loop_run_here(struct ref_loop *loop, struct ref_request *req)
{
	switch (req->kind) {
	case REF_REQ_PING:
		ref_keepalive_received(req->conn, REF_KEEPALIVE_PING);
		ref_keepalive_sent(req->conn, REF_KEEPALIVE_PONG, req->id);
		break;
	case REF_REQ_STATS:
		ref_request_reply(req, true, (int64_t)ref_probes_fired());
		break;
	default:
		ref_request_reply(req, true, ref_ops_run(loop->ops, NULL, req));
		break;
	}
}

static void loop_handle_line(struct ref_loop *loop, struct ref_conn *conn, char *line)
{
	struct ref_request *req = calloc(1, sizeof(*req));
	char err[256];
	int ret;

	ref_keepalive_reset(&conn->ka, &loop->ka, ref_now_ms());
	if (!req) {
		ref_warn("out of memory for a request: dropping the client");
		conn->dead = true;
		return;
	}
	ret = ref_request_parse(req, line, loop->objects, err, sizeof(err));
	if (!ret && req->kind == REF_REQ_PONG) {
		/* The answer to our PING: no id, no reply. */
		ref_keepalive_received(conn, REF_KEEPALIVE_PONG);
		free(req);
		return;
	}
	req->id = ++loop->next_id;
	req->conn = ref_conn_ref(conn);
	if (ret) {
		ref_request_reply_err(req, true, err);
	} else if (ref_request_on_loop(req)) {
		loop_run_here(loop, req);
	} else if (ref_pool_submit(loop->pool, req) == 0) {
		return;         /* the pool owns it now */
	} else {
		ref_request_reply_err(req, true, "shutting down");
	}
	ref_request_free(req);
}

static void loop_read_client(struct ref_loop *loop, struct ref_conn *conn)
{
	char line[REF_LINE_MAX];
	int err, got;

	err = ref_conn_fill(conn);
	/* Lines that arrived with the end of file still count. */
	while ((got = ref_conn_next_line(conn, line)) > 0 && !conn->dead)
		loop_handle_line(loop, conn, line);
	if (got == -EMSGSIZE) {
		ref_conn_send_line(conn, true, "err 0 line longer than %d bytes\n", REF_LINE_MAX - 1);
		conn->dead = true;
	}
	if (err) {
		if (err != -ECONNRESET)
			ref_debug("client %p: %s", (void *)conn, strerror(-err));
		conn->dead = true;
	}
}

static void loop_read_signal(struct ref_loop *loop)
{
	struct signalfd_siginfo si;

	if (read(loop->signal_fd, &si, sizeof(si)) != sizeof(si))
		return;
	ref_debug("got %s: stopping", strsignal((int)si.ssi_signo));
	loop->stop = true;
}

void ref_loop_dispatch(const char *source, int64_t fd, struct ref_loop *loop,
		       struct ref_conn *conn)
{
	REF_PROBE(LOOP_DISPATCH, source, fd);
	if (!conn && fd == loop->signal_fd)
		loop_read_signal(loop);
	else if (!conn)
		loop_accept(loop);
	else if (!strcmp(source, "keepalive"))
		conn->dead = ref_keepalive_expire(conn, ref_now_ms()) < 0;
	else
		loop_read_client(loop, conn);
}

/* Drops the clients marked dead during the iteration. */
static void loop_sweep(struct ref_loop *loop)
{
	struct ref_conn **link = &loop->conns;

	while (*link) {
		struct ref_conn *conn = *link;

		if (!conn->dead) {
			link = &conn->next;
			continue;
		}
		*link = conn->next;
		loop->nconns--;
		ref_debug("client %p gone", (void *)conn);
		ref_conn_close(conn);
		ref_conn_unref(conn);
	}
}

/* The loop_dispatch name of a ready poll entry. */
static const char *pfd_source(const struct ref_loop *loop, size_t i)
{
	if (loop->pconns[i])
		return "client";
	return loop->pfds[i].fd == loop->signal_fd ? "signal" : "listen";
}

void ref_loop_iteration(uint64_t iteration, struct ref_loop *loop)
{
	struct ref_conn *conn;
	uint64_t now;
	size_t i;

	REF_PROBE(LOOP_ITERATION_BEGIN, iteration);
	for (i = 0; i < loop->npfds; i++)
		if (loop->pfds[i].revents)
			ref_loop_dispatch(pfd_source(loop, i), loop->pfds[i].fd, loop,
					  loop->pconns[i]);
	now = ref_now_ms();
	for (conn = loop->conns; conn; conn = conn->next)
		if (!conn->dead && ref_keepalive_deadline(&conn->ka, &loop->ka) <= now)
			ref_loop_dispatch("keepalive", conn->fd, loop, conn);
	loop_sweep(loop);
	REF_PROBE(LOOP_ITERATION_END, iteration);
}

/* Sizes the poll set for every source: 0 or -ENOMEM. */
static int loop_prepare(struct ref_loop *loop)
{
	struct ref_conn *conn, **pconns;
	size_t need = loop->nconns + 2;
	struct pollfd *pfds;

	if (need > loop->cap) {
		pfds = realloc(loop->pfds, need * 2 * sizeof(*pfds));
		if (!pfds)
			return -ENOMEM;
		loop->pfds = pfds;
		pconns = realloc(loop->pconns, need * 2 * sizeof(*pconns));
		if (!pconns)
			return -ENOMEM;
		loop->pconns = pconns;
		loop->cap = need * 2;
	}
	loop->npfds = 0;
	loop->pfds[loop->npfds] = (struct pollfd){ .fd = loop->signal_fd, .events = POLLIN };
	loop->pconns[loop->npfds++] = NULL;
	loop->pfds[loop->npfds] = (struct pollfd){ .fd = loop->listen_fd, .events = POLLIN };
	loop->pconns[loop->npfds++] = NULL;
	for (conn = loop->conns; conn; conn = conn->next) {
		loop->pfds[loop->npfds] = (struct pollfd){ .fd = conn->fd, .events = POLLIN };
		loop->pconns[loop->npfds++] = conn;
	}
	return 0;
}

/* Milliseconds until the first keepalive is due, or -1. */
static int loop_timeout(const struct ref_loop *loop)
{
	uint64_t first = UINT64_MAX, now = ref_now_ms();
	const struct ref_conn *conn;

	for (conn = loop->conns; conn; conn = conn->next) {
		uint64_t deadline = ref_keepalive_deadline(&conn->ka, &loop->ka);

		if (deadline < first)
			first = deadline;
	}
	if (first == UINT64_MAX)
		return -1;
	return first <= now ? 0 : (int)(first - now);
}

int ref_loop_run(struct ref_loop *loop)
{
	int err, n;

	while (!loop->stop) {
		err = loop_prepare(loop);
		if (err)
			return err;
		n = poll(loop->pfds, loop->npfds, loop_timeout(loop));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		ref_loop_iteration(++loop->iteration, loop);
	}
	return 0;
}

void ref_loop_release(struct ref_loop *loop)
{
	struct ref_conn *conn;

	while ((conn = loop->conns)) {
		loop->conns = conn->next;
		ref_conn_close(conn);
		ref_conn_unref(conn);
	}
	loop->nconns = 0;
	if (loop->listen_fd >= 0)
		close(loop->listen_fd);
	loop->listen_fd = -1;
	if (loop->socket_path)
		unlink(loop->socket_path);
	free(loop->socket_path);
	loop->socket_path = NULL;
	free(loop->pfds);
	free(loop->pconns);
	loop->pfds = NULL;
	loop->pconns = NULL;
	loop->cap = loop->npfds = 0;
}
