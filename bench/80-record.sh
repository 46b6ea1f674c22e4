#!/usr/bin/env bash
# What recording costs: bytes per event and the recorder's throughput
# (events per CPU-second of virtscope, and events/s sustained) under the rpc
# and start-destroy loads; and its overhead on the daemon, as the load's
# ops/s, against no tracing and against live mode (virtscope ops, the
# probes and lock collectors a live command attaches), in alternating runs.
set -euo pipefail
source bench/lib.sh

ROUNDS=${ROUNDS:-3}
SECS=${SECS:-8}
dir=$(mktemp -d /tmp/virtscope-bench-record.XXXXXX)
trap 'rm -rf "$dir"' EXIT

# rec_run SCENARIO [RECORD ARGS...]: records the lab under SECS of SCENARIO;
# prints "events bytes secs cpu_s ops_per_sec".
n=0
rec_run() {
	local scenario=$1 f ops
	shift
	n=$((n + 1))
	f=$dir/r$n.vsr
	/usr/bin/time -f "%U %S" -o "$dir/time" "$VIRTSCOPE" record -p "$LAB_PID" -o "$f" "$@" \
		-d "$((SECS + 3))" 2>"$dir/err" &
	local vs=$!
	for _ in $(seq 100); do grep -q recording "$dir/err" && break; sleep 0.05; done
	sleep 0.5
	ops=$(scripts/load "$scenario" -d "$SECS" | sed -n 's/^ops_per_sec=//p')
	wait "$vs" || true
	sed -n 's/.*virtscope: \([0-9]*\) events, .* chunks, \([0-9]*\) bytes .* over \([0-9.]*\) s/\1 \2 \3/p' "$dir/err" |
		awk -v t="$(awk '{ print $1 + $2 }' "$dir/time")" -v o="$ops" '{ print $1, $2, $3, t, o }'
	rm -f "$f"
}

echo "## Cost of recording (virtscope record)"
echo
echo "Each row records the lab for the load's $SECS s (plus 3 s), with the default collectors"
echo "(probes for RPC, D-Bus, QEMU monitor, keepalives and jobs; contended locks; off-CPU;"
echo "forks; on-CPU samples at 49 Hz unless said). Bytes/event is the file's size over the"
echo "events in it (stacks, names and build-ids included); events per CPU-second is what one"
echo "core of virtscope (user + system time, BPF side not included) handles."
echo
echo "| load | record options | events | bytes | bytes/event | events/s | virtscope CPU s | events per CPU-s |"
echo "|---|---|---|---|---|---|---|---|"
for spec in "rpc|" "rpc|-F 999" "start-destroy|" "rpc|--no-sync"; do
	load=${spec%%|*} opts=${spec#*|}
	# shellcheck disable=SC2086
	rec_run "$load" $opts | awk -v l="$load" -v o="${opts:-(defaults)}" '{
		printf "| %s | %s | %d | %d | %.1f | %.0f | %.2f | %.0f |\n", l, o, $1, $2,
			($1 ? $2 / $1 : 0), $1 / $3, $4, ($4 > 0 ? $1 / $4 : 0) }'
done

# The daemon's side: ops/s with nothing, with live mode, and with record.
echo
echo "Overhead on the daemon: \`scripts/load rpc -d $SECS\` ops/s, alternating runs ($ROUNDS rounds)."
echo
echo "| mode | runs (ops/s) | mean | ratio to none |"
echo "|---|---|---|---|"
none="" live="" rec=""
for r in $(seq "$ROUNDS"); do
	none+="$(ops rpc "$SECS" none) "
	live+="$(ops rpc "$SECS" ops) "
	rec+="$(rec_run rpc | awk '{ print $5 }') "
done
mn=$(echo "$none" | tr ' ' '\n' | grep . | mean)
for m in none live rec; do
	v=${!m}
	mm=$(echo "$v" | tr ' ' '\n' | grep . | mean)
	label=$m
	[ "$m" = live ] && label="live (virtscope ops)"
	[ "$m" = rec ] && label="record (all collectors, to disk)"
	printf '| %s | %s | %s | %s |\n' "$label" "$v" "$mm" "$(ratio "$mm" "$mn")"
done
