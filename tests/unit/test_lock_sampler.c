/* Lock holds by sampling, on this process's own mutex: the holder a read
 * finds is the thread that holds it, a hold keeps its start across reads,
 * an owner outside the target's threads is not believed, and a lock whose
 * memory is gone reads as free without hiding the others. */
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../collectors/lock_sampler.h"
#include "unit.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t go = PTHREAD_MUTEX_INITIALIZER;
static volatile uint32_t holder_tid;

static void *hold_until_go(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	holder_tid = (uint32_t)syscall(SYS_gettid);
	pthread_mutex_lock(&go); /* until the test lets go */
	pthread_mutex_unlock(&go);
	pthread_mutex_unlock(&mu);
	return NULL;
}

struct seen {
	struct vs_lock_hold h[4];
	int n;
};

static int keep(const struct vs_lock_hold *h, void *arg)
{
	struct seen *s = arg;

	if (s->n < 4)
		s->h[s->n++] = *h;
	return 0;
}

static void test_holder_and_hold_age(void)
{
	struct vs_lock_sampler *s = vs_lock_sampler_new(getpid());
	void *gone = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct seen seen = { .n = 0 };
	pthread_t th;
	uint32_t tids[2];

	CHECK(s && gone != MAP_FAILED);
	munmap(gone, 4096); /* a lock whose memory is unmapped since */
	pthread_mutex_lock(&go);
	CHECK(pthread_create(&th, NULL, hold_until_go, NULL) == 0);
	while (!holder_tid)
		usleep(1000);
	CHECK(vs_lock_sampler_watch(s, (uint64_t)(uintptr_t)gone, "gone", 100) == 0);
	CHECK(vs_lock_sampler_watch(s, (uint64_t)(uintptr_t)&mu, "vm1", 100) == 0);
	CHECK(vs_lock_sampler_count(s) == 2);

	/* Not yet told the threads: the owner is not believed. */
	CHECK(vs_lock_sampler_sample(s, 1000) == 0);
	tids[0] = (uint32_t)getpid();
	tids[1] = holder_tid;
	CHECK(vs_lock_sampler_set_threads(s, tids, 2) == 0);
	CHECK(vs_lock_sampler_sample(s, 2000) == 0);
	CHECK(vs_lock_sampler_sample(s, 5000) == 0);
	CHECK(vs_lock_sampler_take(s, 0, keep, &seen) == 0);
	CHECK(seen.n == 2);
	CHECK(seen.h[0].samples == 3 && seen.h[0].held == 0 && !seen.h[0].owner);
	CHECK(!strcmp(seen.h[1].name, "vm1"));
	CHECK(seen.h[1].samples == 3 && seen.h[1].held == 2);
	CHECK(seen.h[1].owner == holder_tid && seen.h[1].held_since_ns == 2000);
	CHECK(seen.h[1].longest_ns == 3000);

	/* Let go: the next read finds it free; the longest hold stays. */
	pthread_mutex_unlock(&go);
	pthread_join(th, NULL);
	CHECK(vs_lock_sampler_sample(s, 6000) == 0);
	seen.n = 0;
	/* named at 100: "gone" is dropped, "vm1" too now that it is free */
	CHECK(vs_lock_sampler_take(s, 200, keep, &seen) == 0);
	CHECK(seen.n == 2 && seen.h[1].samples == 1 && seen.h[1].held == 0);
	CHECK(!seen.h[1].owner && !seen.h[1].held_since_ns && seen.h[1].longest_ns == 3000);
	CHECK(vs_lock_sampler_count(s) == 0);
	vs_lock_sampler_free(s);
}

UNIT_SUITE(lock_sampler, UNIT_TEST(test_holder_and_hold_age));
