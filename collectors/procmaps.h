/* The modules mapped into each observed process, as libdwfl modules: one
 * Dwfl per process, shared by the unwinder and the symbolizer, so that ELF
 * files, symbol tables and CFI are loaded once per process.
 *
 * Modules are reported from /proc/PID/maps by this code rather than by
 * dwfl_linux_proc_report(), because the file behind a mapping must be opened
 * the way the process sees it:
 *  - a file replaced or deleted since it was mapped ("(deleted)") is opened
 *    through /proc/PID/map_files, which still holds the mapped inode;
 *  - a process in another mount namespace is read through /proc/PID/root;
 *  - the vDSO, which has no file, is served from virtscope's own copy (the
 *    kernel maps the same image into every 64-bit process).
 * The target is never stopped or ptraced. A process's Dwfl outlives the
 * process by 30 s after it was last asked for, so that stacks of short-lived
 * processes can still be named, and then is dropped: memory stays bounded
 * however many clients and children come and go. Processes with the same
 * executable mappings (a daemon's children before they exec) share one. */
#ifndef VS_PROCMAPS_H
#define VS_PROCMAPS_H

#include <elfutils/libdwfl.h>
#include <stdint.h>

struct vs_procs;
struct vs_proc;

struct vs_procs *vs_procs_new(void);
void vs_procs_free(struct vs_procs *procs); /* NULL ok */

/* The module map of pid, read on first use. NULL when the process could not
 * be read then (it had already exited, or out of memory); later calls for
 * the same pid return NULL without retrying. */
struct vs_proc *vs_procs_get(struct vs_procs *procs, uint32_t pid);

/* The module containing ip. When ip is in no known module, the mappings are
 * read again (at most every 50 ms): a library may have been dlopen'ed. */
/* Declares that pid was forked by parent: when pid's own mappings cannot be
 * read (it exited before anyone looked), parent's stand in for them, which is
 * right for everything the child ran before an exec. Call before the first
 * vs_procs_get(pid). 0 or -ENOMEM. */
int vs_procs_set_parent(struct vs_procs *procs, uint32_t pid, uint32_t parent);

Dwfl_Module *vs_proc_module(struct vs_proc *proc, uint64_t ip);

Dwfl *vs_proc_dwfl(struct vs_proc *proc);

/* Changes whenever a Dwfl is dropped: a cache keyed by Dwfl_Module pointers
 * (which a later Dwfl may reuse) must be emptied when it changes. */
uint64_t vs_procs_generation(const struct vs_procs *procs);
uint32_t vs_proc_pid(const struct vs_proc *proc);

#endif
