/* The fork report's joins: jobs and spans around a fork, a child's fate
 * joined on its pid whatever the order events came in, and RPC names. */
#include <string.h>

#include "../../collectors/fork_report.h"
#include "unit.h"

#define MS 1000000ULL

static void feed(struct vs_fork_report *r, struct vs_event ev)
{
	struct vs_consumer *c = vs_fork_report_consumer(r);

	c->event(c, &ev);
}

static void job(struct vs_fork_report *r, uint32_t tid, uint64_t ts, const char *name)
{
	feed(r, (struct vs_event){ .kind = VS_EV_THREAD_JOB, .tid = tid, .ts_ns = ts,
				   .job.name = name });
}

static void span(struct vs_fork_report *r, uint32_t tid, enum vs_span_kind k, const char *name,
		 uint64_t ts, uint64_t dur)
{
	feed(r, (struct vs_event){ .kind = VS_EV_SPAN_END, .tid = tid, .ts_ns = ts, .dur_ns = dur,
				   .span.kind = k, .span.name = name });
}

static void fork_at(struct vs_fork_report *r, uint32_t tid, uint64_t ts, uint32_t child)
{
	feed(r, (struct vs_event){ .kind = VS_EV_FORK, .pid = 100, .tid = tid, .ts_ns = ts,
				   .dur_ns = 1 * MS, .comm = "rpc-libvirtd",
				   .fork.child_pid = child, .fork.created_ns = ts + MS / 2 });
}

static const struct vs_fork_op_row *op(const struct vs_fork_report *r, const char *name)
{
	const struct vs_fork_op_row *rows;
	size_t n = vs_fork_report_ops(r, &rows);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(rows[i].name, name))
			return &rows[i];
	return NULL;
}

static void rpc_names(void)
{
	char b[64];

	vs_fork_op_name("remoteDispatchDomainDefineXML", b, sizeof(b));
	CHECK_STREQ(b, "DOMAIN_DEFINE_XML");
	vs_fork_op_name("remoteDispatchDomainGetXMLDesc", b, sizeof(b));
	CHECK_STREQ(b, "DOMAIN_GET_XML_DESC");
	vs_fork_op_name("remoteDispatchDomainMigratePrepare3Params", b, sizeof(b));
	CHECK_STREQ(b, "DOMAIN_MIGRATE_PREPARE3_PARAMS");
	vs_fork_op_name("qemuDispatchDomainMonitorCommand", b, sizeof(b));
	CHECK_STREQ(b, "DOMAIN_MONITOR_COMMAND");
	vs_fork_op_name("fork", b, sizeof(b));
	CHECK_STREQ(b, "fork");
	/* cut short, never overrun */
	memset(b, 'x', sizeof(b));
	vs_fork_op_name("remoteDispatchDomainCreate", b, 8);
	CHECK(strlen(b) < 8 && !strncmp(b, "DOMAIN", 6));
}

static void attributes_forks(void)
{
	struct vs_fork_report *r = vs_fork_report_new();
	const struct vs_fork_op_row *d, *c;
	const struct vs_fork_exec_row *e;
	const struct vs_fork_orphan *o;
	struct vs_fork_totals t;

	CHECK(r != NULL);
	if (!r)
		return;
	/* thread 1: two defines, the first with a lookup that forks once */
	job(r, 1, 10 * MS, "remoteDispatchDomainDefineXML");
	fork_at(r, 1, 12 * MS, 501);
	job(r, 1, 20 * MS, "");
	job(r, 1, 30 * MS, "remoteDispatchDomainDefineXML");
	job(r, 1, 40 * MS, "");
	/* thread 2: a start whose virCommandRun forks QEMU (a grandchild execs),
	 * the exec arriving before the fork and the spans */
	feed(r, (struct vs_event){ .kind = VS_EV_EXEC, .pid = 601, .ts_ns = 52 * MS, .dur_ns = 3 * MS,
				   .exec.filename = "/usr/bin/qemu-system-x86_64", .exec.ppid = 600,
				   .exec.root = 600 });
	job(r, 2, 50 * MS, "remoteDispatchDomainCreate");
	fork_at(r, 2, 51 * MS, 600);
	span(r, 2, VS_SPAN_FUNCTION, "virCommandRun", 50 * MS + 1, 5 * MS);
	job(r, 2, 60 * MS, "");
	/* feeds after the job ended on thread 1's lookup */
	span(r, 1, VS_SPAN_CAPS_LOOKUP, "/usr/bin/qemu-system-x86_64", 11 * MS, 2 * MS);
	span(r, 1, VS_SPAN_CAPS_LOOKUP, "/usr/bin/qemu-system-x86_64", 31 * MS, 1 * MS);
	/* the define's child exits 0 without an exec */
	feed(r, (struct vs_event){ .kind = VS_EV_EXIT, .pid = 501, .ts_ns = 12 * MS, .dur_ns = 2 * MS,
				   .exit.status = 0, .exit.root = 501 });
	/* a fork on a thread with no job */
	fork_at(r, 3, 70 * MS, 700);
	CHECK(vs_fork_report_finish(r, NULL, NULL) == 0);

	d = op(r, "DOMAIN_DEFINE_XML");
	CHECK(d && d->ops == 2 && d->forks == 1 && d->caps == 2 && d->caps_forks == 1 &&
	      d->caps_ns == 3 * MS && d->fork_ns == 1 * MS && d->execs == 0);
	c = op(r, "DOMAIN_CREATE");
	/* exec at 55 ms, the child created at 51.5 ms */
	CHECK(c && c->ops == 1 && c->forks == 1 && c->execs == 1 && c->to_exec_ns == 3 * MS + MS / 2);
	CHECK(op(r, VS_FORK_NO_OP) && op(r, VS_FORK_NO_OP)->forks == 1);
	CHECK(vs_fork_report_execs(r, &e) == 1 && e[0].count == 1 &&
	      !strcmp(e[0].op, "DOMAIN_CREATE") && !strcmp(e[0].func, "virCommandRun"));
	CHECK(vs_fork_report_orphans(r, &o) == 2);
	CHECK(o[0].pid == 501 && o[0].exited && o[0].status == 0 && o[0].lifetime_ns == 2 * MS &&
	      !strcmp(o[0].op, "DOMAIN_DEFINE_XML") && !strcmp(o[0].comm, "rpc-libvirtd"));
	CHECK(o[1].pid == 700 && !o[1].exited);
	vs_fork_report_totals(r, &t);
	CHECK(t.forks == 3 && t.forks_timed == 3 && t.execs == 1 && t.caps == 2 && t.caps_forks == 1);
	vs_fork_report_free(r);
}

UNIT_SUITE(fork_report, UNIT_TEST(rpc_names), UNIT_TEST(attributes_forks));
