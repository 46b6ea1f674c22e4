# The daemon restarts under record and top (scripts/lab restart-libvirtd, as
# a service manager would): each says so within a second of the exit, finds
# the new pid (not the host's own libvirtd, which runs the very same command
# line in another mount namespace) and attaches to it again. The recording
# marks the gap, and holds every RPC of both processes.

rs_lab_up() {
	export VIRTSCOPE_LAB_DIR=$VIRTSCOPE_LAB_DIR-restart
	trap rs_lab_down EXIT
	scripts/lab stop >/dev/null 2>&1 || true
	scripts/lab start >"$TMP/rs-start.out" 2>&1 || fail "lab start: $(cat "$TMP/rs-start.out")"
	eval "$(scripts/lab env)"
}

rs_lab_down() {
	scripts/lab stop >/dev/null 2>&1 || true
}

# The count of one op in a load summary ("get-info@test 123 ...").
op_count() {
	awk -v op="$2" '$1 == op { print $2 }' "$1"
}

# Seconds (with ms) since the epoch.
now_s() { date +%s.%3N; }

test_restart_under_record_and_top() {
	local old new rec=$TMP/restart.vsr rep=$TMP/restart.report t_gone t_said n1 n2 got
	rs_lab_up
	old=$VIRTSCOPE_LAB_PID
	./virtscope record -p "$old" -o "$rec" -d 60 2>"$TMP/rs-rec.err" &
	local recpid=$!
	./virtscope top -p "$old" -b -d 0.5 -n 120 >"$TMP/rs-top.out" 2>"$TMP/rs-top.err" &
	local toppid=$!
	for _ in $(seq 300); do
		grep -q 'recording pid' "$TMP/rs-rec.err" && grep -q " pid $old  up " "$TMP/rs-top.out" && break
		sleep 0.05
	done
	load rpc -d 3 >"$TMP/rs-load1.out" || fail "load: $(tail -3 "$TMP/rs-load1.out")"

	scripts/lab restart-libvirtd >"$TMP/rs-restart.out" 2>&1 &
	local restarter=$!
	while [ -d "/proc/$old" ] && ! grep -q '^Z' <(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$old/stat" 2>/dev/null); do
		sleep 0.01
	done
	t_gone=$(now_s)
	for _ in $(seq 300); do grep -q "pid $old exited" "$TMP/rs-rec.err" && break; sleep 0.01; done
	t_said=$(now_s)
	echo "libvirtd $old gone at $t_gone, record said so at $t_said" >&2
	awk -v a="$t_gone" -v b="$t_said" 'BEGIN { exit !(b - a < 1) }' ||
		fail "record said the daemon exited $(awk -v a="$t_gone" -v b="$t_said" 'BEGIN { print b - a }') s late: $(cat "$TMP/rs-rec.err")"
	wait "$restarter" || fail "restart-libvirtd: $(cat "$TMP/rs-restart.out")"
	new=$(sed -n 's/^pid=//p' "$TMP/rs-restart.out")
	[ -n "$new" ] && [ "$new" != "$old" ] || fail "no new pid: $(cat "$TMP/rs-restart.out")"
	for _ in $(seq 200); do grep -q "restarted as pid $new" "$TMP/rs-rec.err" && break; sleep 0.05; done
	grep -q "libvirtd restarted as pid $new; recording it again" "$TMP/rs-rec.err" ||
		fail "record did not re-attach to $new: $(cat "$TMP/rs-rec.err")"
	for _ in $(seq 200); do grep -q "re-attached to pid $new (was $old)" "$TMP/rs-top.out" && break; sleep 0.05; done
	grep -q "re-attached to pid $new (was $old)" "$TMP/rs-top.out" ||
		fail "top did not re-attach to $new: $(grep -m3 -E 'exited|restarted' "$TMP/rs-top.out")"
	grep -q "pid $old exited" "$TMP/rs-top.out" ||
		fail "top never said pid $old exited: $(grep -m1 -B30 "re-attached" "$TMP/rs-top.out" | grep -vE '^ +[0-9]+ ')"
	# top's frames after it name the new pid
	for _ in $(seq 40); do grep -q "^libvirtd pid $new  up " "$TMP/rs-top.out" && break; sleep 0.05; done
	grep -q "^libvirtd pid $new  up " "$TMP/rs-top.out" || fail "no top frame of pid $new"

	load rpc -d 3 >"$TMP/rs-load2.out" || fail "load: $(tail -3 "$TMP/rs-load2.out")"
	sleep 1.5 # the last chunk and top's next frame
	kill -INT "$recpid" "$toppid"
	wait "$recpid" || fail "record failed: $(cat "$TMP/rs-rec.err")"
	wait "$toppid" || fail "top failed: $(cat "$TMP/rs-top.err")"

	./virtscope report "$rec" >"$rep" 2>"$TMP/rs-rep.err" || fail "report: $(cat "$TMP/rs-rep.err")"
	grep -E "^  libvirtd pid $old exited at \+[0-9.]+ s; pid $new attached [0-9.]+ s later$" "$rep" >&2 ||
		fail "the report does not mark the gap: $(head -5 "$rep")"
	# every RPC of both processes: the load's own count of one procedure
	n1=$(( $(op_count "$TMP/rs-load1.out" get-info@qemu) + $(op_count "$TMP/rs-load1.out" get-info@test) ))
	n2=$(( $(op_count "$TMP/rs-load2.out" get-info@qemu) + $(op_count "$TMP/rs-load2.out" get-info@test) ))
	got=$(awk '$1 == "DOMAIN_GET_INFO" { print $2; exit }' "$rep")
	echo "DOMAIN_GET_INFO: $got in the report, $n1 + $n2 by the load" >&2
	[ "$n1" -gt 0 ] && [ "$n2" -gt 0 ] || fail "the load made no get-info calls"
	[ "$got" = $((n1 + n2)) ] || fail "the report counts $got DOMAIN_GET_INFO, the load made $n1 + $n2"
	./virtscope export --format perfetto -o "$TMP/restart.json" "$rec" || fail "export failed"
	grep -q "\"target restarted as pid $new (not seen)\"" "$TMP/restart.json" ||
		fail "the perfetto export has no gap slice"
}
