/* A log-linear histogram of 64-bit values (latencies in ns, sizes): each
 * power of two is split into 32 linear sub-buckets, so any percentile is
 * known within 1/32 (3 %) of its true value, in a fixed 17 KiB, whatever the
 * number of values. Percentiles report a bucket's midpoint, clamped to the
 * exact minimum and maximum seen. */
#ifndef VS_HIST_H
#define VS_HIST_H

#include <stdint.h>

#define VS_HIST_SUB_BITS 5
#define VS_HIST_SUB (1u << VS_HIST_SUB_BITS)
#define VS_HIST_BUCKETS ((64 - VS_HIST_SUB_BITS + 1) * VS_HIST_SUB)

struct vs_hist {
	uint64_t count;
	uint64_t sum;
	uint64_t min;
	uint64_t max;
	uint32_t buckets[VS_HIST_BUCKETS];
};

void vs_hist_reset(struct vs_hist *h);
void vs_hist_add(struct vs_hist *h, uint64_t value);
/* The value below which a share p (0..1) of the values lie; 0 when empty. */
uint64_t vs_hist_percentile(const struct vs_hist *h, double p);
/* Adds every value of src to dst. */
void vs_hist_merge(struct vs_hist *dst, const struct vs_hist *src);

#endif
