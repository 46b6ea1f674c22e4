/*
 * What each request does once dispatched, between op_begin and op_end, with
 * every delay taken from the request so the truth is known. Worker requests
 * run here on an rpc-worker thread; `block` runs here on the main loop.
 */
#ifndef REF_OPS_H
#define REF_OPS_H

#include "ref_probes.h"

#include <dbus/dbus.h>

#include "ref_object.h"
#include "ref_request.h"
#include "ref_stop.h"

/* Shared by every thread, read-only once the daemon runs. */
struct ref_ops {
	struct ref_objects *objects;
	struct ref_stop *stop;          /* worker delays end early on stop */
	const char *helper;             /* what forks exec */
	const char *caps_binary;        /* what caps looks up */
	const char *bus_address;        /* NULL: no D-Bus */
	uint64_t dbus_timeout_ms;       /* when the request gives none */
};

/* A worker thread's own state. */
struct ref_worker_state {
	DBusConnection *dbus;           /* opened on the first dbus request */
};

/* Runs REQ between op_begin and op_end and returns its result: 0 or -errno.
 * WS is NULL on the main loop. */
int64_t ref_ops_run(const struct ref_ops *ops, struct ref_worker_state *ws,
		    const struct ref_request *req);

/* Frees what a worker opened; call it on the worker's way out. */
void ref_worker_state_release(struct ref_worker_state *ws);

/* The op probe sites: the probe arguments are the function's arguments. */
REF_PROBE_SITE void ref_op_begin(const char *op, const char *object, uint64_t request_id);
REF_PROBE_SITE void ref_op_end(const char *op, const char *object, uint64_t request_id,
			       int64_t result);

#endif /* REF_OPS_H */
