/* The symbolizer's name cache: names not looked up since an epoch are
 * forgotten, the others stay. */
#include <string.h>

#include "../../collectors/symbolize.h"
#include "unit.h"

static void forget_names_before_an_epoch(void)
{
	struct vs_symbolizer *sym = vs_symbolizer_new(NULL);

	CHECK(sym);
	vs_symbolizer_set_epoch(sym, 1);
	CHECK(!vs_symbolizer_add_name(sym, 7, 0x1000, "kept"));
	CHECK(!vs_symbolizer_add_name(sym, 7, 0x2000, "dropped"));
	CHECK(!vs_symbolizer_add_name(sym, 8, 0x1000, "other"));
	vs_symbolizer_set_epoch(sym, 2);
	CHECK(!strcmp(vs_symbolize_user(sym, 7, 0x1000), "kept"));
	CHECK(vs_symbolizer_forget_before(sym, 2) == 2);
	CHECK(!strcmp(vs_symbolize_user(sym, 7, 0x1000), "kept"));
	CHECK(!strcmp(vs_symbolize_user(sym, 7, 0x2000), "[unknown]"));
	CHECK(!strcmp(vs_symbolize_user(sym, 8, 0x1000), "[unknown]"));
	CHECK(vs_symbolizer_forget_before(sym, 2) == 0);
	vs_symbolizer_free(sym);
}

UNIT_SUITE(symbolize, UNIT_TEST(forget_names_before_an_epoch));
