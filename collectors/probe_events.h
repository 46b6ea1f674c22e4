/* Turns probe hits (struct vs_probe_record) into typed events: pairs lock
 * requests with acquisitions and releases, span begins with ends, forks with
 * their results, whatever mechanism (USDT or uprobe) produced the hits. So
 * one daemon seen through USDT and another through uprobes give events of
 * the same form. */
#ifndef VS_PROBE_EVENTS_H
#define VS_PROBE_EVENTS_H

#include <stddef.h>

#include "../bpf/probes.h"
#include "collector.h"
#include "profile.h"

struct vs_probe_events;

/* Emits through c; profile must outlive the translator. */
struct vs_probe_events *vs_probe_events_new(struct vs_collector *c, const struct vs_profile *p);
void vs_probe_events_free(struct vs_probe_events *pe); /* NULL ok */

void vs_probe_events_handle(struct vs_probe_events *pe, const struct vs_probe_record *r,
			    size_t size);

/* An object a thread was seen to work on, from thread.object probes that
 * fetch addr: the address of the object's lock, and the object's name. */
struct vs_probe_object {
	uint64_t lock; /* the key */
	uint64_t seen_ns;
	char name[64];
};

/* Calls fn for each object seen since since_ns, and forgets the others
 * (their memory may be another object's by now). Objects are kept from
 * the first call on, so a front end that never asks keeps none; one that
 * asks must keep asking. 0 or fn's first non-zero value. */
int vs_probe_events_objects(struct vs_probe_events *pe, uint64_t since_ns,
			    int (*fn)(const struct vs_probe_object *o, void *arg), void *arg);

#endif
