/* Number parsing, growable strings and the hash table. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../lib/htab.h"
#include "../../lib/util.h"
#include "unit.h"

static void parse_u64_bounds(void)
{
	uint64_t v = 0;

	CHECK(vs_parse_u64("42", 1, 100, &v) == 0 && v == 42);
	CHECK(vs_parse_u64("0", 1, 100, &v) == -ERANGE);
	CHECK(vs_parse_u64("101", 1, 100, &v) == -ERANGE);
	CHECK(vs_parse_u64("-1", 0, 100, &v) == -EINVAL);
	CHECK(vs_parse_u64("", 0, 100, &v) == -EINVAL);
	CHECK(vs_parse_u64("12x", 0, 100, &v) == -EINVAL);
	CHECK(vs_parse_u64("99999999999999999999999", 0, UINT64_MAX, &v) == -ERANGE);
}

static void parse_seconds_fractions(void)
{
	uint64_t ns = 0;

	CHECK(vs_parse_seconds("2", 0, UINT64_MAX, &ns) == 0 && ns == 2000000000ULL);
	CHECK(vs_parse_seconds("0.5", 0, UINT64_MAX, &ns) == 0 && ns == 500000000ULL);
	CHECK(vs_parse_seconds("1.000000001", 0, UINT64_MAX, &ns) == 0 && ns == 1000000001ULL);
	CHECK(vs_parse_seconds("-1", 0, UINT64_MAX, &ns) == -EINVAL);
	CHECK(vs_parse_seconds("1e9", 0, UINT64_MAX, &ns) == -EINVAL);
	CHECK(vs_parse_seconds("inf", 0, UINT64_MAX, &ns) == -EINVAL);
	CHECK(vs_parse_seconds("1.", 0, UINT64_MAX, &ns) == -EINVAL);
	CHECK(vs_parse_seconds("0", 1, UINT64_MAX, &ns) == -ERANGE);
	CHECK(vs_parse_seconds("99999999999999", 0, UINT64_MAX, &ns) == -ERANGE);
}

static void strbuf_grows(void)
{
	struct vs_strbuf sb = { 0 };

	for (int i = 0; i < 1000; i++)
		CHECK(vs_strbuf_addf(&sb, "%d,", i) == 0);
	CHECK(sb.len == strlen(sb.buf));
	CHECK(!strncmp(sb.buf, "0,1,2,", 6));
	CHECK(!strcmp(sb.buf + sb.len - 4, "999,"));
	vs_strbuf_reset(&sb);
	CHECK(sb.len == 0 && sb.buf[0] == '\0');
	vs_strbuf_release(&sb);
}

static void htab_many_keys(void)
{
	struct vs_htab *h = vs_htab_new();
	static uint64_t keys[20000];
	size_t pos = 0, seen = 0;
	void *val;

	CHECK(h);
	for (uint64_t i = 0; i < 20000; i++) {
		keys[i] = i * 7919;
		CHECK(vs_htab_put(h, &keys[i], sizeof(keys[i]), (void *)(uintptr_t)(i + 1), NULL) == 0);
	}
	CHECK(vs_htab_count(h) == 20000);
	for (uint64_t i = 0; i < 20000; i++)
		CHECK(vs_htab_get(h, &keys[i], sizeof(keys[i])) == (void *)(uintptr_t)(i + 1));
	uint64_t missing = 3;
	CHECK(vs_htab_get(h, &missing, sizeof(missing)) == NULL);
	while (vs_htab_next(h, &pos, NULL, NULL, &val))
		seen++;
	CHECK(seen == 20000);
	vs_htab_free(h, NULL);
}

static void htab_replace_returns_old(void)
{
	struct vs_htab *h = vs_htab_new();
	void *old = NULL;

	CHECK(h);
	CHECK(vs_htab_put(h, "k", 1, "a", &old) == 0 && old == NULL);
	CHECK(vs_htab_put(h, "k", 1, "b", &old) == 0 && !strcmp(old, "a"));
	CHECK(vs_htab_count(h) == 1 && !strcmp(vs_htab_get(h, "k", 1), "b"));
	vs_htab_free(h, NULL);
}

/* Removal keeps every other key reachable, through wrap-around and
 * clusters, and a removed key can come back. */
static void htab_delete_keeps_the_rest(void)
{
	struct vs_htab *h = vs_htab_new();
	static uint64_t keys[5000];

	CHECK(h);
	for (uint64_t i = 0; i < 5000; i++) {
		keys[i] = i * 31;
		CHECK(vs_htab_put(h, &keys[i], sizeof(keys[i]), (void *)(uintptr_t)(i + 1), NULL) == 0);
	}
	for (uint64_t i = 0; i < 5000; i += 3)
		CHECK(vs_htab_del(h, &keys[i], sizeof(keys[i])) == (void *)(uintptr_t)(i + 1));
	CHECK(vs_htab_del(h, &keys[0], sizeof(keys[0])) == NULL);
	for (uint64_t i = 0; i < 5000; i++)
		CHECK(vs_htab_get(h, &keys[i], sizeof(keys[i])) ==
		      (i % 3 ? (void *)(uintptr_t)(i + 1) : NULL));
	CHECK(vs_htab_count(h) == 5000 - 1667);
	CHECK(vs_htab_put(h, &keys[3], sizeof(keys[3]), (void *)1, NULL) == 0);
	CHECK(vs_htab_get(h, &keys[3], sizeof(keys[3])) == (void *)1);
	vs_htab_free(h, NULL);
}

UNIT_SUITE(util, UNIT_TEST(parse_u64_bounds), UNIT_TEST(parse_seconds_fractions),
	   UNIT_TEST(strbuf_grows), UNIT_TEST(htab_many_keys), UNIT_TEST(htab_delete_keeps_the_rest),
	   UNIT_TEST(htab_replace_returns_old));
