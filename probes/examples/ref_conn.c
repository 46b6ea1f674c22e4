/* Client connections (see ref_conn.h). */
#include "ref_conn.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* A worker gives up on a client that reads nothing for this long. */
#define CONN_SEND_TIMEOUT_S 5

struct ref_conn *ref_conn_new(int fd)
{
	struct timeval tv = { .tv_sec = CONN_SEND_TIMEOUT_S };
	struct ref_conn *conn = calloc(1, sizeof(*conn));

	if (!conn)
		return NULL;
	/* Bounded, so a stuck client cannot hold a worker, or shutdown, forever. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	conn->fd = fd;
	atomic_init(&conn->refs, 1);
	pthread_mutex_init(&conn->wlock, NULL);
	return conn;
}

struct ref_conn *ref_conn_ref(struct ref_conn *conn)
{
	atomic_fetch_add(&conn->refs, 1);
	return conn;
}

void ref_conn_unref(struct ref_conn *conn)
{
	if (!conn || atomic_fetch_sub(&conn->refs, 1) != 1)
		return;
	close(conn->fd);
	pthread_mutex_destroy(&conn->wlock);
	free(conn);
}

void ref_conn_close(struct ref_conn *conn)
{
	pthread_mutex_lock(&conn->wlock);
	conn->closed = true;
	pthread_mutex_unlock(&conn->wlock);
	/* The fd stays open until the last reference goes, so its number cannot
	 * be reused under a worker still holding this connection. */
	shutdown(conn->fd, SHUT_RDWR);
}

static int send_all(int fd, const char *buf, size_t len, int flags)
{
	while (len) {
		ssize_t n = send(fd, buf, len, flags | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int ref_conn_send_line(struct ref_conn *conn, bool nonblock, const char *fmt, ...)
{
	char line[REF_LINE_MAX];
	va_list ap;
	int len, err;

	va_start(ap, fmt);
	len = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof(line))
		return -EMSGSIZE;
	pthread_mutex_lock(&conn->wlock);
	if (conn->closed)
		err = -EPIPE;
	else
		err = send_all(conn->fd, line, (size_t)len, nonblock ? MSG_DONTWAIT : 0);
	pthread_mutex_unlock(&conn->wlock);
	return err;
}

int ref_conn_fill(struct ref_conn *conn)
{
	ssize_t n;

	if (conn->len == sizeof(conn->buf))
		return -EMSGSIZE;
	do
		n = recv(conn->fd, conn->buf + conn->len, sizeof(conn->buf) - conn->len,
			 MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	if (n == 0)
		return -ECONNRESET;
	conn->len += (size_t)n;
	return 0;
}

int ref_conn_next_line(struct ref_conn *conn, char *line)
{
	char *nl = memchr(conn->buf, '\n', conn->len);
	size_t taken;

	if (!nl)
		return conn->len == sizeof(conn->buf) ? -EMSGSIZE : 0;
	taken = (size_t)(nl - conn->buf);
	memcpy(line, conn->buf, taken);
	line[taken] = '\0';
	/* Tolerate CRLF from hand-typed clients (socat, nc -C). */
	if (taken && line[taken - 1] == '\r')
		line[taken - 1] = '\0';
	conn->len -= taken + 1;
	memmove(conn->buf, nl + 1, conn->len);
	return 1;
}
