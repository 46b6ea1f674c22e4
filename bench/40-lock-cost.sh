#!/usr/bin/env bash
# What lock tracing costs the daemon, against no tracing, in alternating
# runs: `virtscope locks` (contended waits from context switches; what a
# holder is doing is read from its memory when a wait begins, so no uprobe
# runs on the daemon's paths), and `virtscope locks --all` (every acquisition
# of every virMutex, through uprobes on virMutexLock's entry and return and
# on virMutexUnlock).
set -euo pipefail
source bench/lib.sh

ROUNDS=${ROUNDS:-6}

echo "## Cost of lock tracing (virtscope locks)"
echo
echo "Anchor: the same load without virtscope, alternating runs ($ROUNDS rounds):"
echo "\`scripts/load rpc -d 8\` and \`scripts/load start-destroy --domains 2 -d 12\`, each alone and with"
echo "one of: \`virtscope locks\` (the default: contended waits from sched_switch, with each holder's"
echo "job read from its thread-specific data; uprobes only on the calls a holder may be blocked in,"
echo "D-Bus and QMP, which this load does not make) or \`virtscope locks --all\`."
echo
echo "| scenario | virtscope | ops/s without | ops/s with | ratio with/without |"
echo "|---|---|---|---|---|"
row() { local what=$1; shift; compare "$@" | sed "s/^| \([^|]*\) |/| \1 | $what |/"; }
row "locks" rpc 8 "$ROUNDS" none locks
row "locks --all" rpc 8 "$ROUNDS" none locks,--all
row "locks" start-destroy 12 "$ROUNDS" none locks --domains 2
