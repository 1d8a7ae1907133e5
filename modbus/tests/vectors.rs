//! Every frame in `tests/data/modbus_public.jsonl`, checked field by field.

use meterkit_modbus::{Decoded, Direction, Pdu, rtu, tcp};
use serde_json::Value;

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).expect("vector hex"))
        .collect()
}

fn upper_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        write!(s, "{b:02X}").expect("write to String");
        s
    })
}

/// Compares every field the vector names with the decoded frame; unknown keys fail the test.
fn check_fields(
    id: &str,
    fields: &serde_json::Map<String, Value>,
    slave: u8,
    transaction: Option<u16>,
    pdu: &Pdu<'_>,
) {
    for (key, want) in fields {
        let got: Value = match key.as_str() {
            "slave" => slave.into(),
            "transaction" => transaction.expect("transaction only for TCP").into(),
            "function" => pdu.function_code().into(),
            "exception" => pdu
                .exception()
                .map(meterkit_modbus::ExceptionCode::code)
                .into(),
            "address" => pdu.address().into(),
            "quantity" => pdu.quantity().into(),
            "value" => pdu.value().into(),
            "byte_count" => pdu.byte_count().into(),
            "coil_bytes" => pdu.coil_bytes().map(upper_hex).into(),
            "registers" => pdu.registers().map(|r| r.iter().collect::<Vec<_>>()).into(),
            other => panic!("{id}: unknown field {other}"),
        };
        assert_eq!(&got, want, "{id}: field {key}");
    }
}

#[test]
fn public_vectors() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/modbus_public.jsonl"
    );
    let text = std::fs::read_to_string(path).expect("vector file");
    let mut checked = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).expect("json line");
        let id = v["id"].as_str().expect("id");
        let bytes = hex(v["hex"].as_str().expect("hex"));
        let direction = match v["as"].as_str().expect("as") {
            "request" => Direction::Request,
            "response" => Direction::Response,
            other => panic!("{id}: direction {other}"),
        };
        let valid = v["valid"].as_bool().expect("valid");
        let fields = v["fields"].as_object().expect("fields");
        let mut out = [0u8; 260];
        match v["kind"].as_str().expect("kind") {
            "rtu" => {
                let decoded = rtu::Decoder::new(direction).decode(&bytes);
                if !valid {
                    assert!(
                        !matches!(decoded, Decoded::Frame { .. }),
                        "{id}: invalid frame accepted"
                    );
                    continue;
                }
                let Decoded::Frame { frame, consumed } = decoded else {
                    panic!("{id}: {decoded:?}")
                };
                assert_eq!(consumed, bytes.len(), "{id}");
                let repr = rtu::Repr::parse(&frame, direction).expect(id);
                check_fields(id, fields, repr.slave, None, &repr.pdu);
                let n = repr.emit(&mut out).expect(id);
                assert_eq!(&out[..n], &bytes[..], "{id}: re-emitted bytes differ");
            }
            "tcp" => {
                let decoded = tcp::Decoder::new(direction).decode(&bytes);
                if !valid {
                    assert!(
                        !matches!(decoded, Decoded::Frame { .. }),
                        "{id}: invalid frame accepted"
                    );
                    continue;
                }
                let Decoded::Frame { frame, consumed } = decoded else {
                    panic!("{id}: {decoded:?}")
                };
                assert_eq!(consumed, bytes.len(), "{id}");
                let repr = tcp::Repr::parse(&frame, direction).expect(id);
                check_fields(id, fields, repr.unit, Some(repr.transaction), &repr.pdu);
                let n = repr.emit(&mut out).expect(id);
                assert_eq!(&out[..n], &bytes[..], "{id}: re-emitted bytes differ");
            }
            other => panic!("{id}: kind {other}"),
        }
        checked += 1;
    }
    assert!(checked >= 24, "only {checked} vectors checked");
}
