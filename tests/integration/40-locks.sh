# virtscope locks: per-lock figures and wait chains, on the reference daemon
# (known truth) and on the real libvirtd under start-destroy (the field's
# case: the vm-vmN event thread waits for its domain's lock while a worker
# destroys the domain).

LIBVIRT_SO=$(readlink -f /usr/lib/x86_64-linux-gnu/libvirt.so.0)

# The chains of `virtscope locks` output FILE as "SECONDS WAITER_COMM TID LOCK...".
chains() {
	awk '/^Waits of at least/ { on = 1; next }
	     on && /^  [0-9.]+ (s|ms|us)  / {
		d = $1; if ($2 == "ms") d /= 1000; if ($2 == "us") d /= 1e6
		w = $3; t = w; sub(/\[.*/, "", w); sub(/.*\[/, "", t); sub(/\].*/, "", t)
		l = $0; sub(/.* waited for /, "", l)
		print d, w, t, l }' "$1"
}

# --all: every acquisition and hold, through the daemon's probes.
test_locks_reference_daemon_truth() {
	local out=$TMP/reflocks.txt
	source tests/integration/30-probes.sh
	start_ref
	"$VIRTSCOPE" locks -p "$REF_PID" --all -d 60 -o "$out" 2>"$out.err" &
	local vs=$!
	for _ in $(seq 300); do grep -q 'pid' "$out.err" 2>/dev/null && break; sleep 0.05; done
	"$REFCLIENT" -s "$REF_SOCK" -P --stagger 40 'hold obj3 300' 'wait obj3' >/dev/null
	sleep 0.3
	kill -INT "$vs"
	wait "$vs" || fail "locks failed: $(cat "$out.err")"
	stop_ref
	local row
	row=$(grep -E '^refObject obj3 ' "$out") || fail "no obj3 row: $(head -5 "$out")"
	# ACQUIRED CONTENDED WAIT TOTAL WAIT MAX HOLD TOTAL HOLD MAX, "N unit" each
	echo "$row" | awk '{ exit !($3 >= 2 && $4 >= 1) }' || fail "counts: $row"
	local hold_max
	hold_max=$(echo "$row" | awk '{ v = $11; u = $12; if (u == "s") v *= 1e6; else if (u == "ms") v *= 1e3; print v }')
	within "$hold_max" 300000
	chains "$out" | grep -q ' refObject obj3$' || fail "no chain for obj3: $(cat "$out")"
	grep -A1 'waited for refObject obj3' "$out" | grep -q 'held by rpc-worker\[' || fail "holder"
	# where the holder took it (op_hold is inlined into ref_ops_run), not
	# where it let go: the release probe asks for no stack
	grep -A2 'waited for refObject obj3' "$out" |
		grep -q 'took it at: ref_object_lock <- ref_ops_run <- pool_worker' ||
		fail "no acquisition stack: $(grep -A3 'waited for refObject obj3' "$out")"
}

# The default, contended waits only (futex), on the same daemon: the waiter,
# its wait, and the holder read from the mutex itself.
test_locks_reference_daemon_contention() {
	local out=$TMP/refcont.txt
	source tests/integration/30-probes.sh
	start_ref
	# names come from the uprobe profile's fetches, evaluated over the
	# mutex's address (struct ref_object starts with its mutex)
	"$VIRTSCOPE" locks -p "$REF_PID" --profile refdaemon -d 60 -o "$out" 2>"$out.err" &
	local vs=$!
	for _ in $(seq 300); do grep -q 'pid' "$out.err" 2>/dev/null && break; sleep 0.05; done
	"$REFCLIENT" -s "$REF_SOCK" -P --stagger 40 'hold obj3 300' 'wait obj3' >/dev/null
	sleep 0.3
	kill -INT "$vs"
	wait "$vs" || fail "locks failed: $(cat "$out.err")"
	stop_ref
	# the waiter came 40 ms into the 300 ms hold
	chains "$out" | awk '$4 " " $5 == "refObject obj3" && $1 > 0.2 && $1 < 0.3' | grep -q . ||
		fail "no wait of 200-300 ms for obj3: $(chains "$out")"
	grep -A1 'waited for refObject obj3' "$out" | grep -q 'held by rpc-worker\[' || fail "holder: $(cat "$out")"
}

# Nested chains: a worker waits for obj2, whose holder is itself waiting for
# obj3, held by a third worker asleep; the chain follows both links.
test_locks_nested_chain() {
	local out=$TMP/nested.txt
	source tests/integration/30-probes.sh
	start_ref
	"$VIRTSCOPE" locks -p "$REF_PID" --profile refdaemon -d 60 -o "$out" 2>"$out.err" &
	local vs=$!
	for _ in $(seq 300); do grep -q 'pid' "$out.err" 2>/dev/null && break; sleep 0.05; done
	# 150 ms apart: on two busy CPUs, 40 ms was once too little for obj3's
	# holder to reach its sleep before obj2's holder asked for obj3, and it
	# was rightly reported running.
	"$REFCLIENT" -s "$REF_SOCK" -P --stagger 150 'hold obj3 900' 'hold obj2 0 obj3' 'wait obj2' >/dev/null
	sleep 0.3
	kill -INT "$vs"
	wait "$vs" || fail "locks failed: $(cat "$out.err")"
	stop_ref
	# waiter -> obj2 -> holder blocked in a futex, waiting for obj3 -> holder asleep
	grep -A6 -E 'rpc-worker\[[0-9]+\]( \(worker\))? waited for refObject obj2$' "$out" >"$TMP/nested.chain" ||
		fail "no wait for obj2: $(head -30 "$out")"
	grep -q 'held by rpc-worker\[[0-9]*\] (worker), blocked in futex()' "$TMP/nested.chain" ||
		fail "obj2's holder not blocked in futex: $(cat "$TMP/nested.chain")"
	grep -q 'which was itself waiting for refObject obj3' "$TMP/nested.chain" || fail "no nested link: $(cat "$TMP/nested.chain")"
	# obj3's holder sleeps in the stop token's timed condition wait
	grep -qE '^ {10}held by rpc-worker\[[0-9]+\] \(worker\), blocked in futex\(\)' "$TMP/nested.chain" &&
		grep -qE "^ {10}holder's stack: .*pthread_cond_timedwait <- ref_stop_sleep" "$TMP/nested.chain" ||
		fail "obj3's holder not followed: $(cat "$TMP/nested.chain")"
}

# For each domain vmN: its lock waited for by vm-vmN for at least 1 s, held
# by a worker destroying it.
test_locks_libvirtd_destroy_chains() {
	local out=$TMP/lvlocks.txt n
	load start-destroy --domains 2 -d 22 >"$TMP/lvlocks.load" 2>&1 &
	local loadpid=$!
	sleep 2
	"$VIRTSCOPE" locks -p "$LAB_PID" -d 16 -n 1000 -o "$out" 2>"$out.err"
	wait "$loadpid" || fail "load: $(tail -3 "$TMP/lvlocks.load")"
	for n in 1 2; do
		awk -v d="vm-vm$n" '$2 == d && $1 >= 1 && $4 " " $5 == "virDomainObj vm'$n'"' <(chains "$out") | grep -q . ||
			fail "no wait of >= 1 s by vm-vm$n for its domain's lock: $(chains "$out" | head -5)"
		grep -A1 -E "vm-vm$n\[[0-9]+\]( \([a-z-]+\))? waited for virDomainObj vm$n" "$out" |
			grep -qE 'held by (rpc-libvirtd|prio-rpc-libvir)\[[0-9]+\] \((priority-)?worker\) in remoteDispatchDomainDestroyFlags' ||
			fail "vm$n's holder is not a worker destroying it: $(grep -A2 "vm-vm$n" "$out" | head -6)"
	done
	# The holder's job was read from its own memory (no job probes run by
	# default), and where it was blocked, its stack is the destroy's.
	grep -q 'blocked in [a-z_0-9]*()' "$out" || fail "no holder seen blocked: $(head -40 "$out")"
	grep -A1 -E 'held by .* in remoteDispatchDomainDestroyFlags, blocked in' "$out" |
		grep -E "holder's stack: " | grep -q 'virDomainDestroyFlags' ||
		fail "no holder's stack through virDomainDestroyFlags: $(grep -A2 'held by' "$out" | head -8)"
}

# A daemon no profile knows: its POSIX mutex and rwlock (every acquisition,
# through the C library, with --all), each held 200 ms while another thread
# asks for it, named by address and the function that first took them.
test_locks_any_daemon_posix() {
	local out=$TMP/posix.txt cont=$TMP/posix-cont.txt
	"$BUILD/fixtures/posix_locks" 200 >"$TMP/posix.out" &
	local pid=$!
	for _ in $(seq 100); do grep -q ready "$TMP/posix.out" && break; sleep 0.05; done
	"$VIRTSCOPE" locks -p "$pid" --all -d 3 -o "$out" 2>"$out.err" || fail "$(cat "$out.err")"
	"$VIRTSCOPE" locks -p "$pid" -d 3 -o "$cont" 2>"$cont.err" || fail "$(cat "$cont.err")"
	kill "$pid"
	grep -q "profile 'pthread'" "$out.err" || fail "no fallback to the pthread profile: $(cat "$out.err")"
	# two locks (the mutex and the rwlock), each first taken by holder()
	[ "$(grep -cE '^0x[0-9a-f]+ ' "$out")" -eq 2 ] || fail "locks: $(head -12 "$out")"
	[ "$(grep -c 'first taken at: holder' "$out")" -eq 2 ] || fail "call sites: $(head -12 "$out")"
	local w
	for w in waiter reader; do
		chains "$out" | awk -v w="$w" '$2 == w && $1 >= 0.19 && $1 <= 0.23' | grep -q . ||
			fail "no wait of 200 ms (+15 %) by $w: $(chains "$out" | head -5)"
	done
	grep -A1 -E '^  [0-9.]+ ms  reader\[' "$out" | grep -q 'held by holder\[' || fail "rwlock holder"
	# where the holder took them (the return from the lock call, in
	# holder()), not where it let go (which starts in pthread_*_unlock)
	grep -A2 -E '^  [0-9.]+ ms  waiter\[' "$out" | grep -q 'took it at: holder <- start_thread' ||
		fail "mutex taken at: $(grep -A3 -E '^  [0-9.]+ ms  waiter\[' "$out" | head -4)"
	grep -A2 -E '^  [0-9.]+ ms  reader\[' "$out" | grep -q 'took it at: holder <- start_thread' ||
		fail "rwlock taken at: $(grep -A3 -E '^  [0-9.]+ ms  reader\[' "$out" | head -4)"
	# contended mutex waits without probes: holder caught sleeping, with its stack
	chains "$cont" | awk '$2 == "waiter" && $1 >= 0.19 && $1 <= 0.23' | grep -q . ||
		fail "contention: $(chains "$cont" | head -3)"
	grep -A2 -E '^  [0-9.]+ ms  waiter\[' "$cont" | grep -q "held by holder\[[0-9]*\], blocked in clock_nanosleep()" ||
		fail "holder's call: $(head -20 "$cont")"
	grep -q "holder's stack: clock_nanosleep <- __nanosleep <- holder" "$cont" || fail "holder's stack: $(head -20 "$cont")"
}

# The same waits, measured independently by bpftrace on virMutexLock entry
# and return in the same run, agree within 5 %.
test_locks_agree_with_bpftrace() {
	local out=$TMP/bt-locks.txt bt=$TMP/bt.txt
	mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
	load start-destroy --domains 2 -d 26 >/dev/null 2>&1 &
	local loadpid=$!
	# In microseconds: bpftrace's %d prints 32 bits, and a wait past 2.1 s
	# in nanoseconds came out negative.
	bpftrace -e "
		uprobe:$LIBVIRT_SO:virMutexLock /pid == $LAB_PID && strncmp(comm, \"vm-\", 3) == 0/ { @s[tid] = nsecs; }
		uretprobe:$LIBVIRT_SO:virMutexLock /@s[tid]/ {
			\$d = nsecs - @s[tid]; delete(@s[tid]);
			if (\$d > 500000000) { printf(\"%d %d\\n\", tid, \$d / 1000); } }" >"$bt" 2>&1 &
	local btpid=$!
	sleep 4
	"$VIRTSCOPE" locks -p "$LAB_PID" -d 14 -n 1000 -o "$out" 2>/dev/null
	sleep 1
	kill -INT "$btpid"
	wait "$btpid" || true
	wait "$loadpid" || true
	# every long wait of a vm-* thread seen by virtscope is in bpftrace's list
	local matched=0 total=0 line d tid bd
	while read -r d _ tid _; do
		total=$((total + 1))
		bd=$(awk -v t="$tid" -v d="$d" '$1 == t { v = $2 / 1e6; r = (v - d) / d; if (r < 0) r = -r; if (r <= 0.05) { print v; exit } }' "$bt")
		[ -n "$bd" ] && matched=$((matched + 1))
	done < <(chains "$out" | awk '$2 ~ /^vm-/ && $1 >= 1')
	echo "vm-* waits >= 1 s: $total in virtscope, $matched within 5 % of bpftrace's" >&2
	[ "$total" -ge 2 ] || fail "only $total long waits seen: $(head -5 "$bt")"
	[ "$matched" -eq "$total" ] || fail "$matched of $total waits agree with bpftrace: $(cat "$bt" | head)"
}

test_locks_folded_by_wait() {
	local out=$TMP/lockfold.txt
	load start-destroy --domains 1 -d 12 >/dev/null 2>&1 &
	local loadpid=$!
	sleep 1
	"$VIRTSCOPE" locks -p "$LAB_PID" -d 9 -f -o "$out" 2>/dev/null
	wait "$loadpid" || true
	# vm-vm1 waits >= 1 s: weighted in microseconds
	[ "$(folded_weight "$out" '^vm-vm1;')" -ge 1000000 ] || fail "$(head -3 "$out")"
}

test_locks_bad_arguments() {
	local rc=0
	"$VIRTSCOPE" locks -p "$LAB_PID" --sort nope 2>"$TMP/err" || rc=$?
	[ "$rc" -eq 2 ] && expect_one_line_error "$TMP/err"
	rc=0
	"$VIRTSCOPE" locks -p "$LAB_PID" --hold 2>"$TMP/err" || rc=$?
	[ "$rc" -eq 2 ] && expect_one_line_error "$TMP/err"
}
