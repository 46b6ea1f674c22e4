# The lab's machined fault (scripts/lab start --machined-delay, lab fault machined): the real
# libvirtd calls the fake systemd-machined on start and destroy, and a delay of D on
# TerminateMachine holds every destroy for D, as the client sees it. These tests run a lab of
# their own next to the tests' lab, which has no fake machined.

MACHINED_D=2000 # ms

# A second lab, with the fake machined (libvirtd caches machined's absence, so a lab gets it
# at start or never). Sets MLAB_URI, MLAB_LOG and MLAB_SLICE.
machined_lab_up() {
	export VIRTSCOPE_LAB_DIR=$VIRTSCOPE_LAB_DIR-machined
	trap machined_lab_down EXIT
	scripts/lab stop >/dev/null 2>&1 || true
	scripts/lab start --machined-delay off >"$TMP/mlab-start.out" 2>&1 ||
		fail "lab start --machined-delay off: $(cat "$TMP/mlab-start.out")"
	eval "$(scripts/lab env)"
	MLAB_URI=$VIRTSCOPE_LAB_QEMU_URI
	MLAB_LOG=$VIRTSCOPE_LAB_MACHINED_LOG
	MLAB_SLICE=$(sed -n 's/^machined_slice=//p' "$VIRTSCOPE_LAB_DIR/state")
	[ "$VIRTSCOPE_LAB_MACHINED_FAULT" = off ] || fail "fault after start: $VIRTSCOPE_LAB_MACHINED_FAULT"
	[ -n "$MLAB_SLICE" ] && [ -r "$MLAB_LOG" ] || fail "no machined slice or log"
}

machined_lab_down() {
	scripts/lab stop >/dev/null 2>&1 || true
}

# The fake's reply lines for METHOD in the log, from line FROM on, as
# "ARRIVED_NS REPLIED_NS WAITED_MS RESULT".
machined_replies() {
	tail -n +"$3" "$1" | awk -v m="$2" '$1 == "reply" && $3 == "method=" m {
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		print v["arrived_ns"], v["replied_ns"], v["waited_ms"], v["result"] }'
}

# The client's own "START_NS END_NS" of each successful OP in a --latencies file.
load_ops() {
	awk -v op="$2" '$3 == op && $5 == "ok" { print $1, $2 }' "$1"
}

median_ms() {
	awk '{ print ($2 - $1) / 1e6 }' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] + 0 }'
}

test_machined_delay_holds_destroy() {
	local lat=$TMP/machined-delay.lat offlat=$TMP/machined-off.lat from n_destroy bad med_on med_off
	machined_lab_up

	# --- TerminateMachine delayed by D: the destroys wait for it -------------------------
	scripts/lab fault machined "$MACHINED_D" TerminateMachine >/dev/null
	grep -q "^machined_fault=$MACHINED_D TerminateMachine$" <(scripts/lab status) ||
		fail "status does not say the fault: $(scripts/lab status | grep machined)"
	from=$(($(wc -l <"$MLAB_LOG") + 1))
	load start-destroy -c "$MLAB_URI" --domains 1 -n 6 -d 60 --latencies "$lat" \
		>"$TMP/machined-load.out" 2>&1 || fail "load: $(tail -3 "$TMP/machined-load.out")"
	n_destroy=$(load_ops "$lat" destroy | wc -l)
	[ "$n_destroy" -eq 3 ] || fail "expected 3 destroys, got $n_destroy: $(cat "$lat")"
	! grep -q ' err$' "$lat" || fail "failed operations: $(grep ' err$' "$lat")"
	bad=$(load_ops "$lat" destroy | awk -v d="$MACHINED_D" '{ ms = ($2 - $1) / 1e6 }
		ms < d || ms >= d + 3000 { print ms " ms" }')
	[ -z "$bad" ] || fail "destroys outside [$MACHINED_D, $((MACHINED_D + 3000))) ms: $bad"
	# one TerminateMachine per destroy, answered D (5 %) after it arrived, inside the destroy
	machined_replies "$MLAB_LOG" TerminateMachine "$from" >"$TMP/machined-term.txt"
	[ "$(wc -l <"$TMP/machined-term.txt")" -eq "$n_destroy" ] ||
		fail "TerminateMachine replies: $(cat "$TMP/machined-term.txt"), destroys: $n_destroy"
	bad=$(awk -v d="$MACHINED_D" '$3 < 0.95 * d || $3 > 1.05 * d || $4 != "ok"' "$TMP/machined-term.txt")
	[ -z "$bad" ] || fail "TerminateMachine not answered ${MACHINED_D} ms (5 %) after arrival: $bad"
	bad=$(awk 'NR == FNR { s[NR] = $1; e[NR] = $2; n = NR; next }
		{ in_one = 0; for (i = 1; i <= n; i++) if ($1 >= s[i] && $2 <= e[i]) in_one = 1 }
		!in_one { print }' <(load_ops "$lat" destroy) "$TMP/machined-term.txt")
	[ -z "$bad" ] || fail "TerminateMachine calls outside every destroy: $bad"
	# the delay is per method: starts still got their CreateMachineWithNetwork at once
	bad=$(machined_replies "$MLAB_LOG" CreateMachineWithNetwork "$from" | awk '$3 > 500')
	[ -z "$bad" ] || fail "CreateMachineWithNetwork delayed: $bad"
	[ "$(machined_replies "$MLAB_LOG" CreateMachineWithNetwork "$from" | wc -l)" -eq 3 ] ||
		fail "expected 3 CreateMachineWithNetwork calls"

	# --- fault off: machined is still called, and the destroy is D faster ---------------
	scripts/lab fault machined off >/dev/null
	from=$(($(wc -l <"$MLAB_LOG") + 1))
	load start-destroy -c "$MLAB_URI" --domains 1 -n 6 -d 60 --latencies "$offlat" \
		>"$TMP/machined-load.out" 2>&1 || fail "load: $(tail -3 "$TMP/machined-load.out")"
	n_destroy=$(load_ops "$offlat" destroy | wc -l)
	[ "$n_destroy" -eq 3 ] || fail "expected 3 destroys, got $n_destroy"
	machined_replies "$MLAB_LOG" TerminateMachine "$from" >"$TMP/machined-term.txt"
	[ "$(wc -l <"$TMP/machined-term.txt")" -eq "$n_destroy" ] ||
		fail "fault off: TerminateMachine replies: $(cat "$TMP/machined-term.txt")"
	bad=$(awk '$3 > 100 || $4 != "ok"' "$TMP/machined-term.txt")
	[ -z "$bad" ] || fail "fault off: TerminateMachine not answered at once: $bad"
	med_on=$(load_ops "$lat" destroy | median_ms)
	med_off=$(load_ops "$offlat" destroy | median_ms)
	echo "destroy median: ${med_on} ms with TerminateMachine delayed ${MACHINED_D} ms, ${med_off} ms without" >&2
	awk -v a="$med_on" -v b="$med_off" -v d="$MACHINED_D" 'BEGIN { x = a - b - d; exit !(x > -1000 && x < 1000) }' ||
		fail "destroy median ${med_on} ms delayed vs ${med_off} ms off: not ${MACHINED_D} ms apart (1 s)"

	# --- stop leaves no cgroup of the fake behind ----------------------------------------
	machined_lab_down
	trap - EXIT
	bad=$(awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts |
		while read -r mnt; do [ ! -e "$mnt/$MLAB_SLICE" ] || echo "$mnt/$MLAB_SLICE"; done)
	[ -z "$bad" ] || fail "cgroups left after lab stop: $bad"
}

# Wrong use of the fault interface: one clear line and a non-zero exit, no lab started.
test_machined_fault_bad_input() {
	local rc
	rc=0; scripts/lab fault machined 3000 >/dev/null 2>"$TMP/err" || rc=$?
	[ "$rc" -eq 1 ] && grep -q 'has no fake machined' "$TMP/err" && [ "$(wc -l <"$TMP/err")" -eq 1 ] ||
		fail "fault on a lab without the fake: rc $rc: $(cat "$TMP/err")"
	rc=0; scripts/lab fault machined 12x >/dev/null 2>"$TMP/err" || rc=$?
	[ "$rc" -ne 0 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "bad delay: rc $rc: $(cat "$TMP/err")"
	rc=0; scripts/lab fault nothing 10 >/dev/null 2>"$TMP/err" || rc=$?
	[ "$rc" -eq 2 ] || fail "unknown fault: rc $rc: $(cat "$TMP/err")"
	rc=0; VIRTSCOPE_LAB_DIR=$VIRTSCOPE_LAB_DIR-machined-bad \
		scripts/lab start --machined-delay soon >/dev/null 2>"$TMP/err" || rc=$?
	[ "$rc" -eq 1 ] && grep -q 'delay in ms' "$TMP/err" || fail "start with a bad delay: rc $rc: $(cat "$TMP/err")"
	[ ! -e "$VIRTSCOPE_LAB_DIR-machined-bad" ] || fail "a bad start left a lab directory"
	grep -q '^export VIRTSCOPE_LAB_MACHINED_FAULT=.absent.$' <(scripts/lab env) ||
		fail "env of a lab without the fake: $(scripts/lab env)"
}

# The field's hang, end to end, with the real libvirtd making real D-Bus calls: a destroy holds
# its domain's lock across machined's TerminateMachine (3 s here); `ops` times the call at 3 s
# (5 %) and names the lock another client waited for across it, the lock chain reads
# waiter -> domain lock -> holder destroying the domain -> in D-Bus TerminateMachine, and
# offcpu puts the destroying worker's 3 s under the D-Bus reason.
test_machined_dbus_call_holds_domain_lock() {
	local ops=$TMP/mops.txt locks=$TMP/mlocks.txt off=$TMP/moff.txt lat=$TMP/mops.lat
	machined_lab_up
	scripts/lab fault machined 3000 TerminateMachine >/dev/null
	"$VIRTSCOPE" ops -p "$VIRTSCOPE_LAB_PID" -d 120 -o "$ops" 2>"$ops.err" &
	local vo=$!
	"$VIRTSCOPE" locks -p "$VIRTSCOPE_LAB_PID" -d 120 -o "$locks" 2>"$locks.err" &
	local vl=$!
	"$VIRTSCOPE" offcpu -p "$VIRTSCOPE_LAB_PID" -d 120 -o "$off" 2>"$off.err" &
	local vf=$!
	for _ in $(seq 400); do grep -q 'pid' "$ops.err" 2>/dev/null && grep -q 'pid' "$locks.err" 2>/dev/null &&
		grep -q 'pid' "$off.err" 2>/dev/null && break; sleep 0.05; done
	load start-destroy -c "$MLAB_URI" --domains 1 -n 2 -d 60 --latencies "$lat" >/dev/null 2>&1 &
	local lp=$!
	# another client asking for the domain's state while the destroy is in machined
	local i
	for i in $(seq 24); do
		sleep 0.5
		virsh -c "$MLAB_URI" domstate vm1 >/dev/null 2>&1 || true
	done
	wait "$lp" || fail "load failed"
	kill -INT "$vo" "$vl" "$vf"
	wait "$vo" || fail "ops: $(cat "$ops.err")"
	wait "$vl" || fail "locks: $(cat "$locks.err")"
	wait "$vf" || fail "offcpu: $(cat "$off.err")"
	local row
	row=$(grep -E '^  org\.freedesktop\.machine1 org\.freedesktop\.machine1\.Manager\.TerminateMachine ' "$ops") ||
		fail "no TerminateMachine row: $(sed -n '/^D-Bus/,/^$/p' "$ops")"
	# NAME CALLS ERRORS P50 unit P99 unit MAX unit AVG unit ...
	echo "$row" | awk '{ v = $9; if ($10 == "ms") v /= 1e3; exit !($3 == 1 && v >= 2.85 && v <= 3.15) }' ||
		fail "TerminateMachine not one call of 3 s (5 %): $row"
	# its object path, and the one call in the 1-10 s decade, none between
	grep -A1 -E '^  org\.freedesktop\.machine1 .*\.TerminateMachine ' "$ops" |
		grep -qE '^      /org/freedesktop/machine1: <1ms 0, 1-10ms 0, 10-100ms 0, 0\.1-1s 0, 1-10s 1, >=10s 0$' ||
		fail "no object path and latency decades: $(grep -A1 TerminateMachine "$ops")"
	grep -A3 'TerminateMachine ' "$ops" | grep -q 'held across the call, and waited for: virDomainObj vm1' ||
		fail "the domain lock is not shown held across the call: $(grep -A3 TerminateMachine "$ops")"
	grep -A1 -E 'waited for virDomainObj vm1$' "$locks" |
		grep -qE 'held by (rpc-libvirtd|prio-rpc-libvir)\[[0-9]+\] \((priority-)?worker\) in remoteDispatchDomainDestroyFlags.*in D-Bus org\.freedesktop\.machine1\.Manager\.TerminateMachine for 3\.0[0-9]* s' ||
		fail "no chain through TerminateMachine: $(grep -A2 'waited for virDomainObj vm1' "$locks" | head -8)"
	# and the destroying worker's off-CPU time is the D-Bus call's 3 s
	source tests/integration/74-offcpu.sh
	offcpu_threads "$off" | awk '$1 == "rpc-libvirtd" || $1 == "prio-rpc-libvir"' |
		while read -r line; do reason_ms "$line" dbus; done |
		awk '$1 >= 2850 && $1 <= 3300 { ok = 1 } END { exit !ok }' ||
		fail "no worker with 3 s (5 %) off CPU under dbus: $(offcpu_threads "$off" | grep -E 'rpc-libvirtd|prio-rpc')"
}

# The field's 30 s hang itself: machined never answers TerminateMachine, and
# libvirt's fixed 30 s D-Bus timeout ends the call with an error. `ops` shows
# the one call failed, timed out at 30 s (3 %), and says so.
test_machined_hang_times_out_at_30_s() {
	local ops=$TMP/mhang.txt row
	machined_lab_up
	scripts/lab fault machined hang TerminateMachine >/dev/null
	"$VIRTSCOPE" ops -p "$VIRTSCOPE_LAB_PID" -d 120 -o "$ops" 2>"$ops.err" &
	local vo=$!
	for _ in $(seq 400); do grep -q 'pid' "$ops.err" 2>/dev/null && break; sleep 0.05; done
	load start-destroy -c "$MLAB_URI" --domains 1 -n 2 -d 90 >"$TMP/mhang.load" 2>&1 || true
	kill -INT "$vo"
	wait "$vo" || fail "ops: $(cat "$ops.err")"
	scripts/lab fault machined off >/dev/null
	sed -n '/^D-Bus/,/^$/p' "$ops" >&2
	row=$(grep -E '^  org\.freedesktop\.machine1 org\.freedesktop\.machine1\.Manager\.TerminateMachine ' "$ops") ||
		fail "no TerminateMachine row: $(sed -n '/^D-Bus/,/^$/p' "$ops"); load: $(tail -3 "$TMP/mhang.load")"
	# NAME OBJECT CALLS ERRORS P50 unit P99 unit MAX unit TIMEOUT TIMED-OUT
	echo "$row" | awk '{ v = $9; if ($10 == "ms") v /= 1e3; exit !($3 == 1 && $4 == 1 && $12 == 1 && $11 == "30000ms" && v >= 29.9 && v <= 30.9) }' ||
		fail "TerminateMachine not one failed call timed out at 30 s: $row"
	grep -A3 -E 'TerminateMachine ' "$ops" | grep -q '!! 1 call ran into the 30000 ms timeout' ||
		fail "the timeout is not called out: $(grep -A3 TerminateMachine "$ops")"
}
