//! The value layer against the public vectors, the spec's worked examples, malformed
//! input of every kind, and property tests over every format.

// In a test a panic is the failure report, and the case tables read best as one
// function per concern.
#![allow(clippy::unwrap_used, clippy::too_many_lines)]

use chrono::{NaiveDate, NaiveTime, Weekday};
use dlt645::{
    Di,
    catalogue::{self, Format, Unit},
    value::{
        self, DateWeekday, DayPeriod, Demand, EventTotal, Field, Number, SettlementDay, TimeZone,
        Value, ValueError,
    },
};
use proptest::prelude::*;

fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

fn di_from_text(text: &str) -> Di {
    match text.len() {
        8 => Di::V2007(u32::from_str_radix(text, 16).unwrap()),
        4 => Di::V1997(u16::from_str_radix(text, 16).unwrap()),
        _ => panic!("bad DI {text}"),
    }
}

fn numbers(value: &Value) -> Vec<String> {
    value
        .numbers()
        .expect("a numeric value")
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// Every vector frame that carries a value: its data field (DI + value, minus 0x33)
/// decodes to the expected strings and unit.
#[test]
fn public_vectors_values_and_units() {
    let text = include_str!("data/dlt645_public.jsonl");
    let mut checked = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let vector: serde_json::Value = serde_json::from_str(line).unwrap();
        for frame in vector["frames"].as_array().unwrap() {
            let expected: Vec<String> = match (frame.get("value"), frame.get("values")) {
                (Some(v), _) => vec![v.as_str().unwrap().to_owned()],
                (_, Some(vs)) => vs
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_owned())
                    .collect(),
                _ => continue,
            };
            let di = di_from_text(frame["di"].as_str().unwrap());
            let data = hex(frame["data"].as_str().unwrap());
            let value_bytes = &data[di.wire_len()..];
            let info = catalogue::lookup(di).unwrap();
            let value =
                value::decode(di, value_bytes).unwrap_or_else(|e| panic!("{}: {e}", vector["id"]));
            assert_eq!(numbers(&value), expected, "{}", vector["id"]);
            assert_eq!(info.unit.as_str(), frame["unit"].as_str().unwrap());
            // A single value decodes to Number, a block to Numbers, as the JSON keys say.
            assert_eq!(
                matches!(value, Value::Numbers(_)),
                frame.get("values").is_some()
            );
            // And the bytes come back unchanged.
            let mut out = [0u8; 255];
            let len = value::encode(di, &value, &mut out).unwrap();
            assert_eq!(&out[..len], value_bytes, "{}", vector["id"]);
            checked += 1;
        }
    }
    assert!(
        checked >= 10,
        "only {checked} valued frames found in the vectors"
    );
}

#[test]
fn spec_worked_examples() {
    // −0.123 A, XXX.XXX: display 80 01 23 → wire 23 01 80 (spec §3.2).
    let v = value::decode(Di::V2007(0x0202_0100), &hex("23 01 80")).unwrap();
    assert_eq!(v, Value::Number(Number::new(123, 3, true)));
    assert_eq!(numbers(&v), ["-0.123"]);
    // 1206.42 kWh: wire 42 06 12 00 → digits 00120642, two decimals.
    let v = value::decode(Di::V2007(0x0001_0000), &hex("42 06 12 00")).unwrap();
    assert_eq!(numbers(&v), ["1206.42"]);
    // Voltage block, XXX.X ×3: 0000 → 0.0, 0000 → 0.0, 94 23 → 2394 → 239.4.
    let v = value::decode(Di::V2007(0x0201_FF00), &hex("00 00 00 00 94 23")).unwrap();
    assert_eq!(numbers(&v), ["0.0", "0.0", "239.4"]);
    // 1997 voltage is XXX integer volts: 00 01 → 0100 → 100.
    let v = value::decode(Di::V1997(0xB611), &hex("00 01")).unwrap();
    assert_eq!(numbers(&v), ["100"]);
    // 1997 current XX.XX is unsigned: 50 92 → 9250 → 92.50, no sign bit read.
    let v = value::decode(Di::V1997(0xB621), &hex("50 92")).unwrap();
    assert_eq!(numbers(&v), ["92.50"]);
}

#[test]
fn sign_bit_only_where_the_catalogue_says_signed() {
    // Combined active energy is signed: 80 in the top byte is "minus", here −0.00.
    let v = value::decode(Di::V2007(0x0000_0000), &hex("00 00 00 80")).unwrap();
    assert_eq!(numbers(&v), ["-0.00"]);
    // Forward active energy is not: 80 is the digits 80 → 800000.00.
    let v = value::decode(Di::V2007(0x0001_0000), &hex("00 00 00 80")).unwrap();
    assert_eq!(numbers(&v), ["800000.00"]);
    // Temperature (resolved as signed): 15 80 → sign set, digits 0015 → −1.5 °C.
    let v = value::decode(Di::V2007(0x0280_0007), &hex("15 80")).unwrap();
    assert_eq!(numbers(&v), ["-1.5"]);
    // Power factor block, signed X.XXX: total 0.999, A −0.5 (00 05 → 0500, 85 → sign).
    let v = value::decode(Di::V2007(0x0206_FF00), &hex("99 09  00 85  00 10  01 00")).unwrap();
    assert_eq!(numbers(&v), ["0.999", "-0.500", "1.000", "0.001"]);
}

#[test]
fn energy_blocks_and_previous_settlements() {
    // Forward active total + 4 tariffs: 5 items of 4 bytes.
    let data = hex("00 01 00 00  00 02 00 00  00 03 00 00  00 04 00 00  00 05 00 00");
    let v = value::decode(Di::V2007(0x0001_FF00), &data).unwrap();
    assert_eq!(numbers(&v), ["1.00", "2.00", "3.00", "4.00", "5.00"]);
    // 1997 block 901F, same layout.
    let v = value::decode(Di::V1997(0x901F), &data).unwrap();
    assert_eq!(numbers(&v).len(), 5);
    // Previous settlement 1 of tariff 2 is a plain register.
    let v = value::decode(Di::V2007(0x0001_0201), &hex("12 34 56 00")).unwrap();
    assert_eq!(numbers(&v), ["5634.12"]);
}

#[test]
fn maximum_demand_with_time() {
    // 01 01 00 00: XX.XXXX = 12.3456 kW (wire 56 34 12), then 2024-03-15 08:30
    // (wire mm hh DD MM YY = 30 08 15 03 24).
    let data = hex("56 34 12  30 08 15 03 24");
    let v = value::decode(Di::V2007(0x0101_0000), &data).unwrap();
    let expected_time = NaiveDate::from_ymd_opt(2024, 3, 15)
        .unwrap()
        .and_hms_opt(8, 30, 0)
        .unwrap();
    assert_eq!(
        v,
        Value::Demand(Demand {
            value: Number::new(123_456, 4, false),
            time: Some(expected_time),
        })
    );
    assert_eq!(v.to_string(), "12.3456 at 2024-03-15T08:30");
    // After a demand clear meters send zeros: no time, not an invalid date.
    let v = value::decode(Di::V2007(0x0101_0000), &[0; 8]).unwrap();
    assert_eq!(
        v,
        Value::Demand(Demand {
            value: Number::new(0, 4, false),
            time: None
        })
    );
    // A block of two (total, tariff 1).
    let mut two = data.clone();
    two.extend_from_slice(&data);
    let Value::Demands(list) = value::decode(Di::V2007(0x0101_FF00), &two).unwrap() else {
        panic!("a demand block");
    };
    assert_eq!(list.len(), 2);
}

#[test]
fn dates_times_and_parameters() {
    // 04000101 YYMMDDWW, wire WW DD MM YY: 2024-03-15 is a Friday (05).
    let v = value::decode(Di::V2007(0x0400_0101), &hex("05 15 03 24")).unwrap();
    assert_eq!(
        v,
        Value::DateWeekday(DateWeekday {
            date: NaiveDate::from_ymd_opt(2024, 3, 15).unwrap(),
            weekday: Weekday::Fri,
        })
    );
    // 04000102 hhmmss, wire ss mm hh.
    let v = value::decode(Di::V2007(0x0400_0102), &hex("51 22 10")).unwrap();
    assert_eq!(v, Value::Time(NaiveTime::from_hms_opt(10, 22, 51).unwrap()));
    assert_eq!(v.to_string(), "10:22:51");
    // 1997 C011 is the same format.
    assert_eq!(
        value::decode(Di::V1997(0xC011), &hex("51 22 10")).unwrap(),
        v
    );
    // 04000106 YYMMDDhhmm switch time.
    let v = value::decode(Di::V2007(0x0400_0106), &hex("00 00 01 10 25")).unwrap();
    assert_eq!(v.to_string(), "2025-10-01T00:00:00");
    // Communication address: wire 12 90 78 56 34 12 → nameplate 123456789012.
    let v = value::decode(Di::V2007(0x0400_0401), &hex("12 90 78 56 34 12")).unwrap();
    assert_eq!(v, Value::Digits("123456789012".try_into().unwrap()));
    // Password of level 2 (04000C03): 4 bytes, 8 digits.
    let v = value::decode(Di::V2007(0x0400_0C03), &hex("56 34 12 02")).unwrap();
    assert_eq!(v.to_string(), "02123456");
    // Meter constant 6400 imp/kWh.
    let v = value::decode(Di::V2007(0x0400_0409), &hex("00 64 00")).unwrap();
    assert_eq!(numbers(&v), ["6400"]);
    assert_eq!(
        catalogue::lookup(Di::V2007(0x0400_0409)).unwrap().unit,
        Unit::PulsesPerKilowattHour
    );
    // Settlement day 1 at 00:00 (wire hh DD), and an unset one (99 99).
    let v = value::decode(Di::V2007(0x0400_0B01), &hex("00 01")).unwrap();
    assert_eq!(
        v,
        Value::SettlementDay(Some(SettlementDay { day: 1, hour: 0 }))
    );
    let v = value::decode(Di::V2007(0x0400_0B02), &hex("99 99")).unwrap();
    assert_eq!(v, Value::SettlementDay(None));
    // Status words are binary, low byte first; the block holds 1..=7 of them.
    let v = value::decode(Di::V2007(0x0400_0501), &hex("34 12")).unwrap();
    assert_eq!(v, Value::Bits(0x1234));
    let Value::StatusWords(words) =
        value::decode(Di::V2007(0x0400_05FF), &hex("01 00 FF FF")).unwrap()
    else {
        panic!("a status-word block");
    };
    assert_eq!(words.as_slice(), [0x0001, 0xFFFF]);
    // Baud-rate word: 08 = 2400 bit/s.
    let v = value::decode(Di::V2007(0x0400_0703), &hex("08")).unwrap();
    assert_eq!(v, Value::Bits(0x08));
    // Text, in wire order with NUL padding removed.
    let mut model = b"DDS666".to_vec();
    model.resize(10, 0);
    let v = value::decode(Di::V2007(0x0400_040B), &model).unwrap();
    assert_eq!(v, Value::Text("DDS666".try_into().unwrap()));
}

#[test]
fn event_totals_per_phase() {
    // 03010000: per phase count XXXXXX + minutes XXXXXX.
    // A: 3 times, 125 min; B: 0, 0; C: 1 time, 999999 min.
    let data = hex("03 00 00 25 01 00  00 00 00 00 00 00  01 00 00 99 99 99");
    let Value::EventTotals(list) = value::decode(Di::V2007(0x0301_0000), &data).unwrap() else {
        panic!("event totals");
    };
    assert_eq!(
        list.as_slice(),
        [
            EventTotal {
                count: 3,
                minutes: 125
            },
            EventTotal {
                count: 0,
                minutes: 0
            },
            EventTotal {
                count: 1,
                minutes: 999_999
            },
        ]
    );
}

#[test]
fn tou_tables() {
    // Time zones: from 01-01 use day table 1, from 06-01 table 2 (wire NN DD MM).
    let data = hex("01 01 01  02 01 06");
    let v = value::decode(Di::V2007(0x0401_0000), &data).unwrap();
    assert_eq!(
        v,
        Value::TimeZones(
            [
                TimeZone {
                    month: 1,
                    day: 1,
                    day_table: 1
                },
                TimeZone {
                    month: 6,
                    day: 1,
                    day_table: 2
                },
            ]
            .into_iter()
            .collect()
        )
    );
    // Day periods: 00:00 tariff 4 (valley), 08:30 tariff 2 (peak) (wire NN mm hh).
    let data = hex("04 00 00  02 30 08");
    let v = value::decode(Di::V2007(0x0402_0003), &data).unwrap();
    let at = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
    assert_eq!(
        v,
        Value::DayPeriods(
            [
                DayPeriod {
                    start: at(0, 0),
                    tariff: 4
                },
                DayPeriod {
                    start: at(8, 30),
                    tariff: 2
                },
            ]
            .into_iter()
            .collect()
        )
    );
    assert_eq!(v.to_string(), "00:00 tariff 4, 08:30 tariff 2");
    // A full 14-entry table (42 bytes) is accepted, a 15th entry is not.
    let entry = hex("01 00 00");
    let full: Vec<u8> = entry.iter().copied().cycle().take(42).collect();
    assert!(value::decode(Di::V2007(0x0401_0001), &full).is_ok());
    let over: Vec<u8> = entry.iter().copied().cycle().take(45).collect();
    assert!(matches!(
        value::decode(Di::V2007(0x0401_0001), &over),
        Err(ValueError::TooManyItems {
            max: 14,
            actual: 15,
            ..
        })
    ));
}

#[test]
fn uncatalogued_identifiers_stay_raw() {
    let v = value::decode(Di::V2007(0x0700_0000), &hex("01 02 03")).unwrap();
    assert_eq!(v, Value::Raw([1, 2, 3].into_iter().collect()));
    assert_eq!(v.to_string(), "010203");
    let mut out = [0u8; 3];
    assert_eq!(value::encode(Di::V2007(0x0700_0000), &v, &mut out), Ok(3));
    assert_eq!(out, [1, 2, 3]);
}

#[test]
fn malformed_values_are_errors_naming_the_byte() {
    let di = Di::V2007(0x0001_0000);
    // Non-BCD nibble in the third byte.
    assert_eq!(
        value::decode(di, &hex("42 06 1A 00")),
        Err(ValueError::NotBcd {
            index: 2,
            byte: 0x1A
        })
    );
    // Wrong lengths.
    assert_eq!(
        value::decode(di, &hex("42 06 12")),
        Err(ValueError::Length {
            di,
            expected: 4,
            actual: 3
        })
    );
    assert_eq!(
        value::decode(di, &[]),
        Err(ValueError::Length {
            di,
            expected: 4,
            actual: 0
        })
    );
    // Blocks: not a whole number of items, empty, too many.
    let block = Di::V2007(0x0201_FF00);
    assert_eq!(
        value::decode(block, &hex("00 00 00")),
        Err(ValueError::BlockLength {
            di: block,
            item_len: 2,
            actual: 3
        })
    );
    assert!(matches!(
        value::decode(block, &[]),
        Err(ValueError::BlockLength { .. })
    ));
    assert_eq!(
        value::decode(block, &[0; 8]),
        Err(ValueError::TooManyItems {
            di: block,
            max: 3,
            actual: 4
        })
    );
    // The bad nibble of the third item is reported at its place in the whole value.
    assert_eq!(
        value::decode(block, &hex("00 00 00 00 94 F3")),
        Err(ValueError::NotBcd {
            index: 5,
            byte: 0xF3
        })
    );
    // Impossible dates and times.
    let date = Di::V2007(0x0400_0101);
    assert_eq!(
        value::decode(date, &hex("01 15 13 24")),
        Err(ValueError::InvalidField {
            index: 2,
            field: Field::Month,
            value: 13
        })
    );
    assert_eq!(
        value::decode(date, &hex("01 30 02 24")),
        Err(ValueError::InvalidField {
            index: 1,
            field: Field::Day,
            value: 30
        })
    );
    assert_eq!(
        value::decode(date, &hex("07 15 03 24")),
        Err(ValueError::InvalidField {
            index: 0,
            field: Field::Weekday,
            value: 7
        })
    );
    assert_eq!(
        value::decode(Di::V2007(0x0400_0102), &hex("60 00 00")),
        Err(ValueError::InvalidField {
            index: 0,
            field: Field::Second,
            value: 60
        })
    );
    // Demand time: hour 24 at value byte 3 + 1.
    assert_eq!(
        value::decode(Di::V2007(0x0101_0000), &hex("00 00 00 00 24 01 01 24")),
        Err(ValueError::InvalidField {
            index: 4,
            field: Field::Hour,
            value: 24
        })
    );
    // Non-BCD digits in an address, non-ASCII text.
    assert_eq!(
        value::decode(Di::V2007(0x0400_0401), &hex("12 90 78 56 34 AA")),
        Err(ValueError::NotBcd {
            index: 5,
            byte: 0xAA
        })
    );
    let mut text = vec![b'A'; 6];
    text[3] = 0xC8;
    assert_eq!(
        value::decode(Di::V2007(0x0400_0404), &text),
        Err(ValueError::NotAscii {
            index: 3,
            byte: 0xC8
        })
    );
    // TOU entries out of range: day table 9, tariff 0, 31 April.
    assert!(matches!(
        value::decode(Di::V2007(0x0401_0000), &hex("09 01 01")),
        Err(ValueError::InvalidField {
            field: Field::DayTable,
            ..
        })
    ));
    assert!(matches!(
        value::decode(Di::V2007(0x0401_0001), &hex("00 00 00")),
        Err(ValueError::InvalidField {
            field: Field::Tariff,
            ..
        })
    ));
    assert!(matches!(
        value::decode(Di::V2007(0x0401_0000), &hex("01 31 04")),
        Err(ValueError::InvalidField {
            index: 1,
            field: Field::Day,
            ..
        })
    ));
    // Raw data longer than any data field.
    assert!(matches!(
        value::decode(Di::V2007(0x0700_0000), &[0; 256]),
        Err(ValueError::Overflow { .. })
    ));
}

#[test]
fn encode_refuses_what_does_not_fit() {
    let energy = Di::V2007(0x0001_0000);
    let mut out = [0u8; 16];
    let enc = |di, v: Value, out: &mut [u8]| value::encode(di, &v, out);
    // Exact rescale up is fine: 1.5 → 1.50 → 150.
    assert_eq!(
        enc(energy, Value::Number(Number::new(15, 1, false)), &mut out),
        Ok(4)
    );
    assert_eq!(out[..4], [0x50, 0x01, 0x00, 0x00]);
    // Dropping digits is refused, never rounded: 1.234 has a third decimal.
    assert_eq!(
        enc(energy, Value::Number(Number::new(1234, 3, false)), &mut out),
        Err(ValueError::Precision { di: energy })
    );
    // But trailing zeros are not digits lost: 1.230 → 1.23.
    assert_eq!(
        enc(energy, Value::Number(Number::new(1230, 3, false)), &mut out),
        Ok(4)
    );
    assert_eq!(out[..4], [0x23, 0x01, 0x00, 0x00]);
    // Too large: 1 000 000.00 kWh does not fit XXXXXX.XX.
    assert_eq!(
        enc(
            energy,
            Value::Number(Number::new(1_000_000, 0, false)),
            &mut out
        ),
        Err(ValueError::Overflow { di: energy })
    );
    // Negative on an unsigned register.
    assert_eq!(
        enc(energy, Value::Number(Number::new(1, 2, true)), &mut out),
        Err(ValueError::Negative { di: energy })
    );
    // Signed: 800.000 A would collide with the sign bit.
    let current = Di::V2007(0x0202_0100);
    assert_eq!(
        enc(
            current,
            Value::Number(Number::new(800_000, 3, false)),
            &mut out
        ),
        Err(ValueError::Overflow { di: current })
    );
    // Kind mismatches: a block for a single DI and the reverse, a date for energy.
    assert_eq!(
        enc(energy, Value::Numbers(heapless::Vec::new()), &mut out),
        Err(ValueError::Mismatch { di: energy })
    );
    let block = Di::V2007(0x0201_FF00);
    assert_eq!(
        enc(block, Value::Number(Number::new(1, 1, false)), &mut out),
        Err(ValueError::Mismatch { di: block })
    );
    assert_eq!(
        enc(energy, Value::Time(NaiveTime::MIN), &mut out),
        Err(ValueError::Mismatch { di: energy })
    );
    // Empty and oversized blocks.
    assert!(matches!(
        enc(block, Value::Numbers(heapless::Vec::new()), &mut out),
        Err(ValueError::TooManyItems { actual: 0, .. })
    ));
    let four: heapless::Vec<Number, 64> = (0..4).map(|_| Number::new(0, 1, false)).collect();
    assert!(matches!(
        enc(block, Value::Numbers(four), &mut out),
        Err(ValueError::TooManyItems {
            max: 3,
            actual: 4,
            ..
        })
    ));
    // Unknown DI with a typed value; short buffer.
    let unknown = Di::V2007(0x0700_0000);
    assert_eq!(
        enc(unknown, Value::Number(Number::new(1, 0, false)), &mut out),
        Err(ValueError::UnknownDi { di: unknown })
    );
    assert_eq!(
        enc(
            energy,
            Value::Number(Number::new(1, 2, false)),
            &mut out[..3]
        ),
        Err(ValueError::BufferTooSmall {
            needed: 4,
            available: 3
        })
    );
    // Seconds in a minute-resolution field; a year outside 2000..=2099.
    let switch = Di::V2007(0x0400_0106);
    let t = NaiveDate::from_ymd_opt(2025, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 1)
        .unwrap();
    assert_eq!(
        enc(switch, Value::DateTime(Some(t)), &mut out),
        Err(ValueError::Precision { di: switch })
    );
    let t = NaiveDate::from_ymd_opt(2100, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    assert_eq!(
        enc(switch, Value::DateTime(Some(t)), &mut out),
        Err(ValueError::Overflow { di: switch })
    );
    // Digits: not a digit, too many; fewer digits are padded with leading zeros.
    let address = Di::V2007(0x0400_0401);
    assert_eq!(
        enc(
            address,
            Value::Digits("12345678901x".try_into().unwrap()),
            &mut out
        ),
        Err(ValueError::NotDigit { index: 11 })
    );
    assert_eq!(
        enc(
            address,
            Value::Digits("1234567890123".try_into().unwrap()),
            &mut out
        ),
        Err(ValueError::Overflow { di: address })
    );
    assert_eq!(
        enc(address, Value::Digits("161".try_into().unwrap()), &mut out),
        Ok(6)
    );
    assert_eq!(out[..6], [0x61, 0x01, 0, 0, 0, 0]);
    // Text longer than the field, and non-ASCII text.
    let rated = Di::V2007(0x0400_0404);
    assert_eq!(
        enc(rated, Value::Text("3x220V".try_into().unwrap()), &mut out),
        Ok(6)
    );
    assert_eq!(
        enc(rated, Value::Text("3x220V0".try_into().unwrap()), &mut out),
        Err(ValueError::Overflow { di: rated })
    );
    assert!(matches!(
        enc(rated, Value::Text("220V°".try_into().unwrap()), &mut out),
        Err(ValueError::NotAscii { index: 4, .. })
    ));
    // A TOU entry the decoder would refuse (30 February).
    let zones: heapless::Vec<TimeZone, 14> = [TimeZone {
        month: 2,
        day: 30,
        day_table: 1,
    }]
    .into_iter()
    .collect();
    assert!(matches!(
        enc(Di::V2007(0x0401_0000), Value::TimeZones(zones), &mut out),
        Err(ValueError::InvalidField {
            field: Field::Day,
            ..
        })
    ));
}

#[test]
fn block_items_are_resolved_per_format() {
    // Sanity check that every catalogued format is reachable from a real DI, so the
    // round-trip property below covers them all.
    let formats: Vec<Format> = SAMPLE_DIS
        .iter()
        .map(|&di| catalogue::lookup(di).unwrap().format)
        .collect();
    for wanted in [
        "Decimal",
        "Demand",
        "DateWeekday",
        "Time",
        "DateTimeMinutes",
        "Digits",
        "Ascii",
        "Bits",
        "SettlementDay",
        "EventTotal",
        "TimeZone",
        "DayPeriod",
    ] {
        assert!(
            formats.iter().any(|f| format!("{f:?}").starts_with(wanted)),
            "{wanted} not covered"
        );
    }
}

/// One DI per (format, single/block) combination, both editions.
const SAMPLE_DIS: &[Di] = &[
    Di::V2007(0x0000_0000),
    Di::V2007(0x0001_0000),
    Di::V2007(0x0001_FF00),
    Di::V2007(0x0000_FF01),
    Di::V2007(0x0001_00FF),
    Di::V2007(0x0202_FF00),
    Di::V2007(0x0206_FF00),
    Di::V2007(0x020A_01FF),
    Di::V2007(0x0280_0007),
    Di::V2007(0x0280_000A),
    Di::V2007(0x0101_0000),
    Di::V2007(0x0101_FF00),
    Di::V2007(0x0506_0901),
    Di::V2007(0x0506_0101),
    Di::V2007(0x0506_0001),
    Di::V2007(0x0301_0000),
    Di::V2007(0x0330_0100),
    Di::V2007(0x0400_0101),
    Di::V2007(0x0400_0102),
    Di::V2007(0x0400_0106),
    Di::V2007(0x0400_0205),
    Di::V2007(0x0400_0401),
    Di::V2007(0x0400_0403),
    Di::V2007(0x0400_0C01),
    Di::V2007(0x0400_0501),
    Di::V2007(0x0400_05FF),
    Di::V2007(0x0400_0703),
    Di::V2007(0x0400_0B01),
    Di::V2007(0x0401_0000),
    Di::V2007(0x0402_0008),
    Di::V1997(0x9010),
    Di::V1997(0x901F),
    Di::V1997(0xB611),
    Di::V1997(0xB63F),
    Di::V1997(0xC010),
    Di::V1997(0xC011),
    Di::V1997(0xC032),
];

fn bcd_byte(max_exclusive: u8) -> impl Strategy<Value = u8> {
    (0..max_exclusive).prop_map(|n| ((n / 10) << 4) | (n % 10))
}

fn bcd_in(range: std::ops::RangeInclusive<u8>) -> impl Strategy<Value = u8> {
    range.prop_map(|n| ((n / 10) << 4) | (n % 10))
}

fn decimal_bytes(bytes: u8, signed: bool) -> BoxedStrategy<Vec<u8>> {
    let len = usize::from(bytes);
    (
        proptest::collection::vec(bcd_byte(100), len - 1),
        bcd_byte(if signed { 80 } else { 100 }),
        any::<bool>(),
    )
        .prop_map(move |(mut low, top, negative)| {
            low.push(if signed && negative { top | 0x80 } else { top });
            low
        })
        .boxed()
}

/// YYMMDDhhmm(ss) in wire order, or all zeros.
fn date_time_bytes(seconds: bool) -> BoxedStrategy<Vec<u8>> {
    let len = if seconds { 6 } else { 5 };
    prop_oneof![
        1 => Just(vec![0u8; len]),
        9 => (bcd_byte(60), bcd_byte(60), bcd_byte(24), bcd_in(1..=28), bcd_in(1..=12), bcd_byte(100))
            .prop_map(move |(s, m, h, d, mo, y)| {
                let mut v = if seconds { vec![s] } else { vec![] };
                v.extend([m, h, d, mo, y]);
                v
            }),
    ]
    .boxed()
}

/// Wire bytes of one valid item of `format`.
fn item_bytes(format: Format) -> BoxedStrategy<Vec<u8>> {
    match format {
        Format::Decimal { bytes, signed, .. } => decimal_bytes(bytes, signed),
        Format::Demand { bytes, signed, .. } => {
            (decimal_bytes(bytes, signed), date_time_bytes(false))
                .prop_map(|(mut a, b)| {
                    a.extend(b);
                    a
                })
                .boxed()
        }
        Format::DateWeekday => (bcd_in(0..=6), bcd_in(1..=28), bcd_in(1..=12), bcd_byte(100))
            .prop_map(|(w, d, m, y)| vec![w, d, m, y])
            .boxed(),
        Format::Time => (bcd_byte(60), bcd_byte(60), bcd_byte(24))
            .prop_map(|(s, m, h)| vec![s, m, h])
            .boxed(),
        Format::DateTimeMinutes => date_time_bytes(false),
        Format::DateTimeSeconds => date_time_bytes(true),
        Format::Digits { bytes } => {
            proptest::collection::vec(bcd_byte(100), usize::from(bytes)).boxed()
        }
        Format::Ascii { bytes } => proptest::collection::vec(0u8..0x80, usize::from(bytes)).boxed(),
        Format::Bits { bytes } => {
            proptest::collection::vec(any::<u8>(), usize::from(bytes)).boxed()
        }
        Format::SettlementDay => prop_oneof![
            1 => Just(vec![0x99, 0x99]),
            9 => (bcd_byte(24), bcd_in(1..=31)).prop_map(|(h, d)| vec![h, d]),
        ]
        .boxed(),
        Format::EventTotal => proptest::collection::vec(bcd_byte(100), 6).boxed(),
        Format::TimeZone => (bcd_in(1..=8), bcd_in(1..=28), bcd_in(1..=12))
            .prop_map(|(n, d, m)| vec![n, d, m])
            .boxed(),
        Format::DayPeriod => (bcd_in(1..=63), bcd_byte(60), bcd_byte(24))
            .prop_map(|(n, m, h)| vec![n, m, h])
            .boxed(),
        other => panic!("no generator for {other:?}"),
    }
}

/// A catalogued DI and valid value bytes for it (1..=max items for blocks, within a
/// 251-byte data field).
fn di_and_valid_bytes() -> impl Strategy<Value = (Di, Vec<u8>)> {
    proptest::sample::select(SAMPLE_DIS).prop_flat_map(|di| {
        let info = catalogue::lookup(di).unwrap();
        let fit = 251 / usize::from(info.item_len);
        let max = usize::from(info.max_items).min(fit);
        (
            Just(di),
            proptest::collection::vec(item_bytes(info.format), 1..=max)
                .prop_map(|items| items.concat()),
        )
    })
}

proptest! {
    /// decode → encode gives back the exact bytes, and decoding those again gives the
    /// same value: the codecs are inverse for every format, single and block.
    #[test]
    fn wire_round_trip_every_format((di, bytes) in di_and_valid_bytes()) {
        let value = value::decode(di, &bytes).unwrap();
        let mut out = [0u8; 255];
        let len = value::encode(di, &value, &mut out).unwrap();
        prop_assert_eq!(&out[..len], bytes.as_slice());
        prop_assert_eq!(value::decode(di, &out[..len]).unwrap(), value);
    }

    /// encode → decode for numbers built on the value side: any magnitude that fits,
    /// at any scale up to the field's, comes back equal after exact rescaling.
    #[test]
    fn number_round_trip_with_rescale(
        di in proptest::sample::select(&[
            Di::V2007(0x0001_0000), Di::V2007(0x0000_0000), Di::V2007(0x0202_0100),
            Di::V2007(0x0201_0100), Di::V2007(0x0203_0000), Di::V1997(0xB611),
        ][..]),
        raw in any::<u64>(),
        scale_drop in 0u8..=4,
        negative in any::<bool>(),
    ) {
        let info = catalogue::lookup(di).unwrap();
        let Format::Decimal { bytes, decimals, signed } = info.format else { unreachable!() };
        let digits = 2 * u32::from(bytes) - u32::from(signed);
        let limit = if signed { 8 * 10u64.pow(digits - 1) } else { 10u64.pow(digits) };
        let field_mantissa = raw % limit;
        let scale = decimals.saturating_sub(scale_drop);
        let dropped = u32::from(decimals - scale);
        // Only numbers exactly representable at the smaller scale.
        let magnitude = field_mantissa / 10u64.pow(dropped);
        let negative = negative && signed;
        let n = Number::new(magnitude, scale, negative);
        let mut out = [0u8; 8];
        let len = value::encode(di, &Value::Number(n), &mut out).unwrap();
        let Value::Number(back) = value::decode(di, &out[..len]).unwrap() else { unreachable!() };
        prop_assert_eq!(back.scale(), decimals);
        prop_assert_eq!(back.is_negative(), negative);
        prop_assert_eq!(back.rescaled_mantissa(scale), Some(n.mantissa()));
    }

    /// Any bytes for any identifier: an error or a value, never a panic; and a value
    /// that decodes always encodes back to the same bytes.
    #[test]
    fn decode_never_panics(
        di in prop_oneof![
            any::<u32>().prop_map(Di::V2007),
            (0u32..=6, any::<u8>(), any::<u8>(), any::<u8>())
                .prop_map(|(a, b, c, d)| Di::V2007(a << 24 | u32::from(b) << 16 | u32::from(c) << 8 | u32::from(d))),
            any::<u16>().prop_map(Di::V1997),
            proptest::sample::select(SAMPLE_DIS),
        ],
        bytes in proptest::collection::vec(any::<u8>(), 0..=260),
    ) {
        if let Ok(value) = value::decode(di, &bytes) {
            let _ = value.to_string();
            let mut out = [0u8; 512];
            let len = value::encode(di, &value, &mut out).unwrap();
            prop_assert_eq!(&out[..len], bytes.as_slice());
        }
    }
}

/// With `serde-1`, numbers and units serialise as the JSON contract spells them.
#[cfg(feature = "serde-1")]
#[test]
fn serde_uses_the_contract_strings() {
    let value = value::decode(Di::V2007(0x0202_0100), &hex("23 01 80")).unwrap();
    assert_eq!(
        serde_json::to_string(&value).unwrap(),
        r#"{"Number":"-0.123"}"#
    );
    let unit = catalogue::lookup(Di::V2007(0x0202_0100)).unwrap().unit;
    assert_eq!(serde_json::to_string(&unit).unwrap(), r#""A""#);
}
