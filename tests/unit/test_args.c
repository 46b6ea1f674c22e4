/* Argument parsing of the subcommands: good combinations, and every bad one
 * rejected with exit status 2 and a reason. */
#include <stdarg.h>
#include <stdio.h>

#include "../../cli/commands.h"
#include "unit.h"

static int parse(struct profile_args *a, char *err, size_t errlen, ...)
{
	char *argv[16];
	int argc = 0;
	va_list ap;

	va_start(ap, errlen);
	for (char *s; (s = va_arg(ap, char *)) && argc < 15;)
		argv[argc++] = s;
	va_end(ap);
	argv[argc] = NULL;
	return profile_parse_args(argc, argv, a, err, errlen);
}

#define PARSE(a, err, ...) parse(a, err, sizeof(err), "profile", __VA_ARGS__, (char *)NULL)

static void profile_defaults(void)
{
	struct profile_args a;
	char err[256] = "";

	CHECK(PARSE(&a, err, "-p", "123") == 0);
	CHECK(a.t.pid == 123 && a.freq_hz == 99 && a.t.duration_ns == 0 && !a.t.output && !a.tid);
}

static void profile_all_options(void)
{
	struct profile_args a;
	char err[256] = "";

	CHECK(PARSE(&a, err, "--daemon", "libvirtd", "-F", "999", "-d", "2.5", "-t", "77",
		    "-o", "out.folded") == 0);
	CHECK(!a.t.pid && !strcmp(a.t.daemon, "libvirtd") && a.freq_hz == 999);
	CHECK(a.t.duration_ns == 2500000000ULL && a.tid == 77 && !strcmp(a.t.output, "out.folded"));
}

static void profile_rejects(void)
{
	static const char *const bad[][4] = {
		{ "-p", "0" },          { "-p", "-5" },      { "-p", "abc" },
		{ "-p", "1", "-F", "0" }, { "-p", "1", "-F", "100001" },
		{ "-p", "1", "-d", "-1" }, { "-p", "1", "-d", "0" },
		{ "-p", "1", "-d", "1e3" }, { "-p", "1", "-d", "99999999" },
		{ "-p", "1", "--bogus" }, { "-p", "1", "extra" },
		{ "-p" },               { "-p", "1", "--daemon", "x" },
		{ "-F", "99" },         { "-p", "1", "-t", "x" },
	};
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct profile_args a;
		char *argv[6] = { "profile" };
		int argc = 1;

		for (int j = 0; j < 4 && bad[i][j]; j++)
			argv[argc++] = (char *)bad[i][j];
		err[0] = '\0';
		if (profile_parse_args(argc, argv, &a, err, sizeof(err)) != VS_EXIT_USAGE ||
		    !err[0]) {
			printf("  case %zu accepted\n", i);
			CHECK(0);
		}
		CHECK(!strchr(err, '\n'));
	}
}

static void profile_help(void)
{
	struct profile_args a;
	char err[256] = "";

	CHECK(PARSE(&a, err, "--help") == 0 && a.t.help);
}

UNIT_SUITE(args, UNIT_TEST(profile_defaults), UNIT_TEST(profile_all_options),
	   UNIT_TEST(profile_rejects), UNIT_TEST(profile_help));
