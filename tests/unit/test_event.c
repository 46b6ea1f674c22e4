/* The event model: a session with a scripted collector feeding two
 * consumers, which must see the same stream; lost events and stats are
 * counted; a failing start stops what it started. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../collectors/session.h"
#include "unit.h"

struct recorder {
	struct vs_consumer consumer;
	struct vs_event seen[64];
	int n;
};

static void record(struct vs_consumer *self, const struct vs_event *ev)
{
	struct recorder *r = (struct recorder *)self;

	if (r->n < 64)
		r->seen[r->n++] = *ev;
}

static int fake_starts, fake_stops, fake_fail;

static int fake_start(struct vs_collector *c)
{
	fake_starts++;
	if (fake_fail) {
		snprintf(c->error, sizeof(c->error), "fake failure");
		return -EPERM;
	}
	c->priv = calloc(1, sizeof(int));
	return c->priv ? 0 : -ENOMEM;
}

static int fake_poll(struct vs_collector *c)
{
	int *round = c->priv;
	struct vs_event ev = { .kind = VS_EV_SAMPLE, .pid = 1, .tid = 2, .ts_ns = 10 };

	if ((*round)++ >= 3)
		return 0;
	ev.ts_ns += (uint64_t)*round;
	vs_collector_emit(c, &ev);
	if (*round == 2)
		vs_collector_lost(c, VS_EV_SAMPLE, 5);
	return 0;
}

static void fake_stop(struct vs_collector *c)
{
	fake_stops++;
	free(c->priv);
	c->priv = NULL;
}

static const struct vs_collector_ops fake_ops = {
	.name = "fake", .summary = "scripted events",
	.start = fake_start, .poll = fake_poll, .stop = fake_stop,
};

static int open_self(struct vs_target *t)
{
	char err[256];

	return vs_target_open(t, getpid(), err, sizeof(err));
}

static void two_consumers_same_stream(void)
{
	struct recorder a = { .consumer.event = record }, b = { .consumer.event = record };
	struct vs_collector_stats st;
	struct vs_session s;
	struct vs_target t;
	char err[256];

	fake_starts = fake_stops = fake_fail = 0;
	CHECK(open_self(&t) == 0);
	CHECK(vs_session_init(&s, &t, NULL) == 0);
	CHECK(vs_session_add_collector_ops(&s, &fake_ops) == 0);
	CHECK(vs_session_add_consumer(&s, &a.consumer) == 0);
	CHECK(vs_session_add_consumer(&s, &b.consumer) == 0);
	CHECK(vs_session_start(&s, err, sizeof(err)) == 0);
	CHECK(vs_session_run(&s, 350 * 1000000ULL) == 0);
	vs_session_stats(&s, &st);
	vs_session_release(&s);
	CHECK(fake_starts == 1 && fake_stops == 1);
	CHECK(a.n == 4 && b.n == 4);
	CHECK(!memcmp(a.seen, b.seen, sizeof(a.seen[0]) * 4));
	CHECK(a.seen[0].kind == VS_EV_SAMPLE && a.seen[0].ts_ns == 11);
	CHECK(a.seen[2].kind == VS_EV_LOST && a.seen[2].lost.count == 5);
	CHECK(!strcmp(a.seen[2].lost.collector, "fake"));
	CHECK(st.events == 3 && st.lost == 5);
}

static void failed_start_stops(void)
{
	struct vs_session s;
	struct vs_target t;
	char err[256] = "";

	fake_starts = fake_stops = 0;
	fake_fail = 1;
	CHECK(open_self(&t) == 0);
	CHECK(vs_session_init(&s, &t, NULL) == 0);
	CHECK(vs_session_add_collector_ops(&s, &fake_ops) == 0);
	CHECK(vs_session_start(&s, err, sizeof(err)) == -EPERM);
	CHECK_STREQ(err, "fake failure");
	CHECK(fake_stops == 1);
	vs_session_release(&s);
	CHECK(fake_stops == 1);
	fake_fail = 0;
}

static void unknown_collector(void)
{
	struct vs_session s;
	struct vs_target t;

	CHECK(open_self(&t) == 0);
	CHECK(vs_session_init(&s, &t, NULL) == 0);
	CHECK(vs_session_add_collector(&s, "no-such-collector") == -ENOENT);
	CHECK(vs_session_add_collector(&s, "cpu") == 0);
	vs_session_release(&s);
}

static void kind_names(void)
{
	CHECK_STREQ(vs_event_kind_name(VS_EV_SAMPLE), "sample");
	CHECK_STREQ(vs_event_kind_name(VS_EV_LOST), "lost");
	CHECK_STREQ(vs_event_kind_name((enum vs_event_kind)999), "unknown");
}

UNIT_SUITE(event, UNIT_TEST(two_consumers_same_stream), UNIT_TEST(failed_start_stops),
	   UNIT_TEST(unknown_collector), UNIT_TEST(kind_names));
