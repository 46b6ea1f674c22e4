/*
 * How the reference daemon reaches the virtscope provider: dtrace's generated
 * header, or the hand-written fallback when built with
 * -DVIRTSCOPE_PROBES_FALLBACK. Include it before anything else that may pull
 * in <sys/sdt.h>, or the notes lose their semaphores.
 */
#ifndef REF_PROBES_H
#define REF_PROBES_H

#include <stdint.h>

#ifdef VIRTSCOPE_PROBES_FALLBACK
#include "virtscope_probes_fallback.h"
#else
#include "virtscope_probes.h"
#endif

/*
 * A probe site: a real function in .dynsym that a plain uprobe can hook to
 * see what the USDT probes inside it see (probes/examples/README.md maps
 * each one). It must stay out of line and keep its signature: GCC's noipa
 * also forbids the clones (.constprop, .isra) that callers in the same file
 * would otherwise call instead of the symbol.
 */
#if defined(__clang__)
#define REF_PROBE_SITE __attribute__((noinline, used, visibility("default")))
#else
#define REF_PROBE_SITE __attribute__((noipa, used, visibility("default")))
#endif

/* Counts the probes that fired with a tracer attached (the `stats` request),
 * so a test can show that untraced no guarded argument was ever prepared. */
void ref_probe_fired(void);
uint64_t ref_probes_fired(void);

/* Fires virtscope:NAME only while traced; the arguments are evaluated only
 * then. It is the plain `if (VIRTSCOPE_X_ENABLED()) VIRTSCOPE_X(...)`. */
#define REF_PROBE(NAME, ...)                                                    \
	do {                                                                    \
		if (VIRTSCOPE_##NAME##_ENABLED()) {                             \
			ref_probe_fired();                                      \
			VIRTSCOPE_##NAME(__VA_ARGS__);                          \
		}                                                               \
	} while (0)

#endif /* REF_PROBES_H */
