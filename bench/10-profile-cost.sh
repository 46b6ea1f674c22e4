#!/usr/bin/env bash
# What `virtscope profile -F 999` costs the daemon: operations per second of
# the load scenarios with and without the profiler attached, in alternating
# runs so that drift in the machine hits both sides alike.
set -euo pipefail
source bench/lib.sh

ROUNDS=${ROUNDS:-3}
RPC_SECS=${RPC_SECS:-10}
SD_SECS=${SD_SECS:-15}

echo "## Cost of on-CPU profiling (virtscope profile -F 999)"
echo
echo "Anchor: the same load without virtscope, in alternating runs ($ROUNDS rounds)."
echo "Commands: \`scripts/load rpc -d $RPC_SECS\`, \`scripts/load start-destroy --domains 2 -d $SD_SECS\`,"
echo "each alone and with \`virtscope profile -p LIBVIRTD -F 999\` (DWARF unwinding, the default) attached."
echo
echo "| scenario | ops/s without | ops/s with | ratio with/without |"
echo "|---|---|---|---|"
compare rpc "$RPC_SECS" "$ROUNDS" none profile,-F,999
compare start-destroy "$SD_SECS" "$ROUNDS" none profile,-F,999 --domains 2
