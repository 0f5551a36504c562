#!/usr/bin/env python3
"""Turns the last criterion run (target/criterion) into the ratio tables of
benches/README.md: throughput of each contender, as a ratio to the baselines and to
the fastest peer measured in the same run."""
import json, pathlib, sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
rows = {}
for bench in root.glob("**/new/benchmark.json"):
    meta = json.loads(bench.read_text())
    est = json.loads((bench.parent / "estimates.json").read_text())
    group, name = meta["group_id"], meta["function_id"]
    nbytes = (meta.get("throughput") or {}).get("Bytes")
    if not nbytes:
        continue
    gib_s = nbytes / (est["mean"]["point_estimate"] * 1e-9) / 2**30
    rows.setdefault(group, {})[name] = gib_s

OURS = ["sse-proto", "sse-proto stream_data", "sse-proto OwnedParser", "sse-proto EventReader", "sse-tokio EventStream", "sse-tokio SseDecoder"]
PEERS = ["sse-parse", "sse-core", "sseer", "sse-stream", "eventsource-stream"]
print("| corpus / chunk | sse-proto GiB/s | / memchr2 | / memcpy | / fastest peer (which) | stream_data / memcpy | OwnedParser / fastest peer | OwnedParser / sse-proto | EventReader / fastest peer | sse-tokio EventStream / fastest peer | sse-tokio SseDecoder / fastest peer |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for group in sorted(g for g in rows if g.startswith("parse/")):
    r = rows[group]
    ours = r.get("sse-proto")
    if ours is None:
        continue
    peers = {p: r[p] for p in PEERS if p in r}
    best = max(peers, key=peers.get) if peers else None
    def ratio(a, b):
        return f"{a / b:.2f}x" if a and b else "-"
    print(f"| {group[6:]} | {ours:.2f} | {ratio(ours, r.get('memchr2 line ends'))} | {ratio(ours, r.get('memcpy'))} "
          f"| {ratio(ours, peers.get(best))} ({best}) | {ratio(r.get('sse-proto stream_data'), r.get('memcpy'))} "
          f"| {ratio(r.get('sse-proto OwnedParser'), peers.get(best))} "
          f"| {ratio(r.get('sse-proto OwnedParser'), ours)} "
          f"| {ratio(r.get('sse-proto EventReader'), peers.get(best))} "
          f"| {ratio(r.get('sse-tokio EventStream'), peers.get(best))} "
          f"| {ratio(r.get('sse-tokio SseDecoder'), peers.get(best))} |")
for group in sorted(g for g in rows if not g.startswith("parse/")):
    for name, v in sorted(rows[group].items()):
        print(f"| {group} {name} | {v:.3f} GiB/s |")
