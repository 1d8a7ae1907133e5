#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]

#[cfg(feature = "std")]
extern crate std;

mod error;
mod ids;
mod meter;
mod port;
mod session;

pub use error::Error;
pub use meter::{ConvertError, reading_from_meter};
pub use port::LedgerPort;
pub use session::{
    Decision, MAX_METERS, MeterEvent, MeterSpan, OperationIds, Progress, Receipt, Rejection,
    Session, SessionConfig, Settlement, StopReason,
};
