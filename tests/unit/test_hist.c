/* The log-linear histogram: percentiles within 1/32 of the truth. */
#include <stdint.h>

#include "../../lib/hist.h"
#include "unit.h"

static int within(uint64_t got, uint64_t want)
{
	uint64_t d = got > want ? got - want : want - got;

	return d * 32 <= want + 32;
}

static void percentiles_of_uniform(void)
{
	static struct vs_hist h;

	vs_hist_reset(&h);
	for (uint64_t v = 1; v <= 100000; v++)
		vs_hist_add(&h, v * 1000);
	CHECK(h.count == 100000 && h.min == 1000 && h.max == 100000000);
	CHECK(within(vs_hist_percentile(&h, 0.5), 50000000));
	CHECK(within(vs_hist_percentile(&h, 0.99), 99000000));
	CHECK(vs_hist_percentile(&h, 1.0) == 100000000);
	CHECK(vs_hist_percentile(&h, 0.0) == 1000);
}

static void small_values_exact(void)
{
	static struct vs_hist h;

	vs_hist_reset(&h);
	for (int i = 0; i < 10; i++)
		vs_hist_add(&h, 7);
	CHECK(vs_hist_percentile(&h, 0.5) == 7);
	vs_hist_add(&h, UINT64_MAX);
	CHECK(vs_hist_percentile(&h, 1.0) == UINT64_MAX);
}

static void merge_adds(void)
{
	static struct vs_hist a, b;

	vs_hist_reset(&a);
	vs_hist_reset(&b);
	vs_hist_add(&a, 10);
	vs_hist_add(&b, 1000000);
	vs_hist_merge(&a, &b);
	CHECK(a.count == 2 && a.min == 10 && a.max == 1000000 && a.sum == 1000010);
}

UNIT_SUITE(hist, UNIT_TEST(percentiles_of_uniform), UNIT_TEST(small_values_exact),
	   UNIT_TEST(merge_adds));
