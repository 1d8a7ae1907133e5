//! Money as integer minor units, and the decimal boundary.
//!
//! The ledger never stores a decimal: every amount is a count of minor units
//! (cents at scale 2). Decimals appear only where text or a
//! `rust_decimal::Decimal` enters or leaves, and an amount finer than the
//! ledger's scale is rejected there instead of being rounded, so no rounding
//! happens anywhere in this crate.

use core::fmt;

/// Number of decimal places of the ledger's currency (2 for cents), fixed when
/// the ledger is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scale(u8);

impl Default for Scale {
    /// Two decimal places (cents).
    fn default() -> Self {
        Scale(2)
    }
}

/// The largest scale: 10^18 is the largest power of ten that fits a `u64`.
const MAX_SCALE: u8 = 18;

impl Scale {
    /// A scale of `places` decimal places, or `None` above 18.
    pub const fn new(places: u8) -> Option<Scale> {
        if places <= MAX_SCALE {
            Some(Scale(places))
        } else {
            None
        }
    }

    /// Number of decimal places.
    pub const fn places(self) -> u8 {
        self.0
    }

    /// Parses a non-negative decimal string such as `"12.34"` into minor units.
    ///
    /// Trailing zeros beyond the scale are accepted (`"1.230"` is 123 cents);
    /// any other digit beyond the scale is rejected, never rounded.
    ///
    /// # Errors
    ///
    /// [`AmountError::Empty`], [`AmountError::Negative`],
    /// [`AmountError::InvalidCharacter`] (with its byte offset),
    /// [`AmountError::TooPrecise`] or [`AmountError::TooLarge`].
    pub fn parse(self, text: &str) -> Result<u64, AmountError> {
        let bytes = text.as_bytes();
        if bytes.first() == Some(&b'-') {
            return Err(AmountError::Negative);
        }
        let mut units: u64 = 0;
        let mut digits = 0usize;
        let mut fraction: Option<u8> = None;
        for (offset, &byte) in bytes.iter().enumerate() {
            match byte {
                b'.' if fraction.is_none() => fraction = Some(0),
                b'0'..=b'9' => {
                    digits += 1;
                    if let Some(places) = fraction.as_mut() {
                        if *places >= self.0 {
                            if byte != b'0' {
                                return Err(AmountError::TooPrecise { scale: self.0 });
                            }
                            continue;
                        }
                        *places += 1;
                    }
                    units = units
                        .checked_mul(10)
                        .and_then(|u| u.checked_add(u64::from(byte - b'0')))
                        .ok_or(AmountError::TooLarge)?;
                }
                _ => return Err(AmountError::InvalidCharacter { offset }),
            }
        }
        if digits == 0 {
            return Err(AmountError::Empty);
        }
        let missing = self.0 - fraction.unwrap_or(0);
        units
            .checked_mul(10u64.pow(u32::from(missing)))
            .ok_or(AmountError::TooLarge)
    }

    /// Displays signed minor units as a decimal with exactly this scale's places.
    pub fn display(self, minor: i128) -> Money {
        Money { minor, scale: self }
    }

    /// Converts a decimal into minor units.
    ///
    /// # Errors
    ///
    /// [`AmountError::Negative`], [`AmountError::TooPrecise`] when the value
    /// has a non-zero digit beyond the scale, [`AmountError::TooLarge`].
    #[cfg(feature = "rust_decimal-1")]
    pub fn from_decimal(self, value: rust_decimal::Decimal) -> Result<u64, AmountError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(AmountError::Negative);
        }
        let value = value.normalize();
        let places = value.scale();
        if places > u32::from(self.0) {
            return Err(AmountError::TooPrecise { scale: self.0 });
        }
        let mantissa = u64::try_from(value.mantissa()).map_err(|_| AmountError::TooLarge)?;
        mantissa
            .checked_mul(10u64.pow(u32::from(self.0) - places))
            .ok_or(AmountError::TooLarge)
    }

    /// Converts minor units into an exact decimal with this scale.
    #[cfg(feature = "rust_decimal-1")]
    pub fn to_decimal(self, minor: i64) -> rust_decimal::Decimal {
        rust_decimal::Decimal::new(minor, u32::from(self.0))
    }
}

/// A signed amount of minor units shown with its scale, e.g. `-12.05`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    minor: i128,
    scale: Scale,
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let magnitude = self.minor.unsigned_abs();
        let sign = if self.minor < 0 { "-" } else { "" };
        let places = self.scale.0;
        if places == 0 {
            return write!(f, "{sign}{magnitude}");
        }
        let divisor = 10u128.pow(u32::from(places));
        write!(
            f,
            "{sign}{}.{:0width$}",
            magnitude / divisor,
            magnitude % divisor,
            width = usize::from(places)
        )
    }
}

/// Why a decimal could not become an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AmountError {
    /// The text has no digit.
    #[error("amount has no digits")]
    Empty,
    /// Amounts in operations are never negative.
    #[error("amount is negative")]
    Negative,
    /// A byte that is neither a digit nor the single decimal point.
    #[error("invalid character in amount at byte {offset}")]
    InvalidCharacter {
        /// Byte offset of the offending character.
        offset: usize,
    },
    /// A non-zero digit beyond the ledger's scale; it is never rounded.
    #[error("amount has more than {scale} decimal places")]
    TooPrecise {
        /// The ledger's scale.
        scale: u8,
    },
    /// More minor units than a `u64` holds.
    #[error("amount too large")]
    TooLarge,
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn parses_at_scale_two() {
        let s = Scale::default();
        assert_eq!(s.parse("12.34"), Ok(1234));
        // 12.3 = 12 * 100 + 30 cents
        assert_eq!(s.parse("12.3"), Ok(1230));
        assert_eq!(s.parse("12"), Ok(1200));
        assert_eq!(s.parse(".5"), Ok(50));
        assert_eq!(s.parse("1.230"), Ok(123));
        assert_eq!(s.parse("1.231"), Err(AmountError::TooPrecise { scale: 2 }));
        assert_eq!(s.parse("-1"), Err(AmountError::Negative));
        assert_eq!(s.parse(""), Err(AmountError::Empty));
        assert_eq!(s.parse("."), Err(AmountError::Empty));
        assert_eq!(
            s.parse("1.2.3"),
            Err(AmountError::InvalidCharacter { offset: 3 })
        );
        assert_eq!(
            s.parse("1e3"),
            Err(AmountError::InvalidCharacter { offset: 1 })
        );
        // u64::MAX = 18446744073709551615 minor units = 184467440737095516.15
        assert_eq!(s.parse("184467440737095516.15"), Ok(u64::MAX));
        assert_eq!(s.parse("184467440737095516.16"), Err(AmountError::TooLarge));
    }

    #[test]
    fn scale_zero_and_display() {
        let s0 = Scale::new(0).unwrap_or_default();
        assert_eq!(s0.parse("7"), Ok(7));
        assert_eq!(s0.parse("7.0"), Ok(7));
        assert_eq!(s0.parse("7.5"), Err(AmountError::TooPrecise { scale: 0 }));
        assert_eq!(s0.display(-7).to_string(), "-7");
        let s3 = Scale::new(3).unwrap_or_default();
        assert_eq!(s3.display(-5).to_string(), "-0.005");
        assert_eq!(s3.display(12_345).to_string(), "12.345");
        assert!(Scale::new(19).is_none());
    }

    #[cfg(feature = "rust_decimal-1")]
    #[test]
    fn decimal_boundary() {
        use rust_decimal::Decimal;
        let s = Scale::default();
        assert_eq!(s.from_decimal(Decimal::new(1234, 2)), Ok(1234));
        assert_eq!(s.from_decimal(Decimal::new(12_340, 3)), Ok(1234));
        assert_eq!(
            s.from_decimal(Decimal::new(12_341, 3)),
            Err(AmountError::TooPrecise { scale: 2 })
        );
        assert_eq!(
            s.from_decimal(Decimal::new(-1, 0)),
            Err(AmountError::Negative)
        );
        assert_eq!(s.to_decimal(-1234), Decimal::new(-1234, 2));
    }

    proptest::proptest! {
        #[test]
        fn display_parse_round_trip(minor in 0u64..u64::MAX, places in 0u8..=18) {
            let s = Scale::new(places).unwrap_or_default();
            let text = s.display(i128::from(minor)).to_string();
            proptest::prop_assert_eq!(s.parse(&text), Ok(minor));
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,30}") {
            let _ = Scale::default().parse(&text);
        }
    }
}
