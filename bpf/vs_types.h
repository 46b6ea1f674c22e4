/* Lets a header shared by BPF and user space use the kernel's fixed-width
 * types on both sides: vmlinux.h defines them in BPF programs, linux/types.h
 * in user space. */
#ifndef VS_BPF_TYPES_H
#define VS_BPF_TYPES_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#ifndef VS_STATIC_ASSERT
#ifdef __cplusplus
#define VS_STATIC_ASSERT(c, m) static_assert(c, m)
#else
#define VS_STATIC_ASSERT(c, m) _Static_assert(c, m)
#endif
#endif

#endif
