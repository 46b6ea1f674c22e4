# Nothing is left behind, however virtscope ends: after SIGKILL mid-run,
# no BPF link or program of its stays loaded, and the USDT semaphores it
# raised in the target are back to 0.

source tests/integration/30-probes.sh

bpf_objects() {
	echo "links=$(bpftool link list 2>/dev/null | grep -c '^[0-9]') progs=$(bpftool prog list 2>/dev/null | grep -c '^[0-9]')"
}

test_detach_after_sigkill() {
	local before cmd after sem
	start_ref
	before=$(bpf_objects)
	for cmd in "profile -F 999" "trace" "locks" "locks --all"; do
		# shellcheck disable=SC2086
		"$VIRTSCOPE" $cmd -p "$REF_PID" -d 60 -o /dev/null 2>"$TMP/kill.err" &
		local vs=$!
		# attached once it has said so (profile says "profiling")
		for _ in $(seq 300); do grep -qE 'profiling|tracing|watching|counting' "$TMP/kill.err" && break; sleep 0.05; done
		"$REFCLIENT" -s "$REF_SOCK" 'hold obj1 20' >/dev/null
		kill -KILL "$vs"
		wait "$vs" 2>/dev/null || true
		sleep 0.5 # the kernel releases the links with the last fd
		after=$(bpf_objects)
		[ "$after" = "$before" ] || fail "after SIGKILL of '$cmd': $after, before: $before"
		sem=$(semaphores_sum "$REF_PID")
		[ "$sem" -eq 0 ] || fail "semaphores at $sem after SIGKILL of '$cmd'"
	done
	stop_ref
}
