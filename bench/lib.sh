# Helpers shared by the benchmarks (sourced). The lab's facts (LAB_PID, ...)
# and VIRTSCOPE come from bench/run.

# ops SCENARIO SECS MODE [LOAD ARGS...]: the load's ops/s with MODE attached
# to the daemon: "none", or a virtscope command and its arguments joined by
# commas ("profile,-F,999" or "locks").
tmp_err=$(mktemp /tmp/virtscope-bench-ops.XXXXXX)

ops() {
	local scenario=$1 secs=$2 mode=$3 prof=""
	shift 3
	: >"$tmp_err"
	if [ "$mode" != none ]; then
		# shellcheck disable=SC2086
		local cmd=${mode%%,*} args=""
		[ "$cmd" != "$mode" ] && args=${mode#*,}
		"$VIRTSCOPE" "$cmd" -p "$LAB_PID" ${args//,/ } -d "$((secs + 5))" -o /dev/null 2>"$tmp_err" &
		prof=$!
		# wait until it is attached (BPF verification takes a moment)
		for _ in $(seq 100); do [ -s "$tmp_err" ] && break; sleep 0.05; done
		sleep 0.5
	fi
	scripts/load "$scenario" -d "$secs" "$@" | grep -E '^ops_per_sec=' | tail -1 | cut -d= -f2
	if [ -n "$prof" ]; then
		kill -INT "$prof" 2>/dev/null || true
		wait "$prof" 2>/dev/null || true
	fi
}

mean() { awk '{ s += $1; n++ } END { printf "%.1f", n ? s / n : 0 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }

# The standard error of the ratio of two means, from the runs' spread
# (first-order propagation): "± 0.012". Runs on a shared machine spread by
# 10 % or more, so a ratio is worth quoting only with it.
ratio_se() {
	awk -v a="$1" -v m="$2" 'function stats(s, v, n, i, x, sum, sq) {
		n = split(s, v, " "); sum = 0; sq = 0
		for (i = 1; i <= n; i++) { sum += v[i]; sq += v[i] * v[i] }
		mu = sum / n; se2 = n > 1 ? (sq - n * mu * mu) / (n - 1) / n : 0
		if (se2 < 0) se2 = 0
	}
	BEGIN {
		stats(a); ma = mu; ea = se2; stats(m); mm = mu; em = se2
		if (ma <= 0 || mm <= 0) { print "± ?"; exit }
		printf "± %.3f", (mm / ma) * sqrt(ea / (ma * ma) + em / (mm * mm))
	}'
}

# compare SCENARIO SECS ROUNDS ANCHOR_MODE MODE [LOAD ARGS...]: alternating
# runs; prints "| scenario | anchor runs | mode runs | ratio mode/anchor |".
compare() {
	local scenario=$1 secs=$2 rounds=$3 anchor=$4 mode=$5 a="" m="" r
	shift 5
	for r in $(seq "$rounds"); do
		a+="$(ops "$scenario" "$secs" "$anchor" "$@") "
		m+="$(ops "$scenario" "$secs" "$mode" "$@") "
	done
	printf '| %s | %s (mean %s) | %s (mean %s) | %s %s |\n' "$scenario" "$a" \
		"$(echo "$a" | tr ' ' '\n' | grep . | mean)" "$m" \
		"$(echo "$m" | tr ' ' '\n' | grep . | mean)" \
		"$(ratio "$(echo "$m" | tr ' ' '\n' | grep . | mean)" "$(echo "$a" | tr ' ' '\n' | grep . | mean)")" \
		"$(ratio_se "$a" "$m")"
}
