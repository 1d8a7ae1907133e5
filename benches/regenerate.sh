#!/usr/bin/env bash
# Regenerates BENCHMARKS.md: every criterion bench of the workspace, the OCPI comparison
# (its own workspace, see benches/ocpi-tariffs/Cargo.toml), then the table from criterion's
# estimates. Extra arguments go to criterion, e.g. `--measurement-time 3`.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p benches -- "$@"
(cd benches/ocpi-tariffs && cargo bench -- "$@")
cargo run -q -p benches --bin bench-table > BENCHMARKS.md
