/* The live dashboard's model: the Domains table stays bounded when domains
 * come and go, and keeps those with something going on. */
#include <stdio.h>
#include <string.h>

#include "../../collectors/event.h"
#include "../../lib/htab.h"
#include "../../ui/top_model.h"
#include "unit.h"

static void rpc_end(struct vs_top_model *m, const char *domain, uint64_t ts)
{
	struct vs_event ev = {
		.kind = VS_EV_SPAN_END,
		.pid = 1,
		.tid = 2,
		.ts_ns = ts,
		.dur_ns = 1000,
		.span = { .kind = VS_SPAN_RPC, .id = ts, .name = "DOMAIN_DEFINE_XML", .object = domain },
	};

	vs_top_model_consumer(m)->event(vs_top_model_consumer(m), &ev);
}

static size_t nr_domains(const struct vs_top_model *m)
{
	return vs_htab_count(m->domains);
}

static void test_domains_stay_bounded(void)
{
	struct vs_top_model m;
	char name[32];
	uint64_t ts = 1;

	CHECK(vs_top_model_init(&m) == 0);
	vs_top_model_attach(&m, 1, "libvirtd", NULL, 1);
	/* vm-kept is busy in every interval; 20000 others each once */
	for (int tick = 0; tick < 20; tick++) {
		rpc_end(&m, "vm-kept", ts++);
		for (int i = 0; i < 1000; i++) {
			snprintf(name, sizeof(name), "dudom-%d-%d", tick, i);
			rpc_end(&m, name, ts++);
		}
		vs_top_model_begin_refresh(&m);
		vs_top_model_tick(&m, (uint64_t)(tick + 2) * 1000000000ULL);
		if (nr_domains(&m) > 4096)
			break;
	}
	CHECK(nr_domains(&m) <= 4096);
	CHECK(nr_domains(&m) >= 1000);
	CHECK(vs_htab_get(m.domains, "vm-kept", sizeof("vm-kept")) != NULL);
	/* the newest interval's domains are all there; the oldest are gone */
	CHECK(vs_htab_get(m.domains, "dudom-19-999", sizeof("dudom-19-999")) != NULL);
	CHECK(vs_htab_get(m.domains, "dudom-0-0", sizeof("dudom-0-0")) == NULL);
	vs_top_model_release(&m);
}

/* Locks at ever new addresses: rows stay bounded, the lock waited for in
 * every interval keeps its row and its totals, and a lock whose row went
 * but which the kernel still counts is never counted twice. */
static void test_locks_stay_bounded(void)
{
	struct vs_top_model m;
	struct vs_lock_stats kept = { .contended = 0, .wait_ns = 0 }, old = { .contended = 3, .wait_ns = 30 };
	const struct vs_top_lock *l;

	CHECK(vs_top_model_init(&m) == 0);
	vs_top_model_attach(&m, 1, "libvirtd", NULL, 1);
	strcpy(kept.kind, "virDomainObj");
	strcpy(kept.object, "vm-kept");
	for (uint64_t tick = 0; tick < 20; tick++) {
		vs_top_model_begin_refresh(&m);
		kept.contended++;
		kept.wait_ns += 1000;
		vs_top_model_lock(&m, 0x1000, &kept);
		vs_top_model_lock(&m, 0x2000, &old); /* counted once, then idle */
		for (uint64_t i = 0; i < 1000; i++) {
			struct vs_lock_stats st = { .contended = 1, .wait_ns = 5 };

			vs_top_model_lock(&m, 0x100000 + tick * 1000 * 64 + i * 64, &st);
		}
		vs_top_model_tick(&m, (tick + 2) * 1000000000ULL);
	}
	CHECK(vs_htab_count(m.locks) <= 4096);
	CHECK(vs_htab_count(m.locks) >= 1000);
	l = vs_htab_get(m.locks, &(uint64_t){ 0x1000 }, sizeof(uint64_t));
	CHECK(l && l->f.cum.count == 20 && l->f.cum.sum_ns == 20000);
	/* the idle lock lost its row, not its counts: no second count */
	CHECK(!vs_htab_get(m.locks, &(uint64_t){ 0x2000 }, sizeof(uint64_t)));
	vs_top_model_begin_refresh(&m);
	vs_top_model_lock(&m, 0x2000, &old);
	CHECK(!vs_htab_get(m.locks, &(uint64_t){ 0x2000 }, sizeof(uint64_t)));
	old.contended++;
	old.wait_ns += 7;
	vs_top_model_lock(&m, 0x2000, &old);
	vs_top_model_tick(&m, 30 * 1000000000ULL);
	l = vs_htab_get(m.locks, &(uint64_t){ 0x2000 }, sizeof(uint64_t));
	CHECK(l && l->f.cum.count == 1 && l->f.cum.sum_ns == 7);
	vs_top_model_release(&m);
}

UNIT_SUITE(top_model, UNIT_TEST(test_domains_stay_bounded), UNIT_TEST(test_locks_stay_bounded));
