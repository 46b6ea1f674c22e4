# Helpers for the integration tests (sourced by tests/run). A test is a
# function named test_*; it fails on the first failing command (set -e) or
# `fail`, and says why on stderr.

fail() {
	echo "$*" >&2
	return 1
}

# lab_up starts the tests' own lab and exports its facts (LAB_PID, QEMU_URI,
# TEST_URI, DOMAIN_TYPE); lab_down stops it.
lab_up() {
	scripts/lab stop >/dev/null 2>&1 || true
	scripts/lab start >"$TMP/lab-start.out" 2>&1 || { cat "$TMP/lab-start.out" >&2; return 1; }
	eval "$(scripts/lab env)"
	export VIRTSCOPE_LAB_PID VIRTSCOPE_LAB_QEMU_URI VIRTSCOPE_LAB_TEST_URI VIRTSCOPE_LAB_DOMAIN_TYPE
	export LAB_PID=$VIRTSCOPE_LAB_PID QEMU_URI=$VIRTSCOPE_LAB_QEMU_URI \
		TEST_URI=$VIRTSCOPE_LAB_TEST_URI DOMAIN_TYPE=$VIRTSCOPE_LAB_DOMAIN_TYPE
}

lab_down() {
	scripts/lab stop >/dev/null 2>&1 || true
}

# load SCENARIO ARGS... runs the load generator against the lab.
load() {
	scripts/load "$@"
}

# The number of lines of FILE matching the extended regex RE.
count_lines() {
	grep -cE "$2" "$1" || true
}

# The sum of the weights (last field) of the folded lines matching RE.
folded_weight() {
	awk -v re="$2" '$0 ~ re { s += $NF } END { print s + 0 }' "$1"
}

# The sum of the weights of the folded lines containing STRING (not a regex).
folded_weight_has() {
	awk -v s="$2" 'index($0, s) { w += $NF } END { print w + 0 }' "$1"
}

# The sum of the weights of the folded lines whose user stack (kernel frames
# left out) ends with STRING.
folded_weight_user_ends() {
	sed -E 's/;[^;]*_\[k\]//g' "$1" |
		awk -v s="$2" '{ w = $NF; $NF = ""; sub(/ $/, "") }
			length($0) >= length(s) && substr($0, length($0) - length(s) + 1) == s { t += w }
			END { print t + 0 }'
}

# expect_one_line_error FILE: stderr holds exactly one line, prefixed virtscope:
expect_one_line_error() {
	local n
	n=$(wc -l <"$1")
	[ "$n" -eq 1 ] || fail "expected one line of error, got $n: $(cat "$1")"
	grep -q '^virtscope: ' "$1" || fail "error is not prefixed 'virtscope: ': $(cat "$1")"
}
