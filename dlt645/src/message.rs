//! Requests and replies: the meaning of a frame's data field.
//!
//! [`Request`] and [`Reply`] cover every function of both editions. Each converts to
//! a [`FrameRepr`] (`to_frame`) and back (`parse`), so the same types build what a
//! reader sends, what a simulated meter answers, and what a capture contains.
//!
//! ```
//! use dlt645::{Address, Di, message::{ReadSelector, Reply, Request}};
//!
//! let meter: Address = "123456789012".parse()?;
//! let read = Request::Read { di: Di::V2007(0x0001_0000), selector: ReadSelector::Current };
//! let mut out = [0u8; 32];
//! let n = read.to_frame(meter)?.emit(4, &mut out)?;
//! assert_eq!(
//!     out[..n],
//!     [0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12, 0x68,
//!      0x11, 0x04, 0x33, 0x33, 0x34, 0x33, 0x68, 0x16]
//! );
//!
//! // The meter's answer: 1234.56 kWh.
//! let answer = [0x68, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12, 0x68, 0x91, 0x08,
//!               0x33, 0x33, 0x34, 0x33, 0x89, 0x67, 0x45, 0x33, 0x54, 0x16];
//! let frame = dlt645::Frame::new_checked(&answer[..])?;
//! let Reply::Read { di, data, more } = Reply::parse(&dlt645::FrameRepr::parse(&frame))? else {
//!     unreachable!()
//! };
//! assert_eq!((di, &data[..], more), (Di::V2007(0x0001_0000), &[0x56, 0x34, 0x12, 0x00][..], false));
//! # Ok::<(), dlt645::Error>(())
//! ```

use core::{fmt, str::FromStr};

use chrono::{Datelike, NaiveDateTime, Timelike};

use nom::{
    Parser,
    combinator::{all_consuming, rest, success},
};

use crate::{
    Address, Di, Edition, Error,
    control::{Control, Direction, Function},
    frame::{FrameRepr, Payload},
    layout::{self, In, LayoutError, address, array, byte, checked_byte, datetime, di},
};

/// Password level and password: `PA P0 P1 P2` on the wire.
///
/// Written as 8 hex digits, level first and the password most significant digit
/// first: `"02123456"` is level 02, password 123456 (wire `02 56 34 12`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub struct Password {
    /// Level 00..=09, 00 the highest. The State Grid security extension uses 0x96 and
    /// 0x97 (ciphertext or plaintext with MAC).
    pub level: u8,
    /// `P0 P1 P2`, wire order (low byte first).
    pub code: [u8; 3],
}

impl Password {
    fn to_wire(self) -> [u8; 4] {
        [self.level, self.code[0], self.code[1], self.code[2]]
    }

    fn from_wire(b: [u8; 4]) -> Self {
        Password {
            level: b[0],
            code: [b[1], b[2], b[3]],
        }
    }
}

impl FromStr for Password {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let [level, p2, p1, p0] = parse_hex_word(s).ok_or(Error::Address {
            reason: "password must be 8 hex digits",
        })?;
        Ok(Password {
            level,
            code: [p0, p1, p2],
        })
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [p0, p1, p2] = self.code;
        write!(f, "{:02X}{p2:02X}{p1:02X}{p0:02X}", self.level)
    }
}

/// Operator code `C0 C1 C2 C3`, recorded by the meter with every write and clear.
/// Written as 8 hex digits, most significant first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub struct OperatorCode(pub [u8; 4]);

impl FromStr for OperatorCode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let mut word = parse_hex_word(s).ok_or(Error::Address {
            reason: "operator code must be 8 hex digits",
        })?;
        word.reverse();
        Ok(OperatorCode(word))
    }
}

impl fmt::Display for OperatorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().rev().try_for_each(|b| write!(f, "{b:02X}"))
    }
}

/// Four bytes from 8 hex digits, most significant first.
fn parse_hex_word(s: &str) -> Option<[u8; 4]> {
    let s = s.as_bytes();
    if s.len() != 8 {
        return None;
    }
    let mut out = [0; 4];
    for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        let digit = |c: u8| char::from(c).to_digit(16);
        let value = digit(pair[0])? * 16 + digit(pair[1])?;
        *o = u8::try_from(value).ok()?;
    }
    Some(out)
}

/// A communication rate, as the one-bit-per-rate characteristic word of function 0x17
/// (and DI 04000703) encodes it: bit 1 = 600, bit 2 = 1200, bit 3 = 2400, bit 4 = 4800,
/// bit 5 = 9600, bit 6 = 19200 bit/s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub enum BaudRate {
    /// 600 bit/s.
    B600,
    /// 1200 bit/s.
    B1200,
    /// 2400 bit/s, the usual 2007 default.
    B2400,
    /// 4800 bit/s.
    B4800,
    /// 9600 bit/s.
    B9600,
    /// 19200 bit/s.
    B19200,
}

impl BaudRate {
    const ALL: [BaudRate; 6] = [
        BaudRate::B600,
        BaudRate::B1200,
        BaudRate::B2400,
        BaudRate::B4800,
        BaudRate::B9600,
        BaudRate::B19200,
    ];

    /// Bits per second.
    pub const fn bits_per_second(self) -> u32 {
        match self {
            BaudRate::B600 => 600,
            BaudRate::B1200 => 1200,
            BaudRate::B2400 => 2400,
            BaudRate::B4800 => 4800,
            BaudRate::B9600 => 9600,
            BaudRate::B19200 => 19200,
        }
    }

    /// The rate for a number of bits per second, if it is one of the six.
    pub fn from_bits_per_second(bps: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.bits_per_second() == bps)
    }

    /// The characteristic word: exactly one bit set.
    pub const fn to_word(self) -> u8 {
        match self {
            BaudRate::B600 => 0x02,
            BaudRate::B1200 => 0x04,
            BaudRate::B2400 => 0x08,
            BaudRate::B4800 => 0x10,
            BaudRate::B9600 => 0x20,
            BaudRate::B19200 => 0x40,
        }
    }

    /// The rate a characteristic word selects; `None` unless exactly one of bits 1..=6
    /// is set.
    pub fn from_word(word: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.to_word() == word)
    }
}

/// When a freeze (0x16) takes effect: minute, hour, day and month, each either a value
/// or the periodic wildcard 99 (`None`). All four `None` means "freeze now".
///
/// Wire order `mm hh DD MM` (the order of every other DL/T 645 time field; one
/// implementation sends `MM DD hh mm`, which this crate does not follow).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub struct FreezeTime {
    /// Month 1..=12, or every month.
    pub month: Option<u8>,
    /// Day 1..=31, or every day.
    pub day: Option<u8>,
    /// Hour 0..=23, or every hour.
    pub hour: Option<u8>,
    /// Minute 0..=59.
    pub minute: Option<u8>,
}

/// Relay command byte `N1` of function 0x1C (State Grid extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
#[non_exhaustive]
pub enum RelayCommand {
    /// 0x1A: open the relay (cut supply).
    Trip,
    /// 0x1B: allow the customer to close the relay.
    CloseAllowed,
    /// 0x1C: close the relay directly.
    DirectClose,
    /// 0x2A: alarm.
    Alarm,
    /// 0x2B: alarm off.
    AlarmOff,
    /// 0x3A: keep power on regardless of balance.
    KeepPower,
    /// 0x3B: release keep-power.
    ReleaseKeepPower,
    /// Any other byte, kept as sent.
    Other(u8),
}

impl RelayCommand {
    /// The command byte.
    pub const fn to_byte(self) -> u8 {
        match self {
            RelayCommand::Trip => 0x1A,
            RelayCommand::CloseAllowed => 0x1B,
            RelayCommand::DirectClose => 0x1C,
            RelayCommand::Alarm => 0x2A,
            RelayCommand::AlarmOff => 0x2B,
            RelayCommand::KeepPower => 0x3A,
            RelayCommand::ReleaseKeepPower => 0x3B,
            RelayCommand::Other(b) => b,
        }
    }

    /// The command for a byte.
    pub const fn from_byte(byte: u8) -> Self {
        match byte {
            0x1A => RelayCommand::Trip,
            0x1B => RelayCommand::CloseAllowed,
            0x1C => RelayCommand::DirectClose,
            0x2A => RelayCommand::Alarm,
            0x2B => RelayCommand::AlarmOff,
            0x3A => RelayCommand::KeepPower,
            0x3B => RelayCommand::ReleaseKeepPower,
            other => RelayCommand::Other(other),
        }
    }
}

/// What a 2007 read (0x11) asks for besides the DI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub enum ReadSelector {
    /// The current value (L = 4; for 1997 L = 2).
    Current,
    /// `N` blocks of load records (L = 5).
    Blocks {
        /// Number of blocks.
        count: u8,
    },
    /// `N` blocks of load records from a given minute on (L = 10; `mm hh DD MM YY`).
    LoadRecordsSince {
        /// Number of blocks.
        count: u8,
        /// First record's time (seconds are not transmitted and must be 0).
        since: NaiveDateTime,
    },
}

/// The meter's error word (ERR) of an abnormal reply: a bitmask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub struct ErrorWord {
    /// The ERR byte, 0x33 already removed.
    pub bits: u8,
    /// The edition, which names the bits.
    pub edition: Edition,
}

/// One bit of an [`ErrorWord`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
#[non_exhaustive]
pub enum ErrorFlag {
    /// 2007 b0: other error.
    Other,
    /// 2007 b1: no requested data.
    NoData,
    /// 2007 b2: wrong password or unauthorised.
    Unauthorized,
    /// 2007 b3: the communication rate cannot be changed.
    BaudUnchangeable,
    /// b4 (both editions): too many year time zones.
    YearZonesExceeded,
    /// b5 (both editions): too many day periods.
    DayPeriodsExceeded,
    /// b6 (both editions): too many tariffs.
    TariffsExceeded,
    /// 1997 b0: illegal data.
    IllegalData,
    /// 1997 b1: wrong data identifier.
    WrongDi,
    /// 1997 b2: wrong password.
    WrongPassword,
    /// A bit the edition reserves (2007 b7; 1997 b3 and b7).
    Reserved(u8),
}

impl ErrorFlag {
    /// A short English description.
    pub const fn description(self) -> &'static str {
        match self {
            ErrorFlag::Other => "other error",
            ErrorFlag::NoData => "no requested data",
            ErrorFlag::Unauthorized => "wrong password or unauthorised",
            ErrorFlag::BaudUnchangeable => "baud rate cannot be changed",
            ErrorFlag::YearZonesExceeded => "year time-zone count exceeded",
            ErrorFlag::DayPeriodsExceeded => "day period count exceeded",
            ErrorFlag::TariffsExceeded => "tariff count exceeded",
            ErrorFlag::IllegalData => "illegal data",
            ErrorFlag::WrongDi => "wrong data identifier",
            ErrorFlag::WrongPassword => "wrong password",
            ErrorFlag::Reserved(_) => "reserved bit",
        }
    }
}

impl ErrorWord {
    /// The flag bit `bit` (0..=7) stands for in this edition.
    pub const fn flag(self, bit: u8) -> ErrorFlag {
        match (self.edition, bit) {
            (Edition::V2007, 0) => ErrorFlag::Other,
            (Edition::V2007, 1) => ErrorFlag::NoData,
            (Edition::V2007, 2) => ErrorFlag::Unauthorized,
            (Edition::V2007, 3) => ErrorFlag::BaudUnchangeable,
            (Edition::V1997, 0) => ErrorFlag::IllegalData,
            (Edition::V1997, 1) => ErrorFlag::WrongDi,
            (Edition::V1997, 2) => ErrorFlag::WrongPassword,
            (_, 4) => ErrorFlag::YearZonesExceeded,
            (_, 5) => ErrorFlag::DayPeriodsExceeded,
            (_, 6) => ErrorFlag::TariffsExceeded,
            (_, other) => ErrorFlag::Reserved(other),
        }
    }

    /// The flags that are set, lowest bit first.
    pub fn flags(self) -> impl Iterator<Item = ErrorFlag> {
        (0..8u8)
            .filter(move |bit| self.bits & (1 << bit) != 0)
            .map(move |bit| self.flag(bit))
    }
}

/// The set flags' descriptions, separated by "; ", or "no error bit set".
impl fmt::Display for ErrorWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut flags = self.flags();
        match flags.next() {
            None => f.write_str("no error bit set"),
            Some(first) => {
                f.write_str(first.description())?;
                flags.try_for_each(|flag| write!(f, "; {}", flag.description()))
            }
        }
    }
}

/// A frame sent by the master (the reader) to a meter.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[non_exhaustive]
pub enum Request {
    /// Read a data item: 0x11 (2007) or 0x01 (1997, only [`ReadSelector::Current`]).
    Read {
        /// What to read; its edition selects the function code.
        di: Di,
        /// Current value, or load-record blocks (2007).
        selector: ReadSelector,
    },
    /// Ask for the next frame of a multi-frame answer: 0x12 (2007, with the frame
    /// sequence number) or 0x02 (1997, DI only).
    ReadSubsequent {
        /// The item being read.
        di: Di,
        /// 2007: sequence number of the wanted frame, from 1. 1997: `None`.
        seq: Option<u8>,
    },
    /// Ask for the last answer again: 0x03 (1997).
    Reread,
    /// Read the address of the one meter on the line: 0x13 (2007), sent to `AAAAAAAAAAAA`.
    ReadAddress,
    /// Write a data item: 0x14 (2007, with operator code) or 0x04 (1997, without).
    Write {
        /// The item to write; its edition selects the function code.
        di: Di,
        /// Password level and password.
        password: Password,
        /// Operator code: `Some` for 2007, `None` for 1997.
        operator: Option<OperatorCode>,
        /// The value bytes, wire order, without the 0x33 offset
        /// (see [`crate::value::encode`]).
        data: Payload,
    },
    /// Set the meter's address: 0x15 (2007) or 0x0A (1997).
    WriteAddress {
        /// Selects the function code.
        edition: Edition,
        /// The new address.
        address: Address,
    },
    /// Broadcast time synchronisation: 0x08, no reply.
    BroadcastTime {
        /// The time to set (years 2000..=2099).
        time: NaiveDateTime,
    },
    /// Freeze the registers: 0x16 (2007).
    Freeze {
        /// When; all wildcards means now.
        at: FreezeTime,
    },
    /// Change the communication rate: 0x17 (2007) or 0x0C (1997).
    ChangeBaud {
        /// Selects the function code.
        edition: Edition,
        /// The new rate.
        rate: BaudRate,
    },
    /// Change a password: 0x18 (2007: DI 04000C0x + old + new) or 0x0F (1997: old +
    /// new).
    ChangePassword {
        /// 2007: the password's DI (04000C01..=04000C0A for levels 0..=9). 1997: `None`.
        di: Option<Di>,
        /// The current password.
        old: Password,
        /// The new password.
        new: Password,
    },
    /// Clear maximum demand: 0x19 (2007: password + operator) or 0x10 (1997: password;
    /// **unverified** layout).
    ClearDemand {
        /// Password level and password.
        password: Password,
        /// `Some` for 2007, `None` for 1997.
        operator: Option<OperatorCode>,
    },
    /// Clear the meter: 0x1A (2007).
    ClearMeter {
        /// Password level and password.
        password: Password,
        /// Operator code.
        operator: OperatorCode,
    },
    /// Clear events: 0x1B (2007).
    ClearEvents {
        /// Password level and password.
        password: Password,
        /// Operator code.
        operator: OperatorCode,
        /// Which events; `Di::V2007(0xFFFF_FFFF)` clears all.
        di: Di,
    },
    /// Relay control: 0x1C (State Grid extension).
    RelayControl {
        /// Password level and password.
        password: Password,
        /// Operator code.
        operator: OperatorCode,
        /// What to do.
        command: RelayCommand,
        /// The command expires at this time (`ss mm hh DD MM YY` on the wire).
        valid_until: NaiveDateTime,
    },
    /// Heartbeat broadcast: 0x1E (extension).
    Heartbeat {
        /// Timeout in minutes (one binary byte; **unverified**).
        minutes: u8,
    },
    /// Security authentication with the meter's ESAM: 0x03 (2007). The layout belongs
    /// to the State Grid security specification and is kept opaque.
    SecurityAuth {
        /// The data field, without the 0x33 offset.
        data: Payload,
    },
}

/// A frame sent by a meter in answer to a [`Request`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[non_exhaustive]
pub enum Reply {
    /// Answer to a read: 0x91/0xB1 (2007) or 0x81/0xA1 (1997).
    Read {
        /// The item.
        di: Di,
        /// The value bytes after the DI, wire order, without the 0x33 offset
        /// (decode with [`crate::value::decode`]).
        data: Payload,
        /// More frames follow (D5): continue with [`Request::ReadSubsequent`].
        more: bool,
    },
    /// Answer to a read-subsequent: 0x92/0xB2 (2007) or 0x82/0xA2 (1997).
    ReadSubsequent {
        /// The item.
        di: Di,
        /// The value bytes between the DI and the sequence number.
        data: Payload,
        /// 2007: the frame's sequence number (last data byte). 1997: `None`.
        seq: Option<u8>,
        /// More frames follow.
        more: bool,
    },
    /// Answer to read-address: 0x93, the meter's address in the data field.
    ReadAddress {
        /// The meter's address.
        address: Address,
    },
    /// Acknowledgement of a write: 0x94 or 0x84.
    WriteAck {
        /// The edition of the acknowledged request.
        edition: Edition,
    },
    /// Acknowledgement of a new address: 0x95 or 0x8A.
    WriteAddressAck {
        /// The edition of the acknowledged request.
        edition: Edition,
    },
    /// Acknowledgement of a freeze: 0x96.
    FreezeAck,
    /// Answer to a rate change, echoing the accepted rate: 0x97 or 0x8C.
    ChangeBaud {
        /// The edition of the request.
        edition: Edition,
        /// The rate the meter switches to.
        rate: BaudRate,
    },
    /// Answer to a password change, echoing the new password: 0x98 or 0x8F.
    ChangePassword {
        /// The edition of the request.
        edition: Edition,
        /// The new password.
        new: Password,
    },
    /// Acknowledgement of a demand clear: 0x99 or 0x90.
    ClearDemandAck {
        /// The edition of the request.
        edition: Edition,
    },
    /// Acknowledgement of a meter clear: 0x9A.
    ClearMeterAck,
    /// Acknowledgement of an event clear: 0x9B.
    ClearEventsAck,
    /// Acknowledgement of a relay command: 0x9C.
    RelayControlAck,
    /// Answer to security authentication: 0x83, kept opaque.
    SecurityAuth {
        /// The data field, without the 0x33 offset.
        data: Payload,
    },
    /// An abnormal reply (D6 set): the meter refused, with its ERR word.
    Abnormal {
        /// The refused function.
        function: Function,
        /// Its edition.
        edition: Edition,
        /// Why.
        error: ErrorWord,
    },
}

/// Either kind of frame, told apart by the direction bit.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
pub enum Message {
    /// Master to meter.
    Request(Request),
    /// Meter to master.
    Reply(Reply),
}

impl Message {
    /// Interprets a frame's data field according to its control byte.
    ///
    /// # Errors
    ///
    /// As [`Request::parse`] and [`Reply::parse`].
    pub fn parse(frame: &FrameRepr) -> Result<Self, Error> {
        match frame.control.direction() {
            Direction::Request => Request::parse(frame).map(Message::Request),
            Direction::Reply => Reply::parse(frame).map(Message::Reply),
        }
    }
}

/// Appends fields to a data field, failing when it would exceed 255 bytes.
struct Writer {
    data: Payload,
}

impl Writer {
    fn new() -> Self {
        Writer {
            data: Payload::new(),
        }
    }

    fn bytes(&mut self, bytes: &[u8]) -> Result<&mut Self, Error> {
        self.data
            .extend_from_slice(bytes)
            .map_err(|_| Error::DataTooLong {
                len: self.data.len() + bytes.len(),
                max: crate::frame::MAX_DATA_LEN,
            })?;
        Ok(self)
    }

    fn di(&mut self, di: Di) -> Result<&mut Self, Error> {
        self.bytes(&di.to_wire()[..di.wire_len()])
    }

    fn frame(&mut self, address: Address, control: Control) -> FrameRepr {
        FrameRepr {
            address,
            control,
            data: core::mem::take(&mut self.data),
        }
    }
}

/// The BCD byte of a chrono time field (all below 100; years are reduced mod 100).
fn to_bcd(value: u32) -> u8 {
    u8::try_from(value % 100)
        .ok()
        .and_then(crate::bcd::u8_to_byte)
        .unwrap_or(0)
}

/// `[ss] mm hh DD MM YY` wire bytes of a time, seconds included when `N` is 6.
fn datetime_wire<const N: usize>(t: &NaiveDateTime, field: &'static str) -> Result<[u8; N], Error> {
    let year = t.year();
    if !(2000..=2099).contains(&year) {
        return Err(Error::Field {
            field,
            offset: 0,
            byte: 0,
        });
    }
    let full = [
        to_bcd(t.second()),
        to_bcd(t.minute()),
        to_bcd(t.hour()),
        to_bcd(t.day()),
        to_bcd(t.month()),
        to_bcd(year.unsigned_abs()),
    ];
    let mut out = [0; N];
    out.copy_from_slice(&full[6 - N..]);
    Ok(out)
}

/// A freeze field's byte: 99 (the periodic wildcard) for `None`, else BCD. 99 and above
/// cannot be sent as a value: 99 would read back as the wildcard, three digits not at all.
fn freeze_byte(value: Option<u8>, offset: usize) -> Result<u8, Error> {
    match value {
        None => Ok(0x99),
        Some(v) if v < 99 => Ok(to_bcd(u32::from(v))),
        Some(v) => Err(Error::Field {
            field: "freeze time (each field 0..=98, or None for every)",
            offset,
            byte: v,
        }),
    }
}

impl Request {
    /// The function this request invokes.
    pub fn function(&self) -> Function {
        match self {
            Request::Read { .. } => Function::Read,
            Request::ReadSubsequent { .. } => Function::ReadSubsequent,
            Request::Reread => Function::Reread,
            Request::ReadAddress => Function::ReadAddress,
            Request::Write { .. } => Function::Write,
            Request::WriteAddress { .. } => Function::WriteAddress,
            Request::BroadcastTime { .. } => Function::BroadcastTime,
            Request::Freeze { .. } => Function::Freeze,
            Request::ChangeBaud { .. } => Function::ChangeBaud,
            Request::ChangePassword { .. } => Function::ChangePassword,
            Request::ClearDemand { .. } => Function::ClearDemand,
            Request::ClearMeter { .. } => Function::ClearMeter,
            Request::ClearEvents { .. } => Function::ClearEvents,
            Request::RelayControl { .. } => Function::RelayControl,
            Request::Heartbeat { .. } => Function::Heartbeat,
            Request::SecurityAuth { .. } => Function::SecurityAuth,
        }
    }

    /// The edition whose function code this request uses.
    pub fn edition(&self) -> Edition {
        match self {
            Request::Read { di, .. }
            | Request::ReadSubsequent { di, .. }
            | Request::Write { di, .. } => di.edition(),
            Request::Reread => Edition::V1997,
            Request::WriteAddress { edition, .. } | Request::ChangeBaud { edition, .. } => *edition,
            // Only the 2007 layout carries a DI.
            Request::ChangePassword { di, .. } => {
                if di.is_some() {
                    Edition::V2007
                } else {
                    Edition::V1997
                }
            }
            Request::ClearDemand { operator, .. } => {
                if operator.is_some() {
                    Edition::V2007
                } else {
                    Edition::V1997
                }
            }
            _ => Edition::V2007,
        }
    }

    /// Whether a meter answers this request. Broadcast time and heartbeat get no reply.
    pub fn expects_reply(&self) -> bool {
        !matches!(
            self,
            Request::BroadcastTime { .. } | Request::Heartbeat { .. }
        )
    }

    /// The frame carrying this request to `address`.
    ///
    /// # Errors
    ///
    /// [`Error::DataTooLong`] when a write's data does not fit the 255-byte field;
    /// [`Error::NotInEdition`] for a combination the edition lacks (a 1997 load-record
    /// read, a 2007 write without operator code, a 1997 one with, clearing events by a 1997
    /// DI); [`Error::Field`] for a time outside 2000..=2099, a load-record time with
    /// seconds, or a freeze-time field above 98.
    pub fn to_frame(&self, address: Address) -> Result<FrameRepr, Error> {
        let edition = self.edition();
        let function = self.function();
        let lacking = Error::NotInEdition { function, edition };
        let control = Control::request(function, edition).ok_or(lacking)?;
        let mut w = Writer::new();
        match self {
            Request::Read { di, selector } => {
                w.di(*di)?;
                match (selector, edition) {
                    (ReadSelector::Current, _) => {}
                    (ReadSelector::Blocks { count }, Edition::V2007) => {
                        w.bytes(&[*count])?;
                    }
                    (ReadSelector::LoadRecordsSince { count, since }, Edition::V2007) => {
                        if since.second() != 0 {
                            return Err(Error::Field {
                                field: "load-record time (seconds are not sent)",
                                offset: 0,
                                byte: 0,
                            });
                        }
                        w.bytes(&[*count])?
                            .bytes(&datetime_wire::<5>(since, "load-record time")?)?;
                    }
                    (_, Edition::V1997) => return Err(lacking),
                }
            }
            Request::ReadSubsequent { di, seq } => {
                w.di(*di)?;
                match (seq, edition) {
                    (Some(seq), Edition::V2007) => {
                        w.bytes(&[*seq])?;
                    }
                    (None, Edition::V1997) => {}
                    _ => return Err(lacking),
                }
            }
            Request::Reread | Request::ReadAddress => {}
            Request::Write {
                di,
                password,
                operator,
                data,
            } => {
                w.di(*di)?.bytes(&password.to_wire())?;
                match (operator, edition) {
                    (Some(op), Edition::V2007) => {
                        w.bytes(&op.0)?;
                    }
                    (None, Edition::V1997) => {}
                    _ => return Err(lacking),
                }
                w.bytes(data)?;
            }
            Request::WriteAddress { address: new, .. } => {
                w.bytes(&new.to_wire())?;
            }
            Request::BroadcastTime { time } => {
                w.bytes(&datetime_wire::<6>(time, "broadcast time")?)?;
            }
            Request::Freeze { at } => {
                w.bytes(&[
                    freeze_byte(at.minute, 0)?,
                    freeze_byte(at.hour, 1)?,
                    freeze_byte(at.day, 2)?,
                    freeze_byte(at.month, 3)?,
                ])?;
            }
            Request::ChangeBaud { rate, .. } => {
                w.bytes(&[rate.to_word()])?;
            }
            Request::ChangePassword { di, old, new } => {
                match di {
                    Some(di @ Di::V2007(_)) => {
                        w.di(*di)?;
                    }
                    Some(Di::V1997(_)) => return Err(lacking),
                    None => {}
                }
                w.bytes(&old.to_wire())?.bytes(&new.to_wire())?;
            }
            Request::ClearDemand { password, operator } => {
                w.bytes(&password.to_wire())?;
                if let Some(op) = operator {
                    w.bytes(&op.0)?;
                }
            }
            Request::ClearMeter { password, operator } => {
                w.bytes(&password.to_wire())?.bytes(&operator.0)?;
            }
            Request::ClearEvents {
                password,
                operator,
                di,
            } => {
                // A 2007 function: a 1997 DI would make the data field two bytes short.
                let Di::V2007(_) = di else {
                    return Err(lacking);
                };
                w.bytes(&password.to_wire())?.bytes(&operator.0)?.di(*di)?;
            }
            Request::RelayControl {
                password,
                operator,
                command,
                valid_until,
            } => {
                w.bytes(&password.to_wire())?
                    .bytes(&operator.0)?
                    .bytes(&[command.to_byte(), 0x00])?
                    .bytes(&datetime_wire::<6>(valid_until, "relay validity time")?)?;
            }
            Request::Heartbeat { minutes } => {
                w.bytes(&[*minutes])?;
            }
            Request::SecurityAuth { data } => {
                w.bytes(data)?;
            }
        }
        Ok(w.frame(address, control))
    }

    /// Interprets a request frame.
    ///
    /// # Errors
    ///
    /// [`Error::Direction`] for a reply, [`Error::UnknownFunction`] for an unknown code,
    /// [`Error::DataLength`] when the data field does not fit the function's layout,
    /// [`Error::Field`] for a malformed time or rate word.
    pub fn parse(frame: &FrameRepr) -> Result<Self, Error> {
        let control = frame.control;
        let (function, edition) = function_of(frame, Direction::Request)?;
        let (expected, parsed) = request_layout(function, edition, &frame.data);
        parsed.map_err(|e| layout::to_error(&e, &frame.data, control.to_byte(), expected))
    }
}

impl Reply {
    /// The function this reply answers.
    pub fn function(&self) -> Function {
        match self {
            Reply::Read { .. } => Function::Read,
            Reply::ReadSubsequent { .. } => Function::ReadSubsequent,
            Reply::ReadAddress { .. } => Function::ReadAddress,
            Reply::WriteAck { .. } => Function::Write,
            Reply::WriteAddressAck { .. } => Function::WriteAddress,
            Reply::FreezeAck => Function::Freeze,
            Reply::ChangeBaud { .. } => Function::ChangeBaud,
            Reply::ChangePassword { .. } => Function::ChangePassword,
            Reply::ClearDemandAck { .. } => Function::ClearDemand,
            Reply::ClearMeterAck => Function::ClearMeter,
            Reply::ClearEventsAck => Function::ClearEvents,
            Reply::RelayControlAck => Function::RelayControl,
            Reply::SecurityAuth { .. } => Function::SecurityAuth,
            Reply::Abnormal { function, .. } => *function,
        }
    }

    /// The edition whose function code this reply uses.
    pub fn edition(&self) -> Edition {
        match self {
            Reply::Read { di, .. } | Reply::ReadSubsequent { di, .. } => di.edition(),
            Reply::WriteAck { edition }
            | Reply::WriteAddressAck { edition }
            | Reply::ChangeBaud { edition, .. }
            | Reply::ChangePassword { edition, .. }
            | Reply::ClearDemandAck { edition }
            | Reply::Abnormal { edition, .. } => *edition,
            _ => Edition::V2007,
        }
    }

    /// The abnormal reply a meter sends to refuse `request` with `error`.
    pub fn refuse(request: &Request, error: u8) -> Self {
        let edition = request.edition();
        Reply::Abnormal {
            function: request.function(),
            edition,
            error: ErrorWord {
                bits: error,
                edition,
            },
        }
    }

    /// The frame carrying this reply from the meter at `address`.
    ///
    /// # Errors
    ///
    /// [`Error::DataTooLong`] when the data does not fit the 255-byte field;
    /// [`Error::NotInEdition`] for a function the edition lacks, or a subsequent-frame
    /// reply whose sequence number does not match its DI's edition (2007 has one, 1997
    /// none).
    pub fn to_frame(&self, address: Address) -> Result<FrameRepr, Error> {
        let function = self.function();
        let edition = self.edition();
        let request =
            Control::request(function, edition).ok_or(Error::NotInEdition { function, edition })?;
        let mut w = Writer::new();
        let control = match self {
            Reply::Read { di, data, more } => {
                w.di(*di)?.bytes(data)?;
                request.normal_reply(*more)
            }
            Reply::ReadSubsequent {
                di,
                data,
                seq,
                more,
            } => {
                w.di(*di)?.bytes(data)?;
                // The sequence byte is what tells a 2007 subsequent reply from a 1997 one.
                match (seq, edition) {
                    (Some(seq), Edition::V2007) => {
                        w.bytes(&[*seq])?;
                    }
                    (None, Edition::V1997) => {}
                    _ => return Err(Error::NotInEdition { function, edition }),
                }
                request.normal_reply(*more)
            }
            Reply::ReadAddress { address: meter } => {
                w.bytes(&meter.to_wire())?;
                request.normal_reply(false)
            }
            Reply::ChangeBaud { rate, .. } => {
                w.bytes(&[rate.to_word()])?;
                request.normal_reply(false)
            }
            Reply::ChangePassword { new, .. } => {
                w.bytes(&new.to_wire())?;
                request.normal_reply(false)
            }
            Reply::SecurityAuth { data } => {
                w.bytes(data)?;
                request.normal_reply(false)
            }
            Reply::Abnormal { error, .. } => {
                w.bytes(&[error.bits])?;
                request.abnormal_reply()
            }
            Reply::WriteAck { .. }
            | Reply::WriteAddressAck { .. }
            | Reply::FreezeAck
            | Reply::ClearDemandAck { .. }
            | Reply::ClearMeterAck
            | Reply::ClearEventsAck
            | Reply::RelayControlAck => request.normal_reply(false),
        };
        Ok(w.frame(address, control))
    }

    /// Interprets a reply frame.
    ///
    /// # Errors
    ///
    /// [`Error::Direction`] for a request, [`Error::UnknownFunction`] for an unknown
    /// code, [`Error::DataLength`] when the data field does not fit the function's
    /// layout (an abnormal reply must carry exactly the one ERR byte), [`Error::Field`]
    /// for a malformed rate word.
    pub fn parse(frame: &FrameRepr) -> Result<Self, Error> {
        let control = frame.control;
        let (function, edition) = function_of(frame, Direction::Reply)?;
        let (expected, parsed) = if control.is_abnormal() {
            (
                "1 (the ERR byte)",
                whole(
                    &frame.data,
                    byte.map(|bits| Reply::Abnormal {
                        function,
                        edition,
                        error: ErrorWord { bits, edition },
                    }),
                ),
            )
        } else {
            reply_layout(function, edition, control.has_more(), &frame.data)
                .ok_or(unknown_function(control))?
        };
        parsed.map_err(|e| layout::to_error(&e, &frame.data, control.to_byte(), expected))
    }
}

type Layout<T> = Result<T, nom::Err<LayoutError>>;

fn unknown_function(control: Control) -> Error {
    Error::UnknownFunction {
        control: control.to_byte(),
        code: control.code(),
    }
}

/// The function and edition of a frame that must travel in direction `expected`.
fn function_of(frame: &FrameRepr, expected: Direction) -> Result<(Function, Edition), Error> {
    let control = frame.control;
    let found = control.direction();
    if found != expected {
        return Err(Error::Direction {
            control: control.to_byte(),
            expected,
            found,
        });
    }
    control
        .function(frame.data.len())
        .ok_or(unknown_function(control))
}

/// Runs `parser` over the whole data field: input left over is a length error.
fn whole<'a, T>(
    data: In<'a>,
    parser: impl Parser<In<'a>, Output = T, Error = LayoutError>,
) -> Layout<T> {
    all_consuming(parser).parse(data).map(|(_, value)| value)
}

fn password(input: In<'_>) -> layout::Parsed<'_, Password> {
    array::<4>.map(Password::from_wire).parse(input)
}

fn operator(input: In<'_>) -> layout::Parsed<'_, OperatorCode> {
    array::<4>.map(OperatorCode).parse(input)
}

fn payload(bytes: &[u8]) -> Payload {
    // The data field of a `FrameRepr` holds at most 255 bytes, so any part of it fits.
    Payload::from_slice(bytes).unwrap_or_default()
}

/// A freeze field: 99 is the periodic wildcard, anything else BCD.
fn freeze_field(input: In<'_>) -> layout::Parsed<'_, Option<u8>> {
    checked_byte("freeze time", |b| {
        if b == 0x99 {
            Some(None)
        } else {
            crate::bcd::byte_to_u8(b).map(Some)
        }
    })(input)
}

fn baud_word(input: In<'_>) -> layout::Parsed<'_, BaudRate> {
    checked_byte(
        "baud-rate word (exactly one of bits 1..=6)",
        BaudRate::from_word,
    )(input)
}

/// Each request's data-field layout, and its length in words for the error message.
fn request_layout(function: Function, e: Edition, d: &[u8]) -> (&'static str, Layout<Request>) {
    let v2007 = e == Edition::V2007;
    match function {
        Function::Read if v2007 => (
            "4, 5 or 10",
            match d.len() {
                4 => whole(
                    d,
                    di(e).map(|di| Request::Read {
                        di,
                        selector: ReadSelector::Current,
                    }),
                ),
                5 => whole(
                    d,
                    (di(e), byte).map(|(di, count)| Request::Read {
                        di,
                        selector: ReadSelector::Blocks { count },
                    }),
                ),
                _ => whole(
                    d,
                    (di(e), byte, datetime::<5>("load-record time")).map(|(di, count, since)| {
                        Request::Read {
                            di,
                            selector: ReadSelector::LoadRecordsSince { count, since },
                        }
                    }),
                ),
            },
        ),
        Function::Read => (
            "2",
            whole(
                d,
                di(e).map(|di| Request::Read {
                    di,
                    selector: ReadSelector::Current,
                }),
            ),
        ),
        Function::ReadSubsequent if v2007 => (
            "5",
            whole(
                d,
                (di(e), byte).map(|(di, seq)| Request::ReadSubsequent { di, seq: Some(seq) }),
            ),
        ),
        Function::ReadSubsequent => (
            "2",
            whole(d, di(e).map(|di| Request::ReadSubsequent { di, seq: None })),
        ),
        Function::Reread => ("0", whole(d, success(Request::Reread))),
        Function::ReadAddress => ("0", whole(d, success(Request::ReadAddress))),
        Function::Write if v2007 => (
            "at least 12",
            whole(
                d,
                (di(e), password, operator, rest).map(|(di, password, operator, data)| {
                    Request::Write {
                        di,
                        password,
                        operator: Some(operator),
                        data: payload(data),
                    }
                }),
            ),
        ),
        Function::Write => (
            "at least 6",
            whole(
                d,
                (di(e), password, rest).map(|(di, password, data)| Request::Write {
                    di,
                    password,
                    operator: None,
                    data: payload(data),
                }),
            ),
        ),
        Function::WriteAddress => (
            "6",
            whole(
                d,
                address.map(|address| Request::WriteAddress {
                    edition: e,
                    address,
                }),
            ),
        ),
        Function::BroadcastTime => (
            "6",
            whole(
                d,
                datetime::<6>("broadcast time").map(|time| Request::BroadcastTime { time }),
            ),
        ),
        Function::Freeze => (
            "4",
            whole(
                d,
                (freeze_field, freeze_field, freeze_field, freeze_field).map(
                    |(minute, hour, day, month)| Request::Freeze {
                        at: FreezeTime {
                            month,
                            day,
                            hour,
                            minute,
                        },
                    },
                ),
            ),
        ),
        Function::ChangeBaud => (
            "1",
            whole(
                d,
                baud_word.map(|rate| Request::ChangeBaud { edition: e, rate }),
            ),
        ),
        Function::ChangePassword if v2007 => (
            "12",
            whole(
                d,
                (di(e), password, password).map(|(di, old, new)| Request::ChangePassword {
                    di: Some(di),
                    old,
                    new,
                }),
            ),
        ),
        Function::ChangePassword => (
            "8",
            whole(
                d,
                (password, password).map(|(old, new)| Request::ChangePassword {
                    di: None,
                    old,
                    new,
                }),
            ),
        ),
        Function::ClearDemand if v2007 => (
            "8",
            whole(
                d,
                (password, operator).map(|(password, op)| Request::ClearDemand {
                    password,
                    operator: Some(op),
                }),
            ),
        ),
        Function::ClearDemand => (
            "4",
            whole(
                d,
                password.map(|password| Request::ClearDemand {
                    password,
                    operator: None,
                }),
            ),
        ),
        Function::ClearMeter => (
            "8",
            whole(
                d,
                (password, operator)
                    .map(|(password, operator)| Request::ClearMeter { password, operator }),
            ),
        ),
        Function::ClearEvents => (
            "12",
            whole(
                d,
                (password, operator, di(e)).map(|(password, operator, di)| Request::ClearEvents {
                    password,
                    operator,
                    di,
                }),
            ),
        ),
        Function::RelayControl => (
            "16",
            whole(
                d,
                (
                    password,
                    operator,
                    byte,
                    byte,
                    datetime::<6>("relay validity time"),
                )
                    .map(
                        |(password, operator, command, _reserved, valid_until)| {
                            Request::RelayControl {
                                password,
                                operator,
                                command: RelayCommand::from_byte(command),
                                valid_until,
                            }
                        },
                    ),
            ),
        ),
        Function::Heartbeat => (
            "1",
            whole(d, byte.map(|minutes| Request::Heartbeat { minutes })),
        ),
        Function::SecurityAuth => (
            "any",
            whole(
                d,
                rest.map(|data| Request::SecurityAuth {
                    data: payload(data),
                }),
            ),
        ),
    }
}

/// Each normal reply's data-field layout, and its length in words for the error
/// message; `None` for functions that are never answered.
fn reply_layout(
    function: Function,
    e: Edition,
    more: bool,
    d: &[u8],
) -> Option<(&'static str, Layout<Reply>)> {
    let v2007 = e == Edition::V2007;
    let at_least_di = if v2007 { "at least 4" } else { "at least 2" };
    let ack = |reply: Reply| ("0", whole(d, success(reply)));
    Some(match function {
        Function::Read => (
            at_least_di,
            whole(
                d,
                (di(e), rest).map(|(di, data)| Reply::Read {
                    di,
                    data: payload(data),
                    more,
                }),
            ),
        ),
        Function::ReadSubsequent if v2007 => (
            "at least 5",
            whole(d, (di(e), rest)).and_then(|(di, tail)| match tail.split_last() {
                Some((seq, data)) => Ok(Reply::ReadSubsequent {
                    di,
                    data: payload(data),
                    seq: Some(*seq),
                    more,
                }),
                None => Err(nom::Err::Error(LayoutError::Length)),
            }),
        ),
        Function::ReadSubsequent => (
            at_least_di,
            whole(
                d,
                (di(e), rest).map(|(di, data)| Reply::ReadSubsequent {
                    di,
                    data: payload(data),
                    seq: None,
                    more,
                }),
            ),
        ),
        Function::ReadAddress => (
            "6",
            whole(d, address.map(|address| Reply::ReadAddress { address })),
        ),
        Function::Write => ack(Reply::WriteAck { edition: e }),
        Function::WriteAddress => ack(Reply::WriteAddressAck { edition: e }),
        Function::Freeze => ack(Reply::FreezeAck),
        Function::ChangeBaud => (
            "1",
            whole(
                d,
                baud_word.map(|rate| Reply::ChangeBaud { edition: e, rate }),
            ),
        ),
        Function::ChangePassword => (
            "4",
            whole(
                d,
                password.map(|new| Reply::ChangePassword { edition: e, new }),
            ),
        ),
        Function::ClearDemand => ack(Reply::ClearDemandAck { edition: e }),
        Function::ClearMeter => ack(Reply::ClearMeterAck),
        Function::ClearEvents => ack(Reply::ClearEventsAck),
        Function::RelayControl => ack(Reply::RelayControlAck),
        Function::SecurityAuth => (
            "any",
            whole(
                d,
                rest.map(|data| Reply::SecurityAuth {
                    data: payload(data),
                }),
            ),
        ),
        Function::BroadcastTime | Function::Reread | Function::Heartbeat => return None,
    })
}
