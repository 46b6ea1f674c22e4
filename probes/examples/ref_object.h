/*
 * The daemon's lockable objects, obj1..objK, each with its own mutex: the
 * counterpart of libvirt's virObjectLockable. Every acquisition and release
 * goes through ref_object_lock()/ref_object_unlock(), which fire the lock
 * probes with kind "refObject" and the object's name.
 */
#ifndef REF_OBJECT_H
#define REF_OBJECT_H

#include "ref_probes.h"

#include <pthread.h>
#include <stddef.h>

/*
 * The layout is an interface: a uprobe on ref_object_lock() gets only the
 * object pointer, and reads kind and name through it. The lock comes first,
 * so the probes' `lock` argument is both the object and its mutex.
 */
struct ref_object {
	pthread_mutex_t lock;   /* +0 */
	const char *kind;       /* +40 on x86-64: "refObject" */
	const char *name;       /* +48 on x86-64: "obj1" ... */
};

#if defined(__x86_64__) && defined(__GLIBC__)
_Static_assert(offsetof(struct ref_object, kind) == 40, "kind moved: update README.md");
_Static_assert(offsetof(struct ref_object, name) == 48, "name moved: update README.md");
#endif

struct ref_objects {
	struct ref_object *objs;
	size_t count;
};

/* Makes obj1..objCOUNT: 0 or -ENOMEM. Release accepts a zeroed set. */
int ref_objects_init(struct ref_objects *set, size_t count);
void ref_objects_release(struct ref_objects *set);

/* The object called NAME, or NULL. */
struct ref_object *ref_objects_find(const struct ref_objects *set, const char *name);

/* lock_acquire_begin at entry, lock_acquired at return. */
REF_PROBE_SITE void ref_object_lock(struct ref_object *obj);
/* lock_release at entry, before the mutex is released. */
REF_PROBE_SITE void ref_object_unlock(struct ref_object *obj);

#endif /* REF_OBJECT_H */
