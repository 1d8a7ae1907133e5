//! `meterkit encode`: build request frames from arguments.

use std::process::ExitCode;

use chrono::NaiveDateTime;
use clap::{Args, Subcommand, ValueEnum};
use dlt645::{
    Address, Di, Edition,
    frame::{MAX_FRAME_LEN, Payload},
    message::{BaudRate, FreezeTime, OperatorCode, Password, ReadSelector, RelayCommand, Request},
    value::{self, Number, Value},
};

use crate::{fail, hex};

#[derive(Debug, Args)]
pub(crate) struct EncodeArgs {
    #[command(subcommand)]
    protocol: EncodeProtocol,
}

#[derive(Debug, Subcommand)]
enum EncodeProtocol {
    /// A DL/T 645 request frame (2007, or 1997 when the DI has 4 digits or --edition 1997).
    Dlt645(Dlt645Args),
    /// A Modbus request, RTU by default or TCP with --tcp.
    Modbus(crate::modbus_cmd::ModbusEncodeArgs),
}

#[derive(Debug, Args)]
struct Dlt645Args {
    #[command(subcommand)]
    request: Dlt645Request,
    /// Wake-up bytes (FE) to put before the frame.
    #[arg(long, default_value_t = 4, global = true)]
    preamble: usize,
    /// Accept a data identifier that is not in the catalogue.
    #[arg(long, global = true)]
    any_di: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum EditionArg {
    #[value(name = "2007")]
    V2007,
    #[value(name = "1997")]
    V1997,
}

impl From<EditionArg> for Edition {
    fn from(e: EditionArg) -> Self {
        match e {
            EditionArg::V2007 => Edition::V2007,
            EditionArg::V1997 => Edition::V1997,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RelayArg {
    Trip,
    CloseAllowed,
    DirectClose,
    Alarm,
    AlarmOff,
    KeepPower,
    ReleaseKeepPower,
}

/// Password and operator code, shared by the commands that change a meter.
#[derive(Debug, Args)]
struct Auth {
    /// Password level and password, 8 hex digits: `02123456` is level 02, password 123456.
    #[arg(long)]
    password: String,
    /// Operator code, 8 hex digits (2007 only).
    #[arg(long, default_value = "00000000")]
    operator: String,
}

#[derive(Debug, Subcommand)]
enum Dlt645Request {
    /// Read a data item (0x11; 1997: 0x01).
    Read {
        /// Meter address as on the nameplate (12 digits; shorter is zero-padded; AA = wildcard).
        #[arg(long)]
        address: String,
        /// Data identifier: 8 hex digits (2007) or 4 (1997), most significant first.
        #[arg(long)]
        di: String,
        /// Ask for N load-record blocks (2007).
        #[arg(long)]
        blocks: Option<u8>,
        /// With --blocks: records from this minute on, YYYY-MM-DDThh:mm.
        #[arg(long, requires = "blocks")]
        since: Option<String>,
    },
    /// Ask for the next frame of a multi-frame answer (0x12 with --seq; 1997: 0x02).
    ReadNext {
        #[arg(long)]
        address: String,
        #[arg(long)]
        di: String,
        /// Sequence number of the wanted frame (2007; starts at 1).
        #[arg(long)]
        seq: Option<u8>,
    },
    /// Ask a 1997 meter to repeat its last answer (0x03).
    Reread {
        #[arg(long)]
        address: String,
    },
    /// Read the address of the one meter on the line (0x13).
    ReadAddress {
        #[arg(long, default_value = "AAAAAAAAAAAA")]
        address: String,
    },
    /// Write a data item (0x14 with operator code; 1997: 0x04).
    Write {
        #[arg(long)]
        address: String,
        #[arg(long)]
        di: String,
        #[command(flatten)]
        auth: Auth,
        /// The value as exact decimals in the item's format, e.g. `220.0`; a block takes
        /// a comma-separated list. Scaled to the catalogue's decimals; a finer value is
        /// refused rather than rounded.
        #[arg(long, required_unless_present = "data", conflicts_with = "data")]
        value: Option<String>,
        /// Or the value bytes in wire order (low byte first), without the 33H offset.
        #[arg(long)]
        data: Option<String>,
    },
    /// Give the meter a new address (0x15; 1997: 0x0A).
    WriteAddress {
        #[arg(long, default_value = "AAAAAAAAAAAA")]
        address: String,
        /// The new address.
        #[arg(long)]
        new: String,
        #[arg(long, value_enum, default_value = "2007")]
        edition: EditionArg,
    },
    /// Set every meter's clock (0x08, broadcast, no reply).
    BroadcastTime {
        #[arg(long, default_value = "999999999999")]
        address: String,
        /// The time, YYYY-MM-DDThh:mm:ss (years 2000..2099).
        #[arg(long)]
        time: String,
    },
    /// Freeze the registers (0x16).
    Freeze {
        #[arg(long)]
        address: String,
        /// MMDDhhmm; 99 in a field repeats it every period; 99999999 freezes now.
        #[arg(long, default_value = "99999999")]
        at: String,
    },
    /// Change the communication rate (0x17; 1997: 0x0C).
    ChangeBaud {
        #[arg(long)]
        address: String,
        /// 600, 1200, 2400, 4800, 9600 or 19200.
        #[arg(long)]
        rate: u32,
        #[arg(long, value_enum, default_value = "2007")]
        edition: EditionArg,
    },
    /// Change a password (0x18; 1997: 0x0F).
    ChangePassword {
        #[arg(long)]
        address: String,
        /// The current password with its level, 8 hex digits.
        #[arg(long)]
        old: String,
        /// The new password with its level, 8 hex digits.
        #[arg(long)]
        new: String,
        #[arg(long, value_enum, default_value = "2007")]
        edition: EditionArg,
    },
    /// Clear maximum demand (0x19; 1997: 0x10).
    ClearDemand {
        #[arg(long)]
        address: String,
        #[command(flatten)]
        auth: Auth,
        #[arg(long, value_enum, default_value = "2007")]
        edition: EditionArg,
    },
    /// Clear the meter (0x1A).
    ClearMeter {
        #[arg(long)]
        address: String,
        #[command(flatten)]
        auth: Auth,
    },
    /// Clear events (0x1B).
    ClearEvents {
        #[arg(long)]
        address: String,
        #[command(flatten)]
        auth: Auth,
        /// Which events; FFFFFFFF clears all.
        #[arg(long, default_value = "FFFFFFFF")]
        di: String,
    },
    /// Relay control (0x1C, State Grid extension).
    Relay {
        #[arg(long)]
        address: String,
        #[command(flatten)]
        auth: Auth,
        #[arg(long, value_enum)]
        command: RelayArg,
        /// The command expires at YYYY-MM-DDThh:mm:ss.
        #[arg(long)]
        until: String,
    },
    /// Heartbeat broadcast (0x1E, extension).
    Heartbeat {
        #[arg(long, default_value = "999999999999")]
        address: String,
        /// Timeout in minutes.
        #[arg(long)]
        minutes: u8,
    },
}

pub(crate) fn run(args: &EncodeArgs) -> ExitCode {
    let dlt = match &args.protocol {
        EncodeProtocol::Dlt645(dlt) => dlt,
        EncodeProtocol::Modbus(modbus) => return crate::modbus_cmd::encode(modbus),
    };
    match build(dlt) {
        Ok((address, request)) => match emit(address, &request, dlt.preamble) {
            Ok(bytes) => {
                println!("{}", hex::spaced(&bytes));
                ExitCode::SUCCESS
            }
            Err(message) => fail(&message),
        },
        Err(message) => fail(&message),
    }
}

fn emit(address: Address, request: &Request, preamble: usize) -> Result<Vec<u8>, String> {
    let frame = request
        .to_frame(address)
        .map_err(|e| format!("cannot encode: {e}"))?;
    let mut out = vec![0; preamble + MAX_FRAME_LEN];
    let n = frame
        .emit(preamble, &mut out)
        .map_err(|e| format!("cannot encode: {e}"))?;
    out.truncate(n);
    Ok(out)
}

fn address(text: &str) -> Result<Address, String> {
    text.parse()
        .map_err(|e| format!("bad --address {text:?}: {e}"))
}

fn di(text: &str, any: bool) -> Result<Di, String> {
    let digits = text.trim_start_matches("0x").trim_start_matches("0X");
    let value = u32::from_str_radix(digits, 16)
        .map_err(|_| format!("bad --di {text:?}: expected 8 hex digits (2007) or 4 (1997)"))?;
    let di = match digits.len() {
        8 => Di::V2007(value),
        4 => Di::V1997(u16::try_from(value).unwrap_or_default()),
        _ => {
            return Err(format!(
                "bad --di {text:?}: expected 8 hex digits (2007) or 4 (1997)"
            ));
        }
    };
    if !any && dlt645::catalogue::lookup(di).is_none() {
        return Err(format!(
            "unknown DI {di}: not in the catalogue (pass --any-di to send it anyway)"
        ));
    }
    Ok(di)
}

fn password(flag: &str, text: &str) -> Result<Password, String> {
    text.parse()
        .map_err(|_| format!("bad {flag} {text:?}: expected 8 hex digits, level then password"))
}

fn auth(a: &Auth) -> Result<(Password, OperatorCode), String> {
    let operator = a
        .operator
        .parse()
        .map_err(|_| format!("bad --operator {:?}: expected 8 hex digits", a.operator))?;
    Ok((password("--password", &a.password)?, operator))
}

fn time(flag: &str, text: &str, format: &str) -> Result<NaiveDateTime, String> {
    NaiveDateTime::parse_from_str(text, format).map_err(|e| {
        format!(
            "bad {flag} {text:?}: {e} (expected {})",
            format.replace('%', "")
        )
    })
}

/// An exact decimal from text: optional `-`, digits, optional `.` and digits.
fn number(text: &str) -> Option<Number> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty()
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let scale = u8::try_from(fraction.len()).ok()?;
    let magnitude = whole
        .bytes()
        .chain(fraction.bytes())
        .try_fold(0u64, |acc, b| {
            acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        })?;
    Some(Number::new(magnitude, scale, negative))
}

/// The wire bytes of `text` as the value of `di`, through the catalogue's format.
fn encode_value(di: Di, text: &str) -> Result<Vec<u8>, String> {
    let numbers = text
        .split(',')
        .map(|part| {
            number(part.trim()).ok_or_else(|| {
                format!("bad --value {part:?}: expected an exact decimal such as 220.0")
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let info = dlt645::catalogue::lookup(di)
        .ok_or_else(|| format!("--value needs a catalogued DI; {di} is not one (use --data)"))?;
    let value =
        if info.is_block() {
            Value::Numbers(numbers.as_slice().try_into().map_err(|_| {
                format!("bad --value: {} items do not fit block {di}", numbers.len())
            })?)
        } else {
            match numbers.as_slice() {
                [one] => Value::Number(*one),
                _ => {
                    return Err(format!(
                        "bad --value: {di} takes one number, got {}",
                        numbers.len()
                    ));
                }
            }
        };
    let mut out = [0u8; 255];
    let n =
        value::encode(di, &value, &mut out).map_err(|e| format!("bad --value {text:?}: {e}"))?;
    Ok(out[..n].to_vec())
}

fn freeze_time(text: &str) -> Result<FreezeTime, String> {
    let bad = || format!("bad --at {text:?}: expected MMDDhhmm, 99 for every period");
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let field = |i: usize, max: u8| -> Result<Option<u8>, String> {
        let v: u8 = text[i..i + 2].parse().map_err(|_| bad())?;
        if v == 99 {
            Ok(None)
        } else if v <= max {
            Ok(Some(v))
        } else {
            Err(bad())
        }
    };
    Ok(FreezeTime {
        month: field(0, 12)?,
        day: field(2, 31)?,
        hour: field(4, 23)?,
        minute: field(6, 59)?,
    })
}

fn build(args: &Dlt645Args) -> Result<(Address, Request), String> {
    let any = args.any_di;
    Ok(match &args.request {
        Dlt645Request::Read {
            address: a,
            di: d,
            blocks,
            since,
        } => {
            let selector = match (blocks, since) {
                (None, _) => ReadSelector::Current,
                (Some(count), None) => ReadSelector::Blocks { count: *count },
                (Some(count), Some(since)) => ReadSelector::LoadRecordsSince {
                    count: *count,
                    since: time("--since", &format!("{since}:00"), "%Y-%m-%dT%H:%M:%S")?,
                },
            };
            (
                address(a)?,
                Request::Read {
                    di: di(d, any)?,
                    selector,
                },
            )
        }
        Dlt645Request::ReadNext {
            address: a,
            di: d,
            seq,
        } => (
            address(a)?,
            Request::ReadSubsequent {
                di: di(d, any)?,
                seq: *seq,
            },
        ),
        Dlt645Request::Reread { address: a } => (address(a)?, Request::Reread),
        Dlt645Request::ReadAddress { address: a } => (address(a)?, Request::ReadAddress),
        Dlt645Request::Write {
            address: a,
            di: d,
            auth: au,
            value,
            data,
        } => {
            let di = di(d, any)?;
            let (password, operator) = auth(au)?;
            let bytes = match (value, data) {
                (Some(text), _) => encode_value(di, text)?,
                (None, Some(data)) => hex::parse(data).map_err(|e| format!("bad --data: {e}"))?,
                (None, None) => return Err("write needs --value or --data".to_owned()),
            };
            let data = Payload::from_slice(&bytes)
                .map_err(|_| format!("bad --data: {} bytes do not fit a frame", bytes.len()))?;
            let operator = (di.edition() == Edition::V2007).then_some(operator);
            (
                address(a)?,
                Request::Write {
                    di,
                    password,
                    operator,
                    data,
                },
            )
        }
        Dlt645Request::WriteAddress {
            address: a,
            new,
            edition,
        } => (
            address(a)?,
            Request::WriteAddress {
                edition: (*edition).into(),
                address: new.parse().map_err(|e| format!("bad --new {new:?}: {e}"))?,
            },
        ),
        Dlt645Request::BroadcastTime {
            address: a,
            time: t,
        } => (
            address(a)?,
            Request::BroadcastTime {
                time: time("--time", t, "%Y-%m-%dT%H:%M:%S")?,
            },
        ),
        Dlt645Request::Freeze { address: a, at } => (
            address(a)?,
            Request::Freeze {
                at: freeze_time(at)?,
            },
        ),
        Dlt645Request::ChangeBaud {
            address: a,
            rate,
            edition,
        } => {
            let rate = BaudRate::from_bits_per_second(*rate).ok_or_else(|| {
                format!("bad --rate {rate}: expected 600, 1200, 2400, 4800, 9600 or 19200")
            })?;
            (
                address(a)?,
                Request::ChangeBaud {
                    edition: (*edition).into(),
                    rate,
                },
            )
        }
        Dlt645Request::ChangePassword {
            address: a,
            old,
            new,
            edition,
        } => {
            let new = password("--new", new)?;
            let di = match Edition::from(*edition) {
                // Passwords of levels 0..=9 live at 04000C01..=04000C0A.
                Edition::V2007 => Some(Di::V2007(0x0400_0C01 + u32::from(new.level.min(9)))),
                Edition::V1997 => None,
            };
            (
                address(a)?,
                Request::ChangePassword {
                    di,
                    old: password("--old", old)?,
                    new,
                },
            )
        }
        Dlt645Request::ClearDemand {
            address: a,
            auth: au,
            edition,
        } => {
            let (password, operator) = auth(au)?;
            let operator = matches!(edition, EditionArg::V2007).then_some(operator);
            (address(a)?, Request::ClearDemand { password, operator })
        }
        Dlt645Request::ClearMeter {
            address: a,
            auth: au,
        } => {
            let (password, operator) = auth(au)?;
            (address(a)?, Request::ClearMeter { password, operator })
        }
        Dlt645Request::ClearEvents {
            address: a,
            auth: au,
            di: d,
        } => {
            let (password, operator) = auth(au)?;
            // FFFFFFFF (all events) is a command word, not a catalogued item.
            let di = di(d, any || d.eq_ignore_ascii_case("FFFFFFFF"))?;
            (
                address(a)?,
                Request::ClearEvents {
                    password,
                    operator,
                    di,
                },
            )
        }
        Dlt645Request::Relay {
            address: a,
            auth: au,
            command,
            until,
        } => {
            let (password, operator) = auth(au)?;
            let command = match command {
                RelayArg::Trip => RelayCommand::Trip,
                RelayArg::CloseAllowed => RelayCommand::CloseAllowed,
                RelayArg::DirectClose => RelayCommand::DirectClose,
                RelayArg::Alarm => RelayCommand::Alarm,
                RelayArg::AlarmOff => RelayCommand::AlarmOff,
                RelayArg::KeepPower => RelayCommand::KeepPower,
                RelayArg::ReleaseKeepPower => RelayCommand::ReleaseKeepPower,
            };
            let valid_until = time("--until", until, "%Y-%m-%dT%H:%M:%S")?;
            (
                address(a)?,
                Request::RelayControl {
                    password,
                    operator,
                    command,
                    valid_until,
                },
            )
        }
        Dlt645Request::Heartbeat {
            address: a,
            minutes,
        } => (address(a)?, Request::Heartbeat { minutes: *minutes }),
    })
}
