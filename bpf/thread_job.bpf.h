/* Reads a thread's job name (see thread_job.h) in BPF. Include once per
 * program; user space fills job_loc before loading. */
#ifndef VS_BPF_THREAD_JOB_BPF_H
#define VS_BPF_THREAD_JOB_BPF_H

#include "thread_job.h"

const volatile struct vs_job_loc job_loc = {};

/* Copies task's current job name into buf ("" when it has none, or when
 * the location is unknown). task must belong to the process whose context
 * the program runs in: the key and the name are read as user memory. */
static __always_inline void vs_read_job(struct task_struct *task, char *buf, __u32 len)
{
	__u64 fsbase, name = 0;
	__u32 key = 0;

	buf[0] = '\0';
	if (!job_loc.key_addr)
		return;
	if (bpf_probe_read_user(&key, sizeof(key), (const void *)job_loc.key_addr) ||
	    key >= VS_JOB_INLINE_KEYS)
		return;
	fsbase = BPF_CORE_READ(task, thread.fsbase);
	if (!fsbase ||
	    bpf_probe_read_user(&name, sizeof(name),
				(const void *)(fsbase + job_loc.specific_off + 16 * (__u64)key)) ||
	    !name)
		return;
	if (bpf_probe_read_user_str(buf, len, (const void *)name) < 0)
		buf[0] = '\0';
}

#endif
