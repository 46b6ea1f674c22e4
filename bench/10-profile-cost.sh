#!/usr/bin/env bash
# What `virtscope profile -F 999` costs the daemon: operations per second of
# the load scenarios with and without the profiler attached, in alternating
# runs so that drift in the machine hits both sides alike.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
RPC_SECS=${RPC_SECS:-10}
SD_SECS=${SD_SECS:-15}

ops() { grep -E '^ops_per_sec=' | tail -1 | cut -d= -f2; }

# run_once SCENARIO SECS MODE ARGS...: prints the load's ops/s.
run_once() {
	local scenario=$1 secs=$2 mode=$3 prof=""
	shift 3
	if [ "$mode" = on ]; then
		"$VIRTSCOPE" profile -p "$LAB_PID" -F 999 -d "$((secs + 2))" -o /dev/null 2>/dev/null &
		prof=$!
		sleep 0.5
	fi
	scripts/load "$scenario" -d "$secs" "$@" | ops
	if [ -n "$prof" ]; then
		kill -INT "$prof" 2>/dev/null || true
		wait "$prof" 2>/dev/null || true
	fi
}

mean() { awk '{ s += $1; n++ } END { printf "%.1f", n ? s / n : 0 }'; }

bench_scenario() {
	local scenario=$1 secs=$2 off="" on="" r
	shift 2
	for r in $(seq "$ROUNDS"); do
		off+="$(run_once "$scenario" "$secs" off "$@")"$'\n'
		on+="$(run_once "$scenario" "$secs" on "$@")"$'\n'
	done
	local m_off m_on
	m_off=$(printf '%s' "$off" | mean)
	m_on=$(printf '%s' "$on" | mean)
	printf '| %s | %s | %s | %s | %.3f |\n' "$scenario" "$(printf '%s' "$off" | tr '\n' ' ')" \
		"$(printf '%s' "$on" | tr '\n' ' ')" "$m_off / $m_on" \
		"$(awk -v a="$m_on" -v b="$m_off" 'BEGIN { print (b > 0 ? a / b : 0) }')"
}

echo "## Cost of on-CPU profiling (virtscope profile -F 999)"
echo
echo "Anchor: the same load without virtscope, in alternating runs ($ROUNDS rounds)."
echo "Commands: \`scripts/load rpc -d $RPC_SECS\`, \`scripts/load start-destroy --domains 2 -d $SD_SECS\`,"
echo "each alone and with \`virtscope profile -p LIBVIRTD -F 999\` attached."
echo
echo "| scenario | ops/s without | ops/s with | mean without / with | ratio with/without |"
echo "|---|---|---|---|---|"
bench_scenario rpc "$RPC_SECS"
bench_scenario start-destroy "$SD_SECS" --domains 2
