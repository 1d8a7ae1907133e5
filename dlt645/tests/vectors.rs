//! Every public test frame in `tests/data/dlt645_public.jsonl`, decoded and checked
//! field by field against its expected decoding.

use dlt645::{
    Edition, FrameRepr, catalogue,
    message::{Message, Reply, Request},
    stream::{Decoder, ScanEvent},
    value::{self, Value},
};
use serde_json::Value as Json;

fn hex(text: &str) -> Vec<u8> {
    text.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).expect("vector hex"))
        .collect()
}

fn upper_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02X}");
        out
    })
}

/// The fields the decode contract defines, computed from the library alone.
fn decode_fields(frame: &dlt645::Frame<&[u8]>, offset: usize) -> serde_json::Map<String, Json> {
    let mut m = serde_json::Map::new();
    let edition = frame.edition().expect("vectors use known function codes");
    let protocol = match edition {
        Edition::V2007 => "dlt645-2007",
        Edition::V1997 => "dlt645-1997",
    };
    let repr = FrameRepr::parse(frame);
    m.insert("protocol".into(), protocol.into());
    m.insert("address".into(), frame.address().to_string().into());
    m.insert("control".into(), frame.control().to_string().into());
    m.insert("ok".into(), (!frame.control().is_abnormal()).into());
    m.insert("offset".into(), offset.into());
    m.insert("data".into(), upper_hex(&repr.data).into());
    if let Some(di) = frame.di() {
        m.insert("di".into(), di.to_string().into());
    }
    match Message::parse(&repr).expect("every vector is a well-formed message") {
        Message::Reply(Reply::Read { di, data, .. }) => {
            let info = catalogue::lookup(di).expect("vector DIs are catalogued");
            match value::decode(di, &data).expect("vector values decode") {
                Value::Number(n) => {
                    m.insert("value".into(), n.to_string().into());
                }
                Value::Numbers(ns) => {
                    let values: Vec<Json> = ns.iter().map(|n| n.to_string().into()).collect();
                    m.insert("values".into(), values.into());
                }
                other => panic!("unexpected value kind {other:?}"),
            }
            m.insert("unit".into(), info.unit.as_str().into());
        }
        Message::Reply(Reply::ReadAddress { address }) => {
            m.insert("data_address".into(), address.to_string().into());
        }
        Message::Reply(Reply::Abnormal { error, .. }) => {
            m.insert("error_code".into(), format!("{:02X}", error.bits).into());
        }
        Message::Request(Request::BroadcastTime { time }) => {
            m.insert(
                "time".into(),
                time.format("%Y-%m-%dT%H:%M:%S").to_string().into(),
            );
        }
        _ => {}
    }
    m
}

#[test]
fn every_public_vector_decodes_field_by_field() {
    let text = include_str!("data/dlt645_public.jsonl");
    let mut checked = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let vector: Json = serde_json::from_str(line).expect("vector line is JSON");
        let id = vector["id"].as_str().expect("id");
        let bytes = hex(vector["hex"].as_str().expect("hex"));
        let expected = vector["frames"].as_array().expect("frames");

        let found: Vec<_> = Decoder::new()
            .scan(&bytes)
            .map(|event| match event {
                ScanEvent::Frame { offset, frame, .. } => decode_fields(&frame, offset),
                ScanEvent::Skipped {
                    offset,
                    count,
                    reason,
                } => {
                    panic!("{id}: {count} bytes skipped at {offset}: {reason:?}")
                }
            })
            .collect();
        assert_eq!(found.len(), expected.len(), "{id}: frame count");
        for (got, want) in found.iter().zip(expected) {
            for (key, want_value) in want.as_object().expect("frame object") {
                assert_eq!(got.get(key), Some(want_value), "{id}: field {key}");
            }
        }
        assert_eq!(
            vector["valid"],
            Json::Bool(true),
            "{id}: only valid vectors are published"
        );
        checked += 1;
    }
    // The file holds 31 vectors; a silently empty or truncated file must fail.
    assert_eq!(checked, 31);
}
