/* Finds where the target's threads keep their job names (bpf/thread_job.h),
 * so that BPF can read what any thread is doing without probing the calls
 * that set it. */
#ifndef VS_THREAD_JOB_H
#define VS_THREAD_JOB_H

#include <stddef.h>
#include <sys/types.h>

#include "../bpf/thread_job.h"
#include "profile.h"

/* Fills loc for pid from the profile's `job pthread-key` line and the
 * target's glibc. 0, or -errno with the reason in why (no such line, a build
 * the profile was not made for, a glibc whose layout is not recognised);
 * loc is then all zero, and jobs are unknown. */
int vs_thread_job_locate(pid_t pid, const struct vs_profile *p, struct vs_job_loc *loc,
			 char *why, size_t whylen);

/* The offset from the thread pointer of pthread key 0's value, decoded from
 * the code of pthread_getspecific (len bytes at code); 0 if not recognised. */
unsigned int vs_thread_job_decode_getspecific(const unsigned char *code, size_t len);

#endif
