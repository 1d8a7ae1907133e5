//! A native meterkit tariff as an equivalent OCPI 2.2.1 tariff.

use alloc::{
    format,
    string::{String, ToString},
    vec::Vec,
};

use chrono::{NaiveTime, Weekday};
use rust_decimal::{Decimal, RoundingStrategy};

use super::{
    OcpiError, Price, PriceComponent, Restrictions, Tariff, TariffDimension, TariffElement,
};
use crate::{Tariff as Native, TariffVersion, Weekdays, Zone};

/// An exported tariff and the approximations it contains (empty when it is exact).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Export {
    /// The OCPI tariff.
    pub tariff: Tariff,
    /// Each way in which pricing with `tariff` can differ from native pricing.
    pub notes: Vec<String>,
}

const DAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

struct Prices {
    rate: Decimal,
    include_tax: bool,
    notes: Vec<String>,
}

impl Prices {
    /// A native price (in the tariff's basis) as an OCPI price excluding VAT, 4 decimals.
    fn excl(&mut self, price: Decimal, what: &str) -> Result<Decimal, OcpiError> {
        if !self.include_tax || self.rate.is_zero() {
            return Ok(price);
        }
        let divisor = Decimal::ONE_HUNDRED
            .checked_add(self.rate)
            .ok_or_else(|| OcpiError::Overflow { path: what.into() })?;
        let exact = price
            .checked_mul(Decimal::ONE_HUNDRED)
            .and_then(|v| v.checked_div(divisor))
            .ok_or_else(|| OcpiError::Overflow { path: what.into() })?;
        let rounded = exact.round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero);
        if rounded
            .checked_mul(divisor)
            .and_then(|v| v.checked_div(Decimal::ONE_HUNDRED))
            != Some(price)
        {
            self.notes.push(format!(
                "{what}: {price} including {}% VAT is {rounded} excluding VAT only to 4 decimals",
                self.rate
            ));
        }
        Ok(rounded.normalize())
    }

    fn vat(&self) -> Option<Decimal> {
        (!self.rate.is_zero()).then_some(self.rate)
    }

    fn bound(&mut self, price: Option<Decimal>, what: &str) -> Result<Option<Price>, OcpiError> {
        let Some(price) = price else { return Ok(None) };
        let excl_vat = self.excl(price, what)?;
        let incl_vat = if self.include_tax {
            price
        } else {
            excl_vat
                .checked_mul(Decimal::ONE_HUNDRED.saturating_add(self.rate))
                .ok_or_else(|| OcpiError::Overflow { path: what.into() })?
                / Decimal::ONE_HUNDRED
        };
        Ok(Some(Price {
            excl_vat,
            incl_vat: Some(incl_vat.normalize()),
        }))
    }

    fn component(
        &mut self,
        dimension: TariffDimension,
        price: Decimal,
        what: &str,
    ) -> Result<Option<PriceComponent>, OcpiError> {
        if price.is_zero() {
            return Ok(None);
        }
        Ok(Some(PriceComponent {
            dimension,
            price: self.excl(price, what)?,
            vat: self.vat(),
            step_size: u32::from(dimension != TariffDimension::Flat),
        }))
    }
}

fn unrepresentable(what: String) -> OcpiError {
    OcpiError::Unrepresentable { what }
}

fn check(version: &TariffVersion, v: usize) -> Result<(), OcpiError> {
    if !version.holidays().is_empty() {
        return Err(unrepresentable(format!(
            "versions[{v}]: a holiday calendar ({} dates)",
            version.holidays().len()
        )));
    }
    if version.day_tables().iter().any(|t| t.season.is_some()) {
        return Err(unrepresentable(format!(
            "versions[{v}]: seasonal day tables (yearly MM-DD ranges)"
        )));
    }
    if !version.tiers().is_empty() {
        return Err(unrepresentable(format!(
            "versions[{v}]: energy tiers (OCPI min_kwh switches prices per period, not at the threshold)"
        )));
    }
    if version.fees.parking_grace_secs != 0 && !version.fees.parking_per_hour.is_zero() {
        return Err(unrepresentable(format!(
            "versions[{v}]: a parking grace (OCPI durations count from the session start, not from the end of charging)"
        )));
    }
    Ok(())
}

fn minute_time(minute: u16) -> Option<NaiveTime> {
    NaiveTime::from_hms_opt(u32::from(minute / 60), u32::from(minute % 60), 0)
}

/// Exports `native` as an OCPI 2.2.1 tariff with the given `country_code` and `party_id`: each
/// version's day-table slots become elements (`start_time`/`end_time`, `day_of_week` from the
/// day type, `start_date`/`end_date` from the version) with an ENERGY component of energy +
/// service price, and TIME, PARKING_TIME and FLAT components for the session fees.
///
/// # Errors
/// [`OcpiError::Unrepresentable`] naming the first feature OCPI cannot express: holidays,
/// seasons, tiers, a parking grace, versions with different `min_price`/`max_price`.
pub fn export(native: &Native, country_code: &str, party_id: &str) -> Result<Export, OcpiError> {
    let tax = native.tax();
    let mut prices = Prices {
        rate: tax.rate_percent,
        include_tax: tax.prices_include_tax,
        notes: Vec::new(),
    };
    let mut elements = Vec::new();
    let first_fees = native
        .versions()
        .first()
        .map(|v| v.fees)
        .unwrap_or_default();
    for (v, version) in native.versions().iter().enumerate() {
        check(version, v)?;
        let fees = version.fees;
        if (fees.min_price, fees.max_price) != (first_fees.min_price, first_fees.max_price) {
            return Err(unrepresentable(format!(
                "versions[{v}]: a min_price/max_price different from the first version's"
            )));
        }
        let session = [
            (TariffDimension::Time, fees.time_per_hour, "time_per_hour"),
            (
                TariffDimension::ParkingTime,
                fees.parking_per_hour,
                "parking_per_hour",
            ),
            (TariffDimension::Flat, fees.flat, "flat"),
        ];
        for (t, table) in version.day_tables().iter().enumerate() {
            let weekdays = table
                .day_type
                .and_then(|d| version.day_types().get(usize::from(d)))
                .map_or(Weekdays::ALL, |d| d.weekdays);
            let day_of_week = (weekdays != Weekdays::ALL).then(|| {
                DAYS.iter()
                    .copied()
                    .filter(|d| weekdays.contains(*d))
                    .collect()
            });
            let slots = table.slots();
            for (s, slot) in slots.iter().enumerate() {
                let what = format!("versions[{v}].days[{t}].slots[{s}]");
                let period = version
                    .periods()
                    .get(usize::from(slot.period))
                    .ok_or_else(|| unrepresentable(format!("{what}: an unknown period")))?;
                let end = slots.get(s + 1).map_or(0, |n| n.start_minute);
                let whole_day = slots.len() == 1;
                let mut components = Vec::new();
                let energy = period
                    .energy_price
                    .checked_add(period.service_price)
                    .ok_or_else(|| OcpiError::Overflow { path: what.clone() })?;
                components.extend(prices.component(TariffDimension::Energy, energy, &what)?);
                for (dimension, price, name) in session {
                    let what = format!("versions[{v}].fees.{name}");
                    components.extend(prices.component(dimension, price, &what)?);
                }
                if components.is_empty() {
                    // Free of charge, said the OCPI way.
                    components.push(PriceComponent {
                        dimension: TariffDimension::Flat,
                        price: Decimal::ZERO,
                        vat: prices.vat(),
                        step_size: 0,
                    });
                }
                let restrictions = Restrictions {
                    start_time: (!whole_day)
                        .then(|| minute_time(slot.start_minute))
                        .flatten(),
                    end_time: (!whole_day).then(|| minute_time(end)).flatten(),
                    start_date: version.valid_from,
                    end_date: version.valid_until,
                    day_of_week: day_of_week.clone(),
                    ..Restrictions::default()
                };
                elements.push(TariffElement {
                    price_components: components,
                    restrictions: (restrictions != Restrictions::default()).then_some(restrictions),
                });
            }
        }
    }
    if native.versions().len() > 1 {
        prices.notes.push(String::from(
            "versions: natively the version of the session's start date prices the whole session; \
             in OCPI each period takes the version of its own date",
        ));
    }
    if let Zone::Fixed(offset) = native.zone() {
        prices.notes.push(format!(
            "time_zone: restriction times are in the fixed offset {offset}; OCPI reads them in the location's zone"
        ));
    }
    let tariff = Tariff {
        country_code: Some(country_code.into()),
        party_id: Some(party_id.into()),
        id: native.name().into(),
        currency: native.currency().code().into(),
        tariff_type: Some(String::from("REGULAR")),
        min_price: prices.bound(first_fees.min_price, "fees.min_price")?,
        max_price: prices.bound(first_fees.max_price, "fees.max_price")?,
        elements,
        start_date_time: None,
        end_date_time: None,
        last_updated: None,
    };
    Ok(Export {
        tariff,
        notes: prices.notes,
    })
}

/// `meterkit ocpi export` in one call: [`export`] with the country of the tariff's zone (when
/// that zone is a single-zone country's, else `ZZ`) and party id `MKT`, as pretty JSON.
///
/// # Errors
/// As [`export`].
pub fn export_json(native: &Native) -> Result<String, OcpiError> {
    let zone = native.zone().to_string();
    let country = super::zone::country_of_zone(&zone).unwrap_or("ZZ");
    let exported = export(native, country, "MKT")?;
    serde_json::to_string_pretty(&exported.tariff).map_err(|e| OcpiError::Json {
        path: String::from("$"),
        message: e.to_string(),
    })
}
