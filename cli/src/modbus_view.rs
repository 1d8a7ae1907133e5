//! Modbus frames as `meterkit decode` shows them: the JSON contract of DESIGN.md and a
//! readable explanation for people.

use std::fmt::Write as _;

use meterkit_modbus::{Decoded, Direction, Pdu, Request, Response, rtu, tcp};
use serde_json::{Map, Value as Json, json};

use crate::{
    decode::{Found, Skipped, frame_object},
    hex,
};

/// Which framing to look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    Rtu,
    Tcp,
}

/// Every Modbus frame in `input`. `direction` fixes how frames are read; without it
/// each frame is read as a request if its length and check validate that way, else as
/// a response (the decode contract).
pub(crate) fn scan(
    input: &[u8],
    framing: Framing,
    direction: Option<Direction>,
) -> (Vec<Found>, Vec<Skipped>) {
    let directions: &[Direction] = match direction {
        Some(Direction::Request) => &[Direction::Request],
        Some(Direction::Response) => &[Direction::Response],
        None => &[Direction::Request, Direction::Response],
    };
    let mut found = Vec::new();
    let mut skipped: Vec<Skipped> = Vec::new();
    let mut pos = 0;
    while pos < input.len() {
        let rest = &input[pos..];
        let mut shortest_skip: Option<(usize, String)> = None;
        let mut hit = None;
        for &d in directions {
            match decode_one(rest, pos, framing, d) {
                Ok((consumed, frame)) => {
                    hit = Some((consumed, frame));
                    break;
                }
                Err((count, reason)) => {
                    if shortest_skip.as_ref().is_none_or(|(c, _)| count < *c) {
                        shortest_skip = Some((count, reason));
                    }
                }
            }
        }
        match (hit, shortest_skip) {
            (Some((consumed, frame)), _) => {
                found.push(frame);
                pos += consumed;
            }
            (None, Some((count, reason))) => {
                match skipped.last_mut() {
                    Some(last) if last.offset + last.count == pos => last.count += count,
                    _ => skipped.push(Skipped {
                        offset: pos,
                        count,
                        reason,
                    }),
                }
                pos += count;
            }
            (None, None) => break,
        }
    }
    (found, skipped)
}

/// Decodes one frame at the start of `rest` (which will not grow), or says how many
/// bytes to skip and why.
fn decode_one(
    rest: &[u8],
    offset: usize,
    framing: Framing,
    direction: Direction,
) -> Result<(usize, Found), (usize, String)> {
    let (name, protocol) = match framing {
        Framing::Rtu => ("RTU", "modbus-rtu"),
        Framing::Tcp => ("TCP", "modbus-tcp"),
    };
    let not_a_frame = |count, reason: &dyn std::fmt::Display| {
        (count, format!("not a Modbus {name} frame ({reason})"))
    };
    let mut j = frame_object(protocol, offset);
    // Each framing yields its header fields and the PDU; the frame is `rest[..consumed]`.
    let (consumed, pdu) = match framing {
        Framing::Rtu => match rtu::Decoder::new(direction).decode_eof(rest) {
            Decoded::Frame { frame, consumed } => (
                consumed,
                rtu::Repr::parse(&frame, direction).map(|repr| {
                    j.insert("slave".into(), json!(repr.slave));
                    repr.pdu
                }),
            ),
            Decoded::Skip { count, reason } => return Err(not_a_frame(count, &reason)),
            Decoded::NeedMore { .. } => return Err((rest.len(), "end of input".to_owned())),
        },
        Framing::Tcp => match tcp::Decoder::new(direction).decode_eof(rest) {
            Decoded::Frame { frame, consumed } => (
                consumed,
                tcp::Repr::parse(&frame, direction).map(|repr| {
                    j.insert("transaction".into(), json!(repr.transaction));
                    j.insert("slave".into(), json!(repr.unit));
                    repr.pdu
                }),
            ),
            Decoded::Skip { count, reason } => return Err(not_a_frame(count, &reason)),
            Decoded::NeedMore { .. } => return Err((rest.len(), "end of input".to_owned())),
        },
    };
    let pdu = pdu.map_err(|e| not_a_frame(consumed, &e))?;
    let text = describe(&mut j, name, &pdu, &rest[..consumed]);
    Ok((consumed, Found { json: j, text }))
}

/// Fills the contract keys for one PDU and returns the readable explanation.
fn describe(j: &mut Map<String, Json>, framing: &str, pdu: &Pdu<'_>, bytes: &[u8]) -> String {
    let function = pdu.function_code();
    let direction = pdu.direction().as_str();
    j.insert("as".into(), json!(direction));
    j.insert("function".into(), json!(function));
    let mut t = String::new();
    let offset = j.get("offset").and_then(Json::as_u64).unwrap_or_default();
    let _ = writeln!(
        t,
        "Modbus {framing} {direction} {} at offset {offset}, {} bytes: {}",
        meterkit_modbus::FunctionCode::from_u8(function).map_or_else(
            || format!("function {function:#04X}"),
            |f| format!("{f:?} ({function:#04X})")
        ),
        bytes.len(),
        hex::spaced(bytes),
    );
    let mut fields: Vec<(&str, Json)> = Vec::new();
    // The contract's keys, straight from the PDU's accessors.
    if let Some(code) = pdu.exception() {
        fields.push(("exception", json!(code.code())));
        fields.push(("meaning", json!(format!("{code:?}"))));
    }
    if let Some(address) = pdu.address() {
        fields.push(("address", json!(address)));
    }
    if let Some(quantity) = pdu.quantity() {
        fields.push(("quantity", json!(quantity)));
    }
    if let Some(value) = pdu.value() {
        fields.push(("value", json!(value)));
    }
    if let Some(count) = pdu.byte_count() {
        fields.push(("byte_count", json!(count)));
    }
    if let Some(registers) = pdu.registers() {
        fields.push(("registers", json!(registers.iter().collect::<Vec<u16>>())));
    }
    if let Some(coils) = pdu.coil_bytes() {
        fields.push(("coil_bytes", json!(hex::compact(coils))));
    }
    // Fields of the less common functions, beyond the contract.
    match pdu {
        Pdu::Request(Request::MaskWriteRegister {
            and_mask, or_mask, ..
        })
        | Pdu::Response(Response::MaskWriteRegister {
            and_mask, or_mask, ..
        }) => {
            fields.push(("and_mask", json!(and_mask)));
            fields.push(("or_mask", json!(or_mask)));
        }
        Pdu::Request(Request::ReadWriteMultipleRegisters { write_address, .. }) => {
            fields.push(("write_address", json!(write_address)));
        }
        Pdu::Request(Request::Diagnostics { sub_function, data })
        | Pdu::Response(Response::Diagnostics { sub_function, data }) => {
            fields.push(("sub_function", json!(sub_function)));
            fields.push(("data", json!(data)));
        }
        Pdu::Request(Request::ReadDeviceIdentification { code, object_id }) => {
            fields.push(("read_device_id_code", json!(code.code())));
            fields.push(("object_id", json!(object_id)));
        }
        Pdu::Response(Response::ReadExceptionStatus { status }) => {
            fields.push(("status", json!(status)));
        }
        Pdu::Response(Response::GetCommEventCounter {
            status,
            event_count,
        }) => {
            fields.push(("status", json!(status)));
            fields.push(("event_count", json!(event_count)));
        }
        _ => {}
    }
    for key in ["transaction", "slave"] {
        if let Some(value) = j.get(key) {
            let _ = writeln!(t, "  {key:<11} {value}");
        }
    }
    for (key, value) in fields {
        let shown = match &value {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        };
        let _ = writeln!(t, "  {key:<11} {shown}");
        j.insert(key.into(), value);
    }
    t
}
