#!/usr/bin/env bash
# Instruction counts (valgrind callgrind) of each contender on each corpus, as a
# ratio to the memchr2 line-end baseline (lower is better): stable where
# wall-clock time on a shared machine is not. Counts only the contender's own
# function (corpus generation is excluded with --toggle-collect).
#
#   benches/callgrind.sh [MiB] [corpus...]
set -euo pipefail
cd "$(dirname "$0")/.."
mib=${1:-4}; shift || true
corpora=("$@"); [ ${#corpora[@]} -gt 0 ] || corpora=(tokens json-1k multiline large-256k tokens-crlf keepalive)
cargo build -q --profile bench -p sse-benches --bin bench-report
bin=target/release/bench-report
declare -A fn=(
  ["sse-proto"]=ours_borrowed ["sse-proto stream_data"]=ours_streamed ["sse-proto OwnedParser"]=ours_owned ["sse-proto OwnedParser batches"]=ours_batches ["sse-proto EventReader"]=ours_reader ["sse-proto EventReader batches"]=ours_reader_batches ["sse-tokio EventStream"]=ours_tokio_stream ["sse-tokio EventStream batches"]=ours_tokio_batches ["sse-tokio SseDecoder"]=ours_tokio_codec ["sse-tokio SseBatchDecoder"]=ours_tokio_codec_batches ["sse-parse"]=sse_parse
  ["sse-core"]=sse_core ["sseer"]=sseer ["sse-stream"]=sse_stream
  ["memchr2 line ends"]=memchr2_baseline ["memcpy"]=memcpy_baseline
)
count() { # contender corpus chunk
  valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect="sse_benches::${fn[$1]}" \
    "$bin" run "$1" "$2" "$3" "$mib" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
contenders=("sse-proto" "sse-proto stream_data" "sse-proto OwnedParser" "sse-proto OwnedParser batches" "sse-proto EventReader" "sse-proto EventReader batches" "sse-tokio EventStream" "sse-tokio EventStream batches" "sse-tokio SseDecoder" "sse-tokio SseBatchDecoder" "sse-parse" "sse-core" "sseer" "sse-stream")
printf '| corpus / chunk | memchr2 (instructions) |'
for c in "${contenders[@]}"; do printf ' %s |' "$c"; done
printf '\n|---|---|%s\n' "$(printf -- '---|%.0s' "${contenders[@]}")"
for corpus in "${corpora[@]}"; do
  for chunk in 65536 1460; do
    base=$(count "memchr2 line ends" "$corpus" "$chunk")
    printf '| %s / %s | %s |' "$corpus" "$chunk" "$base"
    for c in "${contenders[@]}"; do
      n=$(count "$c" "$corpus" "$chunk")
      printf ' %s |' "$(python3 -c "print(f'{$n/$base:.2f}x')")"
    done
    printf '\n'
  done
done
