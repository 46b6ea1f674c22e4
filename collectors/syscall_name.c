/* libseccomp carries the kernel's system call tables for every architecture
 * and keeps them current; there is no point in keeping another copy. */
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>

#include "syscall_name.h"

const char *vs_syscall_name(long nr, char *buf, size_t len)
{
	char *name = nr >= 0 && nr < 0x10000
			     ? seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int)nr)
			     : NULL;

	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "syscall %ld", nr);
	free(name);
	return buf;
}
