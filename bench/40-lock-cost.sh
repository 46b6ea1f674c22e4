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
echo "one of: \`virtscope locks\` (the default: contended waits, plus the uprobes on"
echo "virThreadJobSet/Clear that name what each worker does), the same with"
echo "\`--profile bench/no-probes.profile\` (the contention tracer alone), or \`virtscope locks --all\`."
echo
echo "| scenario | virtscope | ops/s without | ops/s with | ratio with/without |"
echo "|---|---|---|---|---|"
row() { local what=$1; shift; compare "$@" | sed "s/^| \([^|]*\) |/| \1 | $what |/"; }
row "locks" rpc 8 "$ROUNDS" none locks
row "locks (contention tracer alone)" rpc 8 "$ROUNDS" none locks,--profile,bench/no-probes.profile
row "locks --all" rpc 8 "$ROUNDS" none locks,--all
row "locks" start-destroy 12 "$ROUNDS" none locks --domains 2
