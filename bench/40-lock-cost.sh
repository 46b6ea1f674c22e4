#!/usr/bin/env bash
# What lock tracing costs the daemon: `virtscope locks` counts every
# acquisition of every virMutex in BPF (uprobes on virMutexLock's entry and
# return, and on virMutexUnlock), against no tracing, in alternating runs.
set -euo pipefail
source bench/lib.sh

ROUNDS=${ROUNDS:-3}

echo "## Cost of lock tracing (virtscope locks)"
echo
echo "Anchor: the same load without virtscope, alternating runs ($ROUNDS rounds):"
echo "\`scripts/load rpc -d 8\` and \`scripts/load start-destroy --domains 2 -d 12\`, each alone and with"
echo "\`virtscope locks -p LIBVIRTD\` attached (default --min-wait 10 ms)."
echo
echo "| scenario | ops/s without | ops/s with | ratio with/without |"
echo "|---|---|---|---|"
compare rpc 8 "$ROUNDS" none locks
compare start-destroy 12 "$ROUNDS" none locks --domains 2
