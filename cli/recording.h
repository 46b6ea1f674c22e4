/* What the commands that read a recording (report, export, flame) share:
 * opening it with a one-line error, and usage errors. */
#ifndef VS_CLI_RECORDING_H
#define VS_CLI_RECORDING_H

#include "../collectors/replay.h"

/* Opens path for replay; prints "COMMAND: 'path': reason" on failure.
 * 0 or -1 (rp released). */
int vs_recording_open(struct vs_replay *rp, const char *path, const char *command);

/* Prints "COMMAND: what 'arg'" (or just what) and returns VS_EXIT_USAGE. */
int vs_recording_usage(const char *command, const char *what, const char *arg);

#endif
