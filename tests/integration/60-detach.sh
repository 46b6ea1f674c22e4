# Nothing is left behind, however virtscope ends: after SIGKILL mid-run of
# each subcommand, no BPF link or program it held stays loaded, no new one or
# tracefs uprobe is left in the system, and the USDT semaphores it raised in
# the target are back to what they were.

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

# The BPF programs and links of the whole system, and the uprobes defined
# through tracefs (where libbpf's legacy attach would leave them behind).
system_objects() {
	{
		bpftool prog list -j | python3 -c 'import json, sys; [print("prog", p["id"]) for p in json.load(sys.stdin)]'
		bpftool link list -j | python3 -c 'import json, sys; [print("link", l["id"]) for l in json.load(sys.stdin)]'
		sed "s/^/uprobe /" /sys/kernel/tracing/uprobe_events 2>/dev/null || true
	} | sort -u
}

# Every subcommand that attaches, killed with SIGKILL while attached and
# busy: what it held is gone, nothing new is left in the system, and the
# target's semaphores are back where they were.
test_detach_after_sigkill() {
	local cmd sem0 sem during left ready
	mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
	start_ref
	sem0=$(semaphores_sum "$REF_PID")
	for cmd in "profile -F 999" "trace" "locks" "locks --all" "ops" "offcpu" "forks" \
		"top -b -d 0.2" "record"; do
		system_objects >"$TMP/before.txt"
		local args="-d 60 -o /dev/null" vs
		case $cmd in
		top*) args="-n 600" ;; # top's -d is its refresh
		record) args="-d 60 -o $TMP/detach-kill.vsr" && rm -f "$TMP/detach-kill.vsr" ;;
		esac
		# shellcheck disable=SC2086
		"$VIRTSCOPE" $cmd -p "$REF_PID" $args >"$TMP/kill.out" 2>"$TMP/kill.err" &
		vs=$!
		# attached once it has said so (top: once it has drawn a frame)
		ready='profiling|tracing|watching|counting|timing|recording pid'
		for _ in $(seq 300); do
			grep -qE "$ready" "$TMP/kill.err" && break
			[[ $cmd == top* ]] && [ "$(grep -c " pid $REF_PID  up " "$TMP/kill.out")" -ge 2 ] && break
			sleep 0.05
		done
		"$REFCLIENT" -s "$REF_SOCK" 'hold obj1 20' >/dev/null
		held_objects "$vs" >"$TMP/held.txt"
		[ -s "$TMP/held.txt" ] || fail "'$cmd' holds no BPF object: $(cat "$TMP/kill.err")"
		during=$(semaphores_sum "$REF_PID")
		kill -KILL "$vs"
		wait "$vs" 2>/dev/null || true
		sleep 0.5 # the kernel releases the objects with the last fd
		left=$(still_loaded "$TMP/held.txt")
		[ -z "$left" ] || fail "after SIGKILL of '$cmd', still loaded: $left"
		system_objects >"$TMP/after.txt"
		left=$(comm -13 "$TMP/before.txt" "$TMP/after.txt")
		[ -z "$left" ] || fail "after SIGKILL of '$cmd', new in the system: $left"
		sem=$(semaphores_sum "$REF_PID")
		echo "$cmd: $(wc -l <"$TMP/held.txt") objects held, semaphores $sem0 -> $during -> $sem" >&2
		[ "$sem" -eq "$sem0" ] || fail "semaphores at $sem after SIGKILL of '$cmd' (were $sem0)"
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

# top and record re-attach to a restarted daemon, so they keep CAP_BPF,
# CAP_PERFMON and CAP_SYS_ADMIN (uprobes), and only those of the capabilities
# attaching took: no CAP_DAC_OVERRIDE, CAP_SETUID, CAP_NET_ADMIN or
# CAP_SYS_RESOURCE, and no way to regain any.
test_privileges_of_front_ends_that_reattach() {
	local vs eff i
	start_ref
	for i in 1 2; do
		if [ "$i" = 1 ]; then
			"$VIRTSCOPE" top -p "$REF_PID" -b -d 1 -n 60 >"$TMP/priv.out" 2>"$TMP/priv.err" &
		else
			rm -f "$TMP/priv.vsr"
			"$VIRTSCOPE" record -p "$REF_PID" -d 60 -o "$TMP/priv.vsr" 2>"$TMP/priv.err" &
		fi
		vs=$!
		for _ in $(seq 300); do
			{ [ -s "$TMP/priv.out" ] || grep -q 'recording pid' "$TMP/priv.err"; } && break
			sleep 0.05
		done
		sleep 0.3
		eff=$(awk '/^CapEff:/ { print $2 }' /proc/"$vs"/status)
		grep -q '^NoNewPrivs:.*1' /proc/"$vs"/status || fail "front end $i may regain privileges"
		python3 -c "import sys; e = int('$eff', 16); sys.exit(not all(e >> b & 1 for b in (21, 38, 39)) or any(e >> b & 1 for b in (1, 7, 12, 24)))" ||
			fail "front end $i: CapEff $eff (expected BPF, PERFMON and SYS_ADMIN; not DAC_OVERRIDE, SETUID, NET_ADMIN, SYS_RESOURCE)"
		kill -INT "$vs"
		wait "$vs" || fail "front end $i failed: $(cat "$TMP/priv.err")"
		[ "$i" = 1 ] && rm -f "$TMP/priv.out"
	done
	stop_ref
}
