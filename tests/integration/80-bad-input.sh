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
	for cmd in profile trace locks ops offcpu forks; do
		for args in "${cases[@]}"; do
			case_no=$((case_no + 1))
			rc=0
			# shellcheck disable=SC2086
			timeout 20 "$VIRTSCOPE" $cmd $args >/dev/null 2>"$TMP/bad.err" || rc=$?
			[ "$rc" -eq 2 ] || fail "'$cmd $args': exit $rc, not 2: $(cat "$TMP/bad.err")"
			expect_one_line_error "$TMP/bad.err" || fail "'$cmd $args': $(cat "$TMP/bad.err")"
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
