#!/usr/bin/env bash
# Regenerates the committed seed corpora in fuzz/seeds/<target>/ from the crates' test
# vectors and example files, so every target starts from real frames and files instead of
# from nothing. Files named crash-* are regression inputs added by hand; they are kept.
#
#   fuzz/make-seeds.sh
#
# Sources: dlt645/tests/data/*.jsonl and modbus/tests/data/*.jsonl (the "id", "hex", "kind",
# "as", "protocol", "di" and "data" fields), tariff/examples-data/, and the JSON operations
# of ledger/README.md. Needs bash and awk only. The structured targets (*_roundtrip,
# ledger_ops) read `arbitrary` input, which no vector maps to: they have no generated seeds.
set -euo pipefail

fuzz=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$fuzz")
seeds="$fuzz/seeds"

generated_targets="dlt645_frame dlt645_stream dlt645_values modbus_rtu modbus_tcp modbus_pdu
    tariff_files tariff_ocpi tariff_pricing ledger_replay"
for target in $generated_targets; do
    mkdir -p "$seeds/$target"
    find "$seeds/$target" -type f ! -name 'crash-*' -delete
done

# Writes the bytes given as hex (any spacing) to a file.
hex_to_file() {
    local hex=${1//[^0-9A-Fa-f]/} out=$2 escaped="" i
    for ((i = 0; i < ${#hex}; i += 2)); do
        escaped+="\\x${hex:i:2}"
    done
    printf '%b' "$escaped" >"$out"
}

# One JSON string field of a JSON Lines record ("" when absent).
field() {
    local line=$1 key=$2
    printf '%s\n' "$line" | awk -v key="\"$key\"" '{
        i = index($0, key ":")
        if (i == 0) exit
        rest = substr($0, i + length(key) + 1)
        sub(/^ *"/, "", rest)
        sub(/".*/, "", rest)
        print rest
    }'
}

# A file-name slug from a vector's note: its first words, lowercase, dashes.
slug() {
    printf '%s\n' "$1" | tr 'A-Z' 'a-z' | tr -cs 'a-z0-9' '-' | cut -d- -f1-6 | sed 's/-*$//'
}

for file in "$root"/dlt645/tests/data/*.jsonl; do
    while IFS= read -r line; do
        id=$(field "$line" id)
        hex=$(field "$line" hex)
        [ -n "$id" ] && [ -n "$hex" ] || continue
        name="$id-$(slug "$(field "$line" note)")"
        hex_to_file "$hex" "$seeds/dlt645_frame/$name"
        # dlt645_stream: the first byte is where the input is split in two reads.
        hex_to_file "08 $hex" "$seeds/dlt645_stream/$name"
        # dlt645_values: edition byte (0 = 2007, 1 = 1997), then DI and value as in the
        # frame's data field with 0x33 removed (the vector's "data", first frame only).
        data=$(field "$line" data)
        if [ -n "$data" ] && [ ${#data} -ge 8 ]; then
            case $(field "$line" protocol) in
                dlt645-1997) edition=01 ;;
                *) edition=00 ;;
            esac
            hex_to_file "$edition $data" "$seeds/dlt645_values/$name"
        fi
    done <"$file"
done

for file in "$root"/modbus/tests/data/*.jsonl; do
    while IFS= read -r line; do
        id=$(field "$line" id)
        hex=$(field "$line" hex)
        [ -n "$id" ] && [ -n "$hex" ] || continue
        kind=$(field "$line" kind)
        name="$id-$(slug "$(field "$line" note)")"
        # modbus_rtu / modbus_tcp: the first byte picks the direction (even = request).
        case $(field "$line" as) in
            response) selector=01 ;;
            *) selector=00 ;;
        esac
        digits=${hex//[^0-9A-Fa-f]/}
        case $kind in
            rtu)
                hex_to_file "$selector $hex" "$seeds/modbus_rtu/$name"
                pdu=${digits:2:${#digits}-6} # without slave address and CRC
                ;;
            tcp)
                hex_to_file "$selector $hex" "$seeds/modbus_tcp/$name"
                pdu=${digits:14} # without the 7-byte MBAP header
                ;;
            *) continue ;;
        esac
        [ -n "$pdu" ] && hex_to_file "$pdu" "$seeds/modbus_pdu/$name"
    done <"$file"
done

for example in "$root"/tariff/examples-data/*.toml "$root"/tariff/examples-data/*.json \
    "$root"/tariff/examples-data/*.csv "$root"/tariff/examples-data/ocpi/*.toml; do
    cp "$example" "$seeds/tariff_files/$(basename "$example")"
done
for example in "$root"/tariff/examples-data/ocpi/*.json; do
    cp "$example" "$seeds/tariff_ocpi/$(basename "$example")"
done

# tariff_pricing: a flags byte, then 8-byte readings: gap seconds (i16 LE), energy delta Wh
# (i32 LE), rate-register flag, state (1 = idle).
hex_to_file "00  8403 dc050000 00 00  8403 dc050000 00 00  8403 00000000 00 01" \
    "$seeds/tariff_pricing/linear-3-readings-then-idle"
hex_to_file "01  1027 a00f0000 01 00  1027 a00f0000 01 00" \
    "$seeds/tariff_pricing/rate-registers-2-readings"
hex_to_file "02  3c00 10270000 00 00  3c00 f0d8ffff 00 00" \
    "$seeds/tariff_pricing/rollover-register-goes-down"

# ledger_replay: the operations of the ledger README, one per file, and all of them as one
# stream (the target also feeds its input to the JSON operation parser).
awk '/^\{"op":/' "$root/ledger/README.md" >"$seeds/ledger_replay/readme-operations.jsonl"
n=0
while IFS= read -r op; do
    n=$((n + 1))
    printf '%s' "$op" >"$seeds/ledger_replay/readme-op-$n-$(field "$op" op)"
done <"$seeds/ledger_replay/readme-operations.jsonl"

for target in $generated_targets; do
    printf '%-16s %3d seeds\n' "$target" "$(find "$seeds/$target" -type f | wc -l)"
done
