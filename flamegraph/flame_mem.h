/* Big zeroed arrays for the flame tree, mapped directly so that they can use
 * transparent huge pages. */
#ifndef VS_FLAME_MEM_H
#define VS_FLAME_MEM_H

#include <stddef.h>

/* bytes of zeroes, or NULL. */
void *flame_mem_alloc(size_t bytes);
/* Grows p from old_bytes to new_bytes (the new part zeroed), moving it if
 * need be; NULL on failure, with p still valid. */
void *flame_mem_grow(void *p, size_t old_bytes, size_t new_bytes);
/* NULL ok. bytes as allocated. */
void flame_mem_free(void *p, size_t bytes);

#endif
