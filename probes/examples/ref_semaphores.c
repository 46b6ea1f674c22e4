/*
 * Defines the provider's semaphores for the fallback build, which has no
 * `dtrace -G` object to do it. Exactly one file of a program does this.
 */
#define VIRTSCOPE_PROBES_DEFINE_SEMAPHORES
#include "virtscope_probes_fallback.h"
