/* tracefs, which libbpf reads a tracepoint's id from: it is not mounted on
 * every machine until something mounts it. */
#ifndef VS_TRACEFS_H
#define VS_TRACEFS_H

/* Mounts tracefs at /sys/kernel/tracing unless it (or debugfs's tracing
 * directory) is there already: 0, or -errno. */
int vs_tracefs_mount(void);

#endif
