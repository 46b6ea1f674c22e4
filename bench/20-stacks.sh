#!/usr/bin/env bash
# The stack layer on the real daemon: the share of samples whose user stack
# reaches the thread's root, for virtscope's CFI unwinding, frame pointers,
# and perf's own DWARF mode, all in the same run; the unwinding and naming
# throughput; and what CFI unwinding costs the daemon against frame pointers.
set -euo pipefail
source bench/lib.sh

SECS=${SECS:-6}
ROUNDS=${ROUNDS:-3}
tmp=$(mktemp -d /tmp/virtscope-bench-stacks.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

ROOTS='^(_start|__libc_start_main|__libc_start_main_impl|start_thread|clone3|__clone3|clone|__clone)$'

# The share (%) of folded samples whose outermost user frame is a root.
folded_root_share() {
	awk -v roots="$ROOTS" '{ w = $NF; split($0, f, ";"); n += w; r = f[2]; sub(/ [0-9]+$/, "", r)
		if (r ~ roots) ok += w } END { printf "%.1f", n ? 100 * ok / n : 0 }' "$1"
}

# The same for `perf script` output: the last user frame of each sample.
perf_root_share() {
	perf script -i "$1" -F comm,ip,sym,dso 2>/dev/null | awk -v roots="$ROOTS" '
		function done() { if (inside) { n++; if (last ~ roots) ok++ } inside = 0; last = "" }
		/^[^ \t]/ { done(); inside = 1; next }
		/^[ \t]*$/ { done(); next }
		/kernel.kallsyms/ { next }
		{ s = $2; sub(/\+0x[0-9a-f]+$/, "", s); last = s }
		END { done(); printf "%.1f", n ? 100 * ok / n : 0 }'
}

measure() {
	local scenario=$1
	shift
	scripts/load "$scenario" -d $((3 * SECS + 8)) "$@" >/dev/null 2>&1 &
	local load=$!
	sleep 2
	"$VIRTSCOPE" -v profile -p "$LAB_PID" -F 999 -d "$SECS" -o "$tmp/dwarf.folded" 2>"$tmp/dwarf.err"
	"$VIRTSCOPE" profile -p "$LAB_PID" --unwind fp -F 999 -d "$SECS" -o "$tmp/fp.folded" 2>/dev/null
	perf record -q -p "$LAB_PID" --call-graph dwarf -F 999 -o "$tmp/perf.data" -- sleep "$SECS" >/dev/null 2>&1 || true
	wait "$load" || true
	local samples layer
	samples=$(awk '{ s += $NF } END { print s + 0 }' "$tmp/dwarf.folded")
	layer=$(grep -oE 'warm unwind\+name [0-9]+' "$tmp/dwarf.err" | awk '{print $3}')
	printf '| %s | %s | %s %% | %s %% | %s %% | %s |\n' "$scenario" "$samples" \
		"$(folded_root_share "$tmp/dwarf.folded")" "$(folded_root_share "$tmp/fp.folded")" \
		"$(perf_root_share "$tmp/perf.data")" "${layer:-?}"
	grep -oE 'unwound .*' "$tmp/dwarf.err" | sed "s/^/<!-- $scenario: /; s/$/ -->/" >&2
}

echo "## Complete stacks on the stripped daemon"
echo
echo "libvirtd's own threads, sampled at 999 Hz for $SECS s each, one after another under the"
echo "same load. A stack reaches the root when its outermost user frame is \`start_thread\`/\`clone3\`"
echo "or \`_start\`/\`__libc_start_main\`. perf: \`perf record --call-graph dwarf -F 999 -p PID\` (8 KiB"
echo "stack copies, libdw). Throughput: virtscope's warm unwinding plus naming, stacks per second on"
echo "one core, from \`virtscope -v profile\`."
echo
echo "| load | samples | virtscope (CFI) | frame pointers | perf --call-graph dwarf | warm stacks/s |"
echo "|---|---|---|---|---|---|"
measure rpc
measure start-destroy --domains 2
echo
echo "Cost of CFI unwinding against frame-pointer mode, both at 999 Hz, alternating runs"
echo "($ROUNDS rounds of \`scripts/load rpc -d 8\`):"
echo
echo "| scenario | ops/s with --unwind fp | ops/s with --unwind dwarf | ratio dwarf/fp |"
echo "|---|---|---|---|"
compare rpc 8 "$ROUNDS" profile,-F,999,--unwind,fp profile,-F,999
