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

UNIT_SUITE(top_model, UNIT_TEST(test_domains_stay_bounded));
