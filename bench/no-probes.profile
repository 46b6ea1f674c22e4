# A profile with no probes: `virtscope locks --profile bench/no-probes.profile`
# measures the contention tracer alone, without the thread-job uprobes.
profile no-probes
