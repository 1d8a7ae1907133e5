//! `meterkit decode`: find and explain every frame in a capture.

use std::io::Read as _;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::{Map, Value as Json, json};

use crate::{
    dlt645_view, fail, hex,
    modbus_view::{self, Framing},
};

#[derive(Debug, Args)]
pub(crate) struct DecodeArgs {
    /// Hex bytes (whitespace, commas, 0x prefixes and case are ignored). Read from
    /// standard input when none are given.
    hex: Vec<String>,
    /// Print one JSON object per frame (JSON Lines), the scripting contract.
    #[arg(long)]
    json: bool,
    /// Read raw binary bytes from standard input (a serial sniffer's capture file)
    /// instead of hex text.
    #[arg(long, conflicts_with = "hex")]
    raw: bool,
    /// Which protocol to look for.
    #[arg(long, value_enum, default_value_t = Protocol::Auto)]
    protocol: Protocol,
    /// Modbus only: read frames as requests or as responses (the bytes cannot always
    /// tell). Without it, a frame is read as a request when its length and check
    /// validate that way, else as a response.
    #[arg(long = "as", value_enum)]
    direction: Option<AsDirection>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Protocol {
    /// DL/T 645 first; Modbus when no DL/T 645 frame is found.
    Auto,
    /// DL/T 645-2007 and -1997.
    Dlt645,
    /// Modbus RTU (address, PDU, CRC).
    ModbusRtu,
    /// Modbus TCP (MBAP header, PDU).
    ModbusTcp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum AsDirection {
    /// Master to slave.
    Request,
    /// Slave to master.
    Response,
}

/// One frame found in the input, in both renderings.
pub(crate) struct Found {
    pub(crate) json: Map<String, Json>,
    pub(crate) text: String,
}

/// Bytes that are not part of a frame.
pub(crate) struct Skipped {
    pub(crate) offset: usize,
    pub(crate) count: usize,
    pub(crate) reason: String,
}

pub(crate) fn run(args: &DecodeArgs) -> ExitCode {
    let input = match read_input(args) {
        Ok(bytes) => bytes,
        Err(message) => return fail(&message),
    };
    if args.direction.is_some() && args.protocol == Protocol::Dlt645 {
        return fail("--as applies to Modbus only: DL/T 645 frames carry their direction");
    }
    let direction = args.direction.map(|d| match d {
        AsDirection::Request => meterkit_modbus::Direction::Request,
        AsDirection::Response => meterkit_modbus::Direction::Response,
    });
    let (found, skipped) = match args.protocol {
        Protocol::Dlt645 => dlt645_view::scan(&input),
        Protocol::ModbusRtu => modbus_view::scan(&input, Framing::Rtu, direction),
        Protocol::ModbusTcp => modbus_view::scan(&input, Framing::Tcp, direction),
        Protocol::Auto => auto(&input, direction),
    };
    for skip in &skipped {
        eprintln!(
            "meterkit: offset {}: skipped {} byte{}: {}",
            skip.offset,
            skip.count,
            if skip.count == 1 { "" } else { "s" },
            skip.reason
        );
    }
    for (n, frame) in found.iter().enumerate() {
        if args.json {
            println!("{}", Json::Object(frame.json.clone()));
        } else {
            if n > 0 {
                println!();
            }
            print!("{}", frame.text);
        }
    }
    if found.is_empty() {
        eprintln!("meterkit: no frame found in {} input bytes", input.len());
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// DL/T 645 first (its framing is the most specific), then Modbus RTU (CRC-checked),
/// then Modbus TCP: the first protocol that finds any frame wins, so garbage is reported
/// in that protocol's terms.
fn auto(input: &[u8], direction: Option<meterkit_modbus::Direction>) -> (Vec<Found>, Vec<Skipped>) {
    let dlt = dlt645_view::scan(input);
    if !dlt.0.is_empty() {
        return dlt;
    }
    for framing in [Framing::Rtu, Framing::Tcp] {
        let found = modbus_view::scan(input, framing, direction);
        if !found.0.is_empty() {
            return found;
        }
    }
    dlt
}

fn read_input(args: &DecodeArgs) -> Result<Vec<u8>, String> {
    if args.raw {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        return Ok(bytes);
    }
    let text = if args.hex.is_empty() {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| {
            format!("cannot read standard input as text: {e} (use --raw for binary captures)")
        })?;
        text
    } else {
        args.hex.join(" ")
    };
    hex::parse(&text).map_err(|e| format!("bad hex input: {e}"))
}

/// The object every frame starts with: where it was and its raw bytes.
pub(crate) fn frame_object(protocol: &str, offset: usize) -> Map<String, Json> {
    let mut m = Map::new();
    m.insert("protocol".into(), json!(protocol));
    m.insert("offset".into(), json!(offset));
    m
}
