//! Exact decoding and encoding of data-item values.
//!
//! [`decode`] turns the value bytes of a reply — the data field after the DI, already
//! minus 0x33, in wire order — into a typed [`Value`], driven by the
//! [catalogue](crate::catalogue); [`encode`] is the reverse for writes and for a
//! simulator's replies. `decode(di, &bytes)` followed by `encode` gives back the same
//! bytes for every value a meter can send.
//!
//! # Formats
//!
//! - Numbers are packed BCD, low byte first, with the decimal point fixed by the
//!   format (XXXXXX.XX kWh, XXX.X V, XX.XXXX kW …). They decode to [`Number`], an exact
//!   decimal: magnitude, scale and sign, never a float.
//! - **Sign rule (spec §3.2):** for signed items (combined energies, current, power,
//!   power factor, demands, temperature) bit 7 of the most significant byte — the last
//!   byte on the wire — is the sign. A set sign bit on zero is kept and prints as
//!   `-0.00`, because that is what the meter sent.
//! - Dates and times (YYMMDDWW, hhmmss, YYMMDDhhmm, YYMMDDhhmmss) are BCD fields, low
//!   byte first (`WW DD MM YY` on the wire), decoded to chrono types with years
//!   2000..=2099. An all-zero date-time is what meters report for an event that never
//!   happened and decodes to `None`.
//! - Digit strings (addresses, meter numbers, passwords) are BCD, most significant
//!   digit last on the wire, and decode to the digits as printed on the nameplate.
//! - ASCII text is decoded **in wire order, as given**: the spec does not say that
//!   text is reversed, though some meters send it last character first; trailing NUL
//!   padding is removed and put back by [`encode`].
//! - Status words are binary little-endian, not BCD.
//! - TOU tables are lists of 3-byte entries, entry 1 first, each entry low byte first
//!   (`NN DD MM` for a time zone, `NN mm hh` for a day period).
//! - Blocks (DI byte FF in 2007, a trailing F nibble in 1997, and multi-item DIs such
//!   as 03010000) are items of one format concatenated in order; the item count is the
//!   length divided by the item size.
//!
//! Identifiers outside the catalogue decode to [`Value::Raw`].
//!
//! No value is ever guessed: a wrong length, a non-BCD nibble or an impossible date is
//! an error naming the byte, never a garbage value.
//!
//! Every item has a fixed width, checked once against the catalogue before any byte is
//! read, so decoding is slicing plus the BCD table; this layer does not need nom (a
//! combinator would only add an error path that can never fire).
//!
//! # Example
//!
//! ```
//! use dlt645::{Di, value::{self, Value}};
//!
//! // Forward active total energy, value bytes as received minus 0x33: 1206.42 kWh.
//! let value = value::decode(Di::V2007(0x0001_0000), &[0x42, 0x06, 0x12, 0x00])?;
//! let Value::Number(energy) = value else { panic!("an energy register is a number") };
//! assert_eq!(energy.to_string(), "1206.42");
//! assert_eq!((energy.mantissa(), energy.scale()), (120_642, 2));
//! // As integer watt-hours: scale 3 (kWh with 3 decimals = Wh).
//! assert_eq!(energy.rescaled_mantissa(3), Some(1_206_420));
//!
//! // And back, for a simulator's reply.
//! let mut out = [0u8; 4];
//! let len = value::encode(Di::V2007(0x0001_0000), &value, &mut out)?;
//! assert_eq!(&out[..len], &[0x42, 0x06, 0x12, 0x00]);
//! # Ok::<(), dlt645::value::ValueError>(())
//! ```

use core::fmt;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Weekday};
use heapless::{String, Vec};
use thiserror::Error;

use crate::bcd::{self, BcdError};
use crate::catalogue::{DiInfo, Format, MAX_DEMANDS, MAX_NUMBERS, MAX_TOU_ENTRIES, lookup};
use crate::di::Di;

/// Most digits a [`Value::Digits`] string holds (8 bytes).
pub const MAX_DIGITS: usize = 16;
/// Most characters a [`Value::Text`] holds.
pub const MAX_TEXT: usize = 32;
/// Most words a [`Value::StatusWords`] block holds.
pub const MAX_STATUS_WORDS: usize = 8;
/// Most records a [`Value::EventTotals`] block holds.
pub const MAX_EVENT_TOTALS: usize = 8;
/// Most bytes a [`Value::Raw`] holds: a whole data field.
pub const MAX_RAW: usize = 255;

/// An exact decimal number as a meter register holds it: `magnitude × 10^-scale`,
/// negative when the sign bit was set.
///
/// The sign is a flag, not folded into the magnitude, so that a meter's "negative
/// zero" survives decoding and prints as `-0.00`. `Display` prints exactly `scale`
/// decimals: `1206.42`, `-0.123`, `239.4`, `100`.
///
/// Equality is structural: `1.0` (scale 1) and `1.00` (scale 2) differ, as do `0.00`
/// and `-0.00`; compare [`rescaled_mantissa`](Number::rescaled_mantissa) for numeric
/// equality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub struct Number {
    magnitude: u64,
    scale: u8,
    negative: bool,
}

impl Number {
    /// A number `magnitude × 10^-scale`, negative when `negative`.
    ///
    /// ```
    /// let n = dlt645::value::Number::new(123, 3, true);
    /// assert_eq!(n.to_string(), "-0.123");
    /// ```
    pub const fn new(magnitude: u64, scale: u8, negative: bool) -> Self {
        Number {
            magnitude,
            scale,
            negative,
        }
    }

    /// The digits without sign or decimal point.
    pub const fn magnitude(self) -> u64 {
        self.magnitude
    }

    /// Digits after the decimal point.
    pub const fn scale(self) -> u8 {
        self.scale
    }

    /// Whether the sign bit was set (also for a zero magnitude).
    pub const fn is_negative(self) -> bool {
        self.negative
    }

    /// The signed digits: the value is `mantissa × 10^-scale`. Negative zero gives 0.
    pub const fn mantissa(self) -> i128 {
        // A u64 always fits an i128.
        let m = self.magnitude as i128;
        if self.negative { -m } else { m }
    }

    /// The mantissa at another scale, exactly: `None` when digits would be lost
    /// (scaling down a number whose dropped digits are not zero) or on overflow.
    ///
    /// ```
    /// use dlt645::value::Number;
    /// let kwh = Number::new(120_642, 2, false); // 1206.42 kWh
    /// assert_eq!(kwh.rescaled_mantissa(3), Some(1_206_420)); // Wh
    /// assert_eq!(kwh.rescaled_mantissa(1), None); // 1206.4 would drop a 2
    /// ```
    pub fn rescaled_mantissa(self, scale: u8) -> Option<i128> {
        let mantissa = self.mantissa();
        if scale >= self.scale {
            let factor = 10i128.checked_pow(u32::from(scale - self.scale))?;
            mantissa.checked_mul(factor)
        } else {
            let factor = 10i128.checked_pow(u32::from(self.scale - scale))?;
            (mantissa % factor == 0).then_some(mantissa / factor)
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negative {
            f.write_str("-")?;
        }
        let width = usize::from(self.scale);
        if width == 0 {
            return write!(f, "{}", self.magnitude);
        }
        match 10u64.checked_pow(u32::from(self.scale)) {
            Some(unit) => write!(
                f,
                "{}.{:0width$}",
                self.magnitude / unit,
                self.magnitude % unit
            ),
            // More decimals than a u64 has digits: the integer part is 0.
            None => write!(f, "0.{:0width$}", self.magnitude),
        }
    }
}

#[cfg(feature = "serde-1")]
impl serde::Serialize for Number {
    /// Serialises as the decimal string `Display` prints (the JSON contract).
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A maximum demand and when it occurred.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub struct Demand {
    /// The demand (kW, kvar or kVA per the catalogue).
    pub value: Number,
    /// When it occurred; `None` when the meter sent an all-zero time (no demand
    /// recorded since the last clear).
    pub time: Option<NaiveDateTime>,
}

/// A calendar date with the weekday the meter keeps beside it (YYMMDDWW).
///
/// The weekday is the meter's own register and is kept as sent, even when it
/// disagrees with the date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub struct DateWeekday {
    /// The date, years 2000..=2099.
    pub date: NaiveDate,
    /// The weekday register (00 = Sunday on the wire).
    pub weekday: Weekday,
}

/// A settlement (billing) day: day of month and hour (DDhh).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub struct SettlementDay {
    /// Day of month, 1..=31.
    pub day: u8,
    /// Hour, 0..=23.
    pub hour: u8,
}

/// An event total: how many times it happened and for how long in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub struct EventTotal {
    /// Number of occurrences (XXXXXX).
    pub count: u32,
    /// Cumulative duration in minutes (XXXXXX).
    pub minutes: u32,
}

/// One entry of a time-zone (season) table: from this date on, use day table
/// `day_table`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub struct TimeZone {
    /// Start month, 1..=12.
    pub month: u8,
    /// Start day, valid for the month (29 February allowed).
    pub day: u8,
    /// Day-period table number, 1..=8.
    pub day_table: u8,
}

/// One entry of a day-period table: from `start` on, charge tariff `tariff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub struct DayPeriod {
    /// Start time (hour and minute; seconds are always 0).
    pub start: NaiveTime,
    /// Tariff number, 1..=63.
    pub tariff: u8,
}

/// A decoded data-item value. Which variant a DI gives is fixed by its catalogue
/// entry: a block DI always gives the block variant, even with one item.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
#[non_exhaustive]
pub enum Value {
    /// A single number (energy, voltage, power, count …).
    Number(Number),
    /// A block of numbers, in DI order (e.g. total then tariffs 1..n, or phases A..C).
    Numbers(Vec<Number, MAX_NUMBERS>),
    /// A maximum demand with its time.
    Demand(Demand),
    /// A block of maximum demands.
    Demands(Vec<Demand, MAX_DEMANDS>),
    /// YYMMDDWW.
    DateWeekday(DateWeekday),
    /// hhmmss.
    Time(NaiveTime),
    /// YYMMDDhhmm or YYMMDDhhmmss (the catalogue says which; seconds are 0 for the
    /// former). `None` for an all-zero field.
    DateTime(Option<NaiveDateTime>),
    /// BCD digits, most significant first as printed (address, meter number, password).
    Digits(String<MAX_DIGITS>),
    /// ASCII text in wire order, trailing NUL padding removed.
    Text(String<MAX_TEXT>),
    /// A status word or bit mask (binary).
    Bits(u16),
    /// A block of status words.
    StatusWords(Vec<u16, MAX_STATUS_WORDS>),
    /// A settlement day; `None` when the meter sends 99 99 (not set).
    SettlementDay(Option<SettlementDay>),
    /// Event totals, one per phase.
    EventTotals(Vec<EventTotal, MAX_EVENT_TOTALS>),
    /// A time-zone table.
    TimeZones(Vec<TimeZone, MAX_TOU_ENTRIES>),
    /// A day-period table.
    DayPeriods(Vec<DayPeriod, MAX_TOU_ENTRIES>),
    /// The bytes of a DI outside the catalogue, in wire order (minus 0x33).
    Raw(Vec<u8, MAX_RAW>),
}

impl Value {
    /// The numbers of a [`Value::Number`] (one) or [`Value::Numbers`] (all), for
    /// callers that print `value` / `values`; `None` for other kinds.
    pub fn numbers(&self) -> Option<&[Number]> {
        match self {
            Value::Number(n) => Some(core::slice::from_ref(n)),
            Value::Numbers(list) => Some(list),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    /// A one-line rendering for people: numbers as exact decimals, blocks separated by
    /// `, `, dates in ISO 8601, raw bytes as hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list<T>(
            f: &mut fmt::Formatter<'_>,
            items: &[T],
            mut each: impl FnMut(&mut fmt::Formatter<'_>, &T) -> fmt::Result,
        ) -> fmt::Result {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                each(f, item)?;
            }
            Ok(())
        }
        fn demand(f: &mut fmt::Formatter<'_>, d: &Demand) -> fmt::Result {
            match d.time {
                Some(t) => {
                    write!(f, "{} at {}T", d.value, t.date())?;
                    hh_mm(f, t.time())
                }
                None => write!(f, "{} (no time)", d.value),
            }
        }
        // chrono's `format` needs `alloc`; these print the same ISO 8601 fields.
        fn hh_mm(f: &mut fmt::Formatter<'_>, t: NaiveTime) -> fmt::Result {
            write!(f, "{:02}:{:02}", t.hour(), t.minute())
        }
        fn hh_mm_ss(f: &mut fmt::Formatter<'_>, t: NaiveTime) -> fmt::Result {
            hh_mm(f, t)?;
            write!(f, ":{:02}", t.second())
        }
        match self {
            Value::Number(n) => write!(f, "{n}"),
            Value::Numbers(list_) => list(f, list_, |f, n| write!(f, "{n}")),
            Value::Demand(d) => demand(f, d),
            Value::Demands(list_) => list(f, list_, demand),
            Value::DateWeekday(d) => write!(f, "{} ({})", d.date, d.weekday),
            Value::Time(t) => hh_mm_ss(f, *t),
            Value::DateTime(Some(t)) => {
                write!(f, "{}T", t.date())?;
                hh_mm_ss(f, t.time())
            }
            Value::DateTime(None) | Value::SettlementDay(None) => f.write_str("not set"),
            Value::Digits(s) => f.write_str(s),
            Value::Text(s) => write!(f, "{:?}", s.as_str()),
            Value::Bits(w) => write!(f, "{w:#06X}"),
            Value::StatusWords(list_) => list(f, list_, |f, w| write!(f, "{w:#06X}")),
            Value::SettlementDay(Some(s)) => write!(f, "day {} at {:02}:00", s.day, s.hour),
            Value::EventTotals(list_) => list(f, list_, |f, e| {
                write!(f, "{} times, {} min", e.count, e.minutes)
            }),
            Value::TimeZones(list_) => list(f, list_, |f, z| {
                write!(f, "{:02}-{:02} table {}", z.month, z.day, z.day_table)
            }),
            Value::DayPeriods(list_) => list(f, list_, |f, p| {
                hh_mm(f, p.start)?;
                write!(f, " tariff {}", p.tariff)
            }),
            Value::Raw(bytes) => {
                for b in bytes {
                    write!(f, "{b:02X}")?;
                }
                Ok(())
            }
        }
    }
}

/// Which field of a date, time or table entry was out of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
#[non_exhaustive]
pub enum Field {
    /// Year (00..=99, meaning 2000..=2099).
    Year,
    /// Month (1..=12).
    Month,
    /// Day of month (valid for the month).
    Day,
    /// Hour (0..=23).
    Hour,
    /// Minute (0..=59).
    Minute,
    /// Second (0..=59).
    Second,
    /// Weekday (0..=6, 0 = Sunday).
    Weekday,
    /// Day-period table number of a time zone (1..=8).
    DayTable,
    /// Tariff number of a day period (1..=63).
    Tariff,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Year => "year",
            Field::Month => "month",
            Field::Day => "day",
            Field::Hour => "hour",
            Field::Minute => "minute",
            Field::Second => "second",
            Field::Weekday => "weekday",
            Field::DayTable => "day-table number",
            Field::Tariff => "tariff number",
        })
    }
}

/// Why a value could not be decoded or encoded. Byte indexes count from the first
/// value byte (after the DI), in wire order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
#[non_exhaustive]
pub enum ValueError {
    /// A single-item value has the wrong length.
    #[error("value of {di} is {actual} bytes, expected {expected}")]
    Length {
        /// The data identifier.
        di: Di,
        /// The item's length.
        expected: usize,
        /// The length received.
        actual: usize,
    },
    /// A block is empty or not a whole number of items.
    #[error("block {di} is {actual} bytes, not a whole number of {item_len}-byte items")]
    BlockLength {
        /// The data identifier.
        di: Di,
        /// Bytes per item.
        item_len: usize,
        /// The length received.
        actual: usize,
    },
    /// A block holds more items than the DI allows.
    #[error("block {di} holds {actual} items, at most {max} allowed")]
    TooManyItems {
        /// The data identifier.
        di: Di,
        /// Most items allowed.
        max: usize,
        /// Items received or given.
        actual: usize,
    },
    /// A byte of a BCD field has a nibble above 9.
    #[error("value byte {index} is {byte:#04X}, not packed BCD")]
    NotBcd {
        /// Position of the byte in the value.
        index: usize,
        /// The byte.
        byte: u8,
    },
    /// A date, time or table field is out of range (`value` is its decimal value).
    #[error("invalid {field} {value} at value byte {index}")]
    InvalidField {
        /// Position of the byte in the value.
        index: usize,
        /// Which field.
        field: Field,
        /// The field's value.
        value: u8,
    },
    /// A text byte is not ASCII.
    #[error("value byte {index} is {byte:#04X}, not ASCII")]
    NotAscii {
        /// Position of the byte (in the value, or in the string being encoded).
        index: usize,
        /// The byte.
        byte: u8,
    },
    /// A digit string to encode holds something other than `0`..=`9`.
    #[error("character {index} of the digit string is not a decimal digit")]
    NotDigit {
        /// Position of the character.
        index: usize,
    },
    /// The value does not fit the field (too many digits, a year outside 2000..=2099,
    /// text too long, a sign bit collision).
    #[error("value does not fit the field of {di}")]
    Overflow {
        /// The data identifier.
        di: Di,
    },
    /// A negative number for an unsigned field.
    #[error("{di} is unsigned but the value is negative")]
    Negative {
        /// The data identifier.
        di: Di,
    },
    /// The value is finer than the field: more decimals than the format has, or
    /// seconds / sub-seconds in a field without them.
    #[error("value is finer than the field of {di} can hold")]
    Precision {
        /// The data identifier.
        di: Di,
    },
    /// The value's kind does not match the DI's format (e.g. a date for an energy
    /// register, a single number for a block).
    #[error("value kind does not match the format of {di}")]
    Mismatch {
        /// The data identifier.
        di: Di,
    },
    /// The DI is not in the catalogue, so only [`Value::Raw`] can be encoded for it.
    #[error("{di} is not in the catalogue; only raw bytes can be encoded for it")]
    UnknownDi {
        /// The data identifier.
        di: Di,
    },
    /// The output buffer is too small.
    #[error("output buffer holds {available} bytes, {needed} needed")]
    BufferTooSmall {
        /// Bytes the value needs.
        needed: usize,
        /// Size of the buffer given.
        available: usize,
    },
}

/// Decodes the value bytes of `di`: the data field after the DI, minus 0x33, in wire
/// order. DIs outside the catalogue give [`Value::Raw`].
///
/// ```
/// use dlt645::{Di, value::{decode, Value}};
/// // Voltage block A, B, C (XXX.X V each).
/// let v = decode(Di::V2007(0x0201_FF00), &[0x00, 0x00, 0x00, 0x00, 0x94, 0x23])?;
/// let texts: Vec<String> = v.numbers().unwrap().iter().map(ToString::to_string).collect();
/// assert_eq!(texts, ["0.0", "0.0", "239.4"]);
/// # Ok::<(), dlt645::value::ValueError>(())
/// ```
///
/// # Errors
///
/// [`ValueError::Length`], [`ValueError::BlockLength`] or
/// [`ValueError::TooManyItems`] when the length does not fit the DI;
/// [`ValueError::NotBcd`], [`ValueError::InvalidField`] or [`ValueError::NotAscii`]
/// naming the offending byte; [`ValueError::Overflow`] for raw data longer than 255
/// bytes.
pub fn decode(di: Di, data: &[u8]) -> Result<Value, ValueError> {
    match lookup(di) {
        Some(info) => decode_with(&info, data),
        None => Vec::from_slice(data)
            .map(Value::Raw)
            .map_err(|_| ValueError::Overflow { di }),
    }
}

/// Decodes value bytes for an already looked-up catalogue entry (saves the second
/// lookup when the caller also wants the name and unit).
///
/// # Errors
///
/// As [`decode`].
pub fn decode_with(info: &DiInfo, data: &[u8]) -> Result<Value, ValueError> {
    let di = info.di;
    let item_len = usize::from(info.item_len);
    if info.max_items <= 1 {
        if data.len() != item_len {
            return Err(ValueError::Length {
                di,
                expected: item_len,
                actual: data.len(),
            });
        }
        return decode_single(info, data);
    }
    let count = block_count(info, data.len())?;
    let items = data
        .chunks_exact(item_len)
        .enumerate()
        .map(|(i, item)| (i * item_len, item));
    match info.format {
        Format::Decimal {
            decimals, signed, ..
        } => collect(di, count, items, |base, item| {
            number(di, item, decimals, signed, base)
        })
        .map(Value::Numbers),
        Format::Demand {
            bytes,
            decimals,
            signed,
        } => collect(di, count, items, |base, item| {
            demand(di, item, bytes, decimals, signed, base)
        })
        .map(Value::Demands),
        Format::Bits { .. } => {
            collect(di, count, items, |_, item| Ok(bits(item))).map(Value::StatusWords)
        }
        Format::EventTotal => collect(di, count, items, |base, item| event_total(di, base, item))
            .map(Value::EventTotals),
        Format::TimeZone => collect(di, count, items, time_zone).map(Value::TimeZones),
        Format::DayPeriod => collect(di, count, items, day_period).map(Value::DayPeriods),
        // The catalogue has no blocks of these formats (a test checks it).
        _ => Err(ValueError::Mismatch { di }),
    }
}

/// Items in a block of `len` bytes, or why the length is wrong.
fn block_count(info: &DiInfo, len: usize) -> Result<usize, ValueError> {
    let item_len = usize::from(info.item_len);
    if len == 0 || item_len == 0 || !len.is_multiple_of(item_len) {
        return Err(ValueError::BlockLength {
            di: info.di,
            item_len,
            actual: len,
        });
    }
    let count = len / item_len;
    if count > usize::from(info.max_items) {
        return Err(ValueError::TooManyItems {
            di: info.di,
            max: usize::from(info.max_items),
            actual: count,
        });
    }
    Ok(count)
}

/// Decodes every item of a block into a fixed-capacity list.
fn collect<'a, T, const N: usize>(
    di: Di,
    count: usize,
    items: impl Iterator<Item = (usize, &'a [u8])>,
    mut decode_item: impl FnMut(usize, &'a [u8]) -> Result<T, ValueError>,
) -> Result<Vec<T, N>, ValueError> {
    let mut out = Vec::new();
    for (base, item) in items {
        out.push(decode_item(base, item)?)
            .map_err(|_| ValueError::TooManyItems {
                di,
                max: N,
                actual: count,
            })?;
    }
    Ok(out)
}

fn decode_single(info: &DiInfo, data: &[u8]) -> Result<Value, ValueError> {
    let di = info.di;
    Ok(match info.format {
        Format::Decimal {
            decimals, signed, ..
        } => Value::Number(number(di, data, decimals, signed, 0)?),
        Format::Demand {
            bytes,
            decimals,
            signed,
        } => Value::Demand(demand(di, data, bytes, decimals, signed, 0)?),
        Format::DateWeekday => Value::DateWeekday(date_weekday(data)?),
        Format::Time => Value::Time(time(data, 0)?),
        Format::DateTimeMinutes | Format::DateTimeSeconds => Value::DateTime(date_time(data, 0)?),
        Format::Digits { .. } => Value::Digits(digits(data)?),
        Format::Ascii { .. } => Value::Text(text(di, data)?),
        Format::Bits { .. } => Value::Bits(bits(data)),
        Format::SettlementDay => Value::SettlementDay(settlement_day(data)?),
        // Table formats are lists even when the catalogue allows one entry.
        Format::EventTotal => Value::EventTotals(one(di, event_total(di, 0, data)?)?),
        Format::TimeZone => Value::TimeZones(one(di, time_zone(0, data)?)?),
        Format::DayPeriod => Value::DayPeriods(one(di, day_period(0, data)?)?),
    })
}

fn one<T, const N: usize>(di: Di, item: T) -> Result<Vec<T, N>, ValueError> {
    let mut list = Vec::new();
    list.push(item).map_err(|_| ValueError::TooManyItems {
        di,
        max: N,
        actual: 1,
    })?;
    Ok(list)
}

/// Re-bases a BCD error on the value's first byte.
fn bcd_error(di: Di, error: BcdError, base: usize) -> ValueError {
    match error {
        BcdError::NotBcd { index, byte } => ValueError::NotBcd {
            index: base + index,
            byte,
        },
        // Only a field longer than a u64 holds: never a catalogued one (≤ 4 bytes).
        _ => ValueError::Overflow { di },
    }
}

// The hot path of every numeric read. Measured with callgrind on an energy reply:
// plain `#[inline]` leaves it out of line, and forcing it saves 26 of 245
// instructions per `decode`.
#[allow(clippy::inline_always)]
#[inline(always)]
fn number(
    di: Di,
    bytes: &[u8],
    decimals: u8,
    signed: bool,
    base: usize,
) -> Result<Number, ValueError> {
    let (magnitude, negative) = if signed {
        bcd::decode_signed(bytes)
    } else {
        bcd::decode(bytes).map(|m| (m, false))
    }
    .map_err(|e| bcd_error(di, e, base))?;
    Ok(Number::new(magnitude, decimals, negative))
}

fn demand(
    di: Di,
    item: &[u8],
    bytes: u8,
    decimals: u8,
    signed: bool,
    base: usize,
) -> Result<Demand, ValueError> {
    let split = usize::from(bytes);
    let (value, when) = item.split_at_checked(split).unwrap_or((item, &[]));
    Ok(Demand {
        value: number(di, value, decimals, signed, base)?,
        time: date_time(when, base + split)?,
    })
}

/// One BCD field of a date, time or table entry, range-checked.
fn field(
    bytes: &[u8],
    at: usize,
    base: usize,
    which: Field,
    range: core::ops::RangeInclusive<u8>,
) -> Result<u8, ValueError> {
    let index = base + at;
    // Callers check lengths first; a missing byte reads as an invalid 0.
    let byte = bytes.get(at).copied().unwrap_or(0xFF);
    let value = bcd::byte_to_u8(byte).ok_or(ValueError::NotBcd { index, byte })?;
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(ValueError::InvalidField {
            index,
            field: which,
            value,
        })
    }
}

/// YYMMDD from three wire-order bytes `DD MM YY` at `at`.
fn date(bytes: &[u8], at: usize, base: usize) -> Result<NaiveDate, ValueError> {
    let day = field(bytes, at, base, Field::Day, 1..=31)?;
    let month = field(bytes, at + 1, base, Field::Month, 1..=12)?;
    let year = field(bytes, at + 2, base, Field::Year, 0..=99)?;
    NaiveDate::from_ymd_opt(2000 + i32::from(year), u32::from(month), u32::from(day)).ok_or(
        ValueError::InvalidField {
            index: base + at,
            field: Field::Day,
            value: day,
        },
    )
}

/// hhmm(ss) from wire-order bytes `[ss] mm hh` at `at`.
fn clock(bytes: &[u8], at: usize, base: usize, seconds: bool) -> Result<NaiveTime, ValueError> {
    let (second, at) = if seconds {
        (field(bytes, at, base, Field::Second, 0..=59)?, at + 1)
    } else {
        (0, at)
    };
    let minute = field(bytes, at, base, Field::Minute, 0..=59)?;
    let hour = field(bytes, at + 1, base, Field::Hour, 0..=23)?;
    NaiveTime::from_hms_opt(u32::from(hour), u32::from(minute), u32::from(second)).ok_or(
        ValueError::InvalidField {
            index: base + at,
            field: Field::Minute,
            value: minute,
        },
    )
}

fn time(bytes: &[u8], base: usize) -> Result<NaiveTime, ValueError> {
    clock(bytes, 0, base, true)
}

/// YYMMDDhhmm (5 bytes) or YYMMDDhhmmss (6 bytes); all zeros is `None`.
fn date_time(bytes: &[u8], base: usize) -> Result<Option<NaiveDateTime>, ValueError> {
    if bytes.iter().all(|&b| b == 0) {
        return Ok(None);
    }
    let seconds = bytes.len() == 6;
    let time = clock(bytes, 0, base, seconds)?;
    let date = date(bytes, if seconds { 3 } else { 2 }, base)?;
    Ok(Some(NaiveDateTime::new(date, time)))
}

fn date_weekday(bytes: &[u8]) -> Result<DateWeekday, ValueError> {
    let weekday = match field(bytes, 0, 0, Field::Weekday, 0..=6)? {
        0 => Weekday::Sun,
        1 => Weekday::Mon,
        2 => Weekday::Tue,
        3 => Weekday::Wed,
        4 => Weekday::Thu,
        5 => Weekday::Fri,
        _ => Weekday::Sat,
    };
    Ok(DateWeekday {
        date: date(bytes, 1, 0)?,
        weekday,
    })
}

/// BCD digits, printed most significant (last on the wire) first.
fn digits(bytes: &[u8]) -> Result<String<MAX_DIGITS>, ValueError> {
    let mut out = String::new();
    for (index, &byte) in bytes.iter().enumerate().rev() {
        let pair = bcd::byte_to_u8(byte).ok_or(ValueError::NotBcd { index, byte })?;
        for digit in [pair / 10, pair % 10] {
            out.push(char::from(b'0' + digit))
                .map_err(|_| ValueError::NotBcd { index, byte })?;
        }
    }
    Ok(out)
}

fn text(di: Di, bytes: &[u8]) -> Result<String<MAX_TEXT>, ValueError> {
    let end = bytes
        .iter()
        .rposition(|&b| b != 0)
        .map_or(0, |last| last + 1);
    let mut out = String::new();
    for (index, &byte) in bytes.iter().enumerate().take(end) {
        if !byte.is_ascii() {
            return Err(ValueError::NotAscii { index, byte });
        }
        out.push(char::from(byte))
            .map_err(|_| ValueError::Overflow { di })?;
    }
    Ok(out)
}

fn bits(bytes: &[u8]) -> u16 {
    match *bytes {
        [lo, hi] => u16::from_le_bytes([lo, hi]),
        [lo] => u16::from(lo),
        // Catalogued status fields are 1 or 2 bytes.
        _ => 0,
    }
}

fn settlement_day(bytes: &[u8]) -> Result<Option<SettlementDay>, ValueError> {
    if bytes == [0x99, 0x99] {
        return Ok(None);
    }
    Ok(Some(SettlementDay {
        hour: field(bytes, 0, 0, Field::Hour, 0..=23)?,
        day: field(bytes, 1, 0, Field::Day, 1..=31)?,
    }))
}

fn event_total(di: Di, base: usize, item: &[u8]) -> Result<EventTotal, ValueError> {
    let (count, minutes) = item.split_at_checked(3).unwrap_or((item, &[]));
    let value = |bytes: &[u8], at| {
        bcd::decode(bytes)
            .map_err(|e| bcd_error(di, e, at))
            // Three BCD bytes are at most 999 999.
            .map(|v| u32::try_from(v).unwrap_or(u32::MAX))
    };
    Ok(EventTotal {
        count: value(count, base)?,
        minutes: value(minutes, base + 3)?,
    })
}

fn time_zone(base: usize, item: &[u8]) -> Result<TimeZone, ValueError> {
    let day_table = field(item, 0, base, Field::DayTable, 1..=8)?;
    let day = field(item, 1, base, Field::Day, 1..=31)?;
    let month = field(item, 2, base, Field::Month, 1..=12)?;
    // 2000 is a leap year, so 29 February passes.
    if NaiveDate::from_ymd_opt(2000, u32::from(month), u32::from(day)).is_none() {
        return Err(ValueError::InvalidField {
            index: base + 1,
            field: Field::Day,
            value: day,
        });
    }
    Ok(TimeZone {
        month,
        day,
        day_table,
    })
}

fn day_period(base: usize, item: &[u8]) -> Result<DayPeriod, ValueError> {
    let tariff = field(item, 0, base, Field::Tariff, 1..=63)?;
    Ok(DayPeriod {
        start: clock(item, 1, base, false)?,
        tariff,
    })
}

/// Encodes `value` as the value bytes of `di` (wire order, before adding 0x33) into
/// `out`, returning the number of bytes written. [`Value::Raw`] is accepted for any
/// DI and copied as is.
///
/// Numbers are rescaled exactly to the field's decimals (`1.5` fits XXX.XX as
/// `1.50`); a number that would lose digits is refused, never rounded.
///
/// ```
/// use dlt645::{Di, value::{encode, Number, Value}};
/// let mut out = [0u8; 3];
/// // Phase A current, XXX.XXX A, signed: −0.123 A is `23 01 80`.
/// let n = encode(Di::V2007(0x0202_0100), &Value::Number(Number::new(123, 3, true)), &mut out)?;
/// assert_eq!(&out[..n], &[0x23, 0x01, 0x80]);
/// # Ok::<(), dlt645::value::ValueError>(())
/// ```
///
/// # Errors
///
/// [`ValueError::UnknownDi`] for a typed value of an uncatalogued DI;
/// [`ValueError::Mismatch`] when the value's kind does not fit the format;
/// [`ValueError::TooManyItems`] for a block longer than the DI allows or an empty one;
/// [`ValueError::Overflow`], [`ValueError::Negative`], [`ValueError::Precision`],
/// [`ValueError::NotDigit`], [`ValueError::NotAscii`] when the value does not fit the
/// field; [`ValueError::BufferTooSmall`] when `out` is short (nothing is written).
pub fn encode(di: Di, value: &Value, out: &mut [u8]) -> Result<usize, ValueError> {
    if let Value::Raw(bytes) = value {
        return put_raw(bytes, out);
    }
    let info = lookup(di).ok_or(ValueError::UnknownDi { di })?;
    encode_with(&info, value, out)
}

/// Encodes for an already looked-up catalogue entry; see [`encode`].
///
/// # Errors
///
/// As [`encode`].
pub fn encode_with(info: &DiInfo, value: &Value, out: &mut [u8]) -> Result<usize, ValueError> {
    let di = info.di;
    let item_len = usize::from(info.item_len);
    let block = info.max_items > 1;
    let count = match (value, block) {
        (Value::Raw(bytes), _) => return put_raw(bytes, out),
        (Value::Numbers(l), true) => l.len(),
        (Value::Demands(l), true) => l.len(),
        (Value::StatusWords(l), true) => l.len(),
        (Value::EventTotals(l), _) => l.len(),
        (Value::TimeZones(l), _) => l.len(),
        (Value::DayPeriods(l), _) => l.len(),
        (Value::Numbers(_) | Value::Demands(_) | Value::StatusWords(_), false) => {
            return Err(ValueError::Mismatch { di });
        }
        (_, true) => return Err(ValueError::Mismatch { di }),
        (_, false) => 1,
    };
    if count == 0 || count > usize::from(info.max_items) {
        return Err(ValueError::TooManyItems {
            di,
            max: usize::from(info.max_items),
            actual: count,
        });
    }
    let needed = count * item_len;
    let available = out.len();
    let dst = out
        .get_mut(..needed)
        .ok_or(ValueError::BufferTooSmall { needed, available })?;
    for (i, item) in dst.chunks_exact_mut(item_len.max(1)).enumerate() {
        put_item(di, info.format, value, i, item)?;
    }
    Ok(needed)
}

/// Encodes item `i` of `value` (the value itself when it is not a list).
fn put_item(
    di: Di,
    format: Format,
    value: &Value,
    i: usize,
    out: &mut [u8],
) -> Result<(), ValueError> {
    match (format, value) {
        (
            Format::Decimal {
                decimals, signed, ..
            },
            Value::Number(n),
        ) => put_number(di, *n, decimals, signed, out),
        (
            Format::Decimal {
                decimals, signed, ..
            },
            Value::Numbers(list),
        ) => put_number(di, nth(di, list, i)?, decimals, signed, out),
        (
            Format::Demand {
                bytes,
                decimals,
                signed,
            },
            Value::Demand(d),
        ) => put_demand(di, *d, bytes, decimals, signed, out),
        (
            Format::Demand {
                bytes,
                decimals,
                signed,
            },
            Value::Demands(list),
        ) => put_demand(di, nth(di, list, i)?, bytes, decimals, signed, out),
        (Format::DateWeekday, Value::DateWeekday(d)) => put_date_weekday(di, *d, out),
        (Format::Time, Value::Time(t)) => put_time(di, *t, out, true),
        (Format::DateTimeMinutes | Format::DateTimeSeconds, Value::DateTime(t)) => {
            put_date_time(di, *t, out)
        }
        (Format::Digits { .. }, Value::Digits(s)) => put_digits(di, s, out),
        (Format::Ascii { .. }, Value::Text(s)) => put_text(di, s, out),
        (Format::Bits { .. }, Value::Bits(w)) => put_bits(di, *w, out),
        (Format::Bits { .. }, Value::StatusWords(list)) => put_bits(di, nth(di, list, i)?, out),
        (Format::SettlementDay, Value::SettlementDay(s)) => put_settlement_day(di, *s, out),
        (Format::EventTotal, Value::EventTotals(list)) => {
            put_event_total(di, nth(di, list, i)?, out)
        }
        (Format::TimeZone, Value::TimeZones(list)) => put_time_zone(di, nth(di, list, i)?, out),
        (Format::DayPeriod, Value::DayPeriods(list)) => put_day_period(di, nth(di, list, i)?, out),
        _ => Err(ValueError::Mismatch { di }),
    }
}

/// Item `i` of a list being encoded (the caller sized the output to the list).
fn nth<T: Copy>(di: Di, list: &[T], i: usize) -> Result<T, ValueError> {
    list.get(i).copied().ok_or(ValueError::Mismatch { di })
}

fn put_raw(bytes: &[u8], out: &mut [u8]) -> Result<usize, ValueError> {
    let available = out.len();
    let dst = out
        .get_mut(..bytes.len())
        .ok_or(ValueError::BufferTooSmall {
            needed: bytes.len(),
            available,
        })?;
    dst.copy_from_slice(bytes);
    Ok(bytes.len())
}

fn put_number(
    di: Di,
    n: Number,
    decimals: u8,
    signed: bool,
    out: &mut [u8],
) -> Result<(), ValueError> {
    if n.is_negative() && !signed {
        return Err(ValueError::Negative { di });
    }
    let magnitude = Number::new(n.magnitude(), n.scale(), false);
    let scaled = magnitude
        .rescaled_mantissa(decimals)
        .ok_or(if decimals < n.scale() {
            ValueError::Precision { di }
        } else {
            ValueError::Overflow { di }
        })?;
    let scaled = u64::try_from(scaled).map_err(|_| ValueError::Overflow { di })?;
    if signed {
        bcd::encode_signed(scaled, n.is_negative(), out)
    } else {
        bcd::encode(scaled, out)
    }
    .map_err(|_| ValueError::Overflow { di })
}

fn put_demand(
    di: Di,
    d: Demand,
    bytes: u8,
    decimals: u8,
    signed: bool,
    out: &mut [u8],
) -> Result<(), ValueError> {
    let (value, when) = out.split_at_mut(usize::from(bytes).min(out.len()));
    put_number(di, d.value, decimals, signed, value)?;
    put_date_time(di, d.time, when)
}

/// Writes 0..=99 as one BCD byte at `at`.
fn put_field(di: Di, out: &mut [u8], at: usize, value: u32) -> Result<(), ValueError> {
    let byte = u8::try_from(value)
        .ok()
        .and_then(bcd::u8_to_byte)
        .ok_or(ValueError::Overflow { di })?;
    *out.get_mut(at).ok_or(ValueError::Overflow { di })? = byte;
    Ok(())
}

/// Writes `DD MM YY` at `at`.
fn put_date(di: Di, date: NaiveDate, out: &mut [u8], at: usize) -> Result<(), ValueError> {
    let year = u32::try_from(date.year() - 2000)
        .ok()
        .filter(|y| *y <= 99)
        .ok_or(ValueError::Overflow { di })?;
    put_field(di, out, at, date.day())?;
    put_field(di, out, at + 1, date.month())?;
    put_field(di, out, at + 2, year)
}

/// Writes `[ss] mm hh`; refuses what the field cannot hold.
fn put_time(di: Di, t: NaiveTime, out: &mut [u8], seconds: bool) -> Result<(), ValueError> {
    if t.nanosecond() != 0 || (!seconds && t.second() != 0) {
        return Err(ValueError::Precision { di });
    }
    let at = if seconds {
        put_field(di, out, 0, t.second())?;
        1
    } else {
        0
    };
    put_field(di, out, at, t.minute())?;
    put_field(di, out, at + 1, t.hour())
}

fn put_date_time(di: Di, t: Option<NaiveDateTime>, out: &mut [u8]) -> Result<(), ValueError> {
    let Some(t) = t else {
        out.fill(0);
        return Ok(());
    };
    let seconds = out.len() == 6;
    put_time(di, t.time(), out, seconds)?;
    put_date(di, t.date(), out, if seconds { 3 } else { 2 })
}

fn put_date_weekday(di: Di, d: DateWeekday, out: &mut [u8]) -> Result<(), ValueError> {
    put_field(di, out, 0, d.weekday.num_days_from_sunday())?;
    put_date(di, d.date, out, 1)
}

/// Digits as printed (most significant first) into BCD, low byte first; a shorter
/// string is padded with leading zeros.
fn put_digits(di: Di, s: &str, out: &mut [u8]) -> Result<(), ValueError> {
    let text = s.as_bytes();
    if text.len() > 2 * out.len() {
        return Err(ValueError::Overflow { di });
    }
    if let Some(index) = text.iter().position(|c| !c.is_ascii_digit()) {
        return Err(ValueError::NotDigit { index });
    }
    // Walk from the least significant digit (end of the string) = first wire byte.
    let mut digits = text.iter().rev().map(|c| c - b'0');
    for byte in out.iter_mut() {
        let lo = digits.next().unwrap_or(0);
        let hi = digits.next().unwrap_or(0);
        *byte = hi << 4 | lo;
    }
    Ok(())
}

fn put_text(di: Di, s: &str, out: &mut [u8]) -> Result<(), ValueError> {
    let text = s.as_bytes();
    if let Some(index) = text.iter().position(|b| !b.is_ascii()) {
        return Err(ValueError::NotAscii {
            index,
            byte: text.get(index).copied().unwrap_or(0),
        });
    }
    let (body, padding) = out
        .split_at_mut_checked(text.len())
        .ok_or(ValueError::Overflow { di })?;
    body.copy_from_slice(text);
    padding.fill(0);
    Ok(())
}

fn put_bits(di: Di, word: u16, out: &mut [u8]) -> Result<(), ValueError> {
    match out {
        [lo, hi] => [*lo, *hi] = word.to_le_bytes(),
        [lo] => *lo = u8::try_from(word).map_err(|_| ValueError::Overflow { di })?,
        _ => return Err(ValueError::Overflow { di }),
    }
    Ok(())
}

fn put_settlement_day(di: Di, s: Option<SettlementDay>, out: &mut [u8]) -> Result<(), ValueError> {
    match s {
        None => out.fill(0x99),
        Some(s) => {
            put_field(di, out, 0, u32::from(s.hour))?;
            put_field(di, out, 1, u32::from(s.day))?;
            // Refuse what the decoder would refuse, so an encoded day always decodes.
            settlement_day(out)?;
        }
    }
    Ok(())
}

fn put_event_total(di: Di, e: EventTotal, out: &mut [u8]) -> Result<(), ValueError> {
    let (count, minutes) = out.split_at_mut(3.min(out.len()));
    bcd::encode(u64::from(e.count), count).map_err(|_| ValueError::Overflow { di })?;
    bcd::encode(u64::from(e.minutes), minutes).map_err(|_| ValueError::Overflow { di })
}

fn put_time_zone(di: Di, z: TimeZone, out: &mut [u8]) -> Result<(), ValueError> {
    put_field(di, out, 0, u32::from(z.day_table))?;
    put_field(di, out, 1, u32::from(z.day))?;
    put_field(di, out, 2, u32::from(z.month))?;
    // Refuse what the decoder would refuse (e.g. 30 February).
    time_zone(0, out).map(drop)
}

fn put_day_period(di: Di, p: DayPeriod, out: &mut [u8]) -> Result<(), ValueError> {
    put_field(di, out, 0, u32::from(p.tariff))?;
    let (_, clock_bytes) = out.split_at_mut(1.min(out.len()));
    put_time(di, p.start, clock_bytes, false)?;
    day_period(0, out).map(drop)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::ToString;

    use proptest::prelude::*;

    use super::*;
    use crate::catalogue::Unit;

    #[test]
    fn number_prints_exactly_its_scale() {
        let cases = [
            (Number::new(120_642, 2, false), "1206.42"),
            (Number::new(123, 3, true), "-0.123"),
            (Number::new(2394, 1, false), "239.4"),
            (Number::new(100, 0, false), "100"),
            (Number::new(0, 2, true), "-0.00"),
            (Number::new(0, 0, false), "0"),
            (Number::new(5, 4, false), "0.0005"),
            // u64::MAX has 20 digits; scale 19 still splits it, scale 25 pads it.
            (Number::new(u64::MAX, 19, false), "1.8446744073709551615"),
            (Number::new(42, 25, true), "-0.0000000000000000000000042"),
        ];
        for (number, text) in cases {
            assert_eq!(number.to_string(), text);
        }
    }

    #[test]
    fn mantissa_and_rescale_are_exact() {
        let n = Number::new(123, 3, true); // −0.123
        assert_eq!(n.mantissa(), -123);
        assert_eq!(n.rescaled_mantissa(5), Some(-12_300));
        assert_eq!(n.rescaled_mantissa(2), None);
        assert_eq!(Number::new(1200, 3, false).rescaled_mantissa(1), Some(12));
        assert_eq!(Number::new(0, 2, true).mantissa(), 0);
        // 10^39 overflows an i128.
        assert_eq!(Number::new(1, 0, false).rescaled_mantissa(39), None);
        assert_eq!(Number::new(1, 39, false).rescaled_mantissa(0), None);
    }

    /// A catalogue-shaped entry for a format no real DI of the catalogue uses yet.
    fn seconds_info() -> DiInfo {
        let mut info = lookup(Di::V2007(0x0400_0106)).unwrap_or_else(|| unreachable!());
        info.format = Format::DateTimeSeconds;
        info.item_len = 6;
        info
    }

    #[test]
    fn date_time_with_seconds() {
        let info = seconds_info();
        // Wire ss mm hh DD MM YY: 51 22 10 05 06 17 = 2017-06-05 10:22:51.
        let bytes = [0x51, 0x22, 0x10, 0x05, 0x06, 0x17];
        let value = decode_with(&info, &bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(value.to_string(), "2017-06-05T10:22:51");
        let mut out = [0u8; 6];
        assert_eq!(encode_with(&info, &value, &mut out), Ok(6));
        assert_eq!(out, bytes);
        assert_eq!(
            decode_with(&info, &[0x51, 0x22, 0x10, 0x05, 0x00, 0x17]),
            Err(ValueError::InvalidField {
                index: 4,
                field: Field::Month,
                value: 0
            })
        );
    }

    #[test]
    fn display_of_each_kind() {
        let show = |di: u32, bytes: &[u8]| {
            decode(Di::V2007(di), bytes)
                .unwrap_or_else(|e| panic!("{e}"))
                .to_string()
        };
        assert_eq!(
            show(0x0400_0101, &[0x05, 0x15, 0x03, 0x24]),
            "2024-03-15 (Fri)"
        );
        assert_eq!(show(0x0506_0001, &[0; 5]), "not set");
        assert_eq!(show(0x0400_0B01, &[0x99, 0x99]), "not set");
        assert_eq!(show(0x0400_0B01, &[0x08, 0x25]), "day 25 at 08:00");
        assert_eq!(show(0x0400_0501, &[0x34, 0x12]), "0x1234");
        assert_eq!(show(0x0400_0404, b"220V\0\0"), "\"220V\"");
        assert_eq!(
            show(
                0x0301_0000,
                &[1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 4, 0, 0]
            ),
            "1 times, 2 min, 0 times, 0 min, 3 times, 4 min"
        );
        assert_eq!(show(0x0401_0000, &[0x02, 0x01, 0x06]), "06-01 table 2");
    }

    #[test]
    fn numbers_accessor_covers_single_and_block() {
        let single = Value::Number(Number::new(1, 0, false));
        assert_eq!(single.numbers().map(<[Number]>::len), Some(1));
        assert_eq!(Value::Bits(1).numbers(), None);
        let info = lookup(Di::V2007(0x0201_FF00)).unwrap_or_else(|| unreachable!());
        assert_eq!(info.unit, Unit::Volt);
        let block = decode_with(&info, &[0; 4]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(block.numbers().map(<[Number]>::len), Some(2));
    }

    proptest! {
        /// Display agrees with the mantissa: stripping '-' and '.' gives the magnitude
        /// and the decimals after '.' are exactly `scale`.
        #[test]
        fn display_matches_parts(magnitude in any::<u64>(), scale in 0u8..=30, negative in any::<bool>()) {
            let text = Number::new(magnitude, scale, negative).to_string();
            prop_assert_eq!(text.starts_with('-'), negative);
            let unsigned = text.trim_start_matches('-');
            let decimals = unsigned.split_once('.').map_or(0, |(_, d)| d.len());
            prop_assert_eq!(decimals, usize::from(scale));
            let digits: std::string::String = unsigned.chars().filter(char::is_ascii_digit).collect();
            prop_assert_eq!(digits.parse::<u128>().ok(), Some(u128::from(magnitude)));
        }

        #[test]
        fn seconds_round_trip(s in 0u8..60, m in 0u8..60, h in 0u8..24, d in 1u8..=28, mo in 1u8..=12, y in 0u8..100) {
            let bcd = |n: u8| ((n / 10) << 4) | (n % 10);
            let bytes = [bcd(s), bcd(m), bcd(h), bcd(d), bcd(mo), bcd(y)];
            let info = seconds_info();
            let value = decode_with(&info, &bytes).unwrap_or_else(|e| panic!("{e}"));
            let mut out = [0u8; 6];
            prop_assert_eq!(encode_with(&info, &value, &mut out), Ok(6));
            prop_assert_eq!(out, bytes);
        }
    }
}
