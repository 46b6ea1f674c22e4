/* The operations report: D-Bus calls that are either fast or take the whole
 * timeout are called out, RPC calls are grouped by procedure and domain,
 * QMP commands are named from their JSON, and procedures from the profile. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../collectors/ops_report.h"
#include "../../collectors/profile.h"
#include "../../lib/util.h"
#include "unit.h"

static void feed_dbus(struct vs_consumer *c, uint64_t dur_ns)
{
	struct vs_event ev = { .kind = VS_EV_SPAN_END, .tid = 7, .dur_ns = dur_ns };

	ev.span.kind = VS_SPAN_DBUS;
	ev.span.peer = "org.freedesktop.machine1";
	ev.span.iface = "org.freedesktop.machine1.Manager";
	ev.span.name = "TerminateMachine";
	ev.span.timeout_ms = 30000;
	c->event(c, &ev);
}

static char *write_report(struct vs_ops_report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	vs_ops_report_write(r, f, NULL, NULL, NULL, VS_NSEC_PER_SEC, 20);
	fclose(f);
	return buf;
}

static void dbus_fast_or_timeout(void)
{
	struct vs_ops_report *r = vs_ops_report_new();
	char *text;

	CHECK(r);
	CHECK(vs_ops_bimodal(5, 0, 2));
	CHECK(!vs_ops_bimodal(5, 1, 2));
	CHECK(!vs_ops_bimodal(5, 0, 0));
	for (int i = 0; i < 5; i++)
		feed_dbus(vs_ops_report_consumer(r), 2 * VS_NSEC_PER_MSEC);
	feed_dbus(vs_ops_report_consumer(r), 30 * VS_NSEC_PER_SEC);
	feed_dbus(vs_ops_report_consumer(r), 30 * VS_NSEC_PER_SEC + 1000);
	text = write_report(r);
	CHECK(text);
	CHECK(strstr(text, "org.freedesktop.machine1 org.freedesktop.machine1.Manager.TerminateMachine"));
	CHECK(strstr(text, "either fast (5 calls"));
	CHECK(strstr(text, "the whole timeout (2)"));
	free(text);
	vs_ops_report_free(r);
}

static void rpc_by_procedure_and_domain(void)
{
	struct vs_ops_report *r = vs_ops_report_new();
	struct vs_consumer *c;
	char *text;

	CHECK(r);
	c = vs_ops_report_consumer(r);
	for (int i = 0; i < 3; i++) {
		struct vs_event ev = { .kind = VS_EV_SPAN_BEGIN, .tid = 1 };

		ev.span.kind = VS_SPAN_RPC;
		ev.span.id = (uint64_t)i + 1;
		ev.span.name = "DOMAIN_DESTROY_FLAGS";
		c->event(c, &ev);
		ev.kind = VS_EV_SPAN_END;
		ev.tid = 9;
		ev.dur_ns = (uint64_t)(i + 1) * VS_NSEC_PER_SEC;
		ev.span.queue_ns = 1000;
		ev.span.object = "vm3";
		if (i < 2) /* the third stays in flight */
			c->event(c, &ev);
	}
	{
		struct vs_event q = { .kind = VS_EV_SPAN_END, .dur_ns = 5000 };

		q.span.kind = VS_SPAN_QMP;
		q.span.peer = "{\"execute\":\"query-status\",\"id\":\"libvirt-12\"}";
		q.span.object = "vm3";
		c->event(c, &q);
	}
	text = write_report(r);
	CHECK(text);
	CHECK(strstr(text, "1 in flight at the end"));
	CHECK(strstr(text, "  DOMAIN_DESTROY_FLAGS                        2      0"));
	CHECK(strstr(text, "  vm3                                         2"));
	CHECK(strstr(text, "  query-status vm3                            1"));
	free(text);
	vs_ops_report_free(r);
}

static void procedures_by_number(void)
{
	struct vs_profile p;
	char err[128];

	CHECK(vs_profile_parse(&p,
			       "profile d\nprocedure 0x20008086 234 DOMAIN_DESTROY_FLAGS\n"
			       "procedure 0x20008086 11 DOMAIN_DEFINE_XML\nprocedure 0x6b656570 1 PING\n",
			       err, sizeof(err)) == 0);
	CHECK_STREQ(vs_profile_procedure_name(&p, 0x20008086, 234), "DOMAIN_DESTROY_FLAGS");
	CHECK_STREQ(vs_profile_procedure_name(&p, 0x20008086, 11), "DOMAIN_DEFINE_XML");
	CHECK_STREQ(vs_profile_procedure_name(&p, 0x6b656570, 1), "PING");
	CHECK(vs_profile_procedure_name(&p, 0x20008086, 12) == NULL);
	vs_profile_release(&p);
	CHECK(vs_profile_parse(&p, "profile d\nprocedure x 1 A\n", err, sizeof(err)) != 0);
	vs_profile_release(&p);
}

static void feed_lost(struct vs_consumer *c, const char *collector, enum vs_event_kind what,
		      uint64_t count)
{
	struct vs_event ev = { .kind = VS_EV_LOST };

	ev.lost.what = what;
	ev.lost.count = count;
	ev.lost.collector = collector;
	c->event(c, &ev);
}

/* Losses are totalled, and broken down by kind and collector with the
 * same pair's counts added up. */
static void lost_by_collector(void)
{
	struct vs_ops_report *r = vs_ops_report_new();
	struct vs_consumer *c;
	char *text;

	CHECK(r);
	c = vs_ops_report_consumer(r);
	feed_lost(c, "probes", VS_EV_SPAN_END, 70);
	feed_lost(c, "offcpu", VS_EV_OFFCPU, 16);
	feed_lost(c, "probes", VS_EV_SPAN_END, 7);
	text = write_report(r);
	CHECK(text);
	CHECK(strstr(text, "93 events were lost: the tables above are partial\n"
			   "  77 span_end events lost by the probes collector\n"
			   "  16 offcpu events lost by the offcpu collector\n"));
	free(text);
	vs_ops_report_free(r);
}

UNIT_SUITE(ops, UNIT_TEST(dbus_fast_or_timeout), UNIT_TEST(rpc_by_procedure_and_domain),
	   UNIT_TEST(procedures_by_number), UNIT_TEST(lost_by_collector));
