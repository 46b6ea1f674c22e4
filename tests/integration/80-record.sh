# virtscope record, report, export and flame on recordings. The acceptance test runs a lab of
# its own with the fake systemd-machined answering TerminateMachine 3 s late, records it under
# start-destroy, and checks that the report names the slow destroy's D-Bus wait and the lock
# it held, timed as the client timed it; that the report of the recording is byte for byte
# the report the same run's live aggregation printed; that the exports parse back into their
# formats; and that a flight recorder catches the same destroy by itself.

REC_DELAY=3000 # ms on TerminateMachine

rec_lab_up() {
	export VIRTSCOPE_LAB_DIR=$VIRTSCOPE_LAB_DIR-record
	trap rec_lab_down EXIT
	scripts/lab stop >/dev/null 2>&1 || true
	scripts/lab start --machined-delay off >"$TMP/rlab-start.out" 2>&1 ||
		fail "lab start --machined-delay off: $(cat "$TMP/rlab-start.out")"
	eval "$(scripts/lab env)"
	scripts/lab fault machined "$REC_DELAY" TerminateMachine >/dev/null
}

rec_lab_down() {
	scripts/lab stop >/dev/null 2>&1 || true
}

# The lines of operation N's breakdown in a report.
breakdown() {
	awk -v n="$2" '$1 == n "." { on = 1; print; next } on && /^  [0-9]+\. / { exit }
		on && /^$/ { exit } on { print }' "$1"
}

# pprof-format from the npm registry, installed once into the build tree.
pprof_checker() {
	local dir=build/npm-pprof
	if [ ! -d "$dir/node_modules/pprof-format" ]; then
		mkdir -p "$dir"
		(cd "$dir" && npm install --no-save --silent pprof-format@2.3.2 >/dev/null 2>&1) ||
			fail "cannot install pprof-format from npm (network?)"
	fi
	echo "$dir/node_modules"
}

test_record_acceptance_slow_machined() {
	local rec=$TMP/acc.vsr live=$TMP/acc.live rep=$TMP/acc.report lat=$TMP/acc.lat
	local slow client mode nm pid t0 t1
	rec_lab_up
	./virtscope record -p "$VIRTSCOPE_LAB_PID" -o "$rec" -d 30 --live-report "$live" \
		2>"$TMP/acc.err" &
	pid=$!
	sleep 2
	load start-destroy -c "$VIRTSCOPE_LAB_QEMU_URI" -d 25 --latencies "$lat" \
		>"$TMP/acc-load.out" 2>&1 || fail "load: $(tail -3 "$TMP/acc-load.out")"
	wait "$pid" || fail "record failed: $(cat "$TMP/acc.err")"
	mode=$(stat -c %a "$rec")
	[ "$mode" = 600 ] || fail "recording has mode $mode"

	./virtscope report "$rec" >"$rep" 2>"$TMP/acc-rep.err" || fail "report: $(cat "$TMP/acc-rep.err")"
	cmp -s "$rep" "$live" || fail "the replay differs from the live report: $(diff "$live" "$rep" | head -20)"
	grep -q '^  1\. DOMAIN_DESTROY_FLAGS ' "$rep" ||
		fail "slowest operation is not a destroy: $(grep -m1 '^  1\. ' "$rep")"
	breakdown "$rep" 1 | grep -q 'D-Bus: TerminateMachine (org.freedesktop.machine1.Manager)' ||
		fail "no TerminateMachine in the breakdown: $(breakdown "$rep" 1)"
	breakdown "$rep" 1 | grep -qE '^       held virDomainObj vm[0-9]+ while ' ||
		fail "no held domain lock in the breakdown: $(breakdown "$rep" 1)"
	# The slowest destroy as the daemon timed it, against the slowest as the client did.
	slow=$(grep -m1 '^  1\. ' "$rep" | sed -E 's/.*: ([0-9.]+) ms .*/\1/')
	client=$(awk '$3 == "destroy" && $5 == "ok" { d = ($2 - $1) / 1e6; if (d > m) m = d } END { print m }' "$lat")
	awk -v a="$slow" -v b="$client" 'BEGIN { r = a / b; exit !(r > 0.95 && r < 1.05) }' ||
		fail "slowest destroy $slow ms in the report, $client ms for the client"
	echo "slowest destroy: report $slow ms, client $client ms" >&2

	# Exports parse back into their formats, and agree with each other.
	./virtscope export --format perfetto -o "$TMP/acc.json" "$rec"
	./virtscope export --format speedscope -o "$TMP/acc.speedscope" "$rec"
	./virtscope export --format pprof -o "$TMP/acc.pb.gz" "$rec"
	python3 tests/export/validate.py chrome "$TMP/acc.json" >"$TMP/v1" || fail "$(cat "$TMP/v1")"
	grep -qE 'dbus=[1-9]' "$TMP/v1" && grep -qE 'rpc=[1-9]' "$TMP/v1" &&
		grep -qE 'lock-wait=[1-9]' "$TMP/v1" && grep -qE '[1-9][0-9]* flows' "$TMP/v1" ||
		fail "chrome trace lacks spans or flows: $(cat "$TMP/v1")"
	# a destroying worker held vmN's lock while another thread waited a
	# second or more for it: a whole slice (never cut) on that worker's own
	# lock track; and the starts' forks of QEMU are slices on workers' tracks
	python3 - "$TMP/acc.json" <<'PY' || fail "chrome trace: no long lock hold or no fork"
import json, sys
evs = json.load(open(sys.argv[1]))["traceEvents"]
names = {e["tid"]: e["args"]["name"] for e in evs if e.get("ph") == "M" and e["name"] == "thread_name"}
holds = [e for e in evs if e.get("cat") == "lock-hold" and "virDomainObj vm" in e["name"]]
long = [e for e in holds if e["args"].get("holder_job") == "remoteDispatchDomainDestroyFlags"
        and e["dur"] >= 1e6 and not e["args"].get("cut_to_nest")
        and names.get(e["tid"], "").endswith(" (locks held)")
        and names[e["tid"]].startswith(("rpc-libvirtd", "prio-rpc"))]
assert long, "domain lock holds: %s" % sorted(
    [(e["name"], names.get(e["tid"]), e["dur"], e["args"]) for e in holds], key=lambda h: -h[2])[:3]
forks = [e for e in evs if e.get("cat") == "fork"]
assert forks and all(e["dur"] > 0 for e in forks), "%d fork slices" % len(forks)
assert any(names.get(e["tid"], "").startswith(("rpc-libvirtd", "prio-rpc")) for e in forks), \
    "no fork on a worker's track"
print("holds: %d domain lock holds, %d of a destroy over 1 s, longest %.0f ms; %d forks" % (
    len(holds), len(long), max(e["dur"] for e in long) / 1e3, len(forks)), file=sys.stderr)
PY
	python3 tests/export/validate.py speedscope "$TMP/acc.speedscope" >"$TMP/v2" || fail "$(cat "$TMP/v2")"
	nm=$(pprof_checker)
	NODE_PATH=$nm node tests/export/check-pprof.js "$TMP/acc.pb.gz" >"$TMP/v3" || fail "$(cat "$TMP/v3")"
	python3 - "$TMP/acc.speedscope" "$TMP/v3" <<'PY' || fail "speedscope and pprof totals differ"
import json, re, sys
ss = {p["name"]: p["endValue"] for p in json.load(open(sys.argv[1]))["profiles"]}
pp = dict(re.findall(r"(\w+)_ns=(\d+)", open(sys.argv[2]).read()))
assert ss["on-CPU"] == int(pp["cpu"]) and ss["off-CPU"] == int(pp["off_cpu"]) \
    and ss["lock wait"] == int(pp["lock_wait"]), (ss, pp)
PY
	cat "$TMP/v1" "$TMP/v2" "$TMP/v3" >&2

	# flame reads the recording: the destroy's lock wait, from the vm thread.
	./virtscope flame --kind lock --format folded "$rec" >"$TMP/acc.folded"
	grep -q '^vm-vm[0-9]*;' "$TMP/acc.folded" || fail "no vm thread in lock flame: $(head -3 "$TMP/acc.folded")"

	# A flight recorder catches a destroy over 3.5 s by itself, and stops.
	load start-destroy -c "$VIRTSCOPE_LAB_QEMU_URI" -d 30 >/dev/null 2>&1 &
	t0=$(date +%s)
	timeout 40 ./virtscope record -p "$VIRTSCOPE_LAB_PID" -o "$TMP/ring.vsr" --ring 4M \
		--trigger rpc:3500 --before 3 --after 1 -d 35 2>"$TMP/ring.err" ||
		fail "flight recorder: $(cat "$TMP/ring.err")"
	t1=$(date +%s)
	kill %1 2>/dev/null || true
	[ $((t1 - t0)) -lt 30 ] || fail "the flight recorder ran $((t1 - t0)) s: it did not stop after firing"
	./virtscope report "$TMP/ring.vsr" >"$TMP/ring.report" 2>&1 || fail "report of the flight recording"
	grep -q '^  1\. DOMAIN_DESTROY_FLAGS ' "$TMP/ring.report" ||
		fail "flight recording: $(head -5 "$TMP/ring.report")"
	# It says what fired it, as it fires and in the report.
	grep -qE '^virtscope: a trigger fired: RPC of [0-9.]+ ms \(DOMAIN_DESTROY_FLAGS vm[0-9]+\)' \
		"$TMP/ring.err" || fail "record did not say what fired: $(cat "$TMP/ring.err")"
	grep -qE '^A flight recording, kept when a trigger fired: RPC of [0-9.]+ ms \(DOMAIN_DESTROY_FLAGS vm' \
		"$TMP/ring.report" || fail "the report does not say what fired: $(head -3 "$TMP/ring.report")"
	# Its stacks come with their names, though the ring keeps only the
	# names its chunks still refer to.
	./virtscope flame --kind offcpu --format folded "$TMP/ring.vsr" >"$TMP/ring.folded"
	awk '{ n = split($1, f, ";"); for (i = 2; i <= n; i++) { all++; if (f[i] == "[unknown]") u++ } }
	     /;start_thread;/ { threads++ }
	     END { exit !(threads > 0 && all > 100 && u < 0.05 * all) }' "$TMP/ring.folded" ||
		fail "flight recording's stacks unnamed: $(head -3 "$TMP/ring.folded")"
	# Chunks are whole, and a block that began long before still overlaps
	# the window: the recording spans somewhat more than before + after.
	awk '/^Over / { exit !($2 < 20) }' "$TMP/ring.report" ||
		fail "flight recording keeps more than its window: $(head -1 "$TMP/ring.report")"
}

test_record_sigkill_keeps_chunks() {
	local rec=$TMP/kill.vsr pid n
	./virtscope record -p "$LAB_PID" -o "$rec" -d 60 2>/dev/null &
	pid=$!
	load rpc -c "$QEMU_URI" -d 6 >/dev/null 2>&1
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	./virtscope report "$rec" >"$TMP/kill.report" 2>"$TMP/kill.err" && fail "a killed recording reads as whole"
	expect_one_line_error "$TMP/kill.err"
	grep -qE 'did not end cleanly|truncated' "$TMP/kill.err" || fail "$(cat "$TMP/kill.err")"
	n=$(awk '/^Over / { print $4 }' "$TMP/kill.report")
	[ "${n:-0}" -gt 1000 ] || fail "only ${n:-0} events salvaged from 6 s of rpc load"
	echo "salvaged $n events: $(cat "$TMP/kill.err")" >&2
}

# A disk that fills: one line naming the file and the reason, exit 1, and
# what was written before it is still read.
test_record_disk_full() {
	local mnt=$TMP/full rc=0 n
	mkdir -p "$mnt"
	mount -t tmpfs -o size=128k tmpfs "$mnt"
	load rpc -c "$QEMU_URI" -d 10 >/dev/null 2>&1 &
	local loadpid=$!
	./virtscope record -p "$LAB_PID" -o "$mnt/full.vsr" -d 12 2>"$TMP/full.err" || rc=$?
	kill "$loadpid" 2>/dev/null || true
	wait "$loadpid" 2>/dev/null || true
	cp "$mnt/full.vsr" "$TMP/full.vsr" || true
	umount "$mnt"
	grep -v 'recording pid' "$TMP/full.err" >"$TMP/full.err1" || true
	[ "$rc" -eq 1 ] || fail "exit $rc on a full disk: $(cat "$TMP/full.err")"
	expect_one_line_error "$TMP/full.err1"
	grep -q "cannot write '$mnt/full.vsr': No space left on device" "$TMP/full.err1" ||
		fail "$(cat "$TMP/full.err1")"
	./virtscope report "$TMP/full.vsr" >"$TMP/full.report" 2>/dev/null || true
	n=$(awk '/^Over / { print $4 }' "$TMP/full.report")
	[ "${n:-0}" -gt 1000 ] || fail "only ${n:-0} events read back from a full disk's recording"
	echo "read back $n events; $(cat "$TMP/full.err1")" >&2
}

test_record_bad_files() {
	local rec=$TMP/good.vsr f cmd
	./virtscope record -p "$LAB_PID" -o "$rec" -d 2 2>/dev/null
	: >"$TMP/empty.vsr"
	echo 'rpc-libvirtd;main 1' >"$TMP/text.vsr"
	head -c $(($(stat -c %s "$rec") - 7)) "$rec" >"$TMP/trunc.vsr"
	cp "$rec" "$TMP/flip.vsr"
	printf '\x55' | dd of="$TMP/flip.vsr" bs=1 seek=$(($(stat -c %s "$rec") / 2)) conv=notrunc 2>/dev/null
	cp "$rec" "$TMP/newer.vsr"
	printf '\x09' | dd of="$TMP/newer.vsr" bs=1 seek=8 conv=notrunc 2>/dev/null
	for f in empty text trunc flip newer; do
		for cmd in "report" "export --format perfetto" "flame --format folded"; do
			# flame reads folded text too: a text file is its input, not an error
			[ "$f" = text ] && [ "${cmd%% *}" = flame ] && continue
			rc=0
			# shellcheck disable=SC2086
			./virtscope $cmd "$TMP/$f.vsr" >/dev/null 2>"$TMP/err" || rc=$?
			[ "$rc" -eq 2 ] || fail "$cmd $f: exit $rc"
			# flame warns about damage and still draws: one line either way
			expect_one_line_error "$TMP/err"
		done
	done
	grep -q 'newer' <(./virtscope report "$TMP/newer.vsr" 2>&1) || fail "newer not named"
	# Existing files and symlinks are never written through.
	ln -s "$TMP/elsewhere" "$TMP/link.vsr"
	./virtscope record -p "$LAB_PID" -o "$TMP/link.vsr" -d 1 2>"$TMP/err" && fail "recorded through a symlink"
	[ ! -e "$TMP/elsewhere" ] || fail "the symlink's target was created"
	./virtscope record -p "$LAB_PID" -o "$rec" -d 1 2>"$TMP/err" && fail "overwrote a recording"
	grep -q 'exists: a recording is never written over' "$TMP/err" || fail "$(cat "$TMP/err")"
}
