//! The crate's one error type.

use chrono::{DateTime, NaiveDate, Utc};

/// Everything that can go wrong while building a tariff or pricing a session.
///
/// Every variant carries the data needed to say what was wrong and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A fixed-capacity list of the model is full.
    #[error("too many {what}: at most {max} are supported")]
    Capacity {
        /// What overflowed, e.g. `"slots in a day table"`.
        what: &'static str,
        /// The capacity.
        max: usize,
    },
    /// A day-table slot does not start after the previous one.
    #[error(
        "day table slot starting at minute {minute} must start after the previous slot (minute {previous})"
    )]
    SlotOrder {
        /// Start of the offending slot, minutes after local midnight.
        minute: u16,
        /// Start of the slot before it.
        previous: u16,
    },
    /// A day table's first slot must start at 00:00 so the whole day is covered.
    #[error("day table must start at 00:00, first slot starts at minute {minute}")]
    DayNotCovered {
        /// Start of the first slot, minutes after local midnight.
        minute: u16,
    },
    /// A minute of day outside `0..1440`, or a bad month/day.
    #[error("invalid {what}: {value}")]
    InvalidValue {
        /// Which field.
        what: &'static str,
        /// The rejected value.
        value: u32,
    },
    /// An index refers to a period, season or day type that the version does not define.
    #[error("unknown {what} #{index}")]
    UnknownIndex {
        /// `"period"`, `"season"` or `"day type"`.
        what: &'static str,
        /// The index.
        index: u8,
    },
    /// Two tariff versions are valid on the same date.
    #[error("tariff versions overlap on {date}")]
    VersionOverlap {
        /// First date covered by both.
        date: NaiveDate,
    },
    /// Tiers must be listed by strictly increasing start energy.
    #[error("tier starting at {from_wh} Wh must start above the previous tier ({previous_wh} Wh)")]
    TierOrder {
        /// Start of the offending tier.
        from_wh: u64,
        /// Start of the tier before it.
        previous_wh: u64,
    },
    /// No tariff version covers the local date.
    #[error("no tariff version is valid on {date}")]
    NoVersion {
        /// The local date.
        date: NaiveDate,
    },
    /// No day table matches the local date's season and day type.
    #[error("no day table applies on {date}")]
    NoDayTable {
        /// The local date.
        date: NaiveDate,
    },
    /// A timestamp outside chrono's range, or a local time that cannot be computed.
    #[error("instant out of range ({millis} ms since the Unix epoch)")]
    TimeRange {
        /// The instant, in milliseconds since the epoch.
        millis: i64,
    },
    /// A reading earlier than the session start.
    #[error("reading at {at} is before the session start {start}")]
    BeforeStart {
        /// The reading's instant.
        at: DateTime<Utc>,
        /// The session start.
        start: DateTime<Utc>,
    },
    /// A reading (or the stop) earlier than the previous reading.
    #[error("reading at {at} is earlier than the previous reading at {previous}")]
    OutOfOrder {
        /// The offending instant.
        at: DateTime<Utc>,
        /// The previous reading's instant.
        previous: DateTime<Utc>,
    },
    /// A reading after the session stop (batch pricing).
    #[error("reading at {at} is after the session stop {stop}")]
    AfterStop {
        /// The reading's instant.
        at: DateTime<Utc>,
        /// The session stop.
        stop: DateTime<Utc>,
    },
    /// Two readings with the same instant carry different register values.
    #[error("two readings at {at} disagree")]
    ConflictingDuplicate {
        /// The shared instant.
        at: DateTime<Utc>,
    },
    /// A register went down and the decrease cannot be read as a rollover.
    #[error(
        "register {register} went down from {previous_wh} Wh to {current_wh} Wh at {at} (meter reset or replaced? use `rebase`)"
    )]
    RegisterDecreased {
        /// Register: 0 for the total, 1.. for rate registers.
        register: u8,
        /// Previous value.
        previous_wh: u64,
        /// Current value.
        current_wh: u64,
        /// The reading's instant.
        at: DateTime<Utc>,
    },
    /// Rate-register attribution was chosen but a reading lacks a register a period maps to.
    #[error("reading at {at} lacks rate register {rate}")]
    MissingRateRegister {
        /// The 1-based rate number.
        rate: u8,
        /// The reading's instant.
        at: DateTime<Utc>,
    },
    /// Rate register energy that no tariff period claims.
    #[error("rate register {rate} is not mapped to any tariff period")]
    UnmappedRate {
        /// The 1-based rate number.
        rate: u8,
    },
    /// A rate number outside `1..=MAX_RATES`.
    #[error("rate number {rate} is outside 1..={max}")]
    RateNumber {
        /// The rejected rate number.
        rate: u8,
        /// The highest supported rate number.
        max: u8,
    },
    /// A line of a readings CSV that cannot be read.
    #[error("readings CSV line {line}: {problem}")]
    Csv {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        problem: CsvProblem,
    },
    /// A decimal operation overflowed.
    #[error("amount overflow while computing {what}")]
    Overflow {
        /// Which quantity.
        what: &'static str,
    },
}

/// What is wrong with a line of a readings CSV (see the crate docs for the format).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CsvProblem {
    /// The file has no header line.
    #[error("no header line")]
    MissingHeader,
    /// The header lacks a required column.
    #[error("the header has no `{0}` column")]
    MissingColumn(&'static str),
    /// A header column name is not part of the format.
    #[error("column {0} of the header is not a known column")]
    UnknownColumn(usize),
    /// A line has a different number of fields than the header.
    #[error("{found} fields, the header has {expected}")]
    FieldCount {
        /// Fields in the header.
        expected: usize,
        /// Fields on this line.
        found: usize,
    },
    /// The timestamp is not RFC 3339.
    #[error("the timestamp is not RFC 3339 (e.g. 2025-03-03T09:30:00+08:00)")]
    Timestamp,
    /// An energy field is not a non-negative decimal in whole Wh.
    #[error("field {0} is not a non-negative energy in whole Wh")]
    Energy(usize),
    /// The state is neither `charging`, `idle` nor empty.
    #[error("the state must be `charging`, `idle` or empty")]
    State,
}
