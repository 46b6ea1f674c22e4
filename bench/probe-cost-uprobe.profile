profile probe-cost-uprobe
probe lock.acquired at uprobe:$exe:vs_bench_site addr=$arg1
