//! The session's error model.

use meterkit_ledger::{AmountError, LedgerError};
use rust_decimal::Decimal;

/// Why a session call failed. Rejected readings and stop conditions are not errors: they are
/// [`Decision`](crate::Decision)s.
///
/// `E` is the [`LedgerPort::Error`](crate::LedgerPort::Error) of the ledger in use
/// (`Infallible` for an in-memory ledger).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error<E> {
    /// The ledger could not be reached or could not persist an operation. Retrying the same
    /// call is safe: it reuses the same operation ids.
    #[error("ledger unavailable: {0}")]
    Port(E),
    /// The ledger refused an operation the session cannot turn into a decision (e.g. the
    /// hold at start: insufficient funds, unknown wallet; a full store).
    #[error("ledger refused the {op}: {error}")]
    Ledger {
        /// The operation (`"hold"`, `"capture"`, `"settle"`, `"expire"`, `"charge"`).
        op: &'static str,
        /// The ledger's answer.
        error: LedgerError,
    },
    /// The tariff engine failed for good (a fixed-capacity bill is full, or an amount
    /// overflowed); the session can no longer price. Settle what was captured by hand.
    #[error("pricing failed: {0}")]
    Pricing(meterkit_tariff::Error),
    /// A priced amount cannot be expressed in the ledger's minor units.
    #[error("amount {amount} cannot be booked: {error}")]
    Amount {
        /// The amount, in the tariff's currency.
        amount: Decimal,
        /// Why.
        error: AmountError,
    },
    /// The ledger keeps fewer decimals than the tariff's currency, so the bill total could
    /// not be captured to the cent.
    #[error("ledger keeps {ledger} decimals but the tariff's currency needs {currency}")]
    ScaleMismatch {
        /// The ledger's scale.
        ledger: u8,
        /// The currency's scale.
        currency: u32,
    },
    /// More meter swaps than a receipt records.
    #[error("more than {max} meters in one session")]
    TooManyMeters {
        /// [`MAX_METERS`](crate::MAX_METERS).
        max: usize,
    },
    /// The session was already settled.
    #[error("the session is already settled")]
    Ended,
}
