# virtscope flame: folded stacks to an interactive SVG, checked as files and
# in a real headless Chromium (Debian's chromium): search shares, zoom by
# click and by URL, the state kept across a reload, and a screenshot.

# shellcheck source=tests/browser/cdp.sh
source tests/browser/cdp.sh

# A small profile with known shares (the total is 100), names that need
# escaping, and a kernel frame.
flame_fixture() {
	cat >"$1" <<'EOF'
libvirtd;main;virEventRunDefaultImpl;virEventPollRunOnce;poll 30
libvirtd;main;virEventRunDefaultImpl;virEventPollDispatchHandles 10
libvirtd;main;operator<<(std::ostream&, "x");Ünïcødé 10
rpc-worker;virThreadPoolWorker;remoteDispatchDomainGetInfo;virDomainGetInfo;qemuDomainGetInfo 25
rpc-worker;virThreadPoolWorker;remoteDispatchDomainLookup;virDomainLookupByName 15
rpc-worker;virThreadPoolWorker;virObjectLock;pthread_mutex_lock;futex_wait_[k] 10
EOF
}

# flame_dom URL: the page's DOM after its script ran, from headless Chromium.
flame_dom() {
	local dir bin
	bin=$(chromium_bin)
	[ -n "$bin" ] || fail "chromium is not installed (make deps)"
	dir=$(mktemp -d "$TMP/chromium.XXXXXX")
	# shellcheck disable=SC2046
	timeout 60 "$bin" $(chromium_flags "$dir/profile") --virtual-time-budget=5000 \
		--dump-dom "$1" 2>"$dir/log"
}

# The names of the frames a dumped DOM shows highlighted, sorted.
flame_highlighted() {
	grep -oE '<g data-c="[0-9]+" class="[^"]*\bm\b[^"]*"><title>[^<]*' "$1" |
		sed 's/.*<title>//' | sort
}

# The pre-order index of the frame named NAME in an SVG virtscope wrote.
flame_index() {
	awk -v name="$2" '/^<g data-c=/ { i++; if (substr($0, index($0, "<title>") + 7) == name) print i - 1 }' "$1"
}

# root_attr FILE NAME: an attribute of the dumped root <svg>.
root_attr() {
	grep -m1 -o "<svg [^>]*" "$1" | grep -o " $2=\"[^\"]*\"" | cut -d'"' -f2
}

test_flame_svg_self_contained() {
	local in=$TMP/f.folded out=$TMP/f.svg
	flame_fixture "$in"
	"$VIRTSCOPE" flame "$in" -o "$out" 2>"$TMP/err"
	[ ! -s "$TMP/err" ] || fail "unexpected stderr: $(cat "$TMP/err")"
	[ "$(stat -c %a "$out")" = 600 ] || fail "mode $(stat -c %a "$out")"
	# An old file written over becomes private too; /dev/null is left alone.
	chmod 644 "$out"
	"$VIRTSCOPE" flame "$in" -o "$out" 2>"$TMP/err" || fail "overwrite: $(cat "$TMP/err")"
	[ "$(stat -c %a "$out")" = 600 ] || fail "overwritten file kept mode $(stat -c %a "$out")"
	"$VIRTSCOPE" flame "$in" -o /dev/null && [ "$(stat -c %a /dev/null)" = 666 ] ||
		fail "writing to /dev/null changed it: $(stat -c %a /dev/null)"
	# Nothing fetched from elsewhere: the only URL is the SVG namespace.
	[ "$(grep -oE "https?://[^\"' ]*" "$out" | sort -u)" = "http://www.w3.org/2000/svg" ] ||
		fail "external references: $(grep -oE "https?://[^\"' ]*" "$out" | sort -u)"
	! grep -qE 'href=|@import|<!DOCTYPE' "$out" || fail "external reference"
	grep -q '<title>operator&lt;&lt;(std::ostream&amp;, &quot;x&quot;)$' "$out" ||
		fail "escaping lost"
	grep -q '<title>Ünïcødé$' "$out" || fail "UTF-8 lost"
	grep -q '<title>all$' "$out"
	# The browser parses it as XML without error, and the script runs.
	flame_dom "file://$out" >"$TMP/dom" || fail "chromium failed"
	! grep -q parsererror "$TMP/dom" || fail "XML error: $(grep -A3 parsererror "$TMP/dom")"
	[ "$(root_attr "$TMP/dom" data-ready)" = 1 ] || fail "the script did not run"
}

# Search by regular expression from the URL: the right frames highlighted,
# and a share that counts nested matches once (Thread covers Domain).
test_flame_search_share() {
	local in=$TMP/s.folded out=$TMP/s.svg
	flame_fixture "$in"
	"$VIRTSCOPE" flame "$in" -o "$out"
	flame_dom "file://$out#s=Thread%7CDomain" >"$TMP/dom"
	[ "$(root_attr "$TMP/dom" data-matched)" = 50.00 ] ||
		fail "share $(root_attr "$TMP/dom" data-matched), expected 50.00"
	[ "$(flame_highlighted "$TMP/dom" | tr '\n' ' ')" = \
		"qemuDomainGetInfo remoteDispatchDomainGetInfo remoteDispatchDomainLookup virDomainGetInfo virDomainLookupByName virThreadPoolWorker " ] ||
		fail "highlighted: $(flame_highlighted "$TMP/dom" | tr '\n' ' ')"
	grep -q '>Matched: 50.00%<' "$TMP/dom" || fail "no 'Matched' text"
	flame_dom "file://$out#s=%5EvirDomain" >"$TMP/dom"
	[ "$(root_attr "$TMP/dom" data-matched)" = 40.00 ] || fail "^virDomain: $(root_attr "$TMP/dom" data-matched)"
	[ "$(flame_highlighted "$TMP/dom" | tr '\n' ' ')" = "virDomainGetInfo virDomainLookupByName " ]
	# Escaped names are searched as they read.
	flame_dom "file://$out#s=%3C%3C%5C(std" >"$TMP/dom"
	[ "$(root_attr "$TMP/dom" data-matched)" = 10.00 ] || fail "<<(std: $(root_attr "$TMP/dom" data-matched)"
}

# Zoom from the URL: the frame spans the width, its ancestors are dimmed,
# everything else is hidden.
test_flame_zoom_from_url() {
	local in=$TMP/z.folded out=$TMP/z.svg idx
	flame_fixture "$in"
	"$VIRTSCOPE" flame "$in" -o "$out"
	idx=$(flame_index "$out" virThreadPoolWorker)
	[ -n "$idx" ] || fail "no virThreadPoolWorker frame"
	flame_dom "file://$out#f=$idx&s=Lookup" >"$TMP/dom"
	[ "$(root_attr "$TMP/dom" data-zoom)" = virThreadPoolWorker ] || fail "zoom $(root_attr "$TMP/dom" data-zoom)"
	grep -q '<title>virThreadPoolWorker$' "$TMP/dom"
	grep -qE '<g data-c="50" class="h"><title>libvirtd$' "$TMP/dom" || fail "libvirtd not hidden"
	grep -qE '<g data-c="50" class="p"><title>rpc-worker$' "$TMP/dom" || fail "parent not dimmed"
	grep -A1 '<title>virThreadPoolWorker$' "$TMP/dom" | grep -q 'x="10.00" y="[0-9]*" width="1180.00"' ||
		fail "the zoomed frame does not span the width"
	[ "$(root_attr "$TMP/dom" data-matched)" = 15.00 ]
}

# A real click (through the DevTools protocol) zooms; the Search button
# searches; both land in the URL, and a reload restores them.
test_flame_click_zooms() {
	local in=$TMP/c.folded out=$TMP/c.svg dir=$TMP/cdp rect x y
	flame_fixture "$in"
	"$VIRTSCOPE" flame "$in" -o "$out"
	mkdir -p "$dir"
	trap cdp_stop EXIT
	cdp_start "file://$out" "$dir"
	cdp_wait "document.documentElement.getAttribute('data-ready') === '1'"
	cdp_eval "var r = [].filter.call(document.querySelectorAll('#frames title'), function (t) { return t.textContent.split('\\n')[0] === 'remoteDispatchDomainGetInfo'; })[0].parentNode.querySelector('rect').getBoundingClientRect(); Math.round(r.x + r.width / 2) + ' ' + Math.round(r.y + r.height / 2)"
	rect=${CDP_VALUE//\"/}
	x=${rect% *} y=${rect#* }
	cdp_click "$x" "$y"
	cdp_eval "document.documentElement.getAttribute('data-zoom')"
	[ "$CDP_VALUE" = '"remoteDispatchDomainGetInfo"' ] || fail "after a click at $x,$y: zoom $CDP_VALUE"
	cdp_eval "document.querySelector('#unzoom').getAttribute('class')"
	[ "$CDP_VALUE" = '""' ] || fail "Reset Zoom not shown: $CDP_VALUE"
	# The Search button asks with prompt(), which a test cannot type into:
	# answer it from a stub, and click the real button.
	cdp_eval "window.prompt = function () { return 'GetInfo'; }; var b = document.getElementById('search').getBoundingClientRect(); Math.round(b.x + b.width / 2) + ' ' + Math.round(b.y + b.height / 2)"
	rect=${CDP_VALUE//\"/}
	cdp_click "${rect% *}" "${rect#* }"
	cdp_eval "document.documentElement.getAttribute('data-matched') + ' ' + location.hash"
	[[ $CDP_VALUE == '"25.00 #f='[0-9]*'&s=GetInfo"' ]] || fail "after search: $CDP_VALUE"
	# A mark on the old page tells the reloaded one apart.
	cdp_eval "window.flameOld = 1; setTimeout(function () { location.reload(); }, 0); 1"
	cdp_wait "!window.flameOld && document.documentElement.getAttribute('data-ready') === '1'"
	cdp_eval "[document.documentElement.getAttribute('data-zoom'), document.documentElement.getAttribute('data-matched')].join(' ')"
	[ "$CDP_VALUE" = '"remoteDispatchDomainGetInfo 25.00"' ] || fail "after reload: $CDP_VALUE"
	# A click on the root frame resets the zoom, and the URL forgets it.
	cdp_eval "var r = document.querySelector('#frames > g > rect').getBoundingClientRect(); Math.round(r.x + 5) + ' ' + Math.round(r.y + r.height / 2)"
	rect=${CDP_VALUE//\"/}
	cdp_click "${rect% *}" "${rect#* }"
	cdp_eval "document.documentElement.getAttribute('data-zoom') + '|' + location.hash"
	[ "$CDP_VALUE" = '"|#s=GetInfo"' ] || fail "after unzoom: $CDP_VALUE"
	cdp_stop
}

test_flame_screenshot() {
	local in=$TMP/p.folded out=$TMP/p.svg png=$TMP/p.png dir bin
	flame_fixture "$in"
	"$VIRTSCOPE" flame --title "virtscope test" --subtitle "search: Domain" "$in" -o "$out"
	bin=$(chromium_bin)
	dir=$(mktemp -d "$TMP/chromium.XXXXXX")
	# shellcheck disable=SC2046
	timeout 60 "$bin" $(chromium_flags "$dir/profile") --virtual-time-budget=5000 \
		--window-size=1200,800 --screenshot="$png" "file://$out#s=Domain" 2>"$dir/log"
	[ -s "$png" ] || fail "no screenshot: $(tail -3 "$dir/log")"
	[ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] || fail "not a PNG"
	[ "$(stat -c %s "$png")" -gt 10000 ] || fail "a blank-looking screenshot ($(stat -c %s "$png") bytes)"
}

test_flame_malformed_lines() {
	local in=$TMP/m.folded rc=0
	printf 'a;b 1\nno count here\na;c -2\n\na;d 1e3\n 5\na;b 2\n' >"$in"
	"$VIRTSCOPE" flame --format folded "$in" >"$TMP/out" 2>"$TMP/err" || rc=$?
	[ "$rc" -eq 0 ] || fail "exit status $rc"
	expect_one_line_error "$TMP/err"
	grep -qx 'virtscope: flame: skipped 4 malformed lines (first: line 2)' "$TMP/err" ||
		fail "$(cat "$TMP/err")"
	[ "$(cat "$TMP/out")" = "a;b 3" ] || fail "$(cat "$TMP/out")"
}

# --format folded merges exactly and sorts as `LC_ALL=C sort`, fractions
# included; the same from stdin.
test_flame_folded_output() {
	local in=$TMP/fo.folded
	printf 'x;y 1\nmain;a 2\nmain2;b 1.5\nmain 1\nx;y 2\nmain;a;z 0.25\n' >"$in"
	"$VIRTSCOPE" flame --format folded "$in" >"$TMP/out"
	printf 'main 1\nmain2;b 1.5\nmain;a 2\nmain;a;z 0.25\nx;y 3\n' >"$TMP/want"
	diff -u "$TMP/want" "$TMP/out"
	"$VIRTSCOPE" flame --format folded - <"$in" | diff -u "$TMP/want" -
	[ "$(LC_ALL=C sort "$TMP/out")" = "$(cat "$TMP/out")" ]
}

test_flame_speedscope() {
	local in=$TMP/ss.folded
	flame_fixture "$in"
	"$VIRTSCOPE" flame --format speedscope --countname ms "$in" >"$TMP/out.json"
	grep -q '"\$schema":"https://www.speedscope.app/file-format-schema.json"' "$TMP/out.json"
	grep -q '"type":"sampled","name":"[^"]*","unit":"milliseconds","startValue":0,"endValue":100,' "$TMP/out.json"
	grep -q '{"name":"operator<<(std::ostream&, \\"x\\")"}' "$TMP/out.json"
	if command -v python3 >/dev/null; then
		python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
p = d["profiles"][0]
assert len(p["samples"]) == len(p["weights"]) == 6, p
assert sum(p["weights"]) == 100
frames = d["shared"]["frames"]
assert all(0 <= i < len(frames) for s in p["samples"] for i in s)
' "$TMP/out.json" || fail "invalid speedscope JSON"
	fi
}

# --diff: widths from AFTER, red where a frame grew, blue where it shrank.
test_flame_diff() {
	local before=$TMP/before.folded after=$TMP/after.folded out=$TMP/d.svg
	printf 'm;grow 10\nm;shrink 30\nm;same 10\n' >"$before"
	printf 'm;grow 30\nm;shrink 10\nm;same 10\n' >"$after"
	"$VIRTSCOPE" flame --diff "$before" "$after" -o "$out"
	grep -A2 '<title>grow$' "$out" | grep -q 'fill="rgb(255,0,0)"' || fail "grow is not red"
	grep -A2 '<title>shrink$' "$out" | grep -q 'fill="rgb(0,0,255)"' || fail "shrink is not blue"
	grep -A2 '<title>same$' "$out" | grep -q 'fill="rgb(255,255,255)"' || fail "same is not white"
	grep -A1 '<title>grow$' "$out" | grep -q '^after 30 samples (60.00%), before 10$'
	grep -A2 '<title>grow$' "$out" | grep -q '^change +20 (+200.00%), self +20</title>'
	"$VIRTSCOPE" flame --diff --normalize --format folded "$before" "$after" >"$TMP/out"
	printf 'm;grow 10 30\nm;same 10 10\nm;shrink 30 10\n' | diff -u - "$TMP/out"
}

test_flame_options() {
	local in=$TMP/o.folded out
	flame_fixture "$in"
	out=$("$VIRTSCOPE" flame --inverted --colors io --hash --width 800 --title 'T <1>' "$in")
	grep -q 'width="800"' <<<"$out"
	grep -q '<text id="title" x="400" y="24">T &lt;1&gt;</text>' <<<"$out"
	out=$("$VIRTSCOPE" flame --reverse --format folded "$in")
	grep -q '^qemuDomainGetInfo;virDomainGetInfo;remoteDispatchDomainGetInfo;virThreadPoolWorker;rpc-worker 25$' <<<"$out"
	out=$("$VIRTSCOPE" flame --flamechart "$in")
	grep -q 'Flame Chart' <<<"$out"
	grep -q '<title>futex_wait_\[k\]$' <<<"$out"
	"$VIRTSCOPE" flame --help | grep -q -- '--minwidth'
}

test_flame_bad_usage() {
	local rc args
	for args in "--width 10" "--colors pink" "--format png" "--minwidth x" "--diff one" \
		"--normalize x" "a b" "--diff --flamechart a b" "/nonexistent.folded"; do
		rc=0
		# shellcheck disable=SC2086
		"$VIRTSCOPE" flame $args </dev/null >/dev/null 2>"$TMP/err" || rc=$?
		[ "$rc" -eq 2 ] || fail "'$args': exit status $rc, expected 2"
		expect_one_line_error "$TMP/err"
		grep -q '^virtscope: flame: ' "$TMP/err" || fail "'$args': $(cat "$TMP/err")"
	done
}

test_flame_output_file_safety() {
	local in=$TMP/sf.folded rc=0
	flame_fixture "$in"
	ln -s "$TMP/victim" "$TMP/flame-link"
	"$VIRTSCOPE" flame "$in" -o "$TMP/flame-link" 2>"$TMP/err" || rc=$?
	[ "$rc" -ne 0 ] && [ ! -e "$TMP/victim" ] || fail "wrote through a symlink"
	expect_one_line_error "$TMP/err"
}

# A big input is pruned to what can be seen, and says how much it left out:
# at most 1180 px / 0.1 px frames a row, whatever the number of stacks.
test_flame_prunes_big_input() {
	local gen=$TMP/flame_gen out=$TMP/big.svg frames elided rows all
	cc -O2 -o "$gen" bench/flame_gen.c
	"$gen" -n 100000 >"$TMP/big.folded"
	"$VIRTSCOPE" flame "$TMP/big.folded" -o "$out"
	frames=$(grep -o 'data-frames="[0-9]*"' "$out" | cut -d'"' -f2)
	elided=$(grep -o 'data-elided="[0-9]*"' "$out" | cut -d'"' -f2)
	rows=41 # depth 5 to 40, and the root
	[ "$frames" -le $((11800 * rows)) ] || fail "$frames frames drawn"
	[ "$elided" -gt "$frames" ] || fail "only $elided elided, $frames drawn"
	grep -qE '<text id="elided"[^>]*>[0-9,]+ frames narrower than 0.1 px not drawn</text>' "$out"
	# Every frame is drawn or counted as elided.
	all=$("$VIRTSCOPE" flame --minwidth 0 "$TMP/big.folded" | grep -o 'data-frames="[0-9]*"' | cut -d'"' -f2)
	[ "$all" -eq $((frames + elided)) ] || fail "$all frames, $frames drawn + $elided elided"
	"$VIRTSCOPE" flame --minwidth 2 "$TMP/big.folded" -o "$TMP/big2.svg"
	[ "$(grep -c '^<g data-c=' "$TMP/big2.svg")" -lt "$frames" ]
	# Sorted or shuffled, the same merged stacks.
	"$gen" -n 100000 --shuffle >"$TMP/big-shuf.folded"
	cmp <("$VIRTSCOPE" flame --format folded "$TMP/big.folded") \
		<("$VIRTSCOPE" flame --format folded "$TMP/big-shuf.folded")
}

test_flame_asan_clean() {
	local in=$TMP/as.folded
	flame_fixture "$in"
	printf 'bad line\n' >>"$in"
	"$VIRTSCOPE_ASAN" flame "$in" -o "$TMP/as.svg" 2>"$TMP/asan.err"
	"$VIRTSCOPE_ASAN" flame --diff --normalize "$in" "$in" -o "$TMP/as2.svg" 2>>"$TMP/asan.err"
	"$VIRTSCOPE_ASAN" flame --format speedscope --flamechart "$in" >/dev/null 2>>"$TMP/asan.err"
	"$VIRTSCOPE_ASAN" flame --format folded --reverse - <"$in" >/dev/null 2>>"$TMP/asan.err"
	! grep -qE 'Sanitizer|runtime error' "$TMP/asan.err" || fail "$(head -30 "$TMP/asan.err")"
}
