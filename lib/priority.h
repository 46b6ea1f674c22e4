/* The reader's scheduling priority: virtscope drains its ring buffers at a
 * higher priority than the daemons it watches, as auditd does with its
 * priority_boost, so that a saturated host does not make it lose events. */
#ifndef VS_PRIORITY_H
#define VS_PRIORITY_H

/* The nice value virtscope's threads run at, unless it was started with a
 * nice value of its own (kept as it is). */
#define VS_READER_NICE (-10)

/* Raises the calling thread (and the threads it starts later) to
 * VS_READER_NICE if it runs at nice 0. Must come before the capabilities
 * are dropped (CAP_SYS_NICE). 1 if raised, 0 if left alone, -errno. */
int vs_raise_priority(void);

#endif
