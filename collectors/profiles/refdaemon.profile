# The reference daemon (probes/examples) seen through plain uprobes on the
# exported functions that hold its probe sites, for a binary without USDT:
# the same events as virtscope-usdt, from a different mechanism. Select it
# with --profile refdaemon. Argument registers: probes/examples/README.md.
profile refdaemon
describe "the reference daemon through uprobes on its probe-site functions"
match comm refdaemon
role refdaemon main-loop
role rpc-worker worker
role dbus-peer dbus-peer

# struct ref_object: kind at +40, name at +48
probe lock.request   at uprobe:$exe:ref_object_lock addr=$arg1 kind=+40($arg1) object=+48($arg1)
probe lock.acquired  at uretprobe:$exe:ref_object_lock stack
probe lock.release   at uprobe:$exe:ref_object_unlock addr=$arg1 kind=+40($arg1) object=+48($arg1)

probe span.begin:op  at uprobe:$exe:ref_op_begin name=$arg1 object=$arg2 id=$arg3
probe span.end:op    at uprobe:$exe:ref_op_end name=$arg1 object=$arg2 id=$arg3 result=$arg4

probe fork.begin     at uprobe:$exe:ref_fork_helper stack name=$arg1
probe fork.end       at uretprobe:$exe:ref_fork_helper value=$retval
probe exec           at uprobe:$exe:ref_exec children name=$arg1

probe span.begin:caps at uprobe:$exe:ref_caps_lookup name=$arg1
probe span.end:caps   at uretprobe:$exe:ref_caps_lookup result=$retval

probe span.begin:dbus at uprobe:$exe:ref_dbus_call stack detail=$arg1 object=$arg2 kind=$arg3 name=$arg4 timeout=$arg5
probe span.end:dbus   at uretprobe:$exe:ref_dbus_call result=$retval

probe loop.begin     at uprobe:$exe:ref_loop_iteration id=$arg1
probe loop.end       at uretprobe:$exe:ref_loop_iteration
probe loop.dispatch  at uprobe:$exe:ref_loop_dispatch name=$arg1 value=$arg2

probe keepalive.sent     at uprobe:$exe:ref_keepalive_sent addr=$arg1 value=$arg2
probe keepalive.received at uprobe:$exe:ref_keepalive_received addr=$arg1 value=$arg2
probe keepalive.timeout  at uprobe:$exe:ref_keepalive_timeout addr=$arg1 value=$arg2 aux=$arg3
