#!/usr/bin/env bash
# The .text that sse-proto adds to a bare-metal binary (thumbv7em-none-eabihf,
# opt-level "z", LTO, panic = abort, --cfg sse_proto_small from .cargo/config.toml):
# the example built with the parser, and with the parser and the encoder, less the
# baseline built with neither.
#
#   bare-metal/measure.sh           prints the figures
#   bare-metal/measure.sh --check   also fails if one is over 110% of recorded.txt's
set -euo pipefail
cd "$(dirname "$0")"
text() { # cargo build flags...
    cargo build -q --release --target thumbv7em-none-eabihf "$@"
    python3 size.py target/thumbv7em-none-eabihf/release/sse-bare-metal .text | cut -d' ' -f2
}
base=$(text --no-default-features)
parser=$(( $(text) - base ))
both=$(( $(text --features encoder) - base ))
echo "parser (EmbeddedReader, Parser::from_slice): $parser bytes of .text"
echo "parser and encoder (write_message): $both bytes of .text"
# For comparison, sse-proto's default code (fast paths, vectorised searches) instead
# of the smaller code .cargo/config.toml asks for: built apart, not checked.
(
    export RUSTFLAGS="" CARGO_TARGET_DIR=target/default-code
    text() { # cargo build flags...
        cargo build -q --release --target thumbv7em-none-eabihf "$@"
        python3 size.py target/default-code/thumbv7em-none-eabihf/release/sse-bare-metal .text | cut -d' ' -f2
    }
    base=$(text --no-default-features)
    echo "default code, parser: $(( $(text) - base )) bytes; with the encoder: $(( $(text --features encoder) - base )) bytes"
)
if [ "${1:-}" = "--check" ]; then
    status=0
    while read -r name recorded; do
        case $name in parser) now=$parser ;; parser+encoder) now=$both ;; *) continue ;; esac
        limit=$(( recorded * 11 / 10 ))
        if [ "$now" -gt "$limit" ]; then
            echo "FAIL: $name is $now bytes, over 110% of the recorded $recorded (bare-metal/recorded.txt)"
            status=1
        fi
    done < recorded.txt
    exit $status
fi
