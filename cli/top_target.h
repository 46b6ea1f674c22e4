/* Finding the virtualization daemon to show when `virtscope top` is given no
 * target: the one libvirtd, virtqemud... running. */
#ifndef VS_TOP_TARGET_H
#define VS_TOP_TARGET_H

#include <stddef.h>
#include <sys/types.h>

/* 0 with the pid of the only one running; -ESRCH when none runs, -EEXIST
 * when several do, with a one-line message in err saying what was found. */
int vs_top_find_daemon(pid_t *pid, char *err, size_t errlen);

#endif
