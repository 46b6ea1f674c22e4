/*
 * The virtscope USDT provider, written by hand on <sys/sdt.h> for builds
 * where `dtrace` is missing. It gives the same ELF notes as the header that
 * `dtrace -h -s probes/virtscope.d` generates: same provider, probe names,
 * argument counts and semaphores, because it expands to the same
 * DTRACE_PROBEn() with _SDT_HAS_SEMAPHORES set. Argument sizes come from the
 * C types at the call site in both cases, so pass the types that
 * probes/virtscope.d declares. Keep the two files in step.
 *
 * Semaphores: this header only declares them. Exactly one translation unit
 * of the program must define them, by including this header after
 *
 *     #define VIRTSCOPE_PROBES_DEFINE_SEMAPHORES
 *
 * (the role `dtrace -G` plays for the generated header). A tracer raises a
 * probe's semaphore while it is attached, so VIRTSCOPE_<PROBE>_ENABLED() is
 * false, and the arguments it guards are never computed, while untraced.
 */
#ifndef VIRTSCOPE_PROBES_FALLBACK_H
#define VIRTSCOPE_PROBES_FALLBACK_H

/* <sys/sdt.h> has an include guard: included earlier without semaphores, its
 * notes would carry no semaphore address and a tracer could never enable us. */
#if defined(_SYS_SDT_H) && !defined(_SDT_HAS_SEMAPHORES)
#error "include virtscope_probes_fallback.h before anything that includes <sys/sdt.h>"
#endif

#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

/* Same type, section and (for the definition) visibility as dtrace's. */
#ifdef VIRTSCOPE_PROBES_DEFINE_SEMAPHORES
#define VIRTSCOPE_SEMAPHORE_(probe)                                             \
	__extension__ unsigned short virtscope_##probe##_semaphore              \
	__attribute__((unused, section(".probes"), visibility("hidden")))
#else
#define VIRTSCOPE_SEMAPHORE_(probe)                                             \
	__extension__ extern unsigned short virtscope_##probe##_semaphore       \
	__attribute__((unused, section(".probes")))
#endif

#define VIRTSCOPE_ENABLED_(probe) __builtin_expect(virtscope_##probe##_semaphore, 0)

/* Locks */
VIRTSCOPE_SEMAPHORE_(lock_acquire_begin);
#define VIRTSCOPE_LOCK_ACQUIRE_BEGIN_ENABLED() VIRTSCOPE_ENABLED_(lock_acquire_begin)
#define VIRTSCOPE_LOCK_ACQUIRE_BEGIN(lock, kind, object) \
	DTRACE_PROBE3(virtscope, lock_acquire_begin, lock, kind, object)

VIRTSCOPE_SEMAPHORE_(lock_acquired);
#define VIRTSCOPE_LOCK_ACQUIRED_ENABLED() VIRTSCOPE_ENABLED_(lock_acquired)
#define VIRTSCOPE_LOCK_ACQUIRED(lock, kind, object) \
	DTRACE_PROBE3(virtscope, lock_acquired, lock, kind, object)

VIRTSCOPE_SEMAPHORE_(lock_release);
#define VIRTSCOPE_LOCK_RELEASE_ENABLED() VIRTSCOPE_ENABLED_(lock_release)
#define VIRTSCOPE_LOCK_RELEASE(lock, kind, object) \
	DTRACE_PROBE3(virtscope, lock_release, lock, kind, object)

/* Operations */
VIRTSCOPE_SEMAPHORE_(op_begin);
#define VIRTSCOPE_OP_BEGIN_ENABLED() VIRTSCOPE_ENABLED_(op_begin)
#define VIRTSCOPE_OP_BEGIN(op, object, request_id) \
	DTRACE_PROBE3(virtscope, op_begin, op, object, request_id)

VIRTSCOPE_SEMAPHORE_(op_end);
#define VIRTSCOPE_OP_END_ENABLED() VIRTSCOPE_ENABLED_(op_end)
#define VIRTSCOPE_OP_END(op, object, request_id, result) \
	DTRACE_PROBE4(virtscope, op_end, op, object, request_id, result)

/* Child processes */
VIRTSCOPE_SEMAPHORE_(fork_begin);
#define VIRTSCOPE_FORK_BEGIN_ENABLED() VIRTSCOPE_ENABLED_(fork_begin)
#define VIRTSCOPE_FORK_BEGIN(reason) \
	DTRACE_PROBE1(virtscope, fork_begin, reason)

VIRTSCOPE_SEMAPHORE_(fork_end);
#define VIRTSCOPE_FORK_END_ENABLED() VIRTSCOPE_ENABLED_(fork_end)
#define VIRTSCOPE_FORK_END(reason, child_pid) \
	DTRACE_PROBE2(virtscope, fork_end, reason, child_pid)

VIRTSCOPE_SEMAPHORE_(exec);
#define VIRTSCOPE_EXEC_ENABLED() VIRTSCOPE_ENABLED_(exec)
#define VIRTSCOPE_EXEC(path) \
	DTRACE_PROBE1(virtscope, exec, path)

/* Capability lookups */
VIRTSCOPE_SEMAPHORE_(caps_lookup_begin);
#define VIRTSCOPE_CAPS_LOOKUP_BEGIN_ENABLED() VIRTSCOPE_ENABLED_(caps_lookup_begin)
#define VIRTSCOPE_CAPS_LOOKUP_BEGIN(binary) \
	DTRACE_PROBE1(virtscope, caps_lookup_begin, binary)

VIRTSCOPE_SEMAPHORE_(caps_lookup_end);
#define VIRTSCOPE_CAPS_LOOKUP_END_ENABLED() VIRTSCOPE_ENABLED_(caps_lookup_end)
#define VIRTSCOPE_CAPS_LOOKUP_END(binary, result) \
	DTRACE_PROBE2(virtscope, caps_lookup_end, binary, result)

/* D-Bus calls */
VIRTSCOPE_SEMAPHORE_(dbus_call_begin);
#define VIRTSCOPE_DBUS_CALL_BEGIN_ENABLED() VIRTSCOPE_ENABLED_(dbus_call_begin)
#define VIRTSCOPE_DBUS_CALL_BEGIN(bus_name, path, iface, method, timeout_ms) \
	DTRACE_PROBE5(virtscope, dbus_call_begin, bus_name, path, iface, method, timeout_ms)

VIRTSCOPE_SEMAPHORE_(dbus_call_end);
#define VIRTSCOPE_DBUS_CALL_END_ENABLED() VIRTSCOPE_ENABLED_(dbus_call_end)
#define VIRTSCOPE_DBUS_CALL_END(bus_name, path, iface, method, timeout_ms, result) \
	DTRACE_PROBE6(virtscope, dbus_call_end, bus_name, path, iface, method, timeout_ms, result)

/* Main loop */
VIRTSCOPE_SEMAPHORE_(loop_iteration_begin);
#define VIRTSCOPE_LOOP_ITERATION_BEGIN_ENABLED() VIRTSCOPE_ENABLED_(loop_iteration_begin)
#define VIRTSCOPE_LOOP_ITERATION_BEGIN(iteration) \
	DTRACE_PROBE1(virtscope, loop_iteration_begin, iteration)

VIRTSCOPE_SEMAPHORE_(loop_iteration_end);
#define VIRTSCOPE_LOOP_ITERATION_END_ENABLED() VIRTSCOPE_ENABLED_(loop_iteration_end)
#define VIRTSCOPE_LOOP_ITERATION_END(iteration) \
	DTRACE_PROBE1(virtscope, loop_iteration_end, iteration)

VIRTSCOPE_SEMAPHORE_(loop_dispatch);
#define VIRTSCOPE_LOOP_DISPATCH_ENABLED() VIRTSCOPE_ENABLED_(loop_dispatch)
#define VIRTSCOPE_LOOP_DISPATCH(source, fd) \
	DTRACE_PROBE2(virtscope, loop_dispatch, source, fd)

/* Keepalives */
VIRTSCOPE_SEMAPHORE_(keepalive_sent);
#define VIRTSCOPE_KEEPALIVE_SENT_ENABLED() VIRTSCOPE_ENABLED_(keepalive_sent)
#define VIRTSCOPE_KEEPALIVE_SENT(client, proc) \
	DTRACE_PROBE2(virtscope, keepalive_sent, client, proc)

VIRTSCOPE_SEMAPHORE_(keepalive_received);
#define VIRTSCOPE_KEEPALIVE_RECEIVED_ENABLED() VIRTSCOPE_ENABLED_(keepalive_received)
#define VIRTSCOPE_KEEPALIVE_RECEIVED(client, proc) \
	DTRACE_PROBE2(virtscope, keepalive_received, client, proc)

VIRTSCOPE_SEMAPHORE_(keepalive_timeout);
#define VIRTSCOPE_KEEPALIVE_TIMEOUT_ENABLED() VIRTSCOPE_ENABLED_(keepalive_timeout)
#define VIRTSCOPE_KEEPALIVE_TIMEOUT(client, count_to_death, idle_s) \
	DTRACE_PROBE3(virtscope, keepalive_timeout, client, count_to_death, idle_s)

#endif /* VIRTSCOPE_PROBES_FALLBACK_H */
