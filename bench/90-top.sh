#!/usr/bin/env bash
# What `virtscope top` costs itself: its own CPU time (utime + stime from
# /proc) while it refreshes every second in batch mode against the lab under
# `rpc` load, with 1000 domains defined on the test driver. Goal: under 5 %
# of one core.
set -euo pipefail
source bench/lib.sh

SECS=${SECS:-20}
NDOM=${NDOM:-1000}

# 1000 domains on the test driver, kept while top runs.
holder=""
cleanup() { [ -z "$holder" ] || kill "$holder" 2>/dev/null || true; }
trap cleanup EXIT
define_test_domains topbench "$NDOM" $((SECS + 60))
holder=$TEST_HOLDER
defined=$DEFINED

cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

# One measurement: "PCT SELF OPS RPCS" for top with these extra options.
measure() {
	local out vs t0 t1 s0 s1 ops hz
	out=$(mktemp /tmp/virtscope-bench-top-out.XXXXXX)
	"$VIRTSCOPE" top -p "$LAB_PID" -b -d 1 -n $((SECS + 4)) "$@" >"$out" 2>"$out.err" &
	vs=$!
	sleep 2 # attached, BPF programs verified
	t0=$(cpu_ticks "$vs")
	s0=$(date +%s.%N)
	ops=$(scripts/load rpc -d "$SECS" | sed -n 's/^ops_per_sec=//p')
	t1=$(cpu_ticks "$vs")
	s1=$(date +%s.%N)
	wait "$vs" || true
	hz=$(getconf CLK_TCK)
	awk -v a="$t0" -v b="$t1" -v s="$s0" -v e="$s1" -v hz="$hz" 'BEGIN { printf "%.2f ", (b - a) / hz / (e - s) * 100 }'
	awk '/\(virtscope [0-9.]+%/ { match($0, /virtscope [0-9.]+%/); v = substr($0, RSTART + 10, RLENGTH - 11); s += v; n++ } END { printf "%.2f ", n ? s / n : 0 }' "$out"
	printf '%s ' "$ops"
	awk '/^RPC [0-9.]+\/s/ { sub(/\/s/, "", $2); if ($2 > m) m = $2 } END { printf "%.0f\n", m }' "$out"
	rm -f "$out" "$out.err"
}

# Lock holds sampled (the default) against not, alternating: the anchor is
# top without the sampler, in the same run.
ROUNDS=${ROUNDS:-3}
with=() without=()
for _ in $(seq "$ROUNDS"); do
	with+=("$(measure)")
	without+=("$(measure --no-holds)")
done
fmean() { printf '%s\n' "$@" | awk -v f="$FIELD" '{ s += $f; n++ } END { printf "%.2f", s / n }'; }
cpus() { printf '%s\n' "$@" | awk '{ printf "%s ", $1 }'; }
row() {
	local label=$1
	shift
	echo "| 1 s | $label | $(FIELD=1 fmean "$@") | $(FIELD=2 fmean "$@") | $(FIELD=3 fmean "$@") | $(FIELD=4 fmean "$@") | < 5 |"
}
cpu_ratio="$(ratio "$(FIELD=1 fmean "${with[@]}")" "$(FIELD=1 fmean "${without[@]}")") $(ratio_se "$(cpus "${without[@]}")" "$(cpus "${with[@]}")")"

echo "## Cost of virtscope top"
echo
echo "\`virtscope top -b -d 1\` against the lab's libvirtd under \`scripts/load rpc -d $SECS\`,"
echo "with $defined domains defined on the test driver; $ROUNDS runs of each mode, alternating."
echo "virtscope's own CPU time, from /proc/PID/stat over the load (means):"
echo
echo "| refresh | mode | virtscope CPU (% of one core) | as top's header says | load ops/s | RPCs/s seen by top (max) | goal |"
echo "|---|---|---|---|---|---|---|"
row "default (lock holds sampled)" "${with[@]}"
row "\`--no-holds\` (the anchor)" "${without[@]}"
echo
echo "Sampling the holds costs top **${cpu_ratio}×** its CPU without them (the load's ops/s"
echo "swing between runs on this machine: they are not the daemon's cost, which bench 40 measures)."
echo
echo "Runs (CPU %, header %, ops/s, RPCs/s): with holds: $(printf '%s; ' "${with[@]}")without: $(printf '%s; ' "${without[@]}")"
