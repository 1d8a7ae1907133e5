//! The tariff model: fixed capacity, so the same types work with and without a heap.

use chrono::{Datelike, FixedOffset, NaiveDate, Weekday};
use heapless::{String, Vec};
use rust_decimal::Decimal;

use crate::Error;

/// Most tariff versions one tariff holds.
pub const MAX_VERSIONS: usize = 4;
/// Most periods (price rows) one version defines.
pub const MAX_PERIODS: usize = 8;
/// Most slots in one day table: 48, one per half hour as pile protocols send them.
pub const MAX_SLOTS: usize = 48;
/// Most day tables one version holds.
pub const MAX_DAY_TABLES: usize = 8;
/// Most seasons one version defines.
pub const MAX_SEASONS: usize = 4;
/// Most day types one version defines.
pub const MAX_DAY_TYPES: usize = 4;
/// Most holiday dates one version lists.
pub const MAX_HOLIDAYS: usize = 32;
/// Most energy tiers one version defines.
pub const MAX_TIERS: usize = 4;
/// Longest name (bytes) of a season, day type, named period or tariff.
pub const NAME_LEN: usize = 32;

/// A short name stored inline.
pub type Name = String<NAME_LEN>;

fn name_from(s: &str) -> Result<Name, Error> {
    let mut n = Name::new();
    n.push_str(s).map_err(|_| Error::Capacity {
        what: "bytes in a name",
        max: NAME_LEN,
    })?;
    Ok(n)
}

fn push<T, const N: usize>(v: &mut Vec<T, N>, item: T, what: &'static str) -> Result<u8, Error> {
    let index = v.len();
    v.push(item).map_err(|_| Error::Capacity { what, max: N })?;
    // Every capacity above is far below 256.
    u8::try_from(index).map_err(|_| Error::Capacity { what, max: N })
}

/// A currency and the number of decimals of its minor unit (2 for CNY, EUR and USD, 0 for JPY).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Currency {
    code: [u8; 3],
    scale: u32,
}

impl Currency {
    /// A currency from its ISO 4217 letters and minor-unit scale.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] when `code` is not three ASCII letters or `scale` exceeds 6.
    pub fn new(code: &str, scale: u32) -> Result<Self, Error> {
        let bytes: [u8; 3] = code
            .as_bytes()
            .try_into()
            .map_err(|_| Error::InvalidValue {
                what: "currency code length",
                value: u32::try_from(code.len()).unwrap_or(u32::MAX),
            })?;
        if !bytes.iter().all(u8::is_ascii_alphabetic) {
            return Err(Error::InvalidValue {
                what: "currency code letter",
                value: 0,
            });
        }
        if scale > 6 {
            return Err(Error::InvalidValue {
                what: "currency scale",
                value: scale,
            });
        }
        Ok(Self {
            code: bytes.map(|b| b.to_ascii_uppercase()),
            scale,
        })
    }

    /// The ISO 4217 code, e.g. `"CNY"`.
    pub fn code(&self) -> &str {
        // Only ASCII letters are accepted by `new`.
        core::str::from_utf8(&self.code).unwrap_or("???")
    }

    /// Decimals of the minor unit: the scale every rounding point rounds to.
    pub fn scale(&self) -> u32 {
        self.scale
    }
}

/// Whether the tariff's prices include tax, and at what rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tax {
    /// Rate in percent, e.g. `19` for 19 %.
    pub rate_percent: Decimal,
    /// `true` when every stated price already includes the tax (consumer prices).
    pub prices_include_tax: bool,
}

impl Tax {
    /// No tax: rate 0 %, prices exclusive.
    pub const NONE: Self = Self {
        rate_percent: Decimal::ZERO,
        prices_include_tax: false,
    };
}

/// The time zone whose local wall time the tariff's tables, seasons and dates are written in.
///
/// # DST rule (one rule, both directions)
/// The period of an instant is the one the day table names for the **local wall time shown at
/// that instant**. So in a spring-forward gap the skipped wall times never occur (a boundary
/// inside the gap takes effect at the end of the gap), and in a fall-back fold the repeated
/// wall times occur twice, each time with the period the table names. This is what a meter
/// switching rates on its own local clock does. Durations are always measured on UTC instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Zone {
    /// A fixed offset from UTC (no DST), e.g. `+08:00`.
    Fixed(FixedOffset),
    /// A named IANA zone, e.g. `Europe/Berlin`.
    #[cfg(feature = "tz")]
    Named(chrono_tz::Tz),
}

impl Zone {
    /// UTC itself.
    pub const UTC: Self = Self::Fixed(match FixedOffset::east_opt(0) {
        Some(o) => o,
        None => unreachable!(),
    });

    /// Offset of local wall time from UTC at the UTC instant `utc_ms`, in milliseconds.
    #[cfg_attr(
        not(feature = "tz"),
        expect(
            unused_variables,
            clippy::unnecessary_wraps,
            reason = "only named zones need the instant and can fail"
        )
    )]
    pub(crate) fn offset_ms(self, utc_ms: i64) -> Result<i64, Error> {
        match self {
            Self::Fixed(o) => Ok(i64::from(o.local_minus_utc()) * 1000),
            #[cfg(feature = "tz")]
            Self::Named(tz) => {
                use chrono::{Offset, TimeZone};
                let utc = chrono::DateTime::from_timestamp_millis(utc_ms)
                    .ok_or(Error::TimeRange { millis: utc_ms })?;
                Ok(i64::from(
                    tz.offset_from_utc_datetime(&utc.naive_utc())
                        .fix()
                        .local_minus_utc(),
                ) * 1000)
            }
        }
    }

    /// Parses `"+08:00"`, `"-05:30"`, `"UTC"`/`"Z"`, or (with feature `tz`) an IANA name.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] when the text is neither.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let bad = Error::InvalidValue {
            what: "time zone",
            value: 0,
        };
        if text == "UTC" || text == "Z" {
            return Ok(Self::UTC);
        }
        if let Some(rest) = text
            .strip_prefix('+')
            .map(|r| (1, r))
            .or_else(|| text.strip_prefix('-').map(|r| (-1, r)))
        {
            let (sign, hm) = rest;
            let (h, m) = hm.split_once(':').ok_or(bad.clone())?;
            let h: i32 = h.parse().map_err(|_| bad.clone())?;
            let m: i32 = m.parse().map_err(|_| bad.clone())?;
            if !(0..=23).contains(&h) || !(0..=59).contains(&m) {
                return Err(bad);
            }
            return FixedOffset::east_opt(sign * (h * 3600 + m * 60))
                .map(Self::Fixed)
                .ok_or(bad);
        }
        #[cfg(feature = "tz")]
        {
            text.parse::<chrono_tz::Tz>()
                .map(Self::Named)
                .map_err(|_| bad)
        }
        #[cfg(not(feature = "tz"))]
        {
            Err(bad)
        }
    }
}

impl core::fmt::Display for Zone {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Fixed(o) => write!(f, "{o}"),
            #[cfg(feature = "tz")]
            Self::Named(tz) => f.write_str(tz.name()),
        }
    }
}

/// The class of a time-of-use period (尖峰平谷 and friends).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PeriodKind {
    /// 尖 sharp / critical peak.
    Sharp,
    /// 峰 peak.
    Peak,
    /// 平 flat / shoulder.
    Flat,
    /// 谷 valley / off-peak.
    Valley,
    /// 深谷 deep valley.
    DeepValley,
    /// Any other name, e.g. `"standard"`.
    Named(Name),
}

impl PeriodKind {
    /// Reads a kind: `sharp`, `peak`, `flat`, `valley`, `deep_valley` (also 尖 峰 平 谷 深谷);
    /// anything else becomes [`PeriodKind::Named`].
    ///
    /// # Errors
    /// [`Error::Capacity`] for a name longer than [`NAME_LEN`] bytes,
    /// [`Error::InvalidValue`] for an empty name.
    pub fn parse(text: &str) -> Result<Self, Error> {
        Ok(match text {
            "sharp" | "尖" => Self::Sharp,
            "peak" | "峰" => Self::Peak,
            "flat" | "平" => Self::Flat,
            "valley" | "谷" => Self::Valley,
            "deep_valley" | "深谷" => Self::DeepValley,
            "" => {
                return Err(Error::InvalidValue {
                    what: "empty period name",
                    value: 0,
                });
            }
            other => Self::Named(name_from(other)?),
        })
    }

    /// The name [`PeriodKind::parse`] reads back.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Sharp => "sharp",
            Self::Peak => "peak",
            Self::Flat => "flat",
            Self::Valley => "valley",
            Self::DeepValley => "deep_valley",
            Self::Named(n) => n.as_str(),
        }
    }
}

impl core::fmt::Display for PeriodKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Prices of one period, per kWh, in the tariff's currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// The period's class.
    pub kind: PeriodKind,
    /// Electricity price per kWh (电费).
    pub energy_price: Decimal,
    /// Service fee per kWh (服务费).
    pub service_price: Decimal,
    /// The meter rate register (1-based, e.g. DL/T 645 rate 1 = 尖) that counts this period's
    /// energy, for [`Attribution::RateRegisters`](crate::Attribution::RateRegisters).
    pub meter_rate: Option<u8>,
}

impl Period {
    /// A period with its two per-kWh prices and no meter rate.
    pub fn new(kind: PeriodKind, energy_price: Decimal, service_price: Decimal) -> Self {
        Self {
            kind,
            energy_price,
            service_price,
            meter_rate: None,
        }
    }

    /// Maps the period to the meter's rate register `rate` (1-based).
    #[must_use]
    pub fn with_meter_rate(mut self, rate: u8) -> Self {
        self.meter_rate = Some(rate);
        self
    }
}

/// A month and day, recurring every year (`02-29` only exists in leap years).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct MonthDay {
    month: u8,
    day: u8,
}

impl MonthDay {
    /// A month (1–12) and day (1–31, checked against a leap year).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] when the pair is not a date of a leap year.
    pub fn new(month: u8, day: u8) -> Result<Self, Error> {
        if NaiveDate::from_ymd_opt(2000, u32::from(month), u32::from(day)).is_none() {
            return Err(Error::InvalidValue {
                what: "month-day",
                value: u32::from(month) * 100 + u32::from(day),
            });
        }
        Ok(Self { month, day })
    }

    fn of(date: NaiveDate) -> Self {
        // Month and day of a valid date always fit.
        Self {
            month: u8::try_from(date.month()).unwrap_or(u8::MAX),
            day: u8::try_from(date.day()).unwrap_or(u8::MAX),
        }
    }

    /// Month, 1–12.
    pub fn month(&self) -> u8 {
        self.month
    }

    /// Day of month.
    pub fn day(&self) -> u8 {
        self.day
    }
}

/// A season: a yearly recurring range of dates, both ends inclusive; `from > to` wraps over New Year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Season {
    /// Name shown on bills, e.g. `"summer"`.
    pub name: Name,
    /// First day (inclusive).
    pub from: MonthDay,
    /// Last day (inclusive).
    pub to: MonthDay,
}

impl Season {
    /// A named season.
    ///
    /// # Errors
    /// [`Error::Capacity`] for a name longer than [`NAME_LEN`].
    pub fn new(name: &str, from: MonthDay, to: MonthDay) -> Result<Self, Error> {
        Ok(Self {
            name: name_from(name)?,
            from,
            to,
        })
    }

    fn contains(&self, date: NaiveDate) -> bool {
        let d = MonthDay::of(date);
        if self.from <= self.to {
            self.from <= d && d <= self.to
        } else {
            d >= self.from || d <= self.to
        }
    }
}

/// A set of weekdays as a bit mask (bit 0 = Monday).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Weekdays(u8);

impl Weekdays {
    /// Monday to Friday.
    pub const WORKDAYS: Self = Self(0b0001_1111);
    /// Saturday and Sunday.
    pub const WEEKEND: Self = Self(0b0110_0000);
    /// Every day.
    pub const ALL: Self = Self(0b0111_1111);

    /// The set with `day` added.
    #[must_use]
    pub fn with(self, day: Weekday) -> Self {
        Self(self.0 | 1 << day.num_days_from_monday())
    }

    /// Whether `day` is in the set.
    pub fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << day.num_days_from_monday()) != 0
    }
}

/// A day type: the weekdays it covers, and whether it is the type of holidays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayType {
    /// Name, e.g. `"workday"`.
    pub name: Name,
    /// Weekdays of this type (on non-holidays).
    pub weekdays: Weekdays,
    /// `true`: dates in the version's holiday calendar have this type, whatever their weekday.
    pub holidays: bool,
}

impl DayType {
    /// A named day type.
    ///
    /// # Errors
    /// [`Error::Capacity`] for a name longer than [`NAME_LEN`].
    pub fn new(name: &str, weekdays: Weekdays, holidays: bool) -> Result<Self, Error> {
        Ok(Self {
            name: name_from(name)?,
            weekdays,
            holidays,
        })
    }
}

/// One slot of a day table: from `start_minute` (after local midnight) to the next slot's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Start, minutes after local midnight (0–1439).
    pub start_minute: u16,
    /// Index of the period in the version.
    pub period: u8,
}

/// A daily period table. Slots are given by their start only, so a table has no gaps and no
/// overlaps by construction; the first slot starts at 00:00 and the last runs to midnight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayTable {
    /// Season index this table is for; `None`: every season.
    pub season: Option<u8>,
    /// Day-type index this table is for; `None`: every day type.
    pub day_type: Option<u8>,
    slots: Vec<Slot, MAX_SLOTS>,
}

impl DayTable {
    /// An empty table for a season and day type (`None` = any).
    pub fn new(season: Option<u8>, day_type: Option<u8>) -> Self {
        Self {
            season,
            day_type,
            slots: Vec::new(),
        }
    }

    /// Appends a slot starting at `hour:minute` local time.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for a bad time, [`Error::DayNotCovered`] when the first slot is
    /// not 00:00, [`Error::SlotOrder`] when it does not start after the previous slot,
    /// [`Error::Capacity`] beyond [`MAX_SLOTS`].
    pub fn push_slot(&mut self, hour: u8, minute: u8, period: u8) -> Result<(), Error> {
        if hour > 23 || minute > 59 {
            return Err(Error::InvalidValue {
                what: "time of day (hhmm)",
                value: u32::from(hour) * 100 + u32::from(minute),
            });
        }
        let start = u16::from(hour) * 60 + u16::from(minute);
        match self.slots.last() {
            None if start != 0 => return Err(Error::DayNotCovered { minute: start }),
            Some(prev) if prev.start_minute >= start => {
                return Err(Error::SlotOrder {
                    minute: start,
                    previous: prev.start_minute,
                });
            }
            _ => {}
        }
        push(
            &mut self.slots,
            Slot {
                start_minute: start,
                period,
            },
            "slots in a day table",
        )
        .map(drop)
    }

    /// Builds a table from 48 half-hour period indices, slot 0 = 00:00–00:30 (the YKC layout);
    /// consecutive equal slots are merged.
    ///
    /// # Errors
    /// As [`DayTable::push_slot`] (never in practice for 48 entries).
    pub fn from_half_hours(
        season: Option<u8>,
        day_type: Option<u8>,
        periods: &[u8; 48],
    ) -> Result<Self, Error> {
        let mut t = Self::new(season, day_type);
        let mut last = None;
        for (i, &p) in (0u8..).zip(periods.iter()) {
            if last != Some(p) {
                t.push_slot(i / 2, (i % 2) * 30, p)?;
                last = Some(p);
            }
        }
        Ok(t)
    }

    /// The slots in order.
    pub fn slots(&self) -> &[Slot] {
        &self.slots
    }

    /// The slot index covering `minute` and the minute the next slot starts (1440 at the end).
    pub(crate) fn lookup(&self, minute_of_day: u16) -> Option<(u8, u16)> {
        let i = self
            .slots
            .partition_point(|s| s.start_minute <= minute_of_day)
            .checked_sub(1)?;
        let slot = self.slots.get(i)?;
        let next = self.slots.get(i + 1).map_or(1440, |s| s.start_minute);
        Some((slot.period, next))
    }
}

/// An energy tier: from `from_wh` of cumulative session energy on, `energy_adjust` is added to
/// every period's energy price (negative for volume discounts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    /// Cumulative session energy (Wh) at which the tier begins.
    pub from_wh: u64,
    /// Added to the energy price per kWh.
    pub energy_adjust: Decimal,
}

/// Per-session fees of a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SessionFees {
    /// Charged once per session.
    pub flat: Decimal,
    /// Per hour while the vehicle is charging.
    pub time_per_hour: Decimal,
    /// Per hour while idle, once the idle time of the session exceeds the grace.
    pub parking_per_hour: Decimal,
    /// Idle seconds per session that are free of the parking fee.
    pub parking_grace_secs: u32,
    /// Lowest session price (in the tariff's price basis).
    pub min_price: Option<Decimal>,
    /// Highest session price (in the tariff's price basis).
    pub max_price: Option<Decimal>,
}

/// One version of a tariff: a complete schedule valid for a range of local dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TariffVersion {
    /// First local date the version applies (inclusive); `None`: since forever.
    pub valid_from: Option<NaiveDate>,
    /// First local date it no longer applies (exclusive); `None`: open-ended.
    pub valid_until: Option<NaiveDate>,
    /// Per-session fees.
    pub fees: SessionFees,
    periods: Vec<Period, MAX_PERIODS>,
    seasons: Vec<Season, MAX_SEASONS>,
    day_types: Vec<DayType, MAX_DAY_TYPES>,
    holidays: Vec<NaiveDate, MAX_HOLIDAYS>,
    tables: Vec<DayTable, MAX_DAY_TABLES>,
    tiers: Vec<Tier, MAX_TIERS>,
}

impl TariffVersion {
    /// An empty version valid on `[valid_from, valid_until)`.
    pub fn new(valid_from: Option<NaiveDate>, valid_until: Option<NaiveDate>) -> Self {
        Self {
            valid_from,
            valid_until,
            fees: SessionFees::default(),
            periods: Vec::new(),
            seasons: Vec::new(),
            day_types: Vec::new(),
            holidays: Vec::new(),
            tables: Vec::new(),
            tiers: Vec::new(),
        }
    }

    /// Adds a period and returns its index.
    ///
    /// # Errors
    /// [`Error::Capacity`] beyond [`MAX_PERIODS`].
    pub fn add_period(&mut self, period: Period) -> Result<u8, Error> {
        push(&mut self.periods, period, "periods")
    }

    /// Adds a season and returns its index.
    ///
    /// # Errors
    /// [`Error::Capacity`] beyond [`MAX_SEASONS`].
    pub fn add_season(&mut self, season: Season) -> Result<u8, Error> {
        push(&mut self.seasons, season, "seasons")
    }

    /// Adds a day type and returns its index. Types are matched in order.
    ///
    /// # Errors
    /// [`Error::Capacity`] beyond [`MAX_DAY_TYPES`].
    pub fn add_day_type(&mut self, day_type: DayType) -> Result<u8, Error> {
        push(&mut self.day_types, day_type, "day types")
    }

    /// Adds a holiday date (it takes the day type marked `holidays`).
    ///
    /// # Errors
    /// [`Error::Capacity`] beyond [`MAX_HOLIDAYS`].
    pub fn add_holiday(&mut self, date: NaiveDate) -> Result<(), Error> {
        push(&mut self.holidays, date, "holidays").map(drop)
    }

    /// Adds a day table. Tables are matched in order: put specific ones first.
    ///
    /// # Errors
    /// [`Error::DayNotCovered`] for an empty table, [`Error::UnknownIndex`] when it names an
    /// undefined period, season or day type, [`Error::Capacity`] beyond [`MAX_DAY_TABLES`].
    pub fn add_day_table(&mut self, table: DayTable) -> Result<u8, Error> {
        if table.slots.is_empty() {
            return Err(Error::DayNotCovered { minute: 1440 });
        }
        let check = |index: Option<u8>, len: usize, what| match index {
            Some(i) if usize::from(i) >= len => Err(Error::UnknownIndex { what, index: i }),
            _ => Ok(()),
        };
        check(table.season, self.seasons.len(), "season")?;
        check(table.day_type, self.day_types.len(), "day type")?;
        for slot in &table.slots {
            check(Some(slot.period), self.periods.len(), "period")?;
        }
        push(&mut self.tables, table, "day tables")
    }

    /// Adds a tier; tiers must come in increasing `from_wh` order.
    ///
    /// # Errors
    /// [`Error::TierOrder`] when out of order, [`Error::Capacity`] beyond [`MAX_TIERS`].
    pub fn add_tier(&mut self, tier: Tier) -> Result<(), Error> {
        if let Some(prev) = self.tiers.last()
            && prev.from_wh >= tier.from_wh
        {
            return Err(Error::TierOrder {
                from_wh: tier.from_wh,
                previous_wh: prev.from_wh,
            });
        }
        push(&mut self.tiers, tier, "tiers").map(drop)
    }

    /// The periods, by index.
    pub fn periods(&self) -> &[Period] {
        &self.periods
    }
    /// The seasons, by index.
    pub fn seasons(&self) -> &[Season] {
        &self.seasons
    }
    /// The day types, by index.
    pub fn day_types(&self) -> &[DayType] {
        &self.day_types
    }
    /// The holiday dates.
    pub fn holidays(&self) -> &[NaiveDate] {
        &self.holidays
    }
    /// The day tables, in matching order.
    pub fn day_tables(&self) -> &[DayTable] {
        &self.tables
    }
    /// The tiers, by increasing start.
    pub fn tiers(&self) -> &[Tier] {
        &self.tiers
    }

    fn covers(&self, date: NaiveDate) -> bool {
        self.valid_from.is_none_or(|f| f <= date) && self.valid_until.is_none_or(|u| date < u)
    }

    /// Index of the season of `date`: the first season containing it, `None` when none does.
    pub fn season_of(&self, date: NaiveDate) -> Option<u8> {
        (0u8..)
            .zip(&self.seasons)
            .find(|(_, s)| s.contains(date))
            .map(|(i, _)| i)
    }

    /// Index of the day type of `date`: on a holiday the first type marked `holidays`; otherwise
    /// (or when no type is marked) the first type whose weekdays contain the date's weekday.
    pub fn day_type_of(&self, date: NaiveDate) -> Option<u8> {
        let indexed = || (0u8..).zip(&self.day_types);
        let holiday = if self.holidays.contains(&date) {
            indexed().find(|(_, t)| t.holidays)
        } else {
            None
        };
        holiday
            .or_else(|| indexed().find(|(_, t)| t.weekdays.contains(date.weekday())))
            .map(|(i, _)| i)
    }

    /// The day table in force on `date`: the first whose season and day type both match.
    ///
    /// # Errors
    /// [`Error::NoDayTable`] when none matches.
    pub fn table_for(&self, date: NaiveDate) -> Result<&DayTable, Error> {
        let season = self.season_of(date);
        let day_type = self.day_type_of(date);
        self.tables
            .iter()
            .find(|t| {
                t.season.is_none_or(|s| Some(s) == season)
                    && t.day_type.is_none_or(|d| Some(d) == day_type)
            })
            .ok_or(Error::NoDayTable { date })
    }

    /// The energy price adjustment of the tier reached at `energy_wh`, and where the next tier starts.
    pub(crate) fn tier_at(&self, energy_wh: u64) -> (u8, Decimal, Option<u64>) {
        let i = self.tiers.partition_point(|t| t.from_wh <= energy_wh);
        let adjust = i
            .checked_sub(1)
            .and_then(|j| self.tiers.get(j))
            .map_or(Decimal::ZERO, |t| t.energy_adjust);
        (
            u8::try_from(i).unwrap_or(u8::MAX),
            adjust,
            self.tiers.get(i).map(|t| t.from_wh),
        )
    }
}

/// A tariff: currency, zone, tax, and up to [`MAX_VERSIONS`] versions over time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tariff {
    name: Name,
    currency: Currency,
    zone: Zone,
    tax: Tax,
    versions: Vec<TariffVersion, MAX_VERSIONS>,
}

impl Tariff {
    /// A tariff without versions.
    ///
    /// # Errors
    /// [`Error::Capacity`] for a name longer than [`NAME_LEN`].
    pub fn new(name: &str, currency: Currency, zone: Zone, tax: Tax) -> Result<Self, Error> {
        Ok(Self {
            name: name_from(name)?,
            currency,
            zone,
            tax,
            versions: Vec::new(),
        })
    }

    /// Adds a version.
    ///
    /// # Errors
    /// [`Error::VersionOverlap`] when its dates overlap an existing version's,
    /// [`Error::DayNotCovered`] when it has no day table, [`Error::Capacity`] beyond [`MAX_VERSIONS`].
    pub fn add_version(&mut self, version: TariffVersion) -> Result<u8, Error> {
        if version.tables.is_empty() {
            return Err(Error::DayNotCovered { minute: 0 });
        }
        for v in &self.versions {
            let start = match (v.valid_from, version.valid_from) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            let end = match (v.valid_until, version.valid_until) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let overlap = match (start, end) {
                (Some(s), Some(e)) => s < e,
                _ => true,
            };
            if overlap {
                return Err(Error::VersionOverlap {
                    date: start.unwrap_or(NaiveDate::MIN),
                });
            }
        }
        push(&mut self.versions, version, "tariff versions")
    }

    /// The tariff's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }
    /// The zone of the tariff's wall times.
    pub fn zone(&self) -> Zone {
        self.zone
    }
    /// The tax rule.
    pub fn tax(&self) -> Tax {
        self.tax
    }
    /// The versions.
    pub fn versions(&self) -> &[TariffVersion] {
        &self.versions
    }

    /// Index of the version valid on the local `date`.
    ///
    /// # Errors
    /// [`Error::NoVersion`] when none is.
    pub fn version_index(&self, date: NaiveDate) -> Result<u8, Error> {
        (0u8..)
            .zip(&self.versions)
            .find(|(_, v)| v.covers(date))
            .map(|(i, _)| i)
            .ok_or(Error::NoVersion { date })
    }
}
