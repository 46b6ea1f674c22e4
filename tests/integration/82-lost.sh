# Lost events are never silent: with a ring buffer too small for a burst,
# the events printed plus the events reported lost add up to what the
# daemon did, as its client counted it, and a buffer big enough loses none.

source tests/integration/30-probes.sh

# trace with BUFFER_KB around N pings of one client, stopped (as a reader
# starved of CPU would be) while they happen; prints "SEEN LOST".
ping_burst() {
	local kb=$1 n=$2 out=$TMP/lost.$1.txt profile=$TMP/keepalive-only.profile
	cat >"$profile" <<'PROFILE'
profile keepalive-only
match usdt virtscope
probe keepalive.received at usdt:@virtscope:virtscope:keepalive_received addr=$arg1 value=$arg2
probe keepalive.sent     at usdt:@virtscope:virtscope:keepalive_sent addr=$arg1 value=$arg2
PROFILE
	"$VIRTSCOPE" trace -p "$REF_PID" --profile "$profile" ${kb:+--buffer "$kb"} -d 120 -o "$out" 2>"$out.err" &
	local vs=$!
	for _ in $(seq 300); do grep -q 'tracing pid' "$out.err" 2>/dev/null && break; sleep 0.05; done
	kill -STOP "$vs"
	"$REFCLIENT" -s "$REF_SOCK" -n "$n" ping >"$TMP/lost.client" || { kill -CONT "$vs"; fail "refclient failed"; }
	kill -CONT "$vs"
	[ "$(grep -c '^ok ' "$TMP/lost.client")" -eq "$n" ] || fail "not $n pings answered"
	sleep 0.5
	kill -INT "$vs"
	wait "$vs" || fail "trace failed: $(cat "$out.err")"
	echo "$(grep -c ' keepalive\.' "$out") $(awk '/ lost count=/ { for (i = 1; i <= NF; i++) if ($i ~ /^count=/) { sub(/count=/, "", $i); s += $i } } END { print s + 0 }' "$out")"
}

test_lost_events_add_up() {
	local n=3000 seen lost per_ping expected
	start_ref
	# with the default buffer (8 MiB): nothing lost, and what one ping makes
	read -r seen lost <<<"$(ping_burst "" "$n")"
	[ "$lost" -eq 0 ] || fail "lost $lost events with the default buffer"
	[ $((seen % n)) -eq 0 ] && [ "$seen" -gt 0 ] || fail "$seen events for $n pings"
	per_ping=$((seen / n))
	expected=$((per_ping * n))
	# with a 4 KiB buffer (about ten records): seen + lost = expected
	read -r seen lost <<<"$(ping_burst 4 "$n")"
	echo "4 KiB buffer: $seen seen + $lost lost, $expected expected" >&2
	stop_ref
	[ "$lost" -gt 0 ] || fail "a 4 KiB buffer lost nothing: the burst did not overflow it"
	[ $((seen + lost)) -eq "$expected" ] || fail "$seen seen + $lost lost != $expected"
}
