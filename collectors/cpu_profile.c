/* The "cpu" collector: on-CPU samples of the target with kernel and user
 * stacks.
 *
 * One cpu-clock perf event per CPU, all running bpf/profile.bpf.c, which
 * keeps only the target's samples. Per-CPU events rather than per-thread
 * ones cover threads created while the profile runs, without racing to
 * attach to them. */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "../bpf/profile.h"
#include "profile.skel.h"
#include "../lib/util.h"
#include "../lib/log.h"
#include "collector.h"
#include "session.h"

#define DEFAULT_FREQ_HZ 99
#define DEFAULT_RINGBUF (8u << 20)

struct cpu_profile {
	struct profile_bpf *skel;
	struct bpf_link **links;
	int nr_links;
	struct ring_buffer *rb;
	uint64_t period_ns;
	uint64_t lost_seen;
};

static int open_cpu_clock(int cpu, uint32_t freq)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.size = sizeof(attr),
		.freq = 1,
		.sample_freq = freq,
	};

	return (int)syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

static int handle_sample(void *ctx, void *data, size_t size)
{
	struct vs_collector *c = ctx;
	struct cpu_profile *p = c->priv;
	const struct vs_profile_sample *s = data;
	struct vs_event ev = { .kind = VS_EV_SAMPLE };
	int dwarf = c->session->config.unwind == VS_UNWIND_DWARF;
	unsigned int nk = 0;

	if (size < VS_PROFILE_SAMPLE_HDR_SIZE ||
	    (dwarf && size < VS_PROFILE_SAMPLE_HDR_SIZE + s->snap.len))
		return 0;
	if (s->kstack_bytes > 0)
		nk = (unsigned int)s->kstack_bytes / sizeof(uint64_t);
	/* A child's mappings are its parent's until it execs: say so before
	 * its stack is first unwound, in case it is gone by then. */
	if (s->pid != (uint32_t)c->session->target.pid)
		vs_procs_set_parent(c->session->procs, s->pid, (uint32_t)c->session->target.pid);
	ev.pid = s->pid;
	ev.tid = s->tid;
	ev.ts_ns = s->ts_ns;
	memcpy(ev.comm, s->comm, sizeof(ev.comm));
	ev.comm[sizeof(ev.comm) - 1] = '\0';
	/* __u64 and uint64_t differ in name only; the stack table memcpy()s. */
	ev.stack = vs_collector_stack(c, s->pid, (const uint64_t *)s->kstack, nk,
				      dwarf ? &s->snap : NULL, (const uint64_t *)s->ustack,
				      s->ustack_bytes < 0 ? s->ustack_bytes
							  : s->ustack_bytes / (int)sizeof(uint64_t));
	ev.sample.period_ns = p->period_ns;
	ev.sample.cpu = s->cpu;
	vs_collector_emit(c, &ev);
	return 0;
}

static int attach_cpus(struct vs_collector *c, uint32_t freq)
{
	struct cpu_profile *p = c->priv;
	int ncpus = libbpf_num_possible_cpus();

	if (ncpus <= 0) {
		snprintf(c->error, sizeof(c->error), "cannot count the CPUs");
		return ncpus ? ncpus : -EINVAL;
	}
	p->links = calloc((size_t)ncpus, sizeof(*p->links));
	if (!p->links)
		return -ENOMEM;
	for (int cpu = 0; cpu < ncpus; cpu++) {
		int rc, fd = open_cpu_clock(cpu, freq);

		if (fd < 0) {
			if (errno == ENODEV)
				continue; /* a possible CPU that is offline */
			rc = -errno;
			snprintf(c->error, sizeof(c->error),
				 "cannot open a cpu-clock perf event on CPU %d: %s", cpu,
				 strerror(errno));
			return rc;
		}
		p->links[p->nr_links] =
			bpf_program__attach_perf_event(p->skel->progs.vs_profile_sample, fd);
		if (!p->links[p->nr_links]) {
			rc = -errno;
			close(fd);
			snprintf(c->error, sizeof(c->error),
				 "cannot attach the sampler to CPU %d: %s", cpu, strerror(-rc));
			return rc;
		}
		p->nr_links++;
	}
	return 0;
}

static int cpu_start(struct vs_collector *c)
{
	const struct vs_config *cfg = &c->session->config;
	uint32_t freq = cfg->freq_hz ? cfg->freq_hz : DEFAULT_FREQ_HZ;
	struct cpu_profile *p;
	int rc;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	c->priv = p;
	p->period_ns = VS_NSEC_PER_SEC / freq;

	p->skel = profile_bpf__open();
	if (!p->skel) {
		rc = -errno;
		snprintf(c->error, sizeof(c->error), "cannot open the cpu sampler: %s",
			 strerror(errno));
		return rc;
	}
	p->skel->rodata->targ_tgid = (uint32_t)c->session->target.pid;
	p->skel->rodata->targ_tid = cfg->tid;
	p->skel->rodata->unwind_mode = cfg->unwind;
	p->skel->rodata->follow_children = cfg->children ? 1 : 0;
	p->skel->rodata->wakeup_bytes = (cfg->ringbuf_size ? cfg->ringbuf_size : DEFAULT_RINGBUF) / 8;
	rc = bpf_map__set_max_entries(p->skel->maps.samples,
				      cfg->ringbuf_size ? cfg->ringbuf_size : DEFAULT_RINGBUF);
	if (rc) {
		snprintf(c->error, sizeof(c->error), "invalid ring buffer size");
		return rc;
	}
	rc = profile_bpf__load(p->skel);
	if (rc) {
		snprintf(c->error, sizeof(c->error), "cannot load the cpu sampler: %s",
			 strerror(-rc));
		return rc;
	}
	rc = attach_cpus(c, freq);
	if (rc)
		return rc;
	p->rb = ring_buffer__new(bpf_map__fd(p->skel->maps.samples), handle_sample, c, NULL);
	if (!p->rb) {
		rc = -errno;
		snprintf(c->error, sizeof(c->error), "cannot open the sample ring buffer: %s",
			 strerror(errno));
		return rc;
	}
	return 0;
}

static int cpu_fd(struct vs_collector *c)
{
	struct cpu_profile *p = c->priv;

	return p && p->rb ? ring_buffer__epoll_fd(p->rb) : -1;
}

static int cpu_poll(struct vs_collector *c)
{
	struct cpu_profile *p = c->priv;

	/* The BPF side counts reservations that failed. */
	return vs_collector_consume(c, p->rb, VS_EV_SAMPLE,
				    (const uint64_t *)&p->skel->bss->lost, &p->lost_seen);
}

static void cpu_stop(struct vs_collector *c)
{
	struct cpu_profile *p = c->priv;

	if (!p)
		return;
	ring_buffer__free(p->rb);
	/* Destroying a perf_event link also closes its perf event fd. */
	for (int i = 0; i < p->nr_links; i++)
		bpf_link__destroy(p->links[i]);
	free(p->links);
	profile_bpf__destroy(p->skel);
	free(p);
	c->priv = NULL;
}

const struct vs_collector_ops vs_cpu_collector = {
	.name = "cpu",
	.summary = "on-CPU samples with kernel and user stacks (perf cpu-clock)",
	.start = cpu_start,
	.fd = cpu_fd,
	.poll = cpu_poll,
	.stop = cpu_stop,
};
