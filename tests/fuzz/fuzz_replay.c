/* libFuzzer harness for the recording reader: any bytes are opened, replayed
 * through every consumer `report` and `export` use, and written out (to
 * /dev/null). Crashes it finds are kept in tests/fuzz/crashes/, which the
 * unit tests replay. Built and run by `make fuzz`. */
#include <stdint.h>
#include <stdio.h>

#include "../../collectors/postmortem.h"
#include "../../collectors/replay.h"
#include "../../export/export.h"
#include "../../flamegraph/folded.h"

static int add(void *owner, struct vs_consumer *c)
{
	return vs_replay_add_consumer(owner, c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	struct vs_postmortem pm;
	struct vs_folded *f = NULL;
	struct vs_replay rp;
	char err[512];

	if (!null)
		null = fopen("/dev/null", "w");
	if (vs_replay_open_mem(&rp, data, size, err, sizeof(err))) {
		vs_replay_release(&rp);
		return 0;
	}
	if (vs_postmortem_init(&pm) || vs_postmortem_consumers(&pm, add, &rp))
		goto out;
	f = vs_folded_new(rp.stacks, rp.sym, VS_EV_OFFCPU, VS_FOLDED_DURATION);
	if (!f || vs_replay_add_consumer(&rp, vs_folded_consumer(f)))
		goto out;
	if (vs_replay_run(&rp, err, sizeof(err)) < 0)
		goto out;
	for (size_t i = 0; i < rp.nr_locks; i++)
		vs_postmortem_add_lock_stats(&pm, rp.locks[i].addr, &rp.locks[i].st);
	for (size_t i = 0; i < rp.nr_threads; i++)
		vs_postmortem_add_thread(&pm, &rp.threads[i]);
	vs_folded_write(f, null);
	{
		struct vs_postmortem_view v = { rp.stacks, rp.sym, &rp.meta.roles,
						vs_replay_interval(&rp), 5, 3 };
		struct vs_export_input in = { &pm.timeline, rp.stacks, rp.sym, rp.meta.pid, "x",
					      rp.first_ts, 1 };

		vs_postmortem_write(&pm, null, &v);
		vs_export_chrome(&in, null);
		vs_export_speedscope(&in, null);
		vs_export_pprof(&in, null);
	}
out:
	vs_folded_free(f);
	vs_postmortem_release(&pm);
	vs_replay_release(&rp);
	return 0;
}
