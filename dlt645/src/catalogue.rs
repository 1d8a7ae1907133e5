//! The data-identifier catalogue: what each DI means, how its value is encoded, and in
//! which unit.
//!
//! [`lookup`] answers for every identifier of spec §3.3 (2007) and §3.4 (1997),
//! including the patterns:
//!
//! - energy `00 qq tt ss` and maximum demand `01 qq tt ss`: quantity `qq`, tariff
//!   `tt` (00 total, 01..=3F tariff n, FF block of total + tariffs), settlement `ss` (00
//!   current, 01..=0C previous settlement n, FF block of current + previous);
//! - instantaneous values `02 qq pp 00` per phase (`pp` 00 total, 01..=03 A..C, FF
//!   block), harmonics `02 0A/0B pp hh` (`hh` 01..=15 hex = orders 1..21, FF block),
//!   the `02 80 00 xx` group;
//! - events, parameters `04 xx xx xx` including both sets of TOU tables, and the daily
//!   freezes `05 06 xx nn`;
//! - 1997: `90/94 qt` active energy (current / last month, quantity `q` 1 forward,
//!   2 reverse, tariff `t` 0 total, 1..=E, F block), `91/95 qt` reactive energy,
//!   `B6xx` instantaneous values and `C0xx` parameters.
//!
//! Lookup is a `match` on the identifier's bytes, so it costs a few compares, not a
//! table scan.
//!
//! # Choices where the sources disagree
//!
//! - **Temperature `02 80 00 07` is signed.** The sign bit sits in the hundreds digit
//!   of XXX.X, so a positive reading would need 800 °C to be misread; a meter mounted
//!   outdoors does report sub-zero temperatures, which only the signed reading shows.
//! - **1997 instantaneous values are unsigned.** The sign-bit rule of §3.2 comes from
//!   2007 sources; no 1997 source applies it.
//! - **Limits `04 00 0E xx` and meter constants are unsigned** (the spec marks them
//!   "–"): they are configured magnitudes.
//! - **Maximum demand is signed** for every quantity, as the spec's table says for
//!   `01 01 00 00` and `01 02 00 00`.
//! - **Maximum demand items are the demand (3 bytes) followed by its time (5 bytes)**,
//!   each low byte first, as the implementations the spec cites read them.
//! - **Current harmonics `02 0B pp hh`** are not in the spec's table; they follow the
//!   voltage-harmonic layout of `02 0A pp hh`, as the standard's DI structure does.
//! - **Energy blocks over quantities (`00 FF tt ss`) are not catalogued**: their items
//!   have different units and signedness, so they decode as raw bytes.

use core::fmt;

use crate::di::Di;

/// Capacity of a block of numbers: a 255-byte data field minus a 4-byte DI holds at
/// most 62 four-byte items, or 125 two-byte ones; the catalogue's largest number block
/// (total + 63 tariffs) has 64.
pub const MAX_NUMBERS: usize = NUMBERS_CAP as usize;
/// Capacity of a block of maximum-demand items (8 bytes each: 31 fit a data field).
pub const MAX_DEMANDS: usize = DEMANDS_CAP as usize;
/// Most entries of a time-zone or day-period table.
pub const MAX_TOU_ENTRIES: usize = TOU_CAP as usize;

const NUMBERS_CAP: u8 = 64;
const DEMANDS_CAP: u8 = 32;
const TOU_CAP: u8 = 14;

/// The physical unit of a data item. [`as_str`](Unit::as_str) gives the spelling the
/// `meterkit decode --json` contract uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
#[non_exhaustive]
pub enum Unit {
    /// No unit: power factor, counts of parameters, dates, text. [`as_str`](Unit::as_str)
    /// gives `""`; the JSON contract leaves the `unit` key out for these.
    None,
    /// Kilowatt-hours, "kWh".
    KilowattHour,
    /// Kilovar-hours, "kvarh".
    KilovarHour,
    /// Kilovolt-ampere-hours, "kVAh".
    KilovoltAmpereHour,
    /// Volts, "V".
    Volt,
    /// Amperes, "A".
    Ampere,
    /// Kilowatts, "kW".
    Kilowatt,
    /// Kilovars, "kvar".
    Kilovar,
    /// Kilovolt-amperes, "kVA".
    KilovoltAmpere,
    /// Hertz, "Hz".
    Hertz,
    /// Percent, "%".
    Percent,
    /// Degrees of angle, "°".
    Degree,
    /// Degrees Celsius, "°C".
    DegreeCelsius,
    /// Minutes, "min".
    Minute,
    /// Meter constant, pulses per kWh, "imp/kWh".
    PulsesPerKilowattHour,
    /// Meter constant, pulses per kvarh, "imp/kvarh".
    PulsesPerKilovarHour,
    /// Step-tariff price, "yuan/kWh".
    YuanPerKilowattHour,
    /// An event count, "times".
    Times,
}

impl Unit {
    /// The unit's symbol, exactly as the JSON contract spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Unit::None => "",
            Unit::KilowattHour => "kWh",
            Unit::KilovarHour => "kvarh",
            Unit::KilovoltAmpereHour => "kVAh",
            Unit::Volt => "V",
            Unit::Ampere => "A",
            Unit::Kilowatt => "kW",
            Unit::Kilovar => "kvar",
            Unit::KilovoltAmpere => "kVA",
            Unit::Hertz => "Hz",
            Unit::Percent => "%",
            Unit::Degree => "°",
            Unit::DegreeCelsius => "°C",
            Unit::Minute => "min",
            Unit::PulsesPerKilowattHour => "imp/kWh",
            Unit::PulsesPerKilovarHour => "imp/kvarh",
            Unit::YuanPerKilowattHour => "yuan/kWh",
            Unit::Times => "times",
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "serde-1")]
impl serde::Serialize for Unit {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// How one item of a data identifier is encoded. Every multi-byte field is low byte
/// first on the wire; the layouts below are in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
#[non_exhaustive]
pub enum Format {
    /// A packed-BCD number of `bytes` bytes with a fixed decimal point, `decimals`
    /// digits from the right (XXXXXX.XX is `bytes: 4, decimals: 2`). When `signed`,
    /// bit 7 of the most significant byte is the sign.
    Decimal {
        /// Field length.
        bytes: u8,
        /// Digits after the decimal point.
        decimals: u8,
        /// Whether bit 7 of the most significant byte is a sign.
        signed: bool,
    },
    /// A maximum demand and when it occurred: the demand as [`Format::Decimal`], then
    /// YYMMDDhhmm (5 bytes).
    Demand {
        /// Length of the demand field (the time adds 5).
        bytes: u8,
        /// Digits after the decimal point of the demand.
        decimals: u8,
        /// Whether the demand's top bit is a sign.
        signed: bool,
    },
    /// YYMMDDWW: date and weekday (00 = Sunday), 4 bytes.
    DateWeekday,
    /// hhmmss, 3 bytes.
    Time,
    /// YYMMDDhhmm, 5 bytes.
    DateTimeMinutes,
    /// YYMMDDhhmmss, 6 bytes.
    DateTimeSeconds,
    /// A string of BCD digits (address, meter number, password), most significant
    /// digit last on the wire.
    Digits {
        /// Field length; the string has twice as many digits.
        bytes: u8,
    },
    /// ASCII text of a fixed length.
    Ascii {
        /// Field length.
        bytes: u8,
    },
    /// A status word or bit mask, binary (not BCD).
    Bits {
        /// Field length: 1 or 2.
        bytes: u8,
    },
    /// DDhh: settlement day and hour, 2 bytes; 99 99 means "not set".
    SettlementDay,
    /// An event total: count XXXXXX then cumulative minutes XXXXXX, 6 bytes.
    EventTotal,
    /// One entry of a time-zone table: MMDDNN (start month, day, day-table number).
    TimeZone,
    /// One entry of a day-period table: hhmmNN (start hour, minute, tariff number).
    DayPeriod,
}

impl Format {
    /// Bytes one item of this format takes.
    #[inline]
    pub const fn item_len(self) -> usize {
        match self {
            Format::Decimal { bytes, .. } | Format::Digits { bytes } | Format::Ascii { bytes } => {
                bytes as usize
            }
            Format::Demand { bytes, .. } => bytes as usize + 5,
            Format::Bits { bytes } => bytes as usize,
            Format::DateWeekday => 4,
            Format::Time | Format::TimeZone | Format::DayPeriod => 3,
            Format::DateTimeMinutes => 5,
            Format::DateTimeSeconds | Format::EventTotal => 6,
            Format::SettlementDay => 2,
        }
    }

    /// Whether the format carries a sign bit.
    #[inline]
    pub const fn is_signed(self) -> bool {
        matches!(
            self,
            Format::Decimal { signed: true, .. } | Format::Demand { signed: true, .. }
        )
    }
}

/// What the catalogue knows about one data identifier.
///
/// A *block* (`max_items > 1`) is a list of items of the same format, concatenated in
/// order; a reply may hold fewer items than `max_items` (a meter with 4 tariffs answers
/// a total + tariffs block with 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
#[non_exhaustive]
pub struct DiInfo {
    /// The identifier described.
    pub di: Di,
    /// The item's name without tariff, phase or settlement numbers, e.g. "Forward
    /// active energy"; [`full_name`](DiInfo::full_name) adds them.
    pub name: &'static str,
    /// How each item is encoded.
    pub format: Format,
    /// Bytes per item (`format.item_len()`).
    pub item_len: u8,
    /// 1 for a single item; for a block, the most items it can hold.
    pub max_items: u8,
    /// Physical unit ([`Unit::None`] for dimensionless items: power factor, dates,
    /// text).
    pub unit: Unit,
    /// Whether the item carries a sign bit (spec §3.2).
    pub signed: bool,
    #[cfg_attr(feature = "serde-1", serde(skip))]
    qualifier: Qualifier,
}

impl DiInfo {
    /// Whether the identifier names a block (a list of items).
    pub const fn is_block(&self) -> bool {
        self.max_items > 1
    }

    /// The specific name, with tariff, phase, settlement or table numbers, e.g.
    /// "Forward active energy, tariff 2, previous settlement 1".
    ///
    /// ```
    /// use dlt645::{Di, catalogue::lookup};
    /// let info = lookup(Di::V2007(0x0001_0201)).unwrap();
    /// assert_eq!(info.name, "Forward active energy");
    /// assert_eq!(
    ///     info.full_name().to_string(),
    ///     "Forward active energy, tariff 2, previous settlement 1"
    /// );
    /// ```
    pub const fn full_name(&self) -> FullName {
        FullName {
            name: self.name,
            qualifier: self.qualifier,
        }
    }
}

/// Displays a [`DiInfo`]'s specific name; see [`DiInfo::full_name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FullName {
    name: &'static str,
    qualifier: Qualifier,
}

impl fmt::Display for FullName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)?;
        match self.qualifier {
            Qualifier::None => Ok(()),
            Qualifier::Block => f.write_str(" (block)"),
            Qualifier::Number(n) => write!(f, " {n}"),
            Qualifier::Tariff { tariff, settlement } => {
                match tariff {
                    0 => f.write_str(", total")?,
                    BLOCK => f.write_str(", total and tariffs (block)")?,
                    n => write!(f, ", tariff {n}")?,
                }
                match settlement {
                    0 => Ok(()),
                    BLOCK => f.write_str(", current and previous settlements (block)"),
                    n => write!(f, ", previous settlement {n}"),
                }
            }
            Qualifier::Phase(phase) => match phase {
                0 => f.write_str(", total"),
                BLOCK => f.write_str(" (block)"),
                n => write!(f, ", phase {}", phase_letter(n)),
            },
            Qualifier::Harmonic { phase, order } => {
                write!(f, ", phase {}", phase_letter(phase))?;
                match order {
                    BLOCK => f.write_str(", orders 1 to 21 (block)"),
                    n => write!(f, ", order {n}"),
                }
            }
            Qualifier::Freeze(n) => write!(f, ", previous freeze {n}"),
        }
    }
}

/// The DI byte value that means "block".
const BLOCK: u8 = 0xFF;

const fn phase_letter(phase: u8) -> char {
    match phase {
        1 => 'A',
        2 => 'B',
        _ => 'C',
    }
}

/// The numbers a pattern entry adds to its base name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
enum Qualifier {
    None,
    Block,
    /// "Settlement day 2", "Meter status word 3".
    Number(u8),
    Tariff {
        tariff: u8,
        settlement: u8,
    },
    Phase(u8),
    Harmonic {
        phase: u8,
        order: u8,
    },
    Freeze(u8),
}

/// Looks up a data identifier of either edition.
///
/// Returns `None` for identifiers outside the catalogue; their values can still be
/// carried as raw bytes ([`Value::Raw`](crate::value::Value::Raw)).
///
/// ```
/// use dlt645::{Di, catalogue::{Format, Unit, lookup}};
/// let info = lookup(Di::V2007(0x0201_FF00)).unwrap();
/// assert_eq!(info.format, Format::Decimal { bytes: 2, decimals: 1, signed: false });
/// assert_eq!(info.unit, Unit::Volt);
/// assert_eq!(info.max_items, 3);
/// assert_eq!(lookup(Di::V1997(0x9010)).unwrap().unit.as_str(), "kWh");
/// assert!(lookup(Di::V2007(0x0700_0000)).is_none());
/// ```
#[inline]
pub fn lookup(di: Di) -> Option<DiInfo> {
    // `finish` in every arm (not once after the match) lets the compiler fold each
    // arm's constant format into its item length instead of dispatching on it again.
    let finish = |entry: Option<Entry>| entry.map(|e| finish(di, e));
    match di {
        Di::V2007(v) => {
            let [d3, d2, d1, d0] = v.to_be_bytes();
            match d3 {
                0x00 => finish(energy_2007(d2, d1, d0)),
                0x01 => finish(demand_2007(d2, d1, d0)),
                0x02 => finish(variable_2007(d2, d1, d0)),
                0x03 => finish(event_2007(d2, d1, d0)),
                0x04 => finish(parameter_2007(d2, d1, d0)),
                0x05 => finish(freeze_2007(d2, d1, d0)),
                _ => None,
            }
        }
        Di::V1997(v) => {
            let [hi, lo] = v.to_be_bytes();
            finish(lookup_1997(hi, lo))
        }
    }
}

#[inline]
fn finish(di: Di, (name, format, max_items, unit, qualifier): Entry) -> DiInfo {
    DiInfo {
        di,
        name,
        format,
        // Every catalogued format is at most 42 bytes per item (checked by a test).
        item_len: u8::try_from(format.item_len()).unwrap_or(u8::MAX),
        max_items,
        unit,
        signed: format.is_signed(),
        qualifier,
    }
}

/// What a sub-table answers: name, item format, `max_items`, unit, qualifier.
type Entry = (&'static str, Format, u8, Unit, Qualifier);

const fn decimal(bytes: u8, decimals: u8, signed: bool) -> Format {
    Format::Decimal {
        bytes,
        decimals,
        signed,
    }
}

/// XXXXXX.XX, the format of every energy register.
const fn energy_format(signed: bool) -> Format {
    decimal(4, 2, signed)
}

/// The energy quantities `DI2` = 00..=0A: name, unit, signed.
static ENERGY_QUANTITIES: [(&str, Unit, bool); 11] = [
    ("Combined active energy", Unit::KilowattHour, true),
    ("Forward active energy", Unit::KilowattHour, false),
    ("Reverse active energy", Unit::KilowattHour, false),
    ("Combined reactive 1 energy", Unit::KilovarHour, true),
    ("Combined reactive 2 energy", Unit::KilovarHour, true),
    ("Quadrant I reactive energy", Unit::KilovarHour, false),
    ("Quadrant II reactive energy", Unit::KilovarHour, false),
    ("Quadrant III reactive energy", Unit::KilovarHour, false),
    ("Quadrant IV reactive energy", Unit::KilovarHour, false),
    ("Forward apparent energy", Unit::KilovoltAmpereHour, false),
    ("Reverse apparent energy", Unit::KilovoltAmpereHour, false),
];

/// The maximum-demand quantities `DI2` = 01..=0A (index 0 is `DI2` = 01).
static DEMAND_QUANTITIES: [(&str, Unit); 10] = [
    ("Forward active maximum demand", Unit::Kilowatt),
    ("Reverse active maximum demand", Unit::Kilowatt),
    ("Combined reactive 1 maximum demand", Unit::Kilovar),
    ("Combined reactive 2 maximum demand", Unit::Kilovar),
    ("Quadrant I reactive maximum demand", Unit::Kilovar),
    ("Quadrant II reactive maximum demand", Unit::Kilovar),
    ("Quadrant III reactive maximum demand", Unit::Kilovar),
    ("Quadrant IV reactive maximum demand", Unit::Kilovar),
    ("Forward apparent maximum demand", Unit::KilovoltAmpere),
    ("Reverse apparent maximum demand", Unit::KilovoltAmpere),
];

/// XX.XXXX kW/kvar/kVA + YYMMDDhhmm.
const DEMAND_FORMAT: Format = Format::Demand {
    bytes: 3,
    decimals: 4,
    signed: true,
};

/// Tariff `DI1` and settlement `DI0` of the energy and demand patterns; `None` when
/// out of range. Returns the block size the pair allows.
#[inline]
const fn tariff_settlement(tariff: u8, settlement: u8, capacity: u8) -> Option<(u8, Qualifier)> {
    let tariff_ok = tariff <= 0x3F || tariff == BLOCK;
    let settlement_ok = settlement <= 0x0C || settlement == BLOCK;
    if !(tariff_ok && settlement_ok) {
        return None;
    }
    let max_items = match (tariff == BLOCK, settlement == BLOCK) {
        (false, false) => 1,
        // Current + 12 previous settlements.
        (false, true) => 13,
        // Total + 63 tariffs, or both patterns at once: whatever fits the field.
        (true, _) => capacity,
    };
    Some((max_items, Qualifier::Tariff { tariff, settlement }))
}

#[inline]
fn energy_2007(d2: u8, d1: u8, d0: u8) -> Option<Entry> {
    let &(name, unit, signed) = ENERGY_QUANTITIES.get(usize::from(d2))?;
    let (max_items, qualifier) = tariff_settlement(d1, d0, NUMBERS_CAP)?;
    Some((name, energy_format(signed), max_items, unit, qualifier))
}

#[inline]
fn demand_2007(d2: u8, d1: u8, d0: u8) -> Option<Entry> {
    let &(name, unit) = DEMAND_QUANTITIES.get(usize::from(d2).checked_sub(1)?)?;
    let (max_items, qualifier) = tariff_settlement(d1, d0, DEMANDS_CAP)?;
    Some((name, DEMAND_FORMAT, max_items, unit, qualifier))
}

/// A per-phase instantaneous value: `first_phase` is 0 when a total exists, 1 when
/// only phases A..C do; FF gives the block of all of them.
#[inline]
fn per_phase(
    name: &'static str,
    format: Format,
    unit: Unit,
    first_phase: u8,
    phase: u8,
    d0: u8,
) -> Option<Entry> {
    if d0 != 0 {
        return None;
    }
    let max_items = match phase {
        BLOCK => 4 - first_phase,
        p if p >= first_phase && p <= 3 => 1,
        _ => return None,
    };
    Some((name, format, max_items, unit, Qualifier::Phase(phase)))
}

// One arm per DI group: a flat table reads better than helpers split for length.
#[allow(clippy::too_many_lines)]
#[inline]
fn variable_2007(d2: u8, d1: u8, d0: u8) -> Option<Entry> {
    let percent = decimal(2, 2, false);
    match d2 {
        0x01 => per_phase("Voltage", decimal(2, 1, false), Unit::Volt, 1, d1, d0),
        0x02 => per_phase("Current", decimal(3, 3, true), Unit::Ampere, 1, d1, d0),
        0x03 => per_phase(
            "Active power",
            decimal(3, 4, true),
            Unit::Kilowatt,
            0,
            d1,
            d0,
        ),
        0x04 => per_phase(
            "Reactive power",
            decimal(3, 4, true),
            Unit::Kilovar,
            0,
            d1,
            d0,
        ),
        0x05 => per_phase(
            "Apparent power",
            decimal(3, 4, true),
            Unit::KilovoltAmpere,
            0,
            d1,
            d0,
        ),
        0x06 => per_phase("Power factor", decimal(2, 3, true), Unit::None, 0, d1, d0),
        0x07 => per_phase("Phase angle", decimal(2, 1, false), Unit::Degree, 1, d1, d0),
        0x08 => per_phase(
            "Voltage waveform distortion",
            percent,
            Unit::Percent,
            1,
            d1,
            d0,
        ),
        0x09 => per_phase(
            "Current waveform distortion",
            percent,
            Unit::Percent,
            1,
            d1,
            d0,
        ),
        0x0A | 0x0B => {
            let name = if d2 == 0x0A {
                "Voltage harmonic content"
            } else {
                "Current harmonic content"
            };
            let max_items = match d0 {
                BLOCK => 21,
                0x01..=0x15 => 1,
                _ => return None,
            };
            if !(0x01..=0x03).contains(&d1) {
                return None;
            }
            Some((
                name,
                percent,
                max_items,
                Unit::Percent,
                Qualifier::Harmonic {
                    phase: d1,
                    order: d0,
                },
            ))
        }
        0x0C if d0 == 0 => {
            let name = match d1 {
                0x01 => "Line voltage AB",
                0x02 => "Line voltage BC",
                0x03 => "Line voltage CA",
                _ => return None,
            };
            Some((name, decimal(2, 1, false), 1, Unit::Volt, Qualifier::None))
        }
        0x80 if d1 == 0 => {
            let (name, format, unit) = match d0 {
                0x01 => ("Neutral current", decimal(3, 3, true), Unit::Ampere),
                0x02 => ("Grid frequency", decimal(2, 2, false), Unit::Hertz),
                0x03 => (
                    "One-minute average active power",
                    decimal(3, 4, false),
                    Unit::Kilowatt,
                ),
                0x04 => ("Current active demand", decimal(3, 4, true), Unit::Kilowatt),
                0x05 => (
                    "Current reactive demand",
                    decimal(3, 4, true),
                    Unit::Kilovar,
                ),
                0x06 => (
                    "Current apparent demand",
                    decimal(3, 4, true),
                    Unit::KilovoltAmpere,
                ),
                0x07 => (
                    "Meter internal temperature",
                    decimal(2, 1, true),
                    Unit::DegreeCelsius,
                ),
                0x08 => ("Clock battery voltage", decimal(2, 2, false), Unit::Volt),
                0x09 => (
                    "Meter-reading battery voltage",
                    decimal(2, 2, false),
                    Unit::Volt,
                ),
                0x0A => (
                    "Internal battery working time",
                    decimal(4, 0, false),
                    Unit::Minute,
                ),
                0x0B => (
                    "Current step-tariff price",
                    decimal(4, 4, false),
                    Unit::YuanPerKilowattHour,
                ),
                _ => return None,
            };
            Some((name, format, 1, unit, Qualifier::None))
        }
        _ => None,
    }
}

fn event_2007(d2: u8, d1: u8, d0: u8) -> Option<Entry> {
    match (d2, d1, d0) {
        (0x01, 0x00, 0x00) => Some((
            "Loss-of-voltage count and cumulative time, phases A, B, C",
            Format::EventTotal,
            3,
            Unit::None,
            Qualifier::None,
        )),
        (0x30, 0x01, 0x00) => Some((
            "Meter-clear count",
            decimal(3, 0, false),
            1,
            Unit::Times,
            Qualifier::None,
        )),
        _ => None,
    }
}

// One arm per parameter: a flat table reads better than helpers split for length.
#[allow(clippy::too_many_lines)]
fn parameter_2007(d2: u8, d1: u8, d0: u8) -> Option<Entry> {
    let single = |name, format, unit| Some((name, format, 1, unit, Qualifier::None));
    match (d2, d1, d0) {
        (0x00, 0x01, 0x01) => single("Date and weekday", Format::DateWeekday, Unit::None),
        (0x00, 0x01, 0x02) => single("Time", Format::Time, Unit::None),
        (0x00, 0x01, 0x03) => single("Demand period", decimal(1, 0, false), Unit::Minute),
        (0x00, 0x01, 0x04) => single("Sliding time", decimal(1, 0, false), Unit::Minute),
        (0x00, 0x01, 0x06) => single(
            "Two-set time-zone table switch time",
            Format::DateTimeMinutes,
            Unit::None,
        ),
        (0x00, 0x01, 0x07) => single(
            "Two-set day-period table switch time",
            Format::DateTimeMinutes,
            Unit::None,
        ),
        (0x00, 0x01, 0x08) => single(
            "Two-set tariff scheme switch time",
            Format::DateTimeMinutes,
            Unit::None,
        ),
        (0x00, 0x01, 0x09) => single(
            "Two-set step scheme switch time",
            Format::DateTimeMinutes,
            Unit::None,
        ),
        (0x00, 0x02, 0x01) => single("Year time-zone count", decimal(1, 0, false), Unit::None),
        (0x00, 0x02, 0x02) => single("Day-period table count", decimal(1, 0, false), Unit::None),
        (0x00, 0x02, 0x03) => single("Day periods per day", decimal(1, 0, false), Unit::None),
        (0x00, 0x02, 0x04) => single("Tariff count", decimal(1, 0, false), Unit::None),
        (0x00, 0x02, 0x05) => single("Public holiday count", decimal(2, 0, false), Unit::None),
        (0x00, 0x02, 0x07) => single("Step count", decimal(1, 0, false), Unit::None),
        (0x00, 0x04, 0x01) => single(
            "Communication address",
            Format::Digits { bytes: 6 },
            Unit::None,
        ),
        (0x00, 0x04, 0x02) => single("Meter number", Format::Digits { bytes: 6 }, Unit::None),
        (0x00, 0x04, 0x03) => single(
            "Asset management code",
            Format::Ascii { bytes: 32 },
            Unit::None,
        ),
        (0x00, 0x04, 0x04) => single("Rated voltage", Format::Ascii { bytes: 6 }, Unit::None),
        (0x00, 0x04, 0x05) => single("Rated current", Format::Ascii { bytes: 6 }, Unit::None),
        (0x00, 0x04, 0x06) => single("Maximum current", Format::Ascii { bytes: 6 }, Unit::None),
        (0x00, 0x04, 0x09) => single(
            "Active meter constant",
            decimal(3, 0, false),
            Unit::PulsesPerKilowattHour,
        ),
        (0x00, 0x04, 0x0A) => single(
            "Reactive meter constant",
            decimal(3, 0, false),
            Unit::PulsesPerKilovarHour,
        ),
        (0x00, 0x04, 0x0B) => single("Meter model", Format::Ascii { bytes: 10 }, Unit::None),
        (0x00, 0x04, 0x0C) => single("Production date", Format::Ascii { bytes: 10 }, Unit::None),
        (0x00, 0x04, 0x0D) => single("Protocol version", Format::Ascii { bytes: 16 }, Unit::None),
        (0x00, 0x05, 0x01..=0x07) => Some((
            "Meter status word",
            Format::Bits { bytes: 2 },
            1,
            Unit::None,
            Qualifier::Number(d0),
        )),
        (0x00, 0x05, BLOCK) => Some((
            "Meter status words 1 to 7",
            Format::Bits { bytes: 2 },
            7,
            Unit::None,
            Qualifier::Block,
        )),
        (0x00, 0x07, 0x01..=0x05) => {
            let name = match d0 {
                0x01 => "Modulated infrared port baud-rate word",
                0x02 => "Contact infrared port baud-rate word",
                0x03 => "Communication port 1 baud-rate word",
                0x04 => "Communication port 2 baud-rate word",
                _ => "Communication port 3 baud-rate word",
            };
            single(name, Format::Bits { bytes: 1 }, Unit::None)
        }
        (0x00, 0x0B, 0x01..=0x03) => Some((
            "Settlement day",
            Format::SettlementDay,
            1,
            Unit::None,
            Qualifier::Number(d0),
        )),
        // DI0 01..=0A name levels 0..=9.
        (0x00, 0x0C, 0x01..=0x0A) => Some((
            "Password of level",
            Format::Digits { bytes: 4 },
            1,
            Unit::None,
            Qualifier::Number(d0 - 1),
        )),
        (0x00, 0x0E, 0x01) => single(
            "Forward active power upper limit",
            decimal(3, 4, false),
            Unit::Kilowatt,
        ),
        (0x00, 0x0E, 0x02) => single(
            "Reverse active power upper limit",
            decimal(3, 4, false),
            Unit::Kilowatt,
        ),
        (0x00, 0x0E, 0x03) => single("Voltage upper limit", decimal(2, 1, false), Unit::Volt),
        (0x00, 0x0E, 0x04) => single("Voltage lower limit", decimal(2, 1, false), Unit::Volt),
        (0x01 | 0x02, 0x00, 0x00) => Some((
            if d2 == 0x01 {
                "First-set time-zone table"
            } else {
                "Second-set time-zone table"
            },
            Format::TimeZone,
            TOU_CAP,
            Unit::None,
            Qualifier::None,
        )),
        (0x01 | 0x02, 0x00, 0x01..=0x08) => Some((
            if d2 == 0x01 {
                "First-set day-period table"
            } else {
                "Second-set day-period table"
            },
            Format::DayPeriod,
            TOU_CAP,
            Unit::None,
            Qualifier::Number(d0),
        )),
        _ => None,
    }
}

fn freeze_2007(d2: u8, d1: u8, d0: u8) -> Option<Entry> {
    // Only the daily freezes (DI2 = 06), previous 1..=62 (DI0 01..=3E).
    if d2 != 0x06 || !(0x01..=0x3E).contains(&d0) {
        return None;
    }
    let qualifier = Qualifier::Freeze(d0);
    match d1 {
        0x00 => Some((
            "Daily freeze time",
            Format::DateTimeMinutes,
            1,
            Unit::None,
            qualifier,
        )),
        0x01..=0x08 => {
            let &(name, unit, signed) = ENERGY_QUANTITIES.get(usize::from(d1))?;
            Some((name, energy_format(signed), NUMBERS_CAP, unit, qualifier))
        }
        0x09 | 0x0A => {
            let &(name, unit) = DEMAND_QUANTITIES.get(usize::from(d1 - 0x09))?;
            Some((name, DEMAND_FORMAT, DEMANDS_CAP, unit, qualifier))
        }
        _ => None,
    }
}

#[inline]
fn lookup_1997(hi: u8, lo: u8) -> Option<Entry> {
    let (kind, index) = (lo >> 4, lo & 0x0F);
    match hi {
        // Active (90, 94 last month) and reactive (91, 95) energy, quantity 1 or 2.
        0x90 | 0x91 | 0x94 | 0x95 => {
            let (name, unit) = match (hi & 0x01, kind) {
                (0, 1) => ("Forward active energy", Unit::KilowattHour),
                (0, 2) => ("Reverse active energy", Unit::KilowattHour),
                (1, 1) => ("Forward reactive energy", Unit::KilovarHour),
                (1, 2) => ("Reverse reactive energy", Unit::KilovarHour),
                _ => return None,
            };
            // Total + tariffs 1..=14.
            let max_items = if index == 0x0F { 15 } else { 1 };
            let tariff = if index == 0x0F { BLOCK } else { index };
            let settlement = u8::from(hi >= 0x94);
            Some((
                name,
                energy_format(false),
                max_items,
                unit,
                Qualifier::Tariff { tariff, settlement },
            ))
        }
        0xB6 => {
            let (name, format, unit, first_phase) = match kind {
                0x1 => ("Voltage", decimal(2, 0, false), Unit::Volt, 1),
                0x2 => ("Current", decimal(2, 2, false), Unit::Ampere, 1),
                0x3 => ("Active power", decimal(3, 4, false), Unit::Kilowatt, 0),
                0x4 => ("Reactive power", decimal(2, 2, false), Unit::Kilovar, 0),
                0x5 => ("Power factor", decimal(2, 3, false), Unit::None, 0),
                _ => return None,
            };
            let phase = if index == 0x0F { BLOCK } else { index };
            per_phase(name, format, unit, first_phase, phase, 0)
        }
        0xC0 => {
            let single = |name, format, unit| Some((name, format, 1, unit, Qualifier::None));
            match lo {
                0x10 => single("Date and weekday", Format::DateWeekday, Unit::None),
                0x11 => single("Time", Format::Time, Unit::None),
                0x30 => single(
                    "Active meter constant",
                    decimal(3, 0, false),
                    Unit::PulsesPerKilowattHour,
                ),
                0x31 => single(
                    "Reactive meter constant",
                    decimal(3, 0, false),
                    Unit::PulsesPerKilovarHour,
                ),
                0x32 => single("Meter number", Format::Digits { bytes: 6 }, Unit::None),
                0x33 => single("User number", Format::Digits { bytes: 6 }, Unit::None),
                0x34 => single("Device code", Format::Digits { bytes: 6 }, Unit::None),
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::ToString;

    use super::*;

    fn info(di: Di) -> DiInfo {
        lookup(di).unwrap_or_else(|| panic!("{di} should be catalogued"))
    }

    const SPEC_2007_ROWS: &[(u32, Format, u8, Unit)] = &[
        (0x0000_0000, decimal(4, 2, true), 1, Unit::KilowattHour),
        (0x0000_0100, decimal(4, 2, true), 1, Unit::KilowattHour),
        (0x0000_0400, decimal(4, 2, true), 1, Unit::KilowattHour),
        (0x0001_0000, decimal(4, 2, false), 1, Unit::KilowattHour),
        (0x0001_0100, decimal(4, 2, false), 1, Unit::KilowattHour),
        (0x0001_0400, decimal(4, 2, false), 1, Unit::KilowattHour),
        (0x0001_FF00, decimal(4, 2, false), 64, Unit::KilowattHour),
        (0x0001_0001, decimal(4, 2, false), 1, Unit::KilowattHour),
        (0x0001_3F0C, decimal(4, 2, false), 1, Unit::KilowattHour),
        (0x0002_0000, decimal(4, 2, false), 1, Unit::KilowattHour),
        (0x0002_0400, decimal(4, 2, false), 1, Unit::KilowattHour),
        (0x0003_0000, decimal(4, 2, true), 1, Unit::KilovarHour),
        (0x0004_0000, decimal(4, 2, true), 1, Unit::KilovarHour),
        (0x0005_0000, decimal(4, 2, false), 1, Unit::KilovarHour),
        (0x0008_0000, decimal(4, 2, false), 1, Unit::KilovarHour),
        (
            0x0009_0000,
            decimal(4, 2, false),
            1,
            Unit::KilovoltAmpereHour,
        ),
        (
            0x000A_0000,
            decimal(4, 2, false),
            1,
            Unit::KilovoltAmpereHour,
        ),
        (0x0101_0000, DEMAND_FORMAT, 1, Unit::Kilowatt),
        (0x0102_0000, DEMAND_FORMAT, 1, Unit::Kilowatt),
        (0x0201_0100, decimal(2, 1, false), 1, Unit::Volt),
        (0x0201_0300, decimal(2, 1, false), 1, Unit::Volt),
        (0x0201_FF00, decimal(2, 1, false), 3, Unit::Volt),
        (0x0202_0100, decimal(3, 3, true), 1, Unit::Ampere),
        (0x0202_FF00, decimal(3, 3, true), 3, Unit::Ampere),
        (0x0203_0000, decimal(3, 4, true), 1, Unit::Kilowatt),
        (0x0203_0300, decimal(3, 4, true), 1, Unit::Kilowatt),
        (0x0203_FF00, decimal(3, 4, true), 4, Unit::Kilowatt),
        (0x0204_0000, decimal(3, 4, true), 1, Unit::Kilovar),
        (0x0205_0000, decimal(3, 4, true), 1, Unit::KilovoltAmpere),
        (0x0206_0000, decimal(2, 3, true), 1, Unit::None),
        (0x0206_0300, decimal(2, 3, true), 1, Unit::None),
        (0x0207_0100, decimal(2, 1, false), 1, Unit::Degree),
        (0x0208_0200, decimal(2, 2, false), 1, Unit::Percent),
        (0x0209_0300, decimal(2, 2, false), 1, Unit::Percent),
        (0x020A_0101, decimal(2, 2, false), 1, Unit::Percent),
        (0x020A_0115, decimal(2, 2, false), 1, Unit::Percent),
        (0x020C_0100, decimal(2, 1, false), 1, Unit::Volt),
        (0x020C_0300, decimal(2, 1, false), 1, Unit::Volt),
        (0x0280_0001, decimal(3, 3, true), 1, Unit::Ampere),
        (0x0280_0002, decimal(2, 2, false), 1, Unit::Hertz),
        (0x0280_0003, decimal(3, 4, false), 1, Unit::Kilowatt),
        (0x0280_0004, decimal(3, 4, true), 1, Unit::Kilowatt),
        (0x0280_0005, decimal(3, 4, true), 1, Unit::Kilovar),
        (0x0280_0006, decimal(3, 4, true), 1, Unit::KilovoltAmpere),
        (0x0280_0007, decimal(2, 1, true), 1, Unit::DegreeCelsius),
        (0x0280_0008, decimal(2, 2, false), 1, Unit::Volt),
        (0x0280_0009, decimal(2, 2, false), 1, Unit::Volt),
        (0x0280_000A, decimal(4, 0, false), 1, Unit::Minute),
        (
            0x0280_000B,
            decimal(4, 4, false),
            1,
            Unit::YuanPerKilowattHour,
        ),
        (0x0301_0000, Format::EventTotal, 3, Unit::None),
        (0x0330_0100, decimal(3, 0, false), 1, Unit::Times),
        (0x0400_0101, Format::DateWeekday, 1, Unit::None),
        (0x0400_0102, Format::Time, 1, Unit::None),
        (0x0400_0103, decimal(1, 0, false), 1, Unit::Minute),
        (0x0400_0104, decimal(1, 0, false), 1, Unit::Minute),
        (0x0400_0106, Format::DateTimeMinutes, 1, Unit::None),
        (0x0400_0201, decimal(1, 0, false), 1, Unit::None),
        (0x0400_0204, decimal(1, 0, false), 1, Unit::None),
        (0x0400_0205, decimal(2, 0, false), 1, Unit::None),
        (0x0400_0401, Format::Digits { bytes: 6 }, 1, Unit::None),
        (0x0400_0402, Format::Digits { bytes: 6 }, 1, Unit::None),
        (0x0400_0403, Format::Ascii { bytes: 32 }, 1, Unit::None),
        (0x0400_0404, Format::Ascii { bytes: 6 }, 1, Unit::None),
        (0x0400_0406, Format::Ascii { bytes: 6 }, 1, Unit::None),
        (
            0x0400_0409,
            decimal(3, 0, false),
            1,
            Unit::PulsesPerKilowattHour,
        ),
        (
            0x0400_040A,
            decimal(3, 0, false),
            1,
            Unit::PulsesPerKilovarHour,
        ),
        (0x0400_040B, Format::Ascii { bytes: 10 }, 1, Unit::None),
        (0x0400_040C, Format::Ascii { bytes: 10 }, 1, Unit::None),
        (0x0400_040D, Format::Ascii { bytes: 16 }, 1, Unit::None),
        (0x0400_0501, Format::Bits { bytes: 2 }, 1, Unit::None),
        (0x0400_0507, Format::Bits { bytes: 2 }, 1, Unit::None),
        (0x0400_05FF, Format::Bits { bytes: 2 }, 7, Unit::None),
        (0x0400_0703, Format::Bits { bytes: 1 }, 1, Unit::None),
        (0x0400_0B01, Format::SettlementDay, 1, Unit::None),
        (0x0400_0B03, Format::SettlementDay, 1, Unit::None),
        (0x0400_0C01, Format::Digits { bytes: 4 }, 1, Unit::None),
        (0x0400_0C0A, Format::Digits { bytes: 4 }, 1, Unit::None),
        (0x0400_0E01, decimal(3, 4, false), 1, Unit::Kilowatt),
        (0x0400_0E02, decimal(3, 4, false), 1, Unit::Kilowatt),
        (0x0400_0E03, decimal(2, 1, false), 1, Unit::Volt),
        (0x0400_0E04, decimal(2, 1, false), 1, Unit::Volt),
        (0x0401_0000, Format::TimeZone, 14, Unit::None),
        (0x0401_0001, Format::DayPeriod, 14, Unit::None),
        (0x0401_0008, Format::DayPeriod, 14, Unit::None),
        (0x0402_0000, Format::TimeZone, 14, Unit::None),
        (0x0402_0008, Format::DayPeriod, 14, Unit::None),
        (0x0400_0107, Format::DateTimeMinutes, 1, Unit::None),
        (0x0400_0108, Format::DateTimeMinutes, 1, Unit::None),
        (0x0400_0109, Format::DateTimeMinutes, 1, Unit::None),
        (0x0400_0207, decimal(1, 0, false), 1, Unit::None),
        (0x0506_0001, Format::DateTimeMinutes, 1, Unit::None),
        (0x0506_0101, decimal(4, 2, false), 64, Unit::KilowattHour),
    ];

    /// Every row of spec §3.3: DI, format, max items, unit.
    #[test]
    fn spec_2007_rows_resolve() {
        for &(di, format, max_items, unit) in SPEC_2007_ROWS {
            let got = info(Di::V2007(di));
            assert_eq!(
                (got.format, got.max_items, got.unit),
                (format, max_items, unit),
                "DI {di:08X}"
            );
        }
    }

    const SPEC_1997_ROWS: &[(u16, Format, u8, Unit)] = &[
        (0x9010, decimal(4, 2, false), 1, Unit::KilowattHour),
        (0x9011, decimal(4, 2, false), 1, Unit::KilowattHour),
        (0x9014, decimal(4, 2, false), 1, Unit::KilowattHour),
        (0x901F, decimal(4, 2, false), 15, Unit::KilowattHour),
        (0x9020, decimal(4, 2, false), 1, Unit::KilowattHour),
        (0x9110, decimal(4, 2, false), 1, Unit::KilovarHour),
        (0x9410, decimal(4, 2, false), 1, Unit::KilowattHour),
        (0xB611, decimal(2, 0, false), 1, Unit::Volt),
        (0xB613, decimal(2, 0, false), 1, Unit::Volt),
        (0xB621, decimal(2, 2, false), 1, Unit::Ampere),
        (0xB623, decimal(2, 2, false), 1, Unit::Ampere),
        (0xB630, decimal(3, 4, false), 1, Unit::Kilowatt),
        (0xB633, decimal(3, 4, false), 1, Unit::Kilowatt),
        (0xB640, decimal(2, 2, false), 1, Unit::Kilovar),
        (0xB643, decimal(2, 2, false), 1, Unit::Kilovar),
        (0xB650, decimal(2, 3, false), 1, Unit::None),
        (0xB653, decimal(2, 3, false), 1, Unit::None),
        (0xC010, Format::DateWeekday, 1, Unit::None),
        (0xC011, Format::Time, 1, Unit::None),
        (0xC030, decimal(3, 0, false), 1, Unit::PulsesPerKilowattHour),
        (0xC031, decimal(3, 0, false), 1, Unit::PulsesPerKilovarHour),
        (0xC032, Format::Digits { bytes: 6 }, 1, Unit::None),
        (0xC033, Format::Digits { bytes: 6 }, 1, Unit::None),
        (0xC034, Format::Digits { bytes: 6 }, 1, Unit::None),
    ];

    /// Every row of spec §3.4.
    #[test]
    fn spec_1997_rows_resolve() {
        for &(di, format, max_items, unit) in SPEC_1997_ROWS {
            let got = info(Di::V1997(di));
            assert_eq!(
                (got.format, got.max_items, got.unit),
                (format, max_items, unit),
                "DI {di:04X}"
            );
        }
    }

    #[test]
    fn out_of_pattern_identifiers_are_unknown() {
        for di in [
            0x0001_4000, // tariff 64
            0x0001_000D, // settlement 13
            0x000B_0000, // no quantity 0B
            0x0100_0000, // demand has no quantity 00
            0x0201_0000, // voltage has no total
            0x0201_0400, // no phase D
            0x0201_0101, // DI0 must be 00
            0x020A_0116, // harmonic 22
            0x020A_0001, // harmonic of no phase
            0x0506_003F, // freeze 63
            0x0506_0000, // freeze 0
            0x0700_0000,
        ] {
            assert_eq!(lookup(Di::V2007(di)), None, "DI {di:08X}");
        }
        for di in [0x9030, 0xB614, 0xB610, 0xB660, 0xC012, 0x0000] {
            assert_eq!(lookup(Di::V1997(di)), None, "DI {di:04X}");
        }
    }

    #[test]
    fn units_spell_the_json_contract() {
        let expected = [
            (Unit::KilowattHour, "kWh"),
            (Unit::KilovarHour, "kvarh"),
            (Unit::KilovoltAmpereHour, "kVAh"),
            (Unit::Volt, "V"),
            (Unit::Ampere, "A"),
            (Unit::Kilowatt, "kW"),
            (Unit::Kilovar, "kvar"),
            (Unit::KilovoltAmpere, "kVA"),
            (Unit::Hertz, "Hz"),
            (Unit::Percent, "%"),
            (Unit::Degree, "°"),
            (Unit::DegreeCelsius, "°C"),
            (Unit::Minute, "min"),
            (Unit::PulsesPerKilowattHour, "imp/kWh"),
            (Unit::PulsesPerKilovarHour, "imp/kvarh"),
            (Unit::YuanPerKilowattHour, "yuan/kWh"),
            (Unit::Times, "times"),
            (Unit::None, ""),
        ];
        for (unit, text) in expected {
            assert_eq!(unit.as_str(), text);
            assert_eq!(unit.to_string(), text);
        }
    }

    #[test]
    fn full_names_carry_the_pattern_numbers() {
        let name = |di| info(di).full_name().to_string();
        assert_eq!(name(Di::V2007(0x0001_0000)), "Forward active energy, total");
        assert_eq!(
            name(Di::V2007(0x0000_3F0C)),
            "Combined active energy, tariff 63, previous settlement 12"
        );
        assert_eq!(
            name(Di::V2007(0x0001_FF00)),
            "Forward active energy, total and tariffs (block)"
        );
        assert_eq!(name(Di::V2007(0x0202_0200)), "Current, phase B");
        assert_eq!(name(Di::V2007(0x0203_0000)), "Active power, total");
        assert_eq!(name(Di::V2007(0x0201_FF00)), "Voltage (block)");
        assert_eq!(
            name(Di::V2007(0x020A_0315)),
            "Voltage harmonic content, phase C, order 21"
        );
        assert_eq!(name(Di::V2007(0x0400_0C01)), "Password of level 0");
        assert_eq!(name(Di::V2007(0x0401_0003)), "First-set day-period table 3");
        assert_eq!(
            name(Di::V2007(0x0506_0102)),
            "Forward active energy, previous freeze 2"
        );
        assert_eq!(
            name(Di::V1997(0x9410)),
            "Forward active energy, total, previous settlement 1"
        );
        assert_eq!(name(Di::V1997(0xB62F)), "Current (block)");
    }

    /// Walks a large slice of the identifier space: every catalogued entry must be
    /// self-consistent, whatever pattern produced it.
    #[test]
    fn every_entry_is_consistent() {
        let mut checked = 0u32;
        let mut check = |got: DiInfo| {
            assert_eq!(
                usize::from(got.item_len),
                got.format.item_len(),
                "{}",
                got.di
            );
            assert_eq!(got.signed, got.format.is_signed(), "{}", got.di);
            assert!(got.max_items >= 1, "{}", got.di);
            // A block must fit the value decoder's capacities and a 255-byte field
            // must be able to hold at least one item.
            assert!(usize::from(got.item_len) <= 251, "{}", got.di);
            let single_only = matches!(
                got.format,
                Format::DateWeekday
                    | Format::Time
                    | Format::DateTimeMinutes
                    | Format::DateTimeSeconds
                    | Format::Digits { .. }
                    | Format::Ascii { .. }
                    | Format::SettlementDay
            );
            assert!(!single_only || got.max_items == 1, "{}", got.di);
            let capacity = match got.format {
                Format::Demand { .. } => MAX_DEMANDS,
                Format::TimeZone | Format::DayPeriod => MAX_TOU_ENTRIES,
                _ => MAX_NUMBERS,
            };
            assert!(usize::from(got.max_items) <= capacity, "{}", got.di);
            assert_eq!(got.di, got.di);
            checked += 1;
        };
        let sample_d0 = [
            0x00, 0x01, 0x02, 0x03, 0x07, 0x0A, 0x0B, 0x0C, 0x0D, 0x15, 0x3E, 0x3F, 0xFF,
        ];
        for d3 in 0x00..=0x06u32 {
            for d2 in 0x00..=0xFFu32 {
                for d1 in 0x00..=0xFFu32 {
                    for &d0 in &sample_d0 {
                        let di = d3 << 24 | d2 << 16 | d1 << 8 | d0;
                        if let Some(got) = lookup(Di::V2007(di)) {
                            check(got);
                        }
                    }
                }
            }
        }
        for di in 0..=u16::MAX {
            if let Some(got) = lookup(Di::V1997(di)) {
                check(got);
            }
        }
        assert!(checked > 10_000, "only {checked} entries found");
    }
}
