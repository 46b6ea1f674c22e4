/* Names for addresses: user addresses of a process through libdwfl, kernel
 * addresses through /proc/kallsyms.
 *
 * libdwfl looks symbols up in .symtab, then in a debug file found by build-id
 * or debuglink (/usr/lib/debug), then .gnu_debugdata, then .dynsym. An
 * address that has no symbol is named after its module and offset
 * ("libvirt.so.0.9000.0+0x1a2b0"), so that a stripped function still merges
 * with itself across samples. Names are cached per (pid, address) and stay
 * valid until vs_symbolizer_free(). The target is never stopped or ptraced:
 * libdwfl only reads /proc/PID/maps and the mapped files. */
#ifndef VS_SYMBOLIZE_H
#define VS_SYMBOLIZE_H

#include <stdint.h>

struct vs_symbolizer;

struct vs_symbolizer *vs_symbolizer_new(void);
void vs_symbolizer_free(struct vs_symbolizer *sym); /* NULL ok */

/* The name of the user function at ip in process pid; "[unknown]" when the
 * address is in no known mapping. Never NULL. */
const char *vs_symbolize_user(struct vs_symbolizer *sym, uint32_t pid, uint64_t ip);

/* The name of the kernel function at ip; "[unknown]" when there is none (or
 * kallsyms is unreadable). Never NULL. */
const char *vs_symbolize_kernel(struct vs_symbolizer *sym, uint64_t ip);

#endif
