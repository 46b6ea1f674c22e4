/* On-CPU sampling: the record profile.bpf.c sends for each sample of the
 * target, shared with collectors/cpu_profile.c. */
#ifndef VS_BPF_PROFILE_H
#define VS_BPF_PROFILE_H

#include "ustack.h"

/* The kernel's own limit for bpf_get_stack() (sysctl kernel.perf_event_max_stack
 * defaults to 127). */
#define VS_PROFILE_MAX_STACK 127

enum vs_unwind_mode {
	VS_UNWIND_DWARF = 0, /* snapshot registers and stack, unwind from CFI in user space */
	VS_UNWIND_FP = 1,    /* frame pointers, walked by the kernel */
};

struct vs_profile_sample {
	__u64 ts_ns;
	__u32 pid;
	__u32 tid;
	__u32 cpu;
	/* bpf_get_stack()'s results: bytes written, or a negative errno */
	__s32 kstack_bytes;
	__s32 ustack_bytes; /* frame-pointer mode only */
	__u32 pad;
	char comm[16];
	__u64 kstack[VS_PROFILE_MAX_STACK];
	__u64 ustack[VS_PROFILE_MAX_STACK]; /* frame-pointer mode only */
	struct vs_ustack snap;              /* DWARF mode only; must stay last */
};

/* The record is sent without the unused tail of snap.data. */
#define VS_PROFILE_SAMPLE_HDR_SIZE (sizeof(struct vs_profile_sample) - VS_USTACK_MAX)

VS_STATIC_ASSERT(sizeof(struct vs_profile_sample) ==
			 48 + 2 * 8 * VS_PROFILE_MAX_STACK + sizeof(struct vs_ustack),
		 "vs_profile_sample has no hidden padding");

#endif
