#!/usr/bin/env bash
# Scale: the default collectors of `top --json` and of `record`, both
# attached at once, against the lab's libvirtd with 1000 domains defined on
# the test driver and 64 concurrent clients (`scripts/load rpc -j 64`, each
# thread a connection of its own, half of them listing all 1000 domains).
# They must keep up without loss: every RPC the clients made is counted,
# per procedure, against the clients' own count. virtscope's memory is its
# largest RSS over the run, as /proc and top's own header report it.
set -euo pipefail
source bench/lib.sh

SECS=${SECS:-30}
NDOM=${NDOM:-1000}
CLIENTS=${CLIENTS:-64}

dir=$(mktemp -d /tmp/virtscope-bench-scale.XXXXXX)
holder="" top_pid="" rec_pid=""
cleanup() {
	local p
	for p in "$holder" "$top_pid" "$rec_pid"; do
		[ -z "$p" ] || kill "$p" 2>/dev/null || true
	done
	rm -rf "$dir"
}
trap cleanup EXIT

define_test_domains scalebench "$NDOM" $((2 * SECS + 120))
holder=$TEST_HOLDER

# wait_for FILE PATTERN: until virtscope says it is attached.
wait_for() {
	for _ in $(seq 600); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "bench: virtscope did not attach: $(cat "$1")" >&2
	return 1
}

# The anchor: the same load with nothing attached, in the same run.
scripts/load rpc -j "$CLIENTS" -d "$SECS" --json >"$dir/base.json"

"$VIRTSCOPE" top -p "$LAB_PID" --json -d 1 >"$dir/top.json" 2>"$dir/top.err" &
top_pid=$!
"$VIRTSCOPE" record -p "$LAB_PID" -o "$dir/scale.vsr" 2>"$dir/rec.err" &
rec_pid=$!
wait_for "$dir/top.json" '"header"'
wait_for "$dir/rec.err" 'recording pid'
peak_rss_kib "$top_pid" $((SECS + 6)) >"$dir/top.rss" &
peak_rss_kib "$rec_pid" $((SECS + 6)) >"$dir/rec.rss" &
scripts/load rpc -j "$CLIENTS" -d "$SECS" --json >"$dir/load.json"
sleep 2 # a last frame of top after the load
kill -INT "$top_pid" "$rec_pid"
wait "$top_pid" || true
wait "$rec_pid" || true
top_pid="" rec_pid=""
wait # the RSS samplers
"$VIRTSCOPE" report "$dir/scale.vsr" >"$dir/report.txt" 2>"$dir/report.err"

python3 - "$dir" "$NDOM" "$DEFINED" "$CLIENTS" "$SECS" <<'EOF'
import json, re, sys

d, ndom, defined, clients, secs = sys.argv[1], *sys.argv[2:]
load = json.load(open(f"{d}/load.json"))
base = json.load(open(f"{d}/base.json"))
proc_of = {"lookup": "DOMAIN_LOOKUP_BY_NAME", "get-info": "DOMAIN_GET_INFO",
           "list-all": "CONNECT_LIST_ALL_DOMAINS", "get-version": "CONNECT_GET_VERSION"}
client = {}
for name, op in load["ops"].items():
    p = proc_of[name.split("@")[0]]
    client[p] = client.get(p, 0) + op["count"] + op["errors"]

frames = [json.loads(l) for l in open(f"{d}/top.json") if l.strip()]
last = frames[-1]
top = {r["procedure"]: r["calls_total"] for r in last["rpc"]}
top_lost = last["header"]["lost_total"]
top_rss_hdr = max(f["header"].get("virtscope_rss_kib", 0) for f in frames)
top_cpu = [f["header"]["virtscope_cpu_pct"] for f in frames[2:]]
domains = max(len(f["domains"]) for f in frames)

rec = {}
for line in open(f"{d}/report.txt"):
    m = re.match(r"\s+([A-Z_]+)\s+(\d+)\s+(\d+)\s", line)
    if m and m.group(1) in proc_of.values():
        rec.setdefault(m.group(1), int(m.group(2)))
rec_err = open(f"{d}/rec.err").read()
m = re.search(r"(\d+) events, .* over ([0-9.]+) s", rec_err)
events, rec_secs = (int(m.group(1)), float(m.group(2))) if m else (0, 0.0)
# Lost events are in the recording itself; its report says how many.
rec_text = open(f"{d}/report.txt").read() + rec_err
rec_lost = sum(int(n) for n in re.findall(r"(\d+) events were lost", rec_text))
# What was lost, and by which collector, as virtscope said it.
lost_lines = sorted({l.strip() for l in rec_text.splitlines() if "lost" in l and re.search(r"[1-9]", l)})
top_rss = int(open(f"{d}/top.rss").read() or 0)
rec_rss = int(open(f"{d}/rec.rss").read() or 0)

print("## Scale")
print()
print(f"`virtscope top --json -d 1` and `virtscope record` attached at once to the lab's libvirtd,")
print(f"with {defined} of {ndom} domains defined on the test driver, under `scripts/load rpc -j {clients}`")
print(f"for {secs} s: {clients} clients, each on a connection of its own, half of them on the test")
print(f"driver (whose `list-all` returns all {defined} domains), at {load['ops_per_sec']:.0f} ops/s in all.")
print("Each procedure's calls as virtscope counted them, against the clients' own count:")
print()
print("| procedure | clients | top --json | record |")
print("|---|---|---|---|")
for p in proc_of.values():
    print(f"| {p} | {client.get(p, 0)} | {top.get(p, 0)} | {rec.get(p, 0)} |")
print()
print("| | top --json | record | goal |")
print("|---|---|---|---|")
print(f"| events lost | {top_lost} | {rec_lost} | 0 |")
print(f"| largest RSS (KiB), from /proc | {top_rss} | {rec_rss} | bounded |")
print(f"| largest RSS (KiB), as top's header says | {top_rss_hdr} | | |")
print(f"| CPU (% of one core) | {sum(top_cpu) / max(len(top_cpu), 1):.2f} | | |")
print(f"| domains in top's table | {domains} | | |")

print(f"| recorded | | {events} events in {rec_secs:.1f} s | |")
print()
print(f"The clients made {load['ops_per_sec']:.0f} ops/s with both attached, against "
      f"{base['ops_per_sec']:.0f} with nothing attached just before: "
      f"{load['ops_per_sec'] / base['ops_per_sec']:.3f}x.")
ok = top_lost == 0 and rec_lost == 0 and all(
    top.get(p, 0) >= n and rec.get(p, 0) >= n for p, n in client.items())
if lost_lines:
    print()
    print("What record said it lost:")
    print()
    for l in lost_lines:
        print(f"- `{l}`")
print()
print(f"Every client call counted by both, nothing lost: **{'yes' if ok else 'no'}**.")
EOF
