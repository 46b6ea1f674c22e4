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

# define_test_domains PREFIX N SECS: defines PREFIX1..PREFIXN on the test
# driver and keeps them for SECS seconds. The driver's state lives while a
# connection holds it, so one virsh defines them all and stays connected
# (reading its stdin). Sets DEFINED (how many are defined) and TEST_HOLDER
# (the virsh to kill when done).
define_test_domains() {
	local prefix=$1 n=$2 secs=$3 xmls i
	xmls=$(mktemp -d /tmp/virtscope-bench-domains.XXXXXX)
	for i in $(seq "$n"); do
		printf '<domain type="test"><name>%s%d</name><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>\n' "$prefix" "$i" >"$xmls/$i.xml"
		echo "define $xmls/$i.xml"
	done >"$xmls/cmds"
	{ cat "$xmls/cmds"; sleep "$secs"; } | virsh -q -c "$TEST_URI" >/dev/null 2>&1 &
	TEST_HOLDER=$!
	DEFINED=0
	for _ in $(seq 240); do
		DEFINED=$(virsh -q -c "$TEST_URI" list --all --name 2>/dev/null | grep -c "^$prefix" || true)
		[ "$DEFINED" -ge "$n" ] && break
		sleep 0.5
	done
	rm -rf "$xmls"
}

# peak_rss_kib PID SECS: samples PID's VmRSS every 0.5 s for SECS seconds,
# or until it exits, and prints the largest.
peak_rss_kib() {
	local pid=$1 secs=$2 peak=0 v
	for _ in $(seq $((secs * 2))); do
		v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || break
		[ -n "$v" ] || break
		[ "$v" -gt "$peak" ] && peak=$v
		sleep 0.5
	done
	echo "$peak"
}
