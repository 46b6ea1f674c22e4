# virtscope profile: on-CPU folded stacks of the real lab libvirtd, and of
# fixtures with a known behaviour; bad inputs give one-line errors.

# The lab's libvirtd under start-destroy: the RPC workers are sampled, and
# user frames are named from libvirt.so.0's exported symbols.
test_profile_libvirtd_start_destroy() {
	local out=$TMP/sd.folded err=$TMP/sd.err lib syms named workers
	load start-destroy --domains 2 -d 14 >"$TMP/sd.load" 2>&1 &
	local loadpid=$!
	sleep 2
	"$VIRTSCOPE" profile -p "$LAB_PID" -F 499 -d 10 -o "$out" 2>"$err"
	wait "$loadpid" || fail "load failed: $(tail -3 "$TMP/sd.load")"
	grep -qE '^virtscope: [0-9]+ samples' "$err" || fail "no sample count on stderr: $(cat "$err")"
	workers=$(folded_weight "$out" '^rpc-libvirtd;')
	[ "$workers" -gt 0 ] || fail "no samples from rpc-libvirtd threads"
	lib=$(readlink -f /usr/lib/x86_64-linux-gnu/libvirt.so.0)
	syms=$TMP/libvirt.syms
	nm -D --defined-only "$lib" | awk '$2 ~ /[TtWw]/ {print $3}' | sed 's/@.*//' | sort -u >"$syms"
	named=$(tr ';' '\n' <"$out" | sed 's/ [0-9]*$//' | sort -u | comm -12 - "$syms" | wc -l)
	[ "$named" -ge 3 ] || fail "only $named distinct libvirt.so.0 functions named"
	echo "rpc-libvirtd samples: $workers, libvirt.so.0 functions named: $named" >&2
}

# Threads created after the profile started are sampled too.
test_profile_covers_late_threads() {
	local out=$TMP/late.folded
	"$BUILD/fixtures/late_threads" 0.5 1.5 &
	local pid=$!
	"$VIRTSCOPE" profile -p "$pid" -F 999 -d 3 -o "$out" 2>"$TMP/late.err" || true
	wait "$pid"
	# ~1.5 s of one busy thread at 999 Hz: about 1500 samples.
	local n
	n=$(folded_weight "$out" '^late-worker;')
	[ "$n" -gt 1000 ] || fail "late-worker has $n samples, expected about 1500"
}

# SIGTERM and SIGINT stop the profile early and still write the output.
test_profile_stops_on_signals() {
	local sig out
	"$BUILD/fixtures/late_threads" 0 30 &
	local pid=$!
	for sig in TERM INT; do
		out=$TMP/sig-$sig.folded
		"$VIRTSCOPE" profile -p "$pid" -F 999 -d 60 -o "$out" 2>"$TMP/sig.err" &
		local vs=$!
		sleep 1.5
		kill -"$sig" "$vs"
		local t0=$SECONDS
		wait "$vs" || fail "exit status $? after SIG$sig"
		[ $((SECONDS - t0)) -le 2 ] || fail "took $((SECONDS - t0)) s to stop after SIG$sig"
		[ "$(folded_weight "$out" '^late-worker;')" -gt 200 ] || fail "no output after SIG$sig"
	done
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}

test_profile_missing_pid() {
	local rc=0
	"$VIRTSCOPE" profile -p 999999999 -d 1 >/dev/null 2>"$TMP/err" || rc=$?
	[ "$rc" -eq 2 ] || fail "exit status $rc, expected 2"
	expect_one_line_error "$TMP/err"
	grep -q "no process with pid 999999999" "$TMP/err"
}

test_profile_unknown_daemon() {
	local rc=0
	"$VIRTSCOPE" profile --daemon no-such-daemon -d 1 >/dev/null 2>"$TMP/err" || rc=$?
	[ "$rc" -eq 2 ] || fail "exit status $rc, expected 2"
	expect_one_line_error "$TMP/err"
}

# A target that exits mid-profile: a one-line error, a non-zero exit, and
# the samples taken before it exited are still written.
test_profile_target_exits() {
	local rc=0 out=$TMP/exit.folded
	"$BUILD/fixtures/late_threads" 0 1 &
	local pid=$!
	"$VIRTSCOPE" profile -p "$pid" -F 999 -d 10 -o "$out" 2>"$TMP/err" || rc=$?
	wait "$pid" || true
	[ "$rc" -ne 0 ] || fail "exit status 0 although the target exited"
	grep -q "process $pid exited during the profile" "$TMP/err" || fail "$(cat "$TMP/err")"
	# the start, the error, and the counts
	[ "$(grep -c '^virtscope: ' "$TMP/err")" -eq 3 ] || fail "$(cat "$TMP/err")"
	[ "$(folded_weight "$out" '^late-worker;')" -gt 500 ] || fail "samples lost on exit"
}

test_profile_not_root() {
	local rc=0
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$VIRTSCOPE" profile -p "$LAB_PID" -d 1 >/dev/null 2>"$TMP/err" || rc=$?
	[ "$rc" -ne 0 ] || fail "a non-root run succeeded"
	expect_one_line_error "$TMP/err"
	grep -q "needs CAP_" "$TMP/err" || fail "$(cat "$TMP/err")"
}

# The output file is created 0600 and never written through a symlink.
test_profile_output_file_safety() {
	local out=$TMP/safe.folded rc=0
	"$BUILD/fixtures/late_threads" 0 2 &
	local pid=$!
	"$VIRTSCOPE" profile -p "$pid" -d 0.5 -o "$out" 2>/dev/null
	[ "$(stat -c %a "$out")" = 600 ] || fail "mode $(stat -c %a "$out")"
	ln -s "$TMP/victim" "$TMP/link"
	"$VIRTSCOPE" profile -p "$pid" -d 0.5 -o "$TMP/link" 2>"$TMP/err" || rc=$?
	kill "$pid"; wait "$pid" 2>/dev/null || true
	[ "$rc" -ne 0 ] && [ ! -e "$TMP/victim" ] || fail "wrote through a symlink"
	expect_one_line_error "$TMP/err"
}

# The sanitized build profiles the real daemon without a single report.
test_profile_asan_clean() {
	load rpc -d 6 >/dev/null 2>&1 &
	local loadpid=$!
	sleep 1
	"$VIRTSCOPE_ASAN" profile -p "$LAB_PID" -F 999 -d 4 -o "$TMP/asan.folded" 2>"$TMP/asan.err"
	wait "$loadpid" || true
	! grep -qE 'Sanitizer|runtime error' "$TMP/asan.err" || fail "$(head -30 "$TMP/asan.err")"
	[ "$(folded_weight "$TMP/asan.folded" '.')" -gt 0 ] || fail "no samples"
}
