#!/usr/bin/env bash
# What `virtscope flame` costs on a big profile: a million unique folded
# stacks of depth 5 to 40 (about 200 MB, from bench/flame_gen.c with a fixed
# seed), against the anchor of merely reading the same file from the page
# cache. Three orders of the same lines: sorted (as `virtscope profile` and
# the stackcollapse scripts write them), the generator's depth-first order
# (unsorted, neighbours share prefixes), and shuffled (nothing shared).
set -euo pipefail

STACKS=${STACKS:-1000000}
ROUNDS=${ROUNDS:-3}
VIRTSCOPE=${VIRTSCOPE:-$PWD/build/virtscope}
work=$(mktemp -d /tmp/virtscope-bench-flame.XXXXXX)
trap 'rm -rf "$work"' EXIT

cc -O2 -o "$work/flame_gen" bench/flame_gen.c
"$work/flame_gen" -n "$STACKS" >"$work/dfs.folded"
LC_ALL=C sort -S 1G "$work/dfs.folded" >"$work/sorted.folded"
"$work/flame_gen" -n "$STACKS" --shuffle >"$work/shuffled.folded"

# secs CMD...: wall-clock seconds of one run, to the millisecond.
secs() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null
	t1=$(date +%s%N)
	awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.3f", ns / 1e9 }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# rounds CMD...: the median of ROUNDS runs.
rounds() {
	local r
	for r in $(seq "$ROUNDS"); do secs "$@"; echo; done | median
}

# The peak resident set of one run, in MB (/usr/bin/time's "Maximum
# resident set size"; the input file's mapped pages count in it).
peak_mb() {
	/usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }'
}

ratio2() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'; }

size_mb=$(du -m "$work/sorted.folded" | cut -f1)
echo "## Flame graphs of a million stacks (virtscope flame)"
echo
echo "Input: \`flame_gen -n $STACKS\` (bench/flame_gen.c, seed 42): $STACKS unique folded stacks of"
echo "depth 5 to 40, ${size_mb} MB. Anchors: reading the same file from the page cache with"
echo "\`cat FILE >/dev/null\` and \`wc -l FILE\`. Times are medians of $ROUNDS runs, each after a warm-up"
echo "read; peak memory is /usr/bin/time's maximum resident set size (the input's mapped pages"
echo "count in it). Command: \`virtscope flame FILE -o OUT.svg\` (default --minwidth 0.1 px), which"
echo "parses a big input on every CPU ($(nproc) here); \"one CPU\" is the same command under"
echo "\`taskset -c 0\`, the anchor for what the threads gain, run alternately with it."
echo
echo "| input order | cat | wc -l | virtscope flame | one CPU | one CPU / all | peak RSS | flame / wc -l | frames drawn (elided) | SVG |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for order in sorted dfs shuffled; do
	f=$work/$order.folded
	cat "$f" >/dev/null
	c=$(rounds cat "$f")
	w=$(rounds wc -l "$f")
	# alternating, so that a drift of the machine's speed hits both alike
	: >"$work/all" && : >"$work/one"
	for _ in $(seq "$ROUNDS"); do
		secs "$VIRTSCOPE" flame "$f" -o "$work/out.svg" >>"$work/all" && echo >>"$work/all"
		secs taskset -c 0 "$VIRTSCOPE" flame "$f" -o "$work/out.svg" >>"$work/one" && echo >>"$work/one"
	done
	v=$(median <"$work/all")
	v1=$(median <"$work/one")
	m=$(peak_mb "$VIRTSCOPE" flame "$f" -o "$work/out.svg")
	drawn=$(grep -o 'data-frames="[0-9]*"' "$work/out.svg" | cut -d'"' -f2)
	elided=$(grep -o 'data-elided="[0-9]*"' "$work/out.svg" | cut -d'"' -f2)
	svg_kb=$(($(stat -c %s "$work/out.svg") / 1024))
	case $order in
	sorted) label="sorted (as profilers write it)" ;;
	dfs) label="depth-first, unsorted" ;;
	*) label="shuffled" ;;
	esac
	echo "| $label | $c s | $w s | $v s | $v1 s | $(ratio2 "$v1" "$v") | $m MB | $(ratio "$v" "$w") | $drawn ($elided) | $svg_kb KiB |"
done
echo
f=$work/sorted.folded
echo "Other outputs of the sorted input: \`--format folded\` $(rounds "$VIRTSCOPE" flame --format folded "$f") s,"
echo "\`--format speedscope\` $(rounds "$VIRTSCOPE" flame --format speedscope "$f") s."
echo "For comparison, the issue reports flamegraph.pl at about 150 s and 7.2 GB on such an input"
echo "(not measured here)."
