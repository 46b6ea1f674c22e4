/* Kernel symbols from /proc/kallsyms. */
#ifndef VS_KALLSYMS_H
#define VS_KALLSYMS_H

#include <stdint.h>

struct vs_kallsyms;

/* Loads /proc/kallsyms (or `path`, for tests). NULL with errno set on failure;
 * an unreadable or all-zero table (kptr_restrict) gives -EPERM. */
struct vs_kallsyms *vs_kallsyms_load(const char *path);
void vs_kallsyms_free(struct vs_kallsyms *ks); /* NULL ok */

/* The function containing addr, or NULL when addr is below every symbol. */
const char *vs_kallsyms_lookup(const struct vs_kallsyms *ks, uint64_t addr);

#endif
