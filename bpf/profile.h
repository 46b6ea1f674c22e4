/* On-CPU sampling: the record profile.bpf.c sends for each sample of the
 * target, shared with collectors/cpu_profile.c. */
#ifndef VS_BPF_PROFILE_H
#define VS_BPF_PROFILE_H

#include "vs_types.h"

/* The kernel's own limit for bpf_get_stack() (sysctl kernel.perf_event_max_stack
 * defaults to 127). */
#define VS_PROFILE_MAX_STACK 127

struct vs_profile_sample {
	__u64 ts_ns;
	__u32 pid;
	__u32 tid;
	__u32 cpu;
	/* bpf_get_stack()'s result: bytes written, or a negative errno */
	__s32 kstack_bytes;
	__s32 ustack_bytes;
	__u32 pad;
	char comm[16];
	__u64 kstack[VS_PROFILE_MAX_STACK];
	__u64 ustack[VS_PROFILE_MAX_STACK];
};

VS_STATIC_ASSERT(sizeof(struct vs_profile_sample) == 48 + 2 * 8 * VS_PROFILE_MAX_STACK,
		 "vs_profile_sample has no hidden padding");

#endif
