/* The stack table: identical stacks share an id, any difference gives a new
 * one, and records read back as interned. */
#include "../../collectors/stacks.h"
#include "unit.h"

static void intern_dedups(void)
{
	struct vs_stacks *st = vs_stacks_new();
	uint64_t k[] = { 0xffffffff81000010ULL, 0xffffffff81000020ULL };
	uint64_t u[] = { 0x401000, 0x402000, 0x403000 };
	vs_stack_id a, b, c, d, e;
	const struct vs_stack *s;

	CHECK(st);
	a = vs_stacks_intern(st, 7, k, 2, u, 3, 0);
	b = vs_stacks_intern(st, 7, k, 2, u, 3, 0);
	c = vs_stacks_intern(st, 8, k, 2, u, 3, 0);
	d = vs_stacks_intern(st, 7, k, 2, u, 2, 0);
	e = vs_stacks_intern(st, 7, k, 2, u, 3, VS_STACK_TRUNCATED);
	CHECK(a && a == b);
	CHECK(c != a && d != a && e != a && d != c);
	CHECK(vs_stacks_count(st) == 4);
	s = vs_stacks_get(st, a);
	CHECK(s && s->pid == 7 && s->nr_kernel == 2 && s->nr_user == 3);
	CHECK(s->ips[0] == k[0] && s->ips[2] == u[0] && s->ips[4] == u[2]);
	CHECK(vs_stacks_get(st, 0) == NULL && vs_stacks_get(st, 99) == NULL);
	vs_stacks_free(st);
}

static void empty_stack(void)
{
	struct vs_stacks *st = vs_stacks_new();
	vs_stack_id id;

	CHECK(st);
	id = vs_stacks_intern(st, 1, NULL, 0, NULL, 0, VS_STACK_USER_UNREADABLE);
	CHECK(id && vs_stacks_get(st, id)->nr_user == 0);
	vs_stacks_free(st);
}

static void lookup_ip_of_return_addresses(void)
{
	uint64_t ips[] = { 100, 200, 300 };

	CHECK(vs_stack_lookup_ip(ips, 0) == 100);
	CHECK(vs_stack_lookup_ip(ips, 1) == 199);
	CHECK(vs_stack_lookup_ip(ips, 2) == 299);
}

/* Stacks not used since an epoch are forgotten for good: their ids are not
 * given again, interning the same stack anew gives a new id, and the ones
 * used (interned again or touched) stay. */
static void forget_before_an_epoch(void)
{
	struct vs_stacks *st = vs_stacks_new();
	uint64_t u1[] = { 0x401000 }, u2[] = { 0x402000 }, u3[] = { 0x403000 };
	vs_stack_id a, b, c, a2;

	CHECK(st);
	vs_stacks_set_epoch(st, 1);
	a = vs_stacks_intern(st, 7, NULL, 0, u1, 1, 0);
	b = vs_stacks_intern(st, 7, NULL, 0, u2, 1, 0);
	c = vs_stacks_intern(st, 7, NULL, 0, u3, 1, 0);
	vs_stacks_set_epoch(st, 2);
	CHECK(vs_stacks_intern(st, 7, NULL, 0, u2, 1, 0) == b);
	CHECK(vs_stacks_touch(st, c));
	CHECK(vs_stacks_forget_before(st, 2) == 1);
	CHECK(!vs_stacks_get(st, a) && !vs_stacks_touch(st, a));
	CHECK(vs_stacks_get(st, b) && vs_stacks_get(st, c));
	a2 = vs_stacks_intern(st, 7, NULL, 0, u1, 1, 0);
	CHECK(a2 && a2 != a && a2 > c);
	CHECK(vs_stacks_count(st) == 4);
	CHECK(vs_stacks_forget_before(st, 2) == 0);
	vs_stacks_free(st);
}

/* Many ids, forgotten over several rounds as a flight recorder does: the
 * survivors (one old stack kept in use, the newest ones) stay readable
 * across the emptied parts of the id table, and ids go on from where they
 * were. Run under ASan, a block freed too early or never is caught here. */
static void forget_many_over_rounds(void)
{
	struct vs_stacks *st = vs_stacks_new();
	enum { N = 10000 };
	vs_stack_id first = 0, last = 0, id;

	CHECK(st);
	for (uint64_t round = 1; round <= 4; round++) {
		vs_stacks_set_epoch(st, round);
		for (uint64_t i = 0; i < N; i++) {
			uint64_t u = 0x400000 + round * N + i;

			id = vs_stacks_intern(st, 7, NULL, 0, &u, 1, 0);
			CHECK(id == last + 1);
			last = id;
		}
		if (round == 1)
			first = 1;
		CHECK(vs_stacks_touch(st, first));
		CHECK(vs_stacks_forget_before(st, round) == (round == 1 ? 0 : round == 2 ? N - 1 : N));
		CHECK(vs_stacks_get(st, first) && vs_stacks_get(st, first)->ips[0] == 0x400000 + N);
		CHECK(vs_stacks_get(st, last) && vs_stacks_get(st, last)->ips[0] == 0x400000 + round * N + N - 1);
		CHECK(round == 1 || !vs_stacks_get(st, last - N));
	}
	CHECK(vs_stacks_count(st) == 4 * N);
	vs_stacks_set_epoch(st, 9);
	CHECK(vs_stacks_forget_before(st, 9) == N + 1);
	CHECK(!vs_stacks_get(st, first) && !vs_stacks_get(st, last));
	id = vs_stacks_intern(st, 7, NULL, 0, &(uint64_t){ 1 }, 1, 0);
	CHECK(id == 4 * N + 1 && vs_stacks_get(st, id));
	vs_stacks_free(st);
}

/* Hot stacks, touched round after round, keep their ids and contents when
 * the rest of their block is forgotten (and the block goes), are found
 * again by content, and are forgotten once they go cold. */
static void hot_stacks_outlive_their_block(void)
{
	struct vs_stacks *st = vs_stacks_new();
	enum { N = 3 * 4096 };
	static const vs_stack_id hot[] = { 1, 4096, 4097 + 17 };
	vs_stack_id id;

	CHECK(st);
	vs_stacks_set_epoch(st, 1);
	for (uint64_t i = 0; i < N; i++)
		CHECK(vs_stacks_intern(st, 7, NULL, 0, &(uint64_t){ 0x1000 + i }, 1, 0) == i + 1);
	for (uint64_t round = 2; round <= 4; round++) {
		vs_stacks_set_epoch(st, round);
		for (size_t h = 0; h < 3; h++)
			CHECK(vs_stacks_touch(st, hot[h]));
		CHECK(vs_stacks_forget_before(st, round) == (round == 2 ? N - 3 : 0));
		for (size_t h = 0; h < 3; h++)
			CHECK(vs_stacks_get(st, hot[h]) && vs_stacks_get(st, hot[h])->ips[0] == 0x1000 + hot[h] - 1);
		CHECK(!vs_stacks_get(st, 2) && !vs_stacks_get(st, N));
	}
	/* the same content is the same id, and a touch */
	id = vs_stacks_intern(st, 7, NULL, 0, &(uint64_t){ 0x1000 + 4096 - 1 }, 1, 0);
	CHECK(id == 4096);
	vs_stacks_set_epoch(st, 9);
	CHECK(vs_stacks_forget_before(st, 9) == 3);
	for (size_t h = 0; h < 3; h++)
		CHECK(!vs_stacks_get(st, hot[h]));
	id = vs_stacks_intern(st, 7, NULL, 0, &(uint64_t){ 0x1000 }, 1, 0);
	CHECK(id == N + 1 && vs_stacks_get(st, id));
	vs_stacks_free(st);
}

UNIT_SUITE(stacks, UNIT_TEST(intern_dedups), UNIT_TEST(empty_stack),
	   UNIT_TEST(lookup_ip_of_return_addresses), UNIT_TEST(forget_before_an_epoch),
	   UNIT_TEST(forget_many_over_rounds), UNIT_TEST(hot_stacks_outlive_their_block));
