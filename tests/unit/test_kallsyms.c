/* Kernel symbol lookup from a fixture kallsyms file. */
#include <errno.h>
#include <stdio.h>

#include "../../collectors/kallsyms.h"
#include "unit.h"

static void lookup_fixture(void)
{
	struct vs_kallsyms *ks = vs_kallsyms_load("tests/unit/fixtures/kallsyms");

	CHECK(ks);
	CHECK(vs_kallsyms_lookup(ks, 0xffffffff80000000ULL) == NULL);
	CHECK_STREQ(vs_kallsyms_lookup(ks, 0xffffffff81000000ULL), "_stext");
	CHECK_STREQ(vs_kallsyms_lookup(ks, 0xffffffff81001010ULL), "do_syscall_64");
	CHECK_STREQ(vs_kallsyms_lookup(ks, 0xffffffff81001400ULL), "helper_static");
	/* data symbols are skipped: an address past helper_static stays in it */
	CHECK_STREQ(vs_kallsyms_lookup(ks, 0xffffffff81002010ULL), "helper_static");
	CHECK_STREQ(vs_kallsyms_lookup(ks, 0xffffffff81003004ULL), "weak_fn");
	CHECK_STREQ(vs_kallsyms_lookup(ks, 0xffffffffc0001100ULL), "kvm_fn");
	vs_kallsyms_free(ks);
}

static void missing_file(void)
{
	CHECK(vs_kallsyms_load("tests/unit/fixtures/no-such-file") == NULL);
	CHECK(errno == ENOENT);
}

UNIT_SUITE(kallsyms, UNIT_TEST(lookup_fixture), UNIT_TEST(missing_file));
