//! A simulated DL/T 645 meter (and a bus of them) for tests, demos and `meterkit sim`.
//!
//! [`SimMeter::handle`] is sans-IO: a request frame and the time since the simulation
//! started in, a reply frame out. [`SimBus`] adds several meters and switchable
//! [`Faults`]; [`serve`] and [`serve_tcp`] put a bus on any byte stream.
//!
//! The meter answers reads from a table of data identifier → value bytes, splitting
//! long values over subsequent frames; reads its address; checks the password on
//! writes and relay commands; takes broadcast time; acknowledges freezes and baud
//! changes; and refuses unknown items (ERR bit 1, "no requested data") and wrong
//! passwords (ERR bit 2). With an [`EnergyProfile`] its energy registers advance with
//! the time passed in, counted into tariff-rate registers by the meter's own
//! [`PeriodTable`] read on its own [`MeterClock`] (which may be skewed); the date and
//! time items (04000101, 04000102) answer from that clock, and writing them (with the
//! password) or a broadcast time sets it.
//!
//! Several meters on one [`SimBus`] all hear every request; when more than one answers
//! (a wildcard address), their replies collide on the wire: the line carries the
//! byte-wise OR of the frames, which almost never passes the checksum.

use std::{collections::BTreeMap, io, time::Duration};

use chrono::{Datelike, NaiveDateTime};
use dlt645::{
    Address, Di, Direction, FrameRepr,
    message::{Password, ReadSelector, Reply, Request},
    stream::{Decoded, Decoder},
    value::{self, DateWeekday, Number, Value},
};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    time::Instant,
};

pub use crate::metering::{MeterClock, Metering, PeriodError, PeriodTable, Rate, RateRegisters};

/// ERR bit 0: other error.
pub const ERR_OTHER: u8 = 0x01;
/// ERR bit 1: no requested data (1997: wrong data identifier).
pub const ERR_NO_DATA: u8 = 0x02;
/// ERR bit 2: wrong password or unauthorised (1997: wrong password).
pub const ERR_UNAUTHORIZED: u8 = 0x04;

/// Data bytes one reply frame may carry (the standard's read limit).
const FRAME_DATA: usize = 200;

/// Forward active energy, total (XXXXXX.XX kWh).
const DI_IMPORT_TOTAL: u32 = 0x0001_0000;
/// Forward active energy, total and tariffs 1..=4 as a block.
const DI_IMPORT_BLOCK: u32 = 0x0001_FF00;
/// Forward active energy, tariff 1 (tariffs 2..=4 follow at steps of 0x100).
const DI_IMPORT_RATE_1: u32 = 0x0001_0100;
/// Active power, total (XX.XXXX kW, signed).
const DI_POWER_TOTAL: u32 = 0x0203_0000;
/// Date and weekday (YYMMDDWW).
const DI_DATE: u32 = 0x0400_0101;
/// Time (hhmmss).
const DI_TIME: u32 = 0x0400_0102;

/// Constant power drawn by the simulated load; energy accumulates from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnergyProfile {
    /// Forward active energy at time zero, in Wh.
    pub start_wh: u64,
    /// Power, in W.
    pub power_w: u64,
}

impl EnergyProfile {
    /// Energy in Wh after `elapsed`, rounded down to the whole Wh
    /// (`start + power × milliseconds / 3 600 000`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use meterkit_transport::sim::EnergyProfile;
    /// let p = EnergyProfile { start_wh: 1_000, power_w: 7_200 };
    /// // 7200 W for 30 s = 7200 × 30 / 3600 Wh = 60 Wh.
    /// assert_eq!(p.energy_wh(Duration::from_secs(30)), 1_060);
    /// ```
    pub fn energy_wh(&self, elapsed: Duration) -> u64 {
        let added = u128::from(self.power_w).saturating_mul(elapsed.as_millis()) / 3_600_000;
        self.start_wh
            .saturating_add(u64::try_from(added).unwrap_or(u64::MAX))
    }
}

/// One simulated meter.
#[derive(Debug, Clone)]
pub struct SimMeter {
    address: Address,
    password: Password,
    registers: BTreeMap<Di, Vec<u8>>,
    metering: Option<Metering>,
    periods: PeriodTable,
    meter_clock: MeterClock,
    clock: Option<NaiveDateTime>,
    /// 1997 subsequent-frame requests carry no sequence number: the frame the meter
    /// sends next, per item.
    next_1997: Option<(Di, u8)>,
}

impl SimMeter {
    /// A meter at `address` with an empty table and password `02000000`.
    pub fn new(address: Address) -> Self {
        SimMeter {
            address,
            password: Password {
                level: 2,
                code: [0; 3],
            },
            registers: BTreeMap::new(),
            metering: None,
            periods: PeriodTable::default(),
            meter_clock: MeterClock::default(),
            clock: None,
            next_1997: None,
        }
    }

    /// The meter's address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// Sets the password writes and relay commands must carry.
    #[must_use]
    pub fn with_password(mut self, password: Password) -> Self {
        self.password = password;
        self
    }

    /// Stores raw value bytes (wire order, 0x33 removed) for `di`.
    #[must_use]
    pub fn with_register(mut self, di: Di, bytes: &[u8]) -> Self {
        self.registers.insert(di, bytes.to_vec());
        self
    }

    /// Stores a typed value for `di`, encoded by the catalogue.
    ///
    /// # Errors
    ///
    /// What [`dlt645::value::encode`] returns for a value that does not fit the item.
    pub fn with_value(mut self, di: Di, value: &Value) -> Result<Self, value::ValueError> {
        let bytes = encode(di, value)?;
        self.registers.insert(di, bytes);
        Ok(self)
    }

    /// Lets forward active energy (total 00010000, tariffs 00010100..=00010400 and the
    /// block 0001FF00) and active power (02030000) follow `profile`, the energy counted
    /// into the rate the meter's [`PeriodTable`] gives at each moment of its clock
    /// ([`Metering`]). They take precedence over the table.
    #[must_use]
    pub fn with_energy(mut self, profile: EnergyProfile) -> Self {
        self.metering = Some(Metering::new(profile).with_periods(self.periods.clone()));
        self
    }

    /// Sets the meter's daily period table (default: [`PeriodTable::default`]).
    #[must_use]
    pub fn with_periods(mut self, periods: PeriodTable) -> Self {
        self.metering = self.metering.map(|m| m.with_periods(periods.clone()));
        self.periods = periods;
        self
    }

    /// Sets the meter's clock: the true time at simulated time zero and the skew
    /// (default: 2026-01-01 00:00:00, no skew). The period table and the date and
    /// time items (04000101, 04000102) read this clock.
    #[must_use]
    pub fn with_clock(mut self, clock: MeterClock) -> Self {
        self.meter_clock = clock;
        self
    }

    /// The time last set by broadcast, if any.
    pub fn clock(&self) -> Option<NaiveDateTime> {
        self.clock
    }

    /// The meter's clock reading `elapsed` after the simulation started.
    pub fn meter_time(&self, elapsed: Duration) -> NaiveDateTime {
        self.meter_clock.at(elapsed)
    }

    /// Sets the meter's clock to `time` at `elapsed`; energy counted so far stays in
    /// the rates of the old clock.
    fn set_meter_time(&mut self, elapsed: Duration, time: NaiveDateTime) {
        if let Some(metering) = &mut self.metering {
            metering.settle(&self.meter_clock, elapsed);
        }
        self.meter_clock.set(elapsed, time);
    }

    /// The energy registers `elapsed` after the start, if the meter follows an
    /// [`EnergyProfile`].
    pub fn rate_registers(&self, elapsed: Duration) -> Option<RateRegisters> {
        let metering = self.metering.as_ref()?;
        Some(metering.registers(&self.meter_clock, elapsed))
    }

    /// The value bytes of `di` at `elapsed`, if the meter has the item.
    pub fn register(&self, di: Di, elapsed: Duration) -> Option<Vec<u8>> {
        let Di::V2007(code) = di else {
            return self.registers.get(&di).cloned();
        };
        let now = self.meter_time(elapsed);
        let clock_value = match code {
            DI_DATE => Some(Value::DateWeekday(DateWeekday {
                date: now.date(),
                weekday: now.weekday(),
            })),
            DI_TIME => Some(Value::Time(now.time())),
            _ => None,
        };
        let energy_value = self.metering.as_ref().and_then(|metering| {
            let registers = metering.registers(&self.meter_clock, elapsed);
            // One register unit is 0.01 kWh: scale 2.
            let kwh = |units| Number::new(units, 2, false);
            let rate = |r: usize| registers.rates.get(r).copied().map(kwh);
            match code {
                DI_IMPORT_TOTAL => Some(Value::Number(kwh(registers.total()))),
                DI_IMPORT_BLOCK => Some(Value::Numbers(
                    core::iter::once(registers.total())
                        .chain(registers.rates)
                        .map(kwh)
                        .collect(),
                )),
                c if (DI_IMPORT_RATE_1..=DI_IMPORT_RATE_1 + 0x300).contains(&c)
                    && (c - DI_IMPORT_RATE_1).is_multiple_of(0x100) =>
                {
                    usize::try_from((c - DI_IMPORT_RATE_1) >> 8)
                        .ok()
                        .and_then(rate)
                        .map(Value::Number)
                }
                // W → kW with 4 decimals: W × 10 at scale 4.
                DI_POWER_TOTAL => Some(Value::Number(Number::new(
                    metering.profile().power_w.saturating_mul(10),
                    4,
                    false,
                ))),
                _ => None,
            }
        });
        if let Some(bytes) = clock_value
            .or(energy_value)
            .and_then(|v| encode(di, &v).ok())
        {
            return Some(bytes);
        }
        self.registers.get(&di).cloned()
    }

    /// Answers one request frame, `elapsed` after the simulation started. `None` when
    /// a meter stays silent: the frame is a reply, addressed to another meter, a
    /// broadcast, or malformed.
    pub fn handle(&mut self, frame: &FrameRepr, elapsed: Duration) -> Option<FrameRepr> {
        if frame.control.direction() != Direction::Request {
            return None;
        }
        let request = Request::parse(frame).ok()?;
        if frame.address.is_broadcast() {
            if let Request::BroadcastTime { time } = request {
                self.set_meter_time(elapsed, time);
                self.clock = Some(time);
            }
            return None;
        }
        if !frame.address.matches(&self.address) {
            return None;
        }
        // Counting up to now keeps each request's work to the periods since the last.
        if let Some(metering) = &mut self.metering {
            metering.settle(&self.meter_clock, elapsed);
        }
        let reply = self.answer(&request, elapsed);
        reply.to_frame(self.address).ok()
    }

    fn answer(&mut self, request: &Request, elapsed: Duration) -> Reply {
        let refuse = |bits| Reply::refuse(request, bits);
        match request {
            Request::ReadAddress => Reply::ReadAddress {
                address: self.address,
            },
            Request::Read {
                di,
                selector: ReadSelector::Current,
            } => match self.register(*di, elapsed) {
                Some(bytes) => {
                    let (part, more) = chunk(&bytes, 0);
                    self.next_1997 = more.then_some((*di, 1));
                    Reply::Read {
                        di: *di,
                        data: part,
                        more,
                    }
                }
                None => refuse(ERR_NO_DATA),
            },
            Request::ReadSubsequent { di, seq: asked } => {
                let wanted = match (*asked, self.next_1997) {
                    (Some(seq), _) => Some(seq),
                    (None, Some((pending, seq))) if pending == *di => Some(seq),
                    (None, _) => None,
                };
                match (wanted, self.register(*di, elapsed)) {
                    (Some(seq), Some(bytes)) if seq > 0 && chunk_start(&bytes, seq).is_some() => {
                        let (part, more) = chunk(&bytes, seq);
                        self.next_1997 = more.then(|| (*di, seq.saturating_add(1)));
                        Reply::ReadSubsequent {
                            di: *di,
                            data: part,
                            seq: *asked,
                            more,
                        }
                    }
                    _ => refuse(ERR_NO_DATA),
                }
            }
            Request::Write {
                di, password, data, ..
            } => {
                if *password != self.password {
                    return refuse(ERR_UNAUTHORIZED);
                }
                if matches!(di, Di::V2007(DI_DATE | DI_TIME)) {
                    // Setting the date or the time moves the meter's clock.
                    let now = self.meter_time(elapsed);
                    let set = match value::decode(*di, data) {
                        Ok(Value::DateWeekday(d)) => Some(d.date.and_time(now.time())),
                        Ok(Value::Time(t)) => Some(now.date().and_time(t)),
                        _ => None,
                    };
                    let Some(set) = set else {
                        return refuse(ERR_OTHER);
                    };
                    self.set_meter_time(elapsed, set);
                } else {
                    self.registers.insert(*di, data.to_vec());
                }
                Reply::WriteAck {
                    edition: di.edition(),
                }
            }
            Request::RelayControl { password, .. } => {
                if *password == self.password {
                    Reply::RelayControlAck
                } else {
                    refuse(ERR_UNAUTHORIZED)
                }
            }
            Request::Freeze { .. } => Reply::FreezeAck,
            Request::ChangeBaud { edition, rate } => Reply::ChangeBaud {
                edition: *edition,
                rate: *rate,
            },
            _ => refuse(ERR_OTHER),
        }
    }
}

fn encode(di: Di, value: &Value) -> Result<Vec<u8>, value::ValueError> {
    let mut buf = [0u8; 1024];
    let n = value::encode(di, value, &mut buf)?;
    Ok(buf.get(..n).unwrap_or_default().to_vec())
}

/// Value bytes frame 0 carries (after the 4-byte DI), and frames 1.. (DI and SEQ).
const FIRST_CHUNK: usize = FRAME_DATA - 4;
const NEXT_CHUNK: usize = FRAME_DATA - 5;

/// Where frame `seq` of a long value starts, `None` past the end.
fn chunk_start(bytes: &[u8], seq: u8) -> Option<usize> {
    let start = match seq {
        0 => 0,
        n => FIRST_CHUNK + usize::from(n - 1) * NEXT_CHUNK,
    };
    (seq == 0 || start < bytes.len()).then_some(start)
}

/// Frame `seq`'s slice of a long value and whether more frames follow.
fn chunk(bytes: &[u8], seq: u8) -> (dlt645::frame::Payload, bool) {
    let start = chunk_start(bytes, seq).unwrap_or(bytes.len());
    let len = if seq == 0 { FIRST_CHUNK } else { NEXT_CHUNK };
    let end = start.saturating_add(len).min(bytes.len());
    let part = bytes.get(start..end).unwrap_or_default();
    (
        dlt645::frame::Payload::from_slice(part).unwrap_or_default(),
        end < bytes.len(),
    )
}

/// Misbehaviour a [`SimBus`] can put on the line, each switchable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[allow(clippy::struct_excessive_bools)] // independent switches, not a state machine
pub struct Faults {
    /// Send every request back first, as a two-wire transceiver with its receiver on
    /// does.
    pub echo: bool,
    /// Put line noise (including a false 0x68 start) before every reply.
    pub garbage_before_reply: bool,
    /// Before the real reply, send the same reply from a meter with another address.
    pub foreign_reply_first: bool,
    /// Stay silent for this many requests that would get a reply.
    pub drop_replies: u32,
    /// Break the checksum of this many replies.
    pub corrupt_replies: u32,
    /// Wait this long before replying.
    pub reply_delay: Duration,
    /// Write replies a few bytes at a time.
    pub split_writes: bool,
    /// 0xFE bytes before each reply.
    pub reply_preamble: usize,
}

impl Default for Faults {
    /// No faults; replies carry two wake-up bytes.
    fn default() -> Self {
        Faults {
            echo: false,
            garbage_before_reply: false,
            foreign_reply_first: false,
            drop_replies: 0,
            corrupt_replies: 0,
            reply_delay: Duration::ZERO,
            split_writes: false,
            reply_preamble: 2,
        }
    }
}

/// Line noise with a 0x68 that starts no frame.
const GARBAGE: [u8; 5] = [0x00, 0x68, 0x12, 0xFF, 0x16];

/// Several simulated meters on one line, with [`Faults`].
#[derive(Debug, Clone, Default)]
pub struct SimBus {
    /// The meters; each sees every frame.
    pub meters: Vec<SimMeter>,
    /// Fault injection.
    pub faults: Faults,
}

impl SimBus {
    /// A bus with these meters and no faults.
    pub fn new(meters: Vec<SimMeter>) -> Self {
        SimBus {
            meters,
            faults: Faults::default(),
        }
    }

    /// The bytes the line carries in answer to one frame (`raw`, its bytes from the
    /// first 0x68): echo, noise and replies, as the faults say. When several meters
    /// answer, their replies collide: see [`collide`].
    pub fn respond(&mut self, raw: &[u8], frame: &FrameRepr, elapsed: Duration) -> Vec<u8> {
        let mut out = Vec::new();
        if self.faults.echo {
            out.extend_from_slice(raw);
        }
        let replies: Vec<FrameRepr> = self
            .meters
            .iter_mut()
            .filter_map(|m| m.handle(frame, elapsed))
            .collect();
        let Some(first) = replies.first() else {
            return out;
        };
        if self.faults.drop_replies > 0 {
            self.faults.drop_replies -= 1;
            return out;
        }
        if self.faults.garbage_before_reply {
            out.extend_from_slice(&GARBAGE);
        }
        if self.faults.foreign_reply_first {
            let mut wire = first.address.to_wire();
            wire[0] ^= 0x01;
            let foreign = FrameRepr {
                address: Address::from_wire(wire),
                ..first.clone()
            };
            out.extend_from_slice(&self.emit(&foreign));
        }
        let wires: Vec<Vec<u8>> = replies.iter().map(|r| self.emit(r)).collect();
        let start = out.len();
        out.extend_from_slice(&collide(&wires));
        if self.faults.corrupt_replies > 0 && out.len() >= start + 2 {
            self.faults.corrupt_replies -= 1;
            // The checksum is the byte before the final 0x16.
            if let Some(cs) = out.len().checked_sub(2).and_then(|i| out.get_mut(i)) {
                *cs = cs.wrapping_add(1);
            }
        }
        out
    }

    fn emit(&self, frame: &FrameRepr) -> Vec<u8> {
        let mut buf = vec![0u8; self.faults.reply_preamble + frame.buffer_len()];
        match frame.emit(self.faults.reply_preamble, &mut buf) {
            Ok(n) => buf.truncate(n),
            Err(_) => buf.clear(),
        }
        buf
    }
}

/// What the line carries when several devices send `frames` at once: the byte-wise
/// OR of them, aligned at their first byte (as if each bit were 1 whenever any driver
/// sent a 1; real collisions are messier). One frame passes unchanged. The OR of
/// different frames keeps their common start and end bytes but almost never their
/// checksum, so a receiver sees a frame that does not check out, as on a real bus.
///
/// ```
/// use meterkit_transport::sim::collide;
/// assert_eq!(collide(&[vec![0x68, 0x01, 0x16], vec![0x68, 0x02]]), [0x68, 0x03, 0x16]);
/// ```
pub fn collide(frames: &[Vec<u8>]) -> Vec<u8> {
    let len = frames.iter().map(Vec::len).max().unwrap_or(0);
    let mut line = vec![0u8; len];
    for frame in frames {
        for (on_line, byte) in line.iter_mut().zip(frame) {
            *on_line |= byte;
        }
    }
    line
}

/// What a simulated line does with the bytes at the start of its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Drop `count` bytes (a request, or garbage) and put `reply` on the line (may be
    /// empty).
    Consumed {
        /// Bytes of input used.
        count: usize,
        /// Bytes to send back.
        reply: Vec<u8>,
    },
    /// The input is the start of a request: wait for more.
    NeedMore,
}

/// A simulated bus that [`serve`] can put on a stream: the DL/T 645 [`SimBus`] or the
/// Modbus [`crate::modbus_sim::ModbusSimBus`].
pub trait Simulated {
    /// Handles the start of `input`, `elapsed` after serving began.
    fn step(&mut self, input: &[u8], elapsed: Duration) -> Step;

    /// The faults switched on (delay and split writes are applied by [`serve`]).
    fn faults(&self) -> &Faults;
}

impl Simulated for SimBus {
    fn step(&mut self, input: &[u8], elapsed: Duration) -> Step {
        match Decoder::new().decode(input) {
            Decoded::Frame {
                frame, consumed, ..
            } => Step::Consumed {
                count: consumed,
                reply: self.respond(frame.as_bytes(), &FrameRepr::parse(&frame), elapsed),
            },
            Decoded::Skip { count, .. } => Step::Consumed {
                count,
                reply: Vec::new(),
            },
            Decoded::NeedMore { .. } => Step::NeedMore,
        }
    }

    fn faults(&self) -> &Faults {
        &self.faults
    }
}

/// DL/T 645 meters and Modbus RTU slaves on one line, as where both kinds share an
/// RS-485 pair. Each request goes to the protocol whose decoder finds a frame at the
/// start of the input; bytes neither can use are skipped. The DL/T 645 bus's faults
/// apply to both.
#[derive(Debug, Clone)]
pub struct MixedBus {
    /// The DL/T 645 meters.
    pub dlt645: SimBus,
    /// The Modbus slaves (RTU framing).
    pub modbus: crate::modbus_sim::ModbusSimBus,
}

impl Simulated for MixedBus {
    fn step(&mut self, input: &[u8], elapsed: Duration) -> Step {
        use meterkit_modbus::{Decoded as ModbusDecoded, Direction as ModbusDirection, rtu};
        let dlt = Decoder::new().decode(input);
        let modbus = rtu::Decoder::new(ModbusDirection::Request).decode(input);
        match (dlt, modbus) {
            (Decoded::Frame { .. }, _) => self.dlt645.step(input, elapsed),
            (_, ModbusDecoded::Frame { .. }) => {
                self.modbus.faults = self.dlt645.faults;
                let step = self.modbus.step(input, elapsed);
                // Counted faults (dropped, corrupt replies) are spent on either side.
                self.dlt645.faults.drop_replies = self.modbus.faults.drop_replies;
                self.dlt645.faults.corrupt_replies = self.modbus.faults.corrupt_replies;
                step
            }
            (Decoded::NeedMore { .. }, _) | (_, ModbusDecoded::NeedMore { .. }) => Step::NeedMore,
            (Decoded::Skip { count: a, .. }, ModbusDecoded::Skip { count: b, .. }) => {
                Step::Consumed {
                    count: a.min(b).max(1),
                    reply: Vec::new(),
                }
            }
        }
    }

    fn faults(&self) -> &Faults {
        &self.dlt645.faults
    }
}

/// Serves a simulated bus on `io` until the peer closes it: every request is
/// answered as the meters and faults say. Simulated time (energy) runs on tokio's
/// clock from the call.
///
/// # Errors
///
/// Read and write errors of `io`.
pub async fn serve<Io, S>(io: &mut Io, bus: &mut S) -> io::Result<()>
where
    Io: AsyncRead + AsyncWrite + Unpin,
    S: Simulated,
{
    let started = Instant::now();
    let mut rx: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 512];
    loop {
        let n = io.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        rx.extend_from_slice(chunk.get(..n).unwrap_or_default());
        while let Step::Consumed { count, reply } = bus.step(&rx, started.elapsed()) {
            rx.drain(..count.min(rx.len()));
            if reply.is_empty() {
                continue;
            }
            let faults = *bus.faults();
            if !faults.reply_delay.is_zero() {
                tokio::time::sleep(faults.reply_delay).await;
            }
            let piece = if faults.split_writes { 3 } else { reply.len() };
            for part in reply.chunks(piece) {
                io.write_all(part).await?;
                io.flush().await?;
                if faults.split_writes {
                    tokio::task::yield_now().await;
                }
            }
        }
    }
}

/// Serves `bus` to TCP clients of `listener`, one connection at a time (like a
/// serial-to-Ethernet gateway with one master), until accepting fails.
///
/// # Errors
///
/// The error that stopped `accept`.
pub async fn serve_tcp<S: Simulated>(
    listener: tokio::net::TcpListener,
    bus: &mut S,
) -> io::Result<()> {
    loop {
        let (mut stream, _) = listener.accept().await?;
        // A connection that fails ends; the next one is served.
        let _ = serve(&mut stream, bus).await;
    }
}

/// A pseudo-terminal for a simulator, reachable at a path of the caller's choosing
/// (a symlink to the `/dev/pts/N` device), so a client opens it like a real port.
/// Serve it with [`serve`] on [`stream`](Pty::stream); dropping it removes the link.
#[cfg(unix)]
#[derive(Debug)]
pub struct Pty {
    master: tokio_serial::SerialStream,
    // Held open so the master never sees a hang-up between clients.
    _slave: tokio_serial::SerialStream,
    device: String,
    link: std::path::PathBuf,
}

#[cfg(unix)]
impl Pty {
    /// Creates a pseudo-terminal pair and a symlink at `link` to its device. An
    /// existing symlink at `link` is replaced; any other file there is an error.
    ///
    /// # Errors
    ///
    /// The operating system's error creating the pair or the link.
    pub fn create(link: impl Into<std::path::PathBuf>) -> io::Result<Pty> {
        use tokio_serial::SerialPort as _;
        let link = link.into();
        let (master, slave) = tokio_serial::SerialStream::pair().map_err(io::Error::from)?;
        let device = slave
            .name()
            .ok_or_else(|| io::Error::other("pseudo-terminal without a device name"))?;
        if std::fs::symlink_metadata(&link).is_ok_and(|m| m.file_type().is_symlink()) {
            std::fs::remove_file(&link)?;
        }
        std::os::unix::fs::symlink(&device, &link)?;
        Ok(Pty {
            master,
            _slave: slave,
            device,
            link,
        })
    }

    /// The device path, e.g. `/dev/pts/3`.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// The symlink path.
    pub fn link(&self) -> &std::path::Path {
        &self.link
    }

    /// The simulator's end.
    pub fn stream(&mut self) -> &mut tokio_serial::SerialStream {
        &mut self.master
    }
}

#[cfg(unix)]
impl Drop for Pty {
    fn drop(&mut self) {
        // Best effort: the link may already be gone.
        let _ = std::fs::remove_file(&self.link);
    }
}

/// A small table of the usual items, for demos: energy, voltages, currents,
/// frequency and power factor of a 230 V meter.
///
/// # Errors
///
/// Only if the catalogue lacks one of these items (it does not).
pub fn demo_meter(address: Address, profile: EnergyProfile) -> Result<SimMeter, value::ValueError> {
    let number = |m, s| Value::Number(Number::new(m, s, false));
    let block = |m: u64, s| Value::Numbers([Number::new(m, s, false); 3].into_iter().collect());
    SimMeter::new(address)
        .with_energy(profile)
        .with_value(Di::V2007(0x0201_0100), &number(2302, 1))?
        .with_value(Di::V2007(0x0201_FF00), &block(2302, 1))?
        .with_value(Di::V2007(0x0202_0100), &number(10_500, 3))?
        .with_value(Di::V2007(0x0206_0000), &number(998, 3))?
        .with_value(Di::V2007(0x0280_0002), &number(5001, 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_split_into_frames() {
        let bytes: Vec<u8> = (0..=255u8).collect();
        // 256 bytes: frame 0 carries 196, frame 1 the remaining 60.
        let (first, more) = chunk(&bytes, 0);
        assert_eq!((first.len(), more), (196, true));
        assert_eq!(first.first(), Some(&0));
        let (second, more) = chunk(&bytes, 1);
        assert_eq!((second.len(), more), (60, false));
        assert_eq!(second.first(), Some(&196));
        assert_eq!(chunk_start(&bytes, 2), None);
        // A short value fits frame 0 alone, and so does an empty one.
        assert!(!chunk(&bytes[..10], 0).1);
        assert_eq!(chunk(&[], 0).0.len(), 0);
    }

    proptest::proptest! {
        #[test]
        fn chunks_reassemble_within_the_frame_limit(len in 0usize..1500) {
            let bytes: Vec<u8> = (0..len).map(|i| i.to_le_bytes()[0]).collect();
            let mut joined = Vec::new();
            let mut seq = 0u8;
            loop {
                let (part, more) = chunk(&bytes, seq);
                // DI (4) + data (+ SEQ (1) after the first frame) fits 200 bytes.
                proptest::prop_assert!(4 + part.len() + usize::from(seq > 0) <= FRAME_DATA);
                joined.extend_from_slice(&part);
                if !more {
                    break;
                }
                seq += 1;
            }
            proptest::prop_assert_eq!(joined, bytes);
        }
    }

    #[test]
    fn energy_registers_follow_the_profile() {
        let meter = SimMeter::new(Address::WILDCARD).with_energy(EnergyProfile {
            start_wh: 1_234_560,
            power_w: 11_000,
        });
        let di = Di::V2007(DI_IMPORT_TOTAL);
        // 1 234 560 Wh = 1234.56 kWh → BCD 56 34 12 00 low byte first.
        assert_eq!(
            meter.register(di, Duration::ZERO),
            Some(vec![0x56, 0x34, 0x12, 0x00])
        );
        // 11 kW for 6 minutes = 1100 Wh → 1 235 660 Wh = 1235.66 kWh.
        assert_eq!(
            meter.register(di, Duration::from_secs(360)),
            Some(vec![0x66, 0x35, 0x12, 0x00])
        );
        // 11 000 W = 11.0000 kW → XX.XXXX BCD 00 00 11 (sign clear).
        assert_eq!(
            meter.register(Di::V2007(DI_POWER_TOTAL), Duration::ZERO),
            Some(vec![0x00, 0x00, 0x11])
        );
    }
}
