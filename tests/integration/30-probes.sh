# The USDT provider and the probe engine, against the reference daemon whose
# delays are injected: every figure virtscope measures must match the truth
# within max(2 %, 100 us), through USDT and, with the same expectations,
# through plain uprobes on the daemon's functions.

REFDAEMON=$BUILD/refdaemon
REFCLIENT=$BUILD/refclient

# start_ref [BINARY] [ARGS...]: starts a refdaemon on a socket of its own;
# sets REF_PID and REF_SOCK.
start_ref() {
	local bin=${1:-$REFDAEMON}
	[ $# -gt 0 ] && shift
	REF_SOCK=$TMP/ref.$RANDOM.sock
	"$bin" --socket "$REF_SOCK" "$@" >"$REF_SOCK.out" 2>&1 &
	for _ in $(seq 100); do grep -q '^ready' "$REF_SOCK.out" 2>/dev/null && break; sleep 0.05; done
	REF_PID=$(sed -n 's/^ready pid=\([0-9]*\).*/\1/p' "$REF_SOCK.out")
	[ -n "$REF_PID" ] || fail "refdaemon did not start: $(cat "$REF_SOCK.out")"
}

stop_ref() {
	kill "$REF_PID" 2>/dev/null || true
	wait "$REF_PID" 2>/dev/null || true
}

# start_trace OUT ARGS...: virtscope trace on the refdaemon, returning once
# its probes are attached; sets TRACE_PID.
start_trace() {
	local out=$1
	shift
	"$VIRTSCOPE" trace -p "$REF_PID" "$@" -d 60 -o "$out" 2>"$out.err" &
	TRACE_PID=$!
	for _ in $(seq 300); do grep -q 'tracing pid' "$out.err" 2>/dev/null && break; sleep 0.05; done
	grep -q 'tracing pid' "$out.err" || fail "trace did not attach: $(cat "$out.err")"
}

stop_trace() {
	sleep 0.3
	kill -INT "$TRACE_PID"
	wait "$TRACE_PID" || fail "trace failed: $(cat "$1.err")"
}

# The value of KEY= on the lines of FILE matching the extended regex RE.
field() {
	grep -E "$2" "$1" | sed -n "s/.* $3=\([^ ]*\).*/\1/p"
}

# within MEASURED_US TRUTH_US: max(2 %, 100 us).
within() {
	awk -v m="$1" -v t="$2" 'BEGIN { d = m - t; if (d < 0) d = -d; tol = t * 0.02; if (tol < 100) tol = 100
		exit !(d <= tol) }' || fail "measured $1 us, truth $2 us: outside max(2 %, 100 us)"
}

# within_request MEASURED_US TRUTH_US CLIENT_FILE REQUEST: as within, except
# that when the daemon itself overran the injected delay (a loaded machine
# oversleeps), the client's own timing of that request bounds it from above.
within_request() {
	local lat
	lat=$(grep -F "request=\"$4\"" "$3" | sed -n 's/.* latency_ns=\([0-9]*\).*/\1/p' | head -1)
	awk -v m="$1" -v t="$2" -v c="${lat:-0}" 'BEGIN { tol = t * 0.02; if (tol < 100) tol = 100
		hi = t + tol; if (c / 1000 + tol > hi) hi = c / 1000 + tol
		exit !(m >= t - tol && m <= hi) }' ||
		fail "measured $1 us for '$4', truth $2 us (client saw ${lat:-?} ns): outside max(2 %, 100 us)"
}

# The scenario, and every check of it, for one mechanism.
ground_truth() {
	local out=$1 hold wait_end hold_end waiter holder
	shift
	start_ref "$REFDAEMON" --dbus-timeout 30000
	start_trace "$out" "$@"
	"$REFCLIENT" -s "$REF_SOCK" -P --stagger 30 'hold obj2 50' 'wait obj2' >"$out.client"
	"$REFCLIENT" -s "$REF_SOCK" 'dbus Sleep 200' 'dbus Hang 0 300' 'fork 5' 'sleep 100' \
		'block 300' 'caps 2' >>"$out.client"
	stop_trace "$out"
	stop_ref
	grep -q "profile '$PROFILE'" "$out.err" || fail "profile: $(cat "$out.err")"

	# the lock: held 50 ms by one worker, waited for by another until then
	hold=$(field "$out" 'lock.hold .*object=obj2 dur_us=[0-9.]{5,}' dur_us | head -1)
	within_request "$hold" 50000 "$out.client" 'hold obj2 50'
	waiter=$(grep -E 'lock.wait .*object=obj2 .*holder=' "$out" | head -1)
	[ -n "$waiter" ] || fail "no wait for obj2 with a holder"
	holder=$(grep -E 'lock.hold .*object=obj2 dur_us=[0-9.]{5,}' "$out" | head -1 | awk '{print $2}' | cut -d/ -f2)
	[ "$(echo "$waiter" | sed -n 's/.* holder=\([0-9]*\).*/\1/p')" = "$holder" ] || fail "wrong holder: $waiter"
	[ "$(echo "$waiter" | awk '{print $2}' | cut -d/ -f2)" != "$holder" ] || fail "waiter is the holder"
	echo "$waiter" | grep -q 'holder_comm=rpc-worker' || fail "holder's name: $waiter"
	# the wait ends when the hold does
	wait_end=$(echo "$waiter" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^dur_us=/) d = substr($i, 8); printf "%.1f", $1 * 1e6 + d }')
	hold_end=$(grep -E 'lock.hold .*object=obj2 dur_us=[0-9.]{5,}' "$out" | head -1 | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^dur_us=/) d = substr($i, 8); printf "%.1f", $1 * 1e6 + d }')
	within "$wait_end" "$hold_end"

	# D-Bus, per method: Sleep answers after 200 ms, Hang times out at 300 ms
	within_request "$(field "$out" 'span.dbus name=Sleep' dur_us)" 200000 "$out.client" 'dbus Sleep 200'
	within_request "$(field "$out" 'span.dbus name=Hang' dur_us)" 300000 "$out.client" 'dbus Hang 0 300'
	[ "$(field "$out" 'span.dbus name=Hang' result)" = -110 ] || fail "Hang did not time out"
	[ "$(field "$out" 'span.dbus name=Hang' timeout_ms)" = 300 ] || fail "Hang's timeout"

	# forks: 5 for the request, 2 inside the capability lookup, each exec'd
	[ "$(grep -c ' fork child=[1-9].* reason=fork' "$out")" -eq 5 ] || fail "$(grep -c ' fork ' "$out") forks"
	[ "$(grep -c ' fork child=[1-9].* reason=caps' "$out")" -eq 2 ] || fail "caps forks"
	[ "$(grep -c ' exec file=/bin/true' "$out")" -eq 7 ] || fail "execs"
	[ "$(grep -c 'span.caps ' "$out")" -eq 1 ] || fail "caps lookups"

	# operations and the main loop
	within_request "$(field "$out" 'span.op name=sleep' dur_us)" 100000 "$out.client" 'sleep 100'
	within_request "$(field "$out" 'span.op name=hold' dur_us)" 50000 "$out.client" 'hold obj2 50'
	within_request "$(awk '/span.loop/ { for (i = 1; i <= NF; i++) if ($i ~ /^dur_us=/) { d = substr($i, 8) + 0; if (d > m) m = d } } END { print m + 0 }' "$out")" 300000 "$out.client" 'block 300'
}

test_probes_ground_truth_usdt() {
	PROFILE=virtscope-usdt ground_truth "$TMP/usdt.trace"
}

test_probes_ground_truth_uprobes() {
	PROFILE=refdaemon ground_truth "$TMP/uprobes.trace" --profile refdaemon
}

# The daemon built on the plain <sys/sdt.h> fallback header carries the same
# provider, and is recognized and traced the same way.
test_probes_fallback_header_build() {
	start_ref "$BUILD/refdaemon-fallback"
	start_trace "$TMP/fb.trace"
	"$REFCLIENT" -s "$REF_SOCK" 'hold obj1 20' >"$TMP/fb.client"
	stop_trace "$TMP/fb.trace"
	stop_ref
	grep -q "profile 'virtscope-usdt'" "$TMP/fb.trace.err"
	within_request "$(field "$TMP/fb.trace" 'lock.hold .*object=obj1' dur_us | sort -n | tail -1)" \
		20000 "$TMP/fb.client" 'hold obj1 20'
}

# Tools that know SDT probes list them all.
test_probes_listed_by_readelf_and_bpftrace() {
	local n
	n=$(readelf -n "$REFDAEMON" | grep -c 'Provider: virtscope')
	[ "$n" -ge 18 ] || fail "readelf -n shows $n virtscope notes"
	mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
	n=$(bpftrace -l "usdt:$REFDAEMON:virtscope:*" | sort -u | wc -l)
	[ "$n" -eq 18 ] || fail "bpftrace lists $n probes"
	[ "$(readelf -n "$BUILD/refdaemon-fallback" | grep -c 'Provider: virtscope')" -eq "$(readelf -n "$REFDAEMON" | grep -c 'Provider: virtscope')" ]
}

# The probes' semaphores are raised while traced and back to 0 after.
semaphores_sum() {
	local pid=$1 base addr sum=0 v
	base=$(awk -v exe="$(readlink -f "$REFDAEMON")" '$6 == exe && $5 != 0 { split($1, a, "-"); print a[1]; exit }' "/proc/$pid/maps")
	for addr in $(readelf -n "$REFDAEMON" | awk '/Semaphore:/ {print $NF}'); do
		v=$(dd if="/proc/$pid/mem" bs=1 count=2 skip=$((16#$base + addr)) status=none | od -An -tu2 | tr -d ' ')
		sum=$((sum + v))
	done
	echo "$sum"
}

test_probes_semaphores_restored() {
	start_ref
	[ "$(semaphores_sum "$REF_PID")" -eq 0 ] || fail "semaphores raised before tracing"
	start_trace "$TMP/sem.trace"
	local during
	during=$(semaphores_sum "$REF_PID")
	stop_trace "$TMP/sem.trace"
	local after
	after=$(semaphores_sum "$REF_PID")
	stop_ref
	[ "$during" -ge 18 ] || fail "semaphores while traced: $during"
	[ "$after" -eq 0 ] || fail "semaphores after: $after"
}
