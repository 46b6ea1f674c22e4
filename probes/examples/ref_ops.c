/* The ops (see ref_ops.h). */
#include "ref_ops.h"

#include <errno.h>

#include "ref_caps.h"
#include "ref_dbus.h"
#include "ref_proc.h"
#include "ref_util.h"

void ref_op_begin(const char *op, const char *object, uint64_t request_id)
{
	REF_PROBE(OP_BEGIN, op, object, request_id);
}

void ref_op_end(const char *op, const char *object, uint64_t request_id, int64_t result)
{
	REF_PROBE(OP_END, op, object, request_id, result);
}

static int64_t op_hold(const struct ref_ops *ops, const struct ref_request *req)
{
	int64_t ret;

	ref_object_lock(req->obj);
	ret = ref_stop_sleep(ops->stop, req->ms);
	/* Nested locking: whoever waits for OBJ now waits for THEN_OBJ's
	 * holder too. */
	if (req->then_obj) {
		ref_object_lock(req->then_obj);
		ref_object_unlock(req->then_obj);
	}
	ref_object_unlock(req->obj);
	return ret;
}

static int64_t op_wait(const struct ref_request *req)
{
	ref_object_lock(req->obj);
	ref_object_unlock(req->obj);
	return 0;
}

/* Calls the peer, holding the request's object across the call if it names
 * one: the lock-over-D-Bus pattern that stalls libvirt. */
static int64_t op_dbus(const struct ref_ops *ops, struct ref_worker_state *ws,
		       const struct ref_request *req)
{
	uint64_t timeout = req->timeout_ms ? req->timeout_ms : ops->dbus_timeout_ms;
	int64_t ret;

	if (!ops->bus_address)
		return -ENOTCONN;
	if (!ws->dbus) {
		ret = ref_dbus_open(ops->bus_address, &ws->dbus);
		if (ret)
			return ret;
	}
	if (req->obj)
		ref_object_lock(req->obj);
	ret = ref_dbus_call(REF_PEER_NAME, REF_PEER_PATH, REF_PEER_IFACE, req->object,
			    (int64_t)timeout, ws->dbus, (uint32_t)req->ms);
	if (req->obj)
		ref_object_unlock(req->obj);
	/* The bus went away (a restarted --bus): reconnect on the next call. */
	if (ret == -ENOTCONN) {
		ref_dbus_close(ws->dbus);
		ws->dbus = NULL;
	}
	return ret;
}

/* What op_begin and op_end name as the op's object. */
static const char *op_object(const struct ref_ops *ops, const struct ref_request *req)
{
	switch (req->kind) {
	case REF_REQ_FORK:
		return ops->helper;
	case REF_REQ_CAPS:
		return ops->caps_binary;
	default:
		return req->object;
	}
}

static int64_t op_dispatch(const struct ref_ops *ops, struct ref_worker_state *ws,
			   const struct ref_request *req)
{
	switch (req->kind) {
	case REF_REQ_HOLD:
		return op_hold(ops, req);
	case REF_REQ_WAIT:
		return op_wait(req);
	case REF_REQ_SLEEP:
		return ref_stop_sleep(ops->stop, req->ms);
	case REF_REQ_DBUS:
		return ws ? op_dbus(ops, ws, req) : -EINVAL;
	case REF_REQ_FORK:
		return ref_run_helpers("fork", ops->helper, req->count, req->method);
	case REF_REQ_CAPS:
		return ref_caps_lookup(ops->caps_binary, (int64_t)req->count, ops->helper);
	case REF_REQ_BLOCK:
		/* Deaf to the stop token on purpose: the loop is what it blocks. */
		ref_sleep_ms(req->ms);
		return 0;
	default:
		return -EINVAL;     /* keepalives and stats never get here */
	}
}

int64_t ref_ops_run(const struct ref_ops *ops, struct ref_worker_state *ws,
		    const struct ref_request *req)
{
	const char *object = op_object(ops, req);
	int64_t ret;

	ref_op_begin(req->op, object, req->id);
	ret = op_dispatch(ops, ws, req);
	ref_op_end(req->op, object, req->id, ret);
	return ret;
}

void ref_worker_state_release(struct ref_worker_state *ws)
{
	ref_dbus_close(ws->dbus);
	ws->dbus = NULL;
}
