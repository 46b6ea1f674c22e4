/* A minimal unit-test harness: each suite is a table of functions; a failed
 * CHECK ends its test and is reported with its file and line. The runner
 * prints "ok"/"FAIL" per test and ends with "N passed, N failed". */
#ifndef VS_UNIT_H
#define VS_UNIT_H

#include <stddef.h>
#include <string.h>

struct unit_test {
	const char *name;
	void (*fn)(void);
};

struct unit_suite {
	const char *name;
	const struct unit_test *tests;
	size_t count;
};

void unit_fail(const char *file, int line, const char *what);

#define CHECK(cond)                                                  \
	do {                                                         \
		if (!(cond)) {                                       \
			unit_fail(__FILE__, __LINE__, #cond);        \
			return;                                      \
		}                                                    \
	} while (0)

#define CHECK_STREQ(a, b) CHECK(strcmp((a), (b)) == 0)

#define UNIT_SUITE(sname, ...)                                              \
	static const struct unit_test sname##_tests[] = { __VA_ARGS__ };   \
	const struct unit_suite sname##_suite = {                          \
		#sname, sname##_tests, sizeof(sname##_tests) / sizeof(sname##_tests[0]) \
	}

#define UNIT_TEST(fn) { #fn, fn }

#endif
