//! DL/T 645 frames as `meterkit decode` shows them: the JSON contract of DESIGN.md and
//! a readable explanation for people.

use std::fmt::Write as _;

use dlt645::{
    Edition, Frame, FrameRepr,
    message::{Message, Reply, Request},
    stream::{Decoder, ScanEvent, SkipReason},
};
use serde_json::{Map, Value as Json, json};

use crate::{
    decode::{Found, Skipped, frame_object},
    hex, value_view,
};

/// Every DL/T 645 frame in `input`, and the runs of bytes that belong to none.
pub(crate) fn scan(input: &[u8]) -> (Vec<Found>, Vec<Skipped>) {
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    for event in Decoder::new().scan(input) {
        match event {
            ScanEvent::Frame {
                offset,
                preamble,
                frame,
            } => {
                found.push(describe(offset, preamble, &frame));
            }
            ScanEvent::Skipped {
                offset,
                count,
                reason,
            } => skipped.push(Skipped {
                offset,
                count,
                reason: match reason {
                    SkipReason::FalseStart(error) => format!("not a DL/T 645 frame ({error})"),
                    _ => "not part of a DL/T 645 frame".to_owned(),
                },
            }),
        }
    }
    (found, skipped)
}

fn edition_name(edition: Edition) -> &'static str {
    match edition {
        Edition::V2007 => "dlt645-2007",
        Edition::V1997 => "dlt645-1997",
    }
}

fn describe(offset: usize, preamble: usize, frame: &Frame<&[u8]>) -> Found {
    let control = frame.control();
    let function = control.function(frame.data_len());
    // A code neither edition defines: 0x11 and above are 2007's range.
    let edition = function.map_or(
        if control.code() >= 0x11 {
            Edition::V2007
        } else {
            Edition::V1997
        },
        |(_, e)| e,
    );
    let repr = FrameRepr::parse(frame);
    let mut j = frame_object(edition_name(edition), offset);
    let mut t = String::new();

    j.insert("address".into(), json!(frame.address().to_string()));
    j.insert("control".into(), json!(control.to_string()));
    let direction = control.direction();
    j.insert("direction".into(), json!(direction.to_string()));
    if let Some((function, _)) = function {
        j.insert("function".into(), json!(function.name()));
    }
    j.insert("ok".into(), json!(!control.is_abnormal()));
    if control.has_more() {
        j.insert("more".into(), json!(true));
    }
    j.insert("preamble".into(), json!(preamble));
    j.insert("data".into(), json!(hex::compact(&repr.data)));
    if let Some(di) = frame.di() {
        j.insert("di".into(), json!(di.to_string()));
    }

    let _ = writeln!(
        t,
        "DL/T 645-{} {} at offset {offset}{}, {} bytes",
        if edition == Edition::V2007 {
            "2007"
        } else {
            "1997"
        },
        direction,
        if preamble > 0 {
            format!(" after {preamble} wake-up bytes (FE)")
        } else {
            String::new()
        },
        frame.total_len(),
    );
    let _ = writeln!(
        t,
        "  address   {}{}",
        frame.address(),
        address_note(frame.address())
    );
    let _ = writeln!(
        t,
        "  control   {control} = {}{}{}: {}",
        direction,
        if control.is_abnormal() {
            ", abnormal"
        } else {
            ""
        },
        if control.has_more() {
            ", more frames follow"
        } else {
            ""
        },
        function.map_or_else(
            || format!("unknown function {:02X}", control.code()),
            |(f, _)| f.name().to_owned()
        ),
    );
    let _ = writeln!(
        t,
        "  length    {} data byte{}{}",
        frame.data_len(),
        if frame.data_len() == 1 { "" } else { "s" },
        data_note(&repr)
    );

    match Message::parse(&repr) {
        Ok(message) => explain(&message, &mut j, &mut t),
        Err(error) => {
            j.insert("message_error".into(), json!(error.to_string()));
            let _ = writeln!(t, "  problem   {error}");
        }
    }
    let _ = writeln!(t, "  checksum  {:02X} (ok)", frame.checksum());
    Found { json: j, text: t }
}

fn address_note(address: dlt645::Address) -> &'static str {
    if address.is_broadcast() {
        " (broadcast)"
    } else if address == dlt645::Address::WILDCARD {
        " (wildcard: any meter)"
    } else if address.has_wildcard() {
        " (shortened: AA digits match anything)"
    } else {
        ""
    }
}

fn data_note(repr: &FrameRepr) -> String {
    if repr.data.is_empty() {
        String::new()
    } else {
        format!(": {} (minus 33H)", hex::spaced(&repr.data))
    }
}

fn explain(message: &Message, j: &mut Map<String, Json>, t: &mut String) {
    match message {
        Message::Request(request) => explain_request(request, j, t),
        Message::Reply(reply) => explain_reply(reply, j, t),
    }
}

fn di_line(di: dlt645::Di, t: &mut String) {
    let _ = writeln!(t, "  DI        {di} = {}", value_view::di_name(di));
}

fn explain_request(request: &Request, j: &mut Map<String, Json>, t: &mut String) {
    match request {
        Request::Read { di, selector } => {
            di_line(*di, t);
            match selector {
                dlt645::message::ReadSelector::Current => {}
                dlt645::message::ReadSelector::Blocks { count } => {
                    j.insert("blocks".into(), json!(count));
                    let _ = writeln!(t, "  blocks    {count} load-record blocks");
                }
                dlt645::message::ReadSelector::LoadRecordsSince { count, since } => {
                    j.insert("blocks".into(), json!(count));
                    j.insert("since".into(), json!(iso(since)));
                    let _ = writeln!(
                        t,
                        "  blocks    {count} load-record blocks since {}",
                        iso(since)
                    );
                }
            }
        }
        Request::ReadSubsequent { di, seq } => {
            di_line(*di, t);
            if let Some(seq) = seq {
                j.insert("seq".into(), json!(seq));
                let _ = writeln!(t, "  sequence  frame {seq}");
            }
        }
        Request::Write {
            di,
            password,
            operator,
            data,
        } => {
            di_line(*di, t);
            j.insert("password".into(), json!(password.to_string()));
            let _ = writeln!(t, "  password  level {:02X}, {}", password.level, password);
            if let Some(op) = operator {
                j.insert("operator".into(), json!(op.to_string()));
                let _ = writeln!(t, "  operator  {op}");
            }
            value_view::describe(*di, data, j, t);
        }
        Request::WriteAddress { address, .. } => {
            j.insert("new_address".into(), json!(address.to_string()));
            let _ = writeln!(t, "  new addr  {address}");
        }
        Request::BroadcastTime { time } => {
            j.insert("time".into(), json!(iso(time)));
            let _ = writeln!(t, "  time      {} (no reply expected)", iso(time));
        }
        Request::Freeze { at } => {
            let field = |v: Option<u8>| v.map_or_else(|| "every".to_owned(), |v| format!("{v:02}"));
            let _ = writeln!(
                t,
                "  freeze    month {}, day {}, {}:{}",
                field(at.month),
                field(at.day),
                field(at.hour),
                field(at.minute)
            );
        }
        Request::ChangeBaud { rate, .. } => {
            j.insert("baud".into(), json!(rate.bits_per_second()));
            let _ = writeln!(
                t,
                "  rate      {} bit/s (word {:02X})",
                rate.bits_per_second(),
                rate.to_word()
            );
        }
        Request::ChangePassword { di, old, new } => {
            if let Some(di) = di {
                j.insert("di".into(), json!(di.to_string()));
            }
            let _ = writeln!(t, "  password  {old} -> {new}");
        }
        Request::ClearEvents { di, .. } => {
            j.insert("di".into(), json!(di.to_string()));
            di_line(*di, t);
        }
        Request::RelayControl {
            command,
            valid_until,
            ..
        } => {
            j.insert(
                "relay_command".into(),
                json!(format!("{:02X}", command.to_byte())),
            );
            let _ = writeln!(
                t,
                "  relay     {command:?}, valid until {}",
                iso(valid_until)
            );
        }
        Request::Heartbeat { minutes } => {
            let _ = writeln!(t, "  timeout   {minutes} minutes");
        }
        _ => {}
    }
}

fn explain_reply(reply: &Reply, j: &mut Map<String, Json>, t: &mut String) {
    match reply {
        Reply::Read { di, data, .. } => {
            di_line(*di, t);
            value_view::describe(*di, data, j, t);
        }
        Reply::ReadSubsequent { di, data, seq, .. } => {
            di_line(*di, t);
            if let Some(seq) = seq {
                j.insert("seq".into(), json!(seq));
                let _ = writeln!(t, "  sequence  frame {seq}");
            }
            value_view::describe(*di, data, j, t);
        }
        Reply::ReadAddress { address } => {
            j.insert("data_address".into(), json!(address.to_string()));
            let _ = writeln!(t, "  meter     {address}");
        }
        Reply::ChangeBaud { rate, .. } => {
            j.insert("baud".into(), json!(rate.bits_per_second()));
            let _ = writeln!(t, "  rate      {} bit/s", rate.bits_per_second());
        }
        Reply::Abnormal { error, .. } => {
            j.insert("error_code".into(), json!(format!("{:02X}", error.bits)));
            let flags: Vec<&str> = error
                .flags()
                .map(dlt645::message::ErrorFlag::description)
                .collect();
            j.insert("errors".into(), json!(flags));
            let _ = writeln!(t, "  error     {:02X} = {error}", error.bits);
        }
        _ => {}
    }
}

/// `YYYY-MM-DDThh:mm:ss`, the contract's time format.
pub(crate) fn iso(time: &chrono::NaiveDateTime) -> String {
    time.format("%Y-%m-%dT%H:%M:%S").to_string()
}
