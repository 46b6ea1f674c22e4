#!/bin/bash
# Checks the virtscope provider end to end on a built tree: the ELF notes of
# both builds, bpftrace's listing, that untraced the semaphores are 0 and no
# guarded argument is prepared, and that injected delays come out of the USDT
# probes, and of plain uprobes on the probe-site functions, as injected.
# Needs root and bpftrace. Usage: probes/examples/verify.sh [BUILD_DIR]
# (REFDAEMON=path checks another daemon build, e.g. build/refdaemon-fallback).
# Ends with "N passed, N failed"; exits 1 if anything failed.
set -u

BUILD=$(realpath "${1:-build}")
DAEMON=$(realpath "${REFDAEMON:-$BUILD/refdaemon}")
CLIENT=$BUILD/refclient
WORK=$(mktemp -d /tmp/virtscope-probes.XXXXXX)
SOCK=$WORK/refdaemon.sock
PASSED=0
FAILED=0
DAEMON_PID=
BT_PID=

check() {       # check NAME COMMAND...
	local name=$1
	shift
	if "$@"; then
		echo "ok - $name"
		PASSED=$((PASSED + 1))
	else
		echo "not ok - $name"
		FAILED=$((FAILED + 1))
	fi
}

between() {     # between VALUE LOW HIGH
	[ -n "$1" ] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]
}

cleanup() {
	[ -n "$BT_PID" ] && kill -INT "$BT_PID" 2>/dev/null && wait "$BT_PID"
	[ -n "$DAEMON_PID" ] && kill -TERM "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID"
	rm -rf "$WORK"
}
trap cleanup EXIT

# provider name args semaphore-present, one line per note, sorted.
notes() {
	readelf -n "$1" | awk '
		/Provider:/ { p = $2 } /Name:/ { n = $2 }
		/Semaphore:/ { s = ($NF ~ /^0x0+$/) ? "nosem" : "sem" }
		/Arguments:/ { print p, n, s }' | sort
}

check_notes() {
	notes "$DAEMON" > "$WORK/notes"
	notes "$BUILD/refdaemon-fallback" > "$WORK/notes-fallback"
	check "refdaemon has 18 virtscope notes" \
		test "$(grep -c '^virtscope .* sem$' "$WORK/notes")" -eq 18
	check "refdaemon-fallback has the same notes" cmp -s "$WORK/notes" "$WORK/notes-fallback"
	check "bpftrace lists 18 probes" \
		test "$(bpftrace -l "usdt:$DAEMON:virtscope:*" | wc -l)" -eq 18
}

start_daemon() {
	"$DAEMON" --socket "$SOCK" --keepalive-interval 1 --keepalive-count 2 \
		> "$WORK/daemon.out" 2> "$WORK/daemon.err" &
	DAEMON_PID=$!
	for _ in $(seq 100); do
		grep -qs '^ready' "$WORK/daemon.out" && return 0
		sleep 0.1
	done
	return 1
}

# The sum of every semaphore in the running daemon (PIE: load base + vaddr).
semaphore_sum() {
	local base sum=0 addr value
	base=$(awk -v bin="$DAEMON" '$6 == bin && $3 == "00000000" { split($1, a, "-"); print a[1]; exit }' \
		"/proc/$DAEMON_PID/maps")
	for addr in $(readelf -n "$DAEMON" | awk '/Semaphore:/ { print $NF }'); do
		value=$(dd if="/proc/$DAEMON_PID/mem" bs=2 count=1 iflag=skip_bytes \
			skip=$((0x$base + addr)) 2>/dev/null | od -An -tu2 | tr -d ' ')
		sum=$((sum + ${value:-99999}))
	done
	echo "$sum"
}

stats() {
	"$CLIENT" -s "$SOCK" stats | sed -n 's/.* result=\([0-9]*\) .*/\1/p'
}

start_bpftrace() {      # start_bpftrace SCRIPT
	bpftrace -e "$1" > "$WORK/bt.out" 2>&1 &
	BT_PID=$!
	for _ in $(seq 150); do
		grep -qs '^Attaching' "$WORK/bt.out" && sleep 1 && return 0
		sleep 0.1
	done
	return 1
}

stop_bpftrace() {
	kill -INT "$BT_PID"
	wait "$BT_PID"
	BT_PID=
}

# The injected workload every tracing pass runs.
workload() {
	"$CLIENT" -s "$SOCK" 'hold obj1 50' 'dbus Sleep 200' 'block 300' 'fork 5' > "$WORK/client.out"
	"$CLIENT" -s "$SOCK" --idle 3500 --no-pong >> "$WORK/client.out"
}

# Each pass prints the same lines: HOLD obj ms, DBUS method result ms,
# ITER ms (iterations over 100 ms), FORK pid, EXEC path, KATIMEOUT count idle.
USDT_SCRIPT='
usdt:DAEMON:virtscope:lock_acquired { @h[tid] = nsecs; }
usdt:DAEMON:virtscope:lock_release /@h[tid]/ {
	printf("HOLD %s %d\n", str(arg2), (nsecs - @h[tid]) / 1000000); delete(@h[tid]); }
usdt:DAEMON:virtscope:dbus_call_begin { @d[tid] = nsecs; }
usdt:DAEMON:virtscope:dbus_call_end /@d[tid]/ {
	printf("DBUS %s %d %d\n", str(arg3), arg5, (nsecs - @d[tid]) / 1000000); delete(@d[tid]); }
usdt:DAEMON:virtscope:loop_iteration_begin { @i[arg0] = nsecs; }
usdt:DAEMON:virtscope:loop_iteration_end /@i[arg0]/ {
	$ms = (nsecs - @i[arg0]) / 1000000; if ($ms > 100) { printf("ITER %d\n", $ms); }
	delete(@i[arg0]); }
usdt:DAEMON:virtscope:fork_end /str(arg0) == "fork"/ { printf("FORK %d\n", arg1); }
usdt:DAEMON:virtscope:exec { printf("EXEC %s\n", str(arg0)); }
usdt:DAEMON:virtscope:keepalive_timeout { printf("KATIMEOUT %d %d\n", arg1, arg2); }
'

UPROBE_SCRIPT='
uprobe:DAEMON:ref_object_lock { @o[tid] = arg0; }
uretprobe:DAEMON:ref_object_lock /@o[tid]/ { @h[tid] = nsecs; }
uprobe:DAEMON:ref_object_unlock /@h[tid]/ {
	printf("HOLD %s %d\n", str(*(uint64 *)(arg0 + 48)), (nsecs - @h[tid]) / 1000000);
	delete(@h[tid]); }
uprobe:DAEMON:ref_dbus_call { @d[tid] = nsecs; @m[tid] = arg3; }
uretprobe:DAEMON:ref_dbus_call /@d[tid]/ {
	printf("DBUS %s %d %d\n", str(@m[tid]), retval, (nsecs - @d[tid]) / 1000000);
	delete(@d[tid]); }
uprobe:DAEMON:ref_loop_iteration { @i[tid] = nsecs; }
uretprobe:DAEMON:ref_loop_iteration /@i[tid]/ {
	$ms = (nsecs - @i[tid]) / 1000000; if ($ms > 100) { printf("ITER %d\n", $ms); }
	delete(@i[tid]); }
uprobe:DAEMON:ref_fork_helper { @r[tid] = arg0; }
uretprobe:DAEMON:ref_fork_helper /@r[tid] && str(@r[tid]) == "fork"/ { printf("FORK %d\n", retval); }
uprobe:DAEMON:ref_exec { printf("EXEC %s\n", str(arg0)); }
uprobe:DAEMON:ref_keepalive_timeout { printf("KATIMEOUT %d %d\n", arg1, arg2); }
'

check_trace() {         # check_trace LABEL SCRIPT
	local label=$1 out=$WORK/bt.out hold dbus iter
	check "$label: bpftrace attaches" start_bpftrace "${2//DAEMON/$DAEMON}"
	# USDT raises the semaphores; plain uprobes leave them alone.
	if [ "$label" = usdt ]; then
		check "$label: traced, the semaphores are raised" test "$(semaphore_sum)" -gt 0
	else
		check "$label: the semaphores stay 0" test "$(semaphore_sum)" -eq 0
	fi
	workload
	stop_bpftrace
	hold=$(awk '$1 == "HOLD" && $2 == "obj1" { print $3; exit }' "$out")
	dbus=$(awk '$1 == "DBUS" && $2 == "Sleep" && $3 == 0 { print $4; exit }' "$out")
	iter=$(awk '$1 == "ITER" { print $2; exit }' "$out")
	check "$label: hold obj1 50 held it ${hold:-?} ms" between "$hold" 49 70
	check "$label: dbus Sleep 200 took ${dbus:-?} ms" between "$dbus" 199 240
	check "$label: block 300 made a ${iter:-?} ms loop iteration" between "$iter" 299 360
	check "$label: fork 5 gave $(grep -c '^FORK [1-9]' "$out") fork ends" \
		test "$(grep -c '^FORK [1-9]' "$out")" -eq 5
	check "$label: the children exec'd /bin/true" \
		test "$(grep -c '^EXEC /bin/true$' "$out")" -ge 5
	check "$label: a silent client timed out at count 2, 1, 0 after 1, 2, 3 s" \
		test "$(grep '^KATIMEOUT' "$out" | tr '\n' ' ')" = "KATIMEOUT 2 1 KATIMEOUT 1 2 KATIMEOUT 0 3 "
}

main() {
	mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
	check_notes
	check "refdaemon starts" start_daemon || return
	check "untraced, every semaphore is 0" test "$(semaphore_sum)" -eq 0
	local before
	before=$(stats)
	"$CLIENT" -s "$SOCK" 'hold obj1 1' 'dbus Sleep 1' 'fork 1' 'caps 1' ping > /dev/null
	check "untraced, no guarded probe argument was prepared" test "$(stats)" = "$before"
	check_trace usdt "$USDT_SCRIPT"
	check "traced, probes fired" test "$(stats)" -gt "$before"
	check "detached, every semaphore is 0 again" test "$(semaphore_sum)" -eq 0
	check_trace uprobe "$UPROBE_SCRIPT"
	local bus
	bus=$(pgrep -P "$DAEMON_PID" -x dbus-daemon)
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID"
	check "SIGTERM stops it with status 0" test $? -eq 0
	DAEMON_PID=
	check "its dbus-daemon is gone" test -n "$bus" -a ! -d "/proc/$bus"
	check "its socket is gone" test ! -e "$SOCK"
}

main
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
