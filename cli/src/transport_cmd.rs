//! `meterkit read`, `scan` and `sim`: talk to real (or simulated) meters.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use dlt645::{Address, Di};
use meterkit_reading::Quantity;
use meterkit_transport::{
    client::{Client, ClientConfig},
    link::{
        Connector, DataBits, Endpoint, LineTiming, Link, Parity, SerialConfig, StopBits, TcpConfig,
    },
    modbus::{Framing, ModbusClient, ModbusConfig},
    modbus_sim::{ModbusSim, ModbusSimBus},
    scan,
    sim::{self, EnergyProfile, MeterClock, Metering, PeriodTable, SimBus},
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
    /// Find every meter on the line and print their addresses, one per line.
    ///
    /// Asks AAAAAAAAAAAA for its address; when several meters answer at once their
    /// replies collide, and the search fixes the lowest wildcard byte to 00..99 in turn,
    /// deeper wherever replies still collide. One meter: one request. Several: 100
    /// more per collision, most of them waiting out the reply deadline (about a
    /// minute at 2400 bit/s; shorten it with --timeout on a fast line).
    Dlt645 {
        #[command(flatten)]
        line: Line,
        /// Margin added to the line time of request and reply while waiting for a
        /// reply, e.g. 500ms (the default) or 1s.
        #[arg(long, default_value = "500ms")]
        timeout: String,
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
    /// Serve simulated DL/T 645-2007 meters until stopped.
    Dlt645 {
        /// A meter's address; repeat it to put several meters on one line (try
        /// `meterkit scan dlt645` on it).
        #[arg(long, default_value = "123456789012")]
        address: Vec<String>,
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
        #[command(flatten)]
        metering: MeteringArgs,
        /// Faults to switch on (repeatable).
        #[arg(long, value_enum)]
        fault: Vec<Fault>,
    },
    /// Serve a simulated Modbus meter (RTU on a pseudo-terminal, or Modbus TCP) until stopped.
    Modbus {
        /// The register map to serve (see `meterkit profile list`).
        #[arg(long, default_value = "sdm630")]
        profile: String,
        /// Slave address or unit id; repeat it for several slaves on one line.
        #[arg(long, default_value = "1")]
        slave: Vec<u8>,
        /// Create a pseudo-terminal and a symlink to it at PATH (RTU).
        #[arg(long, conflicts_with = "tcp")]
        link: Option<String>,
        /// Serve Modbus TCP on HOST:PORT instead.
        #[arg(long)]
        tcp: Option<String>,
        /// Import energy at start, in kWh (exact decimal).
        #[arg(long, default_value = "1206.42")]
        start_kwh: String,
        /// Constant charging power in W, split evenly over the three phases.
        #[arg(long, default_value_t = 7245)]
        power_w: u64,
        #[command(flatten)]
        metering: MeteringArgs,
        /// Faults to switch on (repeatable).
        #[arg(long, value_enum)]
        fault: Vec<Fault>,
    },
}

/// The simulated meter's own clock and tariff periods.
#[derive(Debug, Args)]
struct MeteringArgs {
    /// The meter's daily period table: HH:MM=RATE starts, comma-separated, rates 1..4
    /// (1 sharp, 2 peak, 3 flat, 4 valley). Energy counts into the rate in force on
    /// the meter's clock.
    #[arg(long, default_value_t = PeriodTable::default())]
    periods: PeriodTable,
    /// How far the meter's clock is off, in seconds (negative = slow). The clock
    /// starts at this machine's local time plus the skew.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    clock_skew: i64,
}

impl MeteringArgs {
    fn clock(&self) -> Result<MeterClock, String> {
        let skew = chrono::TimeDelta::try_seconds(self.clock_skew)
            .filter(|s| s.num_days().abs() <= 3660)
            .ok_or_else(|| format!("bad --clock-skew {}: at most ten years", self.clock_skew))?;
        Ok(MeterClock {
            start: chrono::Local::now().naive_local(),
            skew,
        })
    }
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

/// A Modbus client: RTU with the port's timing on a serial line, Modbus TCP otherwise.
fn modbus_client(endpoint: Endpoint) -> ModbusClient<Endpoint> {
    let config = match endpoint.timing() {
        Some(timing) => {
            let mut config = ModbusConfig::rtu();
            config.line = timing;
            config
        }
        None => ModbusConfig::tcp(),
    };
    ModbusClient::new(Link::new(endpoint), config)
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
                    let endpoint = line.endpoint(false)?;
                    let data = dlt645_client(endpoint.clone(), endpoint.timing())
                        .read(address, di)
                        .await
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
                    let reading = modbus_client(line.endpoint(true)?)
                        .read_profile(*slave, &profile, &Quantity::ALL, &ratios, ())
                        .await
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
    let ScanProtocol::Dlt645 { line, timeout } = &args.protocol;
    let result = (|| -> Result<(), Failure> {
        let margin = duration("--timeout", timeout)?;
        let endpoint = line.endpoint(false)?;
        let rt = runtime()?;
        rt.block_on(async {
            let mut config = endpoint
                .timing()
                .map_or_else(ClientConfig::default, ClientConfig::with_line);
            config.base_timeout = margin;
            let mut client = Client::new(Link::new(endpoint), config);
            let report = scan::search(&mut client).await.map_err(io_failure)?;
            for address in &report.found {
                println!("{address}");
            }
            for pattern in &report.unresolved {
                eprintln!("meterkit: replies to {pattern} stayed garbled (line noise?)");
            }
            if report.found.is_empty() {
                return Err(Failure::Meter(format!(
                    "no meter answered ({} requests)",
                    report.requests
                )));
            }
            Ok(())
        })
    })();
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

fn faults(list: &[Fault]) -> sim::Faults {
    let mut faults = sim::Faults::default();
    for f in list {
        match f {
            Fault::Echo => faults.echo = true,
            Fault::Garbage => faults.garbage_before_reply = true,
            Fault::Foreign => faults.foreign_reply_first = true,
            Fault::Corrupt => faults.corrupt_replies = 3,
            Fault::Drop => faults.drop_replies = 3,
            Fault::Split => faults.split_writes = true,
            Fault::Delay => faults.reply_delay = Duration::from_secs(2),
        }
    }
    faults
}

/// Serves `bus` on a pseudo-terminal linked at `link`, or on TCP at `tcp`, until stopped.
fn serve<S: sim::Simulated>(
    bus: &mut S,
    what: &str,
    link: Option<&String>,
    tcp: Option<&String>,
) -> Result<(), String> {
    let rt = runtime()?;
    rt.block_on(async {
        match (link, tcp) {
            (Some(path), None) => {
                let mut pty = sim::Pty::create(path)
                    .map_err(|e| format!("cannot create a pseudo-terminal at {path}: {e}"))?;
                eprintln!(
                    "meterkit: {what} on {path} ({}); Ctrl-C stops",
                    pty.device()
                );
                sim::serve(pty.stream(), bus)
                    .await
                    .map_err(|e| format!("{path}: {e}"))
            }
            (None, Some(listen)) => {
                let listener = tokio::net::TcpListener::bind(listen)
                    .await
                    .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
                eprintln!("meterkit: {what} on tcp {listen}; Ctrl-C stops");
                sim::serve_tcp(listener, bus)
                    .await
                    .map_err(|e| format!("{listen}: {e}"))
            }
            _ => Err("say where to serve: --link PATH or --tcp HOST:PORT".to_owned()),
        }
    })
}

/// Plausible values of a three-phase charge at `power_w` for every quantity a
/// profile may map (energy and total power follow the meter's metering instead).
fn charging_reading(power_w: u64) -> meterkit_reading::MeterReading<()> {
    use rust_decimal::{Decimal, RoundingStrategy};
    // One third per phase, to 0.1 W, half to even: 7245 W → 2415 W.
    let phase = (Decimal::from(power_w) / Decimal::from(3))
        .round_dp_with_strategy(1, RoundingStrategy::MidpointNearestEven)
        .normalize();
    let mut reading = meterkit_reading::MeterReading::new(());
    let values = [
        (Quantity::ImportEnergyTotal, Decimal::new(120_642, 2)),
        (Quantity::ExportEnergyTotal, Decimal::ZERO),
        (Quantity::VoltageL1, Decimal::new(2302, 1)),
        (Quantity::VoltageL2, Decimal::new(2302, 1)),
        (Quantity::VoltageL3, Decimal::new(2302, 1)),
        (Quantity::CurrentL1, Decimal::new(105, 1)),
        (Quantity::CurrentL2, Decimal::new(105, 1)),
        (Quantity::CurrentL3, Decimal::new(105, 1)),
        (Quantity::ActivePowerL1, phase),
        (Quantity::ActivePowerL2, phase),
        (Quantity::ActivePowerL3, phase),
        (Quantity::ActivePowerTotal, Decimal::from(power_w)),
        (Quantity::PowerFactor, Decimal::new(998, 3)),
        (Quantity::Frequency, Decimal::new(5001, 2)),
    ];
    for (quantity, value) in values {
        reading.set(quantity, value);
    }
    reading
}

pub(crate) fn sim(args: &SimArgs) -> ExitCode {
    let result = match &args.protocol {
        SimProtocol::Dlt645 {
            address,
            link,
            tcp,
            start_kwh,
            power_w,
            metering,
            fault,
        } => (|| {
            let addresses = address
                .iter()
                .map(|a| a.parse().map_err(|e| format!("bad --address {a:?}: {e}")))
                .collect::<Result<Vec<Address>, String>>()?;
            let profile = EnergyProfile {
                start_wh: kwh_to_wh(start_kwh)?,
                power_w: *power_w,
            };
            let clock = metering.clock()?;
            let meters = addresses
                .iter()
                .map(|a| {
                    sim::demo_meter(*a, profile)
                        .map(|m| m.with_periods(metering.periods.clone()).with_clock(clock))
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("cannot build the meter: {e}"))?;
            let mut bus = SimBus::new(meters);
            bus.faults = faults(fault);
            let names: Vec<String> = addresses.iter().map(Address::to_string).collect();
            let what = if names.len() == 1 { "meter" } else { "meters" };
            serve(
                &mut bus,
                &format!("DL/T 645 {what} {}", names.join(", ")),
                link.as_ref(),
                tcp.as_ref(),
            )
        })(),
        SimProtocol::Modbus {
            profile,
            slave,
            link,
            tcp,
            start_kwh,
            power_w,
            metering,
            fault,
        } => (|| {
            let map = meterkit_modbus::profile::built_in(profile).ok_or_else(|| {
                format!("unknown profile {profile:?} (see meterkit profile list)")
            })?;
            let energy = EnergyProfile {
                start_wh: kwh_to_wh(start_kwh)?,
                power_w: *power_w,
            };
            let clock = metering.clock()?;
            let servers = slave
                .iter()
                .map(|unit| {
                    ModbusSim::new(*unit)
                        .with_unmapped(0)
                        .with_clock(clock)
                        .with_reading(&map, &charging_reading(*power_w))
                        .and_then(|s| {
                            s.with_metering(
                                &map,
                                Metering::new(energy).with_periods(metering.periods.clone()),
                            )
                        })
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("cannot build the meter: {e}"))?;
            let framing = if tcp.is_some() {
                Framing::Tcp
            } else {
                Framing::Rtu
            };
            let mut bus = ModbusSimBus::new(servers, framing);
            bus.faults = faults(fault);
            let units: Vec<String> = slave.iter().map(u8::to_string).collect();
            serve(
                &mut bus,
                &format!("Modbus {} unit {}", map.name, units.join(", ")),
                link.as_ref(),
                tcp.as_ref(),
            )
        })(),
    };
    result.map_or_else(|m| fail(&m), |()| ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub(crate) struct PollArgs {
    /// The meters, as TOML: `[[meter]]` tables with `name`, `protocol` ("dlt645" or
    /// "modbus"), `port` (a serial port) or `tcp` ("host:port": Modbus TCP, or a DL/T
    /// 645 serial-to-Ethernet gateway), and `address` (DL/T 645) or `slave` and
    /// `profile` (Modbus); optional `baud` and `parity` (serial side). Meters on the
    /// same port or TCP address share one bus.
    #[arg(long)]
    config: String,
    /// Time between polling rounds, e.g. `15s`, `500ms`, `1m`.
    #[arg(long, default_value = "15s")]
    interval: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PollFormat::Jsonl)]
    format: PollFormat,
    /// Stop after this many rounds (default: run until stopped).
    #[arg(long)]
    rounds: Option<u64>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PollFormat {
    /// One JSON object per meter reading: time, meter, and each quantity as a decimal string.
    Jsonl,
    /// One row per quantity: time,meter,quantity,value,unit.
    Csv,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PollConfig {
    meter: Vec<MeterConfig>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MeterConfig {
    name: String,
    protocol: String,
    port: Option<String>,
    tcp: Option<String>,
    baud: Option<u32>,
    parity: Option<String>,
    address: Option<String>,
    slave: Option<u8>,
    profile: Option<String>,
}

fn duration(flag: &str, text: &str) -> Result<Duration, String> {
    let bad = || format!("bad {flag} {text:?}: expected e.g. 15s, 500ms or 1m");
    let (digits, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" | "" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        _ => return Err(bad()),
    };
    // Zero would spin; beyond a day the schedule's instants could overflow.
    if d.is_zero() || d > Duration::from_secs(86_400) {
        Err(format!("bad {flag} {text:?}: between 1ms and 24h"))
    } else {
        Ok(d)
    }
}

type AnyEndpointMeter = meterkit_transport::poll::AnyMeter<Endpoint, Endpoint>;

/// One bus per link (port or TCP address), one meter source per configured meter, in
/// file order.
fn meters(config: &PollConfig) -> Result<Vec<AnyEndpointMeter>, String> {
    use meterkit_transport::{BusHandle, bus, poll};
    let mut dlt_buses: Vec<(Endpoint, BusHandle<Client<Endpoint>>)> = Vec::new();
    let mut modbus_buses: Vec<(Endpoint, BusHandle<ModbusClient<Endpoint>>)> = Vec::new();
    let same_link = |a: &Endpoint, b: &Endpoint| a.describe() == b.describe();
    let mut out = Vec::new();
    for m in &config.meter {
        let named = |what: &str| format!("meter {:?}: {what}", m.name);
        let modbus = match m.protocol.as_str() {
            "dlt645" => false,
            "modbus" => true,
            other => {
                return Err(named(&format!(
                    "protocol {other:?} is neither dlt645 nor modbus"
                )));
            }
        };
        let endpoint = match (&m.port, &m.tcp) {
            (Some(port), None) => {
                let mut s = if modbus {
                    SerialConfig::modbus(port.clone())
                } else {
                    SerialConfig::dlt645(port.clone())
                };
                if let Some(baud) = m.baud {
                    s.baud = baud;
                }
                if let Some(parity) = &m.parity {
                    s.parity = parity
                        .parse()
                        .map_err(|_| named("parity must be none, odd or even"))?;
                }
                Endpoint::Serial(s)
            }
            (None, Some(address)) => Endpoint::Tcp(TcpConfig::new(address.clone())),
            _ => return Err(named("give either port or tcp")),
        };
        if modbus {
            let name = m
                .profile
                .as_deref()
                .ok_or_else(|| named("a Modbus meter needs a profile"))?;
            let profile = meterkit_modbus::profile::built_in(name)
                .ok_or_else(|| named(&format!("unknown profile {name:?}")))?;
            let handle =
                if let Some((_, h)) = modbus_buses.iter().find(|(e, _)| same_link(e, &endpoint)) {
                    h.clone()
                } else {
                    let (h, _task) =
                        bus::spawn(modbus_client(endpoint.clone()), 16, Duration::from_secs(30));
                    modbus_buses.push((endpoint, h.clone()));
                    h
                };
            out.push(poll::AnyMeter::Modbus(poll::ModbusMeter {
                bus: handle,
                unit: m.slave.unwrap_or(1),
                profile,
                quantities: Quantity::ALL.to_vec(),
                ratios: meterkit_modbus::profile::Ratios::DIRECT,
            }));
        } else {
            let address: Address = m
                .address
                .as_deref()
                .unwrap_or("AAAAAAAAAAAA")
                .parse()
                .map_err(|e| named(&format!("bad address: {e}")))?;
            let handle =
                if let Some((_, h)) = dlt_buses.iter().find(|(e, _)| same_link(e, &endpoint)) {
                    h.clone()
                } else {
                    let (h, _task) = bus::spawn(
                        dlt645_client(endpoint.clone(), endpoint.timing()),
                        16,
                        Duration::from_secs(30),
                    );
                    dlt_buses.push((endpoint, h.clone()));
                    h
                };
            out.push(poll::AnyMeter::Dlt645(poll::Dlt645Meter {
                bus: handle,
                address,
                items: poll::standard_items(),
            }));
        }
        if dlt_buses
            .iter()
            .any(|(d, _)| modbus_buses.iter().any(|(m, _)| same_link(d, m)))
        {
            return Err(named(
                "one port cannot carry both DL/T 645 and Modbus meters",
            ));
        }
    }
    Ok(out)
}

pub(crate) fn poll(args: &PollArgs) -> ExitCode {
    let result = (|| -> Result<(), Failure> {
        let text = std::fs::read_to_string(&args.config)
            .map_err(|e| format!("cannot read {}: {e}", args.config))?;
        let config: PollConfig =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", args.config))?;
        if config.meter.is_empty() {
            return Err(format!("{}: no [[meter]] tables", args.config).into());
        }
        let interval = duration("--interval", &args.interval)?;
        let rt = runtime()?;
        rt.block_on(async {
            let names: Vec<String> = config.meter.iter().map(|m| m.name.clone()).collect();
            let mut poller = meterkit_transport::poll::Poller::spawn(
                meters(&config)?,
                interval,
                chrono::Utc::now,
            );
            if matches!(args.format, PollFormat::Csv) {
                println!("time,meter,quantity,value,unit");
            }
            let total = args.rounds.map(|r| r.saturating_mul(names.len() as u64));
            let mut seen = 0u64;
            while let Some(polled) = poller.next().await {
                let name = names.get(polled.index).map_or("?", String::as_str);
                match polled.reading {
                    Ok(reading) => {
                        let time = reading
                            .timestamp
                            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                        match args.format {
                            PollFormat::Jsonl => {
                                let mut j = Map::new();
                                j.insert("time".into(), json!(time));
                                j.insert("meter".into(), json!(name));
                                for (q, v) in reading.values() {
                                    j.insert(q.name().into(), json!(v.to_string()));
                                }
                                println!("{}", Json::Object(j));
                            }
                            PollFormat::Csv => {
                                for (q, v) in reading.values() {
                                    println!("{time},{name},{},{v},{}", q.name(), q.unit());
                                }
                            }
                        }
                    }
                    // A meter that fails is reported and polled again next round.
                    Err(error) => eprintln!("meterkit: meter {name:?}: {error}"),
                }
                seen += 1;
                if total.is_some_and(|t| seen >= t) {
                    break;
                }
            }
            Ok(())
        })
    })();
    finish(result)
}
