#!/usr/bin/env bash
# What timing every RPC call (two USDT hits and a uprobe per call, plus the
# domain lookups' return probes), D-Bus call, QMP command and keepalive
# costs the daemon, against no tracing, in alternating runs.
set -euo pipefail
source bench/lib.sh

ROUNDS=${ROUNDS:-3}

echo "## Cost of RPC and D-Bus tracing (virtscope ops)"
echo
echo "Anchor: the same load without virtscope, alternating runs ($ROUNDS rounds):"
echo "\`scripts/load rpc -d 8\` (list-all and get-version calls on 8 connections) and"
echo "\`scripts/load start-destroy --domains 2 -d 12\`, each alone and with \`virtscope ops\`."
echo
echo "| scenario | virtscope | ops/s without | ops/s with | ratio with/without |"
echo "|---|---|---|---|---|"
row() { local what=$1; shift; compare "$@" | sed "s/^| \([^|]*\) |/| \1 | $what |/"; }
row "ops" rpc 8 "$ROUNDS" none ops
row "ops" start-destroy 12 "$ROUNDS" none ops --domains 2
