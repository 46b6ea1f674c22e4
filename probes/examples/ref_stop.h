/*
 * The daemon's stop token. Injected delays on worker threads sleep on it, so
 * that a SIGTERM cuts them short instead of keeping shutdown waiting.
 */
#ifndef REF_STOP_H
#define REF_STOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct ref_stop {
	pthread_mutex_t mutex;
	pthread_cond_t cond;    /* on CLOCK_MONOTONIC */
	bool stopping;
};

int ref_stop_init(struct ref_stop *stop);
void ref_stop_release(struct ref_stop *stop);

/* Wakes every sleeper; ref_stop_sleep() returns at once from then on. */
void ref_stop_request(struct ref_stop *stop);
bool ref_stop_requested(struct ref_stop *stop);

/* Sleeps MS milliseconds: 0, or -ECANCELED when a stop cut it short. */
int ref_stop_sleep(struct ref_stop *stop, uint64_t ms);

#endif /* REF_STOP_H */
