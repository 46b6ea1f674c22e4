#!/usr/bin/env bash
# What lock tracing costs the daemon, against no tracing, in alternating
# runs: `virtscope locks` (contended waits from futex calls, plus a uprobe on
# virThreadJobSet/Clear for what each worker does), and `virtscope locks
# --all` (every acquisition of every virMutex, through uprobes on
# virMutexLock's entry and return and on virMutexUnlock).
set -euo pipefail
source bench/lib.sh

ROUNDS=${ROUNDS:-3}

echo "## Cost of lock tracing (virtscope locks)"
echo
echo "Anchor: the same load without virtscope, alternating runs ($ROUNDS rounds):"
echo "\`scripts/load rpc -d 8\` and \`scripts/load start-destroy --domains 2 -d 12\`, each alone and with"
echo "\`virtscope locks -p LIBVIRTD\` (contended waits) or \`virtscope locks --all\` attached."
echo
echo "| scenario | ops/s without | ops/s with | ratio with/without |"
echo "|---|---|---|---|"
compare rpc 8 "$ROUNDS" none locks
compare start-destroy 12 "$ROUNDS" none locks --domains 2
compare rpc 8 "$ROUNDS" none locks,--all
