/* An open-addressing hash table from byte-string keys to pointers.
 *
 * The table does not copy keys: a key must stay valid and unchanged while its
 * entry exists, which is natural when the key lives inside the value (an
 * interned stack, a symbol cache entry). Values are owned by the caller unless
 * a free function is given to vs_htab_free(). */
#ifndef VS_HTAB_H
#define VS_HTAB_H

#include <stddef.h>
#include <stdint.h>

struct vs_htab;

struct vs_htab *vs_htab_new(void);
/* Calls free_val (if not NULL) on every value, then frees the table. NULL ok. */
void vs_htab_free(struct vs_htab *h, void (*free_val)(void *));

size_t vs_htab_count(const struct vs_htab *h);

/* The value stored under key, or NULL. */
void *vs_htab_get(const struct vs_htab *h, const void *key, size_t len);

/* Stores val under key, replacing any previous value (which is returned
 * through *old when old is not NULL). 0 or -ENOMEM. */
int vs_htab_put(struct vs_htab *h, const void *key, size_t len, void *val, void **old);

/* Iteration in table order: start with *pos = 0; returns 0 at the end. The
 * table must not change during an iteration. */
/* Removes key; returns its value (for the caller to free), or NULL when it
 * was absent. Iterating positions are not stable across a removal. */
void *vs_htab_del(struct vs_htab *h, const void *key, size_t len);

int vs_htab_next(const struct vs_htab *h, size_t *pos, const void **key, size_t *len,
		 void **val);

#endif
