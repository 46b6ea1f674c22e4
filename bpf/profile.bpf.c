// SPDX-License-Identifier: GPL-2.0
/* On-CPU sampling of one process: a perf_event program on every CPU's
 * cpu-clock, keeping only the target's samples, with its kernel and user
 * stacks copied into the ring buffer record (no stack map, so no hash
 * collisions and no stale stack ids). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "profile.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 targ_tgid = 0;
const volatile __u32 targ_tid = 0; /* 0: every thread */

/* Records the ring buffer had no room for: read by user space, never reset. */
__u64 lost = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20); /* resized by user space before load */
} samples SEC(".maps");

SEC("perf_event")
int vs_profile_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct vs_profile_sample *s;

	if (tgid != targ_tgid || (targ_tid && tid != targ_tid))
		return 0;

	s = bpf_ringbuf_reserve(&samples, sizeof(*s), 0);
	if (!s) {
		__sync_fetch_and_add(&lost, 1);
		return 0;
	}
	s->ts_ns = bpf_ktime_get_ns();
	s->pid = tgid;
	s->tid = tid;
	s->cpu = bpf_get_smp_processor_id();
	s->pad = 0;
	bpf_get_current_comm(s->comm, sizeof(s->comm));
	s->kstack_bytes = bpf_get_stack(ctx, s->kstack, sizeof(s->kstack), 0);
	s->ustack_bytes = bpf_get_stack(ctx, s->ustack, sizeof(s->ustack), BPF_F_USER_STACK);
	bpf_ringbuf_submit(s, 0);
	return 0;
}
