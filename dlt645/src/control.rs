//! The control byte: direction, abnormal flag, more-frames flag and function code.

use core::fmt;

use crate::Edition;

/// Who sent a frame: bit D7 of the control byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub enum Direction {
    /// Master (the reader) to slave (the meter): D7 = 0.
    Request,
    /// Slave to master: D7 = 1.
    Reply,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Request => "request",
            Direction::Reply => "reply",
        })
    }
}

/// What a frame asks for or answers, independent of the edition's numbering.
///
/// Both editions share most functions under different codes (read is 0x11 in 2007 and
/// 0x01 in 1997); [`Function::code`] and [`Control::function`] translate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
#[non_exhaustive]
pub enum Function {
    /// Broadcast time synchronisation, 0x08 in both editions; never answered.
    BroadcastTime,
    /// Read data: 0x11 (2007), 0x01 (1997).
    Read,
    /// Read the subsequent frame of a multi-frame answer: 0x12 (2007), 0x02 (1997).
    ReadSubsequent,
    /// Ask the meter to repeat its last answer: 0x03 (1997 only).
    Reread,
    /// Read the communication address: 0x13 (2007 only).
    ReadAddress,
    /// Write data: 0x14 (2007), 0x04 (1997).
    Write,
    /// Write the communication address: 0x15 (2007), 0x0A (1997).
    WriteAddress,
    /// Freeze: 0x16 (2007 only).
    Freeze,
    /// Change the communication rate: 0x17 (2007), 0x0C (1997).
    ChangeBaud,
    /// Change a password: 0x18 (2007), 0x0F (1997).
    ChangePassword,
    /// Clear maximum demand: 0x19 (2007), 0x10 (1997).
    ClearDemand,
    /// Clear the meter (energy and everything): 0x1A (2007 only).
    ClearMeter,
    /// Clear events: 0x1B (2007 only).
    ClearEvents,
    /// Relay (contactor) control, a State Grid extension: 0x1C.
    RelayControl,
    /// Heartbeat, a broadcast extension: 0x1E.
    Heartbeat,
    /// Security authentication with the meter's ESAM (State Grid): 0x03 in 2007.
    SecurityAuth,
}

impl Function {
    /// The function code in the given edition, or `None` when the edition lacks it.
    pub const fn code(self, edition: Edition) -> Option<u8> {
        use Edition::{V1997, V2007};
        use Function as F;
        Some(match (self, edition) {
            (F::BroadcastTime, _) => 0x08,
            (F::Read, V2007) => 0x11,
            (F::Read, V1997) => 0x01,
            (F::ReadSubsequent, V2007) => 0x12,
            (F::ReadSubsequent, V1997) => 0x02,
            (F::Reread, V1997) | (F::SecurityAuth, V2007) => 0x03,
            (F::ReadAddress, V2007) => 0x13,
            (F::Write, V2007) => 0x14,
            (F::Write, V1997) => 0x04,
            (F::WriteAddress, V2007) => 0x15,
            (F::WriteAddress, V1997) => 0x0A,
            (F::Freeze, V2007) => 0x16,
            (F::ChangeBaud, V2007) => 0x17,
            (F::ChangeBaud, V1997) => 0x0C,
            (F::ChangePassword, V2007) => 0x18,
            (F::ChangePassword, V1997) => 0x0F,
            (F::ClearDemand, V2007) => 0x19,
            (F::ClearDemand, V1997) => 0x10,
            (F::ClearMeter, V2007) => 0x1A,
            (F::ClearEvents, V2007) => 0x1B,
            (F::RelayControl, V2007) => 0x1C,
            (F::Heartbeat, V2007) => 0x1E,
            _ => return None,
        })
    }

    /// A short English name, as `meterkit decode` prints it.
    pub const fn name(self) -> &'static str {
        match self {
            Function::BroadcastTime => "broadcast time",
            Function::Read => "read data",
            Function::ReadSubsequent => "read subsequent data",
            Function::Reread => "re-read",
            Function::ReadAddress => "read address",
            Function::Write => "write data",
            Function::WriteAddress => "write address",
            Function::Freeze => "freeze",
            Function::ChangeBaud => "change baud rate",
            Function::ChangePassword => "change password",
            Function::ClearDemand => "clear maximum demand",
            Function::ClearMeter => "clear meter",
            Function::ClearEvents => "clear events",
            Function::RelayControl => "relay control",
            Function::Heartbeat => "heartbeat",
            Function::SecurityAuth => "security authentication",
        }
    }
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The control byte `C`.
///
/// | bit | meaning |
/// |---|---|
/// | D7 | direction: 0 request, 1 reply |
/// | D6 | abnormal reply (the data field is the ERR word) |
/// | D5 | more frames follow |
/// | D4..D0 | function code |
///
/// A normal reply is `request | 0x80` (with `0x20` when more frames follow); an
/// abnormal one is `request | 0xC0`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
pub struct Control(u8);

impl Control {
    const REPLY: u8 = 0x80;
    const ABNORMAL: u8 = 0x40;
    const MORE: u8 = 0x20;
    const CODE: u8 = 0x1F;

    /// Wraps a raw control byte; every value is representable.
    pub const fn from_byte(byte: u8) -> Self {
        Control(byte)
    }

    /// The raw byte.
    pub const fn to_byte(self) -> u8 {
        self.0
    }

    /// The control byte of a request for `function` in `edition`, or `None` when the
    /// edition lacks the function.
    pub const fn request(function: Function, edition: Edition) -> Option<Self> {
        match function.code(edition) {
            Some(code) => Some(Control(code)),
            None => None,
        }
    }

    /// The normal reply to this control byte (D7 set, D6 and D5 clear), with D5 set
    /// when `more` frames follow.
    #[must_use]
    pub const fn normal_reply(self, more: bool) -> Self {
        let base = (self.0 & Self::CODE) | Self::REPLY;
        Control(if more { base | Self::MORE } else { base })
    }

    /// The abnormal reply to this control byte (D7 and D6 set).
    #[must_use]
    pub const fn abnormal_reply(self) -> Self {
        Control((self.0 & Self::CODE) | Self::REPLY | Self::ABNORMAL)
    }

    /// Bit D7.
    pub const fn direction(self) -> Direction {
        if self.0 & Self::REPLY == 0 {
            Direction::Request
        } else {
            Direction::Reply
        }
    }

    /// Bit D6: the meter reports an error; the data field is the ERR word.
    pub const fn is_abnormal(self) -> bool {
        self.0 & Self::ABNORMAL != 0
    }

    /// Bit D5: further frames of this answer follow.
    pub const fn has_more(self) -> bool {
        self.0 & Self::MORE != 0
    }

    /// Bits D4..D0.
    pub const fn code(self) -> u8 {
        self.0 & Self::CODE
    }

    /// The function and the edition it implies, or `None` for a code neither edition
    /// defines.
    ///
    /// Code 0x03 is the one code both editions use differently: 2007 security
    /// authentication and 1997 re-read. Without a data field the frame can only be a
    /// 1997 re-read request, so pass `data_len`; any other 0x03 frame is taken as 2007
    /// security authentication. Code 0x08 (broadcast time) counts as 2007.
    pub const fn function(self, data_len: usize) -> Option<(Function, Edition)> {
        use Edition::{V1997, V2007};
        use Function as F;
        Some(match self.code() {
            0x08 => (F::BroadcastTime, V2007),
            0x11 => (F::Read, V2007),
            0x12 => (F::ReadSubsequent, V2007),
            0x13 => (F::ReadAddress, V2007),
            0x14 => (F::Write, V2007),
            0x15 => (F::WriteAddress, V2007),
            0x16 => (F::Freeze, V2007),
            0x17 => (F::ChangeBaud, V2007),
            0x18 => (F::ChangePassword, V2007),
            0x19 => (F::ClearDemand, V2007),
            0x1A => (F::ClearMeter, V2007),
            0x1B => (F::ClearEvents, V2007),
            0x1C => (F::RelayControl, V2007),
            0x1E => (F::Heartbeat, V2007),
            0x03 if data_len == 0 && matches!(self.direction(), Direction::Request) => {
                (F::Reread, V1997)
            }
            0x03 => (F::SecurityAuth, V2007),
            0x01 => (F::Read, V1997),
            0x02 => (F::ReadSubsequent, V1997),
            0x04 => (F::Write, V1997),
            0x0A => (F::WriteAddress, V1997),
            0x0C => (F::ChangeBaud, V1997),
            0x0F => (F::ChangePassword, V1997),
            0x10 => (F::ClearDemand, V1997),
            _ => return None,
        })
    }
}

impl fmt::Debug for Control {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Control({:#04X})", self.0)
    }
}

/// Two uppercase hex digits, as the decode contract prints it.
impl fmt::Display for Control {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02X}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_bits() {
        let read = Control::request(Function::Read, Edition::V2007).unwrap();
        assert_eq!(read.to_byte(), 0x11);
        assert_eq!(read.normal_reply(false).to_byte(), 0x91);
        assert_eq!(read.normal_reply(true).to_byte(), 0xB1);
        assert_eq!(read.abnormal_reply().to_byte(), 0xD1);
        let b1 = Control::from_byte(0xB1);
        assert_eq!(b1.direction(), Direction::Reply);
        assert!(b1.has_more() && !b1.is_abnormal());
        assert_eq!(b1.function(8), Some((Function::Read, Edition::V2007)));
    }

    #[test]
    fn every_known_code_round_trips() {
        for byte in 0..=0x1F_u8 {
            let control = Control::from_byte(byte);
            for data_len in [0, 4] {
                if let Some((function, edition)) = control.function(data_len) {
                    assert_eq!(function.code(edition), Some(byte), "{function:?}");
                }
            }
        }
    }

    #[test]
    fn code_03_is_told_apart_by_data_length() {
        assert_eq!(
            Control::from_byte(0x03).function(0),
            Some((Function::Reread, Edition::V1997))
        );
        assert_eq!(
            Control::from_byte(0x03).function(12),
            Some((Function::SecurityAuth, Edition::V2007))
        );
    }
}
