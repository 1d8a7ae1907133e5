//! OCPI 2.2.1 (and 2.1.1) Tariff and CDR objects as serde types with exact decimals.

use alloc::{
    borrow::Cow,
    boxed::Box,
    string::{String, ToString},
    vec::Vec,
};

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};
use serde_json::value::RawValue;

/// A price with and without VAT (OCPI `Price`). A bare JSON number (OCPI 2.1.1) reads as
/// `excl_vat` with `incl_vat` unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Price {
    /// Amount excluding VAT.
    #[serde(serialize_with = "ser_decimal")]
    pub excl_vat: Decimal,
    /// Amount including VAT, when known.
    #[serde(
        serialize_with = "ser_opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub incl_vat: Option<Decimal>,
}

/// What a price component bills for (OCPI `TariffDimensionType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum TariffDimension {
    /// Per kWh; `step_size` in Wh.
    Energy,
    /// Once per session.
    Flat,
    /// Per hour charging (or reserved, under a reservation restriction); `step_size` in s.
    Time,
    /// Per hour connected but not charging; `step_size` in s.
    ParkingTime,
}

/// One price of a tariff element (OCPI `PriceComponent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct PriceComponent {
    /// The dimension billed.
    #[serde(rename = "type")]
    pub dimension: TariffDimension,
    /// Price per unit, excluding VAT.
    #[serde(deserialize_with = "de_decimal", serialize_with = "ser_decimal")]
    pub price: Decimal,
    /// VAT percentage; `None` ("no VAT applicable") is not the same as `Some(0)`.
    #[serde(
        default,
        deserialize_with = "de_opt_decimal",
        serialize_with = "ser_opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub vat: Option<Decimal>,
    /// Billing granularity (Wh for energy, seconds for time); 0 means none.
    pub step_size: u32,
}

/// Reservation restriction values (OCPI `ReservationRestrictionType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum Reservation {
    /// The element prices a reservation.
    Reservation,
    /// The element prices a reservation that expired unused.
    ReservationExpires,
}

/// When an element applies (OCPI `TariffRestrictions`); every field present must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
#[allow(clippy::struct_field_names, reason = "OCPI field names")]
pub struct Restrictions {
    /// Local start time of day, inclusive.
    #[serde(default, with = "hhmm", skip_serializing_if = "Option::is_none")]
    pub start_time: Option<NaiveTime>,
    /// Local end time of day, exclusive; `00:00` is the end of the day; before `start_time` wraps.
    #[serde(default, with = "hhmm", skip_serializing_if = "Option::is_none")]
    pub end_time: Option<NaiveTime>,
    /// Local start date, inclusive.
    #[serde(default, with = "date", skip_serializing_if = "Option::is_none")]
    pub start_date: Option<NaiveDate>,
    /// Local end date, exclusive.
    #[serde(default, with = "date", skip_serializing_if = "Option::is_none")]
    pub end_date: Option<NaiveDate>,
    /// Session energy so far at least this (kWh).
    #[serde(
        default,
        deserialize_with = "de_opt_decimal",
        serialize_with = "ser_opt_decimal"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_kwh: Option<Decimal>,
    /// Session energy so far below this (kWh).
    #[serde(
        default,
        deserialize_with = "de_opt_decimal",
        serialize_with = "ser_opt_decimal"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_kwh: Option<Decimal>,
    /// Current at least this (A).
    #[serde(
        default,
        deserialize_with = "de_opt_decimal",
        serialize_with = "ser_opt_decimal"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_current: Option<Decimal>,
    /// Current below this (A).
    #[serde(
        default,
        deserialize_with = "de_opt_decimal",
        serialize_with = "ser_opt_decimal"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_current: Option<Decimal>,
    /// Power at least this (kW).
    #[serde(
        default,
        deserialize_with = "de_opt_decimal",
        serialize_with = "ser_opt_decimal"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_power: Option<Decimal>,
    /// Power below this (kW).
    #[serde(
        default,
        deserialize_with = "de_opt_decimal",
        serialize_with = "ser_opt_decimal"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_power: Option<Decimal>,
    /// Session duration so far at least this (s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_duration: Option<u64>,
    /// Session duration so far below this (s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration: Option<u64>,
    /// Local weekdays on which the element applies.
    #[serde(default, with = "weekdays", skip_serializing_if = "Option::is_none")]
    pub day_of_week: Option<Vec<Weekday>>,
    /// Reservation pricing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation: Option<Reservation>,
}

/// One element of a tariff (OCPI `TariffElement`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct TariffElement {
    /// Prices, one per dimension at most that matters (the first of a dimension is used).
    pub price_components: Vec<PriceComponent>,
    /// When the element applies; none means always.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrictions: Option<Restrictions>,
}

/// An OCPI tariff (2.2.1 `Tariff`; 2.1.1 objects read too).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Tariff {
    /// ISO 3166 alpha-2 country of the party (absent in 2.1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    /// Party id (absent in 2.1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party_id: Option<String>,
    /// Tariff id.
    pub id: String,
    /// ISO 4217 currency.
    pub currency: String,
    /// Tariff type (`REGULAR`, `AD_HOC_PAYMENT`, …), kept as text.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub tariff_type: Option<String>,
    /// Lower bound of a session's cost.
    #[serde(
        default,
        deserialize_with = "de_opt_price",
        skip_serializing_if = "Option::is_none"
    )]
    pub min_price: Option<Price>,
    /// Upper bound of a session's cost.
    #[serde(
        default,
        deserialize_with = "de_opt_price",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_price: Option<Price>,
    /// The elements, in priority order.
    pub elements: Vec<TariffElement>,
    /// Valid from (UTC, inclusive).
    #[serde(
        default,
        deserialize_with = "de_opt_datetime",
        serialize_with = "ser_opt_datetime"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date_time: Option<DateTime<Utc>>,
    /// Valid until (UTC, exclusive).
    #[serde(
        default,
        deserialize_with = "de_opt_datetime",
        serialize_with = "ser_opt_datetime"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date_time: Option<DateTime<Utc>>,
    /// Last change.
    #[serde(
        default,
        deserialize_with = "de_opt_datetime",
        serialize_with = "ser_opt_datetime"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<DateTime<Utc>>,
}

impl Tariff {
    /// OCPI 2.1.1 tariffs have neither `country_code` nor `party_id`; their prices carry no
    /// VAT figure, so amounts including VAT are unknown.
    pub(crate) fn is_v211(&self) -> bool {
        self.country_code.is_none() && self.party_id.is_none()
    }
}

/// A CDR dimension type (OCPI `CdrDimensionType`); types this crate does not price are kept
/// as [`CdrDimensionType::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum CdrDimensionType {
    /// kWh in the period (negative: fed into the grid).
    Energy,
    /// Hours charging.
    Time,
    /// Hours connected, not charging.
    ParkingTime,
    /// Hours reserved.
    ReservationTime,
    /// Instantaneous current (A).
    Current,
    /// Highest current (A).
    MaxCurrent,
    /// Lowest current (A).
    MinCurrent,
    /// Instantaneous power (kW).
    Power,
    /// Highest power (kW).
    MaxPower,
    /// Lowest power (kW).
    MinPower,
    /// Any other type (`STATE_OF_CHARGE`, `ENERGY_IMPORT`, 2.1.1 `FLAT`, …): read, not priced.
    #[serde(other)]
    Other,
}

/// One measured value of a charging period (OCPI `CdrDimension`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CdrDimension {
    /// What was measured.
    #[serde(rename = "type")]
    pub dimension: CdrDimensionType,
    /// The value.
    #[serde(deserialize_with = "de_decimal")]
    pub volume: Decimal,
}

/// One charging period of a CDR (OCPI `ChargingPeriod`); it lasts until the next one starts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ChargingPeriod {
    /// Start of the period (UTC).
    #[serde(deserialize_with = "de_datetime")]
    pub start_date_time: DateTime<Utc>,
    /// The measured values.
    pub dimensions: Vec<CdrDimension>,
    /// The tariff the CPO names for the period (read, not used: one tariff prices a session).
    #[serde(default)]
    pub tariff_id: Option<String>,
}

impl ChargingPeriod {
    /// The volume of the first dimension of that type.
    pub(crate) fn volume(&self, dimension: CdrDimensionType) -> Option<Decimal> {
        self.dimensions
            .iter()
            .find(|d| d.dimension == dimension)
            .map(|d| d.volume)
    }
}

/// The location fields of a CDR that pricing needs (2.2.1 `cdr_location`, 2.1.1 `location`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CdrLocation {
    /// ISO 3166 alpha-3 country code.
    #[serde(default)]
    pub country: Option<String>,
    /// IANA time zone (2.1.1 `Location.time_zone`; absent from 2.2.1 `CdrLocation`).
    #[serde(default)]
    pub time_zone: Option<String>,
}

/// An OCPI CDR (2.2.1; 2.1.1 field names `stop_date_time`, `location` and number totals read too).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Cdr {
    /// CDR id.
    #[serde(default)]
    pub id: Option<String>,
    /// Session start (UTC).
    #[serde(deserialize_with = "de_datetime")]
    pub start_date_time: DateTime<Utc>,
    /// Session end (UTC).
    #[serde(deserialize_with = "de_datetime", alias = "stop_date_time")]
    pub end_date_time: DateTime<Utc>,
    /// ISO 4217 currency.
    #[serde(default)]
    pub currency: Option<String>,
    /// Where the session took place.
    #[serde(default, alias = "location")]
    pub cdr_location: Option<CdrLocation>,
    /// Tariffs embedded by the CPO.
    #[serde(default)]
    pub tariffs: Vec<Tariff>,
    /// The charging periods.
    pub charging_periods: Vec<ChargingPeriod>,
    /// A credit CDR (its totals are negated).
    #[serde(default)]
    pub credit: bool,
    /// The CPO's total cost.
    #[serde(default, deserialize_with = "de_opt_price")]
    pub total_cost: Option<Price>,
    /// The CPO's total energy (kWh).
    #[serde(default, deserialize_with = "de_opt_decimal")]
    pub total_energy: Option<Decimal>,
    /// The CPO's total time (hours).
    #[serde(default, deserialize_with = "de_opt_decimal")]
    pub total_time: Option<Decimal>,
    /// The CPO's total parking time (hours).
    #[serde(default, deserialize_with = "de_opt_decimal")]
    pub total_parking_time: Option<Decimal>,
}

// ---- exact numbers, times and dates -------------------------------------------------------

/// Reads a JSON number or numeric string from its source text, so `0.1` is exactly 0.1.
pub(crate) fn parse_decimal_text(text: &str) -> Option<Decimal> {
    if text.contains(['e', 'E']) {
        Decimal::from_scientific(text).ok()
    } else {
        Decimal::from_str_exact(text).ok()
    }
}

fn raw_decimal<E: serde::de::Error>(raw: &RawValue) -> Result<Option<Decimal>, E> {
    let text = raw.get();
    if text == "null" {
        return Ok(None);
    }
    let unquoted: String;
    let number = if text.starts_with('"') {
        unquoted = serde_json::from_str(text).map_err(E::custom)?;
        unquoted.as_str()
    } else {
        text
    };
    parse_decimal_text(number)
        .map(Some)
        .ok_or_else(|| E::custom(format_args!("expected a decimal number, found {text}")))
}

// Objects are read from text (`serde_json::from_str`), so the raw number can be borrowed
// from it rather than copied into a box for every figure of every period.
fn de_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let raw = <&'de RawValue>::deserialize(d)?;
    raw_decimal(raw)?.ok_or_else(|| D::Error::custom("expected a decimal number, found null"))
}

fn de_opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    let raw = <&'de RawValue>::deserialize(d)?;
    raw_decimal(raw)
}

#[derive(Deserialize)]
struct PriceObject {
    #[serde(deserialize_with = "de_decimal")]
    excl_vat: Decimal,
    #[serde(default, deserialize_with = "de_opt_decimal")]
    incl_vat: Option<Decimal>,
}

fn de_opt_price<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Price>, D::Error> {
    let raw = Box::<RawValue>::deserialize(d)?;
    if raw.get().starts_with('{') {
        let p: PriceObject = serde_json::from_str(raw.get()).map_err(D::Error::custom)?;
        Ok(Some(Price {
            excl_vat: p.excl_vat,
            incl_vat: p.incl_vat,
        }))
    } else {
        Ok(raw_decimal(&raw)?.map(|excl_vat| Price {
            excl_vat,
            incl_vat: None,
        }))
    }
}

/// RFC 3339; a timestamp without zone designator is UTC (OCPI `DateTime`).
pub(crate) fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|n| n.and_utc())
        })
}

/// A string borrowed from the input when it has no escapes, copied only when it has.
fn de_text<'de, D: Deserializer<'de>>(d: D) -> Result<Cow<'de, str>, D::Error> {
    struct Text;
    impl<'de> serde::de::Visitor<'de> for Text {
        type Value = Cow<'de, str>;
        fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.write_str("a string")
        }
        fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Cow::Borrowed(v))
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v.into()))
        }
    }
    d.deserialize_str(Text)
}

fn de_datetime<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let text = de_text(d)?;
    parse_datetime(&text)
        .ok_or_else(|| D::Error::custom(format_args!("invalid date-time {text:?}")))
}

fn de_opt_datetime<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(text) => parse_datetime(&text)
            .map(Some)
            .ok_or_else(|| D::Error::custom(format_args!("invalid date-time {text:?}"))),
    }
}

#[allow(clippy::ref_option, reason = "serde's serialize_with signature")]
fn ser_opt_datetime<S: Serializer>(value: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(t) => s.collect_str(&t.format("%Y-%m-%dT%H:%M:%SZ")),
        None => s.serialize_none(),
    }
}

fn ser_decimal<S: Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    // Emitted as a JSON number with exactly the decimal's digits.
    RawValue::from_string(value.normalize().to_string())
        .map_err(serde::ser::Error::custom)?
        .serialize(s)
}

#[allow(clippy::ref_option, reason = "serde's serialize_with signature")]
fn ser_opt_decimal<S: Serializer>(value: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => ser_decimal(v, s),
        None => s.serialize_none(),
    }
}

mod hhmm {
    use alloc::string::String;

    use chrono::{NaiveTime, Timelike};
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    /// Exactly `HH:MM`, 00:00 to 23:59 (`24:00` is invalid in OCPI).
    pub(super) fn parse(text: &str) -> Option<NaiveTime> {
        let bytes = text.as_bytes();
        if bytes.len() != 5 || bytes.get(2) != Some(&b':') {
            return None;
        }
        let h = text.get(..2)?;
        let m = text.get(3..)?;
        if !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<NaiveTime>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => parse(&text).map(Some).ok_or_else(|| {
                D::Error::custom(format_args!(
                    "invalid time {text:?}, expected HH:MM (00:00-23:59)"
                ))
            }),
        }
    }

    #[allow(clippy::ref_option, reason = "serde's serialize_with signature")]
    pub(super) fn serialize<S: Serializer>(
        value: &Option<NaiveTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(t) => s.collect_str(&format_args!("{:02}:{:02}", t.hour(), t.minute())),
            None => s.serialize_none(),
        }
    }
}

mod weekdays {
    use alloc::{string::String, vec::Vec};

    use chrono::Weekday;
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _, ser::SerializeSeq};

    const NAMES: [(&str, Weekday); 7] = [
        ("MONDAY", Weekday::Mon),
        ("TUESDAY", Weekday::Tue),
        ("WEDNESDAY", Weekday::Wed),
        ("THURSDAY", Weekday::Thu),
        ("FRIDAY", Weekday::Fri),
        ("SATURDAY", Weekday::Sat),
        ("SUNDAY", Weekday::Sun),
    ];

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<Weekday>>, D::Error> {
        let Some(names) = Option::<Vec<String>>::deserialize(d)? else {
            return Ok(None);
        };
        names
            .iter()
            .map(|n| {
                NAMES
                    .iter()
                    .find(|(name, _)| name == n)
                    .map(|(_, day)| *day)
                    .ok_or_else(|| D::Error::custom(format_args!("unknown day of week {n:?}")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    #[allow(clippy::ref_option, reason = "serde's serialize_with signature")]
    pub(super) fn serialize<S: Serializer>(
        value: &Option<Vec<Weekday>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let Some(days) = value else {
            return s.serialize_none();
        };
        let mut seq = s.serialize_seq(Some(days.len()))?;
        for day in days {
            let name = NAMES
                .iter()
                .find(|(_, d)| d == day)
                .map_or("MONDAY", |(n, _)| n);
            seq.serialize_element(name)?;
        }
        seq.end()
    }
}

mod date {
    use alloc::string::String;

    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<NaiveDate>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| {
                    D::Error::custom(format_args!("invalid date {text:?}, expected YYYY-MM-DD"))
                }),
        }
    }

    #[allow(
        clippy::ref_option,
        clippy::trivially_copy_pass_by_ref,
        reason = "serde's serialize_with signature"
    )]
    pub(super) fn serialize<S: Serializer>(
        value: &Option<NaiveDate>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => s.collect_str(&d.format("%Y-%m-%d")),
            None => s.serialize_none(),
        }
    }
}
