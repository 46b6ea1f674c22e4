/*
 * The D-Bus peer the daemon calls, standing in for machined or polkit: a
 * thread with its own connection that owns org.virtscope.RefPeer and serves
 * two methods on /org/virtscope/RefPeer, interface org.virtscope.RefPeer:
 *
 *   Sleep(uint32 ms)  replies after MS milliseconds (never in hang mode);
 *   Hang(uint32 ms)   never replies, so the caller meets its timeout.
 *
 * Replies are timed, not queued: calls that overlap each get their own delay.
 */
#ifndef REF_PEER_H
#define REF_PEER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <dbus/dbus.h>

/* The error every unanswered call gets when the peer stops. */
#define REF_PEER_ERROR_SHUTDOWN "org.virtscope.RefPeer.Error.Shutdown"

struct ref_peer_call;

struct ref_peer {
	DBusConnection *conn;
	pthread_t thread;
	bool started;
	bool hang;                      /* Sleep never replies either */
	atomic_bool stop;
	struct ref_peer_call *calls;    /* unanswered, owned by the thread */
};

/* Connects to ADDRESS, takes the name, and serves in a thread: 0 or -errno.
 * The name is owned when it returns, so callers can call at once. */
int ref_peer_start(struct ref_peer *peer, const char *address, bool hang);

/* Answers every pending call with REF_PEER_ERROR_SHUTDOWN, so no caller
 * waits out its timeout, then stops. Accepts a peer that never started. */
void ref_peer_stop(struct ref_peer *peer);

#endif /* REF_PEER_H */
