//! The session log: what [`Session::recover`](crate::Session::recover) needs after a crash,
//! as one checksummed text line per record. Sans-IO: records encode into any
//! [`fmt::Write`] and decode from bytes; the caller appends and syncs the file.

use core::fmt;

use chrono::{DateTime, Utc};
use meterkit_ledger::{Id, crc32c};
use meterkit_tariff::{
    Attribution, ChargeState, MAX_RATES, PricingPolicy, Reading, RoundingMode, RoundingPoint,
    VersionSelection,
};

use crate::{MeterEvent, SessionConfig};

/// Longest line [`LogRecord::encode`] writes, newline included (a swap with every rate
/// register on both readings stays well below it).
pub const MAX_LINE_LEN: usize = 1_024;
/// `" *"`, eight hex digits and the newline.
const TRAILER_LEN: usize = 11;

/// One record of a session log.
///
/// The writer's protocol: [`Start`](LogRecord::Start) before [`Session::start`](crate::Session::start),
/// each [`Event`](LogRecord::Event) before it is fed to the session, [`Stop`](LogRecord::Stop)
/// before [`Session::stop`](crate::Session::stop); each line appended and synced before the
/// session acts on it.
// A swap carries two readings; records are built one at a time, like `MeterEvent`s.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogRecord {
    /// The session's configuration.
    Start {
        /// As given to [`Session::start`](crate::Session::start).
        config: SessionConfig,
        /// The identity of the tariff the session is priced with, chosen by the caller (the
        /// `meterkit` command uses the CRC-32C of the tariff file), so a recovery with another
        /// tariff can be refused.
        tariff: u32,
    },
    /// A meter reading or swap.
    Event(MeterEvent),
    /// The instant the session is stopped at: a recovery stops again at the same instant,
    /// so a repeated settle answers with the first one's result.
    Stop {
        /// As given to [`Session::stop`](crate::Session::stop).
        at: DateTime<Utc>,
    },
}

/// Why one line of a session log is not a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineError {
    /// The line is not UTF-8.
    #[error("not UTF-8 text")]
    NotUtf8,
    /// The line does not end with ` *` and eight hex digits.
    #[error("no checksum at the end")]
    MissingChecksum,
    /// The checksum does not match the line.
    #[error("checksum {actual:08x} of the text does not match the line's {expected:08x}")]
    Checksum {
        /// The checksum written on the line.
        expected: u32,
        /// The CRC-32C of the text before it.
        actual: u32,
    },
    /// The first word is not `start`, `reading`, `swap` or `stop`.
    #[error("unknown record kind")]
    UnknownRecord,
    /// A field is missing, out of place or malformed.
    #[error("field `{field}` is missing or malformed")]
    Field {
        /// The field's name.
        field: &'static str,
    },
    /// Text after the record's last field.
    #[error("unexpected text after the record")]
    TrailingText,
}

impl LineError {
    /// Damage a crash in the middle of an append can leave on the last line.
    fn is_torn_write(self) -> bool {
        matches!(
            self,
            LineError::NotUtf8 | LineError::MissingChecksum | LineError::Checksum { .. }
        )
    }
}

/// Why a session log cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// A line before the last is not a record (the log was damaged, not torn by a crash).
    #[error("session log line {line}: {error}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        error: LineError,
    },
    /// A record where it cannot be: anything before the start record, a second start,
    /// anything after the stop.
    #[error("session log line {line}: a {record} record cannot come here")]
    Misplaced {
        /// 1-based line number.
        line: usize,
        /// `"start"`, `"reading"`, `"swap"` or `"stop"`.
        record: &'static str,
    },
}

const ROUNDING_MODES: [(RoundingMode, &str); 3] = [
    (RoundingMode::HalfUp, "half_up"),
    (RoundingMode::HalfEven, "half_even"),
    (RoundingMode::Down, "down"),
];
const ROUNDING_POINTS: [(RoundingPoint, &str); 3] = [
    (RoundingPoint::PerLine, "per_line"),
    (RoundingPoint::PerFee, "per_fee"),
    (RoundingPoint::PerTotal, "per_total"),
];
const ATTRIBUTIONS: [(Attribution, &str); 2] = [
    (Attribution::Linear, "linear"),
    (Attribution::RateRegisters, "rate_registers"),
];
const VERSION_SELECTIONS: [(VersionSelection, &str); 2] = [
    (VersionSelection::AtSessionStart, "at_session_start"),
    (VersionSelection::PerInstant, "per_instant"),
];
const CHARGE_STATES: [(ChargeState, &str); 2] = [
    (ChargeState::Charging, "charging"),
    (ChargeState::Idle, "idle"),
];

/// The name of `value` in `table`; a variant this version does not know cannot be logged.
fn name_of<T: PartialEq>(
    table: &[(T, &'static str)],
    value: &T,
) -> Result<&'static str, fmt::Error> {
    table
        .iter()
        .find(|(v, _)| v == value)
        .map(|(_, name)| *name)
        .ok_or(fmt::Error)
}

fn value_of<T: Copy>(
    table: &[(T, &'static str)],
    name: &str,
    field: &'static str,
) -> Result<T, LineError> {
    table
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(v, _)| *v)
        .ok_or(LineError::Field { field })
}

impl LogRecord {
    /// Writes the record as one line, `\n` included: the record's fields, then ` *` and the
    /// CRC-32C of the text before it in eight lowercase hex digits.
    ///
    /// # Errors
    /// When `out` fails, or the record holds a policy variant this version cannot name.
    pub fn encode<W: fmt::Write>(&self, out: &mut W) -> fmt::Result {
        let mut body = heapless::String::<{ MAX_LINE_LEN - TRAILER_LEN }>::new();
        self.encode_body(&mut body)?;
        let crc = crc32c(body.as_bytes());
        out.write_str(&body)?;
        writeln!(out, " *{crc:08x}")
    }

    fn encode_body(&self, out: &mut impl fmt::Write) -> fmt::Result {
        match self {
            LogRecord::Start { config, tariff } => {
                let policy = &config.policy;
                write!(
                    out,
                    "start session={:032x} wallet={:032x} start=",
                    config.session.raw(),
                    config.wallet.raw()
                )?;
                write_instant(out, config.start)?;
                write!(out, " max={} expires=", config.max_amount)?;
                write_instant(out, config.expires)?;
                write!(
                    out,
                    " low={} rounding={}/{} attribution={} versions={} modulus=",
                    config.low_balance,
                    name_of(&ROUNDING_MODES, &policy.rounding.mode)?,
                    name_of(&ROUNDING_POINTS, &policy.rounding.point)?,
                    name_of(&ATTRIBUTIONS, &policy.attribution)?,
                    name_of(&VERSION_SELECTIONS, &policy.version_selection)?,
                )?;
                match policy.register_modulus_wh {
                    Some(modulus) => write!(out, "{modulus}")?,
                    None => out.write_str("none")?,
                }
                write!(out, " tariff={tariff:08x}")
            }
            LogRecord::Event(MeterEvent::Reading(reading)) => {
                out.write_str("reading ")?;
                write_reading(out, reading)
            }
            LogRecord::Event(MeterEvent::Swap {
                old_final,
                new_initial,
            }) => {
                out.write_str("swap ")?;
                write_reading(out, old_final)?;
                out.write_str(" -> ")?;
                write_reading(out, new_initial)
            }
            LogRecord::Stop { at } => {
                out.write_str("stop at=")?;
                write_instant(out, *at)
            }
        }
    }

    /// Reads one line, without its `\n`.
    ///
    /// # Errors
    /// The [`LineError`] saying what is wrong.
    pub fn decode(line: &[u8]) -> Result<LogRecord, LineError> {
        let line = core::str::from_utf8(line).map_err(|_| LineError::NotUtf8)?;
        let (body, crc) = line.rsplit_once(" *").ok_or(LineError::MissingChecksum)?;
        if crc.len() != 8 || !crc.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(LineError::MissingChecksum);
        }
        let expected = u32::from_str_radix(crc, 16).map_err(|_| LineError::MissingChecksum)?;
        let actual = crc32c(body.as_bytes());
        if expected != actual {
            return Err(LineError::Checksum { expected, actual });
        }
        let mut fields = Fields(body.split(' ').peekable());
        let record = match fields.0.next() {
            Some("start") => decode_start(&mut fields)?,
            Some("reading") => LogRecord::Event(MeterEvent::Reading(fields.reading()?)),
            Some("swap") => {
                let old_final = fields.reading()?;
                if fields.0.next() != Some("->") {
                    return Err(LineError::Field { field: "->" });
                }
                let new_initial = fields.reading()?;
                LogRecord::Event(MeterEvent::Swap {
                    old_final,
                    new_initial,
                })
            }
            Some("stop") => LogRecord::Stop {
                at: fields.instant("at")?,
            },
            _ => return Err(LineError::UnknownRecord),
        };
        if fields.0.next().is_some() {
            return Err(LineError::TrailingText);
        }
        Ok(record)
    }

    fn kind(&self) -> &'static str {
        match self {
            LogRecord::Start { .. } => "start",
            LogRecord::Event(MeterEvent::Reading(_)) => "reading",
            LogRecord::Event(MeterEvent::Swap { .. }) => "swap",
            LogRecord::Stop { .. } => "stop",
        }
    }
}

fn decode_start(fields: &mut Fields<'_>) -> Result<LogRecord, LineError> {
    let session = fields.id("session")?;
    let wallet = fields.id("wallet")?;
    let start = fields.instant("start")?;
    let max_amount = fields.unsigned("max")?;
    let expires = fields.instant("expires")?;
    let low_balance = fields.unsigned("low")?;
    let (mode, point) = fields
        .value("rounding")?
        .split_once('/')
        .ok_or(LineError::Field { field: "rounding" })?;
    let mut policy = PricingPolicy::default()
        .with_rounding(
            value_of(&ROUNDING_MODES, mode, "rounding")?,
            value_of(&ROUNDING_POINTS, point, "rounding")?,
        )
        .with_attribution(value_of(
            &ATTRIBUTIONS,
            fields.value("attribution")?,
            "attribution",
        )?)
        .with_version_selection(value_of(
            &VERSION_SELECTIONS,
            fields.value("versions")?,
            "versions",
        )?);
    let modulus = fields.value("modulus")?;
    if modulus != "none" {
        policy = policy.with_register_modulus_wh(
            parse_unsigned(modulus).ok_or(LineError::Field { field: "modulus" })?,
        );
    }
    let tariff = fields.value("tariff")?;
    let tariff = (tariff.len() == 8)
        .then(|| u32::from_str_radix(tariff, 16).ok())
        .flatten()
        .ok_or(LineError::Field { field: "tariff" })?;
    let config = SessionConfig::new(session, wallet, start, max_amount, expires)
        .with_low_balance(low_balance)
        .with_policy(policy);
    Ok(LogRecord::Start { config, tariff })
}

/// `<seconds since 1970>` or `<seconds>.<nine digits of nanoseconds>`: exact, so a replayed
/// reading prices exactly as the first time.
fn write_instant(out: &mut impl fmt::Write, at: DateTime<Utc>) -> fmt::Result {
    match at.timestamp_subsec_nanos() {
        0 => write!(out, "{}", at.timestamp()),
        nanos => write!(out, "{}.{nanos:09}", at.timestamp()),
    }
}

fn write_reading(out: &mut impl fmt::Write, reading: &Reading) -> fmt::Result {
    out.write_str("at=")?;
    write_instant(out, reading.at)?;
    write!(out, " wh={}", reading.total_wh)?;
    for (rate, wh) in (1u8..).zip(reading.rates) {
        if let Some(wh) = wh {
            write!(out, " r{rate}={wh}")?;
        }
    }
    if let Some(state) = reading.state {
        write!(out, " state={}", name_of(&CHARGE_STATES, &state)?)?;
    }
    Ok(())
}

/// Digits only: no sign, no spaces, so every value has one spelling.
fn parse_unsigned(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The space-separated `key=value` fields of a line, in their fixed order.
struct Fields<'a>(core::iter::Peekable<core::str::Split<'a, char>>);

impl<'a> Fields<'a> {
    fn value(&mut self, field: &'static str) -> Result<&'a str, LineError> {
        self.0
            .next()
            .and_then(|token| token.strip_prefix(field))
            .and_then(|rest| rest.strip_prefix('='))
            .ok_or(LineError::Field { field })
    }

    fn unsigned(&mut self, field: &'static str) -> Result<u64, LineError> {
        parse_unsigned(self.value(field)?).ok_or(LineError::Field { field })
    }

    fn id(&mut self, field: &'static str) -> Result<Id, LineError> {
        let text = self.value(field)?;
        if text.len() != 32 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(LineError::Field { field });
        }
        u128::from_str_radix(text, 16)
            .map(Id::from_raw)
            .map_err(|_| LineError::Field { field })
    }

    fn instant(&mut self, field: &'static str) -> Result<DateTime<Utc>, LineError> {
        let bad = LineError::Field { field };
        let text = self.value(field)?;
        let (seconds, nanos) = match text.split_once('.') {
            // Nine digits; ten for a leap second's 1_000_000_000 and above.
            Some((seconds, nanos)) if matches!(nanos.len(), 9 | 10) => {
                (seconds, parse_unsigned(nanos).ok_or(bad)?)
            }
            Some(_) => return Err(bad),
            None => (text, 0),
        };
        let magnitude = seconds.strip_prefix('-').unwrap_or(seconds);
        let magnitude = i64::try_from(parse_unsigned(magnitude).ok_or(bad)?).map_err(|_| bad)?;
        let seconds = if seconds.starts_with('-') {
            -magnitude
        } else {
            magnitude
        };
        let nanos = u32::try_from(nanos).map_err(|_| bad)?;
        DateTime::from_timestamp(seconds, nanos).ok_or(bad)
    }

    fn reading(&mut self) -> Result<Reading, LineError> {
        let at = self.instant("at")?;
        let mut reading = Reading::new(at, self.unsigned("wh")?);
        let mut next_rate = 1u8;
        while let Some(token) = self.0.peek() {
            let Some((key, value)) = token.split_once('=') else {
                break;
            };
            let Some(rate) = key.strip_prefix('r') else {
                break;
            };
            let field = "rate register";
            let rate = parse_unsigned(rate)
                .and_then(|r| u8::try_from(r).ok())
                .ok_or(LineError::Field { field })?;
            // Ascending and within range, as `encode` writes them.
            if rate < next_rate || usize::from(rate) > MAX_RATES {
                return Err(LineError::Field { field });
            }
            let wh = parse_unsigned(value).ok_or(LineError::Field { field })?;
            reading = reading
                .with_rate(rate, wh)
                .map_err(|_| LineError::Field { field })?;
            next_rate = rate.saturating_add(1);
            self.0.next();
        }
        if self.0.peek().is_some_and(|t| t.starts_with("state=")) {
            let state = self.value("state")?;
            reading = reading.with_state(value_of(&CHARGE_STATES, state, "state")?);
        }
        Ok(reading)
    }
}

/// Reads a session log's records in order, checking their order (one start first, a stop
/// only last).
///
/// **Torn last line.** Each record is appended as one write and synced before the session
/// acts on it, so a crash can only damage the last line: one without its `\n`, or whose
/// text or checksum is cut short. Such a line is a record that was never acted on; the
/// reader ends before it, [`torn`](Self::torn) says so, and
/// [`valid_len`](Self::valid_len) is where the writer must truncate the file before
/// appending again. Any other damaged line is a [`LogError`].
#[derive(Debug, Clone)]
pub struct LogReader<'a> {
    bytes: &'a [u8],
    valid_len: usize,
    line: usize,
    next: Expect,
    end: Option<End>,
}

/// Which records may come next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Start,
    EventOrStop,
    Nothing,
}

/// Why reading ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Clean,
    Torn,
    Failed,
}

impl<'a> LogReader<'a> {
    /// A reader over the whole content of a log.
    pub fn new(bytes: &'a [u8]) -> Self {
        LogReader {
            bytes,
            valid_len: 0,
            line: 0,
            next: Expect::Start,
            end: None,
        }
    }

    /// Length of the records read so far, `\n` included.
    pub fn valid_len(&self) -> usize {
        self.valid_len
    }

    /// Whether the reader stopped at a torn last line.
    pub fn torn(&self) -> bool {
        self.end == Some(End::Torn)
    }

    fn read(&mut self) -> Result<Option<LogRecord>, LogError> {
        let rest = self.bytes.get(self.valid_len..).unwrap_or_default();
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            self.end = Some(if rest.is_empty() {
                End::Clean
            } else {
                End::Torn
            });
            return Ok(None);
        };
        self.line += 1;
        let line = self.line;
        let record = match LogRecord::decode(rest.get(..end).unwrap_or_default()) {
            Ok(record) => record,
            Err(error) if end + 1 == rest.len() && error.is_torn_write() => {
                self.end = Some(End::Torn);
                return Ok(None);
            }
            Err(error) => return Err(LogError::Line { line, error }),
        };
        self.next = match (self.next, record) {
            (Expect::Start, LogRecord::Start { .. })
            | (Expect::EventOrStop, LogRecord::Event(_)) => Expect::EventOrStop,
            (Expect::EventOrStop, LogRecord::Stop { .. }) => Expect::Nothing,
            _ => {
                let record = record.kind();
                return Err(LogError::Misplaced { line, record });
            }
        };
        self.valid_len += end + 1;
        Ok(Some(record))
    }
}

impl Iterator for LogReader<'_> {
    type Item = Result<LogRecord, LogError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.end.is_some() {
            return None;
        }
        let read = self.read();
        if read.is_err() {
            self.end = Some(End::Failed);
        }
        read.transpose()
    }
}

/// A whole session log, read for recovery.
#[cfg(feature = "alloc")]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionLog {
    /// The session's configuration.
    pub config: SessionConfig,
    /// The tariff identity written with it.
    pub tariff: u32,
    /// The meter events, in order: give them to [`Session::recover`](crate::Session::recover).
    pub events: alloc::vec::Vec<MeterEvent>,
    /// The instant the session was being stopped at, when the crash came during the stop.
    pub stop: Option<DateTime<Utc>>,
    /// Length of the valid records; truncate the file here before appending.
    pub valid_len: usize,
    /// Whether a torn last line was left out.
    pub torn: bool,
}

#[cfg(feature = "alloc")]
impl SessionLog {
    /// Reads a log's content. `Ok(None)` when it holds no complete record: the crash came
    /// before the start record was written, so no session was started.
    ///
    /// # Errors
    /// [`LogError`] for a damaged line other than a torn last one, or records out of order.
    pub fn parse(bytes: &[u8]) -> Result<Option<SessionLog>, LogError> {
        let mut reader = LogReader::new(bytes);
        let mut log: Option<SessionLog> = None;
        for record in reader.by_ref() {
            match (record?, &mut log) {
                (LogRecord::Start { config, tariff }, None) => {
                    log = Some(SessionLog {
                        config,
                        tariff,
                        events: alloc::vec::Vec::new(),
                        stop: None,
                        valid_len: 0,
                        torn: false,
                    });
                }
                (LogRecord::Event(event), Some(log)) => log.events.push(event),
                (LogRecord::Stop { at }, Some(log)) => log.stop = Some(at),
                // The reader has checked the order.
                _ => {}
            }
        }
        Ok(log.map(|log| SessionLog {
            valid_len: reader.valid_len(),
            torn: reader.torn(),
            ..log
        }))
    }

    /// The meter's last logged reading (a swap's new first reading), where a restarted
    /// session continues from.
    pub fn last_reading(&self) -> Option<&Reading> {
        self.events.last().map(|event| match event {
            MeterEvent::Reading(reading) => reading,
            MeterEvent::Swap { new_initial, .. } => new_initial,
        })
    }
}

#[cfg(test)]
mod tests {
    use core::fmt::Write as _;

    use super::{LineError, LogRecord};
    use crate::MeterEvent;
    use chrono::DateTime;
    use meterkit_ledger::crc32c;
    use meterkit_tariff::Reading;

    #[test]
    fn a_reading_line_spelled_out() {
        let at = DateTime::from_timestamp(1_752_535_800, 0).unwrap_or_default();
        let record = LogRecord::Event(MeterEvent::Reading(Reading::new(at, 1_206_420)));
        let mut line = heapless::String::<128>::new();
        assert!(record.encode(&mut line).is_ok());
        let body = "reading at=1752535800 wh=1206420";
        let mut expected = heapless::String::<128>::new();
        assert!(writeln!(expected, "{body} *{:08x}", crc32c(body.as_bytes())).is_ok());
        assert_eq!(line, expected);
        let without_newline = line.as_bytes().split_last().map(|(_, l)| l);
        assert_eq!(without_newline.map(LogRecord::decode), Some(Ok(record)));
        // One changed digit under the same checksum: caught.
        let crc = crc32c(body.as_bytes());
        let mut damaged = heapless::String::<128>::new();
        assert!(write!(damaged, "reading at=1752535800 wh=1206421 *{crc:08x}").is_ok());
        assert_eq!(
            LogRecord::decode(damaged.as_bytes()),
            Err(LineError::Checksum {
                expected: crc,
                actual: crc32c(b"reading at=1752535800 wh=1206421"),
            })
        );
    }
}
