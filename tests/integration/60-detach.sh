# Nothing is left behind, however virtscope ends: after SIGKILL mid-run of
# each subcommand, no BPF link or program it held stays loaded, and the USDT
# semaphores it raised in the target are back to 0.

source tests/integration/30-probes.sh

# The BPF programs and links a process holds, as "prog ID" and "link ID"
# lines, from its file descriptors: other tools (and other virtscopes)
# may load and unload BPF objects meanwhile, so system-wide counts would not do.
held_objects() {
	cat /proc/"$1"/fdinfo/* 2>/dev/null | awk '$1 == "prog_id:" { print "prog", $2 } $1 == "link_id:" { print "link", $2 }' | sort -u
}

# The objects of the list that still exist.
still_loaded() {
	local kind id
	while read -r kind id; do
		bpftool "$kind" show id "$id" >/dev/null 2>&1 && echo "$kind $id"
	done <"$1"
	return 0
}

test_detach_after_sigkill() {
	local cmd sem left
	start_ref
	for cmd in "profile -F 999" "trace" "locks" "locks --all" "ops" "offcpu" "forks"; do
		# shellcheck disable=SC2086
		"$VIRTSCOPE" $cmd -p "$REF_PID" -d 60 -o /dev/null 2>"$TMP/kill.err" &
		local vs=$!
		# attached once it has said so
		for _ in $(seq 300); do grep -qE 'profiling|tracing|watching|counting|timing' "$TMP/kill.err" && break; sleep 0.05; done
		"$REFCLIENT" -s "$REF_SOCK" 'hold obj1 20' >/dev/null
		held_objects "$vs" >"$TMP/held.txt"
		[ -s "$TMP/held.txt" ] || fail "'$cmd' holds no BPF object: $(cat "$TMP/kill.err")"
		kill -KILL "$vs"
		wait "$vs" 2>/dev/null || true
		sleep 0.5 # the kernel releases the objects with the last fd
		left=$(still_loaded "$TMP/held.txt")
		[ -z "$left" ] || fail "after SIGKILL of '$cmd', still loaded: $left"
		sem=$(semaphores_sum "$REF_PID")
		[ "$sem" -eq 0 ] || fail "semaphores at $sem after SIGKILL of '$cmd'"
	done
	stop_ref
}

# Least privilege: once attached, each subcommand holds none of the
# capabilities that loading BPF and opening perf events took, and cannot
# regain them; what it reports still works (the refdaemon's waits).
test_privileges_dropped_after_attach() {
	local cmd vs eff
	start_ref
	for cmd in "locks" "ops" "offcpu" "forks" "trace" "profile -F 99"; do
		# shellcheck disable=SC2086
		"$VIRTSCOPE" $cmd -p "$REF_PID" -d 60 -o "$TMP/priv.out" 2>"$TMP/priv.err" &
		vs=$!
		for _ in $(seq 300); do grep -qE 'profiling|tracing|watching|counting|timing' "$TMP/priv.err" && break; sleep 0.05; done
		sleep 0.3
		eff=$(awk '/^CapEff:/ { print $2 }' /proc/"$vs"/status)
		grep -q '^NoNewPrivs:.*1' /proc/"$vs"/status || fail "'$cmd' may regain privileges"
		# CAP_SYS_ADMIN 21, CAP_PERFMON 38, CAP_BPF 39, CAP_NET_ADMIN 12, CAP_SYS_RESOURCE 24
		python3 -c "import sys; e = int('$eff', 16); sys.exit(any(e >> b & 1 for b in (12, 21, 24, 38, 39)))" ||
			fail "'$cmd' still holds capabilities it attached with: CapEff $eff"
		kill -INT "$vs"
		wait "$vs" || fail "'$cmd' failed after dropping privileges: $(cat "$TMP/priv.err")"
	done
	stop_ref
}
