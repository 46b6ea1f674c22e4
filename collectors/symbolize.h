/* Names for addresses: user addresses of a process through libdwfl (see
 * procmaps.h for how its modules are found), kernel addresses through
 * /proc/kallsyms.
 *
 * libdwfl looks symbols up in .symtab, then in a debug file found by build-id
 * or debuglink (/usr/lib/debug, e.g. libc6-dbg), then .gnu_debugdata, then
 * .dynsym. A symbol is only used for an address it really covers: its size
 * says so, or, for a symbol without size, it starts where the function's FDE
 * starts. Any other address is named after its module and the start of its
 * function ("libvirt.so.0.9000.0+0x1a2b0", the FDE start from .eh_frame_hdr),
 * so that a static function of a stripped library keeps one stable name and
 * never borrows its exported neighbour's. Symbol versions ("@@GLIBC_2.3.2")
 * are dropped. Names are cached per (pid, address) and stay valid until
 * vs_symbolizer_free(). */
#ifndef VS_SYMBOLIZE_H
#define VS_SYMBOLIZE_H

#include <stdint.h>

#include "procmaps.h"

struct vs_symbolizer;

/* procs is shared with the unwinder and must outlive the symbolizer. With
 * procs NULL, the symbolizer reads nothing: it knows only the names given
 * to vs_symbolizer_add_name(), as when a recording is replayed elsewhere. */
struct vs_symbolizer *vs_symbolizer_new(struct vs_procs *procs);
void vs_symbolizer_free(struct vs_symbolizer *sym); /* NULL ok */

/* The name of the user function at ip in process pid; "[unknown]" when the
 * address is in no module. Never NULL. */
const char *vs_symbolize_user(struct vs_symbolizer *sym, uint32_t pid, uint64_t ip);

/* The name of the kernel function at ip; "[unknown]" when there is none (or
 * kallsyms is unreadable). Never NULL. */
const char *vs_symbolize_kernel(struct vs_symbolizer *sym, uint64_t ip);

/* Names the address ip of process pid (0: a kernel address), as a
 * recording stored it. 0 or -ENOMEM. */
int vs_symbolizer_add_name(struct vs_symbolizer *sym, uint32_t pid, uint64_t ip,
			   const char *name);

/* Each cached name carries the epoch it was last looked up in (0 until the
 * caller sets one); forgetting those last looked up before an epoch keeps a
 * long-running recorder from holding the names of every address and every
 * process it ever saw. Returns how many were forgotten. */
void vs_symbolizer_set_epoch(struct vs_symbolizer *sym, uint64_t epoch);
size_t vs_symbolizer_forget_before(struct vs_symbolizer *sym, uint64_t epoch);

/* Lookups so far that had to load or search something (a user address not
 * in the name cache, or the kernel's symbol table being read). */
uint64_t vs_symbolizer_misses(const struct vs_symbolizer *sym);

#endif
