//! The readings CSV format (documented in the crate README).

use alloc::vec::Vec;
use core::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::engine::{ChargeState, MAX_RATES, Reading};
use crate::error::{CsvProblem, Error};

#[derive(Clone, Copy)]
enum Column {
    Timestamp,
    /// Total register; `true` when in kWh, `false` for Wh.
    Total(bool),
    /// Rate register (0-based) and unit.
    Rate(usize, bool),
    State,
}

fn column(name: &str) -> Option<Column> {
    let unit = |suffix: &str| match suffix {
        "kwh" => Some(true),
        "wh" => Some(false),
        _ => None,
    };
    let name = name.trim().to_ascii_lowercase();
    match name.as_str() {
        "timestamp" => return Some(Column::Timestamp),
        "state" => return Some(Column::State),
        _ => {}
    }
    let (base, suffix) = name.rsplit_once('_')?;
    let kwh = unit(suffix)?;
    if base == "energy" {
        return Some(Column::Total(kwh));
    }
    let n: usize = base.strip_prefix("rate")?.parse().ok()?;
    // `then`, not `then_some`: the argument must not be computed for n = 0.
    (1..=MAX_RATES)
        .contains(&n)
        .then(|| Column::Rate(n - 1, kwh))
}

fn energy(text: &str, kwh: bool) -> Option<u64> {
    let value = Decimal::from_str(text.trim()).ok()?;
    let wh = if kwh {
        value.checked_mul(Decimal::ONE_THOUSAND)?
    } else {
        value
    };
    if wh.is_sign_negative() || !wh.fract().is_zero() {
        return None;
    }
    u64::try_from(wh).ok()
}

/// Parses a readings CSV into readings in file order.
///
/// # Errors
/// [`Error::Csv`] naming the line and the problem.
pub fn parse_readings_csv(text: &str) -> Result<Vec<Reading>, Error> {
    let err = |line, problem| Error::Csv { line, problem };
    let mut lines = (1..)
        .zip(text.lines())
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let (header_line, header) = lines.next().ok_or(err(1, CsvProblem::MissingHeader))?;
    let columns = header
        .split(',')
        .enumerate()
        .map(|(i, name)| column(name).ok_or(err(header_line, CsvProblem::UnknownColumn(i + 1))))
        .collect::<Result<Vec<_>, _>>()?;
    if !columns.iter().any(|c| matches!(c, Column::Timestamp)) {
        return Err(err(header_line, CsvProblem::MissingColumn("timestamp")));
    }
    if !columns.iter().any(|c| matches!(c, Column::Total(_))) {
        return Err(err(header_line, CsvProblem::MissingColumn("energy_kwh")));
    }
    let mut readings = Vec::new();
    for (n, line) in lines {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != columns.len() {
            return Err(err(
                n,
                CsvProblem::FieldCount {
                    expected: columns.len(),
                    found: fields.len(),
                },
            ));
        }
        let mut at: Option<DateTime<Utc>> = None;
        let mut reading = Reading::new(DateTime::UNIX_EPOCH, 0);
        for (i, (col, field)) in columns.iter().zip(&fields).enumerate() {
            let field = field.trim();
            match *col {
                Column::Timestamp => {
                    let t = DateTime::parse_from_rfc3339(field)
                        .map_err(|_| err(n, CsvProblem::Timestamp))?;
                    at = Some(t.with_timezone(&Utc));
                }
                Column::Total(kwh) => {
                    reading.total_wh =
                        energy(field, kwh).ok_or(err(n, CsvProblem::Energy(i + 1)))?;
                }
                Column::Rate(r, kwh) if !field.is_empty() => {
                    let wh = energy(field, kwh).ok_or(err(n, CsvProblem::Energy(i + 1)))?;
                    if let Some(slot) = reading.rates.get_mut(r) {
                        *slot = Some(wh);
                    }
                }
                Column::Rate(..) => {}
                Column::State => {
                    reading.state = match field.to_ascii_lowercase().as_str() {
                        "" => None,
                        "charging" => Some(ChargeState::Charging),
                        "idle" => Some(ChargeState::Idle),
                        _ => return Err(err(n, CsvProblem::State)),
                    }
                }
            }
        }
        reading.at = at.ok_or(err(n, CsvProblem::Timestamp))?;
        readings.push(reading);
    }
    Ok(readings)
}
