//! `meterkit read`, `scan` and `sim`: talk to real (or simulated) meters.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use dlt645::{Address, Di};
use meterkit_reading::Quantity;
use meterkit_transport::{
    client::{Client, ClientConfig},
    link::{Connector, DataBits, LineTiming, Link, Parity, SerialConfig, StopBits, TcpConfig},
    modbus::{ModbusClient, ModbusConfig},
    sim::{self, EnergyProfile, SimBus},
};
use serde_json::{Map, Value as Json, json};

use crate::{fail, value_view};

/// Where the meter is: a serial port or a TCP gateway, with the line settings.
#[derive(Debug, Args)]
struct Line {
    /// Serial port (e.g. /dev/ttyUSB0, or a simulator's --link path).
    #[arg(long, conflicts_with = "tcp")]
    port: Option<String>,
    /// A serial-to-Ethernet gateway or Modbus TCP device, HOST:PORT.
    #[arg(long)]
    tcp: Option<String>,
    /// Bits per second (default 2400 for DL/T 645, 9600 for Modbus).
    #[arg(long)]
    baud: Option<u32>,
    /// Parity (default even).
    #[arg(long, value_enum, default_value_t = ParityArg::Even)]
    parity: ParityArg,
    /// Stop bits.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    stop_bits: u8,
    /// Data bits.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u8).range(7..=8))]
    data_bits: u8,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ParityArg {
    None,
    Odd,
    Even,
}

/// A serial or TCP connector, boxed as the one type the clients take.
enum Endpoint {
    Serial(SerialConfig),
    Tcp(TcpConfig),
}

impl Line {
    fn endpoint(&self, modbus: bool) -> Result<Endpoint, String> {
        match (&self.port, &self.tcp) {
            (Some(path), None) => {
                let mut config = if modbus {
                    SerialConfig::modbus(path.clone())
                } else {
                    SerialConfig::dlt645(path.clone())
                };
                if let Some(baud) = self.baud {
                    config.baud = baud;
                }
                config.parity = match self.parity {
                    ParityArg::None => Parity::None,
                    ParityArg::Odd => Parity::Odd,
                    ParityArg::Even => Parity::Even,
                };
                config.stop_bits = if self.stop_bits == 2 {
                    StopBits::Two
                } else {
                    StopBits::One
                };
                config.data_bits = if self.data_bits == 7 {
                    DataBits::Seven
                } else {
                    DataBits::Eight
                };
                Ok(Endpoint::Serial(config))
            }
            (None, Some(address)) => Ok(Endpoint::Tcp(TcpConfig::new(address.clone()))),
            _ => Err("say where the meter is: --port PATH or --tcp HOST:PORT".to_owned()),
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct ReadArgs {
    #[command(subcommand)]
    protocol: ReadProtocol,
}

#[derive(Debug, Subcommand)]
enum ReadProtocol {
    /// Read one data item from a DL/T 645 meter.
    Dlt645 {
        #[command(flatten)]
        line: Line,
        /// Meter address (12 digits; AAAAAAAAAAAA reaches the only meter on the line).
        #[arg(long, default_value = "AAAAAAAAAAAA")]
        address: String,
        /// Data identifier, 8 hex digits (2007) or 4 (1997).
        #[arg(long, default_value = "00010000")]
        di: String,
        /// Print the reply as a `decode --json` object.
        #[arg(long)]
        json: bool,
    },
    /// Read a Modbus meter's quantities through its profile.
    Modbus {
        #[command(flatten)]
        line: Line,
        /// Slave address or unit id.
        #[arg(long, default_value_t = 1)]
        slave: u8,
        /// Meter profile (see `meterkit profile list`).
        #[arg(long)]
        profile: String,
        /// Print JSON: quantity name to exact decimal string.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    #[command(subcommand)]
    protocol: ScanProtocol,
}

#[derive(Debug, Subcommand)]
enum ScanProtocol {
    /// Ask the line who is there (read address to AAAAAAAAAAAA) and print the address.
    Dlt645 {
        #[command(flatten)]
        line: Line,
    },
}

#[derive(Debug, Args)]
pub(crate) struct SimArgs {
    #[command(subcommand)]
    protocol: SimProtocol,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Fault {
    /// Echo every request before answering (two-wire adapters do).
    Echo,
    /// Line noise before every reply.
    Garbage,
    /// Another meter's reply first.
    Foreign,
    /// Break the checksum of the next 3 replies.
    Corrupt,
    /// Drop the next 3 replies.
    Drop,
    /// Write replies in small pieces.
    Split,
    /// Answer 2 s late (past most deadlines).
    Delay,
}

#[derive(Debug, Subcommand)]
enum SimProtocol {
    /// Serve a simulated DL/T 645-2007 meter until stopped.
    Dlt645 {
        /// The meter's address.
        #[arg(long, default_value = "123456789012")]
        address: String,
        /// Create a pseudo-terminal and a symlink to it at PATH.
        #[arg(long, conflicts_with = "tcp")]
        link: Option<String>,
        /// Serve TCP on HOST:PORT instead.
        #[arg(long)]
        tcp: Option<String>,
        /// Forward active energy at start, in kWh (exact decimal).
        #[arg(long, default_value = "1206.42")]
        start_kwh: String,
        /// Constant charging power in W.
        #[arg(long, default_value_t = 7000)]
        power_w: u64,
        /// Faults to switch on (repeatable).
        #[arg(long, value_enum)]
        fault: Vec<Fault>,
    },
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

fn di(text: &str) -> Result<Di, String> {
    let value = u32::from_str_radix(text, 16)
        .map_err(|_| format!("bad --di {text:?}: expected 8 or 4 hex digits"))?;
    match text.len() {
        8 => Ok(Di::V2007(value)),
        4 => Ok(Di::V1997(u16::try_from(value).unwrap_or_default())),
        _ => Err(format!("bad --di {text:?}: expected 8 or 4 hex digits")),
    }
}

/// A DL/T 645 client whose reply deadlines follow the line's baud and character size.
fn dlt645_client<C: Connector + 'static>(connector: C, line: Option<LineTiming>) -> Client<C> {
    let config = line.map_or_else(ClientConfig::default, ClientConfig::with_line);
    Client::new(Link::new(connector), config)
}

pub(crate) fn read(args: &ReadArgs) -> ExitCode {
    let result = runtime().map_err(Failure::from).and_then(|rt| {
        rt.block_on(async {
            match &args.protocol {
                ReadProtocol::Dlt645 {
                    line,
                    address,
                    di: d,
                    json,
                } => {
                    let address: Address =
                        address.parse().map_err(|e| format!("bad --address: {e}"))?;
                    let di = di(d)?;
                    let data = match line.endpoint(false)? {
                        Endpoint::Serial(c) => {
                            dlt645_client(c.clone(), Some(c.timing()))
                                .read(address, di)
                                .await
                        }
                        Endpoint::Tcp(c) => dlt645_client(c, None).read(address, di).await,
                    }
                    .map_err(io_failure)?;
                    print_dlt645(address, di, &data.data, *json);
                    Ok(())
                }
                ReadProtocol::Modbus {
                    line,
                    slave,
                    profile,
                    json,
                } => {
                    let profile = meterkit_modbus::profile::built_in(profile).ok_or_else(|| {
                        format!("unknown profile {profile:?} (see meterkit profile list)")
                    })?;
                    let ratios = meterkit_modbus::profile::Ratios::DIRECT;
                    let reading = match line.endpoint(true)? {
                        Endpoint::Serial(c) => {
                            let mut config = ModbusConfig::rtu();
                            config.line = c.timing();
                            let mut client = ModbusClient::new(Link::new(c), config);
                            client
                                .read_profile(*slave, &profile, &Quantity::ALL, &ratios, ())
                                .await
                        }
                        Endpoint::Tcp(c) => {
                            let mut client = ModbusClient::new(Link::new(c), ModbusConfig::tcp());
                            client
                                .read_profile(*slave, &profile, &Quantity::ALL, &ratios, ())
                                .await
                        }
                    }
                    .map_err(io_failure)?;
                    if *json {
                        let object: Map<String, Json> = reading
                            .values()
                            .map(|(q, v)| (q.name().to_owned(), json!(v.to_string())))
                            .collect();
                        println!("{}", Json::Object(object));
                    } else {
                        for (q, v) in reading.values() {
                            println!("{:<28} {v} {}", q.name(), q.unit());
                        }
                    }
                    Ok(())
                }
            }
        })
    });
    finish(result)
}

/// Why a command failed: its arguments (exit 2) or the exchange with the meter (exit 1).
enum Failure {
    Usage(String),
    Meter(String),
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::Usage(message)
    }
}

#[allow(clippy::needless_pass_by_value)] // shaped for `map_err`
fn io_failure(error: meterkit_transport::Error) -> Failure {
    Failure::Meter(error.to_string())
}

fn finish(result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => fail(&message),
        Err(Failure::Meter(message)) => {
            eprintln!("meterkit: {message}");
            ExitCode::from(1)
        }
    }
}

/// Prints a read reply the way `decode` shows one.
fn print_dlt645(address: Address, di: Di, data: &[u8], json: bool) {
    let mut j = Map::new();
    let mut t = String::new();
    j.insert("address".into(), json!(address.to_string()));
    j.insert("di".into(), json!(di.to_string()));
    j.insert("ok".into(), json!(true));
    value_view::describe(di, data, &mut j, &mut t);
    if json {
        println!("{}", Json::Object(j));
    } else {
        println!("{address} {di} {}", value_view::di_name(di));
        print!("{t}");
    }
}

pub(crate) fn scan(args: &ScanArgs) -> ExitCode {
    let ScanProtocol::Dlt645 { line } = &args.protocol;
    let result = runtime().map_err(Failure::from).and_then(|rt| {
        rt.block_on(async {
            let found = match line.endpoint(false)? {
                Endpoint::Serial(c) => {
                    dlt645_client(c.clone(), Some(c.timing()))
                        .read_address(Address::WILDCARD)
                        .await
                }
                Endpoint::Tcp(c) => dlt645_client(c, None).read_address(Address::WILDCARD).await,
            }
            .map_err(io_failure)?;
            println!("{found}");
            Ok(())
        })
    });
    finish(result)
}

/// Exact kWh text to whole Wh: at most three decimals, never rounded.
fn kwh_to_wh(text: &str) -> Result<u64, String> {
    let bad = || format!("bad --start-kwh {text:?}: expected kWh with at most 3 decimals");
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || fraction.len() > 3
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let digits = format!("{whole}{fraction:0<3}");
    digits.parse().map_err(|_| bad())
}

pub(crate) fn sim(args: &SimArgs) -> ExitCode {
    let SimProtocol::Dlt645 {
        address,
        link,
        tcp,
        start_kwh,
        power_w,
        fault,
    } = &args.protocol;
    let result = (|| {
        let address: Address = address.parse().map_err(|e| format!("bad --address: {e}"))?;
        let profile = EnergyProfile {
            start_wh: kwh_to_wh(start_kwh)?,
            power_w: *power_w,
        };
        let meter = sim::demo_meter(address, profile)
            .map_err(|e| format!("cannot build the meter: {e}"))?;
        let mut bus = SimBus::new(vec![meter]);
        for f in fault {
            match f {
                Fault::Echo => bus.faults.echo = true,
                Fault::Garbage => bus.faults.garbage_before_reply = true,
                Fault::Foreign => bus.faults.foreign_reply_first = true,
                Fault::Corrupt => bus.faults.corrupt_replies = 3,
                Fault::Drop => bus.faults.drop_replies = 3,
                Fault::Split => bus.faults.split_writes = true,
                Fault::Delay => bus.faults.reply_delay = Duration::from_secs(2),
            }
        }
        let rt = runtime()?;
        rt.block_on(async {
            match (link, tcp) {
                (Some(path), None) => {
                    let mut pty = sim::Pty::create(path)
                        .map_err(|e| format!("cannot create a pseudo-terminal at {path}: {e}"))?;
                    eprintln!(
                        "meterkit: meter {address} serving DL/T 645 on {path} ({}); Ctrl-C stops",
                        pty.device()
                    );
                    sim::serve(pty.stream(), &mut bus)
                        .await
                        .map_err(|e| format!("{path}: {e}"))
                }
                (None, Some(listen)) => {
                    let listener = tokio::net::TcpListener::bind(listen)
                        .await
                        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
                    eprintln!(
                        "meterkit: meter {address} serving DL/T 645 on tcp {listen}; Ctrl-C stops"
                    );
                    sim::serve_tcp(listener, &mut bus)
                        .await
                        .map_err(|e| format!("{listen}: {e}"))
                }
                _ => Err("say where to serve: --link PATH or --tcp HOST:PORT".to_owned()),
            }
        })
    })();
    result.map_or_else(|m| fail(&m), |()| ExitCode::SUCCESS)
}
