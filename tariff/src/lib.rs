#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "alloc")]
mod csv;
mod engine;
mod error;
#[cfg(feature = "serde-1")]
pub mod file;
#[cfg(feature = "serde-1")]
mod json_path;
mod model;
#[cfg(feature = "ocpi")]
pub mod ocpi;
#[cfg(feature = "alloc")]
mod render;

#[cfg(feature = "alloc")]
pub use csv::parse_readings_csv;
#[cfg(not(feature = "alloc"))]
pub use engine::MAX_LINES;
pub use engine::{
    Attribution, Bill, ChargeState, CostSoFar, Line, LivePricer, MAX_PERIOD_TOTALS, MAX_RATES,
    PeriodTotal, PricingPolicy, Reading, Rounding, RoundingMode, RoundingPoint, Totals,
    VersionSelection, price_session,
};
pub use error::{CsvProblem, Error};
pub use model::{
    Currency, DayTable, DayType, MAX_DAY_TABLES, MAX_DAY_TYPES, MAX_HOLIDAYS, MAX_PERIODS,
    MAX_SEASONS, MAX_SLOTS, MAX_TIERS, MAX_VERSIONS, MonthDay, NAME_LEN, Name, Period, PeriodKind,
    Season, SessionFees, Slot, Tariff, TariffVersion, Tax, Tier, Weekdays, Zone,
};
#[cfg(feature = "alloc")]
pub use render::{BillFormat, explain};
