profile probe-cost-stack
probe lock.acquired at usdt:$exe:virtscope:lock_acquired stack addr=$arg1 kind=$arg2 object=$arg3
