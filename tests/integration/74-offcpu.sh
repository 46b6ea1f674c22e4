# virtscope offcpu: off-CPU time by reason, wakers and event-loop stalls, on
# the reference daemon (injected truth) and on the real libvirtd under
# start-destroy (vm-vmN waits for its domain's lock while a worker destroys
# the domain).

# The per-thread table of FILE as "COMM TID WALL_MS ON_MS OFF_MS reason=ms...".
offcpu_threads() {
	awk '/^THREAD/ { on = 1; next } /^\(/ { on = 0 } on {
		w = $1; t = $1; sub(/\[.*/, "", w); sub(/.*\[/, "", t); sub(/\].*/, "", t)
		i = 2; if ($2 ~ /^\(/) i = 3
		line = w " " t " " $i " " $(i + 1) " " $(i + 2)
		for (k = i + 3; k <= NF; k++) line = line " " $k
		print line }' "$1"
}

# The ms of REASON in a table line (0 when absent).
reason_ms() {
	echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1 | awk '{ print $1 + 0 }'
}

# start_offcpu OUT ARGS...: offcpu on the refdaemon, returning once attached.
start_offcpu() {
	local out=$1
	shift
	"$VIRTSCOPE" offcpu -p "$REF_PID" "$@" -o "$out" 2>"$out.err" &
	OFFCPU_PID=$!
	for _ in $(seq 300); do grep -q 'watching off-CPU' "$out.err" 2>/dev/null && break; sleep 0.05; done
	grep -q 'watching off-CPU' "$out.err" || fail "offcpu did not start: $(cat "$out.err")"
}

stop_offcpu() {
	kill -INT "$OFFCPU_PID"
	wait "$OFFCPU_PID" || fail "offcpu failed: $(cat "$1.err")"
}

# An injected 300 ms block of the main loop is a 300 ms stall, with the
# sleep it is made of and where; a D-Bus call's wait is "dbus"; a lock wait
# names the lock and its holder.
test_offcpu_reference_daemon_truth() {
	local out=$TMP/offcpu-ref.txt stall line
	source tests/integration/30-probes.sh
	start_ref
	start_offcpu "$out" -d 60
	"$REFCLIENT" -s "$REF_SOCK" 'block 300' 'dbus Sleep 200' >"$out.client"
	"$REFCLIENT" -s "$REF_SOCK" -P --stagger 40 'hold obj3 300' 'wait obj3' >>"$out.client"
	sleep 0.3
	stop_offcpu "$out"
	stop_ref
	# the stall: 300 ms, bounded above by what the client saw
	stall=$(sed -n 's/^  stall \([0-9.]*\) ms at .*/\1/p' "$out" | sort -n | tail -1)
	[ -n "$stall" ] || fail "no stall: $(sed -n '/^Event loop/,$p' "$out")"
	within_request "$(awk -v s="$stall" 'BEGIN { printf "%d", s * 1000 }')" 300000 "$out.client" 'block 300'
	grep -A1 -E '^  stall [0-9.]+ ms at .*: blocked [0-9.]+ ms in sleep' "$out" |
		grep -q 'blocked: clock_nanosleep <- ref_sleep_ms <- ref_ops_run' ||
		fail "stall cause: $(sed -n '/^Stalls/,$p' "$out")"
	# the D-Bus call's 200 ms under "dbus" on a worker
	line=$(offcpu_threads "$out" | awk '$1 == "rpc-worker"' | grep 'dbus=') || fail "no dbus time: $(head -12 "$out")"
	within "$(awk -v m="$(reason_ms "$line" dbus)" 'BEGIN { printf "%d", m * 1000 }')" 200000 ||
		within_request "$(awk -v m="$(reason_ms "$line" dbus)" 'BEGIN { printf "%d", m * 1000 }')" 200000 "$out.client" 'dbus Sleep 200'
	# the waiter came 40 ms into the 300 ms hold
	grep -E 'rpc-worker\[[0-9]+\] waited for refObject obj3 held by rpc-worker\[' "$out" ||
		grep -E 'rpc-worker\[[0-9]+\] waited for 0x[0-9a-f]+ held by rpc-worker\[' "$out" ||
		fail "no lock wait with holder: $(sed -n '/^Lock waits/,/^$/p' "$out")"
}

# Every thread's on-CPU plus off-CPU time is the wall time of the trace
# within 2 %, and its on-CPU time agrees with the kernel's own count
# (/proc/PID/task/TID/schedstat) within 2 % of the wall time.
test_offcpu_accounts_for_wall_time() {
	local out=$TMP/offcpu-wall.txt before=$TMP/schedstat.before after=$TMP/schedstat.after
	source tests/integration/30-probes.sh
	start_ref
	for t in /proc/"$REF_PID"/task/*; do echo "${t##*/} $(cut -d' ' -f1 "$t/schedstat")"; done >"$before"
	start_offcpu "$out" -d 3
	"$REFCLIENT" -s "$REF_SOCK" -P 'sleep 500' 'dbus Sleep 300' 'hold obj1 400' 'wait obj1' 'fork 3' >/dev/null
	wait "$OFFCPU_PID" || fail "offcpu failed: $(cat "$out.err")"
	for t in /proc/"$REF_PID"/task/*; do echo "${t##*/} $(cut -d' ' -f1 "$t/schedstat")"; done >"$after"
	stop_ref
	local n
	n=$(offcpu_threads "$out" | wc -l)
	[ "$n" -ge 6 ] || fail "only $n threads: $(head -12 "$out")"
	offcpu_threads "$out" | awk '{ d = $4 + $5 - $3; if (d < 0) d = -d; if (d > $3 * 0.02) { print; bad = 1 } }
		END { exit bad }' || fail "on + off CPU is not the wall time within 2 %: $(head -12 "$out")"
	# the kernel's count covers a little more than the trace: the wall
	# time of start-up and exit, when these threads sleep
	offcpu_threads "$out" | while read -r comm tid wall on _; do
		awk -v tid="$tid" -v on="$on" -v wall="$wall" -v comm="$comm" '
			FNR == NR { b[$1] = $2; next } $1 == tid && ($1 in b) {
				k = ($2 - b[$1]) / 1e6; d = k - on; if (d < 0) d = -d
				if (d > wall * 0.02) { printf "%s[%s]: on CPU %.1f ms, schedstat %.1f ms\n", comm, tid, on, k; exit 1 } }' \
			"$before" "$after" || exit 1
	done || fail "on-CPU time disagrees with schedstat"
}

# vm-vmN's off-CPU time waiting for its domain's lock is under "lock", with
# the holder named: a worker destroying the domain.
test_offcpu_libvirtd_destroy_lock_waits() {
	local out=$TMP/offcpu-lv.txt n
	load start-destroy --domains 2 -d 20 >"$TMP/offcpu-lv.load" 2>&1 &
	local loadpid=$!
	sleep 2
	"$VIRTSCOPE" offcpu -p "$LAB_PID" -d 14 -n 1000 -o "$out" 2>"$out.err"
	wait "$loadpid" || fail "load: $(tail -3 "$TMP/offcpu-lv.load")"
	for n in 1 2; do
		offcpu_threads "$out" | awk -v d="vm-vm$n" '$1 == d' | while read -r line; do
			reason_ms "$line" lock
		done | awk '$1 >= 1000 { ok = 1 } END { exit !ok }' ||
			fail "no vm-vm$n thread with >= 1 s off CPU in lock: $(offcpu_threads "$out" | grep vm-vm$n | head -3)"
		grep -E "^  [0-9.]+ s  vm-vm$n\[[0-9]+\] \(vm-event\) waited for virDomainObj vm$n held by (rpc-libvirtd|prio-rpc-libvir)\[[0-9]+\] \((priority-)?worker\) in remoteDispatchDomainDestroyFlags" "$out" >/dev/null ||
			fail "vm$n's lock waits do not name a destroying worker: $(sed -n '/^Lock waits/,/^$/p' "$out" | head -5)"
	done
	# on + off CPU = wall within 2 % for every thread of libvirtd too
	offcpu_threads "$out" | awk '$3 > 500 { d = $4 + $5 - $3; if (d < 0) d = -d; if (d > $3 * 0.02) { print; bad = 1 } }
		END { exit bad }' || fail "on + off CPU is not the wall time within 2 %"
}

# Off-wake folded stacks: the waiter's stack, "--", then the holder's as it
# released the lock, weighted by the wait in microseconds.
test_offcpu_folded_wakers() {
	local out=$TMP/offcpu-fold.txt w
	source tests/integration/30-probes.sh
	start_ref
	start_offcpu "$out" -f --wakers -d 60
	"$REFCLIENT" -s "$REF_SOCK" -P --stagger 40 'hold obj2 300' 'wait obj2' >"$out.client"
	sleep 0.3
	stop_offcpu "$out"
	stop_ref
	w=$(awk 'index($0, "ref_object_lock;__pthread_mutex_lock;__GI___lll_lock_wait;") &&
		index($0, ";--;") && index($0, "__GI___pthread_mutex_unlock_usercnt") && / [0-9]+$/ &&
		$0 ~ /^rpc-worker;/ && $0 ~ /;rpc-worker [0-9]+$/ { s += $NF } END { print s + 0 }' "$out")
	# the waiter came 40 ms into the 300 ms hold
	awk -v w="$w" 'BEGIN { exit !(w >= 200000 && w <= 300000) }' ||
		fail "lock wait woken by its holder weighs $w us: $(grep -- ';--;' "$out" | head -3)"
}

test_offcpu_bad_arguments() {
	local rc=0
	"$VIRTSCOPE" offcpu -p "$LAB_PID" --wakers 2>"$TMP/err" || rc=$?
	[ "$rc" -eq 2 ] && expect_one_line_error "$TMP/err"
	rc=0
	"$VIRTSCOPE" offcpu -p "$LAB_PID" --stall nope 2>"$TMP/err" || rc=$?
	[ "$rc" -eq 2 ] && expect_one_line_error "$TMP/err"
}

# A client's PING sent 200 ms into a 1500 ms block of the main loop waits
# unread until the block ends: the stall lists it as a late keepalive, late
# by at least what the client waited for its PONG and at most the stall. A
# silent client whose keepalive timer fell due during the block has its
# timeout listed under the same stall.
test_offcpu_late_keepalives() {
	local out=$TMP/offcpu-ka.txt stall late lat client
	source tests/integration/30-probes.sh
	start_ref "$REFDAEMON" --keepalive-interval 1 --keepalive-count 5
	start_offcpu "$out" -d 60
	"$REFCLIENT" -s "$REF_SOCK" --idle 2500 --no-pong >"$out.idle" &
	client=$!
	sleep 0.3
	"$REFCLIENT" -s "$REF_SOCK" -P --stagger 200 'block 1500' 'ping' >"$out.client"
	wait "$client" || true
	stop_offcpu "$out"
	stop_ref
	stall=$(sed -n 's/^  stall \([0-9.]*\) s at .*/\1/p' "$out" | head -1)
	[ -n "$stall" ] || fail "no stall: $(sed -n '/^Event loop/,$p' "$out")"
	late=$(sed -n 's/^      late keepalive: PING from client 0x[0-9a-f]* read up to \([0-9.]*\) s late$/\1/p' "$out")
	[ "$(echo "$late" | grep -c .)" -eq 1 ] || fail "late PINGs: '$late': $(sed -n '/^Stalls/,$p' "$out")"
	lat=$(sed -n 's/^ok .* latency_ns=\([0-9]*\) request="ping"$/\1/p' "$out.client")
	[ -n "$lat" ] || fail "the client saw no PONG: $(cat "$out.client")"
	# the client waited ~1300 ms; the bound is from the stall's start
	awk -v l="$late" -v c="$lat" -v s="$stall" 'BEGIN { exit !(l * 1e9 >= c - 2e6 && l <= s + 0.001 && c >= 1.2e9) }' ||
		fail "PING late by up to $late s, the client waited $lat ns, the stall took $stall s"
	grep -qE '^      late keepalive: client 0x[0-9a-f]+ timed out \(count [0-9]+, idle [0-9]+ s\), handled up to [0-9.]+ s late$' "$out" ||
		fail "no late keepalive timeout: $(sed -n '/^Stalls/,$p' "$out")"
}

# libvirtd's main loop stalled by its log sink: the log goes to a FIFO that
# nobody drains, so the first thread that logs blocks in write() holding the
# log lock, and the loop with it as soon as it logs (debug filter 1:rpc: it
# logs for every message it reads). Meanwhile `virsh -k 1 event` sends a
# keepalive PING every second, which the loop reads only once the FIFO is
# drained: the stall lists them as late keepalives, the first late by more
# than a second.
test_offcpu_libvirtd_stalled_loop_late_keepalives() {
	local out=$TMP/offcpu-lvka.txt admin fifo=/var/log/libvirt/virtscope-stall.fifo
	local root=/proc/$LAB_PID/root outputs filters rd drain virsh_pid stall late
	admin="libvirtd:///system?socket=$VIRTSCOPE_LAB_DIR/fs/run/libvirt/libvirt-admin-sock"
	outputs=$(virt-admin -c "$admin" daemon-log-outputs | sed -n 's/^ *Logging outputs: *//p')
	filters=$(virt-admin -c "$admin" daemon-log-filters | sed -n 's/^ *Logging filters: *//p')
	[ -n "$outputs" ] || fail "cannot read libvirtd's log outputs through $admin"
	rm -f "$root$fifo"
	mkfifo "$root$fifo"
	exec {rd}<>"$root$fifo" # a reader that reads nothing
	"$VIRTSCOPE" offcpu -p "$LAB_PID" --stall 500 -d 30 -o "$out" 2>"$out.err" &
	OFFCPU_PID=$!
	for _ in $(seq 300); do grep -q 'watching off-CPU' "$out.err" 2>/dev/null && break; sleep 0.05; done
	virsh -k 1 -c "$QEMU_URI" event --all --timeout 7 >"$out.virsh" 2>&1 &
	virsh_pid=$!
	sleep 1.5
	virt-admin -c "$admin" daemon-log-filters "1:rpc" >/dev/null
	virt-admin -c "$admin" daemon-log-outputs "1:file:$fifo" >/dev/null
	# fill the pipe to the byte: the next line logged blocks its writer
	dd if=/dev/zero of="$root$fifo" bs=4096 count=64 oflag=nonblock 2>/dev/null || true
	dd if=/dev/zero of="$root$fifo" bs=1 count=4096 oflag=nonblock 2>/dev/null || true
	sleep 3
	cat <&"$rd" >/dev/null &
	drain=$!
	virt-admin -c "$admin" daemon-log-outputs "$outputs" >/dev/null
	virt-admin -c "$admin" daemon-log-filters "${filters:-}" >/dev/null
	kill "$drain" 2>/dev/null || true
	wait "$drain" 2>/dev/null || true
	exec {rd}<&-
	rm -f "$root$fifo"
	wait "$virsh_pid" || true
	kill -INT "$OFFCPU_PID"
	wait "$OFFCPU_PID" || fail "offcpu failed: $(cat "$out.err")"
	stall=$(sed -n 's/^  stall \([0-9.]*\) s at .*/\1/p' "$out" | sort -n | tail -1)
	awk -v s="${stall:-0}" 'BEGIN { exit !(s >= 2) }' ||
		fail "no stall of 2 s or more: $(sed -n '/^Event loop/,$p' "$out")"
	late=$(sed -n 's/^      late keepalive: PING from client 0x[0-9a-f]* read up to \([0-9.]*\) s late$/\1/p' "$out" |
		sort -n | tail -1)
	awk -v l="${late:-0}" -v s="$stall" 'BEGIN { exit !(l >= 1 && l <= s + 0.1) }' ||
		fail "no PING late by 1 s or more (virsh: $(tail -2 "$out.virsh")): $(sed -n '/^Stalls/,$p' "$out")"
	grep -qE '^  stall [0-9.]+ s at .*: blocked [0-9.]+ s in (io|lock)' "$out" ||
		fail "the stall is not blocked in the log's write or lock: $(sed -n '/^Stalls/,$p' "$out")"
}
