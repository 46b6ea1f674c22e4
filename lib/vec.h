/* A growable array of fixed-size elements, zeroed as they are added. */
#ifndef VS_VEC_H
#define VS_VEC_H

#include <stddef.h>

struct vs_vec {
	void *v;
	size_t n, cap, size; /* size: of one element, set before the first push */
};

/* A new zeroed element at the end, or NULL when out of memory. */
void *vs_vec_push(struct vs_vec *v);

#endif
