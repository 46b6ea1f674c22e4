/* The stop token (see ref_stop.h). */
#include "ref_stop.h"

#include <errno.h>
#include <time.h>

#include "ref_util.h"

int ref_stop_init(struct ref_stop *stop)
{
	pthread_condattr_t attr;
	int err;

	stop->stopping = false;
	err = pthread_condattr_init(&attr);
	if (err)
		return -err;
	/* Monotonic, so that a clock step cannot stretch an injected delay. */
	err = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (!err)
		err = pthread_cond_init(&stop->cond, &attr);
	pthread_condattr_destroy(&attr);
	if (err)
		return -err;
	pthread_mutex_init(&stop->mutex, NULL);
	return 0;
}

void ref_stop_release(struct ref_stop *stop)
{
	pthread_cond_destroy(&stop->cond);
	pthread_mutex_destroy(&stop->mutex);
}

void ref_stop_request(struct ref_stop *stop)
{
	pthread_mutex_lock(&stop->mutex);
	stop->stopping = true;
	pthread_cond_broadcast(&stop->cond);
	pthread_mutex_unlock(&stop->mutex);
}

bool ref_stop_requested(struct ref_stop *stop)
{
	bool stopping;

	pthread_mutex_lock(&stop->mutex);
	stopping = stop->stopping;
	pthread_mutex_unlock(&stop->mutex);
	return stopping;
}

int ref_stop_sleep(struct ref_stop *stop, uint64_t ms)
{
	uint64_t until = ref_now_ns() + ms * 1000000u;
	struct timespec ts = {
		.tv_sec = (time_t)(until / 1000000000u),
		.tv_nsec = (long)(until % 1000000000u),
	};
	int err = 0;

	pthread_mutex_lock(&stop->mutex);
	while (!stop->stopping && err != ETIMEDOUT)
		err = pthread_cond_timedwait(&stop->cond, &stop->mutex, &ts);
	err = stop->stopping ? -ECANCELED : 0;
	pthread_mutex_unlock(&stop->mutex);
	return err;
}
