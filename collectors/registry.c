/* The list of collectors. Adding a collector means adding a line here. */
#include <string.h>

#include "collector.h"
#include "../lib/util.h"

extern const struct vs_collector_ops vs_cpu_collector;
extern const struct vs_collector_ops vs_probes_collector;
extern const struct vs_collector_ops vs_contention_collector;
extern const struct vs_collector_ops vs_offcpu_collector;
extern const struct vs_collector_ops vs_forks_collector;

static const struct vs_collector_ops *const registry[] = {
	&vs_cpu_collector,
	&vs_probes_collector,
	&vs_contention_collector,
	&vs_offcpu_collector,
	&vs_forks_collector,
};

const struct vs_collector_ops *vs_collector_find(const char *name)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(registry); i++)
		if (!strcmp(registry[i]->name, name))
			return registry[i];
	return NULL;
}

const struct vs_collector_ops *vs_collector_at(size_t i)
{
	return i < VS_ARRAY_SIZE(registry) ? registry[i] : NULL;
}
