#!/usr/bin/env bash
# The cost of one probe site of the virtscope USDT provider, untraced and
# traced, and of the same site reached through a uprobe on a function
# instead, in ns per hit (bench/probe_cost.c). Anchor: the untraced loop.
set -euo pipefail

N=${N:-200000}
BIN=build/bench/probe-cost
tmp=$(mktemp -d /tmp/virtscope-bench-probe.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# run [TRACE ARGS...]: one measurement, traced by `virtscope trace ARGS` if
# given; prints "usdt_ns=... call_ns=...".
run() {
	local fifo=$tmp/in tr=""
	rm -f "$fifo"
	mkfifo "$fifo"
	"$BIN" "$N" <"$fifo" >"$tmp/out" &
	local pid=$!
	exec 7>"$fifo"
	for _ in $(seq 100); do grep -q ready "$tmp/out" 2>/dev/null && break; sleep 0.02; done
	if [ $# -gt 0 ]; then
		"$VIRTSCOPE" trace -p "$pid" "$@" -o /dev/null 2>"$tmp/err" &
		tr=$!
		for _ in $(seq 300); do grep -q 'tracing pid' "$tmp/err" 2>/dev/null && break; sleep 0.05; done
	fi
	echo go >&7
	exec 7>&-
	wait "$pid"
	if [ -n "$tr" ]; then
		kill -INT "$tr" 2>/dev/null || true
		wait "$tr" 2>/dev/null || true
	fi
	grep usdt_ns "$tmp/out"
}

get() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

off=$(run)
usdt=$(run --profile bench/probe-cost.profile)
stack=$(run --profile bench/probe-cost-stack.profile)
uprobe=$(run --profile bench/probe-cost-uprobe.profile)
base=$(get "$off" usdt_ns)
echo "## Cost of a probe site"
echo
echo "\`bench/probe_cost.c\`, $N hits per loop, with \`virtscope trace\` attached or not"
echo "(ns per hit; the anchor is the untraced USDT site, a semaphore test and a branch)."
echo
echo "| site | ns per hit | ratio to the untraced site |"
echo "|---|---|---|"
row() { printf '| %s | %s | %s |\n' "$1" "$2" "$(awk -v a="$2" -v b="$base" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')"; }
row "USDT site, untraced (anchor)" "$base"
row "plain call of the probe-site function, untraced" "$(get "$off" call_ns)"
row "USDT site, traced (3 fields)" "$(get "$usdt" usdt_ns)"
row "USDT site, traced, with a 16 KiB user-stack snapshot" "$(get "$stack" usdt_ns)"
row "uprobe on the function, traced (1 field)" "$(get "$uprobe" call_ns)"
