# virtscope forks: counts checked against an independent count in the same
# run (bpftrace on the task_newtask tracepoint and a uprobe, which share no
# code with virtscope), and, on the reference daemon, against the forks it
# was asked to make.

REFDAEMON=$BUILD/refdaemon
REFCLIENT=$BUILD/refclient
CAPS_FN=/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so:virQEMUCapsCacheLookup

start_ref() {
	REF_SOCK=$TMP/ref.$RANDOM.sock
	"$REFDAEMON" --socket "$REF_SOCK" "$@" >"$REF_SOCK.out" 2>&1 &
	for _ in $(seq 100); do grep -q '^ready' "$REF_SOCK.out" 2>/dev/null && break; sleep 0.05; done
	REF_PID=$(sed -n 's/^ready pid=\([0-9]*\).*/\1/p' "$REF_SOCK.out")
	[ -n "$REF_PID" ] || fail "refdaemon did not start: $(cat "$REF_SOCK.out")"
}

stop_ref() {
	kill "$REF_PID" 2>/dev/null || true
	wait "$REF_PID" 2>/dev/null || true
}

# start_forks OUT PID ARGS...: virtscope forks in the background, returning
# once it is attached; sets FORKS_PID.
start_forks() {
	local out=$1 pid=$2
	shift 2
	"$VIRTSCOPE" forks -p "$pid" -d 300 -o "$out" "$@" 2>"$out.err" &
	FORKS_PID=$!
	for _ in $(seq 300); do grep -q 'tracing forks' "$out.err" 2>/dev/null && break; sleep 0.05; done
	grep -q 'tracing forks' "$out.err" || fail "forks did not attach: $(cat "$out.err")"
}

stop_forks() {
	sleep 0.3
	kill -INT "$FORKS_PID"
	wait "$FORKS_PID" || fail "forks failed: $(cat "$1.err")"
}

# start_count OUT PID: bpftrace counts PID's new processes (clone without
# CLONE_THREAD) and its capability lookups; sets COUNT_PID.
start_count() {
	mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
	bpftrace -e "tracepoint:task:task_newtask /pid == $2 && !(args->clone_flags & 0x10000)/ { @forks = count(); }
		uprobe:$CAPS_FN /pid == $2/ { @caps = count(); }" >"$1" 2>&1 &
	COUNT_PID=$!
	for _ in $(seq 200); do grep -q '^Attaching' "$1" 2>/dev/null && break; sleep 0.05; done
	grep -q '^Attaching' "$1" || fail "bpftrace did not attach: $(cat "$1")"
	sleep 0.5
}

stop_count() {
	sleep 0.3
	kill -INT "$COUNT_PID"
	wait "$COUNT_PID" || true
}

# bpftrace's count NAME in OUT (a map never written is not printed: 0).
counted() {
	local v
	v=$(sed -n "s/^@$2: //p" "$1")
	echo "${v:-0}"
}

# op_field OUT OP KEY: KEY= on the detail line of operation OP.
op_field() {
	grep -A1 "^  $2: " "$1" | sed -n "s/.* $3=\([^ ]*\).*/\1/p"
}

total_forks() {
	sed -n 's/^pid [0-9]*: \([0-9]*\) forks .*/\1/p' "$1"
}

total_caps() {
	sed -n 's/.* exec.d, \([0-9]*\) caps lookups .*/\1/p' "$1"
}

ref_ground_truth() {
	local out=$1
	shift
	start_ref
	start_forks "$out" "$REF_PID" "$@"
	"$REFCLIENT" -s "$REF_SOCK" 'fork 3' 'caps 2' 'fork 1' 'sleep 5' >"$out.client"
	stop_forks "$out"
	stop_ref
	# 3 + 2 + 1 forks, each exec'ing the helper, each timed in the parent
	grep -q "^pid $REF_PID: 6 forks (6 timed, .*, 0 failed, 6 exec'd, 1 caps lookups .* 2 forks inside" "$out" ||
		fail "totals: $(head -1 "$out")"
	[ "$(op_field "$out" fork runs)" = 2 ] && [ "$(op_field "$out" fork forks)" = 4 ] ||
		fail "fork: $(grep -A1 '^  fork:' "$out")"
	[ "$(op_field "$out" caps runs)" = 1 ] && [ "$(op_field "$out" caps forks)" = 2 ] &&
		[ "$(op_field "$out" caps caps)" = 1 ] && [ "$(op_field "$out" caps caps_forks)" = 2 ] ||
		fail "caps: $(grep -A1 '^  caps:' "$out")"
	grep -q '^  fork: 2.00 forks/op, .* 0.00 caps lookups/op' "$out" || fail "fork line"
	grep -q '^  caps: 2.00 forks/op, .* 1.00 caps lookups/op' "$out" || fail "caps line"
	[ "$(op_field "$out" sleep forks)" = 0 ] || fail "sleep forked"
	grep -q "^  /bin/true: 6 execs" "$out" || fail "execs: $(grep -A2 "^Exec'd" "$out")"
	grep -q "^Children that never exec'd (0)" "$out" || fail "orphans"
	# the paths: the caps forks through the lookup, the others not
	grep -A1 '^  2 forks, .* by caps' "$out" | grep -q 'ref_fork_helper <- ref_run_helpers <- ref_caps_lookup <- ref_ops_run' ||
		fail "caps path: $(cat "$out")"
	grep -A1 '^  4 forks, .* by fork' "$out" | grep -q 'ref_fork_helper <- ref_run_helpers <- ref_ops_run' ||
		fail "fork path: $(cat "$out")"
}

test_forks_ground_truth_refdaemon_usdt() {
	ref_ground_truth "$TMP/forks-usdt.out"
}

test_forks_ground_truth_refdaemon_uprobes() {
	ref_ground_truth "$TMP/forks-uprobes.out" --profile refdaemon
}

# vfork() and posix_spawn(), as other daemons make processes: each one
# counted (against bpftrace's count of new processes in the same run), its
# exec seen, and timed in the parent, where a vfork's parent waits until its
# child execs.
test_forks_vfork_and_posix_spawn() {
	local out=$TMP/forks-vfork.out
	start_ref
	start_count "$out.bt" "$REF_PID"
	start_forks "$out" "$REF_PID"
	"$REFCLIENT" -s "$REF_SOCK" 'fork 3 vfork' 'fork 2 spawn' >"$out.client"
	stop_forks "$out"
	stop_count "$out.bt"
	stop_ref
	cat "$out" >&2
	grep -q "^pid $REF_PID: 5 forks (5 timed, .*, 0 failed, 5 exec'd" "$out" ||
		fail "totals: $(head -1 "$out")"
	[ "$(total_forks "$out")" = "$(counted "$out.bt" forks)" ] ||
		fail "forks: virtscope $(total_forks "$out"), bpftrace $(cat "$out.bt")"
	grep -q "^  /bin/true: 5 execs" "$out" || fail "execs: $(grep -A2 "^Exec'd" "$out")"
	# the paths from each call's entry (a posix_spawn child's own clone3
	# has no caller to unwind to)
	grep -A1 '^  3 forks, .* by fork' "$out" | grep -q '__vfork <- ref_fork_helper <- ref_run_helpers' ||
		fail "vfork path: $(cat "$out")"
	grep -A1 '^  2 forks, .* by fork' "$out" | grep -q 'posix_spawn <- ref_fork_helper <- ref_run_helpers' ||
		fail "posix_spawn path: $(cat "$out")"
}

# A raw clone system call, outside every libc wrapper (as Go makes processes):
# seen and attributed by default; with --syscalls also timed in the parent,
# through its system call, with the path to it, and counted as bpftrace counts
# it. virtscope mounts tracefs itself when it needs it.
test_forks_raw_clone_timed() {
	local out=$TMP/forks-clone.out lat
	start_ref
	start_forks "$out.default" "$REF_PID"
	"$REFCLIENT" -s "$REF_SOCK" 'fork 2 clone' >/dev/null
	stop_forks "$out.default"
	grep -q "^pid $REF_PID: 2 forks (0 timed, .*, 2 exec'd" "$out.default" ||
		fail "without --syscalls: $(head -1 "$out.default")"
	umount /sys/kernel/tracing 2>/dev/null || true
	start_forks "$out" "$REF_PID" --syscalls
	mountpoint -q /sys/kernel/tracing || fail "forks did not mount tracefs"
	start_count "$out.bt" "$REF_PID"
	"$REFCLIENT" -s "$REF_SOCK" 'fork 4 clone' >"$out.client"
	stop_count "$out.bt"
	stop_forks "$out"
	stop_ref
	cat "$out" >&2
	grep -q "^pid $REF_PID: 4 forks (4 timed, .*, 0 failed, 4 exec'd" "$out" ||
		fail "totals: $(head -1 "$out")"
	[ "$(total_forks "$out")" = "$(counted "$out.bt" forks)" ] ||
		fail "forks: virtscope $(total_forks "$out"), bpftrace $(cat "$out.bt")"
	grep -A1 '^  4 forks, .* by fork' "$out" | grep -q '^      syscall <- ref_fork_helper <- ref_run_helpers' ||
		fail "raw clone path: $(cat "$out")"
	# the parent's time in the four calls: more than nothing, less than the
	# whole request (which also waited for each child)
	lat=$(sed -n 's/.*latency_ns=\([0-9]*\).*/\1/p' "$out.client")
	grep -oE '^  4 forks, [0-9.]+ ms in fork' "$out" | awk -v lat="$lat" '{ ms = $3 } END { exit !(ms > 0 && ms * 1e6 < lat) }' ||
		fail "time in fork: $(grep '^  4 forks' "$out"), request $lat ns"
}

# A helper that cannot be exec'd: the child exits 127 without an exec.
test_forks_child_without_exec() {
	local out=$TMP/forks-noexec.out
	start_ref --helper /nonexistent/helper
	start_forks "$out" "$REF_PID"
	"$REFCLIENT" -s "$REF_SOCK" 'fork 2' >"$out.client" || true
	stop_forks "$out"
	stop_ref
	grep -q 'result=-10' "$out.client" || fail "client: $(cat "$out.client")"
	grep -q "^pid $REF_PID: 1 forks .* 0 exec'd" "$out" || fail "totals: $(head -1 "$out")"
	grep -q "^Children that never exec'd (1)" "$out" || fail "orphans: $(cat "$out")"
	grep -qE "^  pid [0-9]+ forked by rpc-worker\[[0-9]+\] in fork: exited 127 after" "$out" ||
		fail "orphan line: $(grep -A1 'never exec' "$out")"
}

test_forks_folded_weighted_by_fork_time() {
	local out=$TMP/forks.folded lines
	start_ref
	start_forks "$out" "$REF_PID" -f
	"$REFCLIENT" -s "$REF_SOCK" 'fork 4' >"$out.client"
	stop_forks "$out"
	stop_ref
	lines=$(wc -l <"$out")
	[ "$lines" -ge 1 ] || fail "no folded line"
	[ "$(grep -c 'ref_fork_helper;__fork \|ref_fork_helper;fork ' "$out")" -eq "$lines" ] ||
		fail "a line without the fork: $(cat "$out")"
	# the weights are the parent's time in fork(), in us: more than 0,
	# less than the client waited for the whole request
	awk -v lat="$(sed -n 's/.*latency_ns=\([0-9]*\).*/\1/p' "$out.client")" \
		'{ s += $NF } END { exit !(s > 0 && s * 1000 < lat) }' "$out" ||
		fail "weights: $(cat "$out") vs $(cat "$out.client")"
}

# define-undefine of N domains with DISKS SCSI disks each.
define_run() {
	local disks=$1 n=$2 out=$TMP/forks-define-$1.out
	start_count "$out.bt" "$LAB_PID"
	start_forks "$out" "$LAB_PID"
	load define-undefine --disks "$disks" -n $((2 * n)) -j 1 --same-threads 0 -d 120 >"$out.load" 2>&1
	stop_forks "$out"
	stop_count "$out.bt"
	cat "$out" >&2
	[ "$(op_field "$out" DOMAIN_DEFINE_XML runs)" = "$n" ] || fail "defines: $(grep -A1 DEFINE_XML "$out")"
	grep -qE '^  DOMAIN_DEFINE_XML: [0-9.]+ forks/op, [0-9.]+ ms/op in fork, [0-9.]+ caps lookups/op' "$out" ||
		fail "no define line"
	[ "$(total_forks "$out")" = "$(counted "$out.bt" forks)" ] ||
		fail "forks: virtscope $(total_forks "$out"), bpftrace $(cat "$out.bt")"
	[ "$(total_caps "$out")" = "$(counted "$out.bt" caps)" ] ||
		fail "caps lookups: virtscope $(total_caps "$out"), bpftrace $(cat "$out.bt")"
	[ "$(op_field "$out" DOMAIN_DEFINE_XML caps)" -ge "$n" ] || fail "fewer lookups than defines"
	# every fork has a path (or there was none to show)
	! grep -q '(no stack)' "$out" || fail "a fork without its path"
	DEFINE_CAPS_PER_OP=$(awk -v c="$(op_field "$out" DOMAIN_DEFINE_XML caps)" -v n="$n" 'BEGIN { print c / n }')
}

test_forks_define_16_and_20_disks() {
	local c16
	define_run 16 10
	c16=$DEFINE_CAPS_PER_OP
	define_run 20 10
	# libvirt 9.0 looks capabilities up per device: more disks, more lookups
	awk -v a="$c16" -v b="$DEFINE_CAPS_PER_OP" 'BEGIN { exit !(b > a) }' ||
		fail "caps lookups per define: 16 disks $c16, 20 disks $DEFINE_CAPS_PER_OP"
}

test_forks_start_launches_qemu_via_command_run() {
	local out=$TMP/forks-start.out forks
	start_count "$out.bt" "$LAB_PID"
	start_forks "$out" "$LAB_PID"
	load start-destroy -n 6 -d 120 >"$out.load" 2>&1
	stop_forks "$out"
	stop_count "$out.bt"
	cat "$out" >&2
	[ "$(op_field "$out" DOMAIN_CREATE runs)" = 3 ] || fail "starts: $(grep -A1 DOMAIN_CREATE "$out")"
	forks=$(op_field "$out" DOMAIN_CREATE forks)
	[ "$forks" -ge 3 ] || fail "DOMAIN_CREATE forked $forks times in 3 starts"
	[ "$(op_field "$out" DOMAIN_CREATE timed)" = "$forks" ] || fail "untimed forks"
	[ "$(total_forks "$out")" = "$(counted "$out.bt" forks)" ] ||
		fail "forks: virtscope $(total_forks "$out"), bpftrace $(cat "$out.bt")"
	grep -q "^  /usr/bin/qemu-system-x86_64: 3 execs, .* forked by DOMAIN_CREATE in virCommandRun" "$out" ||
		fail "qemu launch: $(grep -A3 "^Exec'd" "$out")"
	grep -A1 "by DOMAIN_CREATE in virCommandRun, exec'd /usr/bin/qemu-system-x86_64" "$out" |
		grep -q 'virFork <- virCommandRunAsync <- virCommandRun <- qemuProcessLaunch <- qemuProcessStart' ||
		fail "launch path: $(cat "$out")"
}
