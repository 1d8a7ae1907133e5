//! Built-in profiles: validation, read planning, and decoding known register values into
//! exact readings through real RTU replies.

#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap
)] // fixtures and raw bit reinterpretation

use std::collections::BTreeMap;
use std::str::FromStr;

use meterkit_modbus::profile::{
    self, DataType, Entry, Profile, ProfileError, ReadRange, RegisterKind, Source, Unit,
};
use meterkit_modbus::{Decoded, Direction, Registers, Response, rtu};
use meterkit_reading::{MeterReading, Quantity as Q};
use rust_decimal::Decimal;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// Register image of a meter: (kind, address) → value; unset registers read as 0.
type Image = BTreeMap<(RegisterKind, u16), u16>;

fn put(image: &mut Image, kind: RegisterKind, address: u16, words: &[u16]) {
    for (i, w) in words.iter().enumerate() {
        image.insert((kind, address + u16::try_from(i).unwrap()), *w);
    }
}

fn f32_words(v: f32) -> [u16; 2] {
    let b = v.to_bits();
    [(b >> 16) as u16, (b & 0xFFFF) as u16]
}

/// Plans a read of every quantity, serves each range from `image` as a real RTU reply,
/// decodes it with the streaming decoder and the profile, and returns the reading.
fn read_meter(profile: &Profile<'_>, image: &Image) -> (MeterReading<i64>, Vec<ReadRange>) {
    let mut ranges = [ReadRange {
        kind: RegisterKind::Holding,
        address: 0,
        quantity: 0,
    }; 8];
    let n = profile.plan(&Q::ALL, &mut ranges).unwrap();
    let mut reading = MeterReading::new(1_700_000_000_000);
    for range in &ranges[..n] {
        let values: Vec<u16> = (0..range.quantity)
            .map(|i| {
                image
                    .get(&(range.kind, range.address + i))
                    .copied()
                    .unwrap_or(0)
            })
            .collect();
        let registers = Registers::from_values(&values);
        let response = match range.kind {
            RegisterKind::Holding => Response::ReadHoldingRegisters { registers },
            RegisterKind::Input => Response::ReadInputRegisters { registers },
        };
        let mut buf = [0u8; 256];
        let len = rtu::Repr {
            slave: 1,
            pdu: response.into(),
        }
        .emit(&mut buf)
        .unwrap();
        let Decoded::Frame { frame, .. } =
            rtu::Decoder::new(Direction::Response).decode(&buf[..len])
        else {
            panic!("reply not decoded")
        };
        let meterkit_modbus::Pdu::Response(reply) =
            rtu::Repr::parse(&frame, Direction::Response).unwrap().pdu
        else {
            panic!("not a response")
        };
        profile
            .decode_reply(range, &reply, &profile::Ratios::DIRECT, &mut reading)
            .unwrap();
    }
    (reading, ranges[..n].to_vec())
}

#[test]
fn builtin_profiles_validate_and_are_found_by_name() {
    for p in profile::BUILT_IN {
        p.validate().unwrap_or_else(|e| panic!("{}: {e}", p.name));
        assert_eq!(profile::built_in(&p.name.to_uppercase()), Some(p));
        assert!(!p.provenance.is_empty());
    }
    assert_eq!(profile::built_in("nope"), None);
}

/// (register table, first register, register count) of one planned read.
type Span = (RegisterKind, u16, u16);

#[test]
fn plans_cover_every_source_with_the_expected_reads() {
    // (profile, expected ranges) — each worked out from the register map: e.g. SDM630's
    // sources span 0x0000..0x004C = 76 registers with a largest gap of 0x34 − 0x12 = 34
    // ≤ 40, so one read of 76 ≤ 80 registers covers them all.
    let expected: [(&Profile<'_>, &[Span]); 9] = [
        (&profile::SDM630, &[(RegisterKind::Input, 0x0000, 76)]),
        // Gap 0x46 − 0x0E = 56 > 40: two reads.
        (
            &profile::SDM120,
            &[
                (RegisterKind::Input, 0x0000, 14),
                (RegisterKind::Input, 0x0046, 6),
            ],
        ),
        (&profile::SDM72, &[(RegisterKind::Input, 0x0034, 24)]),
        (
            &profile::CHINT_DTSU666,
            &[
                (RegisterKind::Holding, 0x101E, 12),
                (RegisterKind::Holding, 0x2006, 64),
            ],
        ),
        (
            &profile::CHINT_DDSU666,
            &[
                (RegisterKind::Input, 0x2000, 16),
                (RegisterKind::Input, 0x4000, 12),
            ],
        ),
        (
            &profile::ACREL_ADL400,
            &[(RegisterKind::Holding, 0x0800, 96)],
        ),
        (&profile::ACREL_ADW300, &[(RegisterKind::Holding, 20, 46)]),
        // Import kWh(+) TOT ends at 0x40; 0x5C − 0x40 = 28 > 16: export energy is read
        // separately.
        (
            &profile::EM24,
            &[
                (RegisterKind::Input, 0x00, 64),
                (RegisterKind::Input, 0x5C, 2),
            ],
        ),
        (
            &profile::ABB_B23,
            &[
                (RegisterKind::Holding, 0x5000, 8),
                (RegisterKind::Holding, 0x5B00, 59),
            ],
        ),
    ];
    for (p, want) in expected {
        let mut out = [ReadRange {
            kind: RegisterKind::Holding,
            address: 0,
            quantity: 0,
        }; 4];
        let n = p.plan(&Q::ALL, &mut out).unwrap();
        let got: Vec<_> = out[..n]
            .iter()
            .map(|r| (r.kind, r.address, r.quantity))
            .collect();
        assert_eq!(got, want, "{}", p.name);
        for e in p.entries {
            let covering = out[..n]
                .iter()
                .filter(|r| {
                    r.kind == e.source.kind
                        && r.address <= e.source.address
                        && e.source.end() <= u32::from(r.address) + u32::from(r.quantity)
                })
                .count();
            assert_eq!(covering, 1, "{}: {}", p.name, e.quantity);
        }
        assert!(
            out[..n]
                .iter()
                .all(|r| r.quantity <= p.max_registers_per_read)
        );
    }
}

#[test]
fn planning_bridges_small_gaps_only_and_respects_the_read_limit() {
    let entries = [
        Entry {
            quantity: Q::VoltageL1,
            source: Source::new(RegisterKind::Holding, 0, DataType::U16, Unit::V),
        },
        // Gap 10 − 1 = 9 registers: bridged with max_gap 9.
        Entry {
            quantity: Q::VoltageL2,
            source: Source::new(RegisterKind::Holding, 10, DataType::U16, Unit::V),
        },
        // Gap 21 − 11 = 10 > 9: a new read.
        Entry {
            quantity: Q::VoltageL3,
            source: Source::new(RegisterKind::Holding, 21, DataType::U64, Unit::V),
        },
        // 124 − 21 = 103 ≤ 125 but the gap is 99: new read.
        Entry {
            quantity: Q::CurrentL1,
            source: Source::new(RegisterKind::Holding, 124, DataType::U32, Unit::A),
        },
        // Same address range, other table: always a separate read.
        Entry {
            quantity: Q::CurrentL2,
            source: Source::new(RegisterKind::Input, 0, DataType::U16, Unit::A),
        },
    ];
    let p = Profile {
        name: "t",
        description: "",
        provenance: "",
        max_registers_per_read: 125,
        max_gap: 9,
        entries: &entries,
    };
    p.validate().unwrap();
    let mut out = [ReadRange {
        kind: RegisterKind::Holding,
        address: 0,
        quantity: 0,
    }; 4];
    let n = p.plan(&Q::ALL, &mut out).unwrap();
    let got: Vec<_> = out[..n]
        .iter()
        .map(|r| (r.kind, r.address, r.quantity))
        .collect();
    assert_eq!(
        got,
        [
            (RegisterKind::Holding, 0, 11),
            (RegisterKind::Holding, 21, 4),
            (RegisterKind::Holding, 124, 2),
            (RegisterKind::Input, 0, 1)
        ]
    );
    // Only what is wanted is read.
    let n = p.plan(&[Q::CurrentL1], &mut out).unwrap();
    assert_eq!(
        &out[..n],
        &[ReadRange {
            kind: RegisterKind::Holding,
            address: 124,
            quantity: 2
        }]
    );
    // A short output buffer reports the size needed.
    assert_eq!(
        p.plan(&Q::ALL, &mut out[..2]),
        Err(ProfileError::PlanTooLarge {
            needed: 4,
            available: 2
        })
    );
    // With a huge gap allowance the 125-register limit splits: 0..25 fits, 124..126 would
    // make 126 registers.
    let wide = Profile { max_gap: 1000, ..p };
    let n = wide.plan(&Q::ALL, &mut out).unwrap();
    let got: Vec<_> = out[..n].iter().map(|r| (r.address, r.quantity)).collect();
    assert_eq!(got, [(0, 25), (124, 2), (0, 1)]);
}

#[test]
fn eastron_sdm630_floats_convert_exactly() {
    let p = profile::SDM630;
    let input = RegisterKind::Input;
    let mut image = Image::new();
    // 0x43663334 (vector V18): significand 0xE63334 = 15 086 388, exponent 2^(134−127−23)
    // = 2^−16, so the value is 15 086 388 / 65 536 = 230.20001220703125 exactly.
    put(&mut image, input, 0x0000, &[0x4366, 0x3334]);
    // The Eastron SDM630-Modbus V2 user manual's own float example (p. 41,
    // manualshive.com/en/manual/eastron/sdm630-modbus-mid-v2/522581?page=41): "240.5 is
    // 43 70 80 00", sent "Data Hi Reg Hi Byte" first — so 30003 (V L2) = [0x4370, 0x8000].
    put(&mut image, input, 0x0002, &[0x4370, 0x8000]);
    put(&mut image, input, 0x0048, &f32_words(12_345.0)); // 0x4640E400: an integer, exact
    put(&mut image, input, 0x004A, &f32_words(1_234.5)); // 0x449A5000: 1234.5 exactly
    put(&mut image, input, 0x0034, &f32_words(-1_500.0));
    put(&mut image, input, 0x003E, &f32_words(0.95)); // nearest float: 0.949999988079071044921875
    put(&mut image, input, 0x0046, &[0x7FC0, 0x0000]); // NaN: not available
    let (r, ranges) = read_meter(&p, &image);
    assert_eq!(ranges.len(), 1);
    assert_eq!(r.voltage.l1, Some(dec("230.20001220703125")));
    assert_eq!(r.import.total, Some(dec("12345")));
    assert_eq!(r.export.total, Some(dec("1234.5")));
    assert_eq!(r.active_power.total, Some(dec("-1500")));
    assert_eq!(r.power_factor, Some(dec("0.949999988079071044921875")));
    assert_eq!(r.frequency, None);
    assert_eq!(r.voltage.l2, Some(dec("240.5")));
    assert_eq!(r.voltage.l3, Some(Decimal::ZERO));
}

#[test]
fn eastron_sdm120_and_sdm72() {
    // Both use Eastron's float32 ABCD on FC04 (the SDM630 manual's 240.5 = 0x43708000
    // example states the byte order for all "Eastron Digital meters").
    let input = RegisterKind::Input;
    let mut image = Image::new();
    // SDM120 V at 0x0000: the manual's 240.5 example words.
    put(&mut image, input, 0x0000, &[0x4370, 0x8000]);
    // P at 0x000C: 0x45660000 = 1.796875 × 2^11 = 3680 W (16 A × 230 V).
    put(&mut image, input, 0x000C, &[0x4566, 0x0000]);
    // Import at 0x0048: 0x3F000000 = 1.0 × 2^(126−127) = 0.5 kWh.
    put(&mut image, input, 0x0048, &[0x3F00, 0x0000]);
    let (r, _) = read_meter(&profile::SDM120, &image);
    assert_eq!(r.voltage.l1, Some(dec("240.5")));
    assert_eq!(r.active_power.l1, Some(dec("3680")));
    assert_eq!(r.active_power.total, Some(dec("3680")));
    assert_eq!(r.import.total, Some(dec("0.5")));
    // SDM72D-M user manual V1.5 p. 14 (easymanua.ls/eastron/sdm72d-m/manual?p=14): total
    // system power 30053 = 0x0034 (W), total export 30075 = 0x004A (kWh), float32.
    let mut image = Image::new();
    // 0x462C8000 = 1.34765625 × 2^13 = 11 040 W.
    put(&mut image, input, 0x0034, &[0x462C, 0x8000]);
    // 0x40E80000 = 1.8125 × 2^2 = 7.25 kWh.
    put(&mut image, input, 0x004A, &[0x40E8, 0x0000]);
    let (r, ranges) = read_meter(&profile::SDM72, &image);
    assert_eq!(r.active_power.total, Some(dec("11040")));
    assert_eq!(r.export.total, Some(dec("7.25")));
    // "Each request for data must be restricted to 30 parameters": 60 registers.
    assert!(ranges.iter().all(|range| range.quantity <= 60));
}

#[test]
fn chint_dtsu666_scaled_floats_and_ddsu666_kilowatts() {
    // DTSU666: FC03 and float ABCD per Chint manual ZTY0.464.1448 Table 11; the ×10 V,
    // ×1000 A, ×100 Hz encodings follow mbmd and docs.smart-stuff.nl (vendor rows unread).
    let holding = RegisterKind::Holding;
    let mut image = Image::new();
    // Raw float 0x450FE000 = 1.1240234375 × 2^11 = 2302; × 10^−1 = 230.2 V exactly (the
    // scale moves the decimal point).
    put(&mut image, holding, 0x2006, &[0x450F, 0xE000]);
    // 5000 × 10^−3 = 5.000 A.
    put(&mut image, holding, 0x200C, &f32_words(5_000.0));
    // 4999 × 10^−2 = 49.99 Hz.
    put(&mut image, holding, 0x2044, &f32_words(4_999.0));
    // 0x4640E400 = 1.5069580078125 × 2^13 = 12 345 kWh.
    put(&mut image, holding, 0x101E, &[0x4640, 0xE400]);
    let (r, _) = read_meter(&profile::CHINT_DTSU666, &image);
    assert_eq!(r.voltage.l1, Some(dec("230.2")));
    assert_eq!(r.current.l1, Some(dec("5.000")));
    assert_eq!(r.frequency, Some(dec("49.99")));
    assert_eq!(r.import.total, Some(dec("12345")));

    let input = RegisterKind::Input;
    let mut image = Image::new();
    // DDSU666 (Tasmota map, unverified): 0x3FC00000 = 1.5 × 2^0 = 1.5 kW = 1500 W.
    put(&mut image, input, 0x2004, &[0x3FC0, 0x0000]);
    // 0x42280000 = 1.3125 × 2^5 = 42 kWh.
    put(&mut image, input, 0x4000, &[0x4228, 0x0000]);
    let (r, _) = read_meter(&profile::CHINT_DDSU666, &image);
    assert_eq!(r.active_power.total, Some(dec("1500")));
    assert_eq!(r.import.total, Some(dec("42")));
}

#[test]
fn acrel_adl400_tariffs_and_adw300_integers() {
    // No Acrel register table was readable: the values follow the profiles' stated types
    // and scales (ADL400 u32 0.1 kWh + float kW; ADW300 u16/i32, evcc), arithmetic shown.
    let holding = RegisterKind::Holding;
    let mut image = Image::new();
    // Forward total u32 0x0001_E240 = 123 456 in 0.1 kWh = 12 345.6 kWh.
    put(&mut image, holding, 0x084C, &[0x0001, 0xE240]);
    // T1..T4 = 1000, 2000, 3000, 4000 × 0.1 kWh.
    put(&mut image, holding, 0x084E, &[0, 1000]);
    put(&mut image, holding, 0x0850, &[0, 2000]);
    put(&mut image, holding, 0x0852, &[0, 3000]);
    put(&mut image, holding, 0x0854, &[0, 4000]);
    // Reverse T4 = 0xFFFF_FFFF = 4 294 967 295 × 0.1 (no sentinel on Acrel).
    put(&mut image, holding, 0x085E, &[0xFFFF, 0xFFFF]);
    // Total power float 7.2 kW → 7200 W (7.2 as float is 7.19999980926513671875).
    put(&mut image, holding, 0x081A, &f32_words(7.2));
    let (r, _) = read_meter(&profile::ACREL_ADL400, &image);
    assert_eq!(r.import.total, Some(dec("12345.6")));
    assert_eq!(
        r.import.tariffs,
        [
            Some(dec("100.0")),
            Some(dec("200.0")),
            Some(dec("300.0")),
            Some(dec("400.0"))
        ]
    );
    assert_eq!(r.export.tariffs[3], Some(dec("429496729.5")));
    assert_eq!(r.active_power.total, Some(dec("7199.99980926513671875")));

    let mut image = Image::new();
    put(&mut image, holding, 20, &[2302]); // 230.2 V
    put(&mut image, holding, 26, &[1603]); // 16.03 A
    put(&mut image, holding, 36, &[0xFFFF, 0xFA24]); // i32 −1500 W
    put(&mut image, holding, 62, &[0x0012, 0xD687]); // 1 234 567 × 0.01 = 12 345.67 kWh
    let (r, _) = read_meter(&profile::ACREL_ADW300, &image);
    assert_eq!(r.voltage.l1, Some(dec("230.2")));
    assert_eq!(r.current.l1, Some(dec("16.03")));
    assert_eq!(r.active_power.total, Some(dec("-1500")));
    assert_eq!(r.import.total, Some(dec("12345.67")));
}

#[test]
fn carlo_gavazzi_em24_word_swapped() {
    // Value weights from the Carlo Gavazzi EM2x protocol (manualshive.com/en/manual/
    // carlo-gavazzi/em-21/2558682?page=8): V×10, W×10, PF×1000, Hz×10, kWh×10; INT32 sent
    // least significant word first.
    let input = RegisterKind::Input;
    let mut image = Image::new();
    // kWh(+) TOT at 0x3E. INT32 CDAB: 123 456 = 0x0001_E240 is sent as E240 0001; × 0.1 =
    // 12 345.6 kWh.
    put(&mut image, input, 0x3E, &[0xE240, 0x0001]);
    // kWh(+) PAR, the resettable partial counter at 0x42, must not be taken for the total.
    put(&mut image, input, 0x42, &[0x0001, 0x0000]);
    // −36 800 (0xFFFF_7040) × 0.1 W = −3680.0 W, low word first.
    put(&mut image, input, 0x28, &[0x7040, 0xFFFF]);
    put(&mut image, input, 0x00, &[2302, 0]); // 230.2 V
    put(&mut image, input, 0x35, &[0xFC18]); // INT16 −1000 × 0.001 = −1.000
    put(&mut image, input, 0x37, &[500]); // 50.0 Hz
    put(&mut image, input, 0x5C, &[10, 0]); // 1.0 kWh exported
    let (r, _) = read_meter(&profile::EM24, &image);
    assert_eq!(r.import.total, Some(dec("12345.6")));
    assert_eq!(r.active_power.total, Some(dec("-3680.0")));
    assert_eq!(r.voltage.l1, Some(dec("230.2")));
    assert_eq!(r.power_factor, Some(dec("-1.000")));
    assert_eq!(r.frequency, Some(dec("50.0")));
    assert_eq!(r.export.total, Some(dec("1.0")));
}

/// The ABB A43/A44 user manual (2CMC48001M0201 Rev C, §9.11.1, easymanua.ls/abb/a43/
/// manual?p=168) shows this exact exchange: unit 5 reads 0x24 registers at 0x5000 and gets
/// nine u64 totals. The reply, CRC `2F 9F` included, is fed to the RTU decoder as is.
#[test]
fn abb_manual_energy_reply_decodes() {
    let mut wire = vec![0x05, 0x03, 0x48];
    for total in [
        0x0D_1290_u64, // "Total active import energy, 00000000000D1290hex -> 8567.20 kWh"
        0x03_1209,     // "Total active export energy, 0000000000031209hex -> 2012.25 kWh"
        0x0A_0086,     // active net, then reactive and apparent totals (not profiled)
        0x04_1705,
        0x01_2B18,
        0x02_EBED,
        0x0E_A7FE,
        0x03_DB92,
        0x0A_CC6C,
    ] {
        wire.extend_from_slice(&total.to_be_bytes());
    }
    wire.extend_from_slice(&[0x2F, 0x9F]);
    let Decoded::Frame { frame, consumed } = rtu::Decoder::new(Direction::Response).decode(&wire)
    else {
        panic!("the manual's reply does not decode")
    };
    assert_eq!(consumed, 3 + 72 + 2);
    let repr = rtu::Repr::parse(&frame, Direction::Response).unwrap();
    assert_eq!(repr.slave, 5);
    let meterkit_modbus::Pdu::Response(reply) = repr.pdu else {
        panic!("not a response")
    };
    // The manual's request: "05 03 50 00 00 24 55 55".
    let range = ReadRange {
        kind: RegisterKind::Holding,
        address: 0x5000,
        quantity: 0x24,
    };
    let mut reading = MeterReading::new(0_i64);
    let set = profile::ABB_B23
        .decode_reply(&range, &reply, &profile::Ratios::DIRECT, &mut reading)
        .unwrap();
    assert_eq!(set, 2);
    // 0x0D1290 = 856 720 × 0.01 kWh; 0x031209 = 201 225 × 0.01 kWh.
    assert_eq!(reading.import.total, Some(dec("8567.20")));
    assert_eq!(reading.export.total, Some(dec("2012.25")));
}

/// The instantaneous block of the same manual section (easymanua.ls/abb/a43/manual?p=170),
/// word for word from 0x5B08 (L3-L2 voltage) to 0x5B3D (L3 power factor). The three
/// line-to-neutral voltages before it are on the previous page, which was not read: L1-N
/// is a chosen 0x000008FC = 2300 × 0.1 V = 230.0 V.
#[test]
fn abb_manual_instantaneous_values_decode() {
    const FROM_5B08: [u16; 54] = [
        0x0000, 0x0FCA, 0x0000, 0x0FC0, // L3-L2, L1-L3 voltage
        0x0000, 0x0065, 0x0000, 0x00C9, 0x0000, 0x012E, 0x0000, 0x0086, // I1-I3, IN
        0x0001, 0xE8E4, 0x0000, 0x5AE2, 0x0000, 0xB097, 0x0000, 0xDD6B, // P tot, L1-L3
        0x0000, 0x7541, 0x0000, 0x001C, 0xFFFF, 0xD04A, 0x0000, 0xA4DB, // Q tot, L1-L3
        0x0002, 0x25C3, 0x0000, 0x5AE2, 0x0000, 0xB6DF, 0x0001, 0x1402, // S tot, L1-L3
        0x1383, // 0x5B2C frequency
        0x0087, 0x0000, 0xFF6A, 0x016F, // power phase angles
        0x0000, 0x04AF, 0xFB4E, // voltage phase angles
        0xFFFF, 0xFFFF, 0xFFFF, // "FF FF FF … means no data available"
        0xFFF3, 0x0409, 0xFCAE, // current phase angles
        0x03CC, 0x03E8, 0x03C6, 0x0322, // 0x5B3A total PF, L1-L3
    ];
    let holding = RegisterKind::Holding;
    let mut image = Image::new();
    put(&mut image, holding, 0x5B00, &[0x0000, 0x08FC]);
    put(&mut image, holding, 0x5B08, &FROM_5B08);
    let (r, _) = read_meter(&profile::ABB_B23, &image);
    assert_eq!(r.voltage.l1, Some(dec("230.0")));
    // "L1 current=00000065hex=101dec -> 1.01 A", "L3 current … 302dec -> 3.02 A".
    assert_eq!(r.current.l1, Some(dec("1.01")));
    assert_eq!(r.current.l3, Some(dec("3.02")));
    // "Active total power=0001E8E4hex=125156 -> 1251.56 W", "L2 … 45207 -> 452.07 W".
    assert_eq!(r.active_power.total, Some(dec("1251.56")));
    assert_eq!(r.active_power.l2, Some(dec("452.07")));
    // "Frequency=1383=4995 -> 49.95 Hz"; "Total power factor=03CC=972 -> 0.972".
    assert_eq!(r.frequency, Some(dec("49.95")));
    assert_eq!(r.power_factor, Some(dec("0.972")));
}

#[test]
fn abb_b23_u64_energy_and_sentinels() {
    let holding = RegisterKind::Holding;
    let mut image = Image::new();
    // u64 0x0000_0000_0012_D687 = 1 234 567 × 0.01 = 12 345.67 kWh.
    put(&mut image, holding, 0x5000, &[0, 0, 0x0012, 0xD687]);
    // Export all ones: the unsigned not-available sentinel.
    put(&mut image, holding, 0x5004, &[0xFFFF; 4]);
    // P total i32 0xFFFF_FC18 = −1000 × 0.01 = −10.00 W.
    put(&mut image, holding, 0x5B14, &[0xFFFF, 0xFC18]);
    // P L1 0x7FFF_FFFF: the signed sentinel.
    put(&mut image, holding, 0x5B16, &[0x7FFF, 0xFFFF]);
    put(&mut image, holding, 0x5B2C, &[5000]); // 50.00 Hz
    put(&mut image, holding, 0x5B3A, &[950]); // 0.950
    let (r, _) = read_meter(&profile::ABB_B23, &image);
    assert_eq!(r.import.total, Some(dec("12345.67")));
    assert_eq!(r.export.total, None);
    assert_eq!(r.active_power.total, Some(dec("-10.00")));
    assert_eq!(r.active_power.l1, None);
    assert_eq!(r.frequency, Some(dec("50.00")));
    assert_eq!(r.power_factor, Some(dec("0.950")));
}

#[test]
fn f32_edge_cases_ratios_and_units() {
    let ratios = profile::Ratios {
        ct: dec("40"),
        pt: dec("100"),
    };
    let src = |data_type, unit| Source::new(RegisterKind::Holding, 0, data_type, unit);
    let regs = |w: &[u16]| -> Vec<u16> { w.to_vec() };
    let decode = |s: Source, w: &[u16]| s.decode(0, &Registers::from_values(&regs(w)), &ratios);
    // 2^−30 needs 30 decimals: 0.000000000931322574615478515625 rounds (half even) to 28.
    let tiny = f32_words(2f32.powi(-30));
    assert_eq!(
        decode(src(DataType::F32, Unit::KWh), &tiny),
        Ok(Some(dec("0.0000000009313225746154785156")))
    );
    // 0.1f32 is exactly 0.100000001490116119384765625.
    assert_eq!(
        decode(src(DataType::F32, Unit::KWh), &f32_words(0.1)),
        Ok(Some(dec("0.100000001490116119384765625")))
    );
    // Infinity: not available; 1e30 exceeds Decimal's 2^96: an error, not a wrong number.
    assert_eq!(
        decode(src(DataType::F32, Unit::KWh), &f32_words(f32::INFINITY)),
        Ok(None)
    );
    assert_eq!(
        decode(src(DataType::F32, Unit::KWh), &f32_words(1e30)),
        Err(ProfileError::OutOfRange { address: 0 })
    );
    // Wh → kWh moves the point three places: 123 456 Wh = 123.456 kWh.
    assert_eq!(
        decode(src(DataType::U32, Unit::Wh), &[0x0001, 0xE240]),
        Ok(Some(dec("123.456")))
    );
    // Secondary-side energy × CT 40 × PT 100: 1.5 kWh → 6000 kWh.
    let secondary = src(DataType::U16, Unit::KWh)
        .scaled(-1)
        .with_ratio(profile::Ratio::CtPt);
    assert_eq!(decode(secondary, &[15]), Ok(Some(dec("6000.0"))));
    // A word-swapped source at the last address neither overflows nor reads past the block.
    let last = Source::new(RegisterKind::Holding, 0xFFFF, DataType::U32, Unit::V)
        .order(profile::WordOrder::Cdab);
    assert_eq!(
        last.decode(0xFFFF, &Registers::from_values(&[1]), &ratios),
        Ok(None)
    );
    assert_eq!(
        last.decode(0, &Registers::from_values(&[0; 4]), &ratios),
        Ok(None)
    );
    // A source outside the block is not decoded.
    assert_eq!(
        Source::new(RegisterKind::Holding, 5, DataType::U32, Unit::V).decode(
            0,
            &Registers::from_values(&[0; 6]),
            &ratios
        ),
        Ok(None)
    );
}

#[test]
fn replies_must_answer_the_planned_read() {
    let range = ReadRange {
        kind: RegisterKind::Input,
        address: 0,
        quantity: 2,
    };
    let values = [1, 2];
    let holding = Response::ReadHoldingRegisters {
        registers: Registers::from_values(&values),
    };
    let mut reading = MeterReading::new(0_i64);
    let wrong = Err(ProfileError::WrongReply {
        function: 4,
        expected: 2,
    });
    assert_eq!(
        profile::SDM630.decode_reply(&range, &holding, &profile::Ratios::DIRECT, &mut reading),
        wrong
    );
    let short = Response::ReadInputRegisters {
        registers: Registers::from_values(&values[..1]),
    };
    assert_eq!(
        profile::SDM630.decode_reply(&range, &short, &profile::Ratios::DIRECT, &mut reading),
        wrong
    );
    let exception = Response::Exception {
        function: 4,
        code: meterkit_modbus::ExceptionCode::IllegalDataAddress,
    };
    assert_eq!(
        profile::SDM630.decode_reply(&range, &exception, &profile::Ratios::DIRECT, &mut reading),
        wrong
    );
}

#[cfg(feature = "serde-1")]
#[test]
fn example_toml_profiles_match_the_built_ins() {
    use meterkit_modbus::profile::OwnedProfile;
    for (file, builtin) in [
        ("sdm630.toml", profile::SDM630),
        ("abb-b23.toml", profile::ABB_B23),
    ] {
        let path = format!("{}/profiles/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        let loaded = OwnedProfile::from_toml_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(loaded.profile().entries, builtin.entries, "{file}");
        assert_eq!(loaded.provenance, builtin.provenance, "{file}");
        assert_eq!(
            loaded.max_registers_per_read,
            builtin.max_registers_per_read
        );
    }
    // A unit that does not fit the quantity is rejected with the quantity named.
    let bad = "name = 'x'\n[[entries]]\nquantity = 'voltage_l1'\nkind = 'input'\naddress = 0\ntype = 'u16'\nunit = 'kWh'\n";
    let err = OwnedProfile::from_toml_str(bad).unwrap_err();
    assert_eq!(
        err.to_string(),
        "profile entry for voltage_l1 is invalid: unit does not fit the quantity"
    );
    assert!(
        OwnedProfile::from_toml_str("name = 3")
            .unwrap_err()
            .to_string()
            .starts_with("profile TOML")
    );
}

proptest::proptest! {
    /// Any source over any registers: no panic; integer energy keeps its exact digits
    /// (mantissa = raw value, decimal places = −scale), whatever the word order.
    #[test]
    fn integer_sources_decode_exactly(
        words in proptest::collection::vec(proptest::prelude::any::<u16>(), 0..8),
        address in 0u16..8,
        start in 0u16..4,
        type_pick in 0usize..6,
        order_pick in 0usize..4,
        scale in -18i8..=0,
    ) {
        let data_type = [DataType::U16, DataType::I16, DataType::U32, DataType::I32, DataType::U64, DataType::F32][type_pick];
        let order = [profile::WordOrder::Abcd, profile::WordOrder::Cdab, profile::WordOrder::Badc, profile::WordOrder::Dcba][order_pick];
        let source = Source::new(RegisterKind::Holding, address, data_type, Unit::KWh).scaled(scale).order(order);
        let result = source.decode(start, &Registers::from_values(&words), &profile::Ratios::DIRECT);
        let n = usize::from(data_type.registers());
        let Some(offset) = address.checked_sub(start).map(usize::from) else {
            proptest::prop_assert_eq!(result, Ok(None));
            return Ok(());
        };
        let Some(slice) = words.get(offset..offset + n) else {
            proptest::prop_assert_eq!(result, Ok(None));
            return Ok(());
        };
        if data_type == DataType::F32 {
            return Ok(()); // covered by the hand-computed float cases
        }
        // Assemble the raw value independently of the decoder's loop.
        let mut ordered: Vec<u16> = slice.to_vec();
        if matches!(order, profile::WordOrder::Cdab | profile::WordOrder::Dcba) {
            ordered.reverse();
        }
        if matches!(order, profile::WordOrder::Badc | profile::WordOrder::Dcba) {
            for w in &mut ordered {
                *w = w.swap_bytes();
            }
        }
        let raw = ordered.iter().fold(0u64, |acc, &w| acc << 16 | u64::from(w));
        let expected_mantissa: i128 = match data_type {
            DataType::I16 => i128::from(raw as u16 as i16),
            DataType::I32 => i128::from(raw as u32 as i32),
            _ => i128::from(raw),
        };
        let value = result.unwrap().unwrap();
        proptest::prop_assert_eq!(value.mantissa(), expected_mantissa);
        proptest::prop_assert_eq!(value.scale(), u32::from(scale.unsigned_abs()));
    }
}
