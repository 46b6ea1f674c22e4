/*
 * A stand-in for virQEMUCapsCacheLookup(): what a define or a start pays for
 * the emulator's capabilities. It reads /proc/cpuinfo and stats the binary,
 * as libvirt does on every lookup, then forks helpers the number of times
 * asked, as libvirt does when /dev/kvm changed.
 */
#ifndef REF_CAPS_H
#define REF_CAPS_H

#include "ref_probes.h"

/*
 * caps_lookup_begin(binary) at entry, caps_lookup_end(binary, result) at
 * return. Forks run ref_fork_helper("caps", helper). Returns 0 or -errno.
 */
REF_PROBE_SITE int64_t ref_caps_lookup(const char *binary, int64_t forks, const char *helper);

#endif /* REF_CAPS_H */
