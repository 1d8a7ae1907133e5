#!/usr/bin/env bash
# Builds every fuzz target and runs each for a bounded time; fails if any finds a crash.
#
#   fuzz/run.sh [SECONDS]     # SECONDS per target, default 15 (14 targets: 3½ min
#                             # of fuzzing after the build)
#
# Each target starts from its committed seeds (fuzz/seeds/<target>/, read-only: libFuzzer
# writes new inputs only to the first corpus directory, a temporary one here) and any
# crash-* regression input among them must no longer crash. Crash inputs found in this run
# are saved by libFuzzer under fuzz/artifacts/<target>/.
#
# Needs the nightly toolchain and cargo-fuzz (`cargo +nightly install cargo-fuzz --locked`);
# without either it says so and exits 0, so it can run everywhere.
set -euo pipefail

seconds=${1:-15}
case $seconds in
    '' | *[!0-9]*)
        echo "usage: fuzz/run.sh [SECONDS]" >&2
        exit 2
        ;;
esac
fuzz=$(cd "$(dirname "$0")" && pwd)
cd "$fuzz"

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz/run.sh: skipped: no nightly toolchain (rustup toolchain install nightly)"
    exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz/run.sh: skipped: cargo-fuzz is not installed (cargo +nightly install cargo-fuzz --locked)"
    exit 0
fi

targets=$(cargo +nightly fuzz list)
cargo +nightly fuzz build -O

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=""
for target in $targets; do
    mkdir -p "$work/$target"
    corpora=("$work/$target")
    if [ -d "seeds/$target" ]; then
        corpora+=("seeds/$target")
    fi
    log="$work/$target.log"
    if cargo +nightly fuzz run -O "$target" "${corpora[@]}" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1; then
        runs=$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$log")
        cov=$(awk '/DONE|pulse/ { for (i = 1; i <= NF; i++) if ($i == "cov:") c = $(i + 1) } END { print c }' "$log")
        printf '%-18s ok: %s executions in %ss, cov %s\n' "$target" "${runs:-?}" "$seconds" "${cov:-?}"
    else
        echo "$target: FAILED"
        grep -E "panicked at|^thread|assertion|left:|right:|ERROR: libFuzzer|SUMMARY|Test unit written|artifact_prefix" "$log" | head -20
        echo "  reproduce: (cd fuzz && cargo +nightly fuzz run -O $target <input above>)"
        failed="$failed $target"
    fi
done

if [ -n "$failed" ]; then
    echo "fuzz/run.sh: crashes in:$failed (inputs under fuzz/artifacts/; reproduce with" \
        "cargo +nightly fuzz run -O <target> <input>)" >&2
    exit 1
fi
echo "fuzz/run.sh: every target ran ${seconds}s without a crash"
