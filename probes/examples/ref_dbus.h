/*
 * Synchronous D-Bus method calls, the way libvirt's virGDBusCallMethod()
 * makes them: one thread blocks until the reply or the timeout. Each worker
 * has a connection of its own, so calls never queue behind each other in
 * the client library.
 */
#ifndef REF_DBUS_H
#define REF_DBUS_H

#include "ref_probes.h"

#include <dbus/dbus.h>

/* The peer the daemon calls (ref_peer.h serves it). */
#define REF_PEER_NAME  "org.virtscope.RefPeer"
#define REF_PEER_PATH  "/org/virtscope/RefPeer"
#define REF_PEER_IFACE "org.virtscope.RefPeer"

/* A private connection to ADDRESS, registered on the bus: 0 or -errno. */
int ref_dbus_open(const char *address, DBusConnection **out);
/* Closes and frees a connection from ref_dbus_open(); accepts NULL. */
void ref_dbus_close(DBusConnection *conn);

/*
 * Calls METHOD(uint32 arg) and waits up to TIMEOUT_MS for the reply. Returns
 * 0, -ETIMEDOUT when no reply came in time, or another -errno for a D-Bus
 * error (ENOENT: no such name, EOPNOTSUPP: no such method, ENOTCONN: the bus
 * went away, ECANCELED: the peer shut down). The probe arguments come first:
 * dbus_call_begin(bus_name, path, iface, method, timeout_ms) at entry,
 * dbus_call_end(..., result) at return.
 */
REF_PROBE_SITE int64_t ref_dbus_call(const char *bus_name, const char *path, const char *iface,
				     const char *method, int64_t timeout_ms,
				     DBusConnection *conn, uint32_t arg);

/* The -errno for a D-Bus error name (see ref_dbus_call). */
int ref_dbus_errno(const char *error_name);

#endif /* REF_DBUS_H */
