/*
 * Requests of the line protocol (probes/examples/README.md), parsed on the
 * main loop. A request carries its daemon-assigned id and a reference on
 * its client, which the reply goes back to.
 */
#ifndef REF_REQUEST_H
#define REF_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "ref_object.h"
#include "ref_proc.h"

struct ref_conn;

enum ref_req_kind {
	REF_REQ_HOLD,   /* hold OBJ MS: lock OBJ and keep it MS ms */
	REF_REQ_WAIT,   /* wait OBJ: lock OBJ and let it go */
	REF_REQ_SLEEP,  /* sleep MS: keep a worker busy, no lock */
	REF_REQ_DBUS,   /* dbus METHOD MS [TIMEOUT_MS [OBJ]] */
	REF_REQ_FORK,   /* fork N [fork|vfork|spawn] */
	REF_REQ_CAPS,   /* caps N */
	REF_REQ_BLOCK,  /* block MS: on the main loop itself */
	REF_REQ_PING,   /* ping: keepalive, answered on the main loop */
	REF_REQ_PONG,   /* pong: the answer to a daemon ping; no reply */
	REF_REQ_STATS,  /* stats: how many probes fired */
};

struct ref_request {
	uint64_t id;
	enum ref_req_kind kind;
	const char *op;                 /* the op_begin/op_end name */
	char object[64];                /* the op's object: OBJ, METHOD, ... */
	struct ref_object *obj;         /* hold, wait, dbus with OBJ */
	struct ref_object *then_obj;    /* hold: taken too, after MS, before OBJ is let go */
	uint64_t ms;
	uint64_t count;
	enum ref_fork_method method;    /* fork: how the children are made */
	uint64_t timeout_ms;            /* dbus; 0: the daemon's default */
	struct ref_conn *conn;          /* referenced */
	struct ref_request *next;       /* the pool's queue */
};

/*
 * Parses LINE (modified in place) into REQ, whose id and conn the caller
 * sets. 0, or -EINVAL with a one-line reason in ERR.
 */
int ref_request_parse(struct ref_request *req, char *line, const struct ref_objects *objects,
		      char *err, size_t errlen);

/* Whether REQ runs on the main loop rather than on a worker. */
bool ref_request_on_loop(const struct ref_request *req);

/* "ok <id> <result>": the op ran, and RESULT is its op_end result, 0 or a
 * negative errno. Replies are best effort: a client that left gets none. */
void ref_request_reply(const struct ref_request *req, bool nonblock, int64_t result);
/* "err <id> <message>": the request never ran. */
void ref_request_reply_err(const struct ref_request *req, bool nonblock, const char *msg);

/* Drops the client reference and frees; accepts NULL. */
void ref_request_free(struct ref_request *req);

#endif /* REF_REQUEST_H */
