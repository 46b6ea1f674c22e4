/*
 * The RPC worker pool, like libvirt's virThreadPool: N threads named
 * rpc-worker take requests off one FIFO queue, run them (ref_ops_run) and
 * send the reply to the request's client.
 */
#ifndef REF_POOL_H
#define REF_POOL_H

#include <stddef.h>

#include "ref_ops.h"
#include "ref_request.h"

struct ref_pool;

/* Starts NWORKERS threads: 0 or -errno. OPS must outlive the pool. */
int ref_pool_start(struct ref_pool **out, size_t nworkers, const struct ref_ops *ops);

/* Queues REQ, taking it over: 0, or -ESHUTDOWN once the pool stops. */
int ref_pool_submit(struct ref_pool *pool, struct ref_request *req);

/* Lets the running requests finish (the stop token shortens their delays),
 * answers the queued ones with "err <id> shutting down", joins the workers
 * and frees. Accepts NULL. */
void ref_pool_stop(struct ref_pool *pool);

#endif /* REF_POOL_H */
