/* System call names, for saying what a blocked thread was in. */
#ifndef VS_SYSCALL_NAME_H
#define VS_SYSCALL_NAME_H

#include <stddef.h>

/* Writes the name of this machine's system call nr into buf ("ppoll"), or
 * "syscall NR" when it has none; returns buf. */
const char *vs_syscall_name(long nr, char *buf, size_t len);

#endif
