#!/usr/bin/env bash
# What off-CPU tracing costs the daemon under `rpc` (the most context
# switching of the scenarios), against no tracing, in alternating runs; how
# many switches and long-block records virtscope takes per second without
# loss, its reader pinned to one core; and the same figures for bcc's
# offcputime where it runs.
set -euo pipefail
source bench/lib.sh

ROUNDS=${ROUNDS:-3}
SECS=${SECS:-8}

echo "## Cost of off-CPU tracing (virtscope offcpu)"
echo
echo "Anchor: \`scripts/load rpc -d $SECS\` without virtscope, alternating runs ($ROUNDS rounds),"
echo "against the same load with \`virtscope offcpu\` (every switch counted, blocks of 1 ms"
echo "or more with stacks) and with \`--min-block 0.001\` (nearly every block with its"
echo "stacks: the worst case)."
echo
echo "| scenario | virtscope | ops/s without | ops/s with | ratio with/without |"
echo "|---|---|---|---|---|"
row() { local what=$1; shift; compare "$@" | sed "s/^| \([^|]*\) |/| \1 | $what |/"; }
row "offcpu" rpc "$SECS" "$ROUNDS" none offcpu
row "offcpu --min-block 0.001" rpc "$SECS" "$ROUNDS" none offcpu,--min-block,0.001
# OFFCPU_BEFORE=PATH: another virtscope binary (an earlier build) measured
# the same way in the same run, for a before/after.
if [ -n "${OFFCPU_BEFORE:-}" ]; then
	VIRTSCOPE=$OFFCPU_BEFORE row "offcpu, before" rpc "$SECS" "$ROUNDS" none offcpu
	before_note="\"before\": \`$OFFCPU_BEFORE\`${OFFCPU_BEFORE_NOTE:+, $OFFCPU_BEFORE_NOTE}."
fi

[ -n "${before_note:-}" ] && { echo; echo "$before_note"; }

# Throughput: the switches counted and records sent per second, with the
# reader on one core, and whether any was lost.
throughput() {
	local err
	err=$(mktemp /tmp/virtscope-bench-offcpu.XXXXXX)
	taskset -c 1 "$VIRTSCOPE" -v offcpu -p "$LAB_PID" "$@" -d "$((SECS + 1))" -o /dev/null 2>"$err" &
	local vs=$!
	sleep 1
	scripts/load rpc -d "$SECS" >/dev/null 2>&1 || true
	wait "$vs" || true
	# the long blocks sent without stacks: at the thread's last ones
	local same
	same=$(sed -n 's/.* \([0-9]*\) where the thread.s last stacks were.*/\1/p' "$err")
	sed -n 's/.*virtscope: \([0-9]*\) switches counted in \([0-9.]*\) s, \([0-9]*\) long blocks sent, \([0-9]*\) lost.*/\1 \2 \3 \4/p' "$err" |
		awk -v what="$*" -v same="${same:-0}" '{ printf "| offcpu %s | %.0f | %.0f | %.0f | %d |\n", what, $1 / $2, $3 / $2, ($3 - same) / $2, $4 }'
	rm -f "$err"
}
echo
echo "Events handled under the same load, virtscope pinned to CPU 1 (\`taskset -c 1\`); a long block"
echo "where its thread last blocked with stacks sent (same user ip, sp and system call) goes"
echo "without stacks, and reuses them:"
echo
echo "| virtscope | switches/s counted | long blocks/s | of which with stacks | lost |"
echo "|---|---|---|---|---|"
throughput
throughput --min-block 0.001

# bcc's offcputime, if installed (Debian: bpfcc-tools).
echo
bcc=$(command -v offcputime-bpfcc || true)
if [ -z "$bcc" ]; then
	echo "bcc's offcputime: not installed (\`apt-get install bpfcc-tools\`), not measured."
else
	err=$(mktemp /tmp/virtscope-bench-bcc.XXXXXX)
	timeout 20 "$bcc" -p "$LAB_PID" "$SECS" >/dev/null 2>"$err" &
	bpid=$!
	sleep 3
	if kill -0 "$bpid" 2>/dev/null; then
		o=$(scripts/load rpc -d "$SECS" | sed -n 's/^ops_per_sec=//p')
		wait "$bpid" || true
		echo "bcc's offcputime ($bcc) ran: rpc at $o ops/s with it attached."
	else
		wait "$bpid" || true
		echo "bcc's offcputime ($bcc) does not run on this kernel, so its cost is not measured."
		echo "It compiles its BPF at run time against the kernel's headers, and attaches a kprobe"
		echo "on finish_task_switch (this kernel has no kprobes). It said:"
		echo
		echo '```'
		grep -vE '^[[:space:]]|^Traceback|^$' "$err" | head -3
		echo '```'
	fi
	rm -f "$err"
fi
