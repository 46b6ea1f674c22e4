/* Log-linear bucketing: values below VS_HIST_SUB have a bucket each; above,
 * the bucket is the position of the highest set bit and the next
 * VS_HIST_SUB_BITS bits below it. */
#include "hist.h"

#include <string.h>

static unsigned int bucket_of(uint64_t v)
{
	unsigned int msb, shift;

	if (v < VS_HIST_SUB)
		return (unsigned int)v;
	msb = 63u - (unsigned int)__builtin_clzll(v);
	shift = msb - VS_HIST_SUB_BITS;
	return (shift + 1) * VS_HIST_SUB + (unsigned int)((v >> shift) & (VS_HIST_SUB - 1));
}

/* The smallest value of bucket b, and its width. */
static void bucket_range(unsigned int b, uint64_t *low, uint64_t *width)
{
	unsigned int shift;

	if (b < VS_HIST_SUB) {
		*low = b;
		*width = 1;
		return;
	}
	shift = b / VS_HIST_SUB - 1;
	*low = ((uint64_t)VS_HIST_SUB + (b % VS_HIST_SUB)) << shift;
	*width = 1ULL << shift;
}

void vs_hist_reset(struct vs_hist *h)
{
	memset(h, 0, sizeof(*h));
}

void vs_hist_add(struct vs_hist *h, uint64_t value)
{
	if (!h->count || value < h->min)
		h->min = value;
	if (value > h->max)
		h->max = value;
	h->count++;
	h->sum += value;
	h->buckets[bucket_of(value)]++;
}

uint64_t vs_hist_percentile(const struct vs_hist *h, double p)
{
	uint64_t rank, seen = 0, low, width, v;

	if (!h->count)
		return 0;
	if (p <= 0)
		return h->min;
	if (p >= 1)
		return h->max;
	rank = (uint64_t)(p * (double)h->count);
	for (unsigned int b = 0; b < VS_HIST_BUCKETS; b++) {
		seen += h->buckets[b];
		if (seen > rank) {
			bucket_range(b, &low, &width);
			v = low + width / 2;
			return v < h->min ? h->min : v > h->max ? h->max : v;
		}
	}
	return h->max;
}

void vs_hist_merge(struct vs_hist *dst, const struct vs_hist *src)
{
	if (!src->count)
		return;
	if (!dst->count || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
	dst->sum += src->sum;
	for (unsigned int b = 0; b < VS_HIST_BUCKETS; b++)
		dst->buckets[b] += src->buckets[b];
}
