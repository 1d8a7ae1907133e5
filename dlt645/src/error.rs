//! The crate's error type.

/// Everything that can be wrong with a DL/T 645 frame or message.
///
/// Offsets are counted from the frame's first `0x68`, so an error points at the byte a
/// capture viewer shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "serde-1", derive(serde::Serialize))]
#[cfg_attr(feature = "defmt-1", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// The bytes end before the frame does.
    #[error("frame truncated: {needed} bytes needed, {available} available")]
    Truncated {
        /// Bytes the frame needs (known from its length field once that is present).
        needed: usize,
        /// Bytes that were available.
        available: usize,
    },
    /// A start byte (`0x68`) is missing at offset 0 or 7.
    #[error("expected start byte 0x68 at offset {offset}, found {found:#04X}")]
    StartByte {
        /// Offset of the missing start byte: 0 or 7.
        offset: usize,
        /// The byte found there instead.
        found: u8,
    },
    /// The checksum byte does not match the sum of the frame.
    #[error("checksum mismatch: frame carries {carried:#04X}, bytes sum to {computed:#04X}")]
    Checksum {
        /// The checksum byte in the frame.
        carried: u8,
        /// The sum mod 256 of the bytes from the first 0x68 through the last data byte.
        computed: u8,
    },
    /// The byte after the checksum is not `0x16`.
    #[error("expected end byte 0x16 at offset {offset}, found {found:#04X}")]
    EndByte {
        /// Offset of the end byte.
        offset: usize,
        /// The byte found there instead.
        found: u8,
    },
    /// A caller-supplied output buffer is too small.
    #[error("output buffer too small: {needed} bytes needed, {available} available")]
    BufferTooSmall {
        /// Bytes the encoded frame needs.
        needed: usize,
        /// Size of the buffer given.
        available: usize,
    },
    /// A data field is longer than the 255 bytes its length byte can state, or than
    /// the limit the encoder was asked to respect.
    #[error("data field of {len} bytes exceeds the limit of {max}")]
    DataTooLong {
        /// Length requested.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The control byte's function code is not one this crate knows.
    #[error("unknown function code {code:#04X} in control byte {control:#04X}")]
    UnknownFunction {
        /// The control byte.
        control: u8,
        /// Its low five bits.
        code: u8,
    },
    /// A request or reply asks for something its edition does not have: a function the
    /// edition lacks (freeze in 1997), or a layout of the other edition (a 2007 write
    /// without operator code, a 1997 read of load records).
    #[error("{function} in this form does not exist in DL/T 645-{}", match edition {
        crate::Edition::V2007 => "2007",
        crate::Edition::V1997 => "1997",
    })]
    NotInEdition {
        /// The function.
        function: crate::control::Function,
        /// The edition that lacks it.
        edition: crate::Edition,
    },
    /// The frame's direction bit is not the one the caller asked for (a reply
    /// parsed as a request, or the reverse).
    #[error("control byte {control:#04X} is a {found}, expected a {expected}")]
    Direction {
        /// The control byte.
        control: u8,
        /// What the caller expected.
        expected: crate::control::Direction,
        /// What the control byte says.
        found: crate::control::Direction,
    },
    /// The data field's length does not fit the function's layout.
    #[error("data field of control {control:#04X} is {actual} bytes, expected {expected}")]
    DataLength {
        /// The control byte.
        control: u8,
        /// What the layout allows, in words (e.g. "4", "5 or 10", "at least 4").
        expected: &'static str,
        /// The data field's length.
        actual: usize,
    },
    /// A field inside the data field is malformed.
    #[error("invalid {field} in data field: byte {byte:#04X} at data offset {offset}")]
    Field {
        /// Which field, e.g. "broadcast time" or "baud-rate word".
        field: &'static str,
        /// Offset of the offending byte inside the data field (after the DI, if any).
        offset: usize,
        /// The byte (after removing 0x33).
        byte: u8,
    },
    /// An address written by a person does not have the right form.
    #[error("invalid address: {reason}")]
    Address {
        /// What is wrong with it.
        reason: &'static str,
    },
}
