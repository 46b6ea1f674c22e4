/* Where a thread of the daemon keeps the name of the job it is doing.
 *
 * libvirt's RPC stubs call virThreadJobSet("remoteDispatchDomainDestroyFlags"),
 * which stores the name in a pthread key, and virThreadJobClear() empties it.
 * Probing those two functions costs two uprobe hits per RPC, on every RPC;
 * reading the key's slot in a thread's descriptor costs nothing until a
 * question is asked ("what is the holder of this lock doing?"). glibc keeps
 * the values of the first 32 keys inline in struct pthread, which the thread
 * pointer (fsbase on x86-64) points at, so the value of key K of any thread
 * of the process is the word at fsbase + specific_off + 16 * K.
 *
 * Shared by the BPF programs that read jobs and collectors/thread_job.c,
 * which finds both numbers for the target (or leaves key_addr 0). */
#ifndef VS_BPF_THREAD_JOB_H
#define VS_BPF_THREAD_JOB_H

#include "vs_types.h"

#define VS_JOB_NAME_LEN 64
/* glibc's PTHREAD_KEY_2NDLEVEL_SIZE: only keys below it are inline. */
#define VS_JOB_INLINE_KEYS 32

struct vs_job_loc {
	__u64 key_addr;     /* where the target stores the pthread_key_t; 0: unknown */
	__u32 specific_off; /* from the thread pointer to specific_1stblock[0].data */
	__u32 pad;
};

#endif
