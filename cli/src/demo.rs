//! `meterkit demo`: a prepaid charging session end to end, on nothing but this binary.
//!
//! A simulated DL/T 645 meter serves a pseudo-terminal; the demo reads it over the real
//! serial path every simulated minute, prices each reading by time of use, captures the
//! cost from the user's prepaid hold, stops the charge when the money runs out, and
//! prints the itemised bill and the user's statement; reports go to `--out`.

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use clap::Args;
use dlt645::{Address, Di, value::Value};
use meterkit_ledger::{Durable, FileJournal, Id, Op, Scale, Timestamp, crc32c};
use meterkit_modbus::profile::{self, Ratios};
use meterkit_reading::{MeterReading, Quantity};
use meterkit_session::{
    Decision, LedgerPort, LogRecord, MeterEvent, Progress, Session, SessionConfig, SessionLog,
    StopReason,
};
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
#[command(after_long_help = RESUME_HELP)]
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
    /// Ledger journal file; default: a new one in a temporary directory. A session a
    /// killed run left unfinished in it is resumed (see below).
    #[arg(long)]
    journal: Option<PathBuf>,
    /// Where to write the reports.
    #[arg(long, default_value = "meterkit-report")]
    out: PathBuf,
    /// Do not print progress: the live line on a terminal, else a plain line every
    /// simulated quarter hour.
    #[arg(long)]
    no_progress: bool,
    /// Simulate a Modbus RTU meter (ABB B23 register map) instead of DL/T 645.
    #[arg(long)]
    modbus: bool,
}

const RESUME_HELP: &str = "\
Killed and started again:
  While a session runs, <journal>.session logs its configuration and every meter reading,
  each line synced before the reading is priced and captured. If the process dies (kill -9,
  a crash, a power cut), run the same command again with the same --journal: the demo finds
  the unfinished session, says so (\"Resumed unfinished session ...\"), replays the logged
  readings (captures the ledger already holds are answered as repeats; a capture the kill
  cut off is made once), and goes on until the stop, then settles and prints the bill as
  usual. Nothing is deducted twice.

  The resumed run takes the session's user, hold, start and length from the log, and tops
  nothing up; --balance, --start and --hours are ignored. The tariff must be the same file
  (checked by its CRC-32C). The simulated meter restarts from the register of the last
  logged reading, and simulated time goes on from that reading's instant. A torn last log
  line (the kill came in the middle of writing it) is ignored: that reading was never
  captured. The log is removed once the session is settled and reported. To start over
  instead, use another --journal.";

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

/// The tariff, and its identity for the session log: the CRC-32C of the file's text.
fn load_tariff(path: Option<&Path>) -> Result<(Tariff, u32), String> {
    let (text, name) = match path {
        Some(p) => (
            std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?,
            p.to_string_lossy().into_owned(),
        ),
        None => (EXAMPLE_TARIFF.to_owned(), "cn-tou.toml".to_owned()),
    };
    let tariff = file::load(&text, file::Format::from_file_name(&name)).map_err(|report| {
        let first = report
            .problems
            .first()
            .map(ToString::to_string)
            .unwrap_or_default();
        format!("{name}: {first}")
    })?;
    Ok((tariff, crc32c(text.as_bytes())))
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

/// The run's temporary directory (the meter's link; the journal without `--journal`),
/// removed when the run ends, however it ends short of a kill.
struct WorkDir(PathBuf);

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The hold outlives the longest session by this much; a resumed session ends where the
/// first run would have: at the hold's expiry less this margin.
const HOLD_MARGIN: TimeDelta = TimeDelta::hours(1);

/// Plain progress lines (stderr not a terminal) come every this many readings: a
/// simulated quarter hour.
const PLAIN_PROGRESS_EVERY: usize = 15;

/// The session log beside a journal: `<journal>.session`.
fn session_log_path(journal: &Path) -> PathBuf {
    let mut name = journal.as_os_str().to_owned();
    name.push(".session");
    PathBuf::from(name)
}

/// The unfinished session a killed run left in `path`, if any.
fn read_session_log(path: &Path) -> Result<Option<SessionLog>, String> {
    match std::fs::read(path) {
        Ok(bytes) => SessionLog::parse(&bytes).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// The session log file. Every record is appended as one write and synced before the
/// session acts on it, so a crash can only tear the last line, which
/// [`SessionLog::parse`] leaves out (that record was never acted on).
struct SessionLogFile {
    path: PathBuf,
    file: File,
}

impl SessionLogFile {
    /// A new log holding `start`; replaces a log without a whole start record.
    fn create(path: &Path, start: &LogRecord) -> Result<Self, String> {
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        let mut log = SessionLogFile {
            path: path.to_path_buf(),
            file,
        };
        log.append(start)?;
        // The new file's directory entry must survive a crash as well as its content.
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| format!("cannot sync {}: {e}", dir.display()))?;
        Ok(log)
    }

    /// An existing log, cut after its `valid_len` bytes of whole records (a torn last
    /// line goes), ready for appends.
    fn reopen(path: &Path, valid_len: usize) -> Result<Self, String> {
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        file.set_len(u64::try_from(valid_len).unwrap_or(u64::MAX))
            .and_then(|()| file.sync_data())
            .map_err(|e| format!("cannot truncate {}: {e}", path.display()))?;
        Ok(SessionLogFile {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Appends `record` and syncs it; act on the record only after this returns.
    fn append(&mut self, record: &LogRecord) -> Result<(), String> {
        let mut line = String::new();
        record
            .encode(&mut line)
            .map_err(|_| format!("cannot log {record:?}"))?;
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.sync_data())
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))
    }

    /// The session is settled and reported: nothing is left to recover.
    fn finish(self) -> Result<(), String> {
        std::fs::remove_file(&self.path)
            .map_err(|e| format!("cannot remove {}: {e}", self.path.display()))
    }
}

/// Where a resumed session picks up.
struct Resume {
    /// Events replayed from the log.
    replayed: usize,
    /// The last logged reading's instant: the simulated clock continues from it.
    at: DateTime<Utc>,
    /// The last logged reading's energy register: the restarted meter continues from it.
    meter_wh: Option<u64>,
    /// The instant the killed run was stopping at, if it got that far.
    stop_at: Option<DateTime<Utc>>,
}

/// The accepted part of a decision: its progress and the stop reason, if any.
fn accepted(decision: &Decision) -> Option<(Progress, Option<StopReason>)> {
    match decision {
        Decision::Continue(p) | Decision::LowBalance(p) => Some((*p, None)),
        Decision::Stop { reason, progress } => Some((*progress, Some(*reason))),
        _ => None,
    }
}

fn row(session: &Session<'_>, at: DateTime<Utc>, energy_wh: u64, cost: u64, balance: i128) -> Row {
    Row {
        at,
        energy_wh,
        cost_minor: cost,
        balance_minor: balance,
        period: session
            .current_period()
            .map_or_else(|| "-".to_owned(), ToString::to_string),
    }
}

/// Recovers the session a killed run left: `Session::recover` — the hold found again by
/// its id, every logged event replayed, a capture the kill cut off issued once — done
/// step by step (`start`, then `on_event` per event, as `recover` does) so each replayed
/// decision redraws its report row.
fn resume_session<'t, P: LedgerPort>(
    ledger: &mut P,
    tariff: &'t Tariff,
    log: &SessionLog,
    rows: &mut Vec<Row>,
) -> Result<(Session<'t>, Resume), String> {
    let last = log.last_reading();
    let now = last.map_or(log.config.start, |r| r.at);
    let mut session = Session::start(ledger, tariff, log.config, now)
        .map_err(|e| format!("cannot resume the session: {e}"))?;
    // Replayed captures are repeats: the wallet already shows them all. Its balance at
    // each reading was the balance before the session less what had been captured.
    let found = session.progress();
    let balance_before = found.balance.saturating_add(i128::from(found.captured));
    for event in &log.events {
        let decision = session
            .on_event(ledger, event, now)
            .map_err(|e| format!("replaying {event:?}: {e}"))?;
        let reading = match event {
            MeterEvent::Reading(r) | MeterEvent::Swap { new_initial: r, .. } => r,
        };
        if let Some((progress, _)) = accepted(&decision) {
            let balance = balance_before.saturating_sub(i128::from(progress.captured));
            rows.push(row(
                &session,
                reading.at,
                reading.total_wh,
                progress.cost,
                balance,
            ));
        }
    }
    let resume = Resume {
        replayed: log.events.len(),
        at: now,
        meter_wh: last.map(|r| r.total_wh),
        stop_at: log.stop,
    };
    Ok((session, resume))
}

/// Opens and tops up the demo user's wallet, and configures a new session on all of it.
fn new_session<P: LedgerPort>(
    ledger: &mut P,
    args: &DemoArgs,
    start: DateTime<Utc>,
    user: Id,
) -> Result<SessionConfig, String> {
    let scale = ledger.scale();
    let balance = scale
        .parse(&args.balance)
        .map_err(|e| format!("bad --balance {:?}: {e}", args.balance))?;
    // Ids carry the run's start so a reused --journal keeps earlier runs apart.
    let run = Utc::now().timestamp_millis() % 100_000_000;
    let named = |prefix: &str| Id::name(&format!("{prefix}{run}")).map_err(|e| e.to_string());
    let now = ms(start - TimeDelta::minutes(5));
    let needs_open = ledger.account(user).is_none();
    let mut apply = |op: &Op| -> Result<(), String> {
        ledger
            .apply(op, now)
            .map_err(|e| format!("ledger: {e}"))?
            .result
            .map(|_| ())
            .map_err(|e| format!("ledger: {e}"))
    };
    if needs_open {
        apply(&Op::Open {
            id: Id::name("demo-open").map_err(|e| e.to_string())?,
            account: user,
            floor: 0,
            credit_line: 0,
            low_credit: 500,
        })?;
    }
    apply(&Op::TopUp {
        id: named("topup-")?,
        account: user,
        amount: balance,
    })?;
    let available = ledger.account(user).map_or(0, |a| a.balance());
    let max_amount = u64::try_from(available).unwrap_or(0);
    Ok(SessionConfig::new(
        named("sess-")?,
        user,
        start,
        max_amount,
        start + TimeDelta::hours(i64::from(args.hours)) + HOLD_MARGIN,
    )
    .with_low_balance(max_amount / 10))
}

#[allow(clippy::too_many_lines)]
async fn demo(args: &DemoArgs) -> Result<(), String> {
    let (tariff, tariff_id) = load_tariff(args.tariff.as_deref())?;
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
    // Declared before the ledger and the meter, so dropped after them, on every return.
    let work_dir = WorkDir(work);
    let work = work_dir.0.as_path();
    let journal = args
        .journal
        .clone()
        .unwrap_or_else(|| work.join("ledger.journal"));

    // The ledger (its lock also guards the session log beside it), then either the
    // session a killed run left unfinished, or a new one on a topped-up wallet.
    let scale = Scale::default();
    let (ledger, file, _) = FileJournal::open_or_create(&journal, scale)
        .map_err(|e| format!("{}: {e}", journal.display()))?;
    let mut ledger = Durable::new(ledger, file);
    let log_path = session_log_path(&journal);
    let mut rows: Vec<Row> = Vec::new();
    let (mut session, mut log, resume) = if let Some(unfinished) = read_session_log(&log_path)? {
        if unfinished.tariff != tariff_id {
            return Err(format!(
                "{}: the unfinished session in it is priced with another tariff \
                 (fingerprint {:08x}, this one {tariff_id:08x}); give the same --tariff to resume it",
                log_path.display(),
                unfinished.tariff
            ));
        }
        let log = SessionLogFile::reopen(&log_path, unfinished.valid_len)?;
        let (session, resume) = resume_session(&mut ledger, &tariff, &unfinished, &mut rows)?;
        (session, log, Some(resume))
    } else {
        let user = Id::name("demo-user").map_err(|e| e.to_string())?;
        let config = new_session(&mut ledger, args, start, user)?;
        let start_record = LogRecord::Start {
            config,
            tariff: tariff_id,
        };
        let log = SessionLogFile::create(&log_path, &start_record)?;
        let session = Session::start(&mut ledger, &tariff, config, start)
            .map_err(|e| format!("cannot start the session: {e}"))?;
        (session, log, None)
    };
    let config = *session.config();
    let user = config.wallet;
    let end = config.expires - HOLD_MARGIN;
    // A restarted meter keeps its register, and simulated time goes on from the last
    // reading: the time the process was down never happened for the car.
    let (clock_start, meter_wh) = match &resume {
        Some(r) => (r.at, r.meter_wh.unwrap_or(START_WH)),
        None => (config.start, START_WH),
    };

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
            Simulator::Modbus(AdvancingModbus::new(meter_wh, power_w)),
            Meter::Modbus(ModbusClient::new(Link::new(serial), config)),
        )
    } else {
        let address: Address = METER.parse().map_err(|e| format!("{e}"))?;
        let profile = EnergyProfile {
            start_wh: meter_wh,
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
    let from = match &resume {
        Some(_) => format!("{} (resumed)", local_time(tariff.zone(), clock_start)),
        None => args.start.clone(),
    };
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
        from,
        args.speed,
        journal.display()
    );
    if let Some(r) = &resume {
        let progress = session.progress();
        println!(
            "  Resumed unfinished session {} from {}: {} readings replayed, the last at {} \
             (register {}.{:03} kWh); cost so far {} {}, captured {}.",
            config.session,
            log_path.display(),
            r.replayed,
            local_time(tariff.zone(), r.at),
            meter_wh / 1000,
            meter_wh % 1000,
            scale.display(i128::from(progress.cost)),
            tariff.currency().code(),
            scale.display(i128::from(progress.captured)),
        );
    }

    let mut last = clock_start;
    let minutes = (end - clock_start).num_minutes().max(0);
    // A carriage-return progress line only makes sense on a terminal; elsewhere, a plain
    // line every simulated quarter hour.
    let terminal = std::io::stderr().is_terminal();
    let stopping = resume.as_ref().is_some_and(|r| r.stop_at.is_some())
        || matches!(session.decision(), Decision::Stop { .. });
    let origin = Instant::now();
    let charge = async {
        for minute in 0..=minutes {
            if stopping {
                break;
            }
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
            let at = clock_start
                + TimeDelta::milliseconds(i64::try_from(simulated_ms).unwrap_or(i64::MAX / 2));
            if at > end {
                break;
            }
            let reading = Reading::new(at, wh);
            // Logged before it is priced and captured: a kill after the capture replays it
            // as a repeat, a kill before it issues the capture once on recovery.
            log.append(&LogRecord::Event(MeterEvent::Reading(reading)))?;
            let decision = session
                .on_reading(&mut ledger, &reading, at)
                .map_err(|e| format!("pricing the reading at {at}: {e}"))?;
            last = at;
            let Some((progress, stop)) = accepted(&decision) else {
                eprintln!("meterkit: reading at {at} rejected: {decision:?}");
                continue;
            };
            let row = row(&session, at, wh, progress.cost, progress.balance);
            if !args.no_progress {
                let line = format!(
                    "  {}  {:>3}.{:03} kWh  cost {:>8}  balance {:>8}  {:<7}",
                    local_time(tariff.zone(), at),
                    progress.energy_wh / 1000,
                    progress.energy_wh % 1000,
                    scale.display(i128::from(progress.cost)),
                    scale.display(progress.balance),
                    row.period
                );
                if terminal {
                    eprint!("\r{line}");
                } else if rows.len().is_multiple_of(PLAIN_PROGRESS_EVERY) {
                    println!("{line}");
                }
            }
            rows.push(row);
            if stop.is_some() {
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
    if terminal && !args.no_progress && !stopping {
        eprintln!();
    }
    let real = origin.elapsed();
    let stop_reason = match session.decision() {
        Decision::Stop { reason, .. } => Some(reason),
        _ => None,
    };
    // Logged before the settle: a kill during it stops again at the same instant, and
    // the ledger answers the repeated settle with the first one's result.
    let stop_at = if let Some(at) = resume.as_ref().and_then(|r| r.stop_at) {
        at
    } else {
        log.append(&LogRecord::Stop { at: last })?;
        last
    };
    let receipt = session
        .stop(&mut ledger, stop_at)
        .map_err(|e| format!("settling the session: {e}"))?;

    match stop_reason {
        Some(reason) => println!(
            "\nCharge stopped at {} local time: {reason:?} (relay opened).",
            local_time(tariff.zone(), stop_at)
        ),
        None => println!(
            "\nCharge ended after {} simulated hours.",
            (end - config.start).num_hours()
        ),
    }
    let replayed = resume.as_ref().map_or(0, |r| r.replayed);
    println!(
        "Simulated {} minutes in {:.1} s of real time{}.\n",
        rows.len().saturating_sub(1),
        real.as_secs_f64(),
        if replayed > 0 {
            format!(" (the first {replayed} readings replayed from the log)")
        } else {
            String::new()
        }
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
    // Without --journal the journal lives in a temporary directory removed at exit.
    if args.journal.is_some() {
        println!(
            "\nStatement of demo-user (`meterkit ledger --journal {} statement demo-user` lists every capture):",
            journal.display()
        );
    } else {
        println!(
            "\nStatement of demo-user (run with --journal FILE to keep the ledger and list every capture):"
        );
    }
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
    // A kill between this append and the log's removal must not report the session twice.
    if !already_reported(&journal, &receipt.session.to_string())? {
        report_cmd::append(&journal, &receipt_line(&receipt, &meter, &tariff)?)?;
    }
    log.finish()?;
    println!(
        "\nReports in {}: bill.json, bill.csv, readings.csv, report.html",
        args.out.display()
    );
    Ok(())
}

/// Whether the journal's receipts already hold `session`.
fn already_reported(journal: &Path, session: &str) -> Result<bool, String> {
    let path = report_cmd::receipts_path(journal);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    Ok(text.lines().any(|line| {
        serde_json::from_str::<ReceiptLine>(line).is_ok_and(|receipt| receipt.session == session)
    }))
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
