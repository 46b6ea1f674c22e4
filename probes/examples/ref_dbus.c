/* D-Bus calls (see ref_dbus.h). */
#include "ref_dbus.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "ref_peer.h"
#include "ref_util.h"

int ref_dbus_open(const char *address, DBusConnection **out)
{
	DBusConnection *conn;
	DBusError error;

	dbus_error_init(&error);
	conn = dbus_connection_open_private(address, &error);
	if (!conn)
		goto fail;
	/* Our threads own the process: a dropped bus must not exit() it. */
	dbus_connection_set_exit_on_disconnect(conn, FALSE);
	if (!dbus_bus_register(conn, &error))
		goto fail;
	*out = conn;
	return 0;
fail:
	ref_warn("cannot connect to bus '%s': %s", address, error.message);
	dbus_error_free(&error);
	ref_dbus_close(conn);
	return -ENOTCONN;
}

void ref_dbus_close(DBusConnection *conn)
{
	if (!conn)
		return;
	dbus_connection_close(conn);
	dbus_connection_unref(conn);
}

int ref_dbus_errno(const char *name)
{
	static const struct {
		const char *name;
		int err;
	} table[] = {
		{ DBUS_ERROR_NO_REPLY, ETIMEDOUT },
		{ DBUS_ERROR_TIMEOUT, ETIMEDOUT },
		{ DBUS_ERROR_TIMED_OUT, ETIMEDOUT },
		{ DBUS_ERROR_SERVICE_UNKNOWN, ENOENT },
		{ DBUS_ERROR_NAME_HAS_NO_OWNER, ENOENT },
		{ DBUS_ERROR_UNKNOWN_METHOD, EOPNOTSUPP },
		{ DBUS_ERROR_UNKNOWN_INTERFACE, EOPNOTSUPP },
		{ DBUS_ERROR_UNKNOWN_OBJECT, EOPNOTSUPP },
		{ DBUS_ERROR_INVALID_ARGS, EINVAL },
		{ DBUS_ERROR_DISCONNECTED, ENOTCONN },
		{ DBUS_ERROR_NO_MEMORY, ENOMEM },
		{ REF_PEER_ERROR_SHUTDOWN, ECANCELED },
	};
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(name, table[i].name))
			return -table[i].err;
	return -EIO;
}

int64_t ref_dbus_call(const char *bus_name, const char *path, const char *iface,
		      const char *method, int64_t timeout_ms,
		      DBusConnection *conn, uint32_t arg)
{
	DBusMessage *call = NULL, *reply = NULL;
	DBusError error;
	int64_t ret = 0;

	REF_PROBE(DBUS_CALL_BEGIN, bus_name, path, iface, method, timeout_ms);
	dbus_error_init(&error);
	call = dbus_message_new_method_call(bus_name, path, iface, method);
	if (!call || !dbus_message_append_args(call, DBUS_TYPE_UINT32, &arg, DBUS_TYPE_INVALID)) {
		ret = -ENOMEM;
		goto out;
	}
	reply = dbus_connection_send_with_reply_and_block(conn, call,
							  timeout_ms > INT_MAX ? INT_MAX : (int)timeout_ms,
							  &error);
	if (!reply) {
		ret = ref_dbus_errno(error.name);
		ref_debug("%s.%s: %s", iface, method, error.message);
	}
out:
	dbus_error_free(&error);
	if (reply)
		dbus_message_unref(reply);
	if (call)
		dbus_message_unref(call);
	REF_PROBE(DBUS_CALL_END, bus_name, path, iface, method, timeout_ms, ret);
	return ret;
}
