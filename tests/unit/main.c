/* Runs every unit-test suite. Needs no root except where a suite says so. */
#include <stdio.h>

#include "unit.h"

extern const struct unit_suite util_suite, args_suite, target_suite, event_suite,
	stacks_suite, folded_suite, kallsyms_suite, hist_suite, profile_suite, flame_suite, ops_suite;
extern const struct unit_suite fork_report_suite;
extern const struct unit_suite record_suite;
extern const struct unit_suite offcpu_report_suite;
extern const struct unit_suite top_model_suite;
extern const struct unit_suite symbolize_suite;
extern const struct unit_suite lock_sampler_suite;

static const struct unit_suite *const suites[] = {
	&util_suite, &args_suite, &target_suite, &event_suite,
	&stacks_suite, &folded_suite, &kallsyms_suite, &hist_suite, &profile_suite, &flame_suite,
	&ops_suite, &fork_report_suite, &record_suite,
	&offcpu_report_suite,
	&top_model_suite,
	&symbolize_suite,
	&lock_sampler_suite,
};

static int failed_now;

void unit_fail(const char *file, int line, const char *what)
{
	printf("  %s:%d: check failed: %s\n", file, line, what);
	failed_now = 1;
}

int main(void)
{
	int passed = 0, failed = 0;

	for (size_t s = 0; s < sizeof(suites) / sizeof(suites[0]); s++) {
		for (size_t t = 0; t < suites[s]->count; t++) {
			const struct unit_test *test = &suites[s]->tests[t];

			failed_now = 0;
			test->fn();
			printf("%s - %s/%s\n", failed_now ? "FAIL" : "ok", suites[s]->name,
			       test->name);
			if (failed_now)
				failed++;
			else
				passed++;
		}
	}
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
