# Bad input, table-driven, for every subcommand that observes a process: a
# one-line error on stderr and exit status 2, before anything is attached.

# A zombie: a child whose parent (sleep, after exec) never reaps it.
make_zombie() {
	bash -c 'sleep 0.05 & exec sleep 30' &
	ZOMBIE_PARENT=$!
	for _ in $(seq 100); do
		ZOMBIE=$(ps -o pid=,stat= --ppid "$ZOMBIE_PARENT" | awk '$2 ~ /^Z/ { print $1 }')
		[ -n "$ZOMBIE" ] && return 0
		sleep 0.05
	done
	fail "no zombie appeared"
}

test_bad_input_every_subcommand() {
	local cmd args rc case_no=0
	make_zombie
	local -a cases=(
		"-p 2"                              # a kernel thread
		"-p 999999999"                      # no such process
		"-p $ZOMBIE"                        # a zombie
		"-p 0"
		"-p -5"
		"-p abc"
		"--daemon no-such-daemon-here"
		"-p $LAB_PID -d -5"
		"-p $LAB_PID -d 0"
		"-p $LAB_PID -d 1e12"
		"-p $LAB_PID -d nan"
		"-p $LAB_PID --no-such-option"
		"-p $LAB_PID -p $LAB_PID --daemon libvirtd"
		""                                  # no target at all
	)
	for cmd in profile trace locks ops offcpu forks "top -b -n 1" "record -o $TMP/bad.vsr"; do
		for args in "${cases[@]}"; do
			# top without a target finds the one daemon running, by design
			[ -z "$args" ] && [[ $cmd == top* ]] && continue
			case_no=$((case_no + 1))
			rc=0
			# shellcheck disable=SC2086
			timeout 20 "$VIRTSCOPE" $cmd $args >/dev/null 2>"$TMP/bad.err" || rc=$?
			[ "$rc" -eq 2 ] || fail "'$cmd $args': exit $rc, not 2: $(cat "$TMP/bad.err")"
			expect_one_line_error "$TMP/bad.err" || fail "'$cmd $args': $(cat "$TMP/bad.err")"
			[ ! -e "$TMP/bad.vsr" ] || fail "'$cmd $args' left a recording behind"
		done
	done
	# frequencies only profile samples at
	for args in "-F 0" "-F 1000000000" "-F -1" "-F x"; do
		rc=0
		# shellcheck disable=SC2086
		"$VIRTSCOPE" profile -p "$LAB_PID" $args -d 1 >/dev/null 2>"$TMP/bad.err" || rc=$?
		[ "$rc" -eq 2 ] && expect_one_line_error "$TMP/bad.err" ||
			fail "'profile $args': exit $rc: $(cat "$TMP/bad.err")"
	done
	kill "$ZOMBIE_PARENT" 2>/dev/null || true
	echo "$case_no cases" >&2
}

# Not a daemon these commands can say anything about: a plain sleep has no
# profile to trace and makes no call ops could time (the others work on any
# process, as the "any daemon" analyses must).
test_bad_input_not_a_daemon() {
	local cmd rc
	sleep 60 &
	local pid=$!
	for cmd in trace ops; do
		rc=0
		"$VIRTSCOPE" $cmd -p "$pid" -d 1 >/dev/null 2>"$TMP/bad.err" || rc=$?
		[ "$rc" -eq 2 ] && expect_one_line_error "$TMP/bad.err" ||
			fail "'$cmd' on sleep: exit $rc: $(cat "$TMP/bad.err")"
		grep -q "sleep" "$TMP/bad.err" || fail "'$cmd' does not name the process: $(cat "$TMP/bad.err")"
	done
	kill "$pid"
}

# A process that exits while virtscope attaches to it: the reference daemon
# exits the moment its first probe's semaphore goes up, which is in the
# middle of the attach. Every command that attaches probes refuses the run
# (what it would report covers part of nothing), in one line, with status 2,
# and leaves nothing attached.
test_bad_input_exits_during_attach() {
	local cmd rc sock out pid before
	before=$(bpftool -j link list | python3 -c "import json, sys; print(len(json.load(sys.stdin)))")
	for cmd in trace locks "locks --all" ops offcpu forks "top -b -n 2" "record -o $TMP/attach.vsr"; do
		sock=$TMP/exiting.$RANDOM.sock
		"$BUILD/refdaemon" --socket "$sock" --no-dbus --exit-when-traced >"$sock.out" 2>&1 &
		for _ in $(seq 100); do grep -q '^ready' "$sock.out" 2>/dev/null && break; sleep 0.05; done
		pid=$(sed -n 's/^ready pid=\([0-9]*\).*/\1/p' "$sock.out")
		[ -n "$pid" ] || fail "refdaemon did not start: $(cat "$sock.out")"
		rc=0
		# shellcheck disable=SC2086
		timeout 20 "$VIRTSCOPE" $cmd -p "$pid" -d 5 >/dev/null 2>"$TMP/bad.err" || rc=$?
		wait "$pid" 2>/dev/null || true
		[ "$rc" -eq 2 ] && expect_one_line_error "$TMP/bad.err" ||
			fail "'$cmd' on a process exiting during attach: exit $rc: $(cat "$TMP/bad.err")"
		grep -q "exited while virtscope attached" "$TMP/bad.err" ||
			fail "'$cmd': $(cat "$TMP/bad.err")"
		[ ! -e "$TMP/attach.vsr" ] || fail "'$cmd' left a recording behind"
	done
	[ "$(bpftool -j link list | python3 -c "import json, sys; print(len(json.load(sys.stdin)))")" -eq "$before" ] || fail "links left attached"
}
