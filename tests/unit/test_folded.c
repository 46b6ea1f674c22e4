/* The folded writer, end to end on real addresses: stacks made of this test
 * binary's own functions are symbolized through libdwfl (the binary keeps its
 * .symtab), ordered root to leaf, merged and sorted. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../collectors/symbolize.h"
#include "../../flamegraph/folded.h"
#include "unit.h"

/* Bodies big enough that an address a few bytes in is still inside. */
volatile int unit_sink;

__attribute__((noinline)) void vs_unit_root_fn(void)
{
	unit_sink += 3;
	unit_sink *= 5;
}

__attribute__((noinline)) void vs_unit_mid_fn(void)
{
	unit_sink += 3;
	unit_sink *= 5;
}

__attribute__((noinline)) void vs_unit_leaf_fn(void)
{
	unit_sink += 3;
	unit_sink *= 5;
}

/* An address inside fn: return addresses are looked up one byte back, so
 * "inside" must be past the first byte. */
static uint64_t inside(void (*fn)(void))
{
	return (uint64_t)(uintptr_t)fn + 2;
}

static char *write_to_string(struct vs_folded *f)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);

	if (!mem)
		return NULL;
	if (vs_folded_write(f, mem)) {
		fclose(mem);
		free(buf);
		return NULL;
	}
	fclose(mem);
	return buf;
}

static void user_stacks_root_first(void)
{
	struct vs_stacks *st = vs_stacks_new();
	struct vs_procs *procs = vs_procs_new();
	struct vs_symbolizer *sym = vs_symbolizer_new(procs);
	struct vs_folded *f = vs_folded_new(st, sym, VS_EV_SAMPLE, VS_FOLDED_COUNT);
	uint64_t deep[3] = { inside(vs_unit_leaf_fn), inside(vs_unit_mid_fn),
			     inside(vs_unit_root_fn) };
	uint64_t shallow[2] = { inside(vs_unit_mid_fn), inside(vs_unit_root_fn) };
	vs_stack_id a, b;
	char *out;

	CHECK(st && sym && f);
	a = vs_stacks_intern(st, (uint32_t)getpid(), NULL, 0, deep, 3, 0);
	b = vs_stacks_intern(st, (uint32_t)getpid(), NULL, 0, shallow, 2, 0);
	for (int i = 0; i < 3; i++)
		CHECK(vs_folded_add(f, "worker", a, 1) == 0);
	CHECK(vs_folded_add(f, "main", b, 2) == 0);
	CHECK(vs_folded_events(f) == 4 && vs_folded_total(f) == 5);
	out = write_to_string(f);
	CHECK(out);
	CHECK_STREQ(out, "main;vs_unit_root_fn;vs_unit_mid_fn 2\n"
			 "worker;vs_unit_root_fn;vs_unit_mid_fn;vs_unit_leaf_fn 3\n");
	free(out);
	vs_folded_free(f);
	vs_symbolizer_free(sym);
	vs_procs_free(procs);
	vs_stacks_free(st);
}

static void same_names_merge(void)
{
	struct vs_stacks *st = vs_stacks_new();
	struct vs_procs *procs = vs_procs_new();
	struct vs_symbolizer *sym = vs_symbolizer_new(procs);
	struct vs_folded *f = vs_folded_new(st, sym, VS_EV_SAMPLE, VS_FOLDED_COUNT);
	/* Two different addresses in the same functions: one line. */
	uint64_t s1[2] = { inside(vs_unit_leaf_fn), inside(vs_unit_root_fn) };
	uint64_t s2[2] = { inside(vs_unit_leaf_fn) + 1, inside(vs_unit_root_fn) + 1 };
	char *out;

	CHECK(st && sym && f);
	CHECK(vs_folded_add(f, "t", vs_stacks_intern(st, (uint32_t)getpid(), NULL, 0, s1, 2, 0), 4) == 0);
	CHECK(vs_folded_add(f, "t", vs_stacks_intern(st, (uint32_t)getpid(), NULL, 0, s2, 2, 0), 6) == 0);
	out = write_to_string(f);
	CHECK(out);
	CHECK_STREQ(out, "t;vs_unit_root_fn;vs_unit_leaf_fn 10\n");
	free(out);
	vs_folded_free(f);
	vs_symbolizer_free(sym);
	vs_procs_free(procs);
	vs_stacks_free(st);
}

static void consumer_takes_its_kind(void)
{
	struct vs_stacks *st = vs_stacks_new();
	struct vs_procs *procs = vs_procs_new();
	struct vs_symbolizer *sym = vs_symbolizer_new(procs);
	struct vs_folded *f = vs_folded_new(st, sym, VS_EV_OFFCPU, VS_FOLDED_DURATION);
	struct vs_event ev = { .kind = VS_EV_OFFCPU, .dur_ns = 2500000, .comm = "t" };
	struct vs_consumer *c;

	CHECK(st && sym && f);
	c = vs_folded_consumer(f);
	c->event(c, &ev);
	ev.kind = VS_EV_SAMPLE;
	c->event(c, &ev);
	CHECK(vs_folded_events(f) == 1 && vs_folded_total(f) == 2500);
	vs_folded_free(f);
	vs_symbolizer_free(sym);
	vs_procs_free(procs);
	vs_stacks_free(st);
}

static void frame_escaping(void)
{
	struct vs_strbuf sb = { 0 };

	CHECK(vs_folded_add_frame(&sb, "a;b", NULL) == 0);
	CHECK(vs_folded_add_frame(&sb, "c\nd", "_[k]") == 0);
	CHECK_STREQ(sb.buf, "a:b;c d_[k]");
	vs_strbuf_release(&sb);
}

static void unknown_addresses(void)
{
	struct vs_procs *procs = vs_procs_new();
	struct vs_symbolizer *sym = vs_symbolizer_new(procs);

	CHECK(sym);
	CHECK_STREQ(vs_symbolize_user(sym, (uint32_t)getpid(), 0x10), "[unknown]");
	CHECK_STREQ(vs_symbolize_user(sym, 999999999, 0x401000), "[unknown]");
	vs_symbolizer_free(sym);
	vs_procs_free(procs);
}

UNIT_SUITE(folded, UNIT_TEST(user_stacks_root_first), UNIT_TEST(same_names_merge),
	   UNIT_TEST(consumer_takes_its_kind), UNIT_TEST(frame_escaping),
	   UNIT_TEST(unknown_addresses));
