/* Lockable objects and the lock probe sites (see ref_object.h). */
#include "ref_object.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REF_OBJECT_KIND "refObject"

int ref_objects_init(struct ref_objects *set, size_t count)
{
	char name[32];
	size_t i;

	set->count = 0;
	set->objs = calloc(count, sizeof(*set->objs));
	if (!set->objs)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		struct ref_object *obj = &set->objs[i];

		snprintf(name, sizeof(name), "obj%zu", i + 1);
		obj->name = strdup(name);
		if (!obj->name) {
			ref_objects_release(set);
			return -ENOMEM;
		}
		obj->kind = REF_OBJECT_KIND;
		pthread_mutex_init(&obj->lock, NULL);
		set->count++;
	}
	return 0;
}

void ref_objects_release(struct ref_objects *set)
{
	size_t i;

	for (i = 0; i < set->count; i++) {
		pthread_mutex_destroy(&set->objs[i].lock);
		free((char *)set->objs[i].name);
	}
	free(set->objs);
	set->objs = NULL;
	set->count = 0;
}

struct ref_object *ref_objects_find(const struct ref_objects *set, const char *name)
{
	size_t i;

	for (i = 0; i < set->count; i++)
		if (!strcmp(set->objs[i].name, name))
			return &set->objs[i];
	return NULL;
}

void ref_object_lock(struct ref_object *obj)
{
	REF_PROBE(LOCK_ACQUIRE_BEGIN, (void *)obj, obj->kind, obj->name);
	pthread_mutex_lock(&obj->lock);
	REF_PROBE(LOCK_ACQUIRED, (void *)obj, obj->kind, obj->name);
}

void ref_object_unlock(struct ref_object *obj)
{
	/* Before the unlock: after it, a waiter's lock_acquired could come first. */
	REF_PROBE(LOCK_RELEASE, (void *)obj, obj->kind, obj->name);
	pthread_mutex_unlock(&obj->lock);
}
