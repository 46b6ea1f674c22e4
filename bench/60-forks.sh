#!/usr/bin/env bash
# Forks per operation and what they cost libvirtd, from `virtscope forks`:
# define with 0, 16 and 20 SCSI disks, and start (of a diskless domain), so
# that a change in libvirt's forking (a capability lookup that forks per
# device, say) shows up here as a number.
set -euo pipefail
source bench/lib.sh

N=${N:-20} # operations of each kind traced per row

# row WHAT RPC LOAD_OP LOAD ARGS...: virtscope forks while the load runs;
# the figures of operation RPC, and the load's mean latency of LOAD_OP.
row() {
	local what=$1 rpc=$2 load_op=$3 out pid lat detail
	shift 3
	out=$(mktemp /tmp/virtscope-bench-forks.XXXXXX)
	"$VIRTSCOPE" forks -p "$LAB_PID" -d 300 -o "$out" 2>"$out.err" &
	pid=$!
	for _ in $(seq 200); do grep -q 'tracing forks' "$out.err" 2>/dev/null && break; sleep 0.05; done
	sleep 0.3
	lat=$(scripts/load "$@" 2>/dev/null | awk -v op="$load_op" '$1 == op { print $6 }')
	sleep 0.3
	kill -INT "$pid"
	wait "$pid" || true
	detail=$(grep -A1 "^  $rpc: " "$out" | tail -1)
	rm -f "$out" "$out.err"
	f() { local v; v=$(echo "$detail" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"); echo "${v:-0}"; }
	awk -v what="$what" -v op="$rpc" -v runs="$(f runs)" -v forks="$(f forks)" \
		-v fms="$(f fork_ms)" -v execs="$(f execs)" -v te="$(f to_exec_ms_avg)" \
		-v caps="$(f caps)" -v cms="$(f caps_ms)" -v lat="${lat:-?}" 'BEGIN {
		n = runs > 0 ? runs : 1
		per_fork = forks > 0 ? fms / forks : 0
		exec_s = execs > 0 ? sprintf("%d, %.2f ms to exec", execs, te) : "0"
		printf "| %s | %s | %d | %.2f | %.3f | %.3f | %.2f | %.3f | %s | %s |\n", what, op,
			runs, forks / n, fms / n, per_fork, caps / n, cms / n, exec_s, lat }'
}

echo "## Forks per operation (virtscope forks)"
echo
echo "\`virtscope forks\` attached while \`scripts/load\` runs $N operations of a kind"
echo "(\`define-undefine -j 1 --same-threads 0 --disks D\`, \`start-destroy --domains 1\`)."
echo "Per run of the RPC: forks, the daemon's time inside fork() (the parent's side:"
echo "page-table copies and glibc's fork handlers), QEMU capability lookups and the"
echo "time inside them, and the children that exec'd (time from the fork to the exec)."
echo "\"mean ms\" is the load's own mean latency of the operation, traced."
echo
echo "| load | operation | runs | forks/op | ms/op in fork | ms per fork | caps lookups/op | caps ms/op | exec'd | mean ms |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for disks in 0 16 20; do
	row "define, $disks disks" DOMAIN_DEFINE_XML define \
		define-undefine -j 1 --same-threads 0 --disks "$disks" -n $((2 * N)) -d 120
done
row "start" DOMAIN_CREATE start start-destroy --domains 1 -n $((2 * N)) -d 300

# What --syscalls costs the machine: a system call's time (perf bench syscall
# basic, getppid in a loop) with forks --syscalls attached, against the same
# without it, alternating, ROUNDS times.
ROUNDS=${ROUNDS:-5}
syscall_us() { perf bench syscall basic 2>/dev/null | awk '/usecs\/op/ { print $1 }'; }
off=() on=()
for _ in $(seq "$ROUNDS"); do
	off+=("$(syscall_us)")
	out=$(mktemp /tmp/virtscope-bench-forks.XXXXXX)
	"$VIRTSCOPE" forks -p "$LAB_PID" --syscalls -d 300 -o "$out" 2>"$out.err" &
	pid=$!
	for _ in $(seq 200); do grep -q 'tracing forks' "$out.err" 2>/dev/null && break; sleep 0.05; done
	on+=("$(syscall_us)")
	kill -INT "$pid"
	wait "$pid" || true
	rm -f "$out" "$out.err"
done
echo
echo "\`forks --syscalls\` also times raw fork and clone system calls, through their"
echo "tracepoints, which put every system call on the machine on the kernel's traced"
echo "path while attached. \`perf bench syscall basic\` (getppid), alternating without"
echo "and with it, $ROUNDS rounds; the anchor is the run without, in the same round:"
echo
printf '%s\n' "${off[@]}" >/tmp/vs-off.$$
printf '%s\n' "${on[@]}" >/tmp/vs-on.$$
paste /tmp/vs-off.$$ /tmp/vs-on.$$ | awk '{ o += $1; n += $2; r[NR] = $2 / $1 }
	END {
		k = NR; for (i = 1; i <= k; i++) s += r[i]; m = s / k
		for (i = 1; i <= k; i++) v += (r[i] - m) ^ 2
		printf "| us per system call, without | with --syscalls | ratio |\n|---|---|---|\n"
		printf "| %.3f | %.3f | **%.3f ± %.3f** |\n", o / k, n / k, m, sqrt(v / k) }'
rm -f /tmp/vs-off.$$ /tmp/vs-on.$$
