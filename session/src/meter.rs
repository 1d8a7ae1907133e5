//! From protocol-neutral meter readings to the tariff engine's readings.

use chrono::{DateTime, Utc};
use meterkit_reading::MeterReading;
use meterkit_tariff::Reading;
use rust_decimal::Decimal;

/// Why a [`MeterReading`] cannot be priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    /// The reading has no import total register.
    #[error("meter reading at {at} has no import energy total")]
    MissingTotal {
        /// The reading's instant.
        at: DateTime<Utc>,
    },
    /// A register is negative, not a whole number of Wh, or too large.
    #[error("register {register} = {kwh} kWh is not a whole, non-negative number of Wh")]
    NotWholeWh {
        /// 0 for the total, 1–4 for the tariff registers.
        register: u8,
        /// The value read.
        kwh: Decimal,
    },
}

/// The import energy registers of `reading` as a tariff [`Reading`]: the total and, when
/// present, tariff registers T1–T4 as rate registers 1–4. Values must be whole Wh (DL/T 645
/// and most Modbus profiles give kWh with 2 or 3 decimals); nothing is rounded.
///
/// # Errors
/// [`ConvertError::MissingTotal`], [`ConvertError::NotWholeWh`].
pub fn reading_from_meter(reading: &MeterReading<DateTime<Utc>>) -> Result<Reading, ConvertError> {
    let at = reading.timestamp;
    let total = reading
        .import
        .total
        .ok_or(ConvertError::MissingTotal { at })?;
    let mut out = Reading::new(at, whole_wh(0, total)?);
    for (rate, value) in (1u8..).zip(reading.import.tariffs) {
        if let Some(kwh) = value {
            out = out.with_rate(rate, whole_wh(rate, kwh)?).map_err(|_| {
                ConvertError::NotWholeWh {
                    register: rate,
                    kwh,
                }
            })?;
        }
    }
    Ok(out)
}

fn whole_wh(register: u8, kwh: Decimal) -> Result<u64, ConvertError> {
    let bad = ConvertError::NotWholeWh { register, kwh };
    let wh = kwh.checked_mul(Decimal::ONE_THOUSAND).ok_or(bad)?;
    if !wh.fract().is_zero() || wh.is_sign_negative() {
        return Err(bad);
    }
    let wh = wh.normalize();
    // A whole, normalized decimal has scale 0: its mantissa is the value.
    u64::try_from(wh.mantissa()).map_err(|_| bad)
}

#[cfg(test)]
mod tests {
    use super::{ConvertError, reading_from_meter};
    use chrono::{DateTime, Utc};
    use meterkit_reading::MeterReading;
    use rust_decimal::Decimal;

    #[test]
    fn whole_wh_converted_fractions_refused() {
        let at = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let mut m = MeterReading::new(at);
        assert_eq!(
            reading_from_meter(&m),
            Err(ConvertError::MissingTotal { at })
        );
        // 1206.42 kWh = 1 206 420 Wh; T2 12.345 kWh = 12 345 Wh.
        m.import.total = Some(Decimal::new(120_642, 2));
        m.import.tariffs[1] = Some(Decimal::new(12_345, 3));
        let r = reading_from_meter(&m);
        assert_eq!(
            r.map(|r| (r.total_wh, r.rates[0], r.rates[1])),
            Ok((1_206_420, None, Some(12_345)))
        );
        // 0.0005 kWh is half a Wh: refused, not rounded.
        m.import.tariffs[0] = Some(Decimal::new(5, 4));
        assert!(matches!(
            reading_from_meter(&m),
            Err(ConvertError::NotWholeWh { register: 1, .. })
        ));
        m.import.tariffs[0] = Some(Decimal::new(-1, 0));
        assert!(matches!(
            reading_from_meter(&m),
            Err(ConvertError::NotWholeWh { register: 1, .. })
        ));
    }
}
