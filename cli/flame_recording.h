/* `virtscope flame` reads recordings too: their stacks of one kind (on-CPU
 * samples, off-CPU blocks, lock waits or forks) folded through the same
 * aggregator as the live commands (flamegraph/folded.h). */
#ifndef VS_CLI_FLAME_RECORDING_H
#define VS_CLI_FLAME_RECORDING_H

#include <stddef.h>

/* The kinds: "cpu" (samples), "offcpu", "lock" (waits), "fork" (time in
 * fork); the weights are counts for cpu, microseconds for the others. */
int vs_flame_kind_valid(const char *kind);

/* Folds the recording in buf into malloc'd folded text. 0; 1 when damage
 * was skipped (the text holds what was intact, err says what); or -errno
 * with a one-line reason in err. */
int vs_flame_recording_folded(const char *name, const void *buf, size_t len, const char *kind,
			      char **out, size_t *outlen, char *err, size_t errlen);

#endif
