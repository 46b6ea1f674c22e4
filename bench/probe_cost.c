/* The cost of one probe site, in ns per hit: a loop over a USDT site of the
 * virtscope provider, and a loop over a call to an exported function (what a
 * uprobe needs instead). It waits for a line on stdin before it measures, so
 * a tracer can attach first, then prints:
 *   usdt_ns=N.NN call_ns=N.NN
 *   bench/probe-cost ITERATIONS */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "virtscope_probes.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static volatile uint64_t sink;

/* The function a uprobe attaches to; it holds the same USDT site. */
__attribute__((noipa, visibility("default"))) void vs_bench_site(void *lock)
{
	if (VIRTSCOPE_LOCK_ACQUIRED_ENABLED())
		VIRTSCOPE_LOCK_ACQUIRED(lock, "benchObject", "obj");
	sink++;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	char line[16];
	double t0, usdt, call;

	printf("ready\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	t0 = now();
	for (long i = 0; i < n; i++) {
		if (VIRTSCOPE_LOCK_ACQUIRED_ENABLED())
			VIRTSCOPE_LOCK_ACQUIRED((void *)&sink, "benchObject", "obj");
		sink++;
	}
	usdt = (now() - t0) / (double)n;
	t0 = now();
	for (long i = 0; i < n; i++)
		vs_bench_site((void *)&sink);
	call = (now() - t0) / (double)n;
	printf("usdt_ns=%.2f call_ns=%.2f\n", usdt, call);
	return 0;
}
