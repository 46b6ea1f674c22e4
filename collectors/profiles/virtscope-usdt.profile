# Any daemon built with virtscope's own USDT provider (probes/virtscope.d).
# Chosen automatically for a process that maps a binary carrying it.
profile virtscope-usdt
describe "a daemon built with virtscope's USDT provider"
match usdt virtscope

probe lock.request   at usdt:@virtscope:virtscope:lock_acquire_begin addr=$arg1 kind=$arg2 object=$arg3
probe lock.acquired  at usdt:@virtscope:virtscope:lock_acquired stack addr=$arg1 kind=$arg2 object=$arg3
probe lock.release   at usdt:@virtscope:virtscope:lock_release addr=$arg1 kind=$arg2 object=$arg3

probe span.begin:op  at usdt:@virtscope:virtscope:op_begin name=$arg1 object=$arg2 id=$arg3
probe span.end:op    at usdt:@virtscope:virtscope:op_end name=$arg1 object=$arg2 id=$arg3 result=$arg4

probe fork.begin     at usdt:@virtscope:virtscope:fork_begin stack name=$arg1
probe fork.end       at usdt:@virtscope:virtscope:fork_end name=$arg1 value=$arg2
probe exec           at usdt:@virtscope:virtscope:exec children name=$arg1

probe span.begin:caps at usdt:@virtscope:virtscope:caps_lookup_begin name=$arg1
probe span.end:caps   at usdt:@virtscope:virtscope:caps_lookup_end name=$arg1 result=$arg2

probe span.begin:dbus at usdt:@virtscope:virtscope:dbus_call_begin stack detail=$arg1 object=$arg2 kind=$arg3 name=$arg4 timeout=$arg5
probe span.end:dbus   at usdt:@virtscope:virtscope:dbus_call_end detail=$arg1 object=$arg2 kind=$arg3 name=$arg4 timeout=$arg5 result=$arg6

probe loop.begin     at usdt:@virtscope:virtscope:loop_iteration_begin id=$arg1
probe loop.end       at usdt:@virtscope:virtscope:loop_iteration_end id=$arg1
probe loop.dispatch  at usdt:@virtscope:virtscope:loop_dispatch name=$arg1 value=$arg2

probe keepalive.sent     at usdt:@virtscope:virtscope:keepalive_sent addr=$arg1 value=$arg2
probe keepalive.received at usdt:@virtscope:virtscope:keepalive_received addr=$arg1 value=$arg2
probe keepalive.timeout  at usdt:@virtscope:virtscope:keepalive_timeout addr=$arg1 value=$arg2 aux=$arg3
