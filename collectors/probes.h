/* The "probes" collector (probes.c). */
#ifndef VS_PROBES_COLLECTOR_H
#define VS_PROBES_COLLECTOR_H

#include "collector.h"
#include "profile.h"

/* The profile a started "probes" collector uses (thread roles, names), or
 * NULL before it started. */
const struct vs_profile *vs_probes_profile(const struct vs_collector *c);

#endif
