//! OCPI 2.2.1 tariffs and CDRs (feature `ocpi`): parse, price, export.
//!
//! See the crate README's *OCPI* section for the pricing rules and what is not supported.
//!
//! ```
//! # fn main() -> Result<(), meterkit_tariff::ocpi::OcpiError> {
//! use meterkit_tariff::ocpi;
//!
//! let cdr = r#"{
//!   "start_date_time": "2025-03-03T09:00:00Z", "end_date_time": "2025-03-03T10:00:00Z",
//!   "currency": "EUR", "cdr_location": { "country": "NLD" },
//!   "tariffs": [{ "country_code": "NL", "party_id": "ABC", "id": "T1", "currency": "EUR",
//!     "elements": [{ "price_components": [
//!       { "type": "ENERGY", "price": 0.25, "vat": 21, "step_size": 1 }] }] }],
//!   "charging_periods": [{ "start_date_time": "2025-03-03T09:00:00Z",
//!     "dimensions": [{ "type": "ENERGY", "volume": 10 }] }]
//! }"#;
//! // 10 kWh × 0.25 = 2.50 excl; × 1.21 = 3.025 incl.
//! let priced = ocpi::price_cdr_json(cdr, None, None)?;
//! assert_eq!(priced.total_cost.excl_vat.to_string(), "2.5000");
//! assert_eq!(priced.total_cost.incl_vat.unwrap().to_string(), "3.0250");
//! # Ok(())
//! # }
//! ```

mod export;
mod price;
mod types;
mod zone;

use alloc::{
    string::{String, ToString},
    vec::Vec,
};
use core::fmt;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use crate::json_path;

pub use export::{Export, export, export_json};
pub use price::{Clamp, PricedCdr, PricedDimension, PricedPeriod, price_cdr};
pub use types::{
    Cdr, CdrDimension, CdrDimensionType, CdrLocation, ChargingPeriod, Price, PriceComponent,
    Reservation, Restrictions, Tariff, TariffDimension, TariffElement,
};
pub use zone::{resolve_zone, zone_of_country};

/// Everything that can go wrong reading, pricing or exporting OCPI objects. The messages start
/// with the JSON path at fault (`$.elements[0].price_components[1].price: …`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OcpiError {
    /// The JSON is malformed or a field has the wrong type or value.
    #[error("{path}: {message}")]
    Json {
        /// JSON path of the value at fault.
        path: String,
        /// serde_json's message, with line and column.
        message: String,
    },
    /// A well-formed value that cannot be priced.
    #[error("{path}: {message}")]
    Invalid {
        /// JSON path of the value at fault.
        path: String,
        /// What is wrong.
        message: &'static str,
    },
    /// No tariff is valid at the session start.
    #[error("$.tariffs: no tariff is valid at the session start {at}")]
    NoTariff {
        /// The session start.
        at: DateTime<Utc>,
    },
    /// A time zone name that is not an IANA zone or a `±HH:MM` offset.
    #[error("{path}: unknown time zone {value:?}")]
    TimeZone {
        /// Where the name came from (`--tz` or a JSON path).
        path: &'static str,
        /// The name.
        value: String,
    },
    /// No time zone: none given, none in the CDR location, and the country has several or is
    /// unknown.
    #[error(
        "$.cdr_location: no time zone (give one explicitly; country {} does not have exactly one zone)",
        country.as_deref().unwrap_or("absent")
    )]
    NoTimeZone {
        /// The location's country, if any.
        country: Option<String>,
    },
    /// An amount beyond `rust_decimal`'s range, or a date-time beyond chrono's.
    #[error("{path}: a value out of range (arithmetic overflow)")]
    Overflow {
        /// Where.
        path: String,
    },
    /// A native tariff feature that OCPI 2.2.1 cannot express.
    #[error("cannot export to OCPI 2.2.1: {what}")]
    Unrepresentable {
        /// What cannot be expressed.
        what: String,
    },
}

fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, OcpiError> {
    serde_json::from_str(text).map_err(|e| OcpiError::Json {
        path: json_path::path_at(text, json_path::offset_of(text, e.line(), e.column())),
        message: e.to_string(),
    })
}

/// Parses one OCPI tariff object.
///
/// # Errors
/// [`OcpiError::Json`] naming the path of the first problem.
pub fn parse_tariff(json: &str) -> Result<Tariff, OcpiError> {
    from_json(json)
}

/// Parses a tariff object or an array of them.
///
/// # Errors
/// [`OcpiError::Json`] naming the path of the first problem.
pub fn parse_tariffs(json: &str) -> Result<Vec<Tariff>, OcpiError> {
    if json.trim_start().starts_with('[') {
        from_json(json)
    } else {
        from_json(json).map(|t| alloc::vec![t])
    }
}

/// Parses a CDR object.
///
/// # Errors
/// [`OcpiError::Json`] naming the path of the first problem.
pub fn parse_cdr(json: &str) -> Result<Cdr, OcpiError> {
    from_json(json)
}

/// `meterkit ocpi price` in one call: parses the CDR and (if given) the tariff JSON — one
/// object or an array — resolves the zone ([`resolve_zone`]) and prices the CDR with the given
/// tariffs, or the CDR's own when `tariff_json` is `None`.
///
/// # Errors
/// Every [`OcpiError`]; its `Display` is the one line to print.
pub fn price_cdr_json(
    cdr_json: &str,
    tariff_json: Option<&str>,
    tz: Option<&str>,
) -> Result<PricedCdr, OcpiError> {
    let cdr = parse_cdr(cdr_json)?;
    let external = tariff_json.map(parse_tariffs).transpose()?;
    let zone = resolve_zone(tz, &cdr)?;
    price_cdr(&cdr, external.as_deref().unwrap_or(&cdr.tariffs), zone)
}

fn price_json(p: Option<&Price>) -> serde_json::Value {
    p.map_or(serde_json::Value::Null, |p| {
        serde_json::json!({
            "excl_vat": p.excl_vat.to_string(),
            "incl_vat": p.incl_vat.map(|v| v.to_string()),
        })
    })
}

impl PricedCdr {
    /// The OCPI CDR total fields as one JSON object: each cost `{"excl_vat": "…", "incl_vat":
    /// "…" | null}` or `null` when its dimension was not priced; volumes as decimal strings.
    /// Every figure has exactly 4 decimals.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "tariff_id": self.tariff_id,
            "currency": self.currency,
            "total_cost": price_json(Some(&self.total_cost)),
            "total_fixed_cost": price_json(self.total_fixed_cost.as_ref()),
            "total_energy_cost": price_json(self.total_energy_cost.as_ref()),
            "total_time_cost": price_json(self.total_time_cost.as_ref()),
            "total_parking_cost": price_json(self.total_parking_cost.as_ref()),
            "total_reservation_cost": price_json(self.total_reservation_cost.as_ref()),
            "total_energy": self.total_energy.to_string(),
            "total_time": self.total_time.to_string(),
            "total_parking_time": self.total_parking_time.to_string(),
        })
        .to_string()
    }
}

/// The readable breakdown: one line per period and dimension, then the totals.
impl fmt::Display for PricedCdr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "tariff {} ({}), times in {}",
            self.tariff_id, self.currency, self.zone
        )?;
        for p in &self.periods {
            writeln!(f, "{} .. {} (local {})", p.start, p.end, p.local_start)?;
            for (name, unit, dim) in [
                ("energy", "kWh", &p.energy),
                ("time", "h", &p.time),
                ("parking", "h", &p.parking),
                ("reservation", "h", &p.reservation),
            ] {
                if let Some(d) = dim {
                    let vat = d
                        .component
                        .vat
                        .map_or_else(|| String::from("no VAT"), |v| alloc::format!("VAT {v} %"));
                    writeln!(
                        f,
                        "  {name:<11} {} {unit} x {} = {} excl. VAT ({vat}; element {})",
                        price::round4(d.volume()),
                        d.component.price,
                        d.excl_vat()
                            .map_or_else(|| String::from("?"), |v| price::round4(v).to_string()),
                        d.element
                    )?;
                }
            }
        }
        let show = |p: Option<&Price>| {
            p.map_or_else(
                || String::from("-"),
                |p| {
                    alloc::format!(
                        "{} excl. VAT, {} incl. VAT",
                        p.excl_vat,
                        p.incl_vat
                            .map_or_else(|| String::from("unknown"), |v| v.to_string())
                    )
                },
            )
        };
        writeln!(f, "fixed:       {}", show(self.total_fixed_cost.as_ref()))?;
        writeln!(f, "energy:      {}", show(self.total_energy_cost.as_ref()))?;
        writeln!(f, "time:        {}", show(self.total_time_cost.as_ref()))?;
        writeln!(f, "parking:     {}", show(self.total_parking_cost.as_ref()))?;
        writeln!(
            f,
            "reservation: {}",
            show(self.total_reservation_cost.as_ref())
        )?;
        let clamp = match self.clamped {
            Some(Clamp::Min) => " (raised to min_price)",
            Some(Clamp::Max) => " (lowered to max_price)",
            None => "",
        };
        writeln!(f, "total:       {}{clamp}", show(Some(&self.total_cost)))?;
        write!(
            f,
            "energy {} kWh, time {} h, parking {} h",
            self.total_energy, self.total_time, self.total_parking_time
        )
    }
}
