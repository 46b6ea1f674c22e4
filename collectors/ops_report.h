/* The operations report: what a daemon is asked (RPC calls per procedure,
 * client and domain, and how its worker pool keeps up) and what it waits on
 * (D-Bus method calls, QEMU monitor commands), with its keepalive traffic.
 * It consumes events, so `virtscope ops`, the live view and replays of a
 * recording share it. */
#ifndef VS_OPS_REPORT_H
#define VS_OPS_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "profile.h"
#include "session.h"
#include "symbolize.h"

struct vs_ops_report;

struct vs_ops_report *vs_ops_report_new(void);
void vs_ops_report_free(struct vs_ops_report *r); /* NULL ok */

struct vs_consumer *vs_ops_report_consumer(struct vs_ops_report *r);

/* One line per table row, over an interval of interval_ns: thread roles
 * from p (NULL: none), stacks through sym. */
void vs_ops_report_write(struct vs_ops_report *r, FILE *out, const struct vs_stacks *stacks,
			 struct vs_symbolizer *sym, const struct vs_profile *p,
			 uint64_t interval_ns, unsigned int rows);

/* A D-Bus method's calls split between fast ones and ones that ran into the
 * timeout, with none in between: the field's "either fast, or the whole
 * timeout". Exposed for the tests. */
int vs_ops_bimodal(uint64_t fast, uint64_t middle, uint64_t timed_out);

#endif
