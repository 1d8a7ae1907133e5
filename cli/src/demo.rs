//! `meterkit demo`: a prepaid charging session end to end, on nothing but this binary.
//!
//! A simulated DL/T 645 meter serves a pseudo-terminal; the demo reads it over the real
//! serial path every simulated minute, prices each reading by time of use, captures the
//! cost from the user's prepaid hold, stops the charge when the money runs out, and
//! prints the itemised bill and the user's statement; reports go to `--out`.

use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use clap::Args;
use dlt645::{Address, Di, value::Value};
use meterkit_ledger::{Durable, FileJournal, Id, Op, Scale, Timestamp};
use meterkit_modbus::profile::{self, Ratios};
use meterkit_reading::{MeterReading, Quantity};
use meterkit_session::{Decision, Session, SessionConfig, StopReason};
use meterkit_tariff::{BillFormat, Reading, Tariff, Zone, file};
use meterkit_transport::{
    client::{Client, ClientConfig},
    link::{Link, SerialConfig},
    modbus::{Framing, ModbusClient, ModbusConfig},
    modbus_sim::{ModbusSim, ModbusSimBus},
    sim::{self, EnergyProfile, SimBus},
};
use rust_decimal::{Decimal, prelude::ToPrimitive};

use crate::{
    fail, ledger_cmd,
    report_cmd::{self, PeriodLine, ReceiptLine},
    report_html,
};

/// The example 尖峰平谷 tariff with a service fee and a summer sharp period.
const EXAMPLE_TARIFF: &str = include_str!("../../tariff/examples-data/cn-tou.toml");

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Prepaid balance the user tops up before charging, in the tariff's currency.
    #[arg(long, default_value = "50.00")]
    balance: String,
    /// Tariff file (TOML or JSON); default: the built-in Shenzhen 尖峰平谷 example.
    #[arg(long)]
    tariff: Option<PathBuf>,
    /// Simulated seconds per real second.
    #[arg(long, default_value_t = 3600)]
    speed: u32,
    /// Longest simulated session in hours, if the money lasts (at most a week).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=168))]
    hours: u32,
    /// Simulated start of the session (RFC 3339): a summer morning crosses the valley,
    /// flat, peak and sharp periods.
    #[arg(long, default_value = "2025-07-15T07:30:00+08:00")]
    start: String,
    /// Charging power in W.
    #[arg(long, default_value_t = 7000)]
    power_w: u64,
    /// Ledger journal file; default: a new one in a temporary directory.
    #[arg(long)]
    journal: Option<PathBuf>,
    /// Where to write the reports.
    #[arg(long, default_value = "meterkit-report")]
    out: PathBuf,
    /// Do not print the live progress line.
    #[arg(long)]
    no_progress: bool,
    /// Simulate a Modbus RTU meter (ABB B23 register map) instead of DL/T 645.
    #[arg(long)]
    modbus: bool,
}

/// One row of the readings report.
pub(crate) struct Row {
    pub(crate) at: DateTime<Utc>,
    pub(crate) energy_wh: u64,
    pub(crate) cost_minor: u64,
    pub(crate) balance_minor: i128,
    pub(crate) period: String,
}

const METER: &str = "123456789012";
const FORWARD_ACTIVE_ENERGY: Di = Di::V2007(0x0001_0000);
/// The simulated meter's forward active energy register at the start, 1206.420 kWh.
const START_WH: u64 = 1_206_420;
const MODBUS_UNIT: u8 = 1;

/// The meter the demo reads, over the serial path.
enum Meter {
    Dlt645(Client<SerialConfig>, Address),
    Modbus(ModbusClient<SerialConfig>),
}

impl Meter {
    fn describe(&self) -> String {
        match self {
            Meter::Dlt645(_, address) => format!("DL/T 645 meter {address} at 2400 8E1"),
            Meter::Modbus(_) => {
                format!("Modbus RTU meter unit {MODBUS_UNIT} (ABB B23 map) at 9600 8E1")
            }
        }
    }

    /// The forward active energy register, in exact Wh.
    async fn energy_wh(&mut self) -> Result<u64, String> {
        match self {
            Meter::Dlt645(client, address) => {
                let value = client
                    .read_value(*address, FORWARD_ACTIVE_ENERGY)
                    .await
                    .map_err(|e| format!("reading the meter: {e}"))?;
                energy_wh(&value)
            }
            Meter::Modbus(client) => {
                let reading = client
                    .read_profile(
                        MODBUS_UNIT,
                        &profile::ABB_B23,
                        &[Quantity::ImportEnergyTotal],
                        &Ratios::DIRECT,
                        (),
                    )
                    .await
                    .map_err(|e| format!("reading the meter: {e}"))?;
                let kwh = reading
                    .get(Quantity::ImportEnergyTotal)
                    .ok_or("the meter sent no energy register")?;
                (kwh * Decimal::from(1000))
                    .to_u64()
                    .filter(|_| (kwh * Decimal::from(1000)).fract().is_zero())
                    .ok_or_else(|| format!("the meter sent an impossible energy register {kwh}"))
            }
        }
    }
}

/// A Modbus meter whose energy register follows the (scaled) clock: the register map is
/// rebuilt from the energy at each request's instant.
struct AdvancingModbus {
    start_wh: u64,
    power_w: u64,
    faults: sim::Faults,
}

impl AdvancingModbus {
    fn new(start_wh: u64, power_w: u64) -> Self {
        AdvancingModbus {
            start_wh,
            power_w,
            faults: sim::Faults::default(),
        }
    }
}

impl sim::Simulated for AdvancingModbus {
    fn step(&mut self, input: &[u8], elapsed: Duration) -> sim::Step {
        let profile = EnergyProfile {
            start_wh: self.start_wh,
            power_w: self.power_w,
        };
        let mut reading = MeterReading::new(());
        // ABB B23 counts energy in 0.01 kWh: the register shows whole tens of Wh.
        let tens = profile.energy_wh(elapsed) / 10;
        reading.set(
            Quantity::ImportEnergyTotal,
            Decimal::new(i64::try_from(tens).unwrap_or(i64::MAX), 2),
        );
        match ModbusSim::new(MODBUS_UNIT)
            .with_unmapped(0)
            .with_reading(&profile::ABB_B23, &reading)
        {
            Ok(server) => ModbusSimBus::new(vec![server], Framing::Rtu).step(input, elapsed),
            // Unreachable for in-range energy; answer nothing rather than panic.
            Err(_) => sim::Step::Consumed {
                count: input.len(),
                reply: Vec::new(),
            },
        }
    }

    fn faults(&self) -> &sim::Faults {
        &self.faults
    }
}

/// Either simulator, served on the same pseudo-terminal.
enum Simulator {
    Dlt645(SimBus),
    Modbus(AdvancingModbus),
}

impl sim::Simulated for Simulator {
    fn step(&mut self, input: &[u8], elapsed: Duration) -> sim::Step {
        match self {
            Simulator::Dlt645(bus) => bus.step(input, elapsed),
            Simulator::Modbus(bus) => bus.step(input, elapsed),
        }
    }

    fn faults(&self) -> &sim::Faults {
        match self {
            Simulator::Dlt645(bus) => bus.faults(),
            Simulator::Modbus(bus) => bus.faults(),
        }
    }
}

pub(crate) fn run(args: &DemoArgs) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    match rt.block_on(demo(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

fn load_tariff(path: Option<&Path>) -> Result<Tariff, String> {
    let (text, name) = match path {
        Some(p) => (
            std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?,
            p.to_string_lossy().into_owned(),
        ),
        None => (EXAMPLE_TARIFF.to_owned(), "cn-tou.toml".to_owned()),
    };
    file::load(&text, file::Format::from_file_name(&name)).map_err(|report| {
        let first = report
            .problems
            .first()
            .map(ToString::to_string)
            .unwrap_or_default();
        format!("{name}: {first}")
    })
}

/// `HH:MM` in the tariff's own zone, where its periods are defined.
pub(crate) fn local_time(zone: Zone, at: DateTime<Utc>) -> String {
    match zone {
        Zone::Fixed(offset) => at.with_timezone(&offset).format("%H:%M").to_string(),
        Zone::Named(tz) => at.with_timezone(&tz).format("%H:%M").to_string(),
        _ => at.format("%H:%MZ").to_string(),
    }
}

fn ms(at: DateTime<Utc>) -> Timestamp {
    Timestamp(at.timestamp_millis())
}

/// Exact Wh from the meter's kWh register (two decimals).
fn energy_wh(value: &Value) -> Result<u64, String> {
    let Value::Number(kwh) = value else {
        return Err(format!("the meter sent {value} for forward active energy"));
    };
    kwh.rescaled_mantissa(3)
        .and_then(|wh| u64::try_from(wh).ok())
        .ok_or_else(|| format!("the meter sent an impossible energy register {kwh}"))
}

#[allow(clippy::too_many_lines)]
async fn demo(args: &DemoArgs) -> Result<(), String> {
    let tariff = load_tariff(args.tariff.as_deref())?;
    let start: DateTime<Utc> = DateTime::parse_from_rfc3339(&args.start)
        .map_err(|e| format!("bad --start {:?}: {e}", args.start))?
        .with_timezone(&Utc);
    if args.speed == 0 {
        return Err("bad --speed 0: the simulated clock must move".to_owned());
    }
    let work = std::env::temp_dir().join(format!(
        "meterkit-demo-{}-{}",
        std::process::id(),
        Utc::now().timestamp_millis()
    ));
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    let journal = args
        .journal
        .clone()
        .unwrap_or_else(|| work.join("ledger.journal"));

    // The ledger: a wallet, topped up.
    let scale = Scale::default();
    let (ledger, file, _) = FileJournal::open_or_create(&journal, scale)
        .map_err(|e| format!("{}: {e}", journal.display()))?;
    let mut ledger = Durable::new(ledger, file);
    let balance = scale
        .parse(&args.balance)
        .map_err(|e| format!("bad --balance {:?}: {e}", args.balance))?;
    // Ids carry the run's start so a reused --journal keeps earlier runs apart.
    let run = Utc::now().timestamp_millis() % 100_000_000;
    let user = Id::name("demo-user").map_err(|e| e.to_string())?;
    let named = |prefix: &str| Id::name(&format!("{prefix}{run}")).map_err(|e| e.to_string());
    let now = ms(start - TimeDelta::minutes(5));
    let apply = |ledger: &mut Durable<_, _, _, _>, op: &Op| -> Result<(), String> {
        ledger
            .apply(op, now)
            .map_err(|e| format!("ledger: {e}"))?
            .result
            .map(|_| ())
            .map_err(|e| format!("ledger: {e}"))
    };
    if ledger.ledger().account(user).is_none() {
        apply(
            &mut ledger,
            &Op::Open {
                id: Id::name("demo-open").map_err(|e| e.to_string())?,
                account: user,
                floor: 0,
                credit_line: 0,
                low_credit: 500,
            },
        )?;
    }
    apply(
        &mut ledger,
        &Op::TopUp {
            id: named("topup-")?,
            account: user,
            amount: balance,
        },
    )?;

    // The meter: a simulated DL/T 645 meter on a pseudo-terminal, in accelerated time.
    let tty = work.join("meter-tty");
    let mut pty =
        sim::Pty::create(&tty).map_err(|e| format!("cannot create a pseudo-terminal: {e}"))?;
    let path = tty.to_string_lossy().into_owned();
    let power_w = args.power_w.saturating_mul(u64::from(args.speed));
    let (mut simulator, mut meter) = if args.modbus {
        let serial = SerialConfig::modbus(path);
        let mut config = ModbusConfig::rtu();
        config.line = serial.timing();
        (
            Simulator::Modbus(AdvancingModbus::new(START_WH, power_w)),
            Meter::Modbus(ModbusClient::new(Link::new(serial), config)),
        )
    } else {
        let address: Address = METER.parse().map_err(|e| format!("{e}"))?;
        let profile = EnergyProfile {
            start_wh: START_WH,
            power_w,
        };
        let dlt = sim::demo_meter(address, profile)
            .map_err(|e| format!("cannot build the meter: {e}"))?;
        let serial = SerialConfig::dlt645(path);
        let client = Client::new(
            Link::new(serial.clone()),
            ClientConfig::with_line(serial.timing()),
        );
        (
            Simulator::Dlt645(SimBus::new(vec![dlt])),
            Meter::Dlt645(client, address),
        )
    };

    let available = ledger
        .ledger()
        .account(user)
        .map_or(0, meterkit_ledger::Account::balance);
    let max_amount = u64::try_from(available).unwrap_or(0);
    let config = SessionConfig::new(
        named("sess-")?,
        user,
        start,
        max_amount,
        start + TimeDelta::hours(i64::from(args.hours) + 1),
    )
    .with_low_balance(max_amount / 10);
    let mut session = Session::start(&mut ledger, &tariff, config, start)
        .map_err(|e| format!("cannot start the session: {e}"))?;

    println!(
        "meterkit demo: {} on {} (over a pseudo-terminal)",
        meter.describe(),
        pty.device()
    );
    println!(
        "  tariff {:?}, balance {} {}, {} W from {}, {}x real time; journal {}",
        tariff.name(),
        scale.display(available),
        tariff.currency().code(),
        args.power_w,
        args.start,
        args.speed,
        journal.display()
    );

    let mut rows: Vec<Row> = Vec::new();
    let mut stop_reason: Option<StopReason> = None;
    let mut last = start;
    let minutes = i64::from(args.hours) * 60;
    // A carriage-return progress line only makes sense on a terminal.
    let progress_line = !args.no_progress && std::io::stderr().is_terminal();
    let origin = Instant::now();
    let charge = async {
        for minute in 0..=minutes {
            let due = Duration::from_millis(
                u64::try_from(minute).unwrap_or(0) * 60_000 / u64::from(args.speed),
            );
            tokio::time::sleep_until((origin + due).into()).await;
            let wh = meter.energy_wh().await?;
            // The simulated meter's energy follows the real clock scaled by the speed, so
            // the reading is stamped from the same clock, not from the schedule: a read
            // that runs late then carries the energy of the time that really passed.
            // Microseconds of real time: at high speeds, two reads in one millisecond
            // would otherwise share a timestamp.
            let simulated_ms = origin.elapsed().as_micros() * u128::from(args.speed) / 1000;
            let at = start
                + TimeDelta::milliseconds(i64::try_from(simulated_ms).unwrap_or(i64::MAX / 2));
            if at > start + TimeDelta::hours(i64::from(args.hours)) {
                break;
            }
            let decision = session
                .on_reading(&mut ledger, &Reading::new(at, wh), at)
                .map_err(|e| format!("pricing the reading at {at}: {e}"))?;
            last = at;
            let (progress, stop) = match decision {
                Decision::Continue(p) | Decision::LowBalance(p) => (p, None),
                Decision::Stop { reason, progress } => (progress, Some(reason)),
                Decision::Rejected { reason, .. } => {
                    eprintln!("meterkit: reading at {at} rejected: {reason:?}");
                    continue;
                }
                other => return Err(format!("unexpected decision {other:?}")),
            };
            let period = session
                .current_period()
                .map_or_else(|| "-".to_owned(), ToString::to_string);
            if progress_line {
                eprint!(
                    "\r  {}  {:>3}.{:03} kWh  cost {:>8}  balance {:>8}  {:<7}",
                    local_time(tariff.zone(), at),
                    progress.energy_wh / 1000,
                    progress.energy_wh % 1000,
                    scale.display(i128::from(progress.cost)),
                    scale.display(progress.balance),
                    period
                );
            }
            rows.push(Row {
                at,
                energy_wh: wh,
                cost_minor: progress.cost,
                balance_minor: progress.balance,
                period,
            });
            if let Some(reason) = stop {
                stop_reason = Some(reason);
                break;
            }
        }
        Ok::<(), String>(())
    };
    tokio::select! {
        result = charge => result?,
        served = sim::serve(pty.stream(), &mut simulator) => {
            return Err(format!("the simulated meter stopped: {served:?}"));
        }
    }
    if progress_line {
        eprintln!();
    }
    let real = origin.elapsed();
    let receipt = session
        .stop(&mut ledger, last)
        .map_err(|e| format!("settling the session: {e}"))?;

    match stop_reason {
        Some(reason) => println!(
            "\nCharge stopped at {} local time: {reason:?} (relay opened).",
            local_time(tariff.zone(), last)
        ),
        None => println!("\nCharge ended after {} simulated hours.", args.hours),
    }
    println!(
        "Simulated {} minutes in {:.1} s of real time.\n",
        rows.len().saturating_sub(1),
        real.as_secs_f64()
    );
    print!("{}", receipt.bill.render(BillFormat::Table));
    println!(
        "\nDeducted {} {} (the bill total); balance {} -> {}.",
        scale.display(i128::from(receipt.total)),
        tariff.currency().code(),
        scale.display(receipt.balance_before),
        scale.display(receipt.balance_after)
    );
    if receipt.debt_after > receipt.debt_before {
        println!(
            "The last reading's energy cost {} more than the wallet held: recorded as debt, never lost.",
            scale.display(receipt.debt_after - receipt.debt_before)
        );
    }
    println!(
        "\nStatement of demo-user (`meterkit ledger --journal {} statement demo-user` lists every capture):",
        journal.display()
    );
    let lines = ledger_cmd::statement_lines(ledger.ledger(), user);
    let captures: Vec<&String> = lines.iter().filter(|l| l.contains(" capture ")).collect();
    for line in lines.iter().filter(|l| !l.contains(" capture ")) {
        if line.contains(" settle ") && !captures.is_empty() {
            println!("         … {} captures, one per reading …", captures.len());
            if let Some(last) = captures.last() {
                println!("  {last}");
            }
        }
        println!("  {line}");
    }
    ledger
        .ledger()
        .check_invariants()
        .map_err(|e| format!("ledger invariant broken: {e}"))?;

    write_reports(&args.out, &tariff, &receipt.bill, &rows, scale)?;
    report_cmd::append(&journal, &receipt_line(&receipt, &meter, &tariff)?)?;
    println!(
        "\nReports in {}: bill.json, bill.csv, readings.csv, report.html",
        args.out.display()
    );
    drop(pty);
    if args.journal.is_none() {
        let _ = std::fs::remove_dir_all(&work);
    }
    Ok(())
}

/// The session's line for `meterkit report`.
fn receipt_line(
    receipt: &meterkit_session::Receipt,
    meter: &Meter,
    tariff: &Tariff,
) -> Result<ReceiptLine, String> {
    let bill = &receipt.bill;
    let t = &bill.totals;
    let periods = bill
        .by_period()
        .map_err(|e| format!("summing the bill per period: {e}"))?
        .iter()
        .map(|p| PeriodLine {
            period: p.period.to_string(),
            energy_wh: p.energy_wh,
            electricity: p.electricity,
            service: p.service,
        })
        .collect();
    Ok(ReceiptLine {
        session: receipt.session.to_string(),
        user: receipt.wallet.to_string(),
        charger: match meter {
            Meter::Dlt645(_, address) => format!("dlt645:{address}"),
            Meter::Modbus(_) => format!("modbus:{MODBUS_UNIT}"),
        },
        currency: tariff.currency().code().to_owned(),
        start: bill.start,
        stop: bill.stop,
        periods,
        energy_wh: t.energy_wh,
        electricity: t.electricity,
        service: t.service,
        other_fees: t.time_fee + t.parking_fee + t.flat_fee + t.cap_adjustment,
        tax: t.tax,
        total: t.gross,
    })
}

fn write_reports(
    out: &Path,
    tariff: &Tariff,
    bill: &meterkit_tariff::Bill,
    rows: &[Row],
    scale: Scale,
) -> Result<(), String> {
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let write = |name: &str, text: &str| {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write("bill.json", &bill.render(BillFormat::Json))?;
    write("bill.csv", &bill.render(BillFormat::Csv))?;
    let mut csv = String::from("time,energy_kwh,cost,balance,period\n");
    for r in rows {
        let _ = writeln!(
            csv,
            "{},{}.{:03},{},{},{}",
            r.at.to_rfc3339(),
            r.energy_wh / 1000,
            r.energy_wh % 1000,
            scale.display(i128::from(r.cost_minor)),
            scale.display(r.balance_minor),
            r.period
        );
    }
    write("readings.csv", &csv)?;
    write("report.html", &report_html::page(tariff, bill, rows, scale))
}
