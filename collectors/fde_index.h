/* Function start addresses from .eh_frame_hdr.
 *
 * A stripped library still carries .eh_frame_hdr: a sorted table of the
 * start address of every function that has an FDE. It lets the symbolizer
 * bound each function exactly, so that a static function is never named
 * after the exported symbol that precedes it, and an unnamed function gets
 * a stable name from its own start (module+offset) under which all its
 * samples merge. */
#ifndef VS_FDE_INDEX_H
#define VS_FDE_INDEX_H

#include <elfutils/libdwfl.h>
#include <stdint.h>

struct vs_fde_index;

struct vs_fde_index *vs_fde_index_new(void);
void vs_fde_index_free(struct vs_fde_index *idx); /* NULL ok */

/* The start of the function (FDE) containing the absolute address addr in
 * mod, as an absolute address. 0, or -ENOENT when no FDE covers addr (or the
 * module has no usable .eh_frame_hdr). */
int vs_fde_start(struct vs_fde_index *idx, Dwfl_Module *mod, uint64_t addr, uint64_t *start);

#endif
