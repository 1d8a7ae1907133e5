//! The one error type of this crate.

use std::{io, time::Duration};

use dlt645::{Function, message::ErrorWord};

pub use crate::matching::FollowError;

/// Why a serial port or TCP connection could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OpenCause {
    /// No such device or host.
    NotFound,
    /// Another process holds the port.
    Busy,
    /// The user may not open it.
    Permission,
    /// The driver refused the line settings (baud, parity, data or stop bits).
    Settings,
    /// The peer refused the connection.
    Refused,
    /// Anything else; the detail says what.
    Other,
}

impl OpenCause {
    /// A few words for people.
    pub const fn description(self) -> &'static str {
        match self {
            OpenCause::NotFound => "not found",
            OpenCause::Busy => "busy (in use by another program)",
            OpenCause::Permission => "permission denied",
            OpenCause::Settings => "settings not supported",
            OpenCause::Refused => "connection refused",
            OpenCause::Other => "cannot be opened",
        }
    }

    pub(crate) fn from_io(kind: io::ErrorKind) -> Self {
        match kind {
            io::ErrorKind::NotFound => OpenCause::NotFound,
            io::ErrorKind::PermissionDenied => OpenCause::Permission,
            io::ErrorKind::ResourceBusy | io::ErrorKind::AddrInUse => OpenCause::Busy,
            io::ErrorKind::InvalidInput => OpenCause::Settings,
            io::ErrorKind::ConnectionRefused => OpenCause::Refused,
            _ => OpenCause::Other,
        }
    }
}

/// A reply that is well-formed but not what the request calls for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A frame from the expected meter failed to parse as a reply.
    #[error("malformed reply: {0}")]
    Frame(#[from] dlt645::Error),
    /// A read answer that cannot be followed: another item, a frame out of sequence,
    /// too many frames, or a reply that does not answer the request (the same rules as
    /// the embedded client's).
    #[error(transparent)]
    Follow(#[from] FollowError),
    /// The concatenated data of a multi-frame answer grew past the client's limit.
    #[error("answer of {len} bytes exceeds the limit of {max}")]
    TooLong {
        /// Bytes received so far.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// An item polled as a quantity is not a single number, or does not fit a
    /// decimal.
    #[error("{di} does not give a single number")]
    NotNumeric {
        /// The item.
        di: dlt645::Di,
    },
    /// A Modbus frame of the expected unit and transaction failed to parse.
    #[error("malformed Modbus reply: {0}")]
    Modbus(meterkit_modbus::Error),
    /// A Modbus reply does not fit the meter profile's planned read.
    #[error("Modbus reply does not fit the profile: {0}")]
    Profile(meterkit_modbus::profile::ProfileError),
    /// The value bytes do not fit the data identifier's format.
    #[error("value does not fit its data identifier: {0}")]
    Value(#[from] dlt645::value::ValueError),
}

/// Everything that can go wrong talking to a meter.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No valid reply arrived before the deadline (after every retry).
    #[error("no reply within {waited:?} (after {attempts} attempts)")]
    Timeout {
        /// How long the last attempt waited.
        waited: Duration,
        /// Attempts made.
        attempts: u32,
    },
    /// The meter refused the request (D6 set) with its ERR word.
    #[error("meter refused {function}: {error} (ERR {:#04X})", error.bits)]
    Abnormal {
        /// The refused function.
        function: Function,
        /// The meter's error bits.
        error: ErrorWord,
    },
    /// The link closed (end of file: USB unplugged, peer gone). It is reopened, with
    /// backoff, by the next request.
    #[error("{link}: disconnected")]
    Disconnected {
        /// The link, e.g. `serial /dev/ttyUSB0` or `tcp 10.0.0.7:502`.
        link: String,
    },
    /// The link could not be opened.
    #[error("{link}: {} ({detail})", cause.description())]
    Open {
        /// The link, e.g. `serial /dev/ttyUSB0`.
        link: String,
        /// The cause, classified.
        cause: OpenCause,
        /// The operating system's words.
        detail: String,
    },
    /// Reading or writing failed.
    #[error("{link}: I/O error: {source}")]
    Io {
        /// The link.
        link: String,
        /// The error.
        source: io::Error,
    },
    /// The reply does not answer the request.
    #[error("protocol error: {0}")]
    Protocol(#[from] ProtocolError),
    /// The request could not be encoded (a value too long for a frame, a function
    /// the edition lacks).
    #[error("request cannot be encoded: {0}")]
    Request(dlt645::Error),
    /// A Modbus server answered with an exception.
    #[error("Modbus exception {:#04X} ({code:?}) to function {function:#04X}", code.code())]
    Exception {
        /// The function code of the request.
        function: u8,
        /// The exception.
        code: meterkit_modbus::ExceptionCode,
    },
    /// A Modbus request could not be encoded (a quantity out of range, broadcast of a
    /// read).
    #[error("Modbus request cannot be encoded: {0}")]
    ModbusRequest(meterkit_modbus::Error),
    /// The task that owns the bus has stopped.
    #[error("the bus task has stopped")]
    BusClosed,
}

impl Error {
    /// Whether trying the same request again may help (timeouts and garbled replies;
    /// not refusals, encoding errors or a closed bus).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Timeout { .. } | Error::Protocol(ProtocolError::Frame(_))
        )
    }
}
