#!/usr/bin/env bash
# Builds the footprint examples for thumbv7em-none-eabihf, prints what each costs in flash
# and RAM and its worst-case stack, and fails when a path grows past its goal or any binary
# keeps heap code.
#
#   firmware/size.sh            # build, print the table, check the goals
#
# Sizes are measured with the default toolchain. The flash figure is .text + .rodata (code
# and the constant tables it reads: a CRC table costs flash just like code does); .data
# (initial values, here only the simulated receive buffers) and .bss are shown apart.
# Every figure is also shown as a delta over `empty`, a binary with the same runtime
# (cortex-m-rt vector table and reset code, panic handler) and nothing else: the goals
# apply to that delta, the bytes our crates and the example's own few lines add.
#
# Worst-case stack needs nightly (-Z emit-stack-sizes): the frame of every function is read
# from the .stack_sizes section and summed along the deepest call chain from `main`, found in
# the disassembly. It is an upper bound (tail calls are counted as calls); functions without
# a recorded frame count as 0: compiler-builtins' leaf routines (memcpy, memset, division;
# shown as "+builtins") and anything else, which is named. Without nightly the stack column
# says so and nothing fails.
#
# Needs only rustup (it installs the target and llvm-tools) and a POSIX shell with awk.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
target=thumbv7em-none-eabihf
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"

# binary:profile:goal, in bytes of flash delta; binaries not listed are reported only. Each
# path is checked with the opt-level that makes it smallest (README.md, "Optimisation
# level"). The tariff goal is its size when the goal was set (36 604 bytes, 2026-11-24)
# plus 25 %.
goals="dlt645:release:4096 modbus:release:3072 tariff:release-z:45755"
binaries="empty dlt645 dlt645_full modbus modbus_full tariff"
profiles="release release-z"

if command -v rustup >/dev/null 2>&1; then
    rustup target add "$target" >/dev/null 2>&1 || true
    rustup component add llvm-tools >/dev/null 2>&1 ||
        rustup component add llvm-tools-preview >/dev/null 2>&1 || true
fi
sysroot=$(rustc --print sysroot)
tool() {
    local candidate
    for candidate in "$sysroot"/lib/rustlib/*/bin/"$1" "$(command -v "$1" || true)"; do
        if [ -n "$candidate" ] && [ -x "$candidate" ]; then
            echo "$candidate"
            return
        fi
    done
    echo "size.sh: $1 not found; run: rustup component add llvm-tools" >&2
    exit 2
}
llvm_size=$(tool llvm-size)
llvm_nm=$(tool llvm-nm)
llvm_objdump=$(tool llvm-objdump)
llvm_readobj=$(tool llvm-readobj)

for profile in $profiles; do
    cargo build --quiet --profile "$profile"
done

# Stack sizes come from a nightly build of the same sources, in its own target directory.
stack_dir=""
if cargo +nightly --version >/dev/null 2>&1; then
    rustup +nightly target add "$target" >/dev/null 2>&1 || true
    stack_dir="$CARGO_TARGET_DIR/stack-sizes"
    for profile in $profiles; do
        if ! RUSTFLAGS="-C link-arg=-Tlink.x -Z emit-stack-sizes" CARGO_TARGET_DIR="$stack_dir" \
            cargo +nightly build --quiet --profile "$profile"; then
            echo "size.sh: the nightly build for stack sizes failed; stack not measured" >&2
            stack_dir=""
            break
        fi
    done
fi

# "flash text rodata data bss" of an ELF file, from its section headers.
sections() {
    "$llvm_size" -A "$1" | awk '
        $1 == ".vector_table" { vectors += $2 }
        $1 == ".text" { text += $2 }
        $1 == ".rodata" { rodata += $2 }
        $1 == ".data" { data += $2 }
        $1 == ".bss" || $1 == ".uninit" { bss += $2 }
        END { printf "%d %d %d %d %d\n", vectors + text + rodata, text, rodata, data, bss }'
}

# Worst-case stack from `main`: "<bytes>" or "<bytes> (+N unsized: a, b)" or "recursive".
worst_stack() {
    local elf=$1
    {
        "$llvm_readobj" --stack-sizes "$elf" | awk '
            /Functions: \[/ { sub(/.*Functions: \[/, ""); sub(/\].*/, ""); n = split($0, names, /, /) }
            /Size: 0x/ { sub(/.*Size: 0x/, ""); for (i = 1; i <= n; i++) print "S", names[i], $0 }'
        "$llvm_objdump" -d --no-show-raw-insn "$elf" | awk '
            /^[0-9a-f]+ <[^>]+>:$/ { fn = $2; gsub(/[<>:]/, "", fn); next }
            fn ~ /^\$/ { next }
            $2 ~ /^b/ && $NF !~ /\+0x/ && match($0, /<[^>]+>/) {
                callee = substr($0, RSTART + 1, RLENGTH - 2)
                if (callee !~ /\+/ && callee != fn) print "E", fn, callee
            }
            $2 == "blx" && $3 ~ /^r[0-9]|^lr|^ip/ { print "I", fn }'
    } | awk '
        function hex(s,    i, v, c) {
            v = 0
            for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", tolower(substr(s, i, 1))) - 1; v = v * 16 + c }
            return v
        }
        function worst(f,    i, w, best) {
            if (f in memo) return memo[f]
            if (f in active) { recursive = 1; return 0 }
            active[f] = 1
            if (!(f in size)) unsized[f] = 1
            if (f in indirect) indirect_seen = 1
            best = 0
            for (i = 1; i <= ncallees[f]; i++) { w = worst(callee[f, i]); if (w > best) best = w }
            delete active[f]
            memo[f] = size[f] + best
            return memo[f]
        }
        $1 == "S" { size[$2] = hex($3) }
        $1 == "E" { key = $2 SUBSEP $3; if (!(key in seen)) { seen[key] = 1; callee[$2, ++ncallees[$2]] = $3 } }
        $1 == "I" { indirect[$2] = 1 }
        END {
            total = worst("main")
            if (recursive) { print "recursive"; exit }
            out = total ""
            # compiler-builtins (memcpy, memset, division) ship without frame records; they
            # are leaves with small frames. Anything else unsized is named.
            list = ""; builtins = 0
            for (f in unsized) {
                if (f ~ /compiler_builtins|^__[a-z]|^mem(cpy|set|move|cmp)$/) builtins++
                else list = list (list == "" ? "" : ", ") f
            }
            if (builtins) out = out " +builtins"
            if (list != "") out = out " (unsized: " list ")"
            if (indirect_seen) out = out " (+indirect calls)"
            print out
        }'
}

heap_symbols() {
    "$llvm_nm" "$1" | awk '$3 ~ /__rust_alloc|__rust_dealloc|__rust_realloc|__rg_alloc|NoHeap/ { print $3 }'
}

failed=0
printf '%-12s %-9s %7s %7s %7s %8s %6s %6s  %s\n' binary profile .text .rodata flash "Δ flash" .data .bss "stack (bytes)"
for profile in $profiles; do
    dir="$CARGO_TARGET_DIR/$target/$profile"
    read -r base_flash _ <<<"$(sections "$dir/empty")"
    for bin in $binaries; do
        elf="$dir/$bin"
        read -r flash text rodata data bss <<<"$(sections "$elf")"
        delta=$((flash - base_flash))
        stack="not measured (nightly missing)"
        if [ -n "$stack_dir" ]; then
            stack=$(worst_stack "$stack_dir/$target/$profile/$bin")
        fi
        verdict=""
        for entry in $goals; do
            IFS=: read -r goal_bin goal_profile goal <<<"$entry"
            if [ "$goal_bin" = "$bin" ] && [ "$goal_profile" = "$profile" ]; then
                if [ "$delta" -le "$goal" ]; then
                    verdict="  goal ≤ $goal: ok"
                else
                    verdict="  goal ≤ $goal: EXCEEDED by $((delta - goal))"
                    failed=1
                fi
            fi
        done
        heap=$(heap_symbols "$elf")
        if [ -n "$heap" ]; then
            verdict="$verdict  HEAP CODE LINKED: $(echo "$heap" | tr '\n' ' ')"
            failed=1
        fi
        if [ "$bin" = empty ]; then delta_text="(base)"; else delta_text="+$delta"; fi
        printf '%-12s %-9s %7d %7d %7d %8s %6d %6d  %s%s\n' \
            "$bin" "$profile" "$text" "$rodata" "$flash" "$delta_text" "$data" "$bss" "$stack" "$verdict"
    done
done
echo "flash = .vector_table + .text + .rodata; Δ flash = flash − empty's flash (the goals apply to it)"
if [ "$failed" -ne 0 ]; then
    echo "size.sh: a firmware footprint goal is exceeded or heap code is linked (see above)" >&2
    exit 1
fi
