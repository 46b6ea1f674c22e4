#!/usr/bin/env python3
"""Validates virtscope's exports against their formats.

  validate.py chrome FILE      Chrome trace-event JSON: required fields per
                               phase, slices nested per track, time order,
                               every flow start matched by a finish on
                               another thread at or after it.
  validate.py speedscope FILE  speedscope JSON: the schema's required fields,
                               frame indices in range, weights >= 0 and
                               summing to endValue.
Prints one line of facts and exits 0, or the first violation and exits 1.
"""
import json
import sys
from collections import defaultdict


def fail(msg):
    print("INVALID: " + msg)
    sys.exit(1)


def check_chrome(doc):
    evs = doc.get("traceEvents")
    if not isinstance(evs, list):
        fail("no traceEvents array")
    tracks = defaultdict(list)
    flows = {}
    finishes = {}
    cats = defaultdict(int)
    last_ts = None
    threads = set()
    for i, e in enumerate(evs):
        ph = e.get("ph")
        for k in ("ph", "pid", "tid", "name"):
            if k not in e:
                fail("event %d lacks %s" % (i, k))
        if ph == "M":
            if e["name"] == "thread_name":
                threads.add(e["tid"])
            continue
        if "ts" not in e or not isinstance(e["ts"], (int, float)):
            fail("event %d lacks a numeric ts" % i)
        if ph == "X":
            if not isinstance(e.get("dur"), (int, float)) or e["dur"] < 0:
                fail("slice %d has no valid dur" % i)
            if last_ts is not None and e["ts"] < last_ts:
                fail("slice %d is out of time order" % i)
            last_ts = e["ts"]
            tracks[(e["pid"], e["tid"])].append((e["ts"], e["dur"], i))
            cats[e.get("cat", "")] += 1
        elif ph == "s":
            flows[e["id"]] = e
        elif ph == "f":
            finishes[e["id"]] = e
        else:
            fail("unexpected phase %r at %d" % (ph, i))
    # nesting: on each track, a slice that starts inside another ends inside it
    eps = 0.0015  # timestamps are printed to the nanosecond
    for key, slices in tracks.items():
        stack = []
        for ts, dur, i in sorted(slices, key=lambda s: (s[0], -s[1])):
            while stack and stack[-1] <= ts + eps:
                stack.pop()
            if stack and ts + dur > stack[-1] + eps:
                fail("slice %d on track %s straddles its parent's end" % (i, key))
            stack.append(ts + dur)
    for fid, s in flows.items():
        f = finishes.get(fid)
        if f is None:
            fail("flow %s has no finish" % fid)
        if f["ts"] + eps < s["ts"]:
            fail("flow %s finishes before it starts" % fid)
        if f["tid"] == s["tid"]:
            fail("flow %s does not go to another thread" % fid)
    if set(finishes) - set(flows):
        fail("a flow finish without a start")
    untitled = {t for (_, t) in tracks} - threads
    print("chrome ok: %d slices on %d tracks (%d unnamed), %d flows, categories %s" % (
        sum(len(v) for v in tracks.values()), len(tracks), len(untitled), len(flows),
        ",".join("%s=%d" % kv for kv in sorted(cats.items()))))


def check_speedscope(doc):
    if doc.get("$schema") != "https://www.speedscope.app/file-format-schema.json":
        fail("no speedscope $schema")
    frames = doc.get("shared", {}).get("frames")
    if not isinstance(frames, list) or not all(isinstance(f.get("name"), str) for f in frames):
        fail("shared.frames is not a list of named frames")
    profs = doc.get("profiles")
    if not isinstance(profs, list) or not profs:
        fail("no profiles")
    facts = []
    for p in profs:
        for k in ("type", "name", "unit", "startValue", "endValue", "samples", "weights"):
            if k not in p:
                fail("profile lacks %s" % k)
        if p["type"] != "sampled":
            fail("unexpected profile type %r" % p["type"])
        if len(p["samples"]) != len(p["weights"]):
            fail("profile %s: %d samples but %d weights" % (p["name"], len(p["samples"]), len(p["weights"])))
        for s in p["samples"]:
            if not s or any(not isinstance(i, int) or i < 0 or i >= len(frames) for i in s):
                fail("profile %s: a sample indexes no frame" % p["name"])
        if any(w < 0 for w in p["weights"]):
            fail("negative weight")
        if sum(p["weights"]) != p["endValue"] - p["startValue"]:
            fail("profile %s: weights do not sum to endValue" % p["name"])
        facts.append("%s=%d samples" % (p["name"], len(p["samples"])))
    print("speedscope ok: %d frames, %s" % (len(frames), ", ".join(facts)))


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("chrome", "speedscope"):
        print(__doc__)
        sys.exit(2)
    with open(sys.argv[2]) as f:
        doc = json.load(f)
    (check_chrome if sys.argv[1] == "chrome" else check_speedscope)(doc)


main()
