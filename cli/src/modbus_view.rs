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
    match framing {
        Framing::Rtu => match rtu::Decoder::new(direction).decode_eof(rest) {
            Decoded::Frame { frame, consumed } => {
                let repr = rtu::Repr::parse(&frame, direction)
                    .map_err(|e| (consumed, format!("not a Modbus RTU frame ({e})")))?;
                let mut j = frame_object("modbus-rtu", offset);
                j.insert("slave".into(), json!(repr.slave));
                let text = describe(
                    &mut j,
                    "RTU",
                    direction,
                    frame.function(),
                    &repr.pdu,
                    frame.as_bytes(),
                );
                Ok((consumed, Found { json: j, text }))
            }
            Decoded::Skip { count, reason } => {
                Err((count, format!("not a Modbus RTU frame ({reason})")))
            }
            Decoded::NeedMore { .. } => Err((rest.len(), "end of input".to_owned())),
        },
        Framing::Tcp => match tcp::Decoder::new(direction).decode_eof(rest) {
            Decoded::Frame { frame, consumed } => {
                let repr = tcp::Repr::parse(&frame, direction)
                    .map_err(|e| (consumed, format!("not a Modbus TCP frame ({e})")))?;
                let mut j = frame_object("modbus-tcp", offset);
                j.insert("transaction".into(), json!(repr.transaction));
                j.insert("slave".into(), json!(repr.unit));
                let text = describe(
                    &mut j,
                    "TCP",
                    direction,
                    frame.function(),
                    &repr.pdu,
                    frame.as_bytes(),
                );
                Ok((consumed, Found { json: j, text }))
            }
            Decoded::Skip { count, reason } => {
                Err((count, format!("not a Modbus TCP frame ({reason})")))
            }
            Decoded::NeedMore { .. } => Err((rest.len(), "end of input".to_owned())),
        },
    }
}

fn registers_json(registers: &meterkit_modbus::Registers<'_>) -> Json {
    json!(registers.iter().collect::<Vec<u16>>())
}

/// Fills the contract keys for one PDU and returns the readable explanation.
fn describe(
    j: &mut Map<String, Json>,
    framing: &str,
    direction: Direction,
    function_byte: u8,
    pdu: &Pdu<'_>,
    bytes: &[u8],
) -> String {
    let function = function_byte & 0x7F;
    j.insert(
        "as".into(),
        json!(match direction {
            Direction::Request => "request",
            Direction::Response => "response",
        }),
    );
    j.insert("function".into(), json!(function));
    let mut t = String::new();
    let offset = j.get("offset").and_then(Json::as_u64).unwrap_or_default();
    let _ = writeln!(
        t,
        "Modbus {framing} {} {} at offset {offset}, {} bytes: {}",
        match direction {
            Direction::Request => "request",
            Direction::Response => "response",
        },
        meterkit_modbus::FunctionCode::from_u8(function).map_or_else(
            || format!("function {function:#04X}"),
            |f| format!("{f:?} ({function:#04X})")
        ),
        bytes.len(),
        hex::spaced(bytes),
    );
    for key in ["transaction", "slave"] {
        if let Some(value) = j.get(key) {
            let _ = writeln!(t, "  {key:<11} {value}");
        }
    }
    let mut field = |j: &mut Map<String, Json>, key: &str, value: Json| {
        let shown = match &value {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        };
        let _ = writeln!(t, "  {key:<11} {shown}");
        j.insert(key.into(), value);
    };
    match pdu {
        Pdu::Request(request) => match request {
            Request::ReadCoils { address, quantity }
            | Request::ReadDiscreteInputs { address, quantity }
            | Request::ReadHoldingRegisters { address, quantity }
            | Request::ReadInputRegisters { address, quantity } => {
                field(j, "address", json!(address));
                field(j, "quantity", json!(quantity));
            }
            Request::WriteSingleCoil { address, on } => {
                field(j, "address", json!(address));
                field(j, "value", json!(if *on { 0xFF00 } else { 0 }));
            }
            Request::WriteSingleRegister { address, value } => {
                field(j, "address", json!(address));
                field(j, "value", json!(value));
            }
            Request::WriteMultipleCoils {
                address,
                quantity,
                coil_bytes,
            } => {
                field(j, "address", json!(address));
                field(j, "quantity", json!(quantity));
                field(j, "byte_count", json!(coil_bytes.len()));
                field(j, "coil_bytes", json!(hex::compact(coil_bytes)));
            }
            Request::WriteMultipleRegisters { address, registers } => {
                field(j, "address", json!(address));
                field(j, "quantity", json!(registers.len()));
                field(j, "byte_count", json!(registers.byte_len()));
                field(j, "registers", registers_json(registers));
            }
            Request::MaskWriteRegister {
                address,
                and_mask,
                or_mask,
            } => {
                field(j, "address", json!(address));
                field(j, "and_mask", json!(and_mask));
                field(j, "or_mask", json!(or_mask));
            }
            Request::ReadWriteMultipleRegisters {
                read_address,
                read_quantity,
                write_address,
                registers,
            } => {
                field(j, "address", json!(read_address));
                field(j, "quantity", json!(read_quantity));
                field(j, "write_address", json!(write_address));
                field(j, "registers", registers_json(registers));
            }
            Request::ReadFifoQueue { address } => field(j, "address", json!(address)),
            Request::Diagnostics { sub_function, data } => {
                field(j, "sub_function", json!(sub_function));
                field(j, "data", json!(data));
            }
            Request::ReadDeviceIdentification { code, object_id } => {
                field(j, "read_device_id_code", json!(code.code()));
                field(j, "object_id", json!(object_id));
            }
            _ => {}
        },
        Pdu::Response(response) => match response {
            Response::ReadCoils { coil_bytes } | Response::ReadDiscreteInputs { coil_bytes } => {
                field(j, "byte_count", json!(coil_bytes.len()));
                field(j, "coil_bytes", json!(hex::compact(coil_bytes)));
            }
            Response::ReadHoldingRegisters { registers }
            | Response::ReadInputRegisters { registers }
            | Response::ReadWriteMultipleRegisters { registers } => {
                field(j, "byte_count", json!(registers.byte_len()));
                field(j, "registers", registers_json(registers));
            }
            Response::WriteSingleCoil { address, on } => {
                field(j, "address", json!(address));
                field(j, "value", json!(if *on { 0xFF00 } else { 0 }));
            }
            Response::WriteSingleRegister { address, value } => {
                field(j, "address", json!(address));
                field(j, "value", json!(value));
            }
            Response::WriteMultipleCoils { address, quantity }
            | Response::WriteMultipleRegisters { address, quantity } => {
                field(j, "address", json!(address));
                field(j, "quantity", json!(quantity));
            }
            Response::MaskWriteRegister {
                address,
                and_mask,
                or_mask,
            } => {
                field(j, "address", json!(address));
                field(j, "and_mask", json!(and_mask));
                field(j, "or_mask", json!(or_mask));
            }
            Response::ReadFifoQueue { values } => field(j, "registers", registers_json(values)),
            Response::ReadExceptionStatus { status } => field(j, "status", json!(status)),
            Response::Diagnostics { sub_function, data } => {
                field(j, "sub_function", json!(sub_function));
                field(j, "data", json!(data));
            }
            Response::GetCommEventCounter {
                status,
                event_count,
            } => {
                field(j, "status", json!(status));
                field(j, "event_count", json!(event_count));
            }
            Response::Exception { code, .. } => {
                field(j, "exception", json!(code.code()));
                field(j, "meaning", json!(format!("{code:?}")));
            }
            _ => {}
        },
    }
    t
}
