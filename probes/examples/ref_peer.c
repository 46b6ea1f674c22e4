/*
 * The D-Bus peer (see ref_peer.h). One thread runs a read/write loop on its
 * connection: each incoming call is parked with the time it is due, and the
 * loop sleeps until the next due time or the next message, whichever comes
 * first, so overlapping calls each get exactly their own delay.
 */
#include "ref_peer.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ref_dbus.h"
#include "ref_util.h"

/* How long the loop waits at most, so that it sees a stop request. */
#define PEER_POLL_MS 50

struct ref_peer_call {
	DBusMessage *msg;
	uint64_t due_ms;        /* UINT64_MAX: never answered */
	struct ref_peer_call *next;
};

static void peer_send(struct ref_peer *peer, DBusMessage *reply)
{
	if (!reply || !dbus_connection_send(peer->conn, reply, NULL))
		ref_warn("peer: out of memory for a reply");
	if (reply)
		dbus_message_unref(reply);
}

static void peer_error(struct ref_peer *peer, DBusMessage *msg, const char *name,
		       const char *text)
{
	peer_send(peer, dbus_message_new_error(msg, name, text));
}

/* Parks MSG until DUE_MS. */
static void peer_park(struct ref_peer *peer, DBusMessage *msg, uint64_t due_ms)
{
	struct ref_peer_call *call = calloc(1, sizeof(*call));

	if (!call) {
		peer_error(peer, msg, DBUS_ERROR_NO_MEMORY, "out of memory");
		return;
	}
	call->msg = dbus_message_ref(msg);
	call->due_ms = due_ms;
	call->next = peer->calls;
	peer->calls = call;
}

static void peer_handle(struct ref_peer *peer, DBusMessage *msg)
{
	bool sleep, hang;
	uint32_t ms;

	if (dbus_message_get_type(msg) != DBUS_MESSAGE_TYPE_METHOD_CALL)
		return;         /* NameAcquired and other signals */
	sleep = dbus_message_is_method_call(msg, REF_PEER_IFACE, "Sleep");
	hang = dbus_message_is_method_call(msg, REF_PEER_IFACE, "Hang");
	if (!sleep && !hang) {
		peer_error(peer, msg, DBUS_ERROR_UNKNOWN_METHOD, "no such method");
		return;
	}
	if (!dbus_message_get_args(msg, NULL, DBUS_TYPE_UINT32, &ms, DBUS_TYPE_INVALID)) {
		peer_error(peer, msg, DBUS_ERROR_INVALID_ARGS, "expected one uint32");
		return;
	}
	if (hang || peer->hang)
		peer_park(peer, msg, UINT64_MAX);
	else
		peer_park(peer, msg, ref_now_ms() + ms);
}

/* Replies to the calls due by NOW (all of them with an error when STOPPING)
 * and returns the next due time. */
static uint64_t peer_answer(struct ref_peer *peer, uint64_t now, bool stopping)
{
	struct ref_peer_call **link = &peer->calls;
	uint64_t next = UINT64_MAX;

	while (*link) {
		struct ref_peer_call *call = *link;

		if (!stopping && call->due_ms > now) {
			if (call->due_ms < next)
				next = call->due_ms;
			link = &call->next;
			continue;
		}
		if (stopping)
			peer_error(peer, call->msg, REF_PEER_ERROR_SHUTDOWN, "peer stopped");
		else
			peer_send(peer, dbus_message_new_method_return(call->msg));
		*link = call->next;
		dbus_message_unref(call->msg);
		free(call);
	}
	return next;
}

static void *peer_thread(void *opaque)
{
	struct ref_peer *peer = opaque;
	uint64_t next = UINT64_MAX;
	DBusMessage *msg;

	ref_set_thread_name("dbus-peer");
	while (!atomic_load(&peer->stop)) {
		uint64_t now = ref_now_ms();
		uint64_t wait = next <= now ? 0 : next - now;

		if (wait > PEER_POLL_MS)
			wait = PEER_POLL_MS;
		if (!dbus_connection_read_write(peer->conn, (int)wait)) {
			ref_warn("peer: disconnected from the bus");
			break;
		}
		while ((msg = dbus_connection_pop_message(peer->conn))) {
			peer_handle(peer, msg);
			dbus_message_unref(msg);
		}
		next = peer_answer(peer, ref_now_ms(), false);
		dbus_connection_flush(peer->conn);
	}
	peer_answer(peer, 0, true);
	dbus_connection_flush(peer->conn);
	return NULL;
}

static int peer_own_name(DBusConnection *conn)
{
	DBusError error;
	int ret;

	dbus_error_init(&error);
	ret = dbus_bus_request_name(conn, REF_PEER_NAME, DBUS_NAME_FLAG_DO_NOT_QUEUE, &error);
	if (ret == DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER)
		return 0;
	if (dbus_error_is_set(&error))
		ref_warn("cannot own '%s': %s", REF_PEER_NAME, error.message);
	else
		ref_warn("cannot own '%s': another peer has it", REF_PEER_NAME);
	dbus_error_free(&error);
	return -EADDRINUSE;
}

int ref_peer_start(struct ref_peer *peer, const char *address, bool hang)
{
	int err;

	memset(peer, 0, sizeof(*peer));
	peer->hang = hang;
	atomic_init(&peer->stop, false);
	err = ref_dbus_open(address, &peer->conn);
	if (err)
		return err;
	err = peer_own_name(peer->conn);
	if (err)
		goto fail;
	err = -pthread_create(&peer->thread, NULL, peer_thread, peer);
	if (err)
		goto fail;
	peer->started = true;
	return 0;
fail:
	ref_dbus_close(peer->conn);
	peer->conn = NULL;
	return err;
}

void ref_peer_stop(struct ref_peer *peer)
{
	if (peer->started) {
		atomic_store(&peer->stop, true);
		pthread_join(peer->thread, NULL);
		peer->started = false;
	}
	ref_dbus_close(peer->conn);
	peer->conn = NULL;
}
