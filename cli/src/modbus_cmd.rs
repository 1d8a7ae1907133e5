//! `meterkit encode modbus …` and `meterkit profile show|decode`.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use meterkit_modbus::{
    Decoded, Direction, Pdu, ReadDeviceIdCode, Registers, Request, Response, pack_coils,
    pdu::{FileLayout, FileRecord, FileRecords},
    profile::{self, OwnedProfile, Profile, Ratios, ReadRange},
    rtu, tcp,
};
use meterkit_reading::{MeterReading, Quantity};
use serde_json::{Map, Value as Json, json};

use crate::{fail, hex};

/// A number in decimal or `0x` hex, as register maps print them.
fn number<T: TryFrom<u64>>(flag: &str, text: &str) -> Result<T, String> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(digits) => u64::from_str_radix(digits, 16),
        None => text.parse(),
    };
    parsed
        .ok()
        .and_then(|v| T::try_from(v).ok())
        .ok_or_else(|| {
            format!("bad {flag} {text:?}: expected a number in range (decimal or 0x hex)")
        })
}

fn numbers(flag: &str, text: &str) -> Result<Vec<u16>, String> {
    text.split(',').map(|v| number(flag, v.trim())).collect()
}

#[derive(Debug, Args)]
pub(crate) struct ModbusEncodeArgs {
    #[command(subcommand)]
    request: ModbusRequest,
    /// Slave address (RTU) or unit id (TCP); 0 broadcasts a write.
    #[arg(long, global = true, default_value = "1")]
    slave: String,
    /// Emit a Modbus TCP ADU (MBAP header) instead of RTU.
    #[arg(long, global = true)]
    tcp: bool,
    /// TCP transaction id.
    #[arg(long, global = true, default_value = "1")]
    transaction: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OnOff {
    On,
    Off,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DeviceIdCode {
    Basic,
    Regular,
    Extended,
    Specific,
}

#[derive(Debug, Subcommand)]
enum ModbusRequest {
    /// FC01 read coils.
    ReadCoils {
        #[arg(long)]
        address: String,
        #[arg(long)]
        count: String,
    },
    /// FC02 read discrete inputs.
    ReadDiscreteInputs {
        #[arg(long)]
        address: String,
        #[arg(long)]
        count: String,
    },
    /// FC03 read holding registers.
    ReadHolding {
        #[arg(long)]
        address: String,
        #[arg(long)]
        count: String,
    },
    /// FC04 read input registers.
    ReadInput {
        #[arg(long)]
        address: String,
        #[arg(long)]
        count: String,
    },
    /// FC05 write single coil.
    WriteCoil {
        #[arg(long)]
        address: String,
        #[arg(long, value_enum)]
        value: OnOff,
    },
    /// FC06 write single register.
    WriteRegister {
        #[arg(long)]
        address: String,
        #[arg(long)]
        value: String,
    },
    /// FC07 read exception status.
    ReadExceptionStatus,
    /// FC08 diagnostics.
    Diagnostics {
        #[arg(long)]
        sub_function: String,
        #[arg(long, default_value = "0")]
        data: String,
    },
    /// FC0B get comm event counter.
    GetCommEventCounter,
    /// FC0C get comm event log.
    GetCommEventLog,
    /// FC0F write multiple coils.
    WriteCoils {
        #[arg(long)]
        address: String,
        /// Coil states, e.g. `1,0,1,1`.
        #[arg(long)]
        values: String,
    },
    /// FC10 write multiple registers.
    WriteRegisters {
        #[arg(long)]
        address: String,
        /// Register values, e.g. `10,0x0102`.
        #[arg(long)]
        values: String,
    },
    /// FC11 report server id.
    ReportServerId,
    /// FC14 read one file record.
    ReadFileRecord {
        #[arg(long)]
        file: String,
        #[arg(long)]
        record: String,
        #[arg(long)]
        length: String,
    },
    /// FC15 write one file record.
    WriteFileRecord {
        #[arg(long)]
        file: String,
        #[arg(long)]
        record: String,
        #[arg(long)]
        values: String,
    },
    /// FC16 mask write register.
    MaskWriteRegister {
        #[arg(long)]
        address: String,
        #[arg(long = "and")]
        and_mask: String,
        #[arg(long = "or")]
        or_mask: String,
    },
    /// FC17 read/write multiple registers.
    ReadWriteRegisters {
        #[arg(long)]
        read_address: String,
        #[arg(long)]
        read_count: String,
        #[arg(long)]
        write_address: String,
        #[arg(long)]
        values: String,
    },
    /// FC18 read FIFO queue.
    ReadFifo {
        #[arg(long)]
        address: String,
    },
    /// FC2B/0E read device identification.
    ReadDeviceId {
        #[arg(long, value_enum, default_value = "basic")]
        code: DeviceIdCode,
        #[arg(long, default_value = "0")]
        object_id: String,
    },
}

pub(crate) fn encode(args: &ModbusEncodeArgs) -> ExitCode {
    match encode_bytes(args) {
        Ok(bytes) => {
            println!("{}", hex::spaced(&bytes));
            ExitCode::SUCCESS
        }
        Err(message) => fail(&message),
    }
}

fn encode_bytes(args: &ModbusEncodeArgs) -> Result<Vec<u8>, String> {
    // Storage the borrowed parts of a request point into.
    let mut coil_buf = [0u8; 256];
    let mut file_buf = [0u8; 256];
    let register_values;
    let request = match &args.request {
        ModbusRequest::ReadCoils { address, count } => Request::ReadCoils {
            address: number("--address", address)?,
            quantity: number("--count", count)?,
        },
        ModbusRequest::ReadDiscreteInputs { address, count } => Request::ReadDiscreteInputs {
            address: number("--address", address)?,
            quantity: number("--count", count)?,
        },
        ModbusRequest::ReadHolding { address, count } => Request::ReadHoldingRegisters {
            address: number("--address", address)?,
            quantity: number("--count", count)?,
        },
        ModbusRequest::ReadInput { address, count } => Request::ReadInputRegisters {
            address: number("--address", address)?,
            quantity: number("--count", count)?,
        },
        ModbusRequest::WriteCoil { address, value } => Request::WriteSingleCoil {
            address: number("--address", address)?,
            on: matches!(value, OnOff::On),
        },
        ModbusRequest::WriteRegister { address, value } => Request::WriteSingleRegister {
            address: number("--address", address)?,
            value: number("--value", value)?,
        },
        ModbusRequest::ReadExceptionStatus => Request::ReadExceptionStatus,
        ModbusRequest::Diagnostics { sub_function, data } => Request::Diagnostics {
            sub_function: number("--sub-function", sub_function)?,
            data: number("--data", data)?,
        },
        ModbusRequest::GetCommEventCounter => Request::GetCommEventCounter,
        ModbusRequest::GetCommEventLog => Request::GetCommEventLog,
        ModbusRequest::WriteCoils { address, values } => {
            let coils = values
                .split(',')
                .map(|v| match v.trim() {
                    "1" | "on" => Ok(true),
                    "0" | "off" => Ok(false),
                    other => Err(format!("bad --values {other:?}: coils are 1/0 or on/off")),
                })
                .collect::<Result<Vec<bool>, String>>()?;
            let n = pack_coils(&coils, &mut coil_buf).map_err(|e| format!("bad --values: {e}"))?;
            Request::WriteMultipleCoils {
                address: number("--address", address)?,
                quantity: u16::try_from(coils.len())
                    .map_err(|_| "bad --values: too many coils".to_owned())?,
                coil_bytes: &coil_buf[..n],
            }
        }
        ModbusRequest::WriteRegisters { address, values } => {
            register_values = numbers("--values", values)?;
            Request::WriteMultipleRegisters {
                address: number("--address", address)?,
                registers: Registers::from_values(&register_values),
            }
        }
        ModbusRequest::ReportServerId => Request::ReportServerId,
        ModbusRequest::ReadFileRecord {
            file,
            record,
            length,
        } => {
            let wanted = [FileRecord {
                file: number("--file", file)?,
                record: number("--record", record)?,
                length: number("--length", length)?,
                data: Registers::from_values(&[]),
            }];
            Request::ReadFileRecord {
                records: FileRecords::encode(FileLayout::ReadRequest, &wanted, &mut file_buf)
                    .map_err(|e| format!("bad file record: {e}"))?,
            }
        }
        ModbusRequest::WriteFileRecord {
            file,
            record,
            values,
        } => {
            register_values = numbers("--values", values)?;
            let records = [FileRecord {
                file: number("--file", file)?,
                record: number("--record", record)?,
                length: u16::try_from(register_values.len())
                    .map_err(|_| "bad --values: too many".to_owned())?,
                data: Registers::from_values(&register_values),
            }];
            Request::WriteFileRecord {
                records: FileRecords::encode(FileLayout::Write, &records, &mut file_buf)
                    .map_err(|e| format!("bad file record: {e}"))?,
            }
        }
        ModbusRequest::MaskWriteRegister {
            address,
            and_mask,
            or_mask,
        } => Request::MaskWriteRegister {
            address: number("--address", address)?,
            and_mask: number("--and", and_mask)?,
            or_mask: number("--or", or_mask)?,
        },
        ModbusRequest::ReadWriteRegisters {
            read_address,
            read_count,
            write_address,
            values,
        } => {
            register_values = numbers("--values", values)?;
            Request::ReadWriteMultipleRegisters {
                read_address: number("--read-address", read_address)?,
                read_quantity: number("--read-count", read_count)?,
                write_address: number("--write-address", write_address)?,
                registers: Registers::from_values(&register_values),
            }
        }
        ModbusRequest::ReadFifo { address } => Request::ReadFifoQueue {
            address: number("--address", address)?,
        },
        ModbusRequest::ReadDeviceId { code, object_id } => Request::ReadDeviceIdentification {
            code: match code {
                DeviceIdCode::Basic => ReadDeviceIdCode::Basic,
                DeviceIdCode::Regular => ReadDeviceIdCode::Regular,
                DeviceIdCode::Extended => ReadDeviceIdCode::Extended,
                DeviceIdCode::Specific => ReadDeviceIdCode::Specific,
            },
            object_id: number("--object-id", object_id)?,
        },
    };
    let slave: u8 = number("--slave", &args.slave)?;
    let mut out = [0u8; 300];
    let n = if args.tcp {
        tcp::Repr {
            transaction: number("--transaction", &args.transaction)?,
            unit: slave,
            pdu: request.into(),
        }
        .emit(&mut out)
    } else {
        rtu::Repr {
            slave,
            pdu: request.into(),
        }
        .emit(&mut out)
    }
    .map_err(|e| format!("cannot encode: {e}"))?;
    Ok(out[..n].to_vec())
}

#[derive(Debug, Args)]
pub(crate) struct ProfileArgs {
    #[command(subcommand)]
    command: ProfileCommand,
}

#[derive(Debug, Subcommand)]
enum ProfileCommand {
    /// List the built-in meter profiles.
    List,
    /// Print a profile: every quantity's register, type, word order, scale and unit, and
    /// the reads that fetch them all.
    Show {
        /// A built-in profile name (see `profile list`) or a TOML profile file.
        profile: String,
        /// Print the profile as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Decode a register reply (an RTU or TCP response frame) into named quantities.
    Decode {
        /// A built-in profile name or a TOML profile file.
        profile: String,
        /// The reply frame as hex.
        #[arg(long)]
        reply: String,
        /// First register the reply answers, when several planned reads fit it.
        #[arg(long)]
        address: Option<String>,
        /// Print JSON: quantity name to exact decimal string.
        #[arg(long)]
        json: bool,
    },
}

/// A built-in profile, or one loaded from a TOML file (kept alive by the caller).
enum Loaded {
    BuiltIn(Profile<'static>),
    File(OwnedProfile),
}

impl Loaded {
    fn profile(&self) -> Profile<'_> {
        match self {
            Loaded::BuiltIn(p) => *p,
            Loaded::File(p) => p.profile(),
        }
    }
}

fn load(name: &str) -> Result<Loaded, String> {
    if let Some(p) = profile::built_in(name) {
        return Ok(Loaded::BuiltIn(p));
    }
    if !std::path::Path::new(name).exists() {
        let names: Vec<&str> = profile::BUILT_IN.iter().map(|p| p.name).collect();
        return Err(format!(
            "unknown profile {name:?}: not a file, and not one of {}",
            names.join(", ")
        ));
    }
    let text = std::fs::read_to_string(name).map_err(|e| format!("cannot read {name}: {e}"))?;
    let owned = OwnedProfile::from_toml_str(&text).map_err(|e| format!("{name}: {e}"))?;
    owned
        .profile()
        .validate()
        .map_err(|e| format!("{name}: {e}"))?;
    Ok(Loaded::File(owned))
}

fn plan(p: &Profile<'_>) -> Result<Vec<ReadRange>, String> {
    let mut ranges = [ReadRange {
        kind: profile::RegisterKind::Holding,
        address: 0,
        quantity: 0,
    }; 32];
    let n = p
        .plan(&Quantity::ALL, &mut ranges)
        .map_err(|e| format!("cannot plan reads: {e}"))?;
    Ok(ranges[..n].to_vec())
}

pub(crate) fn run(args: &ProfileArgs) -> ExitCode {
    let result = match &args.command {
        ProfileCommand::List => {
            for p in &profile::BUILT_IN {
                println!("{:<10} {}", p.name, p.description);
            }
            Ok(())
        }
        ProfileCommand::Show { profile, json } => {
            load(profile).and_then(|l| show(&l.profile(), *json))
        }
        ProfileCommand::Decode {
            profile,
            reply,
            address,
            json,
        } => load(profile).and_then(|l| decode(&l.profile(), reply, address.as_deref(), *json)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

fn show(p: &Profile<'_>, as_json: bool) -> Result<(), String> {
    let reads = plan(p)?;
    if as_json {
        let mut j = serde_json::to_value(p).map_err(|e| format!("cannot print profile: {e}"))?;
        if let Some(object) = j.as_object_mut() {
            object.insert(
                "reads".into(),
                serde_json::to_value(&reads).map_err(|e| e.to_string())?,
            );
        }
        println!("{j}");
        return Ok(());
    }
    let mut t = String::new();
    let _ = writeln!(t, "{}: {}", p.name, p.description);
    let _ = writeln!(t, "  {}", p.provenance);
    let _ = writeln!(
        t,
        "\n  {:<28} {:<4} {:>7}  {:<5} {:<10} {:>5}  unit",
        "quantity", "fc", "address", "type", "words", "scale"
    );
    for e in p.entries {
        let s = &e.source;
        let _ = writeln!(
            t,
            "  {:<28} {:<4} {:>7}  {:<5} {:<10} {:>5}  {:?}",
            e.quantity.name(),
            format!("{:02X}", s.kind.function_code()),
            format!("{:#06X}", s.address),
            format!("{:?}", s.data_type).to_lowercase(),
            format!("{:?}", s.word_order),
            s.scale,
            s.unit,
        );
    }
    let _ = writeln!(
        t,
        "\n  Reads for every quantity ({} max per read, gaps up to {} bridged):",
        p.max_registers_per_read, p.max_gap
    );
    for r in &reads {
        let _ = writeln!(
            t,
            "    FC{:02X} {:#06X} x {}",
            r.kind.function_code(),
            r.address,
            r.quantity
        );
    }
    print!("{t}");
    Ok(())
}

/// The response PDU in `bytes`: an RTU frame, or a TCP one.
fn response(bytes: &[u8]) -> Result<(Vec<u8>, bool), String> {
    if let Decoded::Frame { frame, .. } = rtu::Decoder::new(Direction::Response).decode_eof(bytes) {
        return Ok((frame.as_bytes().to_vec(), false));
    }
    if let Decoded::Frame { frame, .. } = tcp::Decoder::new(Direction::Response).decode_eof(bytes) {
        return Ok((frame.as_bytes().to_vec(), true));
    }
    Err("--reply is not a valid Modbus RTU or TCP response frame".to_owned())
}

fn decode(
    p: &Profile<'_>,
    reply: &str,
    address: Option<&str>,
    as_json: bool,
) -> Result<(), String> {
    let bytes = hex::parse(reply).map_err(|e| format!("bad --reply: {e}"))?;
    let (frame, is_tcp) = response(&bytes)?;
    let pdu = if is_tcp {
        let view = tcp::Frame::new_checked(&frame[..]).map_err(|e| format!("bad --reply: {e}"))?;
        tcp::Repr::parse(&view, Direction::Response).map(|r| r.pdu)
    } else {
        let view = rtu::Frame::new_checked(&frame[..]).map_err(|e| format!("bad --reply: {e}"))?;
        rtu::Repr::parse(&view, Direction::Response).map(|r| r.pdu)
    }
    .map_err(|e| format!("bad --reply: {e}"))?;
    let Pdu::Response(response) = pdu else {
        return Err("--reply is a request, not a response".to_owned());
    };
    if let Response::Exception { code, .. } = response {
        return Err(format!(
            "the meter answered with exception {} ({code:?})",
            code.code()
        ));
    }
    let start: Option<u16> = address.map(|a| number("--address", a)).transpose()?;
    let reads = plan(p)?;
    let fitting: Vec<&ReadRange> = reads
        .iter()
        .filter(|r| r.registers(&response).is_ok() && start.is_none_or(|a| a == r.address))
        .collect();
    let range = match fitting.as_slice() {
        [one] => **one,
        [] => match start {
            // An explicit start address decodes any register block, planned or not.
            Some(address) => {
                let kind = match response {
                    Response::ReadInputRegisters { .. } => profile::RegisterKind::Input,
                    _ => profile::RegisterKind::Holding,
                };
                let (Response::ReadHoldingRegisters { registers }
                | Response::ReadInputRegisters { registers }) = response
                else {
                    return Err("--reply is not a register read response (FC03/FC04)".to_owned());
                };
                let quantity = u16::try_from(registers.len()).unwrap_or(u16::MAX);
                ReadRange {
                    kind,
                    address,
                    quantity,
                }
            }
            None => {
                return Err(format!(
                    "the reply fits none of {}'s planned reads; give --address",
                    p.name
                ));
            }
        },
        _ => {
            return Err(format!(
                "the reply fits several of {}'s planned reads; give --address",
                p.name
            ));
        }
    };
    let mut reading = MeterReading::new(());
    p.decode_reply(&range, &response, &Ratios::DIRECT, &mut reading)
        .map_err(|e| format!("cannot decode: {e}"))?;
    if as_json {
        let mut j = Map::new();
        for (q, v) in reading.values() {
            j.insert(q.name().into(), json!(v.to_string()));
        }
        println!("{}", Json::Object(j));
    } else {
        for (q, v) in reading.values() {
            println!("{:<28} {v} {}", q.name(), q.unit());
        }
    }
    Ok(())
}
