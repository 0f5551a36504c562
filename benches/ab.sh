#!/usr/bin/env bash
# Two builds of bench-report compared on one contender, by the clock, on a machine
# whose speed drifts: the builds run in turn (A, B, A, B, ...), each invocation
# keeping its fastest of RUNS runs, and the comparison is made pair by pair (B's
# fastest over A's, the two run seconds apart), so that a drift slower than a pair
# cancels out. Prints each build's fastest and the median and spread of the
# pairs' ratios: a change the median moves by less than the spread is not shown.
#
#   benches/ab.sh A_BIN B_BIN CONTENDER CORPUS CHUNK [PAIRS=15] [RUNS=200] [MiB=1]
#
# Build each side with the same flags (bench profile), and copy the binary out of
# target/ before building the other, e.g.:
#   cargo build --profile bench -p sse-benches --bin bench-report
#   cp target/release/bench-report /tmp/br-a
set -euo pipefail
if [ $# -lt 5 ]; then
    sed -n '9p' "$0" | sed 's/^# *//' >&2
    exit 2
fi
a=$1 b=$2 contender=$3 corpus=$4 chunk=$5
pairs=${6:-15} runs=${7:-200} mib=${8:-1}
fastest() { # binary -> microseconds of its fastest run
    "$1" run "$contender" "$corpus" "$chunk" "$mib" "$runs" |
        sed -n 's/.*fastest run \([0-9.]*\) us.*/\1/p'
}
times=()
for _ in $(seq "$pairs"); do
    times+=("$(fastest "$a") $(fastest "$b")")
done
printf '%s\n' "${times[@]}" | python3 -c '
import statistics, sys
pairs = [tuple(map(float, line.split())) for line in sys.stdin]
a = [p[0] for p in pairs]
b = [p[1] for p in pairs]
ratios = sorted(y / x for x, y in pairs)
q = lambda f: ratios[min(len(ratios) - 1, int(f * len(ratios)))]
print(f"A fastest {min(a):.1f} us (median {statistics.median(a):.1f}), "
      f"B fastest {min(b):.1f} us (median {statistics.median(b):.1f})")
print(f"B / A time: fastest {min(b) / min(a):.3f}, pairs median {statistics.median(ratios):.3f} "
      f"(middle half {q(0.25):.3f}-{q(0.75):.3f}, all {ratios[0]:.3f}-{ratios[-1]:.3f}, {len(ratios)} pairs)")
'
