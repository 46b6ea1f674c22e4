# bench/probe_cost.c's site through USDT and through a uprobe on its function,
# each fetching the same fields; the .stack variants also take a user stack.
profile probe-cost
probe lock.acquired at usdt:$exe:virtscope:lock_acquired addr=$arg1 kind=$arg2 object=$arg3
