#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod error;
mod ids;
mod log;
mod meter;
mod port;
mod session;

pub use error::Error;
#[cfg(feature = "alloc")]
pub use log::SessionLog;
pub use log::{LineError, LogError, LogReader, LogRecord, MAX_LINE_LEN};
pub use meter::{ConvertError, reading_from_meter};
pub use port::LedgerPort;
pub use session::{
    Decision, MAX_METERS, MeterEvent, MeterSpan, OperationIds, Progress, Receipt, Rejection,
    Session, SessionConfig, Settlement, StopReason,
};
