# virtscope ops: RPC latency per procedure against the load generator's own
# timing of the same calls, domains named, the worker that ran each call, QMP
# commands per domain, and keepalives answered.

# The "PROCEDURE CALLS ERRORS P50 P99 MAX AVG" row of NAME in ops output
# FILE, as "CALLS AVG_S MAX_S".
ops_row() {
	awk -v n="$2" 'function s(v, u) { return u == "s" ? v : u == "ms" ? v / 1e3 : v / 1e6 }
		$1 == n && NF >= 11 { print $2, s($10, $11), s($8, $9); exit }' "$1"
}

# "COUNT AVG_S MAX_S" of the load generator's latencies for operation OP.
load_stats() {
	awk -v op="$2" '$3 == op && $5 == "ok" { d = ($2 - $1) / 1e9; n++; s += d; if (d > m) m = d }
		END { print n, s / n, m }' "$1"
}

# Within 5 %: a b
close5() {
	awk -v a="$1" -v b="$2" 'BEGIN { r = (a - b) / b; if (r < 0) r = -r; exit !(r <= 0.05) }'
}

test_ops_rpc_latency_agrees_with_client() {
	local out=$TMP/ops.txt lat=$TMP/ops-lat.txt
	rm -f "$lat"
	"$VIRTSCOPE" ops -p "$LAB_PID" -d 120 -o "$out" 2>"$out.err" &
	local vs=$!
	for _ in $(seq 300); do grep -q 'pid' "$out.err" 2>/dev/null && break; sleep 0.05; done
	# 3 start/destroy cycles of each of 2 domains, all inside the trace
	load start-destroy --domains 2 -n 12 --latencies "$lat" >/dev/null 2>&1 || fail "load failed"
	kill -INT "$vs"
	wait "$vs" || fail "ops failed: $(cat "$out.err")"
	local op proc row want calls avg max wcalls wavg wmax
	for op in start destroy; do
		[ "$op" = start ] && proc=DOMAIN_CREATE || proc=DOMAIN_DESTROY_FLAGS
		row=$(ops_row "$out" "$proc")
		want=$(load_stats "$lat" "$op")
		read -r calls avg max <<<"$row"
		read -r wcalls wavg wmax <<<"$want"
		echo "$proc: virtscope $calls calls avg $avg max $max; client $wcalls avg $wavg max $wmax" >&2
		[ "$calls" = "$wcalls" ] || fail "$proc: $calls calls seen, the client made $wcalls"
		close5 "$max" "$wmax" || fail "$proc max $max s vs the client's $wmax s"
		close5 "$avg" "$wavg" || fail "$proc average $avg s vs the client's $wavg s"
	done
	# each domain's calls are counted under its name, and its QMP commands too
	local n
	for n in 1 2; do
		awk -v d="vm$n" '$1 == d && $2 >= 6' "$out" | grep -q . || fail "no RPC row for vm$n: $(cat "$out")"
		awk -v d="vm$n" '$1 == "qmp_capabilities" && $2 == d && $3 == 3' "$out" | grep -q . ||
			fail "vm$n: not 3 qmp_capabilities (one per start): $(grep qmp_cap "$out")"
	done
	grep -qE '^Worker pool: [0-9]+ workers served [0-9]+ calls' "$out" || fail "no worker pool line"
}

test_ops_keepalives_answered() {
	local out=$TMP/ops-ka.txt
	"$VIRTSCOPE" ops -p "$LAB_PID" -d 30 -o "$out" 2>"$out.err" &
	local vs=$!
	for _ in $(seq 300); do grep -q 'pid' "$out.err" 2>/dev/null && break; sleep 0.05; done
	# a client that pings every second while it waits for events
	virsh -k 1 -c "$QEMU_URI" event --all --timeout 5 >/dev/null 2>&1 || true
	kill -INT "$vs"
	wait "$vs" || fail "ops failed: $(cat "$out.err")"
	sed -n '/^Keepalives/,$p' "$out" | awk '$1 ~ /^0x/ && $2 >= 3 && $3 == $2' | grep -q . ||
		fail "no client with >= 3 pings, each answered: $(sed -n '/^Keepalives/,$p' "$out")"
}

test_ops_bad_arguments() {
	local rc=0
	"$VIRTSCOPE" ops -p "$LAB_PID" -n 0 2>"$TMP/err" || rc=$?
	[ "$rc" -eq 2 ] && expect_one_line_error "$TMP/err"
	rc=0
	"$VIRTSCOPE" ops -p 999999999 -d 1 2>"$TMP/err" || rc=$?
	[ "$rc" -eq 2 ] && expect_one_line_error "$TMP/err"
}

# Any daemon's blocking D-Bus calls, through the client library it links
# (libdbus for the reference daemon), timed with their timeout.
test_ops_dbus_any_daemon() {
	local out=$TMP/ops-anyd.txt
	source tests/integration/30-probes.sh
	start_ref "$REFDAEMON" --dbus-timeout 30000
	"$VIRTSCOPE" ops -p "$REF_PID" --profile dbus-clients -d 60 -o "$out" 2>"$out.err" &
	local vs=$!
	for _ in $(seq 300); do grep -q 'pid' "$out.err" 2>/dev/null && break; sleep 0.05; done
	"$REFCLIENT" -s "$REF_SOCK" 'dbus Sleep 200' 'dbus Sleep 200' >/dev/null
	sleep 0.3
	kill -INT "$vs"
	wait "$vs" || fail "ops failed: $(cat "$out.err")"
	stop_ref
	# NAME CALLS ERRORS P50 unit P99 unit MAX unit TIMEOUT TIMED-OUT
	sed -n '/^D-Bus method calls/,/^$/p' "$out" | awk '$1 == "?" && $2 == "?.?" && $3 == 2 {
		v = $10; if ($11 == "s") v *= 1e3; exit !(v >= 195 && v <= 230 && $12 == "30000ms") }' ||
		fail "no 2 calls of 200 ms with a 30 s timeout: $(sed -n '/^D-Bus/,/^$/p' "$out")"
}

# The same library's failures are flagged as errors: a method the peer does
# not have, and a call that reaches its 100 ms timeout (libdbus gives a NULL
# reply for both), which is also counted as timed out.
test_ops_dbus_errors_any_daemon() {
	local out=$TMP/ops-anyd-err.txt
	source tests/integration/30-probes.sh
	start_ref "$REFDAEMON" --dbus-timeout 30000
	"$VIRTSCOPE" ops -p "$REF_PID" --profile dbus-clients -d 60 -o "$out" 2>"$out.err" &
	local vs=$!
	for _ in $(seq 300); do grep -q 'pid' "$out.err" 2>/dev/null && break; sleep 0.05; done
	"$REFCLIENT" -s "$REF_SOCK" 'dbus Nope 0' 'dbus Sleep 400 100' 'dbus Sleep 10' >"$out.client" || true
	sleep 0.3
	kill -INT "$vs"
	wait "$vs" || fail "ops failed: $(cat "$out.err")"
	stop_ref
	grep -q 'result=-95 ' "$out.client" && grep -q 'result=-110 ' "$out.client" ||
		fail "the client did not see the two failures: $(cat "$out.client")"
	sed -n '/^D-Bus method calls/,/^$/p' "$out" >&2
	# NAME OBJECT CALLS ERRORS P50 unit P99 unit MAX unit TIMEOUT TIMED-OUT
	sed -n '/^D-Bus method calls/,/^$/p' "$out" | awk '$1 == "?" && $3 >= 3 && $4 == 2 && $12 == 1 { ok = 1 } END { exit !ok }' ||
		fail "not 3 calls or more (each connection also says Hello), 2 errors, 1 timed out: $(sed -n '/^D-Bus/,/^$/p' "$out")"
}

# A daemon built on sd-bus (tests/fixtures/sdbus_calls) on a private bus: its
# sd_bus_call_method calls are named and counted once, though sd-bus makes
# each through sd_bus_call; its own sd_bus_call of messages built by hand are
# timed with the timeout they gave; a method the bus lacks is an error, and
# the call nobody answers takes its 200 ms timeout and is counted as such.
test_ops_dbus_sd_bus() {
	local dir=$TMP/sdbus out addr fx vs
	mkdir -p "$dir"
	out=$dir/ops.txt
	dbus-daemon --session --nofork --address="unix:path=$dir/bus" --print-address=1 >"$dir/addr" 2>"$dir/bus.err" &
	local bus=$!
	for _ in $(seq 100); do [ -s "$dir/addr" ] && break; sleep 0.05; done
	addr=$(head -1 "$dir/addr")
	[ -n "$addr" ] || fail "dbus-daemon did not start: $(cat "$dir/bus.err")"
	"$BUILD/fixtures/sdbus_calls" "$addr" >"$dir/fx.out" 2>&1 &
	fx=$!
	for _ in $(seq 100); do grep -q '^ready' "$dir/fx.out" && break; sleep 0.05; done
	grep -q '^ready' "$dir/fx.out" || fail "sdbus_calls: $(cat "$dir/fx.out")"
	"$VIRTSCOPE" ops -p "$fx" --profile dbus-clients -d 60 -o "$out" 2>"$out.err" &
	vs=$!
	for _ in $(seq 300); do grep -q 'pid' "$out.err" 2>/dev/null && break; sleep 0.05; done
	kill -USR1 "$fx"
	for _ in $(seq 100); do grep -q '^done' "$dir/fx.out" && break; sleep 0.05; done
	sleep 0.3
	kill -INT "$vs"
	wait "$vs" || fail "ops failed: $(cat "$out.err")"
	kill "$fx" "$bus" 2>/dev/null || true
	wait "$fx" "$bus" 2>/dev/null || true
	grep -q '^done failed=2 timedout=1$' "$dir/fx.out" || fail "the fixture saw: $(cat "$dir/fx.out")"
	sed -n '/^D-Bus method calls/,/^$/p' "$out" >&2
	# NAME OBJECT CALLS ERRORS P50 unit P99 unit MAX unit TIMEOUT TIMED-OUT
	sed -n '/^D-Bus method calls/,/^$/p' "$out" >"$dir/dbus.txt"
	awk '$1 == "org.freedesktop.DBus" && $2 == "org.freedesktop.DBus.GetId" { f = 1; exit !($3 == 3 && $4 == 0 && $11 == "25000ms") }
		END { if (!f) exit 1 }' "$dir/dbus.txt" || fail "GetId by sd_bus_call_method: not 3 calls, 0 errors"
	awk '$2 == "org.freedesktop.DBus.NoSuchMethod" { f = 1; exit !($3 == 1 && $4 == 1) }
		END { if (!f) exit 1 }' "$dir/dbus.txt" || fail "NoSuchMethod: not 1 call, 1 error"
	# by hand: 2 GetId (1.5 s timeout) and the unanswered one (200 ms); the
	# longest is that timeout, within 10 %
	awk '$1 == "?" { f = 1; v = $9; if ($10 == "s") v *= 1e3; if ($10 == "us") v /= 1e3
		exit !($3 == 3 && $4 == 1 && $12 == 1 && v >= 200 && v <= 220) }
		END { if (!f) exit 1 }' "$dir/dbus.txt" || fail "sd_bus_call: not 3 calls, 1 error, 1 timed out at 200 ms"
}
