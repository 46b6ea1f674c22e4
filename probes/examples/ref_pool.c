/* The worker pool (see ref_pool.h). */
#include "ref_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "ref_util.h"

struct ref_pool {
	pthread_mutex_t mutex;
	pthread_cond_t cond;
	struct ref_request *head, *tail;
	bool stopping;
	const struct ref_ops *ops;
	pthread_t *threads;
	size_t nthreads;
};

/* The next request, or NULL once the pool stops. */
static struct ref_request *pool_take(struct ref_pool *pool)
{
	struct ref_request *req;

	pthread_mutex_lock(&pool->mutex);
	while (!pool->head && !pool->stopping)
		pthread_cond_wait(&pool->cond, &pool->mutex);
	req = pool->stopping ? NULL : pool->head;
	if (req) {
		pool->head = req->next;
		if (!pool->head)
			pool->tail = NULL;
		req->next = NULL;
	}
	pthread_mutex_unlock(&pool->mutex);
	return req;
}

static void *pool_worker(void *opaque)
{
	struct ref_pool *pool = opaque;
	struct ref_worker_state ws = { 0 };
	struct ref_request *req;

	ref_set_thread_name("rpc-worker");
	while ((req = pool_take(pool))) {
		int64_t ret = ref_ops_run(pool->ops, &ws, req);

		ref_request_reply(req, false, ret);
		ref_request_free(req);
	}
	ref_worker_state_release(&ws);
	return NULL;
}

int ref_pool_start(struct ref_pool **out, size_t nworkers, const struct ref_ops *ops)
{
	struct ref_pool *pool = calloc(1, sizeof(*pool));
	int err;

	if (!pool)
		return -ENOMEM;
	pthread_mutex_init(&pool->mutex, NULL);
	pthread_cond_init(&pool->cond, NULL);
	pool->ops = ops;
	pool->threads = calloc(nworkers, sizeof(*pool->threads));
	if (!pool->threads) {
		ref_pool_stop(pool);
		return -ENOMEM;
	}
	for (; pool->nthreads < nworkers; pool->nthreads++) {
		err = pthread_create(&pool->threads[pool->nthreads], NULL, pool_worker, pool);
		if (err) {
			ref_pool_stop(pool);
			return -err;
		}
	}
	*out = pool;
	return 0;
}

int ref_pool_submit(struct ref_pool *pool, struct ref_request *req)
{
	int err = 0;

	req->next = NULL;
	pthread_mutex_lock(&pool->mutex);
	if (pool->stopping) {
		err = -ESHUTDOWN;
	} else {
		if (pool->tail)
			pool->tail->next = req;
		else
			pool->head = req;
		pool->tail = req;
		pthread_cond_signal(&pool->cond);
	}
	pthread_mutex_unlock(&pool->mutex);
	return err;
}

void ref_pool_stop(struct ref_pool *pool)
{
	struct ref_request *req;
	size_t i;

	if (!pool)
		return;
	pthread_mutex_lock(&pool->mutex);
	pool->stopping = true;
	pthread_cond_broadcast(&pool->cond);
	pthread_mutex_unlock(&pool->mutex);
	for (i = 0; i < pool->nthreads; i++)
		pthread_join(pool->threads[i], NULL);
	while ((req = pool->head)) {
		pool->head = req->next;
		ref_request_reply_err(req, true, "shutting down");
		ref_request_free(req);
	}
	pthread_cond_destroy(&pool->cond);
	pthread_mutex_destroy(&pool->mutex);
	free(pool->threads);
	free(pool);
}
