# Any daemon's blocking D-Bus method calls, through the client libraries'
# exported calls: GLib's g_dbus_connection_call_sync, sd-bus's
# sd_bus_call_method (both name the call), and sd-bus's sd_bus_call and
# libdbus's dbus_connection_send_with_reply_and_block (whose message is
# opaque: the call is timed, with its timeout, but not named). A NULL
# reply is an error in GLib and libdbus, a negative errno in sd-bus. It matches no process by
# itself: `virtscope ops` falls back to it for a daemon without a profile.
# A library the process does not map is skipped. A timeout of -1 is the
# library's default, 25 s in all three.
profile dbus-clients
describe "blocking D-Bus calls of any process (GLib, sd-bus, libdbus)"

# g_dbus_connection_call_sync(conn, bus_name, object_path, interface_name,
# method_name, parameters, reply_type, flags, timeout_msec, cancellable,
# error): arguments 7 on are on the stack, the timeout at +24. Its first
# instruction is single-stepped (about 10 us a call): D-Bus calls are rare.
probe span.begin:dbus at uprobe:libgio-2.0.so:g_dbus_connection_call_sync stack detail=$arg2 object=$arg3 kind=$arg4 name=$arg5 timeout=+24(%rsp):u32
probe span.end:dbus   at uretprobe:libgio-2.0.so:g_dbus_connection_call_sync error-if-null result=$retval

# sd_bus_call_method(bus, destination, path, interface, member, ret_error,
# reply, types, ...): sd-bus's default timeout.
probe span.begin:dbus at uprobe:libsystemd.so:sd_bus_call_method stack detail=$arg2 object=$arg3 kind=$arg4 name=$arg5 timeout=25000
probe span.end:dbus   at uretprobe:libsystemd.so:sd_bus_call_method result=$retval:s32

# sd_bus_call(bus, message, usec, ret_error, reply): a message built by
# hand. sd_bus_call_method calls it too, and is then the call reported.
probe span.begin:dbus at uprobe:libsystemd.so:sd_bus_call stack unnested timeout-unit=us timeout-default=25000 timeout=$arg3
probe span.end:dbus   at uretprobe:libsystemd.so:sd_bus_call result=$retval:s32

# dbus_connection_send_with_reply_and_block(connection, message,
# timeout_milliseconds, error)
probe span.begin:dbus at uprobe:libdbus-1.so:dbus_connection_send_with_reply_and_block stack timeout=$arg3
probe span.end:dbus   at uretprobe:libdbus-1.so:dbus_connection_send_with_reply_and_block error-if-null result=$retval
