# virtscope top: the live view in a tmux pane, its batch frames and its JSON, against
# a lab whose fake systemd-machined answers TerminateMachine 3 s late, under
# start/destroy load: workers busy in DOMAIN_DESTROY_FLAGS, the domain's vm-NAME
# thread waiting for that domain's lock, and the D-Bus call in progress.

TOP_DELAY_MS=3000
TOP_TMUX="tmux -L virtscope-top-$$"

top_lab_up() {
	export VIRTSCOPE_LAB_DIR=$VIRTSCOPE_LAB_DIR-top
	trap top_lab_down EXIT
	scripts/lab stop >/dev/null 2>&1 || true
	scripts/lab start --machined-delay off >"$TMP/tlab-start.out" 2>&1 ||
		fail "lab start --machined-delay off: $(cat "$TMP/tlab-start.out")"
	eval "$(scripts/lab env)"
	TLAB_URI=$VIRTSCOPE_LAB_QEMU_URI
	TLAB_PID=$VIRTSCOPE_LAB_PID
	scripts/lab fault machined "$TOP_DELAY_MS" TerminateMachine >/dev/null
}

top_lab_down() {
	$TOP_TMUX kill-server >/dev/null 2>&1 || true
	scripts/lab stop >/dev/null 2>&1 || true
}

# Start/destroy of vm1 and vm2 in the background for SECONDS.
top_load() {
	load start-destroy -c "$TLAB_URI" --domains 2 -d "$1" >"$TMP/top-load.out" 2>&1 &
	TOP_LOAD=$!
}

# top in a tmux pane of COLSxROWS; the pane keeps the exit status and the
# terminal's settings after top quits.
top_pane() {
	$TOP_TMUX kill-server >/dev/null 2>&1 || true
	$TOP_TMUX new-session -d -s top -x "$1" -y "$2" \
		"$VIRTSCOPE top -p $TLAB_PID -d 0.5 2>$TMP/top-pane.err; echo EXIT=\$?; stty -a; sleep 120"
}

capture() {
	$TOP_TMUX capture-pane -p -t top
}

# Waits (up to 30 s) until the pane shows a line matching the extended regex RE,
# and prints that line.
wait_pane() {
	local line
	for _ in $(seq 120); do
		line=$(capture | grep -E -m1 "$1") && { echo "$line"; return 0; }
		sleep 0.25
	done
	capture >&2
	fail "the pane never showed /$1/"
}

test_top_screen_shows_the_slow_destroy() {
	local line n
	top_lab_up
	top_load 40
	top_pane 200 50
	# A worker (or priority worker) in the destroy, inside the D-Bus call
	line=$(wait_pane '^ *[0-9]+ (rpc-libvirtd|prio-rpc-libvir) .*DOMAIN_DESTROY_FLAGS vm[12]: D-Bus machine1\.Manager\.TerminateMachine [0-9.]+s')
	echo "worker: $line" >&2
	# vm-vmN waits for domain vmN's lock, held by a worker in the destroy
	line=$(wait_pane '^ *[0-9]+ vm-vm([12]) +vm-event .*wait virDomainObj vm[12] [0-9.]+s <- [0-9]+ DOMAIN_DESTROY_FLAGS')
	echo "vm thread: $line" >&2
	n=$(sed -E 's/.* vm-vm([12]) .*wait virDomainObj vm([12]) .*/\1 \2/' <<<"$line")
	[ "${n% *}" = "${n#* }" ] || fail "vm-vm${n% *} waits for another domain's lock: $line"
	# the in-progress age grows between frames
	local a b
	a=$(wait_pane 'D-Bus machine1\.Manager\.TerminateMachine [0-9.]+s' | grep -oE 'TerminateMachine [0-9.]+s' | head -1)
	sleep 1.1
	b=$(capture | grep -oE 'TerminateMachine [0-9.]+s' | head -1)
	echo "in progress: $a, then $b" >&2
	[ -n "$b" ] && [ "$a" != "$b" ] || fail "the D-Bus call's age did not change: '$a' then '$b'"

	# Keys switch views
	$TOP_TMUX send-keys -t top 4
	wait_pane '^PROCEDURE +CALL/s' >/dev/null
	line=$(wait_pane '^DOMAIN_DESTROY_FLAGS ')
	echo "rpc: $line" >&2
	$TOP_TMUX send-keys -t top 5
	line=$(wait_pane '^machine1\.Manager\.TerminateMachine +[0-9]')
	echo "dbus: $line" >&2
	$TOP_TMUX send-keys -t top 2
	wait_pane '^DOMAIN +WAITS' >/dev/null
	wait_pane '^vm[12] ' >/dev/null
	$TOP_TMUX send-keys -t top 7
	line=$(wait_pane 'chain .*vm-vm[12] waited for virDomainObj vm[12], held by .* DOMAIN_DESTROY_FLAGS')
	echo "stalls: $line" >&2
	$TOP_TMUX send-keys -t top h
	wait_pane 'virtscope top: the daemon live' >/dev/null
	$TOP_TMUX send-keys -t top x 1
	wait_pane '^ +TID NAME +ROLE' >/dev/null
	# values change between frames: the header's figures or the rows
	a=$(capture | sed -n '1,3p;6,$p')
	sleep 1.2
	b=$(capture | sed -n '1,3p;6,$p')
	[ "$a" != "$b" ] || fail "two frames 1.2 s apart are identical"

	# q quits with status 0 and leaves the terminal sane (echo and canonical mode)
	$TOP_TMUX send-keys -t top q
	wait_pane '^EXIT=0$' >/dev/null
	capture | grep -qE '(^| )icanon( |$)' || fail "the terminal is not in canonical mode after q"
	capture | grep -qE '(^| )echo( |$)' || fail "echo is off after q"
	kill "$TOP_LOAD" 2>/dev/null || true
	wait "$TOP_LOAD" 2>/dev/null || true
}

test_top_fits_80x24_and_ctrl_c_restores() {
	local lines
	top_lab_up
	top_pane 80 24
	wait_pane "^libvirtd pid $TLAB_PID  up " >/dev/null
	wait_pane '^1 threads 2 domains 3 locks 4 rpc 5 dbus 6 forks 7 stalls' >/dev/null
	wait_pane '^ +TID NAME +ROLE +CPU% OFF-CPU +NOW' >/dev/null
	# the header and 18 thread rows (the lab's libvirtd has 19 threads) in 24 lines
	lines=$(capture | grep -cE '^ +[0-9]+ [a-z]')
	[ "$lines" -ge 17 ] || fail "only $lines thread rows in 80x24: $(capture)"
	$TOP_TMUX send-keys -t top C-c
	wait_pane '^EXIT=0$' >/dev/null
	capture | grep -qE '(^| )icanon( |$)' || fail "the terminal is not in canonical mode after Ctrl-C"
}

# Batch frames and JSON carry the same figures: the destroys' D-Bus call took the
# fault's 3 s in both.
test_top_batch_and_json() {
	local out=$TMP/top-batch.txt js=$TMP/top.json frames
	top_lab_up
	top_load 30
	"$VIRTSCOPE" top -p "$TLAB_PID" -b -n 12 -d 1 >"$out" 2>"$out.err" || fail "top -b: $(cat "$out.err")"
	frames=$(grep -c "^libvirtd pid $TLAB_PID  up " "$out")
	[ "$frames" -eq 12 ] || fail "expected 12 frames, got $frames"
	grep -qE '^ *[0-9]+ (rpc-libvirtd|prio-rpc-libvir) .*DOMAIN_DESTROY_FLAGS vm[12]: D-Bus machine1\.Manager\.TerminateMachine' "$out" ||
		fail "no worker in the D-Bus call in the batch frames"
	awk '$1 == "machine1.Manager.TerminateMachine" && $2 > 0 { print $3 }' "$out" >"$TMP/top-term.txt"
	[ -s "$TMP/top-term.txt" ] || fail "no TerminateMachine call ended in any frame"
	awk -v d=$TOP_DELAY_MS '$1 < d || $1 > d * 1.1 { bad = 1 } END { exit bad }' "$TMP/top-term.txt" ||
		fail "TerminateMachine average outside [$TOP_DELAY_MS, +10 %]: $(cat "$TMP/top-term.txt")"

	"$VIRTSCOPE" top -p "$TLAB_PID" --json -n 10 -d 1 >"$js" 2>"$js.err" || fail "top --json: $(cat "$js.err")"
	python3 - "$js" "$TLAB_PID" "$TOP_DELAY_MS" <<'EOF' || fail "JSON frames wrong"
import json, sys
path, pid, delay = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
frames = [json.loads(l) for l in open(path)]
assert len(frames) == 10, f"{len(frames)} frames"
for f in frames:
    assert f["header"]["pid"] == pid, f["header"]
    assert f["header"]["threads"] >= 17, f["header"]
    for view in ("threads", "domains", "locks", "rpc", "dbus", "forks", "stalls"):
        assert isinstance(f[view], list), view
last = frames[-1]
term = [r for r in last["dbus"] if r["method"] == "machine1.Manager.TerminateMachine"]
assert term and term[0]["calls_total"] >= 1, last["dbus"]
assert delay <= term[0]["max_ms_total"] <= delay * 1.1, term
destroy = [r for r in last["rpc"] if r["procedure"] == "DOMAIN_DESTROY_FLAGS"]
assert destroy and destroy[0]["avg_ms_total"] >= delay, destroy
now = [t["now"] for f in frames for t in f["threads"]]
assert any("D-Bus machine1.Manager.TerminateMachine" in n for n in now), "no D-Bus call in progress"
assert any(n.startswith("wait virDomainObj vm") for n in now), "no wait for a domain lock"
# Domains: the destroy's worker holds vmN's lock across the 3 s call, so an
# RPC on it is in flight for seconds.
doms = [d for f in frames for d in f["domains"] if d["domain"] in ("vm1", "vm2")]
assert any(d["rpcs_in_flight"] >= 1 and (d["oldest_rpc_s"] or 0) >= 1 for d in doms), \
    "no RPC in flight on a domain for a second"
# ... and the sampled lock holds show it: vmN's lock held for over a second,
# most of an interval, by a worker.
held = [(d, f) for f in frames for d in f["domains"] if d["domain"] in ("vm1", "vm2")
        and (d["lock_held_s"] or 0) >= 1 and (d["lock_held_pct"] or 0) >= 50]
assert held, "no domain lock held for a second: %s" % [
    (d["domain"], d["lock_held_pct"], d["lock_held_s"]) for d in doms]
names = {t["tid"]: t["name"] for d, f in held for t in f["threads"]}
assert any(names.get(d["holder_tid"], "").startswith(("rpc-libvirtd", "prio-rpc")) for d, f in held), \
    "the holder is not a worker: %s" % [(d["holder_tid"], names.get(d["holder_tid"])) for d, f in held]
ups = {f["header"]["uptime_s"] for f in frames}
assert len(ups) > 1, "the uptime never changed"
print(f"json: {len(frames)} frames, TerminateMachine max {term[0]['max_ms_total']} ms, "
      f"longest domain lock hold in progress {max(d['lock_held_s'] for d, f in held)} s", file=sys.stderr)
EOF
	kill "$TOP_LOAD" 2>/dev/null || true
	wait "$TOP_LOAD" 2>/dev/null || true
}

test_top_bad_input() {
	local rc
	"$VIRTSCOPE" top -d 0 -b 2>"$TMP/top-e1" && fail "-d 0 accepted"
	expect_one_line_error "$TMP/top-e1"
	rc=0; "$VIRTSCOPE" top -n 3 -p 1 2>"$TMP/top-e2" || rc=$?
	[ "$rc" -eq 2 ] || fail "-n without -b: exit $rc"
	expect_one_line_error "$TMP/top-e2"
	# No target: either exactly one daemon runs, or a one-line list of what was found
	rc=0; "$VIRTSCOPE" top -b -n 1 >"$TMP/top-any.out" 2>"$TMP/top-e3" || rc=$?
	if [ "$rc" -ne 0 ]; then
		[ "$rc" -eq 2 ] || fail "no target: exit $rc: $(cat "$TMP/top-e3")"
		expect_one_line_error "$TMP/top-e3"
		grep -qE 'virtualization daemons are running \(libvirtd [0-9]+|no virtualization daemon' "$TMP/top-e3" ||
			fail "the error does not say what was found: $(cat "$TMP/top-e3")"
	fi
	# Not a terminal without -b
	rc=0; "$VIRTSCOPE" top -p "$LAB_PID" </dev/null >"$TMP/top-tty.out" 2>"$TMP/top-e4" || rc=$?
	[ "$rc" -eq 2 ] || fail "not a terminal: exit $rc"
	grep -q 'not a terminal' "$TMP/top-e4" || fail "$(cat "$TMP/top-e4")"
}

# F writes flame graphs of the last 30 s without leaving top: off-CPU, where
# the destroying workers' 3 s in TerminateMachine weigh at least those 3 s,
# and on-CPU samples. Files are the user's own (0600).
test_top_flame_key() {
	local dir=$TMP/topflame line svg w
	top_lab_up
	mkdir -p "$dir"
	top_load 16
	$TOP_TMUX kill-server >/dev/null 2>&1 || true
	$TOP_TMUX new-session -d -s top -x 200 -y 50 -c "$dir" \
		"$VIRTSCOPE top -p $TLAB_PID -d 0.5 2>$TMP/top-pane.err; echo EXIT=\$?; sleep 120"
	wait_pane "^libvirtd pid $TLAB_PID  up " >/dev/null
	wait "$TOP_LOAD" || fail "load: $(cat "$TMP/top-load.out")"
	$TOP_TMUX send-keys -t top F o Enter
	line=$(wait_pane 'wrote virtscope-top-offcpu-')
	svg=$dir/$(echo "$line" | grep -oE 'virtscope-top-offcpu-[0-9]+-[0-9-]+\.svg')
	[ -s "$svg" ] || fail "no $svg: $line"
	[ "$(stat -c %a "$svg")" = 600 ] || fail "mode $(stat -c %a "$svg")"
	grep -q "Off-CPU time of libvirtd\[$TLAB_PID\]" "$svg" || fail "title: $(grep -o '<text[^>]*id="title"[^<]*<' "$svg")"
	w=$(grep -oE '<g data-c="[0-9]+"><title>(rpc-libvirtd|prio-rpc-libvir)' "$svg" |
		sed -E 's/.*data-c="([0-9]+)".*/\1/' | awk '{ s += $1 } END { print s + 0 }')
	[ "$w" -ge $((TOP_DELAY_MS * 1000 * 95 / 100)) ] ||
		fail "workers' off-CPU weight $w us, expected the ${TOP_DELAY_MS} ms D-Bus call at least: $line"
	$TOP_TMUX send-keys -t top F c Enter
	line=$(wait_pane 'wrote virtscope-top-cpu-')
	echo "$line" | grep -qE ': [0-9]{2,} samples over ' || fail "too few samples: $line"
	svg=$dir/$(echo "$line" | grep -oE 'virtscope-top-cpu-[0-9]+-[0-9-]+\.svg')
	grep -qE '<g data-c="[0-9]+"><title>(libvirtd|rpc-libvirtd|prio-rpc-libvir|vm-vm[12])' "$svg" ||
		fail "no libvirtd thread in the on-CPU graph"
	$TOP_TMUX send-keys -t top q
	wait_pane '^EXIT=0$' >/dev/null
}

# Captures the pane with its attributes (SGR escape sequences).
capture_sgr() {
	$TOP_TMUX capture-pane -e -p -t top
}

# The keys a top user reaches for, on the main lab under rpc load: < and >
# move the sort to the next column (underlined) and the rows follow it, i
# inverts it; / filters; p freezes the frame and p again lets it go; r resets
# the cumulative counts; d changes the refresh; Enter opens the row's
# details. A resized terminal is drawn to its new size. Colours are there by
# default and not under NO_COLOR.
test_top_keys_resize_and_colour() {
	local line a b n frames
	TLAB_PID=$LAB_PID
	load rpc -c "$TEST_URI" -d 60 >"$TMP/keys-load.out" 2>&1 &
	TOP_LOAD=$!
	trap '$TOP_TMUX kill-server >/dev/null 2>&1 || true' EXIT
	top_pane 150 40
	wait_pane "^libvirtd pid $LAB_PID  up " >/dev/null
	$TOP_TMUX send-keys -t top 4
	wait_pane '^CONNECT_GET_VERSION +[0-9.]+ ' >/dev/null
	capture_sgr | grep -q $'\e\\[[0-9;]*4[0-7]m' || fail "no colour by default: $(capture_sgr | head -5 | cat -v)"

	# sort: CALL/s at first; > moves to AVGms, underlined, rows in its order
	capture_sgr | grep -qE $'\e\\[([0-9]+;)*4(;[0-9]+)*m *CALL/s' ||
		fail "CALL/s is not marked as the sort column: $(capture_sgr | sed -n 5p | cat -v)"
	$TOP_TMUX send-keys -t top p '>' '>'
	wait_pane '^paused' >/dev/null
	capture_sgr | grep -qE $'\e\\[([0-9]+;)*4(;[0-9]+)*m *MAXms' ||
		fail "> > did not move the sort to MAXms: $(capture_sgr | sed -n 5p | cat -v)"
	capture | awk '/^PROCEDURE/ { on = 1; next } on && /^[A-Z_]+ +[0-9]/ { print $4 }' >"$TMP/keys-sort"
	[ "$(wc -l <"$TMP/keys-sort")" -ge 3 ] || fail "too few rows: $(capture)"
	sort -g -r -c "$TMP/keys-sort" || fail "rows not by MAXms, descending: $(tr '\n' ' ' <"$TMP/keys-sort")"
	$TOP_TMUX send-keys -t top i
	sleep 0.5
	capture | awk '/^PROCEDURE/ { on = 1; next } on && /^[A-Z_]+ +[0-9]/ { print $4 }' >"$TMP/keys-sort"
	sort -g -c "$TMP/keys-sort" || fail "i did not invert the order: $(tr '\n' ' ' <"$TMP/keys-sort")"

	# pause: two captures 1.5 s apart are the same frame; then it moves again
	a=$(capture)
	sleep 1.5
	b=$(capture)
	[ "$a" = "$b" ] || fail "the paused screen changed"
	$TOP_TMUX send-keys -t top p
	sleep 1.5
	[ "$(capture)" != "$b" ] || fail "the screen did not move after p resumed it"

	# filter: only GET_VERSION's row is left
	$TOP_TMUX send-keys -t top / G E T _ V E R Enter
	wait_pane 'filter: GET_VER' >/dev/null
	sleep 1
	n=$(capture | grep -cE '^[A-Z_]+ +[0-9.]+ ')
	[ "$n" -eq 1 ] && capture | grep -qE '^CONNECT_GET_VERSION ' ||
		fail "the filter left $n rows: $(capture)"

	# reset: the cumulative count starts again from 0
	a=$(capture | awk '$1 == "CONNECT_GET_VERSION" { print $9 }')
	$TOP_TMUX send-keys -t top r
	wait_pane 'cumulative figures reset' >/dev/null
	sleep 0.6
	b=$(capture | awk '$1 == "CONNECT_GET_VERSION" { print $9 }')
	[ -n "$a" ] && [ -n "$b" ] && [ "$b" -lt "$a" ] || fail "ALL-N after r: $a, then $b"

	# delay: at 2 s, at most 5 different frames in 6 s, counting the one
	# shown when it changed (at 0.5 s, about 12)
	$TOP_TMUX send-keys -t top d 2 Enter
	wait_pane 'refresh every 2.0 s' >/dev/null
	frames=$(for _ in $(seq 24); do capture | head -1; sleep 0.25; done | sort -u | wc -l)
	[ "$frames" -le 5 ] || fail "$frames different headers in 6 s at a 2 s refresh"
	$TOP_TMUX send-keys -t top d 0 . 5 Enter

	# details of the selected row
	$TOP_TMUX send-keys -t top Enter
	wait_pane '^PROCEDURE +CONNECT_GET_VERSION$' >/dev/null
	wait_pane '^ALL-N +[0-9]+$' >/dev/null
	$TOP_TMUX send-keys -t top x / Enter

	# resize: to 80x24, the status line is the 24th and nothing is wider
	$TOP_TMUX resize-window -t top -x 80 -y 24
	sleep 1
	capture | sed -n 24p | grep -q '^h help  q quit' || fail "80x24: no status line at the bottom: $(capture)"
	[ "$(capture | awk 'length > 80' | wc -l)" -eq 0 ] || fail "80x24: lines wider than 80"
	capture | grep -qE '^PROCEDURE +CALL/s +AVGms' || fail "80x24: no titles: $(capture)"
	$TOP_TMUX resize-window -t top -x 150 -y 40
	sleep 1
	capture | sed -n 40p | grep -q '^h help  q quit' || fail "150x40: no status line at the bottom"
	capture | grep -qE '^PROCEDURE .* ALLms$' || fail "150x40: the titles are still cut: $(capture | sed -n 5p)"
	$TOP_TMUX send-keys -t top q
	wait_pane '^EXIT=0$' >/dev/null

	# NO_COLOR: attributes only (reverse, bold, underline), no colour
	$TOP_TMUX kill-server >/dev/null 2>&1 || true
	$TOP_TMUX new-session -d -s top -x 150 -y 40 \
		"NO_COLOR=1 $VIRTSCOPE top -p $LAB_PID -d 0.5 2>$TMP/top-pane.err; echo EXIT=\$?; sleep 60"
	wait_pane "^libvirtd pid $LAB_PID  up " >/dev/null
	sleep 1
	capture_sgr | grep -qE $'\e\\[([0-9]+;)*7(;[0-9]+)*m' || fail "NO_COLOR: no reverse video either"
	! capture_sgr | grep -qE $'\e\\[([0-9]+;)*(3[0-7]|4[0-7]|38|48)(;[0-9]+)*m' ||
		fail "NO_COLOR: colours: $(capture_sgr | grep -m1 -E $'\e\\[([0-9]+;)*(3[0-7]|4[0-7])' | cat -v)"
	$TOP_TMUX send-keys -t top q
	wait_pane '^EXIT=0$' >/dev/null
	kill "$TOP_LOAD" 2>/dev/null || true
	wait "$TOP_LOAD" 2>/dev/null || true
}
